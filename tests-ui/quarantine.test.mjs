// Quarantine in the dashboard: a record sent for an assignment that had been moved to another
// surveyor is listed with its reason in words and accepted by the supervisor (then counted); a
// record with a wrong content hash cannot be accepted (the server's message is shown, without
// its code) and is dismissed with a note.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiOk, buildAnswers, buildRecord, launchBrowser, login, saveFailure, startServer, uiLogin, uuidv7 } from './support.mjs';

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

test('accept a moved assignment\'s record, refuse to accept a broken one, dismiss it', async () => {
  const { page } = browser;
  try {
    const admin = await login(server, 'admin');
    const sup = await login(server, 'supervisor');
    const other = await apiOk(server, 'POST', '/users', {
      token: admin,
      body: { username: 'dtv-2', display_name: 'Điều tra viên thứ hai', role: 'surveyor', password: 'dieu-tra-vien-2', scope: { units: ['01'], agencies: [] } },
    });
    // The demo device pulls, then its first assignment is moved to the other surveyor.
    const enrol = await apiOk(server, 'POST', '/enrol', { body: { code: server.enrolmentCode, device_name: 'Máy thử' } });
    const pull = await apiOk(server, 'GET', '/pull?cursor=0', { token: enrol.token });
    const [moved, second] = pull.assignments;
    await apiOk(server, 'POST', `/rounds/${server.roundId}/assign`, { token: sup, body: { assignment_ids: [moved.id], surveyor_id: other.id } });
    // The interview done before the move, and a record with a wrong content hash.
    const late = buildRecord(moved, buildAnswers());
    const broken = buildRecord(second, buildAnswers());
    broken.content_hash = 'f'.repeat(64);
    const res = await apiOk(server, 'POST', '/responses/batch', { token: enrol.token, body: { records: [late, broken] } });
    assert.deepEqual(res.acks.map((a) => a.reason_code), ['not_your_assignment', 'hash_mismatch']);

    await uiLogin(page, server, 'supervisor');
    await page.getByTestId('nav-quarantine').click();
    await page.getByTestId('quarantine-table').waitFor();
    assert.equal(await page.getByTestId('quarantine-row').count(), 2);
    const movedRow = page.locator('[data-testid="quarantine-row"][data-reason="not_your_assignment"]');
    assert.match(await movedRow.getByTestId('quarantine-reason').textContent(), /đã chuyển cho điều tra viên khác/);
    assert.match(await movedRow.textContent(), /Điều tra viên Bưu điện Hoàn Kiếm/);
    const brokenRow = page.locator('[data-testid="quarantine-row"][data-reason="hash_mismatch"]');
    // A broken record cannot be accepted: the server says why.
    await brokenRow.getByTestId('quarantine-accept').click();
    const why = await brokenRow.getByTestId('quarantine-error').textContent();
    assert.doesNotMatch(why, /\d{3}\.\d/);
    assert.ok(why.length > 5);
    // The moved assignment's interview is accepted and then counted.
    await movedRow.getByTestId('quarantine-note').fill('Phỏng vấn trước khi chuyển người.');
    await movedRow.getByTestId('quarantine-accept').click();
    await page.getByTestId('flash-message').filter({ hasText: 'Đã nhận bản ghi.' }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="quarantine-row"]').length === 1);
    const queue = await apiOk(server, 'GET', `/review/queue?round_id=${server.roundId}&state=all`, { token: sup });
    assert.ok(queue.some((q) => q.response_id === late.response.id), 'the accepted record is in the review queue');
    // The broken one is dismissed with a note; both show under "all".
    await page.locator('[data-testid="quarantine-row"][data-reason="hash_mismatch"] [data-testid="quarantine-note"]').fill('Tệp hỏng.');
    await page.locator('[data-testid="quarantine-row"][data-reason="hash_mismatch"] [data-testid="quarantine-dismiss"]').click();
    await page.getByTestId('quarantine-empty').waitFor();
    await page.getByTestId('quarantine-toggle').click();
    await page.locator('[data-testid="quarantine-row"][data-resolution="accepted"]').waitFor();
    const dismissed = page.locator('[data-testid="quarantine-row"][data-resolution="dismissed"]');
    assert.match(await dismissed.textContent(), /Tệp hỏng\./);
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'quarantine');
    throw e;
  }
});

test('a self-completed answer held for its clock shows how it was collected and stays self-completed when accepted', async () => {
  const { page } = browser;
  try {
    const sup = await login(server, 'supervisor');
    const list = await apiOk(server, 'GET', `/rounds/${server.roundId}/assignments`, { token: sup });
    const target = list.items.find((a) => a.status !== 'collected');
    const [link] = (await apiOk(server, 'POST', `/rounds/${server.roundId}/self-links`, { token: sup, body: { assignment_ids: [target.id] } })).links;
    // The respondent's phone is set years back: the answer is held, not lost.
    const res = await fetch(`${server.url}/s/${link.code}/response`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: uuidv7(), started_at: '2020-01-01T01:00:00Z', completed_at: '2020-01-01T01:09:00Z', answers: buildAnswers() }),
    });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).details.reason_code, 'clock');

    // The supervisor is still signed in from the test above: the page is opened afresh.
    await page.reload();
    await page.getByTestId('nav-quarantine').click();
    const row = page.locator('[data-testid="quarantine-row"][data-reason="clock"]');
    await row.waitFor();
    assert.equal(await row.getByTestId('quarantine-mode').textContent(), 'Tự trả lời (đường dẫn riêng)');
    await row.getByTestId('quarantine-note').fill('Điện thoại của người dân đặt sai ngày.');
    await row.getByTestId('quarantine-accept').click();
    await page.getByTestId('flash-message').filter({ hasText: 'Đã nhận bản ghi.' }).waitFor();
    const results = await apiOk(server, 'GET', `/rounds/${server.roundId}/results?min_n=1`, { token: sup });
    const personal = results.modes.find((m) => m.mode === 'self_personal');
    assert.equal(personal.n, 1, 'the accepted answer counts as self-completed (personal link)');
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'quarantine-self');
    throw e;
  }
});
