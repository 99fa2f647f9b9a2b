// datadir_private.test.mjs — the data directory and its files are the
// server's alone: created 0700 / 0600 (the database, its -wal and -shm, the
// master key, the lock); an existing directory or file others may read is
// made private at start, with a log line saying so; one that cannot be made
// private (another user's) is refused with what to do. In production mode
// the process is not dumpable: another process of the same user cannot read
// its memory or environment through /proc; in development mode it can.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

import {
  BIN, ROOT, makeDataDir, removeDir, startServer, cli, waitFor, keepServerLog, dbEnv, sqliteOnlyOpts, DB_URL_FILE,
} from './lib/harness.mjs';

const dirs = [];
const procs = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) removeDir(d);
});

function tmp() {
  const d = makeDataDir('cc-private-');
  dirs.push(d);
  return d;
}

const mode = (p) => fs.statSync(p).mode & 0o777;
const FILES = ['certcontacts.db', 'certcontacts.db-wal', 'certcontacts.db-shm', 'master.key', 'certcontacts.lock'];

test('a new data directory is 0700 and every file in it 0600', sqliteOnlyOpts('the modes of the database file and its -wal and -shm'), async () => {
  const dir = path.join(tmp(), 'data');
  const s = await startServer(dir);
  try {
    assert.equal(mode(dir), 0o700);
    for (const f of FILES) assert.equal(mode(path.join(dir, f)), 0o600, `${f} is ${mode(path.join(dir, f)).toString(8)}`);
  } finally {
    await s.stop();
  }
});

test('an existing data directory others may read is made private at start, and the log says so', sqliteOnlyOpts('narrows the SQLite database file'), async () => {
  const dir = path.join(tmp(), 'data');
  let s = await startServer(dir);
  await s.stop();
  fs.chmodSync(dir, 0o755);
  for (const f of ['certcontacts.db', 'master.key']) fs.chmodSync(path.join(dir, f), 0o644);
  s = await startServer(dir);
  try {
    assert.equal(mode(dir), 0o700);
    for (const f of FILES) assert.equal(mode(path.join(dir, f)), 0o600, f);
    const made = s.lines.filter((l) => l.level === 'warn' && /made private/.test(l.msg));
    assert.deepEqual(made.map((l) => [l.path, l.mode_was, l.mode_now]).sort(), [
      [dir, '0755', '0700'],
      [path.join(dir, 'certcontacts.db'), '0644', '0600'],
      [path.join(dir, 'master.key'), '0644', '0600'],
    ].sort());
  } finally {
    await s.stop();
  }
});

test('a data directory others may read that is not ours is refused with what to do', { skip: process.getuid() !== 0 && 'needs root to give the directory away' }, () => {
  const dir = tmp();
  fs.chmodSync(dir, 0o755);
  fs.chownSync(dir, 65534, 65534);
  for (const args of [['migrate'], ['serve', '--listen', '127.0.0.1:0']]) {
    const r = cli(args, { dataDir: dir });
    assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, /is readable by other users \(mode 0755\) and cannot be made private \(it belongs to another user\): .*chmod 700/);
    if (args[0] === 'serve') {
      // serve's stderr is its log: the refusal is a JSON line like every other
      const lines = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.ok(lines.some((l) => l.level === 'error' && /cannot be made private/.test(l.error)), r.stderr);
    } else {
      assert.match(r.stderr, /^certcontacts: /m);
    }
    assert.equal(mode(dir), 0o755, 'the directory was changed');
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f !== DB_URL_FILE), [], 'files were made in a refused directory');
  }
});

/** Starts serve as `uid` (root: another user, so that /proc access is decided by dumpability alone). */
async function serveAs(dir, uid, args) {
  const proc = spawn(BIN, ['serve', '--data-dir', dir, '--listen', '127.0.0.1:0', ...args], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], uid, gid: uid, env: { ...process.env, ...dbEnv(dir) },
  });
  procs.push(proc);
  keepServerLog(proc);
  let err = '';
  proc.stderr.on('data', (c) => { err += c; });
  await waitFor(() => {
    if (proc.exitCode !== null) throw new Error(`serve exited ${proc.exitCode}: ${err}`);
    return /"msg":"listening"/.test(err);
  }, { timeoutMs: 15000, what: 'listening' });
  return proc;
}

async function stop(proc) {
  proc.kill('SIGTERM');
  await waitFor(() => proc.exitCode !== null || proc.signalCode !== null, { timeoutMs: 30000, what: 'exit' });
}

test('in production the server is not dumpable; in development it is', async () => {
  const uid = process.getuid() === 0 ? 65534 : process.getuid();
  for (const [args, readable] of [[[], false], [['--dev'], true]]) {
    const dir = tmp();
    fs.chownSync(dir, uid, uid);
    const proc = await serveAs(dir, uid, args);
    try {
      const r = spawnSync('cat', [`/proc/${proc.pid}/environ`], { uid, gid: uid, encoding: 'utf8' });
      assert.equal(r.status === 0, readable, `${args.join(' ') || 'production'}: cat /proc/PID/environ exited ${r.status}: ${r.stderr}`);
      if (!readable) assert.match(r.stderr, /Permission denied/);
    } finally {
      await stop(proc);
    }
  }
});
