// crash.test.mjs — durability: every write the server acknowledged is there
// after the process is killed without warning (SIGKILL, no clean shutdown),
// and a write that was refused left nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, contactBody, getContact,
  listAll, uniqueMobile, stopAllAfter,
} from './lib/harness.mjs';

const dir = makeDataDir();
let server;

stopAllAfter(() => [server], () => dir);

test('acknowledged creates survive SIGKILL while more writes are in flight', async () => {
  server = await startServer(dir);
  const admin = createAccount(dir);
  // 40 concurrent creates; kill the server as soon as 20 have been acknowledged.
  const acked = [];
  let killed = false;
  const kill = () => {
    if (!killed) {
      killed = true;
      server.proc.kill('SIGKILL');
    }
  };
  const sends = [];
  for (let i = 0; i < 40; i++) {
    const body = contactBody({ name: `Crash ${i}`, mobile: uniqueMobile('135') });
    sends.push(
      api(server, 'POST', '/v1/contacts', { key: admin, json: body })
        .then((res) => {
          if (res.status === 201) {
            acked.push(res.json);
            if (acked.length >= 20) kill();
          }
        })
        .catch(() => {}), // connections cut by the kill
    );
  }
  await Promise.all(sends);
  kill();
  const gone = await server.exit;
  assert.equal(gone.signal, 'SIGKILL');
  server.proc = null;
  assert.ok(acked.length >= 20, `only ${acked.length} creates were acknowledged`);

  server = await startServer(dir);
  for (const c of acked) {
    const got = assertOk(await getContact(server, admin, c.id), 200);
    assert.equal(got.name, c.name);
    assert.equal(got.mobile, c.mobile);
  }
  // Whatever else committed is whole: every listed contact reads back complete.
  const { items: all } = await listAll(server, admin);
  assert.ok(all.length >= acked.length);
  for (const c of all) assert.match(c.name, /^Crash \d+$/);
});
