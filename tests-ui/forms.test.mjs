// Biểu mẫu in the dashboard (issue 12): an admin uploads a questionnaire that the loader
// refuses (issues listed as a table, nothing stored), then a good one (a draft), previews it
// read-only, publishes it (the round form then offers it) and retires it; a supervisor has no
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

    // Preview: groups, items and options, read only.
    await row.getByTestId('form-preview-btn').click();
    await page.getByTestId('form-preview-title').waitFor();
    assert.equal(await page.getByTestId('preview-group').count(), FORM.groups.length);
    assert.ok(await page.getByTestId('preview-item').count() >= 10);
    assert.ok(await page.locator('[data-testid="preview-option"] input[disabled]').count() >= 2);

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
