// @ts-check
// Building blocks of the pages: DOM construction (createElement only, never innerHTML, so no
// server text is parsed as HTML), number and date formatting (dd/mm/yyyy in Vietnamese, times
// in Vietnam's time zone), tables that become cards below 600 px, form fields, a picker of
// catalogue entries by name, toasts and downloads.
import { api, errorText } from './api.js';
import { getLang, t } from './i18n.js';

/**
 * createElement with props: class, testid, text, dataset, on<Event>, properties and attributes.
 * @param {string} tag
 * @param {Record<string, any>|null} [props]
 * @param {...any} children
 * @returns {any}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'testid') el.dataset.testid = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'open', 'multiple'].includes(k)) /** @type {any} */ (el)[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

/** Appends children (null / false skipped, arrays flattened). @param {Element} el @param {any[]} children */
export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces the children of `el`. @param {Element} el @param {...any} children */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const locale = () => (getLang() === 'en' ? 'en-GB' : 'vi-VN');

/** @param {unknown} x @param {number} [digits] */
export function fmtNum(x, digits = 0) {
  if (x === null || x === undefined || Number.isNaN(Number(x))) return t('common.dash');
  return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(x));
}

/** A share 0–1 as a percentage. @param {number|null|undefined} x */
export function fmtPct(x) {
  if (x === null || x === undefined || Number.isNaN(Number(x))) return t('common.dash');
  return `${fmtNum(100 * Number(x), 1)}%`;
}

/**
 * `dd/mm/yyyy HH:MM` in Vietnam's time (UTC+7), whatever the computer's time zone.
 * @param {string|null|undefined} iso
 * @param {boolean} [withZone]
 */
export function fmtDateTime(iso, withZone = false) {
  if (!iso) return t('common.dash');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
    day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23', timeZone: 'Asia/Ho_Chi_Minh',
  }).formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.day}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}${withZone ? ' (UTC+7)' : ''}`;
}

/** `YYYY-MM-DD` → `dd/mm/yyyy`. @param {string|null|undefined} ymd */
export function fmtDate(ymd) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
  return m ? `${m[3]}/${m[2]}/${m[1]}` : (ymd || t('common.dash'));
}

/** Today in Vietnam as `YYYY-MM-DD`. */
export function todayVn() {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { day: '2-digit', month: '2-digit', year: 'numeric', timeZone: 'Asia/Ho_Chi_Minh' })
    .formatToParts(new Date()).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** A name with its code as a small secondary detail. @param {string|null|undefined} name @param {string|null|undefined} code */
export function named(name, code) {
  if (!name && !code) return t('common.dash');
  if (!name || name === code) return h('span', { class: 'code' }, code);
  return h('span', { class: 'named' }, h('span', { class: 'name' }, name), code ? h('span', { class: 'code' }, code) : null);
}

/** @param {unknown} err @param {string} [testid] */
export function errorBox(err, testid = 'error') {
  return h('p', { class: 'error', role: 'alert', testid }, errorText(err));
}

export function loading() {
  return h('p', { class: 'muted', testid: 'loading' }, t('common.loading'));
}

/** @param {string} text @param {string} [testid] */
export function empty(text, testid) {
  return h('p', { class: 'muted', testid }, text);
}

/**
 * A table; below 600 px every row becomes a card whose cells carry their column name.
 * @param {string} testid
 * @param {(string|{text: string, class?: string})[]} headers
 * @param {HTMLTableRowElement[]} rows
 * @param {{class?: string, caption?: string}} [opts]
 */
export function table(testid, headers, rows, opts = {}) {
  const labels = headers.map((hd) => (typeof hd === 'string' ? hd : hd.text));
  for (const tr of rows) {
    [...tr.children].forEach((td, i) => {
      if (!(td instanceof HTMLElement)) return;
      if (labels[i] && !td.dataset.label) td.dataset.label = labels[i];
      // One box per cell, so that as a card the cell's content sits beside its column name.
      if (td.childNodes.length !== 1 || td.firstChild?.nodeType === Node.TEXT_NODE) {
        const body = h('div', { class: 'cell' });
        body.append(...td.childNodes);
        td.append(body);
      }
    });
  }
  return h('div', { class: 'table-wrap' },
    h('table', { testid, class: `responsive ${opts.class || ''}`.trim() },
      opts.caption ? h('caption', { class: 'muted small' }, opts.caption) : null,
      h('thead', null, h('tr', null, headers.map((hd) => (typeof hd === 'string'
        ? h('th', { scope: 'col' }, hd)
        : h('th', { scope: 'col', class: hd.class }, hd.text))))),
      h('tbody', null, rows)));
}

/**
 * A labelled form field.
 * @param {string} id
 * @param {string} label
 * @param {HTMLElement} input
 * @param {string} [hint]
 */
export function field(id, label, input, hint) {
  input.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input,
    input instanceof HTMLInputElement && input.type === 'date' ? dateEcho(input) : null,
    hint ? h('p', { class: 'muted small hint' }, hint) : null);
}

/**
 * The date of a date input written dd/mm/yyyy beside it (the input's own format follows the
 * browser's language, which may not be Vietnamese).
 * @param {HTMLInputElement} input
 */
export function dateEcho(input) {
  const out = h('span', { class: 'muted small date-echo', 'aria-hidden': 'true' });
  const draw = () => { out.textContent = input.value ? fmtDate(input.value) : ''; };
  input.addEventListener('input', draw);
  input.addEventListener('change', draw);
  draw();
  return out;
}

/**
 * A <select> of options [{value, label}].
 * @param {string} testid
 * @param {{value: string, label: string}[]} options
 * @param {string} [selected]
 * @param {string} [placeholder] first empty option
 */
export function select(testid, options, selected = '', placeholder) {
  return h('select', { testid },
    placeholder !== undefined ? h('option', { value: '' }, placeholder) : null,
    options.map((o) => h('option', { value: o.value, selected: o.value === selected }, o.label)));
}

// ---------- toasts ----------

/** @type {{kind: string, text: string}|null} */
let pending = null;

/**
 * Shows a message at the top of the page; `later` keeps it for the next page drawn.
 * @param {'notice'|'error'} kind
 * @param {string} text
 * @param {boolean} [later]
 */
export function toast(kind, text, later = false) {
  if (later) { pending = { kind, text }; return; }
  const box = document.getElementById('flash');
  if (!box) return;
  fill(box, h('p', { class: kind === 'error' ? 'error' : 'notice', testid: 'flash-message', role: kind === 'error' ? 'alert' : 'status' }, text));
}

/** Draws the message kept for this page (or clears the box). */
export function drawPendingToast() {
  const box = document.getElementById('flash');
  if (!box) return;
  box.replaceChildren();
  if (pending) toast(/** @type {'notice'|'error'} */ (pending.kind), pending.text);
  pending = null;
}

/** Keeps what is shown now for the next page (e.g. across a language switch). */
export function keepToast() {
  const p = document.querySelector('#flash [data-testid="flash-message"]');
  if (p) pending = { kind: p.classList.contains('error') ? 'error' : 'notice', text: p.textContent || '' };
}

// ---------- downloads ----------

/** @param {Response} res @param {string} fallback */
function filenameFrom(res, fallback) {
  const cd = res.headers.get('Content-Disposition') || '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename="?([^";]+)"?/i.exec(cd);
  return plain ? plain[1] : fallback;
}

/**
 * Downloads an API file (with the bearer token) and saves it under its server name.
 * @param {string} path
 * @param {string} fallbackName
 * @param {HTMLElement} status where progress / errors are shown
 */
export async function download(path, fallbackName, status) {
  fill(status, h('span', { class: 'muted small' }, t('common.downloading')));
  try {
    const res = await api(path, { raw: true, accept: '*/*' });
    const blob = await res.blob();
    const name = filenameFrom(res, fallbackName);
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    fill(status, h('span', { class: 'notice small', testid: 'download-done' }, t('common.downloaded', name)));
  } catch (e) {
    if (e && /** @type {any} */ (e).handled) return;
    fill(status, errorBox(e, 'download-error'));
  }
}

// ---------- SVG from the server (QR codes) ----------

const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_TAGS = new Set(['svg', 'g', 'path', 'rect', 'title', 'desc', 'defs', 'use', 'polygon', 'circle']);
const SVG_ATTRS = new Set(['viewBox', 'width', 'height', 'x', 'y', 'd', 'fill', 'stroke', 'stroke-width',
  'shape-rendering', 'transform', 'points', 'cx', 'cy', 'r', 'version', 'preserveAspectRatio', 'fill-rule', 'class', 'id']);

/**
 * Builds an SVG element from the server's SVG text, copying only drawing elements and
 * attributes (no script, no event handler, no external reference).
 * @param {string} text
 * @returns {SVGElement|null}
 */
export function safeSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.nodeName !== 'svg') return null;
  /** @param {Element} src @returns {Element|null} */
  const copy = (src) => {
    if (!SVG_TAGS.has(src.localName)) return null;
    const el = document.createElementNS(SVG_NS, src.localName);
    for (const a of src.attributes) if (SVG_ATTRS.has(a.name)) el.setAttribute(a.name, a.value);
    for (const c of src.childNodes) {
      if (c.nodeType === Node.ELEMENT_NODE) {
        const k = copy(/** @type {Element} */ (c));
        if (k) el.append(k);
      } else if (c.nodeType === Node.TEXT_NODE && (src.localName === 'title' || src.localName === 'desc')) {
        el.append(document.createTextNode(c.textContent || ''));
      }
    }
    return el;
  };
  return /** @type {SVGElement|null} */ (copy(root));
}

// ---------- picking catalogue entries by name ----------

/**
 * A multi-choice picker of catalogue entries: a search box over the names (and codes), the
 * matches as buttons, the chosen ones as removable chips. Names shown, codes secondary.
 * @param {string} testid
 * @param {{code: string, name: string, hint?: string}[]} entries
 * @param {string[]} chosen codes chosen at start
 * @param {{onChange?: (codes: string[]) => void, label: string}} opts
 */
export function picker(testid, entries, chosen, opts) {
  const byCode = new Map(entries.map((e) => [e.code, e]));
  const picked = [...new Set(chosen)];
  const chips = h('ul', { class: 'chips', testid: `${testid}-chosen` });
  const results = h('ul', { class: 'pick-results', testid: `${testid}-results` });
  const search = h('input', { type: 'search', testid: `${testid}-search`, placeholder: t('common.search_ph'), 'aria-label': opts.label, autocomplete: 'off' });
  const fold = (/** @type {string} */ s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
  const draw = () => {
    fill(chips, picked.map((code) => {
      const e = byCode.get(code);
      return h('li', { class: 'chip', dataset: { code } }, named(e ? e.name : null, code),
        h('button', {
          type: 'button', class: 'chip-x', 'aria-label': t('common.remove', e ? e.name : code), testid: `${testid}-remove`,
          onclick: () => { picked.splice(picked.indexOf(code), 1); draw(); opts.onChange?.([...picked]); },
        }, '×'));
    }));
    const q = fold(search.value.trim());
    const matches = q ? entries.filter((e) => !picked.includes(e.code) && (fold(e.name).includes(q) || e.code.toLowerCase().includes(q))).slice(0, 12) : [];
    fill(results, matches.map((e) => h('li', null, h('button', {
      type: 'button', class: 'pick', testid: `${testid}-option`, dataset: { code: e.code },
      onclick: () => { picked.push(e.code); search.value = ''; draw(); opts.onChange?.([...picked]); search.focus(); },
    }, named(e.name, e.code), e.hint ? h('span', { class: 'muted small' }, ` · ${e.hint}`) : null))));
  };
  search.addEventListener('input', draw);
  draw();
  const el = h('div', { class: 'picker', testid }, chips, search, results);
  return { el, values: () => [...picked], search };
}
