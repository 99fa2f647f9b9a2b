// reminders.test.mjs — expiry reminders against the real binary, with a
// local DingTalk robot receiving them. The clock is moved with
// clock_offset_s (dev mode only), restarting the server: each threshold
// (30, 15, 7, 3, 1 days, the expiry day, the day after) gives exactly one
// event; a reminder due outside the delivery window waits for it to open;
// a certificate's own thresholds; a renewal stops the old certificate's
// reminders and cancels the pending ones; downtime past several thresholds
// gives one merged reminder; a restart repeats nothing; kill -9 between
// raising a reminder and delivering it loses nothing; the settings refuse
// bad values, naming the field.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError, createContact,
  waitFor, stopAllAfter, cli, removeDir,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';
import { Pki } from './lib/pki.mjs';

const DAY = 86400000;
const HOUR = 3600000;
/* not_after keeps whole seconds */
const sec = (ms) => Math.floor(ms / 1000) * 1000;

let dir, server, robots, pki;
const acct = {};

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  pki = new Pki();
  // accounts before the server holds the data directory
  for (const name of ['steps', 'window', 'own', 'renew', 'downtime', 'crash', 'settings']) acct[name] = createAccount(dir);
  acct.readonly = createKey(dir, acct.settings.account_id, 'readonly');
});

stopAllAfter(() => [server, robots, { stop: () => pki.remove() }], () => dir);

const env = (offsetS, extra = {}) => ({
  ...robots.env(),
  CERTCONTACTS_DEV: '1',
  CERTCONTACTS_CLOCK_OFFSET_S: String(offsetS),
  CERTCONTACTS_RETRY_SCHEDULE: '60,300',
  CERTCONTACTS_PUBLIC_URL: 'https://certs.example.com/',
  ...extra,
});

/** (Re)start the server with the clock offset by offsetS seconds. */
let offsetNow = 0;
async function restart(offsetS, extra) {
  if (server) await server.stop();
  server = null;
  offsetNow = offsetS;
  server = await startServer(dir, { env: env(offsetS, extra) });
}

/** The offset in whole seconds that puts the server's clock a little past t (ms). */
const offsetPast = (t, slackMs = 1500) => Math.ceil((t - Date.now() + slackMs) / 1000);

async function contactWithRobot(key, opts = {}) {
  const ding = robots.register('dingtalk', null, opts);
  const { contact } = await createContact(server, key, { webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  return { contact, ding };
}

async function addCert(key, json) {
  return assertOk(await api(server, 'POST', '/v1/certificates', { key, json }), 201);
}

const getCert = async (key, id) => assertOk(await api(server, 'GET', `/v1/certificates/${id}`, { key }), 200);

/** The reminder events of certificate certId reaching contactId, oldest first, with their notifications. */
async function reminders(key, contactId, certId) {
  const r = assertOk(await api(server, 'GET', `/v1/notifications?contact_id=${contactId}&page_size=100`, { key }), 200);
  const ids = [...new Set(r.items.map((n) => n.event_id))].sort((a, b) => a - b);
  const out = [];
  for (const id of ids) {
    const e = assertOk(await api(server, 'GET', `/v1/events/${id}`, { key }), 200);
    if (/^certificate\.expir/.test(e.type) && e.data.certificate_id === String(certId)) out.push(e);
  }
  return out;
}

/** Waits until certificate certId has n reminders, the last one delivered; returns them. */
async function waitReminders(key, contactId, certId, n, what) {
  return waitFor(async () => {
    const evs = await reminders(key, contactId, certId);
    if (evs.length > n) assert.fail(`${what}: ${evs.length} reminders, expected ${n}: ${JSON.stringify(evs.map((e) => [e.type, e.data.days_left]))}`);
    const last = evs[n - 1];
    return evs.length === n && last.notifications.every((x) => x.status === 'delivered') ? evs : null;
  }, { timeoutMs: 15000, intervalMs: 100, what });
}

/**
 * No further reminder comes: once the certificate's next reminder time is
 * past the server's clock (or it has none), everything due was raised — a
 * reminder and the next time are written in one transaction.
 */
async function noMore(key, contactId, certId, n) {
  await waitFor(async () => {
    const c = await getCert(key, certId);
    return c.next_reminder_at === null || Date.parse(c.next_reminder_at) > Date.now() + offsetNow * 1000;
  }, { timeoutMs: 15000, intervalMs: 50, what: `certificate ${certId} to have nothing due` });
  const evs = await reminders(key, contactId, certId);
  assert.equal(evs.length, n, `expected ${n} reminders, got ${JSON.stringify(evs.map((e) => [e.type, e.data.days_left]))}`);
}

test('clock_offset_s needs dev mode', () => {
  const d = makeDataDir();
  const r = cli(['serve', '--listen', '127.0.0.1:0'], { dataDir: d, env: { CERTCONTACTS_CLOCK_OFFSET_S: '60' } });
  removeDir(d);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /clock_offset_s is a test and drill option: it is allowed only with dev = true/);
});

test('settings: defaults, saved, and bad values refused with the field named', async () => {
  await restart(0);
  const key = acct.settings;
  const d = assertOk(await api(server, 'GET', '/v1/settings/reminders', { key }), 200);
  assert.deepEqual(d, { days_before: [30, 15, 7, 3, 1], on_expiry_day: true, day_after: true, window: null, time_zone: 'UTC' });
  const bad = [
    [{ days_before: [0] }, 'InvalidParameter.DaysBefore'],
    [{ days_before: [366] }, 'InvalidParameter.DaysBefore'],
    [{ days_before: [7, 7] }, 'InvalidParameter.DaysBefore'],
    [{ days_before: [1.5] }, 'InvalidParameter.DaysBefore'],
    [{ days_before: 'soon' }, 'InvalidParameter.DaysBefore'],
    [{ days_before: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] }, 'LimitExceeded.DaysBefore'],
    [{ on_expiry_day: 'yes' }, 'InvalidParameter.OnExpiryDay'],
    [{ day_after: 1 }, 'InvalidParameter.DayAfter'],
    [{ window: { start: '09:00', end: '09:00' } }, 'InvalidParameter.Window'],
    [{ window: { start: '9:00', end: '20:00' } }, 'InvalidParameter.Window'],
    [{ window: { start: '24:00', end: '20:00' } }, 'InvalidParameter.Window'],
    [{ window: { start: '09:00' } }, 'InvalidParameter.Window'],
    [{ window: '09:00-20:00' }, 'InvalidParameter.Window'],
    [{ time_zone: 'Mars/Olympus_Mons' }, 'InvalidParameter.TimeZone'],
    [{ time_zone: '' }, 'InvalidParameter.TimeZone'],
    [{ time_zone: 8 }, 'InvalidParameter.TimeZone'],
  ];
  for (const [json, code] of bad) {
    assertError(await api(server, 'PUT', '/v1/settings/reminders', { key, json }), 400, code);
  }
  assertError(await api(server, 'PUT', '/v1/settings/reminders', { key, json: { colour: 'red' } }), 400);
  assertError(await api(server, 'PUT', '/v1/settings/reminders', { key: acct.readonly, json: { day_after: false } }), 403);
  assertOk(await api(server, 'GET', '/v1/settings/reminders', { key: acct.readonly }), 200);
  const saved = assertOk(await api(server, 'PUT', '/v1/settings/reminders', {
    key, json: { days_before: [1, 60], window: { start: '22:00', end: '06:30' }, time_zone: 'Asia/Shanghai' },
  }), 200);
  assert.deepEqual(saved, { days_before: [60, 1], on_expiry_day: true, day_after: true, window: { start: '22:00', end: '06:30' }, time_zone: 'Asia/Shanghai' });
  // what was refused changed nothing; what is not sent stays
  assertOk(await api(server, 'PUT', '/v1/settings/reminders', { key, json: { day_after: false } }), 200);
  const now = assertOk(await api(server, 'GET', '/v1/settings/reminders', { key }), 200);
  assert.deepEqual(now, { ...saved, day_after: false });
  assertOk(await api(server, 'PUT', '/v1/settings/reminders', { key, json: { window: null } }), 200);
  assert.equal(assertOk(await api(server, 'GET', '/v1/settings/reminders', { key }), 200).window, null);
  // the certificates' reminder_days is checked the same way
  assertError(await api(server, 'POST', '/v1/certificates', {
    key, json: { domains: ['s.example.com'], not_after: '2030-01-01', reminder_days: [400] },
  }), 400, 'InvalidParameter.ReminderDays');
});

test('each threshold, the expiry day and the day after: exactly one reminder each, delivered', async () => {
  await restart(0);
  const key = acct.steps;
  const { contact, ding } = await contactWithRobot(key);
  // expires at 12:00 UTC, 40 days on: the expiry day begins 12 hours before
  const day0 = Math.floor((Date.now() + 40 * DAY) / DAY) * DAY;
  const notAfter = day0 + 12 * HOUR;
  const cert = await addCert(key, { domains: ['steps.example.com'], not_after: new Date(notAfter).toISOString(), contact_ids: [contact.id] });
  assert.equal(cert.reminder_days, null);
  assert.equal(cert.next_reminder_at, new Date(notAfter - 30 * DAY).toISOString());
  const steps = [
    [notAfter - 30 * DAY, 'certificate.expiring', 30],
    [notAfter - 15 * DAY, 'certificate.expiring', 15],
    [notAfter - 7 * DAY, 'certificate.expiring', 7],
    [notAfter - 3 * DAY, 'certificate.expiring', 3],
    [notAfter - 1 * DAY, 'certificate.expiring', 1],
    [day0, 'certificate.expiring', 0],
    [day0 + DAY, 'certificate.expired', 0],
  ];
  for (let i = 0; i < steps.length; i++) {
    const [at, type, left] = steps[i];
    await restart(offsetPast(at));
    const evs = await waitReminders(key, contact.id, cert.id, i + 1, `reminder ${i + 1} (${type}, ${left})`);
    const e = evs[i];
    assert.equal(e.type, type);
    assert.equal(e.data.days_left, left);
    assert.deepEqual(e.data.domains, ['steps.example.com']);
    assert.equal(e.data.url, `https://certs.example.com/#/certificates/${cert.id}`);
    assert.match(e.data.not_after, /^\d{4}-\d{2}-\d{2} 12:00 UTC$/);
    const c = await getCert(key, cert.id);
    const next = steps[i + 1];
    assert.equal(c.next_reminder_at, next ? new Date(next[0]).toISOString() : null);
  }
  await noMore(key, contact.id, cert.id, steps.length);
  assert.equal(robots.received('dingtalk', ding).filter((r) => r.accepted).length, steps.length);
});

test('a reminder due outside the delivery window waits for it to open', async () => {
  await restart(0);
  const key = acct.window;
  assertOk(await api(server, 'PUT', '/v1/settings/reminders', { key, json: { window: { start: '09:00', end: '10:00' }, time_zone: 'UTC' } }), 200);
  const { contact } = await contactWithRobot(key);
  // the window opens at 09:00 UTC on `open`; the server's clock is 8 s before it
  const open = Math.floor((Date.now() + 3 * DAY) / DAY) * DAY + 9 * HOUR;
  await restart(Math.round((open - 8000 - Date.now()) / 1000));
  // its 1-day point fell due at 04:00, outside the window
  const cert = await addCert(key, {
    domains: ['window.example.com'], not_after: new Date(open + DAY - 5 * HOUR).toISOString(),
    contact_ids: [contact.id], reminder_days: [1],
  });
  assert.equal(cert.next_reminder_at, new Date(open).toISOString());
  assert.equal((await reminders(key, contact.id, cert.id)).length, 0, 'sent before the window opened');
  const [e] = await waitReminders(key, contact.id, cert.id, 1, 'the reminder once the window opens');
  assert.equal(e.data.days_left, 1);
  await noMore(key, contact.id, cert.id, 1);
});

test("a certificate's own thresholds", async () => {
  await restart(0);
  const key = acct.own;
  const { contact } = await contactWithRobot(key);
  const notAfter = new Date(sec(Date.now() + 10 * DAY - 60000)).toISOString();
  const own = await addCert(key, { domains: ['own.example.com'], not_after: notAfter, contact_ids: [contact.id], reminder_days: [10] });
  const plain = await addCert(key, { domains: ['plain.example.com'], not_after: notAfter, contact_ids: [contact.id] });
  const none = await addCert(key, { domains: ['none.example.com'], not_after: notAfter, contact_ids: [contact.id], reminder_days: [] });
  assert.deepEqual(own.reminder_days, [10]);
  assert.equal(plain.reminder_days, null);
  assert.deepEqual(none.reminder_days, []);
  // on time for its own 10 days; the account's 30 and 15 merged: the days really left
  assert.equal((await waitReminders(key, contact.id, own.id, 1, 'own'))[0].data.days_left, 10);
  assert.equal((await waitReminders(key, contact.id, plain.id, 1, 'plain'))[0].data.days_left, 9);
  // no days-before reminders: the next one is the expiry day's
  const n = await getCert(key, none.id);
  const expiryDay = Math.floor(Date.parse(notAfter) / DAY) * DAY;
  assert.equal(n.next_reminder_at, new Date(expiryDay).toISOString());
  await noMore(key, contact.id, none.id, 0);
  // own thresholds added later; then back to the account's
  const p = assertOk(await api(server, 'PATCH', `/v1/certificates/${none.id}`, { key, json: { reminder_days: [12] } }), 200);
  assert.deepEqual(p.reminder_days, [12]);
  assert.equal((await waitReminders(key, contact.id, none.id, 1, 'after PATCH'))[0].data.days_left, 9);
  const back = assertOk(await api(server, 'PATCH', `/v1/certificates/${none.id}`, { key, json: { reminder_days: null } }), 200);
  assert.equal(back.reminder_days, null);
  assert.equal(back.next_reminder_at, new Date(Date.parse(notAfter) - 7 * DAY).toISOString());
  assertError(await api(server, 'PATCH', `/v1/certificates/${none.id}`, { key, json: { reminder_days: [0] } }), 400, 'InvalidParameter.ReminderDays');
});

test('renewal stops the old certificate\'s reminders and cancels its pending ones', async () => {
  await restart(0);
  const key = acct.renew;
  const { contact, ding } = await contactWithRobot(key);
  robots.failNext('dingtalk', ding, { http: 500 }, 1);
  const old = pki.leaf(['renew.example.com'], { days: 5.01 });
  const oldCert = await addCert(key, { pem: old.chain, contact_ids: [contact.id] });
  // raised at once (5 days left), its first attempt failed: pending, retried in a minute
  const pending = await waitFor(async () => {
    const evs = await reminders(key, contact.id, oldCert.id);
    return evs.length === 1 && evs[0].notifications[0].attempts >= 1 && evs[0].notifications[0].status === 'pending' ? evs[0] : null;
  }, { timeoutMs: 10000, what: 'a failed first attempt' });
  assert.equal(pending.data.days_left, 5);
  const renewed = pki.leaf(['renew.example.com'], { days: 400 });
  const newCert = await addCert(key, { pem: renewed.chain });
  assert.deepEqual(newCert.contact_ids, [contact.id], 'the new certificate has the subscribers');
  assert.ok(newCert.next_reminder_at);
  const o = await getCert(key, oldCert.id);
  assert.equal(o.state, 'superseded');
  assert.equal(o.next_reminder_at, null);
  const [ev] = await reminders(key, contact.id, oldCert.id);
  assert.equal(ev.notifications[0].status, 'cancelled');
  // days later: nothing more for the old one
  await restart(offsetPast(old.notAfter + DAY));
  await noMore(key, contact.id, oldCert.id, 1);
  assert.equal(robots.received('dingtalk', ding).filter((r) => r.accepted).length, 0);
});

test('downtime past several thresholds: one merged reminder; a restart repeats nothing', async () => {
  await restart(0);
  const key = acct.downtime;
  const { contact } = await contactWithRobot(key);
  const notAfter = sec(Date.now() + 40 * DAY);
  const cert = await addCert(key, { domains: ['down.example.com'], not_after: new Date(notAfter).toISOString(), contact_ids: [contact.id] });
  await noMore(key, contact.id, cert.id, 0);
  // down from before the 30-day point until past the 7-day one
  const offset = offsetPast(notAfter - 6.5 * DAY);
  await restart(offset);
  const [e] = await waitReminders(key, contact.id, cert.id, 1, 'the merged reminder');
  assert.equal(e.type, 'certificate.expiring');
  assert.equal(e.data.days_left, 6);
  assert.equal((await getCert(key, cert.id)).next_reminder_at, new Date(notAfter - 3 * DAY).toISOString());
  await restart(offset + 60);
  // a certificate due at once: when its reminder is there, the scheduler's
  // first pass after the restart is done — and raised nothing again
  const marker = await addCert(key, { domains: ['marker.example.com'], not_after: new Date(Date.now() + (offset + 60) * 1000 + 2 * DAY).toISOString(), contact_ids: [contact.id] });
  await waitReminders(key, contact.id, marker.id, 1, 'the marker');
  await noMore(key, contact.id, cert.id, 1);
});

test('kill -9 between raising a reminder and its delivery: delivered once after restart', async () => {
  const extra = { CERTCONTACTS_DELIVERY_LEASE_S: '5', CERTCONTACTS_SEND_TIMEOUT_MS: '20000' };
  await restart(0, extra);
  const key = acct.crash;
  const { contact, ding } = await contactWithRobot(key, { hang: true });
  const cert = await addCert(key, { domains: ['crash.example.com'], not_after: new Date(Date.now() + 5 * DAY + HOUR).toISOString(), contact_ids: [contact.id] });
  // the reminder was raised and its message is on the wire when the server dies
  const [first] = await robots.waitForRequests('dingtalk', ding, 1, { timeoutMs: 10000 });
  server.proc.kill('SIGKILL');
  await server.exit;
  server.proc = null;
  server = null;
  robots.update('dingtalk', ding, { hang: false });
  await restart(0, extra);
  const evs = await waitReminders(key, contact.id, cert.id, 1, 'delivery after the restart');
  assert.equal(evs[0].data.days_left, 5);
  await noMore(key, contact.id, cert.id, 1);
  const msgs = robots.received('dingtalk', ding).filter((r) => r.body);
  assert.equal(new Set(msgs.map((m) => m.body.msgUuid)).size, 1, 'one message, the same msgUuid on every attempt');
  assert.equal(first.body.msgUuid, msgs[msgs.length - 1].body.msgUuid);
});
