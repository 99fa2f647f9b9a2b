// restart.test.mjs — data and keys survive a clean restart (SIGTERM, exit 0,
// start again on the same data dir); in-flight requests finish on SIGTERM;
// the data dir is created if missing with master.key mode 0600.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  makeDataDir, removeDir, startServer, createAccount, createKey, api, assertOk, assertError, show,
  contactBody, createContact, getContact, listAll, waitFor,
} from './lib/harness.mjs';

const parent = makeDataDir();
const dir = path.join(parent, 'data'); // does not exist yet: serve creates it
let server;

after(async () => {
  try {
    await server?.stop();
  } finally {
    removeDir(parent);
  }
});

test('data and keys survive a restart', async () => {
  server = await startServer(dir);
  assert.ok(fs.existsSync(dir), 'serve did not create the data dir');
  const mk = fs.statSync(path.join(dir, 'master.key'));
  assert.equal(mk.mode & 0o777, 0o600, 'master.key must be mode 0600');
  const masterBefore = fs.readFileSync(path.join(dir, 'master.key'));

  const admin = createAccount(dir);
  const ro = createKey(dir, admin.account_id, 'readonly');
  const made = [];
  for (let i = 0; i < 5; i++) {
    const { contact } = await createContact(server, admin, {
      id_card: '11010519491231002X',
      webhooks: [{ url: `https://oapi.dingtalk.com/robot/send?access_token=restart${i}`, secret: `SECr${i}` }],
    });
    made.push(contact);
  }
  // one updated and one deleted before the restart
  const upd = assertOk(await api(server, 'PATCH', `/v1/contacts/${made[1].id}`, { key: admin, json: { name: 'Updated before restart' } }), 200);
  assert.equal((await api(server, 'DELETE', `/v1/contacts/${made[4].id}`, { key: admin })).status, 204);

  await server.stop();
  // after a clean stop nothing answers on the old port
  const port = server.port;
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));

  server = await startServer(dir);
  assert.deepEqual(fs.readFileSync(path.join(dir, 'master.key')), masterBefore, 'master.key was rewritten on restart');

  for (const c of made.slice(0, 4)) {
    const g = assertOk(await getContact(server, admin, c.id), 200);
    const want = c.id === upd.id ? upd : c;
    assert.deepEqual(g, want, `contact ${c.id} differs after restart`);
  }
  assertError(await getContact(server, admin, made[4].id), 404, 'NotFound');
  const all = await listAll(server, admin);
  assert.deepEqual(all.items.map((i) => i.id), made.slice(0, 4).map((c) => c.id).reverse());
  // the readonly key still works, and is still readonly
  assertOk(await api(server, 'GET', '/v1/contacts', { key: ro }), 200);
  assertError(await api(server, 'POST', '/v1/contacts', { key: ro, json: contactBody() }), 403, 'Forbidden');
  // webhook secrets survived (encrypted at rest, decrypted with the same master key)
  const g = assertOk(await getContact(server, admin, made[0].id), 200);
  assert.equal(g.webhooks[0].has_secret, true);
  // uniqueness survived too
  const dup = await api(server, 'POST', '/v1/contacts', { key: admin, json: { name: 'dup', email: made[0].email, mobile: '+8613811112222' } });
  assertError(dup, 409, 'AlreadyExists.Email');
  // new ids keep increasing after a restart
  const { contact: fresh } = await createContact(server, admin);
  assert.ok(fresh.id > made[4].id, `id ${fresh.id} reused after restart`);
});

test('a second restart is clean and the server is ready', async () => {
  await server.stop();
  server = await startServer(dir);
  const h = await api(server, 'GET', '/readyz');
  assert.equal(h.status, 200, show(h));
});

test('SIGTERM lets in-flight requests finish', async () => {
  const admin = createAccount(dir);
  const n = 30;
  const inflight = Array.from({ length: n }, () =>
    api(server, 'POST', '/v1/contacts', { key: admin, json: contactBody() }).then(
      (r) => ({ r }),
      (e) => ({ e }),
    ),
  );
  // wait until the server has seen at least one of them, then stop it
  await waitFor(() => server.lines.some((l) => l.msg === 'request' && l.method === 'POST'), { what: 'first POST logged' });
  const stopped = server.stop();
  const results = await Promise.all(inflight);
  await stopped;
  // every request either completed properly (201) or was never accepted
  // (connection refused/reset before a response); no 5xx, no half answers
  const done = results.filter((x) => x.r);
  for (const { r } of done) assert.equal(r.status, 201, show(r));
  assert.ok(done.length >= 1);

  // what was acknowledged is there after a restart
  server = await startServer(dir);
  const all = await listAll(server, admin);
  const ids = new Set(all.items.map((i) => i.id));
  for (const { r } of done) assert.ok(ids.has(r.json.id), `acknowledged contact ${r.json.id} lost in shutdown`);
});
