// conn_flood.test.mjs — connection exhaustion (issue 14, finding 5): a
// client trickling one byte at a time can no longer hold a connection past
// header_timeout_s (body_timeout_s for a body), and a flood of slow connections from one address leaves
// service to every other address. Loopback only: the flood comes from
// 127.0.0.1, the other clients from 127.0.0.2 and 127.0.0.3 (every 127/8
// address is local on Linux).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { makeDataDir, startServer, stopAllAfter } from './lib/harness.mjs';

const FLOOD = Number(process.env.CC_FLOOD_CONNECTIONS || 10000);
const PER_ADDRESS = 64;
const HEADER_TIMEOUT_S = 2;

let dir, server;
before(async () => {
  dir = makeDataDir();
  server = await startServer(dir, {
    args: ['--header-timeout-s', String(HEADER_TIMEOUT_S), '--body-timeout-s', String(HEADER_TIMEOUT_S),
      '--connection-timeout-s', '30',
      '--max-connections-per-address', String(PER_ADDRESS)],
  });
});
stopAllAfter(() => [server], () => dir);

/** A connection that sends a request line and then one header byte every
 * intervalMs, forever. Resolves {socket, closed} once connected. */
function trickle(localAddress, intervalMs) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: server.port, localAddress });
    const st = { socket: s, opened: 0, closedAt: null, refused: false, timer: null };
    st.closed = new Promise((res) => {
      const end = () => {
        if (st.closedAt === null) st.closedAt = Date.now();
        clearInterval(st.timer);
        res(st.closedAt);
      };
      s.on('close', end);
      s.on('error', () => { st.refused = true; });
    });
    s.on('connect', () => {
      st.opened = Date.now();
      s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      st.timer = setInterval(() => { if (!s.destroyed) s.write('a'); }, intervalMs);
      resolve(st);
    });
    s.on('error', () => resolve(st));
  });
}

/** GET /healthz from localAddress on a fresh connection; ms it took. */
function quickGet(localAddress, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const req = http.get({ host: '127.0.0.1', port: server.port, path: '/healthz', localAddress, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => { clearTimeout(timer); resolve({ status: res.statusCode, ms: Date.now() - t0 }); });
      });
    const timer = setTimeout(() => { req.destroy(); reject(new Error(`no answer within ${timeoutMs} ms from ${localAddress}`)); }, timeoutMs);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

test('a request whose headers trickle in is closed at header_timeout_s, though each byte renews the idle timeout', async () => {
  const c = await trickle('127.0.0.2', 200);
  assert.ok(c.opened, 'connected');
  const closedAt = await Promise.race([c.closed, new Promise((r) => setTimeout(() => r(null), (HEADER_TIMEOUT_S + 5) * 1000))]);
  assert.ok(closedAt, `still open ${HEADER_TIMEOUT_S + 5} s after it opened, with connection_timeout_s 30`);
  const held = closedAt - c.opened;
  assert.ok(held >= HEADER_TIMEOUT_S * 1000 - 200, `closed after ${held} ms, before its deadline`);
  assert.ok(held <= HEADER_TIMEOUT_S * 1000 + 1500, `closed after ${held} ms`);
  c.socket.destroy();
});

test('a kept-alive connection answers its requests, then must send the next request in time', async () => {
  const s = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2' });
  await new Promise((r) => s.on('connect', r));
  let data = '';
  s.on('data', (d) => { data += d.toString('latin1'); });
  const closed = new Promise((r) => s.on('close', () => r(Date.now())));
  s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const t0 = Date.now();
  while (!/\r\n\r\n/.test(data) && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
  assert.match(data, /^HTTP\/1\.1 200/);
  // the next request trickles: its line arrives, its headers never finish
  const t1 = Date.now();
  s.write('GET /healthz HTTP/1.1\r\n');
  const timer = setInterval(() => { if (!s.destroyed) s.write('X'); }, 200);
  const at = await Promise.race([closed, new Promise((r) => setTimeout(() => r(null), (HEADER_TIMEOUT_S + 5) * 1000))]);
  clearInterval(timer);
  s.destroy();
  assert.ok(at, 'the second request\'s headers had no deadline');
  assert.ok(at - t1 <= HEADER_TIMEOUT_S * 1000 + 1500, `closed ${at - t1} ms after its request line`);
});

test('a body that trickles in is closed at body_timeout_s', async () => {
  const s = net.connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.2' });
  await new Promise((r) => s.on('connect', r));
  s.on('error', () => {});
  const closed = new Promise((r) => s.on('close', () => r(Date.now())));
  s.write('POST /v1/contacts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{');
  const t0 = Date.now();
  const timer = setInterval(() => { if (!s.destroyed) s.write(' '); }, 200);
  const at = await Promise.race([closed, new Promise((r) => setTimeout(() => r(null), (HEADER_TIMEOUT_S + 5) * 1000))]);
  clearInterval(timer);
  s.destroy();
  assert.ok(at, 'the body had no deadline');
  assert.ok(at - t0 >= HEADER_TIMEOUT_S * 1000 - 200 && at - t0 <= HEADER_TIMEOUT_S * 1000 + 1500, `closed after ${at - t0} ms`);
});

test(`${FLOOD} slow connections from one address leave service to the others`, { timeout: 120000 }, async () => {
  const conns = [];
  const t0 = Date.now();
  for (let i = 0; i < FLOOD; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(FLOOD, i + 500); j++) batch.push(trickle('127.0.0.1', 1000));
    conns.push(...(await Promise.all(batch)));
  }
  const openedMs = Date.now() - t0;
  // while the flood holds what it can, the other addresses are answered at once
  const others = [];
  for (let i = 0; i < 20; i++) others.push(await quickGet(i % 2 ? '127.0.0.2' : '127.0.0.3'));
  for (const o of others) assert.equal(o.status, 200);
  const worst = Math.max(...others.map((o) => o.ms));
  assert.ok(worst < 1000, `slowest answer to another address during the flood: ${worst} ms`);
  // the flooding address gets at most its share; the rest are closed at once
  await new Promise((r) => setTimeout(r, 500));
  const stillOpen = conns.filter((c) => c.closedAt === null).length;
  assert.ok(stillOpen <= PER_ADDRESS, `${stillOpen} flood connections open, more than ${PER_ADDRESS}`);
  // and even those are gone by the header deadline
  const t1 = Date.now();
  await Promise.race([Promise.all(conns.map((c) => c.closed)), new Promise((r) => setTimeout(r, (HEADER_TIMEOUT_S + 5) * 1000))]);
  const left = conns.filter((c) => c.closedAt === null).length;
  for (const c of conns) c.socket.destroy();
  assert.equal(left, 0, `${left} flood connections still open ${Date.now() - t1} ms later`);
  const after = await quickGet('127.0.0.1');
  assert.equal(after.status, 200, 'the flooding address is served again once its connections are gone');
  console.log(`# flood: ${FLOOD} connections from 127.0.0.1 opened in ${openedMs} ms; ` +
    `${stillOpen} held open; others answered in at most ${worst} ms`);
});
