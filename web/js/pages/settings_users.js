// settings_users.js — Settings > Users (admins): the account's console users
// with role, state and last sign-in; change a role, disable, enable or delete
// (never oneself); lift a user's sign-in locks; a new user's generated password
// is shown once.

import { t, fmtTime } from '../i18n.js';
import { h, append, clear, button, field, toast } from '../dom.js';
import { api, errText, errField } from '../api.js';
import { openDialog, confirmDialog, secretDialog } from '../dialog.js';
import { roleSelect } from '../roles.js';

export async function usersTab(panel, view) {
  const region = h('div', { class: 'table-region' }, h('p', { class: 'muted' }, t('common.loading')));
  append(panel, [h('div', { class: 'toolbar' }, button(t('users.create'), () => createUserDialog(load), 'btn-primary')), region]);
  async function load() {
    let r;
    try {
      r = await api('GET', '/v1/users');
    } catch (e) {
      clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
      return;
    }
    if (!view.alive()) return;
    const cols = [t('users.email'), t('common.role'), t('common.status'), t('users.lastSignIn'), t('common.actions')];
    clear(region).appendChild(h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, t('settings.users')),
      h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, r.users.map((u) => userRow(u, u.id === view.user.id, cols, load)))));
  }
  load();
}

/** One user's row; me (the signed-in user) can change neither own role nor state. */
function userRow(u, me, cols, load) {
  const rs = roleSelect(u.role);
  rs.setAttribute('aria-label', `${t('common.role')} · ${u.email}`);
  rs.disabled = me;
  rs.addEventListener('change', () => patchUser(u, { role: rs.value }, load));
  const locked = u.locked_until && Date.parse(u.locked_until) > Date.now();
  return h('tr', null,
    h('th', { scope: 'row', 'data-label': cols[0] }, u.email, me ? ` ${t('users.you')}` : ''),
    h('td', { 'data-label': cols[1] }, rs),
    h('td', { 'data-label': cols[2] }, u.disabled ? t('common.disabled') : t('common.enabled'), locked ? ` · ${t('users.locked', { time: fmtTime(u.locked_until) })}` : ''),
    h('td', { 'data-label': cols[3] }, fmtTime(u.last_sign_in_at)),
    h('td', { class: 'actions', 'data-label': cols[4] }, locked ? button(t('users.unlock'), () => unlockUser(u, load), 'btn-link') : null, me ? null : [
      button(u.disabled ? t('users.enable') : t('users.disable'), () => patchUser(u, { disabled: !u.disabled }, load), 'btn-link'),
      button(t('common.delete'), () => confirmDialog({
        title: t('users.deleteTitle'),
        text: t('users.deleteText', { email: u.email }),
        okLabel: t('common.delete'),
        danger: true,
        async action() {
          await api('DELETE', `/v1/users/${u.id}`);
          load();
        },
      }), 'btn-link btn-link-danger')]));
}

async function unlockUser(u, load) {
  try {
    await api('POST', `/v1/users/${u.id}/unlock`, {});
    toast(t('users.unlocked', { email: u.email }));
  } catch (e) {
    toast(t('common.error', { message: errText(e) }), 'error');
  }
  load();
}

async function patchUser(u, body, load) {
  try {
    await api('PATCH', `/v1/users/${u.id}`, body);
    toast(t('common.saved'));
  } catch (e) {
    toast(t('common.error', { message: errText(e) }), 'error');
  }
  load();
}

function createUserDialog(load) {
  const email = field({ label: t('users.email'), input: h('input', { type: 'email', autocomplete: 'off', maxlength: '254' }), required: true });
  const role = field({ label: t('common.role'), input: roleSelect('operator') });
  const pw = field({ label: t('users.password'), input: h('input', { type: 'password', autocomplete: 'new-password', maxlength: '128' }), hint: t('users.passwordNote') });
  const ok = button(t('common.ok'), async () => {
    ok.disabled = true;
    email.error('');
    pw.error('');
    const body = { email: email.input.value.trim(), role: role.input.value };
    if (pw.input.value) body.password = pw.input.value;
    try {
      const r = await api('POST', '/v1/users', body);
      d.close();
      load();
      if (r.password) secretDialog(t('users.createdTitle'), t('users.generated'), [[t('users.email'), r.user.email], [t('signin.password'), r.password]]);
      else toast(t('common.saved'));
    } catch (e) {
      const f = errField(e);
      if (f === 'Password') pw.error(errText(e));
      else if (f === 'Email') email.error(errText(e));
      else d.error(errText(e));
      ok.disabled = false;
    }
  }, 'btn-primary');
  const d = openDialog({ title: t('users.create'), body: [email.wrap, role.wrap, pw.wrap], footer: [ok, button(t('common.cancel'), () => d.close())] });
}
