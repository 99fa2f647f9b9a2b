// reliability_disk_full.test.mjs — a full disk while notifications are due
// is no send storm. The data directory sits on a small tmpfs the test
// mounts; the notifications' first attempt is refused (a retry), the disk is
// filled while their retry falls due, and then:
//   - the robots get nothing while no claim can commit (nothing is sent whose
//     claim is not durable), not one request per failed claim;
//   - the server logs the failure once, not a line per try;
//   - /readyz answers 503 naming the dispatcher, and /metrics shows it down;
// and once space is freed, every notification is delivered once and /readyz
// is 200 again. Skipped, with the reason printed, where tmpfs cannot be
// mounted (not root, or no permission).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, waitFor, stopAllAfter, BACKEND,
} from './lib/harness.mjs';
import {
  startRobots, dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl,
} from './lib/robots.mjs';

let mnt, dir, server, robots, admin;
let skip = '';

function mountTmpfs(at, size) {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { encoding: 'utf8' });
  return r.status === 0 ? '' : `cannot mount tmpfs: ${(r.stderr || r.error?.message || '').trim()}`;
}

/** Writes zeros into file until the file system is full; returns the bytes written. */
function fill(file) {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let n = 0;
  try {
    for (;;) n += fs.writeSync(fd, chunk);
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd);
  }
  // The last bytes: a smaller write may still find room.
  const fd2 = fs.openSync(file, 'a');
  try {
    for (;;) n += fs.writeSync(fd2, Buffer.alloc(512));
  } catch (e) {
    if (e.code !== 'ENOSPC') throw e;
  } finally {
    fs.closeSync(fd2);
  }
  return n;
}

before(async () => {
  mnt = makeDataDir('cc-diskfull-');
  // On PostgreSQL the database is not on the disk this test fills.
  skip = BACKEND !== 'sqlite' ? 'SQLite only: the database is not in the data directory whose disk is filled'
    : process.getuid && process.getuid() !== 0 ? 'not root: cannot mount a tmpfs' : mountTmpfs(mnt, '24m');
  if (skip) {
    console.log(`# skipped: ${skip}`);
    return;
  }
  dir = path.join(mnt, 'data');
  fs.mkdirSync(dir);
  robots = await startRobots();
  admin = createAccount(dir);
});

stopAllAfter(() => [server, robots, { stop: async () => {
  if (!skip) spawnSync('umount', ['-l', mnt]);
} }], () => mnt);

test('a full disk: nothing sent without a durable claim, one log line, 503; then each delivered once', async (t) => {
  if (skip) {
    t.skip(skip);
    return;
  }
  server = await startServer(dir, {
    env: {
      ...robots.env(),
      CERTCONTACTS_RETRY_SCHEDULE: '2,2,2',
      CERTCONTACTS_DISPATCHER_THREADS: '2',
    },
  });
  // Six robots, two of each platform, one contact each: six notifications.
  const targets = [];
  for (const [platform, url] of [['dingtalk', dingtalkWebhookUrl], ['wecom', wecomWebhookUrl], ['lark', larkWebhookUrl]]) {
    for (let i = 0; i < 2; i++) {
      const id = robots.register(platform, null, {});
      robots.failNext(platform, id, { http: 500 }); // the first attempt: a retry
      targets.push({ platform, id, url: url(id) });
    }
  }
  const contacts = [];
  for (const tg of targets) {
    const { contact } = await createContact(server, admin, { webhooks: [{ url: tg.url }] });
    contacts.push(contact.id);
  }
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.issued', contact_ids: contacts, data: { domains: ['full.example.com'] } },
  }), 201);
  // The first attempts are refused and recorded: each is due again in 2 s.
  await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    return e.notifications.every((n) => n.status === 'pending' && n.attempts === 1) ? e : null;
  }, { timeoutMs: 10000, what: 'first attempts recorded' });

  // Fill the disk before the retries fall due.
  const filler = path.join(mnt, 'filler');
  fill(filler);
  const mark = robots.mark();
  const logMark = server.lines.length;
  // The retries fall due (2 s) while no claim can commit: a while with the
  // disk full (a dispatcher that sent unclaimed batches sent hundreds here).
  await new Promise((r) => setTimeout(r, 5000));
  const whileFull = robots.received(null, null, { after: mark });
  assert.equal(whileFull.length, 0,
    `sent while no claim could commit: ${JSON.stringify(whileFull.map((x) => [x.platform, x.id.slice(0, 8)]))}`);
  const logged = server.lines.slice(logMark).filter((l) => l.msg !== 'request');
  assert.ok(logged.length <= 10, `${logged.length} log lines while the disk was full:\n` +
    logged.slice(0, 20).map((l) => JSON.stringify(l)).join('\n'));
  // The dispatcher says so.
  const ready = await waitFor(async () => {
    const r = await api(server, 'GET', '/readyz');
    return r.status === 503 && /dispatcher/.test(r.text) ? r : null;
  }, { timeoutMs: 10000, what: '/readyz 503 naming the dispatcher' });
  assert.ok(ready.json.failing.some((f) => f.component === 'dispatcher' && /outbox/.test(f.reason)),
    ready.text);
  const metrics = await api(server, 'GET', '/metrics', { key: admin });
  assert.match(metrics.text, /certcontacts_component_up\{component="dispatcher"\} 0/);
  assert.ok(logged.some((l) => l.msg === 'component failing' && l.component === 'dispatcher'),
    'the failure is logged');

  // Space again: the dispatcher recovers by itself.
  fs.rmSync(filler);
  const done = await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    return e.notifications.every((n) => n.status === 'delivered') ? e : null;
  }, { timeoutMs: 45000, what: 'every notification delivered after space was freed' });
  assert.equal(done.notifications.length, targets.length);
  for (const tg of targets) {
    const got = robots.messages(tg.platform, tg.id);
    assert.equal(got.length, 1, `${tg.platform} robot got ${got.length} messages`);
  }
  await waitFor(async () => (await api(server, 'GET', '/readyz')).status === 200,
    { timeoutMs: 5000, what: '/readyz 200 again' });
  assert.ok(server.lines.some((l) => l.msg === 'component recovered' && l.component === 'dispatcher'));
  await server.stop();
  server = null;
});
