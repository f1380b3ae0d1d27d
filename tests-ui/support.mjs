// Shared helpers of the dashboard's browser tests (`node --test tests-ui/`).
//
// * startServer(): runs the real `target/debug/sipas-server --demo` (under `$CARGO_TARGET_DIR`
//   when that is set; `$SIPAS_SERVER_BIN` overrides) on a free loopback port with a fresh
//   SQLite file and reads the demo round, passwords and enrolment code it prints.
//   Like crates/testkit/src/server.rs it runs the server at RUST_LOG=debug (unless RUST_LOG says
//   otherwise) and writes its stderr and stdout to `$SIPAS_ARTIFACTS/logs/server-dashboard-
//   <pid>.log`, kept after the test for `scripts/check-logs.sh`. Only the demo banner's
//   credentials (printed on purpose, for the operator) are masked there.
// * canonicalJson() / canonicalResponse() / contentHash(): the canonical form of API.md
//   ("Canonical form and content hash"), as a JavaScript client computes it.
// * api(): plain HTTP calls (for set-up and for checking what the dashboard did).
// * seedResponses(): enrols the demo surveyor's device, pulls its assignments and uploads one
//   valid sipas-6-groups@2026.1 response per assignment, built from schemas/.
// * launchBrowser(): Debian's headless Chromium through playwright-core, fresh profile.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_BIN = process.env.SIPAS_SERVER_BIN
  || path.join(process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target'), 'debug', 'sipas-server');
export const CHROMIUM = process.env.SIPAS_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.resolve(ROOT, process.env.SIPAS_ARTIFACTS || 'artifacts');
export const LOG_DIR = path.join(ARTIFACTS, 'logs');
export const FORM = JSON.parse(fs.readFileSync(path.join(ROOT, 'schemas', 'sipas-6-groups', '2026.1.json'), 'utf8'));

const START_TIMEOUT_MS = 30_000;

/**
 * Starts the server with `--demo` and resolves once it listens. Returns
 * { url, roundId, passwords: {role: pw}, enrolmentCode, dir, stop({ keepData }), output() }.
 * `dir` and `listen` start it again on the data and address of an earlier run stopped with
 * `stop({ keepData: true })` (a server going away and coming back).
 */
export async function startServer({ dir: reuseDir, listen = '127.0.0.1:0' } = {}) {
  if (!fs.existsSync(SERVER_BIN)) {
    throw new Error(`${SERVER_BIN} is missing: run \`cargo build -p sipas-server\` first`);
  }
  const dir = reuseDir || fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-ui-'));
  const proc = spawn(SERVER_BIN, ['--demo', '--database', path.join(dir, 's.db'), '--listen', listen], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The demo round is small: the report tests look at cells below the default floor of 10.
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG || 'debug', SIPAS_MIN_N_FLOOR: '1' },
  });
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logPath = path.join(LOG_DIR, `server-dashboard-${proc.pid}.log`);
  const log = fs.createWriteStream(logPath);
  const stderr = [];
  proc.stderr.on('data', (d) => {
    log.write(d);
    stderr.push(d.toString()); if (stderr.length > 200) stderr.shift();
  });
  const logClosed = new Promise((resolve) => proc.on('close', () => log.end(resolve)));
  const info = { passwords: {}, enrolmentCode: null, roundId: null, url: null };
  let exited = false;
  const exitPromise = new Promise((resolve) => proc.on('exit', (code, signal) => { exited = true; resolve({ code, signal }); }));
  const killOnExit = () => { if (!exited) proc.kill('SIGKILL'); };
  process.on('exit', killOnExit);

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time; stderr:\n${stderr.join('')}`)), START_TIMEOUT_MS);
    const rl = readline.createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      log.write(`${maskBanner(line)}\n`);
      let m;
      if ((m = /^demo round: (\S+)$/.exec(line))) info.roundId = m[1];
      else if ((m = /^demo user: (\S+) \((\w+)\) password: (\S+)$/.exec(line))) info.passwords[m[1]] = m[3];
      else if ((m = /^demo enrolment code for '[^']+': (\S+) /.exec(line))) info.enrolmentCode = m[1];
      else if ((m = /^sipas-server listening on (http:\/\/\S+)$/.exec(line))) {
        info.url = m[1];
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (${code}); stderr:\n${stderr.join('')}`));
    });
  });

  return {
    ...info,
    dir,
    logPath,
    output: () => stderr.join(''),
    async stop({ keepData = false } = {}) {
      if (!exited) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(timer);
      }
      await logClosed;
      process.removeListener('exit', killOnExit);
      if (!keepData) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The `--demo` banner prints the demo passwords and enrolment code on stdout for the operator;
 * the log file gets those lines with the secrets masked (everything else as printed).
 */
function maskBanner(line) {
  return line
    .replace(/^(demo user: \S+ \(\w+\) password: )\S+$/, '$1[masked by tests-ui/support.mjs]')
    .replace(/^(demo enrolment code for '[^']+': )\S+/, '$1[masked by tests-ui/support.mjs]')
    .replace(/^(demo enrolment payload for '[^']+': )\S+/, '$1[masked by tests-ui/support.mjs]');
}

/** An HTTP call; resolves { status, headers, json, text, bytes }. */
export async function api(server, method, p, { token, body, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) { h['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(`${server.url}/api/v1${p}`, { method, headers: h, body: payload });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, json, text, bytes };
}

/** Like api(), but throws unless the status is 2xx; returns the JSON. */
export async function apiOk(server, method, p, opts) {
  const r = await api(server, method, p, opts);
  if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${p} → ${r.status}: ${r.text}`);
  return r.json;
}

export async function login(server, username, password = server.passwords[username]) {
  return (await apiOk(server, 'POST', '/login', { body: { username, password } })).token;
}

// ---------- building valid responses ----------

/** A UUIDv7 (time-ordered), as the app makes them. */
export function uuidv7() {
  const b = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i += 1) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function holds(cond, answers) {
  if (!cond) return true;
  if ('all' in cond) return cond.all.every((c) => holds(c, answers));
  if ('any' in cond) return cond.any.some((c) => holds(c, answers));
  if ('not' in cond) return !holds(cond.not, answers);
  const a = answers[cond.item];
  const match = (v) => (Array.isArray(a) ? a.includes(v) : a === v);
  if ('equals' in cond) return a !== undefined && match(cond.equals);
  if ('in' in cond) return a !== undefined && cond.in.some(match);
  return false;
}

/**
 * Answers to every relevant item of the 6-group form. `rating(code, i)` gives each criterion's
 * value; `overrides` replaces single answers (before relevance is worked out).
 */
export function buildAnswers({ rating = () => 4, overrides = {} } = {}) {
  const answers = {};
  for (const g of FORM.groups) {
    if (!holds(g.relevant, answers)) continue;
    g.items.forEach((item, i) => {
      if (!holds(item.relevant, answers)) return;
      if (item.code in overrides) {
        if (overrides[item.code] !== undefined) answers[item.code] = overrides[item.code];
        return;
      }
      switch (item.type) {
        case 'rating': answers[item.code] = rating(item.code, i); break;
        case 'single_choice': answers[item.code] = item.options.find((o) => !o.other).value; break;
        case 'multi_choice': answers[item.code] = [item.options[0].value]; break;
        case 'integer': answers[item.code] = Math.max(item.min ?? 0, Math.min(item.max ?? 100, 35)); break;
        case 'date': answers[item.code] = '2026-10-01'; break;
        default: if (item.required) answers[item.code] = `Thủ tục mẫu ${item.code}`;
      }
    });
  }
  return answers;
}

/**
 * RFC 8785 (JCS) text of a JSON value: `JSON.stringify` already writes numbers and strings as
 * JCS does; what it adds is the members of every object sorted by their UTF-16 code units
 * (JavaScript's default string order) and no whitespace.
 */
export function canonicalJson(v) {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A timestamp (millisecond precision or less) in canonical form: UTC, `Z`, no `.000`. */
export function canonicalTimestamp(t) {
  return new Date(t).toISOString().replace(/\.000Z$/, 'Z');
}

/** A response with every field of the model present and canonical timestamps (API.md). */
export function canonicalResponse(r) {
  return {
    id: r.id,
    revision: r.revision,
    form: { form_id: r.form.form_id, version: r.form.version },
    assignment_id: r.assignment_id ?? null,
    round_id: r.round_id,
    unit_code: r.unit_code,
    answers: r.answers,
    started_at: canonicalTimestamp(r.started_at),
    completed_at: canonicalTimestamp(r.completed_at),
    paradata: { item_ms: r.paradata?.item_ms ?? {}, gps: r.paradata?.gps ?? null },
  };
}

/** The content hash of a response: SHA-256 (hex) of its canonical bytes. */
export function contentHash(response) {
  return createHash('sha256').update(canonicalJson(canonicalResponse(response)), 'utf8').digest('hex');
}

/**
 * An upload record for `assignment`. The response is written the way a browser client would
 * (times from `toISOString()`, keys in any order); the hash follows API.md's canonical form.
 */
export function buildRecord(assignment, answers, { seconds = 900, revision = 1, id = uuidv7() } = {}) {
  const completed = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const started = new Date(completed.getTime() - seconds * 1000);
  const codes = Object.keys(answers);
  const perItem = Math.floor((seconds * 1000) / Math.max(1, codes.length));
  const response = {
    id,
    revision,
    form: { form_id: assignment.form.form_id, version: assignment.form.version },
    assignment_id: assignment.id,
    round_id: assignment.round_id,
    unit_code: assignment.unit_code,
    answers,
    started_at: started.toISOString(),
    completed_at: completed.toISOString(),
    paradata: { item_ms: Object.fromEntries(codes.map((c) => [c, perItem])) },
  };
  return { response, content_hash: contentHash(response) };
}

/**
 * Enrols a device with the demo code, pulls, and uploads one response per assignment.
 * `plan(assignment, index)` returns { answers, seconds } (default: a normal interview), or
 * { status: 'refused' } to record a non-response instead.
 * Returns { deviceToken, assignments, records }.
 */
export async function seedResponses(server, plan = () => ({})) {
  const enrol = await apiOk(server, 'POST', '/enrol', { body: { code: server.enrolmentCode, device_name: 'Máy tính bảng thử nghiệm' } });
  const deviceToken = enrol.token;
  const pull = await apiOk(server, 'GET', '/pull?cursor=0', { token: deviceToken });
  const assignments = [...pull.assignments].sort((a, b) => (a.unit_code + a.id).localeCompare(b.unit_code + b.id));
  const records = [];
  for (const [i, a] of assignments.entries()) {
    const p = plan(a, i);
    if (p && p.status) {
      // A non-response outcome (refused, absent, …) instead of an interview.
      await apiOk(server, 'POST', `/assignments/${a.id}/status`, { token: deviceToken, body: { status: p.status } });
      continue;
    }
    records.push(buildRecord(a, (p && p.answers) || buildAnswers(), { seconds: (p && p.seconds) ?? 900 }));
  }
  const result = await apiOk(server, 'POST', '/responses/batch', { token: deviceToken, body: { records } });
  const bad = result.acks.filter((a) => a.status !== 'accepted');
  if (bad.length) throw new Error(`upload not accepted: ${JSON.stringify(bad)}`);
  return { deviceToken, assignments, records };
}

// ---------- browser ----------

/** Debian's Chromium, headless, with a fresh profile; resolves { context, page, close }. */
export async function launchBrowser({ viewport = { width: 1280, height: 900 } } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sipas-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    locale: 'vi-VN',
    timezoneId: 'Asia/Ho_Chi_Minh',
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the login page and waits until the user's home page shows. */
export async function uiLogin(page, server, username, password = server.passwords[username]) {
  await page.goto(`${server.url}/`);
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('logout').waitFor({ state: 'visible' });
}

/** Saves a screenshot of a failing page into the artifacts folder (best effort). */
export async function saveFailure(page, name) {
  try {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-failure-${name}.png`), fullPage: true });
  } catch { /* ignore */ }
}
