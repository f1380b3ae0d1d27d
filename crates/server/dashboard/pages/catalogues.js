// @ts-check
// Catalogues: administrative units valid on a date, agencies, fields and their procedures;
// an admin imports a CSV / XLSX of each (check first, every bad row listed, all or nothing).
import { api, enc, qs, session } from '../api.js';
import { getLang, t } from '../i18n.js';
import { empty, field, fill, fmtDate, h, loading, named, table, todayVn } from '../widgets.js';
import { importBox } from './sample.js';
import { clearCaches } from './common.js';

/** @typedef {import('../types.js').Unit} Unit */
/** @typedef {import('../types.js').Agency} Agency */
/** @typedef {import('../types.js').Field} Field */
/** @typedef {import('../types.js').Procedure} Procedure */

const TABS = ['units', 'agencies', 'fields'];
const SHOWN = 200;

/** @param {string} s */
const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();

/** @param {import('../main.js').Ctx} ctx */
export async function pageCatalogues(ctx) {
  const tab = TABS.includes(ctx.query.get('tab') || '') ? /** @type {string} */ (ctx.query.get('tab')) : 'units';
  const on = /^\d{4}-\d{2}-\d{2}$/.test(ctx.query.get('on') || '') ? /** @type {string} */ (ctx.query.get('on')) : todayVn();
  const tabs = h('div', { class: 'tabs', role: 'tablist', testid: 'catalogue-tabs' }, TABS.map((x) => h('a', {
    href: `#/catalogues${qs({ tab: x, on: x === 'fields' ? '' : on })}`, role: 'tab', class: 'tab', testid: `catalogue-tab-${x}`,
    'aria-selected': x === tab ? 'true' : 'false', 'aria-current': x === tab ? 'page' : null,
  }, t(`catalogues.tab.${x}`))));
  const head = [h('h2', null, t('catalogues.heading')), tabs];
  ctx.view.append(...head, loading());

  const date = h('input', { type: 'date', testid: 'catalogue-on', value: on });
  date.addEventListener('change', () => { if (date.value) location.hash = `#/catalogues${qs({ tab, on: date.value })}`; });
  const search = h('input', { type: 'search', testid: 'catalogue-search', placeholder: t('common.search_ph') });
  const listBox = h('div', { testid: 'catalogue-list' });
  const controls = h('div', { class: 'form-row' },
    tab !== 'fields' ? field('catalogue-on', t('catalogues.on'), date) : null,
    field('catalogue-search', t('catalogues.search'), search));

  /** @param {HTMLElement[]} rows @param {(string|{text: string, class?: string})[]} headers @param {number} total */
  const drawRows = (rows, headers, total) => fill(listBox,
    h('p', { class: 'muted small', testid: 'catalogue-count' }, t('catalogues.count', total, Math.min(total, SHOWN))),
    rows.length === 0 ? empty(t('common.none')) : table(`catalogue-${tab}`, headers, /** @type {any} */ (rows.slice(0, SHOWN))));

  if (tab === 'units') {
    /** @type {Unit[]} */
    const list = await api(`/units${qs({ on })}`);
    if (!ctx.alive()) return;
    const byCode = new Map(list.map((u) => [u.code, u.name]));
    const draw = () => {
      const q = fold(search.value.trim());
      const hits = q ? list.filter((u) => fold(u.name).includes(q) || u.code.includes(q)) : list;
      drawRows(hits.slice(0, SHOWN).map((u) => h('tr', { testid: 'unit-row', dataset: { code: u.code } },
        h('td', null, named(u.name, u.code)),
        h('td', null, t(`unit.level.${u.level}`)),
        h('td', null, u.parent_code ? named(byCode.get(u.parent_code), u.parent_code) : t('common.dash')),
        h('td', null, t('catalogues.valid', fmtDate(u.valid_from), u.valid_to ? fmtDate(u.valid_to) : t('catalogues.open_end'))))),
      [t('catalogues.unit'), t('catalogues.level'), t('catalogues.parent'), t('catalogues.validity')], hits.length);
    };
    search.addEventListener('input', draw);
    draw();
  } else if (tab === 'agencies') {
    /** @type {Agency[]} */
    const list = await api(`/agencies${qs({ on })}`);
    if (!ctx.alive()) return;
    const draw = () => {
      const q = fold(search.value.trim());
      const hits = q ? list.filter((a) => fold(a.name).includes(q) || a.code.toLowerCase().includes(q) || fold(a.unit_name || '').includes(q)) : list;
      drawRows(hits.slice(0, SHOWN).map((a) => h('tr', { testid: 'agency-row', dataset: { code: a.code } },
        h('td', null, named(a.name, a.code)),
        h('td', null, getLang() === 'en' ? a.kind_name_en : a.kind_name_vi),
        h('td', null, named(a.unit_name, a.unit_code)),
        h('td', null, t('catalogues.valid', fmtDate(a.valid_from), a.valid_to ? fmtDate(a.valid_to) : t('catalogues.open_end'))))),
      [t('catalogues.agency'), t('catalogues.kind'), t('catalogues.unit'), t('catalogues.validity')], hits.length);
    };
    search.addEventListener('input', draw);
    draw();
  } else {
    const [fields, procedures] = await Promise.all([/** @type {Promise<Field[]>} */ (api('/fields')), /** @type {Promise<Procedure[]>} */ (api('/procedures'))]);
    if (!ctx.alive()) return;
    const draw = () => {
      const q = fold(search.value.trim());
      const rows = [];
      for (const f of fields) {
        const procs = procedures.filter((p) => p.field_code === f.code && (!q || fold(p.name).includes(q) || fold(f.name).includes(q)));
        if (q && procs.length === 0 && !fold(f.name).includes(q)) continue;
        rows.push(h('tr', { testid: 'field-row', class: 'level-group', dataset: { code: f.code } },
          h('td', null, named(f.name, f.code)), h('td', null, t('catalogues.procedures_n', procs.length))));
        for (const p of procs) {
          rows.push(h('tr', { testid: 'procedure-row', dataset: { code: p.code, field: f.code } },
            h('td', { class: 'indent' }, named(p.name, p.code)),
            h('td', null, p.national_code ? h('span', { class: 'code' }, t('catalogues.national', p.national_code)) : t('common.dash'))));
        }
      }
      drawRows(rows, [t('catalogues.field_procedure'), t('catalogues.details')], fields.length);
    };
    search.addEventListener('input', draw);
    draw();
  }

  /** @type {HTMLElement|null} */
  let imports = null;
  if (session.can('catalogues.manage')) {
    const kinds = tab === 'fields' ? ['fields', 'procedures'] : [tab];
    imports = h('section', { class: 'panel', testid: 'catalogue-import' }, h('h3', null, t('catalogues.import')),
      h('p', { class: 'muted small' }, t('catalogues.import_hint')),
      kinds.map((k) => h('div', null, h('h4', null, t(`catalogues.import.${k}`)),
        importBox({
          testid: `import-${k}`, path: `/${enc(k)}/import`,
          doneText: (r) => t('catalogues.imported', r.imported),
          onDone: () => clearCaches(),
        }))));
  }
  fill(ctx.view, ...head, controls, listBox, imports);
}
