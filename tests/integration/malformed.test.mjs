// malformed.test.mjs — a corpus of malformed requests, generated from tables:
// bad and truncated JSON, huge bodies, deep nesting, wrong types for every
// field, unknown and overlong fields, invalid UTF-8 and NUL bytes in bodies
// and URLs, wrong Content-Types, bad paths, query parameters and headers, and
// wrong methods. Every one must get a 4xx with a JSON error body
// {code, message, request_id} and X-Request-Id equal to request_id; none may
// create or change anything; afterwards the server still answers /healthz.
//
// Requests go through node:http (raw()) so that paths and bytes reach the
// server exactly as written here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, raw, assertOk, assertError, show,
} from './lib/harness.mjs';

const dir = makeDataDir();
const admin = createAccount(dir);
const server = await startServer(dir);

after(async () => {
  try {
    await server.stop();
  } finally {
    removeDir(dir);
  }
});

// The one contact of this account; bad paths and headers aim at it.
const seed = assertOk(
  await api(server, 'POST', '/v1/contacts', {
    key: admin,
    json: {
      name: 'Seed',
      email: 'seed@example.com',
      mobile: '+8613800000000',
      webhooks: [{ url: 'https://oapi.dingtalk.com/robot/send?access_token=seed1234', secret: 'SECseed' }],
    },
  }),
  201,
);
const ID = seed.id;

// ------------------------------------------------------------------ helpers

let n = 0;
/** A valid create body, unique per call, so one wrongly accepted case cannot mask the next with a 409. */
function base() {
  n += 1;
  return { name: `Corpus ${n}`, email: `corpus${n}@example.com`, mobile: `+86137${String(n).padStart(8, '0')}` };
}
const J = 'application/json';
const DING = 'https://oapi.dingtalk.com/robot/send?access_token=abc123';

/** JSON text of a valid body with `field` set to the raw JSON text `valueText`. */
function withRaw(field, valueText) {
  const b = base();
  delete b[field];
  const s = JSON.stringify(b);
  return `${s.slice(0, -1)},${JSON.stringify(field)}:${valueText}}`;
}
/** Bytes of a valid body where `field`'s string value contains the raw bytes `bytes`. */
function withBytes(field, bytes) {
  const b = base();
  const marker = '@@BYTES@@';
  if (field === 'webhooks') b.webhooks = [{ url: `${DING}${marker}` }];
  else b[field] = field === 'email' ? `a${marker}b@example.com` : field === 'mobile' ? `138${marker}` : `x${marker}y`;
  const [pre, post] = JSON.stringify(b).split(marker);
  return Buffer.concat([Buffer.from(pre), Buffer.from(bytes), Buffer.from(post)]);
}

const corpus = [];
/**
 * Add a case. status: a number or '4xx'; code: exact string, RegExp or
 * undefined (any string). `mentions`: a string the message must contain.
 */
function add(name, { method = 'POST', path = '/v1/contacts', headers, body, chunked, status = 400, code, mentions, auth = true, timeoutMs }) {
  corpus.push({ name, method, path, headers: headers || {}, body, chunked, status, code, mentions, auth, timeoutMs });
}
const postJson = (name, body, o = {}) => add(name, { headers: { 'Content-Type': J }, body, ...o });

// --------------------------------------------------------------- bad JSON
const badJson = [
  ['empty body', ''],
  ['whitespace only', '   \n'],
  ['lone open brace', '{'],
  ['lone close brace', '}'],
  ['missing value', '{"name":}'],
  ['trailing comma', () => JSON.stringify(base()).slice(0, -1) + ',}'],
  ['missing colon', '{"name" "a"}'],
  ['single quotes', "{'name':'a','mobile':'13800000001'}"],
  ['unquoted keys', '{name:"a",mobile:"13800000001"}'],
  ['two objects', () => JSON.stringify(base()) + '{"x":1}'],
  ['trailing garbage', () => JSON.stringify(base()) + ' x'],
  ['NaN', () => withRaw('name', 'NaN')],
  ['undefined', () => withRaw('name', 'undefined')],
  ['bad escape', () => withRaw('name', '"a\\xb"')],
  ['short unicode escape', () => withRaw('name', '"\\u12"')],
  ['raw newline in a string', () => withRaw('name', '"a\nb"')],
  ['raw tab in a string', () => withRaw('name', '"a\tb"')],
  ['leading zero number', () => withRaw('name', '01')],
  ['bare minus', () => withRaw('name', '-')],
  ['number with trailing dot', () => withRaw('name', '1.')],
  ['number with leading dot', () => withRaw('name', '.5')],
  ['plus sign number', () => withRaw('name', '+1')],
  ['misspelt true', () => withRaw('name', 'tru')],
  ['misspelt null', () => withRaw('name', 'nul')],
  ['comment', () => '/* c */' + JSON.stringify(base())],
  ['unterminated string', '{"name":"abc'],
  ['object as key', '{{}:1}'],
  ['number as key', '{1:"a"}'],
];
for (const [label, b] of badJson) postJson(`bad JSON: ${label}`, typeof b === 'function' ? b() : b, { code: label.startsWith('empty') || label.startsWith('whitespace') ? /^(MalformedJSON|MissingParameter\.\w+)$/ : 'MalformedJSON' });

for (const [label, text] of [
  ['array', '[]'],
  ['array of an object', () => `[${JSON.stringify(base())}]`],
  ['string', '"name"'],
  ['number', '1'],
  ['null', 'null'],
  ['true', 'true'],
  ['false', 'false'],
]) postJson(`top level is not an object: ${label}`, typeof text === 'function' ? text() : text, { code: 'MalformedJSON' });

// lone surrogate and \u0000 escapes: a strict parser rejects them as JSON, a
// lenient one must then reject the value; either way 400
postJson('lone high surrogate escape', withRaw('name', '"\\ud800"'));
postJson('lone low surrogate escape', withRaw('name', '"a\\udc00b"'));
postJson('\\u0000 escape in name', withRaw('name', '"a\\u0000b"'));
postJson('\\u0000 escape in email', withRaw('email', '"a\\u0000b@example.com"'));
postJson('\\u0000 escape in mobile', withRaw('mobile', '"138\\u00000000000"'));
postJson('\\u0000 escape in a key', JSON.stringify(base()).slice(0, -1) + ',"na\\u0000me":"x"}');

// ---------------------------------------------------------- truncated JSON
{
  const full = JSON.stringify({
    name: 'Truncated',
    email: 'trunc@example.com',
    mobile: '+8613900000077',
    id_card: '11010519491231002X',
    language: 'zh-CN',
    webhooks: [{ url: DING, secret: 'SECtrunc' }],
  });
  const cuts = [1, 2, 8, 9, 20, 35, 60, 90, 120, 150, full.length - 3, full.length - 2, full.length - 1];
  for (const cut of cuts) postJson(`truncated JSON at ${cut}/${full.length}`, full.slice(0, cut), { code: 'MalformedJSON' });
}

// ---------------------------------------------------------- deep nesting
const D = 10000;
postJson('nested arrays, depth 10000', '['.repeat(D) + ']'.repeat(D));
postJson('nested objects, depth 10000', '{"a":'.repeat(D) + '1' + '}'.repeat(D));
postJson('name holding nested arrays, depth 10000', withRaw('name', '['.repeat(D) + ']'.repeat(D)));
postJson('webhooks holding nested arrays, depth 10000', withRaw('webhooks', '['.repeat(D) + ']'.repeat(D)));
postJson('unclosed nesting, depth 10000', '['.repeat(D));
postJson('mixed nesting, depth 10000', '[{"a":'.repeat(D / 2) + '1' + '}]'.repeat(D / 2));

// ------------------------------------------------------------ huge bodies
{
  const pad = (size) => {
    const s = JSON.stringify(base());
    return s.slice(0, -1) + ' '.repeat(size - s.length) + '}';
  };
  postJson('valid JSON padded to 65537 bytes', pad(65537), { status: 413, code: 'RequestEntityTooLarge' });
  postJson('a 100 KB name', withRaw('name', JSON.stringify('n'.repeat(100000))), { status: 413, code: 'RequestEntityTooLarge' });
  postJson('1 MiB of garbage', Buffer.alloc(1 << 20, 0x61), { status: 413, code: 'RequestEntityTooLarge' });
  postJson('100 KB chunked without Content-Length', pad(100000), { chunked: true, status: 413, code: 'RequestEntityTooLarge' });
  add('PATCH with a 70 KB body', { method: 'PATCH', path: `/v1/contacts/${ID}`, headers: { 'Content-Type': J }, body: `{"name":${JSON.stringify('p'.repeat(70000))}}`, status: 413, code: 'RequestEntityTooLarge' });
  add('Content-Length of 10 MB announced (body never sent)', {
    headers: { 'Content-Type': J, 'Content-Length': String(10 * 1024 * 1024) },
    body: '{"name":',
    status: 413,
    code: 'RequestEntityTooLarge',
    timeoutMs: 10000,
  });
}

// ------------------------------------------------- wrong types, every field
const WRONG = [
  ['number', '123'],
  ['float', '1.5'],
  ['true', 'true'],
  ['false', 'false'],
  ['empty array', '[]'],
  ['empty object', '{}'],
  ['array of string', '["x"]'],
  ['object', '{"a":1}'],
];
for (const field of ['name', 'email', 'mobile', 'id_card', 'language', 'webhooks']) {
  for (const [label, text] of WRONG) {
    if (field === 'webhooks' && label === 'empty array') continue; // [] is a valid (empty) list
    postJson(`wrong type: ${field} is ${label}`, withRaw(field, text));
  }
}
postJson('wrong type: name is null', withRaw('name', 'null'), { code: /^(MissingParameter|IncorrectFormat)\.Name$/ });
postJson('wrong type: mobile is null', withRaw('mobile', 'null'), { code: /^(MissingParameter|IncorrectFormat)\.Mobile$/ });
postJson('wrong type: webhooks is a string', withRaw('webhooks', '"x"'));
for (const [label, text] of [
  ['a string element', `[${JSON.stringify(DING)}]`],
  ['a number element', '[1]'],
  ['a null element', '[null]'],
  ['an array element', '[[]]'],
  ['url a number', '[{"url":1}]'],
  ['url null', '[{"url":null}]'],
  ['url an array', `[{"url":[${JSON.stringify(DING)}]}]`],
  ['url an object', '[{"url":{}}]'],
  ['secret a number', `[{"url":${JSON.stringify(DING)},"secret":1}]`],
  ['secret an array', `[{"url":${JSON.stringify(DING)},"secret":["SECx"]}]`],
  ['secret true', `[{"url":${JSON.stringify(DING)},"secret":true}]`],
  ['secret an object', `[{"url":${JSON.stringify(DING)},"secret":{}}]`],
  ['an empty object element', '[{}]'],
]) postJson(`wrong type in webhooks: ${label}`, withRaw('webhooks', text));
for (const [label, text] of [
  ['name a number', '{"name":5}'],
  ['email an array', '{"email":["a@example.com"]}'],
  ['webhooks a string', '{"webhooks":"x"}'],
  ['language true', '{"language":true}'],
  ['id_card a number', '{"id_card":110105194912310020}'],
]) add(`PATCH wrong type: ${label}`, { method: 'PATCH', path: `/v1/contacts/${ID}`, headers: { 'Content-Type': J }, body: text });

// ----------------------------------------------------------- unknown fields
for (const field of ['foo', 'Name', 'NAME', 'id', 'version', 'created_at', 'email_status', 'mobile_status', 'secret', 'account_id', '名字', 'name ', '__proto__', 'constructor', 'x'.repeat(100)]) {
  postJson(`unknown field ${JSON.stringify(field.length > 20 ? field.slice(0, 20) + '…' : field)}`, withRaw(field, '1'), {
    code: 'InvalidParameter.UnknownField',
    mentions: field.length > 20 ? undefined : field,
  });
}
postJson('unknown field inside a webhook', withRaw('webhooks', `[{"url":${JSON.stringify(DING)},"token":"x"}]`));
add('unknown field in a PATCH', { method: 'PATCH', path: `/v1/contacts/${ID}`, headers: { 'Content-Type': J }, body: '{"colour":"red"}', code: 'InvalidParameter.UnknownField', mentions: 'colour' });

// ---------------------------------------------------------- overlong fields
for (const [label, field, value, code] of [
  ['name of 65 characters', 'name', 'n'.repeat(65), 'IncorrectFormat.Name'],
  ['name of 10000 characters', 'name', 'n'.repeat(10000), 'IncorrectFormat.Name'],
  ['name of 65 CJK characters', 'name', '名'.repeat(65), 'IncorrectFormat.Name'],
  ['email of 300 characters', 'email', `${'e'.repeat(60)}@${'d'.repeat(230)}.com`, 'IncorrectFormat.Email'],
  ['email local part of 65 characters', 'email', `${'l'.repeat(65)}@example.com`, 'IncorrectFormat.Email'],
  ['mobile of 100 digits', 'mobile', '1'.repeat(100), 'IncorrectFormat.Mobile'],
  ['E.164 mobile of 16 digits', 'mobile', '+' + '4'.repeat(16), 'IncorrectFormat.Mobile'],
  ['id_card of 1000 characters', 'id_card', '1'.repeat(1000), 'IncorrectFormat.IdCard'],
  ['language of 1000 characters', 'language', 'z'.repeat(1000), 'IncorrectFormat.Language'],
]) postJson(`overlong: ${label}`, withRaw(field, JSON.stringify(value)), { code });
postJson('overlong: webhook URL of 10000 characters', withRaw('webhooks', JSON.stringify([{ url: DING + 'a'.repeat(10000) }])), { code: 'IncorrectFormat.Webhooks' });
postJson('overlong: webhook secret of 10000 characters', withRaw('webhooks', JSON.stringify([{ url: DING, secret: 'SEC' + 's'.repeat(10000) }])), { code: 'IncorrectFormat.Webhooks' });
postJson('overlong: 6 webhooks', withRaw('webhooks', JSON.stringify([1, 2, 3, 4, 5, 6].map((i) => ({ url: DING + i })))), { code: 'LimitExceeded.Webhooks' });
postJson('overlong: 100 webhooks', withRaw('webhooks', JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ url: DING + i })))), { code: 'LimitExceeded.Webhooks' });

// --------------------------------------------------- invalid UTF-8 in bodies
const BAD_UTF8 = [
  ['0xFF', [0xff]],
  ['0xFE', [0xfe]],
  ['a lone continuation byte', [0x80]],
  ['an overlong slash', [0xc0, 0xaf]],
  ['an overlong 3-byte form', [0xe0, 0x80, 0xaf]],
  ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
  ['a 5-byte sequence', [0xf8, 0x88, 0x80, 0x80, 0x80]],
  ['a truncated 3-byte sequence', [0xe4, 0xb8]],
  ['Latin-1 é', [0xe9]],
];
for (const field of ['name', 'email', 'mobile']) {
  for (const [label, bytes] of BAD_UTF8) postJson(`invalid UTF-8 in ${field}: ${label}`, withBytes(field, bytes));
}
postJson('invalid UTF-8 in a key', Buffer.concat([Buffer.from(JSON.stringify(base()).slice(0, -1) + ',"'), Buffer.from([0xff, 0xfe]), Buffer.from('":1}')]));
postJson('invalid UTF-8 in a webhook URL', withBytes('webhooks', [0xc3]));

// --------------------------------------------------------------- NUL bytes
postJson('raw NUL inside name', withBytes('name', [0x00]));
postJson('raw NUL inside email', withBytes('email', [0x00]));
postJson('raw NUL between tokens', Buffer.concat([Buffer.from('{"name":"a",'), Buffer.from([0]), Buffer.from('"mobile":"13800000002"}')]));
postJson('body of NUL bytes', Buffer.alloc(64, 0));
postJson('NUL after a valid object', Buffer.concat([Buffer.from(JSON.stringify(base())), Buffer.from([0])]));

// ------------------------------------------------------------ Content-Type
for (const ct of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'application/json-seq', 'text/json', 'application/javascript', '', '*/*', 'json']) {
  const headers = ct === undefined ? {} : { 'Content-Type': ct };
  add(`Content-Type ${ct === undefined ? 'missing' : JSON.stringify(ct)}`, { headers, body: JSON.stringify(base()), status: 415, code: 'UnsupportedMediaType' });
}
add('PATCH without Content-Type', { method: 'PATCH', path: `/v1/contacts/${ID}`, body: '{"name":"x"}', status: 415, code: 'UnsupportedMediaType' });
add('PATCH with form Content-Type', { method: 'PATCH', path: `/v1/contacts/${ID}`, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'name=x', status: 415, code: 'UnsupportedMediaType' });

// --------------------------------------------------------------- bad paths
const TWO64 = 18446744073709551616n;
for (const p of new Set([
  '/v1/contacts/abc',
  '/v1/contacts/99999999999999999999999',
  '/v1/contacts/-1',
  `/v1/contacts/-${ID}`,
  '/v1/contacts/0',
  '/v1/contacts/1/x',
  `/v1/contacts/${ID}/x`,
  '//v1/contacts',
  '/v1/contacts/%00',
  `/v1/contacts/${ID}%00`,
  '/v1/%2e%2e/x',
  '/v1/%2e%2e/v1/contacts',
  `/v1/contacts/${ID}.0`,
  `/v1/contacts/${ID}e0`,
  `/v1/contacts/${ID}abc`,
  `/v1/contacts/+${ID}`,
  `/v1/contacts/%20${ID}`,
  `/v1/contacts/0x${ID.toString(16)}`,
  `/v1/contacts/${TWO64 + BigInt(ID)}`,
  `/v1/contacts/${2n ** 63n + BigInt(ID)}`,
  `/v1/contacts/${-(TWO64 - BigInt(ID))}`,
  '/v1/contacts/\u00ff',
  '/v1/contacts/%ff%fe',
  '/v1/contacts/%c0%af',
  '/v1/contacts/%e4%b8',
  '/v1/nonexistent',
  '/v1',
  '/v1/',
  '/v2/contacts',
  '/v1/contacts%2f1',
  `/v1/contacts/${'9'.repeat(5000)}`,
  '/' + 'a'.repeat(4000),
])) add(`bad path ${JSON.stringify(p.length > 50 ? p.slice(0, 50) + '…' : p)}`, { method: 'GET', path: p, status: '4xx' });

// ------------------------------------------------------ bad query parameters
for (const [q, code] of [
  ['page=0', 'InvalidParameter.Page'],
  ['page=abc', 'InvalidParameter.Page'],
  ['page=-5', 'InvalidParameter.Page'],
  ['page=1e3', 'InvalidParameter.Page'],
  ['page=1%00', 'InvalidParameter.Page'],
  ['page=99999999999999999999999', 'InvalidParameter.Page'],
  ['page=18446744073709551617', 'InvalidParameter.Page'],
  ['page_size=101', 'InvalidParameter.PageSize'],
  ['page_size=-1', 'InvalidParameter.PageSize'],
  ['page_size=0', 'InvalidParameter.PageSize'],
  ['page_size=', 'InvalidParameter.PageSize'],
  ['page_size=4294967297', 'InvalidParameter.PageSize'],
  [`keyword=${'k'.repeat(200)}`, 'InvalidParameter.Keyword'],
  [`keyword=${'k'.repeat(65)}`, 'InvalidParameter.Keyword'],
  ['keyword=%ff%fe', 'InvalidParameter.Keyword'],
  ['keyword=%c0%af', 'InvalidParameter.Keyword'],
  ['keyword=%e4%b8', 'InvalidParameter.Keyword'],
  ['keyword=\u00ff', 'InvalidParameter.Keyword'],
]) add(`bad query ${JSON.stringify(q.length > 40 ? q.slice(0, 40) + '…' : q)}${q.length > 40 ? ` (${q.length} chars)` : ''}`, { method: 'GET', path: `/v1/contacts?${q}`, code });

// ------------------------------------------------------------- bad headers
for (const im of ['garbage', '"abc"', '""', `W/"${seed.version}"`, '-1', '99999999999999999999999', `"${seed.version}`, `${seed.version}.0`, `0x${seed.version}`, `"${BigInt(seed.version) + TWO64}"`]) {
  add(`If-Match ${JSON.stringify(im)}`, { method: 'PATCH', path: `/v1/contacts/${ID}`, headers: { 'Content-Type': J, 'If-Match': im }, body: '{"name":"If-Match victim"}', status: '4xx' });
}
for (const [label, key] of [
  ['200 characters', 'k'.repeat(200)],
  ['129 characters', 'k'.repeat(129)],
  ['a tab', 'a\tb'],
  ['a Latin-1 byte', 'caf\u00e9'],
]) add(`Idempotency-Key with ${label}`, { headers: { 'Content-Type': J, 'Idempotency-Key': key }, body: JSON.stringify(base()) });
for (const [label, value] of [
  ['garbage', 'Basic !!!'],
  ['no colon', 'Basic ' + Buffer.from('justakey').toString('base64')],
  ['another scheme', 'Digest username="x"'],
  ['a long value', 'Basic ' + 'A'.repeat(2000)],
  ['invalid UTF-8 credentials', 'Basic ' + Buffer.from([0xff, 0x3a, 0xfe]).toString('base64')],
  ['NUL in credentials', 'Basic ' + Buffer.from(`${admin.access_key_id}\u0000:${admin.access_key_secret}`).toString('base64')],
]) add(`Authorization ${label}`, { method: 'GET', path: '/v1/contacts', headers: { Authorization: value }, auth: false, status: 401, code: 'Unauthorized' });

// ------------------------------------------------------------ wrong methods
for (const [m, p, body] of [
  ['PUT', '/v1/contacts', () => JSON.stringify(base())],
  ['DELETE', '/v1/contacts'],
  ['PATCH', '/v1/contacts', '{"name":"all"}'],
  ['POST', `/v1/contacts/${ID}`, () => JSON.stringify(base())],
  ['PUT', `/v1/contacts/${ID}`, '{"name":"put"}'],
  ['POST', '/v1/openapi.json', '{}'],
  ['DELETE', '/v1/openapi.json'],
]) {
  const b = typeof body === 'function' ? body() : body;
  add(`wrong method ${m} ${p}`, { method: m, path: p, headers: b ? { 'Content-Type': J } : {}, body: b, status: '4xx' });
}

// ------------------------------------------------------------------- tests

test(`the corpus has at least 100 cases (${corpus.length})`, () => {
  assert.ok(corpus.length >= 100, `only ${corpus.length} cases`);
  const names = corpus.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, 'duplicate case names');
});

const requestIds = new Set();
const failures = [];

for (const c of corpus) {
  test(`malformed: ${c.name}`, async () => {
    const res = await raw(server, c.method, c.path, {
      key: c.auth ? admin : undefined,
      headers: c.headers,
      body: c.body,
      chunked: c.chunked,
      timeoutMs: c.timeoutMs,
    }).catch((e) => {
      failures.push(c.name);
      throw e;
    });
    try {
      assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx:\n${show(res)}`);
      assertError(res, c.status, c.code);
      if (c.mentions) assert.ok(res.json.message.includes(c.mentions), `message does not name ${JSON.stringify(c.mentions)}: ${res.json.message}`);
      assert.ok(!requestIds.has(res.json.request_id), `request_id ${res.json.request_id} reused`);
      requestIds.add(res.json.request_id);
    } catch (e) {
      failures.push(c.name);
      throw e;
    }
  });
}

test('after the corpus the server is alive and nothing was created or changed', async () => {
  const h = await api(server, 'GET', '/healthz');
  assert.equal(h.status, 200, show(h));
  assert.deepEqual(h.json, { status: 'ok' });
  assert.equal((await api(server, 'GET', '/readyz')).status, 200);
  const list = assertOk(await api(server, 'GET', '/v1/contacts?page_size=100', { key: admin }), 200);
  assert.deepEqual(list.items.map((i) => i.id), [ID], `malformed requests created contacts: ${JSON.stringify(list.items.map((i) => i.name))}`);
  assert.deepEqual(assertOk(await api(server, 'GET', `/v1/contacts/${ID}`, { key: admin }), 200), seed, 'a malformed request changed the seed contact');
});

test('64 KiB exactly is accepted; one byte more is 413', async () => {
  const s = JSON.stringify(base());
  const exact = s.slice(0, -1) + ' '.repeat(65536 - s.length) + '}';
  assert.equal(Buffer.byteLength(exact), 65536);
  const ok = await raw(server, 'POST', '/v1/contacts', { key: admin, headers: { 'Content-Type': J }, body: exact });
  assertOk(ok, 201);
  const s2 = JSON.stringify(base());
  const over = s2.slice(0, -1) + ' '.repeat(65537 - s2.length) + '}';
  assertError(await raw(server, 'POST', '/v1/contacts', { key: admin, headers: { 'Content-Type': J }, body: over }), 413, 'RequestEntityTooLarge');
});

test('the server still answers after everything (no crash)', async () => {
  const h = await api(server, 'GET', '/healthz');
  assert.equal(h.status, 200, show(h));
  if (failures.length) console.log(`# ${failures.length} malformed cases failed: ${failures.join(' | ')}`);
});
