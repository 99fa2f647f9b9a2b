// endpoints.js — Endpoints (under Certificates): the TLS servers the account
// watches, each with its last check coloured by state (ok, expiring,
// outdated, error, not checked yet), what it serves and why it is in error;
// operators add one (host, port, server name, the contacts to tell), check
// one now, change its contacts and remove it.

import { t, fmtTime } from '../i18n.js';
import { h, append, button, field, pageHead, pager, toast } from '../dom.js';
import { api, errText, errField, fetchPage } from '../api.js';
import { openDialog, confirmDialog } from '../dialog.js';
import { contactChecks } from './certificate_detail.js';

// kept while the console is open, so coming back finds the same page
const st = { page: 1, pageSize: 20 };

function where(e) {
  const host = e.host.includes(':') ? `[${e.host}]` : e.host;
  return e.sni ? `${e.sni}:${e.port} (${host})` : `${host}:${e.port}`;
}

export function endpointStateTag(s) {
  return h('span', { class: ['nstatus', `estate-${s}`] }, t(`estate.${s}`));
}

export async function endpointsPage(main, view) {
  const add = view.write ? button(t('eps.add'), () => addDialog(load), 'btn-primary') : null;
  const region = h('div', { class: 'table-region', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('common.loading')));
  append(main, [pageHead([t('nav.certificates'), t('nav.endpoints')], t('eps.title'), t('eps.intro')), h('div', { class: 'toolbar' }, add), region]);

  async function load() {
    const r = await fetchPage(region, view, st, '/v1/endpoints', {}, load);
    if (!r) return;
    if (!r.items.length) {
      region.appendChild(h('div', { class: 'empty' }, h('p', null, t('eps.empty'))));
      return;
    }
    region.appendChild(table(r.items, view, load));
    region.appendChild(pager(st, r.total, load));
  }
  if (!view.alive()) return;
  await load();
}

function served(k) {
  if (!k) return t('eps.notChecked');
  if (!k.handshake_ok) return t('common.none');
  return [(k.names || []).join(', '), h('br'), h('span', { class: 'muted' }, `${t('eps.expires')} ${(k.not_after || '').slice(0, 10)} · ${k.tls_version || ''}`)];
}

function lastCheck(k) {
  if (!k) return t('eps.notChecked');
  return [fmtTime(k.checked_at), k.error ? [h('br'), h('span', { class: 'form-error' }, k.error)] : null];
}

function table(items, view, load) {
  const cols = [t('eps.endpoint'), t('eps.state'), t('eps.served'), t('eps.lastCheck'), t('eps.contacts'), t('common.actions')];
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('eps.title')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, items.map((e) => h('tr', null,
      h('th', { scope: 'row', 'data-label': cols[0], class: 'wrap' }, where(e)),
      h('td', { 'data-label': cols[1] }, endpointStateTag(e.state),
        e.last_check && e.last_check.newer_certificate_id ? [' ', h('a', { href: `#/certificates/${e.last_check.newer_certificate_id}` }, t('eps.newer'))] : null),
      h('td', { 'data-label': cols[2], class: 'wrap' }, served(e.last_check)),
      h('td', { 'data-label': cols[3], class: 'wrap' }, lastCheck(e.last_check)),
      h('td', { 'data-label': cols[4] }, String(e.contact_ids.length)),
      h('td', { class: 'actions', 'data-label': cols[5] }, view.write ? [
        button(t('eps.checkNow'), async (ev) => {
          ev.target.disabled = true;
          try {
            const r = await api('POST', `/v1/endpoints/${e.id}/check`);
            toast(t('eps.checked', { name: where(e), state: t(`estate.${r.state}`) }));
            load();
          } catch (err) {
            ev.target.disabled = false;
            toast(t('common.error', { message: errText(err) }), 'error');
          }
        }, 'btn-link', { 'aria-label': t('eps.checkNowOf', { name: where(e) }) }),
        button(t('eps.contacts'), () => contactsDialog(e, load), 'btn-link', { 'aria-label': t('eps.contactsOf', { name: where(e) }) }),
        button(t('common.delete'), () => confirmDialog({
          title: t('eps.removeTitle'),
          text: t('eps.removeText', { name: where(e) }),
          okLabel: t('common.delete'),
          danger: true,
          action: async () => {
            await api('DELETE', `/v1/endpoints/${e.id}`);
            toast(t('eps.removed', { name: where(e) }));
            load();
          },
        }), 'btn-link', { 'aria-label': t('eps.removeOf', { name: where(e) }) }),
      ] : null)))));
}

function addDialog(load) {
  const host = field({ label: t('eps.host'), input: h('input', { type: 'text', maxlength: '253', autocomplete: 'off', spellcheck: 'false', placeholder: 'www.example.com' }), required: true });
  const port = field({ label: t('eps.port'), input: h('input', { type: 'number', min: '1', max: '65535', step: '1', value: '443', inputmode: 'numeric', class: 'num' }) });
  const sni = field({ label: t('eps.sni'), input: h('input', { type: 'text', maxlength: '253', autocomplete: 'off', spellcheck: 'false' }), hint: t('eps.sniHint') });
  const subs = contactChecks([]);
  const fields = { Host: host, Port: port, Sni: sni };
  const ok = button(t('eps.addOk'), async () => {
    d.error('');
    for (const f of Object.values(fields)) f.error('');
    const body = { host: host.input.value.trim() };
    if (!body.host) {
      host.error(t('form.required'));
      host.input.focus();
      return;
    }
    if (port.input.value.trim()) body.port = Number(port.input.value.trim());
    if (sni.input.value.trim()) body.sni = sni.input.value.trim();
    const ids = subs.value();
    if (ids.length) body.contact_ids = ids;
    ok.disabled = true;
    try {
      const e = await api('POST', '/v1/endpoints', body);
      d.close();
      toast(t('eps.added', { name: where(e) }));
      load();
    } catch (err) {
      ok.disabled = false;
      const fld = errField(err);
      if (fld && fields[fld]) {
        fields[fld].error(errText(err));
        fields[fld].input.focus();
      } else {
        d.error(errText(err));
      }
    }
  }, 'btn-primary');
  const d = openDialog({
    title: t('eps.add'),
    body: h('form', { class: 'upload-form', novalidate: true }, host.wrap, port.wrap, sni.wrap, subs.wrap),
    footer: [ok, button(t('common.cancel'), () => d.close())],
    wide: true,
  });
}

function contactsDialog(e, load) {
  const subs = contactChecks(e.contact_ids);
  const ok = button(t('common.save'), async () => {
    ok.disabled = true;
    try {
      await api('PATCH', `/v1/endpoints/${e.id}`, { contact_ids: subs.value() });
      d.close();
      toast(t('eps.contactsSaved'));
      load();
    } catch (err) {
      ok.disabled = false;
      d.error(errText(err));
    }
  }, 'btn-primary');
  const d = openDialog({
    title: t('eps.contactsTitle', { name: where(e) }),
    body: h('form', { novalidate: true }, subs.wrap),
    footer: [ok, button(t('common.cancel'), () => d.close())],
  });
}
