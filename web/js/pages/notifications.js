// notifications.js — Comprehensive Management > Notifications: the delivery
// log filtered by contact (a searchable picker over every contact of the
// account), channel and status, with paging; each row names the event's type
// and domains, and a channel the event skipped (an address not verified, no
// robots) is a row with status Skipped and why. Per notification its details
// (the event's data, every attempt with the platform's answer) and Resend.

import { t, fmtTime } from '../i18n.js';
import { h, append, clear, button, field, selectEl, pageHead, pager, toast } from '../dom.js';
import { api, errText } from '../api.js';
import { openDialog } from '../dialog.js';
import { contactPicker } from './contact_picker.js';

const STATUSES = ['pending', 'delivered', 'failed', 'dead', 'cancelled', 'skipped'];

// kept while the console is open, so coming back finds the same filters and page
const st = { page: 1, pageSize: 20, contact: '', contactObj: null, channel: '', status: '' };

export async function notificationsPage(main, view) {
  const picker = contactPicker(view, (c) => {
    st.contact = c ? String(c.id) : '';
    st.contactObj = c;
    st.page = 1;
    load();
  }, { label: t('notif.contact'), required: false, create: false, all: t('notif.allContacts'), serverSearch: true, chosen: st.contactObj });
  const fContact = picker.field;
  const fChannel = field({ label: t('notif.channel'), input: selectEl([['', t('common.all')], ['email', t('channel.email')], ['mobile', t('channel.mobile')], ['webhook', t('channel.webhook')]], st.channel) });
  const fStatus = field({ label: t('notif.status'), input: selectEl([['', t('common.all')], ...STATUSES.map((s) => [s, t(`nstatus.${s}`)])], st.status) });
  for (const [f, k] of [[fChannel, 'channel'], [fStatus, 'status']]) {
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
    region.appendChild(notificationsTable(r.items, load, view));
    region.appendChild(pager(st, r.total, load));
  }
  load();
}

/** The contact's name, or its number once it is deleted. */
function contactName(n) {
  return n.contact_name || `#${n.contact_id}`;
}

/** "Certificate expiring", or the type itself for one the console has no words for. */
function eventTypeName(type) {
  const w = t(`event.${type}`);
  return w === `event.${type}` ? type : w;
}

function statusCell(n, label) {
  return h('td', { 'data-label': label },
    h('span', { class: ['nstatus', `nstatus-${n.status}`] }, t(`nstatus.${n.status}`)),
    n.status === 'skipped' && n.last_error ? h('span', { class: 'skip-reason' }, t('notif.skippedWhy', { reason: n.last_error })) : null);
}

function notificationsTable(items, load, view) {
  const cols = [t('common.time'), t('notif.contact'), t('notif.eventType'), t('notif.domain'), t('notif.channel'), t('notif.target'), t('notif.status'), t('notif.attempts'), t('notif.lastError'), t('common.actions')];
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('notif.title')),
    h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, items.map((n) => h('tr', null,
      h('td', { 'data-label': cols[0] }, fmtTime(n.created_at)),
      h('th', { scope: 'row', 'data-label': cols[1] }, contactName(n)),
      h('td', { 'data-label': cols[2] }, eventTypeName(n.event_type)),
      h('td', { 'data-label': cols[3], class: 'wrap' }, n.domain || t('common.none')),
      h('td', { 'data-label': cols[4] }, t(`channel.${n.channel}`)),
      h('td', { 'data-label': cols[5], class: 'wrap' }, n.target || t('common.none')),
      statusCell(n, cols[6]),
      h('td', { 'data-label': cols[7] }, String(n.attempts)),
      h('td', { 'data-label': cols[8], class: 'wrap' }, n.status !== 'skipped' && n.last_error ? n.last_error : t('common.none')),
      h('td', { class: 'actions', 'data-label': cols[9] },
        button(t('common.details'), () => notificationDialog(n.id, load, view), 'btn-link'),
        canResend(view, n) ? button(t('notif.resend'), () => resend(n.id, load), 'btn-link') : null)))));
}

/** A skipped notification was never sent: there is nothing to send again. */
function canResend(view, n) {
  return view.write && n.status !== 'pending' && n.status !== 'skipped';
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
  const skipped = n.status === 'skipped';
  const dl = h('dl', { class: 'facts' },
    [[t('notif.event'), `#${n.event_id} · ${eventTypeName(n.event_type)}`], [t('notif.domain'), n.domain || t('common.none')],
      [t('notif.contact'), contactName(n)],
      [t('notif.channel'), t(`channel.${n.channel}`)], [t('notif.target'), n.target || t('common.none')],
      [t('notif.status'), t(`nstatus.${n.status}`)],
      skipped ? [t('edata.reason'), n.last_error || t('common.none')] : null,
      skipped ? null : [t('notif.attempts'), String(n.attempts)],
      skipped ? null : [t('notif.nextAttempt'), fmtTime(n.next_attempt_at)],
      skipped ? null : [t('notif.lastError'), n.last_error || t('common.none')]]
      .filter(Boolean)
      .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  const foot = [];
  if (canResend(view, n)) {
    foot.push(button(t('notif.resend'), async () => {
      await resend(n.id, load);
      d.close();
    }, 'btn-primary'));
  }
  foot.push(button(t('common.close'), () => d.close()));
  const d = openDialog({ title: t('notif.detailTitle', { id: n.id }), body: [dl, eventData(n.event_data), skipped ? null : attemptLog(n.attempt_log || [])], footer: foot, wide: true });
}

/** The event's data as label / value pairs: the console's words for the known fields, the field's name otherwise. */
function eventData(data) {
  const entries = Object.entries(data || {});
  if (!entries.length) return null;
  const value = (v) => (Array.isArray(v) ? v.map(String).join(', ') : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v));
  const label = (k) => {
    const w = t(`edata.${k}`);
    return w === `edata.${k}` ? k : w;
  };
  return h('section', { class: 'event-data', 'aria-label': t('notif.eventData') },
    h('h3', null, t('notif.eventData')),
    h('dl', { class: 'facts' }, entries.map(([k, v]) => [h('dt', null, label(k)), h('dd', null, value(v))])));
}
