// notifications.js — Comprehensive Management > Notifications: the delivery
// log filtered by contact, channel and status, with paging; per notification
// its details (every attempt with the platform's answer) and Resend.

import { t, fmtTime } from '../i18n.js';
import { h, append, clear, button, field, selectEl, pageHead, pager, toast } from '../dom.js';
import { api, errText } from '../api.js';
import { openDialog } from '../dialog.js';

const STATUSES = ['pending', 'delivered', 'failed', 'dead', 'cancelled'];

// kept while the console is open, so coming back finds the same filters and page
const st = { page: 1, pageSize: 20, contact: '', channel: '', status: '' };

export async function notificationsPage(main, view) {
  let contacts = [];
  try {
    const r = await api('GET', '/v1/contacts?page=1&page_size=100');
    contacts = r.items;
  } catch (e) {
    /* the filter simply lists no names */
  }
  if (!view.alive()) return;
  const names = new Map(contacts.map((c) => [c.id, c.name]));
  const fContact = field({ label: t('notif.contact'), input: selectEl([['', t('common.all')], ...contacts.map((c) => [String(c.id), c.name])], st.contact) });
  const fChannel = field({ label: t('notif.channel'), input: selectEl([['', t('common.all')], ['email', t('channel.email')], ['mobile', t('channel.mobile')], ['webhook', t('channel.webhook')]], st.channel) });
  const fStatus = field({ label: t('notif.status'), input: selectEl([['', t('common.all')], ...STATUSES.map((s) => [s, t(`nstatus.${s}`)])], st.status) });
  for (const [f, k] of [[fContact, 'contact'], [fChannel, 'channel'], [fStatus, 'status']]) {
    f.input.addEventListener('change', () => {
      st[k] = f.input.value;
      st.page = 1;
      load();
    });
  }
  const region = h('div', { class: 'table-region' });
  append(main, [pageHead([t('nav.comprehensive'), t('nav.notifications')], t('notif.title'), t('notif.intro')),
    h('div', { class: 'filters' }, fContact.wrap, fChannel.wrap, fStatus.wrap, button(t('common.refresh'), () => load(), 'btn-small')),
    region]);

  async function load() {
    const q = new URLSearchParams({ page: String(st.page), page_size: String(st.pageSize) });
    if (st.contact) q.set('contact_id', st.contact);
    if (st.channel) q.set('channel', st.channel);
    if (st.status) q.set('status', st.status);
    let r;
    region.setAttribute('aria-busy', 'true');
    try {
      r = await api('GET', `/v1/notifications?${q}`);
    } catch (e) {
      clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
      return;
    }
    if (!view.alive()) return;
    region.removeAttribute('aria-busy');
    clear(region);
    if (!r.items.length) {
      region.appendChild(h('div', { class: 'empty' }, h('p', null, t('notif.empty'))));
      return;
    }
    region.appendChild(notificationsTable(r.items, names, load, view));
    region.appendChild(pager(st, r.total, load));
  }
  load();
}

function notificationsTable(items, names, load, view) {
  const cols = [t('common.time'), t('notif.contact'), t('notif.channel'), t('notif.target'), t('notif.status'), t('notif.attempts'), t('notif.lastError'), t('common.actions')];
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('notif.title')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, items.map((n) => h('tr', null,
      h('td', { 'data-label': cols[0] }, fmtTime(n.created_at)),
      h('th', { scope: 'row', 'data-label': cols[1] }, names.get(n.contact_id) || `#${n.contact_id}`),
      h('td', { 'data-label': cols[2] }, t(`channel.${n.channel}`)),
      h('td', { 'data-label': cols[3], class: 'wrap' }, n.target),
      h('td', { 'data-label': cols[4] }, h('span', { class: ['nstatus', `nstatus-${n.status}`] }, t(`nstatus.${n.status}`))),
      h('td', { 'data-label': cols[5] }, String(n.attempts)),
      h('td', { 'data-label': cols[6], class: 'wrap' }, n.last_error || t('common.none')),
      h('td', { class: 'actions', 'data-label': cols[7] },
        button(t('common.details'), () => notificationDialog(n.id, load, view), 'btn-link'),
        view.write && n.status !== 'pending' ? button(t('notif.resend'), () => resend(n.id, load), 'btn-link') : null)))));
}

async function resend(id, load) {
  try {
    await api('POST', `/v1/notifications/${id}/resend`);
    toast(t('notif.resent', { id }));
    load();
  } catch (e) {
    toast(t('common.error', { message: errText(e) }), 'error');
  }
}

function attemptLog(log) {
  if (!log.length) return h('p', { class: 'muted' }, t('notif.noAttempts'));
  const cols = [t('common.time'), t('notif.outcome'), t('notif.httpStatus'), t('notif.platformCode'), t('notif.platformMessage'), t('test.reason')];
  return h('table', { class: 'grid grid-compact' },
    h('caption', null, t('notif.attemptLog')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, log.map((a) => h('tr', null,
      h('td', { 'data-label': cols[0] }, `${fmtTime(a.at)} (${t('test.latency', { ms: a.latency_ms })})`),
      h('td', { 'data-label': cols[1] }, a.outcome),
      h('td', { 'data-label': cols[2] }, a.http_status ? String(a.http_status) : t('common.none')),
      h('td', { 'data-label': cols[3] }, a.platform_code || t('common.none')),
      h('td', { 'data-label': cols[4], class: 'wrap' }, a.platform_message || t('common.none')),
      h('td', { 'data-label': cols[5], class: 'wrap' }, a.reason || t('common.none'))))));
}

async function notificationDialog(id, load, view) {
  let n;
  try {
    n = await api('GET', `/v1/notifications/${id}`);
  } catch (e) {
    toast(t('common.error', { message: errText(e) }), 'error');
    return;
  }
  const dl = h('dl', { class: 'facts' },
    [[t('notif.event'), `#${n.event_id}`], [t('notif.channel'), t(`channel.${n.channel}`)], [t('notif.target'), n.target],
      [t('notif.status'), t(`nstatus.${n.status}`)], [t('notif.attempts'), String(n.attempts)],
      [t('notif.nextAttempt'), fmtTime(n.next_attempt_at)], [t('notif.lastError'), n.last_error || t('common.none')]]
      .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  const foot = [];
  if (view.write && n.status !== 'pending') {
    foot.push(button(t('notif.resend'), async () => {
      await resend(n.id, load);
      d.close();
    }, 'btn-primary'));
  }
  foot.push(button(t('common.close'), () => d.close()));
  const d = openDialog({ title: t('notif.detailTitle', { id: n.id }), body: [dl, attemptLog(n.attempt_log || [])], footer: foot, wide: true });
}
