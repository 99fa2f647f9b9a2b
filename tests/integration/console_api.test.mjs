// console_api.test.mjs — the web console's server side at the API level:
// the static files (content types, ETag/304, security headers), sign-in with
// the session cookie and its flags, CSRF refusal, the wrong-password lock,
// sign-out, a readonly user refused writes, and the users and keys
// endpoints. The browser tests drive the same API through the pages.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, BIN, waitFor, makeDataDir, removeDir, startServer, createAccount, cli, cliJson, api, raw, assertOk,
  dbEnv,
  assertError, show, contactBody, unique, stopAllAfter, keepServerLog,
} from './lib/harness.mjs';

let dir, server, acct, admin, adminPw;

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function userCreate(email, role, password) {
  const args = ['user', 'create', '--account', String(acct.account_id), '--email', email, '--role', role, '--json'];
  if (password) args.push('--password', password);
  return cliJson(args, { dataDir: dir });
}

before(async () => {
  dir = makeDataDir();
  acct = createAccount(dir);
  admin = userCreate('admin@example.com', 'admin');
  adminPw = admin.password;
  // 127.0.0.1 is the trusted reverse proxy here: its X-Forwarded-Proto counts
  server = await startServer(dir, { args: ['--trusted-proxies', '127.0.0.1'] });
});

stopAllAfter(() => [server], () => dir);

/** Signs in; returns {res, cookie, csrf, setCookie}. */
async function signIn(email, password, headers = {}) {
  const res = await api(server, 'POST', '/v1/session', { json: { email, password }, headers });
  const setCookie = res.headers.get('set-cookie') || '';
  const m = /^cc_session=([A-Za-z0-9_-]+);/.exec(setCookie);
  return { res, setCookie, cookie: m ? `cc_session=${m[1]}` : null, csrf: res.json?.csrf_token };
}

/** A request with the session cookie (and the CSRF token when given). */
function as(s, method, p, { json, csrf = true, headers = {} } = {}) {
  const h = { cookie: s.cookie, ...headers };
  if (csrf && s.csrf) h['x-csrf-token'] = s.csrf;
  return api(server, method, p, { json, headers: h });
}

function checkSecurityHeaders(res) {
  assert.equal(res.headers.get('content-security-policy'), CSP, show(res));
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
  '.json': 'application/json; charset=utf-8', '.woff2': 'font/woff2',
};

test('GET / is the console page, with an ETag, no-cache and the security headers', async () => {
  const res = await api(server, 'GET', '/');
  assert.equal(res.status, 200, show(res));
  assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(res.text, fs.readFileSync(path.join(ROOT, 'web/index.html'), 'utf8'));
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const etag = res.headers.get('etag');
  assert.match(etag, /^"[0-9a-f]{32}"$/);
  checkSecurityHeaders(res);
  // revalidation
  const again = await api(server, 'GET', '/', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304, show(again));
  assert.equal(again.text, '');
  assert.equal(again.headers.get('etag'), etag);
  const other = await api(server, 'GET', '/', { headers: { 'if-none-match': '"0000"' } });
  assert.equal(other.status, 200);
  // HEAD
  const head = await raw(server, 'HEAD', '/');
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('etag'), etag);
});

test('every file of web/ is served under /assets/ with its content type', async () => {
  const names = fs.readdirSync(path.join(ROOT, 'web'), { recursive: true })
    .filter((n) => !n.split(path.sep).some((s) => s.startsWith('.')) && fs.statSync(path.join(ROOT, 'web', n)).isFile());
  assert.ok(names.includes('index.html'));
  for (const name of names) {
    const res = await api(server, 'GET', `/assets/${name}`);
    assert.equal(res.status, 200, `${name}: ${show(res)}`);
    const want = TYPES[path.extname(name)];
    if (want) assert.equal(res.headers.get('content-type'), want, name);
    assert.ok(res.headers.get('etag'), name);
    assert.equal(res.headers.get('cache-control'), 'no-cache', name);
    checkSecurityHeaders(res);
    const bytes = fs.readFileSync(path.join(ROOT, 'web', name));
    assert.equal(Number(res.headers.get('content-length')), bytes.length, name);
  }
});

test('unknown or unsafe asset paths are 404 JSON; JSON API answers carry the headers too', async () => {
  for (const p of ['/assets/nope.js', '/assets/', '/assets/.hidden', '/assets/a/b.js',
    '/assets/%2e%2e%2fMakefile', '/index.html']) {
    const res = await raw(server, 'GET', p);
    assert.equal(res.status, 404, `${p}: ${res.status} ${res.text}`);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.equal(JSON.parse(res.text).code, 'NotFound');
  }
  const res = await api(server, 'GET', '/healthz');
  checkSecurityHeaders(res);
  // an Alibaba Cloud style call to / is not the console page
  const acs = await api(server, 'GET', '/?Action=ListContact');
  assert.notEqual(acs.headers.get('content-type'), 'text/html; charset=utf-8', show(acs));
});

test('sign in: cookie flags, body, and the session works for the API', async () => {
  const s = await signIn('Admin@Example.com', adminPw);
  assert.equal(s.res.status, 201, show(s.res));
  const u = s.res.json.user;
  assert.equal(u.email, 'admin@example.com');
  assert.equal(u.role, 'admin');
  assert.equal(u.account_id, acct.account_id);
  assert.equal(u.language, 'en');
  assert.equal(typeof u.id, 'number');
  assert.ok(u.created_at);
  assert.match(s.csrf, /^[A-Za-z0-9_-]{43}$/);
  assert.ok(s.cookie, s.setCookie);
  const flags = s.setCookie.split(';').map((x) => x.trim());
  assert.ok(flags.includes('HttpOnly'), s.setCookie);
  assert.ok(flags.includes('SameSite=Strict'), s.setCookie);
  assert.ok(flags.includes('Path=/'), s.setCookie);
  assert.ok(!flags.includes('Secure'), 'plain HTTP: no Secure flag');
  assert.ok(!s.setCookie.includes(s.csrf), 'the CSRF token is not the cookie');

  const got = await as(s, 'GET', '/v1/session', { csrf: false });
  assertOk(got, 200);
  assert.equal(got.json.user.id, u.id);
  assert.equal(got.json.csrf_token, s.csrf);

  const list = await as(s, 'GET', '/v1/contacts', { csrf: false });
  assertOk(list, 200);
  const created = await as(s, 'POST', '/v1/contacts', { json: contactBody() });
  assertOk(created, 201);

  // behind a trusted TLS proxy the cookie is Secure
  const tls = await signIn('admin@example.com', adminPw, { 'x-forwarded-proto': 'https' });
  assert.equal(tls.res.status, 201);
  assert.ok(tls.setCookie.split(';').map((x) => x.trim()).includes('Secure'), tls.setCookie);
});

test('wrong password and unknown email: one 401 answer, no browser password prompt', async () => {
  const a = await signIn('admin@example.com', 'not the password');
  const b = await signIn(`${unique('nobody')}@example.com`, adminPw);
  assertError(a.res, 401, 'Unauthorized');
  assertError(b.res, 401, 'Unauthorized');
  assert.equal(a.res.json.message, b.res.json.message);
  assert.equal(a.res.headers.get('www-authenticate'), null);
  assert.equal(a.res.headers.get('set-cookie'), null);
  // GET /v1/session without a cookie, and with a made-up one
  const none = await api(server, 'GET', '/v1/session');
  assertError(none, 401, 'Unauthorized');
  assert.equal(none.headers.get('www-authenticate'), null);
  const fake = await api(server, 'GET', '/v1/contacts', { headers: { cookie: `cc_session=${'A'.repeat(43)}` } });
  assertError(fake, 401, 'Unauthorized');
  assert.equal(fake.headers.get('www-authenticate'), null);
  // missing fields and wrong media type are 400/415
  assertError(await api(server, 'POST', '/v1/session', { json: { email: 'admin@example.com' } }), 400, 'MissingParameter.Password');
  assert.equal((await api(server, 'POST', '/v1/session', { body: 'x', headers: { 'content-type': 'text/plain' } })).status, 415);
});

test('CSRF: a cookie request that changes something needs X-CSRF-Token; Basic auth does not', async () => {
  const s = await signIn('admin@example.com', adminPw);
  const before = assertOk(await as(s, 'GET', '/v1/contacts?page_size=100', { csrf: false }), 200).total;
  const missing = await as(s, 'POST', '/v1/contacts', { json: contactBody(), csrf: false });
  assertError(missing, 403, 'Forbidden.CSRF');
  const wrong = await as(s, 'POST', '/v1/contacts', { json: contactBody(), csrf: false, headers: { 'x-csrf-token': s.csrf.slice(0, -1) + (s.csrf.endsWith('A') ? 'B' : 'A') } });
  assertError(wrong, 403, 'Forbidden.CSRF');
  // another session's token is wrong too
  const other = await signIn('admin@example.com', adminPw);
  assertError(await as(s, 'POST', '/v1/contacts', { json: contactBody(), csrf: false, headers: { 'x-csrf-token': other.csrf } }), 403, 'Forbidden.CSRF');
  assertError(await as(s, 'DELETE', '/v1/session', { csrf: false }), 403, 'Forbidden.CSRF');
  // nothing was created
  assert.equal(assertOk(await as(s, 'GET', '/v1/contacts?page_size=100', { csrf: false }), 200).total, before);
  // Basic auth needs no token
  assertOk(await api(server, 'POST', '/v1/contacts', { key: acct, json: contactBody() }), 201);
});

test('the console language is remembered per user', async () => {
  const s = await signIn('admin@example.com', adminPw);
  const r = await as(s, 'PATCH', '/v1/session', { json: { language: 'zh-CN' } });
  assertOk(r, 200);
  assert.equal(r.json.user.language, 'zh-CN');
  assert.equal(r.json.csrf_token, s.csrf);
  const again = await signIn('admin@example.com', adminPw);
  assert.equal(again.res.json.user.language, 'zh-CN');
  assertError(await as(s, 'PATCH', '/v1/session', { json: { language: 'fr' } }), 400, 'IncorrectFormat.Language');
  assertError(await as(s, 'PATCH', '/v1/session', { json: { language: 'en', extra: 1 } }), 400);
  assertOk(await as(s, 'PATCH', '/v1/session', { json: { language: 'en' } }), 200);
});

test('a readonly user reads but every write is refused by the API', async () => {
  const ro = userCreate(`${unique('ro')}@example.com`, 'readonly', 'readonly password 1');
  assert.equal(ro.password, undefined, 'a given password is not echoed');
  const s = await signIn(ro.email, 'readonly password 1');
  assert.equal(s.res.status, 201, show(s.res));
  assert.equal(s.res.json.user.role, 'readonly');
  assertOk(await as(s, 'GET', '/v1/contacts', { csrf: false }), 200);
  assertError(await as(s, 'POST', '/v1/contacts', { json: contactBody() }), 403, 'Forbidden');
  assertError(await as(s, 'GET', '/v1/users', { csrf: false }), 403, 'Forbidden');
  assertError(await as(s, 'GET', '/v1/keys', { csrf: false }), 403, 'Forbidden');
  assertError(await as(s, 'POST', '/v1/keys', { json: { role: 'admin' } }), 403, 'Forbidden');
  // its own language it may change
  assertOk(await as(s, 'PATCH', '/v1/session', { json: { language: 'zh-CN' } }), 200);
});

test('users: list, add with a generated password, change, disable, delete; not yourself', async () => {
  const s = await signIn('admin@example.com', adminPw);
  const me = s.res.json.user;
  const list = assertOk(await as(s, 'GET', '/v1/users', { csrf: false }), 200);
  assert.ok(list.users.some((u) => u.id === me.id && u.email === 'admin@example.com'));
  for (const u of list.users) {
    for (const k of ['id', 'email', 'role', 'language', 'disabled', 'locked_until', 'created_at', 'last_sign_in_at']) assert.ok(k in u, k);
    assert.ok(!('password_hash' in u) && !('password' in u));
  }
  const email = `${unique('op')}@example.com`;
  const added = await as(s, 'POST', '/v1/users', { json: { email, role: 'operator' } });
  assertOk(added, 201);
  assert.match(added.json.password, /^[A-Za-z0-9]{20}$/);
  assert.equal(added.json.user.role, 'operator');
  assert.equal(added.json.user.disabled, false);
  const id = added.json.user.id;
  assertError(await as(s, 'POST', '/v1/users', { json: { email: email.toUpperCase(), role: 'operator' } }), 409, 'AlreadyExists.Email');
  assertError(await as(s, 'POST', '/v1/users', { json: { email: `${unique('x')}@example.com`, role: 'operator', password: 'short' } }), 400, 'IncorrectFormat.Password');
  assertError(await as(s, 'POST', '/v1/users', { json: { email: 'not an email', role: 'operator' } }), 400, 'IncorrectFormat.Email');
  assertError(await as(s, 'POST', '/v1/users', { json: { email: `${unique('x')}@example.com`, role: 'root' } }), 400, 'InvalidParameter.Role');
  const withPw = await as(s, 'POST', '/v1/users', { json: { email: `${unique('p')}@example.com`, role: 'readonly', password: 'a chosen password' } });
  assertOk(withPw, 201);
  assert.equal(withPw.json.password, undefined);

  // the new operator signs in; an operator may not manage users
  const op = await signIn(email, added.json.password);
  assert.equal(op.res.status, 201);
  assertError(await as(op, 'GET', '/v1/users', { csrf: false }), 403, 'Forbidden');
  assertError(await as(op, 'PATCH', `/v1/users/${id}`, { json: { role: 'admin' } }), 403, 'Forbidden');

  // not yourself
  assertError(await as(s, 'PATCH', `/v1/users/${me.id}`, { json: { role: 'operator' } }), 400, 'InvalidParameter.Role');
  assertError(await as(s, 'PATCH', `/v1/users/${me.id}`, { json: { disabled: true } }), 400, 'InvalidParameter.Disabled');
  assertError(await as(s, 'DELETE', `/v1/users/${me.id}`), 400, 'InvalidParameter.User');
  assertError(await as(s, 'PATCH', `/v1/users/${id}`, { json: { disabled: 'yes' } }), 400);
  assertError(await as(s, 'PATCH', `/v1/users/${id}`, { json: { email: 'x@example.com' } }), 400);
  assertError(await as(s, 'PATCH', '/v1/users/999999', { json: { role: 'admin' } }), 404, 'NotFound');

  // the role changes at once for the signed-in operator
  const ch = assertOk(await as(s, 'PATCH', `/v1/users/${id}`, { json: { role: 'readonly' } }), 200);
  assert.equal(ch.user.role, 'readonly');
  assertError(await as(op, 'POST', '/v1/contacts', { json: contactBody() }), 403, 'Forbidden');
  // disabling ends the sessions and refuses sign-in
  const dis = assertOk(await as(s, 'PATCH', `/v1/users/${id}`, { json: { disabled: true } }), 200);
  assert.equal(dis.user.disabled, true);
  assertError(await as(op, 'GET', '/v1/session', { csrf: false }), 401, 'Unauthorized');
  assertError((await signIn(email, added.json.password)).res, 403, 'Forbidden');
  // enabled with a new password
  assertOk(await as(s, 'PATCH', `/v1/users/${id}`, { json: { disabled: false, password: 'brand new password' } }), 200);
  assert.equal((await signIn(email, 'brand new password')).res.status, 201);
  // deleted
  assert.equal((await as(s, 'DELETE', `/v1/users/${id}`)).status, 204);
  assertError((await signIn(email, 'brand new password')).res, 401, 'Unauthorized');
  assertError(await as(s, 'DELETE', `/v1/users/${id}`), 404, 'NotFound');
  // access keys may manage users too (admin key)
  assertOk(await api(server, 'GET', '/v1/users', { key: acct }), 200);
});

test('access keys: list without secrets, create with the secret once, disable', async () => {
  const s = await signIn('admin@example.com', adminPw);
  const list = assertOk(await as(s, 'GET', '/v1/keys', { csrf: false }), 200);
  assert.ok(list.keys.some((k) => k.id === acct.access_key_id && k.role === 'admin' && k.disabled === false));
  assert.ok(!JSON.stringify(list).includes(acct.access_key_secret));
  for (const k of list.keys) assert.ok(!('secret' in k) && !('secret_enc' in k));
  const made = await as(s, 'POST', '/v1/keys', { json: { role: 'operator' } });
  assertOk(made, 201);
  assert.match(made.json.key.id, /^CC[A-Za-z0-9]+$/);
  assert.equal(made.json.key.role, 'operator');
  assert.equal(typeof made.json.secret, 'string');
  const key = { access_key_id: made.json.key.id, access_key_secret: made.json.secret };
  assertOk(await api(server, 'GET', '/v1/contacts', { key }), 200);
  const again = assertOk(await as(s, 'GET', '/v1/keys', { csrf: false }), 200);
  assert.ok(!JSON.stringify(again).includes(made.json.secret));
  assertError(await as(s, 'POST', '/v1/keys', { json: { role: 'god' } }), 400, 'InvalidParameter.Role');
  assertError(await as(s, 'POST', '/v1/keys', { json: {} }), 400, 'MissingParameter.Role');
  const dis = assertOk(await as(s, 'POST', `/v1/keys/${key.access_key_id}/disable`), 200);
  assert.equal(dis.key.disabled, true);
  assert.equal(dis.key.id, key.access_key_id);
  assertError(await api(server, 'GET', '/v1/contacts', { key }), 401, 'Unauthorized');
  assertError(await as(s, 'POST', '/v1/keys/CCnope/disable'), 404, 'NotFound');
  // a key of another account is not found
  const other = createAccount(dir);
  assertError(await as(s, 'POST', `/v1/keys/${other.access_key_id}/disable`), 404, 'NotFound');
  assertOk(await api(server, 'GET', '/v1/contacts', { key: other }), 200);
});

test('sign-out deletes the session and clears the cookie', async () => {
  const s = await signIn('admin@example.com', adminPw);
  const out = await as(s, 'DELETE', '/v1/session');
  assert.equal(out.status, 204, show(out));
  const sc = out.headers.get('set-cookie');
  assert.match(sc, /^cc_session=;/);
  assert.ok(sc.includes('Max-Age=0'), sc);
  assertError(await as(s, 'GET', '/v1/session', { csrf: false }), 401, 'Unauthorized');
  assertError(await as(s, 'GET', '/v1/contacts', { csrf: false }), 401, 'Unauthorized');
});

test('repeated wrong passwords slow down, then lock the user for 15 minutes', async () => {
  const email = `${unique('lock')}@example.com`;
  userCreate(email, 'operator', 'the right password');
  const times = [];
  for (let i = 1; i <= 4; i++) {
    const t0 = Date.now();
    assertError((await signIn(email, 'a wrong password')).res, 401, 'Unauthorized');
    times.push(Date.now() - t0);
  }
  assert.ok(times[2] >= 900, `third try waited: ${times}`);
  assert.ok(times[3] >= 1900, `fourth try waited: ${times}`);
  const fifth = (await signIn(email, 'a wrong password')).res;
  assertError(fifth, 423, 'UserLocked');
  assert.match(fifth.json.message, /try again in 15 minutes/);
  assert.ok(fifth.json.retry_after > 14 * 60 && fifth.json.retry_after <= 15 * 60, show(fifth));
  assert.equal(fifth.headers.get('retry-after'), String(fifth.json.retry_after));
  // even the right password, now
  const right = (await signIn(email, 'the right password')).res;
  assertError(right, 423, 'UserLocked');
  assert.equal(right.headers.get('set-cookie'), null);
  // the admin sees the lock
  const s = await signIn('admin@example.com', adminPw);
  const u = assertOk(await as(s, 'GET', '/v1/users', { csrf: false }), 200).users.find((x) => x.email === email);
  assert.ok(u.locked_until && Date.parse(u.locked_until) > Date.now(), JSON.stringify(u));
  // an unknown email is locked the same way (no telling it apart)
  const ghost = `${unique('ghost')}@example.com`;
  for (let i = 1; i <= 4; i++) assertError((await signIn(ghost, 'whatever it is')).res, 401, 'Unauthorized');
  assertError((await signIn(ghost, 'whatever it is')).res, 423, 'UserLocked');
});

/** Signs in from another loopback address (the source the server counts by). */
function signInFrom(localAddress, email, password) {
  return raw(server, 'POST', '/v1/session', {
    localAddress, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
}

test('five wrong passwords from another address no longer lock the real user out; an admin unlocks', async () => {
  const email = `${unique('victim')}@example.com`;
  const user = userCreate(email, 'operator', 'the right password');
  // the old attack: five wrong passwords from somewhere else
  for (let i = 1; i <= 4; i++) assertError(await signInFrom('127.0.0.2', email, 'a wrong password'), 401, 'Unauthorized');
  assertError(await signInFrom('127.0.0.2', email, 'a wrong password'), 423, 'UserLocked');
  // the attacker's address is locked out of that email, even with the right password ...
  assertError(await signInFrom('127.0.0.2', email, 'the right password'), 423, 'UserLocked');
  // ... the real user, from its own address, is slowed down but signs in
  const mine = await signIn(email, 'the right password');
  assert.equal(mine.res.status, 201, show(mine.res));
  // the admin sees the lock that remains (from 127.0.0.2) and lifts it
  const s = await signIn('admin@example.com', adminPw);
  let u = assertOk(await as(s, 'GET', '/v1/users', { csrf: false }), 200).users.find((x) => x.email === email);
  assert.ok(u.locked_until && Date.parse(u.locked_until) > Date.now(), JSON.stringify(u));
  assertError(await as(s, 'POST', `/v1/users/${user.id}/unlock`, { json: {}, csrf: false }), 403, 'Forbidden.CSRF');
  u = assertOk(await as(s, 'POST', `/v1/users/${user.id}/unlock`, { json: {} }), 200).user;
  assert.equal(u.locked_until, null, JSON.stringify(u));
  assert.equal(u.email, email);
  assert.equal((await signInFrom('127.0.0.2', email, 'the right password')).status, 201);
  // an operator may not unlock; another account's admin does not see the user
  assertError(await as(mine, 'POST', `/v1/users/${user.id}/unlock`, { json: {} }), 403, 'Forbidden');
  const other = createAccount(dir);
  assertError(await api(server, 'POST', `/v1/users/${user.id}/unlock`, { key: other, json: {} }), 404, 'NotFound');
  // the CLI unlocks too
  for (let i = 1; i <= 5; i++) await signInFrom('127.0.0.3', email, 'a wrong password');
  assertError(await signInFrom('127.0.0.3', email, 'the right password'), 423, 'UserLocked');
  const out = cliJson(['user', 'unlock', '--account', String(acct.account_id), '--email', email, '--json'], { dataDir: dir });
  assert.equal(out.email, email);
  assert.equal((await signInFrom('127.0.0.3', email, 'the right password')).status, 201);
});

test('many emails guessed from one address lock that address only', async () => {
  const email = `${unique('sprayed')}@example.com`;
  userCreate(email, 'operator', 'the right password');
  // CC_SIGN_IN_ADDR_MAX_FAILURES wrong passwords, each for another email
  const guesses = Array.from({ length: 100 }, () => `${unique('spray')}@example.com`);
  for (const g of guesses) assertError(await signInFrom('127.0.0.4', g, 'a wrong password'), 401, 'Unauthorized');
  const r = await signInFrom('127.0.0.4', email, 'the right password');
  assertError(r, 429, 'Throttling.SignIn');
  assert.ok(Number(r.headers.get('retry-after')) > 14 * 60, show(r));
  assert.equal((await signInFrom('127.0.0.5', email, 'the right password')).status, 201);
});

/** The server's resident memory in KiB. */
function serverRssKib() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'));
  return Number(m[1]);
}

test('a sign-in flood: a few passwords are hashed at once, the excess gets 503 with Retry-After, memory stays bounded', async () => {
  const email = `${unique('flood')}@example.com`;
  userCreate(email, 'readonly', 'the right password');
  const before = serverRssKib();
  // 48: more than the 20 that hash or wait, fewer than the 64 connections one address may hold
  const all = await Promise.all(Array.from({ length: 48 }, () => signIn(email, 'the right password')));
  const statuses = all.map((x) => x.res.status);
  const busy = all.filter((x) => x.res.status === 503);
  assert.ok(busy.length > 0, statuses.join(','));
  assert.equal(busy.length + statuses.filter((x) => x === 201).length, 48, statuses.join(','));
  assert.equal(busy[0].res.headers.get('retry-after'), '1', show(busy[0].res));
  assert.equal(busy[0].res.json.code, 'ServiceUnavailable');
  // 4 hashes of 19 MiB at once at the most, given back afterwards. Not under
  // ASan: its quarantine keeps every freed block resident (up to 256 MB), so
  // RSS there measures the sanitizer, not the server (alone, this test's
  // flood takes an ASan server from 38 MB to ~360 MB).
  const after = serverRssKib();
  if (!/build-asan/.test(process.env.CC_BIN || ''))
    assert.ok(after - before < 40 * 1024, `RSS ${before} KiB before, ${after} KiB after`);
});

test('passwords that are easy to guess are refused (libpwquality with its dictionary)', async () => {
  const s = await signIn('admin@example.com', adminPw);
  for (const password of ['          ', 'aaaaaaaaaa', '1234567890', 'password12', 'qwertyuiop']) {
    const r = await as(s, 'POST', '/v1/users', { json: { email: `${unique('weak')}@example.com`, role: 'readonly', password } });
    assertError(r, 400, 'IncorrectFormat.Password');
    assert.match(r.json.message, /too easy to guess/);
  }
  const r = cli(['user', 'create', '--account', String(acct.account_id), '--email', `${unique('weak')}@example.com`, '--role', 'admin', '--password', 'aaaaaaaaaa'], { dataDir: dir });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /too easy to guess/);
  assertOk(await as(s, 'POST', '/v1/users', { json: { email: `${unique('fine')}@example.com`, role: 'readonly', password: 'four words make a passphrase' } }), 201);
});

test('sign-ins held back after wrong passwords are capped; more are refused at once', async () => {
  const emails = Array.from({ length: 12 }, () => `${unique('flood')}@example.com`);
  for (const e of emails) {
    for (let i = 0; i < 2; i++) assertError((await signIn(e, 'wrong wrong wrong')).res, 401, 'Unauthorized');
  }
  // the third try of each would wait a second: at most 8 wait, the rest get 429 at once
  const t0 = Date.now();
  const all = await Promise.all(emails.map(async (e) => {
    const t = Date.now();
    const r = (await signIn(e, 'wrong wrong wrong')).res;
    return { r, ms: Date.now() - t };
  }));
  const waited = all.filter((x) => x.r.status === 401);
  const refused = all.filter((x) => x.r.status === 429);
  assert.equal(waited.length + refused.length, 12, all.map((x) => x.r.status).join(','));
  assert.ok(waited.length <= 8 && waited.length >= 1, `waited ${waited.length}`);
  assert.ok(refused.length >= 4, `refused ${refused.length}`);
  for (const x of refused) {
    assertError(x.r, 429, 'Throttling.SignIn');
    assert.equal(x.r.headers.get('retry-after'), '1');
  }
  for (const x of waited) assert.ok(x.ms >= 900, `a held-back try answered in ${x.ms} ms`);
  assert.ok(Date.now() - t0 < 15000);
});

test('user create CLI: generated password printed once, errors are clear', async () => {
  const email = `${unique('cli')}@example.com`;
  const r = cli(['user', 'create', '--account', String(acct.account_id), '--email', email, '--role', 'operator'], { dataDir: dir });
  assert.equal(r.status, 0, r.stderr);
  const m = /console password:\s+([A-Za-z0-9]{20})/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal((await signIn(email, m[1])).res.status, 201);
  const dup = cli(['user', 'create', '--account', String(acct.account_id), '--email', email, '--role', 'operator'], { dataDir: dir });
  assert.equal(dup.status, 1);
  assert.match(dup.stderr, /already exists/);
  const noAcct = cli(['user', 'create', '--account', '99999', '--email', `${unique('n')}@example.com`, '--role', 'admin'], { dataDir: dir });
  assert.equal(noAcct.status, 1, noAcct.stdout);
  const badRole = cli(['user', 'create', '--account', String(acct.account_id), '--email', `${unique('n')}@example.com`, '--role', 'boss'], { dataDir: dir });
  assert.equal(badRole.status, 1);
  assert.match(badRole.stderr, /role/);
  const short = cli(['user', 'create', '--account', String(acct.account_id), '--email', `${unique('n')}@example.com`, '--role', 'admin', '--password', 'short'], { dataDir: dir });
  assert.equal(short.status, 1);
  assert.match(short.stderr, /10 to 128/);
});

test('serve on an empty database creates the first console admin and prints its password once', async () => {
  const d = makeDataDir();
  const start = () => {
    const proc = spawn(BIN, ['serve', '--dev', '--data-dir', d, '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...dbEnv(d) },
    });
    const st = { proc, out: '', exit: new Promise((r) => proc.on('exit', (code) => r(code))) };
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (c) => { st.out += c; });
    keepServerLog(proc);
    proc.stderr.on('data', () => {});
    return st;
  };
  const stop = async (st) => {
    st.proc.kill('SIGTERM');
    assert.equal(await st.exit, 0);
  };
  try {
    const first = start();
    await waitFor(() => /console: http:\/\/127\.0\.0\.1:\d+\//.test(first.out), { timeoutMs: 15000, what: `console line in:\n${first.out}` });
    const pw = /console password:\s+([A-Za-z0-9]{20})/.exec(first.out);
    assert.ok(pw, first.out);
    assert.match(first.out, /console user:\s+admin@localhost/);
    assert.match(first.out, /access key secret:/);
    const port = /console: http:\/\/127\.0\.0\.1:(\d+)\//.exec(first.out)[1];
    const res = await fetch(`http://127.0.0.1:${port}/v1/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@localhost', password: pw[1] }),
    });
    assert.equal(res.status, 201, await res.text());
    await stop(first);
    // the second start prints no password
    const second = start();
    await waitFor(() => /console: http/.test(second.out), { timeoutMs: 15000, what: 'console line' });
    assert.doesNotMatch(second.out, /password/);
    await stop(second);
  } finally {
    removeDir(d);
  }
});
