// key_rotation.test.mjs — `certcontacts key rotate-master` beside a running
// server: every sealed value (access key secrets, ID numbers, robot signing
// secrets, certificate private keys) is re-sealed under a new master key.
// The rotation is killed half-way (the CERTCONTACTS_ROTATE_KILL_AFTER drill
// makes it SIGKILL itself after N values, as kill -9 would); meanwhile the
// server opens values under either key and seals new ones under the new key;
// run again, the rotation finishes, and every value is read back by
// decrypting the database with the final key file alone.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import {
  makeDataDir, removeDir, createAccount, createKey, startServer, api, assertOk, cli, cliJson,
  createContact, idCard, unique, waitFor, dbQuery, sqlHex,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';
import { Pki } from './lib/pki.mjs';

let dir;
let server;
let robots;
let pki;

after(async () => {
  try {
    await server?.stop();
  } finally {
    await robots?.stop();
    pki?.remove();
    removeDir(dir);
  }
});

/** sql on the test's database (db: the SQLite file's path, kept for the reader; dbQuery finds it by dir). */
function sqlite(db, sql) {
  return dbQuery(dir, sql).trim();
}

const readKey = (file) => Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
/** The key's tag, as each sealed value names it: HMAC-SHA256(key, label)[0..8]. */
const keyTag = (key) => crypto.createHmac('sha256', key).update('certcontacts master key id').digest().subarray(0, 8);
const keyId = (key) => crypto.createHmac('sha256', key).update('certcontacts master key id').digest().subarray(0, 16).toString('hex');

const COLUMNS = [
  { table: 'access_keys', key: 'id', col: 'secret_enc', aad: 'access_key.secret' },
  { table: 'contacts', key: 'id', col: 'id_card_enc', aad: 'contact.id_card' },
  { table: 'contact_webhooks', key: 'id', col: 'secret_enc', aad: 'contact.webhook.secret' },
  { table: 'certificates', key: 'id', col: 'private_key_enc', aad: 'certificate.private_key' },
  { table: 'contact_webhook_urls', key: 'webhook_id', col: 'url_enc', aad: 'contact.webhook.url' },
];

/** Every sealed value in the database: {table, aad, row, blob}. */
function sealedValues(db) {
  const out = [];
  for (const c of COLUMNS) {
    const rows = sqlite(db, `SELECT ${c.key} || '|' || ${sqlHex(c.col)} FROM ${c.table} WHERE ${c.col} IS NOT NULL`);
    for (const line of rows.split('\n').filter(Boolean)) {
      const [row, hex] = line.split('|');
      out.push({ table: c.table, aad: c.aad, row, blob: Buffer.from(hex, 'hex') });
    }
  }
  return out;
}

/** Opens a value sealed in the version that names its key (2 | tag | nonce | ct | tag). */
function open(key, v) {
  assert.equal(v.blob[0], 2, `${v.table} ${v.row} is not a value that names its key`);
  const d = crypto.createDecipheriv('aes-256-gcm', key, v.blob.subarray(9, 21));
  d.setAAD(Buffer.concat([v.blob.subarray(0, 9), Buffer.from(v.aad)]));
  d.setAuthTag(v.blob.subarray(v.blob.length - 16));
  return Buffer.concat([d.update(v.blob.subarray(21, v.blob.length - 16)), d.final()]).toString('utf8');
}

/** A robot URL's keyed hash, as contact_webhooks.url holds it. */
const urlTag = (key, url) => `h1:${crypto.createHmac('sha256', key).update(`webhook-url\n${url}`).digest('hex')}`;

/** Every robot's stored hash is its URL's under key. */
function assertTagsUnder(db, key, plain) {
  for (const line of sqlite(db, 'SELECT id, url FROM contact_webhooks').split('\n').filter(Boolean)) {
    const [id, tag] = line.split('|');
    assert.equal(tag, urlTag(key, plain.get(`contact_webhook_urls|${id}`)), `robot ${id}'s hash is not under the key`);
  }
}

/** Sends the contact's robot again in full, without its secret: it must stay
 * the same robot (row, secret) whatever key its hash was made under. */
async function resendRobot(server, key, contact, url) {
  const before = assertOk(await api(server, 'GET', `/v1/contacts/${contact.id}`, { key }), 200).webhooks[0];
  const after = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key, json: { webhooks: [{ url }] } }), 200).webhooks[0];
  assert.equal(after.id, before.id, 'the robot became a new one');
  assert.equal(after.has_secret, true, 'the robot lost its signing secret');
}

const under = (values, key) => values.filter((v) => v.blob[0] === 2 && v.blob.subarray(1, 9).equals(keyTag(key)));

test('key rotate-master, killed half-way beside a running server, resumes and loses no secret', async () => {
  dir = makeDataDir('cc-rotate-');
  const db = path.join(dir, 'certcontacts.db');
  const master = path.join(dir, 'master.key');
  robots = await startRobots();
  pki = new Pki();
  const admin = createAccount(dir);
  const keys = [admin];
  for (let i = 0; i < 4; i++) keys.push(createKey(dir, admin.account_id, 'readonly'));
  server = await startServer(dir, { env: { ...robots.env(), CERTCONTACTS_RETRY_SCHEDULE: '1,1,1' } });

  // What is sealed, and what each value must read back as.
  const plain = new Map(); // `${table}|${row}` → plaintext
  for (const k of keys) plain.set(`access_keys|${k.access_key_id}`, k.access_key_secret);
  const contacts = [];
  const robotIds = [];
  for (let i = 0; i < 10; i++) {
    const robot = robots.register('dingtalk', null, { secret: `SECrotation000${i}` });
    robotIds.push(robot);
    const id = idCard(`11010519900101${100 + i}`);
    const { contact } = await createContact(server, admin, {
      name: unique('rot'),
      id_card: id,
      webhooks: [{ url: dingtalkWebhookUrl(robot), secret: `SECrotation000${i}` }],
    });
    contacts.push(contact);
    plain.set(`contacts|${contact.id}`, id);
    const w = sqlite(db, `SELECT id FROM contact_webhooks WHERE contact_id = ${contact.id}`);
    plain.set(`contact_webhooks|${w}`, `SECrotation000${i}`);
    plain.set(`contact_webhook_urls|${w}`, dingtalkWebhookUrl(robot));
  }
  const leaf = pki.leaf([`${unique('r')}.example.com`], { key: 'rsa' });
  const cert = assertOk(await api(server, 'POST', '/v1/certificates', { key: admin, json: { pem: leaf.chain, private_key: leaf.key } }), 201);
  plain.set(`certificates|${cert.id}`, leaf.key);

  const oldKey = readKey(master);
  const before = sealedValues(db);
  assert.equal(before.length, plain.size, 'every secret made above is sealed in the database');
  assert.equal(under(before, oldKey).length, before.length);

  // Killed half-way: 7 values re-sealed, then SIGKILL.
  const killed = cli(['key', 'rotate-master'], { dataDir: dir, env: { CERTCONTACTS_ROTATE_KILL_AFTER: '7' } });
  assert.equal(killed.signal, 'SIGKILL', `the drill did not kill the rotation: ${killed.status} ${killed.stderr}`);
  assert.deepEqual(readKey(master), oldKey, 'master.key changed before the rotation finished');
  const newKey = readKey(`${master}.new`);
  assert.equal(fs.statSync(`${master}.new`).mode & 0o777, 0o600);
  assert.notDeepEqual(newKey, oldKey);
  const half = sealedValues(db);
  assert.equal(half.length, plain.size, 'a value was lost');
  assert.equal(under(half, newKey).length, 7, 'the new key seals exactly the 7 values committed before the kill');
  assert.equal(under(half, oldKey).length, plain.size - 7);
  assert.equal(sqlite(db, "SELECT value FROM meta WHERE name = 'master_key_next_id'"), keyId(newKey));

  // The running server opens values under either key: every access key signs in
  // (the key cache is refilled, as the re-sealed rows moved the generation)...
  for (const k of keys) assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: k }), 200);
  // ...robots' secrets sign messages...
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key: admin,
    json: { type: 'certificate.expiring', contact_ids: contacts.map((c) => c.id), data: { domains: ['www.example.com'], days_left: 30, not_after: '2027-01-31', brand: 'DigiCert', type: 'OV' } },
  }), 201);
  assert.ok(ev.id);
  // (each robot checks its own secret's signature)
  for (const r of robotIds) await robots.waitFor('dingtalk', r, 1, { timeoutMs: 20000 });
  // ...the certificate's private key reads back...
  assert.equal(assertOk(await api(server, 'POST', `/v1/certificates/${cert.id}/private-key`, { key: admin, json: {} }), 200).private_key, leaf.key);
  // ...and what it seals now is sealed under the new key.
  const lateId = idCard('11010519850615123');
  const { contact: late } = await createContact(server, admin, { name: unique('late'), id_card: lateId });
  plain.set(`contacts|${late.id}`, lateId);
  const lateValue = sealedValues(db).find((v) => v.table === 'contacts' && v.row === String(late.id));
  assert.equal(open(newKey, lateValue), lateId);
  const lateKey = createKey(dir, admin.account_id, 'operator');
  plain.set(`access_keys|${lateKey.access_key_id}`, lateKey.access_key_secret);
  keys.push(lateKey);

  // A robot not re-sealed yet (its hash under the old key), sent again in
  // full while the server seals under the new key, stays the same robot.
  assert.equal(under(half, newKey).filter((v) => v.table === 'contact_webhook_urls').length, 0);
  await resendRobot(server, admin, contacts[9], dingtalkWebhookUrl(robotIds[9]));

  // Run again: it goes on and finishes.
  const done = cliJson(['key', 'rotate-master', '--json'], { dataDir: dir, env: { CERTCONTACTS_ROTATE_SETTLE_MS: '0' } });
  assert.equal(done.resumed, true);
  assert.equal(done.old_key_id, keyId(oldKey));
  assert.equal(done.new_key_id, keyId(newKey));
  assert.equal(done.resealed, plain.size - 7 - 2, 'the resumed run re-sealed what was left (not the two values the server sealed under the new key)');
  assert.deepEqual(readKey(master), newKey, 'master.key does not hold the new key');
  assert.equal(fs.statSync(master).mode & 0o777, 0o600);
  assert.ok(!fs.existsSync(`${master}.new`), 'master.key.new was left behind');
  assert.ok(!fs.existsSync(`${master}.old`), 'the old key was kept after the rotation finished');
  assert.equal(sqlite(db, "SELECT value FROM meta WHERE name = 'master_key_id'"), keyId(newKey));
  assert.equal(sqlite(db, "SELECT count(*) FROM meta WHERE name LIKE 'master_key_%_id'"), '0');

  // Every value opens with the new key file alone and is what was stored.
  const final = sealedValues(db);
  assert.equal(final.length, plain.size, 'a value was lost');
  for (const v of final) assert.equal(open(newKey, v), plain.get(`${v.table}|${v.row}`), `${v.table} ${v.row}`);
  // Each robot's hash was re-keyed with its sealed URL, and a robot sent again
  // in full is the one stored.
  assertTagsUnder(db, newKey, plain);
  await resendRobot(server, admin, contacts[0], dingtalkWebhookUrl(robotIds[0]));

  // The running server, and a restarted one, read everything.
  for (const k of keys) assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: k }), 200);
  await server.stop();
  server = await startServer(dir, { env: { ...robots.env(), CERTCONTACTS_RETRY_SCHEDULE: '1,1,1' } });
  for (const k of keys) assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: k }), 200);
  assert.equal(assertOk(await api(server, 'POST', `/v1/certificates/${cert.id}/private-key`, { key: admin, json: {} }), 200).private_key, leaf.key);
  const robot = robotIds[0];
  const mark = robots.messages('dingtalk', robot).length;
  assertOk(await api(server, 'POST', '/v1/events', {
    key: admin,
    json: { type: 'certificate.expiring', contact_ids: [contacts[0].id], data: { domains: ['www.example.com'], days_left: 30, not_after: '2027-01-31', brand: 'DigiCert', type: 'OV' } },
  }), 201);
  await waitFor(() => robots.messages('dingtalk', robot).length > mark, { timeoutMs: 20000, what: 'a signed robot message after the rotation' });

  // Nothing left to do: a second rotation starts afresh and finishes too.
  const again = cliJson(['key', 'rotate-master', '--json'], { dataDir: dir, env: { CERTCONTACTS_ROTATE_SETTLE_MS: '0' } });
  assert.equal(again.resumed, false);
  assert.equal(again.old_key_id, keyId(newKey));
  assert.equal(again.resealed, plain.size);
  const third = readKey(master);
  for (const v of sealedValues(db)) assert.equal(open(third, v), plain.get(`${v.table}|${v.row}`));
  assertTagsUnder(db, third, plain);
  for (const k of keys) assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: k }), 200);
});
