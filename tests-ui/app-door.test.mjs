// The app at the door (issue 13), on the REAL SIPAS Field window (WebKitGTK over WebDriver,
// app-driver.mjs) against the real server (`sipas-server --demo`, support.mjs), at 1280×800
// and 400×850:
// * enrolment by pasting the one-line payload the server issues (`sipas-enrol:1:…`); a wrong
//   code and a bare code are refused in plain words, in Vietnamese and in English, with no
//   problem number and nothing of the other language;
// * the header badge through online → offline (the server is stopped) → online (started again
//   on the same address and data), with the number of records waiting and the last success
//   time (dd/mm/yyyy HH:MM); the offline error in plain words in both languages; stale
//   messages cleared once the state changed;
// * compact assignment cards: at least three per 850 px screen at 400×850, the header folded
//   into a menu button;
// * the language / leak scan: on every screen, in both languages, the visible text holds no
//   string of the other language's catalogue (ui/i18n.js) and no `os error`, `http`,
//   `error sending` or `NNN.N` problem code;
// * a hand-over file lands in the hand-over folder under a human name.
// Screenshots of the app for the README go to docs/screenshots/app-door-*.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  enrol, invoke, js, screenshot, setInput, setWindowSize, startApp, stopApp, syncStatus, visible, waitFor,
} from './app-driver.mjs';
import { ARTIFACTS, ROOT, apiOk, login, startServer } from './support.mjs';

const ROUND = '2026-APP-DOOR';
const UNIT = '95001';
const SHOTS = path.join(ROOT, 'docs', 'screenshots');
const day = (offset) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const b64url = (s) => Buffer.from(s, 'utf8').toString('base64url');
const RESPONDENTS = ['Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Phạm Thị Dung', 'Hoàng Văn Em'];
const PROCEDURES = ['Cấp căn cước', 'Cấp giấy khai sinh', 'Đăng ký kết hôn', 'Cấp giấy phép xây dựng', 'Chứng thực bản sao'];

let server;
let sup;
let surveyor;
const apps = [];

before(async () => {
  server = await startServer();
  const admin = await login(server, 'admin');
  sup = await login(server, 'supervisor');
  surveyor = await apiOk(server, 'POST', '/users', {
    token: admin,
    body: { username: 'dtv-cua', display_name: 'Nguyễn Thị Cửa', role: 'surveyor', scope: { units: [UNIT], agencies: [] } },
  });
  await apiOk(server, 'POST', '/rounds', {
    token: sup,
    body: {
      id: ROUND, name: 'Đợt khảo sát tại nhà', form: { form_id: 'sipas-6-groups', version: '2026.1' },
      starts_on: day(-30), ends_on: day(60), units: [UNIT],
    },
  });
  const rows = RESPONDENTS.map((name, i) => `${UNIT},${PROCEDURES[i]},UBND phường Ba Đình,${name},Số ${i + 1} phố Hàng Bạc,09123450${10 + i}`);
  const res = await fetch(`${server.url}/api/v1/rounds/${ROUND}/sample`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${sup}`, 'Content-Type': 'text/csv' },
    body: `unit_code,procedure,agency,name,address,phone\n${rows.join('\n')}\n`,
  });
  const imported = await res.json();
  assert.equal(res.status, 201, JSON.stringify(imported));
  await apiOk(server, 'POST', `/rounds/${ROUND}/assign`, {
    token: sup, body: { assignment_ids: imported.assignment_ids, surveyor_id: surveyor.id },
  });
});

after(async () => {
  for (const app of apps) await stopApp(app);
  await server?.stop();
});

async function withApp(name, fn, env = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `sipas-door-${name}-`));
  let app;
  try {
    app = await startApp({ dataDir, env: { SIPAS_HANDOVER_DIR: path.join(dataDir, 'ban-giao'), ...env } });
    apps.push(app);
    await fn(app);
  } catch (e) {
    if (app) await screenshot(app, path.join(ARTIFACTS, `app-door-failure-${name}.png`)).catch(() => {});
    throw e;
  } finally {
    await stopApp(app);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The enrolment payload the server issues for a fresh code. */
async function issuedPayload() {
  const c = await apiOk(server, 'POST', '/enrolment-codes', { token: sup, body: { user_id: surveyor.id, valid_minutes: 60 } });
  assert.ok(c.payload && c.payload.startsWith('sipas-enrol:1:'), JSON.stringify(c));
  assert.ok(c.qr_svg.includes('<svg'), 'the QR code comes with it');
  const inner = JSON.parse(Buffer.from(c.payload.slice('sipas-enrol:1:'.length), 'base64url').toString('utf8'));
  assert.deepEqual(inner, { server: server.url, code: c.code });
  return c.payload;
}

async function setLang(app, lang) {
  await js(app, `if ((localStorage.getItem('sipas.lang') === 'en' ? 'en' : 'vi') !== arguments[0])
    document.getElementById('lang-toggle').click(); return true;`, lang);
  await waitFor(app, 'document.documentElement.lang === arguments[0]', `the UI in ${lang}`, { args: [lang] });
}

/** Goes to a screen through its navigation button (the menu's, on a narrow window). */
async function go(app, name) {
  await js(app, "document.querySelector(`[data-nav='${arguments[0]}']`).click(); return true;", name);
  await waitFor(app, "!document.getElementById('screen-' + arguments[0]).hidden", `the ${name} screen`, { args: [name] });
}

/**
 * The leak scan: what is visible holds nothing of the other language's catalogue and nothing
 * technical. Returns the visible text.
 */
async function scan(app, where) {
  const r = await js(app, `const I = window.SIPAS_I18N; const lang = document.documentElement.lang;
    const own = I[lang]; const other = I[lang === 'vi' ? 'en' : 'vi'];
    const ownTexts = Object.values(own).filter((v) => typeof v === 'string');
    const text = document.body.innerText;
    // The visible text nodes: a short catalogue string counts when it is a whole text (a
    // label, a button), a long one anywhere (data such as a round named "Đợt khảo sát …" or
    // the procedure "Đăng ký kết hôn" is not a leak).
    const nodes = [];
    const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const t = n.textContent.trim();
      if (t && n.parentElement && n.parentElement.getClientRects().length) nodes.push(t);
    }
    const leaks = Object.entries(other).filter(([k, v]) => typeof v === 'string' && v.length >= 4
      && v !== own[k] && !ownTexts.some((o) => o.includes(v))
      && (v.length >= 16 ? text.includes(v) : nodes.includes(v))).map(([k, v]) => k + ' = ' + v);
    return { text, leaks, lang };`);
  assert.deepEqual(r.leaks, [], `${where} (${r.lang}): other-language strings on screen`);
  for (const bad of [/os error/i, /http/i, /error sending/i, /\b\d{3}\.\d+\b/, /[0-9a-f]{8}-[0-9a-f]{4}-/i]) {
    assert.ok(!bad.test(r.text), `${where} (${r.lang}): ${bad} in the visible text:\n${r.text}`);
  }
  return r.text;
}

async function badge(app) {
  return js(app, `const b = document.getElementById('net-badge');
    return { hidden: b.hidden, state: b.dataset.state, waiting: Number(b.dataset.waiting || 0), text: b.innerText };`);
}

test('a wrong enrolment code and a bare code are refused in plain words, in Vietnamese and in English', async () => {
  await withApp('wrong', async (app) => {
    await setWindowSize(app, 1280, 800);
    assert.equal((await badge(app)).hidden, true, 'no badge before enrolment');
    await go(app, 'sync');
    assert.equal(await js(app, "return document.getElementById('sync-now').offsetParent === null;"), true,
      'no sync action before enrolment');
    await scan(app, 'Sync, not enrolled');
    const wrong = `sipas-enrol:1:${b64url(JSON.stringify({ server: server.url, code: 'ZZZZ2222ZZ' }))}`;
    const tryEnrol = async (payload) => {
      const err = await enrol(app, { payload }).then(() => null, (e) => e);
      assert.ok(err && err.shown, 'the app refuses');
      return err.shown;
    };
    const vi = await tryEnrol(wrong);
    assert.match(vi, /Mã đăng ký không đúng, đã dùng rồi hoặc đã hết hạn\. Hãy xin giám sát viên một mã đăng ký mới/);
    assert.ok(!/401|ZZZZ2222ZZ|enrolment code is wrong/i.test(vi), vi);
    assert.equal(await js(app, "return document.getElementById('enrol-result').classList.contains('error');"), true,
      'the refusal is shown as an error');
    await scan(app, 'Enrol, wrong code');
    await screenshot(app, path.join(SHOTS, 'app-door-enrol-wrong-code.png'));
    const bare = await tryEnrol('ABCD2345EF');
    assert.match(bare, /không phải mã đăng ký đầy đủ/);

    await setLang(app, 'en');
    const en = await tryEnrol(wrong);
    assert.match(en, /The enrolment code is wrong, already used or expired\. Ask your supervisor for a new enrolment code/);
    assert.ok(!/401|Mã|đăng ký/.test(en), en);
    await scan(app, 'Enrol, wrong code');
    const st = await syncStatus(app);
    assert.equal(st.enrolled, false);
    assert.ok(!app.appLogText().includes('ZZZZ2222ZZ'), 'the code is not in the app log');
    assert.match(app.appLogText(), /enrolment failed: server problem 401\.2/, 'the detail goes to the app log');
  });
});

test('enrol by pasting the payload; badge online → offline → online; plain offline errors; compact cards; the scan of every screen', async () => {
  const payload = await issuedPayload();
  await withApp('door', async (app) => {
    await setWindowSize(app, 1280, 800);
    await go(app, 'sync');
    await screenshot(app, path.join(SHOTS, 'app-door-not-enrolled.png'));
    await go(app, 'sync');
    await js(app, "document.getElementById('open-enrol').click(); return true;");
    await visible(app, '#screen-enrol');
    await setInput(app, 'enrol-payload', payload);
    await screenshot(app, path.join(SHOTS, 'app-door-enrol-paste.png'));
    const enrolled = await enrol(app, { payload, deviceName: 'Máy tính bảng tại nhà' });
    assert.equal(enrolled.enrolled, true);
    assert.equal(enrolled.server_url, server.url);
    await scan(app, 'Sync after enrolment');

    // The first sync pulls the five assignments: online, nothing waiting, a last success time.
    const first = await invoke(app, 'sync_now');
    assert.equal(first.waiting, 0);
    await waitFor(app, "document.getElementById('net-badge').dataset.state === 'online' && !document.getElementById('net-last').hidden",
      'the badge online with the last success time');
    let b = await badge(app);
    assert.equal(b.hidden, false);
    assert.match(b.text, /Có mạng/);
    assert.match(b.text, /Gửi xong lúc \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}/, b.text);

    // Lists show names, not ids or codes.
    await go(app, 'assignments');
    await waitFor(app, "document.querySelectorAll('#assignments-list .card').length === 5", 'five assignment cards');
    await scan(app, 'Assignments');
    await screenshot(app, path.join(SHOTS, 'app-door-assignments-1280.png'));

    // A field outcome recorded offline is one record waiting.
    const ids = await js(app, "return [...document.querySelectorAll('#assignments-list .card')].map((c) => c.dataset.assignment);");
    await server.stop({ keepData: true });
    await invoke(app, 'set_assignment_status', { assignment_id: ids[0], status: 'absent', note: '' });
    await go(app, 'sync');
    await js(app, "document.getElementById('sync-now').click(); return true;");
    await waitFor(app, "document.getElementById('sync-result').dataset.kind === 'error'", 'the offline error');
    const offlineVi = await js(app, "return document.getElementById('sync-result').textContent;");
    assert.equal(offlineVi, 'Không kết nối được máy chủ. Phiếu đã lưu trên máy, sẽ gửi khi có mạng.');
    await waitFor(app, "document.getElementById('net-badge').dataset.state === 'offline'", 'the badge offline');
    b = await badge(app);
    assert.equal(b.waiting, 1);
    assert.match(b.text, /Mất mạng/);
    assert.match(b.text, /1 phiếu chờ gửi/);
    const last = await js(app, "return document.getElementById('sync-last-error').textContent;");
    assert.match(last, /Không kết nối được máy chủ/);
    await scan(app, 'Sync offline');
    await screenshot(app, path.join(SHOTS, 'app-sync-offline.png'));
    await setLang(app, 'en');
    await waitFor(app, "/Cannot reach the server/.test(document.getElementById('sync-last-error').textContent)", 'the English error');
    await js(app, "document.getElementById('sync-now').click(); return true;");
    await waitFor(app, "document.getElementById('sync-result').dataset.kind === 'error' && /Cannot reach/.test(document.getElementById('sync-result').textContent)", 'the English offline error');
    const offlineEn = await js(app, "return document.getElementById('sync-result').textContent;");
    assert.equal(offlineEn, 'Cannot reach the server. Your forms are saved on this device and will be sent when there is a connection.');
    await waitFor(app, "document.getElementById('net-badge').dataset.state === 'offline'", 'the badge offline');
    assert.match((await badge(app)).text, /Offline/);
    await scan(app, 'Sync offline');
    await screenshot(app, path.join(SHOTS, 'app-door-sync-offline-en.png'));
    await setLang(app, 'vi');

    // The server comes back on the same address: the automatic sync sends the outcome, the
    // badge is online with nothing waiting, and the old error is gone everywhere.
    server = await startServer({ dir: server.dir, listen: new URL(server.url).host });
    await waitFor(app, `document.getElementById('net-badge').dataset.state === 'online'
      && document.getElementById('net-badge').dataset.waiting === '0'`, 'the badge online again', { timeout: 60_000 });
    await waitFor(app, "document.getElementById('sync-last-error').dataset.problem === ''", 'the stale error cleared');
    assert.equal(await js(app, "return document.getElementById('sync-result').textContent;"), '', 'the offline message is gone');
    b = await badge(app);
    assert.doesNotMatch(b.text, /chờ gửi/);
    await scan(app, 'Sync online again');
    await screenshot(app, path.join(SHOTS, 'app-door-sync-online.png'));

    // "Đồng bộ xong" does not stay while the server is gone and a record waits.
    await js(app, "document.getElementById('sync-now').click(); return true;");
    await waitFor(app, "document.getElementById('sync-result').dataset.kind === 'done'", 'a successful sync');
    await server.stop({ keepData: true });
    await invoke(app, 'set_assignment_status', { assignment_id: ids[1], status: 'refused', note: '' });
    await waitFor(app, "document.getElementById('net-badge').dataset.state === 'offline'", 'the automatic sync failing', { timeout: 30_000 });
    await waitFor(app, "document.getElementById('sync-result').textContent === ''", 'the success message cleared');
    server = await startServer({ dir: server.dir, listen: new URL(server.url).host });
    await waitFor(app, "document.getElementById('net-badge').dataset.waiting === '0'", 'sent again', { timeout: 60_000 });

    // Hand-over file: in the hand-over folder, under a human name.
    await js(app, "document.getElementById('handover-export').click(); return true;");
    await waitFor(app, "/ban-giao|Không có phiếu/.test(document.getElementById('handover-export-result').textContent)", 'the export');
    const where = await js(app, "return document.getElementById('handover-where').textContent;");
    assert.equal(where, path.join(app.dataDir, 'ban-giao'));

    // Every screen, both languages, at 1280×800 and at 400×850.
    for (const size of [[1280, 800], [400, 850]]) {
      await setWindowSize(app, ...size);
      for (const lang of ['vi', 'en']) {
        await setLang(app, lang);
        for (const screen of ['assignments', 'responses', 'sync', 'monitor']) {
          await go(app, screen);
          await scan(app, `${screen} at ${size.join('×')}`);
        }
        await go(app, 'sync');
        await js(app, "document.getElementById('open-enrol').click(); return true;");
        await visible(app, '#screen-enrol');
        await scan(app, `enrol at ${size.join('×')}`);
        await js(app, "document.getElementById('open-pin').click(); return true;");
        await visible(app, '#screen-pin');
        await scan(app, `PIN at ${size.join('×')}`);
      }
    }
    await setLang(app, 'vi');

    // 400×850: the header folds into a menu button; at least three assignment cards a screen.
    await setWindowSize(app, 400, 850);
    await go(app, 'assignments');
    await waitFor(app, "document.querySelectorAll('#assignments-list .card').length >= 3", 'the open assignments');
    const layout = await js(app, `const nav = document.querySelector('.main-nav');
      const menu = document.getElementById('menu-btn');
      const cards = [...document.querySelectorAll('#assignments-list .card')].map((c) => c.getBoundingClientRect().height);
      const gap = parseFloat(getComputedStyle(document.getElementById('assignments-list')).rowGap) || 0;
      return { navShown: nav.offsetParent !== null, menuShown: menu.offsetParent !== null, cards, gap,
        header: document.querySelector('header.bar').getBoundingClientRect().height };`);
    assert.equal(layout.menuShown, true, 'menu button at 400 px');
    assert.equal(layout.navShown, false, 'navigation folded into the menu');
    const tallest = Math.max(...layout.cards);
    const perScreen = Math.floor((850 - layout.header) / (tallest + layout.gap));
    console.log(`app-door: cards ${layout.cards.map(Math.round).join(', ')} px, header ${Math.round(layout.header)} px → ${perScreen} per 850 px screen`);
    assert.ok(perScreen >= 3, `only ${perScreen} cards per screen (tallest ${tallest} px)`);
    await js(app, `const top = document.getElementById('assignments-list').getBoundingClientRect().top + window.scrollY;
      window.scrollTo(0, top - document.querySelector('header.bar').getBoundingClientRect().height - 8); return true;`);
    await screenshot(app, path.join(SHOTS, 'app-door-assignments-400.png'));
    await js(app, "document.getElementById('menu-btn').click(); return true;");
    await waitFor(app, "document.querySelector('.main-nav').offsetParent !== null", 'the menu open');
    await js(app, 'window.scrollTo(0, 0); return true;');
    await screenshot(app, path.join(SHOTS, 'app-door-menu-400.png'));
    await js(app, "document.querySelector('[data-nav=\"responses\"]').click(); return true;");
    await waitFor(app, "!document.getElementById('screen-responses').hidden && document.querySelector('.main-nav').offsetParent === null", 'the menu closed after choosing');

    assert.ok(!app.appLogText().includes('Nguyễn Văn An'), 'no respondent in the app log');
    assert.ok(!app.appLogText().includes(payload), 'no payload in the app log');
  }, { SIPAS_AUTO_SYNC_SECS: '2' });
});
