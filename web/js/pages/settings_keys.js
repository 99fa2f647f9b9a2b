// settings_keys.js — Settings > Access Keys (admins): the account's API keys
// with their role and state; a new key's secret is shown once; Disable asks
// first.

import { t, fmtTime } from '../i18n.js';
import { h, append, clear, button, field } from '../dom.js';
import { api, errText } from '../api.js';
import { openDialog, confirmDialog, secretDialog } from '../dialog.js';
import { roleSelect } from '../roles.js';

export async function keysTab(panel, view) {
  const region = h('div', { class: 'table-region' }, h('p', { class: 'muted' }, t('common.loading')));
  const create = button(t('keys.create'), () => createKeyDialog(load), 'btn-primary');
  append(panel, [h('p', { class: 'page-intro' }, t('keys.intro')), h('div', { class: 'toolbar' }, create), region]);
  async function load() {
    let r;
    try {
      r = await api('GET', '/v1/keys');
    } catch (e) {
      clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
      return;
    }
    if (!view.alive()) return;
    clear(region).appendChild(keysTable(r.keys, load));
  }
  load();
}

function keysTable(keys, load) {
  const cols = [t('keys.id'), t('common.role'), t('common.status'), t('common.created'), t('keys.disabledAt'), t('common.actions')];
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('settings.keys')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, keys.map((k) => h('tr', null,
      h('th', { scope: 'row', 'data-label': cols[0], class: 'mono' }, k.id),
      h('td', { 'data-label': cols[1] }, t(`role.${k.role}`)),
      h('td', { 'data-label': cols[2] }, k.disabled ? t('common.disabled') : t('common.enabled')),
      h('td', { 'data-label': cols[3] }, fmtTime(k.created_at)),
      h('td', { 'data-label': cols[4] }, fmtTime(k.disabled_at)),
      h('td', { class: 'actions', 'data-label': cols[5] }, k.disabled ? null : button(t('keys.disable'), () => confirmDialog({
        title: t('keys.disableTitle'),
        text: t('keys.disableText', { id: k.id }),
        okLabel: t('keys.disable'),
        danger: true,
        async action() {
          await api('POST', `/v1/keys/${encodeURIComponent(k.id)}/disable`);
          load();
        },
      }), 'btn-link btn-link-danger'))))));
}

function createKeyDialog(load) {
  const role = field({ label: t('common.role'), input: roleSelect('readonly') });
  const ok = button(t('common.ok'), async () => {
    ok.disabled = true;
    try {
      const r = await api('POST', '/v1/keys', { role: role.input.value });
      d.close();
      load();
      secretDialog(t('keys.secretTitle'), t('keys.secretText'), [[t('keys.id'), r.key.id], [t('keys.secret'), r.secret]]);
    } catch (e) {
      d.error(errText(e));
      ok.disabled = false;
    }
  }, 'btn-primary');
  const d = openDialog({ title: t('keys.create'), body: role.wrap, footer: [ok, button(t('common.cancel'), () => d.close())] });
}
