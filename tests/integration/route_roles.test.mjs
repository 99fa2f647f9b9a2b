// route_roles.test.mjs — every route answers as its row in the route table
// says: the test reads the rule from the served /v1/openapi.json (x-roles,
// written by the server from its route table, not a copy), and calls every
// operation with no credentials and with an admin, an operator and a
// readonly access key. Where the rule refuses the caller the answer is 401
// (no credentials) or 403 Forbidden (role short, or an access key on a
// console-session route); where it allows, anything but 401 and 403.
// A route added without roles has no x-roles and fails here.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, show, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, doc;
const callers = {};

before(async () => {
  dir = makeDataDir();
  callers.admin = createAccount(dir);
  callers.operator = createKey(dir, callers.admin.account_id, 'operator');
  callers.readonly = createKey(dir, callers.admin.account_id, 'readonly');
  server = await startServer(dir);
  doc = assertOk(await api(server, 'GET', '/v1/openapi.json', { key: callers.readonly }), 200);
});

stopAllAfter(() => [server], () => dir);

const ROLES = new Set(['public', 'readonly', 'operator', 'admin', 'session']);

// Values for path segments that name nothing of this account, so that an
// allowed call does no harm (404, or 400 for the empty body).
const SEGMENT = {
  id: '999999999', key_id: 'AKnosuchkey0000', event: 'certificate.issued', channel: 'email', language: 'en',
  token: 'nosuchtoken',
};

function fill(pattern) {
  return pattern.replace(/\{(\w+)\}/g, (_, name) => {
    assert.ok(name in SEGMENT, `no test value for {${name}} in ${pattern}`);
    return SEGMENT[name];
  });
}

function operations() {
  const ops = [];
  for (const [pattern, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      ops.push({ method: method.toUpperCase(), pattern, roles: op['x-roles'] });
    }
  }
  return ops;
}

// What the rule says for one caller: 'allow', 401 or 403.
function expected(roles, who) {
  if (roles.includes('public')) return 'allow';
  if (who === 'none') return 401;
  if (roles.includes('session')) return 403; // access keys have no session
  return roles.includes(who) ? 'allow' : 403;
}

test('every operation in /v1/openapi.json says who may call it (x-roles)', () => {
  const ops = operations();
  assert.ok(ops.length >= 30, `only ${ops.length} operations documented`);
  for (const { method, pattern, roles } of ops) {
    assert.ok(Array.isArray(roles) && roles.length > 0, `${method} ${pattern} has no x-roles`);
    for (const r of roles) assert.ok(ROLES.has(r), `${method} ${pattern}: unknown role ${r}`);
  }
});

test('every route with every caller answers as its x-roles say', async () => {
  const mismatches = [];
  let calls = 0;
  for (const { method, pattern, roles } of operations()) {
    if (!Array.isArray(roles)) {
      mismatches.push(`${method} ${pattern}: no x-roles`);
      continue;
    }
    for (const who of ['none', 'readonly', 'operator', 'admin']) {
      const want = expected(roles, who);
      const withBody = method !== 'GET' && method !== 'DELETE';
      const res = await api(server, method, fill(pattern), {
        key: who === 'none' ? undefined : callers[who],
        json: withBody ? {} : undefined,
      });
      calls++;
      const ok = want === 'allow' ? res.status !== 401 && res.status !== 403 : res.status === want;
      if (!ok) mismatches.push(`${method} ${pattern} as ${who}: want ${want}, got ${show(res)}`);
      if (want === 403 && ok)
        assert.equal(res.json?.code, 'Forbidden', `${method} ${pattern} as ${who}: ${show(res)}`);
      if (want === 401 && ok)
        assert.equal(res.json?.code, 'Unauthorized', `${method} ${pattern} as ${who}: ${show(res)}`);
    }
  }
  assert.deepEqual(mismatches, []);
  assert.ok(calls >= 120);
});

test('the keys still work after the walk (no allowed call did harm)', async () => {
  for (const who of ['readonly', 'operator', 'admin'])
    assertOk(await api(server, 'GET', '/v1/contacts', { key: callers[who] }), 200);
});
