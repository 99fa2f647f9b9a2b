// contact_edit.js — the Create Contact / Edit dialog: name, email and mobile
// (each verified in place, contact_verify.js), ID card number, the
// notification language and the robots (contact_bots.js); an existing
// contact's certificates and open applications, with links to them. An edit sends only
// what changed, with the version it started from (If-Match). A refused save
// shows every problem the API lists at once, each at its field (a robot's in
// its own row), and takes the focus to the first.

import { LANGS, t, lang } from '../i18n.js';
import { h, uid, button, field, selectEl, toast } from '../dom.js';
import { api, errText, errField } from '../api.js';
import { openDialog } from '../dialog.js';
import { verifyField, normEmail, normMobile, loadContact } from './contact_verify.js';
import { botsEditor } from './contact_bots.js';
import { domainsText } from './applications.js';

/** What the contact is named on: its certificates and open applications, each a link to its detail. */
function usedBy(c) {
  const certs = c.certificates || [];
  const apps = c.applications || [];
  const section = (title, items, empty) => h('section', { class: 'used-by', 'aria-label': title },
    h('h3', { class: 'h3' }, title),
    items.length ? h('ul', { class: 'used-list' }, items) : h('p', { class: 'muted' }, empty));
  return h('div', { class: 'used' },
    section(t('form.certificates'), certs.map((x) => h('li', null,
      h('a', { href: `#/certificates/${x.id}` }, (x.domains || []).join(', ') || `#${x.id}`), ' ',
      h('span', { class: 'muted' }, `${t(`cstate.${x.state}`)} · ${t('form.until', { date: (x.not_after || '').slice(0, 10) })}`))), t('form.noCertificates')),
    section(t('form.applications'), apps.map((x) => h('li', null,
      h('a', { href: `#/applications/${x.id}` }, `#${x.id} ${domainsText(x.domains)}`), ' ',
      h('span', { class: 'muted' }, `${x.product} · ${t(`astate.${x.state}`)}`))), t('form.noApplications')),
    c.applications_total > apps.length ? h('p', { class: 'muted' }, t('form.moreApplications', { n: c.applications_total - apps.length })) : null);
}

/**
 * The problems of a refused save as [{path, field, message}]: the API's
 * "problems", or the error itself as one (an error about the whole request
 * has neither path nor field).
 */
function saveProblems(e) {
  const list = e && e.body && Array.isArray(e.body.problems) ? e.body.problems : [];
  if (list.length) return list.map((p) => ({ path: String(p.path || ''), field: String(p.field || ''), message: String(p.message || '') }));
  const fld = errField(e);
  return [{ path: '', field: fld || '', message: errText(e) }];
}

/**
 * Create (id null) or edit a contact; reload() runs after a save. An address
 * the saved contact already has uses the contact's own verification routes; a
 * new or changed one is verified before it is saved (POST /v1/verifications),
 * and the server saves it verified. reload(saved) gets the saved contact.
 */
export async function contactDialog(id, reload, view) {
  let c = null;
  if (id !== null) {
    c = await loadContact(id);
    if (!c) return;
  }
  const editing = Boolean(c);
  const st = { version: c ? c.version : 0, contactId: c ? c.id : null, latest: null, saved: false };
  const name = field({ label: t('form.name'), input: h('input', { type: 'text', maxlength: '64', autocomplete: 'off', value: c ? c.name : '', placeholder: t('form.namePlaceholder') }), required: true });
  const email = verifyField('email', c, view.write);
  const mobile = verifyField('mobile', c, view.write);
  const idInput = h('input', { type: 'text', maxlength: '18', autocomplete: 'off', inputmode: 'text', placeholder: c && c.id_card ? c.id_card : '' });
  const idRemove = c && c.id_card ? h('input', { type: 'checkbox', id: uid('idrm') }) : null;
  const idCard = field({
    label: t('form.idCard'),
    input: idInput,
    hint: [t('form.idCardNote'), c && c.id_card ? ` ${t('form.idCardKeep', { masked: c.id_card })}` : ''].join(''),
    extra: idRemove ? h('label', { class: 'check', for: idRemove.id }, idRemove, t('form.idCardRemove')) : null,
  });
  const language = field({ label: t('form.language'), input: selectEl(LANGS.map((l) => [l, t(`lang.${l}`)]), c ? c.language : lang()) });
  const bots = botsEditor(c, {
    contactId: st.contactId,
    write: view.write,
    /* a bot row's test speaks to the person named here, in this language */
    testName: () => name.input.value.trim() || null,
    testLanguage: () => (LANGS.includes(language.input.value) ? language.input.value : null),
  });
  const fields = { Name: name, Email: email.f, Mobile: mobile.f, IdCard: idCard, Language: language, Webhooks: bots };
  const byPath = { name, email: email.f, mobile: mobile.f, id_card: idCard, language };
  // a field's message goes as soon as the field is edited (email and mobile: contact_verify.js)
  name.input.addEventListener('input', () => name.error(''));
  idInput.addEventListener('input', () => idCard.error(''));
  if (idRemove) idRemove.addEventListener('change', () => idCard.error(''));
  language.input.addEventListener('change', () => language.error(''));

  const ok = h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.ok'));
  const cancel = button(t('common.cancel'), () => d.close());
  const form = h('form', { class: 'contact-form', novalidate: true },
    name.wrap, email.wrap, mobile.wrap, idCard.wrap, language.wrap, bots.wrap, c ? usedBy(c) : null);
  const d = openDialog({
    title: editing ? t('form.editTitle') : t('form.createTitle'),
    body: form,
    footer: [ok, cancel],
    wide: true,
    onClose() {
      email.stop();
      mobile.stop();
      // an address verified here is saved verified already: the list shows it at once
      if (st.latest && !st.saved) reload(st.latest);
    },
  });
  ok.addEventListener('click', (ev) => {
    ev.preventDefault();
    save();
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save();
  });
  for (const v of [email, mobile]) v.onContact = (updated) => {
    st.version = updated.version;
    st.latest = updated;
  };

  /** The body of the POST (everything given) or the PATCH (only what changed). */
  function changes() {
    const body = {};
    const nm = name.input.value.trim();
    const em = email.f.input.value.trim();
    const mo = mobile.f.input.value.trim();
    const ic = idInput.value.trim();
    const lg = language.input.value;
    const hooks = bots.value();
    if (!editing) {
      body.name = nm;
      if (em) body.email = em;
      body.mobile = mo;
      if (ic) body.id_card = ic;
      body.language = lg;
      if (hooks.list.length) body.webhooks = hooks.list;
    } else {
      if (nm !== c.name) body.name = nm;
      // an unchanged address the account confirmed lately is sent again, so it is saved verified
      if (normEmail(em) !== normEmail(c.email) || email.needsSave()) body.email = em || null;
      if (normMobile(mo) !== normMobile(c.mobile) || mobile.needsSave()) body.mobile = mo;
      if (ic) body.id_card = ic;
      else if (idRemove && idRemove.checked) body.id_card = null;
      if (lg !== c.language) body.language = lg;
      if (hooks.changed) body.webhooks = hooks.list;
    }
    return body;
  }

  async function save() {
    d.error('');
    for (const f of Object.values(fields)) f.error('');
    const body = changes();
    // every problem the dialog can tell by itself at once, like the server's: a
    // missing name, and each address that is not verified (OK saves only verified
    // addresses, a changed one verified again: the product promises it); focus
    // goes to the first
    const problems = [];
    if (!name.input.value.trim()) {
      name.error(t('form.required'));
      problems.push(name);
    }
    for (const v of [email, mobile].filter((x) => x.isVerified() !== true)) {
      v.f.error(v.isVerified() === null ? t('form.required') : t('verify.needVerified'));
      problems.push(v.f);
    }
    if (problems.length) {
      problems[0].input.focus();
      return;
    }
    if (editing && Object.keys(body).length === 0) {
      d.close();
      return;
    }
    ok.disabled = true;
    try {
      let saved;
      if (editing) saved = await api('PATCH', `/v1/contacts/${c.id}`, body, { ifMatch: st.version });
      else saved = await api('POST', '/v1/contacts', body);
      st.saved = true;
      d.close();
      toast(t(editing ? 'contacts.updated' : 'contacts.created', { name: saved.name }));
      reload(saved);
    } catch (e) {
      ok.disabled = false;
      showProblems(e);
    }
  }

  /** Each problem of a refused save at its field, all at once; the focus to the first field. */
  function showProblems(e) {
    const general = [];
    let first = null;
    for (const p of saveProblems(e)) {
      const input = showAt(p);
      if (input === null) general.push(p.message);
      else if (input && !first) first = input;
    }
    if (general.length) d.error(general.join(' ') + (e.requestId ? ` (${t('common.requestId', { id: e.requestId })})` : ''));
    if (first) first.focus();
  }

  /** Shows problem p at its field; returns what to focus there (false: nothing), or null when it is no field's. */
  function showAt(p) {
    const path = p.path.replace(/^contact\./, '');
    const hook = /^webhooks\[(\d+)\]\.(\w+)$/.exec(path);
    const inRow = hook ? bots.problem(Number(hook[1]), hook[2], p.message) : null;
    if (inRow) return inRow;
    const f = byPath[path] || (hook || path === 'webhooks' ? bots : null) || (!path ? fields[p.field] : null);
    if (!f) return null;
    f.error(p.message);
    return f.input || false;
  }
}
