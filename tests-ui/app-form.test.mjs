// The form screen of the REAL SIPAS Field window (debug `sipas-field`, WebKitGTK over
// WebDriver; see app-driver.mjs) against the real server (`sipas-server --demo`), at a
// desktop size (1280×800) and a phone size (400×850):
// - the header names who the interview is for (respondent, procedure, agency; codes small);
// - age 15 (the form's minimum is 18) blocks "Tiếp" with the form's message at the item, the
//   typed value stays, and the interview is ended as "not eligible": the assignment's outcome
//   reaches the server at the next sync, the draft is gone;
// - a date typed 15/03/2026 is stored as 2026-03-15 and shown back as 15/03/2026; an
//   impossible date shows a message, is not saved and blocks "Tiếp";
// - the section menu lists every section with its state and jumps to one;
// - the review lists the answers by section in plain words (folded, compact), "Sửa" goes back
//   to the item; the response submitted and synced holds the ISO date.
//
// Needs `cargo build --workspace` (sipas-field and sipas-server) and WebKitWebDriver.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  click, enrol, invoke, js, pull, screenshot, setWindowSize, startApp, stopApp, sync, typeInto, waitFor,
} from './app-driver.mjs';
import { ARTIFACTS, apiOk, login, startServer } from './support.mjs';

const ROUND = '2026-APP-FORM';
const UNIT = '95001';
const AGE_MESSAGE = 'Người trả lời phải từ 18 tuổi trở lên';
const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 400, height: 850 },
];

let server;
let sup;
const people = {}; // size name → { surveyor, young: assignment id, adult: assignment id }
const apps = [];

before(async () => {
  server = await startServer();
  const admin = await login(server, 'admin');
  sup = await login(server, 'supervisor');
  await apiOk(server, 'POST', '/rounds', {
    token: sup,
    body: {
      id: ROUND, name: 'Đợt thử màn hình phiếu', form: { form_id: 'sipas-6-groups', version: '2026.1' },
      starts_on: day(-30), ends_on: day(60), units: [UNIT],
    },
  });
  // Two respondents per window size: one too young, one interviewed to the end. The names
  // use the fixture's markers, which scripts/check-logs.sh looks for in the logs.
  let csv = 'unit_code,procedure,agency,name,address,phone\n';
  SIZES.forEach((s, i) => {
    csv += `${UNIT},Cấp giấy khai sinh,UBND phường Ba Đình,Nguyễn Thị Bảo Mật ${2 * i + 11},Số ${i} phố Hàng Bạc,09123450${2 * i + 11}\n`;
    csv += `${UNIT},Đăng ký kết hôn,UBND phường Ba Đình,Trần Văn Bảo Mật ${2 * i + 12},Số ${i} phố Hàng Đào,09123450${2 * i + 12}\n`;
  });
  const res = await fetch(`${server.url}/api/v1/rounds/${ROUND}/sample`, {
    method: 'POST', headers: { Authorization: `Bearer ${sup}`, 'Content-Type': 'text/csv' }, body: csv,
  });
  const imported = await res.json();
  assert.equal(res.status, 201, JSON.stringify(imported));
  const ids = imported.assignment_ids;
  assert.equal(ids.length, 2 * SIZES.length);
  for (const [i, s] of SIZES.entries()) {
    const surveyor = await apiOk(server, 'POST', '/users', {
      token: admin,
      body: {
        username: `dtv-phieu-${s.name}`, display_name: `Điều tra viên ${s.name}`, role: 'surveyor',
        scope: { units: [UNIT], agencies: [] },
      },
    });
    const mine = ids.slice(2 * i, 2 * i + 2);
    await apiOk(server, 'POST', `/rounds/${ROUND}/assign`, { token: sup, body: { assignment_ids: mine, surveyor_id: surveyor.id } });
    people[s.name] = {
      surveyor, young: mine[0], adult: mine[1],
      youngName: `Nguyễn Thị Bảo Mật ${2 * i + 11}`, adultName: `Trần Văn Bảo Mật ${2 * i + 12}`,
    };
  }
});

after(async () => {
  for (const app of apps) await stopApp(app);
  await server?.stop();
});

const text = (app, css) => js(app, 'const e = document.querySelector(arguments[0]); return e ? e.textContent : null;', css);
const step = (app) => js(app, "const s = document.querySelector('#step-container [data-step]'); return s ? s.dataset.step : null;");

/**
 * A real click on `css` after centring it in the window (the app's bar is sticky: an element
 * scrolled to the top edge would be under it).
 */
async function tap(app, css) {
  await waitFor(app, 'document.querySelector(arguments[0])', css, { args: [css] });
  await js(app, "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' }); return true;", css);
  await click(app, css);
}

/** Clicks `css` until `cond` (a JavaScript expression) holds (WebKitWebDriver rarely loses a click). */
async function clickTill(app, css, cond, what) {
  for (let i = 0; i < 3; i += 1) {
    await tap(app, css);
    try {
      await waitFor(app, cond, what, { timeout: 1500 });
      return;
    } catch { /* click lost: again */ }
  }
  await waitFor(app, cond, what);
}

async function openAssignment(app, id) {
  const start = `[data-assignment="${id}"] [data-action="start"]`;
  await clickTill(app, start, "!document.getElementById('screen-form').hidden", 'the interview to open');
  await waitFor(app, "document.querySelector('#step-container [data-step]')", 'the first step');
}

async function storedAnswer(app, code) {
  await waitFor(app, "document.getElementById('save-state').dataset.state !== 'saving'", 'no save in progress');
  const drafts = await invoke(app, 'list_drafts');
  const d = await invoke(app, 'get_draft', { draft_id: drafts[0].id });
  return d.answers[code] ?? null;
}

async function rate(app, code, value) {
  const sel = `[data-item="${code}"] button[data-value="${value}"]`;
  await clickTill(app, sel, `document.querySelector(${JSON.stringify(sel)}).getAttribute('aria-checked') === 'true'`, `${code} = ${value}`);
}

async function next(app, want) {
  await clickTill(app, '#next', `(document.querySelector('#step-container [data-step]') || {}).dataset?.step === ${JSON.stringify(want)}`, `step ${want}`);
}

for (const size of SIZES) {
  test(`form screen at ${size.width}×${size.height}: header, age 15 blocked and ended as ineligible, dd/mm/yyyy date, section menu, summary`, async () => {
    const who = people[size.name];
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sipas-app-form-${size.name}-`));
    const shot = (n) => path.join(ARTIFACTS, `app-form-${size.name}-${n}.png`);
    let app;
    try {
      app = await startApp({ dataDir });
      apps.push(app);
      const inner = await setWindowSize(app, size.width, size.height);
      assert.ok(inner <= size.width && inner >= size.width - 40, `inner width ${inner}`);
      const code = (await apiOk(server, 'POST', '/enrolment-codes', { token: sup, body: { user_id: who.surveyor.id, valid_minutes: 60 } })).code;
      await enrol(app, { serverUrl: server.url, code, deviceName: `Máy ${size.name}` });
      const pulled = await pull(app);
      assert.deepEqual([...pulled.assignments].sort(), [who.young, who.adult].sort());

      // ---- the header says who the interview is for
      await openAssignment(app, who.young);
      assert.equal(await step(app), 'A');
      assert.equal(await text(app, '#form-respondent'), `Người trả lời: ${who.youngName}`);
      const procedure = await text(app, '#form-procedure');
      assert.ok(procedure.includes('Cấp giấy khai sinh') && procedure.includes('UBND phường Ba Đình'), procedure);
      assert.ok((await text(app, '#form-codes')).includes(UNIT), 'the unit code on the small line');
      const px = (id) => `parseFloat(getComputedStyle(document.getElementById('${id}')).fontSize)`;
      assert.equal(await js(app, `return ${px('form-codes')} < ${px('form-respondent')};`), true, 'codes are smaller than the name');

      // ---- age 15: the form's message at the item, "Tiếp" does not move, the value stays
      await typeInto(app, 'q-A2', '15', { leave: true });
      await waitFor(app, `(document.querySelector('[data-issue-for="A2"]') || {}).textContent === ${JSON.stringify(AGE_MESSAGE)}`, 'the age message');
      await tap(app, '#next');
      await waitFor(app, "!document.getElementById('step-blocked').hidden", '"Tiếp" blocked');
      assert.equal(await step(app), 'A', 'still on step A');
      assert.equal(await js(app, "return document.getElementById('q-A2').value;"), '15', 'the typed value stays');
      assert.equal(await js(app, 'return document.activeElement && document.activeElement.id;'), 'q-A2', 'focus on the age');
      assert.equal(await js(app, "return document.getElementById('save-state').dataset.state;"), 'invalid', 'never "Đã lưu"');
      assert.equal(await storedAnswer(app, 'A2'), null, 'nothing stored for A2');
      await screenshot(app, shot('age-blocked'));
      // ---- end it as not eligible
      await tap(app, '[data-item="A2"] [data-action="end-ineligible"]');
      await tap(app, '[data-item="A2"] [data-action="end-ineligible-confirm"]');
      await waitFor(app, "!document.getElementById('screen-assignments').hidden && document.getElementById('assignments-status').dataset.ended === 'ineligible'", 'back on the list, ended');
      const list = await invoke(app, 'list_assignments', { search: '', status: '' });
      const young = list.find((a) => a.id === who.young);
      assert.equal(young.status, 'invalid', 'the ineligible outcome');
      assert.ok(young.status_note.startsWith('Không đủ điều kiện') && young.status_note.includes(AGE_MESSAGE), young.status_note);
      assert.equal(young.draft_id, null, 'the draft is gone');
      // The list shows open assignments by default: the ended one has left it.
      await waitFor(app, `!document.querySelector('#assignments-list [data-assignment="${who.young}"]')`, 'the ended assignment off the open list');

      // ---- the adult: dates typed day first
      await openAssignment(app, who.adult);
      assert.equal(await text(app, '#form-respondent'), `Người trả lời: ${who.adultName}`);
      await typeInto(app, 'q-A2', '45', { leave: true });
      await waitFor(app, "document.getElementById('save-state').dataset.state === 'saved'", 'A2 saved');
      await next(app, 'B');
      await typeInto(app, 'q-B1', 'Đăng ký kết hôn', { leave: true });
      await typeInto(app, 'q-B5', '31/02/2026', { leave: true });
      await waitFor(app, "!document.querySelector('[data-issue-for=\"B5\"]').hidden", 'the impossible date refused');
      assert.equal(await js(app, "return document.getElementById('save-state').dataset.state;"), 'invalid');
      assert.equal(await storedAnswer(app, 'B5'), null, 'an unreadable date is not stored');
      await tap(app, '#next');
      await waitFor(app, "!document.getElementById('step-blocked').hidden", '"Tiếp" blocked by the date');
      assert.equal(await step(app), 'B');
      await typeInto(app, 'q-B5', '15/03/2026', { leave: true });
      await waitFor(app, "document.getElementById('save-state').dataset.state === 'saved' && document.querySelector('[data-issue-for=\"B5\"]').hidden", 'the date saved');
      assert.equal(await storedAnswer(app, 'B5'), '2026-03-15', 'stored as ISO');
      assert.equal(await js(app, "return document.getElementById('q-B5').value;"), '15/03/2026');
      await typeInto(app, 'q-B5', '15-3-2026', { leave: true });
      await waitFor(app, "document.getElementById('q-B5').value === '15/03/2026'", 'shown back as dd/mm/yyyy');
      assert.equal(await storedAnswer(app, 'B5'), '2026-03-15');
      await clickTill(app, 'label[for="q-B8-khong"]', "document.getElementById('q-B8-khong').checked", 'B8 = khong');
      await waitFor(app, "document.getElementById('save-state').dataset.state === 'saved'", 'B saved');

      // ---- the section menu: every section with its state; a jump
      await clickTill(app, '#section-menu-btn', "!document.getElementById('section-menu').hidden", 'the section menu');
      await waitFor(app, "document.querySelectorAll('#section-list [data-section]').length === 10", 'every section listed');
      const states = await js(app, "return Object.fromEntries([...document.querySelectorAll('#section-list [data-section]')].map((l) => [l.dataset.section, l.dataset.state]));");
      assert.deepEqual(states, {
        A: 'done', B: 'done', G1: 'missing', G2: 'missing', G3: 'missing', G4: 'missing', G5: 'skipped', G6: 'missing', E: 'todo', F: 'todo',
      });
      await screenshot(app, shot('section-menu'));
      await tap(app, '[data-jump="G3"]');
      await waitFor(app, "(document.querySelector('#step-container [data-step]') || {}).dataset?.step === 'G3' && document.getElementById('section-menu').hidden", 'jumped to G3');
      for (const c of ['G3_1', 'G3_2', 'G3_3', 'G3_4', 'G3_5']) await rate(app, c, 4);
      await clickTill(app, '#section-menu-btn', "!document.getElementById('section-menu').hidden", 'the section menu again');
      await waitFor(app, "document.querySelector('#section-list [data-section=\"G3\"]').dataset.state === 'done'", 'G3 done');
      await tap(app, '[data-jump="G1"]');
      await waitFor(app, "(document.querySelector('#step-container [data-step]') || {}).dataset?.step === 'G1'", 'jumped to G1');
      for (const c of ['G1_1', 'G1_2', 'G1_3', 'G1_4', 'G1_5']) await rate(app, c, 4);
      await next(app, 'G2');
      for (const c of ['G2_1', 'G2_2', 'G2_3', 'G2_4']) await rate(app, c, 5);
      await next(app, 'G3');
      await next(app, 'G4');
      for (const c of ['G4_1', 'G4_2', 'G4_3', 'G4_4']) await rate(app, c, 3);
      await next(app, 'G6');
      await rate(app, 'G6_1', 4);
      await next(app, 'E');
      await next(app, 'F');
      await waitFor(app, "document.getElementById('save-state').dataset.state === 'saved'", 'all saved');

      // ---- the summary before submitting: by section, plain words, folded
      await clickTill(app, '#next', "!document.getElementById('screen-review').hidden", 'the review');
      await waitFor(app, "document.getElementById('review-summary').dataset.issues === '0'", 'review without issues');
      const groups = await js(app, "return [...document.querySelectorAll('[data-summary-group]')].map((d) => [d.dataset.summaryGroup, d.open]);");
      assert.deepEqual(groups, ['A', 'B', 'G1', 'G2', 'G3', 'G4', 'G6', 'E', 'F'].map((g) => [g, false]), 'one folded section per step');
      const height = await js(app, 'return document.documentElement.scrollHeight;');
      assert.ok(height < 2000, `the review is compact: ${height} px`);
      await tap(app, '[data-summary-group="B"] summary');
      await waitFor(app, "document.querySelector('[data-summary-group=\"B\"]').open", 'section B unfolded');
      const row = (c) => text(app, `[data-summary-item="${c}"] dd span`);
      assert.equal(await row('B5'), '15/03/2026');
      assert.equal(await row('B8'), 'Không', 'the option label, not its code');
      assert.equal(await row('B1'), 'Đăng ký kết hôn');
      await tap(app, '[data-summary-group="G2"] summary');
      assert.match(await row('G2_1'), /^5 — \S/, 'the rating with its label');
      await screenshot(app, shot('summary'));
      // "Sửa" goes to the item
      await tap(app, '[data-summary-item="B5"] [data-goto="B5"]');
      await waitFor(app, "!document.getElementById('screen-form').hidden && document.activeElement && document.activeElement.id === 'q-B5'", 'back at B5');
      await clickTill(app, '#to-review', "!document.getElementById('screen-review').hidden", 'the review again');
      await waitFor(app, "document.getElementById('review-summary').dataset.issues === '0'", 'review without issues');
      await clickTill(app, '#submit', "!document.getElementById('screen-done').hidden", 'submitted');

      // ---- sync: the server has the response (ISO date) and the ineligible outcome
      const st = await sync(app);
      assert.equal(st.counts.pending + st.counts.in_flight, 0, JSON.stringify(st.counts));
      const rows = await apiOk(server, 'GET', `/rounds/${ROUND}/assignments?surveyor=${who.surveyor.id}`, { token: sup });
      const items = Array.isArray(rows) ? rows : (rows.items || rows.assignments || []);
      const youngRow = items.find((a) => a.id === who.young);
      assert.equal(youngRow && youngRow.status, 'invalid', JSON.stringify(youngRow));
      const queue = await apiOk(server, 'GET', `/review/queue?round_id=${ROUND}&state=all`, { token: sup });
      const entry = queue.find((e) => e.surveyor_id === who.surveyor.id);
      assert.ok(entry, JSON.stringify(queue));
      const detail = await apiOk(server, 'GET', `/responses/${entry.response_id}/1`, { token: sup });
      assert.equal(detail.response.answers.B5, '2026-03-15');
      assert.equal(detail.response.answers.A2, 45);
      assert.equal(detail.response.assignment_id, who.adult);
      for (const n of [who.youngName, who.adultName]) assert.ok(!app.appLogText().includes(n), 'no respondent name in the app log');
    } catch (e) {
      if (app) await screenshot(app, shot('failure')).catch(() => {});
      throw e;
    } finally {
      await stopApp(app);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
