// certificate_lifecycle.test.mjs — the whole life of a certificate through the
// API, every notice reaching every channel for real: an OV application names
// a new contact created inline and is refused for the missing ID card (and
// nothing is kept); with it, the application goes submitted → pending
// validation → approved → issued; a second one is rejected; the issued
// certificate gets one reminder per threshold as the server's clock moves
// (clock_offset_s, dev mode); uploading the renewed certificate stops the old
// one's reminders. Every notice is delivered by email (a real SMTP server),
// SMS (the Alibaba gateway stand-in) and DingTalk, Lark and WeCom robots that
// check signatures and keywords.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, assertError, unique,
  uniqueMobile, idCard, waitFor, sendTargetCode, confirmTargetCode,
} from './lib/harness.mjs';
import { startSmtpSink, startSmsGateway, codeFromMail, nationalMobile, aliyunSmsEnv, smtpSinkEnv } from './lib/sinks.mjs';
import { startRobots, dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';
import { Pki } from './lib/pki.mjs';

const KEY_ID = 'LTAIlifecycle';
const SECRET = 'lifecycle-secret';
const SIGN = 'certcontacts';
const TPL_CODE = 'SMS_CODE_1';
const TPL_NOTIFY = 'SMS_NOTIFY_1';
const DAY = 86400000;
const CHANNELS = 5; // email, sms and three robots

let dir, server, key, sink, gw, robots, pki;
let offsetS = 0;

before(async () => {
  dir = makeDataDir();
  sink = await startSmtpSink();
  gw = await startSmsGateway({
    keys: { [KEY_ID]: SECRET }, signName: SIGN, templateCode: TPL_CODE,
    templates: { [TPL_CODE]: ['code'], [TPL_NOTIFY]: ['title'] },
  });
  robots = await startRobots();
  pki = new Pki();
  key = createAccount(dir);
  await restart(0);
});

after(async () => {
  try {
    await server?.stop();
  } finally {
    await robots?.stop();
    await gw?.stop?.();
    await sink?.stop?.();
    pki?.remove();
    removeDir(dir);
  }
});

/** (Re)starts the server with its clock offset by s seconds. */
async function restart(s) {
  if (server) await server.stop();
  server = null;
  offsetS = s;
  server = await startServer(dir, {
    env: {
      ...robots.env(),
      CERTCONTACTS_DEV: '1',
      CERTCONTACTS_CLOCK_OFFSET_S: String(s),
      ...smtpSinkEnv(sink),
      ...aliyunSmsEnv(gw, { keyId: KEY_ID, secret: SECRET, signName: SIGN, templateCode: TPL_CODE, notifyTemplateCode: TPL_NOTIFY }),
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
      CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
      CERTCONTACTS_PUBLIC_URL: 'https://certs.example.com',
    },
  });
}

/** Confirms target (an email or a mobile) through POST /v1/verifications with the code that arrived. */
async function confirm(channel, target) {
  const mark = sink.mark();
  const sent = gw.sent.length;
  const res = await sendTargetCode(server, key, channel, target);
  assertOk(res, 201);
  const code = channel === 'email'
    ? codeFromMail(await sink.waitForMail(target, { after: mark }))
    : (await waitFor(() => gw.sent.slice(sent).find((s) => s.phone === nationalMobile(target)))).templateParam.code;
  assertOk(await confirmTargetCode(server, key, res.json.verification_id, code), 200);
}

/** The events that reached contact id, oldest first, each with its notifications. */
async function eventsOf(contactId) {
  const r = assertOk(await api(server, 'GET', `/v1/notifications?contact_id=${contactId}&page_size=100`, { key }), 200);
  const ids = [...new Set(r.items.map((n) => n.event_id))].sort((a, b) => a - b);
  const out = [];
  for (const id of ids) out.push(assertOk(await api(server, 'GET', `/v1/events/${id}`, { key }), 200));
  return out;
}

/** Waits until the events of type (and match) reaching contactId number n, the last delivered on every channel. */
async function delivered(contactId, type, n, match = () => true) {
  let seen = [];
  return waitFor(async () => {
    const evs = (await eventsOf(contactId)).filter((e) => e.type === type && match(e));
    seen = evs.map((e) => [e.id, e.notifications.map((x) => `${x.channel}:${x.status}:${x.reason || x.last_error || ''}`)]);
    assert.ok(evs.length <= n, `${type}: ${evs.length} events, expected ${n}`);
    const last = evs[n - 1];
    if (!last) return null;
    assert.equal(last.notifications.length, CHANNELS, JSON.stringify(last.notifications));
    assert.ok(!last.notifications.some((x) => x.status === 'failed' || x.status === 'dead'), JSON.stringify(last.notifications));
    return last.notifications.every((x) => x.status === 'delivered') ? last : null;
  }, { timeoutMs: 20000, intervalMs: 100, what: `${n} ${type} delivered on every channel` }).catch((e) => {
    const lark = robots.records.filter((r) => r.platform === 'lark').map((r) => [r.seq, r.answeredAt, r.code, r.accepted, (r.title || '').slice(0, 40)]);
    throw new Error(`${e.message}; seen: ${JSON.stringify(seen)}; lark: ${JSON.stringify(lark)}`);
  });
}

/** The certificate, once the scheduler has nothing due at the server's clock for it. */
async function settledCert(id) {
  return waitFor(async () => {
    const c = assertOk(await api(server, 'GET', `/v1/certificates/${id}`, { key }), 200);
    return c.next_reminder_at === null || Date.parse(c.next_reminder_at) > Date.now() + offsetS * 1000 ? c : null;
  }, { timeoutMs: 15000, intervalMs: 100, what: `certificate ${id} to have nothing due` });
}

let contactId, domain, certId, notAfter;

test('an OV application naming a new inline contact is refused for the missing ID card, keeping nothing; with it, it is submitted', async () => {
  domain = `${unique('life')}.example.com`;
  const ding = robots.register('dingtalk', null, { secret: 'SEClife0001', keywords: ['certificate'] });
  // The restarts below come quicker than any deployment's: the server's
  // per-robot window is kept in memory, so right after one it may send a
  // burst Lark's 5-a-second limit refuses (and the message then waits out
  // the platform's window). This robot takes bursts; notify_rate.test.mjs
  // covers the limits themselves.
  const lark = robots.register('lark', null, { secret: 'lark-life', keywords: ['certificate'], rate: { perSecond: 50 } });
  const wecom = robots.register('wecom', null, {});
  const contact = {
    name: unique('Owner'),
    email: `${unique('owner')}@example.com`,
    mobile: uniqueMobile('138'),
    webhooks: [
      { url: dingtalkWebhookUrl(ding), secret: 'SEClife0001' },
      { url: larkWebhookUrl(lark, 'feishu'), secret: 'lark-life' },
      { url: wecomWebhookUrl(wecom) },
    ],
  };
  await confirm('email', contact.email);
  await confirm('mobile', contact.mobile);
  const app = { product: 'digicert-ov-1-personal', domains: [domain] };
  const refused = assertError(await api(server, 'POST', '/v1/applications', { key, json: { ...app, contact } }), 400, 'Contact.Ineligible');
  assert.deepEqual(refused.problems.map((p) => p.code), ['MissingParameter.IdCard']);
  const kept = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(contact.email)}`, { key }), 200);
  assert.equal(kept.total, 0, 'the refused application kept its contact');

  const a = assertOk(await api(server, 'POST', '/v1/applications', { key, json: { ...app, contact: { ...contact, id_card: idCard('11010519491231002') } } }), 201);
  assert.equal(a.state, 'submitted');
  contactId = a.contact_id;
  const c = assertOk(await api(server, 'GET', `/v1/contacts/${contactId}`, { key }), 200);
  assert.equal(c.email_status, 1);
  assert.equal(c.mobile_status, 1);
  assert.deepEqual(c.applications.map((x) => x.id), [a.id], 'the contact lists its open application');

  // verification needed, approved, issued: each notice on every channel
  for (const [to, type] of [['pending_validation', 'certificate.application.verification_required'], ['approved', 'certificate.application.approved']]) {
    assertOk(await api(server, 'POST', `/v1/applications/${a.id}/transitions`, { key, json: { to } }), 200);
    const e = await delivered(contactId, type, 1);
    assert.deepEqual(e.data.domains, [domain]);
  }
  const leaf = pki.leaf([domain], { days: 40 });
  notAfter = leaf.notAfter;
  const issued = assertOk(await api(server, 'POST', `/v1/applications/${a.id}/transitions`, { key, json: { to: 'issued', certificate_pem: leaf.chain } }), 200);
  assert.equal(issued.state, 'issued');
  await delivered(contactId, 'certificate.issued', 1);
  const certs = assertOk(await api(server, 'GET', `/v1/certificates?contact_id=${contactId}`, { key }), 200);
  assert.equal(certs.total, 1);
  certId = certs.items[0].id;
  assert.equal(certs.items[0].state, 'active');

  // what arrived, as the platforms saw it
  const mails = sink.mailsTo(contact.email).map((m) => JSON.stringify(m));
  assert.ok(mails.some((m) => m.includes('Certificate issued') && m.includes(domain)), 'the issued email');
  assert.ok(gw.sent.some((s) => s.phone === nationalMobile(contact.mobile) && /issued/i.test(s.templateParam.title || '')), 'the issued SMS');
  for (const [platform, token] of [['dingtalk', ding], ['lark', lark], ['wecom', wecom]]) {
    const got = await robots.waitFor(platform, token, 3, { timeoutMs: 10000 });
    assert.ok(got.some((m) => JSON.stringify(m).includes(domain)), `${platform} names the domain`);
  }
});

test('a second application is rejected: the reason reaches every channel', async () => {
  const a = assertOk(await api(server, 'POST', '/v1/applications', { key, json: { product: 'globalsign-ov-1-personal', domains: [`${unique('rej')}.example.com`], contact_id: contactId } }), 201);
  assertOk(await api(server, 'POST', `/v1/applications/${a.id}/transitions`, { key, json: { to: 'rejected', reason: 'organization not found' } }), 200);
  const e = await delivered(contactId, 'certificate.application.rejected', 1);
  assert.equal(e.data.reason, 'organization not found');
});

test('one expiry reminder per threshold as the clock passes each, on every channel', async () => {
  const isCert = (e) => e.data.certificate_id === String(certId);
  // 40 days left: the first threshold, 30 days, comes after 10 days
  await restart(Math.ceil((notAfter - 30 * DAY - Date.now()) / 1000) + 2);
  let e = await delivered(contactId, 'certificate.expiring', 1, isCert);
  assert.equal(e.data.days_left, 30);
  assert.equal(e.data.url, `https://certs.example.com/#/certificates/${certId}`);
  await restart(Math.ceil((notAfter - 15 * DAY - Date.now()) / 1000) + 2);
  e = await delivered(contactId, 'certificate.expiring', 2, isCert);
  assert.equal(e.data.days_left, 15);
  const c = await settledCert(certId);
  assert.equal(Date.parse(c.next_reminder_at), notAfter - 7 * DAY, 'the next threshold is 7 days before');
  assert.equal((await eventsOf(contactId)).filter((x) => x.type === 'certificate.expiring' && isCert(x)).length, 2);
});

test('uploading the renewed certificate stops the old one\'s reminders and carries its contact over', async () => {
  const renewed = pki.leaf([domain], { days: 90 });
  const fresh = assertOk(await api(server, 'POST', '/v1/certificates', { key, json: { pem: renewed.chain } }), 201);
  assert.deepEqual(fresh.contact_ids, [contactId]);
  const old = assertOk(await api(server, 'GET', `/v1/certificates/${certId}`, { key }), 200);
  assert.equal(old.state, 'superseded');
  assert.equal(old.next_reminder_at, null);
  // past the old certificate's 7-day threshold: a certificate due then too is
  // reminded (the scheduler ran), the superseded one is not
  // (the server's clock is offsetS ahead: 10 days left for it now, 2 after the restart)
  const marker = pki.leaf([`${unique('mark')}.example.com`], { days: offsetS / 86400 + 10 });
  const m = assertOk(await api(server, 'POST', '/v1/certificates', { key, json: { pem: marker.chain, contact_ids: [contactId] } }), 201);
  await delivered(contactId, 'certificate.expiring', 1, (e) => e.data.certificate_id === String(m.id));
  await restart(Math.ceil((notAfter - 7 * DAY - Date.now()) / 1000) + 2);
  await delivered(contactId, 'certificate.expiring', 2, (e) => e.data.certificate_id === String(m.id));
  await settledCert(m.id);
  const evs = (await eventsOf(contactId)).filter((e) => /^certificate\.expir/.test(e.type) && e.data.certificate_id === String(certId));
  assert.deepEqual(evs.map((e) => [e.type, e.data.days_left]), [['certificate.expiring', 30], ['certificate.expiring', 15]]);
  const now = assertOk(await api(server, 'GET', `/v1/certificates/${fresh.id}`, { key }), 200);
  assert.equal(now.state, 'active');
  assert.equal(Date.parse(now.next_reminder_at), renewed.notAfter - 30 * DAY);
});
