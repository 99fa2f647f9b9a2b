// audit.js — Audit log (admins): who changed or saw what, when and from where.
// Filters by actor, action, target and time range, with paging; each entry's
// changed fields (personal values masked by the server); Export CSV downloads
// the same filters from /v1/audit.csv. Entries cannot be changed from here or
// anywhere else.

import { t, fmtTime } from '../i18n.js';
import { h, append, clear, button, field, selectEl, pageHead, pager, toast } from '../dom.js';
import { api, errText } from '../api.js';

const ACTIONS = [
  'contact.create', 'contact.update', 'contact.delete', 'contact.reassign', 'contact.view', 'contact.export',
  'contact.webhook.reveal', 'verification.send', 'verification.confirm', 'application.create',
  'application.transition', 'certificate.create', 'certificate.supersede', 'certificate.update',
  'certificate.delete', 'certificate.revoke', 'certificate.private_key.read', 'template.put', 'template.delete',
  'settings.reminders.update', 'event.create', 'notification.resend', 'account.create', 'access_key.create',
  'access_key.disable', 'user.create', 'user.update', 'user.delete', 'user.unlock', 'user.sign_in',
  'user.sign_in_failed', 'user.sign_out', 'audit.retention',
];
const TARGETS = ['contact', 'verification', 'application', 'certificate', 'template', 'account', 'event',
  'notification', 'access_key', 'user', 'audit'];

// kept while the console is open, so coming back finds the same filters and page
const st = { page: 1, pageSize: 20, actor: '', action: '', targetType: '', targetId: '', since: '', until: '' };

function query() {
  const q = new URLSearchParams();
  if (st.actor) q.set('actor', st.actor);
  if (st.action) q.set('action', st.action);
  if (st.targetType) q.set('target_type', st.targetType);
  if (st.targetId) q.set('target_id', st.targetId);
  if (st.since) q.set('since', st.since);
  if (st.until) q.set('until', st.until);
  return q;
}

/** {"email": {"old": "a****@x", "new": "b****@x"}} as lines "email: a****@x → b****@x". */
function changesText(ch) {
  if (!ch) return t('common.none');
  const show = (v) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return Object.entries(ch).map(([k, v]) => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return `${k}: ${show(v)}`;
    if ('old' in v && 'new' in v) return `${k}: ${show(v.old)} → ${show(v.new)}`;
    if ('old' in v) return `${k}: ${show(v.old)} → ${t('audit.removed')}`;
    return `${k}: ${show(v.new)}`;
  }).join('\n');
}

export async function auditPage(main, view) {
  const text = (label, key) => {
    const f = field({ label, input: h('input', { type: 'text', value: st[key], autocomplete: 'off', maxlength: '64' }) });
    f.input.addEventListener('change', () => { st[key] = f.input.value.trim(); st.page = 1; load(); });
    return f;
  };
  const date = (label, key) => {
    const f = field({ label, input: h('input', { type: 'date', value: st[key] }) });
    f.input.addEventListener('change', () => { st[key] = f.input.value; st.page = 1; load(); });
    return f;
  };
  const fActor = text(t('audit.actor'), 'actor');
  const fAction = field({ label: t('audit.action'), input: selectEl([['', t('common.all')], ...ACTIONS.map((a) => [a, a])], st.action) });
  fAction.input.addEventListener('change', () => { st.action = fAction.input.value; st.page = 1; load(); });
  const fType = field({ label: t('audit.targetType'), input: selectEl([['', t('common.all')], ...TARGETS.map((a) => [a, a])], st.targetType) });
  fType.input.addEventListener('change', () => { st.targetType = fType.input.value; st.page = 1; load(); });
  const fId = text(t('audit.targetId'), 'targetId');
  const fSince = date(t('audit.since'), 'since');
  const fUntil = date(t('audit.until'), 'until');
  const region = h('div', { class: 'table-region' });
  append(main, [pageHead([t('nav.settings'), t('nav.audit')], t('audit.title'), t('audit.intro')),
    h('div', { class: 'filters' }, fActor.wrap, fAction.wrap, fType.wrap, fId.wrap, fSince.wrap, fUntil.wrap,
      button(t('common.refresh'), () => load(), 'btn-small'),
      button(t('audit.export'), () => exportCsv(), 'btn-small')),
    region]);

  async function load() {
    const q = query();
    q.set('page', String(st.page));
    q.set('page_size', String(st.pageSize));
    let r;
    region.setAttribute('aria-busy', 'true');
    try {
      r = await api('GET', `/v1/audit?${q}`);
    } catch (e) {
      clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
      return;
    }
    if (!view.alive()) return;
    region.removeAttribute('aria-busy');
    clear(region);
    if (!r.items.length) {
      region.appendChild(h('div', { class: 'empty' }, h('p', null, t('audit.empty'))));
      return;
    }
    region.appendChild(auditTable(r.items));
    region.appendChild(pager(st, r.total, load));
  }
  load();
}

function auditTable(items) {
  const cols = [t('common.time'), t('audit.actor'), t('audit.action'), t('audit.target'), t('audit.source'), t('audit.requestId'), t('audit.changes')];
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('audit.title')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, items.map((e) => h('tr', null,
      h('td', { 'data-label': cols[0] }, fmtTime(e.time)),
      h('th', { scope: 'row', 'data-label': cols[1], class: 'mono' }, e.actor),
      h('td', { 'data-label': cols[2], class: 'mono' }, e.action),
      h('td', { 'data-label': cols[3] }, `${e.target_type} ${e.target_id}`),
      h('td', { 'data-label': cols[4], class: 'mono' }, e.source || t('common.none')),
      h('td', { 'data-label': cols[5], class: 'mono wrap' }, e.request_id || t('common.none')),
      h('td', { 'data-label': cols[6], class: 'wrap pre' }, changesText(e.changes))))));
}

async function exportCsv() {
  try {
    const res = await fetch(`/v1/audit.csv?${query()}`, { credentials: 'same-origin' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: 'audit.csv', hidden: true });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) {
    toast(t('common.error', { message: errText(e) }), 'error');
  }
}
