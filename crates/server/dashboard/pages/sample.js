// @ts-check
// A round's sample frame: download the template (with the round's code lists), check a CSV or
// XLSX file (preview: the first rows by name and every bad row), import it, import again after
// fixing the rows the server named.
import { api, enc, rowErrors, tableType } from '../api.js';
import { getLang, t } from '../i18n.js';
import { download, empty, errorBox, fill, h, named, table } from '../widgets.js';
import { getRound, roundHead } from './common.js';

/** @typedef {import('../types.js').RowError} RowError */
/** @typedef {import('../types.js').ImportPreview} ImportPreview */

/** The list of bad rows of an import, by row number. @param {RowError[]} errors @param {string} testid */
export function rowErrorTable(errors, testid = 'row-errors') {
  return table(testid, [{ text: t('import.row'), class: 'num' }, t('import.column'), t('import.problem')],
    errors.map((e) => h('tr', { testid: 'row-error', dataset: { row: String(e.row), column: e.column || '' } },
      h('td', { class: 'num' }, String(e.row)),
      h('td', null, e.column || t('common.dash')),
      h('td', null, getLang() === 'en' ? (e.message_en || e.message_vi) : (e.message_vi || e.message_en)))));
}

/**
 * A file import box with a check step (`?preview=true`) and the import itself.
 * @param {object} o
 * @param {string} o.testid
 * @param {string} o.path          POST path (without query)
 * @param {(p: ImportPreview) => (HTMLElement|null)} [o.showPreview]
 * @param {(result: any) => string} o.doneText
 * @param {() => void} [o.onDone]
 */
export function importBox(o) {
  const input = h('input', { type: 'file', testid: `${o.testid}-file`, accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
  const result = h('div', { testid: `${o.testid}-result`, 'aria-live': 'polite' });
  const check = h('button', { type: 'button', testid: `${o.testid}-check` }, t('import.check'));
  const commit = h('button', { type: 'button', class: 'primary', testid: `${o.testid}-import` }, t('import.import'));
  const file = () => /** @type {HTMLInputElement} */ (input).files?.[0] || null;
  /** @param {boolean} preview */
  const send = async (preview) => {
    const f = file();
    if (!f) { fill(result, h('p', { class: 'error', role: 'alert' }, t('import.choose'))); return; }
    check.disabled = true; commit.disabled = true;
    fill(result, h('p', { class: 'muted' }, preview ? t('import.checking') : t('import.importing')));
    try {
      const bytes = await f.arrayBuffer();
      const res = await api(`${o.path}${preview ? '?preview=true' : ''}`, { method: 'POST', bytes, type: tableType(f) });
      if (preview) {
        /** @type {ImportPreview} */
        const p = res;
        const errs = p.errors || [];
        fill(result,
          errs.length
            ? h('p', { class: 'error', role: 'alert', testid: `${o.testid}-has-errors` }, t('import.bad_rows', errs.length, p.rows))
            : h('p', { class: 'notice', testid: `${o.testid}-ok` }, t('import.all_good', p.rows)),
          errs.length ? rowErrorTable(errs, `${o.testid}-errors`) : null,
          o.showPreview ? o.showPreview(p) : null);
      } else {
        fill(result, h('p', { class: 'notice', testid: `${o.testid}-done` }, o.doneText(res)));
        /** @type {HTMLInputElement} */ (input).value = '';
        o.onDone?.();
      }
    } catch (e) {
      if (/** @type {any} */ (e).handled) return;
      const errs = rowErrors(e);
      fill(result, errorBox(e, `${o.testid}-error`), errs.length ? rowErrorTable(errs, `${o.testid}-errors`) : null,
        errs.length ? h('p', { class: 'muted small' }, t('import.fix_and_retry')) : null);
    } finally {
      check.disabled = false; commit.disabled = false;
    }
  };
  check.addEventListener('click', () => send(true));
  commit.addEventListener('click', () => send(false));
  input.addEventListener('change', () => result.replaceChildren());
  return h('div', { class: 'import-box', testid: o.testid },
    h('label', { class: 'file' }, h('span', { class: 'label' }, t('import.file')), input),
    h('div', { class: 'actions' }, check, commit), result);
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageSample(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const dl = h('div', { 'aria-live': 'polite', testid: 'download-status' });
  const template = h('button', {
    type: 'button', testid: 'sample-template',
    onclick: () => download(`/rounds/${enc(roundId)}/sample-template.xlsx`, `mau-${roundId}.xlsx`, dl),
  }, t('sample.template'));
  /** @param {ImportPreview} p */
  const showPreview = (p) => (p.preview && p.preview.length
    ? h('section', null, h('h4', null, t('sample.preview', p.preview.length)),
      table('sample-preview', [{ text: t('import.row'), class: 'num' }, t('sample.unit'), t('sample.agency'), t('sample.field'), t('sample.procedure')],
        p.preview.map((r) => h('tr', { testid: 'preview-row', dataset: { row: String(r.row) } },
          h('td', { class: 'num' }, String(r.row)),
          h('td', null, named(r.unit_name, r.unit_code)),
          h('td', null, r.agency_name || t('common.dash')),
          h('td', null, r.field_name || t('common.dash')),
          h('td', null, r.procedure || t('common.dash'))))))
    : empty(t('sample.no_preview')));
  fill(ctx.view, ...roundHead(round, 'sample', t('sample.heading')),
    h('section', { class: 'panel' }, h('h3', null, t('sample.step1')), h('p', { class: 'muted small' }, t('sample.template_hint')),
      h('div', { class: 'actions' }, template), dl),
    h('section', { class: 'panel' }, h('h3', null, t('sample.step2')), h('p', { class: 'muted small' }, t('sample.upload_hint')),
      importBox({
        testid: 'sample', path: `/rounds/${enc(roundId)}/sample`, showPreview,
        doneText: (r) => t('sample.imported', r.imported),
      })),
    h('p', null, h('a', { href: `#/rounds/${enc(roundId)}/assignments`, testid: 'sample-to-assign' }, t('sample.next'))));
}
