// reliability_crash.test.mjs — kill -9 with deliveries on the wire. Forty
// notifications, each to its own robot, answered slowly so that many are in
// flight; the server is killed mid-delivery and started again with the
// default 120 s lease. Every notification is delivered within seconds of the
// restart (the dead process's leases are released as the new one starts),
// and only a message that had reached its robot before the kill and was not
// recorded as delivered can arrive twice. The duplicates are counted and reported.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, waitFor, stopAllAfter,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, wecomWebhookUrl, larkWebhookUrl } from './lib/robots.mjs';

const URLS = { dingtalk: dingtalkWebhookUrl, wecom: wecomWebhookUrl, lark: larkWebhookUrl };
let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
});

stopAllAfter(() => [server, robots], () => dir);

test('kill -9 mid-delivery: in-flight notifications go again at once after the restart', async (t) => {
  const env = { ...robots.env(), CERTCONTACTS_DISPATCHER_THREADS: '2' };
  server = await startServer(dir, { env });
  const targets = [];
  const platforms = Object.keys(URLS);
  for (let i = 0; i < 40; i++) {
    const platform = platforms[i % platforms.length];
    // slow answers: the messages stay on the wire for a while
    const id = robots.register(platform, null, { delayMs: 300 + (i % 10) * 100 });
    const { contact } = await createContact(server, admin, { webhooks: [{ url: URLS[platform](id) }] });
    targets.push({ platform, id, contact: contact.id });
  }
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.issued', contact_ids: targets.map((x) => x.contact), data: { domains: ['kill.example.com'] } },
  }), 201);
  // Some answered and recorded, the rest on the wire: kill.
  const recorded = await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    const d = e.notifications.filter((n) => n.status === 'delivered').length;
    return d >= 10 ? d : null;
  }, { timeoutMs: 15000, intervalMs: 10, what: '10 notifications recorded as delivered' });
  server.proc.kill('SIGKILL');
  await server.exit;
  server.proc = null;
  // Whatever still arrives was sent before the kill.
  await new Promise((r) => setTimeout(r, 300));
  const beforeKill = robots.received().length;
  const t0 = Date.now();
  server = await startServer(dir, { env });
  await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    return e.notifications.length === targets.length && e.notifications.every((n) => n.status === 'delivered');
  }, { timeoutMs: 15000, intervalMs: 100, what: 'every notification delivered after the restart (not after the 120 s lease)' });
  const took = Date.now() - t0;
  let dups = 0;
  for (const tg of targets) {
    const n = robots.received(tg.platform, tg.id).length;
    assert.ok(n >= 1, `${tg.platform} robot got nothing`);
    dups += n - 1;
  }
  const report = `${targets.length} notifications, ${beforeKill} requests before the kill, ` +
    `${recorded}+ recorded delivered before it, ${dups} duplicates, all delivered ${took} ms after the restart`;
  t.diagnostic(report);
  // Only what was on the wire and not recorded can go twice.
  assert.ok(dups <= beforeKill - recorded, report);
  await server.stop();
  server = null;
});
