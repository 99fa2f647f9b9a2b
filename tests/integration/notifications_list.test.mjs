// notifications_list.test.mjs — the delivery log as a person reads it: each
// notification names its event's type and domains, the detail carries the
// event's data, and a channel an event could not use (an unverified address,
// no robots) is listed as "skipped" with the reason, never sent or resent.
// Also the contact search by a mobile written as the list shows it
// ("+86 158 1234 5678"), in parts, with spaces or dashes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError, createContact,
  verifiedContactBody, eventSettled, unique, uniqueMobile, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, admin, readonly;
stopAllAfter(() => [server], () => dir);

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  readonly = createKey(dir, admin.account_id, 'readonly');
  // email and SMS written to the log: addresses are verified through the real flow
  server = await startServer(dir, { env: { CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '', CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0' } });
});

const get = async (key, path) => assertOk(await api(server, 'GET', path, { key }), 200);

async function raise(contactIds, data) {
  return assertOk(await api(server, 'POST', '/v1/events', {
    key: admin,
    json: { type: 'certificate.expiring', contact_ids: contactIds, data },
  }), 201);
}

test('a channel an event skipped is in the delivery log with status skipped and why; the event view lists it under skipped only', async () => {
  const { contact } = await createContact(server, admin); // email and mobile unverified, no robots
  const data = { domains: ['shop.example.com', 'www.shop.example.com'], certificate_id: '41', days_left: 12 };
  const ev = await raise([contact.id], data);
  assert.equal(ev.skipped.length, 3, JSON.stringify(ev.skipped));

  const log = await get(readonly, `/v1/notifications?contact_id=${contact.id}`);
  assert.equal(log.total, 3);
  const byChannel = Object.fromEntries(log.items.map((n) => [n.channel, n]));
  assert.deepEqual(Object.keys(byChannel).sort(), ['email', 'mobile', 'webhook']);
  for (const n of log.items) {
    assert.equal(n.status, 'skipped');
    assert.equal(n.attempts, 0);
    assert.equal(n.next_attempt_at, null);
    assert.equal(n.event_id, ev.id);
    assert.equal(n.event_type, 'certificate.expiring');
    assert.equal(n.domain, 'shop.example.com, www.shop.example.com');
    assert.equal(n.contact_name, contact.name);
  }
  assert.equal(byChannel.email.last_error, 'email address not verified');
  assert.equal(byChannel.mobile.last_error, 'mobile number not verified');
  assert.equal(byChannel.webhook.last_error, 'no notification robots');
  // the unverified addresses are named masked, as the rest of the log does
  assert.ok(byChannel.email.target.includes('****') || byChannel.email.target.includes('***'), byChannel.email.target);
  assert.ok(!byChannel.mobile.target.includes(contact.mobile.slice(-8, -4)), byChannel.mobile.target);

  const onlySkipped = await get(readonly, '/v1/notifications?status=skipped&page_size=100');
  assert.ok(onlySkipped.items.every((n) => n.status === 'skipped'));
  assert.ok(log.items.every((n) => onlySkipped.items.some((m) => m.id === n.id)));

  // never sent: it stays skipped; a resend is refused and changes nothing
  const again = await eventSettled(server, admin, ev.id);
  assert.equal(again.notifications.length, 0, 'the event view keeps skipped channels in "skipped"');
  assert.equal(again.skipped.length, 3);
  assertError(await api(server, 'POST', `/v1/notifications/${byChannel.email.id}/resend`, { key: admin }), 409, 'InvalidTransition');
  const detail = await get(readonly, `/v1/notifications/${byChannel.email.id}`);
  assert.equal(detail.status, 'skipped');
  assert.deepEqual(detail.attempt_log, []);
  assert.deepEqual(detail.event_data, data);
  assert.equal(detail.contact_name, contact.name);
  // a deleted contact's history stays, without its name
  assertOk(await api(server, 'DELETE', `/v1/contacts/${contact.id}`, { key: admin }), 204);
  const gone = await get(readonly, `/v1/notifications/${byChannel.email.id}`);
  assert.equal(gone.contact_name, null);
  assert.equal(gone.status, 'skipped', 'deleting the contact does not make a skipped row cancelled');
});

test('the answer to an event\'s POST is, byte for byte, what its GET answers before the notifications', async () => {
  const one = (await createContact(server, admin)).contact;
  const two = (await createContact(server, admin)).contact;
  const data = {
    domains: ['例子.example.com', 'x.example.com'], note: 'quote " backslash \\ slash / tab \t nl \n ctl \u0001 del \u007f 😀',
    nested: { a: [1, -2, 0.1, 1e300, true, false, null], 'key with "quote"': {} }, days_left: 7,
  };
  const posted = await api(server, 'POST', '/v1/events', { key: admin, json: { type: 'certificate.expiring', contact_ids: [two.id, one.id], data } });
  assert.equal(posted.status, 201, posted.text);
  assert.equal(posted.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(posted.headers.get('location'), `/v1/events/${posted.json.id}`);
  assert.deepEqual(posted.json.data, data);
  assert.deepEqual(posted.json.skipped.map((s) => [s.contact_id, s.channel]),
    [[two.id, 'email'], [two.id, 'mobile'], [two.id, 'webhook'], [one.id, 'email'], [one.id, 'mobile'], [one.id, 'webhook']]);
  const got = await api(server, 'GET', `/v1/events/${posted.json.id}`, { key: readonly });
  assert.equal(got.status, 200, got.text);
  const cut = got.text.indexOf(',"notifications":');
  assert.ok(cut > 0, got.text);
  assert.equal(posted.text, got.text.slice(0, cut) + '}');
});

test('a delivered notification names its event type and domain; its detail carries the event data', async () => {
  const body = await verifiedContactBody(server, admin);
  const { contact } = await createContact(server, admin, body);
  const data = { domain: 'api.example.org', application_id: '9', days_left: 3 };
  const ev = await raise([contact.id], data);
  assert.deepEqual(ev.skipped.map((s) => s.channel), ['webhook']);
  const settled = await eventSettled(server, admin, ev.id);
  assert.equal(settled.notifications.length, 2);
  const log = await get(readonly, `/v1/notifications?event_id=${ev.id}`);
  assert.equal(log.total, 3);
  const sent = log.items.filter((n) => n.status !== 'skipped');
  assert.deepEqual(sent.map((n) => n.channel).sort(), ['email', 'mobile']);
  for (const n of log.items) {
    assert.equal(n.event_type, 'certificate.expiring');
    assert.equal(n.domain, 'api.example.org', 'a single "domain" in the data is the domain');
  }
  const d = await get(readonly, `/v1/notifications/${sent[0].id}`);
  assert.deepEqual(d.event_data, data);
  assert.equal(d.event_type, 'certificate.expiring');
  // an event without domains has none
  const bare = await raise([contact.id], { days_left: 1 });
  const l2 = await get(readonly, `/v1/notifications?event_id=${bare.id}`);
  assert.ok(l2.items.length >= 1);
  assert.ok(l2.items.every((n) => n.domain === null));
  assertError(await api(server, 'GET', '/v1/notifications?status=sent', { key: readonly }), 400, 'InvalidParameter.Status');
});

test('a long list of domains is cut with "…" on a character boundary', async () => {
  const { contact } = await createContact(server, admin);
  const domains = Array.from({ length: 40 }, (_, i) => `子域${i}.例子.example.com`);
  const ev = await raise([contact.id], { domains });
  const [n] = (await get(readonly, `/v1/notifications?event_id=${ev.id}&page_size=1`)).items;
  assert.ok(n.domain.endsWith('…'), n.domain);
  assert.ok(Buffer.byteLength(n.domain) <= 255, String(Buffer.byteLength(n.domain)));
  assert.ok(domains.join(', ').startsWith(n.domain.slice(0, -1)));
});

test('searching a mobile as the list shows it (+86 158 1234 5678), or a part with spaces or dashes, finds the contact', async () => {
  const mobile = uniqueMobile('158'); // +86158xxxxxxxx
  const national = mobile.slice(3);
  const name = unique('Phone Person');
  const { contact } = await createContact(server, admin, { name, mobile });
  const shown = `+86 ${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`;
  const finds = async (key, kw) => (await get(key, `/v1/contacts?keyword=${encodeURIComponent(kw)}&page_size=100`)).items.some((c) => c.id === contact.id);
  for (const kw of [shown, `+86 ${national.slice(0, 3)}`, `${national.slice(0, 3)} ${national.slice(3, 7)}`,
    `${national.slice(3, 7)}-${national.slice(7)}`, `0086 ${national}`, national, mobile]) {
    assert.ok(await finds(admin, kw), `operator keyword "${kw}"`);
  }
  // substring semantics stay: another number's digits do not match
  assert.ok(!(await finds(admin, `+86 ${national.slice(0, 3)} 0000 0000`)));
  // a readonly key still finds only by the whole number (masking rules)
  assert.ok(await finds(readonly, shown), 'readonly, the whole number as shown');
  assert.ok(!(await finds(readonly, `${national.slice(0, 3)} ${national.slice(3, 7)}`)), 'readonly, a part of the number');
  assert.ok(!(await finds(readonly, `+86 ${national.slice(0, 3)}`)), 'readonly, the prefix');
});
