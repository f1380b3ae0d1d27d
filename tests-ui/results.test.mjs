// The results page (issue 11): a supervisor compares two rounds, sets a target, sees the
// ranked chart and an agency's scorecard (printed to PDF by Chromium, one A4 page, rendered
// to PNG with pdftoppm), downloads the workbook (sheet names and cells checked
// with a small XLSX reader) and the microdata (row count = counted responses, no contacts).
// Screenshots go to the artifacts folder, and into docs/screenshots with SIPAS_UPDATE_SCREENSHOTS=1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ARTIFACTS, ROOT, api, apiOk, buildAnswers, launchBrowser, login, saveFailure, seedResponses, startServer, uiLogin,
} from './support.mjs';
import { readXlsx } from './xlsx-lite.mjs';

let server;
let browser;
let supToken;
const SHOTS = path.join(ARTIFACTS, 'screenshots');
const DOCS = path.join(ROOT, 'docs', 'screenshots');

/** Copies an artifact into docs/screenshots when asked to. @param {string} file */
function publish(file) {
  if (process.env.SIPAS_UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(DOCS, { recursive: true });
    fs.copyFileSync(path.join(SHOTS, file), path.join(DOCS, file));
  }
}

const AGENCIES = {
  BV01: 'Bệnh viện Đa khoa Hoàn Kiếm',
  CA01: 'Công an phường Hoàn Kiếm',
  UB01: 'UBND phường Hoàn Kiếm',
};

// Two rounds of Hà Nội with two respondents per agency (every criterion rated the same by a
// respondent: 5 = satisfied, 2 = not):
//   KQ-2025: BV01 2 2 (0 %), CA01 5 5 (100 %), UB01 5 5 (100 %)
//   KQ-2026: BV01 5 5 (100 %), CA01 2 2 (0 %), UB01 5 5 (100 %)
// so in 2026 BV01 and UB01 tie at rank 1, CA01 is 3rd and dropped 100 points.
const RATING = {
  'KQ-2025': { BV01: 2, CA01: 5, UB01: 5 },
  'KQ-2026': { BV01: 5, CA01: 2, UB01: 5 },
};

async function post(p, token, body, type) {
  const res = await fetch(`${server.url}/api/v1${p}`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': type }, body,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${p} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

before(async () => {
  server = await startServer();
  const adminToken = await login(server, 'admin');
  supToken = await login(server, 'supervisor');
  await post('/agencies/import', adminToken,
    `code,name,kind,unit_code,valid_from\n${Object.entries(AGENCIES).map(([c, n], i) => `${c},${n},${['y_te', 'khac', 'ubnd_xa'][i]},01,2020-01-01`).join('\n')}\n`,
    'text/csv');
  const surveyor = (await apiOk(server, 'GET', '/users?role=surveyor', { token: supToken })).find((u) => u.username === 'surveyor');
  for (const [id, starts] of [['KQ-2025', '2025-09-01'], ['KQ-2026', '2026-03-01']]) {
    await apiOk(server, 'POST', '/rounds', {
      token: supToken,
      body: { id, name: `Khảo sát SIPAS ${id.slice(3)}`, form: { form_id: 'sipas-6-groups', version: '2026.1' }, starts_on: starts, ends_on: `${starts.slice(0, 4)}-12-31`, units: ['01'] },
    });
    const rows = ['BV01', 'BV01', 'CA01', 'CA01', 'UB01', 'UB01'].map((a, i) => `${i % 2 ? '95002' : '95001'},Thủ tục ${i},Người ${i},Số ${i} phố Thử,09000000${i}${i},${a},${a === 'BV01' ? 'y_te' : 'tu_phap_ho_tich'}`);
    const imp = await post(`/rounds/${id}/sample`, supToken, `ma_don_vi,thu_tuc,ho_ten,dia_chi,dien_thoai,ma_co_quan,ma_linh_vuc\n${rows.join('\n')}\n`, 'text/csv');
    await apiOk(server, 'POST', `/rounds/${id}/assign`, { token: supToken, body: { assignment_ids: imp.assignment_ids, surveyor_id: surveyor.id } });
  }
  await seedResponses(server, (a) => {
    const plan = RATING[a.round_id];
    return plan ? { answers: buildAnswers({ rating: () => plan[a.agency_code] }) } : {};
  });
  browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
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

test('results: comparison, target, ranked chart, scorecard PDF, workbook and microdata', async () => {
  const { page } = browser;
  fs.mkdirSync(SHOTS, { recursive: true });
  await uiLogin(page, server, 'supervisor');
  const url = (q) => `${server.url}/dashboard/#/rounds/KQ-2026/results${q}`;

  await step('results-ranked', async () => {
    await page.goto(url('?min_n=2'));
    await page.getByTestId('rank-chart').waitFor();
    // Reached from the round's sub-navigation too.
    assert.equal(await page.getByTestId('subnav-results').getAttribute('aria-current'), 'page');
    const bars = await page.getByTestId('rank-bar').evaluateAll((els) => els.map((e) => [e.dataset.key, e.dataset.rank, e.querySelector('.bar-label').textContent, e.querySelector('.bar-value').textContent]));
    assert.deepEqual(bars, [
      ['BV01', '1', AGENCIES.BV01, '100,0%'],
      ['UB01', '1', AGENCIES.UB01, '100,0%'],
      ['CA01', '3', AGENCIES.CA01, '0,0%'],
    ]);
    assert.match(await page.getByTestId('results-summary').textContent(), /^6 phiếu/);
    // Ranked on one criteria group row instead: every respondent rated all criteria alike,
    // so the first group ranks like the overall index; the heading names the group.
    const rowSel = page.getByTestId('rank-row');
    const groupOptions = await rowSel.locator('option').allTextContents();
    assert.equal(groupOptions.length, 7); // overall + six criteria groups
    await rowSel.selectOption({ index: 1 });
    const heading = `Xếp hạng theo nhóm tiêu chí: ${groupOptions[1]}`;
    await page.locator('section:has([data-testid="rank-row"]) h3', { hasText: heading }).waitFor({ timeout: 5000 });
    const groupBars = await page.getByTestId('rank-bar').evaluateAll((els) => els.map((e) => [e.dataset.key, e.dataset.rank]));
    assert.deepEqual(groupBars, [['BV01', '1'], ['UB01', '1'], ['CA01', '3']]);
  });

  await step('results-profile', async () => {
    // The respondent-profile breakdowns come from the round's form: age in bands, education …
    const by = page.getByTestId('results-by');
    const labels = await by.locator('option').evaluateAll((els) => els.map((e) => [e.getAttribute('value'), e.textContent]));
    const age = labels.find(([v]) => v === 'profile:A2');
    assert.ok(age && /nhóm tuổi/.test(age[1]), JSON.stringify(labels));
    assert.ok(labels.some(([v]) => v === 'profile:A4'));
    assert.ok(labels.some(([v]) => v === 'profile:B4'));
    await by.selectOption('profile:A2');
    await page.getByTestId('results-apply').click();
    await page.waitForURL(/by=profile%3AA2|by=profile:A2/);
    await page.getByTestId('rank-chart').waitFor();
    assert.equal(await page.getByTestId('results-by').inputValue(), 'profile:A2');
    assert.ok(await page.getByTestId('result-row').count() >= 2);
    await page.goto(url('?min_n=2'));
    await page.getByTestId('rank-chart').waitFor();
  });

  await step('results-compare', async () => {
    // The automatic choice is the demo round (the latest earlier round); choose KQ-2025.
    await page.getByTestId('results-compare').selectOption('KQ-2025');
    await page.getByTestId('results-apply').click();
    await page.waitForURL(/compare_to=KQ-2025/);
    await page.locator('[data-testid="comparison"] h3', { hasText: 'Khảo sát SIPAS 2025' }).waitFor();
    const ca = page.locator('[data-testid="result-row"][data-key="CA01"]');
    assert.equal(await ca.getByTestId('delta').getAttribute('data-dropped'), 'true');
    assert.match(await ca.getByTestId('delta').textContent(), /▼ -100,0/);
    const bv = page.locator('[data-testid="result-row"][data-key="BV01"]');
    assert.equal(await bv.getByTestId('delta').getAttribute('data-dropped'), 'false');
    assert.equal(await bv.getByTestId('cell-rank').textContent(), '1');
  });

  await step('results-target', async () => {
    // Default: overall "trên 90%": CA01 not met, BV01 met.
    const status = (key) => page.locator(`[data-testid="result-row"][data-key="${key}"] [data-testid="target-status"]`).getAttribute('data-status');
    assert.equal(await status('CA01'), 'not_met');
    await page.locator('[data-testid="target-editor"] summary').click();
    const first = page.getByTestId('target-row').first();
    await first.getByTestId('target-comparator').selectOption('ge');
    await first.getByTestId('target-threshold').fill('0');
    // A bad threshold is refused on the page.
    await page.getByTestId('target-row').nth(1).getByTestId('target-threshold').fill('150');
    await page.getByTestId('target-save').click();
    await page.getByTestId('target-error').waitFor();
    await page.getByTestId('target-row').nth(1).getByTestId('target-threshold').fill('85');
    await page.getByTestId('target-save').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="result-row"][data-key="CA01"] [data-testid="target-status"]')?.dataset.status === 'met');
    const stored = await apiOk(server, 'GET', '/rounds/KQ-2026/targets', { token: supToken });
    assert.equal(stored.stored, true);
    assert.deepEqual(stored.targets[0], { scope: 'overall', comparator: 'ge', threshold_pct: 0 });
    assert.equal(await status('BV01'), 'met');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'results-page-1280.png'), fullPage: true });
    publish('results-page-1280.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(150);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > 390) {
      const culprits = await page.evaluate(() => [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 392 && !e.closest('.table-wrap')).slice(0, 5).map((e) => `${e.tagName}.${e.className}`));
      assert.fail(`results page is ${wide}px wide at 390px: ${culprits.join(', ')}`);
    }
    await page.screenshot({ path: path.join(SHOTS, 'results-page-390.png'), fullPage: true });
    publish('results-page-390.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step('results-scorecard', async () => {
    await page.locator('[data-testid="result-row"][data-key="BV01"] [data-testid="scorecard-link"]').click();
    await page.getByTestId('scorecard').waitFor();
    assert.equal(await page.getByTestId('scorecard-name').textContent(), AGENCIES.BV01);
    assert.equal(await page.getByTestId('scorecard-pct').textContent(), '100,0%');
    assert.equal(await page.getByTestId('scorecard-rank').textContent(), '1/3');
    const pdfPath = path.join(SHOTS, 'scorecard-BV01.pdf');
    await page.emulateMedia({ media: 'print' });
    await page.pdf({ path: pdfPath, format: 'A4', printBackground: true, preferCSSPageSize: true });
    await page.emulateMedia({ media: 'screen' });
    const pdf = fs.readFileSync(pdfPath, 'latin1');
    assert.equal((pdf.match(/\/Type\s*\/Page[^s]/g) || []).length, 1, 'the scorecard is one page');
    // poppler-utils is installed by scripts/setup.sh: the PNG is required, never skipped.
    execFileSync('pdftoppm', ['-png', '-r', '80', '-singlefile', pdfPath, path.join(SHOTS, 'scorecard-BV01')]);
    assert.ok(fs.statSync(path.join(SHOTS, 'scorecard-BV01.png')).size > 10_000);
    publish('scorecard-BV01.png');
    // A unit's scorecard: communes named from the unit catalogue, not by code.
    await page.goto(`${server.url}/dashboard/#/rounds/KQ-2026/scorecard?by=unit:commune&key=95001&min_n=2`);
    await page.getByTestId('scorecard').waitFor();
    const unitName = await page.getByTestId('scorecard-name').textContent();
    assert.ok(unitName && unitName !== '95001' && /\p{L}{3}/u.test(unitName), unitName);
    assert.equal(await page.getByTestId('scorecard-pct').textContent(), '66,7%');
    await page.goto(url('?min_n=2&compare_to=KQ-2025'));
    await page.getByTestId('rank-chart').waitFor();
  });

  await step('results-workbook', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-workbook').click()]);
    assert.equal(dl.suggestedFilename(), 'sipas-ket-qua-KQ-2026.xlsx');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-kq-')), 'kq.xlsx');
    await dl.saveAs(file);
    const wb = readXlsx(fs.readFileSync(file));
    assert.deepEqual(wb.names, ['tổng hợp', 'xếp hạng', 'so sánh với kỳ trước', 'theo tiêu chí', 'theo lĩnh vực', 'ghi chú phương pháp']);
    const sum = wb.sheet('tổng hợp');
    assert.match(sum[0][0], /sipas-6-groups@2026\.1/);
    const bv = sum.find((r) => r[1] === 'BV01');
    assert.deepEqual([bv[0], bv[2], bv[4], bv[8], bv[10]], [AGENCIES.BV01, '2', '100', '1', 'Đạt']);
    const cmp = wb.sheet('so sánh với kỳ trước');
    assert.match(cmp[1][0], /KQ-2025/);
    const ca = cmp.find((r) => r[0] === AGENCIES.CA01 && r[1] === 'Chung');
    assert.deepEqual([ca[5], ca[6], ca[7], ca[8]], ['100', '0', '-100', 'Giảm']);
    const note = wb.sheet('ghi chú phương pháp').map((r) => r.join(' ')).join('\n');
    assert.match(note, /Wilson/);
    assert.match(note, /Cỡ mẫu tối thiểu \(N\) 2/);
    // The first sheet as a picture, drawn from the file's cells.
    const shot = await browser.context.newPage();
    await shot.setViewportSize({ width: 1280, height: 400 });
    await shot.setContent('<!doctype html><meta charset="utf-8"><body></body>');
    await shot.evaluate((rows) => {
      const t = document.createElement('table');
      t.style.cssText = 'border-collapse:collapse;font:13px sans-serif';
      for (const r of rows) {
        const tr = t.insertRow();
        for (const c of r) {
          const td = tr.insertCell();
          td.textContent = c;
          td.style.cssText = 'border:1px solid #bbb;padding:3px 6px;white-space:nowrap';
        }
      }
      document.body.append(Object.assign(document.createElement('h3'), { textContent: 'Sổ kết quả — trang tính "tổng hợp"' }), t);
    }, sum);
    await shot.screenshot({ path: path.join(SHOTS, 'results-workbook-tong-hop.png'), fullPage: true });
    await shot.close();
    publish('results-workbook-tong-hop.png');
  });

  await step('results-microdata', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-microdata-csv').click()]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-md-')), 'md.csv');
    await dl.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    assert.equal(lines.length, 1 + 6, 'header + the 6 counted responses of KQ-2026');
    const cols = lines[0].split(',');
    assert.deepEqual(cols.slice(0, 7), ['response_id', 'revision', 'round_id', 'unit_code', 'agency_code', 'agency_kind', 'field_code']);
    for (const c of ['ho_ten', 'dia_chi', 'dien_thoai', 'name', 'address', 'phone']) assert.ok(!cols.includes(c), c);
    const body = lines.join('\n');
    assert.doesNotMatch(body, /phố Thử|Người \d|09000000/);
  });

  // The ministry reads the results but is offered no microdata (and the server refuses it).
  await step('results-ministry', async () => {
    await page.getByTestId('logout').click();
    await uiLogin(page, server, 'ministry');
    await page.goto(url('?min_n=2'));
    await page.getByTestId('rank-chart').waitFor();
    assert.equal(await page.getByTestId('download-microdata-csv').count(), 0);
    assert.equal(await page.getByTestId('target-editor').count(), 0);
    const r = await api(server, 'GET', '/rounds/KQ-2026/microdata', { token: await login(server, 'ministry') });
    assert.equal(r.status, 403);
  });
  assert.deepEqual(browser.problems, []);
});
