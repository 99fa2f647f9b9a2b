// dialog.js — modal dialogs: role="dialog", aria-modal, named by their title.
// Focus is kept inside the top dialog, Escape closes it, focus returns to the
// element that opened it, and everything behind it is inert. Also the yes/no
// confirmation and the dialog that shows a secret once.

import { t } from './i18n.js';
import { h, uid, button, field } from './dom.js';
import { errText } from './api.js';

const stack = [];

function focusables(root) {
  return Array.from(root.querySelectorAll('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'))
    .filter((el) => !el.disabled && !el.closest('[hidden]') && el.getClientRects().length > 0);
}

/** Everything behind the top dialog is inert, so neither focus nor a screen reader wanders there. */
function syncInert() {
  const app = document.getElementById('app');
  const top = stack[stack.length - 1];
  app.inert = Boolean(top);
  for (const d of stack) d.el.parentElement.inert = d !== top;
}

/** Tab cycles through the panel's controls; Escape closes it. */
function trapKeys(d, panel, ev) {
  if (ev.key === 'Escape') {
    ev.preventDefault();
    d.close();
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

// Keys go to the top dialog even when focus fell out of it (a button that
// disables itself while it works drops focus to the body).
document.addEventListener('keydown', (ev) => {
  const top = stack[stack.length - 1];
  if (top) top.keydown(ev);
});

/**
 * Opens a modal dialog over the page. Returns {el, body, footer, close,
 * error(text)}; onClose runs once however it closes. describe is the id of
 * the element that describes it.
 */
export function openDialog({ title, body, footer, onClose, wide, describe }) {
  const titleId = uid('dlg-title');
  const errId = uid('dlg-err');
  const opener = document.activeElement;
  const errBox = h('p', { id: errId, class: 'dialog-error', role: 'alert', hidden: true });
  const bodyEl = h('div', { class: 'dialog-body' }, body);
  const footEl = h('div', { class: 'dialog-footer' }, footer);
  const closeBtn = h('button', { type: 'button', class: 'dialog-x', 'aria-label': t('common.close') }, '×');
  const panel = h('div', {
    class: ['dialog', wide ? 'dialog-wide' : null],
    role: 'dialog',
    'aria-modal': 'true',
    'aria-labelledby': titleId,
    'aria-describedby': describe || null,
    tabindex: '-1',
  },
  h('div', { class: 'dialog-head' }, h('h2', { id: titleId, class: 'dialog-title' }, title), closeBtn),
  errBox, bodyEl, footEl);
  const backdrop = h('div', { class: 'backdrop' }, panel);
  let closed = false;
  const d = {
    el: panel,
    body: bodyEl,
    footer: footEl,
    keydown(ev) {
      trapKeys(d, panel, ev);
    },
    close() {
      if (closed) return;
      closed = true;
      const i = stack.indexOf(d);
      if (i >= 0) stack.splice(i, 1);
      backdrop.remove();
      syncInert();
      if (onClose) onClose();
      if (opener && document.contains(opener) && typeof opener.focus === 'function') opener.focus();
    },
    error(text) {
      errBox.textContent = text || '';
      errBox.hidden = !text;
    },
  };
  closeBtn.addEventListener('click', () => d.close());
  document.getElementById('dialogs').appendChild(backdrop);
  stack.push(d);
  syncInert();
  const f = focusables(bodyEl);
  (f[0] || panel).focus();
  return d;
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
    body: h('p', { id: textId, class: 'confirm-text' }, text),
    footer: [ok, button(t('common.cancel'), () => d.close())],
  });
  return d;
}

/** Values shown once (a new key's secret, a generated password), each in a read-only box, the first selected. */
export function secretDialog(title, text, pairs) {
  const body = [h('p', null, text), pairs.map(([label, value]) => field({ label, input: h('input', { type: 'text', readonly: true, value, class: 'mono', spellcheck: 'false' }) }).wrap)];
  const d = openDialog({ title, body, footer: [button(t('common.close'), () => d.close(), 'btn-primary')] });
  const first = d.body.querySelector('input');
  if (first) first.select();
}
