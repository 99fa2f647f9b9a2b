// settings_reminders.js — Settings > Reminders: when the account's contacts
// hear about an expiring certificate (days before expiry, on the day, the
// day after), the hours reminders may be sent in and the time zone those
// hours are in (GET/PUT /v1/settings/reminders). Read-only users see it
// disabled.

import { t } from '../i18n.js';
import { h, append, clear, uid, field, toast } from '../dom.js';
import { api, errText, errField } from '../api.js';

export async function remindersTab(panel, view) {
  const region = h('div', null, h('p', { class: 'muted' }, t('common.loading')));
  append(panel, [h('p', { class: 'page-intro' }, t('rem.intro')), region]);
  let r;
  try {
    r = await api('GET', '/v1/settings/reminders');
  } catch (e) {
    if (view.alive()) clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
    return;
  }
  if (!view.alive()) return;
  clear(region).appendChild(remindersForm(r, view));
}

function check(label, on) {
  const input = h('input', { type: 'checkbox', id: uid('chk'), checked: on });
  return { input, wrap: h('div', { class: 'field' }, h('label', { class: 'check', for: input.id }, input, label)) };
}

function remindersForm(r, view) {
  const ro = !view.write;
  const days = field({ label: t('rem.days'), hint: t('rem.daysHint'), input: h('input', { type: 'text', maxlength: '64', value: (r.days_before || []).join(', '), disabled: ro, inputmode: 'numeric' }) });
  const onDay = check(t('rem.onDay'), r.on_expiry_day);
  const after = check(t('rem.dayAfter'), r.day_after);
  const win = check(t('rem.window'), Boolean(r.window));
  const start = field({ label: t('rem.start'), input: h('input', { type: 'time', value: r.window ? r.window.start : '09:00', disabled: ro }) });
  const end = field({ label: t('rem.end'), input: h('input', { type: 'time', value: r.window ? r.window.end : '20:00', disabled: ro }) });
  const tz = field({ label: t('rem.timeZone'), hint: t('rem.timeZoneHint'), input: h('input', { type: 'text', maxlength: '64', value: r.time_zone || '', disabled: ro, spellcheck: 'false' }) });
  for (const c of [onDay, after, win]) c.input.disabled = ro;
  const times = h('div', { class: 'filters' }, start.wrap, end.wrap);
  const syncWindow = () => {
    start.input.disabled = ro || !win.input.checked;
    end.input.disabled = ro || !win.input.checked;
  };
  win.input.addEventListener('change', syncWindow);
  syncWindow();
  const formErr = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const fields = { DaysBefore: days, Window: start, TimeZone: tz };
  const save = ro ? null : h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.save'));
  const form = h('form', { class: 'reminders-form', novalidate: true, 'aria-label': t('settings.reminders') },
    days.wrap, onDay.wrap, after.wrap, win.wrap, times, tz.wrap, formErr, save,
    ro ? h('p', { class: 'muted' }, t('rem.readonly')) : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (ro) return;
    formErr.hidden = true;
    for (const f of Object.values(fields)) f.error('');
    const list = days.input.value.split(/[\s,，]+/).filter(Boolean).map(Number);
    if (list.some((n) => !Number.isInteger(n))) {
      days.error(t('rem.daysBad'));
      days.input.focus();
      return;
    }
    const body = {
      days_before: list,
      on_expiry_day: onDay.input.checked,
      day_after: after.input.checked,
      window: win.input.checked ? { start: start.input.value, end: end.input.value } : null,
      time_zone: tz.input.value.trim(),
    };
    save.disabled = true;
    try {
      await api('PUT', '/v1/settings/reminders', body);
      toast(t('common.saved'));
    } catch (e) {
      const fld = errField(e);
      if (fld && fields[fld]) {
        fields[fld].error(errText(e));
        fields[fld].input.focus();
      } else {
        formErr.textContent = errText(e);
        formErr.hidden = false;
      }
    }
    save.disabled = false;
  });
  return form;
}
