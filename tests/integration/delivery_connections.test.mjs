// delivery_connections.test.mjs — a dispatcher thread keeps its connections to
// the robots' host between batches: a second batch to the same robots opens no
// new connection, however the first batch's transfers finished (here one at a
// time, each robot answering 100 ms after the one before).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, waitFor } from './lib/harness.mjs';
import { startRobots, wecomWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  server = await startServer(dir, {
    env: { ...robots.env(), CERTCONTACTS_DISPATCHER_THREADS: '1', CERTCONTACTS_SEND_TIMEOUT_MS: '5000' },
  });
});

after(async () => {
  try {
    await server?.stop();
  } finally {
    await robots?.stop();
    removeDir(dir);
  }
});

async function deliver(contactId, ids, round) {
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin,
    json: { type: 'certificate.expiring', contact_ids: [contactId], data: { domains: ['www.example.com'], days_left: 30, not_after: '2027-01-31' } },
  }), 201);
  for (const id of ids) await robots.waitFor('wecom', id, round, { timeoutMs: 10000 });
  // the batch is over once its outcomes are recorded
  await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    return e.notifications.length === ids.length && e.notifications.every((n) => n.status === 'delivered');
  }, { timeoutMs: 10000, what: `event ${ev.id} delivered` });
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
