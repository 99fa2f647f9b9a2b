// db_copy.test.mjs — `certcontacts db copy`: an existing SQLite installation
// moves to the suite's backend (PostgreSQL when CC_TEST_PG is set, another
// SQLite file otherwise) with one command, and the copy answers every read
// as the original did.
//   - interrupted (SIGKILL after a few batches), the same command finishes
//     the copy; --json lists every table with equal counts and checksums;
//   - the copied contacts, their robots, ID numbers and keyword searches read
//     the same through the API; the audit chain verifies; a new contact gets
//     a new id; the copied access key signs in;
//   - a copy into a database that holds data is refused and changes nothing;
//   - on PostgreSQL, the copy goes back to a new SQLite file just as well.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  BACKEND, api, assertOk, cleanUp, cli, cliJson, cliOk, createContact, dbUrl, idCard,
  listAll, makeDataDir, removeDir, startServer, uniqueMobile,
} from './lib/harness.mjs';

const dirs = [];
const servers = [];
after(() => cleanUp([
  ...servers.map((s) => () => s.stop()),
  ...dirs.map((d) => () => removeDir(d)),
]));

function newDir() {
  const d = makeDataDir('cc-copy-');
  dirs.push(d);
  return d;
}

const sqliteUrl = (dir) => `sqlite:${path.join(dir, 'certcontacts.db')}`;
// The target of the move: the suite's own backend.
const targetUrl = (dir) => (BACKEND === 'postgres' ? dbUrl(dir) : sqliteUrl(dir));

async function serve(dir, db) {
  const s = await startServer(dir, { args: ['--db', db] });
  servers.push(s);
  return s;
}

async function stop(s) {
  await s.stop();
  servers.splice(servers.indexOf(s), 1);
}

// Everything the checks compare, read through the API.
async function snapshot(server, key, ids) {
  const all = await listAll(server, key, { pageSize: 50 });
  const search = {};
  for (const kw of ['张', '三1', 'copy-7', '@example.com', '139']) {
    search[kw] = (await listAll(server, key, { keyword: kw, pageSize: 50 })).items.map((c) => c.id);
  }
  const one = [];
  for (const id of ids) one.push(assertOk(await api(server, 'GET', `/v1/contacts/${id}`, { key }), 200));
  return { all: all.items, search, one };
}

function copy(from, to, env = {}) {
  return cli(['db', 'copy', '--from', from, '--to', to, '--json'], { env });
}

test('an installation moves with one command, survives an interruption, and reads the same', async () => {
  const src = newDir();
  const db = sqliteUrl(src);
  const key = cliJson(['account', 'create', 'copy', '--json', '--db', db], { dataDir: src });
  let server = await serve(src, db);
  const ids = [];
  for (let i = 0; i < 40; i++) {
    const c = await createContact(server, key, {
      name: i % 2 ? `张三${i}` : `copy-${i}`,
      email: `copy${i}@example.com`,
      mobile: uniqueMobile(),
      ...(i % 5 === 0 ? { id_card: idCard('11010519491231002') } : {}),
      ...(i % 3 === 0 ? {
        webhooks: [{ url: `https://oapi.dingtalk.com/robot/send?access_token=tok${i}`, secret: `SEC${i}` }],
      } : {}),
    });
    ids.push(c.contact.id);
  }
  assertOk(await api(server, 'DELETE', `/v1/contacts/${ids.pop()}`, { key }), 204);
  const before = await snapshot(server, key, ids.slice(0, 12));
  await stop(server);

  const dst = newDir();
  fs.copyFileSync(path.join(src, 'master.key'), path.join(dst, 'master.key'));
  const to = targetUrl(dst);

  // interrupted after three committed batches...
  const killed = copy(db, to, { CERTCONTACTS_COPY_KILL_AFTER: '3' });
  assert.equal(killed.signal, 'SIGKILL', `the drill did not interrupt the copy: ${killed.stderr}`);
  // ...the same command finishes it, and every table checks out
  const r = copy(db, to);
  assert.equal(r.status, 0, r.stderr);
  const tables = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(tables.length >= 30, r.stdout);
  for (const t of tables) {
    assert.equal(t.ok, true, JSON.stringify(t));
    assert.equal(t.rows, t.rows_copied, JSON.stringify(t));
    assert.match(t.sha256, /^[0-9a-f]{64}$/);
  }
  const byName = Object.fromEntries(tables.map((t) => [t.table, t]));
  assert.equal(byName.contacts.rows, 39);
  assert.ok(byName.contact_webhooks.rows >= 13);

  // the copy reads as the original did
  server = await serve(dst, to);
  const copied = await snapshot(server, key, ids.slice(0, 12));
  assert.deepEqual(copied, before);
  const fresh = await createContact(server, key, { name: 'after the move' });
  assert.ok(fresh.contact.id > Math.max(...ids), `new id ${fresh.contact.id} reuses a copied one`);
  await stop(server);
  const verify = cliOk(['audit', 'verify', '--json', '--db', to], { dataDir: dst });
  assert.equal(JSON.parse(verify.stdout).ok, true, verify.stdout);

  // a second copy into the populated database is refused and changes nothing
  const again = copy(db, to);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already holds data; nothing was changed/);
  server = await serve(dst, to);
  assert.equal((await listAll(server, key)).items.length, 40);
  await stop(server);

  if (BACKEND !== 'postgres') return;
  // and back: PostgreSQL to a new SQLite file
  const back = newDir();
  fs.copyFileSync(path.join(src, 'master.key'), path.join(back, 'master.key'));
  const r2 = copy(to, sqliteUrl(back));
  assert.equal(r2.status, 0, r2.stderr);
  server = await serve(back, sqliteUrl(back));
  const home = await snapshot(server, key, ids.slice(0, 12));
  assert.deepEqual(home.one, before.one);
  assert.equal(home.all.length, 40);
});
