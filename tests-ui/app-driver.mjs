// Drives the REAL SIPAS Field window (the debug `sipas-field` binary, WebKitGTK) over
// WebDriver from node: Debian's `WebKitWebDriver` started on a free loopback port with
// `TAURI_WEBVIEW_AUTOMATION=true`, launching the binary through the `webkitgtk:browserOptions`
// capability, spoken to over HTTP with fetch. The same recipe, selectors and flows as the Rust
// kit (crates/testkit/src/webdriver.rs, tests/app_window.rs); see
// shared/reference/TAURI-ON-THIS-MACHINE.md, section 4.
//
// Selectors are ids and data attributes only (never displayed text), so the UI's wording may
// change. Outcomes are read from the page's state (screens shown, buttons re-enabled,
// data-* attributes) and from the app's own commands (`window.__TAURI__.core.invoke`).
//
// Exports:
//   startApp({ dataDir?, artifactsDir?, pin?, binary?, env?, display? }) → app
//   unlock(app, pin?)                     (done by startApp unless `pin: null`)
//   enrol(app, { payload } | { serverUrl, code, certificate? }, deviceName?) → sync status
//   setWindowSize(app, width, height)      (the window's inner size, checked)
//   pull(app) → { assignments: [id], status }
//   fillAndSubmitFirstAssignment(app, { rating? }) → { assignmentId, answered: [code] }
//   sync(app) → sync status
//   syncStatus(app) → sync status (the app's `sync_status` command)
//   screenshot(app, path)
//   stopApp(app)                          (always kills what startApp started)
// and lower-level helpers: js, jsAsync, invoke, click, visible, waitFor, setInput, typeInto.
//
// Isolation: the app's store is `<dataDir>/app.db` (`SIPAS_DB`, as the Rust kit does; the
// enrolment sits next to it as `app.enrolment.json`); WebKit's own data (local storage,
// caches) goes under `<dataDir>/xdg`. The app's log is
// `<artifactsDir>/logs/app-node-<pid>-<n>.log` (`SIPAS_LOG_FILE`), which
// scripts/check-logs.sh checks for personal data; WebKitWebDriver's own output goes to
// `webdriver-node-<pid>-<n>.log` next to it. Without `DISPLAY`, a private Xvfb is started
// (and stopped by stopApp).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * @typedef {object} AppHandle What startApp returns and every other function takes.
 * @property {string|null} sessionId WebDriver session (null once stopped).
 * @property {string} dataDir The app's data folder (store `app.db`, enrolment, WebKit data).
 * @property {string} db The store file (`SIPAS_DB`).
 * @property {string} appLog The app's own log (`SIPAS_LOG_FILE`).
 * @property {string} driverLog WebKitWebDriver's (and a private Xvfb's) output.
 * @property {string|null} display The X display the window is on.
 * @property {number} clickRetries Clicks WebKitWebDriver lost and that were sent again.
 * @property {() => string} appLogText The app's log so far.
 */
/**
 * @typedef {object} SyncStatus The app's `sync_status` command (src-tauri/src/commands/sync.rs).
 * @property {{pending: number, in_flight: number, acked: number, rejected: number}} counts Outbox.
 * @property {{last_success_at: string|null, last_error_at: string|null, last_error: string|null}} log
 * @property {boolean} enrolled
 * @property {string|null} server_url
 * @property {string|null} user
 * @property {boolean} revoked
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
/** The debug app binary built by `cargo build --workspace` (`$SIPAS_APP_BIN` overrides). */
export const APP_BIN = process.env.SIPAS_APP_BIN || path.join(TARGET, 'debug', 'sipas-field');
/** The WebDriver server (Debian package webkit2gtk-driver; `$SIPAS_WEBKIT_DRIVER` overrides). */
export const WEBKIT_DRIVER = process.env.SIPAS_WEBKIT_DRIVER || 'WebKitWebDriver';
/** How long any single wait may take. */
export const WAIT_MS = 20_000;
/** The PIN startApp creates (first run) or enters. */
export const DEFAULT_PIN = '246813';

const ELEMENT_KEY = 'element-6066-11e4-a07c-4f4d6c8b4fb2';
const TAB = '\uE004';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A deadline for Promise.race that does not keep the process alive after the race is won.
const deadlineOf = (ms) => new Promise((r) => setTimeout(r, ms).unref());
let started = 0;
const live = new Set();

// Whatever happens to the test process, no window, driver or Xvfb outlives it.
process.on('exit', () => { for (const app of live) killAllSync(app); });
// Also when the test runner stops this process with a signal (a timed-out test file): the
// children are killed, then the signal does what it would have done.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    for (const app of live) killAllSync(app);
    if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
  });
}

function findOnPath(cmd) {
  if (cmd.includes('/')) return fs.existsSync(cmd) ? cmd : null;
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir || '.', cmd);
    try { fs.accessSync(p, fs.constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function waitPort(port, child, what) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before listening`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port}`);
    await sleep(50);
  }
}

/** A private Xvfb on a free display number; resolves { display, proc }. */
async function startXvfb(logFd) {
  const bin = findOnPath('Xvfb');
  if (!bin) throw new Error('app-driver: DISPLAY is not set and Xvfb is not installed (apt-get install xvfb; scripts/setup.sh)');
  const proc = spawn(bin, ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', logFd, logFd, 'pipe'],
  });
  const display = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('Xvfb did not report its display')), WAIT_MS);
    proc.stdio[3].on('data', (d) => {
      out += d.toString();
      const m = /^(\d+)\n/.exec(out);
      if (m) { clearTimeout(timer); resolve(`:${m[1]}`); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`Xvfb exited (${code})`)); });
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
  proc.stdio[3].destroy();
  return { display, proc };
}

/**
 * Pids of the running `sipas-field` processes whose parent is `ppid` (with `zombies`, also
 * those that exited and wait to be reaped).
 */
function appPids(ppid, { zombies = false } = {}) {
  const out = [];
  let entries = [];
  try { entries = fs.readdirSync('/proc'); } catch { return out; }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try { stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8'); } catch { continue; }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const [state, parent] = stat.slice(close + 2).split(' ');
    if (Number(parent) === ppid && comm.startsWith('sipas-field') && (zombies || state !== 'Z')) out.push(Number(name));
  }
  return out;
}

function killPid(pid, signal) { try { process.kill(pid, signal); } catch { /* gone */ } }

function killAllSync(app) {
  if (app.driver?.pid) for (const pid of appPids(app.driver.pid)) killPid(pid, 'SIGKILL');
  for (const pid of app.appPids || []) killPid(pid, 'SIGKILL');
  if (app.driver && app.driver.exitCode === null) killPid(app.driver.pid, 'SIGKILL');
  if (app.xvfb && app.xvfb.exitCode === null) killPid(app.xvfb.pid, 'SIGKILL');
  if (app.ownDir) { try { fs.rmSync(app.dataDir, { recursive: true, force: true }); } catch { /* best effort */ } }
}

// ---------------------------------------------------------------- WebDriver over HTTP

async function wd(app, method, p, body) {
  const res = await fetch(`${app.wdUrl}${p}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json; charset=utf-8' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = { value: text }; }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value || {};
    const err = new Error(`WebDriver ${method} ${p.replace(/^\/session\/[^/]+/, '/session/…')}: ${v.error || res.status} ${v.message || text}`.slice(0, 2000));
    err.webdriverError = v.error;
    throw err;
  }
  return json.value;
}

const sess = (app) => `/session/${app.sessionId}`;

/** Runs `script` (a function body; `arguments` holds `args`) in the page; resolves its result. */
export async function js(app, script, ...args) {
  return wd(app, 'POST', `${sess(app)}/execute/sync`, { script, args });
}

/** Runs an asynchronous script: it calls `arguments[arguments.length - 1](result)`. */
export async function jsAsync(app, script, ...args) {
  return wd(app, 'POST', `${sess(app)}/execute/async`, { script, args });
}

/**
 * Calls one of the app's Tauri commands; resolves its result, rejects with an Error whose
 * `problem` is the command's Problem.
 */
export async function invoke(app, command, args = {}) {
  const r = await jsAsync(app, `const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke(arguments[0], arguments[1])
      .then((v) => done({ ok: v === undefined ? null : v }),
        (e) => done({ err: e && typeof e === 'object' ? JSON.stringify(e) : String(e), problem: e && typeof e === 'object' ? e : null }));`, command, args);
  if (r && 'err' in r) {
    // A command's error is a Problem {code, message_vi, message_en, action_vi, action_en}.
    const err = new Error(`app command ${command}: ${r.err}`);
    err.problem = r.problem;
    throw err;
  }
  return r ? r.ok : null;
}

/** What the page shows (screen and text), for error messages. */
async function pageText(app) {
  try {
    return await js(app, 'return `[screen ${document.body.dataset.screen || "?"}] ` + document.body.innerText.slice(0, 3000);');
  } catch (e) { return `(page text unavailable: ${e.message})`; }
}

/** Polls the JavaScript expression `expr` until it is truthy; fails with `what` on timeout. */
export async function waitFor(app, expr, what, { timeout = WAIT_MS, args = [] } = {}) {
  const deadline = Date.now() + timeout;
  let last = null;
  for (;;) {
    try {
      if (await js(app, `return !!(${expr});`, ...args)) return;
      last = null;
    } catch (e) { last = e; }
    if (Date.now() > deadline) {
      throw new Error(`app-driver: timed out waiting for ${what}${last ? ` (${last.message})` : ''}; the page shows:\n${await pageText(app)}`);
    }
    await sleep(100);
  }
}

const VISIBLE = '((e) => !!e && e.getClientRects().length > 0)(document.querySelector(arguments[0]))';

/** The element id of the element matching `css`, once it is present and visible. */
export async function visible(app, css) {
  await waitFor(app, VISIBLE, `${css} visible`, { args: [css] });
  const v = await wd(app, 'POST', `${sess(app)}/element`, { using: 'css selector', value: css });
  const id = v && (v[ELEMENT_KEY] ?? v.ELEMENT ?? Object.values(v)[0]);
  if (typeof id !== 'string') throw new Error(`app-driver: WebDriver found ${css} but returned ${JSON.stringify(v)}`);
  return id;
}

/** Clicks (a real WebDriver click) the element matching `css` once it is visible. */
export async function click(app, css) {
  const id = await visible(app, css);
  await wd(app, 'POST', `${sess(app)}/element/${id}/click`, {});
}

/**
 * Clicks `css` until `registered` (a JavaScript expression) holds: WebKitWebDriver very rarely
 * loses a click (about once in 16 runs, see tests/app_window.rs). Repeats are counted in
 * `app.clickRetries`; use only where a repeated click does no harm.
 */
async function clickUntil(app, css, registered, what, { settle = 150, tries = 3 } = {}) {
  // Below 600 px the main navigation is folded behind the "Menu" button: open it first.
  if (css.startsWith('[data-nav=')) await openMenuIfFolded(app);
  for (let i = 0; i < tries; i += 1) {
    await click(app, css);
    const deadline = Date.now() + settle;
    do {
      if (await js(app, `return !!(${registered});`)) { app.clickRetries += i; return; }
      await sleep(50);
    } while (Date.now() < deadline);
  }
  app.clickRetries += tries;
  await waitFor(app, registered, what);
}

/** Opens the folded main menu (narrow windows) when its button is shown and it is closed. */
async function openMenuIfFolded(app) {
  const folded = await js(app, `const b = document.getElementById('menu-btn');
    return !!b && b.offsetParent !== null && document.body.dataset.menu !== 'open';`);
  if (folded) {
    await click(app, '#menu-btn');
    await waitFor(app, "document.body.dataset.menu === 'open'", 'the menu to open');
  }
}

/** Sets the value of input `#id` and fires `input` and `change` (as typing and leaving would). */
export async function setInput(app, id, value) {
  await visible(app, `#${CSS_ESCAPE(id)}`);
  await js(app, `const e = document.getElementById(arguments[0]); e.value = arguments[1];
    e.dispatchEvent(new Event('input', { bubbles: true })); e.dispatchEvent(new Event('change', { bubbles: true }));
    return true;`, id, value);
}

/** Types `text` into `#id` after clearing it (real key events), then Tab if `leave`. */
export async function typeInto(app, id, text, { leave = false } = {}) {
  const el = await visible(app, `#${CSS_ESCAPE(id)}`);
  await wd(app, 'POST', `${sess(app)}/element/${el}/clear`, {});
  await wd(app, 'POST', `${sess(app)}/element/${el}/value`, { text: leave ? `${text}${TAB}` : text });
}

function CSS_ESCAPE(id) { return id.replace(/([^A-Za-z0-9_-])/g, '\\$1'); }

// ---------------------------------------------------------------- start and stop

/**
 * Starts WebKitWebDriver on a free port and opens a session on the app binary (which launches
 * the app window), then unlocks the app with `pin` (creating it on the first run; `pin: null`
 * leaves the app on its Unlock screen).
 * Options: dataDir (default: a fresh temporary folder, removed by stopApp), artifactsDir
 * (default `$SIPAS_ARTIFACTS` or <repo>/artifacts), pin, binary, env (more environment for the
 * app, e.g. { SIPAS_AUTO_SYNC_SECS: '2' }), display (default `$DISPLAY`, else a private Xvfb).
 * Returns the handle the other functions take:
 * { sessionId, dataDir, db, appLog, driverLog, display, clickRetries, appLogText() }.
 */
/**
 * @param {{dataDir?: string, artifactsDir?: string, pin?: string|null, binary?: string,
 *   env?: Record<string, string>, display?: string}} [options]
 * @returns {Promise<AppHandle>}
 */
export async function startApp({
  dataDir, artifactsDir, pin = DEFAULT_PIN, binary = APP_BIN, env = {}, display = process.env.DISPLAY,
} = {}) {
  if (!fs.existsSync(binary)) {
    throw new Error(`app-driver: ${binary} is missing: run \`cargo build --workspace\` (or -p sipas-field) first`);
  }
  const driverBin = findOnPath(WEBKIT_DRIVER);
  if (!driverBin) {
    throw new Error(`app-driver: ${WEBKIT_DRIVER} not found: install the Debian package webkit2gtk-driver (scripts/setup.sh)`);
  }
  const ownDir = !dataDir;
  const dir = path.resolve(dataDir || fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-app-')));
  fs.mkdirSync(dir, { recursive: true });
  const artifacts = path.resolve(artifactsDir || process.env.SIPAS_ARTIFACTS || path.join(ROOT, 'artifacts'));
  const logs = path.join(artifacts, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const n = started;
  started += 1;
  const appLog = path.join(logs, `app-node-${process.pid}-${n}.log`);
  const driverLog = path.join(logs, `webdriver-node-${process.pid}-${n}.log`);
  const xdg = path.join(dir, 'xdg');
  for (const d of ['data', 'cache', 'config']) fs.mkdirSync(path.join(xdg, d), { recursive: true });

  const app = {
    dataDir: dir, ownDir, db: path.join(dir, 'app.db'), artifactsDir: artifacts, appLog, driverLog,
    binary, display: null, driver: null, xvfb: null, sessionId: null, wdUrl: null, appPids: [],
    clickRetries: 0, startedAt: Date.now(),
    appLogText: () => { try { return fs.readFileSync(appLog, 'utf8'); } catch { return ''; } },
  };
  live.add(app);
  const logFd = fs.openSync(driverLog, 'a');
  try {
    if (!display) {
      const x = await startXvfb(logFd);
      app.xvfb = x.proc;
      display = x.display;
    }
    app.display = display;
    const port = await freePort();
    app.wdUrl = `http://127.0.0.1:${port}`;
    app.driver = spawn(driverBin, [`--port=${port}`, '--host=127.0.0.1'], {
      stdio: ['ignore', logFd, logFd],
      env: {
        ...process.env,
        DISPLAY: display,
        TAURI_WEBVIEW_AUTOMATION: 'true',
        SIPAS_DB: app.db,
        SIPAS_LOG_FILE: appLog,
        XDG_DATA_HOME: path.join(xdg, 'data'),
        XDG_CACHE_HOME: path.join(xdg, 'cache'),
        XDG_CONFIG_HOME: path.join(xdg, 'config'),
        ...env,
      },
    });
    const spawnError = new Promise((_, reject) => app.driver.once('error', (e) => reject(new Error(`app-driver: cannot start ${driverBin}: ${e.message}`))));
    spawnError.catch(() => {});
    await Promise.race([waitPort(port, app.driver, 'WebKitWebDriver'), spawnError]);
    const created = await wd(app, 'POST', '/session', {
      capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: path.resolve(binary), args: [] } } },
    });
    app.sessionId = created.sessionId;
    app.appPids = appPids(app.driver.pid);
    await wd(app, 'POST', `${sess(app)}/timeouts`, { script: 60_000 });
    await waitFor(app, "document.body.dataset.ready === 'true'", 'the app to start');
    if (pin !== null) await unlock(app, pin);
    return app;
  } catch (e) {
    await stopApp(app);
    throw e;
  } finally {
    fs.closeSync(logFd);
  }
}

/**
 * Ends the session (which closes the window), then makes sure every process startApp started
 * is gone (app, WebKitWebDriver, private Xvfb), and removes a data folder startApp made itself.
 * Never throws; safe to call twice.
 */
/** @param {AppHandle|undefined|null} app */
export async function stopApp(app) {
  if (!app || app.stopped) return;
  app.stopped = true;
  if (app.sessionId) {
    try {
      await Promise.race([wd(app, 'DELETE', sess(app)), deadlineOf(10_000)]);
    } catch { /* the app or the driver may already be gone */ }
    app.sessionId = null;
  }
  // The window closes with the session (and the driver reaps it); whatever is left is killed.
  const deadline = Date.now() + 5_000;
  while (app.driver && appPids(app.driver.pid, { zombies: true }).length && Date.now() < deadline) await sleep(100);
  const stop = async (proc) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([gone, deadlineOf(3_000)]);
    if (proc.exitCode === null && proc.signalCode === null) { proc.kill('SIGKILL'); await Promise.race([gone, deadlineOf(3_000)]); }
  };
  if (app.driver) for (const pid of appPids(app.driver.pid)) killPid(pid, 'SIGKILL');
  for (const pid of app.appPids) if (fs.existsSync(`/proc/${pid}`)) killPid(pid, 'SIGKILL');
  await stop(app.driver);
  await stop(app.xvfb);
  live.delete(app);
  if (app.ownDir) fs.rmSync(app.dataDir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- flows

/**
 * Unlocks the app: on the first run creates the PIN (typed twice), later enters it. Fails if
 * the app stays locked (with the message it shows).
 */
export async function unlock(app, pin = DEFAULT_PIN) {
  await visible(app, '#screen-unlock');
  await waitFor(app, 'document.body.dataset.pinMode', 'the Unlock screen');
  const create = (await js(app, 'return document.body.dataset.pinMode;')) === 'create';
  await typeInto(app, 'unlock-pin', pin);
  if (create) await typeInto(app, 'unlock-confirm', pin);
  // The form disables its button while it works: a click that left it enabled (and no
  // message) never reached the page, and is repeated.
  await clickUntil(app, '#unlock-submit', `document.getElementById('unlock-submit').disabled
      || document.body.dataset.locked === 'false' || !document.getElementById('unlock-error').hidden`,
  'the PIN to be submitted', { settle: 1000 });
  await waitFor(app, `document.body.dataset.locked === 'false' && document.body.dataset.ready === 'true'
    || !document.getElementById('unlock-error').hidden`, 'the app to unlock');
  const error = await js(app, "const e = document.getElementById('unlock-error'); return e.hidden ? null : e.textContent;");
  if (error) throw new Error(`app-driver: the app stays locked: ${error}`);
}

/**
 * Resizes the window so the page is `width` × `height` CSS pixels (WebDriver window rect,
 * corrected once by the difference the window decorations make), and checks it; resolves
 * `window.innerWidth`.
 */
export async function setWindowSize(app, width, height) {
  let w = width;
  let h = height;
  for (let i = 0; i < 3; i += 1) {
    await wd(app, 'POST', `${sess(app)}/window/rect`, { width: w, height: h });
    await sleep(300);
    const [iw, ih] = await js(app, 'return [window.innerWidth, window.innerHeight];');
    if (iw === width && ih === height) return iw;
    w += width - iw;
    h += height - ih;
  }
  const [iw, ih] = await js(app, 'return [window.innerWidth, window.innerHeight];');
  if (iw !== width) throw new Error(`app-driver: the page is ${iw}×${ih}, not ${width}×${height}`);
  return iw;
}

/** The app's sync status (`sync_status`: counts, log, enrolled, server_url, revoked, …). */
export async function syncStatus(app) {
  return invoke(app, 'sync_status');
}

async function openSync(app) {
  await clickUntil(app, '[data-nav="sync"]', VISIBLE.replace('arguments[0]', "'#screen-sync'"), 'the Sync screen');
  await visible(app, '#screen-sync');
}

/**
 * Enrols the device through the Sync → Enrol screen with a one-time code. Resolves the sync
 * status once the app says it is enrolled with `serverUrl`. When the app refuses, rejects with
 * an Error whose `shown` property is the message the app shows (and the app stays on the
 * Enrol screen).
 */
/**
 * @param {AppHandle} app
 * @param {{payload?: string, serverUrl?: string, code?: string, deviceName?: string, certificate?: string}} details
 * @returns {Promise<SyncStatus>}
 */
export async function enrol(app, { payload, serverUrl, code, deviceName, certificate } = {}) {
  if (!payload && (!serverUrl || !code)) throw new Error('app-driver: enrol needs payload, or serverUrl and code');
  await openSync(app);
  await click(app, '#open-enrol');
  await visible(app, '#screen-enrol');
  if (payload) {
    await setInput(app, 'enrol-payload', payload);
  } else {
    // The advanced path: address and bare code (and a PEM) in the "Nâng cao" section.
    await js(app, "document.getElementById('enrol-advanced').open = true; return true;");
    await setInput(app, 'enrol-payload', '');
    await setInput(app, 'enrol-url', serverUrl);
    await setInput(app, 'enrol-code', code);
  }
  if (deviceName !== undefined) await setInput(app, 'enrol-device', deviceName);
  if (certificate !== undefined) await setInput(app, 'enrol-cert', certificate);
  await js(app, "document.getElementById('enrol-result').textContent = ''; return true;");
  // The button is disabled (and a "running" message shown) as soon as the page has the click:
  // only a click that never reached the page is repeated (the code is spent once).
  await clickUntil(app, '#enrol-submit', `document.getElementById('enrol-submit').disabled
      || document.getElementById('enrol-result').textContent !== '' || !document.getElementById('screen-sync').hidden`,
  'the enrolment to start', { settle: 1000 });
  await waitFor(app, `!document.getElementById('enrol-submit').disabled
      && (!document.getElementById('screen-sync').hidden || document.getElementById('enrol-result').textContent !== '')`,
  'the enrolment to finish', { timeout: 2 * WAIT_MS });
  const onSync = await js(app, "return !document.getElementById('screen-sync').hidden;");
  if (!onSync) {
    const shown = await js(app, "return document.getElementById('enrol-result').textContent;");
    const err = new Error(`app-driver: the app refused the enrolment: ${shown}`);
    err.shown = shown;
    throw err;
  }
  const st = await syncStatus(app);
  if (!st.enrolled || (serverUrl && st.server_url !== serverUrl)) {
    throw new Error(`app-driver: after enrolling, the app reports ${JSON.stringify({ enrolled: st.enrolled, server_url: st.server_url })}`);
  }
  return st;
}

/**
 * "Đồng bộ ngay" on the Sync screen: sends what is waiting and fetches assignments and
 * decisions. Resolves the sync status after a successful sync; rejects with the app's message
 * (`err.shown`) when the sync failed.
 */
/** @param {AppHandle} app @returns {Promise<SyncStatus>} */
export async function sync(app) {
  await openSync(app);
  const before = await syncStatus(app);
  await js(app, "document.getElementById('sync-result').textContent = ''; return true;");
  // A repeated click only syncs again: harmless.
  await clickUntil(app, '#sync-now', "document.getElementById('sync-now').disabled || document.getElementById('sync-result').textContent !== ''",
    'the sync to start', { settle: 300 });
  await waitFor(app, "!document.getElementById('sync-now').disabled && document.getElementById('sync-result').textContent !== ''",
    'the sync to finish', { timeout: 3 * WAIT_MS });
  const st = await syncStatus(app);
  // Success is the app's "sync finished" message (looked up by its key in the UI's string
  // catalogue, in any language), else a new last-success time in the sync log.
  // Success is the result line marked done (data-kind), else a new last-success time.
  const r = await js(app, `const e = document.getElementById('sync-result');
    return { shown: e.textContent, known: Boolean(e.dataset.kind), ok: e.dataset.kind === 'done' };`);
  const ok = r.known ? r.ok
    : Boolean(st.log.last_success_at && st.log.last_success_at !== before.log.last_success_at);
  if (!ok) {
    const { shown } = r;
    const err = new Error(`app-driver: the sync failed: ${shown} (last error: ${st.log.last_error})`);
    err.shown = shown;
    err.status = st;
    throw err;
  }
  return st;
}

/**
 * Pulls the assignments (a sync: the app has one sync that sends and fetches) and opens the
 * assignment list. Resolves { assignments: [ids shown on the list], status }.
 */
/** @param {AppHandle} app @returns {Promise<{assignments: string[], status: SyncStatus}>} */
export async function pull(app) {
  const status = await sync(app);
  await openAssignments(app);
  const assignments = await js(app, "return [...document.querySelectorAll('[data-assignment]')].map((e) => e.dataset.assignment);");
  return { assignments, status };
}

async function openAssignments(app) {
  await clickUntil(app, '[data-nav="assignments"]', VISIBLE.replace('arguments[0]', "'#screen-assignments'"), 'the assignment list');
  await waitFor(app, "document.getElementById('assignments-list')", 'the assignment list');
}

// The current step of the form, or 'review' once the review screen shows.
const STEP_NOW = `(() => {
  if (!document.getElementById('screen-review').hidden) return 'review';
  if (document.getElementById('screen-form').hidden) return null;
  const s = document.querySelector('#step-container [data-step]');
  return s ? s.dataset.step : null;
})()`;

// Visible required items of the current step still without an answer, with what the page
// knows about them (type, bounds, choices).
const OPEN_REQUIRED = `return [...document.querySelectorAll('#step-container [data-item]')]
  .filter((w) => !w.hidden && w.querySelector('.q-label .req'))
  .map((w) => {
    const code = w.dataset.item;
    const type = w.dataset.type;
    const input = w.querySelector('#' + CSS.escape('q-' + code));
    let answered;
    if (type === 'rating') answered = !!w.querySelector('[aria-checked="true"]');
    else if (type === 'single_choice' || type === 'multi_choice') answered = !!w.querySelector('input:checked');
    else answered = !!input && input.value.trim() !== '';
    const options = [...w.querySelectorAll('label.choice')].map((l) => ({
      id: l.htmlFor, value: l.querySelector('input') && l.querySelector('input').value,
      exclusive: l.classList.contains('exclusive'),
    }));
    const points = [...w.querySelectorAll('button[data-value]')].map((b) => ({ value: b.dataset.value, na: b.classList.contains('na') }));
    return { code, type, answered, min: input && input.dataset.min, max: input && input.dataset.max, options, points };
  })
  .filter((i) => !i.answered);`;

async function answerItem(app, item, { rating }) {
  const { code, type } = item;
  switch (type) {
    case 'integer': {
      const lo = item.min !== undefined && item.min !== null ? Number(item.min) : -Infinity;
      const hi = item.max !== undefined && item.max !== null ? Number(item.max) : Infinity;
      await typeInto(app, `q-${code}`, String(Math.max(lo, Math.min(hi, 45))), { leave: true });
      break;
    }
    case 'text':
      await typeInto(app, `q-${code}`, 'Cấp giấy khai sinh', { leave: true });
      break;
    case 'date':
      await setInput(app, `q-${code}`, '2026-11-02');
      break;
    case 'single_choice':
    case 'multi_choice': {
      // The first ordinary option (not "Khác", not an exclusive "Không có").
      const o = item.options.find((x) => !x.exclusive && x.value !== 'khac') || item.options[0];
      if (!o) throw new Error(`app-driver: ${code} shows no options`);
      await clickUntil(app, `label[for="${o.id}"]`, `document.getElementById(${JSON.stringify(o.id)}).checked`, `${code} = ${o.value}`);
      break;
    }
    case 'rating': {
      const want = item.points.find((p) => String(p.value) === String(rating)) || item.points.find((p) => !p.na);
      if (!want) throw new Error(`app-driver: ${code} shows no rating buttons`);
      const sel = `[data-item="${code}"] button[data-value="${want.value}"]`;
      await clickUntil(app, sel, `document.querySelector(${JSON.stringify(sel)}).getAttribute('aria-checked') === 'true'`, `${code} = ${want.value}`, { settle: 100 });
      break;
    }
    default:
      throw new Error(`app-driver: cannot answer ${code} of type ${type}`);
  }
}

async function waitSaved(app, step) {
  await waitFor(app, "['saved', 'idle', 'invalid', 'error'].includes(document.getElementById('save-state').dataset.state)",
    `the answers of step ${step} to be saved`);
  const state = await js(app, "return document.getElementById('save-state').dataset.state;");
  if (state === 'invalid' || state === 'error') {
    throw new Error(`app-driver: step ${step} not saved (${state}); the page shows:\n${await pageText(app)}`);
  }
}

/**
 * Opens the first assignment on the list that can be interviewed, answers every required
 * item of every step the form shows (the six-group form: age 45, a procedure name, the first
 * ordinary option of each choice — B8 "có", so group G5 is asked as well — and `rating`
 * (default 4) for every criterion), reviews without issues and submits. Resolves
 * { assignmentId, answered: [item codes], steps: [group codes] } once the "submitted" screen
 * shows; the response then waits in the outbox for sync().
 */
/**
 * @param {AppHandle} app
 * @param {{rating?: number}} [options]
 * @returns {Promise<{assignmentId: string, answered: string[], steps: string[]}>}
 */
export async function fillAndSubmitFirstAssignment(app, { rating = 4 } = {}) {
  await openAssignments(app);
  const startSel = '[data-assignment]:not([data-withdrawn]) [data-action="start"]';
  await visible(app, startSel);
  const assignmentId = await js(app, 'return document.querySelector(arguments[0]).closest("[data-assignment]").dataset.assignment;', startSel);
  const start = `[data-assignment="${assignmentId}"] [data-action="start"]`;
  // Repeated only if the click was lost (the button is not busy and no form opened).
  await clickUntil(app, start, `!document.getElementById('screen-form').hidden
      || (document.querySelector(${JSON.stringify(start)}) || {}).disabled`, 'the interview to open', { settle: 1500 });
  await waitFor(app, `${STEP_NOW} !== null`, 'the first step of the form');
  const answered = [];
  const steps = [];
  for (let guard = 0; guard < 40; guard += 1) {
    const step = await js(app, `return ${STEP_NOW};`);
    if (step === 'review') break;
    steps.push(step);
    for (let pass = 0; pass < 5; pass += 1) {
      const open = await js(app, OPEN_REQUIRED);
      if (!open.length) break;
      for (const item of open) {
        await answerItem(app, item, { rating });
        answered.push(item.code);
      }
    }
    const left = await js(app, OPEN_REQUIRED);
    if (left.length) throw new Error(`app-driver: step ${step}: required items still open: ${left.map((i) => i.code).join(', ')}`);
    await waitSaved(app, step);
    // Next step (synchronous) or, from the last one, the review (after the saves): a lost
    // click leaves the step unchanged, and is repeated.
    await clickUntil(app, '#next', `${STEP_NOW} !== ${JSON.stringify(step)}`, `the step after ${step}`, { settle: 2000 });
  }
  await visible(app, '#screen-review');
  await waitFor(app, "document.getElementById('review-summary').dataset.issues !== undefined", 'the review');
  const issues = await js(app, "return document.getElementById('review-summary').dataset.issues;");
  if (issues !== '0') {
    throw new Error(`app-driver: the review lists ${issues} issue(s); the page shows:\n${await pageText(app)}`);
  }
  // The button is disabled as soon as the page has the click: only a click that never
  // reached the page is repeated.
  await clickUntil(app, '#submit', "document.getElementById('submit').disabled || !document.getElementById('screen-done').hidden",
    'the submission to start', { settle: 1000 });
  await waitFor(app, "!document.getElementById('screen-done').hidden || document.getElementById('submit-status').textContent !== ''"
    + " && !document.getElementById('submit').disabled", 'the submission', { timeout: 2 * WAIT_MS });
  await visible(app, '#screen-done');
  return { assignmentId, answered, steps };
}

/**
 * Saves a PNG of the window to `file` after two animation frames, so WebKitGTK has painted
 * the current DOM (a screenshot taken right after a change can show an older paint).
 */
/** @param {AppHandle} app @param {string} file @returns {Promise<string>} */
export async function screenshot(app, file) {
  await jsAsync(app, 'const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(null)));');
  const b64 = await wd(app, 'GET', `${sess(app)}/screenshot`);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, Buffer.from(b64, 'base64'));
  return file;
}
