// metrics.test.mjs — GET /metrics in the Prometheus text format: traffic
// of every kind (contacts created, a 404 on a route and on no route, codes
// sent, confirmed and refused, an event delivered to a DingTalk robot, a
// certificate kept) moves exactly its counters, with route templates and
// never an id or an address as a label value; promtool accepts the page.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ROOT, makeDataDir, removeDir, startServer, createAccount, createKey, api, assertOk, assertError,
  createContact, unique, uniqueMobile, waitFor, stopAllAfter, eventSettled,
  confirmTargetFromLog, sendTargetCode, confirmTargetCode, wrongCode,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';

let dir, server, admin, readonly, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  readonly = createKey(dir, admin.account_id, 'readonly');
  server = await startServer(dir, {
    env: { ...robots.env(), CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '' },
  });
});

stopAllAfter(() => [server, robots], () => dir);

/** The page, checked for its content type, and its samples by 'name{labels}'. */
async function scrape() {
  const res = await api(server, 'GET', '/metrics', { key: readonly });
  assert.equal(res.status, 200, res.text);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const samples = new Map();
  for (const line of res.text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    assert.ok(at > 0, `not a sample: ${line}`);
    assert.ok(!samples.has(line.slice(0, at)), `a sample twice: ${line}`);
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { text: res.text, samples };
}

const val = (s, k) => s.samples.get(k) ?? 0;
const req = (route, method, status) =>
  `certcontacts_http_requests_total{route="${route}",method="${method}",status="${status}"}`;
const lat = (route, method, part) =>
  `certcontacts_http_request_duration_seconds_${part}{route="${route}",method="${method}"${part === 'bucket' ? ',le="+Inf"' : ''}}`;
const notif = (channel, platform, outcome) =>
  `certcontacts_notifications_total{channel="${channel}",platform="${platform}",outcome="${outcome}"}`;
const verif = (channel, result) => `certcontacts_verification_codes_total{channel="${channel}",result="${result}"}`;

test('counters move by exactly the traffic made, with route templates as labels', async () => {
  const s0 = await scrape();
  const N = 3;
  const ids = [];
  for (let i = 0; i < N; i++) ids.push((await createContact(server, admin, { mobile: uniqueMobile('138') })).contact.id);
  assertError(await api(server, 'GET', '/v1/contacts/987654321', { key: admin }), 404, 'NotFound');
  assertError(await api(server, 'GET', `/no/such/path/${ids[0]}`, { key: admin }), 404, 'NotFound');
  assertOk(await api(server, 'GET', `/v1/contacts/${ids[1]}`, { key: readonly }), 200);

  // codes: one email confirmed, one mobile refused with a wrong code
  const email = `${unique('m')}@example.com`;
  await confirmTargetFromLog(server, admin, 'email', email);
  const sent = assertOk(await sendTargetCode(server, admin, 'mobile', uniqueMobile('139')), 201);
  assertError(await confirmTargetCode(server, admin, sent.verification_id, wrongCode('000000')), 400);

  // an event delivered to a robot
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const { contact } = await createContact(server, admin, { mobile: uniqueMobile('137'), webhooks: [{ url: dingtalkWebhookUrl(ding) }] });
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin,
    json: { type: 'certificate.expiring', contact_ids: [contact.id], data: { domains: ['www.example.com'], days_left: 30, not_after: '2027-01-31' } },
  }), 201);
  const settled = await eventSettled(server, admin, ev.id);
  const delivered = settled.notifications.filter((n) => n.channel === 'webhook' && n.status === 'delivered');
  assert.equal(delivered.length, 1, JSON.stringify(settled));

  // a certificate expiring in 10 days
  const notAfter = new Date(Date.now() + 10 * 86400000);
  assertOk(await api(server, 'POST', '/v1/certificates', {
    key: admin, json: { domains: [`${unique('c')}.example.com`], not_after: notAfter.toISOString() },
  }), 201);

  // requests are counted as they complete: wait for the last of them
  const s1 = await waitFor(async () => {
    const s = await scrape();
    return val(s, req('/v1/certificates', 'POST', 201)) > val(s0, req('/v1/certificates', 'POST', 201)) ? s : null;
  }, { what: 'the certificate request to be counted' });
  const d = (k) => val(s1, k) - val(s0, k);

  assert.equal(d(req('/v1/contacts', 'POST', 201)), N + 1);
  assert.equal(d(lat('/v1/contacts', 'POST', 'count')), N + 1);
  assert.equal(d(lat('/v1/contacts', 'POST', 'bucket')), N + 1);
  assert.ok(d(lat('/v1/contacts', 'POST', 'sum')) > 0);
  assert.equal(d(req('/v1/contacts/{id}', 'GET', 404)), 1);
  assert.equal(d(req('/v1/contacts/{id}', 'GET', 200)), 1);
  assert.equal(d(req('other', 'GET', 404)), 1);
  assert.equal(d(req('/v1/verifications', 'POST', 201)), 2);
  assert.equal(d(req('/v1/verifications/{id}/confirm', 'POST', 200)), 1);
  assert.equal(d(req('/v1/verifications/{id}/confirm', 'POST', 400)), 1);
  assert.equal(d(req('/v1/events', 'POST', 201)), 1);

  assert.equal(d(verif('email', 'sent')), 1);
  assert.equal(d(verif('email', 'confirmed')), 1);
  assert.equal(d(verif('mobile', 'sent')), 1);
  assert.equal(d(verif('mobile', 'rejected')), 1);
  assert.equal(d(verif('mobile', 'confirmed')), 0);
  assert.equal(d(notif('webhook', 'dingtalk', 'delivered')), 1);

  assert.equal(val(s1, 'certcontacts_outbox_pending'), 0);
  assert.equal(val(s1, 'certcontacts_outbox_oldest_due_age_seconds'), 0);
  assert.equal(val(s1, 'certcontacts_certificates{state="active"}'), 1);
  assert.equal(val(s1, 'certcontacts_certificates{state="expired"}'), 0);
  const days = val(s1, 'certcontacts_certificate_nearest_expiry_seconds') / 86400;
  assert.ok(days > 9.99 && days <= 10, `nearest expiry in ${days} days`);

  // every write above went through the writer
  assert.ok(d('certcontacts_store_write_batch_size_count') >= N + 1);
  assert.equal(d('certcontacts_store_commit_duration_seconds_count'), d('certcontacts_store_write_batch_size_count'));

  const version = fs.readFileSync(path.join(ROOT, 'VERSION'), 'utf8').trim();
  assert.equal(val(s1, `certcontacts_build_info{version="${version}"}`), 1);
  const start = val(s1, 'process_start_time_seconds');
  assert.ok(start > Date.now() / 1000 - 600 && start <= Date.now() / 1000, `start ${start}`);
  assert.ok(val(s1, 'process_resident_memory_bytes') > 1e6);

  // bounded labels: no id, no address, no path as sent
  for (const id of ids) assert.ok(!s1.text.includes(`/${id}`), `an id in the labels: ${id}`);
  assert.ok(!s1.text.includes('no/such'), 'an unmatched path in the labels');
  assert.ok(!s1.text.includes('@'), 'an address in the labels');
  assert.ok(!s1.text.includes('access_token'), 'a webhook URL in the labels');
});

test('a wrong method counts under the path\'s route "other", and the scrape needs a key', async () => {
  const s0 = await scrape();
  assertError(await api(server, 'PUT', '/v1/contacts', { key: admin }), 405);
  assertError(await api(server, 'GET', '/metrics'), 401);
  const s1 = await waitFor(async () => {
    const s = await scrape();
    // each is counted as it completes, which may be after its answer arrived
    return val(s, req('other', 'PUT', 405)) > val(s0, req('other', 'PUT', 405)) &&
      val(s, req('/metrics', 'GET', 401)) > val(s0, req('/metrics', 'GET', 401)) ? s : null;
  }, { what: 'the 405 and the 401 to be counted' });
  assert.equal(val(s1, req('other', 'PUT', 405)) - val(s0, req('other', 'PUT', 405)), 1);
  assert.equal(val(s1, req('/metrics', 'GET', 401)) - val(s0, req('/metrics', 'GET', 401)), 1);
});

test('promtool accepts the page', async (t) => {
  const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    t.skip('promtool is not installed (Debian package prometheus; scripts/deps.sh installs it)');
    return;
  }
  const { text } = await scrape();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}\n--- page ---\n${text}`);
});

test('metrics_listen: a listener that answers only GET /metrics, without a key', async () => {
  const dir2 = makeDataDir();
  const s2 = await startServer(dir2, { env: { CERTCONTACTS_METRICS_LISTEN: '127.0.0.1:0' } });
  try {
    const line = s2.lines.find((l) => l.msg === 'metrics listener');
    assert.ok(line, 'the metrics listener is logged with its port');
    const base = `http://127.0.0.1:${line.port}`;
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^certcontacts_build_info\{version="[^"]+"\} 1$/m);
    assert.match(text, /^certcontacts_outbox_pending 0$/m);
    const other = await fetch(`${base}/v1/contacts`);
    assert.equal(other.status, 404);
    assert.equal((await other.json()).code, 'NotFound');
    const post = await fetch(`${base}/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    assert.equal(post.status, 405);
    await post.text();
    // the main listener still wants a key
    assertError(await api(s2, 'GET', '/metrics'), 401);
    // its scrapes count under route="/metrics" like any other
    await waitFor(async () => /^certcontacts_http_requests_total\{route="\/metrics",method="GET",status="200"\} [1-9]/m
      .test(await (await fetch(`${base}/metrics`)).text()), { what: 'the scrape to be counted' });
  } finally {
    await s2.stop();
    removeDir(dir2);
  }
});
