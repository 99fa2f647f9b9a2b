// instances_load.test.mjs — three certcontacts instances on one PostgreSQL
// database under sustained load (PostgreSQL only: a SQLite database belongs
// to one process).
//   - for about 20 s, six clients spread round-robin over the instances
//     create contacts with DingTalk (some signed), Lark (signed) and WeCom
//     robots and verified emails, post certificate events to them, read the
//     contacts back through another instance and rename them;
//   - eleven seconds in, the instance that runs the reminders is killed
//     (kill -9) and started again some seconds later; the load goes on;
//   - afterwards every acknowledged write is there (read through another
//     instance), every notification of every acknowledged event reached its
//     receiver, and each DingTalk message (by its msgUuid, the notification's
//     idempotency key) was shown once; Lark, WeCom and email, which have no
//     such key, got each at least once, and twice only for what was on the
//     wire when the instance died;
//   - reminders fall due before and after the kill: the scheduler moves to a
//     survivor and each reminder arrives exactly once, on time;
//   - one DingTalk robot sent many messages through all three instances
//     never gets more than its 20 in any window (robot_rate_window_percent
//     5: 3 s windows).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  BACKEND, api, assertOk, cleanUp, createAccount, dbUrl, makeDataDir, removeDir, startServer,
  unique, uniqueMobile, waitFor,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl } from './lib/robots.mjs';
import { startSmtpSink, smtpSinkEnv, codeFromMail } from './lib/sinks.mjs';

const skip = BACKEND !== 'postgres' ? 'several instances share a PostgreSQL database' : false;

const LOAD_MS = 20000; // the load stops by itself
const KILL_AT_MS = 11000; // into the load
const RESTART_AFTER_MS = 5000; // after the kill
const CLIENTS = 6;
const LEASE_S = 5;
const PERCENT = 5; // robot rate windows at 5%: DingTalk's minute is 3 s
const DING_WINDOW_MS = 60000 * PERCENT / 100;
const DAY = 86400000;

const dirs = [];
const servers = [];
let robots;
let sink;
after(() => cleanUp([
  ...servers.map((s) => () => (s.proc ? s.stop() : null)),
  () => robots?.stop(),
  () => sink?.stop(),
  ...dirs.map((d) => () => removeDir(d)),
]));

const leads = (s, job) => s.lines.some((l) => l.msg === 'this instance now runs a singleton job' && l.job === job);
const live = () => servers.filter((s) => s.proc && !s.dying);

let admin;
let env;
const reminders = []; // {rid, contact, cert, due, raised}
let killedAt = 0; // when the reminders leader was killed
let takeover = 0; // when a survivor said it runs the reminders
let rr = 0;
/** The next live instance, round-robin. */
function next() {
  const l = live();
  rr += 1;
  return l[rr % l.length];
}

/**
 * api() through the next live instance, as a careful client does it: a 503
 * (the database asked for the write to be tried again) is retried on the next
 * instance, up to 5 times. Answers null when the request got no response (its
 * instance died under it: not acknowledged, maybe done).
 */
const busy = []; // the 503s met
async function tryApi(method, p, opts = {}) {
  for (let i = 0; ; i++) {
    let r;
    try {
      r = await api(next(), method, p, { key: admin, ...opts });
    } catch {
      return null;
    }
    if (r.status !== 503 || i === 4) return r;
    busy.push(`${method} ${p}: ${r.json?.message}`);
  }
}

/** The largest number of times within any window of windowMs. */
function maxInWindow(times, windowMs) {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** A contact whose email is verified through the real flow (the code from the SMTP sink). */
async function verifiedEmailContact(s) {
  const email = `${unique('load')}@example.com`;
  const c = assertOk(await api(s, 'POST', '/v1/contacts', { key: admin, json: { name: unique('mail'), email, mobile: uniqueMobile('137') } }), 201);
  const mark = sink.mark();
  assertOk(await api(s, 'POST', `/v1/contacts/${c.id}/verifications`, { key: admin, json: { channel: 'email' } }), 201);
  const mail = await sink.waitForMail(email, { after: mark, timeoutMs: 15000 });
  const v = assertOk(await api(s, 'POST', `/v1/contacts/${c.id}/verifications/confirm`, {
    key: admin, json: { channel: 'email', code: codeFromMail(mail) },
  }), 200);
  assert.equal(v.email_status, 1);
  return { id: c.id, email };
}

test('three instances under load, the reminders leader killed: nothing acknowledged lost, nothing shown twice', { skip }, async (t) => {
  robots = await startRobots();
  sink = await startSmtpSink();
  for (let i = 0; i < 3; i++) dirs.push(makeDataDir('cc-load-'));
  const url = dbUrl(dirs[0]);
  const mkey = crypto.randomBytes(32).toString('hex') + '\n';
  for (const d of dirs) fs.writeFileSync(path.join(d, 'master.key'), mkey, { mode: 0o600 });
  env = {
    ...robots.env(),
    ...smtpSinkEnv(sink),
    CERTCONTACTS_DELIVERY_LEASE_S: String(LEASE_S),
    CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
    CERTCONTACTS_ROBOT_RATE_WINDOW_PERCENT: String(PERCENT),
    CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
  };
  const opts = { args: ['--db', url], env };
  servers.push(...await Promise.all(dirs.map((d) => startServer(d, opts))));
  admin = createAccount(dirs[0]);

  const leader = await waitFor(() => servers.find((s) => leads(s, 'reminders')), { timeoutMs: 10000, what: 'a reminders leader' });
  const others = servers.filter((s) => s !== leader);
  const mails = [await verifiedEmailContact(others[0]), await verifiedEmailContact(others[1])];

  // Reminders due during the load, before and after the kill: certificates
  // whose 10-day point comes a few seconds on, each with a robot of its own,
  // written through the instances that do not run the scheduler.
  const t0 = Date.now();
  for (const [i, dueIn] of [2500, 4000, 14000, 15500, 17000, 18500].entries()) {
    const rid = robots.register('dingtalk', null, {});
    const s = others[i % 2];
    const c = assertOk(await api(s, 'POST', '/v1/contacts', {
      key: admin, json: { name: unique('rem'), mobile: uniqueMobile('136'), webhooks: [{ url: dingtalkWebhookUrl(rid) }] },
    }), 201);
    const notAfter = Math.ceil((t0 + dueIn + 10 * DAY) / 1000) * 1000;
    const cert = assertOk(await api(s, 'POST', '/v1/certificates', {
      key: admin, json: { domains: [`rem-${i}.example.com`], not_after: new Date(notAfter).toISOString(), contact_ids: [c.id], reminder_days: [10] },
    }), 201);
    assert.equal(Date.parse(cert.next_reminder_at), notAfter - 10 * DAY);
    reminders.push({ rid, contact: c.id, cert: cert.id, due: notAfter - 10 * DAY });
  }

  // the load
  const contacts = new Map(); // id -> {names: acknowledged last, then attempted after it}
  const events = []; // acknowledged: {id, platform, rid, domain, mail}
  const problems = []; // answers no live instance should give
  let seq = 0;
  const loadStart = Date.now();
  const loadEnd = loadStart + LOAD_MS;
  const check = (r, what, ok) => {
    if (r && !ok.includes(r.status)) problems.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`);
    return r && ok.includes(r.status) ? r.json : null;
  };
  async function client() {
    while (Date.now() < loadEnd) {
      const i = seq++;
      const platform = i % 6 === 4 ? 'lark' : i % 6 === 5 ? 'wecom' : 'dingtalk';
      const secret = platform === 'lark' || i % 3 === 0 ? `SEC${crypto.randomBytes(8).toString('hex')}` : undefined;
      // half the robots answer slowly: messages are on the wire when the instance dies
      const rid = robots.register(platform, null, { secret, keywords: platform === 'wecom' ? undefined : ['certificate'], delayMs: (i >> 1) % 2 ? 150 : 0 });
      const hook = platform === 'lark' ? larkWebhookUrl(rid) : platform === 'wecom' ? wecomWebhookUrl(rid) : dingtalkWebhookUrl(rid);
      const name = `load ${i}`;
      const c = check(await tryApi('POST', '/v1/contacts', {
        json: { name, mobile: uniqueMobile(), webhooks: [{ url: hook, ...(secret ? { secret } : {}) }] },
        headers: { 'idempotency-key': unique('load') },
      }), 'create', [201]);
      if (!c) continue;
      const rec = { names: [name] };
      contacts.set(c.id, rec);
      const mail = i % 8 === 0 ? mails[(i / 8) % 2] : null;
      const domain = `load-${i}.example.com`;
      const ev = check(await tryApi('POST', '/v1/events', {
        json: { type: 'certificate.issued', contact_ids: mail ? [c.id, mail.id] : [c.id], data: { domains: [domain] } },
      }), 'event', [201]);
      if (ev) events.push({ id: ev.id, platform, rid, domain, mail });
      check(await tryApi('GET', `/v1/contacts/${c.id}`), 'read', [200]);
      const renamed = `${name} renamed`;
      rec.names.push(renamed);
      if (check(await tryApi('PATCH', `/v1/contacts/${c.id}`, { json: { name: renamed } }), 'rename', [200])) rec.names = [renamed];
    }
  }
  async function chaos() {
    await waitFor(() => Date.now() >= loadStart + KILL_AT_MS, { timeoutMs: KILL_AT_MS + 1000, intervalMs: 50, what: 'the time to kill' });
    assert.ok(leads(leader, 'reminders') && !others.some((s) => leads(s, 'reminders')), 'the reminders leader changed before the kill');
    leader.dying = true;
    leader.proc.kill('SIGKILL');
    killedAt = Date.now();
    await leader.exit;
    leader.proc = null;
    const heir = await waitFor(() => others.find((s) => leads(s, 'reminders')), { timeoutMs: 15000, what: 'a survivor taking the reminders over' });
    takeover = Date.now();
    assert.ok(heir);
    await waitFor(() => Date.now() >= killedAt + RESTART_AFTER_MS, { timeoutMs: RESTART_AFTER_MS + 1000, intervalMs: 50, what: 'the time to restart' });
    const again = await startServer(leader.dataDir, opts);
    servers[servers.indexOf(leader)] = again;
  }
  await Promise.all([chaos(), ...Array.from({ length: CLIENTS }, client)]);
  assert.deepEqual(problems, [], 'answers a live instance should not give');
  assert.ok(events.length >= 30, `only ${events.length} events acknowledged`);
  assert.ok(events.some((e) => e.platform === 'lark') && events.some((e) => e.platform === 'wecom') && events.some((e) => e.mail));

  // every acknowledged write is there, read through other instances
  let n = 0;
  for (const [id, rec] of contacts) {
    const c = assertOk(await api(servers[n++ % 3], 'GET', `/v1/contacts/${id}`, { key: admin }), 200);
    assert.ok(rec.names.includes(c.name), `contact ${id} is named ${c.name}, acknowledged ${rec.names[0]}`);
  }
  // every notification of every acknowledged event delivered
  const settled = new Map();
  await waitFor(async () => {
    for (const e of events) {
      if (settled.has(e.id)) continue;
      const got = assertOk(await api(servers[n++ % 3], 'GET', `/v1/events/${e.id}`, { key: admin }), 200);
      if (!got.notifications.every((x) => x.status === 'delivered')) return null;
      settled.set(e.id, got);
    }
    return true;
  }, { timeoutMs: 40000, intervalMs: 200, what: 'every notification of every acknowledged event delivered' });
  // and at its receiver: DingTalk shows each idempotency key once
  const pending = new Set(); // a message on the wire when the instance died may go again
  for (const e of events) {
    const [hook] = settled.get(e.id).notifications.filter((x) => x.channel === 'webhook');
    assert.ok(hook, `event ${e.id} has no robot notification`);
    const got = robots.received(e.platform, e.rid);
    assert.equal(got.filter((r) => !r.accepted).length, 0, `${e.platform} ${e.rid} refused a message: ${JSON.stringify(got.map((r) => r.reply))}`);
    const shown = robots.messages(e.platform, e.rid);
    assert.ok(shown.length >= 1, `${e.platform} robot of event ${e.id} got nothing`);
    for (const m of shown) assert.match(m.text, new RegExp(e.domain.replace(/\./g, '\\.')));
    if (e.platform === 'dingtalk') {
      assert.deepEqual(shown.map((m) => m.msgUuid), [hook.idempotency_key], `DingTalk robot of event ${e.id}`);
    } else if (shown.length > 1) {
      pending.add(`${e.platform} ${e.id}`);
      assert.equal(shown.length, 2, `${e.platform} robot of event ${e.id} got ${shown.length} messages`);
      assert.ok(Math.abs(shown[0].at - killedAt) < 1000, `${e.platform} robot of event ${e.id} got its message twice, the first ${shown[0].at - killedAt} ms from the kill`);
    }
  }
  for (const e of events.filter((x) => x.mail)) {
    const got = sink.mailsTo(e.mail.email).filter((m) => JSON.stringify(m.mime).includes(e.domain));
    assert.ok(got.length >= 1 && got.length <= 2, `event ${e.id}: ${got.length} emails`);
  }

  const absorbed = events.filter((e) => e.platform === 'dingtalk').reduce((k, e) => k + robots.duplicates('dingtalk', e.rid).length, 0);
  t.diagnostic(`${events.length} events and ${contacts.size} contacts acknowledged; sent twice around the kill: ${absorbed} DingTalk (absorbed by msgUuid), ${pending.size} Lark/WeCom; ${busy.length} answers 503 retried`);
});

test('reminders due around the kill: the scheduler moves to a survivor, each reminder arrives exactly once', { skip }, async () => {
  assert.equal(reminders.length, 6);
  for (const r of reminders) {
    const [m] = await robots.waitFor('dingtalk', r.rid, 1, { timeoutMs: 15000 });
    const list = assertOk(await api(live()[0], 'GET', `/v1/notifications?contact_id=${r.contact}&page_size=100`, { key: admin }), 200);
    const evs = [...new Set(list.items.map((x) => x.event_id))];
    assert.equal(evs.length, 1, `certificate ${r.cert}: ${evs.length} reminder events`);
    const ev = assertOk(await api(live()[1], 'GET', `/v1/events/${evs[0]}`, { key: admin }), 200);
    assert.equal(ev.type, 'certificate.expiring');
    assert.equal(ev.data.certificate_id, String(r.cert));
    assert.equal(ev.data.days_left, 10);
    assert.equal(m.msgUuid, ev.notifications[0].idempotency_key);
    r.raised = Date.parse(ev.created_at);
    // nothing more is due during the test: its next point is days away
    const cert = assertOk(await api(live()[2], 'GET', `/v1/certificates/${r.cert}`, { key: admin }), 200);
    assert.ok(Date.parse(cert.next_reminder_at) > Date.now() + DAY, `certificate ${r.cert}: next reminder ${cert.next_reminder_at}`);
  }
  for (const r of reminders) assert.equal(robots.received('dingtalk', r.rid).length, 1, `certificate ${r.cert}: its reminder went twice`);
});

test('reminders are raised on time when written through an instance that does not run the scheduler', { skip }, async () => {
  // before the kill by the leader, after it by the survivor once it took
  // over; within 7 s (instances ask for the lead every 3 s, and raising
  // reminders the database refused for concurrent writes is tried again a
  // second later)
  for (const r of reminders) {
    assert.ok(r.raised, `certificate ${r.cert} has no reminder`);
    const by = (r.due < killedAt ? r.due : Math.max(r.due, takeover)) + 7000;
    assert.ok(r.raised <= by, `certificate ${r.cert}: reminder due ${new Date(r.due).toISOString()} raised ${new Date(r.raised).toISOString()} (the leader killed ${new Date(killedAt).toISOString()}, a survivor took over ${new Date(takeover).toISOString()})`);
  }
});

test('rate limits across instances: one DingTalk robot never gets more than 20 in a window', { skip }, async (t) => {
  assert.equal(live().length, 3);
  const rid = robots.register('dingtalk', null, {
    keywords: ['certificate'], rate: { perMinute: 20, windowMs: DING_WINDOW_MS, blockMs: DING_WINDOW_MS },
  });
  const c = assertOk(await api(servers[0], 'POST', '/v1/contacts', {
    key: admin, json: { name: unique('rate'), mobile: uniqueMobile(), webhooks: [{ url: dingtalkWebhookUrl(rid) }] },
  }), 201);
  const domains = [];
  // 3 × 25 events, each instance posting its own as fast as it answers
  await Promise.all(servers.map(async (s, k) => {
    for (let i = 0; i < 25; i++) {
      const domain = `rate-${k}-${i}.example.com`;
      assertOk(await api(s, 'POST', '/v1/events', {
        key: admin, json: { type: 'certificate.issued', contact_ids: [c.id], data: { domains: [domain] } },
      }), 201);
      domains.push(domain);
    }
  }));
  const times = () => robots.received('dingtalk', rid).map((r) => r.at);
  const text = () => robots.messages('dingtalk', rid).map((m) => m.text).join('\n');
  await waitFor(() => maxInWindow(times(), DING_WINDOW_MS) > 20 || domains.every((d) => text().includes(d)), {
    timeoutMs: 30000, intervalMs: 100, what: 'every event at the robot',
  });
  const most = maxInWindow(times(), DING_WINDOW_MS);
  assert.ok(most <= 20, `the robot got ${most} messages within ${DING_WINDOW_MS} ms (20 allowed)`);
  assert.equal(robots.rejected('dingtalk', rid).length, 0);
  for (const d of domains) assert.ok(text().includes(d), `${d} never reached the robot`);
  t.diagnostic(`${domains.length} events in ${robots.messages('dingtalk', rid).length} messages, at most ${most} in a window`);
});
