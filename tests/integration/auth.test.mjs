// auth.test.mjs — HTTP Basic access keys: 401 for missing/bad/unknown/disabled
// keys, 403 for a role without the right, masking for readonly, and keys
// created or disabled by the CLI while the server runs take effect at once.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, listKeys, disableKey,
  api, assertOk, assertError, show, contactBody, createContact, getContact, cli, cliJson, stopAllAfter, waitFor,
} from './lib/harness.mjs';

let dir, server, admin, operator, readonly, contact, body;

const TOKEN = 'abcd1234efgh5678';
const DING = `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  server = await startServer(dir);
  ({ contact, body } = await createContact(server, admin, {
    email: 'zhangsan@example.com',
    mobile: '+8613312345678',
    id_card: '11010519491231002X',
    webhooks: [{ url: DING, secret: 'SECauth0123' }],
  }));
});

stopAllAfter(() => [server], () => dir);

function assert401(res) {
  assertError(res, 401, 'Unauthorized');
  assert.equal(res.headers.get('www-authenticate'), 'Basic realm="certcontacts"', show(res));
}

const b64 = (s) => Buffer.from(s).toString('base64');

test('no credentials → 401 with WWW-Authenticate, on every /v1 route', async () => {
  for (const [m, p, json] of [
    ['GET', '/v1/contacts'],
    ['POST', '/v1/contacts', contactBody()],
    ['GET', `/v1/contacts/${contact.id}`],
    ['PATCH', `/v1/contacts/${contact.id}`, { name: 'x' }],
    ['DELETE', `/v1/contacts/${contact.id}`],
    ['GET', '/v1/openapi.json'],
  ]) {
    assert401(await api(server, m, p, { json }));
  }
  // nothing happened to the contact
  assert.equal(assertOk(await getContact(server, admin, contact.id), 200).name, contact.name);
});

test('a console request (X-Requested-With: certcontacts, or a session cookie) gets its 401 without a Basic challenge; an API client still gets it', async () => {
  const ua = { 'user-agent': 'curl/8.0' }; // a tool, not a browser
  for (const [m, p, json] of [
    ['GET', '/v1/contacts'],
    ['PATCH', `/v1/contacts/${contact.id}`, { name: 'x' }],
    ['DELETE', `/v1/contacts/${contact.id}`],
  ]) {
    const marked = await api(server, m, p, { json, headers: { ...ua, 'x-requested-with': 'certcontacts' } });
    assertError(marked, 401, 'Unauthorized');
    assert.equal(marked.headers.get('www-authenticate'), null, show(marked));
    // a session that has ended: its cookie is still sent
    const ended = await api(server, m, p, { json, headers: { ...ua, cookie: `cc_session=${'B'.repeat(43)}` } });
    assertError(ended, 401, 'Unauthorized');
    assert.equal(ended.headers.get('www-authenticate'), null, show(ended));
    assert401(await api(server, m, p, { json, headers: ua }));
    // another value of the header is not the console's mark
    assert401(await api(server, m, p, { json, headers: { ...ua, 'x-requested-with': 'XMLHttpRequest' } }));
  }
  // with wrong Basic credentials the mark still keeps the browser's box away
  const wrong = await api(server, 'GET', '/v1/contacts', {
    headers: { ...ua, 'x-requested-with': 'certcontacts', authorization: 'Basic ' + b64(`${admin.access_key_id}:wrong`) },
  });
  assertError(wrong, 401, 'Unauthorized');
  assert.equal(wrong.headers.get('www-authenticate'), null, show(wrong));
  assert.equal(assertOk(await getContact(server, admin, contact.id), 200).name, contact.name);
});

test('a wrong secret, an unknown key or a malformed Authorization header → 401', async () => {
  const headers = [
    'Basic ' + b64(`${admin.access_key_id}:wrong-secret`),
    'Basic ' + b64(`${admin.access_key_id}:${admin.access_key_secret}x`),
    'Basic ' + b64(`${admin.access_key_id}:`),
    'Basic ' + b64(`${admin.access_key_id}`),
    'Basic ' + b64(`NOSUCHKEY:${admin.access_key_secret}`),
    'Basic ' + b64(`:${admin.access_key_secret}`),
    'Basic ' + b64(`${operator.access_key_id}:${admin.access_key_secret}`), // another key's secret
    'Basic !!!notbase64!!!',
    'Basic',
    'Bearer ' + admin.access_key_secret,
    b64(`${admin.access_key_id}:${admin.access_key_secret}`),
  ];
  for (const authorization of headers) {
    assert401(await api(server, 'GET', '/v1/contacts', { headers: { authorization } }));
  }
});

test('the auth scheme name is case-insensitive', async () => {
  const authorization = 'basic ' + b64(`${admin.access_key_id}:${admin.access_key_secret}`);
  assertOk(await api(server, 'GET', '/v1/contacts', { headers: { authorization } }), 200);
});

test('health endpoints need no credentials', async () => {
  assert.equal((await api(server, 'GET', '/healthz')).status, 200);
  assert.equal((await api(server, 'GET', '/readyz')).status, 200);
});

test('readonly may read but not write: 403 Forbidden and nothing changes', async () => {
  assertOk(await api(server, 'GET', '/v1/contacts', { key: readonly }), 200);
  assertOk(await getContact(server, readonly, contact.id), 200);

  const before = assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin }), 200).total;
  assertError(await api(server, 'POST', '/v1/contacts', { key: readonly, json: contactBody() }), 403, 'Forbidden');
  assertError(
    await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: readonly, json: { name: 'by readonly' } }),
    403,
    'Forbidden',
  );
  assertError(await api(server, 'DELETE', `/v1/contacts/${contact.id}`, { key: readonly }), 403, 'Forbidden');

  const now = assertOk(await getContact(server, admin, contact.id), 200);
  assert.equal(now.name, contact.name);
  assert.equal(now.version, contact.version);
  assert.equal(assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin }), 200).total, before);
});

test('operator may create, update and delete contacts', async () => {
  const { contact: c } = await createContact(server, operator);
  const p = await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key: operator, json: { name: 'by operator' } });
  assert.equal(assertOk(p, 200).name, 'by operator');
  const d = await api(server, 'DELETE', `/v1/contacts/${c.id}`, { key: operator });
  assert.equal(d.status, 204, show(d));
  assertError(await getContact(server, operator, c.id), 404, 'NotFound');
});

test('admin and operator see email and mobile in full; readonly sees them masked; robot tokens are masked for every role', async () => {
  for (const k of [admin, operator]) {
    const c = assertOk(await getContact(server, k, contact.id), 200);
    assert.equal(c.email, 'zhangsan@example.com');
    assert.equal(c.mobile, '+8613312345678');
    assert.equal(c.id_card, '1****************X');
    assert.equal(c.webhooks[0].url, 'https://oapi.dingtalk.com/robot/send?access_token=abcd****5678');
  }
  const r = await getContact(server, readonly, contact.id);
  const c = assertOk(r, 200);
  assert.equal(c.email, 'zh****n@example.com');
  assert.equal(c.mobile, '+86 133****5678');
  assert.equal(c.id_card, '1****************X');
  assert.equal(c.webhooks.length, 1);
  assert.equal(c.webhooks[0].kind, 'dingtalk');
  assert.equal(c.webhooks[0].has_secret, true);
  assert.equal(c.webhooks[0].url, 'https://oapi.dingtalk.com/robot/send?access_token=abcd****5678');
  for (const full of ['zhangsan@example.com', '13312345678', TOKEN, 'SECauth0123', '11010519491231002X']) {
    assert.ok(!r.text.includes(full), `readonly response contains ${full}:\n${show(r)}`);
  }
});

test('every role sees the token of every webhook kind masked', async () => {
  const hooks = [
    ['https://open.feishu.cn/open-apis/bot/v2/hook/1f2e3d4c-aaaa-bbbb', 'https://open.feishu.cn/open-apis/bot/v2/hook/1f2e****bbbb'],
    ['https://open.larksuite.com/open-apis/bot/v2/hook/larkhook0123456789', 'https://open.larksuite.com/open-apis/bot/v2/hook/lark****6789'],
    ['https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a****7xxx'],
  ];
  const { contact: c } = await createContact(server, admin, { webhooks: hooks.map(([url]) => ({ url })) });
  for (const k of [admin, operator, readonly]) {
    const r = await getContact(server, k, c.id);
    assert.deepEqual(assertOk(r, 200).webhooks.map((w) => w.url), hooks.map(([, masked]) => masked));
  }
});

test('a key created by the CLI while the server runs is accepted at once', async () => {
  const k = createKey(dir, admin.account_id, 'operator');
  assertOk(await api(server, 'GET', '/v1/contacts', { key: k }), 200);
  assertOk(await api(server, 'POST', '/v1/contacts', { key: k, json: contactBody() }), 201);
});

test('a key created with role readonly by the CLI is readonly at once', async () => {
  const k = createKey(dir, admin.account_id, 'readonly');
  assertOk(await api(server, 'GET', '/v1/contacts', { key: k }), 200);
  assertError(await api(server, 'POST', '/v1/contacts', { key: k, json: contactBody() }), 403, 'Forbidden');
});

test('key list shows keys without secrets; a key disabled by the CLI is rejected at once', async () => {
  const k = createKey(dir, admin.account_id, 'admin');
  // used (and so possibly cached) before it is disabled
  assertOk(await api(server, 'GET', '/v1/contacts', { key: k }), 200);

  const keys = listKeys(dir, admin.account_id);
  assert.ok(Array.isArray(keys));
  const ids = keys.map((x) => x.access_key_id);
  for (const want of [admin, operator, readonly, k]) assert.ok(ids.includes(want.access_key_id), `key list misses ${want.access_key_id}`);
  const raw = JSON.stringify(keys);
  for (const want of [admin, operator, readonly, k]) assert.ok(!raw.includes(want.access_key_secret), 'key list shows a secret');
  for (const x of keys) {
    assert.equal(typeof x.access_key_id, 'string');
    assert.match(x.role, /^(admin|operator|readonly)$/);
    assert.match(x.status, /^(enabled|disabled)$/);
    assert.equal(typeof x.created_at, 'string');
    assert.ok(!('access_key_secret' in x) && !('secret' in x));
  }
  assert.equal(keys.find((x) => x.access_key_id === k.access_key_id).status, 'enabled');
  assert.equal(keys.find((x) => x.access_key_id === readonly.access_key_id).role, 'readonly');

  disableKey(dir, admin.account_id, k.access_key_id);
  assert401(await api(server, 'GET', '/v1/contacts', { key: k }));
  assert401(await api(server, 'POST', '/v1/contacts', { key: k, json: contactBody() }));
  const after = listKeys(dir, admin.account_id);
  assert.equal(after.find((x) => x.access_key_id === k.access_key_id).status, 'disabled');
  // the other keys of the account are untouched
  assertOk(await api(server, 'GET', '/v1/contacts', { key: admin }), 200);
});

test('key list of another account does not show this account\'s keys', () => {
  const other = createAccount(dir);
  const keys = listKeys(dir, other.account_id);
  const ids = keys.map((x) => x.access_key_id);
  assert.ok(ids.includes(other.access_key_id));
  assert.ok(!ids.includes(admin.access_key_id));
});

test('global options work before the subcommand and before its own arguments', async () => {
  const k = cliJson(['key', 'create', '--data-dir', dir, '--account', String(admin.account_id), '--role', 'readonly', '--json']);
  assert.equal(k.role, 'readonly');
  assertOk(await api(server, 'GET', '/v1/contacts', { key: k }), 200);
  // and before the subcommand itself
  const k2 = cliJson(['key', 'create', '--account', String(admin.account_id), '--role', 'operator', '--json'], { dataDir: dir, globalFirst: true });
  assert.equal(k2.role, 'operator');
  assertOk(await api(server, 'POST', '/v1/contacts', { key: k2, json: contactBody() }), 201);
});

test('key create --expires: the key works until then, is listed with its expiry, and is refused after', async () => {
  const acct = String(admin.account_id);
  const seconds = (ms) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const past = cli(['key', 'create', '--account', acct, '--expires', '2020-01-01'], { dataDir: dir });
  assert.equal(past.status, 1, past.stderr);
  assert.match(past.stderr, /in the future/);
  const bad = cli(['key', 'create', '--account', acct, '--expires', 'soon'], { dataDir: dir });
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--expires must be/);

  const later = cliJson(['key', 'create', '--account', acct, '--role', 'readonly', '--expires', '2099-12-31', '--json'], { dataDir: dir });
  assert.equal(Date.parse(later.expires_at), Date.parse('2099-12-31T00:00:00Z'));
  const until = seconds(Date.now() + 4000);
  const k = cliJson(['key', 'create', '--account', acct, '--role', 'readonly', '--expires', until, '--json'], { dataDir: dir });
  assert.equal(Date.parse(k.expires_at), Date.parse(until));
  const listed = cliJson(['key', 'list', '--account', acct, '--json'], { dataDir: dir });
  assert.equal(Date.parse(listed.find((x) => x.access_key_id === k.access_key_id).expires_at), Date.parse(until));
  assert.equal(listed.find((x) => x.access_key_id === later.access_key_id).status, 'enabled');
  assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: k }), 200);
  await waitFor(async () => (await api(server, 'GET', '/v1/contacts?page_size=1', { key: k })).status === 401,
    { timeoutMs: 15000, what: 'the key refused once it expired' });
  const after = cliJson(['key', 'list', '--account', acct, '--json'], { dataDir: dir });
  assert.equal(after.find((x) => x.access_key_id === k.access_key_id).status, 'expired');
});
