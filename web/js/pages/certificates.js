// certificates.js — Certificates: the account's certificates sorted by expiry,
// with the days left (marked when under the account's first reminder
// threshold), filters (state, expiring within N days, keyword or domain),
// Upload (operators: a PEM file or pasted text, an optional private key, a
// name, the contacts to notify) and each certificate's detail
// (certificate_detail.js). #/certificates/ID opens that detail over the list.

import { t } from '../i18n.js';
import { h, append, clear, uid, button, field, selectEl, pageHead, pager, toast } from '../dom.js';
import { api, errText, errField, fetchPage } from '../api.js';
import { openDialog } from '../dialog.js';
import { certificateDialog, contactChecks } from './certificate_detail.js';

const STATES = ['active', 'expired', 'revoked', 'superseded'];
const DEFAULT_THRESHOLD = 30;

// kept while the console is open, so coming back finds the same filters and page
const st = { page: 1, pageSize: 20, state: '', within: '', keyword: '' };

/** The account's first (largest) reminder threshold in days; 30 when the settings cannot be read. */
async function threshold() {
  try {
    const r = await api('GET', '/v1/settings/reminders');
    const days = (r && r.days_before) || [];
    return days.length ? Math.max(...days) : DEFAULT_THRESHOLD;
  } catch (e) {
    return DEFAULT_THRESHOLD;
  }
}

export function daysLeftTag(c, limit) {
  const n = c.days_left;
  const soon = c.state === 'active' && n <= limit;
  const text = n < 0 ? t('certs.expiredAgo', { n: -n }) : t('certs.daysLeft', { n });
  return h('span', { class: ['days', soon ? 'days-soon' : null, n < 0 ? 'days-gone' : null], title: soon ? t('certs.soonHint', { n: limit }) : null }, text);
}

export function certStateTag(s) {
  return h('span', { class: ['nstatus', `cstate-${s}`] }, t(`cstate.${s}`));
}

export async function certificatesPage(main, view) {
  const fState = field({ label: t('certs.state'), input: selectEl([['', t('common.all')], ...STATES.map((s) => [s, t(`cstate.${s}`)])], st.state) });
  const fWithin = field({ label: t('certs.within'), input: h('input', { type: 'number', min: '1', max: '3650', step: '1', value: st.within, inputmode: 'numeric', class: 'num' }) });
  const fKeyword = field({ label: t('certs.keyword'), input: h('input', { type: 'search', maxlength: '64', value: st.keyword, placeholder: t('certs.keywordPlaceholder') }) });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('certs.filters') }, fState.wrap, fWithin.wrap, fKeyword.wrap,
    h('button', { type: 'submit', class: 'btn' }, t('common.search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    apply();
  });
  fState.input.addEventListener('change', apply);
  function apply() {
    st.state = fState.input.value;
    st.within = fWithin.input.value.trim();
    st.keyword = fKeyword.input.value.trim();
    st.page = 1;
    load();
  }
  const upload = view.write ? button(t('certs.upload'), () => uploadDialog(view, load), 'btn-primary') : null;
  const region = h('div', { class: 'table-region', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('common.loading')));
  append(main, [pageHead([t('nav.certificates')], t('certs.title'), t('certs.intro')), h('div', { class: 'toolbar' }, upload), form, region]);
  const limit = await threshold();

  async function load() {
    const r = await fetchPage(region, view, st, '/v1/certificates', { state: st.state, expiring_within_days: st.within, keyword: st.keyword }, load);
    if (!r) return;
    if (!r.items.length) {
      region.appendChild(h('div', { class: 'empty' }, h('p', null, t(st.state || st.within || st.keyword ? 'certs.emptyFilter' : 'certs.empty'))));
      return;
    }
    region.appendChild(certificatesTable(r.items, limit, view, load));
    region.appendChild(pager(st, r.total, load));
  }
  if (!view.alive()) return;
  await load();
  const m = /^#\/certificates\/(\d+)/.exec(location.hash || '');
  if (m && view.alive()) certificateDialog(Number(m[1]), view, load, limit);
}

function certificatesTable(items, limit, view, load) {
  const cols = [t('certs.name'), t('certs.domains'), t('certs.state'), t('certs.notAfter'), t('certs.daysLeftCol'), t('certs.issuer'), t('common.actions')];
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('certs.title')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, items.map((c) => h('tr', null,
      h('th', { scope: 'row', 'data-label': cols[0], class: 'wrap' }, c.name || c.common_name || `#${c.id}`),
      h('td', { 'data-label': cols[1], class: 'wrap' }, (c.domains || []).join(', ')),
      h('td', { 'data-label': cols[2] }, certStateTag(c.state)),
      h('td', { 'data-label': cols[3] }, (c.not_after || '').slice(0, 10)),
      h('td', { 'data-label': cols[4] }, daysLeftTag(c, limit)),
      h('td', { 'data-label': cols[5], class: 'wrap' }, c.issuer || t('common.none')),
      h('td', { class: 'actions', 'data-label': cols[6] },
        button(t('common.details'), () => certificateDialog(c.id, view, load, limit), 'btn-link', { 'aria-label': t('certs.detailsOf', { name: c.name || c.common_name || c.id }) }))))));
}

function uploadDialog(view, load) {
  const file = h('input', { type: 'file', accept: '.pem,.crt,.cer,.txt,application/x-pem-file' });
  const pem = field({ label: t('certs.pem'), input: h('textarea', { rows: '8', spellcheck: 'false', class: 'mono', placeholder: '-----BEGIN CERTIFICATE-----' }), required: true, hint: t('certs.pemHint') });
  const fileField = field({ label: t('certs.pemFile'), input: file });
  const key = field({ label: t('certs.privateKey'), input: h('textarea', { rows: '4', spellcheck: 'false', class: 'mono', placeholder: '-----BEGIN PRIVATE KEY-----' }), hint: t('certs.privateKeyHint') });
  const name = field({ label: t('certs.name'), input: h('input', { type: 'text', maxlength: '128', autocomplete: 'off' }) });
  const subs = contactChecks([]);
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    pem.input.value = await f.text();
    pem.error('');
  });
  const fields = { Pem: pem, PrivateKey: key, Name: name };
  const ok = button(t('certs.uploadOk'), async () => {
    d.error('');
    for (const f of Object.values(fields)) f.error('');
    const body = { pem: pem.input.value.trim() };
    if (!body.pem) {
      pem.error(t('form.required'));
      pem.input.focus();
      return;
    }
    if (key.input.value.trim()) body.private_key = key.input.value.trim();
    if (name.input.value.trim()) body.name = name.input.value.trim();
    const ids = subs.value();
    if (ids.length) body.contact_ids = ids;
    ok.disabled = true;
    try {
      const c = await api('POST', '/v1/certificates', body);
      d.close();
      toast(t('certs.uploaded', { name: c.name || c.common_name }));
      load();
    } catch (e) {
      ok.disabled = false;
      const fld = errField(e);
      if (fld && fields[fld]) {
        fields[fld].error(errText(e));
        fields[fld].input.focus();
      } else {
        d.error(errText(e));
      }
    }
  }, 'btn-primary');
  const d = openDialog({
    title: t('certs.upload'),
    body: h('form', { class: 'upload-form', novalidate: true, id: uid('upload') }, fileField.wrap, pem.wrap, key.wrap, name.wrap, subs.wrap),
    footer: [ok, button(t('common.cancel'), () => d.close())],
    wide: true,
  });
}
