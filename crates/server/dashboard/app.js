// SIPAS Field dashboard: supervisors (progress, review, spot checks, reports) and monitors
// (phúc tra tasks). Plain JavaScript, no dependencies; talks only to this server's /api/v1.
// The session token lives in sessionStorage (gone when the tab closes); the language choice
// in localStorage. Every text comes from i18n.js. The DOM is built with createElement only
// (no innerHTML), so no server text is ever parsed as HTML.
'use strict';
(() => {
  const I18N = window.SIPAS_DASH_I18N;
  const API = '/api/v1';
  const LANG_KEY = 'sipas.dashboard.lang';
  const TOKEN_KEY = 'sipas.dashboard.token';
  const USER_KEY = 'sipas.dashboard.user';
  const PLANNERS = ['supervisor', 'admin'];
  const ALL_UNITS = '*';
  /** A surveyor is flagged when more than this share of their re-checks disagree. */
  const DISCREPANCY_THRESHOLD = 0.2;

  let lang = safeGet(localStorage, LANG_KEY) === 'en' ? 'en' : 'vi';
  let flash = null; // {kind, key, args, error, keep}
  let renderSeq = 0;
  const roundCache = new Map();
  const submittedFindings = new Map();

  // ---------- small utilities ----------

  function safeGet(store, key) {
    try { return store.getItem(key); } catch { return null; }
  }

  function t(key, ...args) {
    const v = (I18N[lang] && I18N[lang][key]) ?? I18N.vi[key];
    if (v === undefined) {
      console.warn('missing string', key);
      return key;
    }
    return typeof v === 'function' ? v(...args) : v;
  }

  /** A label object {vi, en} (or a plain string) in the current language. */
  function L(label) {
    if (label == null) return '';
    if (typeof label === 'string') return label;
    return (lang === 'en' && label.en) ? label.en : (label.vi ?? label.en ?? '');
  }

  /** createElement with props: class, testid, text, on<Event>, properties and attributes. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') el.className = v;
        else if (k === 'testid') el.dataset.testid = v;
        else if (k === 'text') el.textContent = v;
        else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (k === 'dataset') Object.assign(el.dataset, v);
        else if (['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'open'].includes(k)) el[k] = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      }
    }
    append(el, children);
    return el;
  }

  /** Replaces the children of `el` (null / false children are skipped, arrays flattened). */
  function fill(el, ...children) {
    el.replaceChildren();
    return append(el, children);
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  const locale = () => (lang === 'en' ? 'en-GB' : 'vi-VN');

  function fmtNum(x, digits = 0) {
    if (x === null || x === undefined || Number.isNaN(Number(x))) return t('common.dash');
    return new Intl.NumberFormat(locale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(Number(x));
  }

  /** `dd/mm/yyyy HH:MM` in Vietnam's time (UTC+7), whatever the computer's time zone. */
  function fmtDateTime(iso, withZone = false) {
    if (!iso) return t('common.dash');
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
      day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
      hourCycle: 'h23', timeZone: 'Asia/Ho_Chi_Minh',
    }).formatToParts(d).map((p) => [p.type, p.value]));
    return `${parts.day}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}${withZone ? ' (UTC+7)' : ''}`;
  }

  function fmtDate(ymd) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd || '');
    return m ? `${m[3]}/${m[2]}/${m[1]}` : (ymd || t('common.dash'));
  }

  const shortId = (id) => String(id || '').slice(-8);
  const formKey = (f) => (f && typeof f === 'object' ? `${f.form_id}@${f.version}` : String(f ?? ''));
  const enc = encodeURIComponent;

  /** The first array found in `x` (x itself, or one of its `keys`). */
  function listOf(x, ...keys) {
    if (Array.isArray(x)) return x;
    if (x && typeof x === 'object') {
      for (const k of keys) if (Array.isArray(x[k])) return x[k];
    }
    return [];
  }

  function roleLabel(role) {
    return I18N.vi[`role.${role}`] ? t(`role.${role}`) : String(role || '');
  }

  // ---------- session and API ----------

  const session = {
    get token() { return safeGet(sessionStorage, TOKEN_KEY); },
    get user() {
      try { return JSON.parse(safeGet(sessionStorage, USER_KEY) || 'null'); } catch { return null; }
    },
    set(token, user) {
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(user));
    },
    clear() {
      sessionStorage.removeItem(TOKEN_KEY);
      sessionStorage.removeItem(USER_KEY);
      roundCache.clear();
      submittedFindings.clear();
    },
  };

  class ApiError extends Error {
    constructor(status, problem, handled = false) {
      super(problem && problem.message ? problem.message : `HTTP ${status}`);
      this.status = status;
      this.problem = problem && typeof problem === 'object' && problem.code ? problem : null;
      this.handled = handled;
    }
  }

  /** Text of an error in the current language: the problem's message_vi / message. */
  function errorText(e) {
    if (e instanceof ApiError) {
      if (e.problem) {
        const text = lang === 'en' ? (e.problem.message || e.problem.message_vi) : (e.problem.message_vi || e.problem.message);
        return `${text} (${e.problem.code})`;
      }
      if (e.status === 0) return t('common.network');
      return t('common.bad_answer', e.status);
    }
    return t('common.error', e && e.message ? e.message : String(e));
  }

  function expireSession() {
    session.clear();
    setFlash('error', 'login.expired');
    if (location.hash !== '#/login') location.hash = '#/login';
    else render();
  }

  /**
   * Calls the API. Non-2xx answers throw ApiError carrying the problem JSON; 401 (other
   * than a failed login) ends the session and goes back to the login page.
   */
  async function api(path, opts = {}) {
    const headers = { Accept: opts.accept || 'application/json' };
    const token = session.token;
    if (token && !opts.noAuth) headers.Authorization = `Bearer ${token}`;
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    } else if (opts.bytes !== undefined) {
      headers['Content-Type'] = 'application/json';
      if (opts.encoding) headers['Content-Encoding'] = opts.encoding;
      body = opts.bytes;
    }
    let res;
    try {
      res = await fetch(API + path, { method: opts.method || 'GET', headers, body, cache: 'no-store', credentials: 'omit' });
    } catch {
      throw new ApiError(0, null);
    }
    if (!res.ok) {
      let problem = null;
      try { problem = await res.json(); } catch { /* not JSON */ }
      if (res.status === 401 && !opts.noAuth) {
        expireSession();
        throw new ApiError(401, problem, true);
      }
      throw new ApiError(res.status, problem);
    }
    if (opts.raw) return res;
    if (res.status === 204) return null;
    const text = await res.text();
    return text ? JSON.parse(text) : null;
  }

  function qs(params) {
    const parts = Object.entries(params)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${enc(k)}=${enc(v)}`);
    return parts.length ? `?${parts.join('&')}` : '';
  }

  // ---------- flash messages (survive one navigation) ----------

  function setFlash(kind, key, ...args) {
    flash = { kind, key, args, keep: true };
  }

  function setFlashError(err) {
    flash = { kind: 'error', error: err, keep: true };
  }

  function drawFlash() {
    const box = document.getElementById('flash');
    box.replaceChildren();
    if (!flash) return;
    const text = flash.error ? errorText(flash.error) : t(flash.key, ...flash.args);
    box.append(h('p', { class: flash.kind === 'error' ? 'error' : 'notice', testid: 'flash-message', role: flash.kind === 'error' ? 'alert' : null }, text));
  }

  // ---------- page scaffolding ----------

  function errorBox(err, testid = 'error') {
    return h('p', { class: 'error', role: 'alert', testid }, errorText(err));
  }

  function loading() {
    return h('p', { class: 'muted', testid: 'loading' }, t('common.loading'));
  }

  function table(testid, headers, rows, opts = {}) {
    return h('div', { class: 'table-wrap' },
      h('table', { testid, class: opts.class },
        opts.caption ? h('caption', { class: 'muted small' }, opts.caption) : null,
        h('thead', null, h('tr', null, headers.map((hd) => (typeof hd === 'string'
          ? h('th', { scope: 'col' }, hd)
          : h('th', { scope: 'col', class: hd.class }, hd.text))))),
        h('tbody', null, rows)));
  }

  async function getRounds(force = false) {
    if (force || roundCache.size === 0) {
      const rounds = listOf(await api('/rounds'), 'rounds');
      roundCache.clear();
      for (const r of rounds) roundCache.set(r.id, r);
    }
    return [...roundCache.values()];
  }

  /** id → display name of the users of a role (empty if the caller may not list users). */
  async function usersByRole(role) {
    try {
      const users = listOf(await api(`/users?role=${enc(role)}`), 'users', 'items');
      return new Map(users.map((u) => [u.id, u.display_name || u.username]));
    } catch (e) {
      if (e.handled) throw e;
      return new Map();
    }
  }

  async function getRound(id) {
    if (!roundCache.has(id)) await getRounds(true);
    return roundCache.get(id) || { id, name: id };
  }

  function roundNav(roundId, current) {
    const tabs = [
      ['overview', `#/rounds/${enc(roundId)}`, 'nav.overview'],
      ['review', `#/rounds/${enc(roundId)}/review`, 'nav.review'],
      ['spot', `#/rounds/${enc(roundId)}/spot-checks`, 'nav.spot'],
      ['report', `#/rounds/${enc(roundId)}/report`, 'nav.report'],
    ];
    return h('nav', { class: 'subnav', 'aria-label': t('nav.round.label'), testid: 'subnav' },
      tabs.map(([id, href, key]) => h('a', {
        href, testid: `subnav-${id}`, 'aria-current': id === current ? 'page' : null,
      }, t(key))));
  }

  function drawChrome(route) {
    document.documentElement.lang = lang;
    document.title = t('app.doc_title');
    document.getElementById('app-title').textContent = t('app.title');
    const toggle = document.getElementById('lang-toggle');
    toggle.textContent = t('lang.toggle');
    toggle.setAttribute('aria-label', t('lang.toggle.label'));
    toggle.setAttribute('lang', lang === 'vi' ? 'en' : 'vi');
    const user = session.user;
    const logout = document.getElementById('logout');
    logout.textContent = t('nav.logout');
    logout.hidden = !user;
    document.getElementById('who').textContent = user ? t('who', user.display_name || user.username, roleLabel(user.role)) : '';
    const nav = document.getElementById('main-nav');
    nav.setAttribute('aria-label', t('nav.label'));
    nav.replaceChildren();
    if (!user) return;
    const links = [];
    if (PLANNERS.includes(user.role)) links.push(['rounds', '#/rounds', 'nav.rounds']);
    if (user.role === 'supervisor') links.push(['handover', '#/handover', 'nav.handover']);
    if (user.role === 'monitor') links.push(['monitor', '#/monitor', 'nav.monitor']);
    for (const [id, href, key] of links) {
      nav.append(h('a', {
        class: 'navlink', href, testid: `nav-${id}`,
        'aria-current': route.section === id ? 'page' : null,
      }, t(key)));
    }
  }

  // ---------- router ----------

  const ROUTES = [
    { re: /^\/login$/, page: pageLogin, public: true, section: 'login' },
    { re: /^\/rounds$/, page: pageRounds, roles: PLANNERS, section: 'rounds' },
    { re: /^\/rounds\/([^/]+)$/, page: pageOverview, roles: PLANNERS, section: 'rounds' },
    { re: /^\/rounds\/([^/]+)\/review$/, page: pageReview, roles: PLANNERS, section: 'rounds' },
    { re: /^\/responses\/([^/]+)\/(\d+)$/, page: pageDetail, roles: PLANNERS, section: 'rounds' },
    { re: /^\/rounds\/([^/]+)\/spot-checks$/, page: pageSpotChecks, roles: PLANNERS, section: 'rounds' },
    { re: /^\/rounds\/([^/]+)\/report$/, page: pageReport, roles: [...PLANNERS, 'monitor'], section: 'rounds' },
    { re: /^\/handover$/, page: pageHandover, roles: ['supervisor'], section: 'handover' },
    { re: /^\/monitor$/, page: pageMonitor, roles: ['monitor'], section: 'monitor' },
    { re: /^\/surveyor$/, page: pageSurveyor, roles: ['surveyor'], section: 'surveyor' },
  ];

  function homeFor(user) {
    if (!user) return '#/login';
    if (user.role === 'monitor') return '#/monitor';
    if (user.role === 'surveyor') return '#/surveyor';
    return '#/rounds';
  }

  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const [path, query = ''] = raw.split('?');
    return { path, query: new URLSearchParams(query) };
  }

  function render() {
    const seq = ++renderSeq;
    const { path, query } = parseHash();
    const user = session.user;
    if (flash && flash.keep) flash.keep = false; else flash = null;
    let route = null;
    let params = [];
    for (const r of ROUTES) {
      const m = r.re.exec(path);
      if (m) { route = r; params = m.slice(1).map(decodeURIComponent); break; }
    }
    if (path === '/' || !route) {
      if (path !== '/' && route === null && user) {
        drawChrome({});
        drawFlash();
        document.getElementById('view').replaceChildren(h('p', { class: 'error', testid: 'not-found' }, t('common.not_found')));
        return;
      }
      location.replace(homeFor(user));
      return;
    }
    if (!route.public && !(user && session.token)) {
      location.replace('#/login');
      return;
    }
    if (route.public && user && session.token) {
      location.replace(homeFor(user));
      return;
    }
    drawChrome(route);
    drawFlash();
    const view = document.getElementById('view');
    if (route.roles && !route.roles.includes(user.role)) {
      fill(view, h('p', { class: 'error', testid: 'forbidden-page' }, t('common.forbidden_page')));
      return;
    }
    view.replaceChildren();
    const ctx = { alive: () => seq === renderSeq, query, view };
    Promise.resolve(route.page(ctx, ...params)).catch((e) => {
      if (e instanceof ApiError && e.handled) return;
      console.error(e);
      if (ctx.alive()) fill(view, errorBox(e, 'page-error'));
    });
  }

  // ---------- pages ----------

  function pageLogin(ctx) {
    const msg = h('div', { id: 'login-error', testid: 'login-error', 'aria-live': 'assertive' });
    const username = h('input', { id: 'login-username', testid: 'login-username', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
    const password = h('input', { id: 'login-password', testid: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'login-submit', testid: 'login-submit' }, t('login.submit'));
    const form = h('form', { id: 'login-form', class: 'panel login', testid: 'login-form', novalidate: true },
      h('h2', null, t('login.heading')),
      h('p', { class: 'muted' }, t('login.intro')),
      h('div', { class: 'field' }, h('label', { for: 'login-username' }, t('login.username')), username),
      h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), password),
      msg,
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      msg.replaceChildren();
      if (!username.value.trim() || !password.value) {
        msg.append(h('p', { class: 'error', role: 'alert' }, t('login.missing')));
        return;
      }
      submit.disabled = true;
      submit.textContent = t('login.busy');
      try {
        const res = await api('/login', { method: 'POST', body: { username: username.value.trim(), password: password.value }, noAuth: true });
        session.set(res.token, res.user);
        flash = null;
        location.hash = homeFor(res.user);
      } catch (e) {
        if (!ctx.alive()) return;
        msg.append(errorBox(e, 'login-problem'));
        submit.disabled = false;
        submit.textContent = t('login.submit');
        password.select();
      }
    });
    ctx.view.append(form);
    username.focus();
  }

  function pageSurveyor(ctx) {
    ctx.view.append(h('section', { class: 'panel', testid: 'surveyor-page' },
      h('h2', null, t('surveyor.heading')), h('p', null, t('surveyor.text'))));
  }

  async function pageRounds(ctx) {
    ctx.view.append(h('h2', null, t('rounds.heading')), loading());
    const rounds = await getRounds(true);
    if (!ctx.alive()) return;
    const rows = rounds.map((r) => h('tr', { testid: 'round-row', dataset: { roundId: r.id } },
      h('td', { class: 'mono' }, r.id),
      h('td', null, h('a', { href: `#/rounds/${enc(r.id)}`, testid: 'round-link' }, r.name)),
      h('td', { class: 'mono hide-narrow' }, formKey(r.form)),
      h('td', null, t('rounds.period', fmtDate(r.starts_on), fmtDate(r.ends_on)))));
    fill(ctx.view, h('h2', null, t('rounds.heading')),
      rounds.length === 0
        ? h('p', { class: 'muted', testid: 'rounds-empty' }, t('rounds.empty'))
        : table('rounds-table', [t('rounds.id'), t('rounds.name'), { text: t('rounds.form'), class: 'hide-narrow' }, t('rounds.dates')], rows));
  }

  // --- offline hand-over: import a surveyor device's signed batch file ---

  function pageHandover(ctx) {
    const input = h('input', { type: 'file', id: 'handover-file', testid: 'handover-file', accept: '.json,.gz,application/json' });
    const result = h('div', { testid: 'handover-result', 'aria-live': 'polite' });
    const button = h('button', { type: 'submit', class: 'primary', testid: 'handover-submit' }, t('handover.submit'));
    const form = h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        const file = input.files && input.files[0];
        if (!file) { fill(result, h('p', { class: 'error', role: 'alert' }, t('handover.choose'))); return; }
        button.disabled = true;
        fill(result, loading());
        try {
          const bytes = await file.arrayBuffer();
          const reply = await api('/handover', { method: 'POST', bytes, encoding: /\.gz$/i.test(file.name) ? 'gzip' : undefined });
          const acks = listOf(reply, 'acks');
          const count = (st) => acks.filter((a) => a.status === st).length;
          const blob = new Blob([JSON.stringify(reply)], { type: 'application/json' });
          const name = `${file.name.replace(/(\.json)?(\.gz)?$/i, '')}.ketqua.json`;
          fill(result,
            h('p', { class: 'notice', testid: 'handover-summary' },
              t('handover.summary', count('accepted'), count('duplicate'), count('conflict'), count('invalid'))),
            h('p', null, t('handover.return_hint')),
            h('a', { href: URL.createObjectURL(blob), download: name, testid: 'handover-reply' }, t('handover.download', name)));
        } catch (e) {
          fill(result, errorBox(e, 'handover-error'));
        } finally {
          button.disabled = false;
        }
      },
    },
    h('label', { for: 'handover-file' }, t('handover.file')), input, button);
    fill(ctx.view, h('h2', null, t('handover.heading')), h('p', { class: 'muted' }, t('handover.intro')), form, result);
  }

  // --- round overview: progress per surveyor and per unit ---

  function progressCounts(row) {
    const p = row.progress && typeof row.progress === 'object' ? row.progress : row;
    return {
      assigned: Number(p.assigned || 0),
      collected: Number(p.collected || 0),
      non_response: Number(p.non_response || 0),
      synced: Number(p.synced || 0),
      // Of `synced`: interviews outside the sample (replacements and walk-ins).
      outside: Number(p.replacement || 0) + Number(p.walk_in || 0),
    };
  }

  function progressTable(testid, firstHeader, rows, total) {
    const line = (label, c, extra = {}) => {
      const handled = c.collected + c.non_response;
      const pct = c.assigned > 0 ? Math.min(100, Math.round((100 * handled) / c.assigned)) : 0;
      const meter = h('div', { class: 'meter', role: 'img', 'aria-label': t('overview.done_pct', pct) }, h('span'));
      meter.firstChild.style.width = `${pct}%`;
      return h('tr', extra,
        h('td', null, label),
        h('td', { class: 'num', testid: 'assigned' }, fmtNum(c.assigned)),
        h('td', { class: 'num', testid: 'collected' }, fmtNum(c.collected)),
        h('td', { class: 'num', testid: 'non-response' }, fmtNum(c.non_response)),
        h('td', { class: 'num', testid: 'synced' }, fmtNum(c.synced)),
        h('td', { class: 'num', testid: 'outside-sample' }, fmtNum(c.outside)),
        h('td', { class: 'hide-narrow' }, meter));
    };
    const body = rows.map((r) => line(r.label, r.counts, { testid: 'progress-row', dataset: { key: r.key } }));
    if (total) body.push(line(t('common.total'), total, { class: 'total', testid: 'progress-total' }));
    return table(testid, [firstHeader,
      { text: t('overview.assigned'), class: 'num' }, { text: t('overview.collected'), class: 'num' },
      { text: t('overview.non_response'), class: 'num' }, { text: t('overview.synced'), class: 'num' },
      { text: t('overview.outside_sample'), class: 'num' },
      { text: t('overview.done'), class: 'hide-narrow' }], body);
  }

  function sumCounts(rows) {
    const s = { assigned: 0, collected: 0, non_response: 0, synced: 0, outside: 0 };
    for (const r of rows) for (const k of Object.keys(s)) s[k] += r.counts[k];
    return s;
  }

  async function pageOverview(ctx, roundId) {
    const round = await getRound(roundId);
    if (!ctx.alive()) return;
    const head = [roundNav(roundId, 'overview'), h('h2', null, t('overview.heading', round.name))];
    ctx.view.append(...head, loading());
    const [bySurveyor, byUnit] = await Promise.all([
      api(`/rounds/${enc(roundId)}/progress?by=surveyor`),
      api(`/rounds/${enc(roundId)}/progress?by=unit`),
    ]);
    if (!ctx.alive()) return;
    const sRows = listOf(bySurveyor, 'surveyors', 'rows', 'items').map((r) => ({
      key: r.surveyor_id || r.key || r.username || '',
      label: r.display_name || r.username || r.label || (r.surveyor_id ? t('overview.unknown_user') : r.key) || '',
      counts: progressCounts(r),
    }));
    const uRows = listOf(byUnit, 'units', 'rows', 'items').map((r) => ({
      key: r.unit_code || r.key || '',
      label: r.unit_name ? `${r.unit_code} · ${r.unit_name}` : (r.unit_code || r.key || r.label || ''),
      counts: progressCounts(r),
    }));
    const total = bySurveyor && bySurveyor.total ? progressCounts(bySurveyor.total) : sumCounts(sRows);
    const uTotal = byUnit && byUnit.total ? progressCounts(byUnit.total) : sumCounts(uRows);
    fill(ctx.view, ...head,
      h('p', { class: 'info', testid: 'progress-summary' }, t('overview.summary', fmtNum(total.collected), fmtNum(total.assigned), fmtNum(total.non_response))),
      h('h3', null, t('overview.by_surveyor')),
      sRows.length ? progressTable('progress-surveyor', t('overview.surveyor'), sRows, total) : h('p', { class: 'muted' }, t('common.none')),
      h('h3', null, t('overview.by_unit')),
      uRows.length ? progressTable('progress-unit', t('overview.unit'), uRows, uTotal) : h('p', { class: 'muted' }, t('common.none')));
  }

  // --- review queue ---

  const REVIEW_STATES = ['pending', 'approved', 'rejected', 'all'];

  function stateOf(entry) {
    const s = entry.state || entry.review_state || entry.status
      || (entry.decision && (entry.decision.decision || entry.decision)) || 'pending';
    return typeof s === 'string' ? s : 'pending';
  }

  function stateBadge(state) {
    const known = ['pending', 'approved', 'rejected'].includes(state);
    return h('span', { class: `badge ${state}`, testid: 'state-badge', dataset: { state } }, known ? t(`review.state.${state}`) : state);
  }

  function flagText(f) {
    const kind = typeof f === 'string' ? f : f.kind;
    if (kind === 'too_fast') return t('flag.too_fast', fmtNum(f.seconds), fmtNum(f.expected_min));
    if (kind === 'straight_lining') return t('flag.straight_lining', fmtNum(100 * Number(f.share || 0)), fmtNum(f.items), f.value);
    return t('flag.other', f.message_vi && lang === 'vi' ? f.message_vi : (f.message || kind));
  }

  function surveyorName(e) {
    const s = e.surveyor && typeof e.surveyor === 'object' ? e.surveyor : e;
    return s.surveyor_display_name || s.surveyor_name || s.display_name || s.surveyor_username || s.username || shortId(s.surveyor_id || s.id);
  }

  async function pageReview(ctx, roundId) {
    const round = await getRound(roundId);
    if (!ctx.alive()) return;
    const state = REVIEW_STATES.includes(ctx.query.get('state')) ? ctx.query.get('state') : 'pending';
    const select = h('select', { id: 'review-state', testid: 'review-state' },
      REVIEW_STATES.map((s) => h('option', { value: s, selected: s === state }, t(`review.state.${s}`))));
    select.addEventListener('change', () => {
      location.hash = `#/rounds/${enc(roundId)}/review?state=${enc(select.value)}`;
    });
    const head = [roundNav(roundId, 'review'), h('h2', null, `${t('review.heading')}: ${round.name}`),
      h('div', { class: 'form-row narrow' }, h('div', { class: 'field' }, h('label', { for: 'review-state' }, t('review.state')), select))];
    ctx.view.append(...head, loading());
    const data = await api(`/review/queue${qs({ round_id: roundId, state })}`);
    if (!ctx.alive()) return;
    const entries = listOf(data, 'items', 'responses', 'queue', 'entries');
    const rows = entries.map((e) => {
      const id = e.response_id || e.id;
      const rev = e.revision ?? e.rev;
      const flags = listOf(e.flags || e.quality_flags);
      const st = stateOf(e);
      return h('tr', { testid: 'review-row', class: flags.length ? 'has-flags' : null, dataset: { responseId: id, revision: rev, state: st } },
        h('td', null, h('a', { href: `#/responses/${enc(id)}/${enc(rev)}`, testid: 'review-open', title: t('review.open') }, h('span', { class: 'mono' }, shortId(id))), ' ', h('span', { class: 'muted small' }, t('review.rev', rev))),
        h('td', null, surveyorName(e)),
        h('td', { class: 'mono' }, e.unit_code || ''),
        h('td', { class: 'hide-narrow' }, fmtDateTime(e.completed_at || e.received_at)),
        h('td', { testid: 'flag-count' }, flags.length
          ? flags.map((f) => h('span', { class: 'badge flag', title: flagText(f) }, flagText(f)))
          : h('span', { class: 'muted' }, t('review.no_flags'))),
        h('td', null, stateBadge(st)));
    });
    fill(ctx.view, ...head,
      h('p', { class: 'muted', testid: 'review-count' }, t('review.count', entries.length)),
      entries.length === 0
        ? h('p', { class: 'muted', testid: 'review-empty' }, t('review.empty'))
        : table('review-table', [t('review.response'), t('review.surveyor'), t('review.unit'),
          { text: t('review.completed'), class: 'hide-narrow' }, t('review.flags'), t('review.state')], rows));
  }

  // --- response detail and decision ---

  /** Form items in order, with group titles, from a questionnaire definition. */
  function formGroups(form) {
    if (!form || !Array.isArray(form.groups)) return [];
    return form.groups.map((g) => ({ code: g.code, title: g.title, relevant: g.relevant, items: g.items || [] }));
  }

  function scaleOf(form, item) {
    if (!item) return null;
    if (item.scale && typeof item.scale === 'object') return item.scale;
    return form && form.scales && item.scale ? form.scales[item.scale] : null;
  }

  /** An answer shown with its option / scale label. */
  function answerText(form, item, value) {
    if (value === undefined || value === null) return null;
    if (!item) return Array.isArray(value) ? value.join(', ') : String(value);
    const optionLabel = (v) => {
      const o = (item.options || []).find((op) => String(op.value) === String(v));
      return o ? L(o.label) : String(v);
    };
    switch (item.type) {
      case 'single_choice': return optionLabel(value);
      case 'multi_choice': return listOf(value).map(optionLabel).join('; ');
      case 'rating': {
        const sc = scaleOf(form, item);
        if (sc) {
          const p = (sc.points || []).find((pt) => pt.value === value) || (sc.no_answer && sc.no_answer.value === value ? sc.no_answer : null);
          if (p) return `${value} – ${L(p.label)}`;
        }
        return String(value);
      }
      case 'date': return fmtDate(value);
      default: return Array.isArray(value) ? value.join(', ') : String(value);
    }
  }

  async function pageDetail(ctx, responseId, revision) {
    ctx.view.append(loading());
    const [data, surveyors] = await Promise.all([
      api(`/responses/${enc(responseId)}/${enc(revision)}`),
      usersByRole('surveyor'),
    ]);
    if (!ctx.alive()) return;
    if (!data.surveyor_name && surveyors.has(data.surveyor_id)) data.surveyor_name = surveyors.get(data.surveyor_id);
    const response = data.response || data;
    const form = data.questionnaire || data.form_definition || data.definition || (data.form && data.form.groups ? data.form : null);
    const roundId = response.round_id || data.round_id;
    const answers = response.answers || {};
    const flags = listOf(data.flags || data.quality_flags || response.flags);
    const decision = data.decision || (Array.isArray(data.decisions) ? data.decisions[data.decisions.length - 1] : null);
    const state = stateOf({ state: data.state || data.review_state, decision });
    const started = response.started_at;
    const completed = response.completed_at;
    const minutes = started && completed ? Math.max(0, (new Date(completed) - new Date(started)) / 60000) : null;

    const back = h('a', { href: `#/rounds/${enc(roundId)}/review`, testid: 'detail-back' }, t('detail.back'));
    const meta = h('dl', { class: 'meta panel', testid: 'detail-meta' },
      [
        ['detail.round', roundId],
        ['detail.form', data.form_title ? `${data.form_title} (${formKey(response.form)})` : formKey(response.form)],
        ['detail.unit', response.unit_code],
        ['detail.surveyor', surveyorName(data)],
        ['detail.revision', String(response.revision ?? revision)],
        ['detail.started', fmtDateTime(started)],
        ['detail.completed', fmtDateTime(completed)],
        ['detail.duration', minutes === null ? t('common.dash') : t('detail.minutes', fmtNum(minutes, 1))],
      ].map(([k, v]) => h('div', { class: k === 'detail.form' ? 'wide' : null }, h('dt', null, t(k)), h('dd', null, v || t('common.dash')))),
      h('div', null, h('dt', null, t('detail.state')), h('dd', null, stateBadge(state))));
    const flagBox = h('section', { class: 'panel', testid: 'detail-flags' }, h('h3', null, t('detail.flags')),
      flags.length ? h('ul', { class: 'flags' }, flags.map((f) => h('li', { testid: 'detail-flag' }, flagText(f)))) : h('p', { class: 'muted' }, t('detail.no_flags')));

    const decisionInfo = decision && typeof decision === 'object' && decision.decision
      ? h('section', { class: 'panel', testid: 'existing-decision' },
        h('h3', null, t('detail.decision')),
        h('p', null, stateBadge(decision.decision), ' ', h('span', { class: 'muted' }, t('detail.decided_at', fmtDateTime(decision.decided_at)))),
        decision.comment ? h('p', null, decision.comment) : null,
        Object.keys(decision.item_comments || {}).length
          ? h('ul', null, Object.entries(decision.item_comments).map(([c, txt]) => h('li', null, h('span', { class: 'q-code' }, c), txt)))
          : null)
      : null;

    // Items: every answer, in form order, with its Vietnamese label and a comment box.
    const commentBoxes = new Map();
    const shown = new Set();
    const itemBlock = (form_, item, code, value, groupRelevant) => {
      shown.add(code);
      const text = answerText(form_, item, value);
      const box = h('textarea', {
        id: `item-comment-${code}`, testid: `item-comment-${code}`, rows: 2,
        placeholder: t('detail.item_comment_ph'), 'aria-label': t('detail.item_comment', code),
      });
      commentBoxes.set(code, box);
      const wrap = h('div', { class: 'item', testid: `item-${code}`, dataset: { code } },
        h('div', null,
          h('p', { class: 'q-label' }, h('span', { class: 'q-code' }, code), item ? L(item.label) : t('detail.extra_code', code)),
          h('p', { class: 'answer', testid: `answer-${code}` }, text === null
            ? h('span', { class: 'muted' }, (item && item.relevant) || groupRelevant ? t('detail.not_relevant') : t('detail.no_answer'))
            : h('strong', null, text))),
        h('div', null, h('label', { class: 'small muted', for: `item-comment-${code}` }, t('detail.item_comment', code)), box));
      box.addEventListener('input', () => wrap.classList.toggle('has-comment', box.value.trim() !== ''));
      return wrap;
    };
    const itemsSection = h('section', { testid: 'detail-items' });
    for (const g of formGroups(form)) {
      const blocks = g.items.map((it) => itemBlock(form, it, it.code, answers[it.code], g.relevant));
      itemsSection.append(h('h3', { class: 'group-title' }, `${g.code}. ${L(g.title)}`), ...blocks);
    }
    // The server's labelled items (label_vi, display_vi), grouped by group code.
    if (!form && Array.isArray(data.items)) {
      let group = null;
      for (const it of data.items) {
        if (it.group_code !== group) {
          group = it.group_code;
          const title = it.group_title_vi || it.group_title;
          itemsSection.append(h('h3', { class: 'group-title', testid: 'group-title' }, title ? `${group}. ${L(title)}` : t('detail.group', group)));
        }
        const def = { code: it.code, label: it.label || { vi: it.label_vi, en: it.label_en } };
        const shownValue = it.answer === null || it.answer === undefined ? undefined : (it.display_vi || it.answer);
        itemsSection.append(itemBlock(null, def, it.code, shownValue, false));
      }
    }
    const extra = Object.keys(answers).filter((c) => !shown.has(c)).sort();
    if (extra.length) {
      if (form) itemsSection.append(h('h3', { class: 'group-title' }, t('detail.other_answers')));
      for (const c of extra) itemsSection.append(itemBlock(form, null, c, answers[c], false));
    }

    // Decision box.
    const comment = h('textarea', { id: 'decision-comment', testid: 'decision-comment', rows: 3, placeholder: t('detail.comment_ph') });
    const result = h('div', { testid: 'decision-result', 'aria-live': 'polite' });
    const approve = h('button', { type: 'button', class: 'ok', testid: 'approve' }, t('detail.approve'));
    const reject = h('button', { type: 'button', class: 'danger', testid: 'reject' }, t('detail.reject'));
    const decide = async (kind) => {
      result.replaceChildren();
      const itemComments = {};
      for (const [code, box] of commentBoxes) if (box.value.trim()) itemComments[code] = box.value.trim();
      const general = comment.value.trim();
      if (kind === 'rejected' && !general && Object.keys(itemComments).length === 0) {
        result.append(h('p', { class: 'error', role: 'alert', testid: 'decision-error' }, t('detail.reject_needs')));
        return;
      }
      approve.disabled = true;
      reject.disabled = true;
      try {
        await api(`/responses/${enc(responseId)}/${enc(revision)}/decision`, {
          method: 'POST',
          body: { decision: kind, comment: general || null, item_comments: itemComments },
        });
        if (!ctx.alive()) return;
        setFlash('notice', kind === 'approved' ? 'detail.approved_ok' : 'detail.rejected_ok');
        location.hash = `#/rounds/${enc(roundId)}/review`;
      } catch (e) {
        if (e.handled || !ctx.alive()) return;
        result.append(errorBox(e, 'decision-error'));
        approve.disabled = false;
        reject.disabled = false;
      }
    };
    approve.addEventListener('click', () => decide('approved'));
    reject.addEventListener('click', () => decide('rejected'));
    const decisionBox = h('section', { class: 'decision-box', testid: 'decision-box' },
      h('div', { class: 'field' }, h('label', { for: 'decision-comment' }, t('detail.comment')), comment),
      result,
      h('div', { class: 'actions' }, approve, reject));

    fill(ctx.view, roundNav(roundId, 'review'), back,
      h('h2', null, `${t('detail.heading')} ${shortId(response.id || responseId)}`),
      meta, flagBox, decisionInfo, itemsSection, decisionBox);
  }

  // --- spot checks (supervisor) ---

  function taskId(task) {
    return task.id ?? task.task_id;
  }

  function taskStatus(task) {
    if (task.state === 'done' || task.status === 'done') return 'done';
    if (task.status && task.status !== 'open') return task.status;
    if (task.result || task.completed_at || task.submitted_at) return 'done';
    return task.monitor_id ? 'assigned' : 'unassigned';
  }

  function statusBadge(status) {
    const key = `spot.status.${status}`;
    return h('span', { class: `badge ${status}`, testid: 'task-status', dataset: { status } }, I18N.vi[key] ? t(key) : status);
  }

  async function pageSpotChecks(ctx, roundId) {
    const round = await getRound(roundId);
    if (!ctx.alive()) return;
    const head = [roundNav(roundId, 'spot'), h('h2', null, `${t('spot.heading')}: ${round.name}`)];

    const rate = h('input', { id: 'spot-rate', testid: 'spot-rate', type: 'number', min: 0, max: 100, step: 'any', value: '10', inputmode: 'decimal' });
    const seed = h('input', { id: 'spot-seed', testid: 'spot-seed', type: 'number', min: 0, step: 1, value: String(Math.floor(Math.random() * 1e9)), inputmode: 'numeric' });
    const minPer = h('input', { id: 'spot-min', testid: 'spot-min', type: 'number', min: 0, step: 1, value: '1', inputmode: 'numeric' });
    const createMsg = h('div', { testid: 'spot-result', 'aria-live': 'polite' });
    const createBtn = h('button', { type: 'submit', class: 'primary', testid: 'spot-create' }, t('spot.submit'));
    const createForm = h('form', { class: 'panel', testid: 'spot-form', novalidate: true },
      h('h3', null, t('spot.create')), h('p', { class: 'muted small' }, t('spot.create_intro')),
      h('div', { class: 'form-row' },
        h('div', { class: 'field' }, h('label', { for: 'spot-rate' }, t('spot.rate')), rate),
        h('div', { class: 'field' }, h('label', { for: 'spot-seed' }, t('spot.seed')), seed),
        h('div', { class: 'field' }, h('label', { for: 'spot-min' }, t('spot.min')), minPer)),
      createMsg, h('div', { class: 'actions' }, createBtn));

    const tasksBox = h('section', { testid: 'spot-tasks-section' }, h('h3', null, t('spot.tasks')), loading());
    const discBox = h('section', { testid: 'discrepancy-section' }, h('h3', null, t('spot.discrepancies')), loading());
    ctx.view.append(...head, createForm, tasksBox, discBox);

    let monitors = [];
    const loadTasks = async () => {
      const [tasksData, monitorsData, surveyors] = await Promise.all([
        api(`/rounds/${enc(roundId)}/spot-checks`),
        api('/users?role=monitor'),
        usersByRole('surveyor'),
      ]);
      if (!ctx.alive()) return;
      monitors = listOf(monitorsData, 'users', 'items');
      const tasks = listOf(tasksData, 'tasks', 'items', 'spot_checks');
      const monitorName = (id) => {
        const m = monitors.find((u) => u.id === id);
        return m ? (m.display_name || m.username) : shortId(id);
      };
      const rows = tasks.map((task) => {
        const id = taskId(task);
        const status = taskStatus(task);
        const cell = h('td', { testid: 'task-monitor' });
        const msg = h('span', { class: 'small', 'aria-live': 'polite' });
        if (status === 'done' || status === 'completed') {
          cell.append(task.monitor_display_name || task.monitor_name || monitorName(task.monitor_id));
        } else if (monitors.length === 0) {
          cell.append(h('span', { class: 'muted' }, t('spot.no_monitors')));
        } else {
          const sel = h('select', { testid: 'assign-monitor', 'aria-label': t('spot.choose_monitor'), dataset: { taskId: id } },
            h('option', { value: '' }, t('spot.choose_monitor')),
            monitors.map((m) => h('option', { value: m.id, selected: m.id === task.monitor_id }, m.display_name || m.username)));
          const btn = h('button', { type: 'button', testid: 'assign-button' }, t('spot.assign'));
          btn.addEventListener('click', async () => {
            msg.replaceChildren();
            if (!sel.value) { sel.focus(); return; }
            btn.disabled = true;
            try {
              await api(`/spot-checks/${enc(id)}/assign`, { method: 'POST', body: { monitor_id: sel.value } });
              if (!ctx.alive()) return;
              await loadTasks();
              const row = tasksBox.querySelector(`tr[data-task-id="${CSS.escape(String(id))}"] [data-testid="assign-message"]`);
              if (row) fill(row, h('span', { class: 'notice small' }, t('spot.assigned_ok')));
            } catch (e) {
              if (e.handled || !ctx.alive()) return;
              fill(msg, errorBox(e, 'assign-error'));
              btn.disabled = false;
            }
          });
          cell.append(h('div', { class: 'actions' }, sel, btn));
        }
        msg.dataset.testid = 'assign-message';
        cell.append(msg);
        const flagged = task.flagged || listOf(task.flags).length > 0;
        return h('tr', { testid: 'spot-task', dataset: { taskId: id, status } },
          h('td', { class: 'mono' }, shortId(id)),
          h('td', null, h('a', { href: `#/responses/${enc(task.response_id)}/${enc(task.revision ?? 1)}`, class: 'mono' }, shortId(task.response_id)),
            flagged ? [' ', h('span', { class: 'badge flag' }, t('spot.flagged_task'))] : null),
          h('td', null, surveyors.get(task.surveyor_id) || surveyorName(task)),
          h('td', { class: 'mono' }, task.unit_code || ''),
          cell,
          h('td', null, statusBadge(status)));
      });
      fill(tasksBox, h('h3', null, t('spot.tasks')),
        tasks.length === 0 ? h('p', { class: 'muted', testid: 'spot-tasks-empty' }, t('spot.tasks_empty'))
          : table('spot-tasks', [t('spot.task'), t('spot.response'), t('spot.surveyor'), t('spot.unit'), t('spot.monitor'), t('spot.status')], rows));
    };

    const loadDiscrepancies = async () => {
      const data = await api(`/rounds/${enc(roundId)}/discrepancies?threshold=${DISCREPANCY_THRESHOLD}`);
      if (!ctx.alive()) return;
      const list = listOf(data, 'surveyors', 'rows', 'items');
      const threshold = data && !Array.isArray(data) && data.threshold !== undefined ? data.threshold : DISCREPANCY_THRESHOLD;
      const rows = list.map((d) => {
        const flagged = Boolean(d.flagged);
        return h('tr', { testid: 'discrepancy-row', class: flagged ? 'flagged' : null, dataset: { surveyorId: d.surveyor_id, flagged: String(flagged) } },
          h('td', null, surveyorName(d)),
          h('td', { class: 'num' }, fmtNum(d.checked)),
          h('td', { class: 'num' }, fmtNum(d.discrepant)),
          h('td', { class: 'num' }, fmtNum(d.inconclusive)),
          h('td', { class: 'num', testid: 'discrepancy-rate' }, d.rate === null || d.rate === undefined ? t('common.dash') : `${fmtNum(100 * d.rate, 1)}%`),
          h('td', null, flagged ? h('span', { class: 'badge flag', testid: 'discrepancy-flag' }, t('spot.flagged')) : t('common.no')));
      });
      fill(discBox, h('h3', null, t('spot.discrepancies')),
        h('p', { class: 'muted small' }, t('spot.disc_intro'), threshold !== undefined ? [' ', t('spot.threshold', fmtNum(100 * threshold, 0))] : null),
        list.length === 0 ? h('p', { class: 'muted', testid: 'discrepancy-empty' }, t('spot.disc_empty'))
          : table('discrepancy-table', [t('spot.surveyor'), { text: t('spot.checked'), class: 'num' }, { text: t('spot.discrepant'), class: 'num' },
            { text: t('spot.inconclusive'), class: 'num' }, { text: t('spot.rate_col'), class: 'num' }, t('spot.flagged')], rows));
    };

    createForm.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      createMsg.replaceChildren();
      const r = Number(rate.value);
      const s = seed.value.trim();
      const m = Number(minPer.value || 0);
      if (!Number.isFinite(r) || r < 0 || r > 100 || rate.value.trim() === '') {
        createMsg.append(h('p', { class: 'error', role: 'alert' }, t('spot.bad_rate')));
        return;
      }
      if (!/^\d+$/.test(s) || !Number.isInteger(m) || m < 0) {
        createMsg.append(h('p', { class: 'error', role: 'alert' }, t('spot.bad_seed')));
        return;
      }
      createBtn.disabled = true;
      try {
        const res = await api(`/rounds/${enc(roundId)}/spot-checks`, {
          method: 'POST', body: { rate: r / 100, seed: Number(s), min_per_surveyor: m },
        });
        if (!ctx.alive()) return;
        const created = res && (res.created ?? listOf(res, 'tasks', 'items').length);
        createMsg.append(h('p', { class: 'notice', testid: 'spot-created' }, t('spot.created', created ?? 0)));
        await loadTasks();
      } catch (e) {
        if (e.handled || !ctx.alive()) return;
        createMsg.append(errorBox(e, 'spot-error'));
      } finally {
        createBtn.disabled = false;
      }
    });

    const results = await Promise.allSettled([loadTasks(), loadDiscrepancies()]);
    if (!ctx.alive()) return;
    const [tr, dr] = results;
    if (tr.status === 'rejected' && !tr.reason.handled) fill(tasksBox, h('h3', null, t('spot.tasks')), errorBox(tr.reason));
    if (dr.status === 'rejected' && !dr.reason.handled) fill(discBox, h('h3', null, t('spot.discrepancies')), errorBox(dr.reason));
  }

  // --- monitor: my tasks ---

  /** The definitions of a task's key items: [{code, type, label, options, scale…}]. */
  function keyItemsOf(task) {
    const raw = listOf(task.key_items || task.items || task.questions);
    return raw.map((k) => (typeof k === 'string'
      ? { code: k, type: 'text', label: k }
      : { ...k, type: k.type || k.item_type, label: k.label || { vi: k.label_vi, en: k.label_en } }));
  }

  function answerInput(task, item, idPrefix) {
    const id = `${idPrefix}-${item.code}`;
    const testid = `key-${item.code}`;
    const choices = (opts) => h('select', { id, testid, dataset: { code: item.code } },
      h('option', { value: '' }, t('monitor.choose')),
      opts.map((o) => h('option', { value: String(o.value) }, item.type === 'rating' ? `${o.value} – ${L(o.label)}` : L(o.label))));
    switch (item.type) {
      case 'single_choice': return choices(item.options || []);
      case 'rating': {
        const sc = scaleOf(task.form_definition || task, item) || item.scale_def || { points: [1, 2, 3, 4, 5].map((v) => ({ value: v, label: String(v) })) };
        return choices([...(sc.points || []), ...(sc.no_answer ? [sc.no_answer] : [])]);
      }
      case 'integer': return h('input', { id, testid, type: 'number', inputmode: 'numeric', min: item.min, max: item.max, step: 1, dataset: { code: item.code } });
      case 'date': return h('input', { id, testid, type: 'date', dataset: { code: item.code } });
      case 'multi_choice': return h('div', { id, testid, dataset: { code: item.code, multi: '1' } },
        (item.options || []).map((o) => h('label', { class: 'choice' }, h('input', { type: 'checkbox', value: String(o.value) }), L(o.label))));
      default: return h('input', { id, testid, type: 'text', maxlength: item.max_length, dataset: { code: item.code } });
    }
  }

  function readAnswer(item, input) {
    if (item.type === 'multi_choice') {
      const vals = [...input.querySelectorAll('input:checked')].map((c) => c.value);
      return vals.length ? vals : undefined;
    }
    const v = input.value.trim();
    if (v === '') return undefined;
    if (item.type === 'integer' || item.type === 'rating') return Number.parseInt(v, 10);
    return v;
  }

  function taskDone(task) {
    const s = taskStatus(task);
    return s === 'done' || s === 'completed' || Boolean(task.result);
  }

  function contactBlock(task) {
    const c = task.contact || {};
    return h('div', { class: 'contact', testid: 'task-contact' },
      h('p', { class: 'small muted' }, t('monitor.contact')),
      h('p', { class: 'contact-name', testid: 'contact-name' }, c.name || t('common.dash')),
      c.address ? h('p', { testid: 'contact-address' }, `${t('monitor.address')}: ${c.address}`) : null,
      c.phone ? h('p', null, `${t('monitor.phone')}: `, h('a', { href: `tel:${c.phone}`, testid: 'contact-phone', 'aria-label': t('monitor.call', c.phone) }, c.phone)) : null);
  }

  function findingsView(task, items) {
    const r = task.result;
    const head = h('p', null, h('span', { class: 'badge done', testid: 'task-done' }, t('monitor.done')), ' ',
      h('span', { class: 'muted small' }, r && r.submitted_at ? t('monitor.done_at', fmtDateTime(r.submitted_at)) : t('monitor.final')));
    if (!r) return h('section', { testid: 'task-findings' }, head);
    const answers = r.answers || {};
    const visit = r.visit_happened;
    return h('section', { testid: 'task-findings' }, head,
      h('dl', { class: 'findings' },
        h('dt', null, t('monitor.visit')), h('dd', { testid: 'finding-visit' }, visit === undefined ? t('common.dash') : t('detail.yes_no', Boolean(visit))),
        items.map((it) => [
          h('dt', null, h('span', { class: 'q-code' }, it.code), L(it.label)),
          h('dd', { testid: `finding-${it.code}` }, answers[it.code] === undefined ? t('monitor.not_asked') : answerText(task.form_definition || task, it, answers[it.code])),
        ]),
        r.note ? [h('dt', null, t('monitor.note')), h('dd', { testid: 'finding-note' }, r.note)] : null));
  }

  function taskCard(ctx, taskIn, index, reload) {
    const id = taskId(taskIn);
    // What this tab submitted is shown back; the server keeps findings but does not send them.
    const task = submittedFindings.has(id) ? { ...taskIn, result: submittedFindings.get(id) } : taskIn;
    const items = keyItemsOf(task);
    const done = taskDone(task);
    const card = h('li', { class: `card${done ? ' done' : ''}`, testid: 'monitor-task', dataset: { taskId: id, done: String(done) } },
      h('h3', null, t('monitor.task', index + 1)),
      h('p', { class: 'small muted' },
        task.round_id ? `${t('monitor.round')} ${task.round_id} · ` : '',
        `${t('monitor.unit')} ${task.unit_code || t('common.dash')}`,
        task.procedure ? ` · ${t('monitor.procedure')}: ${task.procedure}` : ''),
      done && !task.contact ? null : contactBlock(task));
    if (done) {
      card.append(findingsView(task, items));
      return card;
    }
    const prefix = `task-${id}`;
    const visitName = `${prefix}-visit`;
    const yes = h('input', { type: 'radio', name: visitName, value: 'yes', testid: 'visit-yes' });
    const no = h('input', { type: 'radio', name: visitName, value: 'no', testid: 'visit-no' });
    const inputs = items.map((it) => [it, answerInput(task, it, prefix)]);
    const keyBox = h('fieldset', { testid: 'key-items' }, h('legend', null, t('monitor.key_items')),
      inputs.map(([it, input]) => h('div', { class: 'field' },
        h(it.type === 'multi_choice' ? 'span' : 'label', { class: 'label', for: it.type === 'multi_choice' ? null : input.id }, h('span', { class: 'q-code' }, it.code), L(it.label)),
        input)));
    const toggleKeys = () => { keyBox.disabled = no.checked; };
    yes.addEventListener('change', toggleKeys);
    no.addEventListener('change', toggleKeys);
    const note = h('textarea', { id: `${prefix}-note`, testid: 'task-note', rows: 2, placeholder: t('monitor.note_ph') });
    const msg = h('div', { 'aria-live': 'polite', testid: 'task-message' });
    const submit = h('button', { type: 'submit', class: 'primary', testid: 'task-submit' }, t('monitor.submit'));
    const form = h('form', { novalidate: true, testid: 'task-form' },
      h('fieldset', null, h('legend', null, t('monitor.visit')),
        h('label', { class: 'choice' }, yes, t('monitor.visit_yes')),
        h('label', { class: 'choice' }, no, t('monitor.visit_no'))),
      keyBox,
      h('div', { class: 'field' }, h('label', { for: `${prefix}-note` }, t('monitor.note')), note),
      msg,
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      msg.replaceChildren();
      if (!yes.checked && !no.checked) {
        msg.append(h('p', { class: 'error', role: 'alert' }, t('monitor.need_visit')));
        return;
      }
      const answers = {};
      if (yes.checked) {
        for (const [it, input] of inputs) {
          const v = readAnswer(it, input);
          if (v !== undefined && !(typeof v === 'number' && Number.isNaN(v))) answers[it.code] = v;
        }
        if (items.length && Object.keys(answers).length === 0) {
          msg.append(h('p', { class: 'error', role: 'alert' }, t('monitor.need_answers')));
          return;
        }
      }
      submit.disabled = true;
      try {
        const body = { visit_happened: yes.checked, answers, note: note.value.trim() || null };
        await api(`/monitor/tasks/${enc(id)}/result`, { method: 'POST', body });
        submittedFindings.set(id, { ...body, submitted_at: new Date().toISOString() });
        if (!ctx.alive()) return;
        setFlash('notice', 'monitor.submitted');
        await reload();
      } catch (e) {
        if (e.handled || !ctx.alive()) return;
        msg.append(errorBox(e, 'task-error'));
        submit.disabled = false;
      }
    });
    card.append(form);
    return card;
  }

  async function pageMonitor(ctx) {
    const heading = [h('h2', null, t('monitor.heading')), h('p', { class: 'muted' }, t('monitor.intro'))];
    ctx.view.append(...heading, loading());
    const load = async () => {
      const data = await api('/monitor/tasks');
      if (!ctx.alive()) return;
      const tasks = listOf(data, 'tasks', 'items');
      drawFlash();
      if (flash) flash = null;
      fill(ctx.view, ...heading,
        tasks.length === 0 ? h('p', { class: 'muted', testid: 'monitor-empty' }, t('monitor.empty'))
          : h('ul', { class: 'cards', testid: 'monitor-tasks' }, tasks.map((task, i) => taskCard(ctx, task, i, load))));
    };
    await load();
  }

  // --- reports ---

  const AGGREGATIONS = ['mean_of_criteria', 'pooled'];

  function rowLabel(row) {
    if (row.level === 'overall') return lang === 'en' ? 'Overall satisfaction index' : (row.label || 'Chỉ số hài lòng chung');
    return row.label_en && lang === 'en' ? row.label_en : (row.label || row.code);
  }

  function chart(rows) {
    return h('ul', { class: 'chart', testid: 'report-chart' }, rows.map((row) => {
      const label = `${row.code === 'overall' ? '' : `${row.code}. `}${rowLabel(row)}`;
      const suppressed = row.suppressed || row.pct_satisfied === null || row.pct_satisfied === undefined;
      const fill = h('span', { class: 'fill' });
      if (!suppressed) fill.style.width = `${Math.max(0, Math.min(100, Number(row.pct_satisfied)))}%`;
      return h('li', {
        class: `${row.level}${suppressed ? ' suppressed' : ''}`, testid: 'bar', dataset: { code: row.code, suppressed: String(Boolean(row.suppressed)) },
        role: 'img', 'aria-label': suppressed ? t('report.bar_suppressed', label) : t('report.bar_label', label, fmtNum(row.pct_satisfied, 1)),
      },
      h('span', { class: 'bar-label', title: label }, label),
      h('span', { class: 'track' }, fill),
      h('span', { class: 'bar-value' }, suppressed ? t('common.dash') : `${fmtNum(row.pct_satisfied, 1)}%`));
    }));
  }

  function reportTable(rows) {
    const cell = (row, v, digits, suffix, testid) => h('td', { class: `num${row.suppressed ? ' suppressed' : ''}`, testid },
      row.suppressed || v === null || v === undefined ? t('common.dash') : `${fmtNum(v, digits)}${suffix}`);
    return table('report-table', [t('report.label'), { text: t('report.level'), class: 'hide-narrow' },
      { text: t('report.valid_n'), class: 'num' }, { text: t('report.pct'), class: 'num' }, { text: t('report.mean'), class: 'num' }],
    rows.map((row) => h('tr', { class: `level-${row.level}`, testid: 'report-row', dataset: { code: row.code, level: row.level, suppressed: String(Boolean(row.suppressed)) } },
      h('td', null, row.code !== 'overall' ? h('span', { class: 'q-code' }, row.code) : null, rowLabel(row)),
      h('td', { class: 'hide-narrow' }, I18N.vi[`report.level.${row.level}`] ? t(`report.level.${row.level}`) : row.level),
      h('td', { class: 'num', testid: 'cell-n' }, fmtNum(row.valid_n)),
      cell(row, row.pct_satisfied, 1, '%', 'cell-pct'),
      cell(row, row.mean, 2, '', 'cell-mean'))), { class: 'report-table' });
  }

  function filenameFrom(res, fallback) {
    const cd = res.headers.get('Content-Disposition') || '';
    const star = /filename\*=UTF-8''([^;]+)/i.exec(cd);
    if (star) return decodeURIComponent(star[1]);
    const plain = /filename="?([^";]+)"?/i.exec(cd);
    return plain ? plain[1] : fallback;
  }

  async function download(path, fallbackName, status) {
    fill(status, h('span', { class: 'muted small' }, t('report.downloading')));
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
      fill(status, h('span', { class: 'notice small', testid: 'download-done' }, t('report.downloaded', name)));
    } catch (e) {
      if (e.handled) return;
      fill(status, errorBox(e, 'download-error'));
    }
  }

  async function pageReport(ctx, roundId) {
    const round = await getRound(roundId);
    if (!ctx.alive()) return;
    const qMin = ctx.query.get('min_n');
    const qAgg = AGGREGATIONS.includes(ctx.query.get('aggregation')) ? ctx.query.get('aggregation') : '';
    const minN = h('input', { id: 'report-min-n', testid: 'report-min-n', type: 'number', min: 0, step: 1, inputmode: 'numeric', value: qMin ?? '', placeholder: '10' });
    const agg = h('select', { id: 'report-aggregation', testid: 'report-aggregation' },
      AGGREGATIONS.map((a) => h('option', { value: a, selected: a === (qAgg || 'mean_of_criteria') }, t(`report.agg.${a}`))));
    const ctrlMsg = h('div', { 'aria-live': 'polite' });
    const controls = h('form', { class: 'panel', testid: 'report-controls', novalidate: true },
      h('div', { class: 'form-row' },
        h('div', { class: 'field' }, h('label', { for: 'report-min-n' }, t('report.min_n')), minN),
        h('div', { class: 'field' }, h('label', { for: 'report-aggregation' }, t('report.aggregation')), agg),
        h('div', { class: 'field' }, h('button', { type: 'submit', class: 'primary', testid: 'report-apply' }, t('report.apply')))),
      ctrlMsg);
    controls.addEventListener('submit', (ev) => {
      ev.preventDefault();
      ctrlMsg.replaceChildren();
      const v = minN.value.trim();
      if (v !== '' && !/^\d+$/.test(v)) {
        ctrlMsg.append(h('p', { class: 'error', role: 'alert' }, t('report.bad_min_n')));
        return;
      }
      location.hash = `#/rounds/${enc(roundId)}/report${qs({ min_n: v, aggregation: agg.value })}`;
    });
    const params = { min_n: qMin ?? '', aggregation: qAgg };
    const dlStatus = h('div', { testid: 'download-status', 'aria-live': 'polite' });
    const csvBtn = h('button', { type: 'button', testid: 'download-csv' }, t('report.download_csv'));
    const xlsxBtn = h('button', { type: 'button', testid: 'download-xlsx' }, t('report.download_xlsx'));
    csvBtn.addEventListener('click', () => download(`/rounds/${enc(roundId)}/report${qs({ ...params, format: 'csv' })}`, `sipas-report-${roundId}.csv`, dlStatus));
    xlsxBtn.addEventListener('click', () => download(`/rounds/${enc(roundId)}/report${qs({ ...params, format: 'xlsx' })}`, `sipas-report-${roundId}.xlsx`, dlStatus));
    const user = session.user;
    const head = [PLANNERS.includes(user.role) ? roundNav(roundId, 'report') : null, h('h2', null, t('report.heading', round.name)), controls,
      h('div', { class: 'actions' }, csvBtn, xlsxBtn), dlStatus];
    ctx.view.append(...head.filter(Boolean), loading());

    const report = await api(`/rounds/${enc(roundId)}/report${qs({ ...params, format: 'json' })}`);
    if (!ctx.alive()) return;
    const stamp = report.stamp || {};
    const usedMin = report.min_n ?? (qMin || 10);
    if (qMin === null && report.min_n !== undefined) minN.value = String(report.min_n);
    const stampBox = h('section', { class: 'panel', testid: 'report-stamp' },
      h('h3', null, t('report.stamp')),
      h('dl', { class: 'stamp' },
        [
          ['report.form', formKey(stamp.form), 'stamp-form'],
          ['report.rule', stamp.aggregation ? (I18N.vi[`report.agg.${stamp.aggregation}`] ? t(`report.agg.${stamp.aggregation}`) : stamp.aggregation) : t('common.dash'), 'stamp-aggregation'],
          ['report.data_as_of', fmtDateTime(stamp.data_as_of, true), 'stamp-data-as-of'],
          ['report.generated_at', fmtDateTime(stamp.generated_at, true), 'stamp-generated-at'],
          ['report.min_n_used', String(usedMin), 'stamp-min-n'],
        ].map(([k, v, id]) => h('div', null, h('dt', null, t(k)), h('dd', { testid: id }, v)))),
      h('p', { class: 'muted small' }, t('report.suppressed_note', usedMin)));
    const rows = listOf(report, 'rows');
    const units = new Map();
    for (const r of rows) {
      if (!units.has(r.unit_code)) units.set(r.unit_code, []);
      units.get(r.unit_code).push(r);
    }
    const order = [...units.keys()].sort((a, b) => (a === ALL_UNITS ? -1 : b === ALL_UNITS ? 1 : a.localeCompare(b)));
    const sections = order.map((u) => {
      const urows = units.get(u);
      const summary = urows.filter((r) => r.level !== 'criterion');
      const criteria = urows.filter((r) => r.level === 'criterion');
      return h('section', { class: 'panel unit-report', testid: 'report-unit', dataset: { unit: u } },
        h('h3', null, u === ALL_UNITS ? t('report.all_units') : (urows[0].unit_name ? `${t('report.unit', u)} · ${urows[0].unit_name}` : t('report.unit', u))),
        chart(summary),
        reportTable(summary),
        criteria.length ? h('details', { class: 'criteria', testid: 'criteria-details' },
          h('summary', null, t('report.criteria', criteria.length)),
          reportTable(criteria)) : null);
    });
    fill(ctx.view, ...head.filter(Boolean), stampBox,
      ...(rows.length === 0 ? [h('p', { class: 'muted', testid: 'report-empty' }, t('report.empty'))] : sections));
  }

  // ---------- start ----------

  function start() {
    document.getElementById('lang-toggle').addEventListener('click', () => {
      lang = lang === 'vi' ? 'en' : 'vi';
      try { localStorage.setItem(LANG_KEY, lang); } catch { /* private mode */ }
      if (flash) flash.keep = true;
      render();
    });
    document.getElementById('logout').addEventListener('click', () => {
      // End the session on the server too (best effort: the token is forgotten here anyway).
      const token = session.token;
      if (token) {
        fetch(`${API}/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, credentials: 'omit' })
          .catch(() => { /* offline: the session expires on its own */ });
      }
      session.clear();
      setFlash('notice', 'login.logged_out');
      location.hash = '#/login';
    });
    window.addEventListener('hashchange', render);
    render();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
