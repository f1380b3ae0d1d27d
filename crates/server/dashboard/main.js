// @ts-check
// SIPAS Field dashboard: entry point. Router (hash routes), the top bar and the navigation.
// What a user may open comes only from `GET /me` → `capabilities` (the server's one list,
// sipas_protocol::roles): no role names are checked here.
import { ApiError, api, logout, session, setOnExpired } from './api.js';
import { getLang, setLang, t } from './i18n.js';
import { drawPendingToast, errorBox, fill, h, keepToast, toast } from './widgets.js';
import { clearCaches } from './pages/common.js';
import { pageLogin, pageSurveyor } from './pages/login.js';
import { pageRounds, pageRoundNew, pageRound } from './pages/rounds.js';
import { pageSample } from './pages/sample.js';
import { pageAssignments } from './pages/assignments.js';
import { pageProgress } from './pages/progress.js';
import { pageReview, pageDetail } from './pages/review.js';
import { pageQuarantine } from './pages/quarantine.js';
import { pageSpotChecks, pageMonitor } from './pages/spot-checks.js';
import { pageReport } from './pages/report.js';
import { pageUsers, pageDevices, pageEnrol } from './pages/users.js';
import { pageCatalogues } from './pages/catalogues.js';
import { pageHandover } from './pages/handover.js';
import { pageAudit } from './pages/audit.js';
import { pageResults, pageScorecard } from './pages/results.js';
import { pageForms } from './pages/forms.js';

/** @typedef {import('./types.js').Capability} Capability */
/**
 * @typedef {object} Ctx
 * @property {HTMLElement} view
 * @property {URLSearchParams} query
 * @property {() => boolean} alive   false once another page was drawn
 * @property {() => void} reload
 */
/**
 * @typedef {object} Route
 * @property {RegExp} re
 * @property {(ctx: Ctx, ...params: string[]) => unknown} page
 * @property {Capability[]|null} caps  any one of them opens the page (null: no sign-in needed)
 * @property {string} section         the main navigation entry it belongs to
 */

/** @type {Route[]} */
const ROUTES = [
  { re: /^\/login$/, page: pageLogin, caps: null, section: 'login' },
  { re: /^\/rounds$/, page: pageRounds, caps: ['rounds.read'], section: 'rounds' },
  { re: /^\/rounds\/new$/, page: pageRoundNew, caps: ['rounds.manage'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)$/, page: pageRound, caps: ['rounds.read'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/sample$/, page: pageSample, caps: ['sample.manage'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/assignments$/, page: pageAssignments, caps: ['assignments.manage'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/progress$/, page: pageProgress, caps: ['progress.read'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/review$/, page: pageReview, caps: ['review'], section: 'rounds' },
  { re: /^\/responses\/([^/]+)\/(\d+)$/, page: pageDetail, caps: ['review'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/quarantine$/, page: pageQuarantine, caps: ['quarantine.manage'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/spot-checks$/, page: pageSpotChecks, caps: ['spot_checks.manage'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/report$/, page: pageReport, caps: ['reports.read'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/results$/, page: pageResults, caps: ['reports.read'], section: 'rounds' },
  { re: /^\/rounds\/([^/]+)\/scorecard$/, page: pageScorecard, caps: ['reports.read'], section: 'rounds' },
  { re: /^\/users$/, page: pageUsers, caps: ['users.manage', 'enrolment.issue', 'devices.manage'], section: 'users' },
  { re: /^\/users\/([^/]+)\/devices$/, page: pageDevices, caps: ['devices.manage'], section: 'users' },
  { re: /^\/users\/([^/]+)\/enrol$/, page: pageEnrol, caps: ['enrolment.issue'], section: 'users' },
  { re: /^\/catalogues$/, page: pageCatalogues, caps: ['catalogues.read'], section: 'catalogues' },
  { re: /^\/forms$/, page: pageForms, caps: ['forms.manage'], section: 'forms' },
  { re: /^\/quarantine$/, page: pageQuarantine, caps: ['quarantine.manage'], section: 'quarantine' },
  { re: /^\/handover$/, page: pageHandover, caps: ['handover.import'], section: 'handover' },
  { re: /^\/monitor$/, page: pageMonitor, caps: ['spot_checks.do'], section: 'my-tasks' },
  { re: /^\/audit$/, page: pageAudit, caps: ['audit.read'], section: 'audit' },
  { re: /^\/surveyor$/, page: pageSurveyor, caps: [], section: 'app-only' },
];

/** Main navigation: [section, hash, label key, capabilities (any)]. */
/** @type {[string, string, string, Capability[]][]} */
const NAV = [
  ['my-tasks', '#/monitor', 'nav.monitor', ['spot_checks.do']],
  ['rounds', '#/rounds', 'nav.rounds', ['rounds.read']],
  ['users', '#/users', 'nav.users', ['users.manage', 'enrolment.issue', 'devices.manage']],
  ['quarantine', '#/quarantine', 'nav.quarantine', ['quarantine.manage']],
  ['handover', '#/handover', 'nav.handover', ['handover.import']],
  ['catalogues', '#/catalogues', 'nav.catalogues', ['catalogues.read']],
  ['forms', '#/forms', 'nav.forms', ['forms.manage']],
  ['audit', '#/audit', 'nav.audit', ['audit.read']],
];

/** @param {Capability[]|null} caps */
const allowed = (caps) => caps === null || caps.length === 0 || caps.some((c) => session.can(c));

/** The first page the signed-in user may open. */
export function homeHash() {
  if (!session.me) return '#/login';
  const first = NAV.find(([, , , caps]) => allowed(caps));
  return first ? first[1] : '#/surveyor';
}

let renderSeq = 0;

/** @param {string} section */
function drawChrome(section) {
  document.documentElement.lang = getLang();
  document.title = t('app.doc_title');
  /** @type {HTMLElement} */ (document.getElementById('app-title')).textContent = t('app.title');
  const toggle = /** @type {HTMLElement} */ (document.getElementById('lang-toggle'));
  toggle.textContent = t('lang.toggle');
  toggle.setAttribute('aria-label', t('lang.toggle.label'));
  toggle.setAttribute('lang', getLang() === 'vi' ? 'en' : 'vi');
  const me = session.me;
  const out = /** @type {HTMLButtonElement} */ (document.getElementById('logout'));
  out.textContent = t('nav.logout');
  out.hidden = !me;
  const scope = me && me.scope && me.scope.units.length ? me.scope.units.map((u) => u.name).join(', ') : '';
  /** @type {HTMLElement} */ (document.getElementById('who')).textContent = me
    ? `${t('who', me.display_name || me.username, t(`role.${me.role}`))}${scope ? ` · ${scope}` : ''}` : '';
  const nav = /** @type {HTMLElement} */ (document.getElementById('main-nav'));
  nav.setAttribute('aria-label', t('nav.label'));
  nav.replaceChildren();
  if (!me) return;
  for (const [id, href, key, caps] of NAV) {
    if (!allowed(caps)) continue;
    nav.append(h('a', { class: 'navlink', href, testid: `nav-${id}`, 'aria-current': section === id ? 'page' : null }, t(key)));
  }
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

export function render() {
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  const me = session.me;
  /** @type {Route|null} */
  let route = null;
  /** @type {string[]} */
  let params = [];
  for (const r of ROUTES) {
    const m = r.re.exec(path);
    if (m) { route = r; params = m.slice(1).map(decodeURIComponent); break; }
  }
  const view = /** @type {HTMLElement} */ (document.getElementById('view'));
  if (path === '/' || !route) {
    if (path !== '/' && me) {
      drawChrome('');
      drawPendingToast();
      fill(view, h('p', { class: 'error', testid: 'not-found' }, t('common.not_found')));
      return;
    }
    location.replace(homeHash());
    return;
  }
  if (route.caps !== null && !me) {
    location.replace('#/login');
    return;
  }
  if (route.caps === null && me) {
    location.replace(homeHash());
    return;
  }
  drawChrome(route.section);
  drawPendingToast();
  if (!allowed(route.caps)) {
    fill(view, h('p', { class: 'error', testid: 'forbidden-page' }, t('common.forbidden_page')));
    return;
  }
  view.replaceChildren();
  /** @type {Ctx} */
  const ctx = { alive: () => seq === renderSeq, query, view, reload: render };
  Promise.resolve(route.page(ctx, ...params)).catch((e) => {
    if (e instanceof ApiError && e.handled) return;
    console.error(e);
    if (ctx.alive()) fill(view, errorBox(e, 'page-error'));
  });
}

function start() {
  setOnExpired(() => {
    clearCaches();
    toast('error', t('login.expired'), true);
    if (location.hash !== '#/login') location.hash = '#/login';
    else render();
  });
  /** @type {HTMLElement} */ (document.getElementById('lang-toggle')).addEventListener('click', () => {
    setLang(getLang() === 'vi' ? 'en' : 'vi');
    keepToast();
    render();
  });
  /** @type {HTMLElement} */ (document.getElementById('logout')).addEventListener('click', () => {
    logout();
    clearCaches();
    toast('notice', t('login.logged_out'), true);
    location.hash = '#/login';
  });
  window.addEventListener('hashchange', render);
  // A session from before a reload: refresh who the user is (capabilities may have changed).
  if (session.token) {
    api('/me').then((me) => { session.setMe(me); render(); }).catch((e) => { if (!e.handled) render(); });
  } else {
    render();
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
