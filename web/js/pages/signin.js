// signin.js — the sign-in page: email and password against POST /v1/session,
// and the account's number for an email that has users in several accounts;
// and the sign-in dialog that opens over the page when a session ends, so the
// open dialogs and what was typed in them stay. What happens once signed in
// (the session, the language, the first page) is main.js's business: it hands
// in signedIn(answer).

import { t } from '../i18n.js';
import { h, uid, field, button } from '../dom.js';
import { api, errText } from '../api.js';
import { openDialog } from '../dialog.js';

/**
 * The dialog over the page when user's session has ended. Resolves with the
 * POST /v1/session answer once someone signed in (the same user or not:
 * the caller decides), or null when it was cancelled.
 */
export function signInAgainDialog(user) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    const textId = uid('again-text');
    const email = h('input', { type: 'email', autocomplete: 'username', name: 'email', value: user.email });
    const password = h('input', { type: 'password', autocomplete: 'current-password', name: 'password' });
    const fe = field({ label: t('signin.email'), input: email, required: true });
    const fp = field({ label: t('signin.password'), input: password, required: true });
    const ok = button(t('signin.submit'), submit, 'btn-primary');
    const d = openDialog({
      title: t('signin.againTitle'),
      describe: textId,
      body: [h('p', { id: textId }, t('signin.againText')), h('form', { class: 'signin-form', novalidate: true }, fe.wrap, fp.wrap)],
      footer: [ok, button(t('common.cancel'), () => d.close())],
      guard: false,
      focus: password,
      onClose: () => finish(null),
    });
    async function submit() {
      d.error('');
      if (!email.value.trim() || !password.value) {
        d.error(`${t('signin.email')} / ${t('signin.password')}: ${t('form.required')}`);
        (email.value.trim() ? password : email).focus();
        return;
      }
      ok.disabled = true;
      try {
        const body = { email: email.value.trim(), password: password.value };
        // the same email signs in to the account it was signed in to
        if (body.email.toLowerCase() === String(user.email).toLowerCase()) body.account = user.account_id;
        const r = await api('POST', '/v1/session', body, { noSessionCheck: true });
        finish(r);
        d.close();
      } catch (e) {
        d.error(errText(e));
        ok.disabled = false;
        password.focus();
        password.select();
      }
    }
  });
}

/**
 * The sign-in page. languageControl is the language picker to show above the
 * card; signedIn(r) gets the session's answer and may reject, which the form
 * then shows like a refused password.
 */
export function signInView({ languageControl, signedIn }) {
  const email = h('input', { type: 'email', autocomplete: 'username', name: 'email' });
  const password = h('input', { type: 'password', autocomplete: 'current-password', name: 'password' });
  const fe = field({ label: t('signin.email'), input: email, required: true });
  const fp = field({ label: t('signin.password'), input: password, required: true });
  const account = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', name: 'account', maxlength: '19' });
  const fa = field({ label: t('signin.account'), input: account, hint: t('signin.accountNote') });
  const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('signin.submit'));
  const form = h('form', { class: 'signin-form', novalidate: true }, fe.wrap, fp.wrap, fa.wrap, err, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.hidden = true;
    if (!email.value.trim() || !password.value) {
      err.textContent = `${t('signin.email')} / ${t('signin.password')}: ${t('form.required')}`;
      err.hidden = false;
      return;
    }
    submit.disabled = true;
    submit.textContent = t('signin.busy');
    try {
      const body = { email: email.value.trim(), password: password.value };
      const acct = account.value.trim();
      if (acct) body.account = /^[0-9]+$/.test(acct) ? Number(acct) : acct;
      const r = await api('POST', '/v1/session', body, { noSessionCheck: true });
      await signedIn(r);
    } catch (e) {
      err.textContent = errText(e);
      err.hidden = false;
      submit.disabled = false;
      submit.textContent = t('signin.submit');
      password.select();
    }
  });
  return h('div', { class: 'signin' },
    h('header', { class: 'signin-top' }, languageControl),
    h('main', { class: 'signin-card' },
      h('div', { class: 'signin-brand' }, h('img', { src: '/assets/favicon.svg', alt: '', width: '32', height: '32' }), h('span', null, 'certcontacts')),
      h('h1', { class: 'signin-title' }, t('signin.title')),
      form,
      h('p', { class: 'signin-hint' }, t('signin.hint'))));
}
