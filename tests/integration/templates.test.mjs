// templates.test.mjs — an account's own notification templates: save, read,
// list and delete them; preview any template, saved or not, with sample or
// real data and see each value escaped for its format; the checks that keep
// a template deliverable (known variables, the robots' keyword, lengths);
// roles; isolation between accounts; and a test send to a robot that uses
// the account's own text.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError,
  createContact, stopAllAfter,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl } from './lib/robots.mjs';

const EVENTS = [
  'certificate.application.verification_required', 'certificate.application.approved',
  'certificate.application.rejected', 'certificate.issued', 'certificate.expiring',
  'certificate.expired', 'certificate.revoked', 'contact.test',
  'certificate.endpoint_outdated', 'certificate.endpoint_expiring', 'certificate.endpoint_error',
  'certificate.renewal_failed',
];
const PATH = '/v1/templates/certificate.expiring/robot/en';

let dir, server, robots, admin, operator, readonly, other;

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  other = createAccount(dir);
  server = await startServer(dir, { env: { ...robots.env(), CERTCONTACTS_SEND_TIMEOUT_MS: '3000' } });
});

stopAllAfter(() => [server, robots], () => dir);

const put = (key, path, json) => api(server, 'PUT', path, { key, json });
const get = (key, path) => api(server, 'GET', path, { key });
const del = (key, path) => api(server, 'DELETE', path, { key });
const preview = (key, json) => api(server, 'POST', '/v1/templates/preview', { key, json });

test('the list has every event type x channel x language, built in until the account writes its own', async () => {
  const all = assertOk(await get(readonly, '/v1/templates'), 200);
  assert.equal(all.total, EVENTS.length * 3 * 2);
  assert.equal(all.items.length, all.total);
  for (const ev of EVENTS) {
    for (const ch of ['email', 'sms', 'robot']) {
      for (const lang of ['en', 'zh-CN']) {
        const t = all.items.find((i) => i.event_type === ev && i.channel === ch && i.language === lang);
        assert.ok(t, `${ev}/${ch}/${lang} is listed`);
        assert.equal(t.custom, false);
        assert.ok(t.title.length > 0 && t.body.length > 0);
        assert.ok((t.title + t.body).includes(lang === 'en' ? 'certificate' : '证书'));
      }
    }
  }
  const own = assertOk(await get(readonly, '/v1/templates?custom=true'), 200);
  assert.deepEqual(own, { items: [], total: 0 });
  assertError(await get(readonly, '/v1/templates?custom=yes'), 400, 'InvalidParameter.Custom');
  const one = assertOk(await get(readonly, '/v1/templates/certificate.expiring/email/zh-CN'), 200);
  assert.deepEqual(Object.keys(one).sort(), ['body', 'channel', 'custom', 'event_type', 'language', 'title']);
  assert.equal(one.custom, false);
  assert.match(one.title, /证书/);
  assert.match(one.title, /\{\{#days_left\}\}/, 'the template, not a rendering');
});

test('PUT saves the account\'s own text, GET and the list show it, DELETE goes back to the built-in one', async () => {
  const body = { title: 'Renew {{domains}} soon', body: 'Our certificate for {{domains}} ends on {{not_after}}.\nOrder {{order_id}}' };
  const saved = assertOk(await put(operator, PATH, body), 200);
  assert.deepEqual(saved, { event_type: 'certificate.expiring', channel: 'robot', language: 'en', ...body, custom: true });
  assert.deepEqual(assertOk(await get(readonly, PATH), 200), saved);
  // only that channel and language changed
  assert.equal(assertOk(await get(readonly, '/v1/templates/certificate.expiring/email/en'), 200).custom, false);
  assert.equal(assertOk(await get(readonly, '/v1/templates/certificate.expiring/robot/zh-CN'), 200).custom, false);
  const own = assertOk(await get(readonly, '/v1/templates?custom=true'), 200);
  assert.deepEqual(own.items, [saved]);
  const listed = assertOk(await get(readonly, '/v1/templates'), 200).items
    .find((i) => i.event_type === 'certificate.expiring' && i.channel === 'robot' && i.language === 'en');
  assert.deepEqual(listed, saved);
  // a second PUT replaces it
  const again = assertOk(await put(admin, PATH, { ...body, title: 'Renew {{domains}} now' }), 200);
  assert.equal(again.title, 'Renew {{domains}} now');
  assert.equal(assertOk(await get(readonly, '/v1/templates?custom=true'), 200).total, 1);
  // delete: 204, built in again, a second delete is 404
  const gone = await del(operator, PATH);
  assert.equal(gone.status, 204, gone.text);
  assert.equal(gone.text, '');
  const back = assertOk(await get(readonly, PATH), 200);
  assert.equal(back.custom, false);
  assert.match(back.title, /^Certificate \{\{#days_left\}\}expires \{\{expires_in\}\}/);
  assertError(await del(operator, PATH), 404, 'NotFound');
});

test('a saved template keeps Chinese text and line breaks exactly', async () => {
  const p = '/v1/templates/certificate.issued/email/zh-CN';
  const body = { title: '【通知】证书已签发：{{domains}}', body: '您好 {{contact_name}}：\n{{domains}} 的证书已签发。\n\n序列号：{{serial}}' };
  assertOk(await put(operator, p, body), 200);
  const t = assertOk(await get(readonly, p), 200);
  assert.equal(t.title, body.title);
  assert.equal(t.body, body.body);
  assert.equal((await del(operator, p)).status, 204);
});

test('preview escapes every value for its format and keeps plain text raw', async () => {
  const data = { domains: ['*_x_*.example.com', 'b.example.com'], brand: '<b>Brand</b> & "Co"', days_left: 9, not_after: '2030-01-01' };
  const r = assertOk(await preview(readonly, { event_type: 'certificate.expiring', channel: 'robot', language: 'en', data }), 200);
  assert.equal(r.custom, false);
  assert.equal(r.unsaved, false);
  assert.deepEqual(r.sent, ['title', 'text', 'markdown']);
  assert.equal(r.title, 'Certificate expires in 9 days: *_x_*.example.com, b.example.com');
  // markdown: the wildcard cannot turn into emphasis, the tag is escaped
  assert.ok(r.markdown.startsWith('### Certificate expires in 9 days: \\*\\_x\\_\\*.example.com, b.example.com\n\n'), r.markdown);
  assert.ok(r.markdown.includes('\\<b\\>Brand\\</b\\> & "Co"'), r.markdown);
  assert.ok(!r.markdown.includes('*_x_*'), r.markdown);
  // HTML: entities
  assert.ok(r.html.includes('&lt;b&gt;Brand&lt;/b&gt; &amp; &quot;Co&quot;'), r.html);
  assert.ok(!r.html.includes('<b>Brand'), r.html);
  // text: as sent
  assert.ok(r.text.includes('<b>Brand</b> & "Co"'), r.text);
  assert.ok(r.text.includes('*_x_*.example.com'), r.text);
  // what each channel sends
  assert.deepEqual(assertOk(await preview(readonly, { event_type: 'certificate.expiring', channel: 'email' }), 200).sent, ['title', 'text', 'html']);
  assert.deepEqual(assertOk(await preview(readonly, { event_type: 'certificate.expiring', channel: 'sms' }), 200).sent, ['text']);
});

test('an event that lacks optional fields reads well: what is missing is left out', async () => {
  const data = { domains: ['a.example.com'], days_left: 7 };
  const en = assertOk(await preview(readonly, { event_type: 'certificate.expiring', channel: 'email', language: 'en', data }), 200);
  assert.equal(en.title, 'Certificate expires in 7 days: a.example.com');
  assert.ok(en.text.includes('The certificate for a.example.com expires in 7 days.\n'), en.text);
  assert.ok(!/ - |\b-\b|\s-[\s.]/.test(en.text), en.text);
  const zh = assertOk(await preview(readonly, { event_type: 'certificate.expiring', channel: 'robot', language: 'zh-CN', data: { domains: ['a.example.com'], days_left: 1 } }), 200);
  assert.equal(zh.title, '证书将于1天后到期：a.example.com');
  const rej = assertOk(await preview(readonly, { event_type: 'certificate.application.rejected', channel: 'sms', language: 'en', data: { domains: ['a.example.com'] } }), 200);
  assert.ok(!rej.text.includes('Reason') && !rej.text.includes('Order'), rej.text);
  // an account's own text can leave things out the same way, and a broken section is refused
  const own = { title: 'certificate {{domains}}', body: '{{#reason}}Why: {{reason}}{{/reason}}{{^reason}}No reason given{{/reason}}' };
  const r = assertOk(await preview(readonly, { event_type: 'certificate.revoked', channel: 'sms', language: 'en', ...own, data: { domains: ['a.example.com'] } }), 200);
  assert.ok(r.text.endsWith('No reason given'), r.text);
  const bad = assertError(await preview(readonly, { event_type: 'certificate.revoked', channel: 'sms', language: 'en', title: 'certificate', body: '{{#reason}}x' }), 400, 'IncorrectFormat.Template');
  assert.match(bad.message, /never closes it/);
});

test('preview uses sample data by default, the saved text, unsaved text, and a contact\'s name and language', async () => {
  const sample = assertOk(await preview(readonly, { event_type: 'certificate.expiring', channel: 'email' }), 200);
  assert.equal(sample.language, 'en');
  assert.match(sample.title, /expires in 30 days: www\.example\.com/);
  assert.ok(!sample.text.includes('{{'), sample.text);
  assert.ok(sample.html.startsWith('<!DOCTYPE html>'), sample.html);

  // the saved text of the account
  const p = '/v1/templates/certificate.revoked/sms/en';
  assertOk(await put(operator, p, { title: 'Revoked {{serial}}', body: 'The certificate {{certificate_id}} was revoked: {{reason}}' }), 200);
  const saved = assertOk(await preview(readonly, { event_type: 'certificate.revoked', channel: 'sms', language: 'en', data: { serial: 'AB:CD', reason: 'key compromise' } }), 200);
  assert.equal(saved.custom, true);
  assert.equal(saved.text, 'Revoked AB:CD\n\nThe certificate - was revoked: key compromise');

  // unsaved text: the body only, the saved title stays
  const tried = assertOk(await preview(readonly, { event_type: 'certificate.revoked', channel: 'sms', language: 'en', body: 'certificate {{serial}} gone', data: { serial: 'X1' } }), 200);
  assert.equal(tried.unsaved, true);
  assert.equal(tried.text, 'Revoked X1\n\ncertificate X1 gone');
  // ...and nothing was saved
  assert.equal(assertOk(await get(readonly, p), 200).body, 'The certificate {{certificate_id}} was revoked: {{reason}}');
  assert.equal((await del(operator, p)).status, 204);

  // a contact: its name, and its language by default
  const { contact } = await createContact(server, admin, { name: '<Zhang> San', language: 'zh-CN' });
  const zh = assertOk(await preview(readonly, { event_type: 'contact.test', channel: 'robot', contact_id: contact.id }), 200);
  assert.equal(zh.language, 'zh-CN');
  assert.match(zh.title, /证书/);
  assert.ok(zh.text.includes('<Zhang> San'), zh.text);
  assert.ok(zh.markdown.includes('\\<Zhang\\> San'), zh.markdown);
  const en = assertOk(await preview(readonly, { event_type: 'contact.test', channel: 'email', language: 'en', contact_id: contact.id }), 200);
  assert.ok(en.html.includes('&lt;Zhang&gt; San'), en.html);
  assertError(await preview(readonly, { event_type: 'contact.test', channel: 'email', contact_id: 999999 }), 404, 'NotFound');
});

test('a template that a robot would refuse, or that cannot render, is not saved', async () => {
  const cases = [
    [{ title: 'Expiring {{domains}}', body: '{{domain}} certificate' }, /unknown variable \{\{domain\}\}/],
    [{ title: 'Expiring {{domains}}', body: 'Renew it soon' }, /"certificate"/],
    [{ title: 'Certificate {{domains}}', body: 'Renew {{domains}} soon' }, /"certificate"/], // case-sensitive, as robots match
    [{ title: 'certificate', body: 'ends {{not_after' }, /never closed/],
    [{ title: 'certificate', body: 'ends not_after}}' }, /no "\{\{"/],
    [{ title: 'certificate\r\nBcc: someone@example.com', body: 'x' }, /control character/],
    [{ title: 'certificate ' + 'x'.repeat(200), body: 'x' }, /at most 200 bytes/],
    [{ title: 'certificate', body: 'x'.repeat(4001) }, /at most 4000 bytes/],
    [{ title: '', body: 'certificate' }, /title is empty/],
  ];
  for (const [body, why] of cases) {
    const e = assertError(await put(operator, PATH, body), 400, 'IncorrectFormat.Template');
    assert.match(e.message, why, JSON.stringify(body));
  }
  // the limits are bytes of UTF-8: 67 Chinese characters are 201 bytes
  const e = assertError(await put(operator, '/v1/templates/certificate.expiring/robot/zh-CN', { title: '证'.repeat(66) + '书', body: 'x' }), 400, 'IncorrectFormat.Template');
  assert.match(e.message, /201 bytes/);
  // Chinese needs 证书
  assert.match(assertError(await put(operator, '/v1/templates/certificate.expiring/robot/zh-CN', { title: 'certificate', body: '到期' }), 400, 'IncorrectFormat.Template').message, /证书/);
  // exactly at the limits is fine
  const ok = assertOk(await put(operator, PATH, { title: 'certificate' + 'x'.repeat(189), body: 'y'.repeat(4000) }), 200);
  assert.equal(ok.title.length, 200);
  assert.equal((await del(operator, PATH)).status, 204);
  // fields
  assertError(await put(operator, PATH, { title: 'certificate' }), 400, 'MissingParameter.Body');
  assertError(await put(operator, PATH, { body: 'certificate' }), 400, 'MissingParameter.Title');
  assertError(await put(operator, PATH, { title: 1, body: 'certificate' }), 400, 'IncorrectFormat.Title');
  assertError(await put(operator, PATH, { title: 'certificate', body: 'certificate', channel: 'sms' }), 400, 'InvalidParameter.UnknownField');
  assertError(await put(operator, PATH, { title: 'certi\u0000ficate', body: 'certificate' }), 400);
  assertError(await api(server, 'PUT', PATH, { key: operator, body: 'title=x' }), 415, 'UnsupportedMediaType');
  // nothing of the above was saved
  assert.equal(assertOk(await get(readonly, '/v1/templates?custom=true'), 200).total, 0);
  // preview checks unsaved text the same way
  assertError(await preview(readonly, { event_type: 'certificate.expiring', channel: 'robot', title: 'x', body: '{{nope}}' }), 400, 'IncorrectFormat.Template');
});

test('names: a template that does not exist is 404; in a preview body a bad name is 400', async () => {
  const good = { title: 'certificate', body: 'certificate' };
  for (const p of ['/v1/templates/certificate.bogus/robot/en', '/v1/templates/certificate.expiring/webhook/en',
    '/v1/templates/certificate.expiring/robot/fr', '/v1/templates/certificate.expiring/robot/zh-cn']) {
    assertError(await get(readonly, p), 404, 'NotFound');
    assertError(await put(operator, p, good), 404, 'NotFound');
    assertError(await del(operator, p), 404, 'NotFound');
  }
  // segments outside [A-Za-z0-9._-] match no route at all
  assertError(await get(readonly, '/v1/templates/certificate%2Eexpiring/robot/en'), 404, 'NotFound');
  assertError(await get(readonly, '/v1/templates/certificate.expiring/robot'), 404, 'NotFound');
  assertError(await api(server, 'POST', PATH, { key: operator, json: good }), 405, 'MethodNotAllowed');
  assertError(await get(readonly, '/v1/templates/preview'), 405, 'MethodNotAllowed');

  assertError(await preview(readonly, { event_type: 'certificate.bogus', channel: 'robot' }), 400, 'IncorrectFormat.EventType');
  assertError(await preview(readonly, { event_type: 'certificate.issued', channel: 'webhook' }), 400, 'IncorrectFormat.Channel');
  assertError(await preview(readonly, { event_type: 'certificate.issued', channel: 'robot', language: 'fr' }), 400, 'IncorrectFormat.Language');
  assertError(await preview(readonly, { channel: 'robot' }), 400, 'MissingParameter.EventType');
  assertError(await preview(readonly, { event_type: 'certificate.issued' }), 400, 'MissingParameter.Channel');
  assertError(await preview(readonly, { event_type: 'certificate.issued', channel: 'robot', data: [1] }), 400, 'IncorrectFormat.Data');
  assertError(await preview(readonly, { event_type: 'certificate.issued', channel: 'robot', contact_id: 0 }), 400, 'IncorrectFormat.ContactId');
  assertError(await preview(readonly, { event_type: 'certificate.issued', channel: 'robot', extra: 1 }), 400, 'InvalidParameter.UnknownField');
});

test('readonly reads and previews; only operator and admin write', async () => {
  const body = { title: 'certificate {{domains}}', body: 'x' };
  assertError(await put(readonly, PATH, body), 403, 'Forbidden');
  assertOk(await put(operator, PATH, body), 200);
  assertError(await del(readonly, PATH), 403, 'Forbidden');
  assertOk(await get(readonly, PATH), 200);
  assertOk(await preview(readonly, { event_type: 'certificate.expiring', channel: 'robot' }), 200);
  assert.equal((await del(admin, PATH)).status, 204);
  assertError(await get(undefined, '/v1/templates'), 401, 'Unauthorized');
  assertError(await preview(undefined, { event_type: 'certificate.expiring', channel: 'robot' }), 401, 'Unauthorized');
});

test('accounts never see or change each other\'s templates', async () => {
  const body = { title: 'Account A certificate', body: 'only for A {{domains}}' };
  assertOk(await put(admin, PATH, body), 200);
  const theirs = assertOk(await get(other, PATH), 200);
  assert.equal(theirs.custom, false);
  assert.equal(assertOk(await get(other, '/v1/templates?custom=true'), 200).total, 0);
  const r = assertOk(await preview(other, { event_type: 'certificate.expiring', channel: 'robot', language: 'en' }), 200);
  assert.equal(r.custom, false);
  assert.ok(!r.text.includes('Account A'));
  assertError(await del(other, PATH), 404, 'NotFound');
  assert.equal(assertOk(await get(admin, PATH), 200).title, 'Account A certificate');
  // the other account's own text does not touch ours either
  assertOk(await put(other, PATH, { title: 'Account B certificate', body: 'b' }), 200);
  assert.equal(assertOk(await get(admin, PATH), 200).title, 'Account A certificate');
  // another account's contact is not found, like a missing one
  const { contact } = await createContact(server, admin);
  assertError(await preview(other, { event_type: 'contact.test', channel: 'robot', contact_id: contact.id }), 404, 'NotFound');
  assert.equal((await del(admin, PATH)).status, 204);
  assert.equal((await del(other, PATH)).status, 204);
});

test('a test send to a robot uses the account\'s own text, escaped as the preview shows', async () => {
  const ding = robots.register('dingtalk', null, { secret: 'SECtpl', keywords: ['certificate'] });
  const { contact } = await createContact(server, admin, { webhooks: [{ url: dingtalkWebhookUrl(ding), secret: 'SECtpl' }] });
  assertOk(await put(operator, PATH, { title: 'Own title for {{domains}}', body: 'Our own certificate words, order {{order_id}}' }), 200);
  const mark = robots.mark();
  const sent = assertOk(await api(server, 'POST', `/v1/contacts/${contact.id}/test`, {
    key: admin, json: { channel: 'webhook', event_type: 'certificate.expiring' },
  }), 200);
  assert.equal(sent.delivered, true, JSON.stringify(sent));
  const [m] = await robots.waitFor('dingtalk', ding, 1, { after: mark });
  assert.equal(m.msgtype, 'markdown');
  assert.match(m.text, /Own title for www\.example\.com/);
  assert.match(m.text, /Our own certificate words, order TEST-0001/);
  assert.match(m.text, /TEST/);
  assert.equal((await del(operator, PATH)).status, 204);
});
