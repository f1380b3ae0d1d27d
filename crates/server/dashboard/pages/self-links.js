// @ts-check
// Self-completion links of a round (issue 15): personal one-time links for chosen sampled
// assignments (letters with QR codes to print, text for SMS/Zalo), open links per agency
// (a printable QR poster), and which modes the round's official figure counts. The server
// makes the codes and QR images; the page only shows them (SVG copied through safeSvg).
import { api, enc } from '../api.js';
import { t } from '../i18n.js';
import { empty, errorBox, fill, fmtDateTime, fmtNum, h, loading, named, safeSvg, select, table, toast } from '../widgets.js';
import { agencies, getRound, roundHead } from './common.js';

const MODES = ['capi', 'self_personal', 'self_open'];

/** @param {string} svgText @param {string} label */
function qr(svgText, label) {
  const svg = svgText ? safeSvg(svgText) : null;
  if (svg) { svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', label); svg.classList.add('qr'); }
  return svg;
}

/** @param {string} text */
async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast('notice', t('self.copied'));
  } catch {
    toast('error', t('self.copy_failed'));
  }
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageSelfLinks(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const head = roundHead(round, 'self-links', t('self.heading'));
  ctx.view.append(...head, loading());
  const base = `/rounds/${enc(roundId)}`;
  /** @type {[any, any, any, any, any[]]} */
  const [page, personal, open, modes, agencyList] = await Promise.all([
    api(`${base}/assignments?limit=1000`),
    api(`${base}/self-links?qr=true`),
    api(`${base}/open-links?qr=true`),
    api(`${base}/official-modes`),
    agencies(round.starts_on),
  ]);
  if (!ctx.alive()) return;
  /** @type {Map<string, any>} */
  const byAssignment = new Map(personal.links.map((/** @type {any} */ l) => [l.assignment_id, l]));
  const sampled = page.items.filter((/** @type {any} */ a) => a.origin === 'sample');
  /** @type {Set<string>} */
  const picked = new Set();
  const letters = h('section', { class: 'letters print-only', testid: 'letters' });

  const rows = sampled.map((/** @type {any} */ a) => {
    const link = byAssignment.get(a.id);
    const box = h('input', { type: 'checkbox', testid: 'pick', 'aria-label': t('self.col.pick') });
    box.addEventListener('change', () => { if (box.checked) picked.add(a.id); else picked.delete(a.id); });
    const st = link ? link.status : a.status;
    const status = link ? t(`self.link.${st}`) : t(`assignment.status.${st}`);
    return h('tr', { testid: 'self-row', dataset: { id: a.id } },
      h('td', null, box),
      h('td', null, named(a.unit_name, a.unit_code)),
      h('td', null, named(a.agency_name || a.agency, a.agency_code)),
      h('td', null, a.procedure_name || a.procedure || t('common.dash')),
      h('td', { testid: 'self-status', dataset: { status: st } }, status),
      h('td', { class: 'mono', testid: 'self-code' }, link ? link.code : t('self.link.none')),
      h('td', null, link && link.status === 'waiting' ? [
        h('button', { type: 'button', class: 'secondary', testid: 'copy-sms', onclick: () => copy(link.sms_text) }, t('self.copy')),
        ' ',
        h('button', { type: 'button', class: 'secondary', testid: 'revoke-link', onclick: async () => {
          try { await api(`/self-links/${enc(link.code)}/revoke`, { method: 'POST' }); toast('notice', t('self.revoked'), true); ctx.reload(); } catch (e) { toast('error', String(/** @type {any} */ (e).message || e)); }
        } }, t('self.revoke')),
      ] : null));
  });

  const createBtn = h('button', { type: 'button', testid: 'create-links' }, t('self.create'));
  createBtn.addEventListener('click', async () => {
    if (picked.size === 0) { toast('error', t('self.pick_first')); return; }
    try {
      const made = await api(`${base}/self-links`, { method: 'POST', body: { assignment_ids: [...picked] } });
      toast('notice', t('self.created', made.links.length), true);
      ctx.reload();
    } catch (e) { toast('error', String(/** @type {any} */ (e).message || e)); }
  });

  const waiting = personal.links.filter((/** @type {any} */ l) => l.status === 'waiting');
  const printLetters = h('button', { type: 'button', class: 'secondary', testid: 'print-letters', disabled: waiting.length === 0 }, t('self.print_letters'));
  printLetters.addEventListener('click', () => {
    fill(letters, waiting.map((/** @type {any} */ l) => {
      const a = sampled.find((/** @type {any} */ x) => x.id === l.assignment_id) || {};
      return h('article', { class: 'letter', testid: 'letter' },
        h('h3', null, t('self.letter.title')),
        h('p', null, t('self.letter.to')),
        h('p', null, t('self.letter.body', round.name, a.procedure_name || a.procedure || '')),
        h('div', { class: 'qr-box' }, qr(l.qr_svg, l.url || l.code)),
        h('p', { class: 'mono' }, l.url || ''),
        h('p', null, `${t('self.letter.code')}: `, h('strong', { class: 'mono' }, l.code)),
        h('p', null, t('self.letter.thanks')));
    }));
    document.body.classList.add('printing-letters');
    window.print();
    document.body.classList.remove('printing-letters');
  });

  // --- open links ---
  const agencySel = select('open-agency', agencyList.map((a) => ({ value: a.code, label: named(a.name, a.code) })), '', '—');
  const openBtn = h('button', { type: 'button', testid: 'create-open' }, t('self.open.create'));
  openBtn.addEventListener('click', async () => {
    if (!agencySel.value) return;
    try {
      await api(`${base}/open-links`, { method: 'POST', body: { agency_code: agencySel.value } });
      toast('notice', t('self.open.created'), true);
      ctx.reload();
    } catch (e) { toast('error', String(/** @type {any} */ (e).message || e)); }
  });
  const posters = h('section', { class: 'posters print-only', testid: 'posters' });
  const openRows = open.links.map((/** @type {any} */ l) => h('tr', { testid: 'open-row', dataset: { token: l.token } },
    h('td', null, named(l.agency_name, l.agency_code)),
    h('td', { class: 'mono small' }, l.url || `/o/${l.token}`),
    h('td', null, l.status === 'active' ? t('self.open.active') : t('self.open.revoked')),
    h('td', null, fmtDateTime(l.created_at)),
    h('td', null, l.status === 'active' ? [
      h('button', { type: 'button', class: 'secondary', testid: 'print-poster', onclick: () => {
        fill(posters, h('article', { class: 'poster' },
          h('h3', null, t('self.poster.title')),
          h('p', null, l.agency_name || l.agency_code),
          h('div', { class: 'qr-box' }, qr(l.qr_svg, l.url || l.token)),
          h('p', null, t('self.poster.body')),
          h('p', { class: 'mono small' }, l.url || '')));
        document.body.classList.add('printing-poster');
        window.print();
        document.body.classList.remove('printing-poster');
      } }, t('self.open.poster')),
      ' ',
      h('button', { type: 'button', class: 'secondary', testid: 'revoke-open', onclick: async () => {
        try { await api(`/open-links/${enc(l.token)}/revoke`, { method: 'POST' }); toast('notice', t('self.revoked'), true); ctx.reload(); } catch (e) { toast('error', String(/** @type {any} */ (e).message || e)); }
      } }, t('self.revoke')),
    ] : null)));

  // --- official modes ---
  const chosen = new Set(modes.official_modes);
  const modeBoxes = MODES.map((m) => {
    const box = h('input', { type: 'checkbox', testid: `mode-${m}`, checked: chosen.has(m) });
    return { m, box, label: h('label', { class: 'check' }, box, ' ', t(`self.mode.${m}`)) };
  });
  const saveModes = h('button', { type: 'button', class: 'secondary', testid: 'save-modes' }, t('self.modes.save'));
  const modesMsg = h('div');
  saveModes.addEventListener('click', async () => {
    try {
      await api(`${base}/official-modes`, { method: 'PUT', body: { official_modes: modeBoxes.filter((x) => x.box.checked).map((x) => x.m) } });
      fill(modesMsg, h('p', { class: 'notice', testid: 'modes-saved' }, t('self.modes.saved')));
    } catch (e) { fill(modesMsg, errorBox(e)); }
  });

  fill(ctx.view, ...head,
    h('p', { class: 'info no-print' }, t('self.intro')),
    h('section', { class: 'no-print' },
      h('h3', null, t('self.personal')),
      sampled.length === 0 ? empty(t('common.none'), 'self-empty') : table('self-links', [
        t('self.col.pick'), t('self.col.unit'), t('self.col.agency'), t('self.col.procedure'),
        t('self.col.status'), t('self.col.link'), t('self.col.actions')], rows),
      h('div', { class: 'actions' }, createBtn, ' ', printLetters)),
    h('section', { class: 'no-print' },
      h('h3', null, t('self.open')),
      h('div', { class: 'actions' }, h('label', { for: 'open-agency-sel' }, t('self.open.agency'), ' '), agencySel, ' ', openBtn),
      open.links.length === 0 ? empty(t('self.open.none'), 'open-empty') : table('open-links', [
        t('self.open.agency'), t('self.col.link'), t('self.col.status'), t('self.col.status'), t('self.col.actions')], openRows)),
    h('section', { class: 'no-print' },
      h('h3', null, t('self.modes')),
      h('p', { class: 'muted small' }, t('self.modes.hint')),
      h('div', { class: 'actions', testid: 'modes' }, modeBoxes.map((x) => x.label)),
      h('div', { class: 'actions' }, saveModes), modesMsg),
    letters, posters);
  agencySel.id = 'open-agency-sel';
}

/**
 * The one-panel-per-mode summary of a results / report / index answer (issue 15): responses
 * and overall % satisfied per mode, which modes the official figure counts; the open link's
 * panel is always apart. `null` for an answer from a server without modes.
 * @param {any} res
 */
export function modesPanel(res) {
  if (!res || !Array.isArray(res.modes)) return null;
  const rows = res.modes.map((/** @type {any} */ m) => h('tr', { testid: 'mode-row', dataset: { mode: m.mode } },
    h('td', null, t(`self.mode.${m.mode}`)),
    h('td', { class: 'num', testid: 'mode-n' }, fmtNum(m.n)),
    h('td', { class: 'num', testid: 'mode-pct' }, m.overall_pct === null || m.overall_pct === undefined ? t('common.dash') : `${fmtNum(m.overall_pct, 1)}%`),
    h('td', { testid: 'mode-official' }, m.official ? t('self.modes.counted') : t('self.modes.apart'))));
  return h('section', { class: 'panel', testid: 'modes-panel' },
    h('h3', null, t('self.modes.panel')),
    h('p', { class: 'muted small' }, t('self.modes.rule', res.official_modes.map((/** @type {string} */ m) => t(`self.mode.${m}`)).join(', '))),
    table('modes-table', [t('self.modes.col.mode'), { text: t('self.modes.col.n'), class: 'num' }, { text: t('self.modes.col.pct'), class: 'num' }, t('self.modes.col.official')], rows));
}
