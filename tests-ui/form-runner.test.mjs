// The Tauri-free step runner (ui/form-runner.js) as the server serves it at /ui/, loaded on a
// page of the server's origin under its Content-Security-Policy: prefill read-only from the
// assignment, catalogue options filtered by an earlier answer (a choice no longer offered is
// cleared), a date or number that cannot be read blocks "Tiếp" with its message, required
// answers block "Tiếp", onChange after every answer, the language switch, and onSubmit with
// only the answers that apply (calculations included).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, saveFailure, startServer } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser({ viewport: { width: 1000, height: 900 } });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const FORM = {
  format: 1, form_id: 'runner-test', version: '1', title: { vi: 'Phiếu thử bộ chạy', en: 'Runner test form' },
  groups: [
    {
      code: 'A', kind: 'profile', title: { vi: 'Phần A', en: 'Part A' }, items: [
        { code: 'PROC', type: 'text', label: { vi: 'Thủ tục', en: 'Procedure' }, prefill: { from: 'procedure', editable: false } },
        { code: 'AGE', type: 'integer', label: { vi: 'Tuổi', en: 'Age' }, required: true, min: 18, max: 120 },
        { code: 'AGE2', type: 'calculate', label: { vi: 'Hai lần tuổi' }, calculation: '${AGE} * 2' },
        { code: 'UNIT', type: 'single_choice', label: { vi: 'Đơn vị', en: 'Unit' }, choices_from: 'units' },
        { code: 'AG', type: 'single_choice', label: { vi: 'Cơ quan', en: 'Agency' }, choices_from: 'agencies', choice_filter: 'unit = ${UNIT}' },
        { code: 'DAY', type: 'date', label: { vi: 'Ngày nhận kết quả', en: 'Day of the result' } },
        { code: 'OLD', type: 'text', label: { vi: 'Ghi chú người cao tuổi', en: 'Note for older people' }, relevant: '${AGE2} > 140' },
      ],
    },
    { code: 'B', kind: 'comment', title: { vi: 'Phần B', en: 'Part B' }, items: [{ code: 'B1', type: 'text', label: { vi: 'Góp ý', en: 'Comment' } }] },
  ],
};

const CATALOGUES = {
  units: [{ value: '95001', label: { vi: 'Phường Ba Đình' }, attrs: {} }, { value: '95002', label: { vi: 'Phường Hồng Hà' }, attrs: {} }],
  agencies: [
    { value: 'MC-BD', label: { vi: 'Một cửa Ba Đình' }, attrs: { unit: '95001' } },
    { value: 'MC-HH', label: { vi: 'Một cửa Hồng Hà' }, attrs: { unit: '95002' } },
  ],
};

test('the runner steps through a form with the app renderer, without Tauri', async () => {
  const { page } = browser;
  try {
    // A page of the server's origin (its 404 answer carries the same CSP as the dashboard).
    await page.goto(`${server.url}/ui/bare-page`);
    for (const f of ['relevance', 'expr', 'form', 'form-runner']) await page.addScriptTag({ url: `${server.url}/ui/${f}.js` });
    await page.evaluate(({ form, catalogues }) => {
      document.body.replaceChildren();
      const root = document.createElement('div');
      document.body.append(root);
      window.changes = [];
      window.submitted = null;
      window.run = window.SIPAS_RUNNER.mount(root, {
        form, lang: 'vi', answers: {}, catalogues, startedAt: '2026-12-02T08:00:00Z',
        assignment: { procedure_code: '1.001', procedure_name: 'Cấp giấy khai sinh' },
        texts: { submit: { vi: 'Gửi phiếu', en: 'Send' } },
        onChange: (a) => window.changes.push(a),
        onSubmit: (a) => { window.submitted = a; },
      });
    }, { form: FORM, catalogues: CATALOGUES });
    const answers = () => page.evaluate(() => window.run.answers());
    const issue = (code) => page.locator(`[data-issue-for="${code}"]`).textContent();
    const next = page.getByRole('button', { name: 'Tiếp →' });

    // Prefilled from the assignment, read only; reported to onChange.
    assert.equal(await page.inputValue('#q-PROC'), 'Cấp giấy khai sinh');
    assert.ok(await page.isDisabled('#q-PROC'));
    assert.deepEqual(await page.evaluate(() => window.changes.at(-1)), { PROC: 'Cấp giấy khai sinh' });
    assert.equal(await page.locator('[data-runner="step"]').textContent(), 'Bước 1/2');

    // Required age missing: blocked.
    await next.click();
    assert.equal(await issue('AGE'), 'Câu này bắt buộc phải trả lời.');
    assert.equal(await page.evaluate(() => window.run.step()), 'A');

    // Not a whole number: refused with the app's message, not stored.
    await page.fill('#q-AGE', 'bốn mươi');
    await page.locator('#q-AGE').press('Tab');
    assert.equal(await issue('AGE'), 'Câu trả lời không đúng kiểu: cần một số nguyên.');
    assert.ok(!('AGE' in await answers()));
    // Out of range: the range message; then valid with the calculation stored.
    await page.fill('#q-AGE', '12');
    await page.locator('#q-AGE').press('Tab');
    assert.equal(await issue('AGE'), 'Giá trị phải từ 18 đến 120.');
    await page.fill('#q-AGE', '75');
    await page.locator('#q-AGE').press('Tab');
    assert.equal(await issue('AGE'), '');
    assert.equal((await answers()).AGE2, 150);
    assert.ok(await page.locator('[data-item="OLD"]').isVisible(), 'relevant by the calculation');

    // Agencies offered follow the unit; a chosen agency no longer offered is cleared.
    assert.equal(await page.locator('[data-item="AG"]').getAttribute('data-choices'), '');
    await page.check('#q-UNIT-95001');
    assert.equal(await page.locator('[data-item="AG"]').getAttribute('data-choices'), 'MC-BD');
    await page.check('#q-AG-MC-BD');
    assert.equal((await answers()).AG, 'MC-BD');
    await page.check('#q-UNIT-95002');
    assert.equal(await page.locator('[data-item="AG"]').getAttribute('data-choices'), 'MC-HH');
    assert.ok(!('AG' in await answers()), 'the Ba Đình agency is cleared');

    // A date that does not exist blocks "Tiếp"; dd/mm/yyyy is stored as ISO.
    await page.fill('#q-DAY', '31/02/2026');
    await page.locator('#q-DAY').press('Tab');
    assert.equal(await issue('DAY'), 'Ngày không có thật: 31/02/2026. Chưa lưu.');
    await next.click();
    assert.match(await page.locator('[data-runner="blocked"]').textContent(), /Có 1 câu trả lời chưa hợp lệ/);
    assert.equal(await page.evaluate(() => window.run.step()), 'A');
    await page.fill('#q-DAY', '15/11/2026');
    await page.locator('#q-DAY').press('Tab');
    assert.equal((await answers()).DAY, '2026-11-15');
    await page.fill('#q-OLD', 'Cần hỗ trợ đi lại');
    // Younger after all: the note no longer applies.
    await page.fill('#q-AGE', '40');
    await page.locator('#q-AGE').press('Tab');
    assert.ok(await page.locator('[data-item="OLD"]').isHidden());

    // Step B, in English; the last step submits.
    await next.click();
    assert.equal(await page.evaluate(() => window.run.step()), 'B');
    await page.evaluate(() => window.run.setLang('en'));
    assert.equal(await page.locator('[data-runner="step"]').textContent(), 'Step 2/2');
    assert.ok(await page.locator('[data-runner="next"]').isHidden());
    await page.fill('#q-B1', '  Nhanh gọn  ');
    await page.getByRole('button', { name: 'Send' }).click();
    assert.deepEqual(await page.evaluate(() => window.submitted), {
      PROC: 'Cấp giấy khai sinh', AGE: 40, AGE2: 80, UNIT: '95002', DAY: '2026-11-15', B1: 'Nhanh gọn',
    }, 'the note that no longer applies is left out');

    await page.evaluate(() => window.run.destroy());
    assert.equal(await page.locator('[data-runner]').count(), 0);
    assert.deepEqual(browser.problems, []);
  } catch (e) {
    await saveFailure(page, 'form-runner');
    throw e;
  }
});
