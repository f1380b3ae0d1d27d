// The public self-completion page (issue 15): /s/{code} (a personal one-time link) and
// /o/{token} (an agency's open link). It draws the questionnaire with the Tauri-free runner
// (ui/form-runner.js, SIPAS_RUNNER), keeps the answers in this browser's local storage until
// the server acknowledges them (never any contact: the page has none), and resends the same
// response id until it gets a receipt; the server's ingest rules decide (a resend of the same
// answer gets the same receipt). No third-party resource, no inline script.
(function () {
  'use strict';

  const TEXTS = {
    vi: {
      title: 'Khảo sát sự hài lòng của người dân',
      other: 'English',
      loading: 'Đang tải phiếu khảo sát…',
      offlineLoad: 'Không tải được phiếu khảo sát. Vui lòng kiểm tra kết nối mạng và tải lại trang.',
      noticeTitle: 'Thông tin về dữ liệu cá nhân (Nghị định 13/2023/NĐ-CP)',
      notice: [
        'Phiếu chỉ thu câu trả lời của bạn về việc giải quyết thủ tục hành chính và vài thông tin chung (giới tính, độ tuổi, …). Không hỏi họ tên, địa chỉ hay số điện thoại.',
        'Mục đích: đo lường sự hài lòng của người dân với cơ quan hành chính nhà nước (chỉ số SIPAS). Kết quả chỉ công bố dưới dạng tổng hợp.',
        'Câu trả lời được lưu tạm trên điện thoại này cho đến khi gửi xong, sau đó được xoá khỏi điện thoại.',
        'Tham gia là tự nguyện; bạn có thể dừng bất cứ lúc nào.',
      ],
      used: 'Phiếu khảo sát này đã được trả lời. Mỗi đường dẫn chỉ dùng được một lần. Cảm ơn bạn!',
      screeningTitle: 'Trước khi bắt đầu',
      procedure: 'Bạn đã làm thủ tục gì?',
      choose: '— Chọn thủ tục —',
      visitDate: 'Ngày bạn đến làm thủ tục',
      start: 'Bắt đầu trả lời',
      needScreening: 'Vui lòng chọn thủ tục và ngày đến làm thủ tục.',
      futureDate: 'Ngày đến làm thủ tục không thể ở tương lai.',
      sending: 'Đang gửi câu trả lời…',
      pending: 'Chưa gửi được vì chưa có mạng. Câu trả lời vẫn được giữ trên điện thoại này và sẽ tự gửi khi có mạng.',
      retry: 'Gửi lại',
      thanks: 'Cảm ơn bạn! Câu trả lời đã được gửi.',
      receipt: 'Số biên nhận',
      again: 'Trả lời cho một lượt làm thủ tục khác',
      agency: 'Cơ quan',
      round: 'Đợt khảo sát',
    },
    en: {
      title: 'Citizen satisfaction survey',
      other: 'Tiếng Việt',
      loading: 'Loading the questionnaire…',
      offlineLoad: 'The questionnaire could not be loaded. Check the connection and reload the page.',
      noticeTitle: 'About personal data (Decree 13/2023/ND-CP)',
      notice: [
        'The questionnaire collects only your answers about how your administrative procedure was handled and a few general facts (sex, age, …). It never asks your name, address or phone number.',
        'Purpose: measuring citizens\u2019 satisfaction with public administration (the SIPAS index). Results are published only in aggregate.',
        'Your answers are kept on this phone until they are sent, then removed from it.',
        'Taking part is voluntary; you can stop at any time.',
      ],
      used: 'This questionnaire has already been answered. Each link can be used once. Thank you!',
      screeningTitle: 'Before you start',
      procedure: 'Which procedure did you do?',
      choose: '— Choose the procedure —',
      visitDate: 'Date of your visit',
      start: 'Start',
      needScreening: 'Choose the procedure and the date of your visit.',
      futureDate: 'The date of the visit cannot be in the future.',
      sending: 'Sending your answers…',
      pending: 'Not sent yet: no connection. Your answers are kept on this phone and will be sent when the connection is back.',
      retry: 'Send again',
      thanks: 'Thank you! Your answers have been sent.',
      receipt: 'Receipt number',
      again: 'Answer for another visit',
      agency: 'Agency',
      round: 'Survey round',
    },
  };

  const $ = (id) => document.getElementById(id);
  const m = location.pathname.match(/^\/(s|o)\/([A-Za-z0-9-]{1,64})\/?$/);
  const kind = m && m[1] === 'o' ? 'open' : 'personal';
  const ref = m ? m[2] : '';
  const base = m ? `/${m[1]}/${encodeURIComponent(ref)}` : '';
  const KEY = `sipas-self:${m ? m[1] : 'x'}:${ref}`;
  const DEVICE_KEY = `sipas-self-device:${ref}`;
  const LANG_KEY = 'sipas-self-lang';

  let lang = read(LANG_KEY) === 'en' ? 'en' : 'vi';
  let data = null; // the form answer of /form
  let run = null; // the runner
  let sending = false;
  let lastProblem = null; // {message_vi, message} shown in the status line

  const t = (k) => TEXTS[lang][k];

  function read(k) {
    try { return localStorage.getItem(k); } catch { return null; }
  }
  function write(k, v) {
    try { if (v === null) localStorage.removeItem(k); else localStorage.setItem(k, v); } catch { /* private mode: kept in memory only */ }
  }
  function loadState() {
    try { return JSON.parse(read(KEY) || 'null') || {}; } catch { return {}; }
  }
  let state = loadState();
  function save() { write(KEY, JSON.stringify(state)); }

  // A random UUID (v4) from crypto.getRandomValues (also on plain http, where randomUUID is missing).
  function uuid() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k === 'class') e.className = v;
      else if (k === 'testid') e.dataset.testid = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function status(text, cls) {
    const s = $('status');
    s.textContent = text || '';
    s.className = `status${cls ? ` ${cls}` : ''}`;
    s.hidden = !text;
  }
  const problemText = (p) => (p ? (lang === 'vi' ? p.message_vi : p.message) || p.message_vi || '' : '');

  function chrome() {
    document.documentElement.lang = lang;
    $('title').textContent = t('title');
    $('lang').textContent = t('other');
    const n = $('notice');
    n.replaceChildren(
      data ? el('p', { class: 'muted', testid: 'round-name' }, el('span', { text: `${t('round')}: ` }), el('span', { text: data.round_name })) : '',
      el('h2', { text: t('noticeTitle') }),
      el('ul', {}, ...t('notice').map((x) => el('li', { text: x }))),
    );
  }

  // --- sending -----------------------------------------------------------------------------

  async function send() {
    if (sending || !state.pending) return;
    sending = true;
    status(t('sending'));
    $('done').hidden = true;
    let res;
    try {
      res = await fetch(`${base}/response`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(state.pending),
        cache: 'no-store',
      });
    } catch {
      sending = false;
      showPending();
      return;
    }
    sending = false;
    let body = null;
    try { body = await res.json(); } catch { body = null; }
    if (res.ok && body && body.response_id) {
      // Acknowledged: nothing of the answers stays on the phone, only the receipt.
      state = { receipt: { response_id: body.response_id, receipt: body.receipt } };
      save();
      showDone();
      return;
    }
    if (res.status >= 500 || !body) {
      showPending();
      return;
    }
    // Refused for good (used link, limit, closed round): the message, nothing kept to resend
    // unless the answers themselves are wrong (then the respondent can fix them).
    lastProblem = body;
    const fixable = res.status === 400 && body.details && body.details.field === 'screening';
    if (!fixable && body.details && body.details.reason_code !== 'invalid_answers') {
      state = {};
      save();
      if (run) { run.destroy(); run = null; }
      $('screening').hidden = true;
    } else {
      state.pending = null;
      save();
    }
    status(problemText(body), 'error');
  }

  function showPending() {
    status('', '');
    const box = el('div', { class: 'pending', testid: 'pending', role: 'status' },
      el('p', { text: t('pending') }),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'action primary', testid: 'retry', text: t('retry') })));
    box.querySelector('button').addEventListener('click', send);
    $('status').hidden = true;
    const old = document.querySelector('[data-testid="pending"]');
    if (old) old.remove();
    // The answers are final once sent: the questionnaire is put away until the receipt.
    if (run) { run.destroy(); run = null; }
    $('main').insertBefore(box, $('notice'));
    box.scrollIntoView({ block: 'start' });
  }

  function showDone() {
    const old = document.querySelector('[data-testid="pending"]');
    if (old) old.remove();
    if (run) { run.destroy(); run = null; }
    $('screening').hidden = true;
    $('notice').hidden = true;
    status('', '');
    const d = $('done');
    const r = state.receipt || {};
    d.replaceChildren(
      el('p', { class: 'ok', text: t('thanks') }),
      el('p', {}, el('span', { text: `${t('receipt')}: ` }), el('span', { class: 'receipt', testid: 'receipt', text: r.receipt || '' })),
    );
    if (kind === 'open') {
      const again = el('button', { type: 'button', class: 'action', testid: 'again', text: t('again') });
      again.addEventListener('click', () => { state = {}; save(); d.hidden = true; start(); });
      d.append(el('div', { class: 'actions' }, again));
    }
    d.hidden = false;
    d.scrollIntoView({ block: 'start' });
  }

  // --- answering ---------------------------------------------------------------------------

  function mountRunner() {
    if (!state.id) {
      state.id = uuid();
      state.started_at = new Date().toISOString();
      state.answers = {};
      save();
    }
    const prefill = Object.assign({}, data.assignment || {});
    if (state.screening) prefill.procedure_code = state.screening.procedure_code;
    run = window.SIPAS_RUNNER.mount($('runner'), {
      form: data.form,
      lang,
      answers: state.answers || {},
      catalogues: data.catalogues,
      assignment: prefill,
      startedAt: state.started_at,
      onChange(answers) { state.answers = answers; save(); },
      onSubmit(answers) {
        state.answers = answers;
        state.pending = {
          id: state.id,
          started_at: state.started_at,
          completed_at: new Date().toISOString(),
          answers,
        };
        if (kind === 'open') {
          state.pending.device_token = read(DEVICE_KEY);
          state.pending.screening = state.screening;
        }
        save();
        send();
      },
    });
  }

  function todayIso() {
    const d = new Date();
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  }

  function screening() {
    const s = $('screening');
    const sel = el('select', { id: 'scr-procedure', testid: 'scr-procedure' },
      el('option', { value: '', text: t('choose') }),
      ...((data.catalogues && data.catalogues.procedures) || []).map((p) => el('option', { value: p.value, text: p.label.vi })));
    const date = el('input', { id: 'scr-date', type: 'date', testid: 'scr-date', max: todayIso() });
    const go = el('button', { type: 'button', class: 'primary', testid: 'scr-start', text: t('start') });
    const msg = el('p', { class: 'error', testid: 'scr-error', hidden: true });
    const agency = data.agency ? el('p', { class: 'muted' }, el('span', { text: `${t('agency')}: ` }), el('strong', { text: data.agency.label.vi })) : null;
    s.replaceChildren(el('h2', { text: t('screeningTitle') }), agency,
      el('label', { for: 'scr-procedure', text: t('procedure') }), sel,
      el('label', { for: 'scr-date', text: t('visitDate') }), date, msg,
      el('div', { class: 'actions' }, go));
    go.addEventListener('click', () => {
      if (!sel.value || !date.value) { msg.textContent = t('needScreening'); msg.hidden = false; return; }
      if (date.value > todayIso()) { msg.textContent = t('futureDate'); msg.hidden = false; return; }
      state.screening = { procedure_code: sel.value, visit_date: date.value };
      save();
      s.hidden = true;
      mountRunner();
    });
    s.hidden = false;
  }

  async function ensureDevice() {
    if (read(DEVICE_KEY)) return true;
    try {
      const res = await fetch(`${base}/device`, { method: 'POST', cache: 'no-store' });
      const body = await res.json();
      if (!res.ok) { status(problemText(body), 'error'); return false; }
      write(DEVICE_KEY, body.device_token);
      return true;
    } catch {
      status(t('offlineLoad'), 'error');
      return false;
    }
  }

  async function start() {
    $('notice').hidden = false;
    if (kind === 'open') {
      if (!(await ensureDevice())) return;
      if (state.screening) mountRunner(); else screening();
    } else {
      mountRunner();
    }
  }

  async function init() {
    chrome();
    $('lang').addEventListener('click', () => {
      lang = lang === 'vi' ? 'en' : 'vi';
      write(LANG_KEY, lang);
      chrome();
      if (run && run.setLang) run.setLang(lang);
      if (state.receipt && !$('done').hidden) showDone();
      if (lastProblem) status(problemText(lastProblem), 'error');
      else if (!$('status').hidden && !state.receipt) status(t('loading'));
    });
    window.addEventListener('online', () => { if (state.pending) send(); });
    if (!m) { status(TEXTS[lang].offlineLoad, 'error'); return; }
    // Answers waiting from an earlier visit are sent first (same id: same receipt).
    if (state.pending) await send();
    if (state.receipt) { showDone(); return; }
    status(t('loading'));
    let res;
    let body = null;
    try {
      res = await fetch(`${base}/form`, { cache: 'no-store' });
      body = await res.json();
    } catch {
      status(t('offlineLoad'), 'error');
      return;
    }
    if (!res.ok) { lastProblem = body; status(problemText(body), 'error'); return; }
    data = body;
    if (kind === 'personal' && data.answered && !state.pending) {
      lastProblem = { message_vi: TEXTS.vi.used, message: TEXTS.en.used };
      status(problemText(lastProblem), 'error');
      return;
    }
    if (!state.pending) status('', '');
    chrome();
    await start();
  }

  document.addEventListener('DOMContentLoaded', init);
})();
