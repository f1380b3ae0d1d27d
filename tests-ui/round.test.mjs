// A whole survey round driven only through the dashboard (issue 10):
//   the admin creates a province supervisor (scope: Hà Nội) and a surveyor of that province;
//   the supervisor creates a round (questionnaire chosen by its title, dates, covered units,
//   agencies, a target per agency), downloads the sample template, uploads a sample with one
//   bad row, sees the row's error, fixes it, uploads again, assigns everyone of one agency to
//   the surveyor and issues an enrolment code (big code, expiry, QR);
//   a device enrols with that code and submits (the real app window through
//   tests-ui/app-driver.mjs when it is there, else the device API — see HOOK below);
//   the supervisor sees the progress by agency with names and targets, the quarantined record
//   and the surveyor's device; a supervisor of another province sees none of it, in the UI and
//   in the API.
// Every new page is photographed at 1366×768 and 390×844 into $SIPAS_ARTIFACTS/screenshots
// (and into docs/screenshots when SIPAS_UPDATE_SCREENSHOTS=1).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ARTIFACTS, ROOT, api, apiOk, buildAnswers, buildRecord, launchBrowser, login, saveFailure, startServer, uiLogin,
} from './support.mjs';

const SUP = { username: 'gs-hanoi', display_name: 'Nguyễn Thị Giám Sát', password: 'giam-sat-ha-noi-2027' };
const SUP2 = { username: 'gs-danang', display_name: 'Trần Văn Đà Nẵng', password: 'giam-sat-da-nang-2027' };
const SURVEYOR = { username: 'dtv-hanoi', display_name: 'Lê Văn Điều Tra', password: 'dieu-tra-ha-noi-2027' };
const SURVEYOR2 = { username: 'dtv-hanoi-2', display_name: 'Đặng Thị Điều Tra Hai', password: 'dieu-tra-ha-noi-2028' };
const HANOI = '01';
const DANANG = '48';
const ROUND = { id: '2027-HN-1', name: 'Khảo sát SIPAS Hà Nội 2027' };

const SHOTS = path.join(ARTIFACTS, 'screenshots');
const DOCS = path.join(ROOT, 'docs', 'screenshots');
const SIZES = [{ width: 1366, height: 768 }, { width: 390, height: 844 }];

let server;
let browser;
let adminToken;
let dir;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ viewport: SIZES[0] });
  adminToken = await login(server, 'admin');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-round-'));
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    await saveFailure(browser.page, `round-${name}`);
    throw e;
  }
}

/** Photographs the page at both sizes; checks that nothing is wider than the screen. */
async function shoot(page, name) {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    await page.evaluate(() => { document.activeElement?.blur?.(); window.scrollTo(0, 0); });
    await page.waitForTimeout(150);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= size.width, `${name} is ${wide}px wide at ${size.width}px`);
    // No raw UUID anywhere in what the page shows.
    const text = await page.locator('body').innerText();
    assert.doesNotMatch(text, /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, `${name} shows a raw id`);
    const file = `dashboard-${name}-${size.width}.png`;
    await page.screenshot({ path: path.join(SHOTS, file), fullPage: true });
    if (process.env.SIPAS_UPDATE_SCREENSHOTS === '1') {
      fs.mkdirSync(DOCS, { recursive: true });
      fs.copyFileSync(path.join(SHOTS, file), path.join(DOCS, file));
    }
  }
  await page.setViewportSize(SIZES[0]);
}

async function logout(page) {
  await page.getByTestId('logout').click();
  await page.getByTestId('login-form').waitFor();
}

/** Picks a catalogue entry by typing (part of) its name into a picker. */
async function pick(page, testid, text, code) {
  await page.getByTestId(`${testid}-search`).fill(text);
  await page.locator(`[data-testid="${testid}-option"][data-code="${code}"]`).click();
  await page.locator(`[data-testid="${testid}-chosen"] [data-code="${code}"]`).waitFor();
}

const today = () => new Date(Date.now() + 7 * 3600_000).toISOString().slice(0, 10);

test('a whole round through the dashboard, scoped to one province', async () => {
  const { page } = browser;
  // What the catalogues hold (read as the admin, through the API the pages use).
  const units = await apiOk(server, 'GET', `/units?on=${today()}`, { token: adminToken });
  const parent = new Map(units.map((u) => [u.code, u.parent_code]));
  const within = (code, root) => { for (let c = code; c; c = parent.get(c)) if (c === root) return true; return false; };
  const hanoiCommunes = units.filter((u) => u.level === 'commune' && within(u.code, HANOI));
  assert.ok(hanoiCommunes.length >= 2, 'the seed has communes of Hà Nội');

  let agencies = [];
  await step('admin', async () => {
    await uiLogin(page, server, 'admin');
    // Catalogues: an admin sees units by date and imports agencies (one bad row first).
    await page.getByTestId('nav-catalogues').click();
    await page.getByTestId('catalogue-units').waitFor();
    assert.match(await page.getByTestId('catalogue-list').textContent(), /Thành phố Hà Nội/);
    await shoot(page, 'catalogues');
    await page.getByTestId('catalogue-tab-agencies').click();
    await page.getByTestId('import-agencies').waitFor();
    const [c1, c2] = hanoiCommunes;
    const bad = path.join(dir, 'co-quan-loi.csv');
    fs.writeFileSync(bad, `code,name,kind,unit_code,valid_from\nHN-MC-${c1.code},Bộ phận Một cửa ${c1.name},mot_cua,${c1.code},2025-07-01\nHN-XX,Cơ quan không có địa bàn,mot_cua,99999,2025-07-01\n`);
    await page.getByTestId('import-agencies-file').setInputFiles(bad);
    await page.getByTestId('import-agencies-import').click();
    await page.locator('[data-testid="import-agencies-errors"] [data-testid="row-error"][data-row="3"]').waitFor();
    const good = path.join(dir, 'co-quan.csv');
    fs.writeFileSync(good, `code,name,kind,unit_code,valid_from\nHN-MC-${c1.code},Bộ phận Một cửa ${c1.name},mot_cua,${c1.code},2025-07-01\nHN-MC-${c2.code},Bộ phận Một cửa ${c2.name},mot_cua,${c2.code},2025-07-01\n`);
    await page.getByTestId('import-agencies-file').setInputFiles(good);
    await page.getByTestId('import-agencies-import').click();
    await page.getByTestId('import-agencies-done').waitFor();
    agencies = [
      { code: `HN-MC-${c1.code}`, name: `Bộ phận Một cửa ${c1.name}`, unit: c1 },
      { code: `HN-MC-${c2.code}`, name: `Bộ phận Một cửa ${c2.name}`, unit: c2 },
    ];
    await page.reload();
    await page.locator(`[data-testid="agency-row"][data-code="${agencies[0].code}"]`).waitFor();

    // Users: a supervisor of Hà Nội and a surveyor of Hà Nội, created in the page.
    await page.getByTestId('nav-users').click();
    await page.getByTestId('users-table').waitFor();
    for (const [u, role] of [[SUP, 'supervisor'], [SURVEYOR, 'surveyor']]) {
      await page.getByTestId('user-new').click();
      await page.getByTestId('user-form').waitFor();
      await page.getByTestId('user-display-name').fill(u.display_name);
      await page.getByTestId('user-username').fill(u.username);
      await page.getByTestId('user-role').selectOption(role);
      await page.getByTestId('user-password').fill(u.password);
      await pick(page, 'user-scope-units', 'Hà Nội', HANOI);
      await page.getByTestId('user-save').click();
      await page.locator(`[data-testid="user-row"][data-username="${u.username}"]`).waitFor();
      assert.match(await page.locator(`[data-testid="user-row"][data-username="${u.username}"] [data-testid="user-scope"]`).textContent(), /Hà Nội/);
    }
    await shoot(page, 'users');
    // The other province's supervisor (through the API: the page was shown above).
    await apiOk(server, 'POST', '/users', { token: adminToken, body: { ...SUP2, role: 'supervisor', scope: { units: [DANANG], agencies: [] } } });
    // A second surveyor of Hà Nội (for giving rows one by one and reassigning).
    await apiOk(server, 'POST', '/users', { token: adminToken, body: { ...SURVEYOR2, role: 'surveyor', scope: { units: [HANOI], agencies: [] } } });
    await page.getByTestId('nav-audit').click();
    await page.getByTestId('audit-table').waitFor();
    await shoot(page, 'audit');
    await logout(page);
  });

  await step('round', async () => {
    await uiLogin(page, server, SUP.username, SUP.password);
    await page.getByTestId('nav-rounds').click();
    await page.getByTestId('round-new').click();
    await page.getByTestId('round-form-panel').waitFor();
    const forms = await apiOk(server, 'GET', '/forms', { token: adminToken });
    const form = forms[0];
    await page.getByTestId('round-name').fill(ROUND.name);
    await page.getByTestId('round-code').fill(ROUND.id);
    // The questionnaire is chosen by its title.
    const label = await page.locator(`[data-testid="round-form"] option[value="${form.id}@${form.version}"]`).textContent();
    assert.match(label, new RegExp(form.title_vi.slice(0, 10)));
    await page.getByTestId('round-form').selectOption({ label });
    await page.getByTestId('round-starts').fill(today());
    await page.getByTestId('round-ends').fill(`${Number(today().slice(0, 4)) + 1}-12-31`);
    await pick(page, 'round-units', 'Hà Nội', HANOI);
    for (const a of agencies) await pick(page, 'round-agencies', a.unit.name, a.code);
    await page.locator(`[data-testid="round-target"][data-agency="${agencies[0].code}"]`).fill('3');
    await page.locator(`[data-testid="round-target"][data-agency="${agencies[1].code}"]`).fill('2');
    await shoot(page, 'round-new');
    await page.getByTestId('round-save').click();
    await page.getByTestId('round-details').waitFor();
    assert.match(await page.getByTestId('flash-message').textContent(), /Đã tạo đợt/);
    assert.match(await page.getByTestId('round-detail-units').textContent(), /Thành phố Hà Nội/);
    const t0 = page.locator(`[data-testid="round-agency-row"][data-agency="${agencies[0].code}"]`);
    assert.match(await t0.textContent(), new RegExp(`${agencies[0].name}.*3`));
    await shoot(page, 'round');
    await page.getByTestId('nav-rounds').click();
    await page.locator(`[data-testid="round-row"][data-round-id="${ROUND.id}"]`).waitFor();
    await shoot(page, 'rounds');
  });

  await step('sample', async () => {
    await page.locator(`[data-testid="round-row"][data-round-id="${ROUND.id}"] [data-testid="round-link"]`).click();
    await page.getByTestId('subnav-sample').click();
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('sample-template').click()]);
    const xlsx = fs.readFileSync(await dl.path());
    assert.equal(xlsx.subarray(0, 2).toString('latin1'), 'PK', 'the template is an XLSX');
    const [a0, a1] = agencies;
    // Contacts in the forms scripts/check-logs.sh looks for in the server's log ("phố Demo", "0912345…").
    const header = 'ma_don_vi,ma_co_quan,thu_tuc,ho_ten,dia_chi,dien_thoai';
    const rows = [
      `${a0.unit.code},${a0.code},Cấp giấy khai sinh,Phạm Thị Một,"Số 1, phố Demo",0912345001`,
      `${a0.unit.code},${a0.code},Đăng ký kết hôn,Hoàng Văn Hai,"Số 2, phố Demo",0912345002`,
      `${a0.unit.code},${a0.code},Cấp giấy khai sinh,Vũ Thị Ba,"Số 3, phố Demo",0912345003`,
      `${a1.unit.code},${a1.code},Chứng thực bản sao,Đỗ Văn Bốn,"Số 4, phố Demo",0912345004`,
    ];
    const badFile = path.join(dir, 'mau-loi.csv');
    fs.writeFileSync(badFile, [header, ...rows.slice(0, 2), `99999,${a0.code},Cấp giấy khai sinh,Vũ Thị Ba,"Số 3, phố Demo",0912345003`, rows[3]].join('\n'));
    await page.getByTestId('sample-file').setInputFiles(badFile);
    await page.getByTestId('sample-check').click();
    await page.getByTestId('sample-has-errors').waitFor();
    const err = page.locator('[data-testid="sample-errors"] [data-testid="row-error"]');
    assert.equal(await err.count(), 1, 'exactly the bad row');
    assert.equal(await err.getAttribute('data-row'), '4');
    await shoot(page, 'sample');
    // Importing it anyway is refused as a whole, with the same row named.
    await page.getByTestId('sample-import').click();
    await page.locator('[data-testid="sample-errors"] [data-testid="row-error"][data-row="4"]').waitFor();
    const problem = await page.getByTestId('sample-error').textContent();
    assert.doesNotMatch(problem, /\b\d{3}\.\d\b/, 'no problem code shown');
    // Fixed and uploaded again.
    const goodFile = path.join(dir, 'mau.csv');
    fs.writeFileSync(goodFile, [header, ...rows].join('\n'));
    await page.getByTestId('sample-file').setInputFiles(goodFile);
    await page.getByTestId('sample-check').click();
    await page.getByTestId('sample-ok').waitFor();
    assert.match(await page.getByTestId('sample-preview').textContent(), new RegExp(a0.unit.name));
    await page.getByTestId('sample-import').click();
    await page.getByTestId('sample-done').waitFor();
    assert.match(await page.getByTestId('sample-done').textContent(), /4/);
  });

  let surveyorId;
  await step('assign', async () => {
    await page.getByTestId('subnav-assignments').click();
    await page.getByTestId('assignments-table').waitFor();
    assert.equal(await page.getByTestId('assignment-row').count(), 4);
    // Everyone of the first agency, at once.
    await page.getByTestId('filter-agency').selectOption(agencies[0].code);
    await page.getByTestId('filter-apply').click();
    await page.waitForURL(/agency=/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assignment-row"]').length === 3);
    await page.getByTestId('assign-to').selectOption({ label: SURVEYOR.display_name });
    await page.getByTestId('assign-filter').click();
    await page.getByTestId('flash-message').filter({ hasText: /Đã giao 3/ }).waitFor();
    await page.waitForFunction((name) => {
      const cells = [...document.querySelectorAll('[data-testid="assignment-surveyor"]')];
      return cells.length === 3 && cells.every((c) => c.textContent === name);
    }, SURVEYOR.display_name);
    await shoot(page, 'assignments');
    // The other agency's row is still unassigned.
    const token = await page.evaluate(() => sessionStorage.getItem('sipas.dashboard.token'));
    const rest = await apiOk(server, 'GET', `/rounds/${ROUND.id}/assignments?unassigned=true`, { token });
    assert.equal(rest.total, 1);
    assert.equal(rest.items[0].agency_code, agencies[1].code);

    // One by one: the unassigned row to the second surveyor (filter: not assigned yet).
    await page.goto(`${server.url}/dashboard/#/rounds/${ROUND.id}/assignments`);
    await page.getByTestId('filter-unassigned').check();
    await page.getByTestId('filter-apply').click();
    await page.waitForURL(/unassigned=true/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assignment-row"]').length === 1);
    await page.getByTestId('pick-assignment').check();
    await page.getByTestId('assign-to').selectOption({ label: SURVEYOR2.display_name });
    await page.getByTestId('assign-selected').click();
    await page.getByTestId('flash-message').filter({ hasText: `Đã giao 1 người cho ${SURVEYOR2.display_name}` }).waitFor();
    await page.getByTestId('assign-empty').waitFor();
    // Reassigned: one of the first agency's rows to the second surveyor, then back.
    await page.goto(`${server.url}/dashboard/#/rounds/${ROUND.id}/assignments?agency=${encodeURIComponent(agencies[0].code)}`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assignment-row"]').length === 3);
    const moved = await page.getByTestId('pick-assignment').first().getAttribute('value');
    const pickMoved = page.locator(`[data-testid="pick-assignment"][value="${moved}"]`);
    const ownerOf = page.locator(`[data-testid="assignment-row"]:has([value="${moved}"]) [data-testid="assignment-surveyor"]`);
    for (const who of [SURVEYOR2, SURVEYOR]) {
      await pickMoved.check();
      await page.getByTestId('assign-to').selectOption({ label: who.display_name });
      await page.getByTestId('assign-selected').click();
      await ownerOf.filter({ hasText: who.display_name }).waitFor();
    }
    // Filtered by surveyor: the second surveyor has the other agency's row only.
    const s2 = (await apiOk(server, 'GET', '/users?role=surveyor', { token })).find((u) => u.username === SURVEYOR2.username);
    await page.getByTestId('filter-agency').selectOption('');
    await page.getByTestId('filter-surveyor').selectOption(s2.id);
    await page.getByTestId('filter-apply').click();
    await page.waitForURL(/surveyor=/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="assignment-row"]').length === 1);
    assert.equal(await page.getByTestId('assignment-row').getAttribute('data-agency'), agencies[1].code);
    const users = await apiOk(server, 'GET', '/users?role=surveyor', { token });
    surveyorId = users.find((u) => u.username === SURVEYOR.username).id;
  });

  let code;
  let payload;
  await step('enrol', async () => {
    await page.getByTestId('nav-users').click();
    const row = page.locator(`[data-testid="user-row"][data-username="${SURVEYOR.username}"]`);
    await row.getByTestId('user-enrol').click();
    await page.getByTestId('enrol-issue').click();
    await page.getByTestId('enrol-code').waitFor();
    code = (await page.getByTestId('enrol-code').textContent()).trim();
    assert.ok(code.length >= 6, code);
    assert.match(await page.getByTestId('enrol-expires').textContent(), /Hết hạn lúc \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/);
    assert.equal(await page.locator('[data-testid="enrol-qr"] svg').count(), 1, 'QR code drawn');
    // The one line the surveyor pastes into the app: address and code inside.
    payload = (await page.getByTestId('enrol-payload').inputValue()).trim();
    assert.match(payload, /^sipas-enrol:1:[A-Za-z0-9_-]+$/);
    const inner = JSON.parse(Buffer.from(payload.slice('sipas-enrol:1:'.length), 'base64url').toString('utf8'));
    assert.equal(inner.code, code);
    assert.equal(inner.server, server.url);
    await shoot(page, 'enrol');
  });

  await step('device', async () => {
    // HOOK (app window): when tests-ui/app-driver.mjs (branch h-app) is present and the app
    // binary is built, the real SIPAS Field window enrols with the code, pulls and submits
    // one interview. Without it, the device API does the same (enrol, pull, upload).
    const driverPath = path.join(ROOT, 'tests-ui', 'app-driver.mjs');
    let driven = false;
    if (fs.existsSync(driverPath) && process.env.SIPAS_ROUND_TEST_APP !== '0') {
      const drv = await import(driverPath);
      if (fs.existsSync(drv.APP_BIN)) {
        const app = await drv.startApp({ artifactsDir: ARTIFACTS });
        try {
          // Enrolment by pasting the payload the dashboard showed.
          await drv.enrol(app, { payload, deviceName: 'Máy tính bảng Hà Nội' });
          const pulled = await drv.pull(app);
          assert.equal(pulled.assignments.length, 3, 'the app got the three assignments');
          await drv.fillAndSubmitFirstAssignment(app);
          await drv.sync(app);
          driven = true;
        } finally {
          await drv.stopApp(app);
        }
      }
    }
    if (!driven) {
      const enrol = await apiOk(server, 'POST', '/enrol', { body: { code, device_name: 'Máy tính bảng Hà Nội' } });
      const pull = await apiOk(server, 'GET', '/pull?cursor=0', { token: enrol.token });
      assert.equal(pull.assignments.length, 3, 'the device got the three assignments');
      const res = await apiOk(server, 'POST', '/responses/batch', { token: enrol.token, body: { records: [buildRecord(pull.assignments[0], buildAnswers())] } });
      assert.equal(res.acks[0].status, 'accepted');
      await apiOk(server, 'POST', `/assignments/${pull.assignments[2].id}/status`, { token: enrol.token, body: { status: 'refused' } });
    }
    // A second device of the surveyor sends a record with a wrong content hash: the server
    // keeps it in quarantine for the supervisor.
    const supToken = await login(server, SUP.username, SUP.password);
    const spare = await apiOk(server, 'POST', '/enrolment-codes', { token: supToken, body: { user_id: surveyorId } });
    const enrol2 = await apiOk(server, 'POST', '/enrol', { body: { code: spare.code, device_name: 'Máy dự phòng' } });
    const pull2 = await apiOk(server, 'GET', '/pull?cursor=0', { token: enrol2.token });
    const broken = buildRecord(pull2.assignments[1], buildAnswers());
    broken.content_hash = '0'.repeat(64);
    const q = await apiOk(server, 'POST', '/responses/batch', { token: enrol2.token, body: { records: [broken] } });
    assert.equal(q.acks[0].status, 'invalid');
  });

  await step('progress', async () => {
    await page.getByTestId('nav-rounds').click();
    await page.locator(`[data-testid="round-row"][data-round-id="${ROUND.id}"] [data-testid="round-link"]`).click();
    await page.getByTestId('subnav-progress').click();
    await page.getByTestId('progress-agency').waitFor();
    const r0 = page.locator(`[data-testid="progress-row"][data-code="${agencies[0].code}"]`);
    assert.match(await r0.getByTestId('name').textContent(), new RegExp(agencies[0].name));
    assert.equal(await r0.getByTestId('sampled').textContent(), '3');
    assert.equal(await r0.getByTestId('completed').textContent(), '1');
    assert.equal(await r0.getByTestId('target').textContent(), '3');
    const r1 = page.locator(`[data-testid="progress-row"][data-code="${agencies[1].code}"]`);
    assert.match(await r1.getByTestId('name').textContent(), new RegExp(agencies[1].name));
    assert.equal(await r1.getByTestId('completed').textContent(), '0');
    assert.equal(await r1.getByTestId('target').textContent(), '2');
    await shoot(page, 'progress');
    await page.getByTestId('progress-by-surveyor').click();
    await page.locator('[data-testid="progress-surveyor"] [data-testid="progress-row"]').filter({ hasText: SURVEYOR.display_name }).waitFor();
    await page.getByTestId('progress-by-unit').click();
    await page.locator('[data-testid="progress-unit"] [data-testid="progress-row"]').filter({ hasText: agencies[0].unit.name }).waitFor();
  });

  await step('quarantine-devices', async () => {
    await page.getByTestId('subnav-quarantine').click();
    await page.getByTestId('quarantine-table').waitFor();
    const row = page.getByTestId('quarantine-row').first();
    assert.match(await row.getByTestId('quarantine-reason').textContent(), /không khớp/);
    assert.match(await row.textContent(), new RegExp(SURVEYOR.display_name));
    await shoot(page, 'quarantine');
    await row.getByTestId('quarantine-note').fill('Máy gửi sai, đã báo điều tra viên.');
    await row.getByTestId('quarantine-dismiss').click();
    await page.getByTestId('quarantine-empty').waitFor();
    await page.getByTestId('quarantine-toggle').click();
    await page.locator('[data-testid="quarantine-row"][data-resolution="dismissed"]').waitFor();

    await page.goto(`${server.url}/dashboard/#/users/${surveyorId}/devices`);
    await page.getByTestId('devices-table').waitFor();
    assert.equal(await page.getByTestId('device-row').count(), 2);
    const dev = page.getByTestId('device-row').filter({ hasText: 'Máy tính bảng Hà Nội' });
    assert.doesNotMatch(await dev.getByTestId('device-last-sync').textContent(), /Chưa đồng bộ/);
    await shoot(page, 'devices');
    // The spare device is revoked from the page.
    await page.getByTestId('device-row').filter({ hasText: 'Máy dự phòng' }).getByTestId('device-revoke').click();
    await page.locator('[data-testid="device-row"][data-revoked="true"]').filter({ hasText: 'Máy dự phòng' }).waitFor();
    await logout(page);
  });

  await step('other-province', async () => {
    await uiLogin(page, server, SUP2.username, SUP2.password);
    await page.getByTestId('nav-rounds').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="rounds-table"], [data-testid="rounds-empty"]'));
    assert.equal(await page.locator(`[data-testid="round-row"][data-round-id="${ROUND.id}"]`).count(), 0, 'the round is not listed');
    await page.goto(`${server.url}/dashboard/#/rounds/${ROUND.id}/progress`);
    await page.getByTestId('page-error').waitFor();
    assert.doesNotMatch(await page.getByTestId('page-error').textContent(), /\d{3}\.\d/);
    const token = await page.evaluate(() => sessionStorage.getItem('sipas.dashboard.token'));
    const rounds = await apiOk(server, 'GET', '/rounds', { token });
    assert.ok(!rounds.some((r) => r.id === ROUND.id), 'GET /rounds hides it');
    for (const p of [`/rounds/${ROUND.id}/progress?by=agency`, `/rounds/${ROUND.id}/assignments`]) {
      const r = await api(server, 'GET', p, { token });
      assert.equal(r.status, 404, `${p} → ${r.status}`);
    }
    const users = await apiOk(server, 'GET', '/users?role=surveyor', { token });
    assert.ok(!users.some((u) => u.username === SURVEYOR.username), 'the Hà Nội surveyor is not listed');
    const r = await api(server, 'POST', '/enrolment-codes', { token, body: { user_id: surveyorId } });
    assert.ok([403, 404].includes(r.status), `enrolment code for another province's surveyor → ${r.status}`);
    assert.deepEqual(browser.problems, []);
  });
});
