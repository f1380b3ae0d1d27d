// @ts-check
// Rounds: the list, creating a round (questionnaire chosen by its title, dates, covered units
// and agencies, a target sample size per agency), its overview, editing before it starts and
// closing it.
import { api, enc, session } from '../api.js';
import { getLang, t } from '../i18n.js';
import { empty, errorBox, field, fill, h, loading, named, picker, select, table, toast, todayVn } from '../widgets.js';
import { agencies, catalogueNames, formTitleOf, formsByKey, getRound, getRounds, period, roundHead, roundStatus, units } from './common.js';

/** @typedef {import('../types.js').Round} Round */
/** @typedef {import('../types.js').FormInfo} FormInfo */
/** @typedef {import('../main.js').Ctx} Ctx */

/** @param {FormInfo} f */
const formTitle = (f) => (getLang() === 'en' && f.title_en ? f.title_en : f.title_vi);

/** @param {Ctx} ctx */
export async function pageRounds(ctx) {
  const heading = h('h2', null, t('rounds.heading'));
  const create = session.can('rounds.manage')
    ? h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/rounds/new', testid: 'round-new' }, t('rounds.new')))
    : null;
  ctx.view.append(heading, create, loading());
  const [list, forms] = await Promise.all([getRounds(true), formsByKey()]);
  if (!ctx.alive()) return;
  const rows = list.map((r) => h('tr', { testid: 'round-row', dataset: { roundId: r.id, status: r.status || '' } },
    h('td', null, h('a', { href: `#/rounds/${enc(r.id)}`, testid: 'round-link' }, r.name), h('div', { class: 'code' }, r.id)),
    h('td', null, formTitleOf(r, forms)),
    h('td', null, period(r)),
    h('td', null, roundStatus(r))));
  fill(ctx.view, heading, create,
    list.length === 0
      ? empty(t('rounds.empty'), 'rounds-empty')
      : table('rounds-table', [t('rounds.name'), t('rounds.form'), t('rounds.dates'), t('rounds.status')], rows));
}

/**
 * The round form (create, or edit before the start).
 * @param {Ctx} ctx
 * @param {Round|null} round
 * @param {(saved: Round|null) => void} done
 */
async function roundForm(ctx, round, done) {
  const [forms, unitList, agencyList] = await Promise.all([
    round ? Promise.resolve(/** @type {FormInfo[]} */ ([])) : /** @type {Promise<FormInfo[]>} */ (api('/forms?status=published')),
    units(round ? round.starts_on : todayVn()),
    agencies(round ? round.starts_on : todayVn()),
  ]);
  const name = h('input', { testid: 'round-name', required: true, value: round ? round.name : '', maxlength: 200 });
  const code = round ? null : h('input', { testid: 'round-code', required: true, maxlength: 64, autocapitalize: 'characters', spellcheck: 'false', placeholder: '2027-HN-1' });
  const form = round ? null : select('round-form', forms.map((f) => ({ value: `${f.id}@${f.version}`, label: `${formTitle(f)} (${f.version})` })), '', t('rounds.choose_form'));
  const starts = h('input', { type: 'date', testid: 'round-starts', required: true, value: round ? round.starts_on : '' });
  const ends = h('input', { type: 'date', testid: 'round-ends', required: true, value: round ? round.ends_on : '' });
  const levelName = (/** @type {string} */ l) => t(`unit.level.${l}`);
  const unitPick = picker('round-units', unitList.map((u) => ({ code: u.code, name: u.name, hint: levelName(u.level) })), round?.units || [], { label: t('rounds.units') });
  const targets = h('div', { class: 'targets', testid: 'round-targets' });
  /** @type {Record<string, number>} */
  const targetValues = { ...(round?.targets || {}) };
  const drawTargets = (/** @type {string[]} */ codes) => {
    fill(targets, codes.length === 0 ? h('p', { class: 'muted small' }, t('rounds.targets_none')) : codes.map((c) => {
      const a = agencyList.find((x) => x.code === c);
      const input = h('input', {
        type: 'number', min: 0, step: 1, inputmode: 'numeric', testid: 'round-target', dataset: { agency: c },
        value: targetValues[c] !== undefined ? String(targetValues[c]) : '',
        oninput: (/** @type {Event} */ ev) => {
          const v = /** @type {HTMLInputElement} */ (ev.target).value;
          if (v === '') delete targetValues[c]; else targetValues[c] = Number(v);
        },
      });
      return h('label', { class: 'target' }, named(a ? a.name : null, c), input);
    }));
  };
  const agencyPick = picker('round-agencies', agencyList.map((a) => ({ code: a.code, name: a.name, hint: a.unit_name || '' })), round?.agencies || [],
    { label: t('rounds.agencies'), onChange: drawTargets });
  drawTargets(agencyPick.values());
  const os = round?.outside_sample || { replacement: false, walk_in: false, cap_per_unit: 0 };
  const replacement = h('input', { type: 'checkbox', testid: 'round-replacement', checked: os.replacement });
  const walkIn = h('input', { type: 'checkbox', testid: 'round-walk-in', checked: os.walk_in });
  const cap = h('input', { type: 'number', min: 0, step: 1, testid: 'round-cap', value: String(os.cap_per_unit || '') });
  const msg = h('div', { 'aria-live': 'polite', testid: 'round-form-message' });
  const save = h('button', { type: 'submit', class: 'primary', testid: 'round-save' }, round ? t('rounds.save') : t('rounds.create'));
  const cancel = h('button', { type: 'button', testid: 'round-cancel', onclick: () => done(null) }, t('common.cancel'));
  const el = h('form', { class: 'panel', testid: 'round-form-panel', novalidate: true },
    round ? h('h3', null, t('rounds.edit_heading')) : null,
    h('div', { class: 'form-row top' },
      field('round-name', t('rounds.name'), name),
      code ? field('round-code', t('rounds.code'), code, t('rounds.code_hint')) : null),
    form ? field('round-form', t('rounds.form'), form) : null,
    h('div', { class: 'form-row' }, field('round-starts', t('rounds.starts'), starts), field('round-ends', t('rounds.ends'), ends)),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('rounds.units')), h('p', { class: 'muted small hint' }, t('rounds.units_hint')), unitPick.el),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('rounds.agencies')), h('p', { class: 'muted small hint' }, t('rounds.agencies_hint')), agencyPick.el),
    h('fieldset', null, h('legend', null, t('rounds.targets')), targets),
    h('fieldset', null, h('legend', null, t('rounds.outside')),
      h('label', { class: 'choice' }, replacement, t('rounds.replacement')),
      h('label', { class: 'choice' }, walkIn, t('rounds.walk_in')),
      h('div', { class: 'form-row narrow' }, field('round-cap', t('rounds.cap'), cap))),
    msg,
    h('div', { class: 'actions' }, save, cancel));
  el.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    const problems = [];
    if (!name.value.trim()) problems.push(t('rounds.need_name'));
    if (code && !code.value.trim()) problems.push(t('rounds.need_code'));
    if (form && !form.value) problems.push(t('rounds.need_form'));
    if (!starts.value || !ends.value) problems.push(t('rounds.need_dates'));
    if (unitPick.values().length === 0) problems.push(t('rounds.need_units'));
    if (problems.length) {
      msg.append(h('ul', { class: 'error', role: 'alert', testid: 'round-form-error' }, problems.map((p) => h('li', null, p))));
      return;
    }
    const chosenAgencies = agencyPick.values();
    /** @type {Record<string, number>} */
    const tg = {};
    for (const c of chosenAgencies) if (targetValues[c] !== undefined && !Number.isNaN(targetValues[c])) tg[c] = targetValues[c];
    const outside = replacement.checked || walkIn.checked
      ? { replacement: replacement.checked, walk_in: walkIn.checked, cap_per_unit: Number(cap.value || 0) }
      : undefined;
    const body = {
      name: name.value.trim().normalize('NFC'), starts_on: starts.value, ends_on: ends.value,
      units: unitPick.values(), agencies: chosenAgencies, targets: tg, outside_sample: outside,
    };
    save.disabled = true;
    try {
      let saved;
      if (round) {
        saved = await api(`/rounds/${enc(round.id)}`, { method: 'PATCH', body });
      } else {
        const [formId, version] = /** @type {HTMLSelectElement} */ (form).value.split('@');
        saved = await api('/rounds', { method: 'POST', body: { id: /** @type {HTMLInputElement} */ (code).value.trim(), form: { form_id: formId, version }, ...body } });
      }
      await getRounds(true);
      done(saved);
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      msg.append(errorBox(e, 'round-form-error'));
      save.disabled = false;
    }
  });
  return el;
}

/** @param {Ctx} ctx */
export async function pageRoundNew(ctx) {
  ctx.view.append(h('h2', null, t('rounds.new_heading')), loading());
  const form = await roundForm(ctx, null, (saved) => {
    if (saved) {
      toast('notice', t('rounds.created', saved.name), true);
      location.hash = `#/rounds/${enc(saved.id)}`;
    } else {
      location.hash = '#/rounds';
    }
  });
  if (!ctx.alive()) return;
  fill(ctx.view, h('h2', null, t('rounds.new_heading')), form);
}

/** @param {Ctx} ctx @param {string} roundId */
export async function pageRound(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const [names, forms] = await Promise.all([catalogueNames(round.starts_on), formsByKey()]);
  if (!ctx.alive()) return;
  const head = roundHead(round, 'overview', t('round.heading'));
  const targets = round.targets || {};
  const agencyCodes = [...new Set([...(round.agencies || []), ...Object.keys(targets)])];
  const details = h('dl', { class: 'meta panel', testid: 'round-details' },
    h('div', { class: 'wide' }, h('dt', null, t('rounds.name')), h('dd', { testid: 'round-detail-name' }, round.name)),
    h('div', { class: 'wide' }, h('dt', null, t('rounds.form')), h('dd', null, formTitleOf(round, forms))),
    h('div', null, h('dt', null, t('rounds.dates')), h('dd', null, period(round))),
    h('div', null, h('dt', null, t('rounds.status')), h('dd', null, roundStatus(round))),
    h('div', null, h('dt', null, t('rounds.code')), h('dd', { class: 'code' }, round.id)),
    h('div', { class: 'wide' }, h('dt', null, t('rounds.units')), h('dd', { testid: 'round-detail-units' },
      (round.units || []).length ? h('ul', { class: 'chips' }, (round.units || []).map((c) => h('li', { class: 'chip' }, named(names.unit.get(c), c)))) : t('common.dash'))));
  const agencyTable = agencyCodes.length
    ? table('round-agency-targets', [t('rounds.agency'), { text: t('rounds.target'), class: 'num' }],
      agencyCodes.map((c) => h('tr', { testid: 'round-agency-row', dataset: { agency: c } },
        h('td', null, named(names.agency.get(c), c)),
        h('td', { class: 'num' }, targets[c] !== undefined ? String(targets[c]) : t('common.dash')))))
    : h('p', { class: 'muted' }, t('rounds.all_agencies'));
  const actions = h('div', { class: 'actions' });
  const msg = h('div', { 'aria-live': 'polite', testid: 'round-message' });
  const status = round.status || 'open';
  const formBox = h('div');
  if (session.can('rounds.manage') && status === 'planned') {
    actions.append(h('button', {
      type: 'button', testid: 'round-edit',
      onclick: async () => {
        fill(formBox, loading());
        const f = await roundForm(ctx, round, (saved) => {
          if (saved) toast('notice', t('rounds.saved'), true);
          ctx.reload();
        });
        if (ctx.alive()) fill(formBox, f);
      },
    }, t('rounds.edit')));
  }
  if (session.can('rounds.manage') && status === 'open') {
    const closeBtn = h('button', { type: 'button', class: 'danger', testid: 'round-close' }, t('rounds.close'));
    closeBtn.addEventListener('click', async () => {
      if (!closeBtn.dataset.confirm) {
        closeBtn.dataset.confirm = '1';
        closeBtn.textContent = t('rounds.close_confirm');
        return;
      }
      closeBtn.disabled = true;
      try {
        await api(`/rounds/${enc(round.id)}/close`, { method: 'POST' });
        await getRounds(true);
        toast('notice', t('rounds.closed'), true);
        ctx.reload();
      } catch (e) {
        if (/** @type {any} */ (e).handled || !ctx.alive()) return;
        fill(msg, errorBox(e, 'round-close-error'));
        closeBtn.disabled = false;
      }
    });
    actions.append(closeBtn);
  }
  fill(ctx.view, ...head, details,
    h('h3', null, t('rounds.agencies_targets')), agencyTable,
    round.outside_sample && (round.outside_sample.replacement || round.outside_sample.walk_in)
      ? h('p', { class: 'info small' }, t('rounds.outside_summary', round.outside_sample.replacement, round.outside_sample.walk_in, round.outside_sample.cap_per_unit))
      : null,
    actions, msg, formBox);
}
