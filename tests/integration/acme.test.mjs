// acme.test.mjs — certificates issued by an ACME CA with no person in
// between: Debian's pebble (and pebble-challtestsrv as its DNS, every name
// at 127.0.0.1) checks HTTP-01 on this server's own listener. An application
// for an ACME product moves submitted -> pending_validation -> approved ->
// issued by itself, with the chain stored as a certificate (its key made
// and sealed here, or the CSR's); a challenge the CA cannot check ends in
// rejected with pebble's problem; the account key is sealed and made once.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, stopAllAfter, waitFor,
  unique, verifiedContactBody, removeDir, cliJson, dbQuery, sqlBlobLength, sqlBlobFind,
} from './lib/harness.mjs';
import { startPebble, freePort, pebbleCerts } from './lib/pebble.mjs';
import { launch, newPage, signIn, assertAccessible } from './lib/browser.mjs';
import { startAliDns } from './lib/alidns.mjs';

let dir, server, key, pebble, contactId, httpPort, acmePortMain, certsMain, dnsPort, dnsMgmtPort, hookLog;

const serverEnv = (acmePort, certs, httpPort) => ({
  CERTCONTACTS_ACME_HTTP_LISTEN: `127.0.0.1:${httpPort}`,
  CERTCONTACTS_DEV: '1',
  CERTCONTACTS_SMS_PROVIDER: 'log',
  CERTCONTACTS_SMTP_URL: '',
  CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
  CERTCONTACTS_ACME_DIRECTORY_URL: `https://localhost:${acmePort}/dir`,
  CERTCONTACTS_ACME_CA_FILE: certs.caFile,
  CERTCONTACTS_ACME_TERMS_AGREED: 'true',
  ...(hookLog ? {
    CERTCONTACTS_ACME_DNS_HOOK: path.join(dir, 'dns-hook.sh'),
    CERTCONTACTS_ACME_DNS_RESOLVER: `127.0.0.1:${dnsPort}`,
    CERTCONTACTS_ACME_DNS_WAIT_S: '20',
  } : {}),
});

/** The DNS-01 hook an operator would write: publishes the record in
 * challtestsrv (the DNS pebble asks) and logs each call. */
function writeHook() {
  hookLog = path.join(dir, 'dns-hook.log');
  const api = `http://127.0.0.1:${dnsMgmtPort}`;
  fs.writeFileSync(path.join(dir, 'dns-hook.sh'), [
    '#!/bin/sh',
    'set -e',
    `echo "$1 $2 $3" >> '${hookLog}'`,
    'case "$1" in',
    `  add) curl -sf -X POST -d "{\\"host\\":\\"$2.\\",\\"value\\":\\"$3\\"}" ${api}/set-txt ;;`,
    `  remove) curl -sf -X POST -d "{\\"host\\":\\"$2.\\"}" ${api}/clear-txt ;;`,
    '  *) exit 2 ;;',
    'esac',
    '',
  ].join('\n'), { mode: 0o755 });
}

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  // pebble's ports and HTTPS root first, so that the server can be pointed at it;
  // then pebble, pointed at the server's port for HTTP-01
  const acmePort = acmePortMain = await freePort();
  httpPort = await freePort();
  const certs = certsMain = pebbleCerts();
  dnsPort = await freePort();
  dnsMgmtPort = await freePort();
  writeHook();
  server = await startServer(dir, { env: serverEnv(acmePort, certs, httpPort) });
  // pebble answers badNonce to some good nonces: every request must still succeed.
  // It checks HTTP-01 on the plain listener of acme_http_listen.
  pebble = await startPebble({ httpPort, acmePort, dnsPort, dnsMgmtPort, certs, env: { PEBBLE_WFE_NONCEREJECT: '25' } });
  const body = await verifiedContactBody(server, key);
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: body }), 201);
  contactId = c.id;
});

stopAllAfter(() => [server, pebble], () => dir);

function name() {
  return `${unique('a').toLowerCase().replace(/[^a-z0-9-]/g, '')}.acme-test.net`;
}

async function getApp(id) {
  return assertOk(await api(server, 'GET', `/v1/applications/${id}`, { key }), 200);
}

async function settled(id, timeoutMs = 30000) {
  return waitFor(async () => {
    const a = await getApp(id);
    return ['issued', 'rejected', 'cancelled'].includes(a.state) ? a : null;
  }, { timeoutMs, intervalMs: 200, what: `application ${id} to settle` });
}

test('HTTP-01: an ACME product is issued by itself, with a key made and sealed here', async () => {
  const d = name();
  const a = assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'letsencrypt-dv-1-free', domains: [d], contact_id: contactId },
  }), 201);
  const done = await settled(a.id);
  assert.equal(done.state, 'issued', JSON.stringify(done));
  assert.deepEqual(done.history.map((h) => h.to),
    ['submitted', 'pending_validation', 'approved', 'issued']);
  // what the CA checked stays visible with the application
  assert.equal(done.acme.order_status, 'valid');
  assert.equal(done.acme.validation.length, 1);
  const v = done.acme.validation[0];
  assert.equal(v.domain, d);
  assert.equal(v.type, 'http-01');
  assert.match(v.http_uri, new RegExp(`^http://${d.replace(/\./g, '\\.')}/\\.well-known/acme-challenge/[A-Za-z0-9_-]+$`));
  assert.match(v.http_content, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  // the answer is no longer served once the certificate is issued
  const token = v.http_uri.split('/').pop();
  const gone = await fetch(`${server.base}/.well-known/acme-challenge/${token}`);
  assert.equal(gone.status, 404);
  // the certificate: pebble's chain, for the name, with the key made here
  const list = assertOk(await api(server, 'GET', `/v1/certificates?domain=${d}`, { key }), 200);
  assert.equal(list.items.length, 1, JSON.stringify(list));
  const cert = assertOk(await api(server, 'GET', `/v1/certificates/${list.items[0].id}`, { key }), 200);
  assert.match(cert.issuer, /Pebble/);
  assert.equal(cert.has_private_key, true, JSON.stringify(cert));
  assert.deepEqual(cert.contact_ids, [contactId], JSON.stringify(cert));
  // the leaf and pebble's intermediate
  assert.equal((cert.pem.match(/BEGIN CERTIFICATE/g) || []).length, 2);
  // the contact heard of every step, through the existing events
  const types = await waitFor(async () => {
    const ns = assertOk(await api(server, 'GET', `/v1/notifications?contact_id=${contactId}&page_size=100`, { key }), 200).items;
    const seen = new Set();
    for (const n of ns) {
      const e = assertOk(await api(server, 'GET', `/v1/events/${n.event_id}`, { key }), 200);
      if (String(e.data.application_id) === String(a.id)) seen.add(e.type);
    }
    return seen.size === 3 ? seen : null;
  }, { timeoutMs: 10000, intervalMs: 200, what: 'the three events of the application' });
  assert.deepEqual([...types].sort(), ['certificate.application.approved',
    'certificate.application.verification_required', 'certificate.issued']);
});

test('HTTP-01 with the application\'s own CSR: the key stays with the user', async () => {
  const d = name();
  const t = fs.mkdtempSync(path.join(dir, 'csr-'));
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', path.join(t, 'k.pem'), '-out', path.join(t, 'r.pem'), '-subj', `/CN=${d}`,
    '-addext', `subjectAltName=DNS:${d}`], { stdio: 'ignore' });
  const csr = fs.readFileSync(path.join(t, 'r.pem'), 'utf8');
  const a = assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'acme-dv-m', csr, contact_id: contactId },
  }), 201);
  const done = await settled(a.id);
  assert.equal(done.state, 'issued', JSON.stringify(done));
  const list = assertOk(await api(server, 'GET', `/v1/certificates?domain=${d}`, { key }), 200);
  const cert = assertOk(await api(server, 'GET', `/v1/certificates/${list.items[0].id}`, { key }), 200);
  assert.equal(cert.has_private_key, false);
  // the issued certificate holds the CSR's public key
  const pub = (pem) => execFileSync('openssl', ['pkey', '-pubout'], { input: pem }).toString();
  const certPub = execFileSync('openssl', ['x509', '-noout', '-pubkey'], { input: cert.pem }).toString();
  assert.equal(certPub, pub(fs.readFileSync(path.join(t, 'k.pem'), 'utf8')));
});

test('DNS-01 through the hook: a wildcard is issued, its record published, waited for and removed', async () => {
  const base = name();
  const a = assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'letsencrypt-dv-w-free', domains: [`*.${base}`], contact_id: contactId },
  }), 201);
  let done = await settled(a.id);
  assert.equal(done.state, 'issued', JSON.stringify(done));
  // the record is removed once the certificate is in
  done = await waitFor(async () => {
    const x = await getApp(a.id);
    return x.acme.validation[0].status === 'removed' ? x : null;
  }, { timeoutMs: 10000, intervalMs: 100, what: 'the DNS-01 record to be removed' });
  const v = done.acme.validation;
  assert.equal(v.length, 1);
  assert.equal(v[0].type, 'dns-01');
  assert.equal(v[0].domain, base);
  assert.equal(v[0].dns_name, `_acme-challenge.${base}`);
  assert.match(v[0].dns_value, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(v[0].status, 'removed');
  const calls = fs.readFileSync(hookLog, 'utf8').trim().split('\n').filter((l) => l.includes(base));
  assert.deepEqual(calls, [`add _acme-challenge.${base} ${v[0].dns_value}`, `remove _acme-challenge.${base} ${v[0].dns_value}`]);
  const list = assertOk(await api(server, 'GET', `/v1/certificates?domain=${encodeURIComponent(`*.${base}`)}`, { key }), 200);
  assert.equal(list.items.length, 1, JSON.stringify(list));
});

test('DNS-01 through Alibaba Cloud DNS: the stand-in checks the signature, the wildcard is issued', async () => {
  const ali = await startAliDns({ keys: { LTAIacmeDnsTest0001: 'alidns-secret' }, challtestsrv: `http://127.0.0.1:${dnsMgmtPort}` });
  const d2 = makeDataDir();
  const key2 = createAccount(d2);
  const s2 = await startServer(d2, {
    env: {
      ...serverEnv(acmePortMain, certsMain, await freePort()),
      CERTCONTACTS_ACME_DNS_HOOK: '',
      CERTCONTACTS_ACME_ALIDNS_ENDPOINT: ali.url,
      CERTCONTACTS_ACME_ALIDNS_ACCESS_KEY_ID: 'LTAIacmeDnsTest0001',
      CERTCONTACTS_ACME_ALIDNS_ACCESS_KEY_SECRET: 'alidns-secret',
      CERTCONTACTS_ACME_ALIDNS_ZONES: 'acme-test.net',
    },
  });
  try {
    const body = await verifiedContactBody(s2, key2);
    const c = assertOk(await api(s2, 'POST', '/v1/contacts', { key: key2, json: body }), 201);
    const base = name();
    const a = assertOk(await api(s2, 'POST', '/v1/applications', {
      key: key2, json: { product: 'letsencrypt-dv-w-free', domains: [`*.${base}`], contact_id: c.id },
    }), 201);
    const done = await waitFor(async () => {
      const x = assertOk(await api(s2, 'GET', `/v1/applications/${a.id}`, { key: key2 }), 200);
      return ['issued', 'rejected'].includes(x.state) ? x : null;
    }, { timeoutMs: 30000, intervalMs: 200, what: 'the wildcard application to settle' });
    assert.equal(done.state, 'issued', JSON.stringify(done));
    const v = done.acme.validation[0];
    await waitFor(() => ali.calls.length >= 2, { timeoutMs: 10000, what: 'DeleteDomainRecord' });
    assert.deepEqual(ali.calls.map((x) => [x.action, x.ok]), [['AddDomainRecord', true], ['DeleteDomainRecord', true]]);
    const add = ali.calls[0].params;
    assert.equal(add.DomainName, 'acme-test.net');
    assert.equal(add.RR, `_acme-challenge.${base.replace(/\.acme-test\.net$/, '')}`);
    assert.equal(add.Value, v.dns_value);
    assert.equal(ali.records.size, 0);
  } finally {
    await s2.stop();
    await ali.stop();
    removeDir(d2);
  }
});

test('a challenge the CA cannot check: rejected with the CA\'s problem type and detail', async () => {
  const d = name();
  await pebble.setA(d, ['127.0.0.2']); // nothing answers there
  const a = assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'letsencrypt-dv-1-free', domains: [d], contact_id: contactId },
  }), 201);
  const done = await settled(a.id);
  assert.equal(done.state, 'rejected', JSON.stringify(done));
  const last = done.history[done.history.length - 1];
  assert.match(last.reason, /^urn:ietf:params:acme:error:(connection|unauthorized)/, last.reason);
  assert.match(last.reason, /127\.0\.0\.2|connection refused/i, last.reason);
});

test('an ACME application moves by itself: a person may only cancel it', async () => {
  const a = assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'letsencrypt-dv-1-free', domains: [name()], contact_id: contactId },
  }), 201);
  assert.equal(a.fulfilment, 'acme');
  assert.ok(a.allowed_transitions.every((s) => s === 'cancelled'), JSON.stringify(a.allowed_transitions));
  const e = assertError(await api(server, 'POST', `/v1/applications/${a.id}/transitions`, { key, json: { to: 'approved' } }), 409, 'InvalidTransition');
  assert.match(e.message, /moves by itself|not allowed|cannot/i);
  assert.equal((await settled(a.id)).state, 'issued');
  // a manual product is moved by people as before
  const m = assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'digicert-free-1-free', domains: [name()], contact_id: contactId },
  }), 201);
  assert.equal(m.fulfilment, 'manual');
  assert.ok(m.allowed_transitions.includes('pending_validation'));
});

test('the HTTP-01 route answers only known tokens, without credentials', async () => {
  for (const base of [server.base, `http://127.0.0.1:${httpPort}`]) {
    const r = await fetch(`${base}/.well-known/acme-challenge/nosuchtoken`);
    assert.equal(r.status, 404);
    const bad = await fetch(`${base}/.well-known/acme-challenge/..`);
    assert.equal(bad.status, 404);
  }
});

test('acme_http_listen serves nothing but the challenges', async () => {
  const base = `http://127.0.0.1:${httpPort}`;
  for (const p of ['/healthz', '/', '/v1/contacts', '/assets/app.js', '/.well-known/other']) {
    const r = await fetch(base + p, { headers: { authorization: `Basic ${Buffer.from(`${key.access_key_id}:${key.access_key_secret}`).toString('base64')}` } });
    assert.equal(r.status, 404, p);
  }
  // the main listener still answers everything
  assert.equal((await fetch(`${server.base}/healthz`)).status, 200);
});

test('the account key is made once and sealed with the master key', async () => {
  const out = dbQuery(dir, `SELECT count(*), CAST(min(${sqlBlobLength('key_enc')}) > 100 AS INTEGER), ` +
    `CAST(min(kid) <> '' AS INTEGER), max(${sqlBlobFind('key_enc', 'PRIVATE KEY')}) FROM acme_accounts`).trim();
  assert.equal(out, '1|1|1|0');
  const orders = dbQuery(dir, 'SELECT count(*) FROM acme_orders WHERE key_enc IS NOT NULL ' +
    `AND ${sqlBlobFind('key_enc', 'PRIVATE KEY')} = 0`).trim();
  assert.ok(Number(orders) >= 1, orders);
});

test('badNonce: the nonces pebble refused were sent again with fresh ones', () => {
  const refused = server.lines.filter((l) => l.msg === 'acme: the CA refused the nonce (badNonce); sending again');
  assert.ok(refused.length > 0, 'pebble refused no nonce in this run (25% of them are)');
  assert.equal(server.lines.filter((l) => /nonces in a row/.test(JSON.stringify(l))).length, 0);
});

test('external account binding: an account is registered where the CA requires one', async () => {
  const d2 = makeDataDir();
  const key2 = createAccount(d2);
  const acmePort = await freePort();
  const http2 = await freePort();
  const certs = pebbleCerts();
  const hmac = 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W';
  const s2 = await startServer(d2, {
    env: {
      ...serverEnv(acmePort, certs, http2),
      CERTCONTACTS_ACME_EAB_KID: 'kid-1',
      CERTCONTACTS_ACME_EAB_HMAC_KEY: hmac,
      CERTCONTACTS_ACME_MAX_ORDERS: '1',
    },
  });
  const p2 = await startPebble({ httpPort: http2, acmePort, certs, eab: { 'kid-1': hmac } });
  try {
    const body = await verifiedContactBody(s2, key2);
    const c = assertOk(await api(s2, 'POST', '/v1/contacts', { key: key2, json: body }), 201);
    // two applications with acme_max_orders 1: one order at a time, both issued
    const apps = [];
    for (let i = 0; i < 2; i++) {
      apps.push(assertOk(await api(s2, 'POST', '/v1/applications', {
        key: key2, json: { product: 'letsencrypt-dv-1-free', domains: [name()], contact_id: c.id },
      }), 201));
    }
    let most = 0;
    for (const a of apps) {
      const done = await waitFor(async () => {
        const busy = Number(dbQuery(d2, "SELECT count(*) FROM acme_orders o JOIN applications a " +
          "ON a.id = o.application_id WHERE o.order_url <> '' AND a.state IN ('submitted', 'pending_validation', 'approved')"));
        most = Math.max(most, busy);
        const x = assertOk(await api(s2, 'GET', `/v1/applications/${a.id}`, { key: key2 }), 200);
        return ['issued', 'rejected'].includes(x.state) ? x : null;
      }, { timeoutMs: 30000, intervalMs: 20, what: 'the EAB application to settle' });
      assert.equal(done.state, 'issued', JSON.stringify(done));
    }
    assert.ok(most <= 1, `${most} orders were in flight at once`);
  } finally {
    await s2.stop();
    await p2.stop();
    removeDir(d2);
  }
});

test('without the binding such a CA refuses the account: rejected with its reason', async () => {
  const d2 = makeDataDir();
  const key2 = createAccount(d2);
  const acmePort = await freePort();
  const http2 = await freePort();
  const certs = pebbleCerts();
  const s2 = await startServer(d2, { env: serverEnv(acmePort, certs, http2) });
  const p2 = await startPebble({ httpPort: http2, acmePort, certs, eab: { 'kid-1': 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W' } });
  try {
    const body = await verifiedContactBody(s2, key2);
    const c = assertOk(await api(s2, 'POST', '/v1/contacts', { key: key2, json: body }), 201);
    const a = assertOk(await api(s2, 'POST', '/v1/applications', {
      key: key2, json: { product: 'letsencrypt-dv-1-free', domains: [name()], contact_id: c.id },
    }), 201);
    const done = await waitFor(async () => {
      const x = assertOk(await api(s2, 'GET', `/v1/applications/${a.id}`, { key: key2 }), 200);
      return x.state === 'rejected' ? x : null;
    }, { timeoutMs: 30000, intervalMs: 200, what: 'the application to be rejected' });
    const last = done.history[done.history.length - 1];
    assert.match(last.reason, /^urn:ietf:params:acme:error:externalAccountRequired: .+ \(while registering the ACME account\)$/, last.reason);
  } finally {
    await s2.stop();
    await p2.stop();
    removeDir(d2);
  }
});

/** A TCP relay from port `from` to `to` on 127.0.0.1 that holds every
 * connection, unanswered, while paused. */
function relay(from, to) {
  const held = [];
  const r = { paused: true, sockets: new Set() };
  const pipe = (c) => {
    const u = net.connect(to, '127.0.0.1');
    c.pipe(u).pipe(c);
    u.on('error', () => c.destroy());
    c.on('error', () => u.destroy());
  };
  r.server = net.createServer((c) => {
    r.sockets.add(c);
    c.on('close', () => r.sockets.delete(c));
    if (r.paused) held.push(c); else pipe(c);
  });
  r.resume = () => { r.paused = false; for (const c of held.splice(0)) pipe(c); };
  r.held = () => held.length;
  r.close = () => new Promise((resolve) => { for (const c of r.sockets) c.destroy(); r.server.close(resolve); });
  return new Promise((resolve) => r.server.listen(from, '127.0.0.1', () => resolve(r)));
}

test('kill -9 in the middle of an order: the restarted server goes on with the same order', async () => {
  // pebble's checks reach the server through a relay that holds them while the server is down
  await server.stop();
  const inner = await freePort();
  const env = { ...serverEnv(acmePortMain, certsMain, httpPort), CERTCONTACTS_ACME_HTTP_LISTEN: `127.0.0.1:${inner}` };
  server = await startServer(dir, { env });
  const r = await relay(httpPort, inner);
  try {
    const d = name();
    const a = assertOk(await api(server, 'POST', '/v1/applications', {
      key, json: { product: 'letsencrypt-dv-1-free', domains: [d], contact_id: contactId },
    }), 201);
    // the order is placed and its challenge answered: pebble's check waits in the relay
    const sql = `SELECT a.state, o.order_url, ch.status FROM applications a JOIN acme_orders o ON o.application_id = a.id ` +
      `JOIN acme_challenges ch ON ch.application_id = a.id WHERE a.id = ${a.id}`;
    const mid = await waitFor(() => {
      const row = dbQuery(dir, sql).trim();
      return row.endsWith('|processing') && r.held() > 0 ? row : null;
    }, { timeoutMs: 20000, intervalMs: 20, what: 'the challenge to be answered' });
    server.proc.kill('SIGKILL');
    await server.exit;
    server.proc = null;
    const [midState, orderUrl] = mid.split('|');
    assert.equal(midState, 'pending_validation');
    assert.match(orderUrl, /^https:\/\/localhost:\d+\//);
    server = await startServer(dir, { env });
    r.resume();
    const done = await settled(a.id);
    assert.equal(done.state, 'issued', JSON.stringify(done));
    const after = dbQuery(dir, `SELECT order_url FROM acme_orders WHERE application_id = ${a.id}`).trim();
    assert.equal(after, orderUrl, 'a second order was placed');
    assert.deepEqual(done.history.map((h) => h.to), ['submitted', 'pending_validation', 'approved', 'issued']);
  } finally {
    // back to the server the other tests expect: HTTP-01 on httpPort itself
    await r.close();
    if (server.proc) await server.stop();
    server = await startServer(dir, { env: serverEnv(acmePortMain, certsMain, httpPort) });
  }
});

/** On server s (admin key k): a contact, a DV application for a new name, its
 * first certificate, then the renewed one that supersedes it (what: the wait's
 * name). Returns {c, d, first, renewed, certsOf}. */
async function issueThenRenewal(s, k, what) {
  const body = await verifiedContactBody(s, k);
  const c = assertOk(await api(s, 'POST', '/v1/contacts', { key: k, json: body }), 201);
  const d = name();
  assertOk(await api(s, 'POST', '/v1/applications', {
    key: k, json: { product: 'letsencrypt-dv-1-free', domains: [d], contact_id: c.id },
  }), 201);
  const certsOf = async () => assertOk(await api(s, 'GET', `/v1/certificates?domain=${d}&page_size=100`, { key: k }), 200).items;
  const first = await waitFor(async () => (await certsOf()).find((x) => x.state === 'active'),
    { timeoutMs: 30000, intervalMs: 200, what: 'the first certificate' });
  const renewed = await waitFor(async () => {
    const all = await certsOf();
    const old = all.find((x) => x.id === first.id);
    return old && old.state === 'superseded' ? all.find((x) => x.id !== first.id && x.state === 'active') : null;
  }, { timeoutMs: 40000, intervalMs: 250, what });
  return { c, d, first, renewed, certsOf };
}

test('renewal: a short-lived certificate renews by itself and supersedes the old one; a failing renewal tells the subscribers', async () => {
  const d2 = makeDataDir();
  const key2 = createAccount(d2);
  const acmePort = await freePort();
  const http2 = await freePort();
  const certs = pebbleCerts();
  const dnsPort2 = await freePort();
  const dnsMgmt2 = await freePort();
  const s2 = await startServer(d2, {
    env: {
      ...serverEnv(acmePort, certs, http2),
      CERTCONTACTS_ACME_DNS_HOOK: '',
      // 60 s certificates renewed when 90% of the lifetime remains: 6 s after issue
      CERTCONTACTS_ACME_RENEW_REMAINING_PERCENT: '90',
      CERTCONTACTS_ACME_RENEW_RETRY_S: '600',
    },
  });
  const p2 = await startPebble({ httpPort: http2, acmePort, certs, dnsPort: dnsPort2, dnsMgmtPort: dnsMgmt2,
    validityS: 60, env: { PEBBLE_AUTHZREUSE: '0' } });
  try {
    // the renewal: a second application, issued, whose certificate supersedes the first
    const { c, d, first, renewed, certsOf } = await issueThenRenewal(s2, key2, 'the renewed certificate');
    assert.ok(Date.parse(renewed.not_after) > Date.parse(first.not_after));
    const info = assertOk(await api(s2, 'GET', `/v1/certificates/${renewed.id}`, { key: key2 }), 200).acme_renewal;
    assert.ok(info, 'an ACME certificate says when it renews');
    assert.equal(info.failures, 0);
    const apps = assertOk(await api(s2, 'GET', `/v1/applications?domain=${d}`, { key: key2 }), 200).items;
    assert.ok(apps.length >= 2 && apps.every((x) => x.contact_id === c.id), JSON.stringify(apps));
    // the next renewal cannot pass: the name now points where nothing answers
    await p2.setA(d, ['127.0.0.2']);
    const failed = await waitFor(async () => {
      const ns = assertOk(await api(s2, 'GET', `/v1/notifications?contact_id=${c.id}&page_size=100`, { key: key2 }), 200).items;
      for (const n of ns) {
        const e = assertOk(await api(s2, 'GET', `/v1/events/${n.event_id}`, { key: key2 }), 200);
        if (e.type === 'certificate.renewal_failed') return e;
      }
      return null;
    }, { timeoutMs: 40000, intervalMs: 500, what: 'certificate.renewal_failed' });
    assert.match(failed.data.reason, /urn:ietf:params:acme:error:(connection|unauthorized)/, JSON.stringify(failed.data));
    assert.deepEqual(failed.data.domains, [d]);
    // the certificate in use stays active: its reminders keep running; it says why its renewal failed
    const now = await certsOf();
    const active = now.find((x) => x.state === 'active');
    assert.ok(active);
    const after = await waitFor(async () => {
      const r = assertOk(await api(s2, 'GET', `/v1/certificates/${active.id}`, { key: key2 }), 200).acme_renewal;
      return r && r.failures >= 1 ? r : null;
    }, { timeoutMs: 10000, intervalMs: 200, what: 'the failure on the certificate' });
    assert.match(after.last_failure, /urn:ietf:params:acme:error:/);
    assert.ok(Date.parse(after.renews_at) > Date.now() + 500 * 1000, JSON.stringify(after));
  } finally {
    await s2.stop();
    await p2.stop();
    removeDir(d2);
  }
});

/** The ARI id of a certificate (RFC 9773 4.1) as a CA computes it: base64url
 * of the Authority Key Identifier, ".", base64url of the serial's DER content. */
function ariId(pem, dir) {
  const file = path.join(dir, `ari-${unique('c')}.pem`);
  fs.writeFileSync(file, pem);
  const ext = execFileSync('openssl', ['x509', '-in', file, '-noout', '-ext', 'authorityKeyIdentifier']).toString();
  const aki = Buffer.from(/([0-9A-F]{2}(?::[0-9A-F]{2})+)/i.exec(ext)[1].replace(/:/g, ''), 'hex');
  let hex = /serial=([0-9A-F]+)/i.exec(execFileSync('openssl', ['x509', '-in', file, '-noout', '-serial']).toString())[1];
  if (hex.length % 2) hex = `0${hex}`;
  let serial = Buffer.from(hex, 'hex');
  if (serial[0] & 0x80) serial = Buffer.concat([Buffer.from([0]), serial]);
  const b64u = (b) => b.toString('base64url');
  return `${b64u(aki)}.${b64u(serial)}`;
}

test('ACME Renewal Information: a CA that suggests a renewal window is followed (long before the lifetime rule)', async () => {
  const d3 = makeDataDir();
  const key3 = createAccount(d3);
  const acmePort = await freePort();
  const http3 = await freePort();
  const certs = pebbleCerts();
  const ca = fs.readFileSync(certs.caFile);
  // pebble 2.4 offers no ARI: a directory in front of its own adds renewalInfo,
  // served over HTTPS with a certificate of the same test PKI
  const stubLeaf = certs.pki.leaf(['localhost']);
  const asked = [];
  let window = null;
  const pebbleDir = () => new Promise((resolve, reject) => {
    https.get(`https://localhost:${acmePort}/dir`, { ca }, (r) => {
      let b = '';
      r.on('data', (c) => { b += c; });
      r.on('end', () => resolve(JSON.parse(b)));
    }).on('error', reject);
  });
  const stub = https.createServer({ key: stubLeaf.key, cert: stubLeaf.chain }, async (req, res) => {
    try {
      if (req.url === '/dir') {
        const dir = await pebbleDir();
        dir.renewalInfo = `https://localhost:${stub.address().port}/ari`;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(dir));
        return;
      }
      const m = /^\/ari\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(req.url);
      if (m && req.method === 'GET') {
        asked.push(m[1]);
        window = { start: new Date(Date.now() + 1500).toISOString(), end: new Date(Date.now() + 3000).toISOString() };
        res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '21600' });
        res.end(JSON.stringify({ suggestedWindow: window }));
        return;
      }
      res.writeHead(404);
      res.end();
    } catch (e) {
      res.writeHead(500);
      res.end(String(e));
    }
  });
  await new Promise((resolve) => stub.listen(0, '127.0.0.1', resolve));
  const s3 = await startServer(d3, {
    env: {
      ...serverEnv(acmePort, certs, http3),
      CERTCONTACTS_ACME_DNS_HOOK: '',
      CERTCONTACTS_ACME_DIRECTORY_URL: `https://localhost:${stub.address().port}/dir`,
    },
  });
  const p3 = await startPebble({ httpPort: http3, acmePort, certs, env: { PEBBLE_AUTHZREUSE: '0' } });
  try {
    // pebble's certificates live five years: only the CA's window renews it this soon
    const { d, first, renewed } = await issueThenRenewal(s3, key3, 'the renewal inside the suggested window');
    assert.ok(renewed);
    const pem = assertOk(await api(s3, 'GET', `/v1/certificates/${first.id}`, { key: key3 }), 200).pem;
    assert.equal(asked[0], ariId(pem, d3), 'the renewal information was asked for the issued certificate');
    const apps = assertOk(await api(s3, 'GET', `/v1/applications?domain=${d}`, { key: key3 }), 200).items;
    assert.ok(apps.length >= 2, JSON.stringify(apps));
  } finally {
    await s3.stop();
    await p3.stop();
    await new Promise((resolve) => stub.close(resolve));
    removeDir(d3);
  }
});

test('key rotate-master re-seals the ACME account key and the orders\' keys; issuance goes on under the new key', async () => {
  const sealed = () => Number(dbQuery(dir, 'SELECT (SELECT count(*) FROM acme_accounts) + ' +
    '(SELECT count(*) FROM acme_orders WHERE key_enc IS NOT NULL)'));
  const before = sealed();
  assert.ok(before >= 2, `${before} ACME values sealed`);
  const done = cliJson(['key', 'rotate-master', '--json'], { dataDir: dir, env: { CERTCONTACTS_ROTATE_SETTLE_MS: '0' } });
  assert.ok(done.resealed >= before, JSON.stringify(done));
  // a server started now knows only the new key: the account key must open under it
  await server.stop();
  server = await startServer(dir, { env: serverEnv(acmePortMain, certsMain, httpPort) });
  const d = name();
  const a = assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'letsencrypt-dv-1-free', domains: [d], contact_id: contactId },
  }), 201);
  const fin = await settled(a.id);
  assert.equal(fin.state, 'issued', JSON.stringify(fin));
  const accounts = dbQuery(dir, 'SELECT count(*) FROM acme_accounts').trim();
  assert.equal(accounts, '1', 'a second ACME account was made instead of opening the first');
});

test('console: a DV certificate applied for in the console is issued by the ACME CA with no other step; the application shows what the CA checked', async () => {
  const d = name();
  const contact = assertOk(await api(server, 'GET', `/v1/contacts/${contactId}`, { key }), 200);
  const email = `op-${unique('u')}@example.com`;
  const password = 'correct horse battery staple';
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'operator', password } }), 201);
  const browser = await launch();
  try {
    const { page } = await newPage(browser);
    await page.goto(`${server.base}/`);
    await signIn(page, email, password);
    await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Applications', exact: true }).click();
    await page.getByRole('button', { name: 'Apply for Certificate' }).click();
    const dlg = page.getByRole('dialog', { name: 'Apply for Certificate' });
    await dlg.getByLabel('Product').selectOption('letsencrypt-dv-1-free');
    await dlg.getByLabel('Domains').fill(d);
    const combo = dlg.getByRole('combobox', { name: 'Contact' });
    await combo.fill(contact.name);
    await dlg.getByRole('option', { name: new RegExp(contact.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).click();
    await dlg.getByText('This contact has everything the product needs.').waitFor();
    await dlg.getByRole('button', { name: 'Submit' }).click();
    await dlg.waitFor({ state: 'detached' });
    // the application's dialog follows it by itself: no other step
    const detail = page.getByRole('dialog', { name: /^Application #\d+$/ });
    await detail.waitFor();
    const id = Number(/#(\d+)/.exec(await detail.getByRole('heading', { level: 2 }).innerText())[1]);
    // it moves by itself: the only move offered to a person is to cancel it
    const offered = await detail.getByRole('group', { name: 'Move the application' }).getByRole('button').allInnerTexts().catch(() => []);
    assert.ok(offered.every((x) => /Cancel/.test(x)), `moves offered: ${offered}`);
    await detail.getByText('Order at the CA: valid').waitFor({ timeout: 30000 });
    await detail.getByText('Issued', { exact: true }).first().waitFor({ timeout: 30000 });
    await detail.getByRole('heading', { name: 'Validation by the ACME CA' }).waitFor();
    const a = await getApp(id);
    assert.equal(a.state, 'issued');
    assert.equal(a.product, 'letsencrypt-dv-1-free');
    assert.equal(a.contact_id, contactId);
    const v = a.acme.validation[0];
    await detail.getByText(v.http_content, { exact: true }).waitFor();
    await detail.getByRole('button', { name: `Copy the value for ${v.http_uri}` }).waitFor();
    await assertAccessible(page, 'an issued ACME application');
    // the certificate is there, its contact subscribed
    const certs = assertOk(await api(server, 'GET', `/v1/certificates?domain=${d}`, { key }), 200);
    assert.equal(certs.items.length, 1);
    assert.deepEqual(certs.items[0].contact_ids ?? [contactId], [contactId]);
    assert.deepEqual(page.problems, []);
  } finally {
    await browser.close();
  }
});

test('SIGTERM while a request to the CA hangs: the server stops at once, cleanly', async () => {
  // a "CA" that accepts connections and never answers
  const held = new Set();
  const silent = net.createServer((c) => { held.add(c); c.on('error', () => {}); });
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const d2 = makeDataDir();
  const key2 = createAccount(d2);
  const s2 = await startServer(d2, {
    env: {
      ...serverEnv(acmePortMain, certsMain, await freePort()),
      CERTCONTACTS_ACME_DIRECTORY_URL: `https://localhost:${silent.address().port}/dir`,
      CERTCONTACTS_ACME_TIMEOUT_MS: '60000',
    },
  });
  try {
    const body = await verifiedContactBody(s2, key2);
    const c = assertOk(await api(s2, 'POST', '/v1/contacts', { key: key2, json: body }), 201);
    assertOk(await api(s2, 'POST', '/v1/applications', {
      key: key2, json: { product: 'letsencrypt-dv-1-free', domains: [name()], contact_id: c.id },
    }), 201);
    await new Promise((r) => setTimeout(r, 300)); // the worker is now waiting on the silent CA
    const t0 = Date.now();
    await s2.stop(); // asserts a clean exit
    assert.ok(Date.now() - t0 < 5000, `stopping took ${Date.now() - t0} ms`);
  } finally {
    if (s2.proc) await s2.stop();
    for (const c of held) c.destroy();
    await new Promise((resolve) => silent.close(resolve));
    removeDir(d2);
  }
});
