// The reports page: SIPAS index per unit and per group / criterion with valid N, % satisfied
// and mean; bars; suppressed cells ("—") under min N; the stamp; CSV (with BOM) and XLSX
// downloads through the bearer token; a 360 px screenshot into the artifacts folder.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS, buildAnswers, launchBrowser, saveFailure, seedResponses, startServer, uiLogin,
} from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  // Four interviews (two per unit) with varied ratings.
  await seedResponses(server, (a, i) => ({ answers: buildAnswers({ rating: (code, j) => 1 + ((i + 2 * j) % 5) }) }));
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

const reportUrl = (q) => `${server.url}/dashboard/#/rounds/${server.roundId}/report${q}`;

test('reports: bars, suppression, stamp, downloads and a 360 px screenshot', async () => {
  const { page } = browser;
  await step('report-values', async () => {
    await uiLogin(page, server, 'supervisor');
    await page.goto(reportUrl('?min_n=1'));
    await page.getByTestId('report-stamp').waitFor();
    assert.equal(await page.getByTestId('stamp-form').textContent(), 'sipas-6-groups@2026.1');
    assert.equal(await page.getByTestId('stamp-aggregation').textContent(), 'Trung bình các tiêu chí');
    assert.match(await page.getByTestId('stamp-data-as-of').textContent(), /^\d{2}\/\d{2}\/\d{4}/);
    assert.equal(await page.getByTestId('stamp-min-n').textContent(), '1');
    // Round total first, then each unit.
    const units = await page.getByTestId('report-unit').evaluateAll((s) => s.map((x) => x.dataset.unit));
    assert.deepEqual(units, ['*', '00070', '00073']);
    const total = page.locator('[data-testid="report-unit"][data-unit="*"]');
    assert.match(await total.locator('h3').textContent(), /Toàn đợt/);
    const overall = total.locator('[data-testid="report-row"][data-level="overall"]');
    assert.equal(await overall.getAttribute('data-suppressed'), 'false');
    assert.match(await overall.getByTestId('cell-pct').textContent(), /^\d+,\d%$/);
    assert.match(await overall.getByTestId('cell-mean').textContent(), /^\d,\d\d$/);
    const g1 = total.locator('[data-testid="report-row"][data-code="G1"]');
    assert.equal(await g1.getByTestId('cell-n').textContent(), '20');
    const c = total.locator('[data-testid="report-row"][data-code="G1_1"]');
    assert.equal(await c.getAttribute('data-level'), 'criterion');
    assert.equal(await c.getByTestId('cell-n').textContent(), '4');
    // Bars: drawn with plain elements, width = % satisfied.
    const bars = total.getByTestId('bar');
    assert.ok(await bars.count() >= 6);
    // Bars: each fill is as wide as its % satisfied of the track.
    for (const bar of await bars.all()) {
      const pct = Number((await bar.locator('.bar-value').textContent()).replace('%', '').replace(',', '.'));
      const [fill, track] = await bar.evaluate((b) => [b.querySelector('.fill').getBoundingClientRect().width, b.querySelector('.track').getBoundingClientRect().width]);
      assert.ok(track > 50, 'track visible');
      assert.ok(Math.abs(fill - (track * pct) / 100) < 1.5, `bar ${pct}%: fill ${fill} of ${track}`);
    }
    // Language: the stamp and headers switch to English.
    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('report-stamp').waitFor();
    assert.equal(await page.getByTestId('stamp-aggregation').textContent(), 'Mean of criteria');
    assert.match(await page.getByTestId('report-table').first().textContent(), /% satisfied/);
    await page.getByTestId('lang-toggle').click();
    await page.getByRole('heading', { name: /^Báo cáo chỉ số SIPAS/ }).waitFor();
  });

  await step('report-suppressed', async () => {
    // Through the controls: min N 100 hides every value.
    await page.getByTestId('report-min-n').fill('100');
    await page.getByTestId('report-aggregation').selectOption('pooled');
    await page.getByTestId('report-apply').click();
    await page.waitForURL(/min_n=100/);
    await page.locator('[data-testid="stamp-min-n"]', { hasText: '100' }).waitFor();
    assert.equal(await page.getByTestId('stamp-aggregation').textContent(), 'Gộp tất cả câu trả lời');
    const rows = page.getByTestId('report-row');
    assert.ok(await rows.count() > 20);
    assert.equal(await page.locator('[data-testid="report-row"][data-suppressed="false"]').count(), 0);
    // Suppressed bars are empty and say so.
    const fills = await page.locator('[data-testid="bar"] .fill').evaluateAll((fs_) => fs_.map((f) => f.getBoundingClientRect().width));
    assert.ok(fills.length > 0 && fills.every((w) => w === 0), `suppressed fills: ${fills}`);
    assert.ok((await page.locator('[data-testid="bar"] .bar-value').allTextContents()).every((x) => x === '—'));
    const pcts = await page.getByTestId('cell-pct').allTextContents();
    assert.ok(pcts.every((x) => x === '—'), pcts.join(' '));
    const means = await page.getByTestId('cell-mean').allTextContents();
    assert.ok(means.every((x) => x === '—'));
    // Valid N is still shown.
    assert.equal(await page.locator('[data-unit="*"] [data-code="G1_1"] [data-testid="cell-n"]').textContent(), '4');
    assert.match(await page.getByTestId('report-stamp').textContent(), /chưa đủ 100 câu trả lời hợp lệ/);
  });

  await step('report-downloads', async () => {
    await page.goto(reportUrl('?min_n=3'));
    await page.getByTestId('report-stamp').waitFor();
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-csv').click()]);
    assert.equal(csv.suggestedFilename(), `sipas-report-${server.roundId}.csv`);
    const csvBytes = fs.readFileSync(await csv.path());
    assert.deepEqual([...csvBytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'CSV starts with a UTF-8 BOM');
    const text = csvBytes.toString('utf8');
    assert.match(text, /sipas-6-groups@2026\.1/);
    assert.match(text, /Ẩn các ô dưới 3 câu trả lời hợp lệ/);
    await page.getByTestId('download-done').waitFor();
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-xlsx').click()]);
    assert.equal(xlsx.suggestedFilename(), `sipas-report-${server.roundId}.xlsx`);
    const xBytes = fs.readFileSync(await xlsx.path());
    assert.equal(xBytes.subarray(0, 2).toString('latin1'), 'PK', 'XLSX is a zip');
  });

  await step('report-360', async () => {
    // min N 3: the round total (4 answers per criterion) is shown; each unit (2 respondents,
    // so a base of 2 for its criteria, groups and overall index) is suppressed.
    await page.setViewportSize({ width: 360, height: 780 });
    await page.goto(reportUrl('?min_n=3'));
    await page.getByTestId('report-stamp').waitFor();
    const unitCrit = page.locator('[data-unit="00070"] [data-testid="report-row"][data-code="G1_1"]');
    assert.equal(await unitCrit.getAttribute('data-suppressed'), 'true');
    assert.equal(await unitCrit.getByTestId('cell-pct').textContent(), '—');
    const totalCrit = page.locator('[data-unit="*"] [data-testid="report-row"][data-code="G1_1"]');
    assert.equal(await totalCrit.getAttribute('data-suppressed'), 'false');
    // Nothing wider than the screen but the tables' own scroll boxes.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 360, `page is ${overflow}px wide at 360 px`);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'dashboard-report.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 10_000);
    assert.deepEqual(browser.problems, []);
  });
});
