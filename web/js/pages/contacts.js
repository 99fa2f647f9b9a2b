// contacts.js — Comprehensive Management > Contact Management: the list with
// search and paging (its place kept in the URL: #/contacts?page=3&size=50&q=li),
// each contact's addresses (Verified or not) and robots,
// and per contact Edit, Send test and Delete; Import (a CSV file) and Export
// for the whole list. The dialogs are in contact_edit.js, contact_test.js,
// contact_delete.js and contact_import.js.

import { t } from '../i18n.js';
import { h, append, clear, uid, button, badge, visuallyHidden, pageHead, selectEl } from '../dom.js';
import { api, errText } from '../api.js';
import { platformIcon, platformName } from '../platform.js';
import { contactDialog } from './contact_edit.js';
import { verifyDialog } from './contact_verify.js';
import { testDialog } from './contact_test.js';
import { deleteContact } from './contact_delete.js';
import { importDialog, exportMenu } from './contact_import.js';

const SIZES = [10, 20, 50, 100];

/**
 * The list's place from the URL (#/contacts?page=3&size=50&q=li), so a reload
 * or the browser's back and forward come back to it: page from 1, size one of
 * SIZES (else 10), q the search.
 */
function placeFrom(query) {
  const page = Number.parseInt(query.get('page') || '1', 10);
  const size = Number.parseInt(query.get('size') || '10', 10);
  return {
    page: Number.isSafeInteger(page) && page >= 1 ? page : 1,
    pageSize: SIZES.includes(size) ? size : 10,
    keyword: (query.get('q') || '').trim().slice(0, 64),
  };
}

export async function contactsPage(main, view) {
  const st = placeFrom(view.query());
  const kw = h('input', { type: 'search', id: uid('kw'), value: st.keyword, placeholder: t('contacts.keywordPlaceholder'), maxlength: '64' });
  const searchForm = h('form', { class: 'search', role: 'search' },
    h('label', { for: kw.id, class: 'sr-only' }, t('contacts.keyword')), kw,
    h('button', { type: 'submit', class: 'btn' }, t('common.search')));
  searchForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    go({ ...st, keyword: kw.value.trim(), page: 1 });
  });
  // Shown once the list has loaded: an empty account gets the invitation instead.
  const createBtn = view.write ? button(t('contacts.create'), () => contactDialog(null, load, view), 'btn-primary', { hidden: true }) : null;
  // an empty account may start from a file too; the list is drawn again once an import dialog closes
  const importBtn = view.write ? button(t('import.button'), () => importDialog(view, () => load())) : null;
  const region = h('div', { class: 'table-region', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('common.loading')));
  append(main, [pageHead([t('nav.comprehensive'), t('nav.contacts')], t('contacts.title'), t('contacts.intro')),
    h('div', { class: 'toolbar' }, createBtn, importBtn, exportMenu(view), searchForm), region]);

  let pendingFocus = false; // a paging control was used: focus the new page's table
  /** Moves the list to place p through the URL (a history entry); the hash change loads it. */
  function go(p, focusList) {
    const hash = { page: p.page > 1 ? p.page : '', size: p.pageSize !== 10 ? p.pageSize : '', q: p.keyword };
    pendingFocus = Boolean(focusList);
    if (!view.setQuery(hash)) {
      Object.assign(st, p);
      load(); // the same place: read it again
    }
  }
  view.onQuery = (query) => {
    Object.assign(st, placeFrom(query));
    kw.value = st.keyword;
    load();
  };

  async function load() {
    region.setAttribute('aria-busy', 'true');
    const q = new URLSearchParams({ page: String(st.page), page_size: String(st.pageSize) });
    if (st.keyword) q.set('keyword', st.keyword);
    let r;
    try {
      r = await api('GET', `/v1/contacts?${q}`);
    } catch (e) {
      if (!view.alive()) return;
      clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
      return;
    }
    if (!view.alive()) return;
    const pages = Math.max(1, Math.ceil(r.total / st.pageSize));
    if (r.items.length === 0 && st.page > 1) {
      // past the end (a deletion, or an old link): the last page, in place of this URL
      st.page = Math.min(st.page - 1, pages);
      view.setQuery({ page: st.page > 1 ? st.page : '', size: st.pageSize !== 10 ? st.pageSize : '', q: st.keyword }, true);
      load();
      return;
    }
    region.removeAttribute('aria-busy');
    clear(region);
    if (createBtn) createBtn.hidden = r.total === 0 && !st.keyword;
    if (r.total === 0) {
      if (st.keyword) {
        region.appendChild(h('div', { class: 'empty' }, h('p', null, t('contacts.emptySearch', { keyword: st.keyword }))));
      } else {
        region.appendChild(h('div', { class: 'empty' },
          h('div', { class: 'empty-art', 'aria-hidden': 'true' }, platformIcon(null, false)),
          h('h2', null, t('contacts.emptyTitle')),
          h('p', null, t('contacts.emptyText')),
          view.write ? button(t('contacts.create'), () => contactDialog(null, load, view), 'btn-primary') : null));
      }
      return;
    }
    const table = contactsTable(r.items, load, view);
    region.appendChild(table);
    region.appendChild(listPager(st, r.total, go, r.total_capped === true, r.items.length === st.pageSize));
    if (pendingFocus) {
      // after a paging control: the new page's table, not <body>
      pendingFocus = false;
      table.setAttribute('tabindex', '-1');
      table.focus();
    }
  }
  load();
}

/**
 * Under the list: Previous / "page N of M" / Next, the page size (10, 20, 50,
 * 100) and a page jump; each calls go(place) with the place it leads to.
 * capped: a search's total is "at least total" (the server counts a keyword's
 * matches only so far, search_count_max): shown as "10,000+", and while a page
 * is full (full) Next leads on past the pages the total makes.
 */
function listPager(st, total, go, capped = false, full = false) {
  const pages = Math.max(1, Math.ceil(total / st.pageSize));
  const sizeSel = selectEl(SIZES.map((n) => [String(n), String(n)]), String(st.pageSize), { id: uid('psize') });
  sizeSel.addEventListener('change', () => go({ ...st, pageSize: Number(sizeSel.value), page: 1 }, true));
  const jump = h('input', { type: 'number', id: uid('pjump'), min: '1', max: String(pages), step: '1', value: String(st.page), inputmode: 'numeric', class: 'pager-jump' });
  const jumpForm = h('form', { class: 'pager-form' },
    h('label', { for: jump.id }, t('contacts.pageJump')), jump,
    h('button', { type: 'submit', class: 'btn btn-small' }, t('contacts.pageGo')));
  jumpForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const n = Number.parseInt(jump.value, 10);
    if (!Number.isSafeInteger(n)) return;
    go({ ...st, page: Math.min(Math.max(1, n), pages) }, true);
  });
  return h('div', { class: 'pager' },
    h('div', { class: 'pager-form' }, h('label', { for: sizeSel.id }, t('contacts.pageSize')), sizeSel),
    jumpForm,
    button(t('common.prev'), () => go({ ...st, page: st.page - 1 }, true), 'btn-small', { disabled: st.page <= 1 }),
    h('span', { class: 'pager-text' }, t('common.page', {
      page: st.page,
      pages: capped ? `${Math.max(pages, st.page).toLocaleString('en-US')}+` : pages,
      total: capped ? `${total.toLocaleString('en-US')}+` : total,
    })),
    button(t('common.next'), () => go({ ...st, page: st.page + 1 }, true), 'btn-small', { disabled: st.page >= pages && !(capped && full) }));
}

function addressCell(value, status, broken, brokenKey, label) {
  if (!value) return h('td', { 'data-label': label }, h('span', { class: 'muted' }, t('common.none')));
  return h('td', { 'data-label': label },
    h('span', { class: 'addr' }, value), ' ', badge(status === 1),
    broken ? h('span', { class: 'broken-note', title: t(brokenKey, { reason: broken }) }, visuallyHidden(' '), t(brokenKey, { reason: broken })) : null);
}

function botIcons(webhooks) {
  if (!webhooks || !webhooks.length) return h('span', { class: 'muted' }, t('common.none'));
  return h('ul', { class: 'bot-icons' }, webhooks.map((w) => {
    const name = w.broken
      ? t('contacts.botBroken', { platform: platformName(w.kind), reason: w.broken })
      : t('contacts.botOk', { platform: platformName(w.kind) });
    // The icon is an image named for its robot; a broken robot also says so in
    // words beside it (a hover title is out of reach on a phone).
    return h('li', { class: ['bot-icon', w.broken ? 'is-broken' : null], title: name },
      h('span', { role: 'img', 'aria-label': name }, platformIcon(w.kind, Boolean(w.broken))),
      w.broken ? h('span', { class: 'bot-broken-word', 'aria-hidden': 'true' }, t('status.broken')) : null);
  }));
}

function contactsTable(items, reload, view) {
  const head = [t('contacts.name'), t('contacts.email'), t('contacts.mobile'), t('contacts.bots')];
  if (view.write) head.push(t('common.actions'));
  return h('table', { class: 'grid' },
    h('caption', { class: 'sr-only' }, t('contacts.table')),
    h('thead', null, h('tr', null, head.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', null, items.map((c) => contactRow(c, reload, view))));
}

function contactRow(c, reload, view) {
  const unverified = (c.email && c.email_status !== 1) || c.mobile_status !== 1;
  // A contact verified in the row's dialog is painted again in place, focus on its row.
  const verified = (saved) => {
    const row = contactRow(saved, reload, view);
    tr.replaceWith(row);
    const first = row.querySelector('td.actions button');
    if (first) first.focus();
  };
  const tr = h('tr', null,
    h('th', { scope: 'row', 'data-label': t('contacts.name') }, c.name),
    addressCell(c.email, c.email_status, c.email_broken, 'contacts.emailBroken', t('contacts.email')),
    addressCell(c.mobile, c.mobile_status, c.mobile_broken, 'contacts.mobileBroken', t('contacts.mobile')),
    h('td', { 'data-label': t('contacts.bots') }, botIcons(c.webhooks)),
    view.write ? h('td', { class: 'actions', 'data-label': t('common.actions') },
      // contacts saved unverified (API, import) are verified from their row
      unverified ? button(t('contacts.verify'), () => verifyDialog(c.id, verified), 'btn-link') : null,
      button(t('common.edit'), () => contactDialog(c.id, reload, view), 'btn-link'),
      button(t('contacts.sendTest'), () => testDialog(c.id, reload), 'btn-link'),
      button(t('common.delete'), () => deleteContact(c, reload), 'btn-link btn-link-danger')) : null);
  return tr;
}
