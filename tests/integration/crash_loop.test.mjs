// crash_loop.test.mjs — kill -9 over and over while contacts are written and
// notifications are on the wire. Each cycle starts the server, creates
// contacts with a robot each (answering slowly), posts an event for them,
// starts a burst of contact writes and kills the server in the middle of it
// all. After each restart every acknowledged write is there (a contact the
// server answered 201 for, the event and its notifications); at the end every
// notification has reached its robot at least once, and the duplicates are
// counted. CC_CRASH_CYCLES sets the cycles (5 here; `make torture` runs 20
// and prints the figures).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, contactBody, waitFor, stopAllAfter,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, wecomWebhookUrl, larkWebhookUrl } from './lib/robots.mjs';

const CYCLES = Number(process.env.CC_CRASH_CYCLES || 5);
const ROBOTS_PER_CYCLE = 8;
const BURST = 20;
const URLS = { dingtalk: dingtalkWebhookUrl, wecom: wecomWebhookUrl, lark: larkWebhookUrl };
const PLATFORMS = Object.keys(URLS);

let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir('cc-crashloop-');
  robots = await startRobots();
  admin = createAccount(dir);
});

stopAllAfter(() => [server, robots], () => dir);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function kill() {
  server.proc.kill('SIGKILL');
  await server.exit;
  server.proc = null;
}

test(`kill -9 loop (${CYCLES} cycles): nothing acknowledged is lost, every notification is delivered`, async (t) => {
  const env = { ...robots.env(), CERTCONTACTS_DISPATCHER_THREADS: '2' };
  const ackedContacts = []; // ids the server answered 201 for
  const events = []; // {id, targets: [{platform, id}]}
  let acked = 0;
  server = await startServer(dir, { env });
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    // Contacts with a robot each, then an event for them: acknowledged.
    const targets = [];
    const made = await Promise.all(Array.from({ length: ROBOTS_PER_CYCLE }, (_, i) => {
      const platform = PLATFORMS[(cycle + i) % PLATFORMS.length];
      const id = robots.register(platform, null, { delayMs: 50 + Math.floor(Math.random() * 400) });
      targets.push({ platform, id });
      return api(server, 'POST', '/v1/contacts', {
        key: admin, json: contactBody({ webhooks: [{ url: URLS[platform](id) }] }),
      });
    }));
    const contactIds = made.map((r) => assertOk(r, 201).id);
    ackedContacts.push(...contactIds);
    acked += contactIds.length;
    const ev = assertOk(await api(server, 'POST', '/v1/events', {
      key: admin, json: { type: 'certificate.issued', contact_ids: contactIds, data: { domains: [`c${cycle}.example.com`] } },
    }), 201);
    events.push({ id: ev.id, targets });
    acked += 1;
    // A burst of writes, and the kill in the middle of it and of the deliveries.
    const burst = Array.from({ length: BURST }, () => api(server, 'POST', '/v1/contacts', { key: admin, json: contactBody() })
      .then((r) => {
        if (r.status === 201) {
          ackedContacts.push(r.json.id);
          acked += 1;
        }
      })
      .catch(() => {})); // cut by the kill
    await sleep(20 + Math.floor(Math.random() * 200));
    await kill();
    await Promise.all(burst);
    // Restart: everything acknowledged is there.
    server = await startServer(dir, { env });
    for (const id of ackedContacts) {
      const r = await api(server, 'GET', `/v1/contacts/${id}`, { key: admin });
      assert.equal(r.status, 200, `cycle ${cycle}: acknowledged contact ${id} lost: ${r.text}`);
    }
    for (const e of events) {
      const r = assertOk(await api(server, 'GET', `/v1/events/${e.id}`, { key: admin }), 200);
      assert.equal(r.notifications.length, e.targets.length, `cycle ${cycle}: event ${e.id} lost notifications`);
    }
  }
  // Every notification delivered, at least once. When one is not, the
  // failure names it, what its robot received and the server's last lines.
  const undelivered = async () => {
    const left = [];
    for (const e of events) {
      const r = assertOk(await api(server, 'GET', `/v1/events/${e.id}`, { key: admin }), 200);
      left.push(...r.notifications.filter((n) => n.status !== 'delivered'));
    }
    return left;
  };
  try {
    await waitFor(async () => (await undelivered()).length === 0,
      { timeoutMs: 30000, intervalMs: 100, what: 'every notification delivered' });
  } catch (e) {
    const left = await undelivered();
    const robotsSaw = events.flatMap((ev) => ev.targets.map((tg) => ({
      ...tg,
      received: robots.received(tg.platform, tg.id).map((r) => ({
        seq: r.seq, status: r.status, code: r.code, accepted: r.accepted, answeredAt: r.answeredAt,
      })),
    })));
    const tail = server.stderr.split('\n').slice(-60).join('\n');
    assert.fail(`${e.message}\nnot delivered: ${JSON.stringify(left)}\n` +
      `robots: ${JSON.stringify(robotsSaw)}\nserver's last lines:\n${tail}`);
  }
  let notifications = 0;
  let dups = 0; // sent again
  let shown = 0; // of those, shown twice (DingTalk drops a repeated msgUuid)
  let lost = 0;
  for (const e of events) {
    for (const tg of e.targets) {
      notifications += 1;
      const sent = robots.received(tg.platform, tg.id).filter((r) => r.accepted).length;
      const seen = robots.messages(tg.platform, tg.id).length;
      if (seen === 0) lost += 1;
      dups += Math.max(0, sent - 1);
      shown += Math.max(0, seen - 1);
    }
  }
  const report = `crash-loop: ${CYCLES} kills, ${acked} acknowledged writes, 0 lost; ` +
    `${notifications} notifications, ${lost} never delivered, ${dups} duplicates sent, ` +
    `${shown} shown twice`;
  t.diagnostic(report);
  assert.equal(lost, 0, report);
  await server.stop();
  server = null;
});
