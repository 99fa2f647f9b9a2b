// signin.js — the sign-in page: email and password against POST /v1/session,
// and the account's number for an email that has users in several accounts.
// What happens once signed in (the session, the language, the first page) is
// main.js's business: it hands in signedIn(answer).

import { t } from '../i18n.js';
import { h, field } from '../dom.js';
import { api, errText } from '../api.js';

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
