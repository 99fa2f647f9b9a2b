// send_throttle.test.mjs — a platform's "you are rate limited" answer costs no
// attempt on any platform: WeCom 45009, Lark 9499, DingTalk 130101, HTTP 429
// and the SMS gateway's isv.BUSINESS_LIMIT_CONTROL each make the notification
// wait out the platform's window and try again, shown in the delivery log as
// "waiting: rate limited by the platform"; it is given up (dead) only once it
// is older than throttle_max_age. The retry schedule allows 3 attempts, so a
// notification throttled more often than that would have ended dead before.
// Robot windows are shortened to 1% (WeCom's minute 0.6 s, Lark's second and
// minute 10 ms and 0.6 s, DingTalk's block 6 s).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact, waitFor, stopAllAfter,
  uniqueMobile, sendContactCode, confirmContactCode, removeDir,
  postExpiringEvent,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';
import { startSmsGateway, nationalMobile, aliyunSmsEnv } from './lib/sinks.mjs';

const KEY_ID = 'LTAIthrottle';
const SECRET = 'throttle-secret';
const SIGN = 'certcontacts';
const TPL_CODE = 'SMS_CODE_1';
const TPL_NOTIFY = 'SMS_NOTIFY_1';

let dir, dir2, server, shortLived, admin, admin2, robots, gw;

before(async () => {
  dir = makeDataDir();
  dir2 = makeDataDir();
  robots = await startRobots();
  gw = await startSmsGateway({
    keys: { [KEY_ID]: SECRET }, signName: SIGN, templateCode: TPL_CODE,
    templates: { [TPL_CODE]: ['code'], [TPL_NOTIFY]: ['title'] },
  });
  admin = createAccount(dir);
  admin2 = createAccount(dir2);
  const env = {
    ...robots.env(),
    CERTCONTACTS_ROBOT_RATE_WINDOW_PERCENT: '1',
    CERTCONTACTS_RETRY_SCHEDULE: '1,1',
    ...aliyunSmsEnv(gw, { keyId: KEY_ID, secret: SECRET, signName: SIGN, templateCode: TPL_CODE, notifyTemplateCode: TPL_NOTIFY }),
    CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
  };
  server = await startServer(dir, { env });
  shortLived = await startServer(dir2, { env: { ...env, CERTCONTACTS_THROTTLE_MAX_AGE: '3' } });
});

stopAllAfter(() => [server, shortLived, robots, gw], () => dir);
after(() => removeDir(dir2));

const event = (srv, key, contactIds, domain) =>
  postExpiringEvent(srv, key, contactIds, { domains: [domain] });

/** The event's one notification once it is no longer pending, with its attempt log. */
async function finished(srv, key, ev, timeoutMs = 30000) {
  const n = await waitFor(async () => {
    const e = assertOk(await api(srv, 'GET', `/v1/events/${ev.id}`, { key }), 200);
    const one = e.notifications.find((x) => x.status !== 'cancelled' && x.status !== 'failed');
    return one && one.status !== 'pending' ? one : null;
  }, { timeoutMs, intervalMs: 50, what: `event ${ev.id} to settle` });
  return assertOk(await api(srv, 'GET', `/v1/notifications/${n.id}`, { key }), 200);
}

function assertWaited(n, times) {
  assert.equal(n.status, 'delivered', JSON.stringify(n));
  assert.equal(n.attempts, 1, 'waiting for the platform is not an attempt');
  const waits = n.attempt_log.filter((a) => a.outcome === 'throttled');
  assert.equal(waits.length, times, JSON.stringify(n.attempt_log));
  for (const a of waits) assert.match(a.reason, /^waiting: rate limited by the platform/);
  assert.equal(n.attempt_log.at(-1).outcome, 'ok');
}

async function robotEvent(platform, url, domain) {
  const { contact } = await createContact(server, admin, { webhooks: [{ url }] });
  return event(server, admin, [contact.id], domain);
}

test('WeCom 45009 five times: waits each time, spends no attempt, then delivered', async () => {
  const k = robots.register('wecom', null);
  robots.failNext('wecom', k, { errcode: 45009 }, 5);
  const n = await finished(server, admin, await robotEvent('wecom', wecomWebhookUrl(k), 'wecom.example.com'));
  assertWaited(n, 5);
  assert.equal(robots.messages('wecom', k).length, 1);
});

test('Lark 9499 (HTTP 400) four times: the same, each wait twice the last from its second', async () => {
  const id = robots.register('lark', null);
  robots.failNext('lark', id, { code: 9499 }, 4);
  const n = await finished(server, admin, await robotEvent('lark', larkWebhookUrl(id), 'lark.example.com'));
  assertWaited(n, 4);
  // Lark's windows at 1%: 10 ms, then 20, 40 and 80 ms (a minute at most).
  const at = robots.received('lark', id).map((r) => r.at);
  assert.equal(at.length, 5);
  for (let i = 1; i < at.length; i++) {
    assert.ok(at[i] - at[i - 1] >= 10 * 2 ** (i - 1), `wait ${i}: ${at[i] - at[i - 1]} ms (${at.join(', ')})`);
  }
});

test('HTTP 429 without a code, three times: the same', async () => {
  const k = robots.register('wecom', null);
  robots.failNext('wecom', k, { http: 429, body: 'slow down' }, 3);
  const n = await finished(server, admin, await robotEvent('wecom', wecomWebhookUrl(k), 'http429.example.com'));
  assertWaited(n, 3);
});

test('DingTalk 130101: waits out the block without spending an attempt', async () => {
  const t = robots.register('dingtalk', null, { keywords: ['certificate'] });
  robots.failNext('dingtalk', t, { errcode: 130101 }, 1);
  const t0 = Date.now();
  const n = await finished(server, admin, await robotEvent('dingtalk', dingtalkWebhookUrl(t), 'ding.example.com'));
  assertWaited(n, 1);
  assert.ok(Date.now() - t0 >= 5000, 'DingTalk\'s block (6 s at 1%) was waited out');
});

test('SMS gateway isv.BUSINESS_LIMIT_CONTROL four times: the same', async () => {
  const { contact } = await createContact(server, admin, { mobile: uniqueMobile('138') });
  const before = gw.sent.length;
  assertOk(await sendContactCode(server, admin, contact.id, 'mobile'), 201);
  const sms = await waitFor(() => gw.sent.slice(before).find((s) => s.phone === nationalMobile(contact.mobile)));
  assertOk(await confirmContactCode(server, admin, contact.id, 'mobile', sms.templateParam.code), 200);
  gw.mode = 'limit';
  const from = gw.received.length;
  const ev = await event(server, admin, [contact.id], 'sms.example.com');
  await waitFor(() => gw.received.length - from >= 4, { timeoutMs: 20000, what: '4 throttled SMS' });
  gw.mode = 'ok';
  const n = await finished(server, admin, ev);
  assert.equal(n.channel, 'mobile');
  assert.equal(n.status, 'delivered', JSON.stringify(n));
  assert.equal(n.attempts, 1);
  const waits = n.attempt_log.filter((a) => a.outcome === 'throttled');
  assert.ok(waits.length >= 4, JSON.stringify(n.attempt_log));
  for (const a of waits) assert.match(a.reason, /^waiting: rate limited by the platform/);
});

test('a robot that keeps throttling is given up only after throttle_max_age', async () => {
  const k = robots.register('wecom', null);
  robots.failNext('wecom', k, { errcode: 45009 }, 1000);
  const { contact } = await createContact(shortLived, admin2, { webhooks: [{ url: wecomWebhookUrl(k) }] });
  const t0 = Date.now();
  const ev = await event(shortLived, admin2, [contact.id], 'forever.example.com');
  // while it waits, the log says so
  const waiting = await waitFor(async () => {
    const e = assertOk(await api(shortLived, 'GET', `/v1/events/${ev.id}`, { key: admin2 }), 200);
    const one = e.notifications[0];
    return one.status === 'pending' && one.last_error ? one : null;
  }, { timeoutMs: 10000, what: 'the first throttled answer' });
  assert.match(waiting.last_error, /^waiting: rate limited by the platform/);
  assert.equal(waiting.attempts, 0);
  const n = await finished(shortLived, admin2, ev);
  assert.equal(n.status, 'dead', JSON.stringify(n));
  assert.ok(Date.now() - t0 >= 2900, 'not before the maximum age');
  assert.equal(n.attempts, 0);
  assert.match(n.last_error, /rate limited by the platform/);
  assert.ok(robots.received('wecom', k).length > 3, 'more tries than the retry schedule allows');
});
