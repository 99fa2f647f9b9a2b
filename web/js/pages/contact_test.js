// contact_test.js — Send test: pick the contact's email, mobile or one of its
// robots and an event type, send, and read the platform's verdict. The
// verdict's view is shared with the robot rows' own Send test.

import { t } from '../i18n.js';
import { h, clear, uid, button, field, selectEl, fmtMobile } from '../dom.js';
import { api, errText } from '../api.js';
import { openDialog } from '../dialog.js';
import { EVENT_TYPES } from '../events.js';
import { platformName } from '../platform.js';
import { loadContact } from './contact_verify.js';

/** A test send's answer: delivered or not, the reason and the platform's own answer. */
export function verdictView(v) {
  const ok = Boolean(v.delivered);
  const lines = [];
  if (v.reason) lines.push(h('li', null, `${t('test.reason')}: ${v.reason}`));
  if (v.platform_code || v.platform_message || v.http_status) {
    lines.push(h('li', null, `${t('test.platformAnswer')}: ${[v.http_status ? `HTTP ${v.http_status}` : '', v.platform_code, v.platform_message].filter(Boolean).join(' · ')}`));
  }
  if (typeof v.latency_ms === 'number') lines.push(h('li', null, t('test.latency', { ms: v.latency_ms })));
  return h('div', { class: ['verdict-box', ok ? 'verdict-ok' : 'verdict-bad'] },
    h('strong', null, ok ? t('test.delivered') : t('test.notDelivered')),
    v.status && !ok ? h('span', { class: 'muted' }, ` (${v.status}${v.code ? `, ${v.code}` : ''})`) : null,
    lines.length ? h('ul', null, lines) : null);
}

/** The Send test dialog for contact id; reload() runs when it closes (a test may mark a robot broken). */
export async function testDialog(id, reload) {
  const c = await loadContact(id);
  if (!c) return;
  const opts = [];
  if (c.email) opts.push({ channel: 'email', label: `${t('channel.email')} · ${c.email}`, unverified: c.email_status !== 1 });
  opts.push({ channel: 'mobile', label: `${t('channel.mobile')} · ${fmtMobile(c.mobile)}`, unverified: c.mobile_status !== 1 });
  c.webhooks.forEach((w, i) => opts.push({ channel: 'webhook', webhookId: w.id, label: `${t('bot.row', { n: i + 1 })} · ${platformName(w.kind)}${w.broken ? ` (${t('status.broken')})` : ''}` }));
  const radioName = uid('test-ch');
  const legendId = uid('test-legend');
  // the first verified address is picked (the email first), else the first
  // robot; an unverified address gets no test (the server refuses it): verify it instead
  const firstOk = opts.findIndex((o) => !o.unverified);
  const picked = Math.max(0, firstOk);
  const radios = opts.map((o, i) => {
    const r = h('input', { type: 'radio', name: radioName, id: uid('test-opt'), value: String(i), checked: i === picked, disabled: o.unverified });
    return h('label', { class: 'radio', for: r.id }, r, o.label, o.unverified ? h('span', { class: 'muted' }, ` (${t('status.unverified')})`) : null);
  });
  const ev = field({ label: t('test.eventType'), input: selectEl(EVENT_TYPES.map((e) => [e, t(`event.${e}`)]), 'contact.test') });
  // focusable, so focus lands on the verdict once it is there
  const verdict = h('div', { class: 'verdict', role: 'status', 'aria-live': 'polite', tabindex: '-1' });
  const send = button(t('test.send'), async () => {
    const checked = d.body.querySelector(`input[name="${radioName}"]:checked`);
    const o = opts[Number(checked ? checked.value : 0)];
    const body = { channel: o.channel, event_type: ev.input.value };
    if (o.webhookId) body.webhook_id = o.webhookId;
    send.disabled = true;
    clear(verdict).appendChild(h('p', { class: 'muted' }, t('test.sending')));
    try {
      const v = await api('POST', `/v1/contacts/${c.id}/test`, body);
      clear(verdict).appendChild(verdictView(v));
    } catch (e) {
      clear(verdict).appendChild(h('p', { class: 'field-error' }, errText(e)));
    }
    send.disabled = false;
    if (verdict.isConnected) verdict.focus();
  }, 'btn-primary');
  const d = openDialog({
    title: `${t('test.title')} · ${c.name}`,
    body: [h('div', { class: 'field', role: 'radiogroup', 'aria-labelledby': legendId },
      h('span', { id: legendId, class: 'field-label' }, t('test.channel')), radios), ev.wrap, verdict],
    footer: [send, button(t('common.close'), () => d.close())],
    onClose: reload,
    guard: false, // nothing typed here is lost by closing it
  });
}
