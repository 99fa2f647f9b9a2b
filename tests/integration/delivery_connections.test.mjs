// delivery_connections.test.mjs — a dispatcher thread keeps its connections to
// the robots' host between batches: a second batch to the same robots opens no
// new connection, however the first batch's transfers finished (here one at a
// time, each robot answering 100 ms after the one before).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createContact, stopAllAfter, postExpiringEvent, eventSettled,
} from './lib/harness.mjs';
import { startRobots, wecomWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, robots;
stopAllAfter(() => [server, robots], () => dir);

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  server = await startServer(dir, { env: { ...robots.env(), CERTCONTACTS_DISPATCHER_THREADS: '1' } });
});

/** One event to the contact; returns once each robot has its message and the batch its outcomes. */
async function deliver(contactId, ids, round) {
  const ev = await postExpiringEvent(server, admin, [contactId], { domains: [`round-${round}.example.com`] });
  for (const id of ids) await robots.waitFor('wecom', id, round, { timeoutMs: 10000 });
  const done = await eventSettled(server, admin, ev.id, { timeoutMs: 10000 });
  assert.deepEqual(done.notifications.map((n) => n.status), ids.map(() => 'delivered'));
}

test('a second batch to the same robots reuses the first batch\'s connections', async () => {
  const ids = [0, 1, 2, 3, 4].map((i) => robots.register('wecom', null, { delayMs: 100 * i }));
  const { contact } = await createContact(server, admin, { webhooks: ids.map((id) => ({ url: wecomWebhookUrl(id) })) });
  await deliver(contact.id, ids, 1);
  const first = robots.connections;
  assert.ok(first >= 1 && first <= ids.length, `the first batch used ${first} connections`);
  await deliver(contact.id, ids, 2);
  assert.equal(robots.connections, first, 'connections opened by the second batch');
});
