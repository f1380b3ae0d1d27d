// Supervisor workflow in the dashboard: sign in (Vietnamese UI), progress per surveyor and per
// unit, the review queue, rejecting one response with a per-question comment (checked through
// the surveyor's pull), approving another; problem messages; the language toggle; an expired
// session going back to the login page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  api, apiOk, buildAnswers, launchBrowser, saveFailure, seedResponses, startServer, uiLogin,
} from './support.mjs';

let server;
let browser;
let seeded;

before(async () => {
  server = await startServer();
  // Four demo assignments: three interviews (the first too fast and straight-lined, so it
  // carries quality flags) and one refusal.
  seeded = await seedResponses(server, (a, i) => {
    if (i === 0) return { answers: buildAnswers({ rating: () => 5 }), seconds: 45 };
    if (i === 3) return { status: 'refused' };
    // The demo's fifth sampled person (unit 95003) was absent.
    if (i >= 4) return { status: 'absent' };
    return { answers: buildAnswers({ rating: (code, j) => 2 + ((i + j) % 4) }) };
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Runs `fn`, saving a screenshot of the page when it fails. */
async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    await saveFailure(browser.page, name);
    throw e;
  }
}

test('the dashboard is served with its content types and a strict CSP', async () => {
  const root = await fetch(`${server.url}/`, { redirect: 'manual' });
  assert.ok([301, 302, 303, 307, 308].includes(root.status));
  assert.equal(root.headers.get('location'), '/dashboard/');
  const expect = {
    '': 'text/html', 'main.js': 'text/javascript', 'i18n.js': 'text/javascript', 'style.css': 'text/css',
    'pages/rounds.js': 'text/javascript', 'pages/common.js': 'text/javascript',
  };
  for (const [file, type] of Object.entries(expect)) {
    const r = await fetch(`${server.url}/dashboard/${file}`);
    assert.equal(r.status, 200, file);
    assert.ok(r.headers.get('content-type').startsWith(type), `${file}: ${r.headers.get('content-type')}`);
    assert.match(r.headers.get('content-security-policy'), /^default-src 'self'/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  }
  assert.equal((await fetch(`${server.url}/dashboard/nope.js`)).status, 404);
  assert.equal((await fetch(`${server.url}/dashboard/pages/../../Cargo.toml`)).status, 404);
});

test('supervisor signs in, sees progress, rejects one response with an item comment and approves another', async () => {
  const { page } = browser;
  await step('review-login', async () => {
    await page.goto(`${server.url}/`);
    assert.match(page.url(), /\/dashboard\/#\/login$/);
    assert.equal(await page.getAttribute('html', 'lang'), 'vi');
    await page.getByRole('heading', { name: 'Đăng nhập' }).waitFor();
    // A wrong password shows the server's Vietnamese problem message.
    await page.getByTestId('login-username').fill('supervisor');
    await page.getByTestId('login-password').fill('sai-mat-khau');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-problem').waitFor();
    const problem = await page.getByTestId('login-problem').textContent();
    assert.match(problem, /Sai tên đăng nhập hoặc mật khẩu\./);
    assert.doesNotMatch(problem, /401/, 'no status or problem code shown');
    await uiLogin(page, server, 'supervisor');
    const row = page.locator(`[data-testid="round-row"][data-round-id="${server.roundId}"]`);
    await row.waitFor();
    assert.match(await row.textContent(), /Khảo sát thử SIPAS 2026/);
    assert.match(await page.getByTestId('who').textContent(), /Giám sát viên/);
    const token = await page.evaluate(() => sessionStorage.getItem('sipas.dashboard.token'));
    assert.ok(token && token.length > 20, 'token kept in sessionStorage');
    assert.equal(await page.evaluate(() => localStorage.getItem('sipas.dashboard.token')), null);
  });

  await step('review-progress', async () => {
    await page.locator(`[data-testid="round-row"][data-round-id="${server.roundId}"] [data-testid="round-link"]`).click();
    await page.getByTestId('round-details').waitFor();
    await page.getByTestId('subnav-progress').click();
    await page.getByTestId('progress-by-surveyor').click();
    await page.getByTestId('progress-surveyor').waitFor();
    const s = page.getByTestId('progress-surveyor').getByTestId('progress-row');
    assert.equal(await s.count(), 1);
    assert.match(await s.textContent(), /Điều tra viên Bưu điện Hoàn Kiếm/);
    assert.equal(await s.getByTestId('sampled').textContent(), String(seeded.assignments.length));
    assert.equal(await s.getByTestId('completed').textContent(), '3');
    assert.equal(await s.getByTestId('refused').textContent(), '1');
    await page.getByTestId('progress-by-unit').click();
    await page.getByTestId('progress-unit').waitFor();
    const units = page.getByTestId('progress-unit').getByTestId('progress-row');
    const unitCodes = [...new Set(seeded.assignments.map((a) => a.unit_code))];
    const [U1, U2] = unitCodes;
    assert.deepEqual(await units.evaluateAll((rows) => rows.map((r) => r.dataset.code)), unitCodes);
    const u70 = page.locator(`[data-testid="progress-unit"] [data-code="${U1}"]`);
    assert.equal(await u70.getByTestId('sampled').textContent(), '2');
    assert.equal(await u70.getByTestId('completed').textContent(), '2');
    const u73 = page.locator(`[data-testid="progress-unit"] [data-code="${U2}"]`);
    assert.equal(await u73.getByTestId('refused').textContent(), '1');
    assert.match(await page.getByTestId('progress-summary').textContent(), new RegExp(`Hoàn thành 3/${seeded.assignments.length}`));
  });

  const [flagged, second] = seeded.records.map((r) => r.response);
  await step('review-reject', async () => {
    await page.getByTestId('subnav-review').click();
    await page.getByTestId('review-table').waitFor();
    const rows = page.getByTestId('review-row');
    assert.equal(await rows.count(), 3);
    assert.equal(await page.getByTestId('review-state').inputValue(), 'pending');
    const flaggedRow = page.locator(`[data-testid="review-row"][data-response-id="${flagged.id}"]`);
    assert.match(await flaggedRow.getByTestId('flag-count').textContent(), /quá nhanh/);

    await flaggedRow.getByTestId('review-open').click();
    await page.getByTestId('detail-items').waitFor();
    // Every answer with its Vietnamese label and the answer's label.
    const a1 = page.getByTestId('item-A1');
    assert.match(await a1.textContent(), /Giới tính/);
    assert.equal(await page.getByTestId('answer-A1').textContent(), 'Nam');
    assert.match(await page.getByTestId('answer-G1_1').textContent(), /^5 – Rất hài lòng$/);
    assert.equal(await page.getByTestId('answer-A2').textContent(), '35');
    const answered = Object.keys(flagged.answers).length;
    assert.ok(await page.locator('[data-testid^="answer-"]').count() >= answered);
    assert.ok(await page.getByTestId('detail-flag').count() >= 1, 'quality flags listed');
    assert.match(await page.getByTestId('detail-flags').textContent(), /Phỏng vấn quá nhanh/);

    // Rejecting without a reason is refused in the page.
    await page.getByTestId('reject').click();
    await page.getByTestId('decision-error').waitFor();
    assert.match(await page.getByTestId('decision-error').textContent(), /cần ghi nhận xét/);

    await page.getByTestId('item-comment-G1_1').fill('Hỏi lại người dân câu này, không phải cùng một mức.');
    await page.getByTestId('decision-comment').fill('Phỏng vấn quá nhanh, đề nghị kiểm tra lại.');
    await page.getByTestId('reject').click();
    await page.getByTestId('flash-message').waitFor();
    assert.match(await page.getByTestId('flash-message').textContent(), /Đã trả lại phiếu/);
    await page.getByTestId('review-table').waitFor();
    assert.equal(await page.getByTestId('review-row').count(), 2);
  });

  await step('review-pull', async () => {
    // The surveyor's device gets the decision with the item comment on its next pull.
    const pull = await apiOk(server, 'GET', '/pull?cursor=0', { token: seeded.deviceToken });
    const d = pull.decisions.find((x) => x.response_id === flagged.id);
    assert.ok(d, 'decision pulled');
    assert.equal(d.decision, 'rejected');
    assert.equal(d.revision, 1);
    assert.equal(d.comment, 'Phỏng vấn quá nhanh, đề nghị kiểm tra lại.');
    assert.deepEqual(d.item_comments, { G1_1: 'Hỏi lại người dân câu này, không phải cùng một mức.' });
  });

  await step('review-approve', async () => {
    await page.locator(`[data-testid="review-row"][data-response-id="${second.id}"] [data-testid="review-open"]`).click();
    await page.getByTestId('approve').click();
    await page.getByTestId('flash-message').waitFor();
    assert.match(await page.getByTestId('flash-message').textContent(), /Đã duyệt phiếu/);
    await page.getByTestId('review-table').waitFor();
    assert.equal(await page.getByTestId('review-row').count(), 1);

    await page.getByTestId('review-state').selectOption('approved');
    await page.waitForURL(/state=approved/);
    await page.locator(`[data-testid="review-row"][data-response-id="${second.id}"][data-state="approved"]`).waitFor();
    assert.equal(await page.getByTestId('review-row').count(), 1);
    await page.getByTestId('review-state').selectOption('rejected');
    await page.locator(`[data-testid="review-row"][data-response-id="${flagged.id}"][data-state="rejected"]`).waitFor();
    await page.getByTestId('review-state').selectOption('all');
    await page.waitForURL(/state=all/);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="review-row"]').length === 3);

    // The decided response shows its decision and item comment.
    await page.locator(`[data-testid="review-row"][data-response-id="${flagged.id}"] [data-testid="review-open"]`).click();
    await page.getByTestId('existing-decision').waitFor();
    assert.match(await page.getByTestId('existing-decision').textContent(), /Đã trả lại.*G1_1/s);
    const pull = await apiOk(server, 'GET', '/pull?cursor=0', { token: seeded.deviceToken });
    assert.equal(pull.decisions.find((x) => x.response_id === second.id)?.decision, 'approved');
  });

  await step('review-pages', async () => {
    // The queue a page at a time (here 2; 100 by default): "load more" appends the next page
    // after the last response shown, and goes away at the end.
    await page.goto(`${server.url}/dashboard/#/rounds/${server.roundId}/review?state=all&limit=2`);
    await page.getByTestId('review-table').waitFor();
    assert.equal(await page.getByTestId('review-row').count(), 2);
    assert.equal(await page.getByTestId('review-count').textContent(), 'Đang hiện 2 phiếu đầu tiên; còn phiếu khác.');
    const more = page.getByTestId('review-more');
    assert.equal(await more.textContent(), 'Xem thêm 2 phiếu');
    await more.click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="review-row"]').length === 3);
    assert.equal(await page.getByTestId('review-count').textContent(), '3 phiếu');
    assert.equal(await more.isVisible(), false);
    const shown = await page.getByTestId('review-row').evaluateAll((rows) => rows.map((r) => r.dataset.responseId));
    assert.deepEqual(shown, [...shown].sort(), 'oldest response id first, across pages');
    assert.equal(new Set(shown).size, 3, 'no response shown twice');
    // The narrow layout labels appended rows like the first page's.
    const label = await page.locator('[data-testid="review-row"]').nth(2).locator('td').nth(1).getAttribute('data-label');
    assert.equal(label, 'Điều tra viên');
  });

  await step('review-language', async () => {
    await page.getByTestId('lang-toggle').click();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByTestId('subnav-review').click();
    await page.getByRole('heading', { name: /^Review: / }).waitFor();
    assert.equal(await page.getByTestId('subnav-progress').textContent(), 'Progress');
    assert.equal(await page.getByTestId('lang-toggle').textContent(), 'VI');
    assert.match(await page.getByTestId('who').textContent(), /Supervisor/);
    // Problem messages follow the language too (English `message`).
    const r = await api(server, 'GET', '/review/queue?round_id=NOPE', { token: await page.evaluate(() => sessionStorage.getItem('sipas.dashboard.token')) });
    assert.equal(r.status, 404);
    await page.goto(`${server.url}/dashboard/#/rounds/NOPE/review`);
    await page.getByTestId('page-error').waitFor();
    assert.equal(await page.getByTestId('page-error').textContent(), r.json.message);
    // Back to Vietnamese; the choice survives a reload.
    await page.getByTestId('lang-toggle').click();
    await page.reload();
    await page.getByTestId('page-error').waitFor();
    assert.equal(await page.getByTestId('page-error').textContent(), r.json.message_vi);
    assert.equal(await page.getByTestId('lang-toggle').textContent(), 'EN');
  });

  await step('review-expired', async () => {
    // A token the server no longer knows: the next call answers 401 and the page goes back
    // to the login form with a message.
    await page.evaluate(() => sessionStorage.setItem('sipas.dashboard.token', 'expired-or-revoked-token'));
    await page.goto(`${server.url}/dashboard/#/rounds`);
    await page.getByTestId('login-form').waitFor();
    assert.match(page.url(), /#\/login$/);
    assert.match(await page.getByTestId('flash-message').textContent(), /Phiên làm việc đã hết hạn/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('sipas.dashboard.token')), null);
    assert.deepEqual(browser.problems, []);
  });
});
