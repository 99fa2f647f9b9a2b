// personal_data.test.mjs — deleting a contact erases its personal data
// everywhere but the masked audit trail: the database, dumped after the
// delete, holds neither its email nor its mobile nor its ID number — not in
// the codes sent to them before it was saved, not in the idempotency key
// that created it, not in its delivery log. And an admin can export
// everything kept about a contact (a data subject's request), audited.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError, unique,
  uniqueMobile, stopAllAfter, sendTargetCode, idCard, waitFor, dbQuery, dbDump,
} from './lib/harness.mjs';
import { startSmtpSink } from './lib/sinks.mjs';

let dir, server, sink, admin;
stopAllAfter(() => [server, sink], () => dir);

before(async () => {
  dir = makeDataDir();
  sink = await startSmtpSink();
  admin = createAccount(dir);
  server = await startServer(dir, {
    env: {
      CERTCONTACTS_SMTP_URL: sink.url,
      CERTCONTACTS_SMTP_FROM: 'certcontacts <noreply@certcontacts.test>',
      CERTCONTACTS_SMTP_STARTTLS: 'optional',
      CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
    },
  });
});

function dump() {
  return dbDump(dir);
}

test('deleting a contact leaves none of its email, mobile or ID number in the database', async () => {
  const local = unique('erase').toLowerCase();
  const email = `${local}@Example.com`;
  const mobile = uniqueMobile('135');
  const national = mobile.slice(3);
  const id = idCard('11010519491231002');
  // a code to the email before the contact is saved, then the contact with an Idempotency-Key
  assertOk(await sendTargetCode(server, admin, 'email', email), 201);
  const created = assertOk(await api(server, 'POST', '/v1/contacts', {
    key: admin, json: { name: unique('Erase'), email, mobile, id_card: id }, headers: { 'idempotency-key': unique('idem') },
  }), 201);
  // a notification attempt the platform refuses (the email is not verified: none is sent;
  // the delivery log still has the contact's entries)
  assertOk(await api(server, 'POST', '/v1/events', { key: admin, json: { type: 'certificate.issued', contact_ids: [created.id] } }), 201);
  const before = dump();
  assert.ok(before.toLowerCase().includes(local), 'the test does not exercise the erasure');
  assert.equal((await api(server, 'DELETE', `/v1/contacts/${created.id}`, { key: admin })).status, 204);
  await waitFor(() => {
    const after = dump().toLowerCase();
    return !after.includes(local) && !after.includes(national) && !after.includes(id.toLowerCase());
  }, { what: 'no trace of the deleted contact\'s email, mobile and ID number', timeoutMs: 2000 });
  // the audit trail remains
  const audit = dump();
  assert.match(audit, /contact\.delete/);
});

test('an admin exports everything kept about a contact, in full, and the export is audited', async () => {
  const local = unique('export').toLowerCase();
  const email = `${local}@example.com`;
  const mobile = uniqueMobile('136');
  const id = idCard('11010519491231002');
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key: admin, json: { name: unique('Export'), email, mobile, id_card: id } }), 201);
  const mark = sink.mark();
  assertOk(await api(server, 'POST', `/v1/contacts/${c.id}/verifications`, { key: admin, json: { channel: 'email' } }), 201);
  await sink.waitForMail(email, { after: mark });
  for (const role of ['operator', 'readonly']) {
    const k = createKey(dir, admin.account_id, role);
    assertError(await api(server, 'GET', `/v1/contacts/${c.id}/export`, { key: k }), 403, 'Forbidden');
  }
  const auditBefore = (dump().match(/contact\.export/g) || []).length;
  const r = await api(server, 'GET', `/v1/contacts/${c.id}/export`, { key: admin });
  const x = assertOk(r, 200);
  assert.equal(x.contact.id, c.id);
  assert.equal(x.contact.email, email);
  assert.equal(x.contact.mobile, mobile);
  assert.equal(x.contact.id_card, id);
  assert.equal(x.verifications.length, 1);
  assert.equal(x.verifications[0].channel, 'email');
  assert.equal(x.verifications[0].target, email);
  assert.ok(!('code_hash' in x.verifications[0]));
  assert.ok(Array.isArray(x.notifications));
  assert.ok(Array.isArray(x.contact.certificates));
  assert.equal((dump().match(/contact\.export/g) || []).length, auditBefore + 1, 'the export is audited');
  assert.ok(!dump().includes(id), 'the ID number is kept encrypted');
  const other = createAccount(dir);
  assertError(await api(server, 'GET', `/v1/contacts/${c.id}/export`, { key: other }), 404, 'NotFound');
});

test('retention: an expired code keeps only its masked address; old codes and finished notifications are removed', async () => {
  const local = unique('retain').toLowerCase();
  const email = `${local}@example.com`;
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key: admin, json: { name: unique('Retain'), email, mobile: uniqueMobile('137') } }), 201);
  const mark = sink.mark();
  assertOk(await api(server, 'POST', `/v1/contacts/${c.id}/verifications`, { key: admin, json: { channel: 'email' } }), 201);
  await sink.waitForMail(email, { after: mark });
  const other = `${unique('zzold').toLowerCase()}@example.com`;
  assertOk(await sendTargetCode(server, admin, 'email', other), 201);
  const ev = assertOk(await api(server, 'POST', '/v1/events', { key: admin, json: { type: 'certificate.issued', contact_ids: [c.id] } }), 201);
  const db = (sql) => dbQuery(dir, sql).trim();
  await server.stop();
  const day = 86400000;
  // the contact's code two days old, the other one 40 days old; a finished notification 200 days old
  db(`UPDATE verifications SET sent_at = sent_at - ${2 * day}, expires_at = expires_at - ${2 * day} WHERE contact_id = ${c.id};
      UPDATE verifications SET sent_at = sent_at - ${40 * day}, expires_at = expires_at - ${40 * day} WHERE target = '${other}';
      INSERT INTO notifications(account_id, event_id, contact_id, webhook_id, channel, target, status, attempts, next_attempt_at, idempotency_key, created_at, updated_at)
        SELECT account_id, ${ev.id}, ${c.id}, 0, 'email', 're****n@example.com', 'delivered', 1, 0, 'old-${local}', created_at - ${200 * day}, created_at - ${200 * day} FROM contacts WHERE id = ${c.id};`);
  assert.equal(db(`SELECT count(*) FROM notifications WHERE idempotency_key = 'old-${local}'`), '1');
  server = await startServer(dir, { env: server.env });
  await waitFor(() => db(`SELECT count(*) FROM verifications WHERE target = '${email}'`) === '0', { what: 'the old code\'s address to be masked' });
  assert.equal(db(`SELECT count(*) FROM verifications WHERE contact_id = ${c.id} AND target LIKE '%****%'`), '1', 'the contact\'s code is kept, masked');
  await waitFor(() => db(`SELECT count(*) FROM verifications WHERE target = '${other}' OR target LIKE '${other.slice(0, 2)}****%'`) === '0', { what: `the 40-day-old code to be removed: ${db('SELECT id, contact_id, target, sent_at FROM verifications')}` });
  assert.equal(db(`SELECT count(*) FROM notifications WHERE idempotency_key = 'old-${local}'`), '0', 'the 200-day-old notification is removed');
});
