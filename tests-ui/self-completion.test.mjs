// The public self-completion page (issue 15) at phone size (390×844), against the real server:
// a personal link answered offline then online (the page closed and opened again in between,
// nothing lost), the same link refused afterwards with a plain message, an open-link answer
// with its screening, the open link's per-device limit, and the results showing each mode
// apart with the official figure over the round's official modes.
// Screenshots go to the artifacts folder, and into docs/screenshots with SIPAS_UPDATE_SCREENSHOTS=1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS, ROOT, apiOk, launchBrowser, login, saveFailure, startServer, uiLogin } from './support.mjs';

const PHONE = { width: 390, height: 844 };
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const DOCS = path.join(ROOT, 'docs', 'screenshots');
let server;
let sup;
let links;
let open;

async function shot(page, file) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, file), fullPage: false });
  if (process.env.SIPAS_UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(DOCS, { recursive: true });
    fs.copyFileSync(path.join(SHOTS, file), path.join(DOCS, file));
  }
}

before(async () => {
  server = await startServer();
  sup = await login(server, 'supervisor');
  const page = await apiOk(server, 'GET', `/rounds/${server.roundId}/assignments`, { token: sup });
  const ids = page.items.filter((a) => a.status !== "collected").map((a) => a.id).slice(0, 2);
  links = (await apiOk(server, 'POST', `/rounds/${server.roundId}/self-links`, { token: sup, body: { assignment_ids: ids } })).links;
  open = await apiOk(server, 'POST', `/rounds/${server.roundId}/open-links`, { token: sup, body: { agency_code: 'HN-MC-BADINH' } });
});

after(async () => {
  if (server) await server.stop();
});

/** Answers every shown item of the runner's step the first plausible way, then Tiếp / Gửi. */
async function answerStep(page) {
  await page.evaluate(() => {
    const body = document.querySelector('.runner-body');
    for (const w of body.querySelectorAll('[data-item]')) {
      if (w.hidden || w.closest('[hidden]')) continue;
      const type = w.dataset.type;
      const set = (input, v) => { input.value = v; input.dispatchEvent(new Event('input', { bubbles: true })); input.dispatchEvent(new Event('change', { bubbles: true })); };
      if (type === 'single_choice' && !w.querySelector('input:checked')) w.querySelector('label.choice').click();
      else if (type === 'multi_choice' && !w.querySelector('input:checked')) w.querySelector('label.choice').click();
      else if (type === 'rating' && !w.querySelector('[aria-checked="true"]')) (w.querySelector('button.rate[data-value="4"]') || w.querySelector('button.rate')).click();
      else if (type === 'integer') { const i = w.querySelector('input'); if (!i.value) set(i, '35'); }
      else if (type === 'date') { const i = w.querySelector('input'); if (!i.value) set(i, '01/10/2026'); }
      else if (type === 'text') { const i = w.querySelector('input, textarea'); if (!i.value && w.querySelector('.req')) set(i, 'Thủ tục mẫu'); }
    }
  });
}

async function fillAndSubmit(page) {
  for (let i = 0; i < 40; i += 1) {
    await answerStep(page);
    const submit = page.locator('.runner-submit');
    if (await submit.isVisible()) {
      await submit.click();
      return;
    }
    const before = await page.locator('.sipas-runner').getAttribute('data-step');
    await page.locator('.runner-next').click();
    const after = await page.locator('.sipas-runner').getAttribute('data-step');
    if (before === after) await answerStep(page); // an item appeared on the same step
  }
  throw new Error('the questionnaire never reached its last step');
}

test('a personal link answered offline, closed, reopened online: sent once, nothing lost; the link is then refused', async () => {
  const b = await launchBrowser({ viewport: PHONE });
  let page = b.page;
  try {
    const link = links[0];
    await page.goto(`${server.url}/s/${link.code}`);
    await page.locator('.runner-body [data-item]').first().waitFor();
    assert.match(await page.getByTestId('notice').innerText(), /Nghị định 13/);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= 390), true, 'no horizontal scrolling at 390 px');
    await shot(page, 'self-personal.png');
    // Offline from here: the answers are kept in the page's storage, not sent.
    await b.context.setOffline(true);
    await fillAndSubmit(page);
    await page.getByTestId('pending').waitFor();
    await shot(page, 'self-pending.png');
    const kept = await page.evaluate((k) => JSON.parse(localStorage.getItem(k)), `sipas-self:s:${link.code}`);
    assert.ok(kept.pending && Object.keys(kept.pending.answers).length > 10, 'answers kept locally');
    assert.ok(!JSON.stringify(kept).match(/Nguyễn|phố Demo|09\d{8}/), 'no contact in local storage');
    let progress = await apiOk(server, 'GET', `/rounds/${server.roundId}/self-links`, { token: sup });
    assert.equal(progress.links.find((l) => l.code === link.code).status, 'waiting');
    // The page is closed; the phone comes back online; the link is opened again.
    await page.close();
    await b.context.setOffline(false);
    page = await b.context.newPage();
    await page.goto(`${server.url}/s/${link.code}`);
    await page.getByTestId('receipt').waitFor();
    const receipt = await page.getByTestId('receipt').innerText();
    assert.equal(receipt, kept.pending.id.replace(/-/g, '').slice(0, 8).toUpperCase());
    await shot(page, 'self-done.png');
    const after = await page.evaluate((k) => JSON.parse(localStorage.getItem(k)), `sipas-self:s:${link.code}`);
    assert.equal(after.pending, undefined, 'answers removed from the phone once acknowledged');
    progress = await apiOk(server, 'GET', `/rounds/${server.roundId}/self-links`, { token: sup });
    assert.equal(progress.links.find((l) => l.code === link.code).status, 'answered');
    // Someone else opens the same link (another browser): a plain refusal.
    const other = await launchBrowser({ viewport: PHONE });
    try {
      await other.page.goto(`${server.url}/s/${link.code}`);
      await other.page.getByText('đã được trả lời').waitFor();
      assert.equal(await other.page.locator('.runner-body').count(), 0);
      await shot(other.page, 'self-used.png');
      // An unknown code: a plain message too.
      await other.page.goto(`${server.url}/s/ABCDEFGHJK`);
      await other.page.getByText('Đường dẫn không hợp lệ').waitFor();
      assert.deepEqual(other.problems, []);
    } finally {
      await other.close();
    }
    assert.deepEqual(b.problems, []);
  } catch (e) {
    await saveFailure(page, 'self-personal');
    throw e;
  } finally {
    await b.close();
  }
});

test('an open-link answer with its screening, then the per-device limit; results show the modes apart', async () => {
  const b = await launchBrowser({ viewport: PHONE });
  const { page } = b;
  try {
    const today = new Date().toISOString().slice(0, 10);
    for (let i = 0; i < 4; i += 1) {
      if (i === 0) await page.goto(`${server.url}/o/${open.token}`);
      else await page.getByTestId('again').click();
      await page.getByTestId('scr-procedure').waitFor();
      if (i === 0) await shot(page, 'self-open-screening.png');
      await page.getByTestId('scr-procedure').selectOption({ index: 1 });
      await page.getByTestId('scr-date').fill(today);
      await page.getByTestId('scr-start').click();
      await page.locator('.runner-body [data-item]').first().waitFor();
      await fillAndSubmit(page);
      if (i < 3) {
        await page.getByTestId('receipt').waitFor();
      } else {
        // The fourth answer from the same phone within a day: refused in plain words.
        await page.getByText('quá nhiều câu trả lời').waitFor();
        await shot(page, 'self-open-limit.png');
      }
    }
    const res = await apiOk(server, 'GET', `/rounds/${server.roundId}/results?mode=official`, { token: sup });
    const panel = (m) => res.modes.find((p) => p.mode === m);
    assert.equal(panel('self_open').n, 3);
    assert.equal(panel('self_personal').n, 1);
    assert.equal(panel('self_open').official, false);
    assert.deepEqual(res.official_modes, ['capi', 'self_personal']);
    assert.equal(res.total.respondents, panel('capi').n + panel('self_personal').n, 'the official figure leaves the open link out');
    const all = await apiOk(server, 'GET', `/rounds/${server.roundId}/results?mode=all`, { token: sup });
    assert.equal(all.total.respondents, panel('capi').n + 1 + 3);
    assert.deepEqual(b.problems, []);
  } catch (e) {
    await saveFailure(page, 'self-open');
    throw e;
  } finally {
    await b.close();
  }
});

test('the dashboard page makes personal links for chosen assignments and an open link, and saves the official-figure rule', async () => {
  const b = await launchBrowser();
  const { page } = b;
  try {
    await uiLogin(page, server, 'supervisor');
    await page.goto(`${server.url}/dashboard/#/rounds/${encodeURIComponent(server.roundId)}/self-links`);
    await page.getByTestId('self-links').waitFor();
    // Links made in before() show as answered / waiting; pick an assignment without one.
    const fresh = page.locator('[data-testid="self-row"]').filter({ has: page.locator('[data-testid="self-code"]', { hasText: 'Chưa có' }) }).first();
    const id = await fresh.getAttribute('data-id');
    await fresh.getByTestId('pick').check();
    await page.getByTestId('create-links').click();
    await page.getByTestId('flash-message').filter({ hasText: 'Đã tạo 1 đường dẫn riêng' }).waitFor();
    const row = page.locator(`[data-testid="self-row"][data-id="${id}"]`);
    await row.getByTestId('copy-sms').waitFor();
    assert.match(await row.getByTestId('self-code').innerText(), /^[2-9A-HJKMNP-Z]{10}$/);
    assert.equal(await page.locator('[data-testid="self-status"][data-status="answered"]').count(), 1);
    assert.equal(await page.getByTestId('print-letters').isEnabled(), true);
    await page.getByTestId('open-agency').selectOption('HN-MC-BADINH');
    await page.getByTestId('create-open').click();
    await page.getByTestId('flash-message').filter({ hasText: 'Đã tạo đường dẫn mở' }).waitFor();
    await page.getByTestId('open-row').nth(1).waitFor();
    assert.equal(await page.getByTestId('open-row').count(), 2);
    assert.equal(await page.locator('[data-testid="open-links"] svg.qr').count(), 0, 'QR codes are printed, not shown in the table');
    await shot(page, 'self-links-dashboard.png');
    await page.getByTestId('mode-self_open').check();
    await page.getByTestId('save-modes').click();
    await page.getByTestId('modes-saved').waitFor();
    const modes = await apiOk(server, 'GET', `/rounds/${server.roundId}/official-modes`, { token: sup });
    assert.deepEqual(modes.official_modes, ['capi', 'self_personal', 'self_open']);
    // The results page shows one panel per mode; the open link now counts.
    await page.goto(`${server.url}/dashboard/#/rounds/${encodeURIComponent(server.roundId)}/results`);
    const openRow = page.locator('[data-testid="mode-row"][data-mode="self_open"]');
    await openRow.waitFor();
    assert.equal(await openRow.getByTestId('mode-n').innerText(), '3');
    assert.equal(await openRow.getByTestId('mode-official').innerText(), 'Được tính');
    await page.getByTestId('modes-panel').scrollIntoViewIfNeeded();
    await shot(page, 'self-modes-results.png');
    // The assignment answered on its personal link says so on the assignments page.
    await page.goto(`${server.url}/dashboard/#/rounds/${encodeURIComponent(server.roundId)}/assignments`);
    await page.getByTestId('self-answered').first().waitFor();
    assert.equal(await page.getByTestId('self-answered').count(), 1);
    assert.equal(await page.getByTestId('self-answered').innerText(), 'tự trả lời');
    // Back to the default rule: the open link's panel is shown apart.
    await apiOk(server, 'PUT', `/rounds/${server.roundId}/official-modes`, { token: sup, body: { official_modes: ['capi', 'self_personal'] } });
    await page.goto(`${server.url}/dashboard/#/rounds/${encodeURIComponent(server.roundId)}/report`);
    await page.locator('[data-testid="mode-row"][data-mode="self_open"] [data-testid="mode-official"]', { hasText: 'Xem riêng' }).waitFor();
    assert.deepEqual(b.problems, []);
  } catch (e) {
    await saveFailure(page, 'self-links-dashboard');
    throw e;
  } finally {
    await b.close();
  }
});
