// pki.mjs — real certificates for the tests, made with the `openssl` command in a
// temporary directory: a root, an intermediate, and leaves signed by either with
// any names and any validity (in the past too, through `openssl ca -startdate
// -enddate`), each with its own private key.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DAY = 86400000;

function openssl(args, cwd) {
  return execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** YYYYMMDDHHMMSSZ for openssl ca. */
function asn1Time(ms) {
  return new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

export class Pki {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-pki-'));
    this.n = 0;
    const d = this.dir;
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'root.key', '-out', 'root.pem',
      '-subj', '/CN=certcontacts Test Root', '-days', '3650',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign,cRLSign'], d);
    fs.writeFileSync(path.join(d, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign,cRLSign\n');
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'inter.key', '-out', 'inter.csr',
      '-subj', '/CN=certcontacts Test Intermediate'], d);
    openssl(['x509', '-req', '-in', 'inter.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial',
      '-days', '3000', '-extfile', 'ca.ext', '-out', 'inter.pem'], d);
    fs.writeFileSync(path.join(d, 'index.txt'), '');
    fs.writeFileSync(path.join(d, 'serial'), '1000\n');
    fs.writeFileSync(path.join(d, 'ca.cnf'), [
      '[ ca ]', 'default_ca = d', '[ d ]', `database = ${d}/index.txt`, `new_certs_dir = ${d}`,
      `serial = ${d}/serial`, 'default_md = sha256', 'policy = p', 'copy_extensions = copy',
      'unique_subject = no', '[ p ]', 'commonName = supplied', '',
    ].join('\n'));
    this.root = this.read('root.pem');
    this.intermediate = this.read('inter.pem');
  }

  read(name) {
    return fs.readFileSync(path.join(this.dir, name), 'utf8');
  }

  /**
   * A leaf for names (the first is the CN), valid from `fromDays` to `days`
   * days from now, signed by the intermediate (or the root with `byRoot`).
   * Returns {pem (leaf only), chain (leaf + intermediate), key, notAfter (ms)}.
   */
  leaf(names, { days = 90, fromDays = -1, byRoot = false, key = 'ec' } = {}) {
    const i = ++this.n;
    const d = this.dir;
    const keyArgs = key === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    openssl(['req', ...keyArgs, '-nodes', '-keyout', `leaf${i}.key`, '-out', `leaf${i}.csr`,
      '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`], d);
    const now = Date.now();
    const notAfter = Math.floor((now + days * DAY) / 1000) * 1000;
    const [cert, cakey] = byRoot ? ['root.pem', 'root.key'] : ['inter.pem', 'inter.key'];
    openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', cert, '-keyfile', cakey, '-in', `leaf${i}.csr`,
      '-out', `leaf${i}.pem`, '-notext', '-startdate', asn1Time(now + fromDays * DAY), '-enddate', asn1Time(notAfter)], d);
    const pem = this.read(`leaf${i}.pem`);
    return { pem, chain: pem + (byRoot ? '' : this.intermediate), key: this.read(`leaf${i}.key`), notAfter };
  }

  remove() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
