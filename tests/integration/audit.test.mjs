// audit.test.mjs — the audit log answers "who saw or changed this contact,
// when, from where": every change and every full view of a contact is an
// entry with its actor, source address and request id, the changed fields
// masked; GET /v1/audit filters and pages (admin only), /v1/audit.csv
// exports; no route changes an entry; `certcontacts audit verify` detects an
// edited or removed row. Access keys: an expiry refused the moment it
// passes, and a last-used time.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, cli, cliJson, api, assertOk,
  assertError, show, stopAllAfter, waitFor,
  disableKey, dbQuery, dbRun, BACKEND,
} from './lib/harness.mjs';
import { casClient, callAction } from './lib/alibaba.mjs';

let dir, server, admin, operator, readonly, user, userPw;

const EMAIL = 'zhangsan.audit@example.com';
const EMAIL2 = 'lisi.audit@example.com';
const MOBILE = '+8613312345678';
const NAME = '张三丰';

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  user = cliJson(['user', 'create', '--account', String(admin.account_id), '--email', 'auditor@example.com',
    '--role', 'admin', '--json'], { dataDir: dir });
  userPw = user.password;
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

function sql(sqlText) {
  return dbQuery(dir, sqlText).trim();
}

async function audit(query, key = admin) {
  const res = await api(server, 'GET', `/v1/audit?${new URLSearchParams(query)}`, { key });
  assertOk(res, 200);
  return res.json;
}

test('who saw or changed a contact, when and from where: one entry per change and full view, masked', async () => {
  const created = await api(server, 'POST', '/v1/contacts', {
    key: operator, json: { name: NAME, email: EMAIL, mobile: MOBILE, id_card: '11010519491231002X' },
  });
  assertOk(created, 201);
  const id = created.json.id;
  const patched = await api(server, 'PATCH', `/v1/contacts/${id}`, { key: operator, json: { email: EMAIL2, name: '李四' } });
  assertOk(patched, 200);
  const seen = await api(server, 'GET', `/v1/contacts/${id}`, { key: admin });
  assertOk(seen, 200);
  assert.equal(seen.json.email, EMAIL2, 'an admin sees the address in full: a reveal');
  assertOk(await api(server, 'GET', `/v1/contacts/${id}`, { key: readonly }), 200); // masked: no reveal
  const deleted = await api(server, 'DELETE', `/v1/contacts/${id}`, { key: operator });
  assert.equal(deleted.status, 204, show(deleted));

  const log = await audit({ target_type: 'contact', target_id: String(id) });
  assert.deepEqual(log.items.map((e) => e.action), ['contact.delete', 'contact.view', 'contact.update', 'contact.create']);
  assert.equal(log.total, 4);
  const by = Object.fromEntries(log.items.map((e) => [e.action, e]));
  const rid = (res) => res.headers.get('x-request-id');
  for (const [action, key, res] of [['contact.create', operator, created], ['contact.update', operator, patched],
    ['contact.view', admin, seen], ['contact.delete', operator, deleted]]) {
    const e = by[action];
    assert.equal(e.actor, key.access_key_id, `${action}: actor`);
    assert.equal(e.source, '127.0.0.1', `${action}: source`);
    assert.equal(e.request_id, rid(res), `${action}: the request id of the answer`);
    assert.match(e.time, /^\d{4}-\d{2}-\d{2}T/);
    assert.match(e.hash, /^[0-9a-f]{64}$/);
  }
  // the changed fields, masked
  assert.match(by['contact.update'].changes.email.old, /^zh\*+t@example\.com$/);
  assert.match(by['contact.update'].changes.email.new, /^li\*+t@example\.com$/);
  assert.deepEqual(by['contact.update'].changes.name, { old: '张**', new: '李*' });
  assert.equal(by['contact.create'].changes.mobile.new, '+86 133****5678');
  assert.equal(by['contact.create'].changes.id_card.new.length, 18);
  assert.ok(!by['contact.create'].changes.id_card.new.includes('1949'), 'the ID number is masked');
  assert.deepEqual(by['contact.view'].changes.revealed.new, ['email', 'mobile']);
  assert.equal(by['contact.delete'].changes.mobile.old, '+86 133****5678', 'a deleted contact keeps masked values only');
  // nothing personal in full anywhere in the log
  const all = JSON.stringify((await audit({ page_size: '100' })).items);
  for (const secret of [EMAIL, EMAIL2, MOBILE, '13312345678', NAME, '11010519491231002X']) {
    assert.ok(!all.includes(secret), `the audit log holds ${secret} in full`);
  }
});

test('sign-in success and failure are audited with the source address and the reason', async () => {
  const ok = await api(server, 'POST', '/v1/session', { json: { email: 'auditor@example.com', password: userPw } });
  assertOk(ok, 201);
  const bad = await api(server, 'POST', '/v1/session', { json: { email: 'auditor@example.com', password: 'not the password' } });
  assert.equal(bad.status, 401, show(bad));
  const ins = await audit({ action: 'user.sign_in' });
  assert.equal(ins.items[0].actor, `user:${user.id}`);
  assert.equal(ins.items[0].source, '127.0.0.1');
  assert.equal(ins.items[0].request_id, ok.headers.get('x-request-id'));
  const fails = await audit({ action: 'user.sign_in_failed' });
  assert.equal(fails.items[0].target_id, String(user.id));
  assert.equal(fails.items[0].changes.reason.new, 'wrong password');
  assert.match(fails.items[0].changes.email.new, /^au\*+r@example\.com$/);
  assert.equal(fails.items[0].request_id, bad.headers.get('x-request-id'));
  // the console user's actions carry "user:ID"
  const cookie = /^cc_session=([^;]+)/.exec(ok.headers.get('set-cookie'))[1];
  const mine = await api(server, 'GET', `/v1/audit?actor=user:${user.id}`, { headers: { cookie: `cc_session=${cookie}` } });
  assertOk(mine, 200);
  assert.ok(mine.json.items.some((e) => e.action === 'user.sign_in'));
});

test('only admins read the log; filters, paging and time range; no route changes an entry', async () => {
  assertError(await api(server, 'GET', '/v1/audit', { key: operator }), 403, 'Forbidden');
  assertError(await api(server, 'GET', '/v1/audit', { key: readonly }), 403, 'Forbidden');
  assertError(await api(server, 'GET', '/v1/audit.csv', { key: operator }), 403, 'Forbidden');
  assertError(await api(server, 'GET', '/v1/audit?action=contact.nonsense', { key: admin }), 400, 'InvalidParameter.Action');
  assertError(await api(server, 'GET', '/v1/audit?since=yesterday', { key: admin }), 400, 'InvalidParameter.Since');
  assertError(await api(server, 'GET', '/v1/audit?page_size=101', { key: admin }), 400);
  for (const m of ['DELETE', 'PATCH', 'PUT', 'POST']) {
    const r = await api(server, m, '/v1/audit', { key: admin, json: {} });
    assert.equal(r.status, 405, `${m} /v1/audit: ${show(r)}`);
  }
  const total = (await audit({})).total;
  const p1 = await audit({ page: '1', page_size: '2' });
  const p2 = await audit({ page: '2', page_size: '2' });
  assert.equal(p1.items.length, 2);
  assert.equal(p1.total, total);
  assert.ok(p1.items[1].id > p2.items[0].id, 'newest first across pages');
  const future = await audit({ since: '2999-01-01' });
  assert.equal(future.total, 0);
  const past = await audit({ until: '2000-01-01' });
  assert.equal(past.total, 0);
  const keys = await audit({ actor: operator.access_key_id });
  assert.ok(keys.items.length > 0 && keys.items.every((e) => e.actor === operator.access_key_id));
  // another account's admin sees none of it
  const other = createAccount(dir);
  const theirs = await audit({}, other);
  assert.ok(theirs.items.every((e) => e.target_type !== 'contact'));
});

test('CSV export: the same entries, formulas made inert, with the total', async () => {
  const res = await api(server, 'GET', '/v1/audit.csv?action=contact.update', { key: admin });
  assert.equal(res.status, 200, show(res));
  assert.match(res.headers.get('content-type'), /^text\/csv/);
  assert.match(res.headers.get('content-disposition'), /attachment/);
  const lines = res.text.trim().split('\r\n');
  assert.equal(lines[0], 'id,time,actor,source,request_id,action,target_type,target_id,changes,hash');
  assert.equal(lines.length - 1, Number(res.headers.get('x-total-count')));
  assert.ok(lines.length >= 2);
  assert.match(lines[1], /"contact\.update","contact"/);
  assert.ok(lines[1].includes('""old""'), 'quotes inside a field are doubled');
  // a name that looks like a formula stays text
  const c = await api(server, 'POST', '/v1/contacts', { key: operator, json: { name: '=cmd|x', mobile: '+8613900001111' } });
  assertOk(c, 201);
  const csv = await api(server, 'GET', `/v1/audit.csv?target_type=contact&target_id=${c.json.id}`, { key: admin });
  assert.ok(!/(^|,)"[=+\-@]/m.test(csv.text), `a field starts with a formula character: ${csv.text}`);
});

test('audit verify: the chain holds, and detects an edited and a removed row', async () => {
  const good = cliJson(['audit', 'verify', '--json'], { dataDir: dir });
  assert.equal(good.ok, true, JSON.stringify(good));
  assert.ok(good.checked > 5);
  // no interface, not even SQL through the triggers, changes or removes an entry
  const upd = dbRun(dir, "UPDATE audit_entries SET actor = 'x' WHERE id = 3");
  assert.match(upd.stderr, /audit entries cannot be changed/);
  const del = dbRun(dir, 'DELETE FROM audit_entries WHERE id = 3');
  assert.match(del.stderr, /removed only by retention/);
  await server.stop();
  // someone with the file drops the triggers and edits a row
  const id = Number(sql("SELECT id FROM audit_entries WHERE action = 'contact.update' LIMIT 1"));
  sql(BACKEND === 'postgres'
    ? 'DROP TRIGGER audit_entries_no_update ON audit_entries; DROP TRIGGER audit_entries_no_delete ON audit_entries;'
    : 'DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete;');
  const before = sql(`SELECT actor FROM audit_entries WHERE id = ${id}`);
  sql(`UPDATE audit_entries SET actor = 'someone-else' WHERE id = ${id}`);
  let r = cli(['audit', 'verify', '--json'], { dataDir: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  let rep = JSON.parse(r.stdout);
  assert.equal(rep.ok, false);
  assert.equal(rep.bad_id, id);
  assert.match(rep.problem, /does not match its hash/);
  // put it back: whole again; then remove a row in the middle
  sql(`UPDATE audit_entries SET actor = '${before}' WHERE id = ${id}`);
  assert.equal(cli(['audit', 'verify'], { dataDir: dir }).status, 0);
  sql(`DELETE FROM audit_entries WHERE id = ${id}`);
  r = cli(['audit', 'verify', '--json'], { dataDir: dir });
  assert.equal(r.status, 1);
  rep = JSON.parse(r.stdout);
  assert.equal(rep.bad_id, id + 1);
  assert.match(rep.problem, new RegExp(`entries ${id} to ${id} are missing`));
  const text = cli(['audit', 'verify'], { dataDir: dir });
  assert.match(text.stdout, /BROKEN at entry/);
  server = await startServer(dir);
});

test('access keys: expiry takes effect the moment it passes, cached or not; last use is shown', async () => {
  const at = new Date(Date.now() + 2500).toISOString();
  const made = await api(server, 'POST', '/v1/keys', { key: admin, json: { role: 'readonly', expires_at: at } });
  assertOk(made, 201);
  assert.equal(made.json.key.expires_at.slice(0, 19), at.slice(0, 19));
  const k = { access_key_id: made.json.key.id, access_key_secret: made.json.secret };
  assertOk(await api(server, 'GET', '/v1/contacts', { key: k }), 200); // cached from now on
  const listed = (await api(server, 'GET', '/v1/keys', { key: admin })).json.keys.find((x) => x.id === k.access_key_id);
  assert.equal(listed.expired, false);
  assert.ok(listed.last_used_at, 'the key has a last use');
  await waitFor(async () => (await api(server, 'GET', '/v1/contacts', { key: k })).status === 401,
    { timeoutMs: 8000, intervalMs: 200, what: 'the expired key refused' });
  const res = await api(server, 'GET', '/v1/contacts', { key: k });
  assertError(res, 401, 'Unauthorized');
  assert.match(res.json.message, /expired/);
  const after = (await api(server, 'GET', '/v1/keys', { key: admin })).json.keys.find((x) => x.id === k.access_key_id);
  assert.equal(after.expired, true);
  assertError(await api(server, 'POST', '/v1/keys', { key: admin, json: { role: 'readonly', expires_at: '2001-01-01' } }), 400, 'InvalidParameter.ExpiresAt');
  assertError(await api(server, 'POST', '/v1/keys', { key: admin, json: { role: 'readonly', expires_at: 'soon' } }), 400, 'IncorrectFormat.ExpiresAt');
  const created = await audit({ action: 'access_key.create', target_id: k.access_key_id });
  assert.equal(created.items[0].changes.role.new, 'readonly');
  assert.equal(created.items[0].actor, admin.access_key_id);
});

test('failed uses of an existing access key are audited in its account: wrong secret, bad signature, disabled; a flood is one entry a minute', async () => {
  const wrong = createKey(dir, admin.account_id, 'readonly');
  const mark = (await audit({ action: 'access_key.auth_failed' })).total;
  const bad = { access_key_id: wrong.access_key_id, access_key_secret: 'x'.repeat(wrong.access_key_secret.length) };
  const first = await api(server, 'GET', '/v1/contacts', { key: bad });
  assert.equal(first.status, 401, show(first));
  for (let i = 0; i < 5; i++) assert.equal((await api(server, 'GET', '/v1/contacts', { key: bad })).status, 401);
  // a key id that does not exist belongs to no account: nothing to audit
  assert.equal((await api(server, 'GET', '/v1/contacts', { key: { access_key_id: 'CCnosuchkey0000000000000', access_key_secret: 'x' } })).status, 401);
  let log = await audit({ action: 'access_key.auth_failed', target_id: wrong.access_key_id });
  assert.equal(log.items.length, 1, `a flood writes one entry a minute: ${JSON.stringify(log.items)}`);
  const e = log.items[0];
  assert.equal(e.actor, wrong.access_key_id);
  assert.equal(e.source, '127.0.0.1');
  assert.equal(e.request_id, first.headers.get('x-request-id'));
  assert.equal(e.changes.reason.new, 'wrong secret or signature');
  assert.equal(e.changes.failures.new, 1);
  assert.ok(!JSON.stringify(e).includes('xxxxxxxx'), 'the secret tried is not kept');

  // the Alibaba API's signature check is the same check
  const signer = createKey(dir, admin.account_id, 'readonly');
  await assert.rejects(callAction(casClient(server, signer, { secret: 'not-the-secret' }), 'ListContact', {}),
    (err) => err.code === 'SignatureDoesNotMatch' || (console.error(err), false));
  log = await audit({ action: 'access_key.auth_failed', target_id: signer.access_key_id });
  assert.equal(log.items.length, 1);
  assert.equal(log.items[0].changes.reason.new, 'wrong secret or signature');

  // a disabled key used with its right secret
  const off = createKey(dir, admin.account_id, 'readonly');
  disableKey(dir, admin.account_id, off.access_key_id);
  assert.equal((await api(server, 'GET', '/v1/contacts', { key: off })).status, 401);
  log = await audit({ action: 'access_key.auth_failed', target_id: off.access_key_id });
  assert.equal(log.items[0].changes.reason.new, 'disabled key');
  assert.equal((await audit({ action: 'access_key.auth_failed' })).total, mark + 3);
});
