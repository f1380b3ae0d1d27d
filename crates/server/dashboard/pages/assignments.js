// @ts-check
// A round's assignments: filters (unit, agency, surveyor, status, not yet assigned), giving
// every assignment matching the filter to a surveyor at once (e.g. all of one agency), or the
// rows ticked one by one; giving an assigned row to another surveyor reassigns it (the server
// withdraws it from the previous surveyor's device).
import { api, enc, qs } from '../api.js';
import { has, t } from '../i18n.js';
import { empty, errorBox, field, fill, fmtNum, h, loading, named, select, table, toast } from '../widgets.js';
import { catalogueNames, getRound, roundHead, usersOf } from './common.js';

/** @typedef {import('../types.js').AssignmentPage} AssignmentPage */

const PAGE = 50;
const STATUSES = ['not_visited', 'collected', 'refused', 'absent', 'moved'];

/** @param {string} s */
export function statusBadge(s) {
  return h('span', { class: `badge st-${s}`, testid: 'assignment-status', dataset: { status: s } }, has(`assignment.status.${s}`) ? t(`assignment.status.${s}`) : s);
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageAssignments(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const head = roundHead(round, 'assignments', t('assign.heading'));
  ctx.view.append(...head, loading());
  const q = ctx.query;
  const filter = {
    unit: q.get('unit') || '', agency: q.get('agency') || '', surveyor: q.get('surveyor') || '',
    status: q.get('status') || '', unassigned: q.get('unassigned') === 'true',
  };
  const offset = Math.max(0, Number(q.get('offset') || 0) || 0);
  const [names, surveyors, pageData, selfLinks] = await Promise.all([
    catalogueNames(round.starts_on),
    usersOf('surveyor'),
    /** @type {Promise<AssignmentPage>} */ (api(`/rounds/${enc(roundId)}/assignments${qs({ ...filter, unassigned: filter.unassigned ? 'true' : '', limit: PAGE, offset })}`)),
    // issue 15 (h-self): assignments answered by the citizen on a personal link show "tự trả lời"
    /** @type {Promise<{links: {assignment_id: string, status: string}[]}>} */ (api(`/rounds/${enc(roundId)}/self-links`)),
  ]);
  const selfAnswered = new Set(selfLinks.links.filter((l) => l.status === 'answered').map((l) => l.assignment_id));
  if (!ctx.alive()) return;
  const active = surveyors.filter((s) => !s.disabled);
  const surveyorOptions = active.map((s) => ({ value: s.id, label: s.display_name || s.username }));

  // Filters (kept in the address so a reload shows the same page).
  const unitCodes = [...new Set([...(round.units || []), ...pageData.items.map((i) => i.unit_code), ...(filter.unit ? [filter.unit] : [])])];
  const unitSel = select('filter-unit', unitCodes.map((c) => ({ value: c, label: names.unit.get(c) || pageData.items.find((i) => i.unit_code === c)?.unit_name || c })), filter.unit, t('assign.any_unit'));
  const agencyCodes = [...new Set([...(round.agencies || []), ...pageData.items.map((i) => i.agency_code || '').filter(Boolean), ...(filter.agency ? [filter.agency] : [])])];
  const agencyLabel = (/** @type {string} */ c) => names.agency.get(c) || pageData.items.find((i) => i.agency_code === c)?.agency_name || c;
  const agencySel = select('filter-agency', agencyCodes.map((c) => ({ value: c, label: agencyLabel(c) })), filter.agency, t('assign.any_agency'));
  const surveyorSel = select('filter-surveyor', surveyors.map((s) => ({ value: s.id, label: s.display_name || s.username })), filter.surveyor, t('assign.any_surveyor'));
  const statusSel = select('filter-status', STATUSES.map((s) => ({ value: s, label: t(`assignment.status.${s}`) })), filter.status, t('assign.any_status'));
  const unassigned = h('input', { type: 'checkbox', testid: 'filter-unassigned', checked: filter.unassigned });
  const filters = h('form', { class: 'panel', testid: 'assign-filters', novalidate: true },
    h('h3', null, t('assign.filters')),
    h('div', { class: 'form-row' },
      field('filter-unit', t('assign.unit'), unitSel), field('filter-agency', t('assign.agency'), agencySel),
      field('filter-surveyor', t('assign.surveyor'), surveyorSel), field('filter-status', t('assign.status'), statusSel)),
    h('label', { class: 'choice' }, unassigned, t('assign.only_unassigned')),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', testid: 'filter-apply' }, t('assign.apply'))));
  filters.addEventListener('submit', (/** @type {Event} */ ev) => {
    ev.preventDefault();
    location.hash = `#/rounds/${enc(roundId)}/assignments${qs({
      unit: unitSel.value, agency: agencySel.value, surveyor: surveyorSel.value, status: statusSel.value, unassigned: unassigned.checked ? 'true' : '',
    })}`;
  });

  // Giving to a surveyor: every matching assignment, or the ticked ones.
  const to = select('assign-to', surveyorOptions, '', t('assign.choose_surveyor'));
  const msg = h('div', { 'aria-live': 'polite', testid: 'assign-message' });
  const bulk = h('button', { type: 'button', class: 'primary', testid: 'assign-filter' }, t('assign.by_filter', pageData.total));
  const picked = h('button', { type: 'button', testid: 'assign-selected' }, t('assign.selected'));
  /** @param {object} body */
  const assign = async (body) => {
    msg.replaceChildren();
    if (!to.value) { fill(msg, h('p', { class: 'error', role: 'alert' }, t('assign.need_surveyor'))); to.focus(); return; }
    bulk.disabled = true; picked.disabled = true;
    try {
      const res = await api(`/rounds/${enc(roundId)}/assign`, { method: 'POST', body: { ...body, surveyor_id: to.value } });
      const who = surveyorOptions.find((s) => s.value === to.value)?.label || '';
      toast('notice', t('assign.done', res.assigned, who), true);
      ctx.reload();
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      fill(msg, errorBox(e, 'assign-error'));
      bulk.disabled = false; picked.disabled = false;
    }
  };
  bulk.addEventListener('click', () => assign({ filter: { unit: filter.unit || undefined, agency: filter.agency || undefined, unassigned_only: filter.unassigned || undefined } }));
  picked.addEventListener('click', () => {
    const ids = [...ctx.view.querySelectorAll('input[data-testid="pick-assignment"]:checked')].map((c) => /** @type {HTMLInputElement} */ (c).value);
    if (ids.length === 0) { fill(msg, h('p', { class: 'error', role: 'alert' }, t('assign.need_rows'))); return; }
    assign({ assignment_ids: ids });
  });
  const assignPanel = h('section', { class: 'panel', testid: 'assign-panel' },
    h('h3', null, t('assign.give')),
    active.length === 0 ? h('p', { class: 'muted', testid: 'no-surveyors' }, t('assign.no_surveyors')) : null,
    field('assign-to', t('assign.to'), to),
    h('p', { class: 'muted small' }, t('assign.filter_hint')),
    h('div', { class: 'actions' }, bulk, picked), msg);

  const all = h('input', { type: 'checkbox', testid: 'pick-all' });
  all.addEventListener('change', () => {
    for (const c of ctx.view.querySelectorAll('input[data-testid="pick-assignment"]')) /** @type {HTMLInputElement} */ (c).checked = all.checked;
  });
  const rows = pageData.items.map((a) => h('tr', { testid: 'assignment-row', dataset: { unit: a.unit_code, agency: a.agency_code || '', surveyor: a.surveyor_id || '' } },
    h('td', null, h('input', { type: 'checkbox', value: a.id, testid: 'pick-assignment', 'aria-label': t('assign.pick_row') })),
    h('td', null, named(a.unit_name || names.unit.get(a.unit_code), a.unit_code)),
    h('td', null, a.agency_code || a.agency_name ? named(a.agency_name || names.agency.get(a.agency_code || ''), a.agency_code) : t('common.dash')),
    h('td', null, a.procedure || t('common.dash'), a.field_name ? h('div', { class: 'muted small' }, a.field_name) : null),
    h('td', null, statusBadge(a.status), a.origin && a.origin !== 'sample' ? h('div', { class: 'muted small' }, t(`origin.${a.origin}`)) : null,
      selfAnswered.has(a.id) ? h('div', { class: 'muted small', testid: 'self-answered' }, t('self.link.self_answered')) : null),
    h('td', { testid: 'assignment-surveyor' }, a.surveyor_id ? (a.surveyor_name || t('assign.unknown_user')) : h('span', { class: 'muted' }, t('assign.nobody')))));
  const pager = h('div', { class: 'actions pager' },
    h('span', { class: 'muted', testid: 'assign-count' }, t('assign.showing', pageData.items.length ? offset + 1 : 0, offset + pageData.items.length, fmtNum(pageData.total))),
    offset > 0 ? h('a', { class: 'button', href: `#/rounds/${enc(roundId)}/assignments${qs({ ...filter, unassigned: filter.unassigned ? 'true' : '', offset: Math.max(0, offset - PAGE) })}` }, t('common.prev')) : null,
    offset + PAGE < pageData.total ? h('a', { class: 'button', href: `#/rounds/${enc(roundId)}/assignments${qs({ ...filter, unassigned: filter.unassigned ? 'true' : '', offset: offset + PAGE })}`, testid: 'assign-next' }, t('common.next')) : null);
  fill(ctx.view, ...head, filters, assignPanel, pager,
    pageData.items.length === 0 ? empty(t('assign.empty'), 'assign-empty') : [
      h('label', { class: 'choice' }, all, t('assign.pick_all')),
      table('assignments-table', [{ text: t('assign.pick'), class: 'pick' }, t('assign.unit'), t('assign.agency'), t('assign.procedure'), t('assign.status'), t('assign.surveyor')], rows),
    ]);
}
