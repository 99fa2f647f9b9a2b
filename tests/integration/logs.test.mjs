// logs.test.mjs — the server's stderr: one JSON object per line, one request
// line per request whose request_id is the X-Request-Id the client saw, and
// no secrets or full email / mobile / ID card numbers anywhere.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, raw, assertOk, assertError, show,
  basic, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, admin, ro;

const EMAIL = 'logcheck.person@example.com';
const MOBILE_E164 = '+8615987654321';
const MOBILE_NATIONAL = '15987654321';
const ID_CARD = '11010519491231002X';
const TOKEN = 'tok9f8e7d6c5b4a3';
const DING = `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`;
const DING_SECRET = 'SEClogsecret0123456789abcdef';
const LARK_SECRET = 'larkSecretValue-42';

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  ro = createKey(dir, admin.account_id, 'readonly');
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

async function expectLogLine(res, { account, method, path, status }) {
  const rid = res.headers.get('x-request-id');
  assert.ok(rid, `no X-Request-Id:\n${show(res)}`);
  const line = await server.requestLog(rid);
  assert.equal(line.msg, 'request');
  assert.equal(line.method, method);
  assert.equal(String(line.path).split('?')[0], path);
  assert.equal(Number(line.status), status);
  assert.equal(Number(line.status), res.status);
  assert.equal(typeof line.duration_ms, 'number');
  assert.ok(line.duration_ms >= 0);
  if (account === null) assert.ok(line.account === null || line.account === undefined || line.account === '' || line.account === 0, JSON.stringify(line));
  else assert.equal(String(line.account), String(account), JSON.stringify(line));
  return line;
}

test('the listening line is JSON with the address', () => {
  const l = server.lines.find((x) => x.msg === 'listening');
  assert.equal(l.listen, `127.0.0.1:${server.port}`);
});

test('one request line per request, with request_id equal to X-Request-Id', async () => {
  const created = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: {
      name: 'Log Check',
      email: EMAIL,
      mobile: MOBILE_NATIONAL,
      id_card: ID_CARD,
      webhooks: [
        { url: DING, secret: DING_SECRET },
        { url: 'https://open.larksuite.com/open-apis/bot/v2/hook/loglark', secret: LARK_SECRET },
      ],
    },
  });
  const c = assertOk(created, 201);
  await expectLogLine(created, { account: admin.account_id, method: 'POST', path: '/v1/contacts', status: 201 });

  const g = await api(server, 'GET', `/v1/contacts/${c.id}`, { key: admin });
  await expectLogLine(g, { account: admin.account_id, method: 'GET', path: `/v1/contacts/${c.id}`, status: 200 });

  const gro = await api(server, 'GET', `/v1/contacts/${c.id}`, { key: ro });
  await expectLogLine(gro, { account: admin.account_id, method: 'GET', path: `/v1/contacts/${c.id}`, status: 200 });

  const l = await api(server, 'GET', '/v1/contacts?page=1&page_size=5', { key: admin });
  await expectLogLine(l, { account: admin.account_id, method: 'GET', path: '/v1/contacts', status: 200 });

  const p = await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key: admin, json: { name: 'Log Check 2' } });
  await expectLogLine(p, { account: admin.account_id, method: 'PATCH', path: `/v1/contacts/${c.id}`, status: 200 });

  const nf = await api(server, 'GET', '/v1/contacts/424242', { key: admin });
  assertError(nf, 404, 'NotFound');
  await expectLogLine(nf, { account: admin.account_id, method: 'GET', path: '/v1/contacts/424242', status: 404 });

  const un = await api(server, 'GET', '/v1/contacts');
  assertError(un, 401, 'Unauthorized');
  await expectLogLine(un, { account: null, method: 'GET', path: '/v1/contacts', status: 401 });

  const bad = await api(server, 'GET', '/v1/contacts', {
    headers: { authorization: 'Basic ' + Buffer.from(`${admin.access_key_id}:wrong-${admin.access_key_secret}`).toString('base64') },
  });
  await expectLogLine(bad, { account: null, method: 'GET', path: '/v1/contacts', status: 401 });

  const h = await api(server, 'GET', '/healthz');
  await expectLogLine(h, { account: null, method: 'GET', path: '/healthz', status: 200 });

  // a rejected create that names the same email, mobile and secrets
  const dup = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: { name: 'Dup', email: EMAIL, mobile: MOBILE_E164, webhooks: [{ url: DING, secret: DING_SECRET }] },
  });
  assertError(dup, 409, /^AlreadyExists\./);
  await expectLogLine(dup, { account: admin.account_id, method: 'POST', path: '/v1/contacts', status: 409 });

  const badSecret = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: { name: 'Bad', email: 'other.person@example.com', mobile: '+8615900001111', webhooks: [{ url: DING, secret: 'NOTSEC-' + DING_SECRET }] },
  });
  assertError(badSecret, 400);
  await expectLogLine(badSecret, { account: admin.account_id, method: 'POST', path: '/v1/contacts', status: 400 });

  const d = await api(server, 'DELETE', `/v1/contacts/${c.id}`, { key: admin });
  assert.equal(d.status, 204);
  await expectLogLine(d, { account: admin.account_id, method: 'DELETE', path: `/v1/contacts/${c.id}`, status: 204 });
});

test('request ids are unique', async () => {
  const res = await Promise.all(Array.from({ length: 20 }, () => api(server, 'GET', '/healthz')));
  const ids = res.map((r) => r.headers.get('x-request-id'));
  assert.equal(new Set(ids).size, ids.length, ids.join(' '));
  for (const r of res) await server.requestLog(r.headers.get('x-request-id'));
});

test('a malformed request is logged too', async () => {
  const r = await raw(server, 'POST', '/v1/contacts', { key: admin, headers: { 'Content-Type': 'application/json' }, body: '{"name":' });
  assertError(r, 400, 'MalformedJSON');
  await expectLogLine(r, { account: admin.account_id, method: 'POST', path: '/v1/contacts', status: 400 });
});

test('every stderr line is one JSON object', () => {
  assert.deepEqual(server.badLines, [], `non-JSON lines on stderr:\n${server.badLines.join('\n')}`);
  assert.ok(server.lines.length > 10);
});

function assertNotLogged(needles) {
  const text = server.stderr;
  for (const [what, s] of needles) {
    assert.ok(!text.includes(s), `${what} ${JSON.stringify(s)} appears in the server log:\n` +
      text.split('\n').filter((l) => l.includes(s)).join('\n'));
  }
}

test('no secret, full email, full mobile, ID card or webhook token in the log', () => {
  assertNotLogged([
    ['email', EMAIL],
    ['email (upper case)', EMAIL.toUpperCase()],
    ['mobile', MOBILE_E164],
    ['mobile', MOBILE_NATIONAL],
    ['ID card', ID_CARD],
    ['ID card digits', ID_CARD.slice(0, 17)],
    ['DingTalk secret', DING_SECRET],
    ['Lark secret', LARK_SECRET],
    ['webhook token', TOKEN],
    ['access key secret', admin.access_key_secret],
    ['readonly key secret', ro.access_key_secret],
    ['Authorization header', basic(admin).slice('Basic '.length)],
  ]);
});

test('search keywords that are an email or a mobile are not logged in full', async () => {
  const kEmail = 'searched.person@example.com';
  const kMobile = '18612349876';
  for (const kw of [kEmail, kMobile]) {
    const r = await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(kw)}`, { key: admin });
    assertOk(r, 200);
    await server.requestLog(r.headers.get('x-request-id'));
  }
  assertNotLogged([
    ['searched email', kEmail],
    ['searched email (encoded)', encodeURIComponent(kEmail)],
    ['searched mobile', kMobile],
  ]);
});

test('the secret of a key used for requests is not logged', async () => {
  const k = createKey(dir, admin.account_id, 'operator');
  const r = await api(server, 'GET', '/v1/contacts', { key: k });
  assertOk(r, 200);
  await server.requestLog(r.headers.get('x-request-id'));
  assertNotLogged([['new key secret', k.access_key_secret]]);
});
