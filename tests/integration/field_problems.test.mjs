// field_problems.test.mjs — a contact create or update with several bad
// fields answers every problem at once: the first as the error's own
// code/field/message (as before), all of them in "problems", each with its
// place in the request body ("email", "webhooks[1].url"); an address another
// contact has names that contact, both the email and the mobile when both
// clash. The same for an application's inline contact ("contact.email").
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, show,
  createContact, contactBody, unique, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, key;

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

const DING = (t) => `https://oapi.dingtalk.com/robot/send?access_token=${t}`;
const FEISHU = (t) => `https://open.feishu.cn/open-apis/bot/v2/hook/${t}`;

/** Every problem is {code, field, path, message} with a message a person can read. */
function checkShape(res, e) {
  assert.ok(Array.isArray(e.problems), show(res));
  for (const p of e.problems) {
    assert.equal(typeof p.code, 'string', show(res));
    assert.equal(typeof p.field, 'string', show(res));
    assert.equal(typeof p.path, 'string', show(res));
    assert.equal(typeof p.message, 'string', show(res));
    assert.ok(p.message.length > 10, show(res));
  }
  // the first problem is the error itself: clients reading one error see it
  assert.equal(e.code, e.problems[0].code, show(res));
  assert.equal(e.message, e.problems[0].message, show(res));
}

const byPath = (e) => Object.fromEntries(e.problems.map((p) => [p.path, p]));

/** Bad email, bad mobile, Bot 1 with a bad secret, Bot 2 with a bad URL. */
function fourBad(over = {}) {
  return {
    name: `Four ${unique('f')}`,
    email: 'not-an-email',
    mobile: '12345',
    webhooks: [
      { url: DING(unique('tok').replace(/[^A-Za-z0-9]/g, '')), secret: 'no-sec-prefix' },
      { url: 'https://evil.example/robot/send?access_token=abc' },
    ],
    ...over,
  };
}

function checkFour(res) {
  const e = assertError(res, 400, 'IncorrectFormat.Email');
  checkShape(res, e);
  assert.deepEqual(e.problems.map((p) => [p.path, p.code, p.field]), [
    ['email', 'IncorrectFormat.Email', 'Email'],
    ['mobile', 'IncorrectFormat.Mobile', 'Mobile'],
    ['webhooks[0].secret', 'IncorrectFormat.Webhooks', 'Webhooks'],
    ['webhooks[1].url', 'IncorrectFormat.Webhooks', 'Webhooks'],
  ], show(res));
  const p = byPath(e);
  assert.match(p['webhooks[0].secret'].message, /SEC/);
  assert.match(p['webhooks[1].url'].message, /not a supported chat robot platform/);
  return e;
}

test('create: invalid email, invalid mobile, Bot 1 secret and Bot 2 URL are all answered at once', async () => {
  const before = assertOk(await api(server, 'GET', '/v1/contacts', { key }), 200).total;
  checkFour(await api(server, 'POST', '/v1/contacts', { key, json: fourBad() }));
  const after = assertOk(await api(server, 'GET', '/v1/contacts', { key }), 200).total;
  assert.equal(after, before, 'nothing was saved');
});

test('create: a missing name and mobile are problems beside the others, in field order', async () => {
  const res = await api(server, 'POST', '/v1/contacts', { key, json: { email: 'x@', language: 'fr' } });
  const e = assertError(res, 400, 'MissingParameter.Name');
  checkShape(res, e);
  assert.deepEqual(e.problems.map((p) => [p.path, p.code]), [
    ['name', 'MissingParameter.Name'],
    ['email', 'IncorrectFormat.Email'],
    ['mobile', 'MissingParameter.Mobile'],
    ['language', 'IncorrectFormat.Language'],
  ], show(res));
});

test('create: one bad field is one problem, as before', async () => {
  const res = await api(server, 'POST', '/v1/contacts', { key, json: contactBody({ email: 'nope' }) });
  const e = assertError(res, 400, 'IncorrectFormat.Email');
  checkShape(res, e);
  assert.equal(e.problems.length, 1);
  assert.equal(e.problems[0].path, 'email');
});

test('create: the same robot twice is a problem at the second one', async () => {
  const url = FEISHU(`dup${unique('d').replace(/[^A-Za-z0-9]/g, '')}`);
  const res = await api(server, 'POST', '/v1/contacts', { key, json: contactBody({ webhooks: [{ url }, { url: 'https://x' }, { url }] }) });
  const e = assertError(res, 400, 'IncorrectFormat.Webhooks');
  checkShape(res, e);
  assert.deepEqual(e.problems.map((p) => p.path), ['webhooks[1].url', 'webhooks[2].url']);
  assert.match(byPath(e)['webhooks[2].url'].message, /listed twice/);
});

test('create: both the email and the mobile of other contacts are named, with their ids', async () => {
  const { contact: a } = await createContact(server, key, { name: 'Alice Owner' });
  const { contact: b } = await createContact(server, key, { name: '王 Bob' });
  const res = await api(server, 'POST', '/v1/contacts', { key, json: contactBody({ email: a.email.toUpperCase(), mobile: b.mobile }) });
  const e = assertError(res, 409, 'AlreadyExists.Email');
  checkShape(res, e);
  assert.deepEqual(e.problems.map((p) => [p.path, p.code, p.contact_id]), [
    ['email', 'AlreadyExists.Email', a.id],
    ['mobile', 'AlreadyExists.Mobile', b.id],
  ], show(res));
  const p = byPath(e);
  assert.equal(p.email.message, 'This email address already belongs to the contact "Alice Owner".');
  assert.equal(p.mobile.message, 'This mobile number already belongs to the contact "王 Bob".');
});

test('create: a clash is answered beside the format problems of other fields', async () => {
  const { contact: a } = await createContact(server, key, { name: 'Clash Carol' });
  const res = await api(server, 'POST', '/v1/contacts', { key, json: contactBody({ email: 'bad', mobile: a.mobile }) });
  const e = assertError(res, 400, 'IncorrectFormat.Email');
  checkShape(res, e);
  assert.deepEqual(e.problems.map((p) => [p.path, p.code, p.contact_id]), [
    ['email', 'IncorrectFormat.Email', undefined],
    ['mobile', 'AlreadyExists.Mobile', a.id],
  ], show(res));
});

test('update: every problem at once; the contact stays as it was', async () => {
  const { contact: c } = await createContact(server, key, { webhooks: [{ url: FEISHU(`keep${unique('k').replace(/[^A-Za-z0-9]/g, '')}`) }] });
  const body = fourBad();
  delete body.name;
  checkFour(await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key, json: body }));
  const now = assertOk(await api(server, 'GET', `/v1/contacts/${c.id}`, { key }), 200);
  assert.equal(now.version, c.version);
  assert.equal(now.email, c.email);
  assert.equal(now.webhooks.length, 1);
});

test('update: clashes name the other contacts; the contact\'s own addresses are no clash', async () => {
  const { contact: a } = await createContact(server, key, { name: 'Dora Email' });
  const { contact: b } = await createContact(server, key, { name: 'Eve Mobile' });
  const { contact: c } = await createContact(server, key);
  const res = await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key, json: { email: a.email, mobile: b.mobile } });
  const e = assertError(res, 409, 'AlreadyExists.Email');
  checkShape(res, e);
  assert.deepEqual(e.problems.map((p) => [p.path, p.contact_id]), [['email', a.id], ['mobile', b.id]]);
  assert.match(byPath(e).mobile.message, /"Eve Mobile"/);
  // its own address, sent again in another spelling, is fine
  assertOk(await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key, json: { email: c.email.toUpperCase(), mobile: c.mobile.slice(3) } }), 200);
});

test('update: a masked robot the contact does not have is a problem at its row', async () => {
  const { contact: c } = await createContact(server, key);
  const res = await api(server, 'PATCH', `/v1/contacts/${c.id}`, {
    key, json: { mobile: 'x', webhooks: [{ url: FEISHU(`new${unique('n').replace(/[^A-Za-z0-9]/g, '')}`) }, { url: DING('abcd****wxyz') }] },
  });
  const e = assertError(res, 400, 'IncorrectFormat.Mobile');
  checkShape(res, e);
  // the mobile is checked before the robots are matched with the stored ones
  assert.deepEqual(e.problems.map((p) => p.path), ['mobile']);
  const res2 = await api(server, 'PATCH', `/v1/contacts/${c.id}`, {
    key, json: { webhooks: [{ url: FEISHU(`new${unique('n').replace(/[^A-Za-z0-9]/g, '')}`) }, { url: DING('abcd****wxyz') }] },
  });
  const e2 = assertError(res2, 400, 'IncorrectFormat.Webhooks');
  checkShape(res2, e2);
  assert.deepEqual(e2.problems.map((p) => p.path), ['webhooks[1].url']);
});

test('an application\'s inline contact: the problems are under contact.', async () => {
  const res = await api(server, 'POST', '/v1/applications', {
    key, json: { product: 'digicert-free-1-free', domains: [`${unique('d')}.example.com`], contact: fourBad() },
  });
  const e = assertError(res, 400, 'IncorrectFormat.Email');
  checkShape(res, e);
  assert.deepEqual(e.problems.map((p) => p.path), ['contact.email', 'contact.mobile', 'contact.webhooks[0].secret', 'contact.webhooks[1].url']);
});

test('Accept-Language picks the language of every message; the structure is the same', async () => {
  const en = assertError(await api(server, 'POST', '/v1/contacts', { key, json: fourBad() }), 400);
  const res = await api(server, 'POST', '/v1/contacts', { key, json: fourBad(), headers: { 'accept-language': 'zh-CN' } });
  const zh = checkFour(res);
  checkShape(res, zh);
  assert.deepEqual(zh.problems.map((p) => [p.path, p.code]), en.problems.map((p) => [p.path, p.code]));
  // every message in Chinese, each another than its English
  const han = /[\u4e00-\u9fff]/;
  assert.match(zh.message, han, zh.message);
  zh.problems.forEach((p, i) => {
    assert.match(p.message, han, `${p.path}: ${p.message}`);
    assert.notEqual(p.message, en.problems[i].message);
    assert.doesNotMatch(en.problems[i].message, han);
  });
});

test('a clash with a contact of the longest name still answers valid text, cut at a whole character', async () => {
  const long = '证'.repeat(63) + '😀'; // 64 characters, 193 bytes: the message is longer than its buffer
  const { contact: a } = await createContact(server, key, { name: long });
  for (const lang of ['en', 'zh-CN']) {
    const res = await api(server, 'POST', '/v1/contacts', { key, json: contactBody({ mobile: a.mobile }), headers: { 'accept-language': lang } });
    const e = assertError(res, 409, 'AlreadyExists.Mobile');
    checkShape(res, e);
    assert.equal(e.problems[0].contact_id, a.id);
    assert.ok(e.message.startsWith('This mobile number already belongs to the contact "证证') || /证证/.test(e.message), show(res));
    assert.ok(!e.message.includes('\uFFFD'), 'no broken character');
  }
});
