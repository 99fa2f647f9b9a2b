// idempotency.test.mjs — POST /v1/contacts with an Idempotency-Key: the same
// key and body replay the first response (one contact), the same key with
// another body is 409 IdempotencyKeyReused, a failed request does not claim
// its key, and key length is bounded.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, show,
  contactBody, unique, listAll, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, admin;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

const post = (body, key) =>
  api(server, 'POST', '/v1/contacts', {
    key: admin,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { 'idempotency-key': key }) },
  });

async function count() {
  return (await listAll(server, admin)).items.length;
}

test('the same key and body → 201 with the same contact, and only one contact exists', async () => {
  const key = unique('idem-');
  const body = JSON.stringify(contactBody());
  const n0 = await count();
  const r1 = await post(body, key);
  const c1 = assertOk(r1, 201);
  const r2 = await post(body, key);
  const c2 = assertOk(r2, 201);
  assert.equal(c2.id, c1.id, show(r2));
  assert.equal(r2.headers.get('location'), `/v1/contacts/${c1.id}`);
  assert.deepEqual(c2, c1, 'the replay is not the first response');
  const r3 = await post(body, key);
  assert.equal(assertOk(r3, 201).id, c1.id);
  assert.equal(await count(), n0 + 1);
});

test('the same key with a different body → 409 IdempotencyKeyReused, nothing created', async () => {
  const key = unique('idem-');
  const body = contactBody();
  const c1 = assertOk(await post(body, key), 201);
  const n0 = await count();
  const other = { ...contactBody() };
  assertError(await post(other, key), 409, 'IdempotencyKeyReused');
  // a subtle difference counts as different too
  assertError(await post({ ...body, name: body.name + ' ' }, key), 409, 'IdempotencyKeyReused');
  assert.equal(await count(), n0);
  // and the other body was not created as a side effect: it can still be created with a fresh key
  const c3 = assertOk(await post(other, unique('idem-')), 201);
  assert.notEqual(c3.id, c1.id);
});

test('without the key, the same body twice is an ordinary duplicate (409 AlreadyExists)', async () => {
  const body = contactBody();
  assertOk(await post(body), 201);
  assertError(await post(body), 409, /^AlreadyExists\.(Email|Mobile)$/);
});

test('a different key with the same body is a new request (here: a duplicate)', async () => {
  const body = contactBody();
  assertOk(await post(body, unique('k1-')), 201);
  assertError(await post(body, unique('k2-')), 409, /^AlreadyExists\.(Email|Mobile)$/);
});

// Only a created contact is stored as the answer for its key (the key is
// written in the same transaction as the contact): a request that fails
// leaves nothing behind, so repeating it fails the same way, and the key
// stays free for a corrected body.
test('a failed first request is not stored as the answer for its key', async () => {
  const key = unique('idem-');
  const bad = { ...contactBody(), email: 'broken' };
  const n0 = await count();
  assertError(await post(bad, key), 400, 'IncorrectFormat.Email');
  const again = await post(bad, key);
  assertError(again, 400, 'IncorrectFormat.Email');
  assert.equal(again.headers.get('idempotent-replayed'), null, show(again));
  assert.equal(await count(), n0);
  const good = { ...bad, email: `${unique('fixed')}@example.com` };
  const r = await post(good, key);
  const c = assertOk(r, 201);
  assert.equal(r.headers.get('idempotent-replayed'), null, 'the first success was reported as a replay');
  assert.equal(await count(), n0 + 1);
  const replay = await post(good, key);
  assert.equal(assertOk(replay, 201).id, c.id);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true', show(replay));
});

test('a key of 128 printable characters is accepted; 129 is 400', async () => {
  const k128 = ('K' + unique('') + '~!*'.repeat(50)).slice(0, 128);
  assert.equal(k128.length, 128);
  const c = assertOk(await post(contactBody(), k128), 201);
  assert.ok(c.id > 0);
  const k129 = ('L' + unique('') + 'x'.repeat(200)).slice(0, 129);
  const n0 = await count();
  assertError(await post(contactBody(), k129), 400);
  assert.equal(await count(), n0);
});

test('keys are scoped to the account: another account reusing a key gets its own contact', async () => {
  const other = createAccount(dir);
  const key = unique('shared-');
  const mine = assertOk(await post(contactBody(), key), 201);
  const res = await api(server, 'POST', '/v1/contacts', {
    key: other,
    json: contactBody(),
    headers: { 'idempotency-key': key },
  });
  const theirs = assertOk(res, 201);
  assert.notEqual(theirs.id, mine.id, 'a key of another account replayed this account\'s contact');
});
