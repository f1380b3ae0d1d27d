// @ts-check
// Quarantine: records the server refused (kept, never counted), with the reason in words, who
// sent them and when; a supervisor accepts one (when the reason can be waived, the server
// decides) or dismisses it, with a note. Whole server or one round.
import { api, enc, errorText, qs } from '../api.js';
import { getLang, has, t } from '../i18n.js';
import { empty, fill, fmtDateTime, h, loading, named, table, toast } from '../widgets.js';
import { catalogueNames, getRound, getRounds, roundHead, userNames } from './common.js';

/** @typedef {import('../types.js').QuarantineEntry} QuarantineEntry */

/** @param {import('../main.js').Ctx} ctx @param {string} [roundId] */
export async function pageQuarantine(ctx, roundId) {
  const round = roundId ? await getRound(roundId) : null;
  if (!ctx.alive()) return;
  const all = ctx.query.get('all') === 'true';
  const base = roundId ? `#/rounds/${enc(roundId)}/quarantine` : '#/quarantine';
  const toggle = h('a', { href: `${base}${qs({ all: all ? '' : 'true' })}`, class: 'button', testid: 'quarantine-toggle' },
    all ? t('quarantine.only_open') : t('quarantine.show_all'));
  const head = [...(round ? roundHead(round, 'quarantine', t('quarantine.heading')) : [h('h2', null, t('quarantine.heading'))]),
    h('p', { class: 'muted' }, t('quarantine.intro')), h('div', { class: 'actions' }, toggle)];
  ctx.view.append(...head, loading());
  const [entries, surveyors, rounds, names] = await Promise.all([
    /** @type {Promise<QuarantineEntry[]>} */ (api(`/quarantine${qs({ round_id: roundId, all: all ? 'true' : '' })}`)),
    userNames('surveyor'),
    getRounds(),
    catalogueNames(round ? round.starts_on : undefined),
  ]);
  if (!ctx.alive()) return;
  const roundName = (/** @type {string|null|undefined} */ id) => (id ? (rounds.find((r) => r.id === id)?.name || id) : t('common.dash'));
  const rows = entries.map((q) => {
    const note = h('input', { type: 'text', testid: 'quarantine-note', maxlength: 2000, placeholder: t('quarantine.note_ph'), 'aria-label': t('quarantine.note') });
    const msg = h('div', { 'aria-live': 'polite', class: 'small' });
    const accept = h('button', { type: 'button', class: 'ok', testid: 'quarantine-accept' }, t('quarantine.accept'));
    const dismiss = h('button', { type: 'button', class: 'danger', testid: 'quarantine-dismiss' }, t('quarantine.dismiss'));
    /** @param {'accept'|'dismiss'} what */
    const act = async (what) => {
      msg.replaceChildren();
      accept.disabled = true; dismiss.disabled = true;
      try {
        await api(`/quarantine/${enc(q.id)}/${what}`, { method: 'POST', body: { note: note.value.trim().normalize('NFC') || null } });
        toast('notice', t(what === 'accept' ? 'quarantine.accepted' : 'quarantine.dismissed'), true);
        ctx.reload();
      } catch (e) {
        if (/** @type {any} */ (e).handled || !ctx.alive()) return;
        fill(msg, h('p', { class: 'error', role: 'alert', testid: 'quarantine-error' }, errorText(e)));
        accept.disabled = false; dismiss.disabled = false;
      }
    };
    accept.addEventListener('click', () => act('accept'));
    dismiss.addEventListener('click', () => act('dismiss'));
    const reasonKey = `quarantine.reason.${q.reason_code}`;
    return h('tr', { testid: 'quarantine-row', dataset: { reason: q.reason_code, resolution: q.resolution || 'open' } },
      h('td', null, fmtDateTime(q.received_at)),
      h('td', null, surveyors.get(q.surveyor_id) || t('review.unknown_user'),
        q.mode && q.mode !== 'capi' ? h('div', { class: 'small', testid: 'quarantine-mode' }, t(`self.mode.${q.mode}`)) : null),
      h('td', null, roundName(q.round_id), q.unit_code ? h('div', { class: 'small' }, named(names.unit.get(q.unit_code), q.unit_code)) : null),
      h('td', { testid: 'quarantine-reason' }, has(reasonKey) ? t(reasonKey) : q.reason,
        q.issues && q.issues.length ? h('ul', { class: 'small issues' }, q.issues.map((i) => h('li', null, h('span', { class: 'q-code' }, i.item_code), getLang() === 'en' ? i.message : i.message_vi))) : null),
      h('td', null, q.resolution
        ? [h('span', { class: `badge ${q.resolution}`, testid: 'quarantine-resolution' }, t(`quarantine.resolution.${q.resolution}`)),
          h('div', { class: 'muted small' }, fmtDateTime(q.resolved_at)), q.resolution_note ? h('div', { class: 'small' }, q.resolution_note) : null]
        : h('div', { class: 'q-actions' }, note, h('div', { class: 'actions' }, accept, dismiss), msg)));
  });
  fill(ctx.view, ...head,
    entries.length === 0 ? empty(t('quarantine.empty'), 'quarantine-empty')
      : table('quarantine-table', [t('quarantine.received'), t('quarantine.surveyor'), t('quarantine.where'), t('quarantine.reason'), t('quarantine.action')], rows));
}
