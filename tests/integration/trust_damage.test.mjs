// trust_damage.test.mjs — a damaged database is not reported ready: the
// start-up quick check refuses a damaged copy and leaves it as it was;
// started without that check, the server turns the damage it meets into
// 503 Storage.Corrupt, a failed /readyz and refused writes; `certcontacts
// check` says what it found. Every damaged file is a copy this test makes.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  makeDataDir, removeDir, cli, createAccount, startServer, createContact, api, contactBody, sqliteOnlyOpts,
} from './lib/harness.mjs';

// Every case damages (or reshapes) the SQLite file itself; PostgreSQL keeps its own pages.
const FILE_ONLY = sqliteOnlyOpts('damages the SQLite database file');

const dirs = [];
const servers = [];
after(async () => {
  for (const s of servers) await s.stop().catch(() => {});
  dirs.forEach(removeDir);
});

function sqlite(db, sql) {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  assert.ok(!r.error && r.status === 0, `sqlite3 failed (${r.error || r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

// One healthy data directory with 150 contacts, made once.
const base = makeDataDir('cc-damage-');
dirs.push(base);
let admin;

test('setup: a database with contacts', FILE_ONLY, async () => {
  admin = createAccount(base);
  const s = await startServer(base);
  try {
    for (let i = 0; i < 150; i++) await createContact(s, admin);
  } finally {
    await s.stop();
  }
  const r = cli(['check'], { dataDir: base });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /passed the full integrity check/);
});

/** A copy of the base directory with 8 leaf pages of the contacts table overwritten. */
function damagedCopy() {
  const dir = makeDataDir('cc-damage-');
  dirs.push(dir);
  fs.cpSync(base, dir, { recursive: true });
  const db = path.join(dir, 'certcontacts.db');
  const pageSize = Number(sqlite(db, 'PRAGMA page_size'));
  const pages = sqlite(db, "SELECT pageno FROM dbstat WHERE name = 'contacts' AND pagetype = 'leaf' ORDER BY pageno")
    .split('\n').map(Number);
  assert.ok(pages.length >= 8, `only ${pages.length} leaf pages`);
  const fd = fs.openSync(db, 'r+');
  for (const p of pages.slice(0, 8)) fs.writeSync(fd, crypto.randomBytes(pageSize), 0, pageSize, (p - 1) * pageSize);
  fs.closeSync(fd);
  return { dir, db };
}

test('the start-up quick check refuses a damaged database and changes nothing', FILE_ONLY, () => {
  const { dir, db } = damagedCopy();
  const before = sha(db);
  const r = cli(['serve', '--listen', '127.0.0.1:0'], { dataDir: dir });
  assert.equal(r.status, 1, `a damaged database was served: ${r.stderr}`);
  assert.match(r.stderr, /database .*certcontacts\.db is damaged \(quick_check: .+\); nothing was changed\. Run certcontacts check, then restore a backup or use sqlite3's \.recover/);
  assert.equal(sha(db), before);
});

test('certcontacts check reports the damage and exits 1', FILE_ONLY, () => {
  const { dir, db } = damagedCopy();
  const before = sha(db);
  const r = cli(['check'], { dataDir: dir });
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stdout, /^problem: /m);
  assert.match(r.stderr, /is damaged: integrity_check found \d+ problems?\. Restore a backup, or use sqlite3's \.recover/);
  assert.equal(sha(db), before);
});

test('damage met at run time fails readiness, answers 503 Storage.Corrupt and refuses writes', FILE_ONLY, async () => {
  const { dir } = damagedCopy();
  const s = await startServer(dir, { args: ['--startup-check-s', '0'] });
  servers.push(s);
  assert.equal((await api(s, 'GET', '/readyz')).status, 200);
  let corrupt = 0;
  for (let page = 1; page <= 15; page++) {
    const res = await api(s, 'GET', `/v1/contacts?page=${page}&page_size=10`, { key: admin });
    assert.ok(res.status === 200 || res.status === 503, `page ${page}: ${res.status} ${res.text}`);
    if (res.status === 503) {
      assert.equal(res.json.code, 'Storage.Corrupt');
      assert.match(res.json.message, /The database is damaged/);
      corrupt++;
    }
  }
  assert.ok(corrupt > 0, 'no page met the damage');
  const ready = await api(s, 'GET', '/readyz');
  assert.equal(ready.status, 503);
  const store = ready.json.failing.find((f) => f.component === 'store');
  assert.ok(store, JSON.stringify(ready.json));
  assert.match(store.reason, /the database file is damaged .*run certcontacts check/);

  const write = await api(s, 'POST', '/v1/contacts', { key: admin, json: contactBody() });
  assert.equal(write.status, 503, write.text);
  assert.equal(write.json.code, 'Storage.Corrupt');
  const metrics = await api(s, 'GET', '/metrics', { key: admin });
  assert.match(metrics.text, /certcontacts_component_up\{component="store"\} 0/);
});

// SQLite 3.40 reports "NULL value in certificate_domains.account_id" for a
// WITHOUT ROWID table whose NOT NULL column sits between its key's columns,
// the layout databases had before migration 0013. Such a database is not
// damaged: it starts, migrates, and passes certcontacts check.
test('a database with the names tables of before 0013 is not taken for damaged', sqliteOnlyOpts('a SQLite quick_check quirk on an old file'), async () => {
  const dir = makeDataDir('cc-damage-');
  dirs.push(dir);
  createAccount(dir);
  const db = path.join(dir, 'certcontacts.db');
  sqlite(db, `DROP TABLE certificate_domains;
    CREATE TABLE certificate_domains (certificate_id INTEGER NOT NULL, account_id INTEGER NOT NULL,
      domain TEXT NOT NULL, PRIMARY KEY (certificate_id, domain)) WITHOUT ROWID;
    INSERT INTO certificate_domains VALUES (1, 1, 'a.example.com');`);
  assert.match(sqlite(db, 'PRAGMA quick_check'), /NULL value in certificate_domains\.account_id/, 'SQLite no longer misreports: this test can go');
  const r = cli(['check'], { dataDir: dir });
  assert.equal(r.status, 0, r.stderr);
  const s = await startServer(dir);
  servers.push(s);
  await s.stop();
});
