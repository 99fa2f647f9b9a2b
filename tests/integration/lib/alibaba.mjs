// alibaba.mjs — Alibaba Cloud's official CAS SDK (@alicloud/cas20200407 and
// the generic client of @alicloud/openapi-core) pointed at a certcontacts
// server, plus a raw signer for the calls an SDK would not make (form
// bodies the way Terraform sends them, broken signatures).

import crypto from 'node:crypto';
import Cas from '@alicloud/cas20200407';
import { $OpenApiUtil, OpenApiUtil } from '@alicloud/openapi-core';

export const VERSION = '2020-04-07';

/**
 * An SDK client for `key` (from createAccount/createKey) on `server`.
 * `v2: true` signs with HMAC-SHA1 (SignatureVersion 1.0); the default is
 * ACS3-HMAC-SHA256. `secret` overrides the key's secret.
 */
export function casClient(server, key, { v2 = false, secret, keyId } = {}) {
  const config = new $OpenApiUtil.Config({
    accessKeyId: keyId ?? key.access_key_id,
    accessKeySecret: secret ?? key.access_key_secret,
    endpoint: `127.0.0.1:${server.port}`,
    protocol: 'HTTP',
    readTimeout: 30000,
    connectTimeout: 10000,
  });
  if (v2) config.signatureAlgorithm = 'v2';
  return new Cas.default(config);
}

/**
 * One action through the generic `callApi`. `where` is 'query' (parameters
 * in the query string) or 'body' (a form body). `headers`/`query` are extra
 * request headers/query parameters (they override what the SDK sets, e.g.
 * x-acs-date, x-acs-signature-nonce, Timestamp, SignatureNonce). Resolves to
 * the response body; rejects with the SDK's coded error.
 */
export async function callAction(client, action, params = {}, { where = 'query', headers, query } = {}) {
  const p = new $OpenApiUtil.Params({
    action,
    version: VERSION,
    protocol: 'HTTP',
    pathname: '/',
    method: 'POST',
    authType: 'AK',
    style: 'RPC',
    reqBodyType: 'formData',
    bodyType: 'json',
  });
  const req = new $OpenApiUtil.OpenApiRequest({
    query: { ...(where === 'query' ? OpenApiUtil.query(params) : {}), ...(query || {}) },
    body: where === 'body' ? params : undefined,
    headers: headers || {},
  });
  const res = await client.callApi(p, req, {});
  return res.body;
}

/** The generated client's own listContact (only ListContact is generated). */
export async function sdkListContact(client, { keyword, showSize, currentPage } = {}) {
  const res = await client.listContact(new Cas.ListContactRequest({ keyword, showSize, currentPage }));
  return res.body;
}

/** Await `p`, which must reject; returns the error (SDK errors have code, statusCode, data). */
export async function rejects(p) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

// ----------------------------------------------------------- raw signing
// Percent-encoding of the spec: A-Z a-z 0-9 - _ . ~ stay, the rest %XX.
export function pct(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

export function timestamp(d = new Date()) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * HMAC-SHA1 (SignatureVersion 1.0) signature of all params (query and body
 * together), as Terraform computes it.
 */
export function signV1(method, params, secret) {
  const canon = Object.keys(params)
    .map((k) => [pct(k), pct(String(params[k]))])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const sts = `${method}&${pct('/')}&${pct(canon)}`;
  return crypto.createHmac('sha1', secret + '&').update(sts).digest('base64');
}

/**
 * A Terraform-style call: common parameters in the query, the action's
 * parameters in an application/x-www-form-urlencoded body (space as '+',
 * like Go's url.Values), HMAC-SHA1 over both. Returns {path, body, headers}
 * for harness.raw()/fetch. Options override or corrupt parts.
 */
export function terraformRequest(key, action, params, { secret, nonce, ts, version = VERSION, method = 'POST' } = {}) {
  const common = {
    Action: action,
    Version: version,
    Format: 'JSON',
    AccessKeyId: key.access_key_id,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: nonce || crypto.randomUUID(),
    Timestamp: ts || timestamp(),
  };
  const sig = signV1(method, { ...common, ...params }, secret ?? key.access_key_secret);
  const q = new URLSearchParams({ ...common, Signature: sig });
  const body = new URLSearchParams(params).toString(); // '+' for spaces
  return {
    path: `/?${q}`,
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
  };
}
