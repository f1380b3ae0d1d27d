// @ts-check
// The round's SIPAS index report: the publication threshold (min N) and aggregation rule, a
// bar chart and a table per unit (names from the catalogue), criteria details, CSV / XLSX.
import { api, enc, qs, session } from '../api.js';
import { getLang, has, t } from '../i18n.js';
import { download, empty, fill, fmtDateTime, fmtNum, h, loading, table } from '../widgets.js';
import { catalogueNames, getRound, roundHead } from './common.js';
import { modesPanel } from './self-links.js';

/** @typedef {import('../types.js').Report} Report */
/** @typedef {import('../types.js').ReportRow} ReportRow */

const AGGREGATIONS = ['mean_of_criteria', 'pooled'];
const ALL_UNITS = '*';

/** @param {ReportRow} row */
function rowLabel(row) {
  if (row.level === 'overall') return getLang() === 'en' ? 'Overall satisfaction index' : (row.label || 'Chỉ số hài lòng chung');
  return row.label_en && getLang() === 'en' ? row.label_en : (row.label || row.code);
}

/** @param {ReportRow[]} rows */
function chart(rows) {
  return h('ul', { class: 'chart', testid: 'report-chart' }, rows.map((row) => {
    const label = `${row.code === 'overall' ? '' : `${row.code}. `}${rowLabel(row)}`;
    const suppressed = row.suppressed || row.pct_satisfied === null;
    const bar = h('span', { class: 'fill' });
    if (!suppressed) bar.style.width = `${Math.max(0, Math.min(100, Number(row.pct_satisfied)))}%`;
    return h('li', {
      class: `${row.level}${suppressed ? ' suppressed' : ''}`, testid: 'bar', dataset: { code: row.code, suppressed: String(Boolean(row.suppressed)) },
      role: 'img', 'aria-label': suppressed ? t('report.bar_suppressed', label) : t('report.bar_label', label, fmtNum(row.pct_satisfied, 1)),
    },
    h('span', { class: 'bar-label', title: label }, label),
    h('span', { class: 'track' }, bar),
    h('span', { class: 'bar-value' }, suppressed ? t('common.dash') : `${fmtNum(row.pct_satisfied, 1)}%`));
  }));
}

/** @param {ReportRow[]} rows */
function reportTable(rows) {
  const cell = (/** @type {ReportRow} */ row, /** @type {number|null} */ v, /** @type {number} */ digits, /** @type {string} */ suffix, /** @type {string} */ testid) => h('td', { class: `num${row.suppressed ? ' suppressed' : ''}`, testid },
    row.suppressed || v === null || v === undefined ? t('common.dash') : `${fmtNum(v, digits)}${suffix}`);
  return table('report-table', [t('report.label'), { text: t('report.level'), class: 'hide-narrow' },
    { text: t('report.valid_n'), class: 'num' }, { text: t('report.pct'), class: 'num' }, { text: t('report.mean'), class: 'num' }],
  rows.map((row) => h('tr', { class: `level-${row.level}`, testid: 'report-row', dataset: { code: row.code, level: row.level, suppressed: String(Boolean(row.suppressed)) } },
    h('td', null, row.code !== 'overall' ? h('span', { class: 'q-code' }, row.code) : null, rowLabel(row)),
    h('td', { class: 'hide-narrow' }, has(`report.level.${row.level}`) ? t(`report.level.${row.level}`) : row.level),
    h('td', { class: 'num', testid: 'cell-n' }, fmtNum(row.valid_n)),
    cell(row, row.pct_satisfied, 1, '%', 'cell-pct'),
    cell(row, row.mean, 2, '', 'cell-mean'))), { class: 'report-table' });
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageReport(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const qMin = ctx.query.get('min_n');
  const qAgg = AGGREGATIONS.includes(ctx.query.get('aggregation') || '') ? /** @type {string} */ (ctx.query.get('aggregation')) : '';
  const minN = h('input', { id: 'report-min-n', testid: 'report-min-n', type: 'number', min: 0, step: 1, inputmode: 'numeric', value: qMin ?? '', placeholder: '10' });
  const agg = h('select', { id: 'report-aggregation', testid: 'report-aggregation' },
    AGGREGATIONS.map((a) => h('option', { value: a, selected: a === (qAgg || 'mean_of_criteria') }, t(`report.agg.${a}`))));
  const ctrlMsg = h('div', { 'aria-live': 'polite' });
  const controls = h('form', { class: 'panel', testid: 'report-controls', novalidate: true },
    h('div', { class: 'form-row' },
      h('div', { class: 'field' }, h('label', { for: 'report-min-n' }, t('report.min_n')), minN),
      h('div', { class: 'field' }, h('label', { for: 'report-aggregation' }, t('report.aggregation')), agg),
      h('div', { class: 'field' }, h('button', { type: 'submit', class: 'primary', testid: 'report-apply' }, t('report.apply')))),
    ctrlMsg);
  controls.addEventListener('submit', (/** @type {Event} */ ev) => {
    ev.preventDefault();
    ctrlMsg.replaceChildren();
    const v = minN.value.trim();
    if (v !== '' && !/^\d+$/.test(v)) {
      ctrlMsg.append(h('p', { class: 'error', role: 'alert' }, t('report.bad_min_n')));
      return;
    }
    location.hash = `#/rounds/${enc(roundId)}/report${qs({ min_n: v, aggregation: agg.value })}`;
  });
  const params = { min_n: qMin ?? '', aggregation: qAgg };
  const dlStatus = h('div', { testid: 'download-status', 'aria-live': 'polite' });
  const csvBtn = h('button', { type: 'button', testid: 'download-csv' }, t('report.download_csv'));
  const xlsxBtn = h('button', { type: 'button', testid: 'download-xlsx' }, t('report.download_xlsx'));
  csvBtn.addEventListener('click', () => download(`/rounds/${enc(roundId)}/report${qs({ ...params, format: 'csv' })}`, `sipas-report-${roundId}.csv`, dlStatus));
  xlsxBtn.addEventListener('click', () => download(`/rounds/${enc(roundId)}/report${qs({ ...params, format: 'xlsx' })}`, `sipas-report-${roundId}.xlsx`, dlStatus));
  const head = [...(session.can('rounds.read') ? roundHead(round, 'report', t('report.title')) : [h('h2', null, `${t('report.title')}: ${round.name}`)]),
    controls, h('div', { class: 'actions' }, csvBtn, xlsxBtn), dlStatus];
  ctx.view.append(...head, loading());

  const [report, names] = await Promise.all([
    /** @type {Promise<Report>} */ (api(`/rounds/${enc(roundId)}/report${qs({ ...params, format: 'json' })}`)),
    catalogueNames(round.starts_on),
  ]);
  if (!ctx.alive()) return;
  const stamp = report.stamp;
  if (qMin === null) minN.value = String(report.min_n);
  const stampBox = h('section', { class: 'panel', testid: 'report-stamp' },
    h('h3', null, t('report.stamp')),
    h('dl', { class: 'stamp' },
      [
        ['report.form', round.form_title ? `${round.form_title} (${stamp.form.version})` : `${stamp.form.form_id}@${stamp.form.version}`, 'stamp-form'],
        ['report.rule', has(`report.agg.${stamp.aggregation}`) ? t(`report.agg.${stamp.aggregation}`) : stamp.aggregation, 'stamp-aggregation'],
        ['report.data_as_of', fmtDateTime(stamp.data_as_of, true), 'stamp-data-as-of'],
        ['report.generated_at', fmtDateTime(stamp.generated_at, true), 'stamp-generated-at'],
        ['report.min_n_used', String(report.min_n), 'stamp-min-n'],
      ].map(([k, v, id]) => h('div', null, h('dt', null, t(k)), h('dd', { testid: id }, v)))),
    h('p', { class: 'muted small' }, t('report.suppressed_note', report.min_n)));
  /** @type {Map<string, ReportRow[]>} */
  const byUnit = new Map();
  for (const r of report.rows) {
    if (!byUnit.has(r.unit_code)) byUnit.set(r.unit_code, []);
    /** @type {ReportRow[]} */ (byUnit.get(r.unit_code)).push(r);
  }
  const order = [...byUnit.keys()].sort((a, b) => (a === ALL_UNITS ? -1 : b === ALL_UNITS ? 1 : a.localeCompare(b)));
  const sections = order.map((u) => {
    const urows = /** @type {ReportRow[]} */ (byUnit.get(u));
    const summary = urows.filter((r) => r.level !== 'criterion');
    const criteria = urows.filter((r) => r.level === 'criterion');
    const unitName = urows[0].unit_name || names.unit.get(u);
    return h('section', { class: 'panel unit-report', testid: 'report-unit', dataset: { unit: u } },
      h('h3', null, u === ALL_UNITS ? t('report.all_units') : (unitName ? `${unitName} (${u})` : t('report.unit', u))),
      chart(summary),
      reportTable(summary),
      criteria.length ? h('details', { class: 'criteria', testid: 'criteria-details' },
        h('summary', null, t('report.criteria', criteria.length)),
        reportTable(criteria)) : null);
  });
  fill(ctx.view, ...head, stampBox,
    modesPanel(report), // issue 15: one panel per response mode (h-self)
    ...(report.rows.length === 0 ? [empty(t('report.empty'), 'report-empty')] : sections));
}
