// send_close.test.mjs — a robot that reads the whole request and closes the
// connection without answering gets exactly one request per recorded attempt:
// the dispatcher's retry schedule decides when to try again, never a silent
// re-send on another connection. Connections are reused between batches (one
// dispatcher thread, several connections to the receiver kept open), which is
// when a client library is tempted to send the request again.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, stopAllAfter,
  postExpiringEvent, eventSettled,
} from './lib/harness.mjs';
import { startRobots, wecomWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  server = await startServer(dir, {
    env: {
      ...robots.env(),
      CERTCONTACTS_DISPATCHER_THREADS: '1',
      CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
      CERTCONTACTS_SEND_TIMEOUT_MS: '3000',
    },
  });
});

stopAllAfter(() => [server, robots], () => dir);

const event = (contactIds, domain) => postExpiringEvent(server, admin, contactIds, { domains: [domain] });

const settled = (id, timeoutMs = 30000) => eventSettled(server, admin, id, { timeoutMs });

test('a robot that closes without answering: one request on the wire per recorded attempt', async () => {
  // Five robots on the one receiver, sent to together: five connections stay open.
  const keys = Array.from({ length: 5 }, () => robots.register('wecom', null));
  const { contact } = await createContact(server, admin, { webhooks: keys.map((k) => ({ url: wecomWebhookUrl(k) })) });
  const warm = await settled((await event([contact.id], 'warm.example.com')).id);
  for (const n of warm.notifications) assert.equal(n.status, 'delivered', JSON.stringify(n));

  // Now one of them reads each request and hangs up; the next message reuses a connection.
  const closing = keys[0];
  robots.update('wecom', closing, { close: true });
  const mark = robots.mark();
  const ev = await event([contact.id], 'closed.example.com');
  const done = await settled(ev.id);
  const n = done.notifications.find((x) => x.webhook_id === contact.webhooks[0].id);
  assert.ok(n, JSON.stringify(done.notifications));
  assert.equal(n.status, 'dead', JSON.stringify(n));
  const full = assertOk(await api(server, 'GET', `/v1/notifications/${n.id}`, { key: admin }), 200);
  const requests = robots.received('wecom', closing, { after: mark });
  assert.equal(full.attempt_log.length, 4, JSON.stringify(full.attempt_log));
  assert.equal(requests.length, full.attempt_log.length,
    `${requests.length} requests for ${full.attempt_log.length} recorded attempts: ` +
    JSON.stringify(requests.map((r) => ({ seq: r.seq, at: r.at, status: r.status }))));
  for (const a of full.attempt_log) assert.equal(a.outcome, 'retry', JSON.stringify(a));
  // the other four were delivered once each
  for (const k of keys.slice(1)) assert.equal(robots.messages('wecom', k, { after: mark }).length, 1);
});
