// dom.js — building the page without HTML strings. The Content-Security-Policy
// forbids inline script and style, so text goes in as text and looks come from
// classes in app.css. h() makes elements; the rest are the small pieces every
// page is made of: buttons, status badges, labelled fields, selects, the page
// heading, the pager and the toasts.

import { t } from './i18n.js';

let idSeq = 0;

/** A fresh element id: "p-N". */
export function uid(p) {
  idSeq += 1;
  return `${p || 'id'}-${idSeq}`;
}

/**
 * h('button', {class: 'btn', on: {click: fn}, 'aria-label': 'x'}, 'text', node, [nodes])
 * Attributes with value false/null/undefined are left out; true sets an empty attribute.
 * A tag "svg:NAME" makes an SVG element.
 */
export function h(tag, attrs, ...kids) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === false || v === null || v === undefined) continue;
      if (k === 'on') {
        for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      } else if (k === 'class') {
        el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
      } else if (k === 'text') {
        el.textContent = v;
      } else if (k === 'value' && !svg) {
        // also the default, so a dialog can tell a changed field from one drawn filled in
        if ('defaultValue' in el) el.defaultValue = v;
        el.value = v;
      } else if (k === 'checked' || k === 'selected') {
        el[k === 'checked' ? 'defaultChecked' : 'defaultSelected'] = Boolean(v);
        el[k] = Boolean(v);
      } else if (k === 'disabled') {
        el[k] = Boolean(v);
      } else {
        el.setAttribute(k, v === true ? '' : String(v));
      }
    }
  }
  append(el, kids);
  return el;
}

/** Appends nodes, strings (as text) and arrays of them; skips null, undefined and false. */
export function append(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) append(el, k);
    else if (k instanceof Node) el.appendChild(k);
    else el.appendChild(document.createTextNode(String(k)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function visuallyHidden(text) {
  return h('span', { class: 'sr-only' }, text);
}

export function button(label, onClick, cls, attrs) {
  return h('button', { type: 'button', class: ['btn', cls], on: { click: onClick }, ...(attrs || {}) }, label);
}

/**
 * A mobile number the way people write it: "+8615812345678" → "+86 158 1234
 * 5678". A masked one ("+86 158****5678") and other countries' numbers stay
 * as they are.
 */
export function fmtMobile(m) {
  const x = /^\+86(1\d{2})(\d{4})(\d{4})$/.exec(String(m || ''));
  return x ? `+86 ${x[1]} ${x[2]} ${x[3]}` : String(m || '');
}

/** Verified / Unverified, with its dot. */
export function badge(ok, extraClass) {
  return h('span', { class: ['badge', ok ? 'badge-ok' : 'badge-warn', extraClass] },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), ok ? t('status.verified') : t('status.unverified'));
}

/** A labelled field: {wrap, input, error(text)}; the hint and the error describe the input. */
export function field({ label, input, hint, required, extra }) {
  const id = input.id || uid('f');
  input.id = id;
  const errId = `${id}-err`;
  const hintId = hint ? `${id}-hint` : null;
  const err = h('p', { id: errId, class: 'field-error', hidden: true });
  input.setAttribute('aria-describedby', [hintId, errId].filter(Boolean).join(' '));
  if (required) input.required = true;
  const wrap = h('div', { class: 'field' },
    // The required mark sits outside the label so the field's name is exactly its label.
    h('div', { class: 'field-label-row' }, h('label', { for: id, class: 'field-label' }, label), required ? h('span', { class: 'req', 'aria-hidden': 'true' }, '*') : null),
    h('div', { class: 'field-control' }, input, extra),
    hint ? h('p', { id: hintId, class: 'field-hint' }, hint) : null,
    err);
  return {
    wrap,
    input,
    error(text) {
      err.textContent = text || '';
      err.hidden = !text;
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/** A <select> of [value, label] pairs with value chosen. */
export function selectEl(options, value, attrs) {
  return h('select', attrs || {}, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/** The top of a page: breadcrumbs, its title (focusable, for moving focus after navigation) and an intro. */
export function pageHead(crumbs, title, intro) {
  return [
    h('nav', { class: 'crumbs', 'aria-label': t('nav.crumbs') }, h('ol', null, crumbs.map((c) => h('li', null, c)))),
    h('h1', { class: 'page-title', tabindex: '-1' }, title),
    intro ? h('p', { class: 'page-intro' }, intro) : null,
  ];
}

/** Previous / "page N of M" / Next over st {page, pageSize}; a click changes st.page and calls load. */
export function pager(st, total, load) {
  const pages = Math.max(1, Math.ceil(total / st.pageSize));
  return h('div', { class: 'pager' },
    button(t('common.prev'), () => { st.page -= 1; load(); }, 'btn-small', { disabled: st.page <= 1 }),
    h('span', { class: 'pager-text' }, t('common.page', { page: st.page, pages, total })),
    button(t('common.next'), () => { st.page += 1; load(); }, 'btn-small', { disabled: st.page >= pages }));
}

/** A message in the corner for six seconds; kind "error" shows it as one. */
export function toast(text, kind) {
  const box = document.getElementById('toasts');
  const el = h('div', { class: ['toast', kind === 'error' ? 'toast-error' : 'toast-ok'] }, text);
  box.appendChild(el);
  setTimeout(() => el.remove(), 6000);
}
