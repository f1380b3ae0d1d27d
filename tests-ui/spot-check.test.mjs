// Phúc tra in the dashboard: the supervisor draws spot-check tasks and assigns monitors; a
// monitor sees only its own tasks with the respondent's contact, submits findings and then
// sees them read-only; the supervisor sees the discrepancy table with the surveyor flagged.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  apiOk, buildAnswers, launchBrowser, login, saveFailure, seedResponses, startServer, uiLogin,
} from './support.mjs';

const DEMO_NAMES = ['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Phạm Thị Dung'];
const MONITOR2 = { username: 'monitor2', password: 'hoi-ccb-2026', display_name: 'Phúc tra viên Hội CCB' };

let server;
let browser;

before(async () => {
  server = await startServer();
  // Four interviews; the demo's fifth sampled person (unit 95003) was absent.
  await seedResponses(server, (a, i) => (i >= 4 ? { status: 'absent' } : {
    answers: buildAnswers({ rating: (code, j) => 3 + ((i + j) % 3), overrides: { A1: i % 2 ? 'nu' : 'nam' } }),
    seconds: i === 0 ? 40 : 1200,
  }));
  const admin = await login(server, 'admin');
  // In the demo supervisor's province (Hà Nội, 01), so that the supervisor may give it tasks.
  await apiOk(server, 'POST', '/users', { token: admin, body: { ...MONITOR2, role: 'monitor', scope: { units: ['01'], agencies: [] } } });
  browser = await launchBrowser({ viewport: { width: 1200, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    await saveFailure(browser.page, name);
    throw e;
  }
}

async function logout(page) {
  const token = await page.evaluate(() => sessionStorage.getItem('sipas.dashboard.token'));
  assert.ok(token, 'signed in before logging out');
  await page.getByTestId('logout').click();
  await page.getByTestId('login-form').waitFor();
  // The button ends the session on the server too: the old token soon answers 401.
  const status = await page.evaluate(async (t) => {
    let s = 0;
    for (let i = 0; i < 50; i += 1) {
      s = (await fetch('/api/v1/me', { headers: { Authorization: `Bearer ${t}` } })).status;
      if (s === 401) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return s;
  }, token);
  assert.equal(status, 401, 'the logged-out token no longer works');
}

test('spot checks: draw, assign, monitor findings, discrepancies', async () => {
  const { page } = browser;
  let taskIds;
  await step('spot-draw', async () => {
    await uiLogin(page, server, 'supervisor');
    await page.goto(`${server.url}/dashboard/#/rounds/${server.roundId}/spot-checks`);
    await page.getByTestId('spot-tasks-empty').waitFor();
    await page.getByTestId('discrepancy-empty').waitFor();
    await page.getByTestId('spot-rate').fill('50');
    await page.getByTestId('spot-seed').fill('2026');
    await page.getByTestId('spot-min').fill('1');
    await page.getByTestId('spot-create').click();
    await page.getByTestId('spot-created').waitFor();
    assert.match(await page.getByTestId('spot-created').textContent(), /Đã tạo 2 nhiệm vụ phúc tra/);
    await page.getByTestId('spot-tasks').waitFor();
    const rows = page.getByTestId('spot-task');
    assert.equal(await rows.count(), 2);
    taskIds = await rows.evaluateAll((rs) => rs.map((r) => r.dataset.taskId));
    for (const r of await rows.all()) {
      assert.equal(await r.getAttribute('data-status'), 'unassigned');
      assert.match(await r.textContent(), /Điều tra viên Bưu điện Hoàn Kiếm/);
    }
  });

  await step('spot-assign', async () => {
    // The monitor list comes from GET /users?role=monitor.
    const row0 = page.locator(`[data-testid="spot-task"][data-task-id="${taskIds[0]}"]`);
    const options = await row0.getByTestId('assign-monitor').locator('option').allTextContents();
    assert.deepEqual(options.slice(1).sort(), ['Phúc tra viên Hội CCB', 'Phúc tra viên MTTQ']);
    await row0.getByTestId('assign-monitor').selectOption({ label: 'Phúc tra viên MTTQ' });
    await row0.getByTestId('assign-button').click();
    await page.locator(`[data-testid="spot-task"][data-task-id="${taskIds[0]}"][data-status="assigned"]`).waitFor();
    const row1 = page.locator(`[data-testid="spot-task"][data-task-id="${taskIds[1]}"]`);
    await row1.getByTestId('assign-monitor').selectOption({ label: MONITOR2.display_name });
    await row1.getByTestId('assign-button').click();
    await page.locator(`[data-testid="spot-task"][data-task-id="${taskIds[1]}"][data-status="assigned"]`).waitFor();
    assert.equal(await page.locator(`[data-task-id="${taskIds[0]}"] [data-testid="assign-monitor"]`).inputValue() !== '', true);
    await logout(page);
  });

  let contactName;
  await step('spot-monitor', async () => {
    await uiLogin(page, server, 'monitor');
    assert.match(page.url(), /#\/monitor$/);
    await page.getByTestId('monitor-tasks').waitFor();
    const cards = page.getByTestId('monitor-task');
    assert.equal(await cards.count(), 1, 'only its own task');
    const card = cards.first();
    assert.equal(await card.getAttribute('data-task-id'), taskIds[0]);
    contactName = await card.getByTestId('contact-name').textContent();
    assert.ok(DEMO_NAMES.includes(contactName), contactName);
    assert.match(await card.getByTestId('contact-address').textContent(), /phố Demo/);
    // The key items are inputs labelled in Vietnamese.
    assert.match(await card.getByTestId('key-items').textContent(), /Giới tính/);
    assert.equal(await card.getByTestId('key-A1').evaluate((e) => e.tagName), 'SELECT');
    assert.equal(await card.getByTestId('key-A2').getAttribute('type'), 'number');

    // The server agrees: the other monitor's task is not in this monitor's list.
    const token = await page.evaluate(() => sessionStorage.getItem('sipas.dashboard.token'));
    const mine = await apiOk(server, 'GET', '/monitor/tasks', { token });
    assert.deepEqual(mine.map((x) => x.task_id), [taskIds[0]]);

    // Findings that disagree with the interview: other sex, other age, low ratings.
    await card.getByTestId('task-submit').click();
    assert.match(await card.getByTestId('task-message').textContent(), /có gặp được người trả lời/);
    await card.getByTestId('visit-yes').check();
    const original = mine[0];
    for (const item of original.key_items) {
      const input = card.getByTestId(`key-${item.code}`);
      if (item.type === 'single_choice') await input.selectOption(item.options[item.options.length - 1].value);
      else if (item.type === 'rating') await input.selectOption('1');
      else if (item.type === 'integer') await input.fill('90');
      else await input.fill('Thủ tục khác hẳn');
    }
    await card.getByTestId('task-note').fill('Người dân nói chưa từng được phỏng vấn đầy đủ.');
    await card.getByTestId('task-submit').click();
    await page.locator('[data-testid="monitor-task"][data-done="true"]').waitFor();
    const done = page.getByTestId('monitor-task').first();
    assert.equal(await done.getByTestId('task-submit').count(), 0, 'no form once submitted');
    assert.equal(await done.locator('input, select, textarea').count(), 0, 'read-only');
    assert.equal(await done.getByTestId('finding-visit').textContent(), 'Có');
    assert.equal(await done.getByTestId('finding-A2').textContent(), '90');
    assert.match(await done.getByTestId('finding-note').textContent(), /chưa từng/);
    assert.match(await page.getByTestId('flash-message').textContent(), /Đã gửi kết quả phúc tra/);

    // Still read-only after a reload; the contact is no longer sent once done.
    await page.reload();
    await page.locator('[data-testid="monitor-task"][data-done="true"]').waitFor();
    assert.equal(await page.locator('[data-testid="monitor-task"] input, [data-testid="monitor-task"] select').count(), 0);
    assert.equal(await page.getByTestId('task-done').count(), 1);
    assert.equal(await page.getByTestId('task-contact').count(), 0);
    // A monitor has no supervisor pages.
    await page.goto(`${server.url}/dashboard/#/rounds/${server.roundId}/spot-checks`);
    await page.getByTestId('forbidden-page').waitFor();
    await page.goto(`${server.url}/dashboard/#/monitor`);
    await page.getByTestId('monitor-tasks').waitFor();
    await logout(page);
  });

  await step('spot-other-monitor', async () => {
    await uiLogin(page, server, MONITOR2.username, MONITOR2.password);
    await page.getByTestId('monitor-tasks').waitFor();
    assert.equal(await page.getByTestId('monitor-task').count(), 1);
    assert.equal(await page.getByTestId('monitor-task').getAttribute('data-task-id'), taskIds[1]);
    assert.notEqual(await page.getByTestId('contact-name').textContent(), contactName);
    await logout(page);
  });

  await step('spot-discrepancies', async () => {
    await uiLogin(page, server, 'supervisor');
    await page.goto(`${server.url}/dashboard/#/rounds/${server.roundId}/spot-checks`);
    await page.getByTestId('discrepancy-table').waitFor();
    const rows = page.getByTestId('discrepancy-row');
    assert.equal(await rows.count(), 1);
    const row = rows.first();
    assert.equal(await row.getAttribute('data-flagged'), 'true');
    assert.match(await row.getAttribute('class'), /flagged/);
    assert.match(await row.textContent(), /Điều tra viên Bưu điện Hoàn Kiếm/);
    assert.equal(await row.getByTestId('discrepancy-rate').textContent(), '100,0%');
    assert.equal(await row.getByTestId('discrepancy-flag').count(), 1);
    const bg = await row.locator('td').first().evaluate((td) => getComputedStyle(td).backgroundColor);
    assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'flagged row is highlighted');
    // The checked task is done; its monitor can no longer be changed.
    const doneRow = page.locator(`[data-testid="spot-task"][data-task-id="${taskIds[0]}"]`);
    assert.equal(await doneRow.getAttribute('data-status'), 'done');
    assert.equal(await doneRow.getByTestId('assign-monitor').count(), 0);
    assert.match(await doneRow.getByTestId('task-monitor').textContent(), /Phúc tra viên MTTQ/);
    assert.deepEqual(browser.problems, []);
  });
});
