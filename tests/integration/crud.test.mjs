// crud.test.mjs — create, read, list, delete a contact over REST v1, the shape
// of a contact, normalisation and masking, health endpoints and OpenAPI.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, show,
  contactBody, createContact, getContact, unique, uniqueMobile, hasKeyDeep, RFC3339, idCard, stopAllAfter,
  maskedHook,
} from './lib/harness.mjs';

let dir, server, admin;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

const DING = 'https://oapi.dingtalk.com/robot/send?access_token=abc123';
const FEISHU = 'https://open.feishu.cn/open-apis/bot/v2/hook/1f2e3d4c-aaaa';
const LARK = 'https://open.larksuite.com/open-apis/bot/v2/hook/xyz';
const WECOM = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx';

function checkShape(c) {
  assert.equal(typeof c.id, 'number');
  assert.ok(Number.isInteger(c.id) && c.id > 0);
  assert.equal(typeof c.name, 'string');
  assert.ok(c.email === null || typeof c.email === 'string');
  assert.ok(c.email_status === 0 || c.email_status === 1);
  assert.equal(typeof c.mobile, 'string');
  assert.ok(c.mobile_status === 0 || c.mobile_status === 1);
  assert.ok(c.id_card === null || typeof c.id_card === 'string');
  assert.ok(Array.isArray(c.webhooks));
  for (const w of c.webhooks) {
    assert.equal(typeof w.url, 'string');
    assert.match(w.kind, /^(dingtalk|lark|feishu|wecom)$/);
    assert.equal(typeof w.has_secret, 'boolean');
  }
  assert.match(c.language, /^(en|zh-CN)$/);
  assert.ok(Number.isInteger(c.version));
  assert.match(c.created_at, RFC3339);
  assert.match(c.updated_at, RFC3339);
  assert.equal(hasKeyDeep(c, 'secret'), false, 'a contact must never carry a secret field');
}

test('healthz and readyz answer without authentication', async () => {
  const h = await api(server, 'GET', '/healthz');
  assert.equal(h.status, 200, show(h));
  assert.deepEqual(h.json, { status: 'ok' });
  assert.ok(h.headers.get('x-request-id'));
  const r = await api(server, 'GET', '/readyz');
  assert.equal(r.status, 200, show(r));
  assert.equal(r.json.status, 'ready');
  assert.equal(r.json.database.backend, process.env.CC_TEST_PG ? 'postgres' : 'sqlite');
  assert.equal(r.json.database.ok, true);
  assert.ok(r.json.database.ping_ms >= 0 && r.json.database.ping_ms < 5000, show(r));
  assert.ok(r.headers.get('x-request-id'));
});

test('create returns 201, Location and the full contact; GET returns the same', async () => {
  const body = {
    name: '张三 Zhang San',
    email: 'zhangsan@example.com',
    mobile: '+86 133 1234 5678',
    id_card: '11010519491231002X',
    language: 'zh-CN',
    webhooks: [
      { url: DING, secret: 'SECabcdef0123456789' },
      { url: FEISHU, secret: 'feishu-secret' },
      { url: LARK },
      { url: WECOM },
    ],
  };
  const res = await api(server, 'POST', '/v1/contacts', { key: admin, json: body });
  const c = assertOk(res, 201);
  checkShape(c);
  assert.equal(res.headers.get('location'), `/v1/contacts/${c.id}`);
  assert.equal(c.name, '张三 Zhang San');
  assert.equal(c.email, 'zhangsan@example.com');
  assert.equal(c.mobile, '+8613312345678');
  assert.equal(c.email_status, 0);
  assert.equal(c.mobile_status, 0);
  assert.equal(c.id_card, '1****************X');
  assert.equal(c.language, 'zh-CN');
  assert.deepEqual(
    c.webhooks.map((w) => [w.url, w.kind, w.has_secret]),
    [
      [maskedHook(DING), 'dingtalk', true],
      [maskedHook(FEISHU), 'feishu', true],
      [maskedHook(LARK), 'lark', false],
      [maskedHook(WECOM), 'wecom', false],
    ],
  );
  assert.ok(!res.text.includes('SECabcdef0123456789') && !res.text.includes('feishu-secret'), 'secret echoed');

  const g = await getContact(server, admin, c.id);
  const got = assertOk(g, 200);
  assert.deepEqual(got, c, 'GET must return what create returned');
  assert.equal(g.headers.get('etag'), `"${c.version}"`);
  assert.ok(!g.text.includes('SECabcdef0123456789') && !g.text.includes('feishu-secret'));
  assert.ok(!g.text.includes('11010519491231002X'), 'id card shown in full');
});

test('optional fields: email may be left out, language defaults to en', async () => {
  const res = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: { name: 'No Email', mobile: uniqueMobile() },
  });
  const c = assertOk(res, 201);
  checkShape(c);
  assert.equal(c.email, null);
  assert.equal(c.id_card, null);
  assert.deepEqual(c.webhooks, []);
  assert.equal(c.language, 'en');
});

test('mobile numbers are normalised to E.164', async () => {
  const cases = [
    ['13512340001', '+8613512340001'],
    ['+86 135 1234 0002', '+8613512340002'],
    ['0086 13512340003', '+8613512340003'],
    ['135 1234 0004', '+8613512340004'],
    ['+14155550123', '+14155550123'],
  ];
  for (const [input, want] of cases) {
    const { contact } = await createContact(server, admin, { mobile: input });
    assert.equal(contact.mobile, want, `mobile ${JSON.stringify(input)}`);
  }
});

test('ID card with lower-case x is accepted and shown masked', async () => {
  const { contact } = await createContact(server, admin, { id_card: '11010519491231002x' });
  assert.equal(contact.id_card, '1****************X');
});

test('Content-Type with a charset parameter is accepted', async () => {
  const body = contactBody();
  const res = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
  assertOk(res, 201);
});

test('the media type is matched case-insensitively (RFC 9110)', async () => {
  const res = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    body: JSON.stringify(contactBody()),
    headers: { 'content-type': 'Application/JSON' },
  });
  assertOk(res, 201);
});

test('an ID card ending in a digit is masked to its first and last character', async () => {
  const id = idCard('44030619900101001');
  const { contact } = await createContact(server, admin, { id_card: id });
  assert.equal(contact.id_card, '4' + '*'.repeat(16) + id[17]);
});

test('a 64-character Chinese name is accepted (characters, not bytes)', async () => {
  const name = '龍'.repeat(64);
  const { contact } = await createContact(server, admin, { name });
  assert.equal(contact.name, name);
});

test('GET of a missing contact is 404 NotFound', async () => {
  const res = await getContact(server, admin, 987654321);
  assertError(res, 404, 'NotFound');
});

test('the list contains a created contact, masked', async () => {
  const email = `${unique('lst')}@example.com`;
  const { contact } = await createContact(server, admin, { email, mobile: '+86 136 0000 4321', id_card: '11010519491231002X' });
  const res = await api(server, 'GET', '/v1/contacts?page=1&page_size=100', { key: admin });
  const b = assertOk(res, 200);
  assert.ok(Array.isArray(b.items));
  assert.equal(b.page, 1);
  assert.equal(b.page_size, 100);
  assert.equal(typeof b.total, 'number');
  const item = b.items.find((i) => i.id === contact.id);
  assert.ok(item, 'created contact missing from the list');
  checkShape(item);
  assert.equal(item.mobile, '+86 136****4321');
  assert.notEqual(item.email, email);
  assert.ok(!res.text.includes(email), 'full email in list');
  assert.ok(!res.text.includes('+8613600004321'), 'full mobile in list');
  assert.equal(item.id_card, '1****************X');
});

test('list defaults: page 1, page_size 20', async () => {
  const res = await api(server, 'GET', '/v1/contacts', { key: admin });
  const b = assertOk(res, 200);
  assert.equal(b.page, 1);
  assert.equal(b.page_size, 20);
  assert.ok(b.items.length <= 20);
});

test('DELETE returns 204 with an empty body; the contact is gone and its email and mobile are free again', async () => {
  const { contact, body } = await createContact(server, admin, { webhooks: [{ url: DING, secret: 'SECdel' }] });
  const d = await api(server, 'DELETE', `/v1/contacts/${contact.id}`, { key: admin });
  assert.equal(d.status, 204, show(d));
  assert.equal(d.text, '');
  assert.ok(d.headers.get('x-request-id'));

  assertError(await getContact(server, admin, contact.id), 404, 'NotFound');
  assertError(await api(server, 'DELETE', `/v1/contacts/${contact.id}`, { key: admin }), 404, 'NotFound');
  assertError(
    await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { name: 'ghost' } }),
    404,
    'NotFound',
  );
  const list = await api(server, 'GET', '/v1/contacts?page_size=100', { key: admin });
  assert.ok(!assertOk(list, 200).items.some((i) => i.id === contact.id), 'deleted contact still listed');

  const again = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: { name: 'Reuse', email: body.email, mobile: body.mobile },
  });
  const c2 = assertOk(again, 201);
  assert.notEqual(c2.id, contact.id);
  assert.deepEqual(c2.webhooks, []);
});

test('duplicate email (case-insensitive) and mobile (after normalisation) are 409', async () => {
  const email = `${unique('Dup')}@Example.com`;
  const { body } = await createContact(server, admin, { email, mobile: '+86 137 1111 2222' });
  const e = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: { name: 'dup e', email: email.toLowerCase(), mobile: uniqueMobile() },
  });
  assertError(e, 409, 'AlreadyExists.Email');
  const m = await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: { name: 'dup m', email: `${unique('o')}@example.com`, mobile: '13711112222' },
  });
  assertError(m, 409, 'AlreadyExists.Mobile');
  assert.equal(body.email, email);
});

test('no response anywhere carries a secret field', async () => {
  const { contact } = await createContact(server, admin, {
    webhooks: [{ url: 'https://oapi.dingtalk.com/robot/send?access_token=nosecretfield1', secret: 'SECzzz' }],
  });
  for (const res of [
    await getContact(server, admin, contact.id),
    await api(server, 'GET', '/v1/contacts?page_size=100', { key: admin }),
  ]) {
    assertOk(res, 200);
    assert.equal(hasKeyDeep(res.json, 'secret'), false, show(res));
    assert.ok(!res.text.includes('SECzzz'), show(res));
  }
});

test('openapi.json is an OpenAPI 3.1 document describing the contact routes', async () => {
  const noauth = await api(server, 'GET', '/v1/openapi.json');
  assertError(noauth, 401, 'Unauthorized');
  const res = await api(server, 'GET', '/v1/openapi.json', { key: admin });
  const doc = assertOk(res, 200);
  assert.match(String(doc.openapi), /^3\.1(\.\d+)?$/);
  assert.ok(doc.paths && typeof doc.paths === 'object');
  const c = doc.paths['/v1/contacts'];
  const one = doc.paths['/v1/contacts/{id}'];
  assert.ok(c, 'paths["/v1/contacts"] missing');
  assert.ok(one, 'paths["/v1/contacts/{id}"] missing');
  for (const m of ['get', 'post']) assert.ok(c[m], `/v1/contacts ${m} missing`);
  for (const m of ['get', 'patch', 'delete']) assert.ok(one[m], `/v1/contacts/{id} ${m} missing`);
});

test('the data dir holds master.key with mode 0600', () => {
  const st = fs.statSync(path.join(dir, 'master.key'));
  assert.equal(st.mode & 0o777, 0o600);
});
