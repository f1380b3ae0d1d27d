// @ts-check
// What several pages share: the rounds (cached per tab), the round's sub-navigation built from
// the user's capabilities, user names by id, and the catalogues by code.
import { api, enc, qs, session } from '../api.js';
import { getLang, has, t } from '../i18n.js';
import { fmtDate, h, todayVn } from '../widgets.js';

/** @typedef {import('../types.js').Round} Round */
/** @typedef {import('../types.js').User} User */
/** @typedef {import('../types.js').Unit} Unit */
/** @typedef {import('../types.js').Agency} Agency */

/** @type {Map<string, Round>} */
const rounds = new Map();
/** @type {Map<string, Promise<any>>} */
const lists = new Map();

export function clearCaches() {
  rounds.clear();
  lists.clear();
}

/** @param {boolean} [force] @returns {Promise<Round[]>} */
export async function getRounds(force = false) {
  if (force || rounds.size === 0) {
    /** @type {Round[]} */
    const list = await api('/rounds');
    rounds.clear();
    for (const r of list) rounds.set(r.id, r);
  }
  return [...rounds.values()];
}

/** The round (`GET /rounds/{id}`; outside the caller's scope the server answers 404). @param {string} id @returns {Promise<Round>} */
export async function getRound(id) {
  if (!rounds.has(id)) rounds.set(id, await api(`/rounds/${enc(id)}`));
  return /** @type {Round} */ (rounds.get(id));
}

/**
 * A list from the server, fetched once per page set (cleared on sign-out).
 * @param {string} path
 * @param {boolean} [force]
 */
function cached(path, force = false) {
  if (force || !lists.has(path)) {
    const p = api(path);
    p.catch(() => lists.delete(path));
    lists.set(path, p);
  }
  return /** @type {Promise<any>} */ (lists.get(path));
}

/** Users of a role (empty when the caller may not list users). @param {string} [role] @returns {Promise<User[]>} */
export async function usersOf(role) {
  try {
    return await cached(`/users${qs({ role })}`);
  } catch (e) {
    if (/** @type {any} */ (e).handled) throw e;
    return [];
  }
}

export function forgetUsers() {
  for (const k of [...lists.keys()]) if (k.startsWith('/users')) lists.delete(k);
}

/** id → display name. @param {string} [role] @returns {Promise<Map<string, string>>} */
export async function userNames(role) {
  const users = await usersOf(role);
  return new Map(users.map((u) => [u.id, u.display_name || u.username]));
}

/** Units valid on a date. @param {string} [on] @returns {Promise<Unit[]>} */
export function units(on = todayVn()) {
  return cached(`/units${qs({ on })}`);
}

/** Agencies valid on a date. @param {string} [on] @returns {Promise<Agency[]>} */
export function agencies(on = todayVn()) {
  return cached(`/agencies${qs({ on })}`);
}

/** code → name of units and agencies valid on a date (empty maps when unreadable). @param {string} [on] */
export async function catalogueNames(on) {
  /** @type {[Unit[], Agency[]]} */
  const [u, a] = await Promise.all([units(on).catch(() => []), agencies(on).catch(() => [])]);
  return {
    /** @type {Map<string, string>} */
    unit: new Map(u.map((x) => [x.code, x.name])),
    /** @type {Map<string, string>} */
    agency: new Map(a.map((x) => [x.code, x.name])),
  };
}

/** Questionnaire titles by `form_id@version` (empty when unreadable). @returns {Promise<Map<string, import('../types.js').FormInfo>>} */
export async function formsByKey() {
  try {
    /** @type {import('../types.js').FormInfo[]} */
    const forms = await cached('/forms');
    return new Map(forms.map((f) => [`${f.id}@${f.version}`, f]));
  } catch (e) {
    if (/** @type {any} */ (e).handled) throw e;
    return new Map();
  }
}

/**
 * A round's questionnaire title in the current language.
 * @param {Round} r
 * @param {Map<string, import('../types.js').FormInfo>} forms
 */
export function formTitleOf(r, forms) {
  const f = forms.get(`${r.form.form_id}@${r.form.version}`);
  if (f && getLang() === 'en' && f.title_en) return f.title_en;
  return (f && f.title_vi) || r.form_title || t('common.dash');
}

/** A round's status badge. @param {Round} r */
export function roundStatus(r) {
  const s = r.status || 'open';
  return h('span', { class: `badge status-${s}`, testid: 'round-status', dataset: { status: s } }, has(`round.status.${s}`) ? t(`round.status.${s}`) : s);
}

/** `dd/mm/yyyy – dd/mm/yyyy`. @param {Round} r */
export function period(r) {
  return t('rounds.period', fmtDate(r.starts_on), fmtDate(r.ends_on));
}

/** The round's pages the user may open. */
const TABS = /** @type {[string, string, string, import('../types.js').Capability][]} */ ([
  ['overview', '', 'nav.overview', 'rounds.read'],
  ['sample', '/sample', 'nav.sample', 'sample.manage'],
  ['assignments', '/assignments', 'nav.assignments', 'assignments.manage'],
  ['progress', '/progress', 'nav.progress', 'progress.read'],
  ['review', '/review', 'nav.review', 'review'],
  ['quarantine', '/quarantine', 'nav.quarantine', 'quarantine.manage'],
  ['spot', '/spot-checks', 'nav.spot', 'spot_checks.manage'],
  ['report', '/report', 'nav.report', 'reports.read'],
  ['results', '/results', 'nav.results', 'reports.read'],
  ['self-links', '/self-links', 'nav.self_links', 'assignments.manage'],
]);

/** @param {string} roundId @param {string} current */
export function roundNav(roundId, current) {
  return h('nav', { class: 'subnav', 'aria-label': t('nav.round.label'), testid: 'subnav' },
    TABS.filter(([, , , cap]) => session.can(cap)).map(([id, suffix, key]) => h('a', {
      href: `#/rounds/${enc(roundId)}${suffix}`, testid: `subnav-${id}`, 'aria-current': id === current ? 'page' : null,
    }, t(key))));
}

/** Sub-navigation and heading of a round page. @param {Round} round @param {string} current @param {string} title */
export function roundHead(round, current, title) {
  return [roundNav(round.id, current),
    h('h2', null, `${title}: ${round.name}`)];
}
