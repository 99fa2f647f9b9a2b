// endpoints.test.mjs — endpoint watching against the real binary and real
// `openssl s_server` instances on 127.0.0.1, with certificates from the
// test PKI (whose root the server trusts through endpoint_ca_file) and a
// local DingTalk robot per contact receiving the notices. Covered: the
// current certificate (ok, matched to the known certificate), an outdated
// one (renewed but the old one still served), one expiring in 2 days, a
// self-signed one, an incomplete chain, a wrong name, a server that is not
// there; each alert is notified once however often it is checked, and its
// clearing once; a scheduled check finds an alert by itself within one
// interval; CRUD, validation, roles and audit entries.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError, createContact,
  waitFor, stopAllAfter,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';
import { Pki } from './lib/pki.mjs';

const DAY = 86400000;

let dir, dir2, server, server2, robots, pki;
let admin, readonly, admin2, stranger;
const tlsServers = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** An `openssl s_server -www` on 127.0.0.1:port serving cert (+ chain) with key. */
class TlsServer {
  constructor(port, { cert, key, chain }) {
    Object.assign(this, { port, cert, key, chain });
    this.proc = null;
  }

  async start() {
    const args = ['s_server', '-accept', `127.0.0.1:${this.port}`, '-cert', this.cert, '-key', this.key,
      '-www', '-no-CAfile', '-no-CApath', '-no-CAstore'];
    if (this.chain) args.push('-cert_chain', this.chain);
    this.proc = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exit = new Promise((resolve) => this.proc.on('exit', resolve));
    let out = '';
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (c) => { out += c; });
    this.proc.stderr.on('data', () => {});
    await waitFor(() => out.includes('ACCEPT'), { timeoutMs: 10000, what: `s_server on ${this.port}` });
    tlsServers.push(this);
    return this;
  }

  async stop() {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    p.kill('SIGTERM');
    await this.exit;
  }
}

let fileNo = 0;
function files(leaf, { withChain = true } = {}) {
  const n = ++fileNo;
  const f = (name, text) => {
    const p = path.join(pki.dir, `ep${n}-${name}`);
    fs.writeFileSync(p, text);
    return p;
  };
  return {
    cert: f('cert.pem', leaf.pem),
    key: f('key.pem', leaf.key),
    chain: withChain ? f('chain.pem', pki.intermediate) : undefined,
  };
}

async function serve(leaf, opts) {
  return new TlsServer(await freePort(), files(leaf, opts)).start();
}

/** A self-signed certificate for name: {pem, key}. */
function selfSigned(name) {
  const n = ++fileNo;
  const key = path.join(pki.dir, `ss${n}.key`);
  const cert = path.join(pki.dir, `ss${n}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-subj', `/CN=${name}`, '-addext', `subjectAltName=DNS:${name}`, '-days', '300'],
  { stdio: 'ignore' });
  return { pem: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') };
}

before(async () => {
  dir = makeDataDir();
  dir2 = makeDataDir();
  robots = await startRobots();
  pki = new Pki();
  admin = createAccount(dir);
  readonly = createKey(dir, admin.account_id, 'readonly');
  stranger = createAccount(dir);
  admin2 = createAccount(dir2);
  const env = {
    ...robots.env(),
    CERTCONTACTS_ENDPOINT_CA_FILE: path.join(pki.dir, 'root.pem'),
    CERTCONTACTS_ENDPOINT_CHECK_TIMEOUT_MS: '3000',
    CERTCONTACTS_RETRY_SCHEDULE: '60,300',
  };
  server = await startServer(dir, { env });
  server2 = await startServer(dir2, { env: { ...env, CERTCONTACTS_ENDPOINT_CHECK_INTERVAL_S: '2' } });
});

stopAllAfter(() => [server, server2, robots, ...tlsServers, { stop: () => pki.remove() }], () => dir);
stopAllAfter(() => [], () => dir2);

async function contactWithRobot(srv, key, over = {}) {
  const ding = robots.register('dingtalk', null, {});
  const { contact } = await createContact(srv, key, { webhooks: [{ url: dingtalkWebhookUrl(ding) }], ...over });
  return { contact, ding };
}

async function addEndpoint(json, { key = admin, srv = server } = {}) {
  return assertOk(await api(srv, 'POST', '/v1/endpoints', { key, json }), 201);
}

async function checkNow(id, { key = admin, srv = server } = {}) {
  return assertOk(await api(srv, 'POST', `/v1/endpoints/${id}/check`, { key }), 200);
}

/** The endpoint events of endpoint id that reached contactId, oldest first. */
async function endpointEvents(contactId, id, { key = admin, srv = server } = {}) {
  const r = assertOk(await api(srv, 'GET', `/v1/notifications?contact_id=${contactId}&page_size=100`, { key }), 200);
  const ids = [...new Set(r.items.map((n) => n.event_id))].sort((a, b) => a - b);
  const out = [];
  for (const eid of ids) {
    const e = assertOk(await api(srv, 'GET', `/v1/events/${eid}`, { key }), 200);
    if (e.type.startsWith('certificate.endpoint_') && e.data.endpoint_id === String(id)) out.push(e);
  }
  return out;
}

/** The endpoint once its first check (the one made when it was added) is recorded. */
async function firstChecked(id, { key = admin, srv = server } = {}) {
  return waitFor(async () => {
    const e = assertOk(await api(srv, 'GET', `/v1/endpoints/${id}`, { key }), 200);
    return e.last_check ? e : null;
  }, { timeoutMs: 10000, what: `the first check of endpoint ${id}` });
}

test('the current certificate: ok, matched to the known certificate, nothing notified', async () => {
  const { contact, ding } = await contactWithRobot(server, admin);
  const leaf = pki.leaf(['cur.example.test'], { days: 90 });
  const cert = assertOk(await api(server, 'POST', '/v1/certificates', { key: admin, json: { pem: leaf.chain, contact_ids: [contact.id] } }), 201);
  const tls = await serve(leaf);
  const ep = await addEndpoint({ host: '127.0.0.1', port: tls.port, sni: 'cur.example.test', contact_ids: [contact.id] });
  assert.equal(ep.state, 'pending');
  assert.equal(ep.last_check, null);
  assert.deepEqual(ep.contact_ids, [contact.id]);
  await firstChecked(ep.id);
  const e = await checkNow(ep.id);
  assert.equal(e.state, 'ok', JSON.stringify(e));
  assert.deepEqual(e.alerts, []);
  const k = e.last_check;
  assert.equal(k.handshake_ok, true);
  assert.equal(k.error, null);
  assert.match(k.tls_version, /^TLSv1\.[23]$/);
  assert.equal(k.fingerprint, cert.fingerprint_sha256);
  assert.equal(k.certificate_id, cert.id);
  assert.equal(k.newer_certificate_id, null);
  assert.deepEqual(k.names, ['cur.example.test']);
  assert.equal(k.chain_verified, true);
  assert.equal(k.chain_complete, true);
  assert.equal(k.names_match, true);
  assert.equal(Date.parse(k.not_after), leaf.notAfter);
  assert.match(k.issuer, /certcontacts Test Intermediate/);
  assert.ok(Date.parse(e.next_check_at) > Date.now() + 5 * 3600 * 1000, 'next check about 6 hours on');
  assert.deepEqual(await endpointEvents(contact.id, ep.id), []);
  assert.equal(robots.received('dingtalk', ding).length, 0);
});

test('outdated: notified once while the old certificate is served, recovery once when the new one is', async () => {
  const { contact, ding } = await contactWithRobot(server, admin);
  const old = pki.leaf(['old.example.test'], { days: 60 });
  const renewed = pki.leaf(['old.example.test'], { days: 90 });
  const oldCert = assertOk(await api(server, 'POST', '/v1/certificates', { key: admin, json: { pem: old.chain, contact_ids: [contact.id] } }), 201);
  const newCert = assertOk(await api(server, 'POST', '/v1/certificates', { key: admin, json: { pem: renewed.chain } }), 201);
  let tls = await serve(old);
  const ep = await addEndpoint({ host: '127.0.0.1', port: tls.port, sni: 'old.example.test' });
  await firstChecked(ep.id);
  for (let i = 0; i < 3; i++) {
    const e = await checkNow(ep.id);
    assert.equal(e.state, 'outdated', JSON.stringify(e));
    assert.deepEqual(e.alerts, ['outdated']);
    assert.equal(e.last_check.certificate_id, oldCert.id);
    assert.equal(e.last_check.newer_certificate_id, newCert.id);
    assert.equal(e.last_check.error, null);
  }
  // the endpoint names no contact: the served certificate's subscriber hears of it
  let events = await endpointEvents(contact.id, ep.id);
  assert.equal(events.length, 1, JSON.stringify(events.map((x) => x.type)));
  assert.equal(events[0].type, 'certificate.endpoint_outdated');
  assert.equal(events[0].data.resolved, undefined);
  assert.equal(events[0].data.certificate_id, String(oldCert.id));
  assert.equal(events[0].data.newer_certificate_id, newCert.id);
  assert.equal(events[0].data.endpoint, `old.example.test:${tls.port} (127.0.0.1)`);
  const [msg] = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 15000 });
  assert.match(JSON.stringify(msg.body), /Endpoint certificate outdated/);
  assert.match(JSON.stringify(msg.body), /still serves an old certificate for old\.example\.test/);

  // deployed: the same port now serves the renewed certificate
  await tls.stop();
  tls = new TlsServer(tls.port, files(renewed));
  await tls.start();
  for (let i = 0; i < 2; i++) {
    const e = await checkNow(ep.id);
    assert.equal(e.state, 'ok', JSON.stringify(e));
    assert.equal(e.last_check.certificate_id, newCert.id);
  }
  events = await endpointEvents(contact.id, ep.id);
  assert.deepEqual(events.map((x) => [x.type, x.data.resolved]),
    [['certificate.endpoint_outdated', undefined], ['certificate.endpoint_outdated', 'yes']]);
  const msgs = await robots.waitFor('dingtalk', ding, 2, { timeoutMs: 15000 });
  assert.match(JSON.stringify(msgs[1].body), /up to date again/);
});

test('expiring in 2 days: endpoint_expiring once, with the days left', async () => {
  const { contact, ding } = await contactWithRobot(server, admin);
  const leaf = pki.leaf(['soon.example.test'], { days: 2 });
  const tls = await serve(leaf);
  const ep = await addEndpoint({ host: '127.0.0.1', port: tls.port, sni: 'soon.example.test', contact_ids: [contact.id] });
  await firstChecked(ep.id);
  const e = await checkNow(ep.id);
  await checkNow(ep.id);
  assert.equal(e.state, 'expiring', JSON.stringify(e));
  assert.deepEqual(e.alerts, ['expiring']);
  assert.equal(e.last_check.certificate_id, null, 'not a certificate the account knows');
  const events = await endpointEvents(contact.id, ep.id);
  assert.equal(events.length, 1);
  assert.equal(events[0].type, 'certificate.endpoint_expiring');
  assert.equal(events[0].data.days_left, 2);
  const [msg] = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 15000 });
  assert.match(JSON.stringify(msg.body), /expires in 2 days/);
});

test('self-signed, incomplete chain and wrong name: endpoint_error once each, with the reason in words', async () => {
  const cases = [
    { name: 'self-signed', leaf: selfSigned('self.example.test'), sni: 'self.example.test', withChain: false,
      check: (k) => { assert.equal(k.chain_verified, false); assert.equal(k.chain_complete, true); assert.equal(k.names_match, true); },
      reason: /does not verify: self-signed certificate/ },
    { name: 'incomplete', leaf: pki.leaf(['chain.example.test']), sni: 'chain.example.test', withChain: false,
      check: (k) => { assert.equal(k.chain_verified, false); assert.equal(k.chain_complete, false); assert.equal(k.names_match, true); },
      reason: /chain is incomplete/ },
    { name: 'wrong name', leaf: pki.leaf(['other.example.test']), sni: 'wrong.example.test', withChain: true,
      check: (k) => { assert.equal(k.chain_verified, true); assert.equal(k.chain_complete, true); assert.equal(k.names_match, false); },
      reason: /does not cover wrong\.example\.test; it is for other\.example\.test/ },
  ];
  for (const c of cases) {
    const { contact, ding } = await contactWithRobot(server, admin, { language: 'zh-CN' });
    const tls = await serve(c.leaf, { withChain: c.withChain });
    const ep = await addEndpoint({ host: '127.0.0.1', port: tls.port, sni: c.sni, contact_ids: [contact.id] });
    await firstChecked(ep.id);
    const e = await checkNow(ep.id);
    await checkNow(ep.id);
    assert.equal(e.state, 'error', `${c.name}: ${JSON.stringify(e)}`);
    assert.equal(e.last_check.handshake_ok, true);
    c.check(e.last_check);
    assert.match(e.last_check.error, c.reason, c.name);
    const events = await endpointEvents(contact.id, ep.id);
    assert.equal(events.length, 1, `${c.name}: ${JSON.stringify(events.map((x) => x.data))}`);
    assert.equal(events[0].type, 'certificate.endpoint_error');
    assert.match(events[0].data.reason, c.reason);
    const [msg] = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 15000 });
    assert.match(JSON.stringify(msg.body), /站点证书异常/, c.name);
    assert.match(JSON.stringify(msg.body), /原因/, c.name);
  }
});

test('a server that is not there: error once; when it comes up, the recovery once', async () => {
  const { contact, ding } = await contactWithRobot(server, admin);
  const port = await freePort();
  const ep = await addEndpoint({ host: '127.0.0.1', port, sni: 'up.example.test', contact_ids: [contact.id] });
  await firstChecked(ep.id);
  const e = await checkNow(ep.id);
  assert.equal(e.state, 'error');
  assert.equal(e.last_check.handshake_ok, false);
  assert.match(e.last_check.error, /cannot connect to 127\.0\.0\.1 port \d+/);
  // delivered before the recovery, so that the two are not merged into one message
  const [first] = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 15000 });
  assert.match(JSON.stringify(first.body), /Endpoint certificate problem/);
  const tls = new TlsServer(port, files(pki.leaf(['up.example.test'])));
  await tls.start();
  const ok = await checkNow(ep.id);
  assert.equal(ok.state, 'ok', JSON.stringify(ok));
  await checkNow(ep.id);
  const events = await endpointEvents(contact.id, ep.id);
  assert.deepEqual(events.map((x) => [x.type, x.data.resolved]),
    [['certificate.endpoint_error', undefined], ['certificate.endpoint_error', 'yes']]);
  const msgs = await robots.waitFor('dingtalk', ding, 2, { timeoutMs: 15000 });
  assert.match(JSON.stringify(msgs[1].body), /problem resolved/);
});

test('renewed but not deployed: the schedule finds it by itself within one interval and tells it once', async () => {
  const { contact, ding } = await contactWithRobot(server2, admin2);
  const old = pki.leaf(['sched.example.test'], { days: 60 });
  const oldCert = assertOk(await api(server2, 'POST', '/v1/certificates', { key: admin2, json: { pem: old.chain, contact_ids: [contact.id] } }), 201);
  const tls = await serve(old);
  const ep = await addEndpoint({ host: '127.0.0.1', port: tls.port, sni: 'sched.example.test' }, { key: admin2, srv: server2 });
  const first = await firstChecked(ep.id, { key: admin2, srv: server2 });
  assert.equal(first.state, 'ok', JSON.stringify(first));
  // renewed in certcontacts, not deployed: no "check now" from here on
  const renewed = assertOk(await api(server2, 'POST', '/v1/certificates', { key: admin2, json: { pem: pki.leaf(['sched.example.test'], { days: 90 }).chain } }), 201);
  const found = await waitFor(async () => {
    const e = assertOk(await api(server2, 'GET', `/v1/endpoints/${ep.id}`, { key: admin2 }), 200);
    return e.state === 'outdated' ? e : null;
  }, { timeoutMs: 10000, what: 'a scheduled check finding the old certificate' });
  // the next scheduled check found it: one interval (2 s, jittered by a tenth) after the first
  const gap = Date.parse(found.last_check.checked_at) - Date.parse(first.last_check.checked_at);
  assert.ok(gap < 2200 + 1500, `found ${gap} ms after the first check`);
  assert.equal(found.last_check.certificate_id, oldCert.id);
  assert.equal(found.last_check.newer_certificate_id, renewed.id);
  // two more scheduled checks tell nothing more
  let seen = Date.parse(found.last_check.checked_at);
  for (let i = 0; i < 2; i++) {
    const later = await waitFor(async () => {
      const e = assertOk(await api(server2, 'GET', `/v1/endpoints/${ep.id}`, { key: admin2 }), 200);
      return Date.parse(e.last_check.checked_at) > seen ? e : null;
    }, { timeoutMs: 10000, what: 'a scheduled check' });
    seen = Date.parse(later.last_check.checked_at);
    assert.equal(later.state, 'outdated');
  }
  const events = await endpointEvents(contact.id, ep.id, { key: admin2, srv: server2 });
  assert.deepEqual(events.map((x) => [x.type, x.data.resolved]), [['certificate.endpoint_outdated', undefined]]);
  const msgs = await robots.waitFor('dingtalk', ding, 1, { timeoutMs: 15000 });
  assert.equal(msgs.length, 1);
  assert.match(JSON.stringify(msgs[0].body), /Endpoint certificate outdated/);
});

test('CRUD, validation, roles and audit', async () => {
  const { contact } = await contactWithRobot(server, admin);
  const { contact: other } = await contactWithRobot(server, admin);
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: {} }), 400, 'MissingParameter.Host');
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: '*.example.com' } }), 400, 'InvalidParameter.Host');
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'bad host' } }), 400);
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'a.example.com', port: 0 } }), 400, 'InvalidParameter.Port');
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'a.example.com', port: '443' } }), 400, 'InvalidParameter.Port');
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'a.example.com', sni: '10.0.0.1' } }), 400, 'InvalidParameter.Sni');
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'a.example.com', contact_ids: [999999] } }), 400, 'InvalidParameter.ContactIds');
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'a.example.com', contact_ids: Array.from({ length: 21 }, (_, i) => i + 1) } }), 400, 'LimitExceeded.ContactIds');
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'a.example.com', bogus: 1 } }), 400);
  assertError(await api(server, 'POST', '/v1/endpoints', { key: readonly, json: { host: 'a.example.com' } }), 403);

  const port = await freePort();
  const ep = await addEndpoint({ host: 'Srv.Example.TEST', port, contact_ids: [contact.id] });
  assert.equal(ep.host, 'srv.example.test');
  assert.equal(ep.sni, null);
  assert.equal(ep.port, port);
  assertError(await api(server, 'POST', '/v1/endpoints', { key: admin, json: { host: 'srv.example.test', port, sni: 'srv.example.test' } }), 409, 'AlreadyExists.Host');
  const v6 = await addEndpoint({ host: '::1' });
  assert.equal(v6.port, 443);

  const list = assertOk(await api(server, 'GET', '/v1/endpoints?page_size=100', { key: readonly }), 200);
  assert.ok(list.items.some((x) => x.id === ep.id));
  assert.equal(list.total, list.items.length);
  assertOk(await api(server, 'GET', `/v1/endpoints/${ep.id}`, { key: readonly }), 200);
  assertError(await api(server, 'POST', `/v1/endpoints/${ep.id}/check`, { key: readonly }), 403);

  const patched = assertOk(await api(server, 'PATCH', `/v1/endpoints/${ep.id}`, { key: admin, json: { contact_ids: [other.id, contact.id] } }), 200);
  assert.deepEqual(patched.contact_ids.sort((a, b) => a - b), [contact.id, other.id].sort((a, b) => a - b));
  assertError(await api(server, 'PATCH', `/v1/endpoints/${ep.id}`, { key: admin, json: { host: 'x.example.com' } }), 400);
  assertError(await api(server, 'PATCH', `/v1/endpoints/${ep.id}`, { key: admin, json: { contact_ids: [other.id, other.id] } }), 400);
  // a deleted contact is no longer told
  assert.equal((await api(server, 'DELETE', `/v1/contacts/${other.id}`, { key: admin })).status, 204);
  const after = assertOk(await api(server, 'GET', `/v1/endpoints/${ep.id}`, { key: admin }), 200);
  assert.deepEqual(after.contact_ids, [contact.id]);

  // another account sees nothing of it
  assertError(await api(server, 'GET', `/v1/endpoints/${ep.id}`, { key: stranger }), 404);
  assertError(await api(server, 'POST', `/v1/endpoints/${ep.id}/check`, { key: stranger }), 404);
  assert.equal((await api(server, 'DELETE', `/v1/endpoints/${ep.id}`, { key: readonly })).status, 403);
  assert.equal((await api(server, 'DELETE', `/v1/endpoints/${ep.id}`, { key: admin })).status, 204);
  assertError(await api(server, 'GET', `/v1/endpoints/${ep.id}`, { key: admin }), 404);
  assertError(await api(server, 'DELETE', `/v1/endpoints/${ep.id}`, { key: admin }), 404);

  for (const action of ['endpoint.create', 'endpoint.update', 'endpoint.delete']) {
    const a = assertOk(await api(server, 'GET', `/v1/audit?action=${action}&target_id=${ep.id}`, { key: admin }), 200);
    assert.equal(a.items.length, 1, action);
    assert.equal(a.items[0].target_type, 'endpoint');
  }
});
