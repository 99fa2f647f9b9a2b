// alibaba_terraform.test.mjs — the Alibaba CAS API the way Terraform's
// provider speaks it (HMAC-SHA1, common parameters in the query, the
// action's parameters in a form body with '+' for spaces), sent raw: the
// create-read-update-page-delete sequence with ClientToken, chunked bodies,
// unescaped reserved characters in the query, and what "/" answers to calls
// that are not (or not valid) API calls — without touching REST or the console.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, raw, assertOk, assertError, show,
  uniqueMobile, unique, idCard, stopAllAfter,
  maskedHook,
} from './lib/harness.mjs';
import { terraformRequest, signV1, timestamp, VERSION, casClient, callAction } from './lib/alibaba.mjs';

let dir, server, admin;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

const local = (e164) => e164.replace(/^\+86/, '');
const DING = (t) => `https://oapi.dingtalk.com/robot/send?access_token=${t}`;
const WECOM = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx';

/** Assert Alibaba's error shape (and status/code when given); returns the body. */
function assertAcsError(res, status, code) {
  assert.equal(res.status, status, show(res));
  assert.match(res.headers.get('content-type') || '', /^application\/json/i, show(res));
  const b = res.json;
  assert.ok(b && typeof b === 'object', show(res));
  for (const k of ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']) assert.equal(typeof b[k], 'string', `${k}:\n${show(res)}`);
  assert.equal(b.Code, code, show(res));
  assert.ok(b.Message.length > 0);
  assert.match(b.RequestId, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/, show(res));
  assert.equal(res.headers.get('x-request-id'), b.RequestId, show(res));
  return b;
}

/** A Terraform-style call; resolves to the raw response. */
async function tf(action, params, opts = {}) {
  const r = terraformRequest(admin, action, params, opts);
  return raw(server, opts.method || 'POST', r.path, { headers: r.headers, body: r.body, chunked: opts.chunked });
}

async function tfOk(action, params, opts) {
  const res = await tf(action, params, opts);
  assert.equal(res.status, 200, show(res));
  assert.match(res.headers.get('content-type') || '', /^application\/json/i);
  assert.match(res.json.RequestId, /^[0-9A-F-]{36}$/);
  return res.json;
}

test('Terraform sequence: create with ClientToken twice, read, update every field, page by 50, delete, NotFound', async () => {
  const token = unique('tf-token');
  const hook = DING(unique('tf'));
  const create = { Name: 'terraform 张三 *()!\'~', Mobile: local(uniqueMobile('186')), Email: `${unique('tf')}@example.com`, Webhooks: JSON.stringify([hook]), ClientToken: token };
  const a = await tfOk('CreateContact', create);
  const b = await tfOk('CreateContact', create, { chunked: true });
  assert.equal(b.ContactId, a.ContactId, 'the repeated create returns the same contact');
  const id = a.ContactId;

  const got = await tfOk('GetContact', { ContactId: String(id) });
  assert.equal(got.Name, create.Name);
  assert.deepEqual(got.WebhookList, [maskedHook(hook)], 'robot tokens are masked in every answer');

  const mobile2 = local(uniqueMobile('187'));
  const id2 = idCard('44030419900307123');
  const update = { ContactId: String(id), Name: 'terraform 李四 +plus', Mobile: mobile2, Email: `${unique('tf2')}@example.org`, Idcard: id2, Webhooks: JSON.stringify([WECOM, hook]) };
  const u = await tfOk('UpdateContact', update);
  assert.equal(u.ContactId, id);
  const got2 = await tfOk('GetContact', { ContactId: String(id) });
  assert.equal(got2.Name, 'terraform 李四 +plus');
  assert.equal(got2.Mobile, `${mobile2.slice(0, 3)}****${mobile2.slice(-4)}`);
  assert.ok(got2.Email.endsWith('@example.org'), got2.Email);
  assert.equal(got2.IdCard, `4****************${id2.slice(-1)}`);
  assert.deepEqual(got2.WebhookList, [WECOM, hook].map(maskedHook));
  assert.equal(got2.MobileStatus, 0);

  // More than 50 contacts, then page the way Terraform does until a short page.
  const tag = unique('tfpage');
  const created = [id];
  for (let i = 0; i < 55; i += 11) {
    const batch = await Promise.all(Array.from({ length: 11 }, (_, j) => tfOk('CreateContact', { Name: `${tag} ${i + j}`, Mobile: local(uniqueMobile('188')) })));
    created.push(...batch.map((x) => x.ContactId));
  }
  const seen = [];
  let total;
  for (let page = 1; page < 10; page++) {
    const p = await tfOk('ListContact', { ShowSize: '50', CurrentPage: String(page) });
    assert.equal(p.ShowSize, 50);
    assert.equal(p.CurrentPage, page);
    assert.equal(typeof p.TotalCount, 'number');
    total = p.TotalCount;
    seen.push(...p.ContactList.map((x) => x.ContactId));
    if (p.ContactList.length < 50) break;
  }
  assert.ok(total >= 56, `TotalCount ${total}`);
  assert.equal(seen.length, total);
  assert.equal(new Set(seen).size, seen.length, 'no contact on two pages');
  for (const cid of created) assert.ok(seen.includes(cid), `contact ${cid} was on no page`);

  const del = await tfOk('DeleteContact', { ContactId: String(id) });
  assert.deepEqual(Object.keys(del), ['RequestId']);
  assertAcsError(await tf('GetContact', { ContactId: String(id) }), 400, 'NotFound');
  // The ClientToken now names a deleted contact: the create is still answered with it, not duplicated.
});

test('the form body is decoded like a form: + is a space, %XX is a byte; query and body merge', async () => {
  const name = 'a+b c&d=e%f 证书';
  const r = await tfOk('CreateContact', { Name: name, Mobile: local(uniqueMobile('189')) });
  const g = await tfOk('GetContact', { ContactId: String(r.ContactId) });
  assert.equal(g.Name, name);
  // An explicit literal '+' in the wire body is a space.
  const common = {
    Action: 'GetContact', Version: VERSION, Format: 'JSON', AccessKeyId: admin.access_key_id,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: unique('n'), Timestamp: timestamp(),
  };
  const sig = signV1('POST', { ...common, ContactId: String(r.ContactId) }, admin.access_key_secret);
  const res = await raw(server, 'POST', `/?${new URLSearchParams({ ...common, Signature: sig })}`, {
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `ContactId=${r.ContactId}`,
  });
  assert.equal(res.status, 200, show(res));
  assert.equal(res.json.Name, name);
  // The same through fetch, the whole body as Terraform's Go client encodes it.
  const t = terraformRequest(admin, 'GetContact', { ContactId: String(r.ContactId) });
  const f = await api(server, 'POST', t.path, { headers: t.headers, body: t.body });
  assert.equal(f.status, 200, show(f));
  assert.equal(f.json.Name, name);
  assert.equal(f.headers.get('x-request-id'), f.json.RequestId);
});

test('reserved characters arrive unescaped in the query and still verify', async () => {
  const name = "star*paren()bang!quote'tilde~ 空格";
  const params = {
    Action: 'CreateContact', Version: VERSION, Format: 'json', AccessKeyId: admin.access_key_id,
    SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0', SignatureNonce: unique('n'), Timestamp: timestamp(),
    Name: name, Mobile: local(uniqueMobile('130')),
  };
  const sig = signV1('POST', params, admin.access_key_secret);
  // encodeURIComponent leaves *()!'~ as they are, like the SDK's wire query.
  const q = Object.entries({ ...params, Signature: sig }).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  assert.ok(q.includes("*paren()bang!quote'"));
  const res = await raw(server, 'POST', `/?${q}`);
  assert.equal(res.status, 200, show(res));
  const g = await callAction(casClient(server, admin), 'GetContact', { ContactId: res.json.ContactId });
  assert.equal(g.Name, name);
});

test('GET / with a signed query works like POST', async () => {
  const r = terraformRequest(admin, 'ListContact', {}, { method: 'GET' });
  const res = await raw(server, 'GET', r.path);
  assert.equal(res.status, 200, show(res));
  assert.equal(typeof res.json.TotalCount, 'number');
  // Signed as POST but sent as GET: the method is part of the string to sign.
  const r2 = terraformRequest(admin, 'ListContact', {}, { method: 'POST' });
  const b = assertAcsError(await raw(server, 'GET', r2.path), 400, 'SignatureDoesNotMatch');
  assert.match(b.Message, /server string to sign is:GET&%2F&/);
});

test('a tampered form body breaks the HMAC-SHA1 signature', async () => {
  const r = terraformRequest(admin, 'CreateContact', { Name: 'honest', Mobile: local(uniqueMobile('131')) });
  const res = await raw(server, 'POST', r.path, { headers: r.headers, body: r.body.replace('honest', 'forged') });
  const b = assertAcsError(res, 400, 'SignatureDoesNotMatch');
  assert.match(b.Message, /Name%3Dforged/);
});

test('unknown actions, other versions and unsigned calls answer in Alibaba\'s shape', async () => {
  // Unknown action (query and header forms), before any signature is looked at.
  let b = assertAcsError(await api(server, 'POST', `/?Action=DescribeRegions&Version=${VERSION}`), 404, 'InvalidAction.NotFound');
  assert.match(b.Message, /docs\/alibaba-compat\.md/);
  assertAcsError(await api(server, 'POST', '/', { headers: { 'x-acs-action': 'DescribeCertificates', 'x-acs-version': VERSION } }), 404, 'InvalidAction.NotFound');
  assertAcsError(await api(server, 'GET', `/?Action=ListContacts&Version=${VERSION}`), 404, 'InvalidAction.NotFound');
  // Other versions.
  assertAcsError(await api(server, 'POST', '/?Action=ListContact&Version=2018-07-13'), 400, 'InvalidVersion');
  assertAcsError(await api(server, 'POST', '/', { headers: { 'x-acs-action': 'ListContact', 'x-acs-version': '2019-01-01' } }), 400, 'InvalidVersion');
  assertAcsError(await api(server, 'POST', '/?Action=ListContact'), 400, 'MissingVersion');
  // A known action without a signature.
  assertAcsError(await api(server, 'POST', `/?Action=ListContact&Version=${VERSION}`), 400, 'IncompleteSignature');
  // A signature method that is not supported.
  const r = terraformRequest(admin, 'ListContact', {});
  const bad = r.path.replace('SignatureMethod=HMAC-SHA1', 'SignatureMethod=HMAC-SHA256');
  assertAcsError(await raw(server, 'POST', bad), 400, 'InvalidSignatureMethod');
  // A malformed timestamp.
  const r2 = terraformRequest(admin, 'ListContact', {}, { ts: '2026-13-01T00:00:00Z' });
  assertAcsError(await raw(server, 'POST', r2.path), 400, 'InvalidTimeStamp.Format');
  // A JSON body is not how these calls carry parameters.
  const r3 = terraformRequest(admin, 'ListContact', {});
  assertAcsError(await raw(server, 'POST', r3.path, { headers: { 'content-type': 'application/json' }, body: '{}' }), 400, 'InvalidParameter');
  // The same parameter twice.
  const r4 = terraformRequest(admin, 'ListContact', { Keyword: 'a' });
  assertAcsError(await raw(server, 'POST', `${r4.path}&Keyword=a`, { headers: r4.headers, body: r4.body }), 400, 'InvalidParameter');
});

test('the REST API and the console are unaffected by anything sent to /', async () => {
  // A plain GET / is not an API call: it is the console's page.
  const root = await api(server, 'GET', '/');
  assert.equal(root.status, 200);
  assert.match(root.headers.get('content-type'), /^text\/html/);
  assert.ok(!root.text.includes('RequestId'), 'not an Alibaba answer');
  // REST still needs HTTP Basic, and an Action parameter does not change that.
  const noauth = await api(server, 'GET', `/v1/contacts?Action=ListContact&Version=${VERSION}`);
  assertError(noauth, 401, 'Unauthorized');
  const list = await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin });
  const body = assertOk(list, 200);
  assert.ok(Array.isArray(body.items));
  assert.equal(typeof body.total, 'number');
  // A signed Alibaba call is not a way into REST either.
  const r = terraformRequest(admin, 'ListContact', {});
  const viaRest = await raw(server, 'GET', `/v1/contacts${r.path.slice(1)}`);
  assertError(viaRest, 401, 'Unauthorized');
  // HTTP Basic is not a way into the Alibaba API.
  assertAcsError(await api(server, 'POST', `/?Action=ListContact&Version=${VERSION}`, { key: admin }), 400, 'InvalidSignatureMethod');
});

test('an oversized body is refused in Alibaba\'s shape', async () => {
  const r = terraformRequest(admin, 'CreateContact', { Name: 'x'.repeat(70000), Mobile: local(uniqueMobile('132')) });
  const res = await raw(server, 'POST', r.path, { headers: r.headers, body: r.body });
  assertAcsError(res, 413, 'InvalidParameter.BodyTooLarge');
});
