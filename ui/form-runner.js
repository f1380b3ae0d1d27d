// A step runner for a questionnaire outside the app (no Tauri): the dashboard's preview and
// the public self-completion page. It draws each step with ui/form.js (SIPAS_FORM) and takes
// relevance, calculations, constraint/range/length messages and the offered options from
// ui/expr.js (SIPAS_EXPR.formState), the same engine and messages the app's form screen uses
// (ui/app.js). The server stays the judge of what is stored: it re-checks every upload.
//
// Load order (plain scripts, no inline code): ui/relevance.js, ui/expr.js, ui/form.js, then
// this file. The server serves them read-only at /ui/relevance.js, /ui/expr.js, /ui/form.js
// and /ui/form-runner.js.
//
//   const run = window.SIPAS_RUNNER.mount(root, {
//     form,                 // questionnaire JSON (format 1)
//     lang: 'vi' | 'en',
//     answers: {},          // initial answers (code → value)
//     catalogues: { agencies: [], procedures: [], fields: [], units: [] }, // options of choices_from
//     assignment: null,     // {procedure_code, agency_code, field_code, unit_code, *_name}: prefill
//     startedAt: '2026-12-02T08:00:00Z', // today() is its date in Vietnam time, as in the app
//     texts: { next, back, submit },     // optional label overrides
//     onChange(answers) {}, // after every answer (save hook)
//     onSubmit(answers) {}, // last step's submit, only when every step is valid
//   });
//   run.answers();          // a copy of the answers (calculations included)
//   run.setLang('en');      // redraws the step in the other language (extension)
//   run.step();             // the code of the group on screen (extension)
//   run.destroy();
//
// Like the app, "Tiếp" is blocked while an item of the step has a failing rule (constraint,
// range, length), a value that could not be read (date, whole number), and — there is no
// review screen here — a required item left blank; the message shows under the item. Answers
// to items that no longer apply are left out of what onSubmit receives; calculations are
// kept in the answers under their codes, as the app stores them.
(function () {
  'use strict';

  // Strings of the runner (same words as the app's ui/i18n.js keys of the same name).
  const TEXTS = {
    vi: {
      'form.step': (i, n) => `Bước ${i}/${n}`,
      'form.prev': '← Quay lại',
      'form.next': 'Tiếp →',
      'form.submit': 'Gửi câu trả lời',
      'form.required': 'bắt buộc',
      'form.chars': (n, max) => `${n}/${max} ký tự`,
      'formui.blocked': (n) => (n === 1 ? 'Có 1 câu trả lời chưa hợp lệ: sửa câu được đánh dấu trước khi tiếp tục.' : `Có ${n} câu trả lời chưa hợp lệ: sửa các câu được đánh dấu trước khi tiếp tục.`),
      'formui.date.placeholder': 'dd/mm/yyyy',
      'formui.date.hint': 'Ngày/tháng/năm, ví dụ 15/03/2026 (cũng nhận 15-3-2026, 15.3.2026 hoặc 2026-03-15)',
      'formui.date.format': 'Chưa đọc được ngày: hãy nhập ngày/tháng/năm, ví dụ 15/03/2026. Chưa lưu.',
      'formui.date.calendar': (raw) => `Ngày không có thật: ${raw}. Chưa lưu.`,
      // answer_validation::wrong_type for an integer item
      'runner.not_integer': 'Câu trả lời không đúng kiểu: cần một số nguyên.',
    },
    en: {
      'form.step': (i, n) => `Step ${i}/${n}`,
      'form.prev': '← Back',
      'form.next': 'Next →',
      'form.submit': 'Send the answers',
      'form.required': 'required',
      'form.chars': (n, max) => `${n}/${max} characters`,
      'formui.blocked': (n) => (n === 1 ? '1 answer is not valid: fix the marked question before going on.' : `${n} answers are not valid: fix the marked questions before going on.`),
      'formui.date.placeholder': 'dd/mm/yyyy',
      'formui.date.hint': 'Day/month/year, e.g. 15/03/2026 (15-3-2026, 15.3.2026 or 2026-03-15 also work)',
      'formui.date.format': 'The date could not be read: type day/month/year, e.g. 15/03/2026. Not saved.',
      'formui.date.calendar': (raw) => `No such date: ${raw}. Not saved.`,
      'runner.not_integer': 'Wrong answer type: expected a whole number.',
    },
  };

  const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
  const clone = (v) => JSON.parse(JSON.stringify(v === undefined ? null : v));
  const isChoice = (item) => item.type === 'single_choice' || item.type === 'multi_choice';

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role') e.setAttribute(k, v === true ? '' : v);
      else e[k] = v;
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  // today() of the expressions: the date of started_at in Vietnam time (UTC+7), as the app
  // and sipas_core::expr::today_of.
  function todayOf(startedAt) {
    const ms = Date.parse(startedAt || '');
    return new Date((Number.isNaN(ms) ? Date.now() : ms) + 7 * 3600e3).toISOString().slice(0, 10);
  }

  function mount(root, opts) {
    const F = window.SIPAS_FORM;
    const R = window.SIPAS_RELEVANCE;
    const X = window.SIPAS_EXPR;
    if (!F || !R || !X) throw new Error('SIPAS_RUNNER needs ui/relevance.js, ui/expr.js and ui/form.js loaded first');
    opts = opts || {};
    const form = opts.form;
    if (!form || !Array.isArray(form.groups)) throw new Error('SIPAS_RUNNER.mount: opts.form must be a questionnaire (format 1)');

    const S = {
      lang: opts.lang === 'en' ? 'en' : 'vi',
      answers: clone(opts.answers || {}) || {},
      options: opts.catalogues || {},
      assignment: opts.assignment || null,
      today: todayOf(opts.startedAt),
      group: null,
      section: null,
      fs: null,
      invalid: new Map(), // code → {vi, en}: a typed value that could not be stored
      tried: new Set(), // steps where "Tiếp" was pressed (required messages shown there)
      timers: new Map(),
      destroyed: false,
    };

    const t = (key, ...args) => {
      const v = (TEXTS[S.lang] && TEXTS[S.lang][key]) ?? TEXTS.vi[key] ?? key;
      return typeof v === 'function' ? v(...args) : v;
    };
    const label = (l) => (S.lang === 'en' && l && l.en) ? l.en : (l ? (l.vi || '') : '');
    const text = (name, key) => {
      const o = opts.texts && opts.texts[name];
      if (o && typeof o === 'object') return label(o);
      return o ? String(o) : t(key);
    };

    function itemOf(code) {
      for (const g of form.groups) for (const i of g.items) if (i.code === code) return i;
      return null;
    }
    function groupOf(code) {
      return form.groups.find((g) => g.items.some((i) => i.code === code)) || null;
    }
    const stepGroup = (code) => form.groups.find((g) => g.code === code) || { items: [] };

    // ------------------------------------------------------------ state (as app.js)
    function computeState() {
      try {
        const st = X.formState(form, S.answers, { today: S.today, options: S.options });
        return {
          relevant: st.visible instanceof Set ? st.visible : new Set(st.visible || []),
          values: st.values || {}, errors: st.errors || {}, choices: st.choices || {},
        };
      } catch (e) {
        console.warn('formState failed', e);
        return { relevant: null, values: {}, errors: {}, choices: {} };
      }
    }
    function fstate() {
      if (!S.fs) S.fs = computeState();
      return S.fs;
    }
    const steps = () => F.stepGroups(form, S.answers, fstate().relevant);
    const visibleNow = () => F.visibleItems(form, S.answers, fstate().relevant);
    const stepIndexInForm = (code) => form.groups.findIndex((g) => g.code === code);
    const nextStepAfter = (code) => steps().find((g) => stepIndexInForm(g.code) > stepIndexInForm(code)) || null;
    const prevStepBefore = (code) => steps().filter((g) => stepIndexInForm(g.code) < stepIndexInForm(code)).pop() || null;

    function choicesFor(item) {
      const st = fstate();
      if (st.choices && Array.isArray(st.choices[item.code])) return st.choices[item.code];
      if (item.choices_from) return S.options[item.choices_from] || [];
      return item.options || [];
    }

    // The value an item takes from the assignment (`prefill`), or undefined.
    function prefillValue(item) {
      const a = S.assignment;
      if (!item.prefill || !a) return undefined;
      const from = item.prefill.from;
      const code = a[`${from}_code`];
      const name = a[`${from}_name`] ?? a[from];
      const v = isChoice(item) ? code : name;
      if (v === undefined || v === null || v === '') return undefined;
      return item.type === 'multi_choice' ? [v] : v;
    }
    const prefillLocked = (item) => !!(item.prefill && item.prefill.editable === false && prefillValue(item) !== undefined);

    // A failing rule of an answer given (constraint, range, length); a missing required
    // answer counts once "Tiếp" was pressed on the step.
    function ruleError(code) {
      const e = fstate().errors[code];
      if (!e) return null;
      if (e.kind !== 'required') return e;
      const g = groupOf(code);
      return g && S.tried.has(g.code) ? e : null;
    }
    function blockingError(code) {
      const e = fstate().errors[code];
      return S.invalid.get(code) || e || null;
    }

    // ------------------------------------------------------------ answers
    function normalise(item, value) {
      if (value === undefined || value === null) return null;
      if (typeof value === 'string') {
        const s = value.normalize('NFC').trim();
        return s === '' ? null : s;
      }
      if (Array.isArray(value)) return value.length ? value.map((v) => (typeof v === 'string' ? v.normalize('NFC') : v)) : null;
      return value;
    }

    function setAnswer(code, value) {
      const item = itemOf(code);
      if (!item) return;
      S.invalid.delete(code);
      if (item.type === 'integer' && typeof value === 'string' && value.trim() !== '') {
        // Not a whole number: refused like the app's save_answer, the typed text stays.
        S.invalid.set(code, { vi: TEXTS.vi['runner.not_integer'], en: TEXTS.en['runner.not_integer'] });
        refresh();
        return;
      }
      const v = normalise(item, value);
      if (v === null) delete S.answers[code]; else S.answers[code] = v;
      refresh();
      changed();
    }

    function changed() {
      if (typeof opts.onChange === 'function') {
        try { opts.onChange(clone(S.answers)); } catch (e) { console.warn('onChange failed', e); }
      }
    }

    function onAnswer(code, value, o) {
      clearTimeout(S.timers.get(code));
      S.timers.delete(code);
      if (o && o.debounce) {
        S.timers.set(code, setTimeout(() => { S.timers.delete(code); setAnswer(code, value); }, 400));
        return;
      }
      setAnswer(code, value);
    }

    function flushTimers() {
      for (const [code, timer] of S.timers) {
        clearTimeout(timer);
        const input = S.section && S.section.querySelector(`[data-item="${CSS.escape(code)}"] input, [data-item="${CSS.escape(code)}"] textarea`);
        if (input) {
          const item = itemOf(code);
          const v = normalise(item, input.value === '' ? null : input.value);
          if (v === null) delete S.answers[code]; else S.answers[code] = v;
        }
      }
      const any = S.timers.size > 0;
      S.timers.clear();
      if (any) { refresh(); changed(); }
    }

    function onDateError(code, kind, raw) {
      if (kind) {
        S.invalid.set(code, kind === 'calendar'
          ? { vi: TEXTS.vi['formui.date.calendar'](raw), en: TEXTS.en['formui.date.calendar'](raw) }
          : { vi: TEXTS.vi['formui.date.format'], en: TEXTS.en['formui.date.format'] });
      } else {
        S.invalid.delete(code);
      }
      refresh();
    }

    function itemCtx() {
      return { form, answers: S.answers, t, label, onAnswer, choices: choicesFor, readonly: prefillLocked, onDateError };
    }

    // ------------------------------------------------------------ screen
    const ui = {
      title: el('h2', { class: 'runner-title', 'data-runner': 'title' }),
      indicator: el('p', { class: 'runner-step muted', 'data-runner': 'step' }),
      progress: el('div', { class: 'runner-progress-bar' }),
      body: el('div', { class: 'runner-body', 'data-runner': 'body' }),
      blocked: el('p', { class: 'runner-blocked error', role: 'alert', 'data-runner': 'blocked', hidden: true }),
      back: el('button', { type: 'button', class: 'runner-back', 'data-runner': 'back' }),
      next: el('button', { type: 'button', class: 'runner-next primary', 'data-runner': 'next' }),
      submit: el('button', { type: 'button', class: 'runner-submit primary', 'data-runner': 'submit' }),
    };
    const box = el('div', { class: 'sipas-runner', 'data-runner': 'root', lang: S.lang },
      ui.title, ui.indicator, el('div', { class: 'runner-progress', 'aria-hidden': 'true' }, ui.progress),
      ui.body, ui.blocked, el('div', { class: 'runner-nav' }, ui.back, ui.next, ui.submit));
    root.replaceChildren(box);

    function showStep(code, { focus = true, focusItem } = {}) {
      if (S.destroyed) return;
      const group = stepGroup(code);
      S.group = code;
      S.invalid.clear(); // a step drawn again shows the stored answers
      S.fs = null;
      ui.blocked.hidden = true;
      ui.blocked.textContent = '';
      S.section = F.renderStep(group, itemCtx());
      ui.body.replaceChildren(S.section);
      box.dataset.step = code;
      refresh();
      const target = focusItem && S.section.querySelector(`[data-item="${CSS.escape(focusItem)}"]`);
      if (target) focusItemEl(target);
      else if (focus) {
        const h = S.section.querySelector('h3');
        if (h) h.focus({ preventScroll: true });
        box.scrollIntoView({ block: 'start' });
      }
    }

    function focusItemEl(w) {
      w.scrollIntoView({ block: 'center' });
      const input = w.querySelector('input:not([disabled]), textarea:not([disabled]), button:not([disabled])');
      if (input) input.focus({ preventScroll: true });
    }

    // After every change: visibility, redrawn choice items, cleared options no longer offered,
    // calculations kept with the answers, messages, step indicator and buttons.
    function refresh() {
      if (!S.section || S.destroyed) return;
      S.fs = computeState();
      let st = S.fs;
      let vis = visibleNow();
      F.applyVisibility(S.section, vis);
      for (const w of S.section.querySelectorAll('[data-item][data-choices]')) {
        const item = itemOf(w.dataset.item);
        if (!item) continue;
        if (choicesFor(item).map((o) => o.value).join('|') !== w.dataset.choices) {
          const fresh = F.renderItem(item, itemCtx());
          fresh.hidden = w.hidden;
          w.replaceWith(fresh);
        }
      }
      let again = false;
      for (const g of form.groups) {
        for (const item of g.items) {
          const code = item.code;
          // A chosen option no longer offered is cleared (only where the offer is known).
          const known = !item.choices_from || (st.choices && st.choices[code]) || (S.options[item.choices_from] || []).length > 0;
          if ((item.choice_filter || item.choices_from) && known && vis.has(code) && R.valueIsAnswered(S.answers[code])) {
            const ok = new Set(choicesFor(item).map((o) => o.value));
            const v = S.answers[code];
            if (Array.isArray(v)) {
              const kept = v.filter((x) => ok.has(x));
              if (kept.length !== v.length) { if (kept.length) S.answers[code] = kept; else delete S.answers[code]; again = true; }
            } else if (!ok.has(v)) { delete S.answers[code]; again = true; }
          }
          // Calculations are kept with the answers (never shown).
          if (item.type === 'calculate' && st.relevant) {
            const want = has(st.values, code) && st.values[code] !== '' ? st.values[code] : undefined;
            if (JSON.stringify(want ?? null) !== JSON.stringify(S.answers[code] ?? null)) {
              if (want === undefined) delete S.answers[code]; else S.answers[code] = want;
              again = true;
            }
          }
        }
      }
      if (again) {
        S.fs = computeState();
        st = S.fs;
        vis = visibleNow();
        F.applyVisibility(S.section, vis);
      }
      for (const item of stepGroup(S.group).items) {
        const code = item.code;
        const bad = vis.has(code) ? (S.invalid.get(code) || ruleError(code)) : null;
        F.showIssue(S.section, code, bad ? label(bad) : '');
      }
      if (!ui.blocked.hidden && stepProblems().length === 0) ui.blocked.hidden = true;
      drawChrome();
    }

    function drawChrome() {
      ui.title.textContent = label(form.title);
      const list = steps();
      const here = stepIndexInForm(S.group);
      const pos = list.filter((g) => stepIndexInForm(g.code) < here).length + 1;
      const total = Math.max(list.length, pos);
      ui.indicator.textContent = t('form.step', pos, total);
      ui.indicator.dataset.pos = pos;
      ui.indicator.dataset.total = total;
      ui.progress.style.width = `${Math.round((100 * pos) / total)}%`;
      ui.back.textContent = text('back', 'form.prev');
      ui.next.textContent = text('next', 'form.next');
      ui.submit.textContent = text('submit', 'form.submit');
      ui.back.disabled = !prevStepBefore(S.group);
      const last = !nextStepAfter(S.group);
      ui.next.hidden = last;
      ui.submit.hidden = !last;
      box.lang = S.lang;
    }

    // Visible items of a step that stop "Tiếp".
    function problemsOf(groupCode) {
      const vis = visibleNow();
      return stepGroup(groupCode).items.map((i) => i.code).filter((c) => vis.has(c) && blockingError(c));
    }
    const stepProblems = () => problemsOf(S.group);

    /** True when the step may be left; else shows why and stays. */
    function stepClear() {
      flushTimers();
      S.tried.add(S.group);
      refresh();
      const bad = stepProblems();
      ui.blocked.hidden = bad.length === 0;
      ui.blocked.textContent = bad.length ? t('formui.blocked', bad.length) : '';
      if (!bad.length) return true;
      const w = S.section.querySelector(`[data-item="${CSS.escape(bad[0])}"]`);
      if (w) focusItemEl(w);
      return false;
    }

    function next() {
      if (!stepClear()) return;
      const n = nextStepAfter(S.group);
      if (n) showStep(n.code);
    }

    function back() {
      flushTimers();
      const p = prevStepBefore(S.group);
      if (p) showStep(p.code);
    }

    // The answers as sent: only items that apply now (relevant and shown, `_other` only with
    // its option chosen) and the calculations.
    function cleanAnswers() {
      S.fs = null;
      const st = fstate();
      const vis = visibleNow();
      const calc = new Set(form.groups.flatMap((g) => g.items.filter((i) => i.type === 'calculate').map((i) => i.code)));
      const out = {};
      for (const [code, v] of Object.entries(S.answers)) {
        if (!R.valueIsAnswered(v)) continue;
        if (calc.has(code) ? has(st.values, code) : vis.has(code)) out[code] = clone(v);
      }
      return out;
    }

    function submit() {
      if (!stepClear()) return;
      // Every step that applies must be valid (a later change may have made an earlier one wrong).
      for (const g of steps()) {
        S.tried.add(g.code);
        S.fs = null;
        if (problemsOf(g.code).length) {
          showStep(g.code, { focus: false });
          stepClear();
          return;
        }
      }
      if (typeof opts.onSubmit === 'function') opts.onSubmit(cleanAnswers());
    }

    ui.next.addEventListener('click', next);
    ui.back.addEventListener('click', back);
    ui.submit.addEventListener('click', submit);

    // Prefill from the assignment (never over an answer).
    let prefilled = false;
    for (const g of form.groups) {
      for (const item of g.items) {
        const v = prefillValue(item);
        if (v !== undefined && !R.valueIsAnswered(S.answers[item.code])) { S.answers[item.code] = v; prefilled = true; }
      }
    }
    const first = steps()[0] || form.groups[0];
    if (first) showStep(first.code, { focus: false });
    if (prefilled) changed();

    return {
      answers() { flushTimers(); return clone(S.answers); },
      step() { return S.group; },
      setLang(lang) {
        S.lang = lang === 'en' ? 'en' : 'vi';
        flushTimers();
        if (S.group) showStep(S.group, { focus: false });
      },
      destroy() {
        for (const timer of S.timers.values()) clearTimeout(timer);
        S.timers.clear();
        S.destroyed = true;
        S.section = null;
        root.replaceChildren();
      },
    };
  }

  window.SIPAS_RUNNER = { mount };
})();
