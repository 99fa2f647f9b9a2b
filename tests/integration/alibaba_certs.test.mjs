// alibaba_certs.test.mjs — the certificate actions of Alibaba Cloud's CAS API through the
// official SDK's generated methods (@alicloud/cas20200407), with both signature methods
// (ACS3-HMAC-SHA256, the default, and HMAC-SHA1): UploadUserCertificate with an
// openssl-made certificate and key, GetUserCertificateDetail read back (the key only for an
// admin key, audited; CertFilter leaves Cert and Key out), the refusals as the SDK's coded
// errors (a key of another certificate, a damaged PEM, missing parameters, roles, another
// account), DeleteUserCertificate; and a walk over every action the pinned SDK declares:
// each is answered, or refused as UnsupportedOperation, and docs/alibaba-compat.md lists it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Cas from '@alicloud/cas20200407';

import {
  makeDataDir, removeDir, startServer, createAccount, createKey, api, assertOk, unique, ROOT,
} from './lib/harness.mjs';
import { casClient, callAction, rejects } from './lib/alibaba.mjs';
import { Pki } from './lib/pki.mjs';

let dir, server, admin, operator, readonly, other, pki;

before(async () => {
  dir = makeDataDir();
  pki = new Pki();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  other = createAccount(dir);
  server = await startServer(dir);
});

after(async () => {
  try {
    await server?.stop();
  } finally {
    pki?.remove();
    removeDir(dir);
  }
});

const SIGS = [false, true];
const label = (v2) => (v2 ? 'HMAC-SHA1' : 'ACS3-HMAC-SHA256');
const names = () => {
  const d = `${unique('c').toLowerCase().replace(/[^a-z0-9]/g, '')}.example.com`;
  return [d, `www.${d}`];
};

function assertCoded(e, code, status) {
  assert.equal(e.code, code, `${e.code}: ${e.message}`);
  if (status !== undefined) assert.equal(e.statusCode, status, e.message);
  assert.equal(e.data?.Code, code);
  assert.equal(typeof e.data.Message, 'string');
  assert.match(e.data.RequestId, /^[0-9A-F-]{36}$/);
  return e;
}

const upload = (c, req) => c.uploadUserCertificate(new Cas.UploadUserCertificateRequest(req)).then((r) => r.body);
const detail = (c, certId, certFilter) =>
  c.getUserCertificateDetail(new Cas.GetUserCertificateDetailRequest({ certId, certFilter })).then((r) => r.body);
const remove = (c, certId) => c.deleteUserCertificate(new Cas.DeleteUserCertificateRequest({ certId })).then((r) => r.body);

async function keyReads(id) {
  const res = await api(server, 'GET', `/v1/audit?${new URLSearchParams({ action: 'certificate.private_key.read', target_id: String(id) })}`, { key: admin });
  assertOk(res, 200);
  return res.json.items.length;
}

for (const v2 of SIGS) {
  test(`upload, read back, delete through the SDK (${label(v2)})`, async () => {
    const n = names();
    const leaf = pki.leaf(n, { key: v2 ? 'rsa' : 'ec', days: 60 });
    const name = `cert_${unique('n')}`;
    const up = await upload(casClient(server, operator, { v2 }), { name, cert: leaf.chain, key: leaf.key });
    assert.ok(Number.isInteger(up.certId) && up.certId > 0, JSON.stringify(up));
    assert.match(up.requestId, /^[0-9A-F-]{36}$/);
    const id = up.certId;

    // the key is kept sealed: REST shows it is there and never shows it
    const rest = assertOk(await api(server, 'GET', `/v1/certificates/${id}`, { key: admin }), 200);
    assert.equal(rest.has_private_key, true);
    assert.equal(rest.name, name);
    assert.ok(!JSON.stringify(rest).includes('PRIVATE KEY'));

    const x = new crypto.X509Certificate(leaf.pem);
    const got = await detail(casClient(server, admin, { v2 }), id);
    assert.equal(got.id, id);
    assert.equal(got.name, name);
    assert.equal(got.common, n[0]);
    assert.equal(got.sans, n.join(','));
    assert.equal(got.cert, leaf.chain);
    assert.equal(got.key, leaf.key, 'an admin key reads the key');
    assert.equal(got.algorithm, v2 ? 'RSA' : 'ECC');
    assert.equal(got.expired, false);
    assert.equal(got.buyInAliyun, false);
    assert.equal(got.notAfter, leaf.notAfter);
    assert.equal(got.endDate, new Date(leaf.notAfter).toISOString().slice(0, 10));
    assert.equal(got.startDate, new Date(x.validFrom).toISOString().slice(0, 10));
    assert.equal(got.fingerprint, x.fingerprint.replace(/:/g, ''));
    assert.equal(got.sha2, x.fingerprint256.replace(/:/g, ''));
    assert.equal(got.serialNo, x.serialNumber.toLowerCase().replace(/^0+/, ''));
    assert.equal(got.issuer, 'certcontacts Test Intermediate', 'no O in the issuer: its CN');
    assert.equal(got.certChain.length, 2);
    assert.equal(got.certChain[0].commonName, n[0]);
    assert.equal(got.certChain[0].issuerCommonName, 'certcontacts Test Intermediate');
    assert.equal(got.certChain[1].commonName, 'certcontacts Test Intermediate');
    assert.equal(got.certChain[1].issuerCommonName, 'certcontacts Test Root');
    assert.ok(got.certChain[0].remainDay >= 58 && got.certChain[0].remainDay <= 60, String(got.certChain[0].remainDay));
    assert.equal(await keyReads(id), 1, 'the reveal is audited');

    // operator and readonly keys read everything but the key; no reveal is audited
    for (const k of [operator, readonly]) {
      const seen = await detail(casClient(server, k, { v2 }), id);
      assert.equal(seen.cert, leaf.chain);
      assert.equal(seen.key, undefined);
      assert.equal(seen.common, n[0]);
    }
    // CertFilter=true leaves out Cert and Key, as Alibaba does; no reveal
    const filtered = await detail(casClient(server, admin, { v2 }), id, true);
    assert.equal(filtered.cert, undefined);
    assert.equal(filtered.key, undefined);
    assert.equal(filtered.common, n[0]);
    assert.equal(await keyReads(id), 1);

    // a readonly key may not delete; an operator may
    assertCoded(await rejects(remove(casClient(server, readonly, { v2 }), id)), 'Forbidden.RAM', 403);
    const del = await remove(casClient(server, operator, { v2 }), id);
    assert.match(del.requestId, /^[0-9A-F-]{36}$/);
    assertCoded(await rejects(detail(casClient(server, admin, { v2 }), id)), 'NotFound', 400);
    assertCoded(await rejects(remove(casClient(server, operator, { v2 }), id)), 'NotFound', 400);
    assert.equal((await api(server, 'GET', `/v1/certificates/${id}`, { key: admin })).status, 404);
  });

  test(`refusals are the SDK's coded errors and leave nothing behind (${label(v2)})`, async () => {
    const c = casClient(server, operator, { v2 });
    const before = assertOk(await api(server, 'GET', '/v1/certificates?page_size=100', { key: admin }), 200).total;
    const leaf = pki.leaf(names());
    const stranger = pki.leaf(names());
    let e = assertCoded(await rejects(upload(c, { name: 'x', cert: leaf.chain, key: stranger.key })), 'IncorrectFormat.Key', 400);
    assert.match(e.data.Message, /does not match/);
    e = assertCoded(await rejects(upload(c, { name: 'x', cert: '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n', key: leaf.key })), 'IncorrectFormat.Cert', 400);
    assertCoded(await rejects(upload(c, { name: 'x', cert: 'hello', key: leaf.key })), 'IncorrectFormat.Cert', 400);
    assertCoded(await rejects(upload(c, { name: 'x', cert: leaf.chain, key: 'not a key' })), 'IncorrectFormat.Key', 400);
    assertCoded(await rejects(upload(c, { name: 'x', cert: leaf.chain + leaf.key, key: leaf.key })), 'IncorrectFormat.Cert', 400);
    assertCoded(await rejects(upload(c, { cert: leaf.chain, key: leaf.key })), 'MissingName', 400);
    assertCoded(await rejects(upload(c, { name: 'x', key: leaf.key })), 'MissingCert', 400);
    assertCoded(await rejects(upload(c, { name: 'x', cert: leaf.chain })), 'MissingKey', 400);
    e = assertCoded(await rejects(upload(c, { name: 'x', signCert: leaf.pem, signPrivateKey: leaf.key })), 'InvalidParameter', 400);
    assert.match(e.data.Message, /SM/);
    assertCoded(await rejects(upload(casClient(server, readonly, { v2 }), { name: 'x', cert: leaf.chain, key: leaf.key })), 'Forbidden.RAM', 403);
    const after = assertOk(await api(server, 'GET', '/v1/certificates?page_size=100', { key: admin }), 200).total;
    assert.equal(after, before, 'a refused upload stores nothing');

    // the same certificate twice
    const { certId } = await upload(c, { name: 'once', cert: leaf.chain, key: leaf.key });
    e = assertCoded(await rejects(upload(c, { name: 'twice', cert: leaf.chain, key: leaf.key })), 'AlreadyExists.Certificate', 400);
    assert.match(e.data.Message, new RegExp(String(certId)));

    // CertId
    assertCoded(await rejects(detail(c)), 'MissingCertId', 400);
    assertCoded(await rejects(remove(c)), 'MissingCertId', 400);
    assertCoded(await rejects(callAction(c, 'GetUserCertificateDetail', { CertId: 'abc' })), 'IncorrectFormat.CertId', 400);
    assertCoded(await rejects(callAction(c, 'GetUserCertificateDetail', { CertId: certId, CertFilter: 'maybe' })), 'IncorrectFormat.CertFilter', 400);
    // another account sees nothing and deletes nothing
    const o = casClient(server, other, { v2 });
    assertCoded(await rejects(detail(o, certId)), 'NotFound', 400);
    assertCoded(await rejects(remove(o, certId)), 'NotFound', 400);
    assert.equal((await detail(c, certId, true)).name, 'once');
  });
}

test('an expired certificate reads Expired; one added through REST without a PEM has no Cert', async () => {
  const c = casClient(server, admin);
  const n = names();
  const old = pki.leaf(n, { fromDays: -30, days: -2 });
  const { certId } = await upload(c, { name: 'old', cert: old.chain, key: old.key });
  const got = await detail(c, certId);
  assert.equal(got.expired, true);
  assert.equal(got.certChain[0].remainDay, 0);
  assert.equal(got.key, old.key);

  const meta = assertOk(await api(server, 'POST', '/v1/certificates', {
    key: operator, json: { domains: names(), not_after: '2031-05-01', product: 'digicert-free-1-free', name: 'kept elsewhere' },
  }), 201);
  const m = await detail(c, meta.id);
  assert.equal(m.name, 'kept elsewhere');
  assert.equal(m.endDate, '2031-05-01');
  assert.equal(m.expired, false);
  assert.equal(m.issuer, 'digicert-free-1-free');
  assert.equal(m.cert, undefined);
  assert.equal(m.key, undefined);
  assert.equal(m.certChain, undefined);
  assert.equal(m.sans, meta.domains.join(','));
});

// ------------------------------------------------------------ every action of the SDK
const require = createRequire(import.meta.url);
const SDK_JS = require.resolve('@alicloud/cas20200407');
const SDK_ACTIONS = [...new Set([...fs.readFileSync(SDK_JS, 'utf8').matchAll(/action: "([A-Za-z]+)"/g)].map((m) => m[1]))].sort();
const DOC = fs.readFileSync(path.join(ROOT, 'docs/alibaba-compat.md'), 'utf8');
// What certcontacts answers; every other action of the SDK is UnsupportedOperation.
const CONTACTS = ['ListContact'];
const CERTS = ['UploadUserCertificate', 'GetUserCertificateDetail', 'DeleteUserCertificate'];
const ORDERS = ['CreateCertificateRequest', 'CreateCertificateWithCsrRequest', 'CreateCertificateForPackageRequest',
  'DescribeCertificateState', 'CancelOrderRequest', 'DeleteCertificateRequest', 'ListUserCertificateOrder'];
// The order actions live in src/http/acs_orders.c; until it is part of the tree they are not walked.
const HAVE_ORDERS = fs.existsSync(path.join(ROOT, 'src/http/acs_orders.c'));

const method = (action) => action[0].toLowerCase() + action.slice(1);

// One action through its generated method, with an empty request.
async function viaSdk(c, action) {
  const fn = c[method(action)];
  assert.equal(typeof fn, 'function', `the SDK has ${method(action)}`);
  const Req = Cas[`${action}Request`];
  return fn.length === 0 ? fn.call(c) : fn.call(c, new Req({}));
}

test('the pinned SDK declares the actions this file walks', () => {
  const pinned = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/package.json'), 'utf8')).dependencies['@alicloud/cas20200407'];
  const installed = JSON.parse(fs.readFileSync(path.join(path.dirname(SDK_JS), '../package.json'), 'utf8')).version;
  assert.equal(installed, pinned);
  assert.equal(SDK_ACTIONS.length, 44, SDK_ACTIONS.join(' '));
  for (const a of [...CONTACTS, ...CERTS, ...ORDERS]) assert.ok(SDK_ACTIONS.includes(a), a);
});

test('docs/alibaba-compat.md has a row for every action of the SDK', () => {
  for (const a of SDK_ACTIONS) {
    assert.match(DOC, new RegExp(`^\\| \`${a}\` \\|`, 'm'), `${a} is not in the action table`);
  }
});

for (const v2 of SIGS) {
  test(`every SDK action is answered or refused as UnsupportedOperation (${label(v2)})`, async () => {
    const c = casClient(server, admin, { v2 });
    const supported = new Set([...CONTACTS, ...CERTS, ...ORDERS]);
    let unsupported = 0;
    for (const action of SDK_ACTIONS) {
      if (ORDERS.includes(action) && !HAVE_ORDERS) continue;
      let e = null;
      try {
        await viaSdk(c, action);
      } catch (err) {
        e = err;
      }
      if (supported.has(action)) {
        // answered: a success, or an error of the action's own (a missing parameter)
        if (e) {
          assert.ok(e.code && e.data?.Code, `${action}: not a coded error: ${e}`);
          assert.notEqual(e.code, 'UnsupportedOperation', action);
          assert.notEqual(e.code, 'InvalidAction.NotFound', action);
        }
        continue;
      }
      assert.ok(e, `${action} succeeded`);
      assertCoded(e, 'UnsupportedOperation', 400);
      assert.match(e.data.Message, new RegExp(`does not offer ${action}\\.`));
      unsupported++;
    }
    assert.equal(unsupported, SDK_ACTIONS.length - supported.size);
  });
}

test('an unsupported action is authenticated first; an action no SDK declares is InvalidAction.NotFound', async () => {
  const bad = casClient(server, admin, { secret: `${admin.access_key_secret}x` });
  assertCoded(await rejects(viaSdk(bad, 'ListCert')), 'SignatureDoesNotMatch', 400);
  const c = casClient(server, readonly, { v2: true });
  assertCoded(await rejects(viaSdk(c, 'Sign')), 'UnsupportedOperation', 400);
  assertCoded(await rejects(callAction(c, 'DescribeRegions', {})), 'InvalidAction.NotFound', 404);
});
