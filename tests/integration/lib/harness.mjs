// harness.mjs — black-box helpers for the certcontacts integration tests.
//
// Starts and stops the real binary (build/certcontacts, or $CC_BIN) on an
// ephemeral port with a fresh data directory, runs CLI subcommands, and makes
// HTTP requests: `api()` through fetch for ordinary calls, `raw()` through
// node:http for requests whose bytes, paths or headers fetch would normalise.
// Nothing here knows how the server works inside; it only speaks the contract.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.resolve(ROOT, process.env.CC_BIN || 'build/certcontacts');

// Sanitizer builds are slow to start and to stop; keep the bounds generous.
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 30000;

// ---------------------------------------------------------------- utilities

// ------------------------------------------------------------------ backend
//
// CC_TEST_PG=postgres://USER@HOST:PORT/ (the base URL `scripts/pg-test.sh
// start` prints) runs the suite on PostgreSQL: every data directory gets a
// fresh database of its own on that server, and the binary is handed its URL
// in CERTCONTACTS_DB (master.key, the lock file and everything else stay in
// the data directory). Unset: SQLite, the database file in the data directory.

const PG_BASE = process.env.CC_TEST_PG ? process.env.CC_TEST_PG.replace(/\/*$/, '/') : '';
export const BACKEND = PG_BASE ? 'postgres' : 'sqlite';
/** The file in a data directory that names its PostgreSQL database (for processes and dirs made elsewhere). */
export const DB_URL_FILE = '.cc-test-db';
const dbUrls = new Map(); // data dir -> database URL

function psql(url, sql) {
  const r = spawnSync('psql', [url, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-F', '|', '-c', sql], {
    encoding: 'utf8',
    timeout: 60000,
  });
  return { status: r.error ? -1 : r.status, stdout: r.stdout || '', stderr: r.error ? String(r.error) : r.stderr || '' };
}

let dbSeq = 0;
function createDatabase() {
  dbSeq += 1;
  const name = `cc_it_${process.pid}_${Date.now().toString(36)}_${dbSeq}`;
  const r = psql(`${PG_BASE}postgres`, `CREATE DATABASE "${name}"`);
  if (r.status !== 0) throw new Error(`CREATE DATABASE ${name} on ${PG_BASE} failed: ${r.stderr}`);
  return PG_BASE + name;
}

/**
 * The database URL of a data directory on PostgreSQL (created on first use,
 * also for a directory made without makeDataDir), or undefined on SQLite.
 */
export function dbUrl(dataDir) {
  if (!PG_BASE || !dataDir) return undefined;
  const dir = path.resolve(dataDir);
  if (dbUrls.has(dir)) return dbUrls.get(dir);
  let url;
  try {
    url = fs.readFileSync(path.join(dir, DB_URL_FILE), 'utf8').trim();
  } catch {
    url = createDatabase();
    // a directory the binary is to create is left for it to create: then the map alone knows
    if (fs.existsSync(dir)) fs.writeFileSync(path.join(dir, DB_URL_FILE), `${url}\n`, { mode: 0o600 });
  }
  dbUrls.set(dir, url);
  return url;
}

/** The environment a child process on dataDir needs: {CERTCONTACTS_DB} on PostgreSQL, {} on SQLite. */
export function dbEnv(dataDir) {
  const url = dbUrl(dataDir);
  return url ? { CERTCONTACTS_DB: url } : {};
}

/**
 * Drops the databases of a data directory and of the data directories inside
 * it (best effort: the test cluster is thrown away anyway).
 */
function dropDatabases(dataDir) {
  if (!PG_BASE || !dataDir) return;
  const dir = path.resolve(dataDir);
  const urls = new Set();
  try {
    urls.add(fs.readFileSync(path.join(dir, DB_URL_FILE), 'utf8').trim());
  } catch {
    // made elsewhere, or never used
  }
  for (const [d, url] of dbUrls) {
    if (d === dir || d.startsWith(dir + path.sep)) {
      urls.add(url);
      dbUrls.delete(d);
    }
  }
  for (const url of urls) {
    const name = url.slice(url.lastIndexOf('/') + 1);
    if (/^cc_it_[a-z0-9_]+$/.test(name)) psql(`${PG_BASE}postgres`, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

/** The SQLite database file of a data directory. */
export function sqlitePath(dataDir) {
  return path.join(dataDir, 'certcontacts.db');
}

/**
 * Runs sql on a data directory's database: `sqlite3 FILE SQL` on SQLite,
 * `psql URL -XAtq -F '|' -c SQL` on PostgreSQL. Returns {status, stdout, stderr}
 * and never throws on a failing statement (dbQuery does).
 */
export function dbRun(dataDir, sql) {
  if (PG_BASE) return psql(dbUrl(dataDir), sql);
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', sqlitePath(dataDir), sql], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return { status: r.error ? -1 : r.status, stdout: r.stdout || '', stderr: r.error ? String(r.error) : r.stderr || '' };
}

/** Output of sql on dataDir's database as the sqlite3 CLI prints it: rows as lines, columns joined by '|'. */
export function dbQuery(dataDir, sql) {
  const r = dbRun(dataDir, sql);
  assert.ok(r.status === 0, `${BACKEND} query failed (${r.status}): ${r.stderr}\n${sql}`);
  return r.stdout;
}

/** The whole database as text: `sqlite3 FILE .dump` on SQLite, pg_dump on PostgreSQL. */
export function dbDump(dataDir) {
  const r = PG_BASE
    ? spawnSync('pg_dump', ['--no-owner', '--no-privileges', dbUrl(dataDir)], { encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync('sqlite3', [sqlitePath(dataDir), '.dump'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.ok(!r.error && r.status === 0, `dump of ${dataDir}'s database failed: ${r.error || r.stderr}`);
  return r.stdout;
}

/** SQL for the upper-case hex of a blob expression in the backend's dialect. */
export function sqlHex(expr) {
  return PG_BASE ? `upper(encode(${expr}, 'hex'))` : `hex(${expr})`;
}

/** SQL for the byte length of a blob expression in the backend's dialect. */
export function sqlBlobLength(expr) {
  return PG_BASE ? `octet_length(${expr})` : `length(${expr})`;
}

/** SQL for the position (1-based, 0 when absent) of ASCII text in a blob, in the backend's dialect. */
export function sqlBlobFind(expr, text) {
  return PG_BASE ? `position(convert_to('${text}', 'UTF8') in ${expr})` : `instr(CAST(${expr} AS TEXT), '${text}')`;
}

/** Skips test t on PostgreSQL (why: what it is about the SQLite file); true when skipped. */
export function sqliteOnly(t, why) {
  if (BACKEND === 'sqlite') return false;
  t.skip(`SQLite only: ${why}`);
  return true;
}

/** Options for test()/describe(): skipped on PostgreSQL with the reason why. */
export function sqliteOnlyOpts(why) {
  return BACKEND === 'sqlite' ? {} : { skip: `SQLite only: ${why}` };
}

/** A fresh temporary data directory path (created empty; the binary may also create it). */
export function makeDataDir(prefix = 'cc-it-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dbUrl(dir);
  return dir;
}

export function removeDir(dir) {
  if (!dir) return;
  dropDatabases(dir);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Registers the file's after() hook: stops what things() lists, in order
 * (servers, sinks, robot receivers; null entries skipped; one that fails to
 * stop does not keep the others running), then removes the directory dir().
 */
/**
 * Runs every clean-up step in turn, each even when an earlier one failed,
 * then throws the first failure: a test file's after() hook.
 */
export async function cleanUp(steps) {
  const errs = [];
  for (const f of steps) {
    try {
      await f();
    } catch (e) {
      errs.push(e);
    }
  }
  if (errs.length) throw errs[0];
}

export function stopAllAfter(things, dir) {
  after(async () => {
    const stop = async (list) => {
      if (!list.length) return;
      try {
        await list[0]?.stop();
      } finally {
        await stop(list.slice(1));
      }
    };
    try {
      await stop(things());
    } finally {
      removeDir(dir());
    }
  });
}

/**
 * Poll `fn` (sync or async) until it returns a truthy value, or fail after
 * `timeoutMs`. Returns the truthy value. Used instead of sleeps.
 */
export async function waitFor(fn, { timeoutMs = 5000, intervalMs = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

let uniq = 0;
/** A string unique within this test process (for names, emails, keys). */
export function unique(prefix = 'u') {
  uniq += 1;
  return `${prefix}${process.pid}x${Date.now().toString(36)}x${uniq}`;
}

let mobileSeq = Math.floor(Math.random() * 1e6);
/** A fresh mainland-China mobile in E.164 ("+86139xxxxxxxx"); unique within the process. */
export function uniqueMobile(prefix = '139') {
  mobileSeq = (mobileSeq + 7919) % 1e8;
  return `+86${prefix}${String(mobileSeq).padStart(8, '0')}`;
}

/** PRC ID card check character (ISO 7064 MOD 11-2) for the first 17 digits. */
export function idCardCheck(first17) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(first17[i]) * w[i];
  return '10X98765432'[s % 11];
}
export function idCard(first17) {
  return first17 + idCardCheck(first17);
}

/** Deep search: does any object in `v` have a key named `key`? */
export function hasKeyDeep(v, key) {
  if (Array.isArray(v)) return v.some((x) => hasKeyDeep(x, key));
  if (v && typeof v === 'object') {
    return Object.keys(v).some((k) => k === key || hasKeyDeep(v[k], key));
  }
  return false;
}

export const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

// ---------------------------------------------------------------------- CLI

/**
 * Run `certcontacts ARGS... --data-dir DIR`. Returns {status, stdout, stderr}.
 * Never throws on a non-zero exit; use cliOk/cliJson for that.
 */
export function cli(args, { dataDir, env = {}, globalFirst = false } = {}) {
  const global = dataDir ? ['--data-dir', dataDir] : [];
  const argv = globalFirst ? [...global, ...args] : [...args, ...global];
  // a data dir given among args (--data-dir DIR / --data-dir=DIR) has its database too
  const i = args.indexOf('--data-dir');
  const eq = args.find((a) => typeof a === 'string' && a.startsWith('--data-dir='));
  const dbDir = dataDir || (i >= 0 ? args[i + 1] : eq?.slice('--data-dir='.length));
  const r = spawnSync(BIN, argv, {
    cwd: ROOT,
    env: { ...process.env, ...dbEnv(dbDir), ...env },
    encoding: 'utf8',
    timeout: 60000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, argv };
}

export function cliOk(args, opts) {
  const r = cli(args, opts);
  assert.equal(r.status, 0, `certcontacts ${r.argv.join(' ')} exited ${r.status} (${r.signal || ''})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

export function cliJson(args, opts) {
  const r = cliOk(args, opts);
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`certcontacts ${r.argv.join(' ')}: stdout is not one JSON value: ${e.message}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

function checkKeyJson(k) {
  assert.equal(typeof k.account_id, 'number', `account_id: ${JSON.stringify(k)}`);
  assert.equal(typeof k.access_key_id, 'string');
  assert.equal(typeof k.access_key_secret, 'string');
  assert.ok(k.access_key_id.length > 0 && k.access_key_secret.length > 0);
  assert.match(k.role, /^(admin|operator|readonly)$/);
  keepSecret(k.access_key_secret);
  return k;
}

/** `account create NAME --json` → {account_id, access_key_id, access_key_secret, role}. */
export function createAccount(dataDir, name = unique('acct')) {
  const k = checkKeyJson(cliJson(['account', 'create', name, '--json'], { dataDir }));
  assert.equal(k.role, 'admin');
  return k;
}

/** `key create --account ID --role ROLE --json`. */
export function createKey(dataDir, accountId, role) {
  const k = checkKeyJson(cliJson(['key', 'create', '--account', String(accountId), '--role', role, '--json'], { dataDir }));
  assert.equal(k.role, role);
  assert.equal(k.account_id, accountId);
  return k;
}

export function listKeys(dataDir, accountId) {
  return cliJson(['key', 'list', '--account', String(accountId), '--json'], { dataDir });
}

export function disableKey(dataDir, accountId, keyId) {
  return cliOk(['key', 'disable', '--account', String(accountId), keyId], { dataDir });
}

// ------------------------------------------------------------- kept logs
//
// Every line a server writes during the suite is kept, for the scan after it
// (tests/logscan.mjs, run by tests/run.sh): one file per server process in
// $CC_SERVER_LOGS (default build/test-logs/server), named after the test
// file. The access key secrets and passwords the harness sees are kept too
// ($CC_SERVER_LOGS/secrets/), so that the scan can look for them.

export const SERVER_LOGS = path.resolve(ROOT, process.env.CC_SERVER_LOGS || 'build/test-logs/server');
const testName = path.basename(process.argv[1] || 'repl', '.mjs');
let logSeq = 0;

/** Appends everything proc writes on stderr to a kept log file; returns its path. */
export function keepServerLog(proc) {
  fs.mkdirSync(SERVER_LOGS, { recursive: true });
  logSeq += 1;
  const file = path.join(SERVER_LOGS, `${testName}-${process.pid}-${logSeq}.log`);
  proc.stderr.on('data', (chunk) => fs.appendFileSync(file, chunk));
  return file;
}

/** Keeps a secret the tests were handed (an access key secret, a password) for the scan. */
export function keepSecret(secret) {
  if (!secret) return;
  const dir = path.join(SERVER_LOGS, 'secrets');
  fs.mkdirSync(dir, { recursive: true });
  fs.appendFileSync(path.join(dir, `${testName}-${process.pid}.txt`), `${secret}\n`);
}

// ------------------------------------------------------------------- server

export class Server {
  constructor({ dataDir, args = [], env = {} }) {
    this.dataDir = dataDir;
    this.args = args;
    this.env = env;
    this.stderr = '';
    this.lines = []; // parsed JSON log lines
    this.badLines = []; // stderr lines that were not one JSON object
    this.proc = null;
    this.port = null;
    this.exit = null;
  }

  get base() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    const argv = ['serve', '--data-dir', this.dataDir, '--listen', '127.0.0.1:0', ...this.args];
    const proc = spawn(BIN, argv, {
      cwd: ROOT,
      env: { ...process.env, ...dbEnv(this.dataDir), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    this.exit = new Promise((resolve) => {
      proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', () => {});
    keepServerLog(proc);
    proc.stderr.setEncoding('utf8');
    let partial = '';
    proc.stderr.on('data', (chunk) => {
      this.stderr += chunk;
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (line.trim() === '') continue;
        let obj;
        try {
          obj = JSON.parse(line);
        } catch {
          obj = undefined;
        }
        if (obj && typeof obj === 'object' && !Array.isArray(obj)) this.lines.push(obj);
        else this.badLines.push(line);
      }
    });
    let exited = null;
    this.exit.then((e) => { exited = e; });
    const listening = await waitFor(
      () => {
        if (exited) {
          throw new Error(`server exited before listening (code ${exited.code}, signal ${exited.signal})\nstderr:\n${this.stderr}`);
        }
        return this.lines.find((l) => l.msg === 'listening');
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 25, what: `"listening" log line; stderr so far:\n${this.stderr}` },
    ).catch((e) => {
      if (!exited) proc.kill('SIGKILL');
      throw e;
    });
    const m = /:(\d+)$/.exec(String(listening.listen));
    assert.ok(m, `listening line has no port: ${JSON.stringify(listening)}`);
    this.port = Number(m[1]);
    assert.ok(this.port > 0);
    return this;
  }

  /**
   * SIGTERM, wait for exit, and assert a clean exit (code 0; under ASan a
   * leak or error makes it non-zero). Prints the captured stderr on failure.
   */
  async stop() {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve(null), STOP_TIMEOUT_MS);
    });
    const res = await Promise.race([this.exit, timeout]);
    clearTimeout(timer);
    if (res === null) {
      proc.kill('SIGKILL');
      await this.exit;
      throw new Error(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\nstderr:\n${this.stderr}`);
    }
    if (res.code !== 0 || res.signal !== null) {
      throw new Error(`server exited with code ${res.code} signal ${res.signal} after SIGTERM\nstderr:\n${this.stderr}`);
    }
  }

  /** The log line of one request, waiting (bounded) for it to be written. */
  async requestLog(requestId, timeoutMs = 5000) {
    return waitFor(() => this.lines.find((l) => l.msg === 'request' && l.request_id === requestId), {
      timeoutMs,
      what: `log line for request ${requestId}`,
    });
  }
}

/** Start a server on a data dir. Options: args (extra CLI args), env. */
export async function startServer(dataDir, opts = {}) {
  const s = new Server({ dataDir, ...opts });
  await s.start();
  return s;
}

// --------------------------------------------------------------------- HTTP

export function basic(key) {
  if (!key) return undefined;
  return 'Basic ' + Buffer.from(`${key.access_key_id}:${key.access_key_secret}`).toString('base64');
}

function parseBody(text) {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not JSON
  }
}

/**
 * fetch-based request. `key` is a key object from createAccount/createKey;
 * `json` is serialised with Content-Type application/json; `body` is sent
 * as is. A POST, PUT, PATCH or DELETE without json or body says
 * Content-Type: application/json, as the server requires (unless headers
 * names another). Returns {status, headers (a Headers), text, json}.
 */
export async function api(server, method, urlPath, { key, json, body, headers = {} } = {}) {
  const h = { ...headers };
  if (key && !('authorization' in lower(h))) h.authorization = basic(key);
  let payload = body;
  if (json !== undefined) {
    payload = JSON.stringify(json);
    if (!('content-type' in lower(h))) h['content-type'] = 'application/json';
  }
  // every state change is sent as JSON, with or without a body
  if (body === undefined && json === undefined && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) &&
      !('content-type' in lower(h))) h['content-type'] = 'application/json';
  const res = await fetch(server.base + urlPath, { method, headers: h, body: payload });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: parseBody(text), method, path: urlPath };
}

function lower(h) {
  const o = {};
  for (const k of Object.keys(h)) o[k.toLowerCase()] = h[k];
  return o;
}

/**
 * node:http request with the path and bytes exactly as given. `body` may be
 * a string (sent as UTF-8) or a Buffer; `chunked: true` omits Content-Length.
 * Resolves as soon as a complete response has arrived, even if the server
 * then closes the connection while the body is still being written (413).
 * `localAddress` (another loopback address, e.g. 127.0.0.2) is the source
 * address the server sees.
 */
export function raw(server, method, rawPath, { key, headers = {}, body, chunked = false, timeoutMs = 20000, localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (key && !('authorization' in lower(h))) h.Authorization = basic(key);
    const buf = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    if (buf && !chunked && !('content-length' in lower(h))) h['Content-Length'] = buf.length;
    let done = false;
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path: rawPath,
        headers: h,
        agent: false,
        insecureHTTPParser: false,
        ...(localAddress ? { localAddress } : {}),
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', (e) => { if (!done) { done = true; reject(e); } });
        res.on('end', () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode,
            headers: new Headers(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)])),
            text,
            json: parseBody(text),
            method,
            path: rawPath,
          });
          req.destroy();
        });
      },
    );
    const timer = setTimeout(() => {
      if (!done) {
        done = true;
        req.destroy();
        reject(new Error(`${method} ${rawPath}: no response within ${timeoutMs} ms`));
      }
    }, timeoutMs);
    req.on('error', (e) => {
      // A server that answers 413 early may close before we finish writing;
      // the response event (if any) decides. Only fail if none arrives.
      if (done) return;
      if (e.code === 'EPIPE' || e.code === 'ECONNRESET') {
        // give the response parser a chance: it may already have the bytes
        setImmediate(() => {
          if (!done) {
            done = true;
            clearTimeout(timer);
            reject(new Error(`${method} ${rawPath}: connection error before a response: ${e.code}`));
          }
        });
        return;
      }
      done = true;
      clearTimeout(timer);
      reject(e);
    });
    if (buf) {
      if (chunked) {
        // several chunks so that Transfer-Encoding: chunked is really used
        const step = 16384;
        for (let i = 0; i < buf.length; i += step) req.write(buf.subarray(i, i + step));
      } else {
        req.write(buf);
      }
    }
    req.end();
  });
}

/** Describe a response for assertion messages. */
export function show(res) {
  const hs = [];
  res.headers.forEach((v, k) => hs.push(`${k}: ${v}`));
  const t = res.text.length > 600 ? res.text.slice(0, 600) + '…' : res.text;
  return `${res.method || ''} ${res.path || ''} → ${res.status}\n${hs.join('\n')}\n\n${t}`;
}

/** Assert the JSON error shape and, when given, status and code. */
export function assertError(res, status, code) {
  if (typeof status === 'number') assert.equal(res.status, status, show(res));
  else if (status === '4xx') assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx:\n${show(res)}`);
  const ct = res.headers.get('content-type') || '';
  assert.match(ct, /^application\/json/i, `error Content-Type:\n${show(res)}`);
  assert.ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `error body is not a JSON object:\n${show(res)}`);
  assert.equal(typeof res.json.code, 'string', `code:\n${show(res)}`);
  assert.equal(typeof res.json.message, 'string', `message:\n${show(res)}`);
  assert.equal(typeof res.json.request_id, 'string', `request_id:\n${show(res)}`);
  assert.ok(res.json.request_id.length > 0, show(res));
  assert.equal(res.headers.get('x-request-id'), res.json.request_id, `X-Request-Id vs request_id:\n${show(res)}`);
  if (code !== undefined) {
    if (code instanceof RegExp) assert.match(res.json.code, code, show(res));
    else assert.equal(res.json.code, code, show(res));
  }
  return res.json;
}

/** Assert a 2xx status (exact when given) and return the parsed body. */
export function assertOk(res, status) {
  if (status) assert.equal(res.status, status, show(res));
  else assert.ok(res.status >= 200 && res.status < 300, show(res));
  assert.ok(res.headers.get('x-request-id'), `no X-Request-Id:\n${show(res)}`);
  return res.json;
}

// ------------------------------------------------------------ contact helpers

/**
 * A robot's webhook URL as every answer shows it: its token (access_token=,
 * key=, the hook id) masked to its first and last four characters
 * (…access_token=abcd****wxyz), or to **** when it has eight or fewer.
 */
export function maskedHook(url) {
  return url.replace(/([=/])([A-Za-z0-9-]+)$/, (m, sep, tok) => sep + (tok.length <= 8 ? '****' : `${tok.slice(0, 4)}****${tok.slice(-4)}`));
}

/** A valid create body; override any field. */
export function contactBody(over = {}) {
  const n = unique('c');
  return {
    name: `Contact ${n}`,
    email: `${n}@example.com`,
    mobile: uniqueMobile(),
    ...over,
  };
}

export async function createContact(server, key, over = {}, headers = {}) {
  const body = contactBody(over);
  const res = await api(server, 'POST', '/v1/contacts', { key, json: body, headers });
  const c = assertOk(res, 201);
  return { contact: c, body, res };
}

export async function getContact(server, key, id) {
  return api(server, 'GET', `/v1/contacts/${id}`, { key });
}

/** Every page of a list query (page_size n) concatenated, with the totals seen. */
export async function listAll(server, key, { keyword, pageSize = 100 } = {}) {
  const items = [];
  const totals = [];
  for (let page = 1; page < 1000; page++) {
    const q = new URLSearchParams({ page: String(page), page_size: String(pageSize) });
    if (keyword !== undefined) q.set('keyword', keyword);
    const res = await api(server, 'GET', `/v1/contacts?${q}`, { key });
    const b = assertOk(res, 200);
    totals.push(b.total);
    items.push(...b.items);
    if (b.items.length < pageSize) break;
  }
  return { items, totals };
}

// ------------------------------------------------------ verification helpers

/** POST /v1/contacts/{id}/verifications {channel}. */
export async function sendContactCode(server, key, id, channel) {
  return api(server, 'POST', `/v1/contacts/${id}/verifications`, { key, json: { channel } });
}

/** POST /v1/contacts/{id}/verifications/confirm {channel, code}. */
export async function confirmContactCode(server, key, id, channel, code) {
  return api(server, 'POST', `/v1/contacts/${id}/verifications/confirm`, { key, json: { channel, code } });
}

/** POST /v1/verifications {channel, target, language?}. */
export async function sendTargetCode(server, key, channel, target, language) {
  const json = { channel, target };
  if (language !== undefined) json.language = language;
  return api(server, 'POST', '/v1/verifications', { key, json });
}

/** POST /v1/verifications/{id}/confirm {code}. */
export async function confirmTargetCode(server, key, id, code) {
  return api(server, 'POST', `/v1/verifications/${id}/confirm`, { key, json: { code } });
}

/** A 6-digit code that is not `code`. */
export function wrongCode(code, delta = 1) {
  return String((Number(code) + delta) % 1000000).padStart(6, '0');
}

/**
 * Check the body of a 201 from a send: verification_id, channel, a masked
 * target (never `full`), expires_at ≈ sent + ttlS, resend_after ≈ sent +
 * resendS. t0/t1: Date.now() before and after the request. RFC 3339 times
 * may be whole seconds, so the window is a second wider on each side.
 */
export function checkVerification(v, { channel, full, ttlS, resendS, t0, t1 }) {
  assert.ok(v && typeof v === 'object', JSON.stringify(v));
  assert.ok(Number.isInteger(v.verification_id) && v.verification_id > 0, `verification_id: ${JSON.stringify(v)}`);
  assert.equal(v.channel, channel, JSON.stringify(v));
  assert.equal(typeof v.target, 'string', JSON.stringify(v));
  assert.ok(v.target.length > 0, JSON.stringify(v));
  if (full !== undefined) {
    assert.notEqual(v.target.toLowerCase(), full.toLowerCase(), `target is not masked: ${JSON.stringify(v)}`);
    assert.ok(v.target.includes('*'), `target is not masked: ${JSON.stringify(v)}`);
    if (channel === 'mobile') {
      const digits = full.replace(/\D/g, '');
      assert.ok(!v.target.replace(/\D/g, '').includes(digits.slice(-11)), `target shows the full number: ${JSON.stringify(v)}`);
      assert.ok(v.target.endsWith(digits.slice(-4)), `masked mobile should keep the last 4 digits: ${JSON.stringify(v)}`);
    } else {
      const domain = full.slice(full.lastIndexOf('@')).toLowerCase();
      assert.ok(v.target.toLowerCase().endsWith(domain), `masked email should keep the domain: ${JSON.stringify(v)}`);
    }
  }
  assert.match(v.expires_at, RFC3339, JSON.stringify(v));
  assert.match(v.resend_after, RFC3339, JSON.stringify(v));
  if (t0 !== undefined && ttlS !== undefined) {
    const e = Date.parse(v.expires_at);
    assert.ok(e >= t0 + ttlS * 1000 - 1500 && e <= t1 + ttlS * 1000 + 1500,
      `expires_at ${v.expires_at} is not about ${ttlS} s after the send (${new Date(t0).toISOString()})`);
  }
  if (t0 !== undefined && resendS !== undefined) {
    const r = Date.parse(v.resend_after);
    assert.ok(r >= t0 + resendS * 1000 - 1500 && r <= t1 + resendS * 1000 + 1500,
      `resend_after ${v.resend_after} is not about ${resendS} s after the send (${new Date(t0).toISOString()})`);
  }
  return v;
}

/** Assert a 429 Throttling.Verification with a Retry-After of whole seconds in [1, maxS]. Returns the seconds. */
export function assertThrottled(res, maxS) {
  assertError(res, 429, 'Throttling.Verification');
  const ra = res.headers.get('retry-after');
  assert.ok(ra !== null, `no Retry-After:\n${show(res)}`);
  assert.match(ra, /^[0-9]+$/, `Retry-After is not whole seconds:\n${show(res)}`);
  const s = Number(ra);
  assert.ok(s >= 1, `Retry-After < 1:\n${show(res)}`);
  if (maxS !== undefined) assert.ok(s <= maxS, `Retry-After ${s} > ${maxS}:\n${show(res)}`);
  return s;
}

/** POST a certificate.expiring event (days_left 9 unless data says otherwise) for contactIds. */
export async function postExpiringEvent(server, key, contactIds, data = {}) {
  return assertOk(await api(server, 'POST', '/v1/events', {
    key, json: { type: 'certificate.expiring', contact_ids: contactIds, data: { days_left: 9, ...data } },
  }), 201);
}

/** The event once none of its notifications is pending any more. */
export async function eventSettled(server, key, id, { timeoutMs = 30000, intervalMs = 20 } = {}) {
  return waitFor(async () => {
    const e = assertOk(await api(server, 'GET', `/v1/events/${id}`, { key }), 200);
    return e.notifications.every((x) => x.status !== 'pending') ? e : null;
  }, { timeoutMs, intervalMs, what: `event ${id} to settle` });
}

/**
 * Sends a code to target (an email or a mobile) through POST /v1/verifications
 * and confirms it with the code the server wrote to its log (development mode
 * with email and SMS written to the log).
 */
export async function confirmTargetFromLog(server, key, channel, target) {
  const n0 = server.lines.length;
  const res = await sendTargetCode(server, key, channel, target);
  assertOk(res, 201);
  await server.requestLog(res.headers.get('x-request-id'));
  const text = server.lines.slice(n0).filter((l) => l.msg !== 'request').map((l) => JSON.stringify(l)).join('\n');
  const codes = [...new Set(text.match(/(?<!\d)\d{6}(?!\d)/g) || [])];
  const code = codes.find((c) => !target.includes(c));
  assert.ok(code, `no code in the log:\n${text}`);
  assertOk(await confirmTargetCode(server, key, res.json.verification_id, code), 200);
}

/** A contact body (contactBody(over)) whose email and mobile were just confirmed. */
export async function verifiedContactBody(server, key, over = {}) {
  const body = contactBody(over);
  await confirmTargetFromLog(server, key, 'email', body.email);
  await confirmTargetFromLog(server, key, 'mobile', body.mobile);
  return body;
}
