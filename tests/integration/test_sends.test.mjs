// test_sends.test.mjs — "Send test" is not a relay for spam or paid SMS:
// an email or mobile is tested only once verified (nothing reaches an
// unverified address), and every kind of test send — a contact's email,
// mobile or robot, and a robot before it is saved — counts against a limit
// per contact (or robot) and per account, answered with 429 and
// Retry-After, kept across a restart.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, createContact,
  unique, uniqueMobile, sendContactCode, confirmContactCode, stopAllAfter, show,
} from './lib/harness.mjs';
import { startSmtpSink, startSmsGateway, codeFromMail } from './lib/sinks.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';

const KEY_ID = 'LTAItestsend';
const SECRET = 'testsend-secret';
const SIGN = 'certcontacts';
const TPL_CODE = 'SMS_CODE_1';
const TPL_NOTIFY = 'SMS_NOTIFY_1';
const PER_CONTACT = 3;
const PER_ACCOUNT = 7;

let dir, server, sink, gw, robots, env;
stopAllAfter(() => [server, robots, gw, sink], () => dir);

before(async () => {
  dir = makeDataDir();
  sink = await startSmtpSink();
  gw = await startSmsGateway({
    keys: { [KEY_ID]: SECRET }, signName: SIGN, templateCode: TPL_CODE,
    templates: { [TPL_CODE]: ['code'], [TPL_NOTIFY]: ['title'] },
  });
  robots = await startRobots();
  env = {
    ...robots.env(),
    CERTCONTACTS_SMTP_URL: sink.url,
    CERTCONTACTS_SMTP_FROM: 'certcontacts <noreply@certcontacts.test>',
    CERTCONTACTS_SMTP_STARTTLS: 'optional',
    CERTCONTACTS_SMS_PROVIDER: 'aliyun',
    CERTCONTACTS_SMS_ENDPOINT: gw.url,
    CERTCONTACTS_SMS_ACCESS_KEY_ID: KEY_ID,
    CERTCONTACTS_SMS_ACCESS_KEY_SECRET: SECRET,
    CERTCONTACTS_SMS_SIGN_NAME: SIGN,
    CERTCONTACTS_SMS_TEMPLATE_CODE: TPL_CODE,
    CERTCONTACTS_SMS_NOTIFY_TEMPLATE_CODE: TPL_NOTIFY,
    CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
    CERTCONTACTS_SEND_TIMEOUT_MS: '3000',
    CERTCONTACTS_TEST_SEND_MAX_PER_HOUR: String(PER_CONTACT),
    CERTCONTACTS_TEST_SEND_ACCOUNT_MAX_PER_HOUR: String(PER_ACCOUNT),
  };
  server = await startServer(dir, { env });
});

const testSend = (key, id, json) => api(server, 'POST', `/v1/contacts/${id}/test`, { key, json });

/** A 429 Throttling.TestSend with a Retry-After of whole seconds in [1, 3600]. */
function assertLimited(res) {
  assertError(res, 429, 'Throttling.TestSend');
  const ra = res.headers.get('retry-after');
  assert.match(ra ?? '', /^[0-9]+$/, show(res));
  assert.ok(Number(ra) >= 1 && Number(ra) <= 3600, show(res));
  assert.equal(res.json.retry_after, Number(ra));
}

test('a test send to an unverified email or mobile is refused and nothing is sent', async () => {
  const admin = createAccount(dir);
  const email = `${unique('tv')}@example.com`;
  const { contact } = await createContact(server, admin, { name: 'Buy cheap pills at spam.example', email, mobile: uniqueMobile('138') });
  const mark = sink.mark();
  const sms = gw.sent.length;
  assertError(await testSend(admin, contact.id, { channel: 'email' }), 409, 'Unverified.Email');
  assertError(await testSend(admin, contact.id, { channel: 'mobile' }), 409, 'Unverified.Mobile');
  // a refusal spends no place in the limit
  for (let i = 0; i < PER_CONTACT + 1; i++)
    assertError(await testSend(admin, contact.id, { channel: 'email' }), 409, 'Unverified.Email');
  // once verified (the flow that tries an unverified address), the test goes out
  assertOk(await sendContactCode(server, admin, contact.id, 'email'), 201);
  const code = codeFromMail(await sink.waitForMail(email, { after: mark }));
  assertOk(await confirmContactCode(server, admin, contact.id, 'email', code), 200);
  const afterCode = sink.mark();
  const ok = assertOk(await testSend(admin, contact.id, { channel: 'email' }), 200);
  assert.equal(ok.delivered, true, JSON.stringify(ok));
  await sink.waitForMail(email, { after: afterCode });
  assert.equal(gw.sent.length, sms, 'no SMS went to the unverified mobile');
  // changing the address makes it unverified again: no test to the new one
  const other = `${unique('tv2')}@example.com`;
  assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { email: other } }), 200);
  assertError(await testSend(admin, contact.id, { channel: 'email' }), 409, 'Unverified.Email');
  assert.equal(sink.mailsTo(other).length, 0);
});

test('test sends are limited per contact and per account, robots and unsaved robots included, across a restart', async () => {
  const admin = createAccount(dir);
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const url = dingtalkWebhookUrl(ding);
  const a = (await createContact(server, admin, { webhooks: [{ url }] })).contact;
  const b = (await createContact(server, admin, { webhooks: [{ url }] })).contact;
  for (let i = 0; i < PER_CONTACT; i++)
    assert.equal(assertOk(await testSend(admin, a.id, { channel: 'webhook' }), 200).delivered, true);
  assertLimited(await testSend(admin, a.id, { channel: 'webhook' }));
  // another contact of the account still has its own places
  assertOk(await testSend(admin, b.id, { channel: 'webhook' }), 200);
  // a robot before it is saved: limited per robot URL
  const hookUrl = dingtalkWebhookUrl(robots.register('dingtalk', null, { keywords: ['certificate'] }));
  for (let i = 0; i < PER_ACCOUNT - PER_CONTACT - 1; i++)
    assertOk(await api(server, 'POST', '/v1/webhooks/test', { key: admin, json: { url: hookUrl } }), 200);
  // the account's places are spent: every kind of test is refused now
  const fresh = (await createContact(server, admin, { webhooks: [{ url }] })).contact;
  assertLimited(await testSend(admin, fresh.id, { channel: 'webhook' }));
  const other = dingtalkWebhookUrl(robots.register('dingtalk', null, { keywords: ['certificate'] }));
  assertLimited(await api(server, 'POST', '/v1/webhooks/test', { key: admin, json: { url: other } }));
  // another account is not affected
  const admin2 = createAccount(dir);
  const c2 = (await createContact(server, admin2, { webhooks: [{ url }] })).contact;
  assertOk(await testSend(admin2, c2.id, { channel: 'webhook' }), 200);
  // the limit survives a restart
  await server.stop();
  server = await startServer(dir, { env });
  assertLimited(await testSend(admin, b.id, { channel: 'webhook' }));
  // what reached the robot: a's three, b's one and the other account's one
  assert.equal(robots.received('dingtalk', ding).length, PER_CONTACT + 2);
});

test('an unsaved robot has its own per-robot limit', async () => {
  const admin = createAccount(dir);
  const hookUrl = dingtalkWebhookUrl(robots.register('dingtalk', null, { keywords: ['certificate'] }));
  for (let i = 0; i < PER_CONTACT; i++)
    assertOk(await api(server, 'POST', '/v1/webhooks/test', { key: admin, json: { url: hookUrl } }), 200);
  assertLimited(await api(server, 'POST', '/v1/webhooks/test', { key: admin, json: { url: hookUrl } }));
  const other = dingtalkWebhookUrl(robots.register('dingtalk', null, { keywords: ['certificate'] }));
  assertOk(await api(server, 'POST', '/v1/webhooks/test', { key: admin, json: { url: other } }), 200);
});
