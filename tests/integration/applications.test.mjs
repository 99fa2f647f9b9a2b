// applications.test.mjs — certificate applications over REST: the products,
// submission naming a contact or creating one inline in the same
// transaction (and both rollbacks), the contact rules (ID card per product,
// verified email and mobile, every problem in one error), CSRs, the state
// machine with its legal and illegal moves, and the events each move raises,
// delivered to the contact's robot. Runs in development mode so that
// verification codes are read from the server's log.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, stopAllAfter,
  unique, uniqueMobile, idCard, contactBody, verifiedContactBody,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, robotId } from './lib/robots.mjs';

let dir, server, key, robots;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  key = createAccount(dir);
  server = await startServer(dir, {
    env: {
      ...robots.env(),
      CERTCONTACTS_DEV: '1',
      CERTCONTACTS_SMS_PROVIDER: 'log',
      CERTCONTACTS_SMTP_URL: '',
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
    },
  });
});

stopAllAfter(() => [server, robots], () => dir);

const ID_CARD = idCard('11010519491231002');

const verifiedBody = (over = {}) => verifiedContactBody(server, key, over);

async function verifiedContact(over = {}) {
  const body = await verifiedBody(over);
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: body }), 201);
  assert.equal(c.email_status, 1, JSON.stringify(c));
  assert.equal(c.mobile_status, 1, JSON.stringify(c));
  return c;
}

function apply(json) {
  return api(server, 'POST', '/v1/applications', { key, json });
}

function move(id, json) {
  return api(server, 'POST', `/v1/applications/${id}/transitions`, { key, json });
}

async function countContacts(keyword) {
  const r = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(keyword)}`, { key }), 200);
  return r.total;
}

async function countApplications(query = '') {
  return assertOk(await api(server, 'GET', `/v1/applications?${query}`, { key }), 200).total;
}

/** `openssl req` in a temporary directory: a CSR, or with -x509 a certificate. */
function opensslPem(args) {
  const d = fs.mkdtempSync(path.join(dir, 'pem-'));
  execFileSync('openssl', ['req', '-new', '-nodes', '-keyout', path.join(d, 'k.pem'), '-out', path.join(d, 'o.pem'), ...args],
    { stdio: 'ignore' });
  return fs.readFileSync(path.join(d, 'o.pem'), 'utf8');
}

function domain() {
  return `${unique('d').toLowerCase().replace(/[^a-z0-9-]/g, '')}.example.com`;
}

test('GET /v1/products lists the brands and accepts Alibaba codes as they are', async () => {
  const r = assertOk(await api(server, 'GET', '/v1/products', { key }), 200);
  const codes = r.items.map((p) => p.code);
  for (const c of ['digicert-free-1-free', 'symantec-ov-1-personal', 'geotrust-dv-w-starter',
    'globalsign-ov-1-personal', 'cfca-ov-1-personal', 'cfca-ev-w-advanced']) assert.ok(codes.includes(c), c);
  for (const b of ['DigiCert', 'GeoTrust', 'GlobalSign', 'CFCA', 'vTrus', 'Sectigo', "Let's Encrypt"]) {
    assert.ok(r.items.some((p) => p.brand === b), b);
  }
  const gs = r.items.find((p) => p.code === 'globalsign-ov-1-personal');
  assert.equal(gs.validation, 'OV');
  assert.equal(gs.id_card_required, false);
});

test('inline contact: created with the application, verified from the recent confirmations', async () => {
  const body = await verifiedBody({ id_card: ID_CARD });
  const d = domain();
  const a = assertOk(await apply({ product: 'digicert-ov-1-personal', domains: [d], contact: body }), 201);
  assert.equal(a.state, 'submitted');
  assert.deepEqual(a.domains, [{ name: d, ascii: d }]);
  assert.deepEqual(a.allowed_transitions, ['pending_validation', 'rejected', 'cancelled']);
  assert.equal(a.history.length, 1);
  assert.equal(a.history[0].to, 'submitted');
  assert.equal(a.history[0].from, null);
  const c = assertOk(await api(server, 'GET', `/v1/contacts/${a.contact_id}`, { key }), 200);
  assert.equal(c.email, body.email);
  assert.equal(c.email_status, 1);
  assert.equal(c.mobile_status, 1);
  const got = assertOk(await api(server, 'GET', `/v1/applications/${a.id}`, { key }), 200);
  assert.equal(got.contact_id, c.id);
});

test('inline contact, invalid application: no contact is left behind', async () => {
  const body = await verifiedBody({ id_card: ID_CARD });
  assertError(await apply({ product: 'digicert-ov-1-personal', domains: ['a.*.example.com'], contact: body }), 400, 'IncorrectFormat.Domains');
  assertError(await apply({ product: 'no-such-product', domains: [domain()], contact: body }), 400, 'InvalidParameter.Product');
  assert.equal(await countContacts(body.email), 0);
  // the contact rules fail inside the transaction: the new contact goes too
  const unverified = contactBody();
  const e = assertError(await apply({ product: 'digicert-free-1-free', domains: [domain()], contact: unverified }), 400, 'Contact.Ineligible');
  assert.deepEqual(e.problems.map((p) => p.code).sort(), ['Unverified.Email', 'Unverified.Mobile']);
  assert.equal(await countContacts(unverified.email), 0);
});

test('inline contact invalid: no application is created', async () => {
  const before = await countApplications();
  assertError(await apply({ product: 'digicert-free-1-free', domains: [domain()], contact: contactBody({ email: 'not-an-email' }) }), 400, 'IncorrectFormat.Email');
  assertError(await apply({ product: 'digicert-free-1-free', domains: [domain()], contact: { name: 'No Mobile' } }), 400, 'MissingParameter.Mobile');
  assert.equal(await countApplications(), before);
});

test('ID card rules: OV/EV need one except GlobalSign; every CFCA product needs one', async () => {
  const c = await verifiedContact();
  const cases = [
    ['digicert-ov-1-personal', [domain()], true],
    ['digicert-ev-1-advanced', [domain()], true],
    ['globalsign-ov-1-personal', [domain()], false],
    ['globalsign-ev-1-advanced', [domain()], false],
    ['cfca-ov-1-personal', [domain()], true],
    ['cfca-ev-w-advanced', [`*.${domain()}`], true],
    ['cfca-dv-1-personal', [domain()], true],
    ['digicert-free-1-free', [domain()], false],
  ];
  for (const [product, domains, needs] of cases) {
    const res = await apply({ product, domains, contact_id: c.id });
    if (needs) {
      const e = assertError(res, 400, 'Contact.Ineligible');
      assert.deepEqual(e.problems, [{ code: 'MissingParameter.IdCard', field: 'IdCard', path: '', message: e.problems[0].message }], product);
      assert.match(e.message, /ID card/, product);
    } else {
      assertOk(res, 201);
    }
  }
  const withId = await verifiedContact({ id_card: ID_CARD });
  assertOk(await apply({ product: 'cfca-dv-1-personal', domains: [domain()], contact_id: withId.id }), 201);
});

test('an unverified contact is refused with every missing item named', async () => {
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: contactBody() }), 201);
  const e = assertError(await apply({ product: 'digicert-ov-1-personal', domains: [domain()], contact_id: c.id }), 400, 'Contact.Ineligible');
  assert.deepEqual(e.problems.map((p) => [p.code, p.field]),
    [['MissingParameter.IdCard', 'IdCard'], ['Unverified.Email', 'Email'], ['Unverified.Mobile', 'Mobile']]);
  assertError(await apply({ product: 'digicert-ov-1-personal', domains: [domain()], contact_id: 999999 }), 400, 'InvalidParameter.ContactId');
  assertError(await apply({ product: 'digicert-ov-1-personal', domains: [domain()] }), 400, 'MissingParameter.ContactId');
});

test('domains: IDNA names stored with their A-labels, duplicates and limits refused; list filters', async () => {
  const c = await verifiedContact();
  const label = unique('x').toLowerCase().replace(/[^a-z0-9]/g, '');
  const a = assertOk(await apply({ product: 'sectigo-dv-m-personal', domains: [`例子${label}.中国`, `www.${label}.com`], contact_id: c.id }), 201);
  assert.equal(a.domains[0].name, `例子${label}.中国`);
  assert.match(a.domains[0].ascii, /^xn--.*\.xn--fiqs8s$/);
  assertError(await apply({ product: 'sectigo-dv-m-personal', domains: ['a.example.com', 'A.example.com'], contact_id: c.id }), 400, 'IncorrectFormat.Domains');
  assertError(await apply({ product: 'digicert-free-1-free', domains: ['a.example.com', 'b.example.com'], contact_id: c.id }), 400, 'LimitExceeded.Domains');
  assertError(await apply({ product: 'geotrust-dv-w-starter', domains: ['a.example.com'], contact_id: c.id }), 400, 'IncorrectFormat.Domains');
  // filters: by either form of a name, by contact, product and state
  for (const q of [`domain=${encodeURIComponent(`例子${label}.中国`)}`, `domain=${a.domains[0].ascii}`, `contact_id=${c.id}&product=sectigo-dv-m-personal`]) {
    const r = assertOk(await api(server, 'GET', `/v1/applications?${q}`, { key }), 200);
    assert.deepEqual(r.items.map((x) => x.id), [a.id], q);
  }
  assert.equal(await countApplications(`contact_id=${c.id}&state=approved`), 0);
  assertError(await api(server, 'GET', '/v1/applications?state=bogus', { key }), 400, 'InvalidParameter.State');
});

test('CSR: supplies the names, must match them, and a bad one says what is wrong', async () => {
  const c = await verifiedContact({ id_card: ID_CARD });
  const d = domain();
  const csr = opensslPem(['-newkey', 'rsa:2048', '-subj', `/CN=${d}`]);
  const a = assertOk(await apply({ product: 'digicert-ov-1-personal', csr, contact_id: c.id }), 201);
  assert.deepEqual(a.domains.map((x) => x.ascii), [d]);
  assertOk(await apply({ product: 'digicert-ov-1-personal', csr, domains: [d], contact_id: c.id }), 201);
  let e = assertError(await apply({ product: 'digicert-ov-1-personal', csr, domains: [domain()], contact_id: c.id }), 400, 'IncorrectFormat.Csr');
  assert.match(e.message, new RegExp(d.replace(/\./g, '\\.')));
  const weak = opensslPem(['-newkey', 'rsa:1024', '-subj', `/CN=${d}`]);
  e = assertError(await apply({ product: 'digicert-ov-1-personal', csr: weak, contact_id: c.id }), 400, 'IncorrectFormat.Csr');
  assert.match(e.message, /2048/);
  e = assertError(await apply({ product: 'digicert-ov-1-personal', csr: 'garbage', contact_id: c.id }), 400, 'IncorrectFormat.Csr');
});

test('transitions: the legal path to issued, illegal moves 409 naming the allowed ones, events to the robot', async () => {
  const token = robotId('dingtalk');
  robots.register('dingtalk', token);
  const c = await verifiedContact({ id_card: ID_CARD, webhooks: [{ url: dingtalkWebhookUrl(token) }] });
  const d = domain();
  const a = assertOk(await apply({ product: 'digicert-ov-1-personal', domains: [d], contact_id: c.id }), 201);
  let e = assertError(await move(a.id, { to: 'approved' }), 409, 'InvalidTransition');
  assert.match(e.message, /pending_validation, rejected, cancelled/);
  assertError(await move(a.id, { to: 'issued' }), 400, 'MissingParameter.CertificatePem');
  assertError(await move(a.id, { to: 'submitted' }), 400, 'InvalidParameter.To');

  let m = robots.mark();
  let r = assertOk(await move(a.id, { to: 'pending_validation' }), 200);
  assert.equal(r.state, 'pending_validation');
  let msgs = await robots.waitFor('dingtalk', token, 1, { after: m, timeoutMs: 15000 });
  assert.ok(JSON.stringify(msgs.map((x) => [x.title, x.text])).includes(d), JSON.stringify(msgs.map((x) => x.text)));

  m = robots.mark();
  assertOk(await move(a.id, { to: 'approved', reason: 'documents checked' }), 200);
  await robots.waitFor('dingtalk', token, 1, { after: m, timeoutMs: 15000 });

  const other = opensslPem(['-x509', '-days', '30', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', `/CN=${domain()}`]);
  e = assertError(await move(a.id, { to: 'issued', certificate_pem: other }), 400, 'IncorrectFormat.CertificatePem');
  assertError(await move(a.id, { to: 'issued', certificate_pem: 'garbage' }), 400, 'IncorrectFormat.CertificatePem');
  const pem = opensslPem(['-x509', '-days', '30', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', `/CN=${d}`,
    '-addext', `subjectAltName=DNS:${d}`]);
  m = robots.mark();
  r = assertOk(await move(a.id, { to: 'issued', certificate_pem: pem }), 200);
  assert.equal(r.state, 'issued');
  assert.equal(r.certificate_pem, pem);
  // Issued: the certificate exists, its contact subscribed, and certificate.issued reaches it.
  const certs = assertOk(await api(server, 'GET', `/v1/certificates?contact_id=${c.id}`, { key }), 200);
  assert.equal(certs.items.length, 1, JSON.stringify(certs));
  assert.deepEqual(certs.items[0].domains, [d]);
  assert.equal(certs.items[0].state, 'active');
  const cert = assertOk(await api(server, 'GET', `/v1/certificates/${certs.items[0].id}`, { key }), 200);
  assert.deepEqual(cert.contact_ids, [c.id], JSON.stringify(cert));
  msgs = await robots.waitFor('dingtalk', token, 1, { after: m, timeoutMs: 15000 });
  assert.ok(JSON.stringify(msgs.map((x) => [x.title, x.text])).includes(d), JSON.stringify(msgs.map((x) => x.text)));
  assert.deepEqual(r.allowed_transitions, []);
  assert.deepEqual(r.history.map((h) => [h.from, h.to]),
    [[null, 'submitted'], ['submitted', 'pending_validation'], ['pending_validation', 'approved'], ['approved', 'issued']]);
  assert.equal(r.history[2].reason, 'documents checked');
  assert.equal(r.history[1].actor, key.access_key_id);
  e = assertError(await move(a.id, { to: 'cancelled' }), 409, 'InvalidTransition');
  assert.match(e.message, /final/);
});

test('transitions: rejected and cancelled before issued; rejected raises its event with the reason', async () => {
  const token = robotId('dingtalk');
  robots.register('dingtalk', token);
  const c = await verifiedContact({ webhooks: [{ url: dingtalkWebhookUrl(token) }] });
  const a1 = assertOk(await apply({ product: 'digicert-free-1-free', domains: [domain()], contact_id: c.id }), 201);
  assertOk(await move(a1.id, { to: 'cancelled' }), 200);
  assertError(await move(a1.id, { to: 'pending_validation' }), 409, 'InvalidTransition');
  const a2 = assertOk(await apply({ product: 'digicert-free-1-free', domains: [domain()], contact_id: c.id }), 201);
  const m = robots.mark();
  assertOk(await move(a2.id, { to: 'pending_validation' }), 200);
  assertOk(await move(a2.id, { to: 'rejected', reason: 'domain control not shown' }), 200);
  const msgs = await robots.waitFor('dingtalk', token, 2, { after: m, timeoutMs: 15000 });
  assert.ok(JSON.stringify(msgs.map((x) => x.text)).includes('domain control not shown'), JSON.stringify(msgs.map((x) => x.text)));
  const a3 = assertOk(await apply({ product: 'digicert-free-1-free', domains: [domain()], contact_id: c.id }), 201);
  for (const to of ['pending_validation', 'approved', 'cancelled']) assertOk(await move(a3.id, { to }), 200);
  assertError(await api(server, 'GET', '/v1/applications/999999', { key }), 404, 'NotFound');
});

test('eligibility answers before submission what submitting would refuse, in the same words', async () => {
  const bare = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: contactBody() }), 201);
  const check = (product, id) => api(server, 'GET', `/v1/applications/eligibility?product=${product}&contact_id=${id}`, { key });
  const no = assertOk(await check('digicert-ov-1-personal', bare.id), 200);
  assert.equal(no.eligible, false);
  assert.deepEqual(no.problems.map((p) => p.code).sort(), ['MissingParameter.IdCard', 'Unverified.Email', 'Unverified.Mobile']);
  const refused = assertError(await apply({ product: 'digicert-ov-1-personal', domains: ['elig.example.com'], contact_id: bare.id }), 400, 'Contact.Ineligible');
  assert.deepEqual(refused.problems, no.problems, 'the same problems as a submission');
  assert.equal(refused.message, no.message);
  // GlobalSign OV needs no ID card: only the addresses remain
  const gs = assertOk(await check('globalsign-ov-1-personal', bare.id), 200);
  assert.deepEqual(gs.problems.map((p) => p.code).sort(), ['Unverified.Email', 'Unverified.Mobile']);
  const ok = await verifiedContact({ id_card: ID_CARD });
  assert.deepEqual(assertOk(await check('cfca-ev-w-advanced', ok.id), 200), { eligible: true, problems: [] });
  assertError(await check('no-such-product', ok.id), 400, 'InvalidParameter.Product');
  assertError(await check('digicert-ov-1-personal', 999999), 400, 'InvalidParameter.ContactId');
  assertError(await api(server, 'GET', '/v1/applications/eligibility?product=digicert-ov-1-personal', { key }), 400, 'MissingParameter.ContactId');
});
