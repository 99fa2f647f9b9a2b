// certificates.test.mjs — /v1/certificates with real PEMs made by `openssl` (lib/pki.mjs):
// parsing a leaf and its chain, certificates expiring in 2 and 40 days and one already
// expired, the refusals (not a certificate, garbage, a chain out of order, a private key
// in pem, a key that does not match, a fingerprint stored already), the private key kept
// sealed and handed out only to an admin, revoke raising certificate.revoked delivered to
// a robot, renewal superseding the old certificate and carrying its subscribers over,
// roles, isolation between accounts, and a contact's certificates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  makeDataDir, removeDir, startServer, createAccount, createKey, api, assertOk, assertError,
  createContact, getContact, hasKeyDeep, RFC3339,
} from './lib/harness.mjs';
import { startRobots, wecomWebhookUrl } from './lib/robots.mjs';
import { Pki } from './lib/pki.mjs';

let dir, server, admin, operator, readonly, other, robots, pki;

before(async () => {
  dir = makeDataDir();
  pki = new Pki();
  robots = await startRobots();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  other = createAccount(dir);
  server = await startServer(dir, { env: { ...robots.env(), CERTCONTACTS_RETRY_SCHEDULE: '1,1,1' } });
});

after(async () => {
  try {
    await server?.stop();
  } finally {
    await robots?.stop();
    pki?.remove();
    removeDir(dir);
  }
});

let seq = 0;
/** Names no other test uses. */
function names(n = 1) {
  seq++;
  return Array.from({ length: n }, (_, i) => `${i ? `n${i}.` : ''}site${seq}-${process.pid}.example.com`);
}

async function addCert(json, key = operator) {
  return assertOk(await api(server, 'POST', '/v1/certificates', { key, json }), 201);
}

async function getCert(id, key = readonly) {
  return assertOk(await api(server, 'GET', `/v1/certificates/${id}`, { key }), 200);
}

test('a leaf with its chain is parsed: names, issuer, serial, key, dates, fingerprint', async () => {
  const n = names(2);
  const leaf = pki.leaf(n, { days: 40 });
  const c = await addCert({ pem: leaf.chain, name: 'Shop' });
  assert.deepEqual(c.domains, n);
  assert.equal(c.common_name, n[0]);
  assert.equal(c.name, 'Shop');
  assert.equal(c.state, 'active');
  assert.match(c.issuer, /CN=certcontacts Test Intermediate/);
  assert.match(c.serial, /^[0-9A-F]+$/);
  assert.equal(c.key_type, 'EC');
  assert.equal(c.key_bits, 256);
  assert.match(c.fingerprint_sha256, /^[0-9a-f]{64}$/);
  assert.equal(c.chain_length, 2);
  assert.equal(c.has_private_key, false);
  assert.equal(Date.parse(c.not_after), leaf.notAfter);
  assert.match(c.not_after, RFC3339);
  assert.ok(c.days_left === 39 || c.days_left === 40, `days_left ${c.days_left}`);
  assert.equal(c.pem, leaf.chain);

  const got = await getCert(c.id);
  assert.equal(got.pem, leaf.chain);
  const list = assertOk(await api(server, 'GET', `/v1/certificates?domain=${n[1]}`, { key: readonly }), 200);
  assert.equal(list.total, 1);
  assert.equal(list.items[0].id, c.id);
  assert.ok(!('pem' in list.items[0]), 'a list carries no PEM');

  // A leaf signed by the root itself, without a chain, is fine too.
  const alone = await addCert({ pem: pki.leaf(names(), { byRoot: true, key: 'rsa' }).pem });
  assert.equal(alone.chain_length, 1);
  assert.equal(alone.key_type, 'RSA');
  assert.equal(alone.key_bits, 2048);
});

test('expiring in 2 days, in 40 days and already expired: states and filters, sorted by not_after', async () => {
  const tag = `batch${process.pid}x`;
  const soon = await addCert({ pem: pki.leaf(names(), { days: 2 }).chain, name: `${tag} soon` });
  const later = await addCert({ pem: pki.leaf(names(), { days: 40 }).chain, name: `${tag} later` });
  const gone = await addCert({ pem: pki.leaf(names(), { days: -3, fromDays: -60 }).chain, name: `${tag} gone` });
  assert.equal(soon.state, 'active');
  assert.equal(later.state, 'active');
  assert.equal(gone.state, 'expired', 'never shown active after not_after');
  assert.ok(gone.days_left < 0);

  const all = assertOk(await api(server, 'GET', `/v1/certificates?keyword=${tag}`, { key: readonly }), 200);
  assert.deepEqual(all.items.map((x) => x.id), [gone.id, soon.id, later.id]);
  const within = assertOk(await api(server, 'GET', `/v1/certificates?keyword=${tag}&expiring_within_days=7`, { key: readonly }), 200);
  assert.deepEqual(within.items.map((x) => x.id), [soon.id]);
  const expired = assertOk(await api(server, 'GET', `/v1/certificates?keyword=${tag}&state=expired`, { key: readonly }), 200);
  assert.deepEqual(expired.items.map((x) => x.id), [gone.id]);
  const active = assertOk(await api(server, 'GET', `/v1/certificates?keyword=${tag}&state=active`, { key: readonly }), 200);
  assert.deepEqual(active.items.map((x) => x.id), [soon.id, later.id]);
  const paged = assertOk(await api(server, 'GET', `/v1/certificates?keyword=${tag}&page=2&page_size=2`, { key: readonly }), 200);
  assert.equal(paged.total, 3);
  assert.deepEqual(paged.items.map((x) => x.id), [later.id]);

  assertError(await api(server, 'GET', '/v1/certificates?state=sleeping', { key: readonly }), 400, 'InvalidParameter.State');
  assertError(await api(server, 'GET', '/v1/certificates?expiring_within_days=x', { key: readonly }), 400, 'InvalidParameter.ExpiringWithinDays');
});

test('refused with a clear message: not a certificate, garbage, a chain out of order, a key in pem, a wrong key, a stored fingerprint', async () => {
  const leaf = pki.leaf(names(), { days: 40 });
  const csr = pki.read(`leaf${pki.n}.csr`);
  let e = assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: 'hello, this is not a certificate' } }), 400, 'IncorrectFormat.Pem');
  assert.match(e.message, /no certificate/);
  e = assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: csr } }), 400, 'IncorrectFormat.Pem');
  assert.match(e.message, /CERTIFICATE REQUEST.*not a certificate/);
  e = assertError(await api(server, 'POST', '/v1/certificates', {
    key: operator, json: { pem: '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' },
  }), 400, 'IncorrectFormat.Pem');
  assert.match(e.message, /not a valid X\.509 certificate/);
  e = assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: pki.intermediate + leaf.pem } }), 400, 'IncorrectFormat.Pem');
  assert.match(e.message, /out of order/);
  e = assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: leaf.chain + leaf.key } }), 400, 'IncorrectFormat.Pem');
  assert.match(e.message, /private key/);
  const wrong = pki.leaf(names());
  e = assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: leaf.chain, private_key: wrong.key } }), 400, 'IncorrectFormat.PrivateKey');
  assert.match(e.message, /does not match/);
  assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: leaf.chain, private_key: 'nope' } }), 400, 'IncorrectFormat.PrivateKey');
  assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: leaf.chain, colour: 'red' } }), 400, 'InvalidParameter.UnknownField');
  assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: leaf.chain, domains: ['a.example.com'] } }), 400, 'InvalidParameter.Pem');

  const first = await addCert({ pem: leaf.chain });
  e = assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { pem: leaf.chain } }), 409, 'AlreadyExists.Certificate');
  assert.match(e.message, new RegExp(`Certificate ${first.id} `));
  // Nothing refused was stored.
  const list = assertOk(await api(server, 'GET', `/v1/certificates?domain=${first.domains[0]}`, { key: readonly }), 200);
  assert.equal(list.total, 1);
});

test('metadata only: domains and not_after, checked', async () => {
  const n = names(2);
  const c = await addCert({ domains: n, not_after: '2031-05-01', product: 'digicert-free-1-free', name: 'Elsewhere' });
  assert.deepEqual(c.domains, n);
  assert.equal(c.not_after, '2031-05-01T00:00:00.000Z');
  assert.equal(c.product, 'digicert-free-1-free');
  assert.equal(c.fingerprint_sha256, null);
  assert.equal(c.pem, null);
  assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { domains: ['not a name'], not_after: '2031-05-01' } }), 400, 'IncorrectFormat.Domains');
  assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { domains: n } }), 400, 'MissingParameter.NotAfter');
  assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: { domains: n, not_after: 'soon' } }), 400, 'IncorrectFormat.NotAfter');
  assertError(await api(server, 'POST', '/v1/certificates', { key: operator, json: {} }), 400, 'MissingParameter.Domains');
});

test('a private key is sealed, never read back, and handed out to an admin only', async () => {
  const leaf = pki.leaf(names(), { key: 'rsa' });
  const c = await addCert({ pem: leaf.chain, private_key: leaf.key });
  assert.equal(c.has_private_key, true);
  assert.ok(!hasKeyDeep(c, 'private_key'));
  assert.ok(!(await getCert(c.id)).pem.includes('PRIVATE KEY'));
  const list = assertOk(await api(server, 'GET', '/v1/certificates?page_size=100', { key: admin }), 200);
  assert.ok(!JSON.stringify(list).includes('PRIVATE KEY'));

  assertError(await api(server, 'POST', `/v1/certificates/${c.id}/private-key`, { key: operator }), 403, 'Forbidden');
  assertError(await api(server, 'POST', `/v1/certificates/${c.id}/private-key`, { key: readonly }), 403, 'Forbidden');
  const got = assertOk(await api(server, 'POST', `/v1/certificates/${c.id}/private-key`, { key: admin }), 200);
  assert.equal(got.private_key, leaf.key);
  const plain = await addCert({ pem: pki.leaf(names()).chain });
  assertError(await api(server, 'POST', `/v1/certificates/${plain.id}/private-key`, { key: admin }), 404, 'NotFound');
});

test('revoke raises certificate.revoked, delivered to a subscriber\'s robot; twice is a conflict', async () => {
  const wecom = robots.register('wecom', null, {});
  const { contact } = await createContact(server, operator, { webhooks: [{ url: wecomWebhookUrl(wecom) }] });
  const n = names();
  const c = await addCert({ pem: pki.leaf(n).chain, contact_ids: [contact.id] });
  assert.deepEqual(c.contact_ids, [contact.id]);
  const r = assertOk(await api(server, 'POST', `/v1/certificates/${c.id}/revoke`, { key: operator, json: { reason: 'key compromise' } }), 200);
  assert.equal(r.state, 'revoked');
  assert.match(r.revoked_at, RFC3339);
  const [m] = await robots.waitFor('wecom', wecom, 1, { timeoutMs: 10000 });
  const text = JSON.stringify(m);
  assert.match(text, /revoked/);
  assert.ok(text.includes(n[0]), text);
  assert.match(text, /key compromise/);
  const log = assertOk(await api(server, 'GET', `/v1/notifications?contact_id=${contact.id}`, { key: readonly }), 200);
  // the robot's notification; its unverified email and mobile are listed as skipped
  assert.deepEqual(log.items.map((x) => `${x.channel}:${x.status === 'skipped'}`).sort(), ['email:true', 'mobile:true', 'webhook:false']);
  assertError(await api(server, 'POST', `/v1/certificates/${c.id}/revoke`, { key: operator }), 409, 'UpdateConflict');
  const listed = assertOk(await api(server, 'GET', `/v1/certificates?state=revoked&domain=${n[0]}`, { key: readonly }), 200);
  assert.deepEqual(listed.items.map((x) => x.id), [c.id]);
});

test('renewal: a newer certificate covering the same names supersedes the old one and takes its subscribers', async () => {
  const { contact: a } = await createContact(server, operator);
  const { contact: b } = await createContact(server, operator);
  const n = names(2);
  const old = await addCert({ pem: pki.leaf(n, { days: 20 }).chain, contact_ids: [a.id] });
  const unrelated = await addCert({ pem: pki.leaf(names(), { days: 20 }).chain, contact_ids: [a.id] });
  const renewed = await addCert({ pem: pki.leaf([...n, `extra.${n[0]}`], { days: 90 }).chain, contact_ids: [b.id] });
  assert.deepEqual(renewed.contact_ids.sort(), [a.id, b.id].sort());
  const o = await getCert(old.id);
  assert.equal(o.state, 'superseded');
  assert.equal(o.superseded_by, renewed.id);
  assert.equal((await getCert(unrelated.id)).state, 'active');

  // carry_subscribers false leaves them where they were.
  const m = names();
  const old2 = await addCert({ pem: pki.leaf(m, { days: 10 }).chain, contact_ids: [a.id] });
  const new2 = await addCert({ pem: pki.leaf(m, { days: 80 }).chain, carry_subscribers: false });
  assert.deepEqual(new2.contact_ids, []);
  assert.equal((await getCert(old2.id)).state, 'superseded');
  // An older certificate added later supersedes nothing.
  const older = await addCert({ pem: pki.leaf(m, { days: 5 }).chain });
  assert.equal(older.state, 'active');
  assert.equal((await getCert(new2.id)).state, 'active');
});

test('subscribers and name change; a contact lists its certificates; deleting the contact unsubscribes it; delete', async () => {
  const { contact: a } = await createContact(server, operator);
  const { contact: b } = await createContact(server, operator);
  const n = names();
  const c = await addCert({ pem: pki.leaf(n, { days: 40 }).chain, contact_ids: [a.id] });
  let p = assertOk(await api(server, 'PATCH', `/v1/certificates/${c.id}`, { key: operator, json: { name: 'Renamed', contact_ids: [a.id, b.id] } }), 200);
  assert.equal(p.name, 'Renamed');
  assert.deepEqual(p.contact_ids.sort(), [a.id, b.id].sort());
  assertError(await api(server, 'PATCH', `/v1/certificates/${c.id}`, { key: operator, json: { contact_ids: [999999] } }), 400, 'InvalidParameter.ContactIds');
  assertError(await api(server, 'PATCH', `/v1/certificates/${c.id}`, { key: operator, json: { pem: 'x' } }), 400, 'InvalidParameter.UnknownField');

  const detail = assertOk(await getContact(server, readonly, a.id), 200);
  const mine = detail.certificates.find((x) => x.id === c.id);
  assert.deepEqual(mine, { id: c.id, domains: n, state: 'active', not_after: c.not_after });
  const mineList = assertOk(await api(server, 'GET', `/v1/certificates?contact_id=${a.id}`, { key: readonly }), 200);
  assert.deepEqual(mineList.items.map((x) => x.id), [c.id]);

  assertOk(await api(server, 'DELETE', `/v1/contacts/${a.id}`, { key: operator }), 204);
  p = await getCert(c.id);
  assert.deepEqual(p.contact_ids, [b.id]);

  assertOk(await api(server, 'DELETE', `/v1/certificates/${c.id}`, { key: operator }), 204);
  assertError(await api(server, 'GET', `/v1/certificates/${c.id}`, { key: readonly }), 404, 'NotFound');
  assertError(await api(server, 'DELETE', `/v1/certificates/${c.id}`, { key: operator }), 404, 'NotFound');
  assert.deepEqual(assertOk(await getContact(server, readonly, b.id), 200).certificates, []);
});

test('roles: readonly reads, operator writes, only an admin gets a key', async () => {
  const leaf = pki.leaf(names());
  assertError(await api(server, 'POST', '/v1/certificates', { key: readonly, json: { pem: leaf.chain } }), 403, 'Forbidden');
  assertError(await api(server, 'GET', '/v1/certificates', {}), 401, 'Unauthorized');
  const c = await addCert({ pem: leaf.chain }, operator);
  await getCert(c.id, readonly);
  assertError(await api(server, 'PATCH', `/v1/certificates/${c.id}`, { key: readonly, json: { name: 'x' } }), 403, 'Forbidden');
  assertError(await api(server, 'POST', `/v1/certificates/${c.id}/revoke`, { key: readonly }), 403, 'Forbidden');
  assertError(await api(server, 'DELETE', `/v1/certificates/${c.id}`, { key: readonly }), 403, 'Forbidden');
});

test('accounts are isolated: another account sees nothing, cannot subscribe, and may hold the same certificate', async () => {
  const leaf = pki.leaf(names());
  const { contact } = await createContact(server, operator);
  const mine = await addCert({ pem: leaf.chain, contact_ids: [contact.id] });
  assertError(await api(server, 'GET', `/v1/certificates/${mine.id}`, { key: other }), 404, 'NotFound');
  assertError(await api(server, 'PATCH', `/v1/certificates/${mine.id}`, { key: other, json: { name: 'x' } }), 404, 'NotFound');
  assertError(await api(server, 'POST', `/v1/certificates/${mine.id}/revoke`, { key: other }), 404, 'NotFound');
  assertError(await api(server, 'POST', `/v1/certificates/${mine.id}/private-key`, { key: other }), 404, 'NotFound');
  assertError(await api(server, 'DELETE', `/v1/certificates/${mine.id}`, { key: other }), 404, 'NotFound');
  const list = assertOk(await api(server, 'GET', '/v1/certificates', { key: other }), 200);
  assert.equal(list.total, 0);
  assertError(await api(server, 'POST', '/v1/certificates', { key: other, json: { pem: leaf.chain, contact_ids: [contact.id] } }), 400, 'InvalidParameter.ContactIds');
  const theirs = assertOk(await api(server, 'POST', '/v1/certificates', { key: other, json: { pem: leaf.chain } }), 201);
  assert.equal(theirs.fingerprint_sha256, mine.fingerprint_sha256);
  assert.equal((await getCert(mine.id)).state, 'active', 'another account\'s copy supersedes nothing here');
});
