// The REAL SIPAS Field window (debug `sipas-field`, WebKitGTK over WebDriver; see
// app-driver.mjs) against the real server (`sipas-server --demo`, support.mjs). Everything
// the device needs is made through the API, as a supervisor would: a surveyor (by the admin),
// a round, its sample (one respondent), the assignment and a one-time enrolment code. Then,
// in the app: enrol, pull, fill the six-group form and submit, sync — and the server holds
// that response exactly once (also after a second sync). Fault case: a wrong enrolment code
// is refused in the app, which stays unenrolled, and the server knows no device.
//
// Needs `cargo build --workspace` (sipas-field and sipas-server) and WebKitWebDriver (Debian
// webkit2gtk-driver); without DISPLAY the driver starts its own Xvfb. Missing parts fail the
// test with a message saying what to install or build; nothing is skipped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  enrol, fillAndSubmitFirstAssignment, invoke, js, pull, screenshot, startApp, stopApp, sync, syncStatus, waitFor,
} from './app-driver.mjs';
import { ARTIFACTS, api, apiOk, login, startServer } from './support.mjs';

const ROUND = '2026-APP-E2E';
// Phường Ba Đình: a unit valid from 1 July 2025 in schemas/units/vn-units-seed.json.
const UNIT = '95001';
// A well-formed code that was never issued (it must not reach any log either).
const WRONG_CODE = 'ZZZZ2222ZZ';
const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

let server;
let admin;
let sup;
let surveyor;
let assignmentIds;
const apps = [];

/** Runs `fn` with a fresh app; a screenshot is kept when it fails; the app always stops. */
async function withApp(name, fn) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sipas-app-${name}-`));
  let app;
  try {
    const t0 = Date.now();
    app = await startApp({ dataDir });
    console.log(`app-window (${name}): app started and unlocked in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    apps.push(app);
    await fn(app);
  } catch (e) {
    if (app) await screenshot(app, path.join(ARTIFACTS, `app-node-failure-${name}.png`)).catch(() => {});
    throw e;
  } finally {
    const t1 = Date.now();
    await stopApp(app);
    console.log(`app-window (${name}): app stopped in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

before(async () => {
  const t0 = Date.now();
  server = await startServer();
  console.log(`app-window: server started in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  admin = await login(server, 'admin');
  sup = await login(server, 'supervisor');
  surveyor = await apiOk(server, 'POST', '/users', {
    token: admin,
    body: {
      username: 'dtv-ung-dung', display_name: 'Điều tra viên Ứng dụng', role: 'surveyor',
      // Read by servers that scope users (ignored by those that do not).
      scope: { units: [UNIT], agencies: [] },
    },
  });
  await apiOk(server, 'POST', '/rounds', {
    token: sup,
    body: {
      id: ROUND, name: 'Đợt thử ứng dụng', form: { form_id: 'sipas-6-groups', version: '2026.1' },
      starts_on: day(-30), ends_on: day(60), units: [UNIT],
    },
  });
  // The respondent's contact uses the fixture's markers, which scripts/check-logs.sh looks for.
  const csv = 'unit_code,procedure,agency,name,address,phone\n'
    + `${UNIT},Cấp giấy khai sinh,UBND phường Ba Đình,Nguyễn Thị Bảo Mật 1,Số 1 phố Hàng Bạc,0912345001\n`;
  const res = await fetch(`${server.url}/api/v1/rounds/${ROUND}/sample`, {
    method: 'POST', headers: { Authorization: `Bearer ${sup}`, 'Content-Type': 'text/csv' }, body: csv,
  });
  const imported = await res.json();
  assert.equal(res.status, 201, JSON.stringify(imported));
  assignmentIds = imported.assignment_ids;
  assert.equal(assignmentIds.length, 1);
  await apiOk(server, 'POST', `/rounds/${ROUND}/assign`, {
    token: sup, body: { assignment_ids: assignmentIds, surveyor_id: surveyor.id },
  });
});

after(async () => {
  for (const app of apps) await stopApp(app);
  const t0 = Date.now();
  await server?.stop();
  console.log(`app-window: server stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

async function enrolmentCode() {
  const c = await apiOk(server, 'POST', '/enrolment-codes', { token: sup, body: { user_id: surveyor.id, valid_minutes: 60 } });
  return c.code;
}

async function devicesOfSurveyor() {
  return apiOk(server, 'GET', `/devices?user_id=${surveyor.id}`, { token: sup });
}

test('a wrong enrolment code is refused in the app and nothing is enrolled', async () => {
  await withApp('wrong-code', async (app) => {
    const err = await enrol(app, { serverUrl: server.url, code: WRONG_CODE, deviceName: 'Máy sai mã' }).then(
      () => null, (e) => e,
    );
    assert.ok(err, 'the app accepted a code that was never issued');
    assert.ok(err.shown && err.shown.trim().length > 0, `the app shows a message: ${err.message}`);
    assert.ok(!err.shown.includes(WRONG_CODE), 'the message does not repeat the code');
    assert.equal(await js(app, "return !document.getElementById('screen-enrol').hidden;"), true, 'still on the Enrol screen');
    await screenshot(app, path.join(ARTIFACTS, 'app-node-enrol-wrong-code.png'));
    const st = await syncStatus(app);
    assert.equal(st.enrolled, false);
    assert.equal(st.server_url ?? null, null);
    assert.equal(fs.existsSync(app.db.replace(/\.db$/, '.enrolment.json')), false, 'no enrolment file');
    // No sync action before enrolment, and the command refuses in plain words too.
    assert.equal(await js(app, "return document.getElementById('sync-now').offsetParent === null;"), true);
    const refused = await invoke(app, 'sync_now').then(() => null, (e) => e.problem);
    assert.equal(refused && refused.code, 'sync.not_enrolled', JSON.stringify(refused));
    assert.ok(!app.appLogText().includes(WRONG_CODE), 'the code is not in the app log');
  });
  assert.deepEqual(await devicesOfSurveyor(), [], 'the server enrolled no device');
  const queue = await apiOk(server, 'GET', `/review/queue?round_id=${ROUND}&state=all`, { token: sup });
  assert.deepEqual(queue, []);
});

test('enrol, pull, fill the six-group form, submit and sync: the server has the response exactly once', async () => {
  const t0 = Date.now();
  const code = await enrolmentCode();
  let submitted;
  await withApp('round', async (app) => {
    const enrolled = await enrol(app, { serverUrl: server.url, code, deviceName: 'Máy tính bảng Ứng dụng' });
    assert.equal(enrolled.enrolled, true);
    const devices = await devicesOfSurveyor();
    assert.equal(devices.length, 1, JSON.stringify(devices));
    assert.equal(devices[0].name, 'Máy tính bảng Ứng dụng');

    const pulled = await pull(app);
    assert.deepEqual(pulled.assignments, assignmentIds, 'the one assignment is on the device');

    submitted = await fillAndSubmitFirstAssignment(app);
    assert.equal(submitted.assignmentId, assignmentIds[0]);
    // B8 "có" brings group G5: every criterion group G1–G6 was a step.
    for (const g of ['A', 'B', 'G1', 'G2', 'G3', 'G4', 'G5', 'G6']) assert.ok(submitted.steps.includes(g), `step ${g}: ${submitted.steps}`);
    const waiting = await syncStatus(app);
    assert.equal(waiting.counts.pending, 1, JSON.stringify(waiting.counts));
    assert.deepEqual(await apiOk(server, 'GET', `/review/queue?round_id=${ROUND}&state=all`, { token: sup }), [],
      'nothing reaches the server before the sync');

    const first = await sync(app);
    assert.equal(first.counts.pending + first.counts.in_flight, 0, JSON.stringify(first.counts));
    assert.equal(first.counts.acked, 1, JSON.stringify(first.counts));
    await screenshot(app, path.join(ARTIFACTS, 'app-node-synced.png'));
    // The submitted list names the respondent (kept on this device only), the procedure and
    // the time; no ids or codes.
    await js(app, "document.querySelector('[data-nav=\"responses\"]').click(); return true;");
    await waitFor(app, "document.querySelectorAll('#responses-list .card').length === 1", 'the submitted list');
    const card = await js(app, "return document.querySelector('#responses-list .card').innerText;");
    assert.match(card.split('\n')[0], /^Nguyễn Thị Bảo Mật 1 — Cấp giấy khai sinh — \d{2}:\d{2}$/, card);
    assert.ok(!/[0-9a-f]{8}-[0-9a-f]{4}-|95001|Lỗi gần nhất|Gửi thất bại/.test(card), card);
    // A second sync sends nothing again.
    const second = await sync(app);
    assert.equal(second.counts.acked, 1, JSON.stringify(second.counts));
    assert.ok(!app.appLogText().includes(code), 'the enrolment code is not in the app log');
    assert.ok(!app.appLogText().includes('Bảo Mật'), 'the respondent is not in the app log');
    console.log(`app-window: click retries ${app.clickRetries}`);
  });

  const queue = await apiOk(server, 'GET', `/review/queue?round_id=${ROUND}&state=all`, { token: sup });
  assert.equal(queue.length, 1, `exactly one response on the server: ${JSON.stringify(queue)}`);
  const [entry] = queue;
  assert.equal(entry.revision, 1);
  assert.equal(entry.unit_code, UNIT);
  assert.equal(entry.surveyor_id, surveyor.id);
  const detail = await apiOk(server, 'GET', `/responses/${entry.response_id}/1`, { token: sup });
  const answers = detail.response.answers;
  assert.equal(detail.response.assignment_id, assignmentIds[0]);
  assert.equal(answers.A2, 45);
  assert.equal(answers.B1, 'Cấp giấy khai sinh');
  assert.equal(answers.B8, 'co');
  for (const c of ['G1_1', 'G1_5', 'G2_4', 'G3_5', 'G4_4', 'G5_1', 'G5_4', 'G6_1']) assert.equal(answers[c], 4, c);
  for (const c of submitted.answered) assert.ok(c in answers, `${c} reached the server`);
  // Asked for its own record once more: still one (the response id is the app's).
  const again = await api(server, 'GET', `/responses/${entry.response_id}/2`, { token: sup });
  assert.equal(again.status, 404, 'no second revision');
  console.log(`app-window: enrol → sync took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});
