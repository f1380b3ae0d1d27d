// @ts-check
// Biểu mẫu (issue 12): the questionnaire versions the server knows, by name, with their
// status; an admin uploads a JSON or XLSForm file (the server's loader checks it; its issues
// are listed as a table of sheet / row / column / message), previews, publishes, retires,
// deletes drafts and downloads the workbook. Every rule (what may be published, retired …)
// is the server's: the buttons shown follow the status, the server decides.
//
// The preview is a simple read-only rendering of groups, items and options drawn here: the
// app's renderer (ui/form.js) runs inside Tauri and is not served by the dashboard.
import { ApiError, api, enc, session } from '../api.js';
import { L, getLang, t } from '../i18n.js';
import { download, empty, errorBox, field, fill, fmtDateTime, h, loading, table, toast } from '../widgets.js';
import { clearCaches } from './common.js';

/** @typedef {import('../types.js').FormInfo} FormInfo */

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** @param {FormInfo} f */
const title = (f) => (getLang() === 'en' && f.title_en ? f.title_en : f.title_vi);

/** @param {string} s */
const statusBadge = (s) => h('span', { class: `badge status-${s}`, testid: 'form-status', dataset: { status: s } }, t(`forms.status.${s}`));

/**
 * The loader's issues of a refused upload (`details.issues`), or [].
 * @param {unknown} e
 * @returns {{sheet: string|null, row: number|null, column: string|null, path?: string, message_vi: string, message_en: string}[]}
 */
function issuesOf(e) {
  if (e instanceof ApiError && e.problem && e.problem.details && Array.isArray(e.problem.details.issues)) {
    return e.problem.details.issues;
  }
  return [];
}

/** @param {ReturnType<typeof issuesOf>} issues */
function issueTable(issues) {
  return table('form-issues', [t('forms.issue.sheet'), { text: t('forms.issue.row'), class: 'num' }, t('forms.issue.column'), t('forms.issue.message')],
    issues.map((i) => h('tr', { testid: 'form-issue' },
      h('td', null, i.sheet || t('common.dash')),
      h('td', { class: 'num' }, i.row === null || i.row === undefined ? t('common.dash') : String(i.row)),
      h('td', null, i.column || (i.path ? h('span', { class: 'code' }, i.path) : t('common.dash'))),
      h('td', null, getLang() === 'en' ? i.message_en : i.message_vi))));
}

/**
 * A read-only rendering of a definition (format 1): groups, items, options, scales.
 * @param {any} def
 */
function renderDefinition(def) {
  const scales = def.scales || {};
  return h('div', { class: 'form-preview', testid: 'form-preview-body' },
    def.description ? h('p', { class: 'muted' }, L(def.description)) : null,
    (def.groups || []).map((/** @type {any} */ g) => h('section', { class: 'panel', testid: 'preview-group', dataset: { code: g.code } },
      h('h4', null, L(g.title), ' ', h('span', { class: 'code' }, g.code)),
      h('ol', null, (g.items || []).map((/** @type {any} */ it) => {
        const scale = it.scale ? scales[it.scale] : null;
        const options = it.options && it.options.length ? it.options : (scale ? scale.points : []);
        return h('li', { testid: 'preview-item', dataset: { code: it.code } },
          h('div', null, h('strong', null, it.type === 'calculate' ? t('forms.calculate') : L(it.label)), ' ',
            h('span', { class: 'code' }, it.code),
            it.required ? h('span', { class: 'muted small' }, ` (${t('forms.required')})`) : null),
          it.hint ? h('div', { class: 'muted small' }, L(it.hint)) : null,
          typeof it.relevant === 'string' ? h('div', { class: 'muted small' }, `${t('forms.relevant')}: `, h('span', { class: 'code' }, it.relevant)) : null,
          it.choices_from ? h('div', { class: 'muted small' }, t('forms.choices_from', it.choices_from)) : null,
          scale ? h('div', { class: 'muted small' }, t('forms.scale', scale.points.length)) : null,
          options.length ? h('ul', { class: 'options' }, options.map((/** @type {any} */ o) => h('li', { testid: 'preview-option' },
            h('input', { type: it.type === 'multi_choice' ? 'checkbox' : 'radio', disabled: true, 'aria-hidden': 'true' }), ' ',
            L(o.label), ' ', h('span', { class: 'code' }, String(o.value))))) : null);
      })))));
}

/** @param {import('../main.js').Ctx} ctx */
export async function pageForms(ctx) {
  const head = [h('h2', null, t('forms.heading')), h('p', { class: 'muted' }, t('forms.intro'))];
  ctx.view.append(...head, loading());
  const manage = session.can('forms.manage');
  /** @type {FormInfo[]} */
  const list = await api('/forms');
  if (!ctx.alive()) return;

  const preview = h('div', { testid: 'form-preview', 'aria-live': 'polite' });
  const dl = h('div', { 'aria-live': 'polite', testid: 'download-status' });

  /** @param {FormInfo} f */
  const showPreview = async (f) => {
    fill(preview, loading());
    try {
      const d = await api(`/forms/${enc(f.id)}/${enc(f.version)}`);
      fill(preview, h('section', { class: 'panel' },
        h('h3', { testid: 'form-preview-title' }, t('forms.preview_of', L(d.definition.title), f.key)),
        h('p', { class: 'muted small' }, t('forms.preview_note')),
        renderDefinition(d.definition),
        h('button', { type: 'button', testid: 'form-preview-close', onclick: () => preview.replaceChildren() }, t('forms.close'))));
      preview.scrollIntoView({ block: 'start' });
    } catch (e) {
      if (/** @type {any} */ (e).handled) return;
      fill(preview, errorBox(e, 'form-preview-error'));
    }
  };

  /** @param {FormInfo} f @param {'publish'|'retire'|'delete'} what */
  const act = async (f, what) => {
    try {
      if (what === 'delete') {
        await api(`/forms/${enc(f.id)}/${enc(f.version)}`, { method: 'DELETE' });
      } else {
        await api(`/forms/${enc(f.id)}/${enc(f.version)}/${what}`, { method: 'POST', body: {} });
      }
      clearCaches();
      toast('notice', t(what === 'publish' ? 'forms.published_ok' : what === 'retire' ? 'forms.retired_ok' : 'forms.deleted_ok', f.key), true);
      ctx.reload();
    } catch (e) {
      if (/** @type {any} */ (e).handled) return;
      fill(actionStatus, errorBox(e, 'form-action-error'));
    }
  };
  const actionStatus = h('div', { 'aria-live': 'polite', testid: 'form-action-status' });

  // By name, then version.
  const sorted = [...list].sort((a, b) => title(a).localeCompare(title(b), 'vi') || a.version.localeCompare(b.version));
  const rows = sorted.map((f) => h('tr', { testid: 'form-row', dataset: { key: f.key, status: f.status } },
    h('td', null, h('div', null, title(f)), h('div', { class: 'code small' }, f.id)),
    h('td', null, f.version),
    h('td', null, statusBadge(f.status)),
    h('td', null, f.published_at ? fmtDateTime(f.published_at) : t('common.dash')),
    h('td', null, h('span', { class: 'code', title: f.content_hash }, f.content_hash.slice(0, 12))),
    h('td', { class: 'actions' },
      h('button', { type: 'button', testid: 'form-preview-btn', onclick: () => showPreview(f) }, t('forms.preview')),
      manage && f.status === 'draft' ? h('button', { type: 'button', class: 'primary', testid: 'form-publish', onclick: () => act(f, 'publish') }, t('forms.publish')) : null,
      manage && f.status === 'published' ? h('button', { type: 'button', testid: 'form-retire', onclick: () => act(f, 'retire') }, t('forms.retire')) : null,
      manage && f.status === 'draft' ? h('button', { type: 'button', testid: 'form-delete', onclick: () => act(f, 'delete') }, t('forms.delete')) : null,
      h('button', { type: 'button', testid: 'form-xlsx', onclick: () => download(`/forms/${enc(f.id)}/${enc(f.version)}/xlsx`, `${f.id}-${f.version}.xlsx`, dl) }, t('forms.xlsx')))));
  const listBox = rows.length === 0 ? empty(t('common.none'), 'forms-empty')
    : table('forms', [t('forms.col.form'), t('forms.col.version'), t('forms.col.status'), t('forms.col.published'), t('forms.col.hash'), t('forms.col.actions')], rows);

  /** @type {HTMLElement|null} */
  let upload = null;
  if (manage) {
    const input = h('input', { type: 'file', testid: 'form-file', accept: `.json,.xlsx,application/json,${XLSX}` });
    const result = h('div', { testid: 'form-upload-result', 'aria-live': 'polite' });
    const send = h('button', { type: 'button', class: 'primary', testid: 'form-upload' }, t('forms.send'));
    send.addEventListener('click', async () => {
      const file = /** @type {HTMLInputElement} */ (input).files?.[0];
      if (!file) { fill(result, h('p', { class: 'error', role: 'alert' }, t('forms.choose'))); return; }
      send.disabled = true;
      fill(result, h('p', { class: 'muted' }, t('forms.uploading')));
      try {
        const bytes = await file.arrayBuffer();
        const type = /\.xlsx$/i.test(file.name) ? XLSX : 'application/json';
        const r = await api('/forms/drafts', { method: 'POST', bytes, type });
        clearCaches();
        toast('notice', t(`forms.outcome.${r.outcome}`, `${r.form_id}@${r.version}`), true);
        ctx.reload();
      } catch (e) {
        if (/** @type {any} */ (e).handled) return;
        const issues = issuesOf(e);
        fill(result, errorBox(e, 'form-upload-error'),
          issues.length ? h('p', { class: 'error', testid: 'form-issues-count' }, t('forms.issues', issues.length)) : null,
          issues.length ? issueTable(issues) : null);
      } finally {
        send.disabled = false;
      }
    });
    upload = h('section', { class: 'panel', testid: 'form-upload-box' }, h('h3', null, t('forms.upload')),
      h('p', { class: 'muted small' }, t('forms.upload_hint')),
      field('form-file', t('forms.file'), input),
      h('div', { class: 'actions' }, send), result);
  }
  fill(ctx.view, ...head, listBox, actionStatus, dl, upload, preview);
}
