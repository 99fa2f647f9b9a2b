// application_detail.js — one application: its fields, its history (time,
// actor, from, to, reason) and, for operators, a button per allowed move.
// Moving to issued asks for the certificate PEM, rejected for a reason,
// cancelled for a confirmation; the dialog then shows the application again.
// An application fulfilled through ACME shows what the CA checks, refreshed
// while it moves on by itself.

import { t, fmtTime } from '../i18n.js';
import { h, clear, button, field, toast } from '../dom.js';
import { api, errText, errField } from '../api.js';
import { openDialog, confirmDialog } from '../dialog.js';
import { stateTag, domainsText } from './applications.js';
import { contactDialog } from './contact_edit.js';

function facts(a, contactName, openContact) {
  const who = contactName || `#${a.contact_id}`;
  const rows = [
    [t('apps.product'), `${a.product} (${a.brand} · ${a.validation})`],
    [t('apps.state'), stateTag(a.state)],
    [t('apply.contact'), openContact ? button(who, openContact, 'btn-link btn-inline', { 'aria-label': t('apps.editContactOf', { name: who }) }) : who],
    [t('apps.domains'), domainsText(a.domains)],
    [t('common.created'), fmtTime(a.created_at)],
    [t('apps.updated'), fmtTime(a.updated_at)],
  ];
  if (a.csr) rows.push([t('apply.csr'), h('details', null, h('summary', null, t('common.show')), h('pre', { class: 'pem' }, a.csr))]);
  if (a.certificate_pem) rows.push([t('apps.certificatePem'), h('details', null, h('summary', null, t('common.show')), h('pre', { class: 'pem' }, a.certificate_pem))]);
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function history(list) {
  const cols = [t('common.time'), t('apps.actor'), t('apps.from'), t('apps.to'), t('apps.reason')];
  return h('table', { class: 'grid grid-compact' },
    h('caption', null, t('apps.history')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, (list || []).map((e) => h('tr', null,
      h('td', { 'data-label': cols[0] }, fmtTime(e.at)),
      h('td', { 'data-label': cols[1], class: 'wrap' }, e.actor || t('common.none')),
      h('td', { 'data-label': cols[2] }, e.from ? t(`astate.${e.from}`) : t('common.none')),
      h('td', { 'data-label': cols[3] }, t(`astate.${e.to}`)),
      h('td', { 'data-label': cols[4], class: 'wrap' }, e.reason || t('common.none'))))));
}

/** The ACME order: what the CA checks for each name (a copy button for each
 * value to publish), the order's status and the last error while retried. */
function acmeSection(acme) {
  const copy = (name, value) => button(t('acme.copy'), async () => {
    try {
      await navigator.clipboard.writeText(value);
      toast(t('acme.copied'));
    } catch (e) {
      toast(errText(e), 'error');
    }
  }, 'btn-link btn-inline', { 'aria-label': t('acme.copyValue', { name }) });
  const cols = [t('acme.domain'), t('acme.type'), t('acme.status'), t('acme.what')];
  const what = (v) => (v.type === 'dns-01'
    ? [h('div', null, t('acme.dnsRecord', { name: v.dns_name })), h('code', { class: 'wrap' }, v.dns_value), ' ', copy(v.dns_name, v.dns_value)]
    : [h('div', null, t('acme.httpAt', { uri: v.http_uri })), h('code', { class: 'wrap' }, v.http_content), ' ', copy(v.http_uri, v.http_content)]);
  return h('section', { class: 'acme', 'aria-live': 'polite' },
    h('h3', null, t('acme.title')),
    h('p', { class: 'muted' }, t('acme.intro')),
    h('p', null, t('acme.order', { status: acme.order_status || t('common.none') })),
    acme.last_error ? h('p', { class: 'form-error' }, t('acme.lastError', { message: acme.last_error })) : null,
    h('table', { class: 'grid grid-compact' },
      h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, (acme.validation || []).map((v) => h('tr', null,
        h('td', { 'data-label': cols[0], class: 'wrap' }, v.domain),
        h('td', { 'data-label': cols[1] }, v.type),
        h('td', { 'data-label': cols[2] }, v.status),
        h('td', { 'data-label': cols[3], class: 'wrap' }, what(v)))))));
}

const OPEN_STATES = ['submitted', 'pending_validation', 'approved'];

/** A dialog asking what a move needs: a reason (required for rejected) or the certificate PEM. */
function moveDialog(a, to, moved) {
  const issued = to === 'issued';
  const input = issued
    ? h('textarea', { rows: '8', spellcheck: 'false', class: 'mono', placeholder: '-----BEGIN CERTIFICATE-----' })
    : h('textarea', { rows: '3', maxlength: '512' });
  const f = field({ label: issued ? t('apps.certificatePem') : t('apps.reason'), input, required: true, hint: issued ? t('apps.pemHint') : null });
  const ok = button(t(`amove.${to}`), async () => {
    f.error('');
    const v = input.value.trim();
    if (!v) {
      f.error(t('form.required'));
      input.focus();
      return;
    }
    ok.disabled = true;
    try {
      const r = await api('POST', `/v1/applications/${a.id}/transitions`, issued ? { to, certificate_pem: v } : { to, reason: v });
      d.close();
      moved(r);
    } catch (e) {
      ok.disabled = false;
      if (errField(e)) f.error(errText(e));
      else d.error(errText(e));
      input.focus();
    }
  }, issued ? 'btn-primary' : 'btn-danger');
  const d = openDialog({ title: t('apps.moveTitle', { id: a.id, state: t(`astate.${to}`) }), body: f.wrap, footer: [ok, button(t('common.cancel'), () => d.close())], wide: issued });
}

/** Opens application id (a: the application when the caller has it already); reload() refreshes the list. */
export async function applicationDialog(id, view, reload, a) {
  let app = a || null;
  let timer = null;
  const body = h('div', null, h('p', { class: 'muted' }, t('common.loading')));
  const moves = h('div', { class: 'moves', role: 'group', 'aria-label': t('apps.moves') });
  const d = openDialog({ title: t('apps.detailTitle', { id }), body, footer: [moves, button(t('common.close'), () => d.close())], wide: true });

  async function move(to) {
    try {
      const r = await api('POST', `/v1/applications/${id}/transitions`, { to });
      after(r);
    } catch (e) {
      d.error(errText(e));
    }
  }
  async function after(r) {
    toast(t('apps.moved', { id, state: t(`astate.${r.state}`) }));
    app = r;
    if (reload) reload();
    await paint();
    // the button pressed is gone: focus goes to the next move, else the dialog
    (moves.querySelector('button') || d.el).focus();
  }

  // Reads the application again after ms; a read that fails (the server busy or
  // restarting) is tried again, less often, while the dialog stays open.
  function follow(ms) {
    timer = setTimeout(async () => {
      if (!d.el.isConnected) return;
      let next;
      try {
        next = await api('GET', `/v1/applications/${id}`);
      } catch (e) {
        follow(Math.min(ms * 2, 15000));
        return;
      }
      app = next;
      if (reload && !OPEN_STATES.includes(app.state)) reload();
      await paint();
    }, ms);
  }

  async function paint() {
    let name = null;
    try {
      name = (await api('GET', `/v1/contacts/${app.contact_id}`)).name;
    } catch (e) {
      name = null;
    }
    const openContact = view.write ? () => contactDialog(app.contact_id, () => paint(), view) : null;
    clear(body).append(facts(app, name, openContact),
      app.acme ? acmeSection(app.acme) : app.fulfilment === 'acme' ? h('p', { class: 'muted', 'aria-live': 'polite' }, t('acme.placing')) : '',
      history(app.history));
    // an ACME application moves by itself: its progress is shown live while the dialog is open
    clearTimeout(timer);
    if ((app.acme || app.fulfilment === 'acme') && OPEN_STATES.includes(app.state)) follow(2000);
    clear(moves);
    moves.hidden = !view.write || !(app.allowed_transitions || []).length;
    if (!view.write) return;
    for (const to of app.allowed_transitions || []) {
      const cls = to === 'rejected' || to === 'cancelled' ? 'btn-danger' : 'btn-primary';
      moves.appendChild(button(t(`amove.${to}`), () => {
        d.error('');
        if (to === 'issued' || to === 'rejected') moveDialog(app, to, after);
        else if (to === 'cancelled') confirmDialog({ title: t('amove.cancelled'), text: t('apps.cancelText', { id }), okLabel: t('amove.cancelled'), danger: true, action: () => move(to) });
        else move(to);
      }, cls));
    }
  }

  try {
    if (!app || !app.history) app = await api('GET', `/v1/applications/${id}`);
  } catch (e) {
    clear(body).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
    return;
  }
  await paint();
}
