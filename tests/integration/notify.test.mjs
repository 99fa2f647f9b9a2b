// notify.test.mjs — certificate events become notifications that the real
// senders deliver to receivers behaving like the platforms: a real SMTP
// server, the Alibaba SMS gateway stand-in, and DingTalk / Lark / WeCom
// robots that check signatures, keywords and sizes and answer with their own
// codes. Covers the outbox, the dispatcher, retries, permanent failures,
// the delivery log, resend, test sends and deletion cancelling pending work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, createKey, api, assertOk, assertError,
  createContact, getContact, unique, uniqueMobile, waitFor, sendContactCode, confirmContactCode,
} from './lib/harness.mjs';
import { startSmtpSink, startSmsGateway, codeFromMail, nationalMobile, aliyunSmsEnv, smtpSinkEnv } from './lib/sinks.mjs';
import { startRobots, dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';

const KEY_ID = 'LTAInotify';
const SECRET = 'notify-secret';
const SIGN = 'certcontacts';
const TPL_CODE = 'SMS_CODE_1';
const TPL_NOTIFY = 'SMS_NOTIFY_1';

let dir, server, admin, readonly, sink, gw, robots;

before(async () => {
  dir = makeDataDir();
  sink = await startSmtpSink();
  gw = await startSmsGateway({
    keys: { [KEY_ID]: SECRET }, signName: SIGN, templateCode: TPL_CODE,
    templates: { [TPL_CODE]: ['code'], [TPL_NOTIFY]: ['title'] },
  });
  robots = await startRobots();
  admin = createAccount(dir);
  readonly = createKey(dir, admin.account_id, 'readonly');
  server = await startServer(dir, {
    env: {
      ...robots.env(),
      ...smtpSinkEnv(sink),
      ...aliyunSmsEnv(gw, { keyId: KEY_ID, secret: SECRET, signName: SIGN, templateCode: TPL_CODE, notifyTemplateCode: TPL_NOTIFY }),
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
      CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
      CERTCONTACTS_SEND_TIMEOUT_MS: '3000',
    },
  });
});

after(async () => {
  try {
    await server?.stop();
  } finally {
    await robots?.stop();
    await gw?.stop?.();
    await sink?.stop?.();
    removeDir(dir);
  }
});

/** A contact whose email and mobile are verified through the real flows. */
async function verifiedContact(over = {}) {
  const email = `${unique('n')}@example.com`;
  const { contact } = await createContact(server, admin, { email, mobile: uniqueMobile('137'), ...over });
  const mark = sink.mark();
  assertOk(await sendContactCode(server, admin, contact.id, 'email'), 201);
  const mail = await sink.waitForMail(email, { after: mark });
  assertOk(await confirmContactCode(server, admin, contact.id, 'email', codeFromMail(mail)), 200);
  const before = gw.sent.length;
  assertOk(await sendContactCode(server, admin, contact.id, 'mobile'), 201);
  const sms = await waitFor(() => gw.sent.slice(before).find((s) => s.phone === nationalMobile(contact.mobile)));
  const c = assertOk(await confirmContactCode(server, admin, contact.id, 'mobile', sms.templateParam.code), 200);
  assert.equal(c.email_status, 1);
  assert.equal(c.mobile_status, 1);
  return c;
}

async function postEvent(contactIds, type = 'certificate.expiring', data = {}) {
  const res = await api(server, 'POST', '/v1/events', {
    key: admin,
    json: { type, contact_ids: contactIds, data: { domains: ['www.example.com', '*.example.com'], days_left: 30, not_after: '2027-01-31', brand: 'DigiCert', type: 'OV', ...data } },
  });
  return assertOk(res, 201);
}

async function eventSettled(id, timeoutMs = 15000) {
  return waitFor(async () => {
    const ev = assertOk(await api(server, 'GET', `/v1/events/${id}`, { key: admin }), 200);
    return ev.notifications.every((n) => n.status !== 'pending') ? ev : null;
  }, { timeoutMs, what: `event ${id} to settle` });
}

test('an event reaches a verified email, a verified mobile and three robots: five accepted deliveries', async () => {
  const ding = robots.register('dingtalk', null, { secret: 'SECding0001', keywords: ['certificate'] });
  const lark = robots.register('lark', null, { secret: 'lark-secret', keywords: ['certificate'] });
  const wecom = robots.register('wecom', null, {});
  const c = await verifiedContact({
    webhooks: [
      { url: dingtalkWebhookUrl(ding), secret: 'SECding0001' },
      { url: larkWebhookUrl(lark, 'feishu'), secret: 'lark-secret' },
      { url: wecomWebhookUrl(wecom) },
    ],
  });
  const mark = sink.mark();
  const smsBefore = gw.sent.length;
  const ev = await postEvent([c.id]);
  assert.deepEqual(ev.skipped, []);
  const [d] = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 10000 });
  const [l] = await robots.waitFor('lark', lark, 1, { timeoutMs: 10000 });
  const [w] = await robots.waitFor('wecom', wecom, 1, { timeoutMs: 10000 });
  assert.match(d.text, /certificate/);
  assert.match(d.text, /\*\.example\.com|\\\*\.example\.com/);
  assert.equal(d.msgtype, 'markdown');
  assert.ok(d.msgUuid, 'DingTalk messages carry a msgUuid');
  assert.match(JSON.stringify(l.body), /certificate/);
  assert.equal(w.msgtype, 'markdown');
  const mail = await sink.waitForMail(c.email, { after: mark });
  assert.match(JSON.stringify(mail), /expires in 30 days/);
  const sms = await waitFor(() => gw.sent.slice(smsBefore).find((s) => s.params.TemplateCode === TPL_NOTIFY));
  assert.equal(sms.phone, nationalMobile(c.mobile));
  assert.match(sms.templateParam.title, /certificate/i);

  const settled = await eventSettled(ev.id);
  assert.equal(settled.notifications.length, 5);
  assert.deepEqual(settled.notifications.map((n) => n.status).sort(), Array(5).fill('delivered'));
  const channels = settled.notifications.map((n) => n.channel).sort();
  assert.deepEqual(channels, ['email', 'mobile', 'webhook', 'webhook', 'webhook']);
  // the delivery log shows the platform's own answer
  const hook = settled.notifications.find((n) => n.channel === 'webhook');
  const one = assertOk(await api(server, 'GET', `/v1/notifications/${hook.id}`, { key: readonly }), 200);
  assert.equal(one.attempt_log.length, 1);
  assert.equal(one.attempt_log[0].outcome, 'ok');
  assert.equal(one.attempt_log[0].platform_code, '0');
  assert.equal(one.attempt_log[0].http_status, 200);
  assert.doesNotMatch(JSON.stringify(one), /access_token=[^*"]{5,}/, 'robot tokens are masked in the log');
});

test('unverified channels get nothing, and the event says why', async () => {
  const { contact } = await createContact(server, admin, { email: `${unique('u')}@example.com` });
  const ev = await postEvent([contact.id], 'certificate.issued');
  const reasons = Object.fromEntries(ev.skipped.map((s) => [s.channel, s.reason]));
  assert.match(reasons.email, /not verified/);
  assert.match(reasons.mobile, /not verified/);
  assert.match(reasons.webhook, /no notification robots/);
  const got = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
  assert.equal(got.notifications.length, 0);
});

test('a platform refusal is never shown as delivered: keyword, signature and removed robots fail with the reason', async () => {
  const noKw = robots.register('dingtalk', null, { keywords: ['部署'] });
  const badSig = robots.register('lark', null, { secret: 'the-right-one' });
  const gone = robots.register('wecom', null, { removed: true });
  const { contact } = await createContact(server, admin, {
    webhooks: [
      { url: dingtalkWebhookUrl(noKw) },
      { url: larkWebhookUrl(badSig, 'lark'), secret: 'a-wrong-one' },
      { url: wecomWebhookUrl(gone) },
    ],
  });
  const ev = await postEvent([contact.id], 'certificate.expired');
  const settled = await eventSettled(ev.id);
  assert.equal(settled.notifications.length, 3);
  for (const n of settled.notifications) {
    assert.equal(n.status, 'failed', JSON.stringify(n));
    assert.ok(n.last_error, 'a failure says why');
  }
  const errors = settled.notifications.map((n) => n.last_error).join('\n');
  assert.match(errors, /keyword/i);
  assert.match(errors, /signature|secret/i);
  assert.match(errors, /removed|invalid webhook/i);
  // each was tried once: a permanent refusal is not retried
  for (const n of settled.notifications) assert.equal(n.attempts, 1);
});

test('a temporary failure is retried on the schedule until it is delivered', async () => {
  const flaky = robots.register('wecom', null, {});
  robots.failNext('wecom', flaky, { http: 500 }, 1);
  robots.failNext('wecom', flaky, { errcode: -1 }, 1);
  const { contact } = await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(flaky) }] });
  const ev = await postEvent([contact.id], 'certificate.revoked', { reason: 'key compromise' });
  const settled = await eventSettled(ev.id, 20000);
  const [n] = settled.notifications;
  assert.equal(n.status, 'delivered');
  assert.equal(n.attempts, 3);
  const one = assertOk(await api(server, 'GET', `/v1/notifications/${n.id}`, { key: admin }), 200);
  assert.deepEqual(one.attempt_log.map((a) => a.outcome), ['retry', 'retry', 'ok']);
  assert.equal(one.attempt_log[0].http_status, 500);
  assert.equal(one.attempt_log[1].platform_code, '-1');
  assert.equal(robots.messages('wecom', flaky).length, 1);
});

test('when the retry schedule is spent the notification is dead, and resend tries again', async () => {
  const down = robots.register('dingtalk', null, { keywords: ['certificate'] });
  robots.failNext('dingtalk', down, { http: 503 }, 4);
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(down) }] });
  const ev = await postEvent([contact.id]);
  const settled = await eventSettled(ev.id, 20000);
  const [n] = settled.notifications;
  assert.equal(n.status, 'dead');
  assert.equal(n.attempts, 4, 'schedule 1,1,1 means four attempts');
  assertError(await api(server, 'POST', `/v1/notifications/${n.id}/resend`, { key: readonly }), 403, 'Forbidden');
  assertOk(await api(server, 'POST', `/v1/notifications/${n.id}/resend`, { key: admin }), 202);
  await robots.waitFor('dingtalk', down, 1, { timeoutMs: 10000 });
  const again = await eventSettled(ev.id);
  assert.equal(again.notifications[0].status, 'delivered');
});

test('deleting a contact cancels its pending notifications', async () => {
  const slow = robots.register('wecom', null, {});
  robots.failNext('wecom', slow, { http: 500 }, 10);
  const { contact } = await createContact(server, admin, { webhooks: [{ url: wecomWebhookUrl(slow) }] });
  const ev = await postEvent([contact.id]);
  // the first attempt fails; the notification waits for its next attempt
  await waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${ev.id}`, { key: admin }), 200);
    return e.notifications[0].attempts >= 1;
  }, { timeoutMs: 10000 });
  assert.equal((await api(server, 'DELETE', `/v1/contacts/${contact.id}`, { key: admin })).status, 204);
  const settled = await eventSettled(ev.id);
  assert.equal(settled.notifications[0].status, 'cancelled');
  assert.match(settled.notifications[0].last_error, /deleted/);
  robots.clearFailures('wecom', slow);
  assert.equal(robots.messages('wecom', slow).length, 0);
});

test('the delivery log filters by contact, event, status and channel, scoped to the account', async () => {
  const res = assertOk(await api(server, 'GET', '/v1/notifications?status=failed&channel=webhook&page_size=100', { key: admin }), 200);
  assert.ok(res.total >= 3);
  for (const n of res.items) {
    assert.equal(n.status, 'failed');
    assert.equal(n.channel, 'webhook');
  }
  assertError(await api(server, 'GET', '/v1/notifications?status=lost', { key: admin }), 400, 'InvalidParameter.Status');
  assertError(await api(server, 'GET', '/v1/notifications?page_size=0', { key: admin }), 400, 'InvalidParameter.PageSize');
  const other = createAccount(dir);
  const theirs = assertOk(await api(server, 'GET', '/v1/notifications', { key: other }), 200);
  assert.equal(theirs.total, 0);
  assertError(await api(server, 'GET', `/v1/notifications/${res.items[0].id}`, { key: other }), 404, 'NotFound');
});

test('bad events are refused with a clear error and record nothing', async () => {
  const { contact } = await createContact(server, admin);
  const bad = [
    [{ type: 'certificate.exploded', contact_ids: [contact.id] }, 'IncorrectFormat.Type'],
    [{ contact_ids: [contact.id] }, 'MissingParameter.Type'],
    [{ type: 'certificate.issued', contact_ids: [] }, 'MissingParameter.ContactIds'],
    [{ type: 'certificate.issued', contact_ids: [987654321] }, 'InvalidParameter.ContactIds'],
    [{ type: 'certificate.issued', contact_ids: [contact.id, contact.id] }, 'IncorrectFormat.ContactIds'],
    [{ type: 'certificate.issued', contact_ids: ['1'] }, 'IncorrectFormat.ContactIds'],
    [{ type: 'certificate.issued', contact_ids: [contact.id], data: [] }, 'IncorrectFormat.Data'],
    [{ type: 'certificate.issued', contact_ids: [contact.id], extra: 1 }, 'InvalidParameter.UnknownField'],
    [{ type: 'certificate.issued', contact_ids: Array.from({ length: 101 }, (_, i) => i + 1) }, 'LimitExceeded.ContactIds'],
  ];
  for (const [json, code] of bad) assertError(await api(server, 'POST', '/v1/events', { key: admin, json }), 400, code);
  assertError(await api(server, 'POST', '/v1/events', { key: readonly, json: { type: 'certificate.issued', contact_ids: [contact.id] } }), 403, 'Forbidden');
});

test('a test send goes through the same renderer and sender, and reports the platform verdict', async () => {
  const ding = robots.register('dingtalk', null, { secret: 'SECtest', keywords: ['certificate'] });
  const c = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding), secret: 'SECtest' }] });
  const hookId = c.contact.webhooks[0].id;
  const ok = assertOk(await api(server, 'POST', `/v1/contacts/${c.contact.id}/test`, {
    key: admin, json: { channel: 'webhook', webhook_id: hookId, event_type: 'certificate.expiring' },
  }), 200);
  assert.equal(ok.delivered, true);
  assert.equal(ok.platform_code, '0');
  const [m] = await robots.waitFor('dingtalk', ding, 1);
  assert.equal(m.msgtype, 'markdown', 'the same message type as a real notification');
  assert.match(m.text, /TEST/);
  assert.match(m.text, /expires in 30 days/);
  robots.update('dingtalk', ding, { keywords: ['部署'] });
  const refused = assertOk(await api(server, 'POST', `/v1/contacts/${c.contact.id}/test`, {
    key: admin, json: { channel: 'webhook' },
  }), 200);
  assert.equal(refused.delivered, false);
  assert.equal(refused.platform_code, '310000');
  assert.match(refused.reason, /keyword/i);
});

test('a robot can be tested before it is saved, through the same path, and nothing is stored', async () => {
  const lark = robots.register('lark', null, { secret: 'lark-secret', keywords: ['证书'] });
  const before = assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin }), 200).total;
  const ok = assertOk(await api(server, 'POST', '/v1/webhooks/test', {
    key: admin, json: { url: larkWebhookUrl(lark), secret: 'lark-secret', language: 'zh-CN', name: '张三' },
  }), 200);
  assert.equal(ok.delivered, true);
  assert.equal(ok.channel, 'webhook');
  assert.equal(ok.platform_code, '0');
  const [m] = await robots.waitFor('lark', lark, 1);
  assert.match(JSON.stringify(m), /证书/, 'rendered in the language asked for');
  // a wrong secret: the platform's refusal comes back as the verdict, not as an HTTP error
  const bad = assertOk(await api(server, 'POST', '/v1/webhooks/test', {
    key: admin, json: { url: larkWebhookUrl(lark), secret: 'not-the-secret' },
  }), 200);
  assert.equal(bad.delivered, false);
  assert.match(bad.reason, /sign/i);
  // checked as a contact's webhook would be
  assertError(await api(server, 'POST', '/v1/webhooks/test', {
    key: admin, json: { url: 'https://oapi.dingtalk.com.evil.example/robot/send?access_token=x' },
  }), 400, 'IncorrectFormat.Webhooks');
  assertError(await api(server, 'POST', '/v1/webhooks/test', { key: admin, json: {} }), 400, 'MissingParameter.Webhooks');
  assertError(await api(server, 'POST', '/v1/webhooks/test', {
    key: admin, json: { url: larkWebhookUrl(lark), extra: 1 },
  }), 400, 'InvalidParameter.UnknownField');
  assertError(await api(server, 'POST', '/v1/webhooks/test', {
    key: readonly, json: { url: larkWebhookUrl(lark) },
  }), 403, 'Forbidden');
  // nothing was saved
  assert.equal(assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin }), 200).total, before);
});

test('a refused robot is marked broken on the contact with the reason; the next delivery clears it', async () => {
  const ding = robots.register('dingtalk', null, { keywords: ['部署'] });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  const ev = await postEvent([contact.id], 'certificate.issued');
  const settled = await eventSettled(ev.id);
  assert.equal(settled.notifications[0].status, 'failed');
  const broken = assertOk(await getContact(server, admin, contact.id), 200);
  assert.match(broken.webhooks[0].broken, /keyword/i);
  assert.ok(broken.webhooks[0].broken_at);
  // the mark survives an update that keeps the URL
  const kept = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, {
    key: admin, json: { name: 'Renamed', webhooks: [{ url: dingtalkWebhookUrl(ding) }] },
  }), 200);
  assert.match(kept.webhooks[0].broken, /keyword/i);
  // the person adds the keyword; a resend gets through and clears the mark
  robots.update('dingtalk', ding, { keywords: ['certificate'] });
  assertOk(await api(server, 'POST', `/v1/notifications/${settled.notifications[0].id}/resend`, { key: admin }), 202);
  await eventSettled(ev.id);
  await waitFor(async () => {
    const c = assertOk(await getContact(server, admin, contact.id), 200);
    return c.webhooks[0].broken === null;
  }, { timeoutMs: 10000, what: 'the broken mark to clear' });
});

test('mention_mobile: DingTalk and WeCom @mention the verified mobile, and only when asked', async () => {
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const wecom = robots.register('wecom', null, {});
  const plain = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const c = await verifiedContact({
    webhooks: [
      { url: dingtalkWebhookUrl(ding), mention_mobile: true },
      { url: wecomWebhookUrl(wecom), mention_mobile: true },
      { url: dingtalkWebhookUrl(plain) },
    ],
  });
  assert.deepEqual(c.webhooks.map((w) => w.mention_mobile), [true, true, false]);
  assertError(await api(server, 'PATCH', `/v1/contacts/${c.id}`, {
    key: admin, json: { webhooks: [{ url: dingtalkWebhookUrl(ding), mention_mobile: 'yes' }] },
  }), 400, 'IncorrectFormat.Webhooks');
  await postEvent([c.id], 'certificate.expiring');
  const national = nationalMobile(c.mobile);
  const [d] = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 10000 });
  assert.deepEqual(d.body.at.atMobiles, [national]);
  assert.match(d.text, new RegExp(`@${national}`));
  assert.deepEqual(d.mentions, [national], 'the receiver sees a visible mention');
  const [w] = await robots.waitFor('wecom', wecom, 1, { timeoutMs: 10000 });
  assert.equal(w.msgtype, 'text');
  assert.deepEqual(w.body.text.mentioned_mobile_list, [national]);
  const [p] = await robots.waitFor('dingtalk', plain, 1, { timeoutMs: 10000 });
  assert.deepEqual(p.body.at?.atMobiles ?? [], []);
});

test('a real notification uses the account\'s own template for its channel and language', async () => {
  const put = await api(server, 'PUT', '/v1/templates/certificate.revoked/robot/en', {
    key: admin,
    json: { title: 'Revoked certificate {{domains}}', body: 'Our own words: the certificate for {{domains}} is revoked ({{reason}}).' },
  });
  assertOk(put, 200);
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  await postEvent([contact.id], 'certificate.revoked', { domains: ['own.example.com'], reason: 'superseded' });
  const [m] = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 10000 });
  assert.match(m.text, /Our own words: the certificate for own\.example\.com is revoked \(superseded\)/);
  assert.equal((await api(server, 'DELETE', '/v1/templates/certificate.revoked/robot/en', { key: admin })).status, 204);
});

test('a test send that gets through clears a broken mark; one the platform refuses sets it', async () => {
  const ding = robots.register('dingtalk', null, { keywords: ['部署'] });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  const send = () => api(server, 'POST', `/v1/contacts/${contact.id}/test`, { key: admin, json: { channel: 'webhook' } });
  assert.equal(assertOk(await send(), 200).delivered, false);
  assert.match(assertOk(await getContact(server, admin, contact.id), 200).webhooks[0].broken, /keyword/i);
  robots.update('dingtalk', ding, { keywords: ['certificate'] });
  assert.equal(assertOk(await send(), 200).delivered, true);
  assert.equal(assertOk(await getContact(server, admin, contact.id), 200).webhooks[0].broken, null);
});
