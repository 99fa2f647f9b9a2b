// validation.test.mjs — every field's validation over POST /v1/contacts: each
// invalid value gets 400 with its specific code and creates nothing; the
// matching valid values are accepted (so a rejection is not just "everything").
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, assertError,
  contactBody, idCard, unique, uniqueMobile, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, admin;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

async function total() {
  const r = await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin });
  return assertOk(r, 200).total;
}

const futureYear = new Date().getUTCFullYear() + 1;
const DING = (t) => `https://oapi.dingtalk.com/robot/send?access_token=${t}`;

// [label, body overrides (undefined value = remove the field), expected code]
const invalid = [
  ['missing name', { name: undefined }, 'MissingParameter.Name'],
  ['missing mobile', { mobile: undefined }, 'MissingParameter.Mobile'],
  ['empty name', { name: '' }, /^(MissingParameter|IncorrectFormat)\.Name$/],
  ['blank name', { name: '   ' }, /^(MissingParameter|IncorrectFormat)\.Name$/],
  ['name of 65 characters', { name: 'a'.repeat(65) }, 'IncorrectFormat.Name'],
  ['name of 65 Chinese characters', { name: '龍'.repeat(65) }, 'IncorrectFormat.Name'],
  ['name with a control character', { name: 'bad\u0007name' }, 'IncorrectFormat.Name'],
  ['name with a newline', { name: 'bad\nname' }, 'IncorrectFormat.Name'],
  ['name with a right-to-left override', { name: 'invoice\u202Egnp.exe' }, 'IncorrectFormat.Name'],
  ['name with a left-to-right isolate', { name: 'Zhang\u2066San\u2069' }, 'IncorrectFormat.Name'],
  ['name with a zero-width space', { name: 'Zhang\u200BSan' }, 'IncorrectFormat.Name'],
  ['name with a zero-width no-break space', { name: '\uFEFFZhang San' }, 'IncorrectFormat.Name'],
  ['name with a line separator', { name: 'Zhang\u2028San' }, 'IncorrectFormat.Name'],
  ['name with a paragraph separator', { name: 'Zhang\u2029San' }, 'IncorrectFormat.Name'],
  ['email without @', { email: 'no-at.example.com' }, 'IncorrectFormat.Email'],
  ['email with two @', { email: 'a@b@example.com' }, 'IncorrectFormat.Email'],
  ['email without a dot in the domain', { email: 'user@localhost' }, 'IncorrectFormat.Email'],
  ['email with empty local part', { email: '@example.com' }, 'IncorrectFormat.Email'],
  ['email with a space', { email: 'us er@example.com' }, 'IncorrectFormat.Email'],
  ['email with a 65-character local part', { email: `${'a'.repeat(65)}@example.com` }, 'IncorrectFormat.Email'],
  ['email of 255 characters', { email: `a@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(57)}.com` }, 'IncorrectFormat.Email'],
  ['empty email', { email: '' }, /^(MissingParameter|IncorrectFormat)\.Email$/],
  ['mobile too short', { mobile: '1331234567' }, 'IncorrectFormat.Mobile'],
  ['mobile too long', { mobile: '133123456789' }, 'IncorrectFormat.Mobile'],
  ['mobile with letters', { mobile: '1331234abcd' }, 'IncorrectFormat.Mobile'],
  ['mobile E.164 too long', { mobile: '+1234567890123456' }, 'IncorrectFormat.Mobile'],
  ['mobile just a plus', { mobile: '+' }, 'IncorrectFormat.Mobile'],
  ['empty mobile', { mobile: '' }, /^(MissingParameter|IncorrectFormat)\.Mobile$/],
  ['id card with a wrong check digit', { id_card: '110105194912310021' }, 'IncorrectFormat.IdCard'],
  ['id card of 17 characters', { id_card: '11010519491231002' }, 'IncorrectFormat.IdCard'],
  ['id card of 19 characters', { id_card: '11010519491231002X1' }, 'IncorrectFormat.IdCard'],
  ['id card with letters', { id_card: '1101051949123100AX' }, 'IncorrectFormat.IdCard'],
  ['id card with an impossible date (Feb 30)', { id_card: idCard('11010519490230002') }, 'IncorrectFormat.IdCard'],
  ['id card with month 13', { id_card: idCard('11010519491331002') }, 'IncorrectFormat.IdCard'],
  ['id card born in the future', { id_card: idCard(`110105${futureYear}0101002`) }, 'IncorrectFormat.IdCard'],
  ['id card with an invalid region', { id_card: idCard('00010519491231002') }, 'IncorrectFormat.IdCard'],
  ['language fr', { language: 'fr' }, 'IncorrectFormat.Language'],
  ['language de-DE', { language: 'de-DE' }, 'IncorrectFormat.Language'],
  ['language empty', { language: '' }, /^(MissingParameter|IncorrectFormat)\.Language$/],
  ['webhook over http://', { webhooks: [{ url: 'http://oapi.dingtalk.com/robot/send?access_token=abc123' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook on another host', { webhooks: [{ url: 'https://example.com/robot/send?access_token=abc123' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook on a look-alike host', { webhooks: [{ url: 'https://oapi.dingtalk.com.evil.example/robot/send?access_token=x' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook on a sub-domain look-alike', { webhooks: [{ url: 'https://evil.oapi.dingtalk.com/robot/send?access_token=x' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook with userinfo', { webhooks: [{ url: 'https://user:pw@oapi.dingtalk.com/robot/send?access_token=abc123' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook with userinfo pointing elsewhere', { webhooks: [{ url: 'https://oapi.dingtalk.com@evil.example/robot/send?access_token=abc123' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook with port 8443', { webhooks: [{ url: 'https://oapi.dingtalk.com:8443/robot/send?access_token=abc123' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook with a fragment', { webhooks: [{ url: 'https://oapi.dingtalk.com/robot/send?access_token=abc123#x' }] }, 'IncorrectFormat.Webhooks'],
  ['dingtalk webhook on a wrong path', { webhooks: [{ url: 'https://oapi.dingtalk.com/robot/other?access_token=abc123' }] }, 'IncorrectFormat.Webhooks'],
  ['dingtalk webhook without a token', { webhooks: [{ url: 'https://oapi.dingtalk.com/robot/send' }] }, 'IncorrectFormat.Webhooks'],
  ['feishu webhook without an id', { webhooks: [{ url: 'https://open.feishu.cn/open-apis/bot/v2/hook/' }] }, 'IncorrectFormat.Webhooks'],
  ['wecom webhook with a secret', { webhooks: [{ url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx', secret: 'abc' }] }, 'IncorrectFormat.Webhooks'],
  ['dingtalk secret not starting with SEC', { webhooks: [{ url: DING('abc123'), secret: 'notasecret' }] }, 'IncorrectFormat.Webhooks'],
  ['webhook url not a string', { webhooks: [{ url: 42 }] }, 'IncorrectFormat.Webhooks'],
  ['webhook without a url', { webhooks: [{ secret: 'SECx' }] }, /^(IncorrectFormat|MissingParameter)\.Webhooks/],
  ['the same webhook twice', { webhooks: [{ url: DING('dup1') }, { url: DING('dup1') }] }, 'IncorrectFormat.Webhooks'],
  ['six webhooks', { webhooks: [1, 2, 3, 4, 5, 6].map((i) => ({ url: DING(`tok${i}`) })) }, 'LimitExceeded.Webhooks'],
];

for (const [label, over, code] of invalid) {
  test(`400 for ${label}`, async () => {
    const body = contactBody();
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete body[k];
      else body[k] = v;
    }
    const before = await total();
    const res = await api(server, 'POST', '/v1/contacts', { key: admin, json: body });
    assertError(res, 400, code);
    assert.ok(res.json.message.length > 0, 'an empty message does not help a person');
    assert.equal(await total(), before, 'a rejected request created a contact');
  });
}

test('unknown field is rejected with its name in the message', async () => {
  const res = await api(server, 'POST', '/v1/contacts', { key: admin, json: { ...contactBody(), nickname: 'x' } });
  assertError(res, 400, 'InvalidParameter.UnknownField');
  assert.ok(res.json.message.includes('nickname'), res.json.message);
});

// The valid neighbours of the cases above: the rules are not "reject everything".
const valid = [
  ['name of 64 characters', { name: 'a'.repeat(64) }],
  ['international mobile', { mobile: '+442071234567' }],
  ['id card with a computed check digit', { id_card: idCard('44030619900101001') }],
  ['email with a 64-character local part', { email: `${'a'.repeat(64)}@example.com` }],
  ['email with plus and dots', { email: `first.last+${unique('t')}@mail.example.co.uk` }],
  ['email with an IDN domain', { email: `${unique('idn')}@例子.中国` }],
  ['five webhooks of every kind', {
    webhooks: [
      { url: DING('tok1'), secret: 'SEC0123' },
      { url: DING('tok2') },
      { url: 'https://open.feishu.cn/open-apis/bot/v2/hook/1f2e3d4c-aaaa', secret: 's' },
      { url: 'https://open.larksuite.com/open-apis/bot/v2/hook/xyz' },
      { url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx' },
    ],
  }],
  ['language zh-CN', { language: 'zh-CN' }],
  ['language en', { language: 'en' }],
];

for (const [label, over] of valid) {
  test(`201 for ${label}`, async () => {
    const body = { ...contactBody(), ...over };
    const res = await api(server, 'POST', '/v1/contacts', { key: admin, json: body });
    const c = assertOk(res, 201);
    if (over.webhooks) assert.equal(c.webhooks.length, over.webhooks.length);
    if (over.name) assert.equal(c.name, over.name);
  });
}

test('the per-account cap on contacts (--max-contacts-per-account) → LimitExceeded.Contacts', async () => {
  const d2 = makeDataDir();
  let s2;
  try {
    const a = createAccount(d2);
    const b = createAccount(d2);
    s2 = await startServer(d2, { args: ['--max-contacts-per-account', '3'] });
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const r = await api(s2, 'POST', '/v1/contacts', { key: a, json: contactBody() });
      ids.push(assertOk(r, 201).id);
    }
    const over = await api(s2, 'POST', '/v1/contacts', { key: a, json: contactBody() });
    assertError(over, 400, 'LimitExceeded.Contacts');
    // another account has its own allowance
    assertOk(await api(s2, 'POST', '/v1/contacts', { key: b, json: contactBody() }), 201);
    // deleting one frees a place
    assert.equal((await api(s2, 'DELETE', `/v1/contacts/${ids[0]}`, { key: a })).status, 204);
    assertOk(await api(s2, 'POST', '/v1/contacts', { key: a, json: contactBody() }), 201);
    assertError(await api(s2, 'POST', '/v1/contacts', { key: a, json: contactBody() }), 400, 'LimitExceeded.Contacts');
  } finally {
    try {
      await s2?.stop();
    } finally {
      removeDir(d2);
    }
  }
});

test('the per-account cap from CERTCONTACTS_MAX_CONTACTS_PER_ACCOUNT', async () => {
  const d2 = makeDataDir();
  let s2;
  try {
    const a = createAccount(d2);
    s2 = await startServer(d2, { env: { CERTCONTACTS_MAX_CONTACTS_PER_ACCOUNT: '2' } });
    for (let i = 0; i < 2; i++) assertOk(await api(s2, 'POST', '/v1/contacts', { key: a, json: contactBody() }), 201);
    assertError(await api(s2, 'POST', '/v1/contacts', { key: a, json: contactBody() }), 400, 'LimitExceeded.Contacts');
  } finally {
    try {
      await s2?.stop();
    } finally {
      removeDir(d2);
    }
  }
});
