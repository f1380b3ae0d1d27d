// @ts-check
// Sign-in page (and the note shown to surveyors, who use the app instead).
import { api, session } from '../api.js';
import { t } from '../i18n.js';
import { errorBox, h } from '../widgets.js';
import { homeHash } from '../main.js';

/** @param {import('../main.js').Ctx} ctx */
export function pageLogin(ctx) {
  const msg = h('div', { id: 'login-error', testid: 'login-error', 'aria-live': 'assertive' });
  const username = h('input', { id: 'login-username', testid: 'login-username', name: 'username', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true });
  const password = h('input', { id: 'login-password', testid: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'login-submit', testid: 'login-submit' }, t('login.submit'));
  const form = h('form', { id: 'login-form', class: 'panel login', testid: 'login-form', novalidate: true },
    h('h2', null, t('login.heading')),
    h('p', { class: 'muted' }, t('login.intro')),
    h('div', { class: 'field' }, h('label', { for: 'login-username' }, t('login.username')), username),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, t('login.password')), password),
    msg,
    h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    if (!username.value.trim() || !password.value) {
      msg.append(h('p', { class: 'error', role: 'alert' }, t('login.missing')));
      return;
    }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    try {
      const res = await api('/login', { method: 'POST', body: { username: username.value.trim().normalize('NFC'), password: password.value }, noAuth: true });
      session.setToken(res.token);
      session.setMe(await api('/me'));
      location.hash = homeHash();
    } catch (e) {
      if (!ctx.alive() || /** @type {any} */ (e).handled) return;
      msg.append(errorBox(e, 'login-problem'));
      submit.disabled = false;
      submit.textContent = t('login.submit');
      password.select();
    }
  });
  ctx.view.append(form);
  username.focus();
}

/** @param {import('../main.js').Ctx} ctx */
export function pageSurveyor(ctx) {
  ctx.view.append(h('section', { class: 'panel', testid: 'surveyor-page' },
    h('h2', null, t('surveyor.heading')), h('p', null, t('surveyor.text'))));
}
