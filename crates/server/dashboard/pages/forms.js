// @ts-check
// Biểu mẫu (issue 12): the questionnaire versions the server knows, by name, with their
// status; an admin uploads a JSON or XLSForm file (the server's loader checks it; its issues
// are listed as a table of sheet / row / column / message), previews, publishes, retires,
// deletes drafts and downloads the workbook. Every rule (what may be published, retired …)
// is the server's: the buttons shown follow the status, the server decides.
//
// The preview runs the draft or published version with the app's own renderer: the server
// serves ui/relevance.js, ui/expr.js, ui/form.js and the Tauri-free step runner
// ui/form-runner.js at /ui/ (same origin, so the CSP admits them); the page steps through the
// form with the same rules and messages as the app, in either language. Answers stay in the
// page: nothing is saved or sent.
import { ApiError, api, enc, session } from '../api.js';
import { L, getLang, t } from '../i18n.js';
import { download, empty, errorBox, field, fill, fmtDateTime, h, loading, select, table, toast } from '../widgets.js';
import { clearCaches, getRounds } from './common.js';

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

/** The app's renderer and the step runner, loaded once (plain scripts, in this order). */
const RUNNER_SCRIPTS = ['/ui/relevance.js', '/ui/expr.js', '/ui/form.js', '/ui/form-runner.js'];
/** @type {Promise<void>|null} */
let runnerLoaded = null;

/** Loads the runner's scripts once; resolves when `window.SIPAS_RUNNER` is there. */
function loadRunner() {
  if (/** @type {any} */ (window).SIPAS_RUNNER) return Promise.resolve();
  if (!runnerLoaded) {
    runnerLoaded = RUNNER_SCRIPTS.reduce((chain, src) => chain.then(() => new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = src;
      s.onload = () => resolve(undefined);
      s.onerror = () => reject(new Error(`${src}: ${t('forms.runner_missing')}`));
      document.head.append(s);
    })), Promise.resolve());
    runnerLoaded.catch(() => { runnerLoaded = null; });
  }
  return runnerLoaded;
}

/** @param {any} def @returns {string[]} the catalogue kinds its `choices_from` items use */
function catalogueKinds(def) {
  const kinds = new Set();
  for (const g of def.groups || []) for (const it of g.items || []) if (it.choices_from) kinds.add(it.choices_from);
  return [...kinds];
}

/**
 * The preview: the form stepped through with the app's renderer (ui/form-runner.js), a
 * language switch, and — for forms with `choices_from` items — the catalogues of a round.
 * Answers live in this box only.
 * @param {any} def
 */
async function runnerPreview(def) {
  await loadRunner();
  const R = /** @type {any} */ (window).SIPAS_RUNNER;
  let lang = getLang();
  /** @type {Record<string, any[]>} */
  let catalogues = {};
  const stage = h('div', { class: 'runner-stage', testid: 'form-runner' });
  const status = h('p', { class: 'muted small', testid: 'form-preview-status', 'aria-live': 'polite' });
  // Calculated values are never shown as questions: the preview lists them for the author.
  /** @type {any[]} */
  const calcs = (def.groups || []).flatMap((/** @type {any} */ g) => (g.items || []).filter((/** @type {any} */ i) => i.type === 'calculate'));
  const calcBox = calcs.length ? h('div', { class: 'panel small', testid: 'form-preview-calc' }) : null;
  const drawCalcs = (/** @type {Record<string, any>} */ answers) => {
    if (!calcBox) return;
    fill(calcBox, h('strong', null, t('forms.preview_calc')),
      h('ul', null, calcs.map((i) => h('li', { testid: 'form-preview-calc-item', dataset: { code: i.code } },
        h('span', { class: 'code' }, i.code), ' = ',
        h('span', { testid: 'form-preview-calc-value' }, answers[i.code] === undefined ? t('common.dash') : String(answers[i.code]))))));
  };
  /** @type {any} */
  let run = null;
  const mount = (/** @type {Record<string, any>} */ answers) => {
    if (run) run.destroy();
    run = R.mount(stage, {
      form: def, lang, answers, catalogues, startedAt: new Date().toISOString(),
      onSubmit: () => fill(status, h('span', { class: 'notice', testid: 'form-preview-done' }, t('forms.preview_done'))),
      onChange: (/** @type {Record<string, any>} */ a) => { status.replaceChildren(); drawCalcs(a); },
    });
    drawCalcs(run.answers());
  };
  const langBtn = h('button', { type: 'button', testid: 'form-preview-lang' });
  const drawLang = () => { langBtn.textContent = lang === 'vi' ? 'English' : 'Tiếng Việt'; langBtn.setAttribute('lang', lang === 'vi' ? 'en' : 'vi'); };
  drawLang();
  langBtn.addEventListener('click', () => { lang = lang === 'vi' ? 'en' : 'vi'; drawLang(); run.setLang(lang); });
  const restart = h('button', { type: 'button', testid: 'form-preview-restart', onclick: () => { status.replaceChildren(); mount({}); } }, t('forms.preview_restart'));
  /** @type {HTMLElement|null} */
  let roundBox = null;
  const kinds = catalogueKinds(def);
  if (kinds.length) {
    // Options of `choices_from` items come from a round's catalogues (none chosen: no options).
    /** @type {import('../types.js').Round[]} */
    let rounds = [];
    try { rounds = await getRounds(); } catch { rounds = []; }
    const pick = select('form-preview-round', rounds.map((r) => ({ value: r.id, label: `${r.name} (${r.id})` })), '', t('forms.preview_no_round'));
    pick.addEventListener('change', async () => {
      const id = /** @type {HTMLSelectElement} */ (pick).value;
      try {
        catalogues = id ? await api(`/rounds/${enc(id)}/catalogue-bundle`) : {};
        mount(run ? run.answers() : {});
      } catch (e) {
        if (/** @type {any} */ (e).handled) return;
        fill(status, errorBox(e, 'form-preview-error'));
      }
    });
    roundBox = field('form-preview-round', t('forms.preview_round', kinds.join(', ')), pick);
  }
  mount({});
  return h('div', { class: 'form-preview', testid: 'form-preview-body' },
    def.description ? h('p', { class: 'muted' }, L(def.description)) : null,
    h('div', { class: 'actions' }, langBtn, restart), roundBox, stage, calcBox, status);
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
      const body = await runnerPreview(d.definition);
      if (!ctx.alive()) return;
      fill(preview, h('section', { class: 'panel' },
        h('h3', { testid: 'form-preview-title' }, t('forms.preview_of', L(d.definition.title), f.key)),
        h('p', { class: 'muted small' }, t('forms.preview_note')),
        body,
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
