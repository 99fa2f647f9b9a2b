// dialog.js — modal dialogs: role="dialog", aria-modal, named by their title.
// Focus is kept inside the top dialog and returns to the element that opened
// it; everything behind it is inert. The keyboard works the same in every
// dialog: Enter in a one-line field presses the dialog's main button, Escape
// closes it (after asking, inside the page, when something in it was
// changed), Tab cycles through its controls. Focus never drops to the page's
// <body>: when the focused control goes away (a list drawn again after a save
// or a delete) or disables itself while it works, it moves to the same control
// in the row drawn again, else to the row, the list, the control's group or
// the dialog. Also the yes/no confirmation and the dialog that shows a secret once.

import { t } from './i18n.js';
import { h, uid, button, field } from './dom.js';
import { errText } from './api.js';

const stack = [];

const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])';

function focusables(root) {
  return Array.from(root.querySelectorAll(FOCUSABLE))
    .filter((el) => !el.disabled && !el.closest('[hidden]') && el.getClientRects().length > 0);
}

/** Everything behind the top dialog is inert, so neither focus nor a screen reader wanders there. */
function syncInert() {
  const app = document.getElementById('app');
  const top = stack[stack.length - 1];
  app.inert = Boolean(top);
  for (const d of stack) d.el.parentElement.inert = d !== top;
}

// ---- what was typed: a dialog "has changes" when a control differs from when it opened

const TEXTLIKE = new Set(['text', 'email', 'tel', 'number', 'password', 'search', 'url', '']);

function controls(root) {
  return Array.from(root.querySelectorAll('input, select, textarea'))
    .filter((el) => !el.readOnly && !['button', 'submit', 'reset', 'hidden'].includes(el.type));
}

function stateOf(el) {
  if (el.type === 'checkbox' || el.type === 'radio') return el.checked;
  return el.value;
}

/** The state a control drawn after the dialog opened started from. */
function defaultState(el) {
  if (el.type === 'checkbox' || el.type === 'radio') return el.defaultChecked;
  if (el.tagName === 'SELECT') {
    const o = Array.from(el.options).find((x) => x.defaultSelected) || el.options[0];
    return o ? o.value : '';
  }
  return el.defaultValue;
}

function snapshot(root) {
  const m = new Map();
  for (const el of controls(root)) m.set(el, stateOf(el));
  return m;
}

function changed(root, snap) {
  return controls(root).some((el) => stateOf(el) !== (snap.has(el) ? snap.get(el) : defaultState(el)));
}

function only(list) {
  return list.length === 1 ? list[0] : null;
}

/** Enter in this element presses the dialog's main button (not in a textarea, a button or an open list). */
function submitsOnEnter(el) {
  if (!(el instanceof HTMLInputElement) || !TEXTLIKE.has(el.type)) return false;
  return el.getAttribute('aria-expanded') !== 'true';
}

/** Enter, Escape and Tab in dialog d. */
function dialogKeys(d, panel, ev) {
  if (ev.defaultPrevented || ev.isComposing || ev.keyCode === 229) return; // a field handled it, or an IME is composing
  if (ev.key === 'Escape') {
    ev.preventDefault();
    d.dismiss();
    return;
  }
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.ctrlKey && !ev.metaKey && panel.contains(ev.target) && submitsOnEnter(ev.target)) {
    const b = d.mainButton();
    if (b) {
      ev.preventDefault();
      b.click();
    }
    return;
  }
  if (ev.key !== 'Tab') return;
  const f = focusables(panel);
  if (!f.length) {
    ev.preventDefault();
    panel.focus();
    return;
  }
  const first = f[0];
  const last = f[f.length - 1];
  const inside = panel.contains(document.activeElement);
  if (!inside) {
    ev.preventDefault();
    (ev.shiftKey ? last : first).focus();
  } else if (ev.shiftKey && (document.activeElement === first || document.activeElement === panel)) {
    ev.preventDefault();
    last.focus();
  } else if (!ev.shiftKey && document.activeElement === last) {
    ev.preventDefault();
    first.focus();
  }
}

// Keys go to the top dialog even when focus fell out of it.
document.addEventListener('keydown', (ev) => {
  const top = stack[stack.length - 1];
  if (top) top.keydown(ev);
});

// ---- focus never drops to <body>

let lastFocus = null; // where focus was last, described well enough to find it again
let keeper = null; // {target, info, until}: where focus was put for a lost control, improved while the page settles

function labelOf(el) {
  return (el.getAttribute('aria-label') || el.textContent || '').trim();
}

function rowKey(row) {
  const head = row.querySelector('th[scope="row"]') || row.cells[0];
  return row.dataset.key || (head ? head.textContent.trim() : '');
}

function describe(el) {
  const chain = [];
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) chain.push(p);
  const row = el.closest('tbody tr');
  const rows = row ? row.parentElement.rows : null;
  return {
    el, chain, tag: el.tagName, label: labelOf(el), rowKey: row ? rowKey(row) : null,
    rowIndex: row ? row.sectionRowIndex : -1, rowCount: rows ? rows.length : 0,
  };
}

function usable(el) {
  return el.isConnected && !el.disabled && !el.closest('[hidden], [inert]') && el.getClientRects().length > 0;
}

function focusLost() {
  const a = document.activeElement;
  return !a || a === document.body || a === document.documentElement;
}

/** The same control (tag and name) inside root, if there is one. */
function sameControl(info, root) {
  return Array.from(root.querySelectorAll(info.tag)).find((x) => usable(x) && labelOf(x) === info.label) || null;
}

/** Where focus goes instead of the control info describes; [element, exact]. */
function findTarget(info, scope) {
  if (usable(info.el) && scope.contains(info.el)) return [info.el, true];
  const anchor = info.chain.find((p) => p.isConnected && scope.contains(p)) || null;
  if (info.rowKey !== null) {
    // the row drawn again: the same key, else (renamed) the same place in a list as long as before
    const table = anchor && (anchor.closest('table') || anchor.querySelector('table'));
    const rows = table && table.tBodies[0] ? Array.from(table.tBodies[0].rows) : [];
    const row = rows.find((r) => rowKey(r) === info.rowKey) || (rows.length === info.rowCount ? rows[info.rowIndex] : null);
    if (row) return [sameControl(info, row) || row, Boolean(sameControl(info, row))];
  } else if (anchor && info.label) {
    const again = sameControl(info, anchor);
    if (again) return [again, true];
  }
  if (!anchor) return [scope.closest('[role="dialog"]') ? scope : scope.querySelector('.page-title'), false];
  const dialog = anchor.closest('[role="dialog"]');
  if (dialog) return [info.chain.find((p) => p.isConnected && dialog.contains(p) && p.getAttribute('role') === 'group') || dialog, false];
  const list = Array.from(anchor.querySelectorAll('table, ul, [role="alert"], .empty')).find((x) => x.getClientRects().length > 0);
  return [list || anchor.closest('main') || anchor, false];
}

function moveFocus(info) {
  const top = stack[stack.length - 1];
  const scope = top ? top.el : document.getElementById('app');
  if (!scope) return;
  const [target, exact] = findTarget(info, scope);
  if (!target || target === document.activeElement) return;
  if (!target.matches(FOCUSABLE) && !target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus();
  keeper = exact ? null : { target, info, until: Date.now() + 3000 };
}

document.addEventListener('focusin', (ev) => {
  if (ev.target instanceof Element && ev.target !== document.body) lastFocus = describe(ev.target);
});

function rescue() {
  if (lastFocus && focusLost() && !usable(lastFocus.el)) moveFocus(lastFocus);
}

// After any change to the page: a focused control that went away or was
// disabled hands focus on (a disabled one would lose it only at the browser's
// next rendering, to the body, so it hands on at once); a stand-in chosen
// while the page was being drawn makes way for the control itself once it is there.
new MutationObserver(() => {
  if (keeper && (Date.now() > keeper.until || document.activeElement !== keeper.target)) keeper = null;
  const a = document.activeElement;
  if (keeper) moveFocus(keeper.info);
  else if (a && !focusLost() && a.disabled) moveFocus(describe(a));
  else rescue();
}).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled', 'hidden'] });

// Focus that left for nowhere (not to another element) is looked after once the change that moved it is done.
document.addEventListener('focusout', (ev) => {
  if (!ev.relatedTarget) setTimeout(rescue, 0);
});

// ---- the dialogs

/**
 * Opens a modal dialog over the page. Returns {el, body, footer, close,
 * dismiss, error(text), settle}; onClose runs once however it closes.
 * describe is the id of the element that describes it. Enter in a one-line
 * field presses submit (default: the footer's submit button, else its one
 * primary button; none when it has several). guard: false closes on Escape
 * without asking even when something was changed (for dialogs where nothing
 * typed would be lost). settle() takes the dialog's present values as
 * unchanged (after a save that keeps it open). focus: the element to focus
 * first (else the first control).
 */
export function openDialog({ title, body, footer, onClose, wide, describe: describedBy, guard = true, submit, focus }) {
  const titleId = uid('dlg-title');
  const errId = uid('dlg-err');
  const opener = document.activeElement;
  const openerInfo = opener && opener !== document.body ? describe(opener) : null;
  const errBox = h('p', { id: errId, class: 'dialog-error', role: 'alert', hidden: true });
  const bodyEl = h('div', { class: 'dialog-body' }, body);
  const footEl = h('div', { class: 'dialog-footer' }, footer);
  const closeBtn = h('button', { type: 'button', class: 'dialog-x', 'aria-label': t('common.close') }, '×');
  const panel = h('div', {
    class: ['dialog', wide ? 'dialog-wide' : null],
    role: 'dialog',
    'aria-modal': 'true',
    'aria-labelledby': titleId,
    'aria-describedby': describedBy || null,
    tabindex: '-1',
  },
  h('div', { class: 'dialog-head' }, h('h2', { id: titleId, class: 'dialog-title' }, title), closeBtn),
  errBox, bodyEl, footEl);
  const backdrop = h('div', { class: 'backdrop' }, panel);
  let closed = false;
  let snap = null;
  const d = {
    el: panel,
    body: bodyEl,
    footer: footEl,
    keydown(ev) {
      dialogKeys(d, panel, ev);
    },
    /** The button Enter presses: none when the footer offers several equal choices. */
    mainButton() {
      const b = submit || footEl.querySelector('button[type="submit"]') || only(Array.from(footEl.querySelectorAll('.btn-primary')).filter((x) => !x.hidden));
      return b && !b.disabled && !b.hidden ? b : null;
    },
    /** Escape: closes, after asking when something was changed. */
    dismiss() {
      if (guard && snap && changed(panel, snap)) askDiscard(d);
      else d.close();
    },
    close() {
      if (closed) return;
      closed = true;
      const i = stack.indexOf(d);
      if (i >= 0) stack.splice(i, 1);
      backdrop.remove();
      syncInert();
      if (onClose) onClose();
      if (opener && usable(opener) && typeof opener.focus === 'function') opener.focus();
      else if (openerInfo && focusLost()) moveFocus(openerInfo);
    },
    error(text) {
      errBox.textContent = text || '';
      errBox.hidden = !text;
    },
    settle() {
      snap = snapshot(panel);
    },
  };
  closeBtn.addEventListener('click', () => d.close());
  document.getElementById('dialogs').appendChild(backdrop);
  stack.push(d);
  syncInert();
  d.settle();
  const f = focusables(bodyEl);
  (focus || f[0] || panel).focus();
  return d;
}

/** "Discard your changes?" over dialog d: Keep editing (focused, and what Escape does) or Discard. */
function askDiscard(d) {
  const textId = uid('discard-text');
  const keep = button(t('dialog.keepEditing'), () => q.close(), 'btn-primary');
  const q = openDialog({
    title: t('dialog.discardTitle'),
    describe: textId,
    body: h('p', { id: textId, class: 'confirm-text' }, t('dialog.discardText')),
    footer: [keep, button(t('dialog.discard'), () => {
      q.close();
      d.close();
    }, 'btn-danger')],
    guard: false,
    focus: keep,
  });
}

export function closeAllDialogs() {
  while (stack.length) stack[stack.length - 1].close();
}

/** A yes/no dialog; it closes after `action` succeeded (and shows its error otherwise). */
export function confirmDialog({ title, text, okLabel, danger, action }) {
  const textId = uid('confirm-text');
  const ok = button(okLabel, async () => {
    ok.disabled = true;
    try {
      await action();
      d.close();
    } catch (e) {
      d.error(errText(e));
      ok.disabled = false;
    }
  }, danger ? 'btn-danger' : 'btn-primary');
  const d = openDialog({
    title,
    describe: textId,
    guard: false,
    body: h('p', { id: textId, class: 'confirm-text' }, text),
    footer: [ok, button(t('common.cancel'), () => d.close())],
  });
  return d;
}

/** Values shown once (a new key's secret, a generated password), each in a read-only box, the first selected. */
export function secretDialog(title, text, pairs) {
  const body = [h('p', null, text), pairs.map(([label, value]) => field({ label, input: h('input', { type: 'text', readonly: true, value, class: 'mono', spellcheck: 'false' }) }).wrap)];
  const d = openDialog({ title, body, guard: false, footer: [button(t('common.close'), () => d.close(), 'btn-primary')] });
  const first = d.body.querySelector('input');
  if (first) first.select();
}
