// notify_rate.test.mjs — per-robot rate limits and size limits: messages to
// a robot wait their turn instead of being refused by the platform; many
// notifications waiting for one robot go out merged into one message listing
// them, split into several when a platform's size limit would be passed, and
// one item too long for any message is cut on a character boundary with "…".
// Windows are shortened to 10% on both sides (6 s for a minute).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, stopAllAfter,
  postExpiringEvent, eventSettled,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  server = await startServer(dir, {
    env: { ...robots.env(), CERTCONTACTS_ROBOT_RATE_WINDOW_PERCENT: '10', CERTCONTACTS_RETRY_SCHEDULE: '1,1,1' },
  });
});

stopAllAfter(() => [server, robots], () => dir);

const event = (contactIds, data) => postExpiringEvent(server, admin, contactIds, data);

const settled = (id, timeoutMs = 30000) => eventSettled(server, admin, id, { timeoutMs });

test('one at a time, 22 messages to a DingTalk robot (20 a minute): the last ones wait their turn', async () => {
  const ding = robots.register('dingtalk', null, {
    keywords: ['certificate'], rate: { perMinute: 20, windowMs: 6000, blockMs: 60000 },
  });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  const t0 = Date.now();
  for (let i = 0; i < 22; i++) {
    const ev = await event([contact.id], { domains: [`one-${i}.example.com`] });
    const done = await settled(ev.id);
    assert.equal(done.notifications[0].status, 'delivered');
    assert.equal(done.notifications[0].attempts, 1, 'waiting is not an attempt');
  }
  assert.ok(Date.now() - t0 >= 5000, 'the 21st waited for the window');
  assert.equal(robots.messages('dingtalk', ding).length, 22);
  assert.equal(robots.rejected('dingtalk', ding).length, 0, 'the platform never had to refuse one');
});

test('notifications waiting for one robot go out merged into one message listing them', async () => {
  const ding = robots.register('dingtalk', null, {
    keywords: ['certificate'], rate: { perMinute: 20, windowMs: 6000, blockMs: 60000 },
  });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  // fill the robot's window, one message at a time
  for (let i = 0; i < 20; i++) {
    const ev = await event([contact.id], { domains: [`fill-${i}.example.com`] });
    assert.equal((await settled(ev.id)).notifications[0].status, 'delivered');
  }
  // these twelve must wait for the window: they are sent together when it opens
  const events = [];
  for (let i = 0; i < 12; i++) events.push(await event([contact.id], { domains: [`merge-${i}.example.com`] }));
  for (const ev of events) assert.equal((await settled(ev.id)).notifications[0].status, 'delivered');
  const msgs = robots.messages('dingtalk', ding).filter((m) => /merge-\d+/.test(m.text));
  assert.ok(msgs.length < 12, `12 waiting notifications took ${msgs.length} messages`);
  const all = msgs.map((m) => m.text).join('\n');
  for (let i = 0; i < 12; i++) assert.match(all, new RegExp(`merge-${i}\\.example\\.com`));
  assert.ok(msgs.some((m) => /\d+ certificate notifications/.test(m.title)), 'a merged message says how many it lists');
  assert.equal(robots.rejected('dingtalk', ding).length, 0);
});

const WECOM_RATE = { rate: { perMinute: 20, windowMs: 6000 } };

test('a merged message that would pass WeCom\'s 4096 bytes is split; nothing is dropped', async () => {
  const wecom = robots.register('wecom', null, WECOM_RATE);
  const { contact } = await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(wecom) }], language: 'zh-CN' });
  for (let i = 0; i < 20; i++) { // fill the window: the thirty below must wait, then go out merged
    const ev = await event([contact.id], { domains: [`fill-${i}.example.com`] });
    assert.equal((await settled(ev.id)).notifications[0].status, 'delivered');
  }
  const events = [];
  for (let i = 0; i < 30; i++) {
    events.push(await event([contact.id], { domains: [`分割-${i}-${'长'.repeat(40)}.example.com`] }));
  }
  for (const ev of events) assert.equal((await settled(ev.id)).notifications[0].status, 'delivered');
  const msgs = robots.messages('wecom', wecom).filter((m) => m.body.markdown.content.includes('分割-'));
  assert.ok(msgs.length >= 2 && msgs.length < 30, `30 waiting notifications took ${msgs.length} messages: merged, then split`);
  for (const m of msgs) assert.ok(Buffer.byteLength(m.body.markdown.content) <= 4096);
  const all = msgs.map((m) => m.body.markdown.content).join('\n');
  for (let i = 0; i < 30; i++) assert.ok(all.includes(`分割-${i}-`), `item ${i} was dropped`);
  assert.equal(robots.rejected('wecom', wecom).length, 0);
});

test('one item too long for WeCom is cut on a character boundary with a visible …', async () => {
  const wecom = robots.register('wecom', null, WECOM_RATE);
  // an account template that lists the domains twice makes one item longer than WeCom takes
  assertOk(await api(server, 'PUT', '/v1/templates/certificate.revoked/robot/zh-CN', {
    key: admin, json: { title: '证书已吊销', body: '证书域名：{{domains}}\n再次列出：{{domains}}' },
  }), 200);
  const { contact } = await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(wecom) }], language: 'zh-CN' });
  const domains = Array.from({ length: 120 }, (_, i) => `很长的域名-${i}.example.com`);
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin, json: { type: 'certificate.revoked', contact_ids: [contact.id], data: { domains } },
  }), 201);
  const done = await settled(ev.id);
  assert.equal(done.notifications[0].status, 'delivered', JSON.stringify(done.notifications[0]));
  const [m] = robots.messages('wecom', wecom);
  const content = m.body.markdown.content;
  assert.ok(Buffer.byteLength(content) <= 4096);
  assert.ok(content.includes('…'), 'the cut is visible');
  assert.doesNotMatch(content, /\uFFFD/, 'no character was cut in half');
});

test('Lark: 5 a second', async () => {
  const lark = robots.register('lark', null, { rate: { perSecond: 5, secondMs: 100, perMinute: 100, minuteMs: 6000 } });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: larkWebhookUrl(lark, 'lark') }] });
  for (let i = 0; i < 8; i++) {
    const ev = await event([contact.id], { domains: [`lark-${i}.example.com`] });
    assert.equal((await settled(ev.id)).notifications[0].status, 'delivered');
  }
  assert.equal(robots.rejected('lark', lark).length, 0);
});
