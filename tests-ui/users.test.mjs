// Users in the dashboard: an admin creates a user (a taken username shows the server's
// message, never its code), changes its scope, resets its password (the shown password signs
// in), disables it (signing in is refused) and enables it again; a supervisor manages the
// devices of its surveyors but not users.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { api, apiOk, launchBrowser, login, saveFailure, seedResponses, startServer, uiLogin } from './support.mjs';

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

const row = (page, username) => page.locator(`[data-testid="user-row"][data-username="${username}"]`);

test('an admin creates, edits, resets, disables and enables a user', async () => {
  const { page } = browser;
  try {
    await uiLogin(page, server, 'admin');
    await page.getByTestId('nav-users').click();
    await page.getByTestId('users-table').waitFor();
    // A taken username.
    await page.getByTestId('user-new').click();
    await page.getByTestId('user-display-name').fill('Người trùng tên');
    await page.getByTestId('user-username').fill('surveyor');
    await page.getByTestId('user-role').selectOption('monitor');
    await page.getByTestId('user-save').click();
    const problem = await page.getByTestId('user-error').textContent();
    assert.doesNotMatch(problem, /\d{3}\.\d/);
    assert.ok(problem.length > 5);
    // A new monitor of Hà Nội; the server makes its password.
    await page.getByTestId('user-username').fill('mttq-hn');
    await page.getByTestId('user-display-name').fill('Phúc tra viên Hà Nội');
    await page.getByTestId('user-scope-units-search').fill('ha noi');
    await page.locator('[data-testid="user-scope-units-option"][data-code="01"]').click();
    await page.getByTestId('user-save').click();
    await row(page, 'mttq-hn').waitFor();
    assert.match(await row(page, 'mttq-hn').getByTestId('user-scope').textContent(), /Thành phố Hà Nội/);

    // Scope changed to Đà Nẵng.
    await row(page, 'mttq-hn').getByTestId('user-edit-open').click();
    await page.getByTestId('user-edit').waitFor();
    await page.getByTestId('edit-scope-units-remove').click();
    await page.getByTestId('edit-scope-units-search').fill('Đà Nẵng');
    await page.locator('[data-testid="edit-scope-units-option"][data-code="48"]').click();
    await page.getByTestId('edit-save').click();
    await row(page, 'mttq-hn').getByTestId('user-scope').filter({ hasText: 'Đà Nẵng' }).waitFor();

    // A new password, shown once, signs in.
    await row(page, 'mttq-hn').getByTestId('user-reset-password').click();
    const shown = await row(page, 'mttq-hn').getByTestId('new-password').textContent();
    const password = shown.split(': ').pop().trim();
    assert.ok(password.length >= 8, shown);
    await login(server, 'mttq-hn', password);

    // Disabled: signing in is refused; enabled again: it works.
    await row(page, 'mttq-hn').getByTestId('user-disable').click();
    await page.locator('[data-testid="user-row"][data-username="mttq-hn"][data-disabled="true"]').waitFor();
    assert.equal((await api(server, 'POST', '/login', { body: { username: 'mttq-hn', password } })).status, 401);
    await row(page, 'mttq-hn').getByTestId('user-enable').click();
    await page.locator('[data-testid="user-row"][data-username="mttq-hn"][data-disabled="false"]').waitFor();
    await login(server, 'mttq-hn', password);
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'users-admin');
    throw e;
  }
});

test('a supervisor sees its surveyors and their devices, and creates no users', async () => {
  const { page } = browser;
  try {
    // The demo surveyor's device (enrolled with the demo code) has synced once.
    await seedResponses(server, () => ({ status: 'absent' }));
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    await uiLogin(page, server, 'supervisor');
    await page.getByTestId('nav-users').click();
    await page.getByTestId('users-table').waitFor();
    assert.equal(await page.getByTestId('user-new').count(), 0, 'no user creation');
    assert.equal(await row(page, 'mttq-hn').count(), 0, 'a monitor of another province is not listed');
    await row(page, 'surveyor').getByTestId('user-devices').click();
    await page.getByTestId('devices-table').waitFor();
    assert.equal(await page.getByTestId('device-row').count(), 1);
    const token = await login(server, 'supervisor');
    const users = await apiOk(server, 'GET', '/users', { token });
    assert.ok(!users.some((u) => u.username === 'mttq-hn'));
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'users-supervisor');
    throw e;
  }
});
