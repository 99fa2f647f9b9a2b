// verify_flow.test.mjs — what a verification dialog relies on: a throttled
// send names the code that can still be typed in (429 with verification_id
// and expires_at), an address another contact has is refused before anything
// is sent (409 naming that contact) while the edited contact's own address is
// fine, the wrong-code message counts its tries in the right number, and the
// status read says whether an address would be saved verified. Codes go by
// SMS to the local SendSms stand-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, assertError,
  createContact, uniqueMobile, unique, sendContactCode, confirmContactCode, sendTargetCode,
  confirmTargetCode, wrongCode, assertThrottled,
} from './lib/harness.mjs';
import { startSmsGateway, nationalMobile, aliyunSmsEnv } from './lib/sinks.mjs';

const SMS = { keyId: 'LTAI5tFlowTest', secret: 'flow-secret', signName: 'certcontacts', templateCode: 'SMS_100000002' };

let gw, dir, server;

before(async () => {
  gw = await startSmsGateway({ keys: { [SMS.keyId]: SMS.secret }, signName: SMS.signName, templateCode: SMS.templateCode });
  dir = makeDataDir();
  // the default resend interval (60 s): a second send is throttled for the whole test
  server = await startServer(dir, { env: aliyunSmsEnv(gw, SMS) });
});

after(async () => {
  try {
    await server?.stop();
  } finally {
    removeDir(dir);
    await gw?.stop();
  }
});

async function sendTo(key, mobile, more = {}) {
  const phone = nationalMobile(mobile);
  const n0 = gw.sentTo(phone).length;
  const r = await api(server, 'POST', '/v1/verifications', { key, json: { channel: 'mobile', target: mobile, ...more } });
  if (r.status !== 201) return { r };
  const sms = await gw.waitForSms(phone, { after: n0 });
  return { r, code: sms.templateParam.code };
}

test('a throttled send carries the code that can still be typed in, and that code works', async () => {
  const key = createAccount(dir);
  const mobile = uniqueMobile('150');
  const first = await sendTo(key, mobile);
  const v = assertOk(first.r, 201);
  const again = await sendTargetCode(server, key, 'mobile', mobile);
  const wait = assertThrottled(again, 61);
  const b = again.json;
  assert.equal(b.verification_id, v.verification_id, 'the 429 names the code sent before');
  assert.equal(b.expires_at, v.expires_at);
  assert.equal(b.retry_after, wait);
  assert.equal(b.channel, 'mobile');
  assert.ok(b.target.includes('*') && b.target === v.target, `target masked as in the 201: ${b.target}`);
  assert.ok(Math.abs(Date.parse(b.resend_after) - (Date.now() + wait * 1000)) < 3000, `resend_after ${b.resend_after} is retry_after from now`);
  assert.match(b.message, new RegExp(`try again in ${wait} seconds?\\.`), 'the message agrees with retry_after');
  assert.equal(gw.sentTo(nationalMobile(mobile)).length, 1, 'the throttled send reached the gateway');
  assertOk(await confirmTargetCode(server, key, b.verification_id, first.code), 200);

  // once used, a throttled send has no code to offer
  const used = await sendTargetCode(server, key, 'mobile', mobile);
  assertThrottled(used, 61);
  assert.equal(used.json.verification_id, undefined, 'a used code is offered again');

  // another account's code to the same address is not offered
  const other = createAccount(dir);
  const mobile2 = uniqueMobile('150');
  assertOk((await sendTo(key, mobile2)).r, 201);
  const theirs = await sendTargetCode(server, other, 'mobile', mobile2);
  assertThrottled(theirs, 61);
  assert.equal(theirs.json.verification_id, undefined, "another account's code is offered");
});

test("a throttled send to a contact's own address names the contact's code; the contact route confirms it", async () => {
  const key = createAccount(dir);
  const { contact } = await createContact(server, key, { mobile: uniqueMobile('151') });
  const phone = nationalMobile(contact.mobile);
  const sent = assertOk(await sendContactCode(server, key, contact.id, 'mobile'), 201);
  const code = (await gw.waitForSms(phone)).templateParam.code;
  const again = await sendContactCode(server, key, contact.id, 'mobile');
  assertThrottled(again, 61);
  assert.equal(again.json.verification_id, sent.verification_id);
  assert.equal(again.json.expires_at, sent.expires_at);
  const c = assertOk(await confirmContactCode(server, key, contact.id, 'mobile', code), 200);
  assert.equal(c.mobile_status, 1);
});

test('uniqueness comes before sending: 409 names the other contact and nothing is sent; the edited contact\'s own address is fine', async () => {
  const key = createAccount(dir);
  const name = unique('Owner');
  const { contact: a } = await createContact(server, key, { name, mobile: uniqueMobile('152'), email: `${unique('own')}@example.com` });
  const { contact: b } = await createContact(server, key, { mobile: uniqueMobile('152') });
  const phone = nationalMobile(a.mobile);

  const clash = await sendTargetCode(server, key, 'mobile', a.mobile);
  assertError(clash, 409, 'AlreadyExists.Mobile');
  assert.equal(clash.json.message, `This mobile number already belongs to the contact "${name}".`);
  assert.equal(clash.json.contact_id, a.id);
  // the same number written another way is the same number
  assertError(await sendTargetCode(server, key, 'mobile', a.mobile.replace('+86', '0086')), 409, 'AlreadyExists.Mobile');
  // editing contact b, a's number is still a's
  const fromB = await api(server, 'POST', '/v1/verifications', { key, json: { channel: 'mobile', target: a.mobile, contact_id: b.id } });
  assertError(fromB, 409, 'AlreadyExists.Mobile');
  assert.equal(fromB.json.contact_id, a.id);
  const mail = await sendTargetCode(server, key, 'email', a.email.toUpperCase());
  assertError(mail, 409, 'AlreadyExists.Email');
  assert.equal(mail.json.message, `This email address already belongs to the contact "${name}".`);
  assert.equal(mail.json.contact_id, a.id);
  assert.equal(gw.sentTo(phone).length, 0, 'a code went to a number another contact has');

  // editing contact a, its own number is no clash
  const own = await sendTo(key, a.mobile, { contact_id: a.id });
  assertOk(own.r, 201);
  assert.equal(gw.sentTo(phone).length, 1);
  assertOk(await confirmTargetCode(server, key, own.r.json.verification_id, own.code), 200);

  // another account may have the same number
  const other = createAccount(dir);
  assertOk((await sendTo(other, b.mobile)).r, 201);
  assertError(await api(server, 'POST', '/v1/verifications', { key, json: { channel: 'mobile', target: uniqueMobile('152'), contact_id: 99999999 } }), 404, 'NotFound');
  assertError(await api(server, 'POST', '/v1/verifications', { key, json: { channel: 'mobile', target: uniqueMobile('152'), contact_id: 'x' } }), 400, 'IncorrectFormat.ContactId');
  // a contact of another account is no contact of this one
  assertError(await api(server, 'POST', '/v1/verifications', { key: other, json: { channel: 'mobile', target: uniqueMobile('152'), contact_id: a.id } }), 404, 'NotFound');
});

test('the wrong-code message counts the tries left in the right number, in one language', async () => {
  const key = createAccount(dir);
  const mobile = uniqueMobile('153');
  const s = await sendTo(key, mobile);
  const id = assertOk(s.r, 201).verification_id;
  const seen = [];
  for (let left = 4; left >= 1; left--) {
    const r = await confirmTargetCode(server, key, id, wrongCode(s.code));
    assertError(r, 400, 'VerificationCode.Mismatch');
    assert.equal(r.json.attempts_left, left);
    seen.push(r.json.message);
  }
  assert.equal(seen[0], 'The code is wrong; 4 attempts left.');
  assert.equal(seen[3], 'The code is wrong; 1 attempt left.');
  const last = await confirmTargetCode(server, key, id, wrongCode(s.code));
  assertError(last, 400, 'VerificationCode.Mismatch');
  assert.equal(last.json.attempts_left, 0);
  assert.equal(last.json.message, 'The code is wrong and no attempts are left: send a new code.');
  assertError(await confirmTargetCode(server, key, id, s.code), 400, 'VerificationCode.TooManyAttempts');
});

test('POST /v1/verifications/status: verified only once the account confirmed the address', async () => {
  const key = createAccount(dir);
  const mobile = uniqueMobile('154');
  const status = (target) => api(server, 'POST', '/v1/verifications/status', { key, json: { channel: 'mobile', target } });
  let r = assertOk(await status(mobile), 200);
  assert.equal(r.verified, false);
  assert.equal(r.confirmed_at, undefined);
  assert.ok(r.target.includes('*'), `target masked: ${r.target}`);
  const s = await sendTo(key, mobile);
  assert.equal(assertOk(await status(mobile), 200).verified, false, 'sent is not confirmed');
  assertOk(await confirmTargetCode(server, key, s.r.json.verification_id, s.code), 200);
  r = assertOk(await status(mobile.replace('+86', '')), 200);
  assert.equal(r.verified, true);
  assert.ok(Math.abs(Date.parse(r.confirmed_at) - Date.now()) < 60000, r.confirmed_at);
  // another account did not confirm it
  const other = createAccount(dir);
  assert.equal(assertOk(await api(server, 'POST', '/v1/verifications/status', { key: other, json: { channel: 'mobile', target: mobile } }), 200).verified, false);
  // and a contact saved with it now is saved verified, as the status said
  const { contact } = await createContact(server, key, { mobile });
  assert.equal(contact.mobile_status, 1);
  const bad = await status('not a number');
  assertError(bad, 400);
  assert.match(bad.json.code, /\.Mobile$/);
  assertError(await api(server, 'POST', '/v1/verifications/status', { key, json: { channel: 'fax', target: mobile } }), 400, 'IncorrectFormat.Channel');
  assertError(await api(server, 'POST', '/v1/verifications/status', { key, json: { channel: 'mobile' } }), 400, 'MissingParameter.Target');
});
