// create_wait.test.mjs — a contact's create waits for its group commit with
// its request suspended (on SQLite no thread sleeps for it): many at once are
// each answered with their own contact; one Idempotency-Key sent many times at
// once makes one contact; a client that hangs up while its create waits
// leaves the server sound and the create whole or absent.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  makeDataDir, startServer, createAccount, api, assertOk, basic, contactBody, listAll,
  uniqueMobile, show, stopAllAfter, waitFor,
} from './lib/harness.mjs';

let dir, server, admin;
before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});
stopAllAfter(() => [server], () => dir);

test('60 creates at once: each answered 201 with its own contact, all of them listed', async () => {
  const bodies = Array.from({ length: 60 }, (_, i) =>
    contactBody({ name: `Wait ${i}`, mobile: uniqueMobile('136') }));
  const answers = await Promise.all(bodies.map((json) =>
    api(server, 'POST', '/v1/contacts', { key: admin, json })));
  const ids = new Set();
  answers.forEach((r, i) => {
    assert.equal(r.status, 201, show(r));
    assert.equal(r.json.name, bodies[i].name);
    assert.equal(r.headers.get('location'), `/v1/contacts/${r.json.id}`);
    assert.ok(r.headers.get('etag'));
    assert.ok(r.headers.get('x-request-id'));
    ids.add(r.json.id);
  });
  assert.equal(ids.size, 60);
  const all = await listAll(server, admin, { keyword: 'Wait' });
  for (const id of ids) assert.ok(all.items.some((c) => c.id === id), `contact ${id} not listed`);
  // each is there in full
  const one = assertOk(await api(server, 'GET', `/v1/contacts/${answers[17].json.id}`, { key: admin }));
  assert.equal(one.name, 'Wait 17');
});

test('one Idempotency-Key sent 20 times at once: one contact, the others replays of it', async () => {
  const json = contactBody({ name: 'Once only', mobile: uniqueMobile('137') });
  const answers = await Promise.all(Array.from({ length: 20 }, () =>
    api(server, 'POST', '/v1/contacts', { key: admin, json, headers: { 'Idempotency-Key': 'wait-once-1' } })));
  for (const r of answers) assert.equal(r.status, 201, show(r));
  const ids = new Set(answers.map((r) => r.json.id));
  assert.equal(ids.size, 1);
  const replays = answers.filter((r) => r.headers.get('idempotent-replayed') === 'true');
  assert.equal(replays.length, 19);
  const found = await listAll(server, admin, { keyword: 'Once only' });
  assert.equal(found.items.length, 1);
});

test('refusals of creates made together are each their own: a clash, a bad field, the rest made', async () => {
  const mobile = uniqueMobile('138');
  const good = contactBody({ name: 'Together ok', mobile });
  const clash = contactBody({ name: 'Together clash', mobile });
  const bad = contactBody({ name: 'Together bad', mobile: '123' });
  const other = contactBody({ name: 'Together other', mobile: uniqueMobile('138') });
  const first = await api(server, 'POST', '/v1/contacts', { key: admin, json: good });
  assert.equal(first.status, 201, show(first));
  const [c, b, o] = await Promise.all([clash, bad, other].map((json) =>
    api(server, 'POST', '/v1/contacts', { key: admin, json })));
  assert.equal(c.status, 409, show(c));
  assert.match(c.json.code, /^AlreadyExists/);
  assert.equal(b.status, 400, show(b));
  assert.equal(o.status, 201, show(o));
  const found = await listAll(server, admin, { keyword: 'Together' });
  assert.deepEqual(found.items.map((x) => x.name).sort(), ['Together ok', 'Together other']);
});

test('clients that hang up while their creates wait: the server stays sound, each create whole or absent', async () => {
  const auth = basic(admin);
  const names = [];
  await Promise.all(Array.from({ length: 30 }, (_, i) => new Promise((resolve) => {
    const name = `Hangup ${i}`;
    names.push(name);
    const body = JSON.stringify(contactBody({ name, mobile: uniqueMobile('139') }));
    const s = net.connect(server.port, '127.0.0.1', () => {
      s.write(`POST /v1/contacts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      () => { s.destroy(); resolve(); });
    });
    s.on('error', resolve);
  })));
  // the requests that arrived are made (or not) by now: a create after them
  // is answered, and what is listed of them reads back whole
  const after = await api(server, 'POST', '/v1/contacts', { key: admin, json: contactBody({ name: 'After the closed ones' }) });
  assert.equal(after.status, 201, show(after));
  await waitFor(async () => (await api(server, 'GET', '/readyz')).status === 200, { what: 'ready' });
  const found = await listAll(server, admin, { keyword: 'Hangup' });
  for (const c of found.items) {
    assert.ok(names.includes(c.name), c.name);
    const one = assertOk(await api(server, 'GET', `/v1/contacts/${c.id}`, { key: admin }));
    assert.equal(one.name, c.name);
    assert.ok(one.mobile);
  }
});
