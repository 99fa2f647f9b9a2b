// log_forging.test.mjs — hostile methods, paths and headers sent byte for
// byte over a socket: every line the server writes must parse as one JSON
// object, and a request's line must carry the method and path exactly as
// sent, as string values, with no field the client made up (issue 14,
// finding 6: a method such as GET","level":"error forged level, msg and
// account in the request's log line).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { makeDataDir, startServer, createAccount, stopAllAfter, waitFor } from './lib/harness.mjs';

let dir, server, admin;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});
stopAllAfter(() => [server], () => dir);

/** Sends raw bytes on a fresh connection; resolves with the answer's bytes
 * once the server closes or after a short while. */
function send(bytes) {
  return new Promise((resolve) => {
    const chunks = [];
    const s = net.connect(server.port, '127.0.0.1');
    const done = () => { clearTimeout(t); s.destroy(); resolve(Buffer.concat(chunks)); };
    const t = setTimeout(done, 3000);
    s.on('data', (c) => {
      chunks.push(c);
      if (/\r\n\r\n/.test(Buffer.concat(chunks).toString('latin1'))) setTimeout(done, 50);
    });
    s.on('error', done);
    s.on('end', done);
    s.write(bytes);
  });
}

const FIELDS = new Set(['time', 'level', 'msg', 'request_id', 'account', 'method', 'path', 'status',
  'duration_ms', 'remote', 'user_agent']);

const FORGE = '","level":"error","msg":"forged","account":7,"x":"';
const hostileMethods = [
  `GET${FORGE}`,
  'GET"}\n{"level":"error","msg":"forged"}',
  'G\\E"T',
  'POST\u2028',
  `DELETE${'"'.repeat(40)}`,
];
const hostilePaths = [
  `/v1/contacts/${FORGE}`,
  '/v1/contacts/%22%2C%22level%22%3A%22error',
  '/"\\u0000\\n',
  '/\u2028\u2029/\u00e9',
  `/${'a'.repeat(5000)}"`,
];
const hostileHeaders = [
  ['User-Agent', `curl${FORGE}`],
  ['User-Agent', 'x\\"}{"level":"error'],
  ['Authorization', `Basic ${FORGE}`],
  ['Cookie', `cc_session=${FORGE}`],
  ['X-CSRF-Token', FORGE],
  ['Idempotency-Key', FORGE],
  ['X-Forwarded-For', FORGE],
];

test('every log line parses as JSON and carries only the writer\'s fields, whatever the request holds', async () => {
  const sent = [];
  const requests = [];
  for (const m of hostileMethods) requests.push(Buffer.from(`${m} /v1/contacts HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 'utf8'));
  for (const p of hostilePaths) requests.push(Buffer.from(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 'utf8'));
  // bytes that are not UTF-8, in the path and in a header
  requests.push(Buffer.concat([Buffer.from('GET /v1/\xff\xfe"x HTTP/1.1\r\nUser-Agent: ', 'latin1'),
    Buffer.from([0xc3, 0x28, 0x22, 0xff]), Buffer.from('\r\nConnection: close\r\n\r\n')]));
  for (const [h, v] of hostileHeaders) {
    requests.push(Buffer.from(`POST /v1/contacts HTTP/1.1\r\nHost: x\r\n${h}: ${v}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`, 'utf8'));
  }
  for (const r of requests) sent.push(await send(r));
  // each request that was answered has its line; wait for the last one
  const answered = sent.map((b) => /x-request-id: ([0-9a-fA-F-]{36})/i.exec(b.toString('latin1'))).filter(Boolean).map((m) => m[1]);
  assert.ok(answered.length >= requests.length - 4, `most hostile requests are answered (${answered.length} of ${requests.length})`);
  await waitFor(() => answered.every((id) => server.lines.some((l) => l.request_id === id)),
    { what: 'a log line for every answered request' });

  assert.deepEqual(server.badLines, [], 'stderr lines that are not one JSON object');
  for (const l of server.lines) {
    assert.ok(['debug', 'info', 'warn', 'error'].includes(l.level), JSON.stringify(l));
    assert.notEqual(l.msg, 'forged', JSON.stringify(l));
    if (l.msg !== 'request') continue;
    for (const k of Object.keys(l)) assert.ok(FIELDS.has(k), `unexpected field ${k}: ${JSON.stringify(l)}`);
    assert.equal(l.level, 'info');
    assert.equal(typeof l.method, 'string');
    assert.equal(typeof l.path, 'string');
    assert.ok(l.account === null, `no request here is authenticated: ${JSON.stringify(l)}`);
    assert.equal(typeof l.status, 'number');
  }
  // what was sent is what is logged, as one string value
  const methods = server.lines.filter((l) => l.msg === 'request').map((l) => l.method);
  for (const m of hostileMethods) {
    if (!/[\n]/.test(m)) assert.ok(methods.includes(m), `method ${JSON.stringify(m)} logged as sent: ${JSON.stringify(methods)}`);
  }
  const paths = server.lines.filter((l) => l.msg === 'request').map((l) => l.path);
  assert.ok(paths.includes(`/v1/contacts/${FORGE}`), JSON.stringify(paths));
  assert.ok(paths.includes('/\u2028\u2029/\u00e9'), JSON.stringify(paths));
  assert.ok(paths.some((p) => p.startsWith('/v1/\\xff\\xfe"x')), `bytes that are not UTF-8 shown as \\xNN: ${JSON.stringify(paths)}`);
  const uas = server.lines.filter((l) => l.msg === 'request').map((l) => l.user_agent);
  assert.ok(uas.includes(`curl${FORGE}`), JSON.stringify(uas));

  // the server still answers
  const res = await fetch(`${server.base}/healthz`);
  assert.equal(res.status, 200);
  assert.ok(admin.account_id);
});
