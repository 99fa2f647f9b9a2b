// verify_email.test.mjs — verifying email addresses with one-time codes sent
// over real SMTP (an aiosmtpd server on 127.0.0.1): both flows, the message
// itself (MIME structure, headers, localisation), wrong / used / superseded
// codes, re-verification after a change, isolation between accounts, and
// delivery failures (SMTP down, hung, refusing, wrong login) that must come
// back as DeliveryFailed quickly without stalling other requests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import {
  makeDataDir, removeDir, startServer, createAccount, createKey, api, assertOk, assertError, show,
  createContact, getContact, unique, RFC3339, waitFor, dbRun,
  sendContactCode, confirmContactCode, sendTargetCode, confirmTargetCode, wrongCode, checkVerification, cleanUp,
} from './lib/harness.mjs';
import { startSmtpSink, closedPort, leafParts, partOf, codeFromMail } from './lib/sinks.mjs';

const FROM_ADDR = 'noreply@certcontacts.test';
const FROM = `certcontacts <${FROM_ADDR}>`;

let dir, server, sink, admin, operator, readonly, other;
const extra = []; // per-test servers, sinks and dirs, cleaned up in after()

function smtpEnv(sinkUrl, more = {}) {
  return {
    CERTCONTACTS_SMTP_URL: sinkUrl,
    CERTCONTACTS_SMTP_FROM: FROM,
    CERTCONTACTS_SMTP_STARTTLS: 'optional',
    ...more,
  };
}

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  other = createAccount(dir);
  sink = await startSmtpSink();
  // resend interval 0 so a test may send twice to one address; limits are verify_limits' business
  server = await startServer(dir, { env: smtpEnv(sink.url, { CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0', CERTCONTACTS_SEND_TIMEOUT_MS: '5000' }) });
});

after(async () => {
  await cleanUp([
    ...extra.reverse().map((x) => () => x()),
    () => server?.stop(),
    () => sink?.stop(),
    () => removeDir(dir),
  ]);
});

/** A server of its own (fresh data dir and account) with extra env; stopped in after(). */
async function ownServer(env) {
  const d = makeDataDir();
  extra.push(() => removeDir(d));
  const key = createAccount(d);
  const s = await startServer(d, { env });
  extra.push(() => s.stop());
  return { server: s, key, dir: d };
}

async function ownSink(opts) {
  const s = await startSmtpSink(opts);
  extra.push(() => s.stop());
  return s;
}

/** Send a code to a contact's email and return {v, mail, code}. */
async function sendAndReceive(key, contact, { t0 = Date.now() } = {}) {
  const mark = sink.mark();
  const r = await sendContactCode(server, key, contact.id, 'email');
  const t1 = Date.now();
  const v = checkVerification(assertOk(r, 201), { channel: 'email', full: contact.email, ttlS: 600, resendS: 0, t0, t1 });
  const mail = await sink.waitForMail(contact.email, { after: mark });
  return { v, mail, code: codeFromMail(mail), res: r };
}

function headerSection(raw) {
  const i = raw.indexOf('\r\n\r\n');
  assert.ok(i > 0, 'no CRLF CRLF between header and body');
  return raw.subarray(0, i);
}

function assertWellFormedMail(mail, { to }) {
  assert.equal(mail.parse_error, null, `the sink could not parse the message: ${mail.parse_error}`);
  assert.equal(mail.mail_from, FROM_ADDR, 'envelope sender');
  assert.deepEqual(mail.rcpt_tos.map((r) => r.toLowerCase()), [to.toLowerCase()], 'envelope recipients');
  const raw = mail.raw;
  // SMTP lines: CRLF only (a bare LF is refused by current Postfix), at most 998 octets
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0a) assert.equal(raw[i - 1], 0x0d, `bare LF at byte ${i} of the message`);
  }
  for (const line of raw.toString('latin1').split('\r\n')) assert.ok(line.length <= 998, `line longer than 998 octets: ${line.slice(0, 80)}…`);
  // header fields are 7-bit: non-ASCII must be RFC 2047 encoded
  const hs = headerSection(raw);
  for (let i = 0; i < hs.length; i++) assert.ok(hs[i] < 0x80, `8-bit byte in the header section at ${i}: ${hs.toString('utf8')}`);
  for (const h of ['date', 'message-id', 'from', 'to', 'subject', 'mime-version']) {
    assert.equal(mail.header_counts[h], 1, `exactly one ${h} header: ${JSON.stringify(mail.header_counts)}`);
  }
  assert.equal(mail.decoded_headers['mime-version'].trim(), '1.0');
  assert.ok(mail.date_epoch_ms !== null, `Date header is not an RFC 5322 date with a zone: ${mail.decoded_headers.date}`);
  assert.ok(Math.abs(mail.date_epoch_ms - Date.now()) < 5 * 60 * 1000, `Date header far from now: ${mail.decoded_headers.date}`);
  assert.match(mail.decoded_headers['message-id'].trim(), /^<[^<>\s@]+@[^<>\s@]+>$/, 'Message-ID');
  assert.ok(mail.decoded_headers.from.includes(FROM_ADDR), `From: ${mail.decoded_headers.from}`);
  assert.ok(mail.decoded_headers.to.toLowerCase().includes(to.toLowerCase()), `To: ${mail.decoded_headers.to}`);
  // multipart/alternative: text/plain first, text/html last (the preferred), both UTF-8
  const m = mail.mime;
  assert.equal(m.content_type, 'multipart/alternative', JSON.stringify(m.headers));
  assert.ok(m.boundary, 'no boundary');
  const leaves = leafParts(mail);
  assert.deepEqual(leaves.map((p) => p.content_type), ['text/plain', 'text/html'], 'parts of the alternative');
  assert.deepEqual(m.parts.map((p) => p.content_type), ['text/plain', 'text/html'], 'the alternatives are the direct parts');
  const walk = (p) => {
    assert.deepEqual(p.defects, [], `MIME defects in ${p.content_type}: ${p.defects}`);
    (p.parts || []).forEach(walk);
  };
  walk(m);
  for (const p of leaves) {
    assert.equal(String(p.charset).toLowerCase(), 'utf-8', `${p.content_type} charset`);
    assert.equal(typeof p.content, 'string', `${p.content_type} content: ${p.content_error}`);
    assert.ok(!p.content.includes('\ufffd'), `${p.content_type} is not valid UTF-8`);
  }
  return { text: partOf(mail, 'text/plain').content, html: partOf(mail, 'text/html').content };
}

// ------------------------------------------------------------------ the flows

test('contact flow: the code arrives by SMTP and confirming it marks the email verified', async () => {
  const email = `${unique('flow')}@example.com`;
  const { contact } = await createContact(server, operator, { email, name: 'Alice Example', language: 'en' });
  assert.equal(contact.email_status, 0);
  const t0 = Date.now();
  const { v, code } = await sendAndReceive(operator, contact, { t0 });
  assert.match(code, /^[0-9]{6}$/);
  assert.ok(!JSON.stringify(v).includes(code), 'the send response must not contain the code');

  const r = await confirmContactCode(server, operator, contact.id, 'email', code);
  const c = assertOk(r, 200);
  assert.equal(c.id, contact.id);
  assert.equal(c.email, email);
  assert.equal(c.email_status, 1, show(r));
  assert.match(String(c.email_verified_at), RFC3339, show(r));
  const at = Date.parse(c.email_verified_at);
  assert.ok(at >= t0 - 1500 && at <= Date.now() + 1500, `email_verified_at ${c.email_verified_at}`);
  assert.equal(c.mobile_status, 0, 'verifying the email must not verify the mobile');
  assert.ok(c.mobile_verified_at === null || c.mobile_verified_at === undefined, show(r));

  const g = assertOk(await getContact(server, admin, contact.id), 200);
  assert.equal(g.email_status, 1);
  assert.equal(g.email_verified_at, c.email_verified_at);
  assert.equal(g.mobile_status, 0);
});

test('the email is multipart/alternative UTF-8 with Date and Message-ID, and says what the code is for and how long it lasts (en)', async () => {
  const email = `${unique('mime')}@example.com`;
  const { contact } = await createContact(server, admin, { email, name: 'Bob Example', language: 'en' });
  const { mail, code } = await sendAndReceive(admin, contact);
  const { text, html } = assertWellFormedMail(mail, { to: email });
  const subject = mail.decoded_headers.subject;
  assert.match(subject, /certificate/i, `subject: ${subject}`);
  for (const [name, body] of [['text', text], ['html', html]]) {
    assert.ok(body.includes(code), `${name} part lacks the code ${code}:\n${body}`);
    assert.match(body, /certificate/i, `${name} part does not say it is about certificates:\n${body}`);
    assert.match(body, /10\s*minutes/i, `${name} part does not say the code lasts 10 minutes:\n${body}`);
    assert.match(body, /ignore/i, `${name} part does not say to ignore an unexpected code:\n${body}`);
  }
  assert.match(html, /<html[\s>]/i, 'HTML part is not an HTML document');
  // two messages, two Message-IDs
  const second = await sendAndReceive(admin, contact);
  assert.notEqual(second.mail.decoded_headers['message-id'], mail.decoded_headers['message-id'], 'Message-ID reused');
});

test('a zh-CN contact gets a Chinese email with an RFC 2047 subject mentioning 证书', async () => {
  const email = `${unique('zh')}@example.com`;
  const { contact } = await createContact(server, admin, { email, name: '张三', language: 'zh-CN' });
  const { mail, code } = await sendAndReceive(admin, contact);
  const { text, html } = assertWellFormedMail(mail, { to: email });
  const rawSubject = mail.raw_headers.find(([k]) => k.toLowerCase() === 'subject')[1];
  assert.match(rawSubject, /=\?utf-8\?[bq]\?/i, `subject is not RFC 2047 encoded: ${rawSubject}`);
  assert.match(mail.decoded_headers.subject, /证书/, `decoded subject: ${mail.decoded_headers.subject}`);
  for (const [name, body] of [['text', text], ['html', html]]) {
    assert.ok(body.includes(code), `${name} part lacks the code:\n${body}`);
    assert.match(body, /证书/, `${name} part does not mention 证书:\n${body}`);
    assert.match(body, /10\s*分钟/, `${name} part does not say 10 分钟:\n${body}`);
  }
  assert.ok(text.includes('张三'), 'the greeting should use the contact name');
});

test('verify before saving: confirm a target, then a contact created with it in the same account is verified, in another account not', async () => {
  const email = `${unique('pre')}@example.com`;
  const mark = sink.mark();
  const t0 = Date.now();
  const r = await sendTargetCode(server, admin, 'email', email, 'zh-CN');
  const t1 = Date.now();
  const v = checkVerification(assertOk(r, 201), { channel: 'email', full: email, ttlS: 600, resendS: 0, t0, t1 });
  const mail = await sink.waitForMail(email, { after: mark });
  const { text } = assertWellFormedMail(mail, { to: email });
  assert.match(text, /证书/, 'language zh-CN was asked for');
  const code = codeFromMail(mail);

  const c = await confirmTargetCode(server, admin, v.verification_id, code);
  const body = assertOk(c, 200);
  assert.equal(body.verification_id, v.verification_id, show(c));
  assert.equal(body.channel, 'email');
  assert.equal(body.target, v.target, 'confirm shows the same masked target');
  assert.match(body.confirmed_at, RFC3339);
  assert.ok(!c.text.includes(email), 'confirm response shows the full address');

  // same account, another key (operator): saved verified
  const { contact } = await createContact(server, operator, { email });
  assert.equal(contact.email_status, 1, JSON.stringify(contact));
  assert.match(String(contact.email_verified_at), RFC3339);
  assert.equal(contact.mobile_status, 0);
  // another account: not verified
  const { contact: theirs } = await createContact(server, other, { email });
  assert.equal(theirs.email_status, 0, JSON.stringify(theirs));
  assert.ok(theirs.email_verified_at === null || theirs.email_verified_at === undefined, JSON.stringify(theirs));
});

test('changing the email resets email_status, other changes keep it, a just-confirmed new email keeps it 1', async () => {
  const { contact } = await createContact(server, admin, { email: `${unique('chg')}@example.com` });
  const { code } = await sendAndReceive(admin, contact);
  assert.equal(assertOk(await confirmContactCode(server, admin, contact.id, 'email', code), 200).email_status, 1);

  const p1 = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { name: 'Renamed', language: 'zh-CN' } }), 200);
  assert.equal(p1.email_status, 1, 'a name/language change reset the email status');
  assert.ok(p1.email_verified_at, 'email_verified_at lost on a name change');

  const fresh = `${unique('new')}@example.com`;
  const p2 = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { email: fresh } }), 200);
  assert.equal(p2.email, fresh);
  assert.equal(p2.email_status, 0, 'email changed but email_status stayed 1');
  assert.ok(p2.email_verified_at === null || p2.email_verified_at === undefined, JSON.stringify(p2));
  assert.equal(assertOk(await getContact(server, admin, contact.id), 200).email_status, 0);

  // re-verify the new address through the contact flow
  const again = await sendAndReceive(admin, p2);
  assert.equal(assertOk(await confirmContactCode(server, admin, contact.id, 'email', again.code), 200).email_status, 1);

  // change to an address confirmed beforehand through /v1/verifications: stays 1
  const pre = `${unique('prechg')}@example.com`;
  const mark = sink.mark();
  const v = assertOk(await sendTargetCode(server, admin, 'email', pre), 201);
  const preCode = codeFromMail(await sink.waitForMail(pre, { after: mark }));
  assertOk(await confirmTargetCode(server, admin, v.verification_id, preCode), 200);
  const p3 = assertOk(await api(server, 'PATCH', `/v1/contacts/${contact.id}`, { key: admin, json: { email: pre } }), 200);
  assert.equal(p3.email, pre);
  assert.equal(p3.email_status, 1, 'changed to a just-confirmed address but email_status is 0');
});

// ---------------------------------------------------------------- wrong codes

test('five wrong codes count down attempts_left; then even the right code is TooManyAttempts; a new code works', async () => {
  const { contact } = await createContact(server, admin, { email: `${unique('wrong')}@example.com` });
  const { code } = await sendAndReceive(admin, contact);
  for (let i = 1; i <= 5; i++) {
    const r = await confirmContactCode(server, admin, contact.id, 'email', wrongCode(code, i));
    const e = assertError(r, 400, 'VerificationCode.Mismatch');
    assert.equal(e.attempts_left, 5 - i, `attempts_left after ${i} wrong codes:\n${show(r)}`);
  }
  const dead = await confirmContactCode(server, admin, contact.id, 'email', code);
  assertError(dead, 400, 'VerificationCode.TooManyAttempts');
  assert.equal(assertOk(await getContact(server, admin, contact.id), 200).email_status, 0);

  const next = await sendAndReceive(admin, contact);
  const ok = await confirmContactCode(server, admin, contact.id, 'email', next.code);
  assert.equal(assertOk(ok, 200).email_status, 1);
});

test('a used code cannot be used again: 404 Verification.NotFound (both flows)', async () => {
  const { contact } = await createContact(server, admin, { email: `${unique('used')}@example.com` });
  const { code } = await sendAndReceive(admin, contact);
  assertOk(await confirmContactCode(server, admin, contact.id, 'email', code), 200);
  assertError(await confirmContactCode(server, admin, contact.id, 'email', code), 404, 'Verification.NotFound');

  const email = `${unique('usedpre')}@example.com`;
  const mark = sink.mark();
  const v = assertOk(await sendTargetCode(server, admin, 'email', email), 201);
  const c2 = codeFromMail(await sink.waitForMail(email, { after: mark }));
  assertOk(await confirmTargetCode(server, admin, v.verification_id, c2), 200);
  assertError(await confirmTargetCode(server, admin, v.verification_id, c2), 404, 'Verification.NotFound');
});

test('only the newest code sent to a contact is valid', async () => {
  const { contact } = await createContact(server, admin, { email: `${unique('newest')}@example.com` });
  const first = await sendAndReceive(admin, contact);
  const second = await sendAndReceive(admin, contact);
  assert.notEqual(first.v.verification_id, second.v.verification_id, 'a new send is a new verification');
  if (first.code !== second.code) {
    const r = await confirmContactCode(server, admin, contact.id, 'email', first.code);
    assertError(r, 400, 'VerificationCode.Mismatch');
  }
  assert.equal(assertOk(await confirmContactCode(server, admin, contact.id, 'email', second.code), 200).email_status, 1);
});

// ------------------------------------------------------------- bad requests

test('bad requests: no email, bad channel, unknown contact, readonly key', async () => {
  const { contact: noEmail } = await createContact(server, admin, { email: undefined });
  assert.equal(noEmail.email, null);
  assertError(await sendContactCode(server, admin, noEmail.id, 'email'), 400, 'MissingParameter.Email');

  const { contact } = await createContact(server, admin);
  for (const ch of ['fax', 'EMAIL', 'sms', 'email ']) {
    assertError(await sendContactCode(server, admin, contact.id, ch), 400, 'IncorrectFormat.Channel');
    assertError(await sendTargetCode(server, admin, ch, contact.email), 400, 'IncorrectFormat.Channel');
  }
  // an empty channel may count as missing
  assertError(await sendContactCode(server, admin, contact.id, ''), 400, /^(MissingParameter|IncorrectFormat)\.Channel$/);
  assertError(await sendTargetCode(server, admin, 'email', ''), 400, /^(MissingParameter|IncorrectFormat)\.(Target|Email)$/);
  assertError(await confirmContactCode(server, admin, contact.id, 'fax', '123456'), 400, 'IncorrectFormat.Channel');
  assertError(await sendContactCode(server, admin, 987654321, 'email'), 404, 'NotFound');
  assertError(await confirmTargetCode(server, admin, 987654321, '123456'), 404, 'Verification.NotFound');

  const mark = sink.mark();
  assertError(await sendContactCode(server, readonly, contact.id, 'email'), 403, 'Forbidden');
  assertError(await confirmContactCode(server, readonly, contact.id, 'email', '123456'), 403, 'Forbidden');
  assertError(await sendTargetCode(server, readonly, 'email', `${unique('ro')}@example.com`), 403, 'Forbidden');
  assertError(await confirmTargetCode(server, readonly, 1, '123456'), 403, 'Forbidden');
  assertError(await sendTargetCode(server, admin, 'email', 'not-an-address'), 400);
  assertError(await api(server, 'POST', `/v1/contacts/${contact.id}/verifications`, { key: admin, json: {} }), 400, /^(MissingParameter|IncorrectFormat)\.Channel$/);
  // none of these sent anything
  const r = await sendContactCode(server, admin, contact.id, 'email'); // a real one, to flush the sink
  assertOk(r, 201);
  await sink.waitForMail(contact.email, { after: mark });
  const since = sink.messages().filter((m) => m.seq > mark);
  assert.equal(since.length, 1, `bad requests sent mail: ${JSON.stringify(since.map((m) => m.rcpt_tos))}`);
});

test('isolation: another account cannot send, confirm or spend the attempts of this account\'s codes', async () => {
  const { contact } = await createContact(server, admin, { email: `${unique('iso')}@example.com` });
  const { code } = await sendAndReceive(admin, contact);
  assertError(await sendContactCode(server, other, contact.id, 'email'), 404, 'NotFound');
  // confirming for another account's contact looks exactly like confirming for a contact that does not exist
  const none = assertError(await confirmContactCode(server, other, 987654321, 'email', code), 404, /^(Verification\.)?NotFound$/);
  for (let i = 0; i < 6; i++) {
    const r = await confirmContactCode(server, other, contact.id, 'email', wrongCode(code, i + 1));
    assert.deepEqual([r.status, r.json?.code, r.json?.message], [404, none.code, none.message], show(r));
  }
  const r = await confirmContactCode(server, other, contact.id, 'email', code);
  assert.deepEqual([r.status, r.json?.code, r.json?.message], [404, none.code, none.message], show(r));
  assert.equal(assertOk(await confirmContactCode(server, admin, contact.id, 'email', code), 200).email_status, 1);

  const email = `${unique('isopre')}@example.com`;
  const mark = sink.mark();
  const v = assertOk(await sendTargetCode(server, admin, 'email', email), 201);
  const c2 = codeFromMail(await sink.waitForMail(email, { after: mark }));
  for (let i = 0; i < 6; i++) {
    assertError(await confirmTargetCode(server, other, v.verification_id, wrongCode(c2, i + 1)), 404, 'Verification.NotFound');
  }
  assertError(await confirmTargetCode(server, other, v.verification_id, c2), 404, 'Verification.NotFound');
  // the other account's tries neither confirmed it for them nor used up its attempts
  const { contact: theirs } = await createContact(server, other, { email });
  assert.equal(theirs.email_status, 0);
  assertOk(await confirmTargetCode(server, admin, v.verification_id, c2), 200);
});

// ------------------------------------------------------------------ delivery

test('SMTP down: 502 DeliveryFailed saying it could not connect, quickly; other requests unaffected', async () => {
  const port = await closedPort();
  const { server: s, key } = await ownServer(smtpEnv(`smtp://127.0.0.1:${port}`, { CERTCONTACTS_SEND_TIMEOUT_MS: '2000' }));
  const { contact } = await createContact(s, key);
  const t0 = Date.now();
  const r = await sendContactCode(s, key, contact.id, 'email');
  const took = Date.now() - t0;
  const e = assertError(r, 502, 'DeliveryFailed');
  assert.match(e.message, /connect/i, `message should say it could not connect:\n${show(r)}`);
  assert.ok(took < 5000, `DeliveryFailed took ${took} ms`);
  const t = await sendTargetCode(s, key, 'email', `${unique('down')}@example.com`);
  assertError(t, 502, 'DeliveryFailed');
  assertOk(await api(s, 'GET', '/v1/contacts', { key }), 200);
  assertOk(await api(s, 'GET', '/healthz'), 200);
});

test('SMTP hung: 8 sends wait at most the send timeout while GET /v1/contacts and /healthz answer at once', async () => {
  const hung = await ownSink({ mode: 'hang' });
  const { server: s, key } = await ownServer(smtpEnv(hung.url, { CERTCONTACTS_SEND_TIMEOUT_MS: '2000' }));
  const contacts = [];
  for (let i = 0; i < 8; i++) contacts.push((await createContact(s, key)).contact);

  const settled = new Array(8).fill(false);
  const started = Date.now();
  const sends = contacts.map((c, i) => sendContactCode(s, key, c.id, 'email').then((r) => {
    settled[i] = Date.now() - started;
    return r;
  }));
  await waitFor(() => hung.connections >= 1, { timeoutMs: 3000, what: 'the server to connect to the hung SMTP server' });

  const g0 = Date.now();
  const list = await api(s, 'GET', '/v1/contacts', { key });
  const health = await api(s, 'GET', '/healthz');
  const one = await getContact(s, key, contacts[0].id);
  const gTook = Date.now() - g0;
  const pendingThen = settled.filter((x) => x === false).length;
  assertOk(list, 200);
  assertOk(health, 200);
  assertOk(one, 200);
  assert.equal(pendingThen, 8, `the GETs were not timed while all 8 sends hung (settled: ${JSON.stringify(settled)})`);
  assert.ok(gTook < 1000, `three GETs took ${gTook} ms while 8 sends hung`);

  const results = await Promise.all(sends);
  for (const r of results) {
    const e = assertError(r, 502, 'DeliveryFailed');
    assert.ok(e.message.length > 0);
  }
  for (const ms of settled) assert.ok(ms < 2000 + 3000, `a send took ${ms} ms with a 2000 ms send timeout (all: ${JSON.stringify(settled)})`);
  assert.ok(hung.connections >= 1);
});

test('SMTP server refusing the recipient: 502 DeliveryFailed with its reply, the address it echoes masked and kept nowhere', async () => {
  const refusing = await ownSink({ rejectRcpt: '550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table' });
  const { server: s, key, dir: d } = await ownServer(smtpEnv(refusing.url, { CERTCONTACTS_SEND_TIMEOUT_MS: '2000' }));
  const { contact } = await createContact(s, key);
  const r = await sendContactCode(s, key, contact.id, 'email');
  const e = assertError(r, 502, 'DeliveryFailed');
  assert.match(e.message, /550/, `the message should carry the SMTP reply code:\n${show(r)}`);
  assert.equal(refusing.messages().length, 0);
  const local = contact.email.split('@')[0];
  assert.ok(!e.message.includes(local), `the reply echoed the address in full: ${e.message}`);
  assert.match(e.message, /\*\*\*\*/, e.message);
  // the failed code keeps its address and its failure masked
  const row = dbRun(d, `SELECT target || ' | ' || failure FROM verifications WHERE contact_id = ${contact.id}`);
  assert.equal(row.status, 0, row.stderr);
  assert.match(row.stdout, /550/);
  assert.ok(!row.stdout.includes(local), `the verification record holds the address: ${row.stdout}`);
});

test('SMTP login and a non-ASCII sender name: the server authenticates and encodes the From display name', async () => {
  const authed = await ownSink({ auth: 'mailer:s3cret pass' });
  const from = `证书通知 <${FROM_ADDR}>`;
  const { server: s, key } = await ownServer(smtpEnv(authed.url, {
    CERTCONTACTS_SMTP_USER: 'mailer',
    CERTCONTACTS_SMTP_PASSWORD: 's3cret pass',
    CERTCONTACTS_SMTP_FROM: from,
  }));
  const email = `${unique('auth')}@example.com`;
  const { contact } = await createContact(s, key, { email });
  const r = await sendContactCode(s, key, contact.id, 'email');
  assertOk(r, 201);
  const mail = await authed.waitForMail(email);
  assert.equal(mail.auth_user, 'mailer', 'the sink saw no SMTP login');
  assert.equal(mail.mail_from, FROM_ADDR);
  const rawFrom = mail.raw_headers.find(([k]) => k.toLowerCase() === 'from')[1];
  assert.match(rawFrom, /=\?utf-8\?[bq]\?/i, `From display name not RFC 2047 encoded: ${rawFrom}`);
  assert.ok(mail.decoded_headers.from.includes('证书通知'), `decoded From: ${mail.decoded_headers.from}`);
  assert.ok(mail.decoded_headers.from.includes(FROM_ADDR));
  const code = codeFromMail(mail);
  assert.equal(assertOk(await confirmContactCode(s, key, contact.id, 'email', code), 200).email_status, 1);
});

test('SMTP login refused: 502 DeliveryFailed', async () => {
  const authed = await ownSink({ auth: 'mailer:right' });
  const { server: s, key } = await ownServer(smtpEnv(authed.url, {
    CERTCONTACTS_SMTP_USER: 'mailer',
    CERTCONTACTS_SMTP_PASSWORD: 'wrong',
    CERTCONTACTS_SEND_TIMEOUT_MS: '2000',
  }));
  const { contact } = await createContact(s, key);
  const r = await sendContactCode(s, key, contact.id, 'email');
  const e = assertError(r, 502, 'DeliveryFailed');
  assert.match(e.message, /535|auth|login/i, `the message should say the login failed:\n${show(r)}`);
  assert.equal(authed.messages().length, 0);
});
