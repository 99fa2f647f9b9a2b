// stats.test.mjs — GET /v1/stats, the console's Overview: outcomes per channel
// move with real traffic (email and SMS written to the log, robots on the local
// receivers: delivered, refused for good, dead once the retry schedule is spent),
// every finished notification lands in the hour and the local date of its
// outcome in the account's time zone (a zone half an hour off UTC, and New
// York), broken robots and addresses and unverified contacts are listed with
// their contact, certificates expiring within 30 days only, a readonly key
// reads it, and another account's data never appears.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError, createContact,
  verifiedContactBody, eventSettled, stopAllAfter, RFC3339, dbQuery,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';

const CHANNELS = ['email', 'sms', 'dingtalk', 'lark', 'wecom'];
const OUTCOMES = ['delivered', 'failed', 'dead'];
let dir, server, robots, a, aRead, b;
stopAllAfter(() => [server, robots], () => dir);

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  a = createAccount(dir);
  aRead = createKey(dir, a.account_id, 'readonly');
  b = createAccount(dir);
  server = await startServer(dir, {
    env: {
      ...robots.env(),
      CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '',
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0', CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
      CERTCONTACTS_SEND_TIMEOUT_MS: '3000',
    },
  });
});

const stats = async (key) => assertOk(await api(server, 'GET', '/v1/stats', { key }), 200);

async function raise(key, contactIds) {
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key, json: { type: 'certificate.expiring', contact_ids: contactIds, data: { domains: ['shop.example.com'], days_left: 9 } },
  }), 201);
  return eventSettled(server, key, ev.id, { timeoutMs: 30000 });
}

/** Sums of a list of buckets: {channel: {outcome: n}}. */
function sum(buckets) {
  const out = Object.fromEntries(CHANNELS.map((c) => [c, Object.fromEntries(OUTCOMES.map((o) => [o, 0]))]));
  for (const bk of buckets) for (const c of CHANNELS) for (const o of OUTCOMES) out[c][o] += bk.channels[c][o];
  return out;
}

function channelOf(n) {
  if (n.channel === 'email') return 'email';
  if (n.channel === 'mobile') return 'sms';
  if (n.target.startsWith('https://oapi.dingtalk.com')) return 'dingtalk';
  if (n.target.startsWith('https://open.feishu.cn') || n.target.startsWith('https://open.larksuite.com')) return 'lark';
  return 'wecom';
}

const localDate = (ms, timeZone) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));

/** Every finished notification of the account, placed by hand in s's hours and dates. */
async function expected(key, s) {
  const hours = s.deliveries.hours.map(() => ({}));
  const days = s.deliveries.days.map(() => ({}));
  let page = 1, all = [];
  for (;;) {
    const l = assertOk(await api(server, 'GET', `/v1/notifications?page_size=100&page=${page}`, { key }), 200);
    all = all.concat(l.items);
    if (all.length >= l.total || !l.items.length) break;
    page += 1;
  }
  for (const n of all) {
    if (!OUTCOMES.includes(n.status)) continue;
    const at = Date.parse(n.updated_at);
    const k = `${channelOf(n)}/${n.status}`;
    const h = s.deliveries.hours.findIndex((x) => Date.parse(x.start) <= at && at < Date.parse(x.start) + 3600000);
    if (h >= 0) hours[h][k] = (hours[h][k] || 0) + 1;
    const d = s.deliveries.days.findIndex((x) => x.date === localDate(at, s.time_zone));
    if (d >= 0) days[d][k] = (days[d][k] || 0) + 1;
  }
  return { hours, days };
}

const flat = (buckets) => buckets.map((bk) => {
  const o = {};
  for (const c of CHANNELS) for (const x of OUTCOMES) if (bk.channels[c][x]) o[`${c}/${x}`] = bk.channels[c][x];
  return o;
});

let contacts = {};

test('counts move with traffic: delivered, refused for good and dead, per channel; broken robots and unverified contacts listed', async () => {
  const s0 = await stats(a);
  assert.equal(s0.deliveries.hours.length, 24);
  assert.equal(s0.deliveries.days.length, 30);
  assert.match(s0.now, RFC3339);
  const t0 = { day: sum(s0.deliveries.days), hour: sum(s0.deliveries.hours) };

  const ok = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const lark = robots.register('lark', null, {});
  const gone = robots.register('wecom', null, { removed: true });
  const down = robots.register('dingtalk', null, { keywords: ['certificate'] });
  robots.failNext('dingtalk', down, { http: 503 }, 4);
  const body = await verifiedContactBody(server, a);
  const { contact: good } = await createContact(server, a, {
    ...body, webhooks: [{ url: dingtalkWebhookUrl(ok) }, { url: larkWebhookUrl(lark) }, { url: wecomWebhookUrl(gone) }],
  });
  const { contact: flaky } = await createContact(server, a, { webhooks: [{ url: dingtalkWebhookUrl(down) }] });
  contacts = { good, flaky };
  const ev = await raise(a, [good.id, flaky.id]);
  const by = Object.fromEntries(ev.notifications.map((n) => [`${n.contact_id}/${channelOf(n)}/${n.webhook_id || ''}`, n.status]));
  assert.deepEqual(Object.values(by).sort(), ['dead', 'delivered', 'delivered', 'delivered', 'delivered', 'failed'], JSON.stringify(ev.notifications));

  const s1 = await stats(aRead); // a readonly key reads it
  const day = sum(s1.deliveries.days), hour = sum(s1.deliveries.hours);
  const moved = (now, then) => Object.fromEntries(CHANNELS.flatMap((c) => OUTCOMES.map((o) => [`${c}/${o}`, now[c][o] - then[c][o]])).filter(([, v]) => v));
  const want = { 'email/delivered': 1, 'sms/delivered': 1, 'dingtalk/delivered': 1, 'lark/delivered': 1, 'wecom/failed': 1, 'dingtalk/dead': 1 };
  assert.deepEqual(moved(day, t0.day), want);
  assert.deepEqual(moved(hour, t0.hour), want);

  // the removed robot needs attention, named with its contact, its URL masked
  const r = s1.attention.robots.find((x) => x.contact_id === good.id);
  assert.ok(r, JSON.stringify(s1.attention));
  assert.equal(r.platform, 'wecom');
  assert.equal(r.contact_name, good.name);
  assert.ok(r.problem);
  assert.match(r.since, RFC3339);
  assert.ok(!r.url.includes(gone), `the robot's key is masked: ${r.url}`);
  assert.ok(!s1.attention.robots.some((x) => x.contact_id === flaky.id), 'a dead notification does not mark the robot broken');
  // the contact without verified addresses is counted and listed
  const u = s1.unverified.list.find((x) => x.id === flaky.id);
  assert.ok(u, JSON.stringify(s1.unverified));
  assert.equal(u.email_verified, false);
  assert.equal(u.mobile_verified, false);
  assert.ok(!s1.unverified.list.some((x) => x.id === good.id));
  assert.equal(s1.unverified.contacts, s0.unverified.contacts + 1);
  assert.equal(s1.backup.last_at, null);
});

test('each finished notification is in the hour and the local date of its outcome, in the account time zone', async () => {
  for (const tz of ['Asia/Kolkata', 'America/New_York', 'UTC']) {
    assertOk(await api(server, 'PUT', '/v1/settings/reminders', { key: a, json: { time_zone: tz } }), 200);
    const s = await stats(a);
    assert.equal(s.time_zone, tz);
    const offset = tz === 'Asia/Kolkata' ? '\\+05:30' : tz === 'UTC' ? '(\\+00:00|Z)' : '-0[45]:00';
    for (const h of s.deliveries.hours) assert.match(h.start, new RegExp(`:00:00${offset}$`), h.start);
    for (let i = 1; i < 24; i++) assert.equal(Date.parse(s.deliveries.hours[i].start) - Date.parse(s.deliveries.hours[i - 1].start), 3600000);
    const last = Date.parse(s.deliveries.hours[23].start);
    assert.ok(last <= Date.parse(s.now) && Date.parse(s.now) < last + 3600000);
    assert.equal(s.deliveries.days[29].date, localDate(Date.parse(s.now), tz));
    const e = await expected(a, s);
    assert.deepEqual(flat(s.deliveries.hours), e.hours, tz);
    assert.deepEqual(flat(s.deliveries.days), e.days, tz);
  }
});

test('certificates expiring within 30 days, soonest first; another account sees none of it', async () => {
  const day = 86400000;
  const iso = (ms) => new Date(ms).toISOString();
  const soon = assertOk(await api(server, 'POST', '/v1/certificates', { key: a, json: { domains: ['soon.example.com'], not_after: iso(Date.now() + 10 * day) } }), 201);
  const sooner = assertOk(await api(server, 'POST', '/v1/certificates', { key: a, json: { domains: ['sooner.example.com'], not_after: iso(Date.now() + 3 * day + 3600000), name: 'Shop' } }), 201);
  const later = assertOk(await api(server, 'POST', '/v1/certificates', { key: a, json: { domains: ['later.example.com'], not_after: iso(Date.now() + 40 * day) } }), 201);
  const s = await stats(a);
  const ids = s.certificates.expiring.map((c) => c.id);
  assert.deepEqual(ids.filter((id) => [soon.id, sooner.id, later.id].includes(id)), [sooner.id, soon.id]);
  const [x, y] = s.certificates.expiring.filter((c) => c.id === sooner.id || c.id === soon.id);
  assert.equal(x.name, 'Shop');
  assert.equal(x.days_left, 3);
  assert.equal(y.domain, 'soon.example.com');
  assert.equal(y.name, null);
  assert.ok([9, 10].includes(y.days_left), String(y.days_left));

  // account b: its own traffic and contacts, none of a's
  const sb0 = await stats(b);
  assert.ok(!sb0.certificates.expiring.some((c) => ids.includes(c.id)));
  const bad = robots.register('dingtalk', null, { keywords: ['部署'] });
  const { contact: bc } = await createContact(server, b, { webhooks: [{ url: dingtalkWebhookUrl(bad) }] });
  const a0 = await stats(a);
  await raise(b, [bc.id]);
  const sb = await stats(b);
  assert.equal(sum(sb.deliveries.days).dingtalk.failed - sum(sb0.deliveries.days).dingtalk.failed, 1);
  assert.ok(sb.attention.robots.some((r) => r.contact_id === bc.id));
  assert.ok(sb.unverified.list.some((u) => u.id === bc.id));
  const mine = new Set([contacts.good.id, contacts.flaky.id]);
  const named = [...sb.attention.robots, ...sb.attention.addresses, ...sb.unverified.list].map((r) => r.contact_id ?? r.id);
  assert.ok(!named.some((id) => mine.has(id)), JSON.stringify(named));
  const a1 = await stats(a);
  assert.deepEqual(sum(a1.deliveries.days), sum(a0.deliveries.days), "b's traffic is not a's");
  assert.ok(!a1.attention.robots.some((r) => r.contact_id === bc.id));
  assert.ok(!a1.unverified.list.some((u) => u.id === bc.id));
  assert.equal(a1.unverified.contacts, a0.unverified.contacts);
});

test('addresses a provider refused are listed masked, with their contact and the problem', async () => {
  const { contact } = await createContact(server, a, {});
  // the mark the dispatcher sets on a permanent refusal (notify.test.mjs walks that path)
  dbQuery(dir, `UPDATE contacts SET email_broken = 'mailbox unavailable', mobile_broken = 'number does not exist' WHERE id = ${contact.id}`);
  const s = await stats(aRead);
  const mine = s.attention.addresses.filter((x) => x.contact_id === contact.id);
  assert.deepEqual(mine.map((x) => x.channel), ['email', 'mobile']);
  for (const x of mine) {
    assert.equal(x.contact_name, contact.name);
    assert.equal(x.since, null);
    assert.ok(x.address.includes('*'), x.address);
  }
  assert.ok(!mine[0].address.includes(contact.email.split('@')[0]), mine[0].address);
  assert.ok(!mine[1].address.includes(contact.mobile.slice(-8, -4)), mine[1].address);
  assert.equal(mine[0].problem, 'mailbox unavailable');
  assert.equal(mine[1].problem, 'number does not exist');
  assert.ok(!(await stats(b)).attention.addresses.some((x) => x.contact_id === contact.id));
});

test('a caller without a key gets 401', async () => {
  assertError(await api(server, 'GET', '/v1/stats', {}), 401);
});
