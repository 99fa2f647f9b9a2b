// tls.test.mjs — `serve` on HTTPS (issue 14, TLS): the certificate and key
// from the configuration, TLS 1.2+ only, HSTS and Secure cookies on HTTPS, a
// SIGHUP that replaces the certificate for new connections while an open
// connection carries on, a bad replacement that keeps the pair in use; and
// X-Forwarded-Proto believed only from a configured proxy address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import http from 'node:http';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import {
  makeDataDir, startServer, createAccount, cli, cliJson, stopAllAfter, waitFor,
} from './lib/harness.mjs';
import { Pki } from './lib/pki.mjs';

let dir, plainDir, server, plain, pki, certA, certB, acct, user;
let certFile, keyFile;

before(async () => {
  pki = new Pki();
  certA = pki.leaf(['localhost']);
  certB = pki.leaf(['localhost']);
  dir = makeDataDir();
  acct = createAccount(dir);
  user = cliJson(['user', 'create', '--account', String(acct.account_id), '--email', 'tls@example.com', '--role', 'admin', '--json'], { dataDir: dir });
  certFile = path.join(dir, 'tls-cert.pem');
  keyFile = path.join(dir, 'tls-key.pem');
  fs.writeFileSync(certFile, certA.chain);
  fs.writeFileSync(keyFile, certA.key, { mode: 0o600 });
  server = await startServer(dir, { args: ['--tls-cert-file', certFile, '--tls-key-file', keyFile] });
  plainDir = makeDataDir();
  createAccount(plainDir);
  cliJson(['user', 'create', '--account', '1', '--email', 'proxy@example.com', '--role', 'admin', '--password', 'Correct-Horse-Battery-9', '--json'], { dataDir: plainDir });
  plain = await startServer(plainDir, { args: ['--trusted-proxies', '127.0.0.2, 10.0.0.0/8'] });
});
stopAllAfter(() => [server, plain], () => dir);
after(() => { pki.remove(); fs.rmSync(plainDir, { recursive: true, force: true }); });

/** A request over HTTPS trusting the test root; resolves {status, headers,
 * text, cert (the peer's), reused (a kept-alive connection)}. */
function get(p, { agent, method = 'GET', body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: server.port, servername: 'localhost', path: p, method, ca: pki.root,
      agent: agent || false, headers: body ? { 'content-type': 'application/json', ...headers } : headers,
    }, (res) => {
      const cert = res.socket.getPeerCertificate();
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, cert, reused: req.reusedSocket }));
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

test('HTTPS with the configured certificate, HSTS, and a Secure session cookie', async () => {
  const res = await get('/healthz');
  assert.equal(res.status, 200);
  assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  const listening = server.lines.find((l) => l.msg === 'listening');
  assert.equal(listening.scheme, 'https');
  const signIn = await get('/v1/session', { method: 'POST', body: { email: 'tls@example.com', password: user.password } });
  assert.equal(signIn.status, 201, signIn.text);
  const flags = String(signIn.headers['set-cookie']).split(';').map((x) => x.trim());
  assert.ok(flags.includes('Secure'), String(signIn.headers['set-cookie']));
  // plain HTTP to the HTTPS port is not answered as HTTP
  const plainTry = await new Promise((resolve) => {
    const r = http.get({ host: '127.0.0.1', port: server.port, path: '/healthz', agent: false }, (x) => resolve(x.statusCode));
    r.on('error', () => resolve('refused'));
    r.setTimeout(3000, () => { r.destroy(); resolve('timeout'); });
  });
  assert.notEqual(plainTry, 200);
});

test('TLS 1.1 is refused; TLS 1.2 and 1.3 are spoken', async () => {
  const tryVersion = (minVersion, maxVersion) => new Promise((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port: server.port, servername: 'localhost', ca: pki.root, minVersion, maxVersion, ciphers: 'DEFAULT:@SECLEVEL=0' },
      () => { const v = s.getProtocol(); s.destroy(); resolve(v); });
    s.on('error', (e) => resolve(`error: ${e.code || e.message}`));
  });
  assert.equal(await tryVersion('TLSv1.3', 'TLSv1.3'), 'TLSv1.3');
  assert.equal(await tryVersion('TLSv1.2', 'TLSv1.2'), 'TLSv1.2');
  const old = await tryVersion('TLSv1.1', 'TLSv1.1');
  assert.match(old, /^error/, `TLS 1.1 was spoken: ${old}`);
});

test('SIGHUP replaces the certificate for new connections; an open connection carries on', async () => {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  const first = await get('/healthz', { agent });
  assert.equal(first.cert.fingerprint256, new X509Certificate(certA.pem).fingerprint256);
  fs.writeFileSync(certFile, certB.chain);
  fs.writeFileSync(keyFile, certB.key);
  server.proc.kill('SIGHUP');
  await waitFor(() => server.lines.find((l) => /reloaded/.test(l.msg)), { what: 'the reload log line' });
  const again = await get('/healthz', { agent });
  assert.equal(again.status, 200);
  assert.equal(again.reused, true, 'the kept-alive connection was dropped by the reload');
  assert.equal(again.cert.fingerprint256, first.cert.fingerprint256);
  agent.destroy();
  const fresh = await get('/healthz');
  assert.equal(fresh.cert.fingerprint256, new X509Certificate(certB.pem).fingerprint256);

  // a key that is not the certificate's: refused, the pair in use stays
  fs.writeFileSync(keyFile, certA.key);
  server.proc.kill('SIGHUP');
  await waitFor(() => server.lines.find((l) => /not replaced/.test(l.msg)), { what: 'the failed reload line' });
  const still = await get('/healthz');
  assert.equal(still.status, 200);
  assert.equal(still.cert.fingerprint256, fresh.cert.fingerprint256);
  fs.writeFileSync(keyFile, certB.key);
});

function plainReq(localAddress, p, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: plain.port, path: p, method, localAddress, agent: false,
      headers: body ? { 'content-type': 'application/json', ...headers } : headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.on('error', reject);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

test('X-Forwarded-Proto: https counts only from a trusted proxy address', async () => {
  const creds = { email: 'proxy@example.com', password: 'Correct-Horse-Battery-9' };
  const h = { 'x-forwarded-proto': 'https' };
  const fromAnyone = await plainReq('127.0.0.1', '/v1/session', { method: 'POST', headers: h, body: creds });
  assert.equal(fromAnyone.status, 201);
  assert.ok(!String(fromAnyone.headers['set-cookie']).includes('Secure'), String(fromAnyone.headers['set-cookie']));
  assert.equal(fromAnyone.headers['strict-transport-security'], undefined);
  const fromProxy = await plainReq('127.0.0.2', '/v1/session', { method: 'POST', headers: h, body: creds });
  assert.equal(fromProxy.status, 201);
  assert.ok(String(fromProxy.headers['set-cookie']).split(';').map((x) => x.trim()).includes('Secure'));
  assert.equal(fromProxy.headers['strict-transport-security'], 'max-age=31536000');
  const proxyPlain = await plainReq('127.0.0.2', '/healthz');
  assert.equal(proxyPlain.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  // the log names the client the trusted proxy saw, and no one else's claim
  const xff = { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' };
  const viaProxy = await plainReq('127.0.0.2', '/healthz', { headers: xff });
  const direct = await plainReq('127.0.0.1', '/healthz', { headers: xff });
  assert.equal((await plain.requestLog(viaProxy.headers['x-request-id'])).remote, '198.51.100.7');
  assert.equal((await plain.requestLog(direct.headers['x-request-id'])).remote, '127.0.0.1');
});

test('serve refuses a trusted_proxies entry that is not an address, and half a TLS configuration', () => {
  const bad = cli(['serve', '--listen', '127.0.0.1:0', '--trusted-proxies', '10.0.0.0/33, proxy.local'], { dataDir: plainDir + '-x' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /trusted_proxies must be/);
  const half = cli(['serve', '--listen', '127.0.0.1:0', '--tls-cert-file', certFile], { dataDir: plainDir + '-y' });
  assert.notEqual(half.status, 0);
  assert.match(half.stderr, /both tls_cert_file and tls_key_file/);
  const mismatched = path.join(dir, 'other-key.pem');
  fs.writeFileSync(mismatched, certA.key);
  fs.writeFileSync(certFile, certB.chain);
  const wrong = cli(['serve', '--listen', '127.0.0.1:0', '--tls-cert-file', certFile, '--tls-key-file', mismatched], { dataDir: plainDir + '-z' });
  assert.notEqual(wrong.status, 0);
  assert.match(wrong.stderr, /not a certificate and its key/);
  for (const d of ['-x', '-y', '-z']) fs.rmSync(plainDir + d, { recursive: true, force: true });
});
