// notify_rate.test.mjs — per-robot rate limits: messages to a robot wait
// their turn instead of being refused by the platform. The windows are
// shortened to 10% on both sides (6 s for DingTalk's minute) to keep it quick.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, waitFor,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, larkWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  server = await startServer(dir, {
    env: { ...robots.env(), CERTCONTACTS_ROBOT_RATE_WINDOW_PERCENT: '10', CERTCONTACTS_RETRY_SCHEDULE: '1,1,1' },
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

async function fanOut(url, n) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const { contact } = await createContact(server, admin, { webhooks: [{ url }] });
    ids.push(contact.id);
  }
  return assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.expiring', contact_ids: ids, data: { days_left: 9 } },
  }), 201);
}

async function settled(id) {
  return waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${id}`, { key: admin }), 200);
    return e.notifications.every((x) => x.status !== 'pending') ? e : null;
  }, { timeoutMs: 30000, what: `event ${id} to settle` });
}

test('25 messages to one DingTalk robot (20 a minute) all arrive; none is refused for speed', async () => {
  const ding = robots.register('dingtalk', null, {
    keywords: ['certificate'], rate: { perMinute: 20, windowMs: 6000, blockMs: 60000 },
  });
  const t0 = Date.now();
  const ev = await fanOut(dingtalkWebhookUrl(ding), 25);
  const done = await settled(ev.id);
  assert.deepEqual([...new Set(done.notifications.map((x) => x.status))], ['delivered']);
  assert.equal(robots.messages('dingtalk', ding).length, 25);
  assert.equal(robots.rejected('dingtalk', ding).length, 0, 'the platform never had to refuse one');
  assert.ok(Date.now() - t0 >= 5000, 'the last five waited for the window');
  // waiting is not an attempt
  for (const x of done.notifications) assert.equal(x.attempts, 1);
});

test('Lark: 5 a second', async () => {
  const lark = robots.register('lark', null, { rate: { perSecond: 5, secondMs: 100, perMinute: 100, minuteMs: 6000 } });
  const ev = await fanOut(larkWebhookUrl(lark, 'lark'), 12);
  const done = await settled(ev.id);
  assert.deepEqual([...new Set(done.notifications.map((x) => x.status))], ['delivered']);
  assert.equal(robots.rejected('lark', lark).length, 0);
});
