// A round's life cycle in the dashboard: the form refuses an incomplete round in the page and
// shows the server's message for a taken code (never a problem code); a planned round is edited
// before its start; an open round is closed (after a second click); a ministry user sees the
// round list and the report, but none of the supervisor's pages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiOk, launchBrowser, login, saveFailure, startServer, uiLogin } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const nextYear = new Date().getUTCFullYear() + 1;

test('create (with mistakes), edit before the start, close', async () => {
  const { page } = browser;
  try {
    await uiLogin(page, server, 'supervisor');
    await page.getByTestId('nav-rounds').click();
    await page.getByTestId('round-new').click();
    await page.getByTestId('round-form-panel').waitFor();
    // Nothing filled in: every missing part is named, nothing is sent.
    await page.getByTestId('round-save').click();
    const missing = await page.getByTestId('round-form-error').textContent();
    for (const m of [/tên đợt/, /mã đợt/, /bảng hỏi/, /ngày bắt đầu/, /địa bàn/]) assert.match(missing, m);
    // A code that exists already: the server's Vietnamese message, without its code.
    await page.getByTestId('round-name').fill('Đợt trùng mã');
    await page.getByTestId('round-code').fill(server.roundId);
    await page.getByTestId('round-form').selectOption({ index: 1 });
    await page.getByTestId('round-starts').fill(`${nextYear}-03-01`);
    await page.getByTestId('round-ends').fill(`${nextYear}-05-31`);
    await page.getByTestId('round-units-search').fill('Hà Nội');
    await page.locator('[data-testid="round-units-option"][data-code="01"]').click();
    await page.getByTestId('round-save').click();
    const taken = await page.getByTestId('round-form-error').textContent();
    assert.doesNotMatch(taken, /\d{3}\.\d/);
    assert.ok(taken.length > 5, taken);
    // A fresh code: created, planned (it starts next year).
    await page.getByTestId('round-code').fill(`${nextYear}-HN-Q1`);
    await page.getByTestId('round-save').click();
    await page.getByTestId('round-details').waitFor();
    assert.equal(await page.getByTestId('round-status').getAttribute('data-status'), 'planned');
    assert.match(await page.getByTestId('round-status').textContent(), /Chưa bắt đầu/);
    assert.equal(await page.getByTestId('round-close').count(), 0, 'a planned round is not closed, it is edited');

    // Edited before its start: name and dates.
    await page.getByTestId('round-edit').click();
    await page.getByTestId('round-name').fill('Đợt quý I (đã sửa)');
    await page.getByTestId('round-ends').fill(`${nextYear}-06-30`);
    await page.getByTestId('round-save').click();
    await page.getByTestId('flash-message').filter({ hasText: 'Đã lưu đợt khảo sát.' }).waitFor();
    await page.getByTestId('round-detail-name').filter({ hasText: 'Đợt quý I (đã sửa)' }).waitFor();
    const token = await login(server, 'supervisor');
    const saved = await apiOk(server, 'GET', `/rounds/${nextYear}-HN-Q1`, { token });
    assert.equal(saved.name, 'Đợt quý I (đã sửa)');
    assert.equal(saved.ends_on, `${nextYear}-06-30`);
    assert.deepEqual(saved.units, ['01']);

    // The open demo round is closed, after a second click.
    await page.goto(`${server.url}/dashboard/#/rounds/${server.roundId}`);
    await page.getByTestId('round-close').click();
    assert.match(await page.getByTestId('round-close').textContent(), /Bấm lần nữa/);
    assert.equal((await apiOk(server, 'GET', `/rounds/${server.roundId}`, { token })).status, 'open');
    await page.getByTestId('round-close').click();
    await page.locator('[data-testid="round-status"][data-status="closed"]').waitFor();
    assert.equal((await apiOk(server, 'GET', `/rounds/${server.roundId}`, { token })).status, 'closed');
    assert.equal(await page.getByTestId('round-close').count(), 0);
    assert.equal(await page.getByTestId('round-edit').count(), 0);
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'round-life');
    throw e;
  }
});

test('a ministry user reads rounds and reports only', async () => {
  const { page } = browser;
  try {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    await uiLogin(page, server, 'ministry');
    assert.match(page.url(), /#\/rounds$/);
    const nav = await page.getByTestId('main-nav').locator('a').evaluateAll((as) => as.map((a) => a.dataset.testid));
    assert.ok(!nav.includes('nav-users') && !nav.includes('nav-quarantine') && !nav.includes('nav-handover'), nav.join());
    await page.locator(`[data-testid="round-row"][data-round-id="${server.roundId}"] [data-testid="round-link"]`).click();
    await page.getByTestId('round-details').waitFor();
    const tabs = await page.getByTestId('subnav').locator('a').evaluateAll((as) => as.map((a) => a.dataset.testid));
    assert.deepEqual(tabs, ['subnav-overview', 'subnav-report', 'subnav-results']);
    await page.getByTestId('subnav-report').click();
    await page.getByTestId('report-stamp').waitFor();
    await page.goto(`${server.url}/dashboard/#/rounds/${server.roundId}/review`);
    await page.getByTestId('forbidden-page').waitFor();
    await page.goto(`${server.url}/dashboard/#/users`);
    await page.getByTestId('forbidden-page').waitFor();
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'round-ministry');
    throw e;
  }
});
