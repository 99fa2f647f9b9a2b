// verify_limits.test.mjs — the abuse limits of verification codes, with short
// configured values: the resend interval, the per-address hourly and daily
// caps, the per-account hourly cap (429 Throttling.Verification with
// Retry-After, nothing sent), and expiry after the code's TTL. Codes go by SMS
// to the local SendSms stand-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  makeDataDir, removeDir, startServer, createAccount, assertOk, assertError, show,
  createContact, getContact, uniqueMobile, waitFor, dbQuery,
  sendContactCode, confirmContactCode, sendTargetCode, confirmTargetCode, wrongCode, checkVerification,
  assertThrottled,
} from './lib/harness.mjs';
import { startSmsGateway, nationalMobile } from './lib/sinks.mjs';

const KEY_ID = 'LTAI5tLimitsTest';
const SECRET = 'limits-secret';
const SIGN_NAME = 'certcontacts';
const TEMPLATE = 'SMS_100000001';

// The shortest TTL the server accepts is 10 s: the expiry test waits for it,
// so the codes are sent by the first test and checked by the last one.
const TTL_S = 10;
const RESEND_S = 1;
const ACCOUNT_CAP = 7;

let gw;
const servers = []; // {server, dir}

function env(more) {
  return {
    CERTCONTACTS_SMS_PROVIDER: 'aliyun',
    CERTCONTACTS_SMS_ENDPOINT: gw.url,
    CERTCONTACTS_SMS_ACCESS_KEY_ID: KEY_ID,
    CERTCONTACTS_SMS_ACCESS_KEY_SECRET: SECRET,
    CERTCONTACTS_SMS_SIGN_NAME: SIGN_NAME,
    CERTCONTACTS_SMS_TEMPLATE_CODE: TEMPLATE,
    ...more,
  };
}

async function newServer(more) {
  const dir = makeDataDir();
  const s = await startServer(dir, { env: env(more) });
  servers.push({ server: s, dir });
  return { server: s, dir };
}

// S1: short TTL and resend interval; S2: no resend interval, default per-address
// caps, a small account cap; S3: a loose hourly cap so the daily one (default 10) shows.
let s1, s2, s3;

before(async () => {
  gw = await startSmsGateway({ keys: { [KEY_ID]: SECRET }, signName: SIGN_NAME, templateCode: TEMPLATE });
  s1 = await newServer({ CERTCONTACTS_VERIFY_CODE_TTL: String(TTL_S), CERTCONTACTS_VERIFY_RESEND_INTERVAL: String(RESEND_S) });
  s2 = await newServer({ CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0', CERTCONTACTS_VERIFY_ACCOUNT_MAX_PER_HOUR: String(ACCOUNT_CAP) });
  s3 = await newServer({ CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0', CERTCONTACTS_VERIFY_MAX_PER_HOUR: '20' });
});

after(async () => {
  const errs = [];
  for (const { server, dir } of servers) {
    try {
      await server.stop();
    } catch (e) {
      errs.push(e);
    }
    removeDir(dir);
  }
  await gw?.stop();
  if (errs.length) throw errs[0];
});

function assertNoRejections() {
  assert.deepEqual(gw.rejected, [], `the SMS gateway refused requests:\n${JSON.stringify(gw.rejected, null, 1)}`);
}

/** Send to a target through /v1/verifications; on 201 also wait for the SMS and return its code. */
async function sendTo(server, key, mobile) {
  const phone = nationalMobile(mobile);
  const before = gw.sentTo(phone).length;
  const r = await sendTargetCode(server, key, 'mobile', mobile);
  if (r.status !== 201) return { r };
  const sms = await gw.waitForSms(phone, { after: before });
  return { r, v: r.json, code: sms.templateParam.code };
}

// ------------------------------------------------------------ expiry, part 1

let expiring = null;

test('expiry (1/2): codes are live before their TTL — expires_at is TTL seconds away and a wrong code is a Mismatch', async () => {
  const { dir, server } = s1;
  const key = createAccount(dir);
  const { contact } = await createContact(server, key, { mobile: uniqueMobile('134') });
  const t0 = Date.now();
  const cr = await sendContactCode(server, key, contact.id, 'mobile');
  const t1 = Date.now();
  const cv = checkVerification(assertOk(cr, 201), { channel: 'mobile', full: contact.mobile, ttlS: TTL_S, resendS: RESEND_S, t0, t1 });
  const ccode = (await gw.waitForSms(nationalMobile(contact.mobile))).templateParam.code;

  const mobile = uniqueMobile('134');
  const u0 = Date.now();
  const t = await sendTo(server, key, mobile);
  const tv = checkVerification(assertOk(t.r, 201), { channel: 'mobile', full: mobile, ttlS: TTL_S, resendS: RESEND_S, t0: u0, t1: Date.now() });

  assertError(await confirmContactCode(server, key, contact.id, 'mobile', wrongCode(ccode)), 400, 'VerificationCode.Mismatch');
  assertError(await confirmTargetCode(server, key, tv.verification_id, wrongCode(t.code)), 400, 'VerificationCode.Mismatch');
  assertNoRejections();
  expiring = { key, contact, ccode, tv, tcode: t.code, mobile, until: Math.max(Date.parse(cv.expires_at), Date.parse(tv.expires_at)) };
});

// ------------------------------------------------------------ resend interval

test('resend interval: a second send within it is 429 with Retry-After and sends nothing; after it, a new code is sent and works', async () => {
  const { dir, server } = s1;
  const key = createAccount(dir);
  const mobile = uniqueMobile('135');
  const phone = nationalMobile(mobile);
  const t0 = Date.now();
  const first = await sendTo(server, key, mobile);
  const v1 = checkVerification(assertOk(first.r, 201), { channel: 'mobile', full: mobile, ttlS: TTL_S, resendS: RESEND_S, t0, t1: Date.now() });

  const again = await sendTargetCode(server, key, 'mobile', mobile);
  assertThrottled(again, RESEND_S + 1);
  assert.equal(gw.sentTo(phone).length, 1, 'a throttled send reached the gateway');
  // another address is not held up by this one's interval
  assertOk((await sendTo(server, key, uniqueMobile('135'))).r, 201);

  let second;
  await waitFor(async () => {
    const x = await sendTo(server, key, mobile);
    if (x.r.status === 201) {
      second = x;
      return true;
    }
    assertThrottled(x.r, RESEND_S + 1);
    return false;
  }, { timeoutMs: RESEND_S * 1000 + 4000, intervalMs: 150, what: 'the resend interval to pass' });
  const waited = Date.now() - t0;
  assert.ok(waited >= RESEND_S * 1000 - 50, `a second code was sent ${waited} ms after the first with a ${RESEND_S} s resend interval`);
  assert.ok(Date.now() >= Date.parse(v1.resend_after) - 50, 'sent again before resend_after');
  assert.notEqual(second.v.verification_id, v1.verification_id);
  assert.equal(gw.sentTo(phone).length, 2);
  assertOk(await confirmTargetCode(server, key, second.v.verification_id, second.code), 200);
  assertNoRejections();
});

test('resend interval applies to the contact flow too', async () => {
  const { dir, server } = s1;
  const key = createAccount(dir);
  const { contact } = await createContact(server, key, { mobile: uniqueMobile('136') });
  assertOk(await sendContactCode(server, key, contact.id, 'mobile'), 201);
  const r = await sendContactCode(server, key, contact.id, 'mobile');
  assertThrottled(r, RESEND_S + 1);
  assert.equal(gw.sentTo(nationalMobile(contact.mobile)).length, 1);
});

// ------------------------------------------------------------------- caps

test('per-address hourly cap (default 5): the 6th code to one number within the hour is 429, another number is fine', async () => {
  const { dir, server } = s2;
  const key = createAccount(dir);
  const mobile = uniqueMobile('137');
  let last;
  for (let i = 1; i <= 5; i++) {
    last = await sendTo(server, key, mobile);
    assertOk(last.r, 201);
  }
  const sixth = await sendTargetCode(server, key, 'mobile', mobile);
  const ra = assertThrottled(sixth, 3600);
  assert.ok(ra > 60, `Retry-After ${ra} s: the hourly cap lasts until the first of the five codes is an hour old`);
  assert.equal(gw.sentTo(nationalMobile(mobile)).length, 5, 'a throttled send reached the gateway');
  // the contact flow to the same number is capped too
  const { contact } = await createContact(server, key, { mobile });
  assertThrottled(await sendContactCode(server, key, contact.id, 'mobile'), 3600);
  assert.equal(gw.sentTo(nationalMobile(mobile)).length, 5);
  // the last code sent before the cap still works
  assertOk(await confirmTargetCode(server, key, last.v.verification_id, last.code), 200);
  assertOk((await sendTo(server, key, uniqueMobile('137'))).r, 201);
  assertNoRejections();
});

test(`per-account hourly cap (${ACCOUNT_CAP} configured): the next code is 429 whatever the address; other accounts are not affected`, async () => {
  const { dir, server } = s2;
  const key = createAccount(dir);
  for (let i = 0; i < ACCOUNT_CAP; i++) assertOk((await sendTo(server, key, uniqueMobile('138'))).r, 201);
  const fresh = uniqueMobile('138');
  const r = await sendTargetCode(server, key, 'mobile', fresh);
  assertThrottled(r, 3600);
  assert.equal(gw.sentTo(nationalMobile(fresh)).length, 0);
  const { contact } = await createContact(server, key, { mobile: uniqueMobile('138') });
  assertThrottled(await sendContactCode(server, key, contact.id, 'mobile'), 3600);

  const otherKey = createAccount(dir);
  assertOk((await sendTo(server, otherKey, uniqueMobile('138'))).r, 201);
  assertNoRejections();
});

test('per-address daily cap (default 10): with the hourly cap raised, the 11th code to one number is 429', async () => {
  const { dir, server } = s3;
  const key = createAccount(dir);
  const mobile = uniqueMobile('150');
  for (let i = 1; i <= 10; i++) {
    const x = await sendTo(server, key, mobile);
    assert.equal(x.r.status, 201, `send ${i} of 10:\n${show(x.r)}`);
  }
  const r = await sendTargetCode(server, key, 'mobile', mobile);
  assertThrottled(r, 86400);
  assert.equal(gw.sentTo(nationalMobile(mobile)).length, 10);
  assertOk((await sendTo(server, key, uniqueMobile('150'))).r, 201);
  assertNoRejections();
});

test('after TooManyAttempts on a pre-save code, a new code for the same number works', async () => {
  const { dir, server } = s2;
  const key = createAccount(dir);
  const mobile = uniqueMobile('151');
  const a = await sendTo(server, key, mobile);
  assertOk(a.r, 201);
  for (let i = 1; i <= 5; i++) {
    const e = assertError(await confirmTargetCode(server, key, a.v.verification_id, wrongCode(a.code, i)), 400, 'VerificationCode.Mismatch');
    assert.equal(e.attempts_left, 5 - i);
  }
  assertError(await confirmTargetCode(server, key, a.v.verification_id, a.code), 400, 'VerificationCode.TooManyAttempts');
  const b = await sendTo(server, key, mobile);
  assertOk(b.r, 201);
  assertOk(await confirmTargetCode(server, key, b.v.verification_id, b.code), 200);
  // the dead one stays dead
  assertError(await confirmTargetCode(server, key, a.v.verification_id, a.code), 400, /^(VerificationCode\.TooManyAttempts|Verification\.NotFound)$/);
});

test('a code keeps its number in full only while it can be used: used-up, confirmed and superseded codes are masked at once, and the caps and the carry-over still count them', async () => {
  const { dir, server } = s3;
  const key = createAccount(dir);
  const db = (sql) => dbQuery(dir, sql).trim();
  const mobile = uniqueMobile('152');
  const masked = `+86 ${mobile.slice(3, 6)}****${mobile.slice(-4)}`;
  const inFull = () => Number(db(`SELECT count(*) FROM verifications WHERE target = '${mobile}'`));
  const target = (id) => db(`SELECT target FROM verifications WHERE id = ${id}`);

  const a = await sendTo(server, key, mobile);
  assertOk(a.r, 201);
  assert.equal(inFull(), 1, 'a code that can still be used keeps its number (its hash binds it)');
  for (let i = 1; i <= 5; i++) assertError(await confirmTargetCode(server, key, a.v.verification_id, wrongCode(a.code, i)), 400, 'VerificationCode.Mismatch');
  assert.equal(target(a.v.verification_id), masked, 'a used-up code keeps its number in full');

  const b = await sendTo(server, key, mobile);
  assertOk(await confirmTargetCode(server, key, b.v.verification_id, b.code), 200);
  assert.equal(target(b.v.verification_id), masked, 'a confirmed code keeps its number in full');
  assert.equal(inFull(), 0);
  // the carry-over finds the confirmation by the number's keyed hash
  const { contact } = await createContact(server, key, { mobile });
  assert.equal(contact.mobile_status, 1, 'a number confirmed before saving is saved verified');

  // the contact flow: a new code supersedes the one before, which is masked at once
  const phone = nationalMobile(mobile);
  let n = gw.sentTo(phone).length;
  const c1 = assertOk(await sendContactCode(server, key, contact.id, 'mobile'), 201);
  await gw.waitForSms(phone, { after: n });
  n = gw.sentTo(phone).length;
  const c2 = assertOk(await sendContactCode(server, key, contact.id, 'mobile'), 201);
  await gw.waitForSms(phone, { after: n });
  assert.equal(target(c1.verification_id), masked, 'a superseded code keeps its number in full');
  assert.equal(target(c2.verification_id), mobile);

  // four codes so far, their numbers masked but three: the daily cap (10) still counts all
  // (the rest from another account: in this one the number is the contact's, a clash)
  const other = createAccount(dir);
  for (let i = 5; i <= 10; i++) assertOk((await sendTo(server, other, mobile)).r, 201);
  assertThrottled(await sendTargetCode(server, other, 'mobile', mobile), 86400);
  assertThrottled(await sendContactCode(server, key, contact.id, 'mobile'), 86400);
  assertNoRejections();
});

// ------------------------------------------------------------ expiry, part 2

test('expiry (2/2): after the TTL the right code is VerificationCode.Expired in both flows', async (t) => {
  assert.ok(expiring, 'expiry (1/2) did not run or failed');
  const { key, contact, ccode, tv, tcode, until } = expiring;
  // time itself is the condition: poll the clock until the later expires_at has passed
  await waitFor(() => Date.now() > until + 250, { timeoutMs: TTL_S * 1000 + 5000, intervalMs: 100, what: `the clock to pass ${new Date(until).toISOString()}` });
  const { server } = s1;
  assertError(await confirmContactCode(server, key, contact.id, 'mobile', ccode), 400, 'VerificationCode.Expired');
  assertError(await confirmTargetCode(server, key, tv.verification_id, tcode), 400, 'VerificationCode.Expired');
  assert.equal(assertOk(await getContact(server, key, contact.id), 200).mobile_status, 0);
  // an expired pre-save code does not carry over to a new contact
  const { contact: c2 } = await createContact(server, key, { mobile: expiring.mobile });
  assert.equal(c2.mobile_status, 0);
  t.diagnostic(`waited for a ${TTL_S} s TTL`);
});
