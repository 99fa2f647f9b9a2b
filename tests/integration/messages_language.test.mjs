// messages_language.test.mjs — the server's words in the caller's language:
// an API client's Accept-Language, a console user's language setting, the
// Alibaba API's messages, a send-test verdict (stored English read back in
// Chinese) and a throttled wait. English stays the default,
// and the machine parts of an answer (code, field) never change with it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, cliJson, api, raw, assertOk, assertError, show,
  contactBody, verifiedContactBody, stopAllAfter,
} from './lib/harness.mjs';
import { terraformRequest } from './lib/alibaba.mjs';

let dir, server, admin, acct;
const HAN = /[\u4e00-\u9fff]/;

before(async () => {
  dir = makeDataDir();
  acct = createAccount(dir);
  admin = acct;
  server = await startServer(dir, { env: { CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '' } });
});

stopAllAfter(() => [server], () => dir);

const badEmail = () => contactBody({ email: 'no-at.example.com' });

test('an API client reads errors in the language its Accept-Language prefers', async () => {
  const en = assertError(await api(server, 'POST', '/v1/contacts', { key: admin, json: badEmail() }), 400, 'IncorrectFormat.Email');
  assert.doesNotMatch(en.message, HAN, en.message);
  for (const lang of ['zh-CN', 'zh', 'zh-CN,zh;q=0.9,en;q=0.8', 'en;q=0.3, zh-Hans;q=0.8']) {
    const zh = assertError(await api(server, 'POST', '/v1/contacts', { key: admin, json: badEmail(), headers: { 'accept-language': lang } }), 400, 'IncorrectFormat.Email');
    assert.match(zh.message, HAN, `${lang}: ${zh.message}`);
    assert.notEqual(zh.message, en.message);
  }
  for (const lang of ['en-US', 'fr-FR', 'en-US,en;q=0.9,zh-CN;q=0.8', 'zh;q=0']) {
    const r = assertError(await api(server, 'POST', '/v1/contacts', { key: admin, json: badEmail(), headers: { 'accept-language': lang } }), 400, 'IncorrectFormat.Email');
    assert.equal(r.message, en.message, lang);
  }
  // an error with no detail of its own (an unknown route) and one the server hides
  const nf = await api(server, 'GET', '/v1/contacts/999999999', { key: admin, headers: { 'accept-language': 'zh-CN' } });
  assert.equal(nf.status, 404);
  assert.match(nf.json.message, HAN, show(nf));
  const unauth = await api(server, 'GET', '/v1/contacts', { headers: { 'accept-language': 'zh-CN' } });
  assert.equal(unauth.status, 401);
  assert.match(unauth.json.message, HAN, show(unauth));
});

test('a console user reads errors in the language of their setting, whatever the browser says', async () => {
  const u = cliJson(['user', 'create', '--account', String(acct.account_id), '--email', 'lang@example.com', '--role', 'admin', '--json'], { dataDir: dir });
  const si = await api(server, 'POST', '/v1/session', { json: { email: 'lang@example.com', password: u.password } });
  assertOk(si, 201);
  const cookie = /^(cc_session=[A-Za-z0-9_-]+);/.exec(si.headers.get('set-cookie'))[1];
  const csrf = si.json.csrf_token;
  const as = (method, p, json, headers = {}) => api(server, method, p, { json, headers: { cookie, 'x-csrf-token': csrf, ...headers } });
  const before = assertError(await as('POST', '/v1/contacts', badEmail()), 400, 'IncorrectFormat.Email');
  assert.doesNotMatch(before.message, HAN);
  assertOk(await as('PATCH', '/v1/session', { language: 'zh-CN' }), 200);
  const after = assertError(await as('POST', '/v1/contacts', badEmail(), { 'accept-language': 'en-US,en' }), 400, 'IncorrectFormat.Email');
  assert.match(after.message, HAN, after.message);
  assertOk(await as('PATCH', '/v1/session', { language: 'en' }), 200);
  const back = assertError(await as('POST', '/v1/contacts', badEmail(), { 'accept-language': 'zh-CN' }), 400, 'IncorrectFormat.Email');
  assert.equal(back.message, before.message);
});

test('the Alibaba API answers its Message in the language asked for, its Code unchanged', async () => {
  const call = (headers) => {
    const r = terraformRequest(admin, 'CreateContact', { Name: 'Li Lei', Email: 'no-at.example.com', Mobile: '13312345678' });
    return raw(server, 'POST', r.path, { headers: { ...r.headers, ...headers }, body: r.body });
  };
  const en = await call({});
  const zh = await call({ 'accept-language': 'zh-CN' });
  assert.equal(en.status, zh.status);
  assert.equal(en.json.Code, zh.json.Code, JSON.stringify(zh.json));
  assert.doesNotMatch(en.json.Message, HAN, en.json.Message);
  assert.match(zh.json.Message, HAN, zh.json.Message);
});

test('a send-test verdict and the wait of a throttled one read in Chinese, the wait counted right', async () => {
  const body = await verifiedContactBody(server, admin);
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key: admin, json: body }), 201);
  const en = assertOk(await api(server, 'POST', `/v1/contacts/${c.id}/test`, { key: admin, json: { channel: 'email' } }), 200);
  assert.match(en.reason, /written to the log/, JSON.stringify(en));
  const zh = assertOk(await api(server, 'POST', `/v1/contacts/${c.id}/test`, { key: admin, json: { channel: 'mobile' }, headers: { 'accept-language': 'zh-CN' } }), 200);
  assert.match(zh.reason, HAN, JSON.stringify(zh));
  assert.doesNotMatch(zh.reason, /written to the log/);
  // throttled: the wait in words, counted right
  let last;
  for (let i = 0; i < 30; i++) {
    last = await api(server, 'POST', `/v1/contacts/${c.id}/test`, { key: admin, json: { channel: 'email' }, headers: { 'accept-language': 'zh-CN' } });
    if (last.status === 429) break;
  }
  assert.equal(last.status, 429, show(last));
  assert.match(last.json.message, HAN);
  assert.match(last.json.message, new RegExp(`${last.json.retry_after}`));
  const enLimit = await api(server, 'POST', `/v1/contacts/${c.id}/test`, { key: admin, json: { channel: 'email' } });
  assert.equal(enLimit.status, 429);
  assert.match(enLimit.json.message, /try again in \d+ seconds?\./);
  assert.doesNotMatch(enLimit.json.message, /\b1 seconds\b/);
});
