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

// Ratings 1–5, satisfied = 4 or 5 (scale sat5). Hand-computed figures the page must show
// (default aggregation "mean of criteria": a group = the unweighted mean of its criteria, the
// overall index = the unweighted mean of groups G1–G5; G6 is not in the overall index):
//
//   respondent        first criterion (j = 0)   other criteria (j >= 1)
//   0 (unit U1)    5                         5
//   1 (unit U1)    2                         2
//   2 (unit U2)    4                         4
//   3 (unit U2)    4                         3
//
// Whole round (4 respondents):
//   first criterion:  5 2 4 4 → 3 of 4 satisfied = 75.0 %, mean 15/4 = 3.75
//   other criteria:   5 2 4 3 → 2 of 4 satisfied = 50.0 %, mean 14/4 = 3.50
//   G1, G3 (5 criteria): % = (75 + 4·50)/5 = 55.0,  mean = (3.75 + 4·3.5)/5 = 3.55
//   G2, G4, G5 (4):      % = (75 + 3·50)/4 = 56.25, mean = (3.75 + 3·3.5)/4 = 3.5625
//   G6 (1 criterion):    75.0 %, 3.75
//   overall: % = (55 + 56.25 + 55 + 56.25 + 56.25)/5 = 278.75/5 = 55.75 → "55,8%"
//            mean = (3.55 + 3.5625 + 3.55 + 3.5625 + 3.5625)/5 = 17.7875/5 = 3.5575 → "3,56"
// Unit U1 (5 and 2 everywhere): every criterion 1 of 2 = 50.0 %, mean 3.50; so every
//   group and the overall index: 50.0 %, 3.50.
// Unit U2: first criterion 4 4 → 100 %, 4.00; others 4 3 → 50 %, 3.50;
//   G1 = (100 + 4·50)/5 = 60.0 %, (4 + 4·3.5)/5 = 3.60; G2 = (100 + 3·50)/4 = 62.5 %;
//   overall % = (60 + 62.5 + 60 + 62.5 + 62.5)/5 = 61.5 → "61,5%".
// The demo's two units (the first two respondents are in U1, the others in U2).
let U1;
let U2;
const RATING = [() => 5, () => 2, () => 4, (j) => (j === 0 ? 4 : 3)];

before(async () => {
  server = await startServer();
  // Four interviews through the real API, two per unit (seedResponses sorts the demo's
  // assignments by unit, then id: respondents 0 and 1 are in unit U1, 2 and 3 in U2).
  // Respondent i rates criterion j of every group (j = its place in the group, from 0) with
  // RATING[i](j); every respondent answers B8 "co", so group G5 applies to all four.
  // The demo's fifth sampled person (unit 95003) was absent: no response, not in the index.
  const seeded = await seedResponses(server, (a, i) => (i >= 4 ? { status: 'absent' } : { answers: buildAnswers({ rating: (code, j) => RATING[i](j) }) }));
  [U1, U2] = [...new Set(seeded.assignments.map((a) => a.unit_code))];
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
    // The questionnaire by its title (from the round), its version secondary.
    assert.match(await page.getByTestId('stamp-form').textContent(), /2026\.1/);
    assert.equal(await page.getByTestId('stamp-aggregation').textContent(), 'Trung bình các tiêu chí');
    assert.match(await page.getByTestId('stamp-data-as-of').textContent(), /^\d{2}\/\d{2}\/\d{4}/);
    assert.equal(await page.getByTestId('stamp-min-n').textContent(), '1');
    // Round total first, then each unit.
    const units = await page.getByTestId('report-unit').evaluateAll((s) => s.map((x) => x.dataset.unit));
    assert.deepEqual(units, ['*', U1, U2]);
    const total = page.locator('[data-testid="report-unit"][data-unit="*"]');
    assert.match(await total.locator('h3').textContent(), /Toàn đợt/);
    const overall = total.locator('[data-testid="report-row"][data-level="overall"]');
    assert.equal(await overall.getAttribute('data-suppressed'), 'false');
    const c = total.locator('[data-testid="report-row"][data-code="G1_1"]');
    assert.equal(await c.getAttribute('data-level'), 'criterion');
    // The figures, against the hand-computed values above: [valid N, % satisfied, mean].
    const shown = async (unit, selector) => {
      const row = page.locator(`[data-testid="report-unit"][data-unit="${unit}"] [data-testid="report-row"]${selector}`);
      return [await row.getByTestId('cell-n').textContent(), await row.getByTestId('cell-pct').textContent(),
        await row.getByTestId('cell-mean').textContent()];
    };
    assert.deepEqual(await shown('*', '[data-code="G1_1"]'), ['4', '75,0%', '3,75']);
    assert.deepEqual(await shown('*', '[data-code="G1_2"]'), ['4', '50,0%', '3,50']);
    assert.deepEqual(await shown('*', '[data-code="G1"]'), ['4', '55,0%', '3,55']);
    assert.deepEqual(await shown('*', '[data-code="G3"]'), ['4', '55,0%', '3,55']);
    assert.deepEqual((await shown('*', '[data-code="G2"]')).slice(0, 2), ['4', '56,3%']);
    assert.deepEqual(await shown('*', '[data-code="G6_1"]'), ['4', '75,0%', '3,75']);
    assert.deepEqual((await shown('*', '[data-level="overall"]')).slice(1), ['55,8%', '3,56']);
    assert.deepEqual((await shown(U1, '[data-level="overall"]')).slice(1), ['50,0%', '3,50']);
    assert.deepEqual(await shown(U1, '[data-code="G1_1"]'), ['2', '50,0%', '3,50']);
    assert.deepEqual(await shown(U2, '[data-code="G1_1"]'), ['2', '100,0%', '4,00']);
    assert.deepEqual(await shown(U2, '[data-code="G1"]'), ['2', '60,0%', '3,60']);
    assert.deepEqual((await shown(U2, '[data-code="G2"]')).slice(0, 2), ['2', '62,5%']);
    assert.deepEqual((await shown(U2, '[data-level="overall"]')).slice(1, 2), ['61,5%']);
    // The bar of the overall index says the same.
    assert.equal(await total.locator('[data-testid="bar"][data-code="overall"] .bar-value').textContent(), '55,8%');
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
    const unitCrit = page.locator(`[data-unit="${U1}"] [data-testid="report-row"][data-code="G1_1"]`);
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
