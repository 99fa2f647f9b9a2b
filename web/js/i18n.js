// i18n.js — the console's language: which one is shown, t() for a word in it,
// and dates written the way that language writes them. The words themselves
// are in words.js.

import { WORDS } from './words.js';

export const LANGS = ['en', 'zh-CN'];

let current = 'en';

/** The language the console speaks now ("en" or "zh-CN"). */
export function lang() {
  return current;
}

/** The word for key in the current language (English when it has none), with {name} filled from vars. */
export function t(key, vars) {
  const dict = WORDS[current] || WORDS.en;
  let s = dict[key];
  if (s === undefined) s = WORDS.en[key];
  if (s === undefined) return key;
  if (typeof s !== 'string') return s;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

function pickLang(l) {
  return LANGS.includes(l) ? l : 'en';
}

/** Switch the language (an unknown one is English); the browser remembers it for the next visit. */
export function setLang(l) {
  current = pickLang(l);
  document.documentElement.lang = current;
  document.title = `${t('app.console')} · certcontacts`;
  try {
    localStorage.setItem('cc.lang', current);
  } catch (e) {
    /* storage may be off; the session remembers it for signed-in users */
  }
}

/** The language remembered by this browser, else the browser's own: Chinese or English. */
export function initialLang() {
  let stored = null;
  try {
    stored = localStorage.getItem('cc.lang');
  } catch (e) {
    stored = null;
  }
  return stored || (navigator.language && navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en');
}

/** An API timestamp as local date and time, or the "none" word. */
export function fmtTime(s) {
  if (!s) return t('common.none');
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toLocaleString(current, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
