// view_cache.test.mjs — a contact's detail as a readonly key sees it is sent
// again as it was rendered while nothing was committed since: every commit
// (a PATCH, a robot added, a delete, another process writing the database)
// shows at the next GET on the same keep-alive connection, a view kept for
// one account is never another's, and a view that reveals the addresses is
// never a kept masked one: it is read, shown in full and audited each time.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError,
  createContact, dbRun, unique, uniqueMobile, stopAllAfter, show, BACKEND,
} from './lib/harness.mjs';

let dir, server, admin, readonly, other, otherReadonly;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  readonly = createKey(dir, admin.account_id, 'readonly');
  other = createAccount(dir);
  otherReadonly = createKey(dir, other.account_id, 'readonly');
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

// n GETs one after another: node's fetch keeps one keep-alive connection, so
// they are answered by one server thread, the one whose kept view is tested.
async function views(key, id, n = 4) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await api(server, 'GET', `/v1/contacts/${id}`, { key }));
  return out;
}

function allShow(list, status, check) {
  for (const res of list) {
    assert.equal(res.status, status, show(res));
    if (check) check(res);
  }
}

async function newContact() {
  const email = `${unique('kept')}@example.com`;
  const { contact } = await createContact(server, admin, {
    name: `Kept ${unique('v')}`, email, mobile: uniqueMobile('137'),
  });
  return { ...contact, email };
}

test('a PATCH shows at the next readonly GET, with the new version and ETag', async () => {
  const c = await newContact();
  const before = await views(readonly, c.id);
  allShow(before, 200, (r) => {
    assert.equal(r.json.name, c.name);
    assert.equal(r.headers.get('etag'), `"${c.version}"`);
    assert.equal(r.text, before[0].text, 'the same snapshot renders the same bytes');
  });
  const p = assertOk(await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key: admin, json: { name: 'Renamed Once' } }), 200);
  allShow(await views(readonly, c.id), 200, (r) => {
    assert.equal(r.json.name, 'Renamed Once');
    assert.equal(r.json.version, p.version);
    assert.equal(r.headers.get('etag'), `"${p.version}"`);
  });
  assertOk(await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key: admin, json: { name: 'Renamed Twice' } }), 200);
  allShow(await views(readonly, c.id), 200, (r) => assert.equal(r.json.name, 'Renamed Twice'));
});

test('a robot added (another table) shows at the next readonly GET', async () => {
  const c = await newContact();
  allShow(await views(readonly, c.id), 200, (r) => assert.deepEqual(r.json.webhooks, []));
  assertOk(await api(server, 'PATCH', `/v1/contacts/${c.id}`, {
    key: admin, json: { webhooks: [{ url: 'https://oapi.dingtalk.com/robot/send?access_token=keptview1' }] },
  }), 200);
  allShow(await views(readonly, c.id), 200, (r) => {
    assert.equal(r.json.webhooks.length, 1);
    assert.equal(r.json.webhooks[0].kind, 'dingtalk');
  });
});

test('a write by another process shows at the next readonly GET', async () => {
  const c = await newContact();
  allShow(await views(readonly, c.id), 200, (r) => assert.equal(r.json.name, c.name));
  const w = dbRun(dir, `UPDATE contacts SET name = 'Written Outside' WHERE id = ${c.id}`);
  assert.equal(w.status, 0, w.stderr);
  allShow(await views(readonly, c.id), 200, (r) => assert.equal(r.json.name, 'Written Outside'));
});

test('a deleted contact is 404 at the next readonly GET', async () => {
  const c = await newContact();
  allShow(await views(readonly, c.id), 200);
  const d = await api(server, 'DELETE', `/v1/contacts/${c.id}`, { key: admin });
  assert.equal(d.status, 204, show(d));
  allShow(await views(readonly, c.id), 404, (r) => assertError(r, 404, 'NotFound'));
});

test("a view kept for one account is never another's: 404 for the other account's readonly key", async () => {
  const c = await newContact();
  // both keys used once first: a key's first use records it (a commit)
  allShow(await views(otherReadonly, c.id, 1), 404);
  allShow(await views(readonly, c.id, 1), 200);
  const mine = await views(readonly, c.id, 2);
  allShow(mine, 200);
  allShow(await views(otherReadonly, c.id), 404, (r) => {
    assertError(r, 404, 'NotFound');
    assert.ok(!r.text.includes(c.name));
  });
  allShow(await views(readonly, c.id, 2), 200, (r) => assert.equal(r.text, mine[0].text));
});

test('an admin view after readonly ones shows the addresses in full and is audited each time', async () => {
  const c = await newContact();
  const masked = await views(readonly, c.id);
  allShow(masked, 200, (r) => assert.notEqual(r.json.email, c.email));
  const auditBefore = await api(server, 'GET', `/v1/audit?target_type=contact&target_id=${c.id}&action=contact.view`, { key: admin });
  assertOk(auditBefore, 200);
  const full = await views(admin, c.id, 3);
  allShow(full, 200, (r) => assert.equal(r.json.email, c.email));
  const auditAfter = await api(server, 'GET', `/v1/audit?target_type=contact&target_id=${c.id}&action=contact.view`, { key: admin });
  assertOk(auditAfter, 200);
  const views0 = auditBefore.json.items.filter((e) => e.action === 'contact.view').length;
  const views1 = auditAfter.json.items.filter((e) => e.action === 'contact.view').length;
  assert.equal(views1 - views0, 3, 'each full view is one audit entry');
  const again = await views(readonly, c.id, 2);
  allShow(again, 200, (r) => assert.notEqual(r.json.email, c.email));
});

async function views_count() {
  const res = await api(server, 'GET', '/metrics', { key: readonly });
  assert.equal(res.status, 200, res.text);
  const n = (kept) => Number((res.text.match(new RegExp(`^certcontacts_http_contact_views_total\\{kept="${kept}"\\} (\\d+)$`, 'm')) || [])[1]);
  return { yes: n('yes'), no: n('no') };
}

test('the metrics count the views sent again and those read, not the audited ones', async () => {
  const c = await newContact();
  // The search indexes learn the create in a commit of their own, 50 ms later
  // or at the next keyword search: a search now, so that it does not fall
  // among the views counted below.
  assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(c.name)}`, { key: admin }), 200);
  allShow(await views(readonly, c.id, 1), 200);
  const before = await views_count();
  assert.ok(Number.isInteger(before.yes) && Number.isInteger(before.no), JSON.stringify(before));
  allShow(await views(readonly, c.id, 5), 200);
  allShow(await views(admin, c.id, 2), 200);
  const after = await views_count();
  if (BACKEND !== 'sqlite') {
    assert.deepEqual(after, before, 'PostgreSQL keeps nothing, counts nothing');
    return;
  }
  assert.equal(after.yes + after.no - before.yes - before.no, 5, 'every readonly view counted once, no admin view');
  // a key's use is recorded once a minute (a commit): one view may be read again for it
  assert.ok(after.yes - before.yes >= 3, `kept: ${JSON.stringify([before, after])}`);
});
