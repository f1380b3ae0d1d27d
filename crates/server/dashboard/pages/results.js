// @ts-check
// "Kết quả" (issue 11): the round's published results from GET /rounds/{id}/results — ranked
// bar chart, results table with targets and the change from an earlier round, a criterion heat
// table (rows criteria, columns agencies / units …), the trend across rounds, target editing,
// downloads (workbook, CSV, microdata) and a printable A4 scorecard per agency / unit.
// Every number shown is the server's (the index engine's); this page only formats and sorts.
import { api, enc, errorText, qs, session } from '../api.js';
import { getLang, t } from '../i18n.js';
import { download, empty, fill, fmtDate, fmtNum, h, loading, table, toast } from '../widgets.js';
import { getRound, getRounds, roundHead } from './common.js';

/**
 * @typedef {object} Interval
 * @property {number} lower
 * @property {number} upper
 */
/**
 * @typedef {object} Figure
 * @property {'overall'|'group'|'criterion'} level
 * @property {string} code
 * @property {number} n
 * @property {number|null} pct_satisfied
 * @property {number|null} mean
 * @property {Interval|null} interval
 * @property {boolean} suppressed
 */
/**
 * @typedef {object} Target
 * @property {'overall'|'group'|'field'|'agency_kind'} scope
 * @property {string} [code]
 * @property {'gt'|'ge'} comparator
 * @property {number} threshold_pct
 */
/**
 * @typedef {object} TargetResult
 * @property {string} key
 * @property {Target} target
 * @property {number|null} pct_satisfied
 * @property {'met'|'not_met'|'not_enough_data'} status
 */
/**
 * @typedef {object} Cell
 * @property {string} key
 * @property {string} name
 * @property {string} [kind]
 * @property {string} [kind_name]
 * @property {number} respondents
 * @property {Figure[]} figures
 * @property {number|null} rank
 * @property {number} [rank_in_kind]
 * @property {'ranked'|'not_enough_responses'} rank_status
 * @property {TargetResult[]} targets
 */
/**
 * @typedef {object} RowComparison
 * @property {string} level
 * @property {string} code
 * @property {string|null} earlier_code
 * @property {Figure|null} earlier
 * @property {Figure} later
 * @property {number|null} delta_pp
 * @property {boolean} dropped
 * @property {number|null} earlier_rank
 * @property {number|null} later_rank
 * @property {number|null} rank_change
 * @property {boolean|null} significant
 */
/**
 * @typedef {{key: string, label: string|null, pct_satisfied: number|null, n: number, rank: number|null, status: string}} RankEntry
 */
/**
 * @typedef {object} Results
 * @property {{id: string, name: string, starts_on: string, form: string}} round
 * @property {string} by
 * @property {any} method
 * @property {{level: string, code: string, label: string}[]} rows
 * @property {Cell} total
 * @property {Cell[]} cells
 * @property {RankEntry[]} ranking
 * @property {{code: string, label: {vi: string, en?: string}, entries: RankEntry[]}[]} group_rankings
 * @property {{by: string, code: string, label: {vi: string, en?: string}, age_bands: boolean}[]} profile_options
 * @property {{targets: Target[]}} targets
 * @property {boolean} targets_stored
 * @property {{earlier: {id: string, name: string, form: string}, chosen: string, cells: {key: string, rows: RowComparison[]}[]}|null} comparison
 * @property {{round: {id: string, name: string, starts_on: string}, overall: Figure|null}[]} [trend]
 */

const BY = ['agency', 'agency_kind', 'field', 'unit:commune', 'unit:district', 'unit:province'];
const SVG = 'http://www.w3.org/2000/svg';

/** The query of the results call from the page's hash query. @param {URLSearchParams} q */
function params(q) {
  const by = q.get('by') || 'agency';
  const [b, level] = by.split(':');
  return {
    by: b === 'unit' ? 'unit' : by,
    level: b === 'unit' ? (level || 'commune') : '',
    min_n: q.get('min_n') || '',
    compare_to: q.get('compare_to') || '',
  };
}

/** @param {Cell} c */
const overall = (c) => c.figures.find((f) => f.level === 'overall') || null;

/** % as published (2 decimals, shown with 1). @param {Figure|null|undefined} f */
function pctText(f) {
  if (!f || f.suppressed || f.pct_satisfied === null) return t('common.dash');
  return `${fmtNum(f.pct_satisfied, 1)}%`;
}

/** @param {Figure|null|undefined} f */
function ciText(f) {
  if (!f || f.suppressed || !f.interval) return '';
  return t('results.ci', fmtNum(f.interval.lower, 1), fmtNum(f.interval.upper, 1));
}

/** @param {TargetResult|undefined} tr */
function targetBadge(tr) {
  if (!tr) return t('common.dash');
  const outcome = tr.status;
  return h('span', { class: `badge target-${outcome}`, testid: 'target-status', dataset: { status: outcome } },
    t(`results.target.${outcome}`));
}

/** @param {Target} tg */
function targetText(tg) {
  const what = tg.scope === 'overall' ? t('results.scope.overall') : `${t(`results.scope.${tg.scope}`)} ${tg.code || ''}`;
  return `${what} ${tg.comparator === 'gt' ? '>' : '≥'} ${fmtNum(tg.threshold_pct, 0)}%`;
}

/** @param {RowComparison|undefined} rc */
function deltaView(rc) {
  if (!rc || rc.delta_pp === null) return h('span', { class: 'muted' }, t('common.dash'));
  const sign = rc.delta_pp > 0 ? '+' : '';
  return h('span', {
    class: `delta${rc.dropped ? ' dropped' : rc.delta_pp > 0 ? ' up' : ''}`, testid: 'delta',
    dataset: { dropped: String(rc.dropped), significant: String(Boolean(rc.significant)) },
  }, `${rc.dropped ? '▼ ' : rc.delta_pp > 0 ? '▲ ' : ''}${sign}${fmtNum(rc.delta_pp, 1)}`,
  rc.significant ? h('abbr', { class: 'sig', title: t('results.significant') }, ' *') : null);
}

/** The comparison of a cell's row. @param {Results} r @param {string} key @param {string} level @param {string} [code] */
function cmpRow(r, key, level, code) {
  if (!r.comparison) return undefined;
  const cell = r.comparison.cells.find((c) => c.key === key);
  return cell ? cell.rows.find((x) => x.level === level && (level === 'overall' || x.code === code)) : undefined;
}

/** A group's title in the page's language. @param {{label: {vi: string, en?: string}}} g */
const groupName = (g) => (getLang() === 'en' && g.label.en ? g.label.en : g.label.vi);

/** Ranked bar chart (plain HTML/CSS): ranked cells first, then "chưa đủ mẫu"; on the overall
 * row or, chosen in the chart's select, on one criteria group row. @param {Results} r */
function rankChart(r) {
  const groups = r.group_rankings || [];
  const rowSel = h('select', { id: 'rank-row', testid: 'rank-row' },
    h('option', { value: '' }, t('results.rank_row.overall')),
    groups.map((g) => h('option', { value: g.code }, groupName(g))));
  const list = h('div', null);
  const heading = h('h3', null, t('results.ranking'));
  const draw = () => {
    const g = groups.find((x) => x.code === rowSel.value);
    const entries = g ? g.entries : r.ranking;
    heading.textContent = g ? t('results.ranking_group', groupName(g)) : t('results.ranking');
    const target = g
      ? r.targets.targets.find((x) => x.scope === 'group' && x.code === g.code)
      : r.targets.targets.find((x) => x.scope === 'overall');
    const items = entries.map((e) => {
      const ranked = e.rank !== null && e.pct_satisfied !== null;
      const bar = h('span', { class: 'fill' });
      if (ranked) bar.style.width = `${Math.max(0, Math.min(100, Number(e.pct_satisfied)))}%`;
      const marker = target ? h('span', { class: 'target-line', title: targetText(target) }) : null;
      if (marker && target) marker.style.left = `${target.threshold_pct}%`;
      const name = e.label || e.key;
      return h('li', {
        class: ranked ? '' : 'suppressed', testid: 'rank-bar', dataset: { key: e.key, rank: e.rank === null ? '' : String(e.rank) },
        role: 'img', 'aria-label': ranked ? t('results.bar_label', e.rank, name, fmtNum(e.pct_satisfied, 1)) : t('results.bar_unranked', name),
      },
      h('span', { class: 'rank-no' }, ranked ? String(e.rank) : '–'),
      h('span', { class: 'bar-label', title: name }, name),
      h('span', { class: 'track' }, bar, marker),
      h('span', { class: 'bar-value' }, ranked ? `${fmtNum(e.pct_satisfied, 1)}%` : t('results.not_enough')));
    });
    fill(list,
      target ? h('p', { class: 'muted small' }, t('results.target_line', targetText(target))) : null,
      entries.length ? h('ul', { class: 'chart ranked', testid: 'rank-chart' }, items) : empty(t('results.empty'), 'rank-empty'));
  };
  rowSel.addEventListener('change', draw);
  draw();
  return h('section', { class: 'panel' },
    heading,
    groups.length ? h('div', { class: 'field inline' }, h('label', { for: 'rank-row' }, t('results.rank_row')), rowSel) : null,
    list);
}

/** @param {Results} r @param {string} roundId @param {URLSearchParams} query */
function resultsTable(r, roundId, query) {
  const cells = [r.total, ...r.cells];
  const rows = cells.map((c) => {
    const o = overall(c);
    const tgt = c.targets[0];
    const isTotal = c.key === '*';
    const card = `#/rounds/${enc(roundId)}/scorecard${qs({ by: query.get('by') || '', key: c.key, min_n: query.get('min_n') || '', compare_to: query.get('compare_to') || '' })}`;
    return h('tr', { testid: 'result-row', class: isTotal ? 'total level-overall' : '', dataset: { key: c.key } },
      h('td', null, h('span', { class: 'name' }, c.name), !isTotal && c.key !== c.name ? h('span', { class: 'code' }, ` ${c.key}`) : null,
        c.kind_name ? h('div', { class: 'muted small' }, c.kind_name) : null),
      h('td', { class: 'num' }, fmtNum(c.respondents)),
      h('td', { class: 'num', testid: 'cell-n' }, o ? fmtNum(o.n) : t('common.dash')),
      h('td', { class: 'num', testid: 'cell-pct' }, pctText(o), h('div', { class: 'muted small' }, ciText(o))),
      h('td', { class: 'num', testid: 'cell-rank' }, isTotal ? '' : (c.rank === null ? t('results.not_enough') : String(c.rank))),
      h('td', null, targetBadge(tgt)),
      h('td', { class: 'num' }, deltaView(cmpRow(r, c.key, 'overall'))),
      h('td', null, h('a', { href: card, testid: 'scorecard-link' }, t('results.scorecard'))));
  });
  return table('results-table', [t('results.col.name'), { text: t('results.col.respondents'), class: 'num' },
    { text: 'N', class: 'num' }, { text: t('report.pct'), class: 'num' }, { text: t('results.col.rank'), class: 'num' },
    t('results.col.target'), { text: t('results.col.change'), class: 'num' }, ''], rows, { class: 'results-table' });
}

/** Heat table: rows criteria (and groups), columns cells. @param {Results} r */
function heatTable(r) {
  const cols = r.cells.filter((c) => c.key !== '_missing');
  if (!cols.length) return null;
  const bucket = (/** @type {Figure|undefined} */ f) => {
    if (!f || f.suppressed || f.pct_satisfied === null) return 'heat-na';
    const p = f.pct_satisfied;
    return p >= 90 ? 'heat-4' : p >= 80 ? 'heat-3' : p >= 70 ? 'heat-2' : p >= 50 ? 'heat-1' : 'heat-0';
  };
  const body = r.rows.map((row) => h('tr', { class: `level-${row.level}`, testid: 'heat-row', dataset: { code: row.code } },
    h('th', { scope: 'row' }, row.level !== 'overall' ? h('span', { class: 'q-code' }, row.code) : null, row.label),
    cols.map((c) => {
      const f = c.figures.find((x) => x.level === row.level && (row.level === 'overall' || x.code === row.code));
      return h('td', { class: `num heat ${bucket(f)}`, dataset: { key: c.key } }, pctText(f));
    })));
  return h('section', { class: 'panel' },
    h('h3', null, t('results.heat')),
    h('p', { class: 'muted small' }, t('results.heat_note')),
    h('div', { class: 'table-wrap heat-wrap' },
      h('table', { class: 'heat-table', testid: 'heat-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('results.col.criterion')), cols.map((c) => h('th', { scope: 'col' }, c.name)))),
        h('tbody', null, body))));
}

/** Comparison of the total, row by row. @param {Results} r */
function comparisonPanel(r) {
  if (!r.comparison) return h('section', { class: 'panel', testid: 'comparison' }, h('h3', null, t('results.comparison')), empty(t('results.no_earlier'), 'no-earlier'));
  const tot = r.comparison.cells.find((c) => c.key === '*');
  const label = (/** @type {RowComparison} */ rc) => (r.rows.find((x) => x.level === rc.level && (rc.level === 'overall' || x.code === rc.code)) || { label: rc.code }).label;
  const rows = (tot ? tot.rows : []).filter((rc) => rc.level !== 'criterion' || rc.dropped).map((rc) => h('tr', { class: `level-${rc.level}`, testid: 'cmp-row', dataset: { code: rc.code, level: rc.level } },
    h('td', null, rc.level !== 'overall' ? h('span', { class: 'q-code' }, rc.code) : null, label(rc),
      rc.earlier_code && rc.earlier_code !== rc.code ? h('div', { class: 'muted small' }, t('results.was', rc.earlier_code)) : null),
    h('td', { class: 'num' }, pctText(rc.earlier)),
    h('td', { class: 'num' }, pctText(rc.later)),
    h('td', { class: 'num' }, deltaView(rc))));
  return h('section', { class: 'panel', testid: 'comparison' },
    h('h3', null, t('results.comparison_with', r.comparison.earlier.name)),
    h('p', { class: 'muted small' }, t('results.comparison_note')),
    table('cmp-table', [t('results.col.criterion'), { text: t('results.col.earlier'), class: 'num' },
      { text: t('results.col.later'), class: 'num' }, { text: t('results.col.change'), class: 'num' }], rows));
}

/** Trend of the overall index across rounds (SVG polyline). @param {Results} r */
function trendPanel(r) {
  const pts = (r.trend || []).filter((p) => p.overall && !p.overall.suppressed && p.overall.pct_satisfied !== null);
  if (pts.length < 2) return null;
  const W = 640; const H = 180; const pad = 30; const padX = 80;
  const x = (/** @type {number} */ i) => padX + (i * (W - 2 * padX)) / (pts.length - 1);
  const y = (/** @type {number} */ p) => H - pad - (p / 100) * (H - 2 * pad);
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'trend');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('results.trend'));
  const line = document.createElementNS(SVG, 'polyline');
  line.setAttribute('points', pts.map((p, i) => `${x(i)},${y(Number(p.overall?.pct_satisfied))}`).join(' '));
  line.setAttribute('class', 'trend-line');
  svg.append(line);
  pts.forEach((p, i) => {
    const c = document.createElementNS(SVG, 'circle');
    c.setAttribute('cx', String(x(i)));
    c.setAttribute('cy', String(y(Number(p.overall?.pct_satisfied))));
    c.setAttribute('r', '4');
    c.setAttribute('class', 'trend-dot');
    const txt = document.createElementNS(SVG, 'text');
    txt.setAttribute('x', String(x(i)));
    txt.setAttribute('y', String(y(Number(p.overall?.pct_satisfied)) - 8));
    txt.setAttribute('text-anchor', 'middle');
    txt.textContent = `${fmtNum(p.overall?.pct_satisfied, 1)}%`;
    const lab = document.createElementNS(SVG, 'text');
    lab.setAttribute('x', String(x(i)));
    lab.setAttribute('y', String(H - 8));
    lab.setAttribute('text-anchor', 'middle');
    lab.textContent = p.round.name;
    svg.append(c, txt, lab);
  });
  return h('section', { class: 'panel', testid: 'trend' }, h('h3', null, t('results.trend')), svg);
}

/** Target editor (rounds.manage). @param {Results} r @param {string} roundId @param {() => void} reload */
function targetEditor(r, roundId, reload) {
  /** @type {Target[]} */
  const list = r.targets.targets.map((x) => ({ ...x }));
  const body = h('tbody');
  const msg = h('div', { 'aria-live': 'polite' });
  const draw = () => {
    fill(body, list.map((tg, i) => {
      const scope = h('select', { testid: 'target-scope', 'aria-label': t('results.target.scope') },
        ['overall', 'group', 'field', 'agency_kind'].map((s) => h('option', { value: s, selected: tg.scope === s }, t(`results.scope.${s}`))));
      scope.addEventListener('change', () => { tg.scope = /** @type {any} */ (scope.value); if (tg.scope === 'overall') delete tg.code; draw(); });
      const code = h('input', { testid: 'target-code', value: tg.code || '', disabled: tg.scope === 'overall', 'aria-label': t('results.target.code'), size: 10 });
      code.addEventListener('input', () => { tg.code = code.value.trim(); });
      const cmp = h('select', { testid: 'target-comparator', 'aria-label': t('results.target.comparator') },
        ['gt', 'ge'].map((c) => h('option', { value: c, selected: tg.comparator === c }, t(`results.cmp.${c}`))));
      cmp.addEventListener('change', () => { tg.comparator = /** @type {any} */ (cmp.value); });
      const thr = h('input', { testid: 'target-threshold', type: 'number', min: 0, max: 100, step: 'any', value: String(tg.threshold_pct), 'aria-label': t('results.target.threshold'), size: 5 });
      thr.addEventListener('input', () => { tg.threshold_pct = Number(thr.value); });
      const del = h('button', { type: 'button', testid: 'target-remove' }, t('results.target.remove'));
      del.addEventListener('click', () => { list.splice(i, 1); draw(); });
      return h('tr', { testid: 'target-row' }, h('td', { 'data-label': t('results.target.scope') }, scope), h('td', { 'data-label': t('results.target.code') }, code),
        h('td', { 'data-label': t('results.target.comparator') }, cmp), h('td', { 'data-label': t('results.target.threshold') }, thr), h('td', null, del));
    }));
  };
  draw();
  const add = h('button', { type: 'button', testid: 'target-add' }, t('results.target.add'));
  add.addEventListener('click', () => { list.push({ scope: 'group', code: '', comparator: 'ge', threshold_pct: 85 }); draw(); });
  const save = h('button', { type: 'button', class: 'primary', testid: 'target-save' }, t('results.target.save'));
  save.addEventListener('click', async () => {
    msg.replaceChildren();
    if (list.some((x) => !Number.isFinite(x.threshold_pct) || x.threshold_pct < 0 || x.threshold_pct > 100)) {
      msg.append(h('p', { class: 'error', role: 'alert', testid: 'target-error' }, t('results.target.bad')));
      return;
    }
    try {
      await api(`/rounds/${enc(roundId)}/targets`, { method: 'PUT', body: { targets: list } });
      toast('notice', t('results.target.saved'), true);
      reload();
    } catch (e) {
      if (/** @type {any} */ (e).handled) return;
      msg.append(h('p', { class: 'error', role: 'alert', testid: 'target-error' }, errorText(e)));
    }
  });
  return h('details', { class: 'panel', testid: 'target-editor' },
    h('summary', null, t('results.target.edit'), r.targets_stored ? '' : ` (${t('results.target.default')})`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'responsive targets' },
      h('thead', null, h('tr', null, [t('results.target.scope'), t('results.target.code'), t('results.target.comparator'), t('results.target.threshold'), ''].map((x) => h('th', { scope: 'col' }, x)))),
      body)),
    h('div', { class: 'actions' }, add, save), msg);
}

/** @param {Results} r */
function methodPanel(r) {
  const m = r.method;
  return h('details', { class: 'panel', testid: 'method-note' },
    h('summary', null, t('results.method')),
    h('dl', { class: 'stamp' },
      [
        [t('report.form'), `${m.form_title} (${m.form})`],
        [t('report.rule'), m.aggregation_vi],
        [t('report.min_n_used'), String(m.min_n)],
        [t('report.data_as_of'), m.data_as_of_vi],
        [t('results.method.interval'), getLang() === 'en' ? m.interval_en : m.interval_vi],
        [t('results.method.suppression'), getLang() === 'en' ? m.suppression_en : m.suppression_vi],
        [t('results.method.ranking'), m.ranking_vi],
        [t('results.method.targets'), r.targets.targets.map(targetText).join('; ')],
      ].map(([k, v]) => h('div', null, h('dt', null, k), h('dd', null, v)))));
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageResults(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const p = params(ctx.query);
  const all = await getRounds().catch(() => []);
  if (!ctx.alive()) return;
  const bySel = h('select', { id: 'results-by', testid: 'results-by' },
    BY.map((b) => h('option', { value: b, selected: (ctx.query.get('by') || 'agency') === b }, t(`results.by.${b.replace(':', '.')}`))));
  const minN = h('input', { id: 'results-min-n', testid: 'results-min-n', type: 'number', min: 0, step: 1, inputmode: 'numeric', value: p.min_n, placeholder: '10' });
  const cmpSel = h('select', { id: 'results-compare', testid: 'results-compare' },
    h('option', { value: '', selected: !p.compare_to }, t('results.compare.auto')),
    h('option', { value: 'none', selected: p.compare_to === 'none' }, t('results.compare.none')),
    all.filter((x) => x.id !== roundId).map((x) => h('option', { value: x.id, selected: p.compare_to === x.id }, `${x.name} (${fmtDate(x.starts_on)})`)));
  const controls = h('form', { class: 'panel', testid: 'results-controls', novalidate: true },
    h('div', { class: 'form-row' },
      h('div', { class: 'field' }, h('label', { for: 'results-by' }, t('results.by')), bySel),
      h('div', { class: 'field' }, h('label', { for: 'results-min-n' }, t('report.min_n')), minN),
      h('div', { class: 'field' }, h('label', { for: 'results-compare' }, t('results.compare')), cmpSel),
      h('div', { class: 'field' }, h('button', { type: 'submit', class: 'primary', testid: 'results-apply' }, t('report.apply')))));
  controls.addEventListener('submit', (/** @type {Event} */ ev) => {
    ev.preventDefault();
    location.hash = `#/rounds/${enc(roundId)}/results${qs({ by: bySel.value, min_n: minN.value.trim(), compare_to: cmpSel.value })}`;
  });
  const dlStatus = h('div', { testid: 'download-status', 'aria-live': 'polite' });
  const base = { by: p.by, level: p.level, min_n: p.min_n, compare_to: p.compare_to };
  const blank = h('input', { type: 'checkbox', id: 'microdata-blank', testid: 'microdata-blank' });
  const md = (/** @type {string} */ format) => () => `/rounds/${enc(roundId)}/microdata${qs({ format, blank_small_units: blank.checked, min_n: blank.checked ? p.min_n : '' })}`;
  const btn = (/** @type {string} */ id, /** @type {string} */ label, /** @type {string|(() => string)} */ path, /** @type {string} */ name) => {
    const b = h('button', { type: 'button', testid: id }, label);
    b.addEventListener('click', () => download(typeof path === 'function' ? path() : path, name, dlStatus));
    return b;
  };
  const downloads = h('div', { class: 'actions' },
    btn('download-workbook', t('results.download_xlsx'), `/rounds/${enc(roundId)}/results${qs({ ...base, format: 'xlsx' })}`, `sipas-ket-qua-${roundId}.xlsx`),
    btn('download-results-csv', t('report.download_csv'), `/rounds/${enc(roundId)}/results${qs({ ...base, format: 'csv' })}`, `sipas-ket-qua-${roundId}.csv`),
    session.can('microdata.read') ? [
      btn('download-microdata-csv', t('results.microdata_csv'), md('csv'), `sipas-microdata-${roundId}.csv`),
      btn('download-microdata-xlsx', t('results.microdata_xlsx'), md('xlsx'), `sipas-microdata-${roundId}.xlsx`),
      btn('download-microdata-sps', t('results.microdata_sps'), md('sps'), `sipas-microdata-${roundId}.sps`),
      h('label', { class: 'check small', for: 'microdata-blank' }, blank, ` ${t('results.microdata_blank')}`),
    ] : null);
  const head = [...roundHead(round, 'results', t('results.title')), controls, downloads, dlStatus];
  ctx.view.append(...head, loading());
  /** @type {Results} */
  const r = await api(`/rounds/${enc(roundId)}/results${qs({ ...base, trend: true })}`);
  if (!ctx.alive()) return;
  if (!p.min_n) minN.value = String(r.method.min_n);
  // the respondent-profile breakdowns of the round's form (sex, age band, education, mode of contact …)
  const chosenBy = ctx.query.get('by') || 'agency';
  for (const o of r.profile_options || []) {
    const label = getLang() === 'en' && o.label.en ? o.label.en : o.label.vi;
    bySel.append(h('option', { value: o.by, selected: chosenBy === o.by },
      t(o.age_bands ? 'results.by.profile_age' : 'results.by.profile', label)));
  }
  fill(ctx.view, ...head,
    h('p', { class: 'muted small', testid: 'results-summary' }, t('results.summary', fmtNum(r.total.respondents), r.method.data_as_of_vi, r.method.min_n)),
    rankChart(r),
    h('section', { class: 'panel' }, h('h3', null, t('results.table')), resultsTable(r, roundId, ctx.query)),
    comparisonPanel(r),
    heatTable(r),
    trendPanel(r),
    session.can('rounds.manage') ? targetEditor(r, roundId, ctx.reload) : null,
    methodPanel(r));
}

/** The printable one-page A4 scorecard of one cell. @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageScorecard(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const p = params(ctx.query);
  const key = ctx.query.get('key') || '*';
  ctx.view.append(loading());
  /** @type {Results} */
  const r = await api(`/rounds/${enc(roundId)}/results${qs({ by: p.by, level: p.level, min_n: p.min_n, compare_to: p.compare_to })}`);
  if (!ctx.alive()) return;
  const c = key === '*' ? r.total : r.cells.find((x) => x.key === key);
  if (!c) {
    fill(ctx.view, h('p', { class: 'error', testid: 'not-found' }, t('common.not_found')));
    return;
  }
  const o = overall(c);
  const ranked = r.ranking.filter((e) => e.rank !== null).length;
  const groups = c.figures.filter((f) => f.level === 'group');
  const crit = c.figures.filter((f) => f.level === 'criterion' && !f.suppressed && f.pct_satisfied !== null)
    .sort((a, b) => Number(a.pct_satisfied) - Number(b.pct_satisfied)).slice(0, 3);
  const label = (/** @type {string} */ level, /** @type {string} */ code) => (r.rows.find((x) => x.level === level && x.code === code) || { label: code }).label;
  const printBtn = h('button', { type: 'button', class: 'primary', testid: 'print' }, t('results.print'));
  printBtn.addEventListener('click', () => window.print());
  const back = h('a', { href: `#/rounds/${enc(roundId)}/results${qs({ by: ctx.query.get('by') || '', min_n: p.min_n, compare_to: p.compare_to })}` }, t('results.back'));
  fill(ctx.view,
    h('div', { class: 'actions no-print' }, back, printBtn),
    h('article', { class: 'scorecard', testid: 'scorecard', dataset: { key } },
      h('header', null,
        h('p', { class: 'sc-round' }, `${t('results.scorecard_title')} · ${round.name} (${fmtDate(round.starts_on)} – ${fmtDate(round.ends_on)})`),
        h('h2', { testid: 'scorecard-name' }, c.name),
        h('p', { class: 'muted' }, [c.kind_name, key !== '*' && key !== c.name ? key : null].filter(Boolean).join(' · '))),
      h('div', { class: 'sc-kpis' },
        h('div', { class: 'sc-kpi' }, h('div', { class: 'sc-big', testid: 'scorecard-pct' }, pctText(o)), h('div', null, t('results.overall')), h('div', { class: 'muted small' }, ciText(o))),
        h('div', { class: 'sc-kpi' }, h('div', { class: 'sc-big', testid: 'scorecard-rank' }, c.rank === null ? (key === '*' ? t('common.dash') : t('results.not_enough')) : `${c.rank}/${ranked}`), h('div', null, t('results.col.rank'))),
        h('div', { class: 'sc-kpi' }, h('div', { class: 'sc-big' }, targetBadge(c.targets[0])), h('div', null, c.targets[0] ? targetText(c.targets[0].target) : t('results.col.target'))),
        h('div', { class: 'sc-kpi' }, h('div', { class: 'sc-big' }, deltaView(cmpRow(r, c.key, 'overall'))), h('div', null, r.comparison ? t('results.vs', r.comparison.earlier.name) : t('results.no_earlier')))),
      h('table', { class: 'sc-table', testid: 'scorecard-groups' },
        h('thead', null, h('tr', null, [t('results.col.group'), 'N', t('report.pct'), t('results.col.change')].map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, groups.map((g) => h('tr', null, h('td', null, h('span', { class: 'q-code' }, g.code), label('group', g.code)),
          h('td', { class: 'num' }, fmtNum(g.n)), h('td', { class: 'num' }, pctText(g)), h('td', { class: 'num' }, deltaView(cmpRow(r, c.key, 'group', g.code))))))),
      crit.length ? h('section', null, h('h3', null, t('results.weakest')),
        h('ol', { class: 'sc-weak' }, crit.map((f) => h('li', null, `${label('criterion', f.code)} — ${pctText(f)}`)))) : null,
      h('footer', { class: 'sc-note small' },
        `${t('report.form')}: ${r.method.form}. ${t('report.rule')}: ${r.method.aggregation_vi}. ${t('report.data_as_of')}: ${r.method.data_as_of_vi}. `,
        `${getLang() === 'en' ? r.method.suppression_en : r.method.suppression_vi} ${getLang() === 'en' ? r.method.interval_en : r.method.interval_vi}`)));
}
