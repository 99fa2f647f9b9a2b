// datadir_lock.test.mjs — one server per data directory: a second `serve`
// on the same directory is refused with a message naming the first one's
// pid and changes nothing; the CLI still works beside a running server;
// after the first server is killed (kill -9 too) the directory is free.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  BIN, ROOT, makeDataDir, stopAllAfter, startServer, createAccount, createContact, getContact,
  assertOk, dbEnv, BACKEND,
} from './lib/harness.mjs';

const dir = makeDataDir();
const servers = [];
stopAllAfter(() => servers, () => dir);

function serveOnce(dataDir) {
  return spawnSync(BIN, ['serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    cwd: ROOT, encoding: 'utf8', timeout: 20000, env: { ...process.env, ...dbEnv(dataDir) },
  });
}

test('a second server on the same data directory is refused and changes nothing', async () => {
  const first = await startServer(dir);
  servers.push(first);
  const admin = createAccount(dir);
  const { contact } = await createContact(first, admin);
  // the SQLite file's time shows a write; PostgreSQL's database is not in the directory
  const db = path.join(dir, 'certcontacts.db');
  const before = BACKEND === 'sqlite' ? fs.statSync(db).mtimeMs : 0;

  const second = serveOnce(dir);
  assert.notEqual(second.status, 0, 'the second server started');
  assert.equal(second.signal, null, `the second server was killed: ${second.stderr}`);
  assert.match(second.stderr, /another certcontacts server \(pid \d+\) is already serving the data directory/);
  assert.match(second.stderr, new RegExp(`pid ${first.proc.pid}\\b`));
  if (BACKEND === 'sqlite') assert.equal(fs.statSync(db).mtimeMs, before, 'the refused server touched the database');

  // The first server goes on serving, and the CLI works beside it.
  assertOk(await getContact(first, admin, contact.id), 200);
  createAccount(dir);
});

test('the directory is free again once its server is gone, even after kill -9', async () => {
  const s = servers.pop();
  s.proc.kill('SIGKILL');
  await s.exit;
  s.proc = null;
  const again = await startServer(dir);
  servers.push(again);
  assert.ok(again.port > 0);
});
