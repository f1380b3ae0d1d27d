// @ts-check
// Review: a round's queue (pending / approved / rejected / all) and one response with every
// answer by its question, quality flags, earlier decisions and the approve / reject box with a
// comment per question.
import { api, enc, errorText, qs } from '../api.js';
import { has, t } from '../i18n.js';
import { empty, fill, fmtDateTime, fmtNum, h, loading, named, table, toast } from '../widgets.js';
import { catalogueNames, getRound, roundHead, roundNav, userNames } from './common.js';

/** @typedef {import('../types.js').QueueItem} QueueItem */
/** @typedef {import('../types.js').ResponseDetail} ResponseDetail */
/** @typedef {import('../types.js').QualityFlag} QualityFlag */

const STATES = ['pending', 'approved', 'rejected', 'all'];
/** Responses per page of the queue, and the most the server gives at once. */
const PAGE = 100;
const MAX_PAGE = 1000;

/** @param {string} state */
export function stateBadge(state) {
  return h('span', { class: `badge ${state}`, testid: 'state-badge', dataset: { state } }, has(`review.state.${state}`) ? t(`review.state.${state}`) : state);
}

/** @param {QualityFlag} f */
export function flagText(f) {
  if (f.kind === 'too_fast') return t('flag.too_fast', fmtNum(f.seconds), fmtNum(f.expected_min));
  if (f.kind === 'straight_lining') return t('flag.straight_lining', fmtNum(100 * Number(f.share || 0)), fmtNum(f.items), f.value);
  return t('flag.other', /** @type {any} */ (f).kind);
}

/** @param {import('../main.js').Ctx} ctx @param {string} roundId */
export async function pageReview(ctx, roundId) {
  const round = await getRound(roundId);
  if (!ctx.alive()) return;
  const state = STATES.includes(ctx.query.get('state') || '') ? /** @type {string} */ (ctx.query.get('state')) : 'pending';
  const sel = h('select', { id: 'review-state', testid: 'review-state' },
    STATES.map((s) => h('option', { value: s, selected: s === state }, t(`review.state.${s}`))));
  sel.addEventListener('change', () => { location.hash = `#/rounds/${enc(roundId)}/review?state=${enc(sel.value)}`; });
  const head = [...roundHead(round, 'review', t('review.heading')),
    h('div', { class: 'form-row narrow' }, h('div', { class: 'field' }, h('label', { for: 'review-state' }, t('review.state')), sel))];
  ctx.view.append(...head, loading());
  // A page at a time (API.md: keyset paging by response id); `limit` in the address sets the
  // page size (1–1000).
  const size = Math.min(MAX_PAGE, Math.max(1, Math.floor(Number(ctx.query.get('limit'))) || PAGE));
  /** @param {string|null} after @returns {Promise<QueueItem[]>} */
  const read = (after) => api(`/review/queue${qs({ round_id: roundId, state, limit: size, after: after || undefined })}`);
  const [first, names] = await Promise.all([read(null), catalogueNames(round.starts_on)]);
  if (!ctx.alive()) return;
  const headers = [t('review.response'), t('review.surveyor'), t('review.unit'), t('review.completed'), t('review.flags'), t('review.state')];
  /** @param {QueueItem} e */
  const row = (e) => {
    const st = e.decision || 'pending';
    const flags = e.quality_flags || [];
    return h('tr', { testid: 'review-row', class: flags.length ? 'has-flags' : null, dataset: { responseId: e.response_id, revision: String(e.revision), state: st } },
      h('td', null, h('a', { href: `#/responses/${enc(e.response_id)}/${enc(e.revision)}`, testid: 'review-open' }, t('review.open')),
        ' ', h('span', { class: 'muted small' }, t('review.rev', e.revision))),
      h('td', null, e.surveyor_name || t('review.unknown_user')),
      h('td', null, named(e.unit_name || names.unit.get(e.unit_code), e.unit_code)),
      h('td', null, fmtDateTime(e.completed_at)),
      h('td', { testid: 'flag-count' }, flags.length
        ? flags.map((f) => h('span', { class: 'badge flag', title: flagText(f) }, flagText(f)))
        : h('span', { class: 'muted' }, t('review.no_flags'))),
      h('td', null, stateBadge(st)));
  };
  if (first.length === 0) {
    fill(ctx.view, ...head, h('p', { class: 'muted', testid: 'review-count' }, t('review.count', 0)), empty(t('review.empty'), 'review-empty'));
    return;
  }
  let shown = first.length;
  let last = first[first.length - 1].response_id;
  // A full page may have more after it.
  let more = first.length === size;
  const list = table('review-table', headers, first.map(row));
  const body = /** @type {HTMLElement} */ (list.querySelector('tbody'));
  const count = h('p', { class: 'muted', testid: 'review-count' });
  const result = h('div', { testid: 'review-more-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', testid: 'review-more' }, t('review.more', size));
  const showCount = () => {
    count.textContent = more ? t('review.count_more', shown) : t('review.count', shown);
    button.hidden = !more;
  };
  button.addEventListener('click', async () => {
    button.disabled = true;
    result.replaceChildren();
    try {
      const page = await read(last);
      if (!ctx.alive()) return;
      if (page.length) {
        // Rows labelled for the narrow layout as the table labels its own.
        const labelled = table('review-table', headers, page.map(row)).querySelector('tbody');
        body.append(...(labelled ? labelled.children : []));
        last = page[page.length - 1].response_id;
        shown += page.length;
      }
      more = page.length === size;
      showCount();
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      fill(result, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    } finally {
      button.disabled = false;
    }
  });
  showCount();
  fill(ctx.view, ...head, count, list, result, h('div', { class: 'actions' }, button));
}

/** @param {import('../main.js').Ctx} ctx @param {string} responseId @param {string} revision */
export async function pageDetail(ctx, responseId, revision) {
  ctx.view.append(loading());
  /** @type {ResponseDetail} */
  const data = await api(`/responses/${enc(responseId)}/${enc(revision)}`);
  if (!ctx.alive()) return;
  const response = data.response;
  const roundId = response.round_id;
  const [surveyors, round] = await Promise.all([userNames('surveyor'), getRound(roundId).catch(() => null)]);
  const names = await catalogueNames(round ? round.starts_on : undefined);
  if (!ctx.alive()) return;
  const flags = data.quality_flags || [];
  const decisions = data.decisions || [];
  const decision = decisions.length ? decisions[decisions.length - 1] : null;
  const state = decision && decision.revision === response.revision ? decision.decision : 'pending';
  const minutes = response.started_at && response.completed_at
    ? Math.max(0, (new Date(response.completed_at).getTime() - new Date(response.started_at).getTime()) / 60000) : null;

  const back = h('a', { href: `#/rounds/${enc(roundId)}/review`, testid: 'detail-back' }, t('detail.back'));
  const meta = h('dl', { class: 'meta panel', testid: 'detail-meta' },
    [
      ['detail.round', round ? round.name : roundId],
      ['detail.form', data.form_title],
      ['detail.unit', names.unit.get(response.unit_code) ? `${names.unit.get(response.unit_code)} (${response.unit_code})` : response.unit_code],
      ['detail.surveyor', data.surveyor_name || surveyors.get(data.surveyor_id) || t('review.unknown_user')],
      ['detail.revision', String(response.revision)],
      ['detail.started', fmtDateTime(response.started_at)],
      ['detail.completed', fmtDateTime(response.completed_at)],
      ['detail.duration', minutes === null ? t('common.dash') : t('detail.minutes', fmtNum(minutes, 1))],
    ].map(([k, v]) => h('div', { class: k === 'detail.form' ? 'wide' : null }, h('dt', null, t(k)), h('dd', null, v || t('common.dash')))),
    h('div', null, h('dt', null, t('detail.state')), h('dd', null, stateBadge(state))));
  const flagBox = h('section', { class: 'panel', testid: 'detail-flags' }, h('h3', null, t('detail.flags')),
    flags.length ? h('ul', { class: 'flags' }, flags.map((f) => h('li', { testid: 'detail-flag' }, flagText(f)))) : h('p', { class: 'muted' }, t('detail.no_flags')));
  const decisionInfo = decision
    ? h('section', { class: 'panel', testid: 'existing-decision' },
      h('h3', null, t('detail.decision')),
      h('p', null, stateBadge(decision.decision), ' ', h('span', { class: 'muted' }, t('detail.decided_at', fmtDateTime(decision.decided_at)))),
      decision.comment ? h('p', null, decision.comment) : null,
      Object.keys(decision.item_comments || {}).length
        ? h('ul', null, Object.entries(decision.item_comments).map(([c, txt]) => h('li', null, h('span', { class: 'q-code' }, c), txt)))
        : null)
    : null;

  // Every relevant or answered question in form order, with a comment box each.
  /** @type {Map<string, HTMLTextAreaElement>} */
  const boxes = new Map();
  const itemsSection = h('section', { testid: 'detail-items' });
  let group = null;
  for (const it of data.items) {
    if (it.group_code !== group) {
      group = it.group_code;
      itemsSection.append(h('h3', { class: 'group-title', testid: 'group-title' }, t('detail.group', group)));
    }
    const box = h('textarea', { id: `item-comment-${it.code}`, testid: `item-comment-${it.code}`, rows: 2, placeholder: t('detail.item_comment_ph') });
    boxes.set(it.code, box);
    const answered = it.answer !== null && it.answer !== undefined;
    const wrap = h('div', { class: 'item', testid: `item-${it.code}`, dataset: { code: it.code } },
      h('div', null,
        h('p', { class: 'q-label' }, h('span', { class: 'q-code' }, it.code), it.label_vi),
        h('p', { class: 'answer', testid: `answer-${it.code}` }, answered
          ? h('strong', null, it.display_vi || String(it.answer))
          : h('span', { class: 'muted' }, t('detail.no_answer')))),
      h('div', null, h('label', { class: 'small muted', for: `item-comment-${it.code}` }, t('detail.item_comment', it.code)), box));
    box.addEventListener('input', () => wrap.classList.toggle('has-comment', box.value.trim() !== ''));
    itemsSection.append(wrap);
  }

  const comment = h('textarea', { id: 'decision-comment', testid: 'decision-comment', rows: 3, placeholder: t('detail.comment_ph') });
  const result = h('div', { testid: 'decision-result', 'aria-live': 'polite' });
  const approve = h('button', { type: 'button', class: 'ok', testid: 'approve' }, t('detail.approve'));
  const reject = h('button', { type: 'button', class: 'danger', testid: 'reject' }, t('detail.reject'));
  /** @param {'approved'|'rejected'} kind */
  const decide = async (kind) => {
    result.replaceChildren();
    /** @type {Record<string, string>} */
    const itemComments = {};
    for (const [code, box] of boxes) if (box.value.trim()) itemComments[code] = box.value.trim().normalize('NFC');
    const general = comment.value.trim().normalize('NFC');
    if (kind === 'rejected' && !general && Object.keys(itemComments).length === 0) {
      result.append(h('p', { class: 'error', role: 'alert', testid: 'decision-error' }, t('detail.reject_needs')));
      return;
    }
    approve.disabled = true; reject.disabled = true;
    try {
      await api(`/responses/${enc(responseId)}/${enc(revision)}/decision`, {
        method: 'POST', body: { decision: kind, comment: general || null, item_comments: itemComments },
      });
      if (!ctx.alive()) return;
      toast('notice', t(kind === 'approved' ? 'detail.approved_ok' : 'detail.rejected_ok'), true);
      location.hash = `#/rounds/${enc(roundId)}/review`;
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      fill(result, h('p', { class: 'error', role: 'alert', testid: 'decision-error' }, errorText(e)));
      approve.disabled = false; reject.disabled = false;
    }
  };
  approve.addEventListener('click', () => decide('approved'));
  reject.addEventListener('click', () => decide('rejected'));
  const decisionBox = h('section', { class: 'decision-box', testid: 'decision-box' },
    h('div', { class: 'field' }, h('label', { for: 'decision-comment' }, t('detail.comment')), comment),
    result, h('div', { class: 'actions' }, approve, reject));
  fill(ctx.view, roundNav(roundId, 'review'), back, h('h2', null, t('detail.heading')),
    meta, flagBox, decisionInfo, itemsSection, decisionBox);
}
