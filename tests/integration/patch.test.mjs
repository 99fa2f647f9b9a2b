// patch.test.mjs — PATCH /v1/contacts/{id}: partial updates, versions and
// ETags, If-Match conflicts (also under concurrency), status resets when the
// email or mobile changes, and the webhook secret rules.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, show,
  createContact, getContact, unique, uniqueMobile, hasKeyDeep, stopAllAfter, maskedHook,
  dbQuery, BACKEND,
} from './lib/harness.mjs';

let dir, server, admin;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

const D1 = 'https://oapi.dingtalk.com/robot/send?access_token=patchone111';
const D2 = 'https://oapi.dingtalk.com/robot/send?access_token=patchtwo222';
const F1 = 'https://open.feishu.cn/open-apis/bot/v2/hook/patch-feishu-1';

const patch = (id, json, headers = {}) => api(server, 'PATCH', `/v1/contacts/${id}`, { key: admin, json, headers });

// answers show robots' URLs masked: map each back to the URL of this file it masks
const unmask = (u) => [D1, D2, F1].find((k) => maskedHook(k) === u) ?? u;

function hooks(c) {
  return c.webhooks.map((w) => [unmask(w.url), w.has_secret]);
}

test('PATCH changes only the fields sent and bumps the version by one', async () => {
  const { contact: c } = await createContact(server, admin, {
    id_card: '11010519491231002X',
    language: 'zh-CN',
    webhooks: [{ url: D1, secret: 'SECkeep' }],
  });
  const res = await patch(c.id, { name: 'Renamed' });
  const p = assertOk(res, 200);
  assert.equal(p.name, 'Renamed');
  assert.equal(p.version, c.version + 1);
  assert.equal(res.headers.get('etag'), `"${p.version}"`);
  for (const f of ['id', 'email', 'mobile', 'email_status', 'mobile_status', 'id_card', 'language', 'webhooks', 'created_at']) {
    assert.deepEqual(p[f], c[f], `field ${f} changed by a PATCH of name`);
  }
  assert.ok(Date.parse(p.updated_at) >= Date.parse(c.updated_at));

  const g = await getContact(server, admin, c.id);
  assert.deepEqual(assertOk(g, 200), p, 'GET after PATCH differs from the PATCH response');
  assert.equal(g.headers.get('etag'), `"${p.version}"`);

  const p2 = assertOk(await patch(c.id, { language: 'en' }), 200);
  assert.equal(p2.language, 'en');
  assert.equal(p2.name, 'Renamed');
  assert.equal(p2.version, c.version + 2);
});

test('PATCH of several fields at once, with normalisation', async () => {
  const { contact: c } = await createContact(server, admin);
  const email = `${unique('multi')}@example.com`;
  const mobile = uniqueMobile('188');
  const national = mobile.slice(3);
  const p = assertOk(
    await patch(c.id, {
      email,
      mobile: `+86 ${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`,
      id_card: '11010519491231002x',
      name: '新名字',
    }),
    200,
  );
  assert.equal(p.email, email);
  assert.equal(p.mobile, mobile);
  assert.equal(p.id_card, '1****************X');
  assert.equal(p.name, '新名字');
  assert.equal(p.version, c.version + 1);
});

test('If-Match: a stale version → 409 UpdateConflict and nothing changes; the current one (quoted or bare) → 200', async () => {
  const { contact: c } = await createContact(server, admin);
  const v = c.version;
  const stale = await patch(c.id, { name: 'stale' }, { 'if-match': `"${v + 1}"` });
  assertError(stale, 409, 'UpdateConflict');
  const g = assertOk(await getContact(server, admin, c.id), 200);
  assert.equal(g.version, v);
  assert.equal(g.name, c.name);

  const ok1 = assertOk(await patch(c.id, { name: 'quoted' }, { 'if-match': `"${v}"` }), 200);
  assert.equal(ok1.version, v + 1);
  // a bare stale version
  assertError(await patch(c.id, { name: 'stale' }, { 'if-match': String(v) }), 409, 'UpdateConflict');
  const ok2 = assertOk(await patch(c.id, { name: 'bare' }, { 'if-match': String(v + 1) }), 200);
  assert.equal(ok2.version, v + 2);
  // the version that was current a moment ago is now stale
  assertError(await patch(c.id, { name: 'late' }, { 'if-match': `"${v + 1}"` }), 409, 'UpdateConflict');
  assert.equal(assertOk(await getContact(server, admin, c.id), 200).name, 'bare');
});

test('10 concurrent PATCHes with the same If-Match: exactly one wins', async () => {
  const { contact: c } = await createContact(server, admin);
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) => patch(c.id, { name: `writer ${i}` }, { 'if-match': `"${c.version}"` })),
  );
  const won = results.filter((r) => r.status === 200);
  assert.equal(won.length, 1, results.map(show).join('\n---\n'));
  for (const r of results.filter((x) => x.status !== 200)) assertError(r, 409, 'UpdateConflict');
  const g = assertOk(await getContact(server, admin, c.id), 200);
  assert.equal(g.version, c.version + 1);
  assert.equal(g.name, won[0].json.name);
});

test('10 concurrent PATCHes without If-Match all apply: the version rises by 10', async () => {
  const { contact: c } = await createContact(server, admin);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => patch(c.id, { name: `n${i}` })));
  for (const r of results) assertOk(r, 200);
  const versions = results.map((r) => r.json.version).sort((x, y) => x - y);
  assert.deepEqual(versions, Array.from({ length: 10 }, (_, i) => c.version + 1 + i));
  assert.equal(assertOk(await getContact(server, admin, c.id), 200).version, c.version + 10);
});

test('"email": null removes the email, and frees it for another contact', async () => {
  const { contact: c, body } = await createContact(server, admin);
  const p = assertOk(await patch(c.id, { email: null }), 200);
  assert.equal(p.email, null);
  assert.equal(p.email_status, 0);
  assert.equal(p.version, c.version + 1);
  assert.equal(assertOk(await getContact(server, admin, c.id), 200).email, null);
  await createContact(server, admin, { email: body.email });
});

test('"id_card": null removes the ID card', async () => {
  const { contact: c } = await createContact(server, admin, { id_card: '11010519491231002X' });
  assert.equal(c.id_card, '1****************X');
  assert.equal(assertOk(await patch(c.id, { id_card: null }), 200).id_card, null);
});

test('invalid PATCHes are rejected and change nothing', async () => {
  const { contact: other } = await createContact(server, admin);
  const { contact: c } = await createContact(server, admin, { webhooks: [{ url: D1, secret: 'SECx' }] });
  const cases = [
    [{ email: 'not-an-email' }, 400, 'IncorrectFormat.Email'],
    [{ mobile: '12' }, 400, 'IncorrectFormat.Mobile'],
    [{ id_card: '110105194912310021' }, 400, 'IncorrectFormat.IdCard'],
    [{ language: 'de' }, 400, 'IncorrectFormat.Language'],
    [{ name: 'x'.repeat(65) }, 400, 'IncorrectFormat.Name'],
    [{ name: null }, 400, /^(MissingParameter|IncorrectFormat)\.Name$/],
    [{ name: '' }, 400, /^(MissingParameter|IncorrectFormat)\.Name$/],
    [{ mobile: null }, 400, /^(MissingParameter|IncorrectFormat)\.Mobile$/],
    [{ webhooks: [{ url: 'http://oapi.dingtalk.com/robot/send?access_token=x' }] }, 400, 'IncorrectFormat.Webhooks'],
    [{ webhooks: [{ url: D1, secret: 'nope' }] }, 400, 'IncorrectFormat.Webhooks'],
    [{ webhooks: [1, 2, 3, 4, 5, 6].map((i) => ({ url: `${D1}${i}` })) }, 400, 'LimitExceeded.Webhooks'],
    [{ colour: 'red' }, 400, 'InvalidParameter.UnknownField'],
    [{ id: 999 }, 400, 'InvalidParameter.UnknownField'],
    [{ version: 99 }, 400, 'InvalidParameter.UnknownField'],
    [{ email_status: 1 }, 400, 'InvalidParameter.UnknownField'],
    [{ email: other.email.toUpperCase() }, 409, 'AlreadyExists.Email'],
    [{ mobile: other.mobile.slice(3) }, 409, 'AlreadyExists.Mobile'],
  ];
  for (const [json, status, code] of cases) {
    const res = await patch(c.id, json);
    assertError(res, status, code);
  }
  for (const [bodyText, code] of [['[]', 'MalformedJSON'], ['{', 'MalformedJSON'], ['"x"', 'MalformedJSON']]) {
    const res = await api(server, 'PATCH', `/v1/contacts/${c.id}`, {
      key: admin,
      body: bodyText,
      headers: { 'content-type': 'application/json' },
    });
    assertError(res, 400, code);
  }
  const res = await api(server, 'PATCH', `/v1/contacts/${c.id}`, {
    key: admin,
    body: JSON.stringify({ name: 'typed' }),
    headers: { 'content-type': 'text/plain' },
  });
  assertError(res, 415, 'UnsupportedMediaType');

  const g = assertOk(await getContact(server, admin, c.id), 200);
  assert.deepEqual(g, c, 'a rejected PATCH changed the contact');
});

test('changing the email or mobile leaves it unverified (status 0)', async () => {
  const { contact: c } = await createContact(server, admin);
  const p = assertOk(await patch(c.id, { email: `${unique('chg')}@example.com` }), 200);
  assert.equal(p.email_status, 0);
  const q = assertOk(await patch(c.id, { mobile: uniqueMobile('189') }), 200);
  assert.equal(q.mobile_status, 0);
});

// The verified state is set in the database, with the server stopped so
// that nothing runs behind its back: stop, write the file, start a new
// server on the same directory (every helper here reads `server` afresh).
// Anything unexpected — no database file, another schema, an UPDATE that
// touches no row, a status that does not show — fails the test.
function findDb() {
  if (BACKEND !== 'sqlite') return dir; // the data dir's own PostgreSQL database
  const dbs = fs.readdirSync(dir).filter((f) => /\.(db|sqlite|sqlite3)$/.test(f));
  assert.equal(dbs.length, 1, `expected one database file in ${dir}, found ${JSON.stringify(dbs)}`);
  return path.join(dir, dbs[0]);
}
function sqlite(db, sql) {
  assert.ok(BACKEND !== 'sqlite' || db === path.join(dir, 'certcontacts.db'), `unexpected database file ${db}`);
  return dbQuery(dir, sql);
}
async function markVerified(id) {
  const db = findDb();
  const cols = sqlite(db, BACKEND === 'sqlite' ? "SELECT name FROM pragma_table_info('contacts');"
    : "SELECT column_name FROM information_schema.columns WHERE table_name = 'contacts';").split('\n');
  for (const col of ['email_verified_at', 'mobile_verified_at']) {
    assert.ok(cols.includes(col), `contacts has no ${col}: ${cols.join(' ')}`);
  }
  await server.stop();
  const now = Date.now();
  const changed = sqlite(db, `UPDATE contacts SET email_verified_at = ${now}, mobile_verified_at = ${now} ` +
    `WHERE id = ${Number(id)} RETURNING id;`);
  server = await startServer(dir);
  assert.equal(changed.trim(), String(Number(id)), `the UPDATE of contact ${id} changed ${changed.trim()} rows`);
  const v = assertOk(await getContact(server, admin, id), 200);
  assert.equal(v.email_status, 1, `email_verified_at set in the database does not show: ${JSON.stringify(v)}`);
  assert.equal(v.mobile_status, 1, `mobile_verified_at set in the database does not show: ${JSON.stringify(v)}`);
}

test('changing the email or mobile resets a verified status to 0; other changes keep it', async () => {
  const { contact: c } = await createContact(server, admin);
  await markVerified(c.id);
  const n = assertOk(await patch(c.id, { name: 'Still verified', language: 'zh-CN' }), 200);
  assert.equal(n.email_status, 1, 'a name change reset the email status');
  assert.equal(n.mobile_status, 1, 'a name change reset the mobile status');

  const e = assertOk(await patch(c.id, { email: `${unique('re')}@example.com` }), 200);
  assert.equal(e.email_status, 0, 'email changed but email_status stayed 1');
  assert.equal(e.mobile_status, 1, 'email changed and mobile_status was reset too');

  await markVerified(c.id);
  const m = assertOk(await patch(c.id, { mobile: uniqueMobile('199') }), 200);
  assert.equal(m.mobile_status, 0, 'mobile changed but mobile_status stayed 1');
  assert.equal(m.email_status, 1, 'mobile changed and email_status was reset too');
});

test('webhooks: a URL that stays keeps its secret; "secret": null removes it; a new secret replaces it', async () => {
  const { contact: c } = await createContact(server, admin, {
    webhooks: [{ url: D1, secret: 'SECone' }, { url: F1, secret: 'feishu-one' }],
  });
  assert.deepEqual(hooks(c), [[D1, true], [F1, true]]);

  let p = assertOk(await patch(c.id, { webhooks: [{ url: D1 }, { url: F1 }] }), 200);
  assert.deepEqual(hooks(p), [[D1, true], [F1, true]], 'resending the URLs dropped their secrets');

  p = assertOk(await patch(c.id, { webhooks: [{ url: F1 }, { url: D1 }] }), 200);
  assert.deepEqual(hooks(p), [[F1, true], [D1, true]], 'reordering dropped the secrets (or the order)');

  p = assertOk(await patch(c.id, { webhooks: [{ url: D1, secret: null }, { url: F1 }] }), 200);
  assert.deepEqual(hooks(p), [[D1, false], [F1, true]], '"secret": null did not remove the secret');

  p = assertOk(await patch(c.id, { name: 'untouched hooks' }), 200);
  assert.deepEqual(hooks(p), [[D1, false], [F1, true]], 'a PATCH without webhooks changed them');

  p = assertOk(await patch(c.id, { webhooks: [{ url: D1, secret: 'SECtwo' }] }), 200);
  assert.deepEqual(hooks(p), [[D1, true]], 'a new secret was not stored, or F1 was not removed');

  p = assertOk(await patch(c.id, { webhooks: [{ url: D2 }] }), 200);
  assert.deepEqual(hooks(p), [[D2, false]]);
  assert.equal(p.webhooks[0].kind, 'dingtalk');

  p = assertOk(await patch(c.id, { webhooks: [{ url: D1 }, { url: F1 }] }), 200);
  assert.deepEqual(hooks(p), [[D1, false], [F1, false]], 'secrets of removed webhooks came back');

  assert.equal(hasKeyDeep(p, 'secret'), false, 'a PATCH response carries a secret field');
  p = assertOk(await patch(c.id, { webhooks: [] }), 200);
  assert.deepEqual(p.webhooks, []);
  assert.deepEqual(assertOk(await getContact(server, admin, c.id), 200).webhooks, []);
});

test('a webhook kept across PATCHes keeps the secret also in a GET', async () => {
  const { contact: c } = await createContact(server, admin, { webhooks: [{ url: D2, secret: 'SECget' }] });
  assertOk(await patch(c.id, { webhooks: [{ url: D2 }, { url: F1, secret: 'f' }] }), 200);
  const g = assertOk(await getContact(server, admin, c.id), 200);
  assert.deepEqual(hooks(g), [[D2, true], [F1, true]]);
  assert.equal(g.webhooks[1].kind, 'feishu');
});

test('a webhook whose URL stays keeps its id; a new URL gets a new id; a removed one is gone', async () => {
  const A = 'https://oapi.dingtalk.com/robot/send?access_token=stableA';
  const B = 'https://open.feishu.cn/open-apis/bot/v2/hook/stable-b';
  const C = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=stable-c';
  const { contact } = await createContact(server, admin, {
    webhooks: [{ url: A, secret: 'SECa' }, { url: B }],
  });
  const [a1, b1] = contact.webhooks;
  assert.ok(Number.isInteger(a1.id) && Number.isInteger(b1.id) && a1.id !== b1.id, JSON.stringify(contact.webhooks));
  const res = await api(server, 'PATCH', `/v1/contacts/${contact.id}`, {
    key: admin, json: { webhooks: [{ url: C }, { url: A }] },
  });
  const after = assertOk(res, 200);
  const byUrl = Object.fromEntries(after.webhooks.map((w) => [[A, B, C].find((k) => maskedHook(k) === w.url), w]));
  assert.equal(byUrl[A].id, a1.id, 'the kept URL changed id');
  assert.equal(byUrl[A].has_secret, true);
  assert.ok(byUrl[C].id !== a1.id && byUrl[C].id !== b1.id, 'the new URL reused an id');
  assert.equal(byUrl[B], undefined);
  assert.deepEqual(after.webhooks.map((w) => w.url), [C, A].map(maskedHook), 'order follows the request');
  const again = assertOk(await getContact(server, admin, contact.id), 200);
  assert.deepEqual(again.webhooks, after.webhooks);
});

test('a robot sent back as answers show it (masked) stays as it is: its URL, id, secret and health', async () => {
  const A = 'https://oapi.dingtalk.com/robot/send?access_token=maskedkeepA0123456789';
  const B = 'https://open.feishu.cn/open-apis/bot/v2/hook/masked-keep-b-0123';
  const { contact } = await createContact(server, admin, { webhooks: [{ url: A, secret: 'SECmasked' }, { url: B }] });
  const [a, b] = contact.webhooks;
  assert.equal(a.url, maskedHook(A));
  // the console sends back what it read, and adds a robot
  const C = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=masked-keep-c-0123';
  const after = assertOk(await patch(contact.id, { name: 'Kept', webhooks: [{ url: a.url }, { url: C }] }), 200);
  assert.equal(after.webhooks[0].id, a.id);
  assert.equal(after.webhooks[0].has_secret, true);
  assert.equal(after.webhooks[0].url, maskedHook(A));
  assert.equal(after.webhooks[1].url, maskedHook(C));
  assert.ok(!after.webhooks.some((w) => w.id === b.id));
  // a mask the contact does not have, a mask twice, or a mask for a new contact are refused
  assertError(await patch(contact.id, { webhooks: [{ url: maskedHook('https://oapi.dingtalk.com/robot/send?access_token=otherrobot0123456') }] }), 400, 'IncorrectFormat.Webhooks');
  assertError(await patch(contact.id, { webhooks: [{ url: a.url }, { url: a.url }] }), 400, 'IncorrectFormat.Webhooks');
  assertError(await patch(contact.id, { webhooks: [{ url: a.url }, { url: A }] }), 400, 'IncorrectFormat.Webhooks');
  assertError(await api(server, 'POST', '/v1/contacts', {
    key: admin, json: { name: 'New', mobile: uniqueMobile(), webhooks: [{ url: a.url }] },
  }), 400, 'IncorrectFormat.Webhooks');
  // nothing changed by the refusals
  const again = assertOk(await getContact(server, admin, contact.id), 200);
  assert.deepEqual(again.webhooks, after.webhooks);
});
