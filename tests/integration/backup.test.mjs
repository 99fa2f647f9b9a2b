// backup.test.mjs — `certcontacts backup`, `restore` and `check`, and the
// scheduled backups of backup_dir (SQLite; PostgreSQL is pg_dump's).
//   - a backup taken while a writer creates contacts over REST, restored into
//     an empty data dir and served: every contact acknowledged before the
//     backup started is there, and no more than were acknowledged by its end;
//   - restore refuses a data dir that holds anything, one a server serves,
//     and a copy whose encrypted fields do not decrypt with the key given;
//   - check passes on a good copy and names exactly the row whose encrypted
//     field was changed;
//   - scheduled backups every second keep exactly backup_keep files, and
//     /metrics carries the last one's time.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import {
  BACKEND, BIN, ROOT, api, assertOk, cleanUp, cli, cliOk, contactBody, createAccount, dbQuery, dbRun,
  idCard, listAll, makeDataDir, removeDir, sqlHex, sqliteOnlyOpts, startServer, waitFor,
} from './lib/harness.mjs';

const dirs = [];
const servers = [];
after(() => cleanUp([
  ...servers.map((s) => () => s.stop()),
  ...dirs.map((d) => () => removeDir(d)),
]));

const SQLITE = sqliteOnlyOpts('backup and restore copy the SQLite file; PostgreSQL uses pg_dump');

function newDir() {
  const d = makeDataDir('cc-backup-');
  dirs.push(d);
  return d;
}

async function serve(dir, args = []) {
  const s = await startServer(dir, { args });
  servers.push(s);
  return s;
}

async function stop(s) {
  await s.stop();
  servers.splice(servers.indexOf(s), 1);
}

// The CLI without blocking the event loop (the writer keeps writing meanwhile).
function cliAsync(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => { stdout += c; });
    p.stderr.on('data', (c) => { stderr += c; });
    p.on('error', reject);
    p.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

const mode = (f) => fs.statSync(f).mode & 0o777;

// One data dir with contacts (some with an ID number, sealed), its key and a
// backup with the key beside it, shared by the tests below.
let shared;
async function sharedBackup() {
  if (shared) return shared;
  const dir = newDir();
  const key = createAccount(dir);
  const s = await serve(dir);
  const acked = [];
  for (let i = 0; i < 20; i++) {
    const res = await api(s, 'POST', '/v1/contacts', {
      key, json: contactBody(i % 4 === 0 ? { id_card: idCard('11010519491231002') } : {}),
    });
    acked.push(assertOk(res, 201).id);
  }
  // The writer: contacts one after another until told to stop.
  let writing = true;
  const writer = (async () => {
    while (writing) {
      const res = await api(s, 'POST', '/v1/contacts', { key, json: contactBody() });
      acked.push(assertOk(res, 201).id);
    }
  })();
  await waitFor(() => acked.length >= 40, { timeoutMs: 10000, what: 'writes under way' });
  const before = new Set(acked);
  const file = path.join(newDir(), 'copy.db');
  const r = await cliAsync(['backup', file, '--with-key', '--data-dir', dir]);
  const afterEnd = acked.length;
  writing = false;
  await writer;
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: .* copied to .*copy\.db \(\d+ bytes, mode 0600\)/m);
  assert.match(r.stdout, /master key copied to .*copy\.db\.key/);
  await stop(s);
  shared = { dir, key, file, before, afterEnd, idCards: acked.filter((_, i) => i < 20 && i % 4 === 0) };
  return shared;
}

test('a backup taken during writes restores into an empty dir with every acknowledged contact', SQLITE, async () => {
  const { key, file, before, afterEnd } = await sharedBackup();
  assert.equal(mode(file), 0o600);
  assert.equal(mode(`${file}.key`), 0o600);
  assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), ['copy.db', 'copy.db.key'],
    'no temporary file is left beside the backup');

  const target = newDir(); // exists and is empty
  const r = cliOk(['restore', file], { dataDir: target });
  assert.match(r.stdout, /^ok: .*copy\.db restored to .*certcontacts\.db; \d+ sealed values decrypt/m);
  assert.equal(mode(path.join(target, 'master.key')), 0o600);
  assert.equal(fs.readFileSync(path.join(target, 'master.key'), 'utf8'), fs.readFileSync(`${file}.key`, 'utf8'));

  const s = await serve(target);
  const { items } = await listAll(s, key);
  const ids = new Set(items.map((c) => c.id));
  for (const id of before) assert.ok(ids.has(id), `contact ${id}, acknowledged before the backup, is in the copy`);
  assert.ok(ids.size >= before.size && ids.size <= afterEnd,
    `${ids.size} contacts: between ${before.size} (before the backup) and ${afterEnd} (after it)`);
  // an ID number opens with the restored key
  const c = assertOk(await api(s, 'GET', `/v1/contacts/${shared.idCards[0]}`, { key }), 200);
  assert.ok(c.id_card, JSON.stringify(c));
  await stop(s);
});

test('backup without --with-key says the copy is useless without the key, and where it is', SQLITE, async () => {
  const { dir } = await sharedBackup();
  const file = path.join(newDir(), 'nokey.db');
  const r = cliOk(['backup', file], { dataDir: dir });
  assert.match(r.stdout, /does not hold the master key, and is useless without it: keep .*master\.key safe/);
  assert.ok(!fs.existsSync(`${file}.key`));
  const bad = cli(['backup'], { dataDir: dir });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /usage: certcontacts backup FILE \[--with-key\]/);
});

test('restore refuses a non-empty data dir, a served one, and a key that does not decrypt', SQLITE, async () => {
  const { dir, file } = await sharedBackup();

  const full = newDir();
  fs.writeFileSync(path.join(full, 'notes.txt'), 'mine\n');
  let r = cli(['restore', file], { dataDir: full });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the data directory .* is not empty \(it holds notes\.txt\)/);
  assert.ok(!fs.existsSync(path.join(full, 'certcontacts.db')));

  const s = await serve(dir);
  r = cli(['restore', file], { dataDir: dir });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`a certcontacts server \\(pid ${s.proc.pid}\\) is serving`));
  await stop(s);

  const wrongKey = path.join(newDir(), 'wrong.key');
  fs.writeFileSync(wrongKey, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const empty = newDir();
  r = cli(['restore', file, '--key', wrongKey], { dataDir: empty });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /problem: table contacts, id \d+: column id_card_enc \(contact ID number\) does not decrypt/);
  assert.match(r.stderr, /do not decrypt with .*wrong\.key.*nothing was restored/);
  assert.deepEqual(fs.readdirSync(empty).filter((f) => f !== 'certcontacts.lock'), [], 'nothing is left behind');
});

test('check passes on a good copy and names exactly the row whose encrypted field was changed', SQLITE, async () => {
  const { file, idCards } = await sharedBackup();
  const copy = newDir();
  cliOk(['restore', file], { dataDir: copy });
  let r = cliOk(['check'], { dataDir: copy });
  assert.match(r.stdout, /passed the full integrity check/);
  assert.match(r.stdout, /ok: every sealed value \(\d+\) decrypts with the master key/);

  const victim = idCards[1];
  const hex = dbQuery(copy, `SELECT hex(id_card_enc) FROM contacts WHERE id = ${victim}`).trim();
  assert.ok(hex.length > 40, hex);
  const i = hex.length - 10; // a byte of the ciphertext, not of the header
  const flipped = hex.slice(0, i) + ((parseInt(hex.slice(i, i + 2), 16) ^ 0x01).toString(16).padStart(2, '0')) + hex.slice(i + 2);
  assert.equal(dbRun(copy, `UPDATE contacts SET id_card_enc = X'${flipped}' WHERE id = ${victim}`).status, 0);

  r = cli(['check'], { dataDir: copy });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const problems = r.stdout.split('\n').filter((l) => l.startsWith('problem:'));
  assert.deepEqual(problems, [
    `problem: table contacts, id ${victim}: column id_card_enc (contact ID number) does not decrypt with the master key`,
  ]);
  assert.ok(!r.stdout.includes(flipped) && !r.stdout.includes('110105'), 'no secret is printed');
  assert.equal(cli(['check', 'extra'], { dataDir: copy }).status, 2);
});

test('scheduled backups every second keep exactly backup_keep copies; /metrics has the last time', SQLITE, async () => {
  const dir = newDir();
  const key = createAccount(dir);
  const bdir = path.join(newDir(), 'backups');
  const s = await serve(dir, ['--backup-dir', bdir, '--backup-keep', '2', '--backup-interval-s', '1']);
  await waitFor(() => s.lines.filter((l) => l.msg === 'old backup removed').length >= 2,
    { timeoutMs: 15000, what: 'three backups and two removals' });
  const names = () => fs.readdirSync(bdir).filter((f) => /^certcontacts-\d{8}T\d{6}\.\d{3}Z\.db$/.test(f));
  const written = s.lines.filter((l) => l.msg === 'backup written');
  assert.ok(written.length >= 3);
  assert.ok(Number(written[0].bytes) > 0);
  const m = await api(s, 'GET', '/metrics', { key });
  const ts = /^certcontacts_backup_last_success_timestamp_seconds (\d+\.\d+)$/m.exec(m.text);
  assert.ok(ts, m.text);
  assert.ok(Math.abs(Number(ts[1]) - Date.now() / 1000) < 30, ts[1]);
  await stop(s);
  const kept = names();
  assert.equal(kept.length, 2, kept.join(' '));
  for (const f of kept) assert.equal(mode(path.join(bdir, f)), 0o600);
  assert.deepEqual(fs.readdirSync(bdir).sort(), kept.sort(), 'only whole copies are in backup_dir');
  // a kept copy is a whole database
  const r = cliOk(['check', '--db', `sqlite:${path.join(bdir, kept[1])}`, '--master-key-file', path.join(dir, 'master.key')], { dataDir: dir });
  assert.match(r.stdout, /passed the full integrity check/);
});

test(`check on ${BACKEND} opens every encrypted field and names the one that was changed`, async () => {
  const dir = newDir();
  const key = createAccount(dir);
  const s = await serve(dir);
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(assertOk(await api(s, 'POST', '/v1/contacts', { key, json: contactBody({ id_card: idCard('11010519491231002') }) }), 201).id);
  }
  await stop(s);
  let r = cliOk(['check'], { dataDir: dir });
  assert.match(r.stdout, /ok: every sealed value \(4\) decrypts/); // three ID numbers and the access key
  const victim = ids[1];
  const hex = dbQuery(dir, `SELECT ${sqlHex('id_card_enc')} FROM contacts WHERE id = ${victim}`).trim();
  const i = hex.length - 6;
  const flipped = hex.slice(0, i) + ((parseInt(hex.slice(i, i + 2), 16) ^ 0x80).toString(16).padStart(2, '0').toUpperCase()) + hex.slice(i + 2);
  const lit = BACKEND === 'postgres' ? `decode('${flipped}', 'hex')` : `X'${flipped}'`;
  assert.equal(dbRun(dir, `UPDATE contacts SET id_card_enc = ${lit} WHERE id = ${victim}`).status, 0);
  r = cli(['check'], { dataDir: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('problem:')), [
    `problem: table contacts, id ${victim}: column id_card_enc (contact ID number) does not decrypt with the master key`,
  ]);
  if (BACKEND === 'postgres') {
    const b = cli(['backup', path.join(dir, 'x.db')], { dataDir: dir });
    assert.equal(b.status, 2);
    assert.match(b.stderr, /PostgreSQL: back it up with pg_dump/);
  }
});
