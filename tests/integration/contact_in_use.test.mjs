// contact_in_use.test.mjs — a contact that open certificate applications
// name: its delete is refused (REST 409 Contact.InUse listing them, and the
// Alibaba SDK's DeleteContact with the same code), GET shows them, reassign
// moves them and the certificate subscriptions to another contact of the
// account (then the delete goes through), closed applications hold nothing,
// a subscriber deletes fine and is unsubscribed, and POST /v1/applications
// honours Idempotency-Key (no second application, no second inline contact).
// Runs in development mode so that verification codes are read from the log.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, stopAllAfter,
  unique, verifiedContactBody, contactBody,
} from './lib/harness.mjs';
import { casClient, callAction, rejects } from './lib/alibaba.mjs';

let dir, server, key, other;

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  other = createAccount(dir);
  server = await startServer(dir, {
    env: {
      CERTCONTACTS_DEV: '1',
      CERTCONTACTS_SMS_PROVIDER: 'log',
      CERTCONTACTS_SMTP_URL: '',
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
    },
  });
});

stopAllAfter(() => [server], () => dir);

const verifiedBody = (over = {}) => verifiedContactBody(server, key, over);

async function verifiedContact(k = key) {
  const body = await verifiedBody();
  return assertOk(await api(server, 'POST', '/v1/contacts', { key: k, json: body }), 201);
}

function domain() {
  return `${unique('d').toLowerCase().replace(/[^a-z0-9-]/g, '')}.example.com`;
}

async function apply(contactId, d = domain()) {
  return assertOk(await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'digicert-free-1-free', domains: [d], contact_id: contactId },
  }), 201);
}

async function move(id, to) {
  return assertOk(await api(server, 'POST', `/v1/applications/${id}/transitions`, { key, json: { to } }), 200);
}

async function certificate(contactIds) {
  return assertOk(await api(server, 'POST', '/v1/certificates', {
    key, json: { domains: [domain()], not_after: '2031-05-01', contact_ids: contactIds },
  }), 201);
}

const del = (id, k = key) => api(server, 'DELETE', `/v1/contacts/${id}`, { key: k });
const get = (id) => api(server, 'GET', `/v1/contacts/${id}`, { key });
const reassign = (id, json, k = key) => api(server, 'POST', `/v1/contacts/${id}/reassign`, { key: k, json });

test('delete refused while an open application names the contact; the body lists them; GET shows them', async () => {
  const c = await verifiedContact();
  const d1 = domain();
  const a1 = await apply(c.id, d1);
  const a2 = await apply(c.id);
  await move(a2.id, 'pending_validation');
  const closed = await apply(c.id);
  await move(closed.id, 'cancelled');

  const e = assertError(await del(c.id), 409, 'Contact.InUse');
  assert.match(e.message, /2 open certificate applications/);
  assert.match(e.message, /reassign/);
  assert.equal(e.applications_total, 2);
  assert.deepEqual(e.applications, [
    { id: a2.id, product: 'digicert-free-1-free', domains: [a2.domains[0].name], state: 'pending_validation' },
    { id: a1.id, product: 'digicert-free-1-free', domains: [d1], state: 'submitted' },
  ]);
  // nothing changed
  const got = assertOk(await get(c.id), 200);
  assert.deepEqual(got.applications.map((x) => x.id), [a2.id, a1.id]);
  assert.equal(got.applications_total, 2);
  assert.deepEqual(got.certificates, []);

  // closing both releases the contact; the closed applications keep its number
  await move(a1.id, 'rejected');
  await move(a2.id, 'cancelled');
  const after = assertOk(await get(c.id), 200);
  assert.deepEqual(after.applications, []);
  assert.equal(after.applications_total, 0);
  assert.equal((await del(c.id)).status, 204);
  assertError(await get(c.id), 404, 'NotFound');
  const kept = assertOk(await api(server, 'GET', `/v1/applications/${a1.id}`, { key }), 200);
  assert.equal(kept.contact_id, c.id);
});

test('a contact on closed applications only deletes fine', async () => {
  const c = await verifiedContact();
  const a = await apply(c.id);
  await move(a.id, 'cancelled');
  const got = assertOk(await get(c.id), 200);
  assert.deepEqual(got.applications, []);
  assert.equal((await del(c.id)).status, 204);
});

test('a contact subscribed to certificates deletes and is unsubscribed', async () => {
  const c = await verifiedContact();
  const keep = await verifiedContact();
  const cert = await certificate([c.id, keep.id]);
  const got = assertOk(await get(c.id), 200);
  assert.deepEqual(got.certificates.map((x) => x.id), [cert.id]);
  assert.equal((await del(c.id)).status, 204);
  const after = assertOk(await api(server, 'GET', `/v1/certificates/${cert.id}`, { key }), 200);
  assert.deepEqual(after.contact_ids, [keep.id]);
});

test('reassign moves the open applications and the subscriptions, then the delete goes through', async () => {
  const from = await verifiedContact();
  const to = await verifiedContact();
  const open = await apply(from.id);
  const closed = await apply(from.id);
  await move(closed.id, 'rejected');
  const shared = await certificate([from.id, to.id]);
  const own = await certificate([from.id]);

  // errors first: nothing moves
  assertError(await reassign(from.id, { to_contact_id: from.id }), 400, 'InvalidParameter.ToContactId');
  assertError(await reassign(from.id, {}), 400, 'MissingParameter.ToContactId');
  assertError(await reassign(from.id, { to_contact_id: 'x' }), 400, 'IncorrectFormat.ToContactId');
  assertError(await reassign(from.id, { to_contact_id: to.id, extra: 1 }), 400, 'InvalidParameter.UnknownField');
  const e404 = assertError(await reassign(from.id, { to_contact_id: 99999999 }), 404, 'NotFound');
  assert.match(e404.message, /to_contact_id/);
  const stranger = await contactOf(other);
  assertError(await reassign(from.id, { to_contact_id: stranger.id }), 404, 'NotFound');
  assertError(await reassign(99999999, { to_contact_id: to.id }), 404, 'NotFound');
  assertError(await reassign(from.id, { to_contact_id: to.id }, other), 404, 'NotFound');
  assertError(await del(from.id), 409, 'Contact.InUse');

  const r = assertOk(await reassign(from.id, { to_contact_id: to.id }), 200);
  assert.deepEqual(r, { moved_applications: 1, moved_certificates: 2 });
  const app = assertOk(await api(server, 'GET', `/v1/applications/${open.id}`, { key }), 200);
  assert.equal(app.contact_id, to.id);
  assert.equal(app.state, 'submitted');
  assert.equal(app.history.at(-1).reason, `contact ${from.id} -> ${to.id}`);
  const old = assertOk(await api(server, 'GET', `/v1/applications/${closed.id}`, { key }), 200);
  assert.equal(old.contact_id, from.id);
  for (const cert of [shared, own]) {
    const c = assertOk(await api(server, 'GET', `/v1/certificates/${cert.id}`, { key }), 200);
    assert.deepEqual(c.contact_ids, [to.id], JSON.stringify(c));
  }
  const target = assertOk(await get(to.id), 200);
  assert.deepEqual(target.applications.map((x) => x.id), [open.id]);
  assert.deepEqual(target.certificates.map((x) => x.id).sort(), [shared.id, own.id].sort());

  // the target's new application moves on as usual; the source deletes now
  await move(open.id, 'pending_validation');
  assert.equal((await del(from.id)).status, 204);
  // again: nothing to move is not an error
  const empty = await verifiedContact();
  assert.deepEqual(assertOk(await reassign(empty.id, { to_contact_id: to.id }), 200),
    { moved_applications: 0, moved_certificates: 0 });
});

async function contactOf(k) {
  return assertOk(await api(server, 'POST', '/v1/contacts', { key: k, json: contactBody() }), 201);
}

test('Alibaba DeleteContact: the same refusal, in Alibaba\'s error shape', async () => {
  const c = await verifiedContact();
  const a = await apply(c.id);
  for (const v2 of [false, true]) {
    const e = await rejects(callAction(casClient(server, key, { v2 }), 'DeleteContact', { ContactId: c.id }));
    assert.equal(e.code, 'Contact.InUse', `${e.code}: ${e.message}`);
    assert.equal(e.statusCode, 400);
    assert.equal(e.data.Code, 'Contact.InUse');
    assert.match(e.data.Message, new RegExp(`1 open certificate application \\(${a.id}\\)`));
    for (const k of ['RequestId', 'HostId', 'Recommend']) assert.equal(typeof e.data[k], 'string');
  }
  assertOk(await get(c.id), 200);
  await move(a.id, 'cancelled');
  const ok = await callAction(casClient(server, key), 'DeleteContact', { ContactId: c.id });
  assert.match(ok.RequestId, /^[0-9A-F-]{36}$/);
  assertError(await get(c.id), 404, 'NotFound');
});

test('POST /v1/applications with Idempotency-Key: one application, one inline contact', async () => {
  const body = await verifiedBody();
  const json = { product: 'digicert-free-1-free', domains: [domain()], contact: body };
  const idem = unique('idem');
  const post = (j, k = idem) => api(server, 'POST', '/v1/applications', { key, json: j, headers: { 'Idempotency-Key': k } });
  const first = await post(json);
  const a = assertOk(first, 201);
  assert.equal(first.headers.get('idempotent-replayed'), null);
  // the same request, keys in another order: the first application
  const again = await post({ contact: body, domains: json.domains, product: json.product });
  const b = assertOk(again, 201);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.headers.get('location'), `/v1/applications/${a.id}`);
  assert.equal(b.id, a.id);
  assert.equal(b.contact_id, a.contact_id);
  const list = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(body.email)}`, { key }), 200);
  assert.equal(list.total, 1);
  const apps = assertOk(await api(server, 'GET', `/v1/applications?contact_id=${a.contact_id}`, { key }), 200);
  assert.equal(apps.total, 1);
  // the same key with another body
  assertError(await post({ ...json, domains: [domain()] }), 409, 'IdempotencyKeyReused');
  assertError(await post(json, ''), 400, 'InvalidParameter.IdempotencyKey');
  assertError(await post(json, 'x'.repeat(129)), 400, 'InvalidParameter.IdempotencyKey');
  // a refused request keeps no key: the corrected one goes through under it
  const k2 = unique('idem');
  assertError(await post({ ...json, product: 'no-such-product' }, k2), 400, 'InvalidParameter.Product');
  const c = await verifiedContact();
  assertOk(await post({ product: 'digicert-free-1-free', domains: [domain()], contact_id: c.id }, k2), 201);
});
