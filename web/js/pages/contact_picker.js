// contact_picker.js — the Contact drop-down of the application form: a
// searchable combobox (ARIA 1.2: a text box that owns a listbox) listing the
// account's contacts with whether each one's email and mobile are verified,
// ending with "Create Contact", which opens the same dialog as the contacts
// page and selects the new contact. Arrow keys move through the options,
// Enter picks one, Escape closes the list (and only the list).
// The Notifications page uses it as its Contact filter: no "Create Contact",
// an "All contacts" option, and every search asked of the server (which also
// matches emails and mobiles), so any contact of the account can be found.

import { t } from '../i18n.js';
import { h, uid, clear, field } from '../dom.js';
import { api } from '../api.js';
import { contactDialog } from './contact_edit.js';

const CREATE = 'create';
const ALL = 'all';

/** "email verified, mobile unverified" — what the option says about the contact's addresses. */
export function addressState(c) {
  const email = !c.email ? t('picker.noEmail') : c.email_status === 1 ? t('picker.emailOk') : t('picker.emailNo');
  const mobile = c.mobile_status === 1 ? t('picker.mobileOk') : t('picker.mobileNo');
  return `${email} · ${mobile}`;
}

/**
 * The picker: {wrap, value() (the chosen contact or null), select(contact),
 * refresh(id)}; onChange(contact) runs after each choice (null: none, or All).
 * opts: label (the field's name; "Contact"), required (true), create (offer
 * "Create Contact" to writers; true), all (the words of an option choosing no
 * contact; none), serverSearch (each search asks the server; else only an
 * account of more than 100 contacts), chosen ({id, name} shown at the start).
 */
export function contactPicker(view, onChange, opts = {}) {
  const label = opts.label || t('apply.contact');
  const required = opts.required !== false;
  const create = opts.create !== false && view.write;
  const listId = uid('cp-list');
  const input = h('input', {
    type: 'text', role: 'combobox', autocomplete: 'off', 'aria-autocomplete': 'list',
    'aria-expanded': 'false', 'aria-controls': listId, placeholder: t('picker.placeholder'),
  });
  const toggle = h('button', { type: 'button', class: 'btn btn-small cp-toggle', tabindex: '-1', 'aria-label': t('picker.show'), 'aria-controls': listId, 'aria-expanded': 'false' }, '▾');
  const list = h('ul', { id: listId, role: 'listbox', class: 'cp-list', hidden: true, 'aria-label': label });
  const f = field({ label, input, required, extra: [toggle] });
  f.wrap.querySelector('.field-control').classList.add('cp');
  f.wrap.querySelector('.field-control').appendChild(list);
  const st = { contacts: [], chosen: opts.chosen || null, active: -1, options: [], total: 0, timer: null, seq: 0, fresh: true };
  if (st.chosen) input.value = st.chosen.name;

  async function fetchContacts(keyword) {
    const q = new URLSearchParams({ page: '1', page_size: '100' });
    if (keyword) q.set('keyword', keyword);
    try {
      const r = await api('GET', `/v1/contacts?${q}`);
      if (!keyword) st.total = r.total;
      return r.items;
    } catch (e) {
      return [];
    }
  }

  function open(on) {
    list.hidden = !on;
    input.setAttribute('aria-expanded', String(on));
    toggle.setAttribute('aria-expanded', String(on));
    if (!on) setActive(-1);
  }

  function setActive(i) {
    st.active = i;
    st.options.forEach((el, j) => el.setAttribute('aria-selected', String(j === i)));
    if (i >= 0 && st.options[i]) {
      input.setAttribute('aria-activedescendant', st.options[i].id);
      st.options[i].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function paint() {
    clear(list);
    const words = input.value.trim().toLowerCase();
    // searched by the server: its answer is the list (it matched emails and mobiles
    // too); until it comes, the names at hand that match
    const shown = opts.serverSearch && st.fresh ? st.contacts
      : st.contacts.filter((c) => !words || c === st.chosen && input.value === c.name || c.name.toLowerCase().includes(words));
    st.options = shown.map((c) => h('li', { id: uid('cp-opt'), role: 'option', class: 'cp-option', 'aria-selected': 'false', 'data-id': String(c.id) },
      h('span', { class: 'cp-name' }, c.name), ' ', h('span', { class: 'cp-state' }, addressState(c))));
    if (opts.all) st.options.unshift(h('li', { id: uid('cp-opt'), role: 'option', class: 'cp-option cp-all', 'aria-selected': 'false', 'data-id': ALL }, opts.all));
    if (!shown.length) list.appendChild(h('li', { class: 'cp-empty', role: 'presentation' }, t('picker.none')));
    if (create) st.options.push(h('li', { id: uid('cp-opt'), role: 'option', class: 'cp-option cp-create', 'aria-selected': 'false', 'data-id': CREATE }, `+ ${t('contacts.create')}`));
    for (const el of st.options) list.appendChild(el);
  }

  async function load(keyword) {
    st.seq += 1;
    const mine = st.seq;
    const got = await fetchContacts(keyword);
    if (mine !== st.seq) return; // a later search is on its way
    st.fresh = true;
    // a choice made meanwhile stays in the list
    st.contacts = st.chosen && !got.some((x) => x.id === st.chosen.id) ? [st.chosen, ...got] : got;
    paint();
    if (!list.hidden) setActive(st.options.length ? 0 : -1);
  }

  /** Only the first 100 contacts are at hand: an account with more is searched by the server. */
  function searchServer() {
    if (st.total <= 100 && !opts.serverSearch) return;
    clearTimeout(st.timer);
    st.timer = setTimeout(() => load(input.value.trim()), 250);
  }

  function choose(el) {
    if (!el) return;
    const id = el.getAttribute('data-id');
    open(false);
    if (id === ALL) {
      st.chosen = null;
      input.value = '';
      paint();
      if (onChange) onChange(null);
      return;
    }
    if (id === CREATE) {
      contactDialog(null, (saved) => {
        if (saved) select(saved);
      }, view);
      return;
    }
    const c = st.contacts.find((x) => String(x.id) === id);
    if (c) select(c);
  }

  function select(c) {
    st.chosen = c;
    if (!st.contacts.some((x) => x.id === c.id)) st.contacts.unshift(c);
    input.value = c.name;
    f.error('');
    paint();
    if (onChange) onChange(c);
  }

  input.addEventListener('input', () => {
    st.fresh = false;
    if (st.chosen && input.value !== st.chosen.name) {
      st.chosen = null;
      if (onChange) onChange(null);
    }
    paint();
    open(true);
    setActive(st.options.length ? 0 : -1);
    searchServer();
  });
  input.addEventListener('keydown', (ev) => {
    const n = st.options.length;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (list.hidden) {
        paint();
        open(true);
        setActive(ev.key === 'ArrowDown' ? 0 : n - 1);
        return;
      }
      if (!n) return;
      const d = ev.key === 'ArrowDown' ? 1 : -1;
      setActive((st.active + d + n) % n);
    } else if (ev.key === 'Enter') {
      if (list.hidden) return;
      ev.preventDefault();
      choose(st.options[st.active]);
    } else if (ev.key === 'Escape' && !list.hidden) {
      // only the list closes, not the dialog the picker sits in
      ev.preventDefault();
      ev.stopPropagation();
      open(false);
    }
  });
  input.addEventListener('blur', () => setTimeout(() => {
    if (!f.wrap.contains(document.activeElement)) open(false);
  }, 150));
  toggle.addEventListener('click', () => {
    const on = list.hidden;
    if (on) paint();
    open(on);
    input.focus();
  });
  // mousedown, not click: choosing must happen before the input's blur closes the list
  list.addEventListener('mousedown', (ev) => {
    const el = ev.target.closest('[role=option]');
    if (!el) return;
    ev.preventDefault();
    choose(el);
  });

  /** After the contact changed elsewhere (the Edit dialog): read it again. */
  async function refresh(id) {
    try {
      const c = await api('GET', `/v1/contacts/${id}`);
      const i = st.contacts.findIndex((x) => x.id === c.id);
      if (i >= 0) st.contacts[i] = c;
      select(c);
    } catch (e) {
      /* the list keeps what it had */
    }
  }

  load('');
  return { wrap: f.wrap, field: f, input, value: () => st.chosen, select, refresh };
}
