// app.js — the certcontacts web console: a single-page app over the /v1/ REST API.
//
// No framework and no build step: the DOM is built with h(), pages are chosen by
// the URL hash (#/contacts, #/notifications, #/settings, #/guide), and every call
// goes through api(), which sends the session cookie and, on anything but GET,
// the X-CSRF-Token the session handed out. Words come from i18n.js (t()).
// The Content-Security-Policy forbids inline script and style, so nothing here
// writes HTML strings or style attributes: text goes in as text, looks come
// from classes in app.css.
'use strict';

(function () {
  // ------------------------------------------------------------------ state

  const S = {
    user: null, // {id, account_id, email, role, language, created_at}
    csrf: null,
    lang: 'en',
    contacts: { page: 1, pageSize: 10, keyword: '' },
    notifications: { page: 1, pageSize: 20, contact: '', channel: '', status: '' },
    settingsTab: 'templates',
    langChosen: false, // the language was switched on the sign-in page
    tpl: { event: 'certificate.expiring', channel: 'robot', language: 'en' },
    renderSeq: 0,
  };

  const EVENT_TYPES = [
    'certificate.application.verification_required',
    'certificate.application.approved',
    'certificate.application.rejected',
    'certificate.issued',
    'certificate.expiring',
    'certificate.expired',
    'certificate.revoked',
    'contact.test',
  ];
  const TEMPLATE_VARS = ['domains', 'brand', 'type', 'not_after', 'days_left', 'order_id', 'reason',
    'certificate_id', 'serial', 'contact_name', 'event_type'];
  const MAX_BOTS = 5;
  const LANGS = ['en', 'zh-CN'];

  // ------------------------------------------------------------------ words

  function t(key, vars) {
    const dict = window.CC_I18N[S.lang] || window.CC_I18N.en;
    let s = dict[key];
    if (s === undefined) s = window.CC_I18N.en[key];
    if (s === undefined) return key;
    if (typeof s !== 'string') return s;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
    return s;
  }

  function pickLang(l) {
    return LANGS.includes(l) ? l : 'en';
  }

  function setLang(l) {
    S.lang = pickLang(l);
    document.documentElement.lang = S.lang;
    document.title = `${t('app.console')} · certcontacts`;
    try {
      localStorage.setItem('cc.lang', S.lang);
    } catch (e) {
      /* storage may be off; the session remembers it for signed-in users */
    }
  }

  function fmtTime(s) {
    if (!s) return t('common.none');
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return s;
    return d.toLocaleString(S.lang, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  // ------------------------------------------------------------------- DOM

  let idSeq = 0;
  function uid(p) {
    idSeq += 1;
    return `${p || 'id'}-${idSeq}`;
  }

  /**
   * h('button', {class: 'btn', on: {click: fn}, 'aria-label': 'x'}, 'text', node, [nodes])
   * Attributes with value false/null/undefined are left out; true sets an empty attribute.
   */
  function h(tag, attrs, ...kids) {
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
          el.value = v;
        } else if (k === 'checked' || k === 'selected' || k === 'disabled') {
          el[k] = Boolean(v);
        } else {
          el.setAttribute(k, v === true ? '' : String(v));
        }
      }
    }
    append(el, kids);
    return el;
  }

  function append(el, kids) {
    for (const k of kids) {
      if (k === null || k === undefined || k === false) continue;
      if (Array.isArray(k)) append(el, k);
      else if (k instanceof Node) el.appendChild(k);
      else el.appendChild(document.createTextNode(String(k)));
    }
    return el;
  }

  function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
  }

  function visuallyHidden(text) {
    return h('span', { class: 'sr-only' }, text);
  }

  function button(label, onClick, cls, attrs) {
    return h('button', { type: 'button', class: ['btn', cls], on: { click: onClick }, ...(attrs || {}) }, label);
  }

  function badge(ok, extraClass) {
    return h('span', { class: ['badge', ok ? 'badge-ok' : 'badge-warn', extraClass] },
      h('span', { class: 'badge-dot', 'aria-hidden': 'true' }), ok ? t('status.verified') : t('status.unverified'));
  }

  // --------------------------------------------------------------- icons

  const PLATFORM_COLORS = { dingtalk: 'pf-dingtalk', feishu: 'pf-lark', lark: 'pf-lark', wecom: 'pf-wecom' };
  const PLATFORM_LETTER = { dingtalk: 'D', feishu: 'F', lark: 'L', wecom: 'W' };

  function platformIcon(kind, broken) {
    const s = h('svg:svg', { viewBox: '0 0 24 24', width: '22', height: '22', 'aria-hidden': 'true', focusable: 'false', class: ['pf-icon', PLATFORM_COLORS[kind] || 'pf-unknown'] },
      h('svg:rect', { x: '1', y: '1', width: '22', height: '22', rx: '6', class: 'pf-bg' }),
      h('svg:path', { d: 'M6 9.5a3 3 0 0 1 3-3h6a3 3 0 0 1 3 3v4a3 3 0 0 1-3 3h-3.5L8 19v-2.6A3 3 0 0 1 6 13.5z', class: 'pf-fg' }),
      h('svg:text', { x: '12', y: '14.2', 'text-anchor': 'middle', class: 'pf-letter' }, PLATFORM_LETTER[kind] || '?'));
    if (broken) {
      s.appendChild(h('svg:circle', { cx: '19', cy: '5', r: '4.5', class: 'pf-broken' }));
      s.appendChild(h('svg:path', { d: 'M19 2.6v2.9M19 6.8v.4', class: 'pf-broken-mark' }));
    }
    return s;
  }

  function platformName(kind) {
    return kind ? t(`platform.${kind}`) : t('bot.unknown');
  }

  /** The platform of a pasted webhook URL, recognised the way the server checks it (host and path). */
  function detectPlatform(url) {
    let u;
    try {
      u = new URL(String(url).trim());
    } catch (e) {
      return null;
    }
    if (u.protocol !== 'https:') return null;
    const host = u.hostname.toLowerCase();
    if (host === 'oapi.dingtalk.com' && u.pathname === '/robot/send') return 'dingtalk';
    if (host === 'open.feishu.cn' && u.pathname.startsWith('/open-apis/bot/v2/hook/')) return 'feishu';
    if (host === 'open.larksuite.com' && u.pathname.startsWith('/open-apis/bot/v2/hook/')) return 'lark';
    if (host === 'qyapi.weixin.qq.com' && u.pathname === '/cgi-bin/webhook/send') return 'wecom';
    return null;
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, body, requestId) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.body = body || {};
      this.code = (body && body.code) || '';
      this.requestId = (body && body.request_id) || requestId || '';
    }
  }

  async function api(method, path, body, opts = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && method !== 'HEAD' && S.csrf) headers['X-CSRF-Token'] = S.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.ifMatch !== undefined) headers['If-Match'] = `"${opts.ifMatch}"`;
    let res;
    try {
      res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new ApiError(0, { code: 'NetworkError', message: t('err.network') });
    }
    const text = await res.text();
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch (e) {
        json = null;
      }
    }
    if (res.ok) return json;
    const err = new ApiError(res.status, json, res.headers.get('X-Request-Id'));
    if (res.status === 401 && !opts.noSessionCheck && S.user) {
      S.user = null;
      S.csrf = null;
      closeAllDialogs();
      renderApp();
      toast(t('err.session'), 'error');
    }
    return Promise.reject(err);
  }

  function errText(e) {
    if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
    return e.message;
  }

  /** The form field an API error is about: the "field" member, or the part after the dot of the code. */
  function errField(e) {
    if (!(e instanceof ApiError)) return null;
    if (e.body.field) return String(e.body.field);
    const m = /^(?:IncorrectFormat|MissingParameter|AlreadyExists|LimitExceeded|InvalidParameter)\.(\w+)$/.exec(e.code);
    return m ? m[1] : null;
  }

  // --------------------------------------------------------------- toasts

  function toast(text, kind) {
    const box = document.getElementById('toasts');
    const el = h('div', { class: ['toast', kind === 'error' ? 'toast-error' : 'toast-ok'] }, text);
    box.appendChild(el);
    setTimeout(() => el.remove(), 6000);
  }

  // -------------------------------------------------------------- dialogs

  const dialogStack = [];

  function focusables(root) {
    return Array.from(root.querySelectorAll('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'))
      .filter((el) => !el.disabled && !el.closest('[hidden]') && el.getClientRects().length > 0);
  }

  /**
   * A modal dialog: role="dialog", aria-modal, named by its title; focus is kept
   * inside, Escape closes it, focus returns to the opener. Returns
   * {el, body, footer, close, error(text)}; onClose runs once however it closes.
   */
  function openDialog({ title, body, footer, onClose, wide, describe }) {
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
      keydown(ev) {
        if (ev.key === 'Escape') {
          ev.preventDefault();
          d.close();
        } else if (ev.key === 'Tab') {
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
      },
      body: bodyEl,
      footer: footEl,
      close() {
        if (closed) return;
        closed = true;
        const i = dialogStack.indexOf(d);
        if (i >= 0) dialogStack.splice(i, 1);
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
    dialogStack.push(d);
    syncInert();
    const f = focusables(bodyEl);
    (f[0] || panel).focus();
    return d;
  }

  /** Everything behind the top dialog is inert, so neither focus nor a screen reader wanders there. */
  function syncInert() {
    const app = document.getElementById('app');
    const top = dialogStack[dialogStack.length - 1];
    app.inert = Boolean(top);
    for (const d of dialogStack) d.el.parentElement.inert = d !== top;
  }

  // Keys go to the top dialog even when focus fell out of it (a button that
  // disables itself while it works drops focus to the body).
  document.addEventListener('keydown', (ev) => {
    const top = dialogStack[dialogStack.length - 1];
    if (top) top.keydown(ev);
  });

  function closeAllDialogs() {
    while (dialogStack.length) dialogStack[dialogStack.length - 1].close();
  }

  /** A yes/no dialog; resolves after `action` succeeded (the dialog shows its error otherwise). */
  function confirmDialog({ title, text, okLabel, danger, action }) {
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

  // --------------------------------------------------------------- fields

  /** A labelled field: {wrap, input, error(text), hint}. */
  function field({ label, input, hint, required, extra }) {
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

  function selectEl(options, value, attrs) {
    return h('select', attrs || {}, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
  }

  // ---------------------------------------------------------------- roles

  const canWrite = () => S.user && (S.user.role === 'admin' || S.user.role === 'operator');
  const isAdmin = () => S.user && S.user.role === 'admin';

  // ---------------------------------------------------------------- shell

  function route() {
    const m = /^#\/([a-z-]+)/.exec(location.hash || '');
    const r = m ? m[1] : 'contacts';
    return ['contacts', 'notifications', 'settings', 'guide'].includes(r) ? r : 'contacts';
  }

  function languageControl() {
    const id = uid('lang');
    const sel = selectEl(LANGS.map((l) => [l, t(`lang.${l}`)]), S.lang, { id, class: 'lang-select' });
    sel.addEventListener('change', async () => {
      const l = sel.value;
      setLang(l);
      if (!S.user) S.langChosen = true; // applied to the user at sign-in
      if (S.user) {
        try {
          const r = await api('PATCH', '/v1/session', { language: l });
          if (r && r.user) S.user = r.user;
          if (r && r.csrf_token) S.csrf = r.csrf_token;
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

  function renderApp() {
    const app = clear(document.getElementById('app'));
    if (!S.user) {
      app.appendChild(signInView());
      return;
    }
    const r = route();
    const navId = uid('nav');
    const menuBtn = h('button', { type: 'button', class: 'btn menu-btn', 'aria-expanded': 'false', 'aria-controls': navId }, t('nav.menu'));
    const navLink = (name, label) => h('a', { href: `#/${name}`, class: ['nav-link', r === name ? 'active' : null], 'aria-current': r === name ? 'page' : null }, label);
    const nav = h('nav', { id: navId, class: 'side', 'aria-label': t('nav.label') },
      h('ul', { class: 'nav-tree' },
        h('li', null,
          h('span', { class: 'nav-group' }, t('nav.comprehensive')),
          h('ul', null,
            h('li', null, navLink('contacts', t('nav.contacts'))),
            h('li', null, navLink('notifications', t('nav.notifications'))))),
        h('li', null, h('span', { class: 'nav-link nav-soon', 'aria-disabled': 'true' }, t('nav.certificates'), ' ', h('small', null, `(${t('nav.soon')})`))),
        h('li', null, h('span', { class: 'nav-link nav-soon', 'aria-disabled': 'true' }, t('nav.applications'), ' ', h('small', null, `(${t('nav.soon')})`))),
        h('li', null, navLink('settings', t('nav.settings'))),
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
    const signOut = button(t('signout'), async () => {
      signOut.disabled = true;
      try {
        await api('DELETE', '/v1/session', undefined, { noSessionCheck: true });
      } catch (e) {
        /* signed out either way: the cookie is gone or was never valid */
      }
      S.user = null;
      S.csrf = null;
      renderApp();
    }, 'btn-ghost');
    const header = h('header', { class: 'top' },
      menuBtn,
      h('a', { href: '#/contacts', class: 'brand' }, h('img', { src: '/assets/favicon.svg', alt: '', width: '24', height: '24' }), h('span', null, t('app.console'))),
      h('div', { class: 'top-right' },
        languageControl(),
        h('span', { class: 'who' }, S.user.email, ' · ', t(`role.${S.user.role}`)),
        signOut));
    const main = h('main', { id: 'main', class: 'main', tabindex: '-1' });
    app.appendChild(header);
    app.appendChild(h('div', { class: 'body' }, nav, main));
    renderPage(main, r);
  }

  function renderPage(main, r) {
    S.renderSeq += 1;
    if (r === 'contacts') contactsPage(main);
    else if (r === 'notifications') notificationsPage(main);
    else if (r === 'settings') settingsPage(main);
    else guidePage(main);
  }

  function pageHead(crumbs, title, intro) {
    return [
      h('nav', { class: 'crumbs', 'aria-label': t('nav.crumbs') }, h('ol', null, crumbs.map((c) => h('li', null, c)))),
      h('h1', { class: 'page-title', tabindex: '-1' }, title),
      intro ? h('p', { class: 'page-intro' }, intro) : null,
    ];
  }

  // -------------------------------------------------------------- sign in

  function signInView() {
    const email = h('input', { type: 'email', autocomplete: 'username', name: 'email' });
    const password = h('input', { type: 'password', autocomplete: 'current-password', name: 'password' });
    const fe = field({ label: t('signin.email'), input: email, required: true });
    const fp = field({ label: t('signin.password'), input: password, required: true });
    const err = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('signin.submit'));
    const form = h('form', { class: 'signin-form', novalidate: true }, fe.wrap, fp.wrap, err, submit);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      err.hidden = true;
      if (!email.value.trim() || !password.value) {
        err.textContent = `${t('signin.email')} / ${t('signin.password')}: ${t('form.required')}`;
        err.hidden = false;
        return;
      }
      submit.disabled = true;
      submit.textContent = t('signin.busy');
      try {
        const r = await api('POST', '/v1/session', { email: email.value.trim(), password: password.value }, { noSessionCheck: true });
        const chosen = S.langChosen ? S.lang : null;
        startSession(r);
        if (chosen && chosen !== S.user.language) {
          // a language picked on the sign-in page becomes the user's
          setLang(chosen);
          try {
            const u = await api('PATCH', '/v1/session', { language: chosen });
            if (u && u.user) S.user = u.user;
          } catch (e2) {
            /* the page still shows the chosen language; the next sign-in uses the saved one */
          }
        }
        S.langChosen = false;
        if (!location.hash) location.hash = '#/contacts';
        renderApp();
        const h1 = document.querySelector('.page-title');
        if (h1) h1.focus();
      } catch (e) {
        err.textContent = errText(e);
        err.hidden = false;
        submit.disabled = false;
        submit.textContent = t('signin.submit');
        password.select();
      }
    });
    return h('div', { class: 'signin' },
      h('div', { class: 'signin-top' }, languageControl()),
      h('main', { class: 'signin-card' },
        h('div', { class: 'signin-brand' }, h('img', { src: '/assets/favicon.svg', alt: '', width: '32', height: '32' }), h('span', null, 'certcontacts')),
        h('h1', { class: 'signin-title' }, t('signin.title')),
        form,
        h('p', { class: 'signin-hint' }, t('signin.hint'))));
  }

  function startSession(r) {
    S.user = r.user;
    S.csrf = r.csrf_token;
    if (r.user && r.user.language) setLang(r.user.language);
  }

  // ------------------------------------------------------------- contacts

  async function contactsPage(main) {
    const seq = S.renderSeq;
    const st = S.contacts;
    const kw = h('input', { type: 'search', id: uid('kw'), value: st.keyword, placeholder: t('contacts.keywordPlaceholder'), maxlength: '64' });
    const searchForm = h('form', { class: 'search', role: 'search' },
      h('label', { for: kw.id, class: 'sr-only' }, t('contacts.keyword')), kw,
      h('button', { type: 'submit', class: 'btn' }, t('common.search')));
    searchForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      st.keyword = kw.value.trim();
      st.page = 1;
      load();
    });
    // Shown once the list has loaded: an empty account gets the invitation instead.
    const createBtn = canWrite() ? button(t('contacts.create'), () => contactDialog(null, load), 'btn-primary', { hidden: true }) : null;
    const region = h('div', { class: 'table-region', 'aria-busy': 'true' }, h('p', { class: 'muted' }, t('common.loading')));
    append(main, [pageHead([t('nav.comprehensive'), t('nav.contacts')], t('contacts.title'), t('contacts.intro')),
      h('div', { class: 'toolbar' }, createBtn, searchForm), region]);

    async function load() {
      region.setAttribute('aria-busy', 'true');
      const q = new URLSearchParams({ page: String(st.page), page_size: String(st.pageSize) });
      if (st.keyword) q.set('keyword', st.keyword);
      let r;
      try {
        r = await api('GET', `/v1/contacts?${q}`);
      } catch (e) {
        if (seq !== S.renderSeq) return;
        clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
        return;
      }
      if (seq !== S.renderSeq) return;
      const pages = Math.max(1, Math.ceil(r.total / st.pageSize));
      if (r.items.length === 0 && st.page > 1) {
        st.page = Math.min(st.page - 1, pages);
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
            canWrite() ? button(t('contacts.create'), () => contactDialog(null, load), 'btn-primary') : null));
        }
        return;
      }
      region.appendChild(contactsTable(r.items, load));
      region.appendChild(pager(st, r.total, load));
    }
    load();
  }

  function pager(st, total, load) {
    const pages = Math.max(1, Math.ceil(total / st.pageSize));
    return h('div', { class: 'pager' },
      button(t('common.prev'), () => { st.page -= 1; load(); }, 'btn-small', { disabled: st.page <= 1 }),
      h('span', { class: 'pager-text' }, t('common.page', { page: st.page, pages, total })),
      button(t('common.next'), () => { st.page += 1; load(); }, 'btn-small', { disabled: st.page >= pages }));
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
      return h('li', { class: ['bot-icon', w.broken ? 'is-broken' : null], title: name, role: 'img', 'aria-label': name }, platformIcon(w.kind, Boolean(w.broken)));
    }));
  }

  function contactsTable(items, reload) {
    const head = [t('contacts.name'), t('contacts.email'), t('contacts.mobile'), t('contacts.bots')];
    if (canWrite()) head.push(t('common.actions'));
    return h('table', { class: 'grid' },
      h('caption', { class: 'sr-only' }, t('contacts.table')),
      h('thead', null, h('tr', null, head.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, items.map((c) => h('tr', null,
        h('th', { scope: 'row', 'data-label': t('contacts.name') }, c.name),
        addressCell(c.email, c.email_status, c.email_broken, 'contacts.emailBroken', t('contacts.email')),
        addressCell(c.mobile, c.mobile_status, c.mobile_broken, 'contacts.mobileBroken', t('contacts.mobile')),
        h('td', { 'data-label': t('contacts.bots') }, botIcons(c.webhooks)),
        canWrite() ? h('td', { class: 'actions', 'data-label': t('common.actions') },
          button(t('common.edit'), () => contactDialog(c.id, reload), 'btn-link'),
          button(t('contacts.sendTest'), () => testDialog(c.id, reload), 'btn-link'),
          button(t('common.delete'), () => deleteDialog(c, reload), 'btn-link btn-link-danger')) : null))));
  }

  function deleteDialog(c, reload) {
    confirmDialog({
      title: t('delete.title'),
      text: t('delete.text', { name: c.name }),
      okLabel: t('common.delete'),
      danger: true,
      async action() {
        await api('DELETE', `/v1/contacts/${c.id}`);
        toast(t('contacts.deleted', { name: c.name }));
        reload();
      },
    });
  }

  // ------------------------------------------------------- contact dialog

  function normEmail(v) {
    return String(v || '').trim().toLowerCase();
  }

  /** Mobile numbers as the server stores them, near enough to tell "changed" from "the same". */
  function normMobile(v) {
    let s = String(v || '').replace(/[\s\-()]/g, '');
    if (s.startsWith('0086')) s = `+86${s.slice(4)}`;
    else if (s.startsWith('86') && s.length === 13) s = `+${s}`;
    else if (/^1\d{10}$/.test(s)) s = `+86${s}`;
    return s;
  }

  /**
   * Create (id null) or edit a contact. Email and mobile verify in place: an
   * address the saved contact already has uses the contact's own verification
   * routes; a new or changed one is verified before it is saved
   * (POST /v1/verifications), and the server saves it verified.
   */
  async function contactDialog(id, reload) {
    let c = null;
    if (id !== null) {
      try {
        c = await api('GET', `/v1/contacts/${id}`);
      } catch (e) {
        toast(t('common.error', { message: errText(e) }), 'error');
        return;
      }
    }
    const editing = Boolean(c);
    const st = { version: c ? c.version : 0, contactId: c ? c.id : null };
    const name = field({ label: t('form.name'), input: h('input', { type: 'text', maxlength: '64', autocomplete: 'off', value: c ? c.name : '', placeholder: t('form.namePlaceholder') }), required: true });
    const email = verifyField('email', c);
    const mobile = verifyField('mobile', c);
    const idInput = h('input', { type: 'text', maxlength: '18', autocomplete: 'off', inputmode: 'text', placeholder: c && c.id_card ? c.id_card : '' });
    const idRemove = c && c.id_card ? h('input', { type: 'checkbox', id: uid('idrm') }) : null;
    const idCard = field({
      label: t('form.idCard'),
      input: idInput,
      hint: [t('form.idCardNote'), c && c.id_card ? ` ${t('form.idCardKeep', { masked: c.id_card })}` : ''].join(''),
      extra: idRemove ? h('label', { class: 'check', for: idRemove.id }, idRemove, t('form.idCardRemove')) : null,
    });
    const lang = field({ label: t('form.language'), input: selectEl(LANGS.map((l) => [l, t(`lang.${l}`)]), c ? c.language : S.lang) });
    /* a bot row's test speaks to the person named here, in this language */
    st.testName = () => name.input.value.trim() || null;
    st.testLanguage = () => (LANGS.includes(lang.input.value) ? lang.input.value : null);
    const bots = botsEditor(c, st);
    const fields = { Name: name, Email: email.f, Mobile: mobile.f, IdCard: idCard, Language: lang, Webhooks: bots };

    const ok = h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.ok'));
    const cancel = button(t('common.cancel'), () => d.close());
    const form = h('form', { class: 'contact-form', novalidate: true },
      name.wrap, email.wrap, mobile.wrap, idCard.wrap, lang.wrap, bots.wrap);
    const d = openDialog({
      title: editing ? t('form.editTitle') : t('form.createTitle'),
      body: form,
      footer: [ok, cancel],
      wide: true,
      onClose() {
        email.stop();
        mobile.stop();
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
    };

    function clearErrors() {
      d.error('');
      for (const f of Object.values(fields)) f.error('');
    }

    async function save() {
      clearErrors();
      const body = {};
      const nm = name.input.value.trim();
      const em = email.f.input.value.trim();
      const mo = mobile.f.input.value.trim();
      const ic = idInput.value.trim();
      const lg = lang.input.value;
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
        if (normEmail(em) !== normEmail(c.email)) body.email = em || null;
        if (normMobile(mo) !== normMobile(c.mobile)) body.mobile = mo;
        if (ic) body.id_card = ic;
        else if (idRemove && idRemove.checked) body.id_card = null;
        if (lg !== c.language) body.language = lg;
        if (hooks.changed) body.webhooks = hooks.list;
      }
      if (!nm) {
        name.error(t('form.required'));
        name.input.focus();
        return;
      }
      if (!mo) {
        mobile.f.error(t('form.required'));
        mobile.f.input.focus();
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
        d.close();
        toast(t(editing ? 'contacts.updated' : 'contacts.created', { name: saved.name }));
        reload();
      } catch (e) {
        ok.disabled = false;
        const fld = errField(e);
        if (fld && fields[fld]) {
          fields[fld].error(errText(e));
          if (fields[fld].input) fields[fld].input.focus();
        } else {
          d.error(errText(e) + (e.requestId ? ` (${t('common.requestId', { id: e.requestId })})` : ''));
        }
      }
    }
  }

  /**
   * The email or mobile field with its Verify button, status word and the
   * code box that appears after sending. Returns {wrap, f, stop, onContact}.
   */
  function verifyField(channel, c) {
    const isEmail = channel === 'email';
    const norm = isEmail ? normEmail : normMobile;
    const saved = c ? (isEmail ? c.email : c.mobile) : null;
    const savedOk = c ? (isEmail ? c.email_status : c.mobile_status) === 1 : false;
    const st = { savedNorm: saved ? norm(saved) : null, savedOk, verifiedNorm: null, mode: null, vid: null, resendAt: 0, timer: null, sentFor: null };
    const input = h('input', isEmail
      ? { type: 'email', maxlength: '254', autocomplete: 'off', value: saved || '', placeholder: t('form.emailPlaceholder') }
      : { type: 'tel', maxlength: '32', autocomplete: 'off', value: saved || '', placeholder: t('form.mobilePlaceholder') });
    const statusBox = h('span', { class: 'verify-status', 'aria-live': 'polite' });
    const verifyBtn = h('button', { type: 'button', class: 'btn btn-small' }, t('verify.verify'));
    const f = field({ label: t(isEmail ? 'form.email' : 'form.mobile'), input, required: !isEmail, extra: [verifyBtn, statusBox] });
    const codeInput = h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '6', pattern: '[0-9]{6}' });
    const codeField = field({ label: t('verify.code'), input: codeInput });
    const confirmBtn = h('button', { type: 'button', class: 'btn btn-small btn-primary' }, t('verify.confirm'));
    codeField.wrap.querySelector('.field-control').appendChild(confirmBtn);
    const sentNote = h('p', { class: 'field-hint verify-sent' });
    // The code box exists only while a code is expected, so "Verification Code" names one box.
    const codeBox = h('div', { class: 'code-box' }, sentNote, codeField.wrap);
    const group = h('div', { class: 'verify-group', role: 'group', 'aria-label': t(isEmail ? 'form.emailVerification' : 'form.mobileVerification') }, f.wrap);
    const showCode = (on) => {
      if (on) group.appendChild(codeBox);
      else codeBox.remove();
    };
    const api2 = { wrap: group, f, onContact: null, stop };

    function isVerified() {
      const v = norm(input.value);
      if (!v) return null;
      if (st.savedNorm && v === st.savedNorm && st.savedOk) return true;
      return st.verifiedNorm === v;
    }

    function paint() {
      const v = isVerified();
      clear(statusBox);
      if (v === null) {
        verifyBtn.hidden = !canWrite();
        tick();
        return;
      }
      statusBox.appendChild(badge(v));
      if (!v && st.savedNorm && norm(input.value) !== st.savedNorm) statusBox.appendChild(h('span', { class: 'field-hint inline' }, ` ${t('form.reverify')}`));
      verifyBtn.hidden = v || !canWrite();
      tick();
    }

    function tick() {
      const left = Math.ceil((st.resendAt - Date.now()) / 1000);
      const sentHere = st.sentFor !== null && st.sentFor === norm(input.value);
      if (sentHere && left > 0) {
        verifyBtn.disabled = true;
        verifyBtn.textContent = t('verify.resendIn', { s: left });
      } else {
        verifyBtn.disabled = false;
        verifyBtn.textContent = sentHere ? t('verify.resend') : t('verify.verify');
        if (st.timer) {
          clearInterval(st.timer);
          st.timer = null;
        }
      }
    }

    function startCountdown(untilMs) {
      st.resendAt = untilMs;
      if (st.timer) clearInterval(st.timer);
      st.timer = setInterval(tick, 500);
      tick();
    }

    function stop() {
      if (st.timer) clearInterval(st.timer);
      st.timer = null;
    }

    input.addEventListener('input', () => {
      f.error('');
      if (st.sentFor !== null && st.sentFor !== norm(input.value)) {
        showCode(false);
        codeField.error('');
      }
      paint();
    });

    verifyBtn.addEventListener('click', async () => {
      f.error('');
      codeField.error('');
      const v = input.value.trim();
      if (!v) {
        f.error(t('verify.needValue'));
        input.focus();
        return;
      }
      const own = c && st.savedNorm === norm(v);
      verifyBtn.disabled = true;
      try {
        let r;
        if (own) {
          r = await api('POST', `/v1/contacts/${c.id}/verifications`, { channel });
        } else {
          const langSel = group.closest('form') && group.closest('form').querySelector('select');
          const body = { channel, target: v };
          if (langSel && LANGS.includes(langSel.value)) body.language = langSel.value;
          r = await api('POST', '/v1/verifications', body);
        }
        st.mode = own ? 'contact' : 'target';
        st.vid = r.verification_id;
        st.sentFor = norm(v);
        sentNote.textContent = t('verify.sent', { target: r.target });
        showCode(true);
        codeInput.value = '';
        startCountdown(Date.parse(r.resend_after) || Date.now() + 60000);
        codeInput.focus();
      } catch (e) {
        verifyBtn.disabled = false;
        const msg = errText(e);
        const ra = e instanceof ApiError ? Number(e.body.retry_after) : 0;
        if (ra > 0) {
          st.sentFor = norm(v);
          startCountdown(Date.now() + ra * 1000);
        }
        f.error(msg);
      }
      paint();
    });

    async function confirm() {
      codeField.error('');
      const code = codeInput.value.trim();
      if (!/^[0-9]{6}$/.test(code)) {
        codeField.error(t('verify.code') + ': 000000–999999');
        codeInput.focus();
        return;
      }
      confirmBtn.disabled = true;
      try {
        if (st.mode === 'contact') {
          const updated = await api('POST', `/v1/contacts/${c.id}/verifications/confirm`, { channel, code });
          st.savedOk = (isEmail ? updated.email_status : updated.mobile_status) === 1;
          if (api2.onContact) api2.onContact(updated);
        } else {
          await api('POST', `/v1/verifications/${st.vid}/confirm`, { code });
          st.verifiedNorm = st.sentFor;
        }
        showCode(false);
        stop();
        st.sentFor = null;
        paint();
        input.focus();
      } catch (e) {
        let msg = errText(e);
        if (e instanceof ApiError && typeof e.body.attempts_left === 'number') msg = `${msg} ${t('verify.attemptsLeft', { n: e.body.attempts_left })}`;
        codeField.error(msg);
        codeInput.focus();
        codeInput.select();
      }
      confirmBtn.disabled = false;
    }
    confirmBtn.addEventListener('click', confirm);
    codeInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        confirm();
      }
    });
    paint();
    return api2;
  }

  /** The Notification Bots rows: {wrap, value() → {list, changed}, error(text)}. */
  function botsEditor(c, st) {
    const orig = c ? c.webhooks.map((w) => ({ id: w.id, url: w.url, kind: w.kind, hasSecret: w.has_secret, mention: Boolean(w.mention_mobile), broken: w.broken })) : [];
    const rows = [];
    const list = h('div', { class: 'bot-rows' });
    const err = h('p', { class: 'field-error', hidden: true, id: uid('bots-err') });
    const maxNote = h('p', { class: 'field-hint', hidden: true }, t('bot.max'));
    const addBtn = button(t('bot.add'), () => {
      const r = addRow(null);
      r.url.focus();
    }, 'btn-small');
    const guideBtn = button(t('form.guide'), () => guideDialog(), 'btn-link');
    const headId = uid('bots-head');
    const wrap = h('div', { class: 'field bots', role: 'group', 'aria-labelledby': headId, 'aria-describedby': err.id },
      h('div', { class: 'bots-head' }, h('span', { id: headId, class: 'field-label' }, t('form.bots')), guideBtn),
      h('p', { class: 'field-hint' }, t('form.botsNote')),
      list, h('div', { class: 'bots-foot' }, addBtn, maxNote), err);

    function renumber() {
      rows.forEach((r, i) => {
        r.group.setAttribute('aria-label', t('bot.row', { n: i + 1 }));
        r.title.textContent = t('bot.row', { n: i + 1 });
      });
      const full = rows.length >= MAX_BOTS;
      addBtn.disabled = full;
      maxNote.hidden = !full;
    }

    function addRow(w) {
      if (rows.length >= MAX_BOTS) return null;
      const url = h('input', { type: 'url', autocomplete: 'off', spellcheck: 'false', maxlength: '1024', value: w ? w.url : '', placeholder: 'https://oapi.dingtalk.com/robot/send?access_token=…' });
      const secret = h('input', { type: 'password', autocomplete: 'new-password', maxlength: '256' });
      const mention = h('input', { type: 'checkbox', id: uid('mention'), checked: w ? w.mention : false });
      const pf = h('span', { class: 'pf-detect', 'aria-live': 'polite' });
      const urlF = field({ label: t('bot.url'), input: url, extra: pf });
      const secretHint = h('span', null);
      const secretF = field({ label: t('bot.secret'), input: secret, hint: secretHint });
      const verdict = h('div', { class: 'verdict', role: 'status' });
      const testBtn = button(t('contacts.sendTest'), () => testRow(), 'btn-small');
      const removeBtn = button(t('bot.remove'), () => {
        const i = rows.indexOf(r);
        rows.splice(i, 1);
        group.remove();
        renumber();
        (rows[Math.max(0, i - 1)] ? rows[Math.max(0, i - 1)].url : addBtn).focus();
      }, 'btn-small btn-ghost');
      const title = h('div', { class: 'bot-row-title', 'aria-hidden': 'true' });
      const brokenNote = w && w.broken ? h('p', { class: 'broken-note' }, t('bot.brokenNote', { reason: w.broken })) : null;
      const group = h('div', { class: 'bot-row', role: 'group' },
        title, brokenNote, urlF.wrap, secretF.wrap,
        h('div', { class: 'bot-row-foot' },
          h('label', { class: 'check', for: mention.id }, mention, t('bot.mention')),
          h('span', { class: 'spacer' }), testBtn, removeBtn),
        verdict);
      const r = { group, title, url, secret, mention, orig: w, urlF, secretF };
      function paint() {
        const kind = detectPlatform(url.value);
        if (brokenNote) brokenNote.hidden = url.value.trim() !== w.url;
        clear(pf);
        if (url.value.trim()) pf.appendChild(h('span', { class: ['pf-tag', kind ? null : 'pf-tag-unknown'] }, platformIcon(kind, false), h('span', { class: 'pf-name' }, platformName(kind))));
        secret.disabled = kind === 'wecom';
        if (kind === 'wecom') secret.value = '';
        const keep = w && w.hasSecret && url.value.trim() === w.url;
        secretHint.textContent = kind === 'wecom' ? t('bot.secretNone') : keep ? t('bot.secretKeep') : kind === 'dingtalk' ? t('bot.secretDing') : '';
        secret.placeholder = keep ? '••••••••' : '';
        const testable = Boolean(kind) && canWrite();
        testBtn.disabled = !testable;
        testBtn.title = testable ? '' : t('bot.testNeedsUrl');
      }
      async function testRow() {
        clear(verdict);
        verdict.appendChild(h('p', { class: 'muted' }, t('test.sending')));
        testBtn.disabled = true;
        try {
          /* a saved robot, unchanged, is tested as saved (with its stored
           * secret); a new or changed one as it stands in the row */
          const saved = w && w.id && st.contactId && url.value.trim() === w.url && !secret.value;
          const v = saved
            ? await api('POST', `/v1/contacts/${st.contactId}/test`, { channel: 'webhook', webhook_id: w.id, event_type: 'contact.test' })
            : await api('POST', '/v1/webhooks/test', {
              url: url.value.trim(),
              secret: secret.value && !secret.disabled ? secret.value : null,
              name: st.testName ? st.testName() : null,
              language: st.testLanguage ? st.testLanguage() : null,
            });
          clear(verdict).appendChild(verdictView(v));
        } catch (e) {
          clear(verdict).appendChild(h('p', { class: 'field-error' }, errText(e)));
        }
        testBtn.disabled = false;
      }
      url.addEventListener('input', () => {
        err.hidden = true;
        paint();
      });
      paint();
      rows.push(r);
      list.appendChild(group);
      renumber();
      return r;
    }

    orig.forEach((w) => addRow(w));
    if (!orig.length) addRow(null);
    renumber();

    return {
      wrap,
      input: rows[0] ? rows[0].url : addBtn,
      error(text) {
        err.textContent = text || '';
        err.hidden = !text;
      },
      value() {
        const out = [];
        for (const r of rows) {
          const url = r.url.value.trim();
          if (!url) continue;
          const o = { url, mention_mobile: r.mention.checked };
          if (r.secret.value && !r.secret.disabled) o.secret = r.secret.value;
          out.push(o);
        }
        const same = out.length === orig.length && out.every((o, i) => o.url === orig[i].url && o.mention_mobile === orig[i].mention && o.secret === undefined);
        return { list: out, changed: !same };
      },
    };
  }

  function verdictView(v) {
    const ok = Boolean(v.delivered);
    const lines = [];
    if (v.reason) lines.push(h('li', null, `${t('test.reason')}: ${v.reason}`));
    if (v.platform_code || v.platform_message || v.http_status) {
      lines.push(h('li', null, `${t('test.platformAnswer')}: ${[v.http_status ? `HTTP ${v.http_status}` : '', v.platform_code, v.platform_message].filter(Boolean).join(' · ')}`));
    }
    if (typeof v.latency_ms === 'number') lines.push(h('li', null, t('test.latency', { ms: v.latency_ms })));
    return h('div', { class: ['verdict-box', ok ? 'verdict-ok' : 'verdict-bad'] },
      h('strong', null, ok ? t('test.delivered') : t('test.notDelivered')),
      v.status && !ok ? h('span', { class: 'muted' }, ` (${v.status}${v.code ? `, ${v.code}` : ''})`) : null,
      lines.length ? h('ul', null, lines) : null);
  }

  // ---------------------------------------------------------- test dialog

  async function testDialog(id, reload) {
    let c;
    try {
      c = await api('GET', `/v1/contacts/${id}`);
    } catch (e) {
      toast(t('common.error', { message: errText(e) }), 'error');
      return;
    }
    const opts = [];
    if (c.email) opts.push({ channel: 'email', label: `${t('channel.email')} · ${c.email}`, unverified: c.email_status !== 1 });
    opts.push({ channel: 'mobile', label: `${t('channel.mobile')} · ${c.mobile}`, unverified: c.mobile_status !== 1 });
    c.webhooks.forEach((w, i) => opts.push({ channel: 'webhook', webhookId: w.id, label: `${t('bot.row', { n: i + 1 })} · ${platformName(w.kind)}${w.broken ? ` (${t('status.broken')})` : ''}` }));
    const radioName = uid('test-ch');
    const legendId = uid('test-legend');
    const radios = opts.map((o, i) => {
      const r = h('input', { type: 'radio', name: radioName, id: uid('test-opt'), value: String(i), checked: i === (c.webhooks.length ? opts.length - c.webhooks.length : 0) });
      return h('label', { class: 'radio', for: r.id }, r, o.label, o.unverified ? h('span', { class: 'muted' }, ` (${t('status.unverified')})`) : null);
    });
    const ev = field({ label: t('test.eventType'), input: selectEl(EVENT_TYPES.map((e) => [e, t(`event.${e}`)]), 'contact.test') });
    const verdict = h('div', { class: 'verdict', role: 'status', 'aria-live': 'polite' });
    const send = button(t('test.send'), async () => {
      const checked = d.body.querySelector(`input[name="${radioName}"]:checked`);
      const o = opts[Number(checked ? checked.value : 0)];
      const body = { channel: o.channel, event_type: ev.input.value };
      if (o.webhookId) body.webhook_id = o.webhookId;
      send.disabled = true;
      clear(verdict).appendChild(h('p', { class: 'muted' }, t('test.sending')));
      try {
        const v = await api('POST', `/v1/contacts/${c.id}/test`, body);
        clear(verdict).appendChild(verdictView(v));
      } catch (e) {
        clear(verdict).appendChild(h('p', { class: 'field-error' }, errText(e)));
      }
      send.disabled = false;
    }, 'btn-primary');
    const d = openDialog({
      title: `${t('test.title')} · ${c.name}`,
      body: [h('div', { class: 'field', role: 'radiogroup', 'aria-labelledby': legendId },
        h('span', { id: legendId, class: 'field-label' }, t('test.channel')), radios), ev.wrap, verdict],
      footer: [send, button(t('common.close'), () => d.close())],
      onClose: reload,
    });
  }

  // --------------------------------------------------------------- guide

  function guideContent(level) {
    const H = level === 2 ? 'h2' : 'h3';
    return [
      h('p', null, t('guide.intro')),
      ['dingtalk', 'lark', 'wecom'].map((p) => h('section', { class: 'guide-section' },
        h(H, { class: 'guide-h' }, platformIcon(p === 'lark' ? 'lark' : p, false), ' ', t(`guide.${p}.title`)),
        h('ol', null, t(`guide.${p}.steps`).map((s) => h('li', null, s))))),
      h('p', { class: 'guide-test' }, t('guide.test')),
    ];
  }

  function guideDialog() {
    const d = openDialog({ title: t('guide.title'), body: guideContent(3), footer: [button(t('common.close'), () => d.close())], wide: true });
  }

  function guidePage(main) {
    append(main, [pageHead([t('nav.guide')], t('guide.title')), h('div', { class: 'guide' }, guideContent(2))]);
  }

  // ------------------------------------------------------- notifications

  async function notificationsPage(main) {
    const seq = S.renderSeq;
    const st = S.notifications;
    let contacts = [];
    try {
      const r = await api('GET', '/v1/contacts?page=1&page_size=100');
      contacts = r.items;
    } catch (e) {
      /* the filter simply lists no names */
    }
    if (seq !== S.renderSeq) return;
    const names = new Map(contacts.map((c) => [c.id, c.name]));
    const fContact = field({ label: t('notif.contact'), input: selectEl([['', t('common.all')], ...contacts.map((c) => [String(c.id), c.name])], st.contact) });
    const fChannel = field({ label: t('notif.channel'), input: selectEl([['', t('common.all')], ['email', t('channel.email')], ['mobile', t('channel.mobile')], ['webhook', t('channel.webhook')]], st.channel) });
    const fStatus = field({ label: t('notif.status'), input: selectEl([['', t('common.all')], ...['pending', 'delivered', 'failed', 'dead', 'cancelled'].map((s) => [s, t(`nstatus.${s}`)])], st.status) });
    for (const [f, k] of [[fContact, 'contact'], [fChannel, 'channel'], [fStatus, 'status']]) {
      f.input.addEventListener('change', () => {
        st[k] = f.input.value;
        st.page = 1;
        load();
      });
    }
    const region = h('div', { class: 'table-region' });
    append(main, [pageHead([t('nav.comprehensive'), t('nav.notifications')], t('notif.title'), t('notif.intro')),
      h('div', { class: 'filters' }, fContact.wrap, fChannel.wrap, fStatus.wrap, button(t('common.refresh'), () => load(), 'btn-small')),
      region]);

    async function load() {
      const q = new URLSearchParams({ page: String(st.page), page_size: String(st.pageSize) });
      if (st.contact) q.set('contact_id', st.contact);
      if (st.channel) q.set('channel', st.channel);
      if (st.status) q.set('status', st.status);
      let r;
      region.setAttribute('aria-busy', 'true');
      try {
        r = await api('GET', `/v1/notifications?${q}`);
      } catch (e) {
        clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
        return;
      }
      if (seq !== S.renderSeq) return;
      region.removeAttribute('aria-busy');
      clear(region);
      if (!r.items.length) {
        region.appendChild(h('div', { class: 'empty' }, h('p', null, t('notif.empty'))));
        return;
      }
      const cols = [t('common.time'), t('notif.contact'), t('notif.channel'), t('notif.target'), t('notif.status'), t('notif.attempts'), t('notif.lastError'), t('common.actions')];
      region.appendChild(h('table', { class: 'grid' },
        h('caption', { class: 'sr-only' }, t('notif.title')),
        h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, r.items.map((n) => h('tr', null,
          h('td', { 'data-label': cols[0] }, fmtTime(n.created_at)),
          h('th', { scope: 'row', 'data-label': cols[1] }, names.get(n.contact_id) || `#${n.contact_id}`),
          h('td', { 'data-label': cols[2] }, t(`channel.${n.channel}`)),
          h('td', { 'data-label': cols[3], class: 'wrap' }, n.target),
          h('td', { 'data-label': cols[4] }, h('span', { class: ['nstatus', `nstatus-${n.status}`] }, t(`nstatus.${n.status}`))),
          h('td', { 'data-label': cols[5] }, String(n.attempts)),
          h('td', { 'data-label': cols[6], class: 'wrap' }, n.last_error || t('common.none')),
          h('td', { class: 'actions', 'data-label': cols[7] },
            button(t('common.details'), () => notificationDialog(n.id, load), 'btn-link'),
            canWrite() && n.status !== 'pending' ? button(t('notif.resend'), () => resend(n.id, load), 'btn-link') : null))))));
      region.appendChild(pager(st, r.total, load));
    }
    load();
  }

  async function resend(id, load) {
    try {
      await api('POST', `/v1/notifications/${id}/resend`);
      toast(t('notif.resent', { id }));
      load();
    } catch (e) {
      toast(t('common.error', { message: errText(e) }), 'error');
    }
  }

  async function notificationDialog(id, load) {
    let n;
    try {
      n = await api('GET', `/v1/notifications/${id}`);
    } catch (e) {
      toast(t('common.error', { message: errText(e) }), 'error');
      return;
    }
    const dl = h('dl', { class: 'facts' },
      [[t('notif.event'), `#${n.event_id}`], [t('notif.channel'), t(`channel.${n.channel}`)], [t('notif.target'), n.target],
        [t('notif.status'), t(`nstatus.${n.status}`)], [t('notif.attempts'), String(n.attempts)],
        [t('notif.nextAttempt'), fmtTime(n.next_attempt_at)], [t('notif.lastError'), n.last_error || t('common.none')]]
        .map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
    const log = n.attempt_log || [];
    const cols = [t('common.time'), t('notif.outcome'), t('notif.httpStatus'), t('notif.platformCode'), t('notif.platformMessage'), t('test.reason')];
    const table = log.length ? h('table', { class: 'grid grid-compact' },
      h('caption', null, t('notif.attemptLog')),
      h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, log.map((a) => h('tr', null,
        h('td', { 'data-label': cols[0] }, `${fmtTime(a.at)} (${t('test.latency', { ms: a.latency_ms })})`),
        h('td', { 'data-label': cols[1] }, a.outcome),
        h('td', { 'data-label': cols[2] }, a.http_status ? String(a.http_status) : t('common.none')),
        h('td', { 'data-label': cols[3] }, a.platform_code || t('common.none')),
        h('td', { 'data-label': cols[4], class: 'wrap' }, a.platform_message || t('common.none')),
        h('td', { 'data-label': cols[5], class: 'wrap' }, a.reason || t('common.none'))))))
      : h('p', { class: 'muted' }, t('notif.noAttempts'));
    const foot = [];
    if (canWrite() && n.status !== 'pending') {
      foot.push(button(t('notif.resend'), async () => {
        await resend(n.id, load);
        d.close();
      }, 'btn-primary'));
    }
    foot.push(button(t('common.close'), () => d.close()));
    const d = openDialog({ title: t('notif.detailTitle', { id: n.id }), body: [dl, table], footer: foot, wide: true });
  }

  // ------------------------------------------------------------- settings

  function settingsPage(main) {
    const tabs = [['templates', t('settings.templates')]];
    if (isAdmin()) tabs.unshift(['keys', t('settings.keys')]), tabs.push(['users', t('settings.users')]);
    if (!tabs.some(([k]) => k === S.settingsTab)) S.settingsTab = 'templates';
    const panel = h('div', { class: 'tab-panel', role: 'tabpanel', tabindex: '0' });
    const tabEls = tabs.map(([k, label]) => h('button', {
      type: 'button', role: 'tab', id: `tab-${k}`, class: 'tab', 'aria-selected': String(k === S.settingsTab), tabindex: k === S.settingsTab ? '0' : '-1',
    }, label));
    const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('settings.title') }, tabEls);
    function select(k, focus) {
      S.settingsTab = k;
      tabEls.forEach((el, i) => {
        const on = tabs[i][0] === k;
        el.setAttribute('aria-selected', String(on));
        el.tabIndex = on ? 0 : -1;
        if (on && focus) el.focus();
      });
      panel.setAttribute('aria-labelledby', `tab-${k}`);
      clear(panel);
      S.renderSeq += 1;
      if (k === 'keys') keysTab(panel);
      else if (k === 'users') usersTab(panel);
      else templatesTab(panel);
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
    select(S.settingsTab, false);
  }

  async function keysTab(panel) {
    const seq = S.renderSeq;
    const region = h('div', { class: 'table-region' }, h('p', { class: 'muted' }, t('common.loading')));
    const create = button(t('keys.create'), () => createKeyDialog(load), 'btn-primary');
    append(panel, [h('p', { class: 'page-intro' }, t('keys.intro')), h('div', { class: 'toolbar' }, create), region]);
    async function load() {
      let r;
      try {
        r = await api('GET', '/v1/keys');
      } catch (e) {
        clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
        return;
      }
      if (seq !== S.renderSeq) return;
      const cols = [t('keys.id'), t('common.role'), t('common.status'), t('common.created'), t('keys.disabledAt'), t('common.actions')];
      clear(region).appendChild(h('table', { class: 'grid' },
        h('caption', { class: 'sr-only' }, t('settings.keys')),
        h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, r.keys.map((k) => h('tr', null,
          h('th', { scope: 'row', 'data-label': cols[0], class: 'mono' }, k.id),
          h('td', { 'data-label': cols[1] }, t(`role.${k.role}`)),
          h('td', { 'data-label': cols[2] }, k.disabled ? t('common.disabled') : t('common.enabled')),
          h('td', { 'data-label': cols[3] }, fmtTime(k.created_at)),
          h('td', { 'data-label': cols[4] }, fmtTime(k.disabled_at)),
          h('td', { class: 'actions', 'data-label': cols[5] }, k.disabled ? null : button(t('keys.disable'), () => confirmDialog({
            title: t('keys.disableTitle'),
            text: t('keys.disableText', { id: k.id }),
            okLabel: t('keys.disable'),
            danger: true,
            async action() {
              await api('POST', `/v1/keys/${encodeURIComponent(k.id)}/disable`);
              load();
            },
          }), 'btn-link btn-link-danger')))))));
    }
    load();
  }

  function roleSelect(value) {
    return selectEl(['admin', 'operator', 'readonly'].map((r) => [r, t(`role.${r}`)]), value);
  }

  function createKeyDialog(load) {
    const role = field({ label: t('common.role'), input: roleSelect('readonly') });
    const ok = button(t('common.ok'), async () => {
      ok.disabled = true;
      try {
        const r = await api('POST', '/v1/keys', { role: role.input.value });
        d.close();
        load();
        secretDialog(t('keys.secretTitle'), t('keys.secretText'), [[t('keys.id'), r.key.id], [t('keys.secret'), r.secret]]);
      } catch (e) {
        d.error(errText(e));
        ok.disabled = false;
      }
    }, 'btn-primary');
    const d = openDialog({ title: t('keys.create'), body: role.wrap, footer: [ok, button(t('common.cancel'), () => d.close())] });
  }

  function secretDialog(title, text, pairs) {
    const body = [h('p', null, text), pairs.map(([label, value]) => field({ label, input: h('input', { type: 'text', readonly: true, value, class: 'mono', spellcheck: 'false' }) }).wrap)];
    const d = openDialog({ title, body, footer: [button(t('common.close'), () => d.close(), 'btn-primary')] });
    const first = d.body.querySelector('input');
    if (first) first.select();
  }

  async function usersTab(panel) {
    const seq = S.renderSeq;
    const region = h('div', { class: 'table-region' }, h('p', { class: 'muted' }, t('common.loading')));
    append(panel, [h('div', { class: 'toolbar' }, button(t('users.create'), () => createUserDialog(load), 'btn-primary')), region]);
    async function load() {
      let r;
      try {
        r = await api('GET', '/v1/users');
      } catch (e) {
        clear(region).appendChild(h('p', { class: 'form-error', role: 'alert' }, t('common.error', { message: errText(e) })));
        return;
      }
      if (seq !== S.renderSeq) return;
      const cols = [t('users.email'), t('common.role'), t('common.status'), t('users.lastSignIn'), t('common.actions')];
      clear(region).appendChild(h('table', { class: 'grid' },
        h('caption', { class: 'sr-only' }, t('settings.users')),
        h('thead', null, h('tr', null, cols.map((x) => h('th', { scope: 'col' }, x)))),
        h('tbody', null, r.users.map((u) => {
          const me = u.id === S.user.id;
          const rs = roleSelect(u.role);
          rs.setAttribute('aria-label', `${t('common.role')} · ${u.email}`);
          rs.disabled = me;
          rs.addEventListener('change', () => patchUser(u, { role: rs.value }, load));
          const locked = u.locked_until && Date.parse(u.locked_until) > Date.now();
          return h('tr', null,
            h('th', { scope: 'row', 'data-label': cols[0] }, u.email, me ? ` ${t('users.you')}` : ''),
            h('td', { 'data-label': cols[1] }, rs),
            h('td', { 'data-label': cols[2] }, u.disabled ? t('common.disabled') : t('common.enabled'), locked ? ` · ${t('users.locked', { time: fmtTime(u.locked_until) })}` : ''),
            h('td', { 'data-label': cols[3] }, fmtTime(u.last_sign_in_at)),
            h('td', { class: 'actions', 'data-label': cols[4] }, me ? null : [
              button(u.disabled ? t('users.enable') : t('users.disable'), () => patchUser(u, { disabled: !u.disabled }, load), 'btn-link'),
              button(t('common.delete'), () => confirmDialog({
                title: t('users.deleteTitle'),
                text: t('users.deleteText', { email: u.email }),
                okLabel: t('common.delete'),
                danger: true,
                async action() {
                  await api('DELETE', `/v1/users/${u.id}`);
                  load();
                },
              }), 'btn-link btn-link-danger')]));
        }))));
    }
    load();
  }

  async function patchUser(u, body, load) {
    try {
      await api('PATCH', `/v1/users/${u.id}`, body);
      toast(t('common.saved'));
    } catch (e) {
      toast(t('common.error', { message: errText(e) }), 'error');
    }
    load();
  }

  function createUserDialog(load) {
    const email = field({ label: t('users.email'), input: h('input', { type: 'email', autocomplete: 'off', maxlength: '254' }), required: true });
    const role = field({ label: t('common.role'), input: roleSelect('operator') });
    const pw = field({ label: t('users.password'), input: h('input', { type: 'password', autocomplete: 'new-password', maxlength: '128' }), hint: t('users.passwordNote') });
    const ok = button(t('common.ok'), async () => {
      ok.disabled = true;
      email.error('');
      pw.error('');
      const body = { email: email.input.value.trim(), role: role.input.value };
      if (pw.input.value) body.password = pw.input.value;
      try {
        const r = await api('POST', '/v1/users', body);
        d.close();
        load();
        if (r.password) secretDialog(t('users.createdTitle'), t('users.generated'), [[t('users.email'), r.user.email], [t('signin.password'), r.password]]);
        else toast(t('common.saved'));
      } catch (e) {
        const f = errField(e);
        if (f === 'Password') pw.error(errText(e));
        else if (f === 'Email') email.error(errText(e));
        else d.error(errText(e));
        ok.disabled = false;
      }
    }, 'btn-primary');
    const d = openDialog({ title: t('users.create'), body: [email.wrap, role.wrap, pw.wrap], footer: [ok, button(t('common.cancel'), () => d.close())] });
  }

  async function templatesTab(panel) {
    const st = S.tpl;
    const fEvent = field({ label: t('tpl.event'), input: selectEl(EVENT_TYPES.map((e) => [e, `${t(`event.${e}`)} (${e})`]), st.event) });
    const fChannel = field({ label: t('tpl.channel'), input: selectEl(['email', 'sms', 'robot'].map((c) => [c, t(`tchannel.${c}`)]), st.channel) });
    const fLang = field({ label: t('tpl.language'), input: selectEl(LANGS.map((l) => [l, t(`lang.${l}`)]), st.language) });
    const fTitle = field({ label: t('tpl.titleField'), input: h('input', { type: 'text', maxlength: '200', spellcheck: 'false' }) });
    const fBody = field({ label: t('tpl.body'), input: h('textarea', { rows: '8', maxlength: '4000', spellcheck: 'false' }), hint: t('tpl.variables', { vars: TEMPLATE_VARS.map((v) => `{{${v}}}`).join(' ') }) });
    const kind = h('span', { class: 'badge' });
    const preview = h('div', { class: 'preview', 'aria-live': 'polite' });
    const write = canWrite();
    if (!write) {
      fTitle.input.readOnly = true;
      fBody.input.readOnly = true;
    }
    const save = write ? button(t('common.save'), doSave, 'btn-primary') : null;
    const restore = write ? button(t('tpl.restore'), doRestore) : null;
    let current = null;
    let timer = null;
    let pseq = 0;
    append(panel, [
      h('p', { class: 'page-intro' }, t('tpl.intro')),
      h('div', { class: 'filters' }, fEvent.wrap, fChannel.wrap, fLang.wrap),
      h('div', { class: 'tpl-grid' },
        h('div', { class: 'tpl-edit' }, h('p', null, kind), fTitle.wrap, fBody.wrap, h('div', { class: 'toolbar' }, save, restore)),
        h('section', { class: 'tpl-preview', 'aria-labelledby': 'tpl-preview-h' }, h('h2', { id: 'tpl-preview-h', class: 'h2' }, t('tpl.preview')), preview)),
    ]);
    for (const [f, k] of [[fEvent, 'event'], [fChannel, 'channel'], [fLang, 'language']]) {
      f.input.addEventListener('change', () => {
        st[k] = f.input.value;
        load();
      });
    }
    for (const f of [fTitle, fBody]) f.input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(runPreview, 300);
    });
    const path = () => `/v1/templates/${encodeURIComponent(st.event)}/${st.channel}/${st.language}`;

    async function load() {
      fTitle.error('');
      fBody.error('');
      try {
        current = await api('GET', path());
      } catch (e) {
        fBody.error(errText(e));
        return;
      }
      fTitle.input.value = current.title;
      fBody.input.value = current.body;
      paintKind();
      runPreview();
    }

    function paintKind() {
      kind.textContent = current && current.custom ? t('tpl.custom') : t('tpl.builtin');
      kind.className = `badge ${current && current.custom ? 'badge-ok' : ''}`;
      if (restore) restore.disabled = !(current && current.custom);
    }

    async function runPreview() {
      pseq += 1;
      const my = pseq;
      const body = { event_type: st.event, channel: st.channel, language: st.language, title: fTitle.input.value, body: fBody.input.value };
      let r;
      try {
        r = await api('POST', '/v1/templates/preview', body);
      } catch (e) {
        if (my !== pseq) return;
        const f = errField(e);
        (f === 'Title' ? fTitle : fBody).error(errText(e));
        return;
      }
      if (my !== pseq) return;
      fTitle.error('');
      fBody.error('');
      const forms = Array.isArray(r.sent) ? r.sent : ['title', 'text'];
      clear(preview);
      preview.appendChild(h('p', { class: 'muted' }, t('tpl.sent', { forms: forms.join(', ') }), r.unsaved ? ` · ${t('tpl.unsaved')}` : ''));
      for (const form of forms) {
        if (typeof r[form] !== 'string') continue;
        preview.appendChild(h('h3', { class: 'h3' }, form));
        preview.appendChild(h('pre', { class: 'preview-text' }, r[form]));
      }
    }

    async function doSave() {
      fTitle.error('');
      fBody.error('');
      save.disabled = true;
      try {
        current = await api('PUT', path(), { title: fTitle.input.value, body: fBody.input.value });
        paintKind();
        runPreview();
        toast(t('common.saved'));
      } catch (e) {
        const f = errField(e);
        (f === 'Title' ? fTitle : fBody).error(errText(e));
      }
      save.disabled = false;
    }

    async function doRestore() {
      try {
        await api('DELETE', path());
        toast(t('tpl.restored'));
        load();
      } catch (e) {
        fBody.error(errText(e));
      }
    }
    load();
  }

  // ---------------------------------------------------------------- start

  async function boot() {
    let stored = null;
    try {
      stored = localStorage.getItem('cc.lang');
    } catch (e) {
      stored = null;
    }
    setLang(stored || (navigator.language && navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'));
    try {
      const r = await api('GET', '/v1/session', undefined, { noSessionCheck: true });
      startSession(r);
    } catch (e) {
      S.user = null;
    }
    renderApp();
    window.addEventListener('hashchange', () => {
      if (!S.user) return;
      closeAllDialogs();
      renderApp();
      const h1 = document.querySelector('.page-title');
      if (h1) h1.focus();
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
}());
