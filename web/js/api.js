// api.js — every call to the /v1/ REST API goes through api(): it sends the
// session cookie, the console's language (Accept-Language, so the server's
// messages come in it), the X-Requested-With mark (so a 401 never raises the
// browser's own password box) and, on anything but GET, the X-CSRF-Token the
// session handed out, and turns a JSON error answer into an ApiError. A 401 on
// a call that expects a session goes to the one listener main.js registers:
// it signs the user in again and the call is then made once more.

import { t, lang } from './i18n.js';

let csrf = null;
let sessionLost = null;

export class ApiError extends Error {
  constructor(status, body, requestId) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.code = (body && body.code) || '';
    this.requestId = (body && body.request_id) || requestId || '';
  }
}

/** The CSRF token of the session (null when signed out). */
export function setCsrf(token) {
  csrf = token || null;
}

/**
 * fn() runs when the server says the session is gone (a 401 not asked for
 * with noSessionCheck). It returns a promise: true once the same user is
 * signed in again (the failed call is then made again), false to give up
 * (the call rejects with the 401).
 */
export function onSessionLost(fn) {
  sessionLost = fn;
}

/**
 * method path [body] [{ifMatch, noSessionCheck, type}] → the answer's JSON (null
 * when empty); rejects with an ApiError (status 0 when the server cannot be
 * reached). With type (e.g. "text/csv") the body (a Blob, a File or a string)
 * goes as it is, with that Content-Type; else it is sent as JSON.
 */
export async function api(method, path, body, opts = {}) {
  for (;;) {
    try {
      return await call(method, path, body, opts);
    } catch (e) {
      // a call refused at the door did nothing, so it can be made again
      if (!(e instanceof ApiError) || e.status !== 401 || opts.noSessionCheck || !sessionLost) throw e;
      if (!(await sessionLost())) throw e;
    }
  }
}

async function call(method, path, body, opts) {
  const headers = { Accept: 'application/json', 'Accept-Language': lang(), 'X-Requested-With': 'certcontacts' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  // the server requires JSON on every change, with or without a body (a raw body says its own type)
  const raw = opts.type !== undefined;
  if (raw) headers['Content-Type'] = opts.type;
  else if (body !== undefined || (method !== 'GET' && method !== 'HEAD')) headers['Content-Type'] = 'application/json';
  if (opts.ifMatch !== undefined) headers['If-Match'] = `"${opts.ifMatch}"`;
  let res;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined || raw ? body : JSON.stringify(body) });
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
  throw new ApiError(res.status, json, res.headers.get('X-Request-Id'));
}

export function errText(e) {
  if (!(e instanceof ApiError)) return String(e && e.message ? e.message : e);
  return e.message;
}

/** The form field an API error is about: the "field" member, or the part after the dot of the code. */
export function errField(e) {
  if (!(e instanceof ApiError)) return null;
  if (e.body.field) return String(e.body.field);
  const m = /^(?:IncorrectFormat|MissingParameter|AlreadyExists|LimitExceeded|InvalidParameter)\.(\w+)$/.exec(e.code);
  return m ? m[1] : null;
}

/**
 * One page of a list for a page's region: GET path with st.page, st.pageSize
 * and the extra query, the region busy meanwhile. Returns the answer, or null
 * when the view is gone, the request failed (the error is shown in region), or
 * the page is past the end (st.page moves to the last one and reload() runs).
 */
export async function fetchPage(region, view, st, path, extra, reload) {
  const q = new URLSearchParams({ page: String(st.page), page_size: String(st.pageSize) });
  for (const [k, v] of Object.entries(extra)) if (v) q.set(k, v);
  region.setAttribute('aria-busy', 'true');
  let r;
  try {
    r = await api('GET', `${path}?${q}`);
  } catch (e) {
    if (!view.alive()) return null;
    region.replaceChildren();
    const p = document.createElement('p');
    p.className = 'form-error';
    p.setAttribute('role', 'alert');
    p.textContent = t('common.error', { message: errText(e) });
    region.appendChild(p);
    return null;
  }
  if (!view.alive()) return null;
  if (r.items.length === 0 && st.page > 1) {
    st.page = Math.max(1, Math.ceil(r.total / st.pageSize));
    reload();
    return null;
  }
  region.removeAttribute('aria-busy');
  region.replaceChildren();
  return r;
}
