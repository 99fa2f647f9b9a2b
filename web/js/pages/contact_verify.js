// contact_verify.js — the contact dialog's email or mobile field with its
// Verify button, its Verified / Unverified status and the Verification Code box
// that appears once a code was sent (or, when a send is throttled, while the
// code sent before is still valid): Enter or Confirm checks the code, and a
// resend waits out a visible countdown. Also the Verify dialog of a list row,
// for a contact whose addresses were saved unverified (API, import).

import { LANGS, t } from '../i18n.js';
import { h, uid, clear, field, badge, button, toast } from '../dom.js';
import { api, ApiError, errText } from '../api.js';
import { openDialog } from '../dialog.js';

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
 * write says whether the user may send codes; opts.fixed keeps the address as
 * it is (the row's Verify dialog). Returns {wrap, f, channel, stop, onContact,
 * isVerified, needsSave}: f is the field, stop() ends the countdown, onContact
 * (set by the caller) gets the contact after a code confirmed through its own
 * route, isVerified() says whether the address in the box is verified (null:
 * empty), needsSave() whether it shows verified only because the account
 * confirmed it lately (the server saves it verified once the contact is saved).
 */
export function verifyField(channel, c, write, opts = {}) {
  const isEmail = channel === 'email';
  const norm = isEmail ? normEmail : normMobile;
  const saved = c ? (isEmail ? c.email : c.mobile) : null;
  const savedOk = c ? (isEmail ? c.email_status : c.mobile_status) === 1 : false;
  const st = { savedNorm: saved ? norm(saved) : null, savedOk, verifiedNorm: null, mode: null, vid: null, resendAt: 0, timer: null, sentFor: null, wait: null, checked: new Map(), checkTimer: null };
  const input = h('input', isEmail
    ? { type: 'email', maxlength: '254', autocomplete: 'off', value: saved || '', placeholder: t('form.emailPlaceholder') }
    : { type: 'tel', maxlength: '32', autocomplete: 'off', value: saved || '', placeholder: t('form.mobilePlaceholder') });
  const statusBox = h('span', { class: 'verify-status', 'aria-live': 'polite' });
  const verifyBtn = h('button', { type: 'button', class: 'btn btn-small' }, t('verify.verify'));
  if (opts.fixed) input.readOnly = true;
  // Both addresses must be verified before the contact is saved: both are required.
  const f = field({ label: t(isEmail ? 'form.email' : 'form.mobile'), input, required: true, extra: [verifyBtn, statusBox] });
  const codeInput = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}' });
  const codeField = field({ label: t('verify.code'), input: codeInput });
  const confirmBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary' }, t('verify.confirm'));
  codeField.wrap.querySelector('.field-control').appendChild(confirmBtn);
  const sentNote = h('p', { class: 'field-hint verify-sent' });
  const waitNote = h('p', { class: 'field-hint verify-wait', hidden: true });
  // The code box exists only while a code is expected, so "Verification Code" names one box.
  const codeBox = h('div', { class: 'code-box' }, sentNote, waitNote, codeField.wrap);
  const group = h('div', { class: 'verify-group', role: 'group', 'aria-label': t(isEmail ? 'form.emailVerification' : 'form.mobileVerification') }, f.wrap);
  const showCode = (on) => {
    if (on) group.appendChild(codeBox);
    else codeBox.remove();
  };
  const self = { wrap: group, f, channel, onContact: null, stop, isVerified, needsSave };

  /** true, false, or null when the box is empty. */
  function isVerified() {
    const v = norm(input.value);
    if (!v) return null;
    if (st.savedNorm && v === st.savedNorm && st.savedOk) return true;
    return st.verifiedNorm === v || st.checked.get(v) === true;
  }

  function needsSave() {
    const v = norm(input.value);
    return Boolean(v) && v === st.savedNorm && !st.savedOk && isVerified() === true;
  }

  /* An address the account confirmed lately is saved verified: ask the server,
   * so the dialog shows what OK will save. */
  async function check() {
    const v = norm(input.value);
    if (!write || !v || isVerified() || st.checked.has(v)) return;
    try {
      const r = await api('POST', '/v1/verifications/status', { channel, target: input.value.trim() });
      st.checked.set(v, Boolean(r.verified));
    } catch {
      return; // not an address yet, or no answer: it stays Unverified
    }
    if (norm(input.value) === v) paint();
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

  /* A throttled send's message says how long to wait: it counts down with the
   * button, so the two always agree, and goes once the wait is over. */
  function showWait(text, seconds, inBox) {
    st.wait = { text, n0: String(seconds), inBox };
    waitNote.hidden = !inBox;
  }

  function paintWait(left) {
    const w = st.wait;
    if (!w) return;
    const text = left > 0 ? w.text.replace(new RegExp(`\\b${w.n0}\\b`), String(left)) : '';
    if (w.inBox) {
      waitNote.textContent = text;
      waitNote.hidden = !text;
    } else {
      f.error(text);
    }
    if (!text) st.wait = null;
  }

  function tick() {
    const left = Math.ceil((st.resendAt - Date.now()) / 1000);
    paintWait(left);
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
    st.wait = null;
    if (st.sentFor !== null && st.sentFor !== norm(input.value)) {
      showCode(false);
      codeField.error('');
    }
    paint();
    clearTimeout(st.checkTimer);
    st.checkTimer = setTimeout(check, 400);
  });

  /** A code is on its way (or still valid): the box to type it in. */
  function codeExpected(own, r, note) {
    st.mode = own ? 'contact' : 'target';
    st.vid = r.verification_id;
    st.sentFor = norm(input.value);
    sentNote.textContent = note;
    showCode(true);
    codeInput.value = '';
  }

  verifyBtn.addEventListener('click', async () => {
    f.error('');
    codeField.error('');
    st.wait = null;
    waitNote.hidden = true;
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
        if (c) body.contact_id = c.id; // its own address is no clash
        r = await api('POST', '/v1/verifications', body);
      }
      codeExpected(own, r, t('verify.sent', { target: r.target }));
      startCountdown(Date.parse(r.resend_after) || Date.now() + 60000);
      codeInput.focus();
    } catch (e) {
      verifyBtn.disabled = false;
      const body = e instanceof ApiError ? e.body : {};
      const ra = Number(body.retry_after) || 0;
      if (ra > 0) {
        st.sentFor = norm(v);
        // the code sent before is still valid: it can be typed in while the resend waits
        if (body.verification_id) {
          const mins = Math.max(1, Math.round((Date.parse(body.expires_at) - Date.now()) / 60000));
          codeExpected(own, body, t('verify.stillValid', { target: body.target, m: mins }));
        }
        showWait(errText(e), ra, Boolean(body.verification_id));
        startCountdown(Date.now() + ra * 1000);
        paint();
        (body.verification_id ? codeInput : input).focus();
        return;
      }
      f.error(errText(e));
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
      st.wait = null;
      f.error('');
      paint();
      input.focus();
    } catch (e) {
      // the server's message says how many tries are left, in the console's language
      codeField.error(errText(e));
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
  check();
  return self;
}

/** Contact id as a dialog opens on it; null (said in a toast) when it cannot be read. */
export async function loadContact(id) {
  try {
    return await api('GET', `/v1/contacts/${id}`);
  } catch (e) {
    toast(t('common.error', { message: errText(e) }), 'error');
    return null;
  }
}

/**
 * The Verify dialog of a list row: a code to each of contact id's unverified
 * addresses, confirmed through the contact's own routes (which save the
 * verified state). onSaved(contact) gets the contact as saved when anything
 * changed, however the dialog closes.
 */
export async function verifyDialog(id, onSaved) {
  const c = await loadContact(id);
  if (!c) return;
  const fields = [];
  if (c.email && c.email_status !== 1) fields.push(verifyField('email', c, true, { fixed: true }));
  if (c.mobile && c.mobile_status !== 1) fields.push(verifyField('mobile', c, true, { fixed: true }));
  let latest = c;
  let changed = false;
  const intro = h('p', { id: uid('vintro'), class: 'muted' }, t(fields.length ? 'verify.dialogIntro' : 'verify.allVerified'));
  const done = button(t('verify.done'), finish, 'btn-primary');
  const d = openDialog({
    title: t('verify.dialogTitle', { name: c.name }),
    body: h('div', { class: 'contact-form' }, intro, fields.map((x) => x.wrap)),
    footer: [done],
    describe: intro.id,
    onClose() {
      for (const x of fields) x.stop();
      if (changed) onSaved(latest);
    },
  });
  for (const x of fields) x.onContact = (updated) => {
    latest = updated;
    changed = true;
  };

  /* An address the account confirmed lately (shown Verified, not saved so yet)
   * is saved now: the server carries the confirmation over. */
  async function finish() {
    const body = {};
    for (const x of fields) if (x.needsSave()) body[x.channel] = x.f.input.value.trim();
    if (Object.keys(body).length) {
      done.disabled = true;
      try {
        latest = await api('PATCH', `/v1/contacts/${c.id}`, body, { ifMatch: latest.version });
        changed = true;
      } catch (e) {
        done.disabled = false;
        d.error(errText(e));
        return;
      }
    }
    d.close();
  }
}
