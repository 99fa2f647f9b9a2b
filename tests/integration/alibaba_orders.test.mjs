// alibaba_orders.test.mjs — certificate applications as the orders of the
// Alibaba Cloud CAS 2020-04-07 API, through the official SDK's generated
// methods (@alicloud/cas20200407) with both signature methods (ACS3-HMAC-SHA256
// and HMAC-SHA1): naming the contact by Phone/Email, a new one by
// Username/Phone/Email (verified first through REST), or none (the most
// recent one); an OV product without an ID card; DescribeCertificateState
// following REST transitions; cancel and delete; ListUserCertificateOrder by
// every OrderType and Status; ClientToken; DeleteContact of a contact on an
// open order. Development mode: verification codes come from the server's log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Cas from '@alicloud/cas20200407';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, stopAllAfter,
  unique, uniqueMobile, idCard, verifiedContactBody, confirmTargetFromLog,
} from './lib/harness.mjs';
import { casClient, callAction, sdkListContact, rejects } from './lib/alibaba.mjs';
import { Pki } from './lib/pki.mjs';

let dir, server, admin, readonly, other, pki;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  readonly = createKey(dir, admin.account_id, 'readonly');
  other = createAccount(dir);
  pki = new Pki();
  server = await startServer(dir, {
    env: {
      CERTCONTACTS_DEV: '1',
      CERTCONTACTS_SMS_PROVIDER: 'log',
      CERTCONTACTS_SMTP_URL: '',
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
    },
  });
});

after(() => pki?.remove());
stopAllAfter(() => [server], () => dir);

const SIGS = [false, true];
const sigName = (v2) => (v2 ? 'HMAC-SHA1' : 'ACS3-HMAC-SHA256');
const local = (e164) => e164.replace(/^\+86/, '');
const domain = () => `${unique('o').toLowerCase()}.example.com`;
const ID_CARD = idCard('11010519491231002');

function assertCoded(e, code, status = 400) {
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  assert.equal(e.statusCode, status, e.message);
  for (const k of ['RequestId', 'HostId', 'Code', 'Message', 'Recommend']) {
    assert.equal(typeof e.data[k], 'string', `${k} in ${JSON.stringify(e.data)}`);
  }
  return e;
}

/** A contact saved through REST with its email and mobile verified. */
async function verifiedContact(key, over = {}) {
  const body = await verifiedContactBody(server, key, over);
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: body }), 201);
  assert.equal(c.email_status, 1);
  assert.equal(c.mobile_status, 1);
  return { ...c, body };
}

const getApp = async (key, id) => assertOk(await api(server, 'GET', `/v1/applications/${id}`, { key }), 200);
const move = async (key, id, json) => assertOk(await api(server, 'POST', `/v1/applications/${id}/transitions`, { key, json }), 200);
/** submitted -> pending_validation -> approved -> issued with pem. */
async function issueApp(key, id, pem) {
  await move(key, id, { to: 'pending_validation' });
  await move(key, id, { to: 'approved' });
  return move(key, id, { to: 'issued', certificate_pem: pem });
}

/** A CSR for names made by openssl. */
function csrFor(names) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-csr-'));
  try {
    execFileSync('openssl', ['req', '-new', '-nodes', '-newkey', 'rsa:2048', '-keyout', path.join(d, 'k.pem'),
      '-out', path.join(d, 'r.pem'), '-subj', `/CN=${names[0]}`,
      '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`], { stdio: 'pipe' });
    return fs.readFileSync(path.join(d, 'r.pem'), 'utf8');
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
}

const sdk = {
  create: async (c, f) => (await c.createCertificateRequest(new Cas.CreateCertificateRequestRequest(f))).body,
  createCsr: async (c, f) => (await c.createCertificateWithCsrRequest(new Cas.CreateCertificateWithCsrRequestRequest(f))).body,
  createPackage: async (c, f) => (await c.createCertificateForPackageRequest(new Cas.CreateCertificateForPackageRequestRequest(f))).body,
  state: async (c, orderId) => (await c.describeCertificateState(new Cas.DescribeCertificateStateRequest({ orderId }))).body,
  cancel: async (c, orderId) => (await c.cancelOrderRequest(new Cas.CancelOrderRequestRequest({ orderId }))).body,
  del: async (c, orderId) => (await c.deleteCertificateRequest(new Cas.DeleteCertificateRequestRequest({ orderId }))).body,
  list: async (c, f) => (await c.listUserCertificateOrder(new Cas.ListUserCertificateOrderRequest(f))).body,
};

for (const v2 of SIGS) {
  test(`apply naming an existing contact by Phone/Email; DescribeCertificateState follows the REST transitions (${sigName(v2)})`, async () => {
    const c = casClient(server, admin, { v2 });
    const ct = await verifiedContact(admin);
    const d = domain();
    const r = await sdk.create(c, {
      domain: d, email: ct.body.email.toUpperCase(), phone: local(ct.body.mobile),
      username: 'Another Name', validateType: 'DNS',
    });
    assert.match(r.requestId, /^[0-9A-F-]{36}$/);
    assert.ok(Number.isInteger(r.orderId) && r.orderId > 0, JSON.stringify(r));
    const app = await getApp(admin, r.orderId);
    assert.equal(app.contact_id, ct.id, 'the contact with this email and mobile');
    assert.equal(app.product, 'digicert-free-1-free', 'the default ProductCode');
    assert.equal(app.state, 'submitted');
    const named = assertOk(await api(server, 'GET', `/v1/contacts/${ct.id}`, { key: admin }), 200);
    assert.equal(named.name, ct.name, 'Username does not rename a contact that was found');

    assert.equal(app.validate_type, 'DNS', 'REST shows the ValidateType the order named');
    let s = await sdk.state(c, r.orderId);
    assert.equal(s.type, 'domain_verify');
    assert.equal(s.validateType, 'DNS');
    for (const k of ['domain', 'recordDomain', 'recordType', 'recordValue', 'uri', 'content', 'certificate']) {
      assert.equal(s[k], '', `${k} is empty until there is validation data / a certificate`);
    }
    assert.equal(s.privateKey, undefined, 'never a private key');

    await move(admin, r.orderId, { to: 'pending_validation' });
    assert.equal((await sdk.state(c, r.orderId)).type, 'domain_verify');
    await move(admin, r.orderId, { to: 'approved' });
    assert.equal((await sdk.state(c, r.orderId)).type, 'process');
    const leaf = pki.leaf([d], { days: 90 });
    await move(admin, r.orderId, { to: 'issued', certificate_pem: leaf.pem });
    s = await sdk.state(c, r.orderId);
    assert.equal(s.type, 'certificate');
    assert.equal(s.certificate, leaf.pem);
    assert.equal(s.privateKey, undefined);

    const list = await sdk.list(c, { orderType: 'CPACK', keyword: d });
    assert.equal(list.totalCount, 1, JSON.stringify(list));
    const item = list.certificateOrderList[0];
    assert.equal(item.orderId, r.orderId);
    assert.equal(item.status, 'ISSUED');
    assert.equal(item.productCode, 'digicert-free-1-free');
    assert.equal(item.rootBrand, 'DigiCert');
    assert.equal(item.certType, 'DV');
    assert.equal(item.domain, d);
    assert.equal(item.domainType, 'ONE');
    assert.equal(item.domainCount, 1);
    assert.equal(item.sourceType, 'cpack');
    assert.equal(item.certEndTime, leaf.notAfter);
    assert.equal(typeof item.buyDate, 'number');

    // A rejected one is verify_fail.
    const r2 = await sdk.create(c, { domain: domain(), email: ct.body.email, phone: ct.body.mobile, validateType: 'FILE' });
    assert.equal((await sdk.state(c, r2.orderId)).validateType, 'FILE');
    await move(admin, r2.orderId, { to: 'rejected', reason: 'no' });
    assert.equal((await sdk.state(c, r2.orderId)).type, 'verify_fail');
  });

  test(`CreateCertificateWithCsrRequest takes the CSR's names; CreateCertificateForPackageRequest: OV needs the contact's ID card (${sigName(v2)})`, async () => {
    const c = casClient(server, admin, { v2 });
    const ct = await verifiedContact(admin);
    const d = domain();
    const r = await sdk.createCsr(c, { csr: csrFor([d]), email: ct.body.email, phone: ct.body.mobile, username: ct.name, validateType: 'DNS' });
    const app = await getApp(admin, r.orderId);
    assert.deepEqual(app.domains.map((x) => x.name ?? x), [d]);
    assert.equal(app.contact_id, ct.id);

    // OV through the package action, the contact without an ID card: the coded error.
    const e = assertCoded(await rejects(sdk.createPackage(c, {
      productCode: 'digicert-ov-1-personal', domain: domain(), email: ct.body.email, phone: ct.body.mobile,
      companyName: 'A company', validateType: 'DNS',
    })), 'InvalidParameter.Contact');
    assert.match(e.data.Message, /ID card/);
    assert.match(e.data.Message, /MissingParameter\.IdCard/);
    // With the ID card on the contact the same order goes through.
    const withId = await verifiedContact(admin, { id_card: ID_CARD });
    const ok = await sdk.createPackage(c, {
      productCode: 'digicert-ov-1-personal', domain: domain(), email: withId.body.email, phone: withId.body.mobile,
      companyName: '某某公司',
    });
    const okApp = await getApp(admin, ok.orderId);
    assert.equal(okApp.product, 'digicert-ov-1-personal');
    assert.equal(okApp.validate_type, null, 'the package action may leave ValidateType out');
    assert.equal((await sdk.state(c, ok.orderId)).validateType, '');
    // The package action with a CSR only.
    const d2 = domain();
    const pk = await sdk.createPackage(c, { csr: csrFor([d2]), email: ct.body.email, phone: ct.body.mobile });
    assert.deepEqual((await getApp(admin, pk.orderId)).domains.map((x) => x.name ?? x), [d2]);
    // The DV-only actions refuse an OV product.
    assertCoded(await rejects(sdk.create(c, {
      productCode: 'digicert-ov-1-personal', domain: domain(), email: withId.body.email, phone: withId.body.mobile, validateType: 'DNS',
    })), 'InvalidParameter');
  });

  test(`apply with a new Username/Phone/Email verified through REST: the contact is saved and ListContact finds it (${sigName(v2)})`, async () => {
    const c = casClient(server, admin, { v2 });
    const name = `新联系人 ${unique('n')}`;
    const email = `${unique('nc')}@example.com`;
    const mobile = uniqueMobile('137');
    // Unverified: the coded error, and nothing is saved.
    let e = assertCoded(await rejects(sdk.create(c, { domain: domain(), username: name, email, phone: local(mobile), validateType: 'DNS' })),
      'InvalidParameter.Contact');
    assert.match(e.data.Message, /Unverified\.Email/);
    assert.match(e.data.Message, /Unverified\.Mobile/);
    assert.equal((await sdkListContact(c, { keyword: name })).totalCount, 0, 'nothing saved');
    // Verified first through the REST verify-before-save flow.
    await confirmTargetFromLog(server, admin, 'email', email);
    await confirmTargetFromLog(server, admin, 'mobile', mobile);
    const r = await sdk.create(c, { domain: domain(), username: name, email, phone: local(mobile), validateType: 'DNS' });
    const list = await sdkListContact(c, { keyword: name });
    assert.equal(list.totalCount, 1, JSON.stringify(list));
    const saved = list.contactList[0];
    assert.equal(saved.name, name);
    assert.equal(saved.emailStatus, 1);
    assert.equal(saved.mobileStatus, 1);
    assert.equal((await getApp(admin, r.orderId)).contact_id, saved.contactId);
    // The next order with the same Phone/Email names that contact: no second one.
    const r2 = await sdk.create(c, { domain: domain(), username: name, email, phone: mobile, validateType: 'DNS' });
    assert.equal((await getApp(admin, r2.orderId)).contact_id, saved.contactId);
    assert.equal((await sdkListContact(c, { keyword: name })).totalCount, 1);
    // A Phone/Email that match no contact, without Username: MissingUsername; one of
    // the two alone: the other is missing; a Phone that is no number: IncorrectFormat.
    e = assertCoded(await rejects(sdk.create(c, { domain: domain(), email: `${unique('x')}@example.com`, phone: uniqueMobile('137'), validateType: 'DNS' })),
      'MissingUsername');
    e = assertCoded(await rejects(sdk.create(c, { domain: domain(), email, validateType: 'DNS' })), 'MissingPhone');
    e = assertCoded(await rejects(sdk.create(c, { domain: domain(), email, phone: '12', username: name, validateType: 'DNS' })), 'IncorrectFormat.Phone');
  });

  test(`apply with no contact fields: the most recently created contact; none at all: MissingContact (${sigName(v2)})`, async () => {
    const acct = createAccount(dir);
    const c = casClient(server, acct, { v2 });
    assertCoded(await rejects(sdk.create(c, { domain: domain(), validateType: 'DNS' })), 'MissingContact');
    const first = await verifiedContact(acct);
    const second = await verifiedContact(acct);
    // The first is changed after the second was created: created, not changed, counts.
    assertOk(await api(server, 'PATCH', `/v1/contacts/${first.id}`, { key: acct, json: { name: 'renamed' } }), 200);
    const r = await sdk.create(c, { domain: domain(), validateType: 'DNS' });
    assert.equal((await getApp(acct, r.orderId)).contact_id, second.id);
  });

  test(`CancelOrderRequest and DeleteCertificateRequest withdraw an order as REST allows (${sigName(v2)})`, async () => {
    const c = casClient(server, admin, { v2 });
    const ct = await verifiedContact(admin);
    const named = { email: ct.body.email, phone: ct.body.mobile, validateType: 'DNS' };
    const a = await sdk.create(c, { domain: domain(), ...named });
    assert.match((await sdk.cancel(c, a.orderId)).requestId, /^[0-9A-F-]{36}$/);
    assert.equal((await getApp(admin, a.orderId)).state, 'cancelled');
    assert.equal((await sdk.state(c, a.orderId)).type, 'payed');
    assertCoded(await rejects(sdk.cancel(c, a.orderId)), 'IncorrectStatus');

    const b = await sdk.create(c, { domain: domain(), ...named });
    await move(admin, b.orderId, { to: 'pending_validation' });
    await sdk.del(c, b.orderId);
    assert.equal((await getApp(admin, b.orderId)).state, 'cancelled');
    await sdk.del(c, b.orderId); // nothing left to withdraw: still fine
    const rej = await sdk.create(c, { domain: domain(), ...named });
    await move(admin, rej.orderId, { to: 'rejected' });
    await sdk.del(c, rej.orderId);
    assert.equal((await getApp(admin, rej.orderId)).state, 'rejected');

    const d = domain();
    const iss = await sdk.create(c, { domain: d, ...named });
    await issueApp(admin, iss.orderId, pki.leaf([d]).pem);
    assertCoded(await rejects(sdk.del(c, iss.orderId)), 'IncorrectStatus');
    assertCoded(await rejects(sdk.cancel(c, iss.orderId)), 'IncorrectStatus');

    // Not this account's, or no such order: NotFound; OrderId missing or not a number.
    const o = casClient(server, other, { v2 });
    for (const fn of [sdk.state, sdk.cancel, sdk.del]) {
      assertCoded(await rejects(fn(o, iss.orderId)), 'NotFound');
      assertCoded(await rejects(fn(c, 999999999)), 'NotFound');
    }
    assertCoded(await rejects(callAction(c, 'DescribeCertificateState', {})), 'MissingOrderId');
    assertCoded(await rejects(callAction(c, 'CancelOrderRequest', { OrderId: 'x' })), 'IncorrectFormat.OrderId');
    // A readonly key reads but may not apply, cancel or delete.
    const ro = casClient(server, readonly, { v2 });
    assert.equal((await sdk.state(ro, iss.orderId)).type, 'certificate');
    assertCoded(await rejects(sdk.create(ro, { domain: domain(), ...named })), 'Forbidden.RAM', 403);
    assertCoded(await rejects(sdk.create(ro, { validateType: 'DNS' })), 'Forbidden.RAM', 403);
    assertCoded(await rejects(sdk.cancel(ro, b.orderId)), 'Forbidden.RAM', 403);
    assertCoded(await rejects(sdk.del(ro, rej.orderId)), 'Forbidden.RAM', 403);
  });

  test(`ClientToken makes a repeated CreateCertificateRequest return the same OrderId (${sigName(v2)})`, async () => {
    const c = casClient(server, admin, { v2 });
    const ct = await verifiedContact(admin);
    const params = { Domain: domain(), Email: ct.body.email, Phone: ct.body.mobile, ValidateType: 'DNS', ClientToken: unique('tok') };
    const first = await callAction(c, 'CreateCertificateRequest', params);
    const again = await callAction(c, 'CreateCertificateRequest', params, { where: 'body' });
    assert.equal(again.OrderId, first.OrderId);
    const apps = assertOk(await api(server, 'GET', `/v1/applications?domain=${params.Domain}`, { key: admin }), 200);
    assert.equal(apps.total, 1, 'one application');
    assertCoded(await rejects(callAction(c, 'CreateCertificateRequest', { ...params, Domain: domain() })), 'IdempotentParameterMismatch');
    assertCoded(await rejects(callAction(c, 'CreateCertificateWithCsrRequest', { ...params, Csr: csrFor([params.Domain]) })),
      'IdempotentParameterMismatch');
    // A new contact made with the order is made once.
    const name = `once ${unique('n')}`;
    const email = `${unique('once')}@example.com`;
    const mobile = uniqueMobile('138');
    await confirmTargetFromLog(server, admin, 'email', email);
    await confirmTargetFromLog(server, admin, 'mobile', mobile);
    const p2 = { Domain: domain(), Username: name, Email: email, Phone: mobile, ValidateType: 'FILE', ClientToken: unique('tok') };
    const a = await callAction(c, 'CreateCertificateRequest', p2);
    const b = await callAction(c, 'CreateCertificateRequest', p2);
    assert.equal(a.OrderId, b.OrderId);
    assert.equal((await sdkListContact(c, { keyword: name })).totalCount, 1);
  });

  test(`a contact on an open order cannot be deleted through DeleteContact (${sigName(v2)})`, async () => {
    const c = casClient(server, admin, { v2 });
    const ct = await verifiedContact(admin);
    const r = await sdk.create(c, { domain: domain(), email: ct.body.email, phone: ct.body.mobile, validateType: 'DNS' });
    const e = assertCoded(await rejects(callAction(c, 'DeleteContact', { ContactId: ct.id })), 'Contact.InUse');
    assert.match(e.data.Message, new RegExp(String(r.orderId)));
    assert.equal((await callAction(c, 'GetContact', { ContactId: ct.id })).ContactId, ct.id, 'still there');
    await sdk.cancel(c, r.orderId);
    await callAction(c, 'DeleteContact', { ContactId: ct.id });
    assertCoded(await rejects(callAction(c, 'GetContact', { ContactId: ct.id })), 'NotFound');
  });
}

test('parameters the order actions check themselves', async () => {
  const c = casClient(server, admin);
  const ct = await verifiedContact(admin);
  const named = { email: ct.body.email, phone: ct.body.mobile };
  assertCoded(await rejects(sdk.create(c, { domain: domain(), ...named })), 'MissingValidateType');
  assertCoded(await rejects(sdk.create(c, { domain: domain(), ...named, validateType: 'HTTP' })), 'InvalidParameter');
  assertCoded(await rejects(sdk.create(c, { ...named, validateType: 'DNS' })), 'MissingDomain');
  assertCoded(await rejects(sdk.createCsr(c, { ...named, validateType: 'DNS' })), 'MissingCsr');
  assertCoded(await rejects(sdk.createPackage(c, { ...named })), 'MissingDomain');
  assertCoded(await rejects(sdk.create(c, { domain: domain(), ...named, validateType: 'DNS', productCode: 'no-such-product' })), 'InvalidParameter');
  assertCoded(await rejects(sdk.create(c, { domain: 'not a domain', ...named, validateType: 'DNS' })), 'IncorrectFormat.Domain');
  assertCoded(await rejects(sdk.createCsr(c, { csr: 'garbage', ...named, validateType: 'DNS' })), 'IncorrectFormat.Csr');
  assertCoded(await rejects(sdk.createPackage(c, { domain: domain(), ...named, companyName: 'x'.repeat(300) })), 'IncorrectFormat.CompanyName');
  assertCoded(await rejects(sdk.list(c, { orderType: 'OTHER' })), 'InvalidParameter');
  assertCoded(await rejects(sdk.list(c, { status: 'NOPE' })), 'InvalidParameter');
  assertCoded(await rejects(sdk.list(c, { showSize: 101 })), 'InvalidParameter');
});

for (const v2 of SIGS) {
  test(`ListUserCertificateOrder by each OrderType and Status (${sigName(v2)})`, async () => {
    const acct = createAccount(dir);
    const c = casClient(server, acct, { v2 });
    const ct = await verifiedContact(acct);
    const named = { email: ct.body.email, phone: ct.body.mobile, validateType: 'DNS' };
    const order = async () => {
      const d = domain();
      return { d, id: (await sdk.create(c, { domain: d, ...named })).orderId };
    };
    const checking = [await order(), await order(), await order()];
    await move(acct, checking[1].id, { to: 'pending_validation' });
    await move(acct, checking[2].id, { to: 'pending_validation' });
    await move(acct, checking[2].id, { to: 'approved' });
    const failed = await order();
    await move(acct, failed.id, { to: 'rejected' });
    const payed = await order();
    await sdk.cancel(c, payed.id);
    const issue = async (opts) => {
      const o = await order();
      const leaf = pki.leaf([o.d], opts);
      await issueApp(acct, o.id, leaf.pem);
      const certs = assertOk(await api(server, 'GET', `/v1/certificates?domain=${o.d}`, { key: acct }), 200);
      return { ...o, leaf, certId: certs.items[0]?.id };
    };
    const issued = await issue({ days: 90 });
    const soon = await issue({ days: 10 }); // within the first reminder threshold (30 days by default)
    const expired = await issue({ fromDays: -60, days: -1 });
    const revoked = await issue({ days: 90 });
    assertOk(await api(server, 'POST', `/v1/certificates/${revoked.certId}/revoke`, { key: acct, json: { reason: 'test' } }), 200);

    const ids = (l) => l.certificateOrderList.map((x) => x.orderId).sort((a, b) => a - b);
    const sorted = (xs) => xs.map((x) => x.id).sort((a, b) => a - b);
    const all = await sdk.list(c, {});
    assert.equal(all.totalCount, 9, 'CPACK is the default: every application');
    assert.equal(all.showSize, 50);
    assert.equal(all.currentPage, 1);
    const cases = {
      CHECKING: checking, CHECKED_FAIL: [failed], PAYED: [payed], ISSUED: [issued], WILLEXPIRED: [soon],
      EXPIRED: [expired], REVOKED: [revoked], NOTACTIVATED: [],
    };
    for (const [status, want] of Object.entries(cases)) {
      const l = await sdk.list(c, { orderType: 'CPACK', status });
      assert.equal(l.totalCount, want.length, `${status}: ${JSON.stringify(l)}`);
      assert.deepEqual(ids(l), sorted(want), status);
      for (const it of l.certificateOrderList) assert.equal(it.status, status);
    }
    // Paging through a Status that spans several states.
    const p1 = await sdk.list(c, { status: 'CHECKING', showSize: 2, currentPage: 1 });
    const p2 = await sdk.list(c, { status: 'CHECKING', showSize: 2, currentPage: 2 });
    assert.equal(p1.totalCount, 3);
    assert.equal(p1.certificateOrderList.length, 2);
    assert.equal(p2.certificateOrderList.length, 1);
    assert.deepEqual([...ids(p1), ...ids(p2)].sort((a, b) => a - b), sorted(checking));
    assert.equal((await sdk.list(c, { orderType: 'BUY' })).totalCount, 0, 'no purchase orders');

    // Certificates: CERT and UPLOAD.
    for (const orderType of ['CERT', 'UPLOAD']) {
      const valid = await sdk.list(c, { orderType });
      assert.deepEqual(valid.certificateOrderList.map((x) => x.certificateId).sort((a, b) => a - b),
        [issued.certId, soon.certId].sort((a, b) => a - b), `${orderType}: valid ones by default`);
      const it = valid.certificateOrderList.find((x) => x.certificateId === issued.certId);
      assert.equal(it.commonName, issued.d);
      assert.equal(it.sans, issued.d);
      assert.equal(it.status, 'ISSUED');
      assert.equal(it.expired, false);
      assert.equal(it.upload, true);
      // as GetUserCertificateDetail shows them: Fingerprint the SHA-1, Sha2 the SHA-256
      const x509 = new crypto.X509Certificate(issued.leaf.pem);
      assert.equal(it.fingerprint, x509.fingerprint.replace(/:/g, ''));
      assert.equal(it.sha2, x509.fingerprint256.replace(/:/g, ''));
      assert.match(it.issuer, /certcontacts Test Intermediate/);
      assert.match(it.serialNo, /^[0-9a-fA-F]+$/);
      assert.equal(it.endDate, new Date(issued.leaf.notAfter).toISOString().slice(0, 10));
      assert.match(it.startDate, /^\d{4}-\d{2}-\d{2}$/);
      assert.equal(it.certEndTime, issued.leaf.notAfter);
      const byStatus = {
        ISSUED: [issued, soon], WILLEXPIRED: [soon], EXPIRED: [expired], REVOKED: [revoked], CHECKING: [],
      };
      for (const [status, want] of Object.entries(byStatus)) {
        const l = await sdk.list(c, { orderType, status });
        assert.deepEqual(l.certificateOrderList.map((x) => x.certificateId).sort((a, b) => a - b),
          want.map((x) => x.certId).sort((a, b) => a - b), `${orderType} ${status}`);
        assert.equal(l.totalCount, want.length);
      }
      const exp = (await sdk.list(c, { orderType, status: 'EXPIRED' })).certificateOrderList[0];
      assert.equal(exp.expired, true);
      assert.equal(exp.status, 'EXPIRED');
      assert.equal((await sdk.list(c, { orderType, status: 'WILLEXPIRED' })).certificateOrderList[0].status, 'WILLEXPIRED');
      const kw = await sdk.list(c, { orderType, keyword: soon.d });
      assert.deepEqual(kw.certificateOrderList.map((x) => x.certificateId), [soon.certId]);
    }
    // "Soon" is the account's first reminder threshold: at 5 days the 10-day certificate
    // is no longer about to expire.
    assertOk(await api(server, 'PUT', '/v1/settings/reminders', { key: acct, json: { days_before: [5, 1] } }), 200);
    assert.deepEqual(ids(await sdk.list(c, { status: 'WILLEXPIRED' })), []);
    assert.deepEqual(ids(await sdk.list(c, { status: 'ISSUED' })), sorted([issued, soon]));
    assert.equal((await sdk.list(c, { orderType: 'CERT', status: 'WILLEXPIRED' })).totalCount, 0);
    assert.equal((await sdk.list(c, { orderType: 'CERT', keyword: soon.d })).certificateOrderList[0].status, 'ISSUED');
    assertOk(await api(server, 'PUT', '/v1/settings/reminders', { key: acct, json: { days_before: [60] } }), 200);
    assert.deepEqual(ids(await sdk.list(c, { status: 'WILLEXPIRED' })), sorted([soon]));
    // A CPACK Keyword is one of the order's names.
    assert.deepEqual(ids(await sdk.list(c, { keyword: failed.d })), [failed.id]);
    assertCoded(await rejects(sdk.list(c, { keyword: 'no domain' })), 'IncorrectFormat.Keyword');
    // Another account sees none of it.
    assert.equal((await sdk.list(casClient(server, other, { v2 }), { orderType: 'CERT' })).totalCount, 0);
  });
}
