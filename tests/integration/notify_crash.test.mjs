// notify_crash.test.mjs — the outbox survives kill -9: a notification whose
// attempt was on the wire when the server died is claimed again as the next
// server starts (the lease was the dead process's) and delivered, with the
// same idempotency key (DingTalk's msgUuid), so the robot can drop the
// duplicate. A slow robot never holds
// up API requests.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, waitFor, stopAllAfter,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
});

stopAllAfter(() => [server, robots], () => dir);

const env = () => ({
  ...robots.env(),
  CERTCONTACTS_DELIVERY_LEASE_S: '5',
  CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
  CERTCONTACTS_SEND_TIMEOUT_MS: '20000',
});

test('kill -9 with a message on the wire: after restart it is delivered, same msgUuid', async () => {
  server = await startServer(dir, { env: env() });
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'], hang: true });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.issued', contact_ids: [contact.id], data: { domains: ['a.example.com'] } },
  }), 201);
  // the attempt reaches the robot, which never answers: it is on the wire
  const [first] = await robots.waitForRequests('dingtalk', ding, 1, { timeoutMs: 10000 });
  server.proc.kill('SIGKILL');
  await server.exit;
  server.proc = null;
  robots.update('dingtalk', ding, { hang: false });
  const t0 = Date.now();
  server = await startServer(dir, { env: env() });
  const delivered = await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    return e.notifications[0].status === 'delivered' ? e : null;
  }, { timeoutMs: 20000, what: 'delivery after restart' });
  // The lease was the dead process's: due at once, not after its 5 s.
  assert.ok(Date.now() - t0 < 5000, `delivered ${Date.now() - t0} ms after the restart`);
  const n = delivered.notifications[0];
  const msgs = robots.received('dingtalk', ding).filter((r) => r.body);
  assert.ok(msgs.length >= 2, 'sent again after the restart');
  assert.equal(new Set(msgs.map((m) => m.body.msgUuid)).size, 1, 'every attempt carries one msgUuid');
  assert.equal(first.body.msgUuid, msgs[msgs.length - 1].body.msgUuid);
  assert.ok(n.idempotency_key);
});

test('a slow robot does not slow down the API', async () => {
  const slow = robots.register('wecom', null, { delayMs: 3000 });
  const contacts = [];
  for (let i = 0; i < 6; i++) {
    const { contact } = await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(`${slow}`) }] });
    contacts.push(contact.id);
  }
  assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.expiring', contact_ids: contacts, data: { days_left: 7 } },
  }), 201);
  await robots.waitForRequests('wecom', slow, 1, { timeoutMs: 10000 });
  // the dispatcher threads are all waiting on the robot; the API answers at once
  for (let i = 0; i < 5; i++) {
    const t = Date.now();
    assertOk(await api(server, 'GET', '/v1/contacts?page_size=5', { key: admin }), 200);
    assert.ok(Date.now() - t < 1000, `GET took ${Date.now() - t} ms while deliveries were slow`);
  }
});

test('one dispatcher thread has many messages on the wire at once', async () => {
  // Eight robots that do not answer within the send timeout. A sender that
  // waited for each answer in turn would reach the eighth only after seven
  // timeouts (35 s); sent together, all eight requests arrive at once.
  await server?.stop();
  server = await startServer(dir, {
    env: { ...env(), CERTCONTACTS_DISPATCHER_THREADS: '1', CERTCONTACTS_SEND_TIMEOUT_MS: '5000' },
  });
  const ids = [];
  const contacts = [];
  for (let i = 0; i < 8; i++) {
    const id = robots.register('wecom', null, { hang: true });
    ids.push(id);
    const { contact } = await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(id) }] });
    contacts.push(contact.id);
  }
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.issued', contact_ids: contacts, data: { domains: ['c.example.com'] } },
  }), 201);
  await Promise.all(ids.map((id) => robots.waitForRequests('wecom', id, 1, { timeoutMs: 4000 })));
  // once the robots answer, the timed-out attempts are retried and delivered
  for (const id of ids) robots.update('wecom', id, { hang: false });
  const done = await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    return e.notifications.every((n) => n.status === 'delivered') ? e : null;
  }, { timeoutMs: 20000, what: 'every notification delivered' });
  assert.equal(done.notifications.length, 8);
  for (const n of done.notifications) {
    const d = assertOk(await api(server, 'GET', `/v1/notifications/${n.id}`, { key: admin }), 200);
    assert.equal(d.attempt_log.length, 2, 'a timed-out attempt, then the delivery');
    assert.deepEqual(d.attempt_log.map((a) => a.outcome).sort(), ['ok', 'retry']);
  }
});

test('a robot that never answers does not hold back recording the others of its batch', async () => {
  // One dispatcher thread, so both messages go out in one batch; the send
  // timeout is far longer than the wait below.
  await server?.stop();
  server = await startServer(dir, {
    env: { ...env(), CERTCONTACTS_DISPATCHER_THREADS: '1', CERTCONTACTS_SEND_TIMEOUT_MS: '30000' },
  });
  const silent = robots.register('wecom', null, { hang: true });
  const quick = robots.register('wecom', null, {});
  const a = (await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(silent) }] })).contact;
  const b = (await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(quick) }] })).contact;
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.issued', contact_ids: [a.id, b.id], data: { domains: ['d.example.com'] } },
  }), 201);
  await robots.waitForRequests('wecom', silent, 1, { timeoutMs: 5000 });
  const seen = await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    const q = e.notifications.find((n) => n.contact_id === b.id);
    return q?.status === 'delivered' ? e : null;
  }, { timeoutMs: 5000, what: 'the quick robot recorded as delivered' });
  const s = seen.notifications.find((n) => n.contact_id === a.id);
  assert.equal(s.status, 'pending', 'the silent robot is still on the wire');
  // The silent attempt is still on the wire; no need to wait out its timeout.
  server.proc.kill('SIGKILL');
  await server.exit;
  server = null;
});
