// Catalogues in the dashboard: units valid on a date (the 2025 reform shows), fields with their
// procedures, an import checked first (every bad row listed, nothing stored) and then stored;
// a supervisor reads the catalogues but has no import.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { apiOk, launchBrowser, login, saveFailure, startServer, uiLogin } from './support.mjs';

let server;
let browser;
let dir;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-cat-'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('units by date, fields and procedures, a checked import; read-only for supervisors', async () => {
  const { page } = browser;
  try {
    await uiLogin(page, server, 'admin');
    await page.getByTestId('nav-catalogues').click();
    await page.getByTestId('catalogue-units').waitFor();
    // Before the 2025 reform Hà Nội had districts; today it has none.
    assert.equal(await page.locator('[data-testid="unit-row"][data-code="001"]').count(), 0);
    await page.getByTestId('catalogue-on').fill('2024-01-01');
    await page.getByTestId('catalogue-on').dispatchEvent('change');
    await page.locator('[data-testid="unit-row"][data-code="001"]').waitFor();
    assert.match(await page.locator('[data-testid="unit-row"][data-code="001"]').textContent(), /Quận Ba Đình.*Quận \/ huyện.*Thành phố Hà Nội/);
    // Search by name without accents.
    await page.getByTestId('catalogue-search').fill('phuc xa');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="unit-row"]').length === 1);

    await page.getByTestId('catalogue-tab-fields').click();
    await page.locator('[data-testid="field-row"][data-code="dat_dai"]').waitFor();
    assert.match(await page.locator('[data-testid="field-row"][data-code="dat_dai"]').textContent(), /Đất đai/);
    assert.ok(await page.locator('[data-testid="procedure-row"][data-field="dat_dai"]').count() >= 1);

    // A fields file with a bad row: checked, listed, nothing stored; then the fixed file.
    const bad = path.join(dir, 'linh-vuc-loi.csv');
    fs.writeFileSync(bad, 'code,name\nvan_hoa,Văn hoá\n,Không có mã\n');
    await page.getByTestId('import-fields-file').setInputFiles(bad);
    await page.getByTestId('import-fields-check').click();
    await page.getByTestId('import-fields-has-errors').waitFor();
    await page.locator('[data-testid="import-fields-errors"] [data-testid="row-error"][data-row="3"]').waitFor();
    const token = await login(server, 'admin');
    assert.ok(!(await apiOk(server, 'GET', '/fields', { token })).some((f) => f.code === 'van_hoa'), 'nothing stored by a check');
    const good = path.join(dir, 'linh-vuc.csv');
    fs.writeFileSync(good, 'code,name\nvan_hoa,Văn hoá\n');
    await page.getByTestId('import-fields-file').setInputFiles(good);
    await page.getByTestId('import-fields-check').click();
    await page.getByTestId('import-fields-ok').waitFor();
    await page.getByTestId('import-fields-import').click();
    await page.getByTestId('import-fields-done').waitFor();
    assert.ok((await apiOk(server, 'GET', '/fields', { token })).some((f) => f.code === 'van_hoa' && f.name === 'Văn hoá'));

    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    await uiLogin(page, server, 'supervisor');
    await page.getByTestId('nav-catalogues').click();
    await page.getByTestId('catalogue-tab-agencies').click();
    await page.getByTestId('catalogue-count').waitFor();
    assert.equal(await page.getByTestId('catalogue-import').count(), 0, 'no import for supervisors');
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'catalogues');
    throw e;
  }
});
