// verify_dev.test.mjs — development mode: with no SMTP server and the "log"
// SMS provider, a newcomer reads the code from the server log and confirms
// it; outside development mode the "log" provider is refused at start-up.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  ROOT, BIN, makeDataDir, removeDir, startServer, createAccount, assertOk, assertError,
  dbEnv,
  createContact, getContact, unique, uniqueMobile,
  sendContactCode, confirmContactCode, sendTargetCode, confirmTargetCode, stopAllAfter,
  keepServerLog,
} from './lib/harness.mjs';
import { sixDigitNumbers } from './lib/sinks.mjs';

let dir, server, key;

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  server = await startServer(dir, { env: { CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '' } });
});

stopAllAfter(() => [server], () => dir);

// Fields whose values are not message content (and may hold digit runs).
const NOISE = new Set(['ts', 'time', 'request_id', 'listen', 'duration_ms', 'pid', 'port', 'account', 'status']);

function candidates(line) {
  const out = [];
  const walk = (v, k) => {
    if (NOISE.has(k)) return;
    if (typeof v === 'string' || typeof v === 'number') out.push(...sixDigitNumbers(String(v)));
    else if (v && typeof v === 'object') for (const [kk, vv] of Object.entries(v)) walk(vv, kk);
  };
  walk(line, '');
  return out;
}

/**
 * Run `send` (a request that sends a code) and return the code the server
 * logged for it: the one 6-digit number in the JSON log lines written during
 * that request (request lines aside). `mentions` must appear in that line too.
 */
async function codeFromLog(send, mentions) {
  const n0 = server.lines.length;
  const res = await send();
  assertOk(res, 201);
  await server.requestLog(res.headers.get('x-request-id'));
  const lines = server.lines.slice(n0).filter((l) => l.msg !== 'request');
  const hits = lines.filter((l) => candidates(l).length > 0);
  const codes = [...new Set(hits.flatMap(candidates))];
  assert.equal(codes.length, 1, `expected one 6-digit code in the log lines of this send, found ${JSON.stringify(codes)}:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
  if (mentions) {
    assert.ok(hits.some((l) => JSON.stringify(l).includes(mentions)), `the log line with the code does not say where it was for (${mentions}):\n${hits.map((l) => JSON.stringify(l)).join('\n')}`);
  }
  return { code: codes[0], res };
}

test('development mode says so at start-up', () => {
  const l = server.lines.find((x) => x.msg === 'listening');
  assert.equal(l.mode, 'development', JSON.stringify(l));
  assert.ok(server.lines.some((x) => /development/i.test(String(x.msg))), 'no start-up line about development mode');
  assert.deepEqual(server.badLines, [], 'every log line is JSON');
});

test('dev mode, email: without an SMTP server the code is written to the log, and confirming it works', async () => {
  const email = `${unique('dev')}@example.com`;
  const { contact } = await createContact(server, key, { email });
  // the log names the address masked, as every log line does (zh****n@example.com)
  const [local, domain] = email.split('@');
  const masked = `${local.slice(0, 2)}****${local.slice(-1)}@${domain}`;
  const { code } = await codeFromLog(() => sendContactCode(server, key, contact.id, 'email'), masked);
  const r = await confirmContactCode(server, key, contact.id, 'email', code);
  assert.equal(assertOk(r, 200).email_status, 1);
  assert.equal(assertOk(await getContact(server, key, contact.id), 200).email_status, 1);
  assert.deepEqual(server.badLines, [], 'every log line is JSON');
});

test('dev mode, SMS: the "log" provider writes the code to the log, and confirming it works', async () => {
  const { contact } = await createContact(server, key, { mobile: uniqueMobile('133') });
  const { code } = await codeFromLog(() => sendContactCode(server, key, contact.id, 'mobile'));
  assert.equal(assertOk(await confirmContactCode(server, key, contact.id, 'mobile', code), 200).mobile_status, 1);
});

test('dev mode, verify before saving: the logged code confirms the target and the new contact is verified', async () => {
  const mobile = uniqueMobile('133');
  const { code, res } = await codeFromLog(() => sendTargetCode(server, key, 'mobile', mobile));
  const wrong = String((Number(code) + 1) % 1e6).padStart(6, '0');
  assertError(await confirmTargetCode(server, key, res.json.verification_id, wrong), 400, 'VerificationCode.Mismatch');
  assertOk(await confirmTargetCode(server, key, res.json.verification_id, code), 200);
  const { contact } = await createContact(server, key, { mobile });
  assert.equal(contact.mobile_status, 1);
});

/** Start `serve` expecting it to refuse: resolves {code, signal, stderr}; fails if it starts listening. */
function serveExpectingRefusal(env, args = [], timeoutMs = 10000) {
  const d = makeDataDir();
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, ['serve', '--data-dir', d, '--listen', '127.0.0.1:0', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...dbEnv(d), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    keepServerLog(p);
    let stderr = '';
    let settled = false;
    const finish = (fn) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      removeDir(d);
      fn();
    };
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      finish(() => reject(new Error(`serve neither exited nor listened within ${timeoutMs} ms\nstderr:\n${stderr}`)));
    }, timeoutMs);
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (c) => {
      stderr += c;
      if (/"msg"\s*:\s*"listening"/.test(stderr)) {
        p.kill('SIGKILL');
        finish(() => reject(new Error(`serve started although it should have refused\nstderr:\n${stderr}`)));
      }
    });
    p.on('error', (e) => finish(() => reject(e)));
    p.on('exit', (code, signal) => finish(() => resolve({ code, signal, stderr })));
  });
}

test('the "log" SMS provider outside development mode: the server refuses to start and says why', async () => {
  const r = await serveExpectingRefusal({ CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_DEV: '0' });
  assert.equal(r.signal, null, r.stderr);
  assert.notEqual(r.code, 0, `exit code 0\nstderr:\n${r.stderr}`);
  assert.match(r.stderr, /development/i, `stderr does not mention development mode:\n${r.stderr}`);
  // and the same through the command-line flag
  const f = await serveExpectingRefusal({}, ['--sms-provider', 'log']);
  assert.equal(f.signal, null, f.stderr);
  assert.notEqual(f.code, 0, `exit code 0\nstderr:\n${f.stderr}`);
  assert.match(f.stderr, /development/i, `stderr does not mention development mode:\n${f.stderr}`);
});
