// contact_delete.js — deleting a contact: a confirmation first; when the
// server answers Contact.InUse (an open application names the contact) a
// dialog says why, lists those applications and offers Reassign: pick another
// contact, move the applications and certificates to it
// (POST /v1/contacts/{id}/reassign), then delete.

import { t } from '../i18n.js';
import { h, uid, button, field, selectEl, toast } from '../dom.js';
import { api, errText } from '../api.js';
import { openDialog, confirmDialog } from '../dialog.js';
import { domainsText } from './applications.js';

export function deleteContact(c, reload) {
  let inUse = null;
  confirmDialog({
    title: t('delete.title'),
    text: t('delete.text', { name: c.name }),
    okLabel: t('common.delete'),
    danger: true,
    async action() {
      try {
        await api('DELETE', `/v1/contacts/${c.id}`);
      } catch (e) {
        if (e.code !== 'Contact.InUse') throw e;
        inUse = e;
        // opened once the confirmation has closed and handed focus back
        setTimeout(() => inUseDialog(c, inUse, reload), 0);
        return;
      }
      toast(t('contacts.deleted', { name: c.name }));
      reload();
    },
  });
}

async function inUseDialog(c, e, reload) {
  const apps = Array.isArray(e.body.applications) ? e.body.applications : [];
  let others = [];
  try {
    others = (await api('GET', '/v1/contacts?page=1&page_size=100')).items.filter((x) => x.id !== c.id);
  } catch (err) {
    others = [];
  }
  const textId = uid('inuse');
  const list = h('ul', { class: 'used-list' }, apps.map((a) => h('li', null,
    h('a', { href: `#/applications/${a.id}` }, `#${a.id} ${domainsText(a.domains)}`), ' ',
    h('span', { class: 'muted' }, `${a.product} · ${t(`astate.${a.state}`)}`))));
  const to = others.length ? field({ label: t('reassign.to'), input: selectEl(others.map((x) => [String(x.id), x.name]), String(others[0].id)) }) : null;
  const body = [
    h('p', { id: textId }, t('reassign.why', { name: c.name }), ' ', h('span', { class: 'muted' }, e.message)),
    list,
    e.body.applications_total > apps.length ? h('p', { class: 'muted' }, t('form.moreApplications', { n: e.body.applications_total - apps.length })) : null,
    to ? to.wrap : h('p', { class: 'muted' }, t('reassign.noOther')),
  ];
  const ok = to ? button(t('reassign.ok'), async () => {
    ok.disabled = true;
    d.error('');
    try {
      const target = Number(to.input.value);
      const r = await api('POST', `/v1/contacts/${c.id}/reassign`, { to_contact_id: target });
      await api('DELETE', `/v1/contacts/${c.id}`);
      d.close();
      toast(t('reassign.done', { name: c.name, apps: r.moved_applications, certs: r.moved_certificates, to: others.find((x) => x.id === target).name }));
      reload();
    } catch (err) {
      ok.disabled = false;
      d.error(errText(err));
    }
  }, 'btn-primary') : null;
  const d = openDialog({ title: t('reassign.title'), describe: textId, body, footer: [ok, button(t('common.cancel'), () => d.close())], wide: true });
}
