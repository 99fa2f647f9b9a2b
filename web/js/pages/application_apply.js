// application_apply.js — the Apply for Certificate dialog: the product (brand,
// validation type and domain kind from GET /v1/products), the domains one per
// line or a pasted CSR, and the contact (contact_picker.js). Before sending,
// next to the chosen contact, it lists what the product's rules need that the
// contact lacks (GET /v1/applications/eligibility, in the words a submission
// would use); after sending, the server's "problems" in the API's words.

import { t } from '../i18n.js';
import { h, button, field, selectEl, clear } from '../dom.js';
import { api, errText, errField } from '../api.js';
import { openDialog } from '../dialog.js';
import { contactPicker } from './contact_picker.js';
import { contactDialog } from './contact_edit.js';

let productsCache = null;

export async function products() {
  if (!productsCache) productsCache = (await api('GET', '/v1/products')).items;
  return productsCache;
}

export function productLabel(p) {
  return `${p.name} — ${p.brand} · ${p.validation} · ${t(`coverage.${p.coverage}`)}`;
}

/** What product p needs of contact c that c lacks: [text], empty when nothing. */
export function lacks(p, c) {
  if (!p || !c) return [];
  const out = [];
  if (p.id_card_required && !c.id_card) out.push(t('apply.needIdCard'));
  if (!c.email) out.push(t('apply.needEmail'));
  else if (c.email_status !== 1) out.push(t('apply.needEmailVerified'));
  if (c.mobile_status !== 1) out.push(t('apply.needMobileVerified'));
  return out;
}

/** Opens the dialog; done(application) runs after the server took it. */
export async function applyDialog(view, done) {
  let items;
  try {
    items = await products();
  } catch (e) {
    openDialog({ title: t('apps.apply'), body: h('p', { class: 'form-error' }, errText(e)) });
    return;
  }
  const product = field({ label: t('apps.product'), input: selectEl(items.map((p) => [p.code, productLabel(p)]), items.length ? items[0].code : ''), required: true });
  const productNote = h('p', { class: 'field-hint' });
  product.wrap.appendChild(productNote);
  const domains = field({ label: t('apply.domains'), input: h('textarea', { rows: '3', spellcheck: 'false', class: 'mono' }), hint: t('apply.domainsHint') });
  const csr = field({ label: t('apply.csr'), input: h('textarea', { rows: '4', spellcheck: 'false', class: 'mono', placeholder: '-----BEGIN CERTIFICATE REQUEST-----' }), hint: t('apply.csrHint') });
  const needs = h('div', { class: 'needs', 'aria-live': 'polite' });
  const problems = h('div', { class: 'problems', role: 'alert' });
  const editBtn = button(t('apply.editContact'), () => {
    const c = picker.value();
    if (c) contactDialog(c.id, (saved) => picker.refresh(saved ? saved.id : c.id), view);
  }, 'btn-small', { hidden: true });
  const picker = contactPicker(view, () => paint());
  picker.wrap.querySelector('.field-control').appendChild(editBtn);
  const chosen = () => items.find((p) => p.code === product.input.value);

  let asked = 0;
  function showNeeds(missing) {
    clear(needs);
    if (!missing.length) {
      needs.appendChild(h('p', { class: 'needs-ok' }, t('apply.contactReady')));
      return;
    }
    needs.appendChild(h('p', { class: 'needs-title' }, t('apply.contactLacks')));
    needs.appendChild(h('ul', null, missing.map((x) => h('li', null, x))));
  }

  /** The product's rules against the contact: at once from what the lists say, then in the server's words. */
  async function paint() {
    const p = chosen();
    const c = picker.value();
    productNote.textContent = p ? t('apply.productNote', { brand: p.brand, validation: p.validation, coverage: t(`coverage.${p.coverage}`), max: p.max_domains }) + (p.id_card_required ? ` ${t('apply.productIdCard')}` : '') : '';
    editBtn.hidden = !c;
    clear(needs);
    clear(problems);
    asked += 1;
    if (!c || !p) return;
    const mine = asked;
    showNeeds(lacks(p, c));
    let r;
    try {
      r = await api('GET', `/v1/applications/eligibility?${new URLSearchParams({ product: p.code, contact_id: String(c.id) })}`);
    } catch (e) {
      return; // the rules worked out here stay
    }
    if (mine !== asked) return;
    showNeeds((r.problems || []).map((x) => x.message));
  }
  product.input.addEventListener('change', paint);

  const ok = button(t('apply.submit'), () => submit(), 'btn-primary');
  const form = h('form', { class: 'apply-form', novalidate: true }, product.wrap, domains.wrap, csr.wrap, picker.wrap, needs, problems);
  const d = openDialog({ title: t('apps.apply'), body: form, footer: [ok, button(t('common.cancel'), () => d.close())], wide: true });
  const fields = { Product: product, Domains: domains, Csr: csr, ContactId: picker.field, Contact: picker.field };
  paint();

  async function submit() {
    d.error('');
    clear(problems);
    for (const f of Object.values(fields)) f.error('');
    const c = picker.value();
    if (!c) {
      picker.field.error(t('apply.pickContact'));
      picker.input.focus();
      return;
    }
    const body = { product: product.input.value, contact_id: c.id };
    const names = domains.input.value.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);
    if (names.length) body.domains = names;
    if (csr.input.value.trim()) body.csr = csr.input.value.trim();
    ok.disabled = true;
    try {
      const a = await api('POST', '/v1/applications', body);
      d.close();
      done(a);
    } catch (e) {
      ok.disabled = false;
      showError(e);
    }
  }

  function showError(e) {
    const list = e.body && Array.isArray(e.body.problems) ? e.body.problems : null;
    if (list && list.length) {
      problems.appendChild(h('p', { class: 'needs-title' }, errText(e)));
      problems.appendChild(h('ul', null, list.map((p) => h('li', null, p.message))));
      picker.input.focus();
      return;
    }
    const fld = errField(e);
    if (fld && fields[fld]) {
      fields[fld].error(errText(e));
      fields[fld].input.focus();
    } else {
      d.error(errText(e));
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submit();
  });
}
