// Questionnaire renderer: builds one step (group) of any form from its JSON definition
// (get_form). Nothing about a particular form is written here.
(function () {
  'use strict';
  const R = window.SIPAS_RELEVANCE;

  // Parent item of a `<code>_other` item and the option that asks for it, if any.
  function otherParent(form, code) {
    if (!code.endsWith('_other')) return null;
    const parentCode = code.slice(0, -'_other'.length);
    for (const g of form.groups) {
      for (const it of g.items) {
        if (it.code === parentCode) {
          const opt = (it.options || []).find((o) => o.other);
          return opt ? { item: it, option: opt } : null;
        }
      }
    }
    return null;
  }

  // Items to show: relevant by the form's conditions (the same cascade as Rust), and a
  // `<code>_other` text item only while its "other" option is chosen.
  // `relevant` (optional): the codes relevant by the expression engine (SIPAS_EXPR.formState
  // `visible`); without it the old JSON conditions decide (ui/relevance.js).
  function visibleItems(form, answers, relevant) {
    const rel = relevant
      ? form.groups.flatMap((g) => g.items.filter((it) => relevant.has(it.code)).map((item) => ({ item, group: g })))
      : R.relevantItems(form, answers);
    const effective = {};
    for (const { item } of rel) {
      if (Object.prototype.hasOwnProperty.call(answers, item.code)) effective[item.code] = answers[item.code];
    }
    const out = new Set();
    for (const { item } of rel) {
      if (item.type === 'calculate') continue; // never shown as a question
      const p = otherParent(form, item.code);
      if (p) {
        const a = effective[p.item.code];
        if (!(R.valueIsAnswered(a) && R.matchesJson(a, p.option.value))) continue;
      }
      out.add(item.code);
    }
    return out;
  }

  // Groups that are steps now: relevant and with at least one visible item.
  function stepGroups(form, answers, relevant) {
    const vis = visibleItems(form, answers, relevant);
    return form.groups.filter((g) => g.items.some((it) => vis.has(it.code)));
  }

  // Dates are typed day first (15/03/2026, 15-3-2026, 15.3.2026) or as ISO (2026-03-15) and
  // stored as ISO YYYY-MM-DD; the Rust check (answer_validation) stays the judge of the
  // stored value. Returns { iso } or { error: 'format' | 'calendar' }; blank → { iso: null }.
  function parseDate(raw) {
    const s = String(raw || '').trim();
    if (s === '') return { iso: null };
    let d; let m; let y;
    let x = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
    if (x) [, y, m, d] = x;
    else {
      x = /^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})$/.exec(s);
      if (!x) return { error: 'format' };
      [, d, m, y] = x;
    }
    const [yi, mi, di] = [Number(y), Number(m), Number(d)];
    const dt = new Date(Date.UTC(yi, mi - 1, di));
    if (mi < 1 || mi > 12 || di < 1 || dt.getUTCFullYear() !== yi || dt.getUTCMonth() !== mi - 1 || dt.getUTCDate() !== di) {
      return { error: 'calendar' };
    }
    return { iso: `${String(yi).padStart(4, '0')}-${String(mi).padStart(2, '0')}-${String(di).padStart(2, '0')}` };
  }

  /** An ISO date as dd/mm/yyyy (anything else unchanged). */
  function formatDate(iso) {
    const x = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ''));
    return x ? `${x[3]}/${x[2]}/${x[1]}` : (iso || '');
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for') e.setAttribute(k, v === true ? '' : v);
      else e[k] = v;
    }
    for (const c of children) if (c) e.append(c);
    return e;
  }

  // One item; `ctx` = { form, answers, t, label, onAnswer(code, value, {debounce}),
  // choices?(item) → options offered now (choice_filter, choices_from), readonly?(item),
  // onDateError?(code, kind|null) }.
  function renderItem(item, ctx) {
    const { t, label } = ctx;
    const code = item.code;
    const options = ctx.choices ? ctx.choices(item) : (item.options || []);
    const id = `q-${code}`;
    const value = ctx.answers[code];
    const isGroup = item.type === 'single_choice' || item.type === 'multi_choice';
    const wrap = el(isGroup ? 'fieldset' : 'div', {
      class: 'item', 'data-item': code, 'data-type': item.type, 'aria-describedby': `${id}-issue`,
    });
    const caption = el(isGroup ? 'legend' : (item.type === 'rating' ? 'p' : 'label'),
      { class: 'q-label', id: `${id}-label`, for: isGroup || item.type === 'rating' ? null : id });
    caption.append(el('span', { class: 'q-code', text: code }), ' ', label(item.label));
    if (item.required) caption.append(' ', el('abbr', { class: 'req', title: t('form.required'), 'aria-label': t('form.required'), text: '*' }));
    wrap.append(caption);
    if (item.hint) wrap.append(el('p', { class: 'hint', id: `${id}-hint`, text: label(item.hint) }));
    const answer = (v, opts) => ctx.onAnswer(code, v, opts || {});

    switch (item.type) {
      case 'single_choice': {
        wrap.dataset.choices = options.map((o) => o.value).join('|');
        for (const o of options) {
          const oid = `${id}-${o.value}`;
          const input = el('input', { type: 'radio', name: id, id: oid, value: o.value, checked: value === o.value, 'data-option': o.value });
          input.addEventListener('change', () => { if (input.checked) answer(o.value); });
          wrap.append(el('label', { class: 'choice', for: oid }, input, el('span', { text: label(o.label) })));
        }
        break;
      }
      case 'multi_choice': {
        const chosen = Array.isArray(value) ? value : [];
        const boxes = [];
        wrap.dataset.choices = options.map((o) => o.value).join('|');
        for (const o of options) {
          const oid = `${id}-${o.value}`;
          const input = el('input', { type: 'checkbox', name: id, id: oid, value: o.value, checked: chosen.includes(o.value), 'data-option': o.value });
          boxes.push({ input, o });
          input.addEventListener('change', () => {
            if (input.checked) {
              // An exclusive option ("Không có") cannot be combined with any other.
              for (const b of boxes) {
                if (b.input !== input && (o.exclusive || b.o.exclusive)) b.input.checked = false;
              }
            }
            const codes = boxes.filter((b) => b.input.checked).map((b) => b.o.value);
            answer(codes.length ? codes : null);
          });
          wrap.append(el('label', { class: 'choice' + (o.exclusive ? ' exclusive' : ''), for: oid }, input, el('span', { text: label(o.label) })));
        }
        break;
      }
      case 'integer': {
        const input = el('input', {
          type: 'text', id, inputMode: 'numeric', autocomplete: 'off', value: typeof value === 'number' ? String(value) : '',
          'aria-describedby': item.hint ? `${id}-hint` : null,
        });
        if (item.min !== undefined) input.setAttribute('data-min', item.min);
        if (item.max !== undefined) input.setAttribute('data-max', item.max);
        input.addEventListener('change', () => {
          const raw = input.value.trim();
          if (raw === '') answer(null);
          else if (/^[+-]?\d+$/.test(raw)) answer(Number.parseInt(raw, 10));
          else answer(raw); // not a whole number: the Rust check explains why
        });
        wrap.append(input);
        break;
      }
      case 'text': {
        const long = !item.max_length || item.max_length > 200;
        const input = el(long ? 'textarea' : 'input', {
          id, autocomplete: 'off', value: typeof value === 'string' ? value : '',
          'aria-describedby': item.hint ? `${id}-hint` : null,
        });
        if (!long) input.type = 'text';
        if (long) input.rows = 3;
        if (item.max_length) input.maxLength = item.max_length;
        const counter = item.max_length ? el('p', { class: 'counter muted', 'aria-live': 'polite' }) : null;
        const count = () => { if (counter) counter.textContent = t('form.chars', [...input.value.normalize('NFC')].length, item.max_length); };
        count();
        input.addEventListener('input', () => { count(); answer(input.value === '' ? null : input.value, { debounce: true }); });
        input.addEventListener('change', () => answer(input.value === '' ? null : input.value));
        wrap.append(input);
        if (counter) wrap.append(counter);
        break;
      }
      case 'date': {
        // A text field (the platform date pickers differ and show no dd/mm/yyyy everywhere).
        const input = el('input', {
          type: 'text', id, autocomplete: 'off', spellcheck: false, placeholder: t('formui.date.placeholder'),
          value: typeof value === 'string' ? formatDate(value) : '', 'aria-describedby': `${id}-dhint`, 'data-date': 'dmy',
        });
        input.addEventListener('change', () => {
          const p = parseDate(input.value);
          if (p.error) { if (ctx.onDateError) ctx.onDateError(code, p.error, input.value); return; }
          if (ctx.onDateError) ctx.onDateError(code, null);
          if (p.iso) input.value = formatDate(p.iso);
          answer(p.iso);
        });
        wrap.append(input, el('p', { class: 'hint', id: `${id}-dhint`, text: t('formui.date.hint') }));
        break;
      }
      case 'rating': {
        const scale = (ctx.form.scales || {})[item.scale] || { points: [] };
        const group = el('div', { class: 'rating', role: 'radiogroup', 'aria-labelledby': `${id}-label` });
        const points = scale.points.map((p) => ({ ...p, na: false }));
        if (scale.no_answer) points.push({ ...scale.no_answer, na: true });
        const buttons = [];
        for (const p of points) {
          const b = el('button', {
            type: 'button', class: p.na ? 'rate na' : 'rate', role: 'radio', 'data-value': p.value,
            'aria-checked': value === p.value ? 'true' : 'false', title: label(p.label),
          });
          if (p.na) b.append(el('span', { class: 'rate-label', text: label(p.label) }));
          else b.append(el('span', { class: 'rate-num', text: String(p.value) }), el('span', { class: 'rate-label', text: label(p.label) }));
          b.addEventListener('click', () => {
            for (const o of buttons) o.setAttribute('aria-checked', o === b ? 'true' : 'false');
            answer(p.value);
          });
          buttons.push(b);
          group.append(b);
        }
        // One tab stop per question; arrow keys move between the levels (WAI-ARIA radio group).
        const roving = () => {
          const current = buttons.find((b) => b.getAttribute('aria-checked') === 'true') || buttons[0];
          for (const b of buttons) b.tabIndex = b === current ? 0 : -1;
        };
        roving();
        group.addEventListener('click', roving);
        group.addEventListener('keydown', (ev) => {
          const i = buttons.indexOf(document.activeElement);
          if (i < 0) return;
          const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[ev.key];
          if (!step) return;
          ev.preventDefault();
          const nextButton = buttons[(i + step + buttons.length) % buttons.length];
          for (const b of buttons) b.tabIndex = b === nextButton ? 0 : -1;
          nextButton.focus();
        });
        wrap.append(group);
        break;
      }
      default:
        wrap.append(el('p', { class: 'error', text: `? ${item.type}` }));
    }
    wrap.append(el('p', { class: 'issue', id: `${id}-issue`, role: 'alert', 'data-issue-for': code, hidden: true }));
    if (ctx.readonly && ctx.readonly(item)) {
      // Prefilled from the assignment and not editable.
      wrap.dataset.readonly = 'true';
      wrap.querySelectorAll('input, textarea, button').forEach((e) => { e.disabled = true; });
    }
    return wrap;
  }

  // One step: the group's heading and every item (hidden ones toggled by applyVisibility).
  function renderStep(group, ctx) {
    const section = el('section', { class: 'step', 'data-step': group.code, 'aria-labelledby': `step-h-${group.code}` });
    section.append(el('h3', { id: `step-h-${group.code}`, tabIndex: -1, text: ctx.label(group.title) }));
    for (const item of group.items) if (item.type !== 'calculate') section.append(renderItem(item, ctx));
    return section;
  }

  function applyVisibility(section, visible) {
    for (const w of section.querySelectorAll('[data-item]')) w.hidden = !visible.has(w.dataset.item);
  }

  function showIssue(root, code, text) {
    const p = root.querySelector(`[data-issue-for="${CSS.escape(code)}"]`);
    if (!p) return;
    p.textContent = text || '';
    p.hidden = !text;
    const w = p.closest('[data-item]');
    if (w) w.classList.toggle('invalid', !!text);
  }

  // An action offered under an item's message (e.g. "end the interview: not eligible"), or
  // none (`node` null).
  function showOffer(root, code, node) {
    const w = root.querySelector(`[data-item="${CSS.escape(code)}"]`);
    if (!w) return;
    const old = w.querySelector('.item-offer');
    if (old) old.remove();
    if (node) { node.classList.add('item-offer'); w.append(node); }
  }

  window.SIPAS_FORM = {
    visibleItems, stepGroups, renderStep, renderItem, applyVisibility, showIssue, showOffer, otherParent, parseDate, formatDate,
  };
})();
