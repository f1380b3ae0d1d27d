// @ts-check
// Users: the list (by role, with scope, state and last sync), creating a user with a role and a
// scope (units and agencies by name), changing name / role / scope, disabling and enabling,
// resetting a password; per user, its devices (last sync, revoke) and an enrolment code for a
// new device (large code, expiry, QR code).
import { api, enc, errorText, qs, session } from '../api.js';
import { has, t } from '../i18n.js';
import { empty, field, fill, fmtDateTime, h, loading, named, picker, safeSvg, select, table, toast } from '../widgets.js';
import { agencies, forgetUsers, units, usersOf } from './common.js';

/** @typedef {import('../types.js').User} User */
/** @typedef {import('../types.js').Device} Device */
/** @typedef {import('../types.js').EnrolmentCode} EnrolmentCode */
/** @typedef {import('../main.js').Ctx} Ctx */

/** Roles offered when creating a user; the server decides who may create which. */
const ROLE_CHOICES = ['surveyor', 'monitor', 'supervisor', 'ministry', 'admin'];

/** @param {string} role */
const roleName = (role) => (has(`role.${role}`) ? t(`role.${role}`) : role);

/**
 * Fields of a user's scope: units and agencies chosen by name.
 * @param {string} testid
 * @param {User|null} user
 */
async function scopeFields(testid, user) {
  const [u, a] = await Promise.all([units(), agencies()]);
  const unitPick = picker(`${testid}-units`, u.map((x) => ({ code: x.code, name: x.name, hint: t(`unit.level.${x.level}`) })),
    (user?.scope?.units || []).map((x) => x.code), { label: t('users.scope_units') });
  const agencyPick = picker(`${testid}-agencies`, a.map((x) => ({ code: x.code, name: x.name, hint: x.unit_name || '' })),
    (user?.scope?.agencies || []).map((x) => x.code), { label: t('users.scope_agencies') });
  const el = h('fieldset', { testid }, h('legend', null, t('users.scope')),
    h('p', { class: 'muted small' }, t('users.scope_hint')),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('users.scope_units')), unitPick.el),
    h('div', { class: 'field' }, h('span', { class: 'label' }, t('users.scope_agencies')), agencyPick.el));
  return { el, value: () => ({ units: unitPick.values(), agencies: agencyPick.values() }) };
}

/** @param {Ctx} ctx @param {() => void} done */
async function createForm(ctx, done) {
  const username = h('input', { testid: 'user-username', autocapitalize: 'none', spellcheck: 'false', maxlength: 64 });
  const display = h('input', { testid: 'user-display-name', maxlength: 200 });
  const role = select('user-role', ROLE_CHOICES.map((r) => ({ value: r, label: roleName(r) })), 'surveyor');
  const password = h('input', { testid: 'user-password', type: 'text', autocomplete: 'new-password', spellcheck: 'false' });
  const scope = await scopeFields('user-scope', null);
  const msg = h('div', { 'aria-live': 'polite', testid: 'user-form-message' });
  const save = h('button', { type: 'submit', class: 'primary', testid: 'user-save' }, t('users.create'));
  const form = h('form', { class: 'panel', testid: 'user-form', novalidate: true },
    h('h3', null, t('users.new')),
    h('div', { class: 'form-row' },
      field('user-display-name', t('users.display_name'), display), field('user-username', t('users.username'), username),
      field('user-role', t('users.role'), role), field('user-password', t('users.password'), password, t('users.password_hint'))),
    scope.el, msg,
    h('div', { class: 'actions' }, save, h('button', { type: 'button', onclick: () => done() }, t('common.cancel'))));
  form.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    msg.replaceChildren();
    if (!username.value.trim() || !display.value.trim()) {
      fill(msg, h('p', { class: 'error', role: 'alert' }, t('users.need_names')));
      return;
    }
    save.disabled = true;
    try {
      const res = await api('/users', {
        method: 'POST',
        body: {
          username: username.value.trim().normalize('NFC'), display_name: display.value.trim().normalize('NFC'), role: role.value,
          password: password.value || undefined, scope: scope.value(),
        },
      });
      forgetUsers();
      toast('notice', res && res.password ? t('users.created_pw', display.value.trim(), res.password) : t('users.created', display.value.trim()), true);
      done();
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      fill(msg, h('p', { class: 'error', role: 'alert', testid: 'user-error' }, errorText(e)));
      save.disabled = false;
    }
  });
  return form;
}

/** @param {Ctx} ctx @param {User} user @param {() => void} done */
async function editForm(ctx, user, done) {
  const display = h('input', { testid: 'edit-display-name', value: user.display_name, maxlength: 200 });
  const role = select('edit-role', ROLE_CHOICES.map((r) => ({ value: r, label: roleName(r) })), user.role);
  const scope = await scopeFields('edit-scope', user);
  const msg = h('div', { 'aria-live': 'polite' });
  const save = h('button', { type: 'submit', class: 'primary', testid: 'edit-save' }, t('common.save'));
  const form = h('form', { class: 'panel', testid: 'user-edit', novalidate: true },
    h('h3', null, t('users.edit', user.display_name)),
    h('div', { class: 'form-row' }, field('edit-display-name', t('users.display_name'), display), field('edit-role', t('users.role'), role)),
    scope.el, msg,
    h('div', { class: 'actions' }, save, h('button', { type: 'button', onclick: () => done() }, t('common.cancel'))));
  form.addEventListener('submit', async (/** @type {Event} */ ev) => {
    ev.preventDefault();
    save.disabled = true;
    try {
      /** @type {Record<string, any>} */
      const body = { scope: scope.value() };
      if (display.value.trim() !== user.display_name) body.display_name = display.value.trim().normalize('NFC');
      if (role.value !== user.role) body.role = role.value;
      await api(`/users/${enc(user.id)}`, { method: 'PATCH', body });
      forgetUsers();
      toast('notice', t('users.saved'), true);
      done();
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      fill(msg, h('p', { class: 'error', role: 'alert', testid: 'edit-error' }, errorText(e)));
      save.disabled = false;
    }
  });
  return form;
}

/** @param {Ctx} ctx */
export async function pageUsers(ctx) {
  const role = ROLE_CHOICES.includes(ctx.query.get('role') || '') ? /** @type {string} */ (ctx.query.get('role')) : '';
  const roleSel = select('users-role', ROLE_CHOICES.map((r) => ({ value: r, label: roleName(r) })), role, t('users.any_role'));
  roleSel.addEventListener('change', () => { location.hash = `#/users${qs({ role: roleSel.value })}`; });
  const formBox = h('div', { testid: 'users-form-box' });
  const manage = session.can('users.manage');
  const newBtn = manage ? h('button', {
    type: 'button', class: 'primary', testid: 'user-new',
    onclick: async () => {
      fill(formBox, loading());
      const f = await createForm(ctx, () => ctx.reload());
      if (ctx.alive()) { fill(formBox, f); f.scrollIntoView({ block: 'start' }); }
    },
  }, t('users.new')) : null;
  const head = [h('h2', null, t('users.heading')),
    h('div', { class: 'form-row narrow' }, field('users-role', t('users.role'), roleSel)),
    h('div', { class: 'actions' }, newBtn), formBox];
  ctx.view.append(...head, loading());
  forgetUsers();
  const list = await usersOf(role || undefined);
  if (!ctx.alive()) return;
  const rows = list.map((u) => {
    const msg = h('div', { class: 'small', 'aria-live': 'polite', testid: 'user-message' });
    const buttons = h('div', { class: 'actions compact' });
    if (manage) {
      buttons.append(h('button', {
        type: 'button', testid: 'user-edit-open',
        onclick: async () => {
          fill(formBox, loading());
          const f = await editForm(ctx, u, () => ctx.reload());
          if (ctx.alive()) { fill(formBox, f); f.scrollIntoView({ block: 'start' }); }
        },
      }, t('users.edit_button')));
      buttons.append(h('button', {
        type: 'button', testid: 'user-reset-password',
        onclick: async () => {
          try {
            const res = await api(`/users/${enc(u.id)}/password`, { method: 'POST', body: {} });
            fill(msg, h('p', { class: 'notice', testid: 'new-password' }, t('users.new_password', res.password)));
          } catch (e) {
            if (!(/** @type {any} */ (e).handled)) fill(msg, h('p', { class: 'error' }, errorText(e)));
          }
        },
      }, t('users.reset_password')));
    }
    // One's own account is not disabled from here.
    if ((manage || session.can('devices.manage')) && u.id !== session.me?.id) {
      buttons.append(h('button', {
        type: 'button', testid: u.disabled ? 'user-enable' : 'user-disable', class: u.disabled ? null : 'danger',
        onclick: async () => {
          try {
            await api(`/users/${enc(u.id)}/${u.disabled ? 'enable' : 'disable'}`, { method: 'POST' });
            forgetUsers();
            toast('notice', t(u.disabled ? 'users.enabled' : 'users.disabled', u.display_name), true);
            ctx.reload();
          } catch (e) {
            if (!(/** @type {any} */ (e).handled)) fill(msg, h('p', { class: 'error', testid: 'user-action-error' }, errorText(e)));
          }
        },
      }, u.disabled ? t('users.enable') : t('users.disable')));
    }
    if (session.can('devices.manage')) buttons.append(h('a', { class: 'button', href: `#/users/${enc(u.id)}/devices`, testid: 'user-devices' }, t('users.devices')));
    if (session.can('enrolment.issue') && !u.disabled && (u.role === 'surveyor' || u.role === 'monitor')) {
      buttons.append(h('a', { class: 'button', href: `#/users/${enc(u.id)}/enrol`, testid: 'user-enrol' }, t('users.enrol')));
    }
    const scopeUnits = u.scope?.units || [];
    const scopeAgencies = u.scope?.agencies || [];
    return h('tr', { testid: 'user-row', dataset: { username: u.username, role: u.role, disabled: String(Boolean(u.disabled)) } },
      h('td', null, named(u.display_name, u.username)),
      h('td', null, roleName(u.role)),
      h('td', { testid: 'user-scope' }, scopeUnits.length === 0 && scopeAgencies.length === 0 ? h('span', { class: 'muted' }, t('users.scope_all'))
        : [scopeUnits.map((x) => x.name).join(', '), scopeAgencies.length ? h('div', { class: 'small muted' }, scopeAgencies.map((x) => x.name).join(', ')) : null]),
      h('td', null, u.disabled ? h('span', { class: 'badge rejected' }, t('users.state_disabled')) : h('span', { class: 'badge approved' }, t('users.state_active')),
        u.role === 'surveyor' ? h('div', { class: 'small muted' }, t('users.last_sync', fmtDateTime(u.last_sync_at))) : null),
      h('td', null, buttons, msg));
  });
  fill(ctx.view, ...head,
    list.length === 0 ? empty(t('users.empty'), 'users-empty')
      : table('users-table', [t('users.name'), t('users.role'), t('users.scope'), t('users.state'), t('users.actions')], rows));
}

/** @param {string} id */
async function userById(id) {
  const list = await usersOf();
  return list.find((u) => u.id === id) || null;
}

/** @param {Ctx} ctx @param {string} userId */
export async function pageDevices(ctx, userId) {
  ctx.view.append(loading());
  const [user, devices] = await Promise.all([userById(userId), /** @type {Promise<Device[]>} */ (api(`/devices${qs({ user_id: userId })}`))]);
  if (!ctx.alive()) return;
  const who = user ? user.display_name : t('review.unknown_user');
  const rows = devices.map((d) => {
    const msg = h('span', { class: 'small', 'aria-live': 'polite' });
    const revoke = d.revoked_at ? null : h('button', {
      type: 'button', class: 'danger', testid: 'device-revoke',
      onclick: async () => {
        try {
          await api(`/devices/${enc(d.id)}/revoke`, { method: 'POST' });
          toast('notice', t('devices.revoked_ok', d.name), true);
          ctx.reload();
        } catch (e) {
          if (!(/** @type {any} */ (e).handled)) fill(msg, h('span', { class: 'error' }, errorText(e)));
        }
      },
    }, t('devices.revoke'));
    return h('tr', { testid: 'device-row', dataset: { revoked: String(Boolean(d.revoked_at)) } },
      h('td', null, d.name),
      h('td', null, fmtDateTime(d.enrolled_at)),
      h('td', { testid: 'device-last-sync' }, d.last_sync_at ? fmtDateTime(d.last_sync_at) : t('devices.never')),
      h('td', null, d.revoked_at ? h('span', { class: 'badge rejected' }, t('devices.revoked_at', fmtDateTime(d.revoked_at))) : h('span', { class: 'badge approved' }, t('devices.active'))),
      h('td', null, revoke, msg));
  });
  fill(ctx.view, h('p', null, h('a', { href: '#/users' }, t('common.back'))),
    h('h2', null, t('devices.heading', who)),
    session.can('enrolment.issue') ? h('div', { class: 'actions' }, h('a', { class: 'button', href: `#/users/${enc(userId)}/enrol`, testid: 'device-enrol' }, t('users.enrol'))) : null,
    devices.length === 0 ? empty(t('devices.empty'), 'devices-empty')
      : table('devices-table', [t('devices.name'), t('devices.enrolled'), t('devices.last_sync'), t('devices.state'), t('users.actions')], rows));
}

/** @param {Ctx} ctx @param {string} userId */
export async function pageEnrol(ctx, userId) {
  ctx.view.append(loading());
  const user = await userById(userId);
  if (!ctx.alive()) return;
  const who = user ? user.display_name : t('review.unknown_user');
  const box = h('section', { class: 'enrol-box', testid: 'enrol-box', 'aria-live': 'polite' });
  const issue = h('button', { type: 'button', class: 'primary', testid: 'enrol-issue' }, t('enrol.issue'));
  issue.addEventListener('click', async () => {
    issue.disabled = true;
    fill(box, loading());
    try {
      /** @type {EnrolmentCode} */
      const code = await api('/enrolment-codes', { method: 'POST', body: { user_id: userId } });
      if (!ctx.alive()) return;
      const svg = code.qr_svg ? safeSvg(code.qr_svg) : null;
      if (svg) { svg.setAttribute('role', 'img'); svg.setAttribute('aria-label', t('enrol.qr')); svg.classList.add('qr'); }
      fill(box,
        h('p', { class: 'muted' }, t('enrol.for', who)),
        h('p', { class: 'enrol-code', testid: 'enrol-code' }, code.code),
        h('p', { testid: 'enrol-expires' }, t('enrol.expires', fmtDateTime(code.expires_at, true))),
        svg ? h('div', { class: 'qr-box', testid: 'enrol-qr' }, svg) : null,
        code.payload ? h('p', { class: 'small' }, t('enrol.payload')) : null,
        code.payload ? h('textarea', {
          class: 'enrol-payload', testid: 'enrol-payload', readonly: true, rows: 3, 'aria-label': t('enrol.payload'),
        }, code.payload) : null,
        code.server_url ? h('p', { class: 'small' }, t('enrol.server', code.server_url)) : null,
        code.fingerprint ? h('p', { class: 'small muted' }, t('enrol.fingerprint'), ' ', h('span', { class: 'code' }, code.fingerprint)) : null,
        h('p', { class: 'muted small' }, t('enrol.hint')));
      issue.textContent = t('enrol.again');
    } catch (e) {
      if (/** @type {any} */ (e).handled || !ctx.alive()) return;
      fill(box, h('p', { class: 'error', role: 'alert', testid: 'enrol-error' }, errorText(e)));
    } finally {
      issue.disabled = false;
    }
  });
  fill(ctx.view, h('p', null, h('a', { href: '#/users' }, t('common.back'))),
    h('h2', null, t('enrol.heading', who)), h('p', { class: 'muted' }, t('enrol.intro')),
    h('div', { class: 'actions' }, issue), box);
}
