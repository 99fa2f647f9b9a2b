// contact_verify.js — the contact dialog's email or mobile field with its
// Verify button, its Verified / Unverified status and the Verification Code box
// that appears once a code was sent: Enter or Confirm checks the code, and a
// resend waits out a visible countdown.

import { LANGS, t } from '../i18n.js';
import { h, clear, field, badge } from '../dom.js';
import { api, ApiError, errText } from '../api.js';

export function normEmail(v) {
  return String(v || '').trim().toLowerCase();
}

/** Mobile numbers as the server stores them, near enough to tell "changed" from "the same". */
export function normMobile(v) {
  let s = String(v || '').replace(/[\s\-()]/g, '');
  if (s.startsWith('0086')) s = `+86${s.slice(4)}`;
  else if (s.startsWith('86') && s.length === 13) s = `+${s}`;
  else if (/^1\d{10}$/.test(s)) s = `+86${s}`;
  return s;
}

/**
 * The field for channel ("email" or "mobile") of contact c (null when new);
 * write says whether the user may send codes. Returns {wrap, f, stop,
 * onContact}: f is the field, stop() ends the countdown, and onContact (set
 * by the caller) gets the contact after a code confirmed through its own route.
 */
export function verifyField(channel, c, write) {
  const isEmail = channel === 'email';
  const norm = isEmail ? normEmail : normMobile;
  const saved = c ? (isEmail ? c.email : c.mobile) : null;
  const savedOk = c ? (isEmail ? c.email_status : c.mobile_status) === 1 : false;
  const st = { savedNorm: saved ? norm(saved) : null, savedOk, verifiedNorm: null, mode: null, vid: null, resendAt: 0, timer: null, sentFor: null };
  const input = h('input', isEmail
    ? { type: 'email', maxlength: '254', autocomplete: 'off', value: saved || '', placeholder: t('form.emailPlaceholder') }
    : { type: 'tel', maxlength: '32', autocomplete: 'off', value: saved || '', placeholder: t('form.mobilePlaceholder') });
  const statusBox = h('span', { class: 'verify-status', 'aria-live': 'polite' });
  const verifyBtn = h('button', { type: 'button', class: 'btn btn-small' }, t('verify.verify'));
  const f = field({ label: t(isEmail ? 'form.email' : 'form.mobile'), input, required: !isEmail, extra: [verifyBtn, statusBox] });
  const codeInput = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}' });
  const codeField = field({ label: t('verify.code'), input: codeInput });
  const confirmBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary' }, t('verify.confirm'));
  codeField.wrap.querySelector('.field-control').appendChild(confirmBtn);
  const sentNote = h('p', { class: 'field-hint verify-sent' });
  // The code box exists only while a code is expected, so "Verification Code" names one box.
  const codeBox = h('div', { class: 'code-box' }, sentNote, codeField.wrap);
  const group = h('div', { class: 'verify-group', role: 'group', 'aria-label': t(isEmail ? 'form.emailVerification' : 'form.mobileVerification') }, f.wrap);
  const showCode = (on) => {
    if (on) group.appendChild(codeBox);
    else codeBox.remove();
  };
  const self = { wrap: group, f, onContact: null, stop };

  /** true, false, or null when the box is empty. */
  function isVerified() {
    const v = norm(input.value);
    if (!v) return null;
    if (st.savedNorm && v === st.savedNorm && st.savedOk) return true;
    return st.verifiedNorm === v;
  }

  function paint() {
    const v = isVerified();
    clear(statusBox);
    if (v === null) {
      verifyBtn.hidden = !write;
      tick();
      return;
    }
    statusBox.appendChild(badge(v));
    if (!v && st.savedNorm && norm(input.value) !== st.savedNorm) statusBox.appendChild(h('span', { class: 'field-hint inline' }, ` ${t('form.reverify')}`));
    verifyBtn.hidden = v || !write;
    tick();
  }

  function tick() {
    const left = Math.ceil((st.resendAt - Date.now()) / 1000);
    const sentHere = st.sentFor !== null && st.sentFor === norm(input.value);
    if (sentHere && left > 0) {
      verifyBtn.disabled = true;
      verifyBtn.textContent = t('verify.resendIn', { s: left });
    } else {
      verifyBtn.disabled = false;
      verifyBtn.textContent = sentHere ? t('verify.resend') : t('verify.verify');
      if (st.timer) {
        clearInterval(st.timer);
        st.timer = null;
      }
    }
  }

  function startCountdown(untilMs) {
    st.resendAt = untilMs;
    if (st.timer) clearInterval(st.timer);
    st.timer = setInterval(tick, 500);
    tick();
  }

  function stop() {
    if (st.timer) clearInterval(st.timer);
    st.timer = null;
  }

  input.addEventListener('input', () => {
    f.error('');
    if (st.sentFor !== null && st.sentFor !== norm(input.value)) {
      showCode(false);
      codeField.error('');
    }
    paint();
  });

  verifyBtn.addEventListener('click', async () => {
    f.error('');
    codeField.error('');
    const v = input.value.trim();
    if (!v) {
      f.error(t('verify.needValue'));
      input.focus();
      return;
    }
    const own = c && st.savedNorm === norm(v);
    verifyBtn.disabled = true;
    try {
      let r;
      if (own) {
        r = await api('POST', `/v1/contacts/${c.id}/verifications`, { channel });
      } else {
        const langSel = group.closest('form') && group.closest('form').querySelector('select');
        const body = { channel, target: v };
        if (langSel && LANGS.includes(langSel.value)) body.language = langSel.value;
        r = await api('POST', '/v1/verifications', body);
      }
      st.mode = own ? 'contact' : 'target';
      st.vid = r.verification_id;
      st.sentFor = norm(v);
      sentNote.textContent = t('verify.sent', { target: r.target });
      showCode(true);
      codeInput.value = '';
      startCountdown(Date.parse(r.resend_after) || Date.now() + 60000);
      codeInput.focus();
    } catch (e) {
      verifyBtn.disabled = false;
      const msg = errText(e);
      const ra = e instanceof ApiError ? Number(e.body.retry_after) : 0;
      if (ra > 0) {
        st.sentFor = norm(v);
        startCountdown(Date.now() + ra * 1000);
      }
      f.error(msg);
    }
    paint();
  });

  async function confirm() {
    codeField.error('');
    const code = codeInput.value.trim();
    if (!/^[0-9]{6}$/.test(code)) {
      codeField.error(t('verify.code') + ': 000000–999999');
      codeInput.focus();
      return;
    }
    confirmBtn.disabled = true;
    try {
      if (st.mode === 'contact') {
        const updated = await api('POST', `/v1/contacts/${c.id}/verifications/confirm`, { channel, code });
        st.savedOk = (isEmail ? updated.email_status : updated.mobile_status) === 1;
        if (self.onContact) self.onContact(updated);
      } else {
        await api('POST', `/v1/verifications/${st.vid}/confirm`, { code });
        st.verifiedNorm = st.sentFor;
      }
      showCode(false);
      stop();
      st.sentFor = null;
      paint();
      input.focus();
    } catch (e) {
      let msg = errText(e);
      if (e instanceof ApiError && typeof e.body.attempts_left === 'number') msg = `${msg} ${t('verify.attemptsLeft', { n: e.body.attempts_left })}`;
      codeField.error(msg);
      codeInput.focus();
      codeInput.select();
    }
    confirmBtn.disabled = false;
  }
  confirmBtn.addEventListener('click', confirm);
  codeInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      confirm();
    }
  });
  paint();
  return self;
}
