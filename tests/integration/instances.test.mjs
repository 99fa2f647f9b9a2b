// instances.test.mjs — three certcontacts instances on one PostgreSQL
// database behave as one service (PostgreSQL only: a SQLite database belongs
// to one process).
//   - started together on an empty database, they migrate it once, and one
//     of them makes the default account;
//   - 21 concurrent creates of one email, spread over the three: one 201,
//     twenty 409 AlreadyExists.Email;
//   - a key disabled through one instance is refused by the others at once;
//   - the Alibaba API: a signed call replayed to another instance is refused
//     (SignatureNonceUsed), and an access key's rate holds for all three;
//   - events posted to all three while one is killed (kill -9): every
//     acknowledged event is there afterwards and every notification reaches
//     its robot, once by its idempotency key (DingTalk's msgUuid);
//   - the reminder scheduler runs on one instance; when that one is killed,
//     a survivor takes it over within seconds.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  BACKEND, api, assertOk, cleanUp, createAccount, createKey, dbQuery, dbUrl, makeDataDir,
  raw, removeDir, show, startServer, uniqueMobile, waitFor,
} from './lib/harness.mjs';
import { terraformRequest } from './lib/alibaba.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';

const skip = BACKEND !== 'postgres' ? 'several instances share a PostgreSQL database' : false;
const dirs = [];
const servers = [];
let robots;
after(() => cleanUp([
  ...servers.map((s) => () => (s.proc ? s.stop() : null)),
  () => robots?.stop(),
  ...dirs.map((d) => () => removeDir(d)),
]));

const LEASE_S = 5;
const ACS_RATE = 60; // a key's calls a minute: 10 at once (ten seconds' worth)

async function kill9(s) {
  s.proc.kill('SIGKILL');
  await s.exit;
  s.proc = null;
}

const leads = (s, job) => s.lines.some((l) => l.msg === 'this instance now runs a singleton job' && l.job === job);

test('three instances on one database behave as one service', { skip }, async () => {
  robots = await startRobots();
  for (let i = 0; i < 3; i++) dirs.push(makeDataDir('cc-inst-'));
  const url = dbUrl(dirs[0]);
  const key = crypto.randomBytes(32).toString('hex') + '\n';
  for (const d of dirs) fs.writeFileSync(path.join(d, 'master.key'), key, { mode: 0o600 });
  const env = {
    ...robots.env(), CERTCONTACTS_DELIVERY_LEASE_S: String(LEASE_S), CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
    CERTCONTACTS_ACS_REQUESTS_PER_MINUTE: String(ACS_RATE),
  };

  // started together on an empty database: migrated once
  servers.push(...await Promise.all(dirs.map((d) => startServer(d, { args: ['--db', url], env }))));
  const migrated = servers.flatMap((s) => s.lines.filter((l) => l.msg === 'migration applied'));
  const names = migrated.map((l) => l.migration);
  assert.ok(names.length >= 2, JSON.stringify(migrated));
  assert.equal(new Set(names).size, names.length, `a migration applied twice: ${names}`);
  assert.equal(dbQuery(dirs[0], 'SELECT count(*) FROM schema_migrations').trim(), String(names.length));
  // ... and one of them made the default account
  assert.equal(dbQuery(dirs[0], 'SELECT count(*) FROM accounts').trim(), '1');
  for (const s of servers) assert.deepEqual(s.lines.filter((l) => l.level === 'error'), []);
  const admin = createAccount(dirs[0]); // the data dir's database is the shared one

  // uniqueness across instances
  const email = `same-${Date.now()}@example.com`;
  const creates = await Promise.all(Array.from({ length: 21 }, (_, i) => api(servers[i % 3], 'POST', '/v1/contacts', {
    key: admin, json: { name: `dup ${i}`, email, mobile: uniqueMobile() },
  })));
  assert.deepEqual(creates.map((r) => r.status).sort(), [201, ...Array(20).fill(409)]);
  for (const r of creates.filter((x) => x.status === 409)) assert.equal(r.json.code, 'AlreadyExists.Email');

  // a key disabled through one instance is refused by all at once
  const ro = createKey(dirs[0], admin.account_id, 'readonly');
  for (const s of servers) assertOk(await api(s, 'GET', '/v1/contacts?page_size=1', { key: ro }), 200);
  assertOk(await api(servers[2], 'POST', `/v1/keys/${ro.access_key_id}/disable`, { key: admin, json: {} }), 200);
  for (const s of servers) assert.equal((await api(s, 'GET', '/v1/contacts?page_size=1', { key: ro })).status, 401);

  // the Alibaba API: a nonce is used once across the three
  const send = (s, r) => raw(s, 'POST', r.path, { headers: r.headers, body: r.body });
  const captured = terraformRequest(admin, 'ListContact', {});
  assert.equal((await send(servers[0], captured)).status, 200);
  for (const s of servers.slice(1)) {
    const r = await send(s, captured);
    assert.equal(r.status, 400, show(r));
    assert.equal(r.json.Code, 'SignatureNonceUsed');
  }
  // ... and a key's rate is the deployment's: 10 at once over all three, not 10 each
  const caller = createKey(dirs[0], admin.account_id, 'readonly');
  let ok = 0, throttled = 0;
  for (let i = 0; i < 24; i++) {
    const r = await send(servers[i % 3], terraformRequest(caller, 'ListContact', {}));
    if (r.status === 200) ok++;
    else {
      assert.equal(r.json?.Code, 'Throttling.User', show(r));
      throttled++;
    }
  }
  assert.ok(ok >= 10 && ok <= 13, `${ok} calls of 24 passed (10 at once, one a second more)`);
  assert.equal(ok + throttled, 24);

  // events to all three; one is killed half-way
  const targets = [];
  for (let i = 0; i < 24; i++) {
    const rid = robots.register('dingtalk', null, { keywords: ['certificate'] });
    const c = assertOk(await api(servers[i % 3], 'POST', '/v1/contacts', {
      key: admin, json: { name: `robot ${i}`, mobile: uniqueMobile(), webhooks: [{ url: dingtalkWebhookUrl(rid) }] },
    }), 201);
    targets.push({ rid, id: c.id });
  }
  const events = [];
  for (let i = 0; i < targets.length; i++) {
    if (i === 12) await kill9(servers[1]);
    const s = servers[i % 3].proc ? servers[i % 3] : servers[0];
    const ev = assertOk(await api(s, 'POST', '/v1/events', {
      key: admin, json: { type: 'certificate.issued', contact_ids: [targets[i].id], data: { domains: [`${i}.example.com`] } },
    }), 201);
    events.push(ev.id);
  }
  for (const id of events) {
    await waitFor(async () => {
      const e = assertOk(await api(servers[0], 'GET', `/v1/events/${id}`, { key: admin }), 200);
      return e.notifications.every((n) => n.status === 'delivered') ? e : null;
    }, { timeoutMs: 30000, what: `event ${id} delivered` });
  }
  for (const t of targets) {
    const got = robots.received('dingtalk', t.rid).filter((r) => r.body);
    assert.ok(got.length >= 1, `robot ${t.rid} got nothing`);
    assert.equal(new Set(got.map((r) => r.body.msgUuid)).size, 1, `robot ${t.rid} got two different messages`);
    assert.equal(robots.messages('dingtalk', t.rid).length, 1, `robot ${t.rid} showed its message more than once`);
  }

  // the reminder scheduler moves to a survivor
  const alive = [servers[0], servers[2]];
  const leader = await waitFor(() => alive.find((s) => leads(s, 'reminders')), { timeoutMs: 10000, what: 'a reminders leader' });
  const other = alive.find((s) => s !== leader);
  const t0 = Date.now();
  await kill9(leader);
  await waitFor(() => leads(other, 'reminders'), { timeoutMs: 15000, what: 'a survivor taking the reminders over' });
  assert.ok(Date.now() - t0 < 15000);
  assertOk(await api(other, 'GET', '/v1/contacts?page_size=1', { key: admin }), 200);
});
