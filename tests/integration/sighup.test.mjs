// sighup.test.mjs — SIGHUP reads the configuration again: log_level and
// log_file take effect at once (the log file is opened again, so a renamed
// file is let go: log rotation), every other option that changed is named in
// the log as waiting for a restart, a configuration that does not load
// changes nothing; and log_file given at start sends every line there.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import {
  BIN, ROOT, makeDataDir, startServer, createAccount, dbEnv, stopAllAfter, waitFor, api,
  removeDir,
} from './lib/harness.mjs';

const dirs = [];
const servers = [];
stopAllAfter(() => servers, () => dirs.pop());
after(() => dirs.forEach((d) => removeDir(d)));

/** The JSON lines of a log file (none while it does not exist). */
function fileLines(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

function writeConf(file, opts) {
  fs.writeFileSync(file, Object.entries(opts).map(([k, v]) => `${k} = ${v}\n`).join(''));
}

test('SIGHUP applies log_level and log_file, reopens a rotated log file, names what needs a restart', async () => {
  const dir = makeDataDir();
  dirs.push(dir);
  const acct = createAccount(dir);
  const conf = path.join(dir, 'certcontacts.conf');
  const logFile = path.join(dir, 'server.log');
  writeConf(conf, { log_level: 'info' });
  const server = await startServer(dir, { args: ['--config', conf] });
  servers.push(server);
  const key = acct;

  // log_file and a restart-only option change; the lines move to the file
  writeConf(conf, { log_level: 'info', log_file: logFile, threads: 7 });
  server.proc.kill('SIGHUP');
  await waitFor(() => fileLines(logFile).find((l) => l.msg === 'SIGHUP: configuration reloaded'),
    { what: 'reload line in the log file' });
  const lines = fileLines(logFile);
  const restart = lines.find((l) => l.msg === 'SIGHUP: options changed that take effect at the next restart');
  assert.ok(restart, JSON.stringify(lines));
  assert.equal(restart.options, 'threads');
  const res = await api(server, 'GET', '/v1/contacts', { key });
  assert.equal(res.status, 200);
  await waitFor(() => fileLines(logFile).find((l) => l.msg === 'request' && l.path === '/v1/contacts'),
    { what: 'request line in the log file' });
  assert.ok(!server.lines.some((l) => l.msg === 'request' && l.path === '/v1/contacts'),
    'the request line went to stderr, not to log_file');

  // rotation: rename, SIGHUP, the new file gets the new lines, the old one stops
  const rotated = `${logFile}.1`;
  fs.renameSync(logFile, rotated);
  server.proc.kill('SIGHUP');
  await waitFor(() => fileLines(logFile).find((l) => l.msg === 'SIGHUP: configuration reloaded'),
    { what: 'reload line in the new log file' });
  const before = fs.readFileSync(rotated, 'utf8');
  assert.equal((await api(server, 'GET', '/v1/templates', { key })).status, 200);
  await waitFor(() => fileLines(logFile).find((l) => l.msg === 'request' && l.path === '/v1/templates'),
    { what: 'request line in the new file' });
  assert.equal(fs.readFileSync(rotated, 'utf8'), before, 'nothing more went to the rotated file');
  assert.equal(fs.statSync(logFile).mode & 0o777, 0o600);

  // log_level warn: info lines stop. Each SIGHUP is awaited before the file
  // changes again (two signals sent together may arrive as one).
  writeConf(conf, { log_level: 'warn', log_file: logFile, threads: 7, max_body_bytes: 4096 });
  server.proc.kill('SIGHUP');
  await waitFor(() => fileLines(logFile).find((l) => l.msg === 'SIGHUP: options changed that take effect at the next restart'
    && l.options === 'threads,max_body_bytes'), { what: 'second restart warning' });
  const requests = () => fileLines(logFile).filter((l) => l.msg === 'request').length;
  const n = requests();
  assert.equal((await api(server, 'GET', '/v1/contacts', { key })).status, 200);
  writeConf(conf, { log_level: 'nonsense', log_file: logFile });
  server.proc.kill('SIGHUP');
  const bad = await waitFor(() => fileLines(logFile).find((l) => l.msg === 'SIGHUP: the configuration was not reloaded'),
    { what: 'refused reload' });
  assert.match(bad.error, /log_level/);
  // the request line at info was not written: the error line after it says so
  assert.equal(requests(), n, 'info lines stopped at warn');
  // the refused file changed nothing: still serving, still at warn
  assert.equal((await api(server, 'GET', '/v1/contacts', { key })).status, 200);
  writeConf(conf, { log_level: 'info', log_file: logFile });
  server.proc.kill('SIGHUP');
  await waitFor(() => fileLines(logFile).filter((l) => l.msg === 'SIGHUP: configuration reloaded').length >= 2,
    { what: 'reload line at info again' });
  assert.equal(requests(), n, 'the refused file kept warn');
  assert.equal((await api(server, 'GET', '/v1/templates', { key })).status, 200);
  await waitFor(() => requests() > n, { what: 'request lines again at info' });
});

test('log_file given at start receives every line; an unwritable one refuses to start', async () => {
  const dir = makeDataDir();
  dirs.push(dir);
  createAccount(dir);
  const logFile = path.join(dir, 'start.log');
  const proc = spawn(BIN, ['serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--log-file', logFile], {
    cwd: ROOT, env: { ...process.env, ...dbEnv(dir) }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exit = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const listening = await waitFor(() => fileLines(logFile).find((l) => l.msg === 'listening'),
      { timeoutMs: 30000, what: 'listening line in log_file' });
    assert.match(String(listening.listen), /:\d+$/);
  } finally {
    proc.kill('SIGTERM');
  }
  const { code } = await exit;
  assert.equal(code, 0, stderr);
  assert.ok(fileLines(logFile).some((l) => l.msg === 'stopped'));
  assert.equal(stderr.split('\n').filter((l) => l.startsWith('{')).length, 0, `no JSON line on stderr: ${stderr}`);

  const refused = spawn(BIN, ['serve', '--data-dir', dir, '--listen', '127.0.0.1:0', '--log-file', path.join(dir, 'no', 'such', 'dir.log')], {
    cwd: ROOT, env: { ...process.env, ...dbEnv(dir) }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err2 = '';
  refused.stderr.on('data', (d) => { err2 += d; });
  const r = await new Promise((resolve) => refused.on('exit', (c) => resolve(c)));
  assert.equal(r, 2);
  assert.match(err2, /log_file .*dir\.log/);
});
