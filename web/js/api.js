// api.js — every call to the /v1/ REST API goes through api(): it sends the
// session cookie and, on anything but GET, the X-CSRF-Token the session handed
// out, and turns a JSON error answer into an ApiError. A 401 on a call that
// expects a session is reported to the one listener main.js registers.

import { t } from './i18n.js';

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

/** fn() runs when the server says the session is gone (a 401 not asked for with noSessionCheck). */
export function onSessionLost(fn) {
  sessionLost = fn;
}

/**
 * method path [body] [{ifMatch, noSessionCheck}] → the answer's JSON (null when
 * empty); rejects with an ApiError (status 0 when the server cannot be reached).
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  // the server requires JSON on every change, with or without a body
  if (body !== undefined || (method !== 'GET' && method !== 'HEAD')) headers['Content-Type'] = 'application/json';
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
  if (res.status === 401 && !opts.noSessionCheck && sessionLost) sessionLost();
  return Promise.reject(err);
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
