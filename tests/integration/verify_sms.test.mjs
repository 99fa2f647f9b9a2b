// verify_sms.test.mjs — verifying mobile numbers with codes sent through the
// "aliyun" SMS provider to a local stand-in for Alibaba Cloud SMS SendSms that
// checks the HMAC-SHA1 signature and parameters the way the real one does;
// both flows, the gateway's refusals (business limit, illegal number, HTTP
// 500, wrong key, no answer), and — in production mode — that no code ever
// reaches the server's log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, createKey, api, assertOk, assertError, show,
  createContact, getContact, unique, uniqueMobile, RFC3339,
  sendContactCode, confirmContactCode, sendTargetCode, confirmTargetCode, wrongCode, checkVerification, cleanUp,
} from './lib/harness.mjs';
import {
  startSmsGateway, startSmtpSink, codeFromMail, nationalMobile, acsSignV1, acsStringToSign, acsTimestamp,
} from './lib/sinks.mjs';

const KEY_ID = 'LTAI5tCertContactsTest01';
const SECRET = 'sms-test-secret/with+special=chars';
const SIGN_NAME = '证书联系人'; // non-ASCII: exercises UTF-8 percent-encoding in the signature
const TEMPLATE = 'SMS_468001234';
const SEND_TIMEOUT_MS = 2000;

let dir, server, gw, sink, admin, operator, other;
const extra = [];
const codesSeen = new Set(); // every code delivered in this file: none may reach the log

function smsEnv(endpoint, more = {}) {
  return {
    CERTCONTACTS_SMS_PROVIDER: 'aliyun',
    CERTCONTACTS_SMS_ENDPOINT: endpoint,
    CERTCONTACTS_SMS_ACCESS_KEY_ID: KEY_ID,
    CERTCONTACTS_SMS_ACCESS_KEY_SECRET: SECRET,
    CERTCONTACTS_SMS_SIGN_NAME: SIGN_NAME,
    CERTCONTACTS_SMS_TEMPLATE_CODE: TEMPLATE,
    CERTCONTACTS_SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
    ...more,
  };
}

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  other = createAccount(dir);
  gw = await startSmsGateway({ keys: { [KEY_ID]: SECRET }, signName: SIGN_NAME, templateCode: TEMPLATE });
  sink = await startSmtpSink();
  // production mode (no CERTCONTACTS_DEV): real SMTP and the aliyun provider
  server = await startServer(dir, {
    env: smsEnv(gw.url, {
      CERTCONTACTS_SMTP_URL: sink.url,
      CERTCONTACTS_SMTP_FROM: 'certcontacts <noreply@certcontacts.test>',
      CERTCONTACTS_SMTP_STARTTLS: 'optional',
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0',
    }),
  });
});

after(async () => {
  await cleanUp([...extra.reverse(), () => server?.stop(), () => gw?.stop(), () => sink?.stop(), () => removeDir(dir)]);
});

/** "+8613912345678" → "+86 139 1234 5678" (what a person types). */
function spaced(e164) {
  const n = nationalMobile(e164);
  return `+86 ${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}`;
}

function assertNoRejections(g = gw) {
  assert.deepEqual(g.rejected, [], `the SMS gateway refused requests:\n${JSON.stringify(g.rejected, null, 1)}`);
}

/** Check one valid SendSms and return its code. */
function checkSendSms(sms, phone) {
  assert.equal(sms.phone, phone, 'PhoneNumbers');
  assert.equal(sms.params.SignName, SIGN_NAME);
  assert.equal(sms.params.TemplateCode, TEMPLATE);
  assert.equal(sms.params.Action, 'SendSms');
  assert.equal(sms.params.Version, '2017-05-25');
  assert.deepEqual(Object.keys(sms.templateParam), ['code'], `TemplateParam: ${sms.params.TemplateParam}`);
  const code = sms.templateParam.code;
  assert.match(code, /^[0-9]{6}$/, `TemplateParam: ${sms.params.TemplateParam}`);
  codesSeen.add(code);
  return code;
}

async function sendAndReceive(key, contact) {
  const phone = nationalMobile(contact.mobile);
  const before = gw.sentTo(phone).length;
  const t0 = Date.now();
  const r = await sendContactCode(server, key, contact.id, 'mobile');
  const t1 = Date.now();
  const v = checkVerification(assertOk(r, 201), { channel: 'mobile', full: contact.mobile, ttlS: 600, resendS: 0, t0, t1 });
  const sms = await gw.waitForSms(phone, { after: before });
  assertNoRejections();
  return { v, sms, code: checkSendSms(sms, phone), t0 };
}

/**
 * Does `text` contain `code` as a number of its own, also inside percent-
 * encoded text (a gateway may echo its string to sign, where {"code":"123456"}
 * reads %257B%2522code%2522%253A%2522123456%2522%257D)?
 */
function mentionsCode(text, code) {
  const re = new RegExp(`(?<![0-9A-Za-z])${code}(?![0-9A-Za-z])`);
  let t = String(text);
  for (let i = 0; i < 4; i++) {
    if (re.test(t)) return true;
    const next = t.replace(/%([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    if (next === t) break;
    t = next;
  }
  return false;
}

async function ownServer(env) {
  const d = makeDataDir();
  extra.push(() => removeDir(d));
  const key = createAccount(d);
  const s = await startServer(d, { env });
  extra.push(() => s.stop());
  return { server: s, key };
}

// --------------------------------------------------- the stand-in itself

test('the SendSms stand-in checks what Alibaba checks (published vectors, signature, key, nonce, timestamp, parameters)', async () => {
  // published vectors (../shared/specs/chatbots-and-sms.md, alibaba-cas-contacts.md)
  const dr = {
    AccessKeyId: 'testid', Action: 'DescribeRegions', Format: 'XML', SignatureMethod: 'HMAC-SHA1',
    SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf', SignatureVersion: '1.0',
    Timestamp: '2016-02-23T12:46:24Z', Version: '2014-05-26',
  };
  assert.equal(acsSignV1('GET', dr, 'testsecret'), 'OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  assert.equal(acsSignV1('POST', dr, 'testsecret'), 'MxbnVAM4w6sft9xjVpe/GCKueuk=');
  const lc = Object.fromEntries(new URLSearchParams('Action=ListContact&Format=json&Version=2020-04-07&Timestamp=2026-11-24T19%3A20%3A46Z&SignatureNonce=dda1ac13381b1e0fe3d21d6ec9055907598650dcae90b7ddd46778146773cd75&CurrentPage=1&Keyword=133&ShowSize=20&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=testAccessKeyId&Signature=OvtlCLd0zI0itao1gGYlvWG%2F5q8%3D'));
  assert.equal(acsStringToSign('POST', lc), 'POST&%2F&AccessKeyId%3DtestAccessKeyId%26Action%3DListContact%26CurrentPage%3D1%26Format%3Djson%26Keyword%3D133%26ShowSize%3D20%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Ddda1ac13381b1e0fe3d21d6ec9055907598650dcae90b7ddd46778146773cd75%26SignatureVersion%3D1.0%26Timestamp%3D2026-11-24T19%253A20%253A46Z%26Version%3D2020-04-07');
  assert.equal(acsSignV1('POST', lc, 'testAccessKeySecret'), lc.Signature);
  const cc = Object.fromEntries(new URLSearchParams('Action=CreateContact&Format=json&Version=2020-04-07&Timestamp=2026-11-24T19%3A20%3A46Z&SignatureNonce=8d928a6f6cee834528fc9baabd565a93c86ebfe038ea6681f1d638573359e9a8&Name=zhang%20san&Mobile=13312345678&Email=test%40example.com&Webhooks=%5B%22https%3A%2F%2Foapi.dingtalk.com%2Frobot%2Fsend%3Faccess_token%3Dabc*(1)%22%5D&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&AccessKeyId=testAccessKeyId&Signature=GAj784sTy23BX4fj6njt7BkiIoI%3D'));
  assert.equal(acsSignV1('POST', cc, 'testAccessKeySecret'), cc.Signature);

  const g = await startSmsGateway({ keys: { K1: 'S1' }, signName: SIGN_NAME, templateCode: TEMPLATE });
  try {
    let n = 0;
    const params = (over = {}) => ({
      Action: 'SendSms', Version: '2017-05-25', Format: 'JSON', RegionId: 'cn-hangzhou',
      AccessKeyId: 'K1', SignatureMethod: 'HMAC-SHA1', SignatureVersion: '1.0',
      SignatureNonce: `nonce-${process.pid}-${++n}`, Timestamp: acsTimestamp(),
      PhoneNumbers: '13312345678', SignName: SIGN_NAME, TemplateCode: TEMPLATE, TemplateParam: '{"code":"123456"}',
      ...over,
    });
    const post = async (p, secret = 'S1', tamper = (x) => x) => {
      const body = new URLSearchParams({ ...p, Signature: tamper(acsSignV1('POST', p, secret)) }).toString().replace(/\+/g, '%20');
      const res = await fetch(`${g.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
      return { status: res.status, json: await res.json() };
    };
    const good = params();
    let r = await post(good);
    assert.equal(r.status, 200);
    assert.equal(r.json.Code, 'OK', JSON.stringify(r.json));
    assert.ok(r.json.BizId && r.json.RequestId);
    assert.deepEqual(g.sent.map((s) => [s.phone, s.templateParam]), [['13312345678', { code: '123456' }]]);
    r = await post(good); // the same nonce again
    assert.equal(r.json.Code, 'SignatureNonceUsed');
    r = await post(params(), 'S1', (s) => s.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')));
    assert.deepEqual([r.status, r.json.Code], [400, 'SignatureDoesNotMatch']);
    r = await post(params(), 'other-secret');
    assert.deepEqual([r.status, r.json.Code], [400, 'SignatureDoesNotMatch']);
    r = await post(params({ AccessKeyId: 'K2' }));
    assert.equal(r.json.Code, 'InvalidAccessKeyId.NotFound');
    r = await post(params({ Timestamp: acsTimestamp(Date.now() - 16 * 60 * 1000) }));
    assert.equal(r.json.Code, 'InvalidTimeStamp.Expired');
    r = await post(params({ Version: '2017-05-26' }));
    assert.equal(r.status, 400);
    r = await post(params({ TemplateParam: '{"code":123456}' }));
    assert.deepEqual([r.status, r.json.Code], [200, 'isv.INVALID_JSON_PARAM']);
    r = await post(params({ SignName: '别的签名' }));
    assert.deepEqual([r.status, r.json.Code], [200, 'isv.SMS_SIGNATURE_ILLEGAL']);
    // a parameter changed after signing (here: in the query) breaks the signature
    const p = params();
    const sig = acsSignV1('POST', p, 'S1');
    const { PhoneNumbers: _signed, ...rest } = p;
    const res = await fetch(`${g.url}/?PhoneNumbers=13900000000`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...rest, Signature: sig }).toString(),
    });
    assert.equal((await res.json()).Code, 'SignatureDoesNotMatch');
    assert.equal(g.sent.length, 1, 'only the good request counts');
    g.mode = 'limit';
    r = await post(params());
    assert.deepEqual([r.status, r.json.Code, r.json.Message], [200, 'isv.BUSINESS_LIMIT_CONTROL', '触发小时级流控Permits:5']);
    g.mode = 'http500';
    r = await post(params());
    assert.equal(r.status, 500);
  } finally {
    await g.stop();
  }
});

// ------------------------------------------------------------------ the flows

test('contact flow by SMS: a correctly signed SendSms to the national number with {"code":"NNNNNN"}, and confirming verifies the mobile', async () => {
  const mobile = uniqueMobile('133');
  const { contact } = await createContact(server, operator, { mobile: spaced(mobile) });
  assert.equal(contact.mobile, mobile);
  assert.equal(contact.mobile_status, 0);
  const { v, sms, code, t0 } = await sendAndReceive(operator, contact);
  assert.equal(sms.params.AccessKeyId, KEY_ID);
  assert.match(sms.params.Format, /^json$/i);
  assert.ok(!JSON.stringify(v).includes(code), 'the send response must not contain the code');

  const r = await confirmContactCode(server, operator, contact.id, 'mobile', code);
  const c = assertOk(r, 200);
  assert.equal(c.mobile_status, 1, show(r));
  assert.match(String(c.mobile_verified_at), RFC3339, show(r));
  const at = Date.parse(c.mobile_verified_at);
  assert.ok(at >= t0 - 1500 && at <= Date.now() + 1500, `mobile_verified_at ${c.mobile_verified_at}`);
  assert.equal(c.email_status, 0, 'verifying the mobile must not verify the email');
  const g = assertOk(await getContact(server, admin, contact.id), 200);
  assert.equal(g.mobile_status, 1);
  assert.equal(g.mobile_verified_at, c.mobile_verified_at);
});

test('verify before saving by SMS: "+86 133 …" confirmed, then created as "133…" in the same account → mobile_status 1; in another account 0', async () => {
  const mobile = uniqueMobile('133');
  const phone = nationalMobile(mobile);
  const before = gw.sentTo(phone).length;
  const t0 = Date.now();
  const r = await sendTargetCode(server, admin, 'mobile', spaced(mobile));
  const t1 = Date.now();
  const v = checkVerification(assertOk(r, 201), { channel: 'mobile', full: mobile, ttlS: 600, resendS: 0, t0, t1 });
  const code = checkSendSms(await gw.waitForSms(phone, { after: before }), phone);
  assertNoRejections();

  const bad = await confirmTargetCode(server, admin, v.verification_id, wrongCode(code));
  assert.equal(assertError(bad, 400, 'VerificationCode.Mismatch').attempts_left, 4, show(bad));
  const c = await confirmTargetCode(server, admin, v.verification_id, code);
  const body = assertOk(c, 200);
  assert.equal(body.verification_id, v.verification_id);
  assert.equal(body.channel, 'mobile');
  assert.equal(body.target, v.target);
  assert.match(body.confirmed_at, RFC3339);

  const { contact } = await createContact(server, operator, { mobile: phone });
  assert.equal(contact.mobile, mobile);
  assert.equal(contact.mobile_status, 1, JSON.stringify(contact));
  assert.match(String(contact.mobile_verified_at), RFC3339);
  const { contact: theirs } = await createContact(server, other, { mobile: phone });
  assert.equal(theirs.mobile_status, 0, JSON.stringify(theirs));
});

test('changing the mobile resets mobile_status; changing it to a just-confirmed number keeps it 1', async () => {
  const { contact } = await createContact(server, admin, { mobile: uniqueMobile('133') });
  const { code } = await sendAndReceive(admin, contact);
  assert.equal(assertOk(await confirmContactCode(server, admin, contact.id, 'mobile', code), 200).mobile_status, 1);
  const p1 = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { name: 'Renamed' } }), 200);
  assert.equal(p1.mobile_status, 1, 'a name change reset mobile_status');
  const fresh = uniqueMobile('133');
  const p2 = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { mobile: fresh } }), 200);
  assert.equal(p2.mobile_status, 0, 'mobile changed but mobile_status stayed 1');
  assert.ok(p2.mobile_verified_at === null || p2.mobile_verified_at === undefined, JSON.stringify(p2));

  const pre = uniqueMobile('133');
  const before = gw.sentTo(nationalMobile(pre)).length;
  const v = assertOk(await sendTargetCode(server, admin, 'mobile', pre), 201);
  const preCode = checkSendSms(await gw.waitForSms(nationalMobile(pre), { after: before }), nationalMobile(pre));
  assertOk(await confirmTargetCode(server, admin, v.verification_id, preCode), 200);
  const p3 = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { mobile: spaced(pre) } }), 200);
  assert.equal(p3.mobile, pre);
  assert.equal(p3.mobile_status, 1, 'changed to a just-confirmed number but mobile_status is 0');
});

// ------------------------------------------------------ gateway refusals

async function sendWithGatewayMode(mode) {
  const { contact } = await createContact(server, admin, { mobile: uniqueMobile('133') });
  const phone = nationalMobile(contact.mobile);
  gw.mode = mode;
  try {
    const t0 = Date.now();
    const r = await sendContactCode(server, admin, contact.id, 'mobile');
    const took = Date.now() - t0;
    assertNoRejections();
    return { r, took, phone, contact };
  } finally {
    gw.mode = 'ok';
  }
}

test('gateway isv.BUSINESS_LIMIT_CONTROL: DeliveryFailed (or 429) naming it, and not retried', async () => {
  const { r, phone } = await sendWithGatewayMode('limit');
  if (r.status === 429) assertError(r, 429, /^Throttling/);
  else assertError(r, 502, 'DeliveryFailed');
  assert.match(r.json.message, /isv\.BUSINESS_LIMIT_CONTROL/, show(r));
  assert.equal(gw.sentTo(phone).length, 1, 'a frequency-controlled SendSms must not be retried');
});

test('gateway isv.MOBILE_NUMBER_ILLEGAL: 502 DeliveryFailed naming it', async () => {
  const { r } = await sendWithGatewayMode('illegal');
  assertError(r, 502, 'DeliveryFailed');
  assert.match(r.json.message, /isv\.MOBILE_NUMBER_ILLEGAL/, show(r));
});

test('gateway HTTP 500: 502 DeliveryFailed within the send timeout', async () => {
  const { r, took } = await sendWithGatewayMode('http500');
  assertError(r, 502, 'DeliveryFailed');
  assert.ok(took < SEND_TIMEOUT_MS + 3000, `took ${took} ms`);
});

test('gateway not answering: 502 DeliveryFailed within the send timeout, not resent, other requests unaffected', async () => {
  const { contact } = await createContact(server, admin, { mobile: uniqueMobile('133') });
  const phone = nationalMobile(contact.mobile);
  gw.mode = 'hang';
  let r, took;
  try {
    const t0 = Date.now();
    const pending = sendContactCode(server, admin, contact.id, 'mobile');
    await gw.waitForSms(phone, { timeoutMs: 3000 });
    const g0 = Date.now();
    assertOk(await api(server, 'GET', '/healthz'), 200);
    assertOk(await getContact(server, admin, contact.id), 200);
    const gTook = Date.now() - g0;
    assert.ok(gTook < 1000, `GETs took ${gTook} ms while a SendSms hung`);
    r = await pending;
    took = Date.now() - t0;
  } finally {
    gw.mode = 'ok';
  }
  assertError(r, 502, 'DeliveryFailed');
  assert.ok(took >= SEND_TIMEOUT_MS - 200 && took < SEND_TIMEOUT_MS + 3000, `took ${took} ms with a ${SEND_TIMEOUT_MS} ms send timeout`);
  assertNoRejections();
  assert.equal(gw.sentTo(phone).length, 1, 'a SendSms that timed out must not be sent again blindly');
});

let wrongSecret = null; // {server, gateway, res} of the next test, for the one after it

test('wrong access key secret: the gateway answers SignatureDoesNotMatch and the caller gets DeliveryFailed naming it', async () => {
  const g = await startSmsGateway({ keys: { [KEY_ID]: SECRET }, signName: SIGN_NAME, templateCode: TEMPLATE });
  extra.push(() => g.stop());
  const { server: s, key } = await ownServer(smsEnv(g.url, { CERTCONTACTS_SMS_ACCESS_KEY_SECRET: 'not-the-secret' }));
  const { contact } = await createContact(s, key, { mobile: uniqueMobile('133') });
  const r = await sendContactCode(s, key, contact.id, 'mobile');
  wrongSecret = { s, g, r };
  assertError(r, 502, 'DeliveryFailed');
  assert.deepEqual(g.rejected.map((x) => x.code), ['SignatureDoesNotMatch']);
  assert.equal(g.sent.length, 0);
  assert.ok(!s.stderr.includes('not-the-secret'), 'the access key secret reached the log');
  assert.match(r.json.message, /SignatureDoesNotMatch/, show(r));
});

test('the code inside a gateway\'s SignatureDoesNotMatch message (its string to sign) reaches neither the caller nor the log', async () => {
  assert.ok(wrongSecret, 'the previous test did not run');
  const { s, g, r } = wrongSecret;
  // Alibaba's SignatureDoesNotMatch message echoes its string to sign, TemplateParam (the code) included
  assert.equal(g.rejected.length, 1);
  const code = JSON.parse(g.rejected[0].params.TemplateParam).code;
  assert.ok(mentionsCode(g.rejected[0].message, code), 'the stand-in should echo the string to sign like Alibaba');
  assert.ok(!mentionsCode(r.text, code), `the response carries the code ${code}:\n${show(r)}`);
  await s.requestLog(r.headers.get('x-request-id'));
  const line = s.stderr.split('\n').find((l) => mentionsCode(l, code));
  assert.equal(line, undefined, `the code ${code} reached the production log:\n${line}`);
});

test('SMS codes: wrong attempts, a used code, and another account\'s verification', async () => {
  const { contact } = await createContact(server, admin, { mobile: uniqueMobile('133') });
  const { code } = await sendAndReceive(admin, contact);
  for (let i = 1; i <= 5; i++) {
    const e = assertError(await confirmContactCode(server, admin, contact.id, 'mobile', wrongCode(code, i)), 400, 'VerificationCode.Mismatch');
    assert.equal(e.attempts_left, 5 - i);
  }
  assertError(await confirmContactCode(server, admin, contact.id, 'mobile', code), 400, 'VerificationCode.TooManyAttempts');

  const mobile = uniqueMobile('133');
  const before = gw.sentTo(nationalMobile(mobile)).length;
  const v = assertOk(await sendTargetCode(server, admin, 'mobile', mobile), 201);
  const c2 = checkSendSms(await gw.waitForSms(nationalMobile(mobile), { after: before }), nationalMobile(mobile));
  assertError(await confirmTargetCode(server, other, v.verification_id, c2), 404, 'Verification.NotFound');
  assertOk(await confirmTargetCode(server, admin, v.verification_id, c2), 200);
  assertError(await confirmTargetCode(server, admin, v.verification_id, c2), 404, 'Verification.NotFound');
});

// -------------------------------------------------------------- the log

test('production mode: no code sent by email or SMS ever appears in the server log', async () => {
  const listening = server.lines.find((l) => l.msg === 'listening');
  assert.notEqual(listening.mode, 'development', JSON.stringify(listening));
  // one more of each, confirmed, so both send and confirm paths have run
  const email = `${unique('nolog')}@example.com`;
  const { contact } = await createContact(server, admin, { email, mobile: uniqueMobile('133') });
  const mark = sink.mark();
  const e = await sendContactCode(server, admin, contact.id, 'email');
  assertOk(e, 201);
  const ecode = codeFromMail(await sink.waitForMail(email, { after: mark }));
  codesSeen.add(ecode);
  const { code: scode } = await sendAndReceive(admin, contact);
  const c1 = await confirmContactCode(server, admin, contact.id, 'email', ecode);
  assertOk(c1, 200);
  const c2 = await confirmContactCode(server, admin, contact.id, 'mobile', scode);
  assertOk(c2, 200);
  // the request lines of the last requests are written: the log is complete up to here
  await server.requestLog(c2.headers.get('x-request-id'));
  assert.ok(codesSeen.size >= 5, `codes seen: ${codesSeen.size}`);
  for (const code of codesSeen) {
    const line = server.stderr.split('\n').find((l) => mentionsCode(l, code));
    assert.equal(line, undefined, `code ${code} appears in the production log:\n${line}`);
  }
});
