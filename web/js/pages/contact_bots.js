// contact_bots.js — the contact dialog's Notification Bots: up to five rows of
// webhook URL (its platform recognised as it is typed), signing secret and
// "@ the mobile", each with its own Send test. A saved robot left as it was is
// tested as saved (with its stored secret); a new or changed one as it stands.
// A refused save's problem with a robot is shown in that robot's row, at its
// URL or secret; one about the whole list under the list.

import { t } from '../i18n.js';
import { h, clear, uid, button, field } from '../dom.js';
import { api, errText } from '../api.js';
import { platformIcon, platformName, detectPlatform } from '../platform.js';
import { guideDialog } from './robot_guide.js';
import { verdictView } from './contact_test.js';

const MAX_BOTS = 5;

/**
 * The robots of contact c (null when new). ctx: {contactId, write,
 * testName(), testLanguage()} — the saved contact's id (or null), whether the
 * user may send tests, and who a test from an unsaved row speaks to. Returns
 * {wrap, input, value() → {list, changed}, error(text), problem(i, part, text)}:
 * error('') also clears every row's messages; problem() shows text at part
 * ("url" or "secret") of the row that value() sent as list[i] and returns that
 * input (null when there is no such row).
 */
export function botsEditor(c, ctx) {
  const orig = c ? c.webhooks.map((w) => ({ id: w.id, url: w.url, kind: w.kind, hasSecret: w.has_secret, mention: Boolean(w.mention_mobile), broken: w.broken })) : [];
  const rows = [];
  let sent = []; // the rows value() last put in its list, in order
  const list = h('div', { class: 'bot-rows' });
  const err = h('p', { class: 'field-error', hidden: true, id: uid('bots-err') });
  const maxNote = h('p', { class: 'field-hint', hidden: true }, t('bot.max'));
  const addBtn = button(t('bot.add'), () => {
    const r = addRow(null);
    r.url.focus();
  }, 'btn-small');
  const guideBtn = button(t('form.guide'), () => guideDialog(), 'btn-link');
  const headId = uid('bots-head');
  const wrap = h('div', { class: 'field bots', role: 'group', 'aria-labelledby': headId, 'aria-describedby': err.id },
    h('div', { class: 'bots-head' }, h('span', { id: headId, class: 'field-label' }, t('form.bots')), guideBtn),
    h('p', { class: 'field-hint' }, t('form.botsNote')),
    list, h('div', { class: 'bots-foot' }, addBtn, maxNote), err);

  function renumber() {
    rows.forEach((r, i) => {
      r.group.setAttribute('aria-label', t('bot.row', { n: i + 1 }));
      r.title.textContent = t('bot.row', { n: i + 1 });
    });
    const full = rows.length >= MAX_BOTS;
    addBtn.disabled = full;
    maxNote.hidden = !full;
  }

  function remove(r) {
    const i = rows.indexOf(r);
    rows.splice(i, 1);
    r.group.remove();
    renumber();
    (rows[Math.max(0, i - 1)] ? rows[Math.max(0, i - 1)].url : addBtn).focus();
  }

  function addRow(w) {
    if (rows.length >= MAX_BOTS) return null;
    const r = botRow(w, ctx, { remove, edited: () => { err.hidden = true; } });
    rows.push(r);
    list.appendChild(r.group);
    renumber();
    return r;
  }

  orig.forEach((w) => addRow(w));
  if (!orig.length) addRow(null);
  renumber();

  return {
    wrap,
    input: rows[0] ? rows[0].url : addBtn,
    error(text) {
      err.textContent = text || '';
      err.hidden = !text;
      if (!text) for (const r of rows) r.clearErrors();
    },
    problem(i, part, text) {
      const r = sent[i];
      if (!r || !rows.includes(r)) return null;
      const f = part === 'secret' ? r.secretF : r.urlF;
      f.error(text);
      return f.input;
    },
    value() {
      const out = [];
      sent = [];
      for (const r of rows) {
        const url = r.url.value.trim();
        if (!url) continue;
        const o = { url, mention_mobile: r.mention.checked };
        if (r.secret.value && !r.secret.disabled) o.secret = r.secret.value;
        out.push(o);
        sent.push(r);
      }
      const same = out.length === orig.length && out.every((o, i) => o.url === orig[i].url && o.mention_mobile === orig[i].mention && o.secret === undefined);
      return { list: out, changed: !same };
    },
  };
}

/**
 * One robot row for saved robot w (null for a new row). on.remove(row) takes
 * it out, on.edited() runs when its URL changes. Returns {group, title, url,
 * secret, mention}.
 */
function botRow(w, ctx, on) {
  const url = h('input', { type: 'url', autocomplete: 'off', spellcheck: 'false', maxlength: '1024', value: w ? w.url : '', placeholder: 'https://oapi.dingtalk.com/robot/send?access_token=…' });
  const secret = h('input', { type: 'password', autocomplete: 'new-password', maxlength: '256' });
  const mention = h('input', { type: 'checkbox', id: uid('mention'), checked: w ? w.mention : false });
  const pf = h('span', { class: 'pf-detect', 'aria-live': 'polite' });
  const urlF = field({ label: t('bot.url'), input: url, extra: pf });
  const secretHint = h('span', null);
  const secretF = field({ label: t('bot.secret'), input: secret, hint: secretHint });
  const verdict = h('div', { class: 'verdict', role: 'status' });
  const testBtn = button(t('contacts.sendTest'), () => testRow(), 'btn-small');
  const removeBtn = button(t('bot.remove'), () => on.remove(r), 'btn-small btn-ghost');
  const title = h('div', { class: 'bot-row-title', 'aria-hidden': 'true' });
  const brokenNote = w && w.broken ? h('p', { class: 'broken-note' }, t('bot.brokenNote', { reason: w.broken })) : null;
  const group = h('div', { class: 'bot-row', role: 'group' },
    title, brokenNote, urlF.wrap, secretF.wrap,
    h('div', { class: 'bot-row-foot' },
      h('label', { class: 'check', for: mention.id }, mention, t('bot.mention')),
      h('span', { class: 'spacer' }), testBtn, removeBtn),
    verdict);
  const r = {
    group, title, url, secret, mention, urlF, secretF,
    clearErrors() {
      urlF.error('');
      secretF.error('');
    },
  };

  function paint() {
    const kind = detectPlatform(url.value);
    if (brokenNote) brokenNote.hidden = url.value.trim() !== w.url;
    clear(pf);
    if (url.value.trim()) pf.appendChild(h('span', { class: ['pf-tag', kind ? null : 'pf-tag-unknown'] }, platformIcon(kind, false), h('span', { class: 'pf-name' }, platformName(kind))));
    secret.disabled = kind === 'wecom';
    if (kind === 'wecom') secret.value = '';
    const keep = w && w.hasSecret && url.value.trim() === w.url;
    secretHint.textContent = kind === 'wecom' ? t('bot.secretNone') : keep ? t('bot.secretKeep') : kind === 'dingtalk' ? t('bot.secretDing') : '';
    secret.placeholder = keep ? '••••••••' : '';
    const testable = Boolean(kind) && ctx.write;
    testBtn.disabled = !testable;
    testBtn.title = testable ? '' : t('bot.testNeedsUrl');
  }

  async function testRow() {
    clear(verdict);
    verdict.appendChild(h('p', { class: 'muted' }, t('test.sending')));
    testBtn.disabled = true;
    try {
      const saved = w && w.id && ctx.contactId && url.value.trim() === w.url && !secret.value;
      const v = saved
        ? await api('POST', `/v1/contacts/${ctx.contactId}/test`, { channel: 'webhook', webhook_id: w.id, event_type: 'contact.test' })
        : await api('POST', '/v1/webhooks/test', {
          url: url.value.trim(),
          secret: secret.value && !secret.disabled ? secret.value : null,
          name: ctx.testName(),
          language: ctx.testLanguage(),
        });
      clear(verdict).appendChild(verdictView(v));
    } catch (e) {
      clear(verdict).appendChild(h('p', { class: 'field-error' }, errText(e)));
    }
    testBtn.disabled = false;
  }

  url.addEventListener('input', () => {
    on.edited();
    // a new URL may change what the secret must be: both messages go
    r.clearErrors();
    paint();
  });
  secret.addEventListener('input', () => secretF.error(''));
  paint();
  return r;
}
