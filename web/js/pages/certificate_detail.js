// certificate_detail.js — one certificate: its fields, its subscribers (the
// contacts told about it; operators add and remove them, PATCH contact_ids),
// its own reminder days (operators; PATCH reminder_days, null for the
// account's), Revoke (a confirmation with a reason) and Delete (a
// confirmation). Also the
// contacts checklist the upload dialog uses.

import { t, fmtTime } from '../i18n.js';
import { h, clear, uid, button, field, selectEl, toast } from '../dom.js';
import { api, errText } from '../api.js';
import { openDialog, confirmDialog } from '../dialog.js';
import { daysLeftTag, certStateTag } from './certificates.js';

async function allContacts() {
  try {
    return (await api('GET', '/v1/contacts?page=1&page_size=100')).items;
  } catch (e) {
    return [];
  }
}

/** A labelled group of a checkbox per contact: {wrap, value() → ids}. */
export function contactChecks(chosen) {
  const box = h('div', { class: 'checks' }, h('span', { class: 'muted' }, t('common.loading')));
  const wrap = h('fieldset', { class: 'field fieldset' }, h('legend', { class: 'field-label' }, t('certs.subscribers')), box);
  allContacts().then((list) => {
    clear(box);
    if (!list.length) box.appendChild(h('span', { class: 'muted' }, t('picker.none')));
    for (const c of list) {
      const id = uid('sub');
      box.appendChild(h('label', { class: 'check', for: id }, h('input', { type: 'checkbox', id, value: String(c.id), checked: chosen.includes(c.id) }), c.name));
    }
  });
  return { wrap, value: () => Array.from(box.querySelectorAll('input:checked')).map((x) => Number(x.value)) };
}

function facts(c, limit) {
  const rows = [
    [t('certs.name'), c.name || t('common.none')],
    [t('certs.commonName'), c.common_name || t('common.none')],
    [t('certs.domains'), (c.domains || []).join(', ')],
    [t('certs.state'), certStateTag(c.state)],
    [t('certs.notBefore'), fmtTime(c.not_before)],
    [t('certs.notAfter'), [fmtTime(c.not_after), ' ', daysLeftTag(c, limit)]],
    [t('certs.issuer'), c.issuer || t('common.none')],
    [t('certs.serial'), h('span', { class: 'mono' }, c.serial || t('common.none'))],
    [t('certs.key'), c.key_type ? `${c.key_type}${c.key_bits ? ` ${c.key_bits}` : ''}` : t('common.none')],
    [t('certs.fingerprint'), h('span', { class: 'mono wrap' }, c.fingerprint_sha256 || t('common.none'))],
    [t('certs.product'), c.product || t('common.none')],
    [t('certs.hasKey'), c.has_private_key ? t('common.yes') : t('common.no')],
  ];
  if ('reminder_days' in c) rows.push([t('certs.reminderDays'), Array.isArray(c.reminder_days) ? c.reminder_days.join(', ') : t('certs.reminderDaysAccount')]);
  if ('next_reminder_at' in c) rows.push([t('certs.nextReminder'), fmtTime(c.next_reminder_at)]);
  if (c.revoked_at) rows.push([t('certs.revokedAt'), fmtTime(c.revoked_at)]);
  if (c.superseded_by) rows.push([t('certs.supersededBy'), h('a', { href: `#/certificates/${c.superseded_by}` }, `#${c.superseded_by}`)]);
  const r = c.acme_renewal;
  if (r && c.state === 'active') {
    rows.push([t('certs.renewal'), [
      h('div', null, r.renews_at ? t('certs.renewsOn', { date: fmtTime(r.renews_at) }) : t('certs.renewing')),
      r.last_failure ? h('div', { class: 'form-error' }, t('certs.renewalFailed', { n: r.failures, reason: r.last_failure })) : null,
    ]]);
  }
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

/** Opens certificate id; reload() refreshes the list; limit is the reminder threshold in days. */
export async function certificateDialog(id, view, reload, limit) {
  const body = h('div', null, h('p', { class: 'muted' }, t('common.loading')));
  const actions = h('div', { class: 'moves' });
  const d = openDialog({ title: t('certs.detailTitle', { id }), body, footer: [actions, button(t('common.close'), () => d.close())], wide: true });
  let c;
  let contacts = [];

  async function setSubscribers(ids, focusSel) {
    d.error('');
    try {
      c = await api('PATCH', `/v1/certificates/${id}`, { contact_ids: ids });
      toast(t('certs.subscribersSaved'));
      paint();
      const next = d.body.querySelector(focusSel);
      if (next) next.focus();
    } catch (e) {
      d.error(errText(e));
    }
  }

  function subscribers() {
    const names = new Map(contacts.map((x) => [x.id, x.name]));
    const ids = c.contact_ids || [];
    const list = h('ul', { class: 'subs' }, ids.length ? ids.map((cid) => h('li', null,
      h('span', null, names.get(cid) || `#${cid}`),
      view.write ? button(t('certs.removeSub'), () => setSubscribers(ids.filter((x) => x !== cid), '.subs-add select'), 'btn-link btn-link-danger', { 'aria-label': t('certs.removeSubOf', { name: names.get(cid) || cid }) }) : null))
      : h('li', { class: 'muted' }, t('common.none')));
    const section = h('section', { class: 'subs-section', 'aria-label': t('certs.subscribers') }, h('h3', { class: 'h2' }, t('certs.subscribers')), list);
    const others = contacts.filter((x) => !ids.includes(x.id));
    if (view.write && others.length) {
      const sel = field({ label: t('certs.addSub'), input: selectEl(others.map((x) => [String(x.id), x.name]), String(others[0].id)) });
      sel.input.closest('.field-control').appendChild(button(t('certs.addSubOk'), () => setSubscribers([...ids, Number(sel.input.value)], '.subs-add select'), 'btn-small'));
      section.appendChild(h('div', { class: 'subs-add' }, sel.wrap));
    }
    return section;
  }

  /** Operators: this certificate's own reminder days, or the account's. */
  function reminders() {
    const own = Array.isArray(c.reminder_days);
    const follow = h('input', { type: 'checkbox', id: uid('follow'), checked: !own });
    const days = field({ label: t('certs.reminderDays'), hint: t('rem.daysHint'), input: h('input', { type: 'text', maxlength: '64', inputmode: 'numeric', value: own ? c.reminder_days.join(', ') : '', disabled: !own }) });
    follow.addEventListener('change', () => { days.input.disabled = follow.checked; });
    const save = button(t('certs.remindersSave'), async () => {
      days.error('');
      d.error('');
      const list = days.input.value.split(/[\s,，]+/).filter(Boolean).map(Number);
      if (!follow.checked && list.some((n) => !Number.isInteger(n))) {
        days.error(t('rem.daysBad'));
        days.input.focus();
        return;
      }
      save.disabled = true;
      try {
        c = await api('PATCH', `/v1/certificates/${id}`, { reminder_days: follow.checked ? null : list });
        toast(t('common.saved'));
        paint();
        const again = d.body.querySelector('.cert-reminders input');
        if (again) again.focus();
      } catch (e) {
        days.error(errText(e));
        save.disabled = false;
      }
    }, 'btn-small');
    return h('section', { class: 'cert-reminders', 'aria-label': t('certs.remindersTitle') },
      h('h3', { class: 'h2' }, t('certs.remindersTitle')),
      h('div', { class: 'field' }, h('label', { class: 'check', for: follow.id }, follow, t('certs.followAccount'))),
      days.wrap, save);
  }

  function paint() {
    clear(body).append(facts(c, limit), subscribers());
    if (view.write && c.state === 'active') body.appendChild(reminders());
    clear(actions);
    if (!view.write) return;
    if (c.state !== 'revoked') actions.appendChild(button(t('certs.revoke'), revoke, 'btn-danger'));
    actions.appendChild(button(t('common.delete'), del, 'btn-danger'));
  }

  function revoke() {
    const reasonId = uid('reason');
    const reason = h('textarea', { id: reasonId, rows: '3', maxlength: '512' });
    let cd = null;
    const ok = button(t('certs.revoke'), async () => {
      ok.disabled = true;
      try {
        const r = reason.value.trim();
        c = await api('POST', `/v1/certificates/${id}/revoke`, r ? { reason: r } : {});
        cd.close();
        toast(t('certs.revoked', { id }));
        paint();
        if (reload) reload();
      } catch (e) {
        cd.error(errText(e));
        ok.disabled = false;
      }
    }, 'btn-danger');
    cd = openDialog({
      title: t('certs.revokeTitle', { id }),
      body: [h('p', { class: 'confirm-text' }, t('certs.revokeText')), field({ label: t('apps.reason'), input: reason }).wrap],
      footer: [ok, button(t('common.cancel'), () => cd.close())],
    });
  }

  function del() {
    confirmDialog({
      title: t('certs.deleteTitle', { id }),
      text: t('certs.deleteText', { name: c.name || c.common_name || id }),
      okLabel: t('common.delete'),
      danger: true,
      async action() {
        await api('DELETE', `/v1/certificates/${id}`);
        toast(t('certs.deleted', { id }));
        d.close();
        if (reload) reload();
      },
    });
  }

  try {
    [c, contacts] = await Promise.all([api('GET', `/v1/certificates/${id}`), allContacts()]);
  } catch (e) {
    clear(body).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
    return;
  }
  paint();
}
