// sd_notify.test.mjs — serve speaks systemd's readiness protocol (Type=notify):
// READY=1 once it listens and /readyz answers 200, RELOADING=1 then READY=1
// around a SIGHUP reload, STOPPING=1 when SIGTERM stops it. The notification
// socket is a unix datagram socket bound by lib/notify_socket.py. (Without
// NOTIFY_SOCKET, as in every other test, sd_notify does nothing.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT, Server, makeDataDir, removeDir, waitFor, api } from './lib/harness.mjs';

/** Binds a notification socket in dir; resolves to {path, messages, close}. */
async function notifySocket(dir) {
  const sockPath = path.join(dir, 'notify.sock');
  const proc = spawn('python3', [path.join(ROOT, 'tests/integration/lib/notify_socket.py'), sockPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const messages = [];
  let bound = false;
  let partial = '';
  proc.stdout.setEncoding('utf8');
  proc.stdout.on('data', (chunk) => {
    partial += chunk;
    let nl;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (line === 'bound') bound = true;
      else messages.push(parse(JSON.parse(line).message));
    }
  });
  await waitFor(() => bound, { timeoutMs: 10000, what: 'notification socket bound' });
  return { path: sockPath, messages, close: () => proc.kill('SIGKILL') };
}

/** "A=1\nB=two" -> {A: '1', B: 'two'} */
function parse(text) {
  const o = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) o[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return o;
}

test('serve notifies READY=1 when it answers, RELOADING/READY on SIGHUP, STOPPING=1 on SIGTERM', async (t) => {
  const dir = makeDataDir('cc-notify-');
  const sock = await notifySocket(dir);
  const server = new Server({ dataDir: path.join(dir, 'data'), env: { NOTIFY_SOCKET: sock.path } });
  t.after(async () => {
    await server.stop().catch(() => {});
    sock.close();
    removeDir(dir);
  });
  await server.start();
  const ready = await waitFor(() => sock.messages.find((m) => m.READY === '1'), {
    timeoutMs: 10000,
    what: 'READY=1',
  });
  // READY=1 promises that /readyz answers: asked right after, it must.
  const r = await api(server, 'GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  assert.equal(ready.MAINPID, String(server.proc.pid));
  assert.match(ready.STATUS, new RegExp(`^serving on http://127\\.0\\.0\\.1:${server.port}$`));
  assert.equal(sock.messages.filter((m) => m.READY === '1').length, 1);

  server.proc.kill('SIGHUP');
  await waitFor(() => sock.messages.filter((m) => m.READY === '1').length === 2, {
    timeoutMs: 10000,
    what: 'READY=1 after the reload',
  });
  const reloading = sock.messages.findIndex((m) => m.RELOADING === '1');
  assert.ok(reloading > 0, JSON.stringify(sock.messages));
  assert.match(sock.messages[reloading].MONOTONIC_USEC, /^\d+$/);
  assert.equal(sock.messages[reloading + 1].READY, '1', 'READY=1 follows RELOADING=1');
  assert.equal((await api(server, 'GET', '/readyz')).status, 200);

  assert.ok(!sock.messages.some((m) => m.STOPPING === '1'), 'no STOPPING=1 before the stop');
  await server.stop();
  const last = sock.messages[sock.messages.length - 1];
  assert.equal(last.STOPPING, '1', JSON.stringify(sock.messages));
});
