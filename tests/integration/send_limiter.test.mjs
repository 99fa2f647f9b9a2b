// send_limiter.test.mjs — the per-robot rate limit stays exact however many
// robots are active: a robot that used up its window and then saw 300 other
// robots sent to within the same minute still waits for its window instead of
// being sent past the platform's limit. (The limiter's own test covers 1,000
// robots: tests/unit/test_robot.c.) The platforms' real windows are used.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, stopAllAfter,
  postExpiringEvent, eventSettled,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  server = await startServer(dir, { env: { ...robots.env(), CERTCONTACTS_RETRY_SCHEDULE: '1,1,1' } });
});

stopAllAfter(() => [server, robots], () => dir);

const event = (contactIds, domain) => postExpiringEvent(server, admin, contactIds, { domains: [domain] });

const settled = (id, timeoutMs = 60000) => eventSettled(server, admin, id, { timeoutMs, intervalMs: 100 });

test('a busy robot keeps its limit while more than 256 other robots are active', async () => {
  const busy = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(busy) }] });
  for (let i = 0; i < 20; i++) { // its whole minute, one at a time
    const done = await settled((await event([contact.id], `busy-${i}.example.com`)).id);
    assert.equal(done.notifications[0].status, 'delivered');
  }
  // 300 other robots, each sent one message, within the same minute
  const ids = [];
  for (let c = 0; c < 60; c++) {
    const keys = Array.from({ length: 5 }, () => robots.register('wecom', null));
    const { contact: other } = await createContact(server, admin, { webhooks: keys.map((k) => ({ url: wecomWebhookUrl(k) })) });
    ids.push(other.id);
  }
  const crowds = [];
  for (let k = 0; k < 3; k++) crowds.push(await event(ids.slice(20 * k, 20 * k + 20), `crowd-${k}.example.com`));
  for (const c of crowds) {
    const done = await settled(c.id);
    assert.equal(done.notifications.length, 100);
    for (const n of done.notifications) assert.equal(n.status, 'delivered', JSON.stringify(n));
  }

  // The busy robot's 21st message must wait for its window, not go now.
  const mark = robots.mark();
  const ev = await event([contact.id], 'busy-21.example.com');
  await new Promise((r) => setTimeout(r, 1500));
  const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
  assert.equal(robots.received('dingtalk', busy, { after: mark }).length, 0,
    `sent past the limit: ${JSON.stringify(robots.received('dingtalk', busy, { after: mark }).map((r) => r.code))}`);
  assert.equal(robots.rejected('dingtalk', busy).length, 0, 'the platform never had to refuse one');
  assert.equal(e.notifications[0].status, 'pending');
  assert.equal(e.notifications[0].attempts, 0, 'waiting is not an attempt');
});
