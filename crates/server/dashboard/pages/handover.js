// @ts-check
// Offline hand-over: import a surveyor device's signed batch file; the result file goes back
// to the device so it marks the records as sent.
import { api } from '../api.js';
import { t } from '../i18n.js';
import { errorBox, fill, h, loading } from '../widgets.js';

/** @typedef {import('../types.js').HandoverResult} HandoverResult */

/** @param {import('../main.js').Ctx} ctx */
export function pageHandover(ctx) {
  const input = h('input', { type: 'file', id: 'handover-file', testid: 'handover-file', accept: '.json,.gz,application/json' });
  const result = h('div', { testid: 'handover-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary', testid: 'handover-submit' }, t('handover.submit'));
  const form = h('form', { class: 'panel' }, h('label', { for: 'handover-file' }, t('handover.file')), input, h('div', { class: 'actions' }, button));
  form.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    const file = input.files && input.files[0];
    if (!file) { fill(result, h('p', { class: 'error', role: 'alert' }, t('handover.choose'))); return; }
    button.disabled = true;
    fill(result, loading());
    try {
      const bytes = await file.arrayBuffer();
      /** @type {HandoverResult} */
      const reply = await api('/handover', { method: 'POST', bytes, encoding: /\.gz$/i.test(file.name) ? 'gzip' : undefined });
      const count = (/** @type {string} */ st) => reply.acks.filter((a) => a.status === st).length;
      const blob = new Blob([JSON.stringify(reply)], { type: 'application/json' });
      const name = `${file.name.replace(/(\.json)?(\.gz)?$/i, '')}.ketqua.json`;
      fill(result,
        h('p', { class: 'notice', testid: 'handover-summary' },
          t('handover.summary', count('accepted'), count('duplicate'), count('conflict'), count('invalid'))),
        h('p', null, t('handover.return_hint')),
        h('a', { href: URL.createObjectURL(blob), download: name, testid: 'handover-reply' }, t('handover.download', name)));
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      fill(result, errorBox(e, 'handover-error'));
    } finally {
      button.disabled = false;
    }
  });
  fill(ctx.view, h('h2', null, t('handover.heading')), h('p', { class: 'muted' }, t('handover.intro')), form, result);
}
