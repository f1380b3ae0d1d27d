// SIPAS Field UI. Talks to the Rust side only through Tauri commands; every answer is saved
// the moment it changes, so closing the app never loses an answer.
(function () {
  'use strict';
  const I18N = window.SIPAS_I18N;
  const R = window.SIPAS_RELEVANCE;
  const F = window.SIPAS_FORM;
  let lang = localStorage.getItem('sipas.lang') === 'en' ? 'en' : 'vi';

  const t = (key, ...args) => {
    const v = (I18N[lang] && I18N[lang][key]) ?? I18N.vi[key] ?? key;
    return typeof v === 'function' ? v(...args) : v;
  };
  const label = (l) => (lang === 'en' && l && l.en) ? l.en : (l ? l.vi : '');
  const invoke = (cmd, args) => window.__TAURI__.core.invoke(cmd, args || {});
  const $ = (id) => document.getElementById(id);
  // A command's error is a Problem {code, message_vi, message_en, action_vi, action_en}: only
  // the language in use is shown, never the code or technical detail.
  const problemText = (p) => {
    const m = lang === 'en' ? p.message_en : p.message_vi;
    const a = lang === 'en' ? p.action_en : p.action_vi;
    return [m, a].filter(Boolean).join(' ');
  };
  const errText = (e) => {
    if (e && typeof e === 'object' && typeof e.message_vi === 'string') return problemText(e);
    if (typeof e === 'string') {
      // An older "Vietnamese / English" message: the half in use.
      const i = e.indexOf(' / ');
      if (i > 0) return lang === 'en' ? e.slice(i + 3) : e.slice(0, i);
      return e;
    }
    return t('problem.unknown');
  };
  const pad2 = (n) => String(n).padStart(2, '0');
  // dd/mm/yyyy HH:MM (local time) in both languages.
  const fmtTime = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return '';
    return `${pad2(d.getDate())}/${pad2(d.getMonth() + 1)}/${d.getFullYear()} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  };
  const fmtClock = (iso) => {
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  };
  const issueText = (issue) => issue ? (lang === 'en' && issue.message.en ? issue.message.en : issue.message.vi) : '';

  const OUTCOMES = ['absent', 'refused', 'moved', 'invalid', 'form_delivered', 'not_visited'];
  const STATUSES = ['not_visited', 'form_delivered', 'collected', 'absent', 'refused', 'moved', 'invalid'];
  const SCREENS = ['unlock', 'recover', 'assignments', 'form', 'review', 'done', 'responses', 'sync', 'enrol', 'pin', 'monitor'];

  const S = {
    screen: 'loading',
    forms: [],
    formCache: new Map(),
    // The interview on screen.
    form: null, draft: null, answers: {}, group: null, section: null,
    lastMark: 0, saveChain: Promise.resolve(), pending: 0, saveError: null,
    timers: new Map(), lastSent: new Map(), invalid: new Set(), savedAt: null,
    review: null, gps: null, note: null, readOnly: false,
    // Form screen (H-formui): expression state, catalogue options, refused values' issues.
    fs: null, options: {}, issues: new Map(), today: null,
    syncTimer: null,
    // Spot checks: the monitor's tasks (memory only) and the findings sent from this window.
    monitorTasks: [],
    // Which unlock screen applies (from lock_status) while the app is locked.
    lock: null,
  };

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for') e.setAttribute(k, v === true ? '' : v);
      else e[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }

  function showError(e) {
    const p = $('global-error');
    if (!e) { p.hidden = true; p.textContent = ''; return; }
    p.textContent = t('common.error', errText(e));
    p.hidden = false;
  }

  // ---------------------------------------------------------------- screens
  function show(name, { focus = true } = {}) {
    if (S.screen === 'form' && name !== 'form') flushTimers();
    S.screen = name;
    document.body.dataset.screen = name;
    setMenu(false);
    for (const s of SCREENS) $(`screen-${s}`).hidden = s !== name;
    for (const b of document.querySelectorAll('[data-nav]')) {
      if (b.dataset.nav === name) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
    }
    if (S.syncTimer) { clearInterval(S.syncTimer); S.syncTimer = null; }
    if (name === 'sync') S.syncTimer = setInterval(() => renderSync().catch(() => {}), 5000);
    if (focus) {
      const h = $(`screen-${name}`).querySelector('h2[tabindex], h3[tabindex]');
      if (h) h.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    }
  }

  async function navigate(name) {
    showError(null);
    try {
      if (name === 'assignments') await renderAssignments();
      if (name === 'responses') await renderResponses();
      if (name === 'sync') await renderSync();
      if (name === 'monitor') await renderMonitor();
      show(name);
    } catch (e) { showError(e); }
  }

  function applyStatic() {
    document.documentElement.lang = lang;
    document.querySelectorAll('[data-i18n]').forEach((e) => { e.textContent = t(e.dataset.i18n); });
    document.querySelectorAll('[data-i18n-aria]').forEach((e) => { e.setAttribute('aria-label', t(e.dataset.i18nAria)); });
    $('lang-toggle').lang = lang === 'vi' ? 'en' : 'vi';
    const sel = $('status-filter');
    const cur = sel.value || 'open';
    sel.replaceChildren(
      el('option', { value: '', text: t('assign.filter.all') }),
      el('option', { value: 'open', text: t('assign.filter.open') }),
      ...STATUSES.map((s) => el('option', { value: s, text: t(`status.${s}`) })),
    );
    sel.value = cur;
    const fsel = $('free-form');
    const fcur = fsel.value;
    fsel.replaceChildren(...S.forms.map((f) => el('option', {
      value: `${f.form_id}@${f.version}`, text: lang === 'en' && f.title_en ? f.title_en : f.title_vi,
    })));
    if (fcur) fsel.value = fcur;
    renderFree();
  }

  // ---------------------------------------------------------------- free interviews
  // Outside the sample only for rounds that allow it (from the last sync), round and unit
  // chosen by name; otherwise a practice interview that never leaves the device.
  function freeKind() {
    const r = document.querySelector('input[name="free-kind"]:checked');
    return r ? r.value : 'practice';
  }
  function renderFree() {
    const rounds = S.freeRounds || [];
    for (const k of ['walk_in', 'replacement']) {
      const input = $(`free-kind-${k}`);
      const allowed = rounds.some((r) => r.outside_sample[k]);
      input.disabled = !allowed;
      input.closest('label').hidden = !allowed;
      if (!allowed && input.checked) $('free-kind-practice').checked = true;
    }
    $('free-none').hidden = rounds.length > 0;
    const kind = freeKind();
    const practice = kind === 'practice';
    $('free-round-field').hidden = practice;
    $('free-unit-field').hidden = practice;
    $('free-form-field').hidden = !practice;
    $('free-round').required = !practice;
    $('free-unit').required = !practice;
    $('free-form').required = practice;
    let note = t('free.note.practice');
    if (!practice) {
      const rsel = $('free-round');
      const rcur = rsel.value;
      const list = rounds.filter((r) => r.outside_sample[kind]);
      rsel.replaceChildren(...list.map((r) => el('option', { value: r.id, text: r.name })));
      if (list.some((r) => r.id === rcur)) rsel.value = rcur;
      const round = list.find((r) => r.id === rsel.value);
      const usel = $('free-unit');
      const ucur = usel.value;
      const units = round ? round.units : [];
      usel.replaceChildren(...units.map((u) => el('option', { value: u.code, text: u.name })));
      if (units.some((u) => u.code === ucur)) usel.value = ucur;
      note = round ? t('free.note.outside', round.outside_sample.cap_per_unit) : '';
    }
    $('free-note').textContent = note;
  }
  async function loadFreeRounds() {
    S.freeRounds = await invoke('free_rounds');
    renderFree();
  }

  // ---------------------------------------------------------------- names
  // Rounds, units, agencies and procedures are shown by name (from the pulled assignments and
  // the rounds open to free interviews); codes only on a small secondary line.
  async function loadNames() {
    const all = await invoke('list_assignments', { search: '', status: '' });
    const N = { byId: new Map(), rounds: new Map(), units: new Map() };
    for (const a of all) {
      N.byId.set(a.id, a);
      if (a.round_name) N.rounds.set(a.round_id, a.round_name);
      if (a.unit_name) N.units.set(a.unit_code, a.unit_name);
    }
    for (const r of S.freeRounds || []) { // FieldRound: the round's fields and its units
      N.rounds.set(r.id, r.name);
      for (const u of r.units || []) if (!N.units.has(u.code)) N.units.set(u.code, u.name);
    }
    S.names = N;
  }

  /** Names (and codes) of what a draft, response or assignment is about. */
  function place(x) {
    const N = S.names || { byId: new Map(), rounds: new Map(), units: new Map() };
    const a = (x.assignment_id && N.byId.get(x.assignment_id)) || x;
    return {
      round: a.round_name || N.rounds.get(x.round_id) || null,
      unit: a.unit_name || N.units.get(x.unit_code) || null,
      respondent: (a.contact && a.contact.respondent_name) || null,
      agency: a.agency_name || null,
      procedure: a.procedure || null,
      codes: [x.unit_code, a.agency_code, a.procedure_code].filter(Boolean).join(' · '),
    };
  }

  /** The small secondary line with the codes. */
  function codesLine(p, extra) {
    const text = [p.codes, extra].filter(Boolean).join(' · ');
    return text ? el('p', { class: 'codes', text: t('place.codes', text) }) : null;
  }

  // ---------------------------------------------------------------- assignments
  async function renderAssignments() {
    await loadFreeRounds();
    await loadNames();
    const [drafts, list] = await Promise.all([
      invoke('list_drafts'),
      invoke('list_assignments', { search: $('search').value, status: $('status-filter').value }),
    ]);
    const dl = $('drafts-list');
    dl.replaceChildren(...drafts.map((d) => el('li', { class: 'card', 'data-draft': d.id, 'data-withdrawn': d.withdrawn ? 'true' : null },
      el('h3', { text: [place(d).respondent, place(d).procedure || label(d.form_title)].filter(Boolean).join(' — ') || t('place.practice') }),
      el('p', { class: 'muted', text: [placeText(place(d)), t('drafts.item', d.answered)].filter(Boolean).join(' · ') }),
      (d.practice || d.origin !== 'sample')
        ? el('p', { class: 'badge', 'data-kind': d.practice ? 'practice' : d.origin, text: d.practice ? t('drafts.practice') : t(`origin.${d.origin}`) })
        : null,
      el('p', { class: 'muted', text: t('drafts.updated', fmtTime(d.updated_at)) }),
      // A draft of an assignment moved to someone else is kept, read-only: no resume.
      d.withdrawn ? el('p', { class: 'note', text: t('drafts.withdrawn') }) : null,
      d.withdrawn
        ? actionButton(t('drafts.view'), '', async () => openDraft(await invoke('get_draft', { draft_id: d.id }), { readOnly: true }))
        : actionButton(t('drafts.resume'), 'primary', async () => openDraft(await invoke('get_draft', { draft_id: d.id }))),
    )));
    $('drafts-block').hidden = drafts.length === 0;

    const ul = $('assignments-list');
    ul.replaceChildren(...list.map(assignmentCard));
    let message = t('assign.count', list.length);
    if (!list.length) {
      const any = (await invoke('list_assignments', { search: '', status: '' })).length > 0;
      message = any ? t('assign.none_match') : t('assign.empty');
      if (!any) $('free-interview').open = true;
    }
    $('assignments-status').textContent = message;
  }

  function actionButton(text, cls, fn) {
    const b = el('button', { type: 'button', class: cls || '', text });
    b.addEventListener('click', async () => {
      b.disabled = true;
      try { showError(null); await fn(); } catch (e) { showError(e); } finally { b.disabled = false; }
    });
    return b;
  }

  /** "unit · agency · round" by name. */
  function placeText(p) {
    return [p.unit, p.agency, p.round].filter(Boolean).join(' · ');
  }

  function assignmentCard(a) {
    const p = place(a);
    if (a.withdrawn) {
      // Moved to another surveyor: no contact (deleted), no interview, no outcome.
      return el('li', { class: 'card', 'data-assignment': a.id, 'data-status': a.status, 'data-withdrawn': 'true' },
        el('h3', { text: a.procedure }),
        el('p', { class: 'muted', text: [p.unit, p.agency].filter(Boolean).join(' · ') }),
        el('p', { class: 'muted', text: [p.round, label(a.form_title)].filter(Boolean).join(' · ') }),
        codesLine(p, a.field_name),
        el('p', {}, el('span', { class: 'badge status-withdrawn', text: t('assign.withdrawn') })),
        el('p', { class: 'note', text: t('assign.withdrawn.note') }));
    }
    const li = el('li', { class: 'card', 'data-assignment': a.id, 'data-status': a.status });
    li.append(
      el('h3', { text: a.procedure }),
      el('p', { class: 'muted card-place' }, el('span', { class: `badge status-${a.status}`, text: t(`status.${a.status}`) }),
        ' ', [p.unit, p.agency].filter(Boolean).join(' · ')),
      el('p', { class: 'muted card-round', text: [p.round, label(a.form_title)].filter(Boolean).join(' · ') }),
      codesLine(p, a.field_name),
    );
    if (a.status_note) li.append(el('p', { class: 'note', text: a.status_note }));
    const c = a.contact;
    if (c && (c.respondent_name || c.address || c.phone)) {
      const box = el('div', { class: 'contact', 'aria-label': t('assign.contact'), role: 'group' });
      if (c.respondent_name) box.append(el('p', { class: 'contact-name', text: c.respondent_name }));
      if (c.address) box.append(el('p', { text: c.address }));
      if (c.phone) box.append(el('p', {}, el('a', { href: `tel:${c.phone.replace(/[^0-9+]/g, '')}`, class: 'tel', text: t('assign.call', c.phone) })));
      li.append(box);
    }
    const actions = el('div', { class: 'actions' });
    if (a.status !== 'collected') {
      const startBtn = actionButton(a.draft_id ? t('assign.continue') : t('assign.start'), 'primary', async () => {
        await openDraft(await invoke('start_draft', { request: { assignment_id: a.id } }));
      });
      startBtn.dataset.action = 'start';
      actions.append(startBtn);
      const outcomeBtn = el('button', { type: 'button', text: t('assign.outcome'), 'aria-expanded': 'false', 'data-action': 'outcome' });
      const form = outcomeForm(a, () => { form.hidden = true; outcomeBtn.setAttribute('aria-expanded', 'false'); });
      outcomeBtn.addEventListener('click', () => {
        form.hidden = !form.hidden;
        outcomeBtn.setAttribute('aria-expanded', String(!form.hidden));
      });
      actions.append(outcomeBtn);
      li.append(actions, form);
    }
    return li;
  }

  function outcomeForm(a, close) {
    const form = el('form', { class: 'outcome', hidden: true });
    const fs = el('fieldset', {}, el('legend', { text: t('assign.outcome.legend') }));
    for (const o of OUTCOMES) {
      const id = `out-${a.id}-${o}`;
      fs.append(el('label', { class: 'choice', for: id },
        el('input', { type: 'radio', name: `out-${a.id}`, id, value: o, checked: a.status === o, required: true }),
        el('span', { text: t(`status.${o}`) })));
    }
    const noteId = `note-${a.id}`;
    const note = el('textarea', { id: noteId, rows: 2, maxLength: 500, value: a.status_note || '' });
    const msg = el('p', { role: 'status' });
    const cancel = el('button', { type: 'button', text: t('common.cancel') });
    cancel.addEventListener('click', close);
    form.append(fs, el('div', { class: 'field' }, el('label', { for: noteId, text: t('assign.note') }), note),
      el('div', { class: 'actions' }, cancel, el('button', { type: 'submit', class: 'primary', text: t('common.save') })), msg);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const chosen = form.querySelector('input[type=radio]:checked');
      if (!chosen) return;
      try {
        await invoke('set_assignment_status', { assignment_id: a.id, status: chosen.value, note: note.value });
        await renderAssignments();
        $('assignments-status').textContent = t('assign.saved');
      } catch (e) { msg.textContent = t('common.error', errText(e)); }
    });
    return form;
  }

  // ---------------------------------------------------------------- interview (H-formui)
  async function getForm(key) {
    const k = `${key.form_id}@${key.version}`;
    if (!S.formCache.has(k)) S.formCache.set(k, await invoke('get_form', { form_id: key.form_id, version: key.version }));
    return S.formCache.get(k);
  }

  function groupOf(code) {
    for (const g of S.form.groups) if (g.items.some((i) => i.code === code)) return g;
    return null;
  }

  function itemOf(code) {
    for (const g of S.form.groups) for (const i of g.items) if (i.code === code) return i;
    return null;
  }

  // The form's state from the expression engine (ui/expr.js: relevance, calculations,
  // constraint messages, filtered choices), computed on every change. Without the engine
  // (older build) the JSON conditions of ui/relevance.js decide and nothing else is added.
  function computeState() {
    const X = window.SIPAS_EXPR;
    if (S.form && X && typeof X.formState === 'function') {
      try {
        const st = X.formState(S.form, S.answers, { today: S.today, options: S.options || {} });
        return {
          relevant: st.visible instanceof Set ? st.visible : new Set(st.visible || []),
          values: st.values || {}, errors: st.errors || {}, choices: st.choices || {},
        };
      } catch (e) {
        console.warn('formState failed', e);
      }
    }
    return { relevant: null, values: {}, errors: {}, choices: {} };
  }

  function fstate() {
    if (!S.fs) S.fs = computeState();
    return S.fs;
  }
  // A failing rule of an answer given (constraint, range …); a required answer still missing
  // does not stop "Tiếp" (the section menu and the review list those).
  function ruleError(code) {
    const e = fstate().errors[code];
    return e && e.kind !== 'required' ? e : null;
  }
  const steps = () => F.stepGroups(S.form, S.answers, fstate().relevant);
  const visibleNow = () => F.visibleItems(S.form, S.answers, fstate().relevant);

  /** The options an item offers now (choice_filter and catalogue options applied). */
  function choicesFor(item) {
    const st = fstate();
    if (st.choices && Array.isArray(st.choices[item.code])) return st.choices[item.code];
    if (item.choices_from) return (S.options && S.options[item.choices_from]) || [];
    return item.options || [];
  }

  /** The value an item takes from the assignment (`prefill`), or undefined. */
  function prefillValue(item) {
    if (!item.prefill || !S.draft || !S.draft.assignment_id) return undefined;
    const a = S.names && S.names.byId.get(S.draft.assignment_id);
    if (!a) return undefined;
    const from = item.prefill.from;
    const codes = { procedure: a.procedure_code, agency: a.agency_code, field: a.field_code, unit: a.unit_code };
    const names = { procedure: a.procedure, agency: a.agency_name, field: a.field_name, unit: a.unit_name };
    const v = (item.type === 'single_choice' || item.type === 'multi_choice') ? codes[from] : names[from];
    if (v === undefined || v === null || v === '') return undefined;
    return item.type === 'multi_choice' ? [v] : v;
  }
  const prefillLocked = (item) => !!(item.prefill && item.prefill.editable === false && prefillValue(item) !== undefined);

  function itemCtx() {
    return {
      form: S.form, answers: S.answers, t, label, onAnswer,
      choices: choicesFor, readonly: prefillLocked, onDateError,
    };
  }

  // Catalogue options (agencies, procedures, fields, units) for `choices_from` items, from
  // the catalogues carried to the device; none when this build has no such command.
  async function loadOptions(form) {
    const kinds = new Set();
    for (const g of form.groups) for (const i of g.items) if (i.choices_from) kinds.add(i.choices_from);
    const out = {};
    for (const kind of kinds) {
      try {
        const list = await invoke('get_catalogue_options', { kind });
        out[kind] = Array.isArray(list) ? list : [];
      } catch (_) {
        out[kind] = [];
      }
    }
    return out;
  }

  async function openDraft(draft, { focusItem, note, readOnly = false } = {}) {
    if (!S.names || (draft.assignment_id && !S.names.byId.has(draft.assignment_id))) await loadNames().catch(() => {});
    S.readOnly = readOnly;
    S.form = await getForm(draft.form);
    S.options = await loadOptions(S.form);
    S.note = note === undefined || note === null ? null : String(note);
    S.draft = draft;
    // today() = the date of started_at in Vietnam time (UTC+7), as sipas_core::expr::today_of
    S.today = new Date((Date.parse(draft.started_at) || Date.now()) + 7 * 3600e3).toISOString().slice(0, 10);
    S.answers = { ...draft.answers };
    S.lastSent = new Map();
    S.invalid = new Set();
    S.issues = new Map();
    S.saveError = null;
    S.savedAt = null;
    S.gps = null;
    S.fs = null;
    $('section-menu').hidden = true;
    $('section-menu-btn').setAttribute('aria-expanded', 'false');
    // Prefill from the assignment when the interview starts (never over an answer).
    if (!readOnly) {
      for (const g of S.form.groups) {
        for (const item of g.items) {
          const v = prefillValue(item);
          if (v !== undefined && !R.valueIsAnswered(S.answers[item.code])) queueSave(item.code, v);
        }
      }
      await S.saveChain;
      S.fs = null;
    }
    const list = steps();
    const focusGroup = focusItem ? groupOf(focusItem) : null;
    let target = focusGroup || (draft.current_group && S.form.groups.find((g) => g.code === draft.current_group));
    if (target && !list.includes(target)) target = nextStepAfter(target.code) || prevStepBefore(target.code);
    showStep((target || list[0] || S.form.groups[0]).code, focusGroup ? focusItem : undefined);
  }

  function stepIndexInForm(code) { return S.form.groups.findIndex((g) => g.code === code); }
  function nextStepAfter(code) {
    const i = stepIndexInForm(code);
    return steps().find((g) => stepIndexInForm(g.code) > i) || null;
  }
  function prevStepBefore(code) {
    const i = stepIndexInForm(code);
    return steps().filter((g) => stepIndexInForm(g.code) < i).pop() || null;
  }

  // Who and what the interview is about: the respondent (from the contact, shown on this
  // device only), the procedure, agency and field by name; the codes small underneath.
  function renderFormHeader() {
    $('form-title').textContent = label(S.form.title);
    const where = place(S.draft);
    const a = (S.draft.assignment_id && S.names && S.names.byId.get(S.draft.assignment_id)) || null;
    const who = a && a.contact && a.contact.respondent_name;
    $('form-respondent').hidden = !who;
    $('form-respondent').textContent = who ? t('formui.header.respondent', who) : '';
    const parts = [];
    if (where.procedure) parts.push(t('formui.header.procedure', where.procedure));
    if (where.agency) parts.push(t('formui.header.agency', where.agency));
    if (a && a.field_name) parts.push(t('formui.header.field', a.field_name));
    $('form-procedure').hidden = parts.length === 0;
    $('form-procedure').replaceChildren(...parts.map((p) => el('span', { text: p })));
    $('form-meta').textContent = t('form.meta', where.round, where.unit)
      + (S.draft.practice ? ` · ${t('drafts.practice')}` : '')
      + (S.draft.origin && S.draft.origin !== 'sample' ? ` · ${t(`origin.${S.draft.origin}`)}` : '')
      + (S.note !== null ? ` · ${t('form.revision')}${S.note ? ': ' + S.note : ''}` : '');
    const codes = [where.codes, a && a.field_code].filter(Boolean).join(' · ');
    $('form-codes').textContent = codes ? t('place.codes', codes) : '';
  }

  function showStep(code, focusItem) {
    flushTimers();
    const group = S.form.groups.find((g) => g.code === code);
    S.group = code;
    S.invalid.clear(); // a step drawn again shows the stored answers
    S.issues.clear();
    S.fs = null;
    renderFormHeader();
    $('step-blocked').hidden = true;
    S.section = F.renderStep(group, itemCtx());
    if (S.readOnly) {
      // A draft of a withdrawn assignment: shown, never changed.
      S.section.querySelectorAll('input, textarea, select, button').forEach((e) => { e.disabled = true; });
      S.section.dataset.readonly = 'true';
    }
    $('step-container').replaceChildren(S.section);
    $('form-readonly').hidden = !S.readOnly;
    $('to-review').hidden = S.readOnly;
    refreshVisibility();
    updateSaveState();
    show('form', { focus: false });
    if (!$('section-menu').hidden) renderSectionMenu().catch(() => {});
    S.lastMark = performance.now();
    if (!S.readOnly && S.draft.current_group !== code) {
      S.draft.current_group = code;
      const draftId = S.draft.id;
      S.saveChain = S.saveChain.then(() => invoke('set_current_group', { draft_id: draftId, group: code })).catch(showError);
    }
    const target = focusItem && S.section.querySelector(`[data-item="${CSS.escape(focusItem)}"]`);
    if (target) focusItemEl(target);
    else {
      window.scrollTo(0, 0);
      S.section.querySelector('h3').focus({ preventScroll: true });
    }
  }

  function focusItemEl(w) {
    w.scrollIntoView({ block: 'center' });
    const input = w.querySelector('input:not([disabled]), textarea:not([disabled]), button:not([disabled])');
    if (input) input.focus({ preventScroll: true });
  }

  function refreshVisibility() {
    if (!S.section) return;
    S.fs = computeState();
    const st = S.fs;
    const vis = visibleNow();
    F.applyVisibility(S.section, vis);
    // Options filtered by other answers (choice_filter): redraw an item whose offer changed.
    for (const w of S.section.querySelectorAll('[data-item][data-choices]')) {
      const item = itemOf(w.dataset.item);
      if (!item) continue;
      if (choicesFor(item).map((o) => o.value).join('|') !== w.dataset.choices) {
        const fresh = F.renderItem(item, itemCtx());
        fresh.hidden = w.hidden;
        if (S.readOnly) fresh.querySelectorAll('input, textarea, button').forEach((e) => { e.disabled = true; });
        w.replaceWith(fresh);
      }
    }
    if (!S.readOnly) {
      for (const g of S.form.groups) {
        for (const item of g.items) {
          const code = item.code;
          // A chosen option no longer offered is cleared (only where the offer is known).
          const known = !item.choices_from || (st.choices && st.choices[code]) || (S.options[item.choices_from] || []).length > 0;
          if ((item.choice_filter || item.choices_from) && known && vis.has(code) && R.valueIsAnswered(S.answers[code])) {
            const ok = new Set(choicesFor(item).map((o) => o.value));
            const v = S.answers[code];
            if (Array.isArray(v)) {
              const kept = v.filter((x) => ok.has(x));
              if (kept.length !== v.length) queueSave(code, kept.length ? kept : null);
            } else if (!ok.has(v)) queueSave(code, null);
          }
          // Calculations are saved with the answers (never shown).
          if (item.type === 'calculate' && st.relevant && Object.prototype.hasOwnProperty.call(st.values, code)) {
            const v = st.values[code];
            const want = (v === '' || v === undefined) ? null : v;
            if (JSON.stringify(want) !== JSON.stringify(S.answers[code] ?? null)) queueSave(code, want);
          }
        }
      }
    }
    // Constraint messages of the expression engine, where no refused value is pending.
    for (const item of stepGroup(S.group).items) {
      const code = item.code;
      if (S.invalid.has(code)) continue;
      const msg = vis.has(code) && ruleError(code);
      F.showIssue(S.section, code, msg ? label(msg) : '');
      const w = S.section.querySelector(`[data-item="${CSS.escape(code)}"]`);
      if (!msg) F.showOffer(S.section, code, null);
      else if (w && !w.querySelector('.item-offer')) F.showOffer(S.section, code, ineligibleOffer(code, msg.kind || 'constraint', msg));
    }
    const list = steps();
    const here = stepIndexInForm(S.group);
    const pos = list.filter((g) => stepIndexInForm(g.code) < here).length + 1;
    const total = Math.max(list.length, pos);
    $('step-indicator').textContent = t('form.step', pos, total);
    $('step-indicator').dataset.pos = pos;
    $('step-indicator').dataset.total = total;
    $('progress-bar').style.width = `${Math.round((100 * pos) / total)}%`;
    $('prev').disabled = !prevStepBefore(S.group);
    $('next').textContent = nextStepAfter(S.group) ? t('form.next') : (S.readOnly ? t('form.leave') : t('form.to_review'));
    $('discard-draft').hidden = !!S.draft.assignment_id;
  }

  function stepGroup(code) { return S.form.groups.find((g) => g.code === code) || { items: [] }; }

  // Items of the step on screen that stop "Tiếp": a refused or unreadable value still typed
  // in, or a constraint that fails. Their message shows at the item.
  function stepProblems() {
    const vis = visibleNow();
    return stepGroup(S.group).items
      .map((i) => i.code)
      .filter((c) => vis.has(c) && (S.invalid.has(c) || ruleError(c)));
  }

  /** Waits for the saves; true when the step may be left, else shows why and stays. */
  async function stepClear() {
    if (S.readOnly || !S.section) return true;
    flushTimers();
    await S.saveChain;
    refreshVisibility();
    const bad = stepProblems();
    $('step-blocked').hidden = bad.length === 0;
    $('step-blocked').textContent = bad.length ? t('formui.blocked', bad.length) : '';
    if (!bad.length) return true;
    const w = S.section.querySelector(`[data-item="${CSS.escape(bad[0])}"]`);
    if (w) focusItemEl(w);
    return false;
  }

  // A failed rule on a required question of the profile or screening part (e.g. age under
  // 18) means the respondent does not qualify: the surveyor may end the interview there.
  function ineligibleOffer(code, kind, message) {
    if (S.readOnly) return null;
    const item = itemOf(code);
    const g = groupOf(code);
    if (!item || !item.required || !g || !['profile', 'screening'].includes(g.kind)) return null;
    if (!['out_of_range', 'constraint'].includes(kind)) return null;
    const box = el('div', { class: 'ineligible', 'data-ineligible-for': code });
    const ask = el('button', { type: 'button', class: 'danger', 'data-action': 'end-ineligible', text: t('formui.ineligible.offer') });
    const confirmBox = el('div', { class: 'ineligible-confirm', hidden: true, role: 'group', 'aria-label': t('formui.ineligible.offer') },
      el('p', { text: S.draft.assignment_id ? t('formui.ineligible.confirm') : t('formui.ineligible.confirm_free') }));
    const yes = el('button', { type: 'button', class: 'danger', 'data-action': 'end-ineligible-confirm', text: t('formui.ineligible.yes') });
    const no = el('button', { type: 'button', 'data-action': 'end-ineligible-cancel', text: t('common.cancel') });
    const msg = el('p', { class: 'error', role: 'alert', hidden: true });
    confirmBox.append(el('div', { class: 'actions' }, no, yes), msg);
    ask.addEventListener('click', () => { confirmBox.hidden = false; ask.hidden = true; yes.focus(); });
    no.addEventListener('click', () => { confirmBox.hidden = true; ask.hidden = false; ask.focus(); });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        await S.saveChain;
        const vi = message && message.vi ? message.vi : label(message);
        const typed = (S.section.querySelector(`#q-${CSS.escape(code)}`) || {}).value || '';
        const note = I18N.vi['formui.ineligible.note'](item.label.vi, vi, typed);
        const res = await invoke('end_ineligible', { draft_id: S.draft.id, note });
        S.draft = null; S.form = null; S.section = null; S.review = null; S.invalid = new Set();
        await navigate('assignments');
        $('assignments-status').textContent = res && res.status ? t('formui.ineligible.done') : t('formui.ineligible.done_free');
        $('assignments-status').dataset.ended = 'ineligible';
      } catch (e) {
        msg.textContent = t('common.error', errText(e));
        msg.hidden = false;
        yes.disabled = false;
      }
    });
    box.append(ask, confirmBox);
    return box;
  }

  function onDateError(code, kind, raw) {
    if (!S.section) return;
    if (kind) {
      S.invalid.add(code);
      S.issues.set(code, { kind: 'invalid_date' });
      F.showIssue(S.section, code, kind === 'calendar' ? t('formui.date.calendar', raw) : t('formui.date.format'));
    } else if (S.issues.has(code) && S.issues.get(code).kind === 'invalid_date') {
      S.invalid.delete(code);
      S.issues.delete(code);
      F.showIssue(S.section, code, '');
    }
    updateSaveState();
  }

  function updateSaveState() {
    const p = $('save-state');
    let state = 'saved';
    if (S.pending > 0) state = 'saving';
    else if (S.saveError) state = 'error';
    else if (S.invalid.size > 0) state = 'invalid';
    else if (!S.savedAt) state = 'idle';
    p.dataset.state = state;
    p.textContent = {
      saving: t('save.saving'),
      error: t('save.error', S.saveError),
      invalid: t('save.invalid'),
      saved: S.savedAt ? t('save.saved_at', S.savedAt.toLocaleTimeString(lang === 'vi' ? 'vi-VN' : 'en-GB')) : t('save.saved'),
      idle: '',
    }[state];
  }

  function onAnswer(code, value, opts) {
    clearTimeout(S.timers.get(code));
    S.timers.delete(code);
    if (opts.debounce) {
      S.timers.set(code, setTimeout(() => { S.timers.delete(code); queueSave(code, value); }, 700));
      return;
    }
    queueSave(code, value);
  }

  function flushTimers() {
    for (const [code, timer] of S.timers) {
      clearTimeout(timer);
      const input = S.section && S.section.querySelector(`[data-item="${CSS.escape(code)}"] input, [data-item="${CSS.escape(code)}"] textarea`);
      if (input) queueSave(code, input.value === '' ? null : input.value);
    }
    S.timers.clear();
  }

  function queueSave(code, value) {
    const key = JSON.stringify(value ?? null);
    if (S.lastSent.get(code) === key) return S.saveChain;
    S.lastSent.set(code, key);
    const now = performance.now();
    const ms = Math.max(0, Math.round(now - S.lastMark));
    S.lastMark = now;
    S.pending += 1;
    updateSaveState();
    const draftId = S.draft.id;
    S.saveChain = S.saveChain.then(async () => {
      try {
        const res = await invoke('save_answer', { draft_id: draftId, item_code: code, value: value ?? null, item_ms: ms });
        if (!S.draft || S.draft.id !== draftId) return;
        if (res.saved) {
          if (res.value === null || res.value === undefined) delete S.answers[code]; else S.answers[code] = res.value;
          S.invalid.delete(code);
          S.issues.delete(code);
          S.saveError = null;
          S.savedAt = new Date();
          if (S.section) { F.showIssue(S.section, code, ''); F.showOffer(S.section, code, null); }
        } else {
          S.lastSent.delete(code);
          if (S.section && S.section.querySelector(`[data-item="${CSS.escape(code)}"]`)) {
            // The refused value stays typed in, with its message; "Tiếp" is blocked.
            S.invalid.add(code);
            S.issues.set(code, res.issue || {});
            F.showIssue(S.section, code, issueText(res.issue));
            F.showOffer(S.section, code, res.issue ? ineligibleOffer(code, res.issue.kind, res.issue.message) : null);
          } else {
            showError(`${code}: ${issueText(res.issue)}`);
          }
        }
        refreshVisibility();
      } catch (e) {
        S.lastSent.delete(code);
        S.saveError = errText(e);
      } finally {
        S.pending -= 1;
        updateSaveState();
      }
    });
    return S.saveChain;
  }

  // ---------------------------------------------------------------- section menu (H-formui)
  // Every section of the form with its state (done, required answer missing, has errors,
  // not started, does not apply), from the same check as the review; a click jumps there.
  async function sectionStates() {
    flushTimers();
    await S.saveChain;
    const issues = S.readOnly ? [] : await invoke('review', { draft_id: S.draft.id });
    S.fs = null;
    const vis = visibleNow();
    const list = steps();
    const out = new Map();
    for (const g of S.form.groups) {
      const codes = g.items.map((i) => i.code);
      const mine = issues.filter((i) => codes.includes(i.item_code));
      let state;
      if (!list.includes(g)) state = 'skipped';
      else if (mine.some((i) => i.kind !== 'required') || codes.some((c) => vis.has(c) && (S.invalid.has(c) || ruleError(c)))) state = 'error';
      else if (mine.length) state = 'missing';
      else if (codes.some((c) => vis.has(c) && R.valueIsAnswered(S.answers[c]))) state = 'done';
      else state = 'todo';
      out.set(g.code, { state, issues: mine });
    }
    return out;
  }

  async function renderSectionMenu() {
    const states = await sectionStates();
    if (!S.form) return;
    const ul = $('section-list');
    ul.replaceChildren(...S.form.groups.map((g) => {
      const { state } = states.get(g.code);
      const b = el('button', {
        type: 'button', class: 'section-jump', 'data-jump': g.code, disabled: state === 'skipped',
        'aria-current': g.code === S.group ? 'step' : null,
      }, el('span', { class: 'section-title', text: label(g.title) }),
      el('span', { class: `badge section-${state}`, text: t(`formui.section.${state}`) }));
      b.addEventListener('click', async () => {
        if (g.code !== S.group && !(await stepClear())) return;
        $('section-menu').hidden = true;
        $('section-menu-btn').setAttribute('aria-expanded', 'false');
        showStep(g.code);
      });
      return el('li', { 'data-section': g.code, 'data-state': state }, b);
    }));
  }

  async function toggleSectionMenu() {
    const open = $('section-menu').hidden;
    if (open) {
      try { await renderSectionMenu(); } catch (e) { showError(e); return; }
    }
    $('section-menu').hidden = !open;
    $('section-menu-btn').setAttribute('aria-expanded', String(open));
    if (open) { const f = $('section-list').querySelector('button:not([disabled])'); if (f) f.focus(); }
  }

  // ---------------------------------------------------------------- review and submit
  function requestGps() {
    // Optional: only when the platform offers it; never waited for, never required.
    if (!('geolocation' in navigator)) return;
    try {
      navigator.geolocation.getCurrentPosition(
        (p) => { S.gps = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: p.coords.accuracy }; },
        () => {},
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 120000 },
      );
    } catch (_) { /* no location on this device */ }
  }

  async function openReview() {
    flushTimers();
    await S.saveChain;
    // Answers to questions that no longer apply (e.g. after changing B8) would block the
    // submission: remove them, exactly as the Rust check would report them.
    S.fs = null;
    const st = fstate();
    const relevant = st.relevant || new Set(R.relevantItems(S.form, S.answers).map((x) => x.item.code));
    const stale = Object.keys(S.answers).filter((c) => !relevant.has(c) && R.valueIsAnswered(S.answers[c]));
    for (const c of stale) queueSave(c, null);
    await S.saveChain;
    S.fs = null;
    $('review-cleared').hidden = stale.length === 0;
    $('review-cleared').textContent = stale.length ? t('review.cleared', stale.length) : '';
    S.review = await invoke('review', { draft_id: S.draft.id });
    renderReview();
    $('submit-status').textContent = '';
    show('review');
    requestGps();
  }

  /** An answer in plain words: option and scale labels, dates dd/mm/yyyy. */
  function answerText(item, v) {
    if (!R.valueIsAnswered(v)) return null;
    const opt = (x) => { const o = choicesFor(item).find((p) => p.value === x); return o ? label(o.label) : String(x); };
    switch (item.type) {
      case 'single_choice': return opt(v);
      case 'multi_choice': return (Array.isArray(v) ? v : [v]).map(opt).join('; ');
      case 'rating': {
        const scale = (S.form.scales || {})[item.scale] || { points: [] };
        const p = scale.points.find((x) => x.value === v);
        if (p) return `${v} — ${label(p.label)}`;
        if (scale.no_answer && scale.no_answer.value === v) return label(scale.no_answer.label);
        return String(v);
      }
      case 'date': return F.formatDate(v);
      default: return String(v);
    }
  }

  function gotoButton(code) {
    const g = groupOf(code);
    if (!g) return null;
    const b = el('button', { type: 'button', class: 'link', text: t('review.goto'), 'data-goto': code });
    b.addEventListener('click', () => showStep(g.code, code));
    return b;
  }

  function renderReview() {
    const issues = S.review || [];
    const issueCodes = new Set(issues.map((i) => i.item_code));
    S.fs = null;
    const itemLine = (code, message) => {
      const g = groupOf(code);
      const item = itemOf(code);
      const li = el('li', { 'data-review-item': code },
        el('span', { class: 'q-code', text: code }), ' ',
        el('span', { text: t('review.item', g ? label(g.title) : '', item ? label(item.label) : code) }));
      if (message) li.append(el('span', { class: 'issue-text', text: message }));
      li.append(gotoButton(code) || '');
      return li;
    };
    $('issues-list').replaceChildren(...issues.map((i) => itemLine(i.item_code, issueText(i))));
    $('review-issues').hidden = issues.length === 0;
    const vis = visibleNow();
    const unanswered = [...vis].filter((c) => !R.valueIsAnswered(S.answers[c]) && !issueCodes.has(c));
    $('unanswered-list').replaceChildren(...unanswered.map((c) => itemLine(c, '')));
    $('review-unanswered').hidden = unanswered.length === 0;
    // The answers, section by section, in plain words; each section folded (compact on a phone).
    $('review-answers').replaceChildren(...steps().map((g) => {
      const items = g.items.filter((i) => vis.has(i.code));
      const answered = items.filter((i) => R.valueIsAnswered(S.answers[i.code])).length;
      const bad = items.some((i) => issueCodes.has(i.code));
      const d = el('details', { class: 'summary-group', 'data-summary-group': g.code, 'data-state': bad ? 'error' : 'ok' });
      d.append(el('summary', {},
        el('span', { class: 'section-title', text: label(g.title) }),
        el('span', { class: `badge section-${bad ? 'error' : (answered ? 'done' : 'todo')}`, text: t('formui.summary.count', answered, items.length) })));
      const dl = el('dl', { class: 'summary-answers' });
      for (const item of items) {
        const text = answerText(item, S.answers[item.code]);
        dl.append(el('div', { class: 'summary-row', 'data-summary-item': item.code },
          el('dt', { text: label(item.label) }),
          el('dd', {}, el('span', { class: text === null ? 'muted' : 'summary-value', text: text === null ? t('formui.summary.none') : text }),
            ' ', gotoButton(item.code) || '')));
      }
      d.append(dl);
      return d;
    }));
    $('review-summary').textContent = issues.length ? t('review.bad', issues.length) : t('review.ok');
    $('review-summary').dataset.issues = issues.length;
    $('submit').disabled = issues.length > 0;
  }

  async function submit() {
    $('submit').disabled = true;
    $('submit-status').textContent = t('review.submitting');
    try {
      await S.saveChain;
      const res = await invoke('submit', { draft_id: S.draft.id, gps: S.gps });
      if (res.submitted || res.practice) {
        S.draft = null; S.form = null; S.section = null; S.review = null;
        $('submit-status').textContent = '';
        $('done-text').hidden = res.practice;
        $('done-practice').hidden = !res.practice;
        $('done-sync').hidden = res.practice;
        show('done');
      } else {
        S.review = res.issues;
        renderReview();
        $('submit-status').textContent = '';
      }
    } catch (e) {
      $('submit-status').textContent = t('common.error', errText(e));
      $('submit').disabled = false;
    }
  }

  // ---------------------------------------------------------------- submitted responses
  // The supervisor's comment on a returned response; a comment on a question names the
  // question (its code only as a secondary hint).
  function reviewComment(rc, form) {
    if (rc === null || rc === undefined) return null;
    const itemName = (code) => {
      for (const g of (form && form.groups) || []) for (const i of g.items) if (i.code === code) return label(i.label);
      return null;
    };
    const box = el('div', { class: 'review-comment' }, el('h4', { text: t('resp.review') }));
    if (typeof rc === 'string') { box.append(el('p', { text: rc })); return box; }
    const general = rc.comment || rc.message || rc.text;
    if (general) box.append(el('p', { text: String(general) }));
    const items = rc.item_comments || {};
    const keys = Object.keys(items);
    if (keys.length) {
      box.append(el('ul', {}, ...keys.map((k) => {
        const name = itemName(k);
        return el('li', { 'data-item': k },
          el('strong', { text: name || t('resp.item_code', k) }),
          name ? el('span', { class: 'q-code', text: ` (${k})` }) : null,
          `: ${items[k]}`);
      })));
    }
    if (!general && !keys.length) box.append(el('p', { text: JSON.stringify(rc) }));
    return box;
  }

  async function renderResponses() {
    const list = await invoke('list_responses');
    await loadNames();
    // The forms of returned responses, to name the questions the supervisor commented on.
    const returnedForms = new Map();
    for (const r of list) {
      if (r.status === 'rejected' && r.form) returnedForms.set(r.id, await getForm(r.form).catch(() => null));
    }
    $('responses-list').replaceChildren(...list.map((r) => {
      const p = place(r);
      // "Nguyễn Văn An — Cấp căn cước — 14:05": the respondent's name (kept on this device
      // only, while the contact is), the procedure and the time; no ids or codes.
      const title = [p.respondent, p.procedure || label(r.form_title), fmtClock(r.completed_at)].filter(Boolean).join(' — ');
      const li = el('li', { class: 'card', 'data-response': r.id, 'data-status': r.status },
        el('h3', { text: title }),
        el('p', { class: 'muted', text: [placeText(p), r.revision > 1 ? t('resp.revision', r.revision) : null].filter(Boolean).join(' · ') }),
        el('p', { class: 'muted', text: t('resp.completed', fmtTime(r.completed_at)) }),
        el('p', {}, el('span', { class: `badge rstatus-${r.status}`, text: t(`rstatus.${r.status}`) }),
          r.outbox_state ? el('span', { class: 'muted', text: ` · ${t(`outbox.${r.outbox_state}`)}` }) : null),
      );
      if (r.refusal) {
        // The server's reason code, in the surveyor's language (not the server's English text).
        li.dataset.refusal = r.refusal.code;
        li.append(el('div', { class: 'note refusal', role: 'group', 'aria-label': t('resp.refused') },
          el('p', {}, el('strong', { text: t('resp.refused') })),
          el('p', { class: 'refusal-message', text: lang === 'en' ? r.refusal.message_en : r.refusal.message_vi }),
          r.refusal.kept_on_server ? el('p', { text: t('resp.refused.kept') }) : null));
      } else if (r.outbox_attempts > 0 && (r.outbox_state === 'pending' || r.outbox_state === 'in_flight')) {
        // Only while it is still waiting: no stale failure on a card the server has confirmed.
        li.append(el('p', { class: 'note', text: t('resp.not_sent', r.outbox_attempts) }));
      }
      if (r.status === 'rejected') {
        const rc = reviewComment(r.review_comment, returnedForms.get(r.id));
        if (rc) li.append(rc);
        li.append(el('div', { class: 'actions', 'data-action': 'reopen' }, actionButton(r.reopened ? t('resp.continue') : t('resp.reopen'), 'primary',
          async () => {
            // Open the correction at the first question the supervisor commented on.
            const codes = Object.keys((r.review_comment && r.review_comment.item_comments) || {});
            const general = (r.review_comment && r.review_comment.comment) || '';
            await openDraft(await invoke('reopen_response', { response_id: r.id }), { focusItem: codes[0], note: general });
          })));
      }
      return li;
    }));
    $('responses-status').textContent = list.length ? '' : t('resp.empty');
  }

  // ---------------------------------------------------------------- sync and enrolment
  /** The header badge: online / offline / syncing, N waiting, last success (hidden until enrolled). */
  function renderBadge(st) {
    const badge = $('net-badge');
    document.body.dataset.enrolled = st.enrolled ? 'true' : 'false';
    badge.hidden = !st.enrolled;
    if (!st.enrolled) return;
    let state = 'unknown';
    if (st.revoked) state = 'revoked';
    else if (st.syncing) state = 'syncing';
    else if (st.online === false) state = 'offline';
    else if (st.online === true) state = 'online';
    else if (st.last_problem && st.last_problem.code === 'sync.offline') state = 'offline';
    else if (st.log.last_success_at) state = 'online';
    badge.dataset.state = state;
    badge.dataset.waiting = String(st.waiting);
    $('net-state').textContent = t(`badge.${state}`);
    $('net-waiting').hidden = !st.waiting;
    $('net-waiting').textContent = st.waiting ? t('badge.waiting', st.waiting) : '';
    $('net-last').hidden = !st.log.last_success_at;
    $('net-last').textContent = st.log.last_success_at ? t('badge.last', fmtTime(st.log.last_success_at)) : '';
  }

  async function refreshBadge() {
    if (document.body.dataset.locked === 'true') return;
    try {
      const st = await invoke('sync_status');
      renderBadge(st);
      if (S.screen === 'sync') renderSyncStatus(st);
    } catch (_) { /* locked meanwhile */ }
  }

  function renderSyncStatus(st) {
    renderBadge(st);
    // Records and field outcomes waiting: the same number as the header badge.
    const waiting = st.waiting;
    $('sync-pending').textContent = waiting ? t('sync.pending', waiting) : t('sync.pending.none');
    if (st.counts.rejected) $('sync-pending').textContent += ` · ${t('sync.rejected', st.counts.rejected)}`;
    $('sync-pending').dataset.pending = waiting;
    $('sync-last-success').textContent = st.log.last_success_at ? fmtTime(st.log.last_success_at) : t('common.never');
    // Only a failure no sync has cleared since, in plain words.
    // Revoked: the notice below explains once; here only its title.
    $('sync-last-error').textContent = st.last_problem
      ? [st.log.last_error_at ? fmtTime(st.log.last_error_at) : null,
        st.revoked ? t('sync.revoked.title') : problemText(st.last_problem)].filter(Boolean).join(': ')
      : t('common.none');
    $('sync-last-error').dataset.problem = st.last_problem ? st.last_problem.code : '';
    $('sync-enrolment').textContent = st.enrolled
      ? [st.user ? t('sync.enrolled.as', st.user) : t('sync.enrolled.plain'),
        st.pinned_certificate ? t('sync.pinned') : (st.custom_certificate ? t('sync.cert') : null)].filter(Boolean).join(' ')
      : t('sync.not_enrolled');
    $('open-enrol').textContent = st.enrolled ? t('sync.reenrol') : t('sync.enrol');
    $('open-enrol').classList.toggle('primary', !st.enrolled);
    $('sync-auto').hidden = !st.enrolled || st.revoked;
    $('sync-revoked').hidden = !st.revoked;
    document.body.dataset.revoked = st.revoked ? 'true' : 'false';
    // A result message stays only while it is still true: "done" until a failure or until the
    // number waiting changes; an error until a sync succeeds.
    const r = $('sync-result');
    if (r.dataset.kind === 'done' && (st.last_problem || String(st.waiting) !== r.dataset.waiting)) setSyncResult('', null);
    if (r.dataset.kind === 'error' && (st.log.last_success_at || '') !== r.dataset.success) setSyncResult('', null);
    S.lastStatus = st;
  }

  function setSyncResult(kind, render) {
    const r = $('sync-result');
    const st = S.lastStatus;
    r.dataset.kind = kind;
    r.dataset.waiting = st ? String(st.waiting) : '';
    r.dataset.success = (st && st.log.last_success_at) || '';
    say('sync-result', render || null);
  }

  // Messages that must follow a language switch: each is kept as the function that words it.
  const spoken = new Map();
  // Shows a message under an action (kept through a language switch); `kind` 'error' styles
  // it as an error (red box), anything else as plain status text.
  function say(id, render, kind) {
    if (render) spoken.set(id, render); else spoken.delete(id);
    $(id).textContent = render ? render() : '';
    $(id).classList.toggle('error', !!render && kind === 'error');
  }
  function resay() {
    for (const [id, render] of spoken) $(id).textContent = render();
  }

  async function renderSync() {
    renderSyncStatus(await invoke('sync_status'));
    if (!$('handover-where').textContent) {
      try {
        showHandoverFolder(await invoke('handover_folder'));
      } catch (e) { $('handover-where').textContent = errText(e); }
    }
  }

  function showHandoverFolder(f) {
    $('handover-where').textContent = f.dir;
    $('handover-default').hidden = !f.chosen;
    document.body.dataset.handoverFolder = f.chosen ? 'chosen' : 'default';
  }

  // The folder is picked in the system's folder dialog, never typed; where there is none
  // (a phone), the command says so plainly and the default folder stays.
  async function chooseHandoverDir() {
    const out = $('handover-export-result');
    const b = $('handover-choose');
    b.disabled = true;
    try {
      const before = $('handover-where').textContent;
      const f = await invoke('choose_handover_dir', { title: t('handover.choose.title') });
      showHandoverFolder(f);
      if (f.dir !== before) say(out.id, () => t('handover.chosen'));
    } catch (e) {
      say(out.id, () => errText(e), 'error');
    } finally {
      b.disabled = false;
    }
  }

  async function useDefaultHandoverDir() {
    const out = $('handover-export-result');
    try {
      showHandoverFolder(await invoke('use_default_handover_dir'));
      say(out.id, () => t('handover.default_again'));
    } catch (e) {
      say(out.id, () => errText(e), 'error');
    }
  }

  async function exportHandover(ev) {
    ev.preventDefault();
    const b = $('handover-export');
    const out = $('handover-export-result');
    b.disabled = true;
    say(out.id, () => t('handover.exporting'));
    try {
      const r = await invoke('export_handover');
      $('handover-where').textContent = r.dir;
      say(out.id, () => (r.records ? t('handover.saved', r.records, r.names.join(', ')) : t('handover.saved.none')));
    } catch (e) {
      say(out.id, () => t('common.error', errText(e)), 'error');
    } finally { b.disabled = false; }
  }

  async function openHandoverDir() {
    const out = $('handover-export-result');
    try {
      await invoke('open_handover_dir');
      say(out.id, () => t('handover.opened'));
    } catch (e) { say(out.id, () => errText(e), 'error'); }
  }

  /** The chosen file's bytes as standard base64. */
  function fileBase64(file) {
    return new Promise((resolve, reject) => {
      const rd = new FileReader();
      rd.onload = () => {
        const url = String(rd.result);
        resolve(url.slice(url.indexOf(',') + 1));
      };
      rd.onerror = () => reject(rd.error);
      rd.readAsDataURL(file);
    });
  }

  async function applyHandover(ev) {
    ev.preventDefault();
    const b = $('handover-apply');
    const out = $('handover-apply-result');
    const file = $('handover-reply-file').files[0];
    if (!file) { say(out.id, () => t('handover.reply.none')); return; }
    b.disabled = true;
    say(out.id, () => t('handover.applying'));
    try {
      const r = await invoke('apply_handover_result', { content_base64: await fileBase64(file) });
      renderSyncStatus(r.status);
      say(out.id, () => t('handover.applied', r.report));
    } catch (e) {
      say(out.id, () => t('common.error', errText(e)), 'error');
    } finally { b.disabled = false; }
  }

  async function syncNow() {
    const b = $('sync-now');
    b.disabled = true;
    setSyncResult('running', () => t('sync.running'));
    const badge = $('net-badge');
    badge.dataset.state = 'syncing';
    $('net-state').textContent = t('badge.syncing');
    try {
      const st = await invoke('sync_now');
      const waiting = st.waiting;
      renderSyncStatus(st);
      setSyncResult('done', () => (waiting ? t('sync.ok.waiting', waiting) : t('sync.ok.now')));
    } catch (e) {
      await renderSync().catch(() => {});
      setSyncResult('error', () => errText(e));
      // Revoked: say so plainly in a few words (the notice tells what to do), no server text.
      if (document.body.dataset.revoked === 'true') setSyncResult('error', () => t('sync.revoked.title'));
    } finally { b.disabled = false; }
  }

  async function enrol(ev) {
    ev.preventDefault();
    const b = $('enrol-submit');
    const payload = $('enrol-payload').value.trim();
    const url = $('enrol-url').value.trim();
    const code = $('enrol-code').value.trim();
    if (!payload && !(url && code)) { say('enrol-result', () => t('enrol.empty')); $('enrol-payload').focus(); return; }
    b.disabled = true;
    say('enrol-result', () => t('enrol.running'));
    try {
      const st = await invoke('enrol', {
        payload: payload || null,
        server_url: payload ? null : url,
        code: payload ? null : code,
        device_name: $('enrol-device').value || null,
        certificate: payload ? null : ($('enrol-cert').value.trim() || null),
      });
      for (const id of ['enrol-payload', 'enrol-code']) $(id).value = '';
      say('enrol-result', () => t('enrol.ok'));
      renderBadge(st);
      await navigate('sync');
    } catch (e) {
      say('enrol-result', () => t('common.error', errText(e)), 'error');
    } finally { b.disabled = false; }
  }

  function setMenu(open) {
    document.body.dataset.menu = open ? 'open' : 'closed';
    $('menu-btn').setAttribute('aria-expanded', String(open));
  }

  // ---------------------------------------------------------------- PIN: unlock, lock, change
  // The PIN stays in its input only until the command returns; it is never kept in S.
  const pinLength = (pin) => [...pin.trim()].length;

  // Checks a PIN being created (the Rust side checks again): null when fine, else the message.

  // ---------------------------------------------------------------- spot checks (MTTQ)
  const itemLabel = (it) => (lang === 'en' && it.label && it.label.en) ? it.label.en : (it.label_vi || label(it.label) || it.code);

  // H-monitor (issue 13): the tasks live in the device's encrypted store, so the screen works
  // offline; signing in only syncs (send recorded findings, refresh tasks).
  async function renderMonitor() {
    const st = await invoke('monitor_status');
    $('monitor-login-form').hidden = st.signed_in;
    $('monitor-session').hidden = !st.signed_in;
    if (!st.signed_in && !$('monitor-url').value && st.server_url) $('monitor-url').value = st.server_url;
    if (st.signed_in) $('monitor-user').textContent = t('monitor.signed_in', st.user || '', st.server_url || '');
    drawMonitorSyncState(st);
    try {
      S.monitorTasks = await invoke('monitor_tasks');
    } catch (e) {
      $('monitor-status').textContent = errText(e);
      return;
    }
    drawMonitorTasks();
  }

  function drawMonitorSyncState(st) {
    const parts = [];
    if (!st.signed_in) parts.push(t('monitor.offline_hint'));
    if (st.pending) parts.push(t('monitor.pending', st.pending));
    else if (st.tasks) parts.push(t('monitor.all_sent'));
    $('monitor-sync-state').textContent = parts.join(' ');
  }

  async function monitorSync() {
    const b = $('monitor-refresh');
    b.disabled = true;
    $('monitor-status').textContent = t('common.loading');
    try {
      const before = (await invoke('monitor_status')).pending || 0;
      const st = await invoke('monitor_sync');
      drawMonitorSyncState(st);
      S.monitorTasks = await invoke('monitor_tasks');
      drawMonitorTasks();
      $('monitor-status').textContent = t('monitor.synced', Math.max(0, before - (st.pending || 0)));
    } catch (e) {
      $('monitor-status').textContent = errText(e);
      await renderMonitor().catch(() => {});
      $('monitor-status').textContent = errText(e);
    } finally {
      b.disabled = false;
    }
  }

  function drawMonitorTasks() {
    const tasks = S.monitorTasks || [];
    $('monitor-status').textContent = tasks.length ? t('monitor.count', tasks.length) : t('monitor.empty');
    $('monitor-tasks').replaceChildren(...tasks.map((task, i) => monitorCard(task, i)));
  }

  function keyInput(task, it) {
    const id = `m-${task.task_id}-${it.code}`;
    if (it.type === 'rating' && it.scale) {
      const points = [...(it.scale.points || [])];
      if (it.scale.no_answer) points.push({ ...it.scale.no_answer, na: true });
      const box = el('div', { class: 'rating', role: 'radiogroup', 'aria-label': itemLabel(it), 'data-kind': 'rating' });
      for (const p of points) {
        const b = el('button', { type: 'button', class: `rate${p.na ? ' na' : ''}`, role: 'radio', 'aria-checked': 'false', 'data-value': String(p.value) },
          el('span', { class: 'rate-num', text: p.na ? '' : String(p.value) }), el('span', { class: 'rate-label', text: label(p.label) }));
        b.addEventListener('click', () => {
          for (const o of box.querySelectorAll('button')) o.setAttribute('aria-checked', o === b ? 'true' : 'false');
          box.dataset.answer = String(p.value);
        });
        box.append(b);
      }
      box.read = () => (box.dataset.answer === undefined ? undefined : Number(box.dataset.answer));
      return box;
    }
    if ((it.type === 'single_choice' || it.type === 'multi_choice') && Array.isArray(it.options)) {
      const multi = it.type === 'multi_choice';
      const box = el('div', { role: multi ? 'group' : 'radiogroup', 'aria-label': itemLabel(it) });
      for (const o of it.options) {
        const oid = `${id}-${o.value}`;
        box.append(el('label', { class: 'choice', for: oid },
          el('input', { type: multi ? 'checkbox' : 'radio', id: oid, name: id, value: String(o.value) }), label(o.label)));
      }
      box.read = () => {
        const on = [...box.querySelectorAll('input:checked')].map((x) => x.value);
        if (multi) return on.length ? on : undefined;
        return on.length ? on[0] : undefined;
      };
      return box;
    }
    const integer = it.type === 'integer';
    const input = el('input', { id, type: integer ? 'number' : 'text', inputMode: integer ? 'numeric' : undefined, min: it.min, max: it.max, maxLength: it.max_length, autocomplete: 'off' });
    input.read = () => {
      const v = input.value.trim();
      if (!v) return undefined;
      return integer ? Number(v) : v;
    };
    return input;
  }

  function contactBlock(task) {
    const c = task.contact;
    if (!c) return null;
    return el('dl', { class: 'facts monitor-contact', 'data-contact': '' },
      el('dt', { text: t('monitor.contact') }), el('dd', { text: c.name || '' }),
      el('dt', { text: t('monitor.address') }), el('dd', { text: c.address || '' }),
      el('dt', { text: t('monitor.phone') }), el('dd', { text: c.phone || '' }));
  }

  // Names first, codes secondary; never a literal "null".
  function monitorPlace(task) {
    const unit = task.unit_name
      ? `${task.unit_name}${task.unit_code ? ` (${t('monitor.unit_code', task.unit_code)})` : ''}`
      : (task.unit_code || '');
    return [
      task.round_name || task.round_id ? `${t('monitor.round')}: ${task.round_name || task.round_id}` : null,
      unit ? `${t('monitor.unit')}: ${unit}` : null,
      task.procedure ? `${t('monitor.procedure')}: ${task.procedure}` : null,
    ].filter(Boolean).join(' · ');
  }

  function monitorOutcome(task) {
    const out = [];
    if (task.sync === 'pending') out.push(el('p', { class: 'monitor-done', 'data-role': 'done', 'data-sync': 'pending', text: t('monitor.recorded_pending') }));
    else if (task.sync === 'refused') out.push(el('p', { class: 'error', 'data-role': 'done', 'data-sync': 'refused', text: t('monitor.refused', task.sync_error || '') }));
    else out.push(el('p', { class: 'monitor-done', 'data-role': 'done', 'data-sync': 'sent', text: t('monitor.done') }));
    if (task.sync === 'sent') {
      const rate = task.agreement_rate;
      out.push(el('p', { 'data-role': 'agreement', text: typeof rate === 'number' ? t('monitor.agreement', Math.round(rate * 1000) / 10) : t('monitor.agreement_none') }));
    }
    out.push(el('p', { class: 'muted', text: t('monitor.final') }));
    return out;
  }

  function monitorCard(task, index) {
    const done = Boolean(task.recorded) || task.state === 'done';
    const card = el('li', { class: `card${done ? ' done' : ''}`, 'data-task': task.task_id, 'data-done': String(done) },
      el('h3', { text: t('monitor.task', index + 1) }),
      el('p', { class: 'muted', text: monitorPlace(task) }),
      done ? null : contactBlock(task));
    if (done) {
      card.append(...monitorOutcome(task));
      return card;
    }
    const p = `m-${task.task_id}`;
    const yes = el('input', { type: 'radio', id: `${p}-visit-yes`, name: `${p}-visit`, value: 'yes' });
    const no = el('input', { type: 'radio', id: `${p}-visit-no`, name: `${p}-visit`, value: 'no' });
    const items = (task.key_items || []).map((it) => [it, keyInput(task, it)]);
    const keys = el('fieldset', { class: 'key-items' }, el('legend', { text: t('monitor.key_items') }),
      ...items.map(([it, input]) => el('div', { class: 'field item', 'data-item': it.code },
        el(input.tagName === 'INPUT' ? 'label' : 'span', { class: 'label', for: input.tagName === 'INPUT' ? input.id : null, text: `${it.code}. ${itemLabel(it)}` }), input)));
    const toggle = () => { keys.disabled = no.checked; };
    yes.addEventListener('change', toggle);
    no.addEventListener('change', toggle);
    const note = el('textarea', { id: `${p}-note`, rows: 2, maxLength: 2000, placeholder: t('monitor.note_ph') });
    const msg = el('p', { class: 'error', role: 'alert', hidden: true, 'data-role': 'error' });
    const submitBtn = el('button', { type: 'submit', class: 'primary', text: t('monitor.submit') });
    const form = el('form', { class: 'monitor-form', novalidate: true },
      el('fieldset', null, el('legend', { text: t('monitor.visit') }),
        el('label', { class: 'choice', for: yes.id }, yes, t('monitor.visit_yes')),
        el('label', { class: 'choice', for: no.id }, no, t('monitor.visit_no'))),
      keys,
      el('div', { class: 'field' }, el('label', { for: note.id, text: t('monitor.note') }), note),
      msg, submitBtn);
    const fail = (text) => { msg.textContent = text; msg.hidden = false; };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      msg.hidden = true;
      if (!yes.checked && !no.checked) { fail(t('monitor.need_visit')); return; }
      const answers = {};
      if (yes.checked) {
        for (const [it, input] of items) {
          const v = input.read();
          if (v !== undefined && !(typeof v === 'number' && Number.isNaN(v))) answers[it.code] = v;
        }
        if (items.length && Object.keys(answers).length === 0) { fail(t('monitor.need_answers')); return; }
      }
      submitBtn.disabled = true;
      try {
        const updated = await invoke('monitor_submit', {
          task_id: task.task_id, visit_happened: yes.checked, answers, note: note.value.trim() || null,
        });
        const i = S.monitorTasks.findIndex((x) => x.task_id === task.task_id);
        // The contact is not kept once the findings are in.
        if (i >= 0) S.monitorTasks[i] = updated && updated.task_id ? updated : { ...task, contact: null, state: 'done', recorded: true, sync: 'pending' };
        drawMonitorTasks();
        drawMonitorSyncState(await invoke('monitor_status'));
        const doneCard = document.querySelector(`[data-task="${task.task_id}"] [data-role="done"]`);
        if (doneCard) doneCard.scrollIntoView({ block: 'nearest' });
      } catch (e) {
        fail(errText(e));
        submitBtn.disabled = false;
      }
    });
    card.append(form);
    return card;
  }

  async function monitorLogin(ev) {
    ev.preventDefault();
    setPinError('monitor-login-error', '');
    const url = $('monitor-url').value.trim();
    const username = $('monitor-username').value.trim();
    const password = $('monitor-password').value;
    if (!url || !username || !password) { setPinError('monitor-login-error', t('monitor.missing')); return; }
    const b = $('monitor-login');
    b.disabled = true;
    try {
      await invoke('monitor_login', { server_url: url, username, password });
      $('monitor-password').value = '';
      await renderMonitor();
    } catch (e) {
      setPinError('monitor-login-error', errText(e));
    } finally {
      b.disabled = false;
    }
  }

  async function monitorLogout() {
    try {
      await invoke('monitor_logout');
    } catch (e) { showError(e); }
    await navigate('monitor');
  }

  function newPinProblem(pin, confirm, min) {
    if (pinLength(pin) < min) return t('pin.too_short', min);
    if (pin.normalize('NFC') !== confirm.normalize('NFC')) return t('pin.mismatch');
    return null;
  }

  function setPinError(id, text) {
    $(id).textContent = text || '';
    $(id).hidden = !text;
  }

  function renderUnlock() {
    const st = S.lock || { new_pin: false, converts_plain: false, min_pin_chars: 6 };
    const min = st.min_pin_chars;
    $('unlock-h').textContent = st.new_pin ? t('unlock.create.heading') : t('unlock.enter.heading');
    $('unlock-intro').textContent = st.converts_plain ? t('unlock.convert.intro', min)
      : st.new_pin ? t('unlock.create.intro', min) : t('unlock.enter.intro');
    $('unlock-pin-label').textContent = st.new_pin ? t('unlock.new_pin', min) : t('unlock.pin');
    $('unlock-pin').autocomplete = st.new_pin ? 'new-password' : 'current-password';
    $('unlock-confirm-field').hidden = !st.new_pin;
    $('unlock-submit').textContent = st.new_pin ? t('unlock.submit.create') : t('unlock.submit.enter');
    $('forgot-row').hidden = !!st.new_pin;
    document.body.dataset.pinMode = st.new_pin ? 'create' : 'enter';
  }

  function showUnlock(st) {
    S.lock = st;
    document.body.dataset.locked = 'true';
    renderUnlock();
    setPinError('unlock-error', '');
    $('unlock-status').textContent = '';
    show('unlock', { focus: false });
    $('unlock-pin').focus();
  }

  async function unlock(ev) {
    ev.preventDefault();
    const st = S.lock || {};
    const pin = $('unlock-pin').value;
    const confirm = $('unlock-confirm').value;
    const problem = st.new_pin ? newPinProblem(pin, confirm, st.min_pin_chars) : (pin ? null : t('pin.empty'));
    if (problem) {
      setPinError('unlock-error', problem);
      $(st.new_pin && pinLength(pin) >= st.min_pin_chars ? 'unlock-confirm' : 'unlock-pin').focus();
      return;
    }
    const b = $('unlock-submit');
    b.disabled = true;
    setPinError('unlock-error', '');
    $('unlock-status').textContent = t('unlock.running');
    try {
      await invoke('unlock', { pin, confirm: st.new_pin ? confirm : null });
    } catch (e) {
      $('unlock-status').textContent = '';
      setPinError('unlock-error', errText(e));
      $('unlock-pin').value = '';
      $('unlock-confirm').value = '';
      $('unlock-pin').focus();
      b.disabled = false;
      return;
    }
    $('unlock-pin').value = '';
    $('unlock-confirm').value = '';
    $('unlock-status').textContent = '';
    b.disabled = false;
    S.lock = null;
    document.body.dataset.ready = 'false';
    await enterApp();
    document.body.dataset.ready = 'true';
  }

  // "Quên mã PIN": the recovery request goes to the supervisor, who answers a reset code
  // (made with the province's recovery key); with it the surveyor sets a new PIN. The store
  // is re-encrypted under the new PIN by the Rust side; every record stays.
  const recoveryDigits = (code) => (code.match(/[0-9a-fA-F]/g) || []).length;

  async function openRecover() {
    setPinError('recover-error', '');
    say('recover-status', null);
    say('recover-copied', null);
    for (const id of ['recover-code', 'recover-pin', 'recover-confirm']) $(id).value = '';
    let request = null;
    try {
      request = await invoke('recovery_request');
    } catch (e) {
      setPinError('recover-error', errText(e));
    }
    // Shown in groups of 4 to be read out over the phone; the supervisor's tool ignores the
    // spaces (and line breaks a chat app adds).
    $('recover-request').value = request ? request.match(/.{1,4}/g).join(' ') : '';
    $('recover-none').hidden = request !== null || !$('recover-error').hidden;
    $('recover-form').hidden = request === null;
    document.body.dataset.recovery = request ? 'available' : 'none';
    show('recover');
  }

  async function copyRequest() {
    const area = $('recover-request');
    area.focus();
    area.select();
    try {
      await navigator.clipboard.writeText(area.value);
      say('recover-copied', () => t('recover.copied'));
    } catch (_) {
      say('recover-copied', () => t('recover.copy_failed'));
    }
  }

  async function resetPin(ev) {
    ev.preventDefault();
    const code = $('recover-code').value.trim();
    const pin = $('recover-pin').value;
    const confirm = $('recover-confirm').value;
    const digits = recoveryDigits(code);
    const problem = !code ? t('recover.code.empty')
      : digits < 64 ? t('recover.code.short', digits)
        : newPinProblem(pin, confirm, (S.lock && S.lock.min_pin_chars) || 6);
    if (problem) {
      setPinError('recover-error', problem);
      $(!code || digits < 64 ? 'recover-code' : (pinLength(pin) < 6 ? 'recover-pin' : 'recover-confirm')).focus();
      return;
    }
    const b = $('recover-submit');
    b.disabled = true;
    setPinError('recover-error', '');
    say('recover-status', () => t('recover.running'));
    try {
      await invoke('reset_pin', { code, new_pin: pin, confirm });
    } catch (e) {
      say('recover-status', null);
      setPinError('recover-error', errText(e));
      $('recover-pin').value = '';
      $('recover-confirm').value = '';
      $('recover-code').focus();
      b.disabled = false;
      return;
    }
    for (const id of ['recover-code', 'recover-pin', 'recover-confirm', 'recover-request']) $(id).value = '';
    say('recover-status', null);
    b.disabled = false;
    S.lock = null;
    document.body.dataset.ready = 'false';
    await enterApp();
    document.body.dataset.ready = 'true';
  }

  async function lockApp() {
    // Every answer typed so far is saved first; then the store is closed and the page is
    // reloaded, so no personal data stays on screen or in memory.
    if (S.screen === 'form') flushTimers();
    try { await S.saveChain; } catch (_) { /* shown where it happened */ }
    try {
      await invoke('lock');
    } catch (e) { showError(e); return; }
    window.location.reload();
  }

  async function changePin(ev) {
    ev.preventDefault();
    const oldPin = $('pin-old').value;
    const newPin = $('pin-new').value;
    const confirm = $('pin-confirm').value;
    const problem = oldPin ? newPinProblem(newPin, confirm, 6) : t('pin.empty');
    if (problem) { setPinError('pin-error', problem); return; }
    const b = $('pin-submit');
    b.disabled = true;
    setPinError('pin-error', '');
    $('pin-status').textContent = t('pin.change.running');
    try {
      await invoke('change_pin', { old_pin: oldPin, new_pin: newPin, confirm });
      $('pin-status').textContent = t('pin.change.ok');
    } catch (e) {
      $('pin-status').textContent = '';
      setPinError('pin-error', errText(e));
    } finally {
      for (const id of ['pin-old', 'pin-new', 'pin-confirm']) $(id).value = '';
      b.disabled = false;
    }
  }

  // ---------------------------------------------------------------- wiring
  function rerender() {
    applyStatic();
    if (S.screen === 'unlock') renderUnlock();
    else if (S.screen === 'form' && S.draft) showStep(S.group);
    else if (S.screen === 'review' && S.draft) renderReview();
    else if (['assignments', 'responses', 'sync'].includes(S.screen)) navigate(S.screen);
    else if (S.screen === 'monitor') drawMonitorTasks();
    resay();
    refreshBadge();
  }

  $('lang-toggle').addEventListener('click', () => {
    lang = lang === 'vi' ? 'en' : 'vi';
    localStorage.setItem('sipas.lang', lang);
    rerender();
  });
  for (const b of document.querySelectorAll('[data-nav]')) b.addEventListener('click', () => navigate(b.dataset.nav));
  let searchTimer = null;
  $('search').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => renderAssignments().catch(showError), 250);
  });
  $('status-filter').addEventListener('change', () => renderAssignments().catch(showError));
  for (const r of document.querySelectorAll('input[name="free-kind"]')) r.addEventListener('change', renderFree);
  $('free-round').addEventListener('change', renderFree);
  $('free-form-el').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const [formId, version] = $('free-form').value.split('@');
    const kind = freeKind();
    const request = kind === 'practice'
      ? { form_id: formId, version, practice: true }
      : { round_id: $('free-round').value, unit_code: $('free-unit').value, origin: kind };
    try {
      showError(null);
      openDraft(await invoke('start_draft', { request }));
    } catch (e) { showError(e); }
  });
  // Form flow (H-formui): "Tiếp", "Xem lại" and the section menu move on only from a step
  // without refused or failing answers.
  $('prev').addEventListener('click', () => { const g = prevStepBefore(S.group); if (g) showStep(g.code); });
  $('next').addEventListener('click', async () => {
    if (!(await stepClear())) return;
    const g = nextStepAfter(S.group);
    if (g) showStep(g.code);
    else if (S.readOnly) await navigate('assignments');
    else await openReview().catch(showError);
  });
  $('to-review').addEventListener('click', async () => { if (await stepClear()) await openReview().catch(showError); });
  $('section-menu-btn').addEventListener('click', () => toggleSectionMenu().catch(showError));
  $('leave-form').addEventListener('click', () => navigate('assignments'));
  $('discard-draft').addEventListener('click', async () => {
    if (!window.confirm(t('form.discard.confirm'))) return;
    try {
      await S.saveChain;
      await invoke('discard_draft', { draft_id: S.draft.id });
      S.draft = null; S.section = null;
      await navigate('assignments');
    } catch (e) { showError(e); }
  });
  $('back-to-form').addEventListener('click', () => showStep(S.group));
  $('submit').addEventListener('click', submit);
  $('done-list').addEventListener('click', () => navigate('assignments'));
  $('done-sync').addEventListener('click', () => navigate('sync'));
  $('sync-now').addEventListener('click', syncNow);
  $('handover-export-form').addEventListener('submit', exportHandover);
  $('handover-apply-form').addEventListener('submit', applyHandover);
  $('handover-open').addEventListener('click', openHandoverDir);
  $('menu-btn').addEventListener('click', () => setMenu(document.body.dataset.menu !== 'open'));
  $('open-enrol').addEventListener('click', () => { say('enrol-result', null); show('enrol'); });
  $('enrol-back').addEventListener('click', () => navigate('sync'));
  $('enrol-form').addEventListener('submit', enrol);
  $('unlock-form').addEventListener('submit', unlock);
  $('lock-btn').addEventListener('click', lockApp);
  $('forgot-pin').addEventListener('click', () => openRecover().catch(showError));
  $('recover-copy').addEventListener('click', copyRequest);
  $('recover-back').addEventListener('click', () => showUnlock(S.lock));
  $('recover-form').addEventListener('submit', resetPin);
  $('handover-choose').addEventListener('click', chooseHandoverDir);
  $('handover-default').addEventListener('click', useDefaultHandoverDir);
  $('open-pin').addEventListener('click', () => {
    setPinError('pin-error', '');
    $('pin-status').textContent = '';
    show('pin');
  });
  $('pin-back').addEventListener('click', () => navigate('sync'));
  $('pin-form').addEventListener('submit', changePin);
  $('monitor-login-form').addEventListener('submit', monitorLogin);
  $('monitor-logout').addEventListener('click', monitorLogout);
  $('monitor-refresh').addEventListener('click', monitorSync);
  window.addEventListener('pagehide', flushTimers);

  // The app after unlocking: reopening it lands on the interview that was open (the most
  // recently saved), else on the list.
  async function enterApp() {
    document.body.dataset.locked = 'false';
    refreshBadge();
    if (!S.badgeTimer) S.badgeTimer = setInterval(refreshBadge, 3000);
    try {
      S.forms = await invoke('list_forms');
      applyStatic();
      const drafts = (await invoke('list_drafts')).filter((d) => !d.withdrawn);
      if (drafts.length) await openDraft(await invoke('get_draft', { draft_id: drafts[0].id }));
      else await navigate('assignments');
    } catch (e) {
      showError(e);
      show('assignments');
    }
  }

  async function start() {
    applyStatic();
    try {
      const st = await invoke('lock_status');
      if (st.unlocked) await enterApp();
      else showUnlock(st);
    } catch (e) {
      showError(e);
    }
    document.body.dataset.ready = 'true';
  }
  start();
})();
