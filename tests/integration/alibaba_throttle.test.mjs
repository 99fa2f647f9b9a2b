// alibaba_throttle.test.mjs — the per-access-key rate of the Alibaba CAS API
// (acs_requests_per_minute): past it the SDK gets Throttling.User, as its own
// ThrottlingError, with x-acs-retry-after in milliseconds; other keys and the
// REST API are not held back.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeDataDir, startServer, createAccount, createKey, api, assertOk, raw, show, stopAllAfter } from './lib/harness.mjs';
import { casClient, callAction, rejects, terraformRequest } from './lib/alibaba.mjs';

let dir, server, admin, second;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  second = createKey(dir, admin.account_id, 'readonly');
  // 3 a minute: a burst of one call, then one every 20 seconds.
  server = await startServer(dir, { env: { CERTCONTACTS_ACS_REQUESTS_PER_MINUTE: '3' } });
});

stopAllAfter(() => [server], () => dir);

test('past the per-key rate: Throttling.User with x-acs-retry-after (ms), per key', async () => {
  const c = casClient(server, admin);
  await callAction(c, 'ListContact', {});
  const e = await rejects(callAction(c, 'ListContact', {}));
  assert.equal(e.name, 'ThrottlingError', `${e.name}: ${e.message}`);
  assert.equal(e.code, 'Throttling.User');
  assert.equal(e.statusCode, 400);
  assert.ok(Number.isInteger(e.retryAfter), `retryAfter ${e.retryAfter}`);
  assert.ok(e.retryAfter >= 1000 && e.retryAfter <= 20001, `retryAfter ${e.retryAfter} ms`);
  // HMAC-SHA1 calls of the same key share its bucket.
  const r = terraformRequest(admin, 'ListContact', {});
  const res = await raw(server, 'POST', r.path);
  assert.equal(res.status, 400, show(res));
  assert.equal(res.json.Code, 'Throttling.User');
  assert.match(res.headers.get('x-acs-retry-after') || '', /^[1-9][0-9]*$/);
  // Another key has its own bucket.
  const other = await callAction(casClient(server, second), 'ListContact', {});
  assert.equal(typeof other.TotalCount, 'number');
  // The REST API is not limited by it.
  assertOk(await api(server, 'GET', '/v1/contacts', { key: admin }), 200);
});

test('a call with a bad signature does not use up the key\'s rate', async () => {
  const k = createKey(dir, admin.account_id, 'operator');
  const bad = casClient(server, k, { secret: 'wrong' });
  for (let i = 0; i < 3; i++) {
    const e = await rejects(callAction(bad, 'ListContact', {}));
    assert.equal(e.code, 'SignatureDoesNotMatch');
  }
  const ok = await callAction(casClient(server, k), 'ListContact', {});
  assert.equal(typeof ok.TotalCount, 'number');
});
