// alibaba_sdk.test.mjs — Alibaba Cloud's official Node SDK
// (@alicloud/cas20200407, @alicloud/openapi-core) against the real binary:
// the five contact actions with both signature methods (ACS3-HMAC-SHA256,
// the default, and HMAC-SHA1 with signatureAlgorithm 'v2'), parameters in
// the query and in a form body, Chinese names and reserved characters, and
// every error the SDK must surface as a coded error.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, disableKey, api, assertOk,
  uniqueMobile, unique, idCard, stopAllAfter,
  maskedHook,
} from './lib/harness.mjs';
import { casClient, callAction, sdkListContact, rejects, timestamp } from './lib/alibaba.mjs';

let dir, server, admin, other, readonly;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  readonly = createKey(dir, admin.account_id, 'readonly');
  other = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

const DING = (t) => `https://oapi.dingtalk.com/robot/send?access_token=${t}`;
const FEISHU = 'https://open.feishu.cn/open-apis/bot/v2/hook/1f2e3d4c-aaaa';
const NAME = "张三 Zhang San *()!'~ +";

// '+8613912345678' -> '13912345678', the way CAS users write numbers.
const local = (e164) => e164.replace(/^\+86/, '');

function assertCoded(e, code, status) {
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  if (status !== undefined) assert.equal(e.statusCode, status, e.message);
  assert.match(e.requestId, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  for (const k of ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']) {
    assert.equal(typeof e.data[k], 'string', `${k} in ${JSON.stringify(e.data)}`);
  }
  assert.equal(e.data.Code, code);
  return e;
}

for (const v2 of [false, true]) {
  for (const where of ['query', 'body']) {
    const label = `${v2 ? 'HMAC-SHA1' : 'ACS3-HMAC-SHA256'}, parameters in the ${where}`;

    test(`all five actions through the SDK (${label})`, async () => {
      const c = casClient(server, admin, { v2 });
      const mobile = uniqueMobile('133');
      const email = `${unique('zs')}@example.com`;
      const hook = DING(unique('tok'));
      const created = await callAction(c, 'CreateContact', {
        Name: NAME, Mobile: local(mobile), Email: email, Webhooks: JSON.stringify([hook]),
      }, { where });
      assert.match(created.RequestId, /^[0-9A-F-]{36}$/);
      assert.ok(Number.isInteger(created.ContactId) && created.ContactId > 0, JSON.stringify(created));
      const id = created.ContactId;

      const got = await callAction(c, 'GetContact', { ContactId: id }, { where });
      assert.equal(got.ContactId, id);
      assert.equal(got.Name, NAME);
      assert.equal(got.Mobile, `${local(mobile).slice(0, 3)}****${local(mobile).slice(-4)}`);
      assert.equal(got.MobileStatus, 0);
      assert.equal(got.EmailStatus, 0);
      assert.ok(got.Email.includes('****') && got.Email.endsWith('@example.com'), got.Email);
      assert.equal(got.IdCard, '');
      assert.equal(typeof got.Webhooks, 'string');
      assert.deepEqual(JSON.parse(got.Webhooks), [maskedHook(hook)], 'robot tokens are masked in every answer');
      assert.deepEqual(got.WebhookList, [maskedHook(hook)]);

      // Partial update: only the name and the webhooks; the rest stays.
      const newName = `李四 ${unique('n')} (测试) ~*`;
      const upd = await callAction(c, 'UpdateContact', {
        ContactId: id, Name: newName, Webhooks: JSON.stringify([hook, FEISHU]),
      }, { where });
      assert.equal(upd.ContactId, id);
      const got2 = await callAction(c, 'GetContact', { ContactId: id }, { where });
      assert.equal(got2.Name, newName);
      assert.equal(got2.Mobile, got.Mobile);
      assert.equal(got2.Email, got.Email);
      assert.deepEqual(got2.WebhookList, [hook, FEISHU].map(maskedHook));

      const list = await callAction(c, 'ListContact', { Keyword: newName, ShowSize: 10, CurrentPage: 1 }, { where });
      assert.equal(list.TotalCount, 1, JSON.stringify(list));
      assert.equal(list.ShowSize, 10);
      assert.equal(list.CurrentPage, 1);
      assert.equal(list.Keyword, newName);
      assert.equal(list.ContactList.length, 1);
      const item = list.ContactList[0];
      assert.equal(item.ContactId, id);
      assert.equal(item.Name, newName);
      assert.equal(item.Mobile, got.Mobile);
      assert.equal(item.MobileStatus, 0);
      assert.equal(item.Email, got.Email);
      assert.equal(item.EmailStatus, 0);
      assert.deepEqual(item.WebhookList, [hook, FEISHU].map(maskedHook));
      assert.deepEqual(JSON.parse(item.Webhooks), [hook, FEISHU].map(maskedHook));

      const del = await callAction(c, 'DeleteContact', { ContactId: id }, { where });
      assert.match(del.RequestId, /^[0-9A-F-]{36}$/);
      assertCoded(await rejects(callAction(c, 'GetContact', { ContactId: id }, { where })), 'NotFound');
    });

    test(`the generated listContact pages and searches (${label})`, async () => {
      const c = casClient(server, admin, { v2 });
      const tag = unique('页');
      for (let i = 0; i < 3; i++) {
        await callAction(c, 'CreateContact', { Name: `${tag} ${i}`, Mobile: local(uniqueMobile('135')) }, { where });
      }
      const p1 = await sdkListContact(c, { keyword: tag, showSize: 2, currentPage: 1 });
      assert.equal(p1.totalCount, 3);
      assert.equal(p1.contactList.length, 2);
      const p2 = await sdkListContact(c, { keyword: tag, showSize: 2, currentPage: 2 });
      assert.equal(p2.contactList.length, 1);
      const names = [...p1.contactList, ...p2.contactList].map((x) => x.name).sort();
      assert.deepEqual(names, [`${tag} 0`, `${tag} 1`, `${tag} 2`]);
    });
  }
}

test('an ID number is read back masked as IdCard (capital C); statuses are numbers', async () => {
  const c = casClient(server, admin);
  const id = idCard('11010519491231002');
  const { ContactId } = await callAction(c, 'CreateContact', { Name: 'idcard', Mobile: local(uniqueMobile('136')), Idcard: id });
  const got = await callAction(c, 'GetContact', { ContactId });
  assert.equal(got.IdCard, `1****************${id.slice(-1)}`);
  assert.equal(got.Idcard, undefined);
  assert.equal(typeof got.MobileStatus, 'number');
  assert.equal(typeof got.EmailStatus, 'number');
  assert.equal(got.Email, '');
  assert.equal(got.Webhooks, '[]');
  assert.deepEqual(got.WebhookList, []);
});

test('UpdateContact replaces the webhook list: a URL that stays keeps its secret, a new one has none', async () => {
  const c = casClient(server, admin);
  const keep = DING(unique('keep'));
  const { ContactId } = await callAction(c, 'CreateContact', { Name: 'secrets', Mobile: local(uniqueMobile('137')), Webhooks: JSON.stringify([keep]) });
  // The secret is set through the REST API (the Alibaba API has no field for it).
  const rest = await api(server, 'PATCH', `/v1/contacts/${ContactId}`, { key: admin, json: { webhooks: [{ url: keep, secret: 'SECabc0123456789' }] } });
  assertOk(rest, 200);
  await callAction(c, 'UpdateContact', { ContactId, Webhooks: JSON.stringify([keep, FEISHU]) });
  const after1 = assertOk(await api(server, 'GET', `/v1/contacts/${ContactId}`, { key: admin }), 200);
  const byUrl = Object.fromEntries(after1.webhooks.map((w) => [w.url, w]));
  assert.equal(byUrl[maskedHook(keep)].has_secret, true, JSON.stringify(after1.webhooks));
  assert.equal(byUrl[maskedHook(FEISHU)].has_secret, false);
  const got = await callAction(c, 'GetContact', { ContactId });
  assert.ok(!JSON.stringify(got).includes('SECabc'), 'no read returns a secret');
  // An empty list removes every robot.
  await callAction(c, 'UpdateContact', { ContactId, Webhooks: '[]' });
  assert.deepEqual((await callAction(c, 'GetContact', { ContactId })).WebhookList, []);
});

test('ClientToken makes CreateContact idempotent through the SDK', async () => {
  const c = casClient(server, admin, { v2: true });
  const params = { Name: 'token', Mobile: local(uniqueMobile('138')), ClientToken: unique('ct') };
  const a = await callAction(c, 'CreateContact', params, { where: 'body' });
  const b = await callAction(c, 'CreateContact', params, { where: 'body' });
  assert.equal(b.ContactId, a.ContactId);
  assert.notEqual(b.RequestId, a.RequestId);
  const e = await rejects(callAction(c, 'CreateContact', { ...params, Name: 'changed' }, { where: 'body' }));
  assertCoded(e, 'IdempotentParameterMismatch', 400);
});

// ------------------------------------------------------------------ errors
for (const v2 of [false, true]) {
  const label = v2 ? 'HMAC-SHA1' : 'ACS3-HMAC-SHA256';

  test(`wrong secret: SignatureDoesNotMatch with the server's string to sign (${label})`, async () => {
    const c = casClient(server, admin, { v2, secret: admin.access_key_secret + 'x' });
    const e = assertCoded(await rejects(callAction(c, 'ListContact', { Keyword: '133' })), 'SignatureDoesNotMatch', 400);
    if (v2) assert.match(e.data.Message, /server string to sign is:POST&%2F&AccessKeyId%3D/);
    else assert.match(e.data.Message, /server string to sign is:ACS3-HMAC-SHA256\n[0-9a-f]{64}/);
  });

  test(`unknown access key: InvalidAccessKeyId.NotFound (${label})`, async () => {
    const c = casClient(server, admin, { v2, keyId: 'LTAInosuchkey000' });
    assertCoded(await rejects(callAction(c, 'ListContact', {})), 'InvalidAccessKeyId.NotFound', 404);
  });

  test(`stale timestamp: InvalidTimeStamp.Expired (${label})`, async () => {
    const c = casClient(server, admin, { v2 });
    const old = timestamp(new Date(Date.now() - 16 * 60 * 1000));
    const opts = v2 ? { query: { Timestamp: old } } : { headers: { 'x-acs-date': old } };
    assertCoded(await rejects(callAction(c, 'ListContact', {}, opts)), 'InvalidTimeStamp.Expired', 400);
    const future = timestamp(new Date(Date.now() + 16 * 60 * 1000));
    const opts2 = v2 ? { query: { Timestamp: future } } : { headers: { 'x-acs-date': future } };
    assertCoded(await rejects(callAction(c, 'ListContact', {}, opts2)), 'InvalidTimeStamp.Expired', 400);
  });

  test(`replayed nonce: SignatureNonceUsed (${label})`, async () => {
    const c = casClient(server, admin, { v2 });
    const nonce = unique('nonce');
    const opts = v2 ? { query: { SignatureNonce: nonce } } : { headers: { 'x-acs-signature-nonce': nonce } };
    await callAction(c, 'ListContact', {}, opts);
    assertCoded(await rejects(callAction(c, 'ListContact', {}, opts)), 'SignatureNonceUsed', 400);
    // The same nonce under another key is that key's first use.
    const c2 = casClient(server, readonly, { v2 });
    await callAction(c2, 'ListContact', {}, opts);
  });
}

test('a disabled key: InvalidAccessKeyId.Inactive', async () => {
  const k = createKey(dir, admin.account_id, 'operator');
  const c = casClient(server, k);
  await callAction(c, 'ListContact', {});
  disableKey(dir, admin.account_id, k.access_key_id);
  assertCoded(await rejects(callAction(c, 'ListContact', {})), 'InvalidAccessKeyId.Inactive', 400);
  assertCoded(await rejects(callAction(casClient(server, k, { v2: true }), 'ListContact', {})), 'InvalidAccessKeyId.Inactive', 400);
});

test('missing ContactId: MissingContactId', async () => {
  const c = casClient(server, admin);
  for (const action of ['GetContact', 'UpdateContact', 'DeleteContact']) {
    const e = assertCoded(await rejects(callAction(c, action, {})), 'MissingContactId', 400);
    assert.match(e.data.Message, /ContactId/);
  }
  assertCoded(await rejects(callAction(c, 'GetContact', { ContactId: 'abc' })), 'IncorrectFormat.ContactId', 400);
});

test("another account's contact is NotFound for every action", async () => {
  const mine = await callAction(casClient(server, admin), 'CreateContact', { Name: 'mine', Mobile: local(uniqueMobile('139')) });
  const c = casClient(server, other, { v2: true });
  for (const [action, extra] of [['GetContact', {}], ['UpdateContact', { Name: 'stolen' }], ['DeleteContact', {}]]) {
    assertCoded(await rejects(callAction(c, action, { ContactId: mine.ContactId, ...extra })), 'NotFound');
  }
  const still = await callAction(casClient(server, admin), 'GetContact', { ContactId: mine.ContactId });
  assert.equal(still.Name, 'mine');
  const list = await callAction(c, 'ListContact', { Keyword: 'mine' });
  assert.equal(list.TotalCount, 0);
});

test('duplicate mobile: AlreadyExists.Mobile; bad email: IncorrectFormat.Email', async () => {
  const c = casClient(server, admin);
  const m = local(uniqueMobile('150'));
  await callAction(c, 'CreateContact', { Name: 'first', Mobile: m });
  assertCoded(await rejects(callAction(c, 'CreateContact', { Name: 'second', Mobile: m })), 'AlreadyExists.Mobile', 400);
  assertCoded(await rejects(callAction(c, 'CreateContact', { Name: 'x', Mobile: local(uniqueMobile('151')), Email: 'not-an-email' })), 'IncorrectFormat.Email', 400);
  assertCoded(await rejects(callAction(c, 'CreateContact', { Name: 'x', Mobile: local(uniqueMobile('151')), Idcard: '123' })), 'IncorrectFormat.Idcard', 400);
  assertCoded(await rejects(callAction(c, 'CreateContact', { Mobile: local(uniqueMobile('151')) })), 'MissingName', 400);
});

test('six webhooks: LimitExceeded.Webhooks; a foreign host: InvalidParameter; not a list: IncorrectFormat.Webhooks', async () => {
  const c = casClient(server, admin, { v2: true });
  const six = Array.from({ length: 6 }, (_, i) => DING(`six${i}`));
  assertCoded(await rejects(callAction(c, 'CreateContact', { Name: 'six', Mobile: local(uniqueMobile('152')), Webhooks: JSON.stringify(six) })), 'LimitExceeded.Webhooks', 400);
  const e = assertCoded(await rejects(callAction(c, 'CreateContact', { Name: 'foreign', Mobile: local(uniqueMobile('152')), Webhooks: JSON.stringify(['https://evil.example.com/robot/send?access_token=abc']) })), 'InvalidParameter', 400);
  assert.match(e.data.Message, /Webhooks/);
  assertCoded(await rejects(callAction(c, 'CreateContact', { Name: 'notlist', Mobile: local(uniqueMobile('152')), Webhooks: DING('x') })), 'IncorrectFormat.Webhooks', 400);
  const list = await callAction(c, 'ListContact', { Keyword: 'six' });
  assert.equal(list.TotalCount, 0, 'a refused create leaves nothing behind');
});

test('roles apply as on the REST API: a readonly key reads but cannot create, change or delete', async () => {
  const { ContactId } = await callAction(casClient(server, admin), 'CreateContact', { Name: 'ro', Mobile: local(uniqueMobile('153')) });
  for (const v2 of [false, true]) {
    const c = casClient(server, readonly, { v2 });
    const e = assertCoded(await rejects(callAction(c, 'CreateContact', { Name: 'ro2', Mobile: local(uniqueMobile('153')) })), 'Forbidden.RAM', 403);
    assert.match(e.data.Message, /operator/);
    assertCoded(await rejects(callAction(c, 'UpdateContact', { ContactId, Name: 'x' })), 'Forbidden.RAM', 403);
    assertCoded(await rejects(callAction(c, 'DeleteContact', { ContactId })), 'Forbidden.RAM', 403);
    const got = await callAction(c, 'GetContact', { ContactId });
    assert.equal(got.Name, 'ro');
  }
});
