// Biểu mẫu in the dashboard (issue 12): an admin uploads a questionnaire that the loader
// refuses (issues listed as a table, nothing stored), then a good one (a draft), previews it
// with the app's renderer (ui/form-runner.js served at /ui/: a constraint blocks "Tiếp" with
// its message, a calculation is worked out, an expression hides an item; nothing is sent),
// publishes it (the round form then offers it) and retires it; a supervisor has no
// Biểu mẫu page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FORM, apiOk, launchBrowser, login, saveFailure, startServer, uiLogin } from './support.mjs';

let server;
let browser;
let dir;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-forms-'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const KEY = 'hn-thu-nghiem@2026.1';

test('upload with issues, upload, preview, publish, retire; no page for supervisors', async () => {
  const { page } = browser;
  try {
    await uiLogin(page, server, 'admin');
    await page.getByTestId('nav-forms').click();
    await page.getByTestId('forms').waitFor();
    // The built-ins are listed as published.
    await page.locator('[data-testid="form-row"][data-key="sipas-6-groups@2026.1"][data-status="published"]').waitFor();

    // A definition the loader refuses: every issue listed, nothing stored.
    const def = structuredClone(FORM);
    def.form_id = 'hn-thu-nghiem';
    def.version = '2026.1';
    def.title.vi = 'Phiếu thử nghiệm Hà Nội';
    def.title.en = 'Hanoi trial questionnaire';
    // A constraint, a calculation and an item shown by an expression over the calculation.
    const items = def.groups[0].items;
    const a2 = items.findIndex((i) => i.code === 'A2');
    items[a2].constraint = '. <= 90';
    items[a2].constraint_message = { vi: 'Thử nghiệm: người trên 90 tuổi không thuộc đối tượng.', en: 'Trial: respondents over 90 are out of scope.' };
    items.splice(a2 + 1, 0,
      { code: 'A2_DOUBLE', type: 'calculate', label: { vi: 'Hai lần tuổi', en: 'Twice the age' }, calculation: '${A2} * 2' },
      { code: 'A2_NOTE', type: 'text', label: { vi: 'Ghi chú cho người trên 60 tuổi', en: 'Note for respondents over 60' }, relevant: '${A2_DOUBLE} > 120' });
    const bad = structuredClone(def);
    bad.groups[0].items[0].type = 'rating';
    bad.groups[0].items[0].scale = 'khong-co';
    const badFile = path.join(dir, 'loi.json');
    fs.writeFileSync(badFile, JSON.stringify(bad));
    await page.getByTestId('form-file').setInputFiles(badFile);
    await page.getByTestId('form-upload').click();
    await page.getByTestId('form-issues').waitFor();
    assert.ok(await page.getByTestId('form-issue').count() >= 1);
    assert.match(await page.getByTestId('form-issues').textContent(), /\$\.groups\[0\]/);
    const token = await login(server, 'admin');
    assert.ok(!(await apiOk(server, 'GET', '/forms', { token })).some((f) => f.id === 'hn-thu-nghiem'), 'nothing stored');

    // The good file: a draft.
    const goodFile = path.join(dir, 'phieu.json');
    fs.writeFileSync(goodFile, JSON.stringify(def));
    await page.getByTestId('form-file').setInputFiles(goodFile);
    await page.getByTestId('form-upload').click();
    const row = page.locator(`[data-testid="form-row"][data-key="${KEY}"]`);
    await page.locator(`[data-testid="form-row"][data-key="${KEY}"][data-status="draft"]`).waitFor();
    assert.match(await row.textContent(), /Phiếu thử nghiệm Hà Nội.*Bản nháp/);

    // The renderer files are served read-only with the dashboard's CSP.
    const runnerJs = await fetch(`${server.url}/ui/form-runner.js`);
    assert.equal(runnerJs.status, 200);
    assert.equal(runnerJs.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(runnerJs.headers.get('content-security-policy'), /^default-src 'self'/);
    assert.match(await runnerJs.text(), /window\.SIPAS_RUNNER/);
    assert.equal((await fetch(`${server.url}/ui/app.js`)).status, 404, 'only the renderer, not the app');

    // Preview with the app's renderer: nothing is sent while stepping through it.
    const sent = [];
    const onRequest = (r) => { if (r.method() !== 'GET') sent.push(`${r.method()} ${r.url()}`); };
    page.on('request', onRequest);
    await row.getByTestId('form-preview-btn').click();
    await page.getByTestId('form-preview-title').waitFor();
    const runner = page.getByTestId('form-runner');
    await runner.locator('[data-runner="root"][data-step="A"]').waitFor();
    assert.equal(await runner.locator('[data-runner="title"]').textContent(), 'Phiếu thử nghiệm Hà Nội');
    assert.match(await runner.locator('[data-runner="step"]').textContent(), /^Bước 1\/\d+$/);
    assert.ok(await runner.locator('[data-item="A2_NOTE"]').isHidden(), 'hidden until the calculation says so');
    assert.equal(await runner.locator('[data-item="A2_DOUBLE"]').count(), 0, 'a calculation is never a question');
    assert.equal(await page.getByTestId('form-preview-calc-value').textContent(), '—');

    // "Tiếp" with the required age missing: blocked, the message at the item.
    await runner.getByRole('button', { name: 'Tiếp →' }).click();
    await runner.locator('[data-runner="blocked"]:not([hidden])').waitFor();
    assert.equal(await runner.locator('[data-issue-for="A2"]').textContent(), 'Câu này bắt buộc phải trả lời.');

    // A value breaking the constraint: its message, and "Tiếp" still blocked.
    await runner.locator('#q-A2').fill('95');
    await runner.locator('#q-A2').press('Tab');
    assert.equal(await runner.locator('[data-issue-for="A2"]').textContent(), 'Thử nghiệm: người trên 90 tuổi không thuộc đối tượng.');
    await runner.getByRole('button', { name: 'Tiếp →' }).click();
    assert.match(await runner.locator('[data-runner="blocked"]').textContent(), /Có 1 câu trả lời chưa hợp lệ/);
    assert.equal(await runner.locator('[data-runner="root"]').getAttribute('data-step'), 'A');

    // 70: the calculation is 140 and the note applies; 30: 60, and the note is hidden again.
    await runner.locator('#q-A2').fill('70');
    await runner.locator('#q-A2').press('Tab');
    assert.equal(await page.getByTestId('form-preview-calc-value').textContent(), '140');
    await runner.locator('[data-item="A2_NOTE"]:not([hidden])').waitFor();
    assert.equal(await runner.locator('[data-issue-for="A2"]').textContent(), '');
    await runner.locator('#q-A2').fill('30');
    await runner.locator('#q-A2').press('Tab');
    assert.equal(await page.getByTestId('form-preview-calc-value').textContent(), '60');
    assert.ok(await runner.locator('[data-item="A2_NOTE"]').isHidden());

    // The step is valid now: "Tiếp" goes to B; the language switch redraws it in English.
    await runner.getByRole('button', { name: 'Tiếp →' }).click();
    await runner.locator('[data-runner="root"][data-step="B"]').waitFor();
    assert.match(await runner.locator('[data-runner="step"]').textContent(), /^Bước 2\//);
    await page.getByTestId('form-preview-lang').click();
    await runner.getByRole('button', { name: 'Next →' }).waitFor();
    assert.equal(await runner.locator('[data-runner="title"]').textContent(), 'Hanoi trial questionnaire');
    assert.match(await runner.locator('[data-runner="step"]').textContent(), /^Step 2\//);
    await runner.getByRole('button', { name: '← Back' }).click();
    await runner.locator('[data-runner="root"][data-step="A"]').waitFor();
    assert.equal(await runner.locator('#q-A2').inputValue(), '30', 'answers kept in the page');
    page.off('request', onRequest);
    assert.deepEqual(sent, [], 'the preview sends nothing');
    await page.getByTestId('form-preview-close').click();

    // Publish: the new-round form offers it.
    await row.getByTestId('form-publish').click();
    await page.locator(`[data-testid="form-row"][data-key="${KEY}"][data-status="published"]`).waitFor();
    await page.goto(`${server.url}/dashboard/#/rounds/new`);
    await page.locator(`[data-testid="round-form"] option[value="${KEY}"]`).waitFor({ state: 'attached' });

    // Retire: still listed, as retired; the round form no longer offers it.
    await page.goto(`${server.url}/dashboard/#/forms`);
    await page.locator(`[data-testid="form-row"][data-key="${KEY}"] [data-testid="form-retire"]`).click();
    await page.locator(`[data-testid="form-row"][data-key="${KEY}"][data-status="retired"]`).waitFor();
    await page.goto(`${server.url}/dashboard/#/rounds/new`);
    await page.locator('[data-testid="round-form"] option').nth(1).waitFor({ state: 'attached' });
    assert.equal(await page.locator(`[data-testid="round-form"] option[value="${KEY}"]`).count(), 0);

    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    await uiLogin(page, server, 'supervisor');
    await page.getByTestId('nav-rounds').waitFor();
    assert.equal(await page.getByTestId('nav-forms').count(), 0, 'no Biểu mẫu for supervisors');
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'forms');
    throw e;
  }
});
