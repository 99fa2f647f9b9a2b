// isolation.test.mjs — two accounts on one server never see or touch each
// other's contacts: another account's contact is 404 exactly like a missing
// one, lists and searches are scoped, and uniqueness is per account.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError,
  createContact, getContact, unique, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, a, b, bReadonly, aContact, aBody;

before(async () => {
  dir = makeDataDir();
  a = createAccount(dir, 'account-a');
  b = createAccount(dir, 'account-b');
  assert.notEqual(a.account_id, b.account_id);
  bReadonly = createKey(dir, b.account_id, 'readonly');
  server = await startServer(dir);
  const name = `Isolated ${unique('n')}`;
  ({ contact: aContact, body: aBody } = await createContact(server, a, {
    name,
    email: `${unique('iso')}@example.com`,
    webhooks: [{ url: 'https://oapi.dingtalk.com/robot/send?access_token=isolation123', secret: 'SECiso' }],
  }));
});

stopAllAfter(() => [server], () => dir);

function sameShape(res, ref) {
  assert.equal(res.status, ref.status);
  assert.equal(res.json.code, ref.json.code);
  assert.deepEqual(Object.keys(res.json).sort(), Object.keys(ref.json).sort());
}

test("another account's contact is 404 NotFound, exactly like a missing id", async () => {
  const missing = await getContact(server, b, 2147480000);
  assertError(missing, 404, 'NotFound');
  for (const k of [b, bReadonly]) {
    const res = await getContact(server, k, aContact.id);
    assertError(res, 404, 'NotFound');
    sameShape(res, missing);
    assert.ok(!res.text.includes(aBody.email) && !res.text.includes(aBody.name));
  }
});

test("another account cannot PATCH or DELETE the contact (404), and it stays intact", async () => {
  const p = await api(server, 'PATCH', `/v1/contacts/${aContact.id}`, { key: b, json: { name: 'hijacked' } });
  assertError(p, 404, 'NotFound');
  const pm = await api(server, 'PATCH', '/v1/contacts/2147480000', { key: b, json: { name: 'hijacked' } });
  sameShape(p, pm);
  const d = await api(server, 'DELETE', `/v1/contacts/${aContact.id}`, { key: b });
  assertError(d, 404, 'NotFound');
  const dm = await api(server, 'DELETE', '/v1/contacts/2147480000', { key: b });
  sameShape(d, dm);

  const still = assertOk(await getContact(server, a, aContact.id), 200);
  assert.equal(still.name, aContact.name);
  assert.equal(still.version, aContact.version);
  assert.deepEqual(still.webhooks, aContact.webhooks);
});

test('lists and keyword searches are scoped to the caller', async () => {
  const { contact: bContact } = await createContact(server, b);
  const la = assertOk(await api(server, 'GET', '/v1/contacts?page_size=100', { key: a }), 200);
  const lb = assertOk(await api(server, 'GET', '/v1/contacts?page_size=100', { key: b }), 200);
  assert.ok(la.items.some((i) => i.id === aContact.id));
  assert.ok(!la.items.some((i) => i.id === bContact.id));
  assert.ok(lb.items.some((i) => i.id === bContact.id));
  assert.ok(!lb.items.some((i) => i.id === aContact.id));
  assert.equal(lb.total, lb.items.length);

  const kw = encodeURIComponent(aContact.name);
  const sb = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${kw}`, { key: b }), 200);
  assert.equal(sb.total, 0);
  assert.deepEqual(sb.items, []);
  const sa = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${kw}`, { key: a }), 200);
  assert.equal(sa.total, 1);
  assert.equal(sa.items[0].id, aContact.id);
});

test('the same email and mobile may exist in another account', async () => {
  const res = await api(server, 'POST', '/v1/contacts', {
    key: b,
    json: { name: 'Twin', email: aBody.email.toUpperCase(), mobile: aBody.mobile },
  });
  const c = assertOk(res, 201);
  assert.notEqual(c.id, aContact.id);
  // and it is still a duplicate within account a
  const dup = await api(server, 'POST', '/v1/contacts', {
    key: a,
    json: { name: 'Twin', email: aBody.email, mobile: '+8613900000001' },
  });
  assertError(dup, 409, 'AlreadyExists.Email');
  // b's copy is b's: a cannot see it
  assertError(await getContact(server, a, c.id), 404, 'NotFound');
});
