// trust_files.test.mjs — certcontacts runs only on data it can trust: a
// database file that is not its own (0 bytes, another application's SQLite
// file, one with a table of the same name, one of a newer schema) is
// refused with a message saying what it is and what to do, and left
// byte-for-byte as it was; a database whose master key file is missing or
// replaced is refused with a message naming the file, while a fresh data
// directory still gets a new key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  makeDataDir, removeDir, cli, createAccount, startServer, createContact, sqliteOnlyOpts, api,
  assertOk,
} from './lib/harness.mjs';

const dirs = [];
after(() => dirs.forEach(removeDir));

function dataDir() {
  const d = makeDataDir('cc-trust-');
  dirs.push(d);
  return d;
}

function sqlite(db, sql) {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8' });
  assert.ok(!r.error && r.status === 0, `sqlite3 failed (${r.error || r.status}): ${r.stderr}`);
  return r.stdout.trim();
}

const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** `migrate` and `serve` on db: both refused with msg, the file unchanged. */
function assertRefused(dir, db, msg) {
  const before = sha(db);
  for (const args of [['migrate'], ['serve', '--listen', '127.0.0.1:0']]) {
    const r = cli([...args, '--db', `sqlite:${db}`], { dataDir: dir });
    assert.equal(r.status, 1, `${args[0]} was not refused: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.match(r.stderr, /nothing was changed/);
    assert.equal(sha(db), before, `${args[0]} changed the refused file`);
  }
  assert.ok(!fs.existsSync(path.join(dir, 'master.key')), 'a refused start made a master key');
}

test('a 0-byte database file is refused, not started as a new empty database', sqliteOnlyOpts('an empty SQLite database file'), () => {
  const dir = dataDir();
  const db = path.join(dir, 'certcontacts.db');
  fs.writeFileSync(db, '');
  assertRefused(dir, db, /is an empty file \(0 bytes\).*Restore it from a backup, or remove it/);
  assert.equal(fs.statSync(db).size, 0);
});

test('a SQLite file of another application is refused before anything is added to it', sqliteOnlyOpts('a SQLite file of another application'), () => {
  const dir = dataDir();
  const db = path.join(dir, 'other.db');
  sqlite(db, 'CREATE TABLE inventory (id INTEGER PRIMARY KEY, item TEXT); INSERT INTO inventory(item) VALUES (\'apple\');');
  assertRefused(dir, db, /is a SQLite file of another application, not certcontacts'/);
  assert.equal(sqlite(db, 'PRAGMA journal_mode'), 'delete', 'the file was switched to WAL');
  assert.equal(sqlite(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"), '1');
});

test('a file with a clashing table name is refused before it is switched to WAL', sqliteOnlyOpts('a SQLite file of another application'), () => {
  const dir = dataDir();
  const db = path.join(dir, 'clash.db');
  sqlite(db, 'CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT);');
  assertRefused(dir, db, /is a SQLite file of another application/);
  assert.equal(sqlite(db, 'PRAGMA journal_mode'), 'delete');
});

test('a file of another application that stamped its own application_id is refused', sqliteOnlyOpts('SQLite\'s application_id'), () => {
  const dir = dataDir();
  const db = path.join(dir, 'stamped.db');
  sqlite(db, 'PRAGMA application_id = 1234; CREATE TABLE t (x);');
  assertRefused(dir, db, /belongs to another application \(application_id 0x000004d2\)/);
});

test('a database of a newer schema is refused with what to do', sqliteOnlyOpts('the schema version is SQLite\'s user_version'), () => {
  const dir = dataDir();
  createAccount(dir);
  const db = path.join(dir, 'certcontacts.db');
  assert.equal(sqlite(db, 'PRAGMA application_id'), String(0x43436e74), 'not stamped as ours');
  const version = Number(sqlite(db, 'PRAGMA user_version'));
  assert.ok(version >= 9);
  sqlite(db, `PRAGMA user_version = ${version + 1}`);
  fs.renameSync(path.join(dir, 'master.key'), path.join(dir, 'kept.key'));
  assertRefused(dir, db, new RegExp(`has schema version ${version + 1}, newer than this certcontacts knows \\(${version}\\).*Run the newer release`));
});

test('a database made before the stamp (our tables, no application_id) still opens and is stamped', sqliteOnlyOpts('an old SQLite file (application_id, SQLite DDL)'), () => {
  const dir = dataDir();
  const k = createAccount(dir);
  const db = path.join(dir, 'certcontacts.db');
  sqlite(db, 'PRAGMA application_id = 0; PRAGMA user_version = 0; DROP TABLE meta; ALTER TABLE notifications DROP COLUMN lease_owner; DROP TABLE application_transitions; DROP TABLE application_domains; DROP TABLE applications; DROP INDEX verifications_target_tag; ALTER TABLE verifications DROP COLUMN target_tag; DELETE FROM schema_migrations WHERE version >= 9;');
  const r = cli(['key', 'list', '--account', String(k.account_id), '--json'], { dataDir: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout)[0].access_key_id, k.access_key_id);
  assert.equal(sqlite(db, 'PRAGMA application_id'), String(0x43436e74));
  assert.ok(Number(sqlite(db, 'PRAGMA user_version')) >= 9);
});

test('a missing master key is refused when the database holds sealed data; a fresh directory gets one', async () => {
  const dir = dataDir();
  const admin = createAccount(dir);
  const keyFile = path.join(dir, 'master.key');
  assert.ok(fs.existsSync(keyFile), 'a fresh data directory got no master key');
  const kept = path.join(dir, 'kept.key');
  fs.renameSync(keyFile, kept);
  for (const args of [['serve', '--listen', '127.0.0.1:0'], ['account', 'create', 'x']]) {
    const r = cli(args, { dataDir: dir });
    assert.equal(r.status, 1, `${args[0]} started without its master key: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`master key file ${keyFile.replace(/[.]/g, '\\.')} is missing, but the database holds data sealed with master key [0-9a-f]{32}: restore that file from your backup`));
    assert.ok(!fs.existsSync(keyFile), `${args[0]} made a new master key`);
  }

  // Another key in its place is refused too, and changes nothing.
  fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  const wrong = cli(['serve', '--listen', '127.0.0.1:0'], { dataDir: dir });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /master key file .* holds key [0-9a-f]{32}, but the database's data is sealed with key [0-9a-f]{32}: restore the right key file/);

  // With the real key back, everything works as before.
  fs.renameSync(kept, keyFile);
  const s = await startServer(dir);
  try {
    await createContact(s, admin);
  } finally {
    await s.stop();
  }
});

test('a database from before key ids, with sealed data, refuses a missing key too', sqliteOnlyOpts('an old SQLite file (made with SQLite DDL)'), () => {
  const dir = dataDir();
  createAccount(dir);
  const db = path.join(dir, 'certcontacts.db');
  sqlite(db, 'PRAGMA application_id = 0; PRAGMA user_version = 0; DROP TABLE meta; ALTER TABLE notifications DROP COLUMN lease_owner; DROP TABLE application_transitions; DROP TABLE application_domains; DROP TABLE applications; DROP INDEX verifications_target_tag; ALTER TABLE verifications DROP COLUMN target_tag; DELETE FROM schema_migrations WHERE version >= 9;');
  fs.rmSync(path.join(dir, 'master.key'));
  const r = cli(['account', 'create', 'y'], { dataDir: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /master key file .*master\.key is missing, but the database holds data sealed/);
  assert.ok(!fs.existsSync(path.join(dir, 'master.key')));
});

test('a database from before the short keyword index (0027) gets it built from its contacts, again when migrated again', sqliteOnlyOpts('an old SQLite file (FTS5 tables)'), async () => {
  const dir = dataDir();
  const admin = createAccount(dir);
  const db = path.join(dir, 'certcontacts.db');
  let s = await startServer(dir);
  const ids = {};
  try {
    for (const [name, email, mobile] of [['王伟', 'wangwei@example.com', '13300000101'],
      ['张王', null, '13300000102'], ['Qb', 'xq@example.org', '13300000103']]) {
      const json = { name, mobile };
      if (email) json.email = email;
      ids[name] = assertOk(await api(s, 'POST', '/v1/contacts', { key: admin, json }), 201).id;
    }
  } finally {
    await s.stop();
  }
  const find = async (keyword) => {
    const q = new URLSearchParams({ keyword, page: '1', page_size: '20' });
    const body = assertOk(await api(s, 'GET', `/v1/contacts?${q}`, { key: admin }), 200);
    assert.equal(body.total, body.items.length, keyword);
    return body.items.map((c) => c.id);
  };
  const check = async () => {
    assert.deepEqual(await find('王'), [ids['张王'], ids['王伟']]);
    assert.deepEqual(await find('王伟'), [ids['王伟']]);
    assert.deepEqual(await find('qb'), [ids.Qb]);
    assert.deepEqual(await find('bx'), []); // "qb\nxq@…": across a line break
    assert.deepEqual(await find('03'), [ids.Qb]);
    assert.equal(sqlite(db, "SELECT count(*) FROM meta WHERE name = 'search_grams_fill'"), '0');
  };
  // as a release before 0027 left it: no index, no record of the migration
  sqlite(db, 'DROP TABLE contacts_grams; DELETE FROM schema_migrations WHERE version >= 27; PRAGMA user_version = 26;');
  s = await startServer(dir);
  try {
    await check();
  } finally {
    await s.stop();
  }
  // 0027 run again over its own table: built again, nothing found twice
  sqlite(db, 'DELETE FROM schema_migrations WHERE version >= 27; PRAGMA user_version = 26;');
  s = await startServer(dir);
  try {
    await check();
  } finally {
    await s.stop();
  }
});
