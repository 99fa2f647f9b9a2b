// main.js — the certcontacts web console: a single-page app over the /v1/ REST
// API, in plain ES modules with no build step. This module starts it, keeps
// who is signed in, draws the frame (top bar with the language switch and
// sign-out, the navigation) and picks the page from the URL hash (#/overview,
// the landing page, #/contacts,
// #/notifications, #/certificates, #/endpoints, #/applications, #/settings, #/audit
// (admins), #/guide; an
// id after the page, #/certificates/7, opens that one's detail; a query after
// it, #/contacts?page=3&size=50&q=li, is the page's place: its paging, search
// and filters). Each page gets a view: the user, what the role allows, and
// alive() — false once another page has been drawn, so a late answer does not
// paint over it.

import { LANGS, t, lang, setLang, initialLang } from './i18n.js';
import { h, uid, clear, button, selectEl, toast } from './dom.js';
import { api, errText, setCsrf, onSessionLost } from './api.js';
import { closeAllDialogs } from './dialog.js';
import { canWrite, isAdmin } from './roles.js';
import { signInView, signInAgainDialog } from './pages/signin.js';
import { contactsPage } from './pages/contacts.js';
import { notificationsPage } from './pages/notifications.js';
import { settingsPage } from './pages/settings.js';
import { guidePage } from './pages/robot_guide.js';
import { applicationsPage } from './pages/applications.js';
import { certificatesPage } from './pages/certificates.js';
import { endpointsPage } from './pages/endpoints.js';
import { auditPage } from './pages/audit.js';
import { overviewPage } from './pages/overview.js';

const PAGES = {
  contacts: contactsPage, notifications: notificationsPage, certificates: certificatesPage,
  endpoints: endpointsPage,
  applications: applicationsPage, settings: settingsPage, guide: guidePage, audit: auditPage,
  overview: overviewPage,
};

const app = {
  user: null, // {id, account_id, email, role, language, created_at}
  langChosen: false, // the language was switched on the sign-in page
  drawn: 0, // counts the pages drawn; a view is alive while it is the last
  shown: null, // {route, view} of the page drawn last
};

function startSession(r) {
  app.user = r.user;
  setCsrf(r.csrf_token);
  if (r.user && r.user.language) setLang(r.user.language);
}

function endSession() {
  app.user = null;
  setCsrf(null);
}

function route() {
  const m = /^#\/([a-z-]+)/.exec(location.hash || '');
  const r = m ? m[1] : 'overview'; // the Overview is the landing page
  if (r === 'audit' && !isAdmin(app.user)) return 'overview'; // admins only
  return Object.hasOwn(PAGES, r) ? r : 'overview';
}

/** The query part of the hash: #/contacts?page=2 → URLSearchParams {page: 2}. */
function hashQuery() {
  const h = location.hash || '';
  const i = h.indexOf('?');
  return new URLSearchParams(i >= 0 ? h.slice(i + 1) : '');
}

/**
 * Writes a page's place into the URL: #/<route>?<params> (empty values left
 * out) as a new history entry, or in place of the current one (replace) —
 * which does not announce itself, so nothing is drawn again.
 */
function setHashQuery(r, params, replace) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, String(v));
  const s = q.toString();
  const hash = `#/${r}${s ? `?${s}` : ''}`;
  if (hash === location.hash) return false;
  if (replace) history.replaceState(history.state, '', hash);
  else location.hash = hash;
  return true;
}

function focusTitle() {
  const h1 = document.querySelector('.page-title');
  if (h1) h1.focus();
}

function languageControl() {
  const id = uid('lang');
  const sel = selectEl(LANGS.map((l) => [l, t(`lang.${l}`)]), lang(), { id, class: 'lang-select' });
  sel.addEventListener('change', async () => {
    const l = sel.value;
    setLang(l);
    if (!app.user) app.langChosen = true; // applied to the user at sign-in
    if (app.user) {
      try {
        const r = await api('PATCH', '/v1/session', { language: l });
        if (r && r.user) app.user = r.user;
        if (r && r.csrf_token) setCsrf(r.csrf_token);
      } catch (e) {
        toast(t('common.error', { message: errText(e) }), 'error');
      }
    }
    renderApp();
    const again = document.querySelector('.lang-select');
    if (again) again.focus();
  });
  return h('div', { class: 'lang' }, h('label', { for: id, class: 'lang-label' }, t('lang.label')), sel);
}

/** After POST /v1/session: a language picked on the sign-in page becomes the user's. */
async function signedIn(r) {
  const chosen = app.langChosen ? lang() : null;
  startSession(r);
  if (chosen && chosen !== app.user.language) {
    setLang(chosen);
    try {
      const u = await api('PATCH', '/v1/session', { language: chosen });
      if (u && u.user) app.user = u.user;
    } catch (e2) {
      /* the page still shows the chosen language; the next sign-in uses the saved one */
    }
  }
  app.langChosen = false;
  if (!location.hash) location.hash = '#/overview';
  renderApp();
  focusTitle();
}

function navigation(r) {
  const navId = uid('nav');
  const menuBtn = h('button', { type: 'button', class: 'btn btn-ghost menu-btn', 'aria-expanded': 'false', 'aria-controls': navId }, t('nav.menu'));
  const navLink = (name, label) => h('a', { href: `#/${name}`, class: ['nav-link', r === name ? 'active' : null], 'aria-current': r === name ? 'page' : null }, label);
  const nav = h('nav', { id: navId, class: 'side', 'aria-label': t('nav.label') },
    h('ul', { class: 'nav-tree' },
      h('li', null, navLink('overview', t('nav.overview'))),
      h('li', null,
        h('span', { class: 'nav-group' }, t('nav.comprehensive')),
        h('ul', null,
          h('li', null, navLink('contacts', t('nav.contacts'))),
          h('li', null, navLink('notifications', t('nav.notifications'))))),
      h('li', null, navLink('certificates', t('nav.certificates')),
        h('ul', null, h('li', null, navLink('endpoints', t('nav.endpoints'))))),
      h('li', null, navLink('applications', t('nav.applications'))),
      h('li', null, navLink('settings', t('nav.settings'))),
      isAdmin(app.user) ? h('li', null, navLink('audit', t('nav.audit'))) : null,
      h('li', null, navLink('guide', t('nav.guide')))));
  menuBtn.addEventListener('click', () => {
    const open = !nav.classList.contains('open');
    nav.classList.toggle('open', open);
    menuBtn.setAttribute('aria-expanded', String(open));
  });
  nav.addEventListener('click', (ev) => {
    if (ev.target.closest('a')) {
      nav.classList.remove('open');
      menuBtn.setAttribute('aria-expanded', 'false');
    }
  });
  return { menuBtn, nav };
}

function topBar(menuBtn) {
  const signOut = button(t('signout'), async () => {
    signOut.disabled = true;
    try {
      await api('DELETE', '/v1/session', undefined, { noSessionCheck: true });
    } catch (e) {
      /* signed out either way: the cookie is gone or was never valid */
    }
    endSession();
    renderApp();
  }, 'btn-ghost');
  return h('header', { class: 'top' },
    menuBtn,
    h('a', { href: '#/overview', class: 'brand', 'aria-label': t('app.console') }, h('img', { src: '/assets/favicon.svg', alt: '', width: '24', height: '24' }), h('span', null, t('app.console'))),
    h('div', { class: 'top-right' },
      languageControl(),
      h('span', { class: 'who' }, app.user.email, ' · ', t(`role.${app.user.role}`)),
      signOut));
}

/**
 * What a page is given: who is signed in, what the role allows, alive() (is
 * the page still the one shown) and renew() (a new view for a part drawn
 * again, which makes this one stale).
 */
function newView() {
  app.drawn += 1;
  const mine = app.drawn;
  const user = app.user;
  const r = route();
  // onQuery: set by a page that redraws itself when only the hash's query
  // changes (its paging or search; back and forward), instead of being drawn anew
  return {
    user, write: canWrite(user), admin: isAdmin(user), alive: () => mine === app.drawn, renew: newView,
    query: hashQuery,
    setQuery: (params, replace) => setHashQuery(r, params, replace),
    onQuery: null,
  };
}

function renderApp() {
  const root = clear(document.getElementById('app'));
  if (!app.user) {
    root.appendChild(signInView({ languageControl: languageControl(), signedIn }));
    return;
  }
  const r = route();
  const { menuBtn, nav } = navigation(r);
  const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
  root.appendChild(topBar(menuBtn));
  root.appendChild(h('div', { class: 'body' }, nav, main));
  const view = newView();
  app.shown = { route: r, view };
  PAGES[r](main, view);
}

// A session that ended (idle time-out, signed out elsewhere) is renewed in a
// dialog over the page: the open dialogs and what was typed in them stay, and
// the calls that were refused are made again (api.js). Someone else signing
// in starts a clean console as them. Calls refused meanwhile wait for the one
// dialog.
let renewing = null;
onSessionLost(() => {
  if (!app.user) return Promise.resolve(false);
  if (!renewing) {
    renewing = signInAgainDialog(app.user).then((r) => {
      renewing = null;
      if (!r) return false;
      if (!r.user || r.user.id !== app.user.id || r.user.account_id !== app.user.account_id) {
        location.reload();
        return new Promise(() => {}); // the page is going away
      }
      app.user = r.user;
      setCsrf(r.csrf_token);
      return true;
    });
  }
  return renewing;
});

async function boot() {
  setLang(initialLang());
  try {
    startSession(await api('GET', '/v1/session', undefined, { noSessionCheck: true }));
  } catch (e) {
    app.user = null;
  }
  renderApp();
  window.addEventListener('hashchange', () => {
    if (!app.user) return;
    closeAllDialogs();
    const shown = app.shown;
    // the same page at another place (paging, search, back/forward): it moves there itself
    if (shown && shown.route === route() && shown.view.alive() && shown.view.onQuery) {
      shown.view.onQuery(hashQuery());
      return;
    }
    renderApp();
    focusTitle();
  });
}

boot();
