// The app's form renderer (ui/app.js + ui/form.js + ui/expr.js) with the form-model additions
// of the expression language: calculate items (hidden, value saved with the answers),
// constraint messages blocking "Tiếp", choice_filter (options re-filtered, a chosen option no
// longer offered cleared), choices_from options (from `get_catalogue_options`) and prefill
// from the assignment (read-only when not editable). The page runs in Chromium with the Tauri
// bridge replaced by a recorder that accepts every answer: what is asserted is what the
// renderer shows and what it sends. The Rust checks of the same answers are tested in
// crates/core (answer_validation, expr) and in the real window (app-form.test.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, launchBrowser } from './support.mjs';

const FORM = {
  format: 1, form_id: 'expr-demo', version: '1', title: { vi: 'Phiếu thử biểu thức', en: 'Expression demo' },
  scales: {},
  groups: [
    {
      code: 'P', kind: 'profile', title: { vi: 'Người trả lời', en: 'Respondent' },
      items: [
        { code: 'AGE', type: 'integer', required: true, label: { vi: 'Tuổi', en: 'Age' }, min: 0, max: 120 },
        { code: 'AGE_NEXT', type: 'calculate', label: { vi: 'Tuổi năm sau', en: 'Age next year' }, calculation: '${AGE} + 1' },
        {
          code: 'YEARS', type: 'integer', label: { vi: 'Số năm sống ở đây', en: 'Years living here' },
          constraint: '. <= ${AGE}', constraint_message: { vi: 'Không thể lớn hơn tuổi', en: 'Cannot exceed the age' },
        },
      ],
    },
    {
      code: 'S', kind: 'screening', title: { vi: 'Thủ tục', en: 'Procedure' },
      items: [
        {
          code: 'PROC', type: 'single_choice', label: { vi: 'Thủ tục', en: 'Procedure' },
          choices_from: 'procedures', prefill: { from: 'procedure', editable: false },
        },
        {
          code: 'FIELD', type: 'single_choice', label: { vi: 'Lĩnh vực', en: 'Field' },
          options: [{ value: 'ht', label: { vi: 'Hộ tịch' } }, { value: 'dd', label: { vi: 'Đất đai' } }],
        },
        {
          code: 'SUB', type: 'single_choice', label: { vi: 'Việc cụ thể', en: 'Case' }, choice_filter: 'field = ${FIELD}',
          options: [
            { value: 'ks', label: { vi: 'Khai sinh' }, attrs: { field: 'ht' } },
            { value: 'kh', label: { vi: 'Kết hôn' }, attrs: { field: 'ht' } },
            { value: 'sd', label: { vi: 'Cấp sổ đỏ' }, attrs: { field: 'dd' } },
          ],
        },
      ],
    },
  ],
};
const ASSIGNMENT = {
  id: 'a-1', round_id: 'R1', round_name: 'Đợt thử', unit_code: '95001', unit_name: 'Phường Ba Đình',
  procedure: 'Đăng ký khai sinh', procedure_code: '1.001', agency_code: 'AG', agency_name: 'UBND phường Ba Đình',
  form: { form_id: FORM.form_id, version: FORM.version }, status: 'not_visited', contact: { respondent_name: 'Người Thử' },
};
const CATALOGUE = [
  { value: '1.001', label: { vi: 'Đăng ký khai sinh' }, attrs: { field: 'ht' } },
  { value: '1.002', label: { vi: 'Đăng ký kết hôn' }, attrs: { field: 'ht' } },
];

let b;
before(async () => {
  b = await launchBrowser({ viewport: { width: 400, height: 850 } });
  const ui = path.join(ROOT, 'ui');
  await b.page.route('http://app.test/**', (route) => {
    const file = path.join(ui, new URL(route.request().url()).pathname.replace(/^\/+/, '') || 'index.html');
    if (!file.startsWith(ui) || !fs.existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ path: file });
  });
  await b.page.addInitScript(({ form, assignment, catalogue }) => {
    const draft = {
      id: 'd-1', assignment_id: assignment.id, form: assignment.form, round_id: 'R1', unit_code: '95001', answers: {},
      started_at: '2026-12-02T01:00:00Z', origin: 'sample', practice: false,
    };
    window.__calls = [];
    window.__TAURI__ = {
      core: {
        invoke: async (cmd, args) => {
          window.__calls.push([cmd, JSON.parse(JSON.stringify(args || {}))]);
          switch (cmd) {
            case 'lock_status': return { unlocked: true };
            case 'list_forms': return [{ form_id: form.form_id, version: form.version, title_vi: form.title.vi }];
            case 'list_drafts': case 'free_rounds': return [];
            case 'list_assignments': return [assignment];
            case 'start_draft': return draft;
            case 'get_form': return form;
            case 'get_catalogue_options': return args.kind === 'procedures' ? catalogue : [];
            case 'set_current_group': return null;
            case 'review': return [];
            case 'save_answer':
              if (args.value === null) delete draft.answers[args.item_code]; else draft.answers[args.item_code] = args.value;
              return { saved: true, value: args.value };
            default: throw new Error(`not mocked: ${cmd}`);
          }
        },
      },
    };
  }, { form: FORM, assignment: ASSIGNMENT, catalogue: CATALOGUE });
});
after(async () => { await b?.close(); });

const saves = (page, code) => page.evaluate((c) => window.__calls.filter(([cmd, a]) => cmd === 'save_answer' && a.item_code === c).map(([, a]) => a.value), code);
const options = (page, code) => page.$$eval(`[data-item="${code}"] input`, (l) => l.map((i) => i.value));

test('calculate, constraint, choice_filter, choices_from and prefill in the form screen', async () => {
  const { page, problems } = b;
  await page.goto('http://app.test/index.html');
  await page.waitForSelector('body[data-ready="true"]');
  assert.ok(await page.evaluate(() => typeof window.SIPAS_EXPR?.formState === 'function'), 'ui/expr.js is loaded');
  await page.click('[data-assignment="a-1"] [data-action="start"]');
  await page.waitForSelector('#screen-form:not([hidden]) [data-step="P"]');
  assert.equal(await page.textContent('#form-respondent'), 'Người trả lời: Người Thử');

  // prefill: the assignment's procedure code, saved when the draft starts
  assert.deepEqual(await saves(page, 'PROC'), ['1.001']);
  assert.deepEqual(await page.evaluate(() => window.__calls.filter(([c]) => c === 'get_catalogue_options').map(([, a]) => a.kind)), ['procedures']);

  // calculate: never shown, its value saved with the answers
  assert.equal(await page.$('[data-item="AGE_NEXT"]'), null);
  await page.fill('#q-AGE', '40');
  await page.press('#q-AGE', 'Tab');
  await page.waitForFunction(() => document.getElementById('save-state').dataset.state === 'saved');
  await page.waitForFunction(() => window.__calls.some(([c, a]) => c === 'save_answer' && a.item_code === 'AGE_NEXT'));
  assert.deepEqual(await saves(page, 'AGE_NEXT'), [41]);

  // constraint: its message at the item, "Tiếp" stays, then passes once fixed
  await page.fill('#q-YEARS', '50');
  await page.press('#q-YEARS', 'Tab');
  await page.waitForFunction(() => document.querySelector('[data-issue-for="YEARS"]').textContent === 'Không thể lớn hơn tuổi');
  await page.click('#next');
  await page.waitForSelector('#step-blocked:not([hidden])');
  assert.equal(await page.getAttribute('#step-container [data-step]', 'data-step'), 'P');
  assert.equal(await page.inputValue('#q-YEARS'), '50');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q-YEARS');
  // Not a screening rule on a required item: no "not eligible" ending offered.
  assert.equal(await page.$('[data-item="YEARS"] [data-action="end-ineligible"]'), null);
  await page.fill('#q-YEARS', '12');
  await page.press('#q-YEARS', 'Tab');
  await page.waitForFunction(() => document.querySelector('[data-issue-for="YEARS"]').hidden);
  await page.click('#next');
  await page.waitForSelector('[data-step="S"]');

  // choices_from with prefill editable=false: catalogue options, the code chosen, read-only
  assert.deepEqual(await options(page, 'PROC'), ['1.001', '1.002']);
  assert.equal(await page.isChecked('#q-PROC-1\\.001'), true);
  assert.equal(await page.isDisabled('#q-PROC-1\\.002'), true);

  // choice_filter: options follow FIELD; a chosen option no longer offered is cleared
  assert.deepEqual(await options(page, 'SUB'), []);
  await page.click('label[for="q-FIELD-ht"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-item="SUB"] input').length === 2);
  assert.deepEqual(await options(page, 'SUB'), ['ks', 'kh']);
  await page.click('label[for="q-SUB-kh"]');
  await page.waitForFunction(() => window.__calls.some(([c, a]) => c === 'save_answer' && a.item_code === 'SUB'));
  await page.click('label[for="q-FIELD-dd"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-item="SUB"] input').length === 1);
  assert.deepEqual(await options(page, 'SUB'), ['sd']);
  await page.waitForFunction(() => window.__calls.filter(([c, a]) => c === 'save_answer' && a.item_code === 'SUB').length === 2);
  assert.deepEqual(await saves(page, 'SUB'), ['kh', null], 'the answer kh is cleared');
  assert.equal(await page.isChecked('#q-SUB-sd'), false);

  // the summary shows names, not codes
  await page.click('#to-review');
  await page.waitForSelector('#screen-review:not([hidden])');
  await page.click('[data-summary-group="S"] summary');
  assert.equal(await page.textContent('[data-summary-item="PROC"] dd span'), 'Đăng ký khai sinh');
  assert.equal(await page.textContent('[data-summary-item="FIELD"] dd span'), 'Đất đai');
  assert.deepEqual(problems, []);
});
