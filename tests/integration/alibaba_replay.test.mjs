// alibaba_replay.test.mjs — the Alibaba CAS API's replay cache keeps each
// access key's nonces in a share of its own (acs_nonces_per_key): a flood of
// calls from other keys never pushes a live nonce out, so a captured call
// replayed inside its 15-minute window is refused; a key whose share is full
// gets Throttling.User. And an account may have only so many enabled keys
// (max_access_keys_per_account).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { makeDataDir, startServer, createAccount, createKey, disableKey, api, assertOk, assertError, raw, show, stopAllAfter, cli } from './lib/harness.mjs';
import { terraformRequest } from './lib/alibaba.mjs';

const SHARE = 100;
const KEYS_MAX = 4;
let dir, server, victim, attacker, attackerKeys;

before(async () => {
  dir = makeDataDir();
  victim = createAccount(dir);
  attacker = createAccount(dir);
  attackerKeys = [attacker];
  for (let i = 0; i < KEYS_MAX - 1; i++) attackerKeys.push(createKey(dir, attacker.account_id, 'readonly'));
  server = await startServer(dir, {
    env: { CERTCONTACTS_ACS_NONCES_PER_KEY: String(SHARE), CERTCONTACTS_MAX_ACCESS_KEYS_PER_ACCOUNT: String(KEYS_MAX) },
  });
});

stopAllAfter(() => [server], () => dir);

function send(r) {
  return raw(server, 'POST', r.path, { headers: r.headers, body: r.body });
}

test('a flood from other keys, then a captured call replayed inside its window: refused', async () => {
  const captured = terraformRequest(victim, 'ListContact', {});
  const first = await send(captured);
  assert.equal(first.status, 200, show(first));
  // every other key of the server fills its share, and more
  for (const k of attackerKeys) {
    let ok = 0, throttled = 0;
    for (let i = 0; i < SHARE + 20; i++) {
      const res = await send(terraformRequest(k, 'ListContact', {}));
      if (res.status === 200) ok++;
      else {
        assert.equal(res.json?.Code, 'Throttling.User', show(res));
        assert.match(res.headers.get('x-acs-retry-after') || '', /^[1-9][0-9]*$/);
        throttled++;
      }
    }
    assert.equal(ok, SHARE);
    assert.equal(throttled, 20);
  }
  const replay = await send(captured);
  assert.equal(replay.status, 400, show(replay));
  assert.equal(replay.json.Code, 'SignatureNonceUsed');
  // the victim's own new calls go on
  assert.equal((await send(terraformRequest(victim, 'ListContact', {}))).status, 200);
});

test('an account may have only max_access_keys_per_account enabled keys', async () => {
  // the attacker's account has KEYS_MAX already
  const refused = await api(server, 'POST', '/v1/keys', { key: attacker, json: { role: 'readonly' } });
  assertError(refused, 400, 'LimitExceeded.AccessKeys');
  const env = { CERTCONTACTS_MAX_ACCESS_KEYS_PER_ACCOUNT: String(KEYS_MAX) };
  const r = cli(['key', 'create', '--account', String(attacker.account_id), '--role', 'readonly'], { dataDir: dir, env });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /the most it may have/);
  // a disabled key no longer counts
  disableKey(dir, attacker.account_id, attackerKeys[3].access_key_id);
  assertOk(await api(server, 'POST', '/v1/keys', { key: attacker, json: { role: 'readonly' } }), 201);
});
