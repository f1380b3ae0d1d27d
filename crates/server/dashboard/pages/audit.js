// @ts-check
// The audit log (admins): when, who (by name), what (in words), newest first, page by page.
import { api, qs } from '../api.js';
import { has, t } from '../i18n.js';
import { empty, fill, fmtDateTime, h, loading, table } from '../widgets.js';
import { userNames } from './common.js';

/** @typedef {import('../types.js').AuditEntry} AuditEntry */

const PAGE = 200;

/** @param {import('../main.js').Ctx} ctx */
export async function pageAudit(ctx) {
  const since = Math.max(0, Number(ctx.query.get('since') || 0) || 0);
  const head = [h('h2', null, t('audit.heading')), h('p', { class: 'muted' }, t('audit.intro'))];
  ctx.view.append(...head, loading());
  const [entries, users] = await Promise.all([
    /** @type {Promise<AuditEntry[]>} */ (api(`/audit${qs({ since, limit: PAGE })}`)),
    userNames(),
  ]);
  if (!ctx.alive()) return;
  const rows = [...entries].reverse().map((e) => h('tr', { testid: 'audit-row', dataset: { action: e.action } },
    h('td', null, fmtDateTime(e.at)),
    h('td', null, e.actor ? (users.get(e.actor) || t('review.unknown_user')) : h('span', { class: 'muted' }, t('audit.system'))),
    h('td', null, has(`audit.action.${e.action}`) ? t(`audit.action.${e.action}`) : e.action,
      e.entity_id && users.has(e.entity_id) ? h('div', { class: 'small muted' }, users.get(e.entity_id)) : null)));
  const last = entries.length ? entries[entries.length - 1].seq : since;
  fill(ctx.view, ...head,
    entries.length === 0 ? empty(t('audit.empty'), 'audit-empty')
      : table('audit-table', [t('audit.at'), t('audit.actor'), t('audit.action')], rows),
    entries.length === PAGE ? h('div', { class: 'actions' }, h('a', { class: 'button', href: `#/audit${qs({ since: last })}`, testid: 'audit-more' }, t('audit.more'))) : null);
}
