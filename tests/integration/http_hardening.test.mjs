// http_hardening.test.mjs — the HTTP points of issue 14, item 7: a request
// with a thousand query parameters gets its 431 at once; Content-Length with
// chunked encoding is refused (RFC 9112 §6.3); browsers get no Basic
// challenge; state changes from another site's page are refused (Origin,
// Sec-Fetch-Site); every state-changing route wants application/json, with
// or without a body.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  makeDataDir, startServer, createAccount, api, raw, assertOk, assertError, show, stopAllAfter,
  contactBody,
} from './lib/harness.mjs';

let dir, server, admin;
before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});
stopAllAfter(() => [server], () => dir);

/** Raw bytes on a fresh connection; the answer's bytes once the server
 * closes, or after waitMs. */
function sendRaw(bytes, waitMs = 3000) {
  return new Promise((resolve) => {
    const chunks = [];
    const t0 = Date.now();
    const s = net.connect(server.port, '127.0.0.1');
    let closed = false;
    const done = () => { clearTimeout(t); s.destroy(); resolve({ text: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - t0, closed }); };
    const t = setTimeout(done, waitMs);
    s.on('data', (c) => chunks.push(c));
    s.on('end', () => { closed = true; done(); });
    s.on('error', done);
    s.write(bytes);
  });
}

test('a thousand query parameters: 431 at once, as JSON', async () => {
  const q = Array.from({ length: 1000 }, (_, i) => `p${i}=v${i}`).join('&');
  const t0 = Date.now();
  const res = await raw(server, 'GET', `/v1/contacts?${q}`, { key: admin, timeoutMs: 5000 });
  assertError(res, 431, 'RequestHeaderFieldsTooLarge');
  assert.ok(Date.now() - t0 < 2000, `answered after ${Date.now() - t0} ms`);
  // the same count of bare names, the cheapest for a client to send
  const bare = Array.from({ length: 3000 }, () => 'a').join('&');
  assertError(await raw(server, 'GET', `/v1/contacts?${bare}`, { key: admin, timeoutMs: 5000 }), 431, 'RequestHeaderFieldsTooLarge');
  // up to the limit is served as before
  const ok = Array.from({ length: 100 }, (_, i) => `x${i}=1`).join('&');
  const r = await raw(server, 'GET', `/v1/contacts?${ok}`, { key: admin });
  assert.notEqual(r.status, 431, show(r));
});

test('an ambiguous body (Content-Length with chunked, another Transfer-Encoding, Content-Lengths that disagree) is refused with 400 and the connection closed', async () => {
  const body = '{"name":"Smuggled"}';
  const chunk = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const auth = `Basic ${Buffer.from(`${admin.access_key_id}:${admin.access_key_secret}`).toString('base64')}`;
  const res = await sendRaw(
    `POST /v1/contacts HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\n` +
    `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n${chunk}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
  assert.match(res.text, /^HTTP\/1\.1 400 /, res.text);
  assert.match(res.text, /BadRequest\.Framing/);
  assert.equal((res.text.match(/^HTTP\/1\.1 /gm) || []).length, 1, `one answer, then the connection is closed:\n${res.text}`);
  assert.ok(res.closed, 'the server closed the connection');
  // a Transfer-Encoding other than chunked: where the body ends is unknown too
  const gz = await sendRaw('POST /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Transfer-Encoding: gzip\r\n\r\nabc');
  assert.match(gz.text, /^HTTP\/1\.1 400 /, gz.text);
  assert.match(gz.text, /BadRequest\.Framing/);
  // Content-Length headers that disagree
  const two = await sendRaw('POST /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    'Content-Length: 3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde');
  assert.match(two.text, /^HTTP\/1\.1 400 /, two.text);
  assert.match(two.text, /BadRequest\.Framing/);
  const list = assertOk(await api(server, 'GET', '/v1/contacts?keyword=Smuggled', { key: admin }), 200);
  assert.equal(list.total_count ?? list.items?.length ?? 0, 0, JSON.stringify(list));
});

test('no Basic challenge to a browser; tools still get it', async () => {
  const browser = await api(server, 'GET', '/v1/contacts', {
    headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36' },
  });
  assertError(browser, 401, 'Unauthorized');
  assert.equal(browser.headers.get('www-authenticate'), null, show(browser));
  const nav = await api(server, 'GET', '/v1/contacts', { headers: { accept: 'text/html,application/xhtml+xml', 'user-agent': 'x' } });
  assert.equal(nav.headers.get('www-authenticate'), null, show(nav));
  const fetchMeta = await api(server, 'GET', '/v1/contacts', { headers: { 'sec-fetch-dest': 'empty', 'sec-fetch-site': 'cross-site', 'user-agent': 'x' } });
  assert.equal(fetchMeta.headers.get('www-authenticate'), null, show(fetchMeta));
  const tool = await api(server, 'GET', '/v1/contacts', { headers: { 'user-agent': 'curl/8.0' } });
  assert.equal(tool.headers.get('www-authenticate'), 'Basic realm="certcontacts"', show(tool));
});

test('a state change from another site is refused, with valid credentials, before anything is done', async () => {
  const cases = [
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: `http://127.0.0.1:${server.port}.evil.example` },
  ];
  for (const h of cases) {
    const res = await api(server, 'POST', '/v1/contacts', { key: admin, json: contactBody({ name: 'Cross Site' }), headers: h });
    assertError(res, 403, 'Forbidden.CrossOrigin');
    const del = await api(server, 'DELETE', '/v1/contacts/1', { key: admin, headers: h });
    assertError(del, 403, 'Forbidden.CrossOrigin');
  }
  const none = assertOk(await api(server, 'GET', '/v1/contacts?keyword=Cross', { key: admin }), 200);
  assert.equal(JSON.stringify(none).includes('Cross Site'), false);
  // the same page's own requests, and reads from anywhere, are not refused
  const same = await api(server, 'POST', '/v1/contacts', {
    key: admin, json: contactBody({ name: 'Same Origin' }),
    headers: { origin: `http://127.0.0.1:${server.port}`, 'sec-fetch-site': 'same-origin' },
  });
  assertOk(same, 201);
  const read = await api(server, 'GET', '/v1/contacts', { key: admin, headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
  assertOk(read, 200);
});

test('every state-changing route wants application/json, even without a body', async () => {
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key: admin, json: contactBody({ name: 'Json Only' }) }), 201);
  const forms = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', null];
  for (const ct of forms) {
    const headers = ct ? { 'content-type': ct } : {};
    // fetch adds text/plain to a string body; an empty body lets "none" be none
    const body = ct ? '' : undefined;
    for (const [m, p] of [['POST', `/v1/contacts/${c.id}/test`], ['DELETE', `/v1/contacts/${c.id}`],
      ['POST', '/v1/keys/NOPE/disable'], ['PATCH', `/v1/contacts/${c.id}`]]) {
      const res = await raw(server, m, p, { key: admin, headers, body });
      assertError(res, 415, 'UnsupportedMediaType');
    }
  }
  assertOk(await api(server, 'GET', `/v1/contacts/${c.id}`, { key: admin }), 200);
  // with JSON, the bodiless DELETE goes through
  const del = await api(server, 'DELETE', `/v1/contacts/${c.id}`, { key: admin, headers: { 'content-type': 'application/json' } });
  assert.ok(del.status === 204 || del.status === 200, show(del));
});
