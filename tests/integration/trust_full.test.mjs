// trust_full.test.mjs — a full disk is not a generic 500: with the data
// directory on a small tmpfs this test mounts itself, filled until writes
// fail, writes answer 507 Storage.Full and /readyz fails the store with the
// reason; once space is freed, writes work and /readyz is ready again.
// Skipped, saying why, where mounting is not permitted.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  makeDataDir, removeDir, createAccount, startServer, createContact, api, contactBody, BACKEND,
} from './lib/harness.mjs';

// On PostgreSQL the database is not on the disk this test fills.
const ON_PG = BACKEND !== 'sqlite' && 'SQLite only: the database is not in the data directory whose disk is filled';
const mnt = makeDataDir('cc-full-');
const mount = ON_PG ? { status: 1, stderr: '' }
  : spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mnt], { encoding: 'utf8' });
const mounted = !mount.error && mount.status === 0;
if (!mounted && !ON_PG) console.log(`# skipping the disk-full test: cannot mount a tmpfs (${mount.error || mount.stderr.trim()})`);
let server = null;
after(async () => {
  if (server) await server.stop().catch(() => {});
  if (mounted) spawnSync('umount', [mnt]);
  removeDir(mnt);
});

test('a full disk answers 507 Storage.Full and fails readiness until space is freed', { skip: ON_PG || (!mounted && 'mounting a tmpfs is not permitted here') }, async () => {
  const dir = path.join(mnt, 'data');
  const admin = createAccount(dir);
  server = await startServer(dir);
  await createContact(server, admin);

  // Fill the disk: whatever space is left goes to one file.
  const filler = path.join(mnt, 'filler');
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    assert.equal(e.code, 'ENOSPC');
  }
  try {
    for (;;) fs.writeSync(fd, chunk, 0, 512);
  } catch (e) {
    assert.equal(e.code, 'ENOSPC');
  }
  fs.closeSync(fd);

  let full = null;
  for (let i = 0; i < 200 && !full; i++) {
    const res = await api(server, 'POST', '/v1/contacts', { key: admin, json: contactBody() });
    if (res.status === 201) continue;
    assert.equal(res.status, 507, res.text);
    full = res;
  }
  assert.ok(full, 'no write failed on a full disk');
  assert.equal(full.json.code, 'Storage.Full');
  assert.match(full.json.message, /disk is full/);
  const ready = await api(server, 'GET', '/readyz');
  assert.equal(ready.status, 503, ready.text);
  const store = ready.json.failing.find((f) => f.component === 'store');
  assert.ok(store, ready.text);
  assert.match(store.reason, /^the disk is full: .*free space/);

  // Reads go on while the disk is full.
  assert.equal((await api(server, 'GET', '/v1/contacts', { key: admin })).status, 200);

  fs.rmSync(filler);
  await createContact(server, admin);
  assert.equal((await api(server, 'GET', '/readyz')).status, 200);
});
