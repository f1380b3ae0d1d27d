// @ts-check
// The dashboard's client of this server's /api/v1: one fetch wrapper, the session (token and
// the signed-in user's /me in sessionStorage, gone when the tab closes) and problem texts.
// A problem is shown by its message in the current language (message_vi / message_en /
// message), never by its status or problem code.
import { getLang, t } from './i18n.js';

/** @typedef {import('./types.js').Me} Me */
/** @typedef {import('./types.js').Problem} Problem */

const API = '/api/v1';
const TOKEN_KEY = 'sipas.dashboard.token';
const ME_KEY = 'sipas.dashboard.me';

/** @param {Storage} store @param {string} key */
export function safeGet(store, key) {
  try { return store.getItem(key); } catch { return null; }
}

/** What the page does when the server says the session is gone (set by main.js). */
let onExpired = () => {};
/** @param {() => void} fn */
export function setOnExpired(fn) { onExpired = fn; }

export const session = {
  /** @returns {string|null} */
  get token() { return safeGet(sessionStorage, TOKEN_KEY); },
  /** @returns {Me|null} */
  get me() {
    try { return JSON.parse(safeGet(sessionStorage, ME_KEY) || 'null'); } catch { return null; }
  },
  /** @param {string} token */
  setToken(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  /** @param {Me} me */
  setMe(me) { sessionStorage.setItem(ME_KEY, JSON.stringify(me)); },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ME_KEY);
  },
  /** @param {import('./types.js').Capability} cap */
  can(cap) {
    const me = this.me;
    return Boolean(me && Array.isArray(me.capabilities) && me.capabilities.includes(cap));
  },
};

/** A failed call: `problem` is the server's problem body (null for network failures). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {Problem|null} problem
   * @param {boolean} [handled] true once the page has already reacted (expired session)
   */
  constructor(status, problem, handled = false) {
    super(problem && problem.message ? problem.message : 'request failed');
    this.status = status;
    this.problem = problem && typeof problem === 'object' && problem.code ? problem : null;
    this.handled = handled;
  }
}

/**
 * Text of an error in the current language: the problem's own message, never its code.
 * @param {unknown} e
 */
export function errorText(e) {
  if (e instanceof ApiError) {
    if (e.problem) {
      const p = e.problem;
      const text = getLang() === 'en' ? (p.message_en || p.message || p.message_vi) : (p.message_vi || p.message_en || p.message);
      if (text) return text;
    }
    if (e.status === 0) return t('common.network');
    return t('common.bad_answer');
  }
  return t('common.error', e instanceof Error ? e.message : String(e));
}

/**
 * @typedef {object} CallOptions
 * @property {string} [method]
 * @property {unknown} [body]       JSON body
 * @property {BodyInit} [bytes]     raw body (with `type`)
 * @property {string} [type]        Content-Type of `bytes` (default application/json)
 * @property {string} [encoding]    Content-Encoding of `bytes`
 * @property {string} [accept]
 * @property {boolean} [noAuth]     no bearer token; a 401 does not end the session
 * @property {boolean} [raw]        resolve the Response itself
 */

/**
 * Calls the API. Non-2xx answers throw ApiError carrying the problem; 401 (other than a
 * failed sign-in) ends the session.
 * @param {string} path
 * @param {CallOptions} [opts]
 * @returns {Promise<any>}
 */
export async function api(path, opts = {}) {
  /** @type {Record<string, string>} */
  const headers = { Accept: opts.accept || 'application/json' };
  const token = session.token;
  if (token && !opts.noAuth) headers.Authorization = `Bearer ${token}`;
  /** @type {BodyInit|undefined} */
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.bytes !== undefined) {
    headers['Content-Type'] = opts.type || 'application/json';
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
      // Several calls may fail at once: only the first one (still holding the current token)
      // ends the session and tells the page.
      const current = token !== null && session.token === token;
      session.clear();
      if (current) onExpired();
      throw new ApiError(401, problem, true);
    }
    throw new ApiError(res.status, problem);
  }
  if (opts.raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const enc = encodeURIComponent;

/** `?a=1&b=2` of the non-empty params. @param {Record<string, unknown>} params */
export function qs(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false)
    .map(([k, v]) => `${enc(k)}=${enc(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** Content-Type of an uploaded table file (CSV or XLSX) by its name. @param {File} file */
export function tableType(file) {
  return /\.xlsx$/i.test(file.name)
    ? 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
    : 'text/csv; charset=utf-8';
}

/** Ends the session on the server (best effort) and here. */
export function logout() {
  const token = session.token;
  if (token) {
    fetch(`${API}/logout`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, credentials: 'omit' })
      .catch(() => { /* offline: the session expires on its own */ });
  }
  session.clear();
}

/** The problem's row errors (`details.errors`) of a table import, or []. @param {unknown} e */
export function rowErrors(e) {
  if (e instanceof ApiError && e.problem && e.problem.details && Array.isArray(e.problem.details.errors)) {
    return /** @type {import('./types.js').RowError[]} */ (e.problem.details.errors);
  }
  return [];
}
