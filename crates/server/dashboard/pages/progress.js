// @ts-check
// A round's progress by agency, by unit or by surveyor, with names: sampled, visited,
// completed, refused, absent, moved, response rate, and completed against the target.
import { api, enc, qs } from '../api.js';
import { t } from '../i18n.js';
import { empty, fill, fmtNum, fmtPct, h, loading, named, table } from '../widgets.js';
import { getRound, roundHead } from './common.js';

/** @typedef {import('../types.js').ProgressReport} ProgressReport */
/** @typedef {import('../types.js').ProgressRow} ProgressRow */

const BY = ['agency', 'unit', 'surveyor'];

/** @param {ProgressRow} r */
function meter(r) {
  const goal = r.target || r.sampled;
  const pct = goal > 0 ? Math.min(100, Math.round((100 * r.completed) / goal)) : 0;
  const bar = h('div', { class: 'meter', role: 'img', 'aria-label': t('progress.done_pct', pct) }, h('span'));
  /** @type {HTMLElement} */ (bar.firstChild).style.width = `${pct}%`;
  return bar;
}

/** @param {ProgressRow} r @param {Record<string, any>} attrs */
function line(r, attrs) {
  const cell = (/** @type {string} */ k, /** @type {any} */ v) => h('td', { class: 'num', testid: k }, fmtNum(v));
  return h('tr', attrs,
    h('td', { testid: 'name' }, named(r.name, r.code)),
    cell('sampled', r.sampled), cell('visited', r.visited), cell('completed', r.completed),
    cell('refused', r.refused), cell('absent', r.absent), cell('moved', r.moved),
    h('td', { class: 'num', testid: 'response-rate' }, fmtPct(r.response_rate)),
    h('td', { class: 'num', testid: 'target' }, r.target === null || r.target === undefined ? t('common.dash') : fmtNum(r.target)),
    h('td', null, meter(r)));
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageProgress(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const by = BY.includes(ctx.query.get('by') || '') ? /** @type {string} */ (ctx.query.get('by')) : 'agency';
  const tabs = h('div', { class: 'tabs', role: 'tablist', testid: 'progress-by' }, BY.map((b) => h('a', {
    href: `#/rounds/${enc(roundId)}/progress${qs({ by: b })}`, role: 'tab', class: 'tab', testid: `progress-by-${b}`,
    'aria-selected': b === by ? 'true' : 'false', 'aria-current': b === by ? 'page' : null,
  }, t(`progress.by.${b}`))));
  const head = [...roundHead(round, 'progress', t('progress.heading')), tabs];
  ctx.view.append(...head, loading());
  /** @type {ProgressReport} */
  const report = await api(`/rounds/${enc(roundId)}/progress${qs({ by })}`);
  if (!ctx.alive()) return;
  const tot = report.total;
  const headers = [t(`progress.col.${by}`),
    { text: t('progress.sampled'), class: 'num' }, { text: t('progress.visited'), class: 'num' },
    { text: t('progress.completed'), class: 'num' }, { text: t('progress.refused'), class: 'num' },
    { text: t('progress.absent'), class: 'num' }, { text: t('progress.moved'), class: 'num' },
    { text: t('progress.rate'), class: 'num' }, { text: t('progress.target'), class: 'num' }, t('progress.meter')];
  const rows = report.rows.map((r) => line(r, { testid: 'progress-row', dataset: { key: r.key, code: r.code || '' } }));
  if (tot) rows.push(line({ ...tot, name: t('common.total'), code: null }, { class: 'total', testid: 'progress-total' }));
  fill(ctx.view, ...head,
    tot ? h('p', { class: 'info', testid: 'progress-summary' }, t('progress.summary', fmtNum(tot.completed), fmtNum(tot.sampled), fmtPct(tot.response_rate))) : null,
    report.rows.length === 0 ? empty(t('common.none'), 'progress-empty') : table(`progress-${by}`, headers, rows, { class: 'progress-table' }));
}
