// settings.js — the Settings page: its tabs (Access Keys and Users for admins,
// Templates and Reminders for everyone), moved between with the arrow keys. Each tab is a
// module of its own: settings_keys.js, settings_users.js, settings_templates.js,
// settings_reminders.js.

import { t } from '../i18n.js';
import { h, append, clear, pageHead } from '../dom.js';
import { keysTab } from './settings_keys.js';
import { usersTab } from './settings_users.js';
import { templatesTab } from './settings_templates.js';
import { remindersTab } from './settings_reminders.js';

const TABS = { keys: keysTab, users: usersTab, templates: templatesTab, reminders: remindersTab };

// the tab shown last, shown again when the page comes back
let shown = 'templates';

export function settingsPage(main, view) {
  const tabs = [['templates', t('settings.templates')], ['reminders', t('settings.reminders')]];
  if (view.admin) tabs.unshift(['keys', t('settings.keys')]), tabs.push(['users', t('settings.users')]);
  if (!tabs.some(([k]) => k === shown)) shown = 'templates';
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel', tabindex: '0' });
  const tabEls = tabs.map(([k, label]) => h('button', {
    type: 'button', role: 'tab', id: `tab-${k}`, class: 'tab', 'aria-selected': String(k === shown), tabindex: k === shown ? '0' : '-1',
  }, label));
  const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('settings.title') }, tabEls);
  function select(k, focus) {
    shown = k;
    tabEls.forEach((el, i) => {
      const on = tabs[i][0] === k;
      el.setAttribute('aria-selected', String(on));
      el.tabIndex = on ? 0 : -1;
      if (on && focus) el.focus();
    });
    panel.setAttribute('aria-labelledby', `tab-${k}`);
    clear(panel);
    TABS[k](panel, view.renew());
  }
  tabEls.forEach((el, i) => {
    el.addEventListener('click', () => select(tabs[i][0], false));
    el.addEventListener('keydown', (ev) => {
      const j = ev.key === 'ArrowRight' ? i + 1 : ev.key === 'ArrowLeft' ? i - 1 : null;
      if (j === null) return;
      ev.preventDefault();
      select(tabs[(j + tabs.length) % tabs.length][0], true);
    });
  });
  append(main, [pageHead([t('nav.settings')], t('settings.title')), list, panel]);
  select(shown, false);
}
