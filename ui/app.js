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
  const errText = (e) => (e && e.message) ? e.message : String(e);
  const fmtTime = (iso) => {
    if (!iso) return '';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' });
  };
  const issueText = (issue) => issue ? (lang === 'en' && issue.message.en ? issue.message.en : issue.message.vi) : '';

  const OUTCOMES = ['absent', 'refused', 'moved', 'invalid', 'form_delivered', 'not_visited'];
  const STATUSES = ['not_visited', 'form_delivered', 'collected', 'absent', 'refused', 'moved', 'invalid'];
  const SCREENS = ['unlock', 'assignments', 'form', 'review', 'done', 'responses', 'sync', 'enrol', 'pin', 'monitor'];

  const S = {
    screen: 'loading',
    forms: [],
    formCache: new Map(),
    // The interview on screen.
    form: null, draft: null, answers: {}, group: null, section: null,
    lastMark: 0, saveChain: Promise.resolve(), pending: 0, saveError: null,
    timers: new Map(), lastSent: new Map(), invalid: new Set(), savedAt: null,
    review: null, gps: null, note: null, readOnly: false,
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
      value: `${f.form_id}@${f.version}`, text: `${lang === 'en' && f.title_en ? f.title_en : f.title_vi} (${f.form_id}@${f.version})`,
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
      round: a.round_name || N.rounds.get(x.round_id) || x.round_id,
      unit: a.unit_name || N.units.get(x.unit_code) || x.unit_code,
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
      el('h3', { text: place(d).procedure || label(d.form_title) || `${d.form.form_id}@${d.form.version}` }),
      el('p', { class: 'muted', text: `${placeText(place(d))} · ${t('drafts.item', d.answered)}` }),
      codesLine(place(d)),
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
        el('p', { class: 'muted', text: t('assign.unit', p.unit, p.agency) }),
        el('p', { class: 'muted', text: `${p.round} · ${label(a.form_title) || a.form.form_id}` }),
        codesLine(p, a.field_name),
        el('p', {}, el('span', { class: 'badge status-withdrawn', text: t('assign.withdrawn') })),
        el('p', { class: 'note', text: t('assign.withdrawn.note') }));
    }
    const li = el('li', { class: 'card', 'data-assignment': a.id, 'data-status': a.status });
    li.append(
      el('h3', { text: a.procedure }),
      el('p', { class: 'muted', text: t('assign.unit', p.unit, p.agency) }),
      el('p', { class: 'muted', text: `${p.round} · ${label(a.form_title) || a.form.form_id}` }),
      codesLine(p, a.field_name),
      el('p', {}, el('span', { class: `badge status-${a.status}`, text: t(`status.${a.status}`) })),
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

  // ---------------------------------------------------------------- interview
  async function getForm(key) {
    const k = `${key.form_id}@${key.version}`;
    if (!S.formCache.has(k)) S.formCache.set(k, await invoke('get_form', { form_id: key.form_id, version: key.version }));
    return S.formCache.get(k);
  }

  function groupOf(code) {
    for (const g of S.form.groups) if (g.items.some((i) => i.code === code)) return g;
    return null;
  }

  async function openDraft(draft, { focusItem, note, readOnly = false } = {}) {
    if (!S.names) await loadNames().catch(() => {});
    S.readOnly = readOnly;
    S.form = await getForm(draft.form);
    S.note = note === undefined || note === null ? null : String(note);
    S.draft = draft;
    S.answers = { ...draft.answers };
    S.lastSent = new Map();
    S.invalid = new Set();
    S.saveError = null;
    S.savedAt = null;
    S.gps = null;
    const steps = F.stepGroups(S.form, S.answers);
    const focusGroup = focusItem ? groupOf(focusItem) : null;
    let target = focusGroup || (draft.current_group && S.form.groups.find((g) => g.code === draft.current_group));
    if (target && !steps.includes(target)) target = nextStepAfter(target.code) || prevStepBefore(target.code);
    showStep((target || steps[0] || S.form.groups[0]).code, focusGroup ? focusItem : undefined);
  }

  function stepIndexInForm(code) { return S.form.groups.findIndex((g) => g.code === code); }
  function nextStepAfter(code) {
    const i = stepIndexInForm(code);
    return F.stepGroups(S.form, S.answers).find((g) => stepIndexInForm(g.code) > i) || null;
  }
  function prevStepBefore(code) {
    const i = stepIndexInForm(code);
    return F.stepGroups(S.form, S.answers).filter((g) => stepIndexInForm(g.code) < i).pop() || null;
  }

  function showStep(code, focusItem) {
    flushTimers();
    const group = S.form.groups.find((g) => g.code === code);
    S.group = code;
    S.invalid.clear(); // refused values are not kept when the step is drawn again
    $('form-title').textContent = label(S.form.title);
    const where = place(S.draft);
    $('form-meta').textContent = t('form.meta', where.round, where.unit)
      + (where.agency ? ` · ${where.agency}` : '')
      + (where.procedure ? ` · ${where.procedure}` : '')
      + (S.draft.practice ? ` · ${t('drafts.practice')}` : '')
      + (S.draft.origin && S.draft.origin !== 'sample' ? ` · ${t(`origin.${S.draft.origin}`)}` : '')
      + (S.note !== null ? ` · ${t('form.revision')}${S.note ? ': ' + S.note : ''}` : '');
    $('form-codes').textContent = where.codes ? t('place.codes', where.codes) : '';
    const ctx = { form: S.form, answers: S.answers, t, label, onAnswer };
    S.section = F.renderStep(group, ctx);
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
    S.lastMark = performance.now();
    if (!S.readOnly && S.draft.current_group !== code) {
      S.draft.current_group = code;
      const draftId = S.draft.id;
      S.saveChain = S.saveChain.then(() => invoke('set_current_group', { draft_id: draftId, group: code })).catch(showError);
    }
    const target = focusItem && S.section.querySelector(`[data-item="${CSS.escape(focusItem)}"]`);
    if (target) {
      target.scrollIntoView({ block: 'center' });
      const input = target.querySelector('input, textarea, button');
      if (input) input.focus({ preventScroll: true });
    } else {
      window.scrollTo(0, 0);
      S.section.querySelector('h3').focus({ preventScroll: true });
    }
  }

  function refreshVisibility() {
    if (!S.section) return;
    F.applyVisibility(S.section, F.visibleItems(S.form, S.answers));
    const steps = F.stepGroups(S.form, S.answers);
    const here = stepIndexInForm(S.group);
    const pos = steps.filter((g) => stepIndexInForm(g.code) < here).length + 1;
    const total = Math.max(steps.length, pos);
    $('step-indicator').textContent = t('form.step', pos, total);
    $('step-indicator').dataset.pos = pos;
    $('step-indicator').dataset.total = total;
    $('progress-bar').style.width = `${Math.round((100 * pos) / total)}%`;
    $('prev').disabled = !prevStepBefore(S.group);
    $('next').textContent = nextStepAfter(S.group) ? t('form.next') : (S.readOnly ? t('form.leave') : t('form.to_review'));
    $('discard-draft').hidden = !!S.draft.assignment_id;
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
          S.saveError = null;
          S.savedAt = new Date();
          if (S.section) F.showIssue(S.section, code, '');
        } else {
          S.lastSent.delete(code);
          if (S.section && S.section.querySelector(`[data-item="${CSS.escape(code)}"]`)) {
            S.invalid.add(code);
            F.showIssue(S.section, code, issueText(res.issue));
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
    const relevant = new Set(R.relevantItems(S.form, S.answers).map((x) => x.item.code));
    const stale = Object.keys(S.answers).filter((c) => !relevant.has(c) && R.valueIsAnswered(S.answers[c]));
    for (const c of stale) queueSave(c, null);
    await S.saveChain;
    $('review-cleared').hidden = stale.length === 0;
    $('review-cleared').textContent = stale.length ? t('review.cleared', stale.length) : '';
    S.review = await invoke('review', { draft_id: S.draft.id });
    renderReview();
    $('submit-status').textContent = '';
    show('review');
    requestGps();
  }

  function renderReview() {
    const issues = S.review || [];
    const issueCodes = new Set(issues.map((i) => i.item_code));
    const itemLine = (code, message) => {
      const g = groupOf(code);
      const item = S.form.groups.flatMap((x) => x.items).find((i) => i.code === code);
      const li = el('li', { 'data-review-item': code },
        el('span', { class: 'q-code', text: code }), ' ',
        el('span', { text: t('review.item', g ? label(g.title) : '', item ? label(item.label) : code) }));
      if (message) li.append(el('span', { class: 'issue-text', text: message }));
      if (g) {
        const b = el('button', { type: 'button', class: 'link', text: t('review.goto'), 'data-goto': code });
        b.addEventListener('click', () => showStep(g.code, code));
        li.append(b);
      }
      return li;
    };
    $('issues-list').replaceChildren(...issues.map((i) => itemLine(i.item_code, issueText(i))));
    $('review-issues').hidden = issues.length === 0;
    const vis = F.visibleItems(S.form, S.answers);
    const unanswered = [...vis].filter((c) => !R.valueIsAnswered(S.answers[c]) && !issueCodes.has(c));
    $('unanswered-list').replaceChildren(...unanswered.map((c) => itemLine(c, '')));
    $('review-unanswered').hidden = unanswered.length === 0;
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
  function reviewComment(rc) {
    if (rc === null || rc === undefined) return null;
    const box = el('div', { class: 'review-comment' }, el('h4', { text: t('resp.review') }));
    if (typeof rc === 'string') { box.append(el('p', { text: rc })); return box; }
    const general = rc.comment || rc.message || rc.text;
    if (general) box.append(el('p', { text: String(general) }));
    const items = rc.item_comments || {};
    const keys = Object.keys(items);
    if (keys.length) box.append(el('ul', {}, ...keys.map((k) => el('li', { text: t('resp.item_comment', k, items[k]) }))));
    if (!general && !keys.length) box.append(el('p', { text: JSON.stringify(rc) }));
    return box;
  }

  async function renderResponses() {
    const list = await invoke('list_responses');
    await loadNames();
    $('responses-list').replaceChildren(...list.map((r) => {
      const p = place(r);
      const li = el('li', { class: 'card', 'data-response': r.id, 'data-status': r.status },
        el('h3', { text: p.procedure || label(r.form_title) || `${r.form.form_id}@${r.form.version}` }),
        el('p', { class: 'muted', text: `${placeText(p)} · ${t('resp.revision', r.revision)}` }),
        codesLine(p),
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
      } else if (r.outbox_attempts > 0) li.append(el('p', { class: 'note', text: t('resp.attempts', r.outbox_attempts, r.outbox_error) }));
      if (r.status === 'rejected') {
        const rc = reviewComment(r.review_comment);
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
  function renderSyncStatus(st) {
    const waiting = st.counts.pending + st.counts.in_flight;
    $('sync-pending').textContent = waiting ? t('sync.pending', waiting) : t('sync.pending.none');
    if (st.counts.rejected) $('sync-pending').textContent += ` · ${t('sync.rejected', st.counts.rejected)}`;
    $('sync-pending').dataset.pending = waiting;
    $('sync-last-success').textContent = st.log.last_success_at ? fmtTime(st.log.last_success_at) : t('common.never');
    $('sync-last-error').textContent = st.log.last_error
      ? `${fmtTime(st.log.last_error_at)}: ${st.revoked ? t('sync.revoked.title') : st.log.last_error}` : t('common.none');
    $('sync-enrolment').textContent = st.enrolled
      ? t('sync.enrolled', st.server_url || '') + (st.user ? ` · ${t('sync.user', st.user)}` : '')
        + (st.custom_certificate ? ` · ${t('sync.cert')}` : '')
      : t('sync.not_enrolled');
    $('open-enrol').textContent = st.enrolled ? t('sync.reenrol') : t('sync.enrol');
    $('sync-auto').hidden = !st.enrolled || st.revoked;
    $('sync-revoked').hidden = !st.revoked;
    document.body.dataset.revoked = st.revoked ? 'true' : 'false';
  }

  async function renderSync() {
    renderSyncStatus(await invoke('sync_status'));
    if (!$('handover-dir').value) {
      try {
        const dir = await invoke('handover_default_dir');
        if (!$('handover-dir').value) $('handover-dir').value = dir;
      } catch (_) { /* typed by hand */ }
    }
  }

  async function exportHandover(ev) {
    ev.preventDefault();
    const b = $('handover-export');
    const out = $('handover-export-result');
    b.disabled = true;
    out.textContent = t('handover.exporting');
    try {
      const r = await invoke('export_handover', { dir: $('handover-dir').value });
      out.textContent = t('handover.exported', r.records, r.files.join(', '));
    } catch (e) {
      out.textContent = t('common.error', errText(e));
    } finally { b.disabled = false; }
  }

  async function applyHandover(ev) {
    ev.preventDefault();
    const b = $('handover-apply');
    const out = $('handover-apply-result');
    const path = $('handover-reply').value.trim();
    if (!path) { out.textContent = t('handover.reply.empty'); return; }
    b.disabled = true;
    out.textContent = t('handover.applying');
    try {
      const r = await invoke('apply_handover_result', { path });
      renderSyncStatus(r.status);
      out.textContent = t('handover.applied', r.report);
    } catch (e) {
      out.textContent = t('common.error', errText(e));
    } finally { b.disabled = false; }
  }

  async function syncNow() {
    const b = $('sync-now');
    b.disabled = true;
    $('sync-result').textContent = t('sync.running');
    try {
      renderSyncStatus(await invoke('sync_now'));
      $('sync-result').textContent = t('sync.done');
    } catch (e) {
      $('sync-result').textContent = t('common.error', errText(e));
      await renderSync().catch(() => {});
      // Revoked: say so plainly (the notice above tells what to do), no server text.
      if (document.body.dataset.revoked === 'true') $('sync-result').textContent = t('sync.revoked');
    } finally { b.disabled = false; }
  }

  async function enrol(ev) {
    ev.preventDefault();
    const b = $('enrol-submit');
    b.disabled = true;
    $('enrol-result').textContent = t('enrol.running');
    try {
      await invoke('enrol', {
        server_url: $('enrol-url').value, code: $('enrol-code').value,
        device_name: $('enrol-device').value || null, certificate: $('enrol-cert').value.trim() || null,
      });
      $('enrol-code').value = '';
      $('enrol-result').textContent = t('enrol.ok');
      await navigate('sync');
    } catch (e) {
      $('enrol-result').textContent = t('common.error', errText(e));
    } finally { b.disabled = false; }
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
  $('prev').addEventListener('click', () => { const g = prevStepBefore(S.group); if (g) showStep(g.code); });
  $('next').addEventListener('click', async () => {
    flushTimers();
    const g = nextStepAfter(S.group);
    if (g) showStep(g.code);
    else if (S.readOnly) await navigate('assignments');
    else await openReview().catch(showError);
  });
  $('to-review').addEventListener('click', () => openReview().catch(showError));
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
  $('open-enrol').addEventListener('click', () => { $('enrol-result').textContent = ''; show('enrol'); });
  $('enrol-back').addEventListener('click', () => navigate('sync'));
  $('enrol-form').addEventListener('submit', enrol);
  $('unlock-form').addEventListener('submit', unlock);
  $('lock-btn').addEventListener('click', lockApp);
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
