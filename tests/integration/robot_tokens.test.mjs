// robot_tokens.test.mjs — a robot's webhook URL holds its access token: it
// is stored encrypted (no token in the database file), masked in every
// answer of every role and API (…access_token=abcd****wxyz), revealed only
// by an admin's explicit call that is audited, and still used in full by the
// sender. A database from before, with URLs in clear, is sealed as the
// server starts.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError, createContact,
  getContact, unique, stopAllAfter, maskedHook, postExpiringEvent, eventSettled,
  dbQuery, dbDump, BACKEND,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';
import { casClient, callAction } from './lib/alibaba.mjs';

let dir, server, robots, admin, operator, readonly, env;
stopAllAfter(() => [server, robots], () => dir);

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  env = { ...robots.env() };
  server = await startServer(dir, { env });
});

/** sql on the test's database. PostgreSQL's VACUUM runs in no transaction and
 * its dump (below) holds only live rows: there it is left out. */
function sqlite(sql) {
  return dbQuery(dir, BACKEND === 'sqlite' ? sql : sql.replace(/\s*VACUUM;/g, '')).trim();
}

/** Every byte of the database's files (the database, its WAL) as latin1 text; on PostgreSQL, its dump. */
function databaseBytes() {
  if (BACKEND !== 'sqlite') return dbDump(dir);
  return fs.readdirSync(dir).filter((f) => f.startsWith('certcontacts.db'))
    .map((f) => fs.readFileSync(path.join(dir, f)).toString('latin1')).join('\n');
}

async function restart() {
  await server.stop();
  server = await startServer(dir, { env });
}

test('a robot token is masked for every role and API, revealed only to an admin, audited', async () => {
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const url = dingtalkWebhookUrl(ding);
  const token = new URL(url).searchParams.get('access_token');
  assert.ok(token.length > 8);
  const { contact, res } = await createContact(server, admin, { name: unique('Tok'), webhooks: [{ url }] });
  assert.ok(!res.text.includes(token), 'the create answer shows the token');
  assert.equal(contact.webhooks[0].url, maskedHook(url));
  for (const key of [admin, operator, readonly]) {
    const r = await getContact(server, key, contact.id);
    assert.equal(assertOk(r, 200).webhooks[0].url, maskedHook(url));
    assert.ok(!r.text.includes(token));
    const l = await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(contact.name)}`, { key });
    assert.ok(!l.text.includes(token));
    const got = await callAction(casClient(server, key), 'GetContact', { ContactId: contact.id });
    assert.ok(!JSON.stringify(got).includes(token), 'Alibaba GetContact shows the token');
  }
  const reveal = (key, json) => api(server, 'POST', `/v1/contacts/${contact.id}/webhooks/reveal`, { key, json });
  const hook = contact.webhooks[0].id;
  assertError(await reveal(operator, { webhook_id: hook }), 403, 'Forbidden');
  assertError(await reveal(readonly, { webhook_id: hook }), 403, 'Forbidden');
  const before = Number(sqlite(`SELECT count(*) FROM audit_log WHERE action = 'contact.webhook.reveal'`));
  const shown = assertOk(await reveal(admin, { webhook_id: hook }), 200);
  assert.deepEqual(shown, { webhook_id: hook, url });
  assert.equal(Number(sqlite(`SELECT count(*) FROM audit_log WHERE action = 'contact.webhook.reveal' AND object_id = '${contact.id}'`)), before + 1);
  assert.ok(!sqlite(`SELECT ${BACKEND === 'sqlite' ? 'group_concat' : 'string_agg'}(coalesce(detail, ''), ' ') FROM audit_log`).includes(token), 'the audit entry holds the token');
  assertError(await reveal(admin, { webhook_id: hook + 1000 }), 404, 'NotFound');
  assertError(await reveal(admin, {}), 400, 'MissingParameter.WebhookId');
  assertError(await reveal(admin, { webhook_id: 'x' }), 400, 'IncorrectFormat.WebhookId');
  const other = createAccount(dir);
  assertError(await api(server, 'POST', `/v1/contacts/${contact.id}/webhooks/reveal`, { key: other, json: { webhook_id: hook } }), 404, 'NotFound');
  // the sender still uses the whole URL
  const ev = await postExpiringEvent(server, admin, [contact.id]);
  const settled = await eventSettled(server, admin, ev.id);
  assert.equal(settled.notifications[0].status, 'delivered', JSON.stringify(settled));
  assert.ok(!JSON.stringify(settled).includes(token));
  // and the database files hold no token
  await restart();
  assert.ok(!databaseBytes().includes(token), 'the database holds the robot token in clear');
});

test('a database from before, with robot URLs in clear, is sealed as the server starts', async () => {
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const url = dingtalkWebhookUrl(ding);
  const token = new URL(url).searchParams.get('access_token');
  const { contact } = await createContact(server, admin, { webhooks: [{ url }] });
  await server.stop();
  // as an older certcontacts kept it
  sqlite(`DELETE FROM contact_webhook_urls WHERE webhook_id = ${contact.webhooks[0].id}; UPDATE contact_webhooks SET url = '${url}' WHERE id = ${contact.webhooks[0].id}; VACUUM;`);
  assert.ok(databaseBytes().includes(token));
  server = await startServer(dir, { env });
  const c = assertOk(await getContact(server, admin, contact.id), 200);
  assert.equal(c.webhooks[0].url, maskedHook(url));
  assert.equal(c.webhooks[0].id, contact.webhooks[0].id);
  const ev = await postExpiringEvent(server, admin, [contact.id]);
  assert.equal((await eventSettled(server, admin, ev.id)).notifications[0].status, 'delivered');
  await server.stop();
  sqlite('VACUUM;');
  assert.ok(!databaseBytes().includes(token), 'the token is still in clear after the start');
  server = await startServer(dir, { env });
});
