// pebble.mjs — Debian's `pebble` (a test ACME CA) and `pebble-challtestsrv`
// (its stand-in DNS) on free 127.0.0.1 ports, for the ACME issuance tests.
// Pebble's own HTTPS certificate is made here with openssl (lib/pki.mjs); the
// server under test trusts its root through acme_ca_file. Every name resolves
// to 127.0.0.1 through challtestsrv, and pebble's VA checks HTTP-01 on
// `httpPort` — the port of the server under test.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './harness.mjs';
import { Pki } from './pki.mjs';

/** A port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(cmd, args, env) {
  const p = { out: '', proc: null, exited: null };
  p.proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  p.exit = new Promise((resolve) => p.proc.on('exit', (code, signal) => { p.exited = { code, signal }; resolve(); }));
  for (const s of [p.proc.stdout, p.proc.stderr]) {
    s.setEncoding('utf8');
    s.on('data', (c) => { p.out += c; });
  }
  return p;
}

async function stop(p) {
  if (!p || p.exited) return;
  p.proc.kill('SIGTERM');
  await Promise.race([p.exit, new Promise((r) => setTimeout(r, 3000))]);
  if (!p.exited) {
    p.proc.kill('SIGKILL');
    await p.exit;
  }
}

/**
 * Pebble's HTTPS certificate for "localhost" (a leaf and its chain, made with
 * openssl) and the root that signs it: {pki, caFile}. Made before pebble
 * starts so that the server under test can be given caFile (acme_ca_file).
 */
export function pebbleCerts() {
  const pki = new Pki();
  const leaf = pki.leaf(['localhost']);
  fs.writeFileSync(path.join(pki.dir, 'pebble-cert.pem'), leaf.chain);
  fs.writeFileSync(path.join(pki.dir, 'pebble-key.pem'), leaf.key);
  return { pki, caFile: path.join(pki.dir, 'root.pem') };
}

/**
 * Starts challtestsrv and pebble. httpPort: where pebble's VA asks for
 * HTTP-01 answers. env: more environment for pebble (PEBBLE_WFE_NONCEREJECT,
 * PEBBLE_AUTHZREUSE, ...). acmePort: the ACME port (0: a free one), known
 * before pebble starts so that the server under test can be pointed at it;
 * certs: pebbleCerts() (made here when not given); dnsPort and dnsMgmtPort:
 * challtestsrv's DNS and management ports, likewise. eab: {kid: hmacKey} makes external account binding
 * required. validityS: the lifetime of the certificates it issues (0: pebble's
 * five years). Returns {directoryUrl, caFile, dnsMgmt, log(), stop()}.
 */
export async function startPebble({ httpPort, acmePort = 0, dnsPort = 0, dnsMgmtPort = 0, certs = null, env = {}, eab = null, validityS = 0 } = {}) {
  const { pki, caFile } = certs || pebbleCerts();
  const dir = pki.dir;
  if (!acmePort) acmePort = await freePort();
  if (!dnsPort) dnsPort = await freePort();
  if (!dnsMgmtPort) dnsMgmtPort = await freePort();
  const [mgmtPort, tlsPort] = [await freePort(), await freePort()];
  const cfg = {
    pebble: {
      listenAddress: `127.0.0.1:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: path.join(dir, 'pebble-cert.pem'),
      privateKey: path.join(dir, 'pebble-key.pem'),
      httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: !!eab,
      ...(eab ? { externalAccountMACKeys: eab } : {}),
      ...(validityS ? { certificateValidityPeriod: validityS } : {}),
    },
  };
  const cfgFile = path.join(dir, 'pebble.json');
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  const dns = start('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '',
    '-tlsalpn01', '', '-management', `127.0.0.1:${dnsMgmtPort}`, '-defaultIPv4', '127.0.0.1',
    '-defaultIPv6', ''], {});
  const pebble = start('pebble', ['-config', cfgFile, '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict=false'],
    { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', ...env });
  const handle = {
    directoryUrl: `https://localhost:${acmePort}/dir`,
    caFile,
    dnsMgmt: `http://127.0.0.1:${dnsMgmtPort}`,
    /** challtestsrv answers A queries for host with addresses from now on. */
    async setA(host, addresses) {
      const r = await fetch(`http://127.0.0.1:${dnsMgmtPort}/add-a`, {
        method: 'POST', body: JSON.stringify({ host: host.endsWith('.') ? host : `${host}.`, addresses }),
      });
      if (!r.ok) throw new Error(`challtestsrv add-a: ${r.status}`);
    },
    log: () => pebble.out,
    async stop() {
      await stop(pebble);
      await stop(dns);
      pki.remove();
    },
  };
  try {
    await waitFor(() => {
      if (pebble.exited || dns.exited) throw new Error(`pebble exited:\n${pebble.out}\n${dns.out}`);
      return /Listening on/.test(pebble.out) && /Answering A queries|DNS/i.test(dns.out);
    }, { timeoutMs: 15000, what: 'pebble to listen' });
  } catch (e) {
    await handle.stop();
    throw e;
  }
  return handle;
}
