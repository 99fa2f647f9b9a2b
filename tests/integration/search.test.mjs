// search.test.mjs — keyword search and paging of GET /v1/contacts: totals,
// pages that neither overlap nor miss anything, newest first, 1- and
// 2-character keywords, Chinese names, case-insensitivity, LIKE wildcards
// taken literally, masking in lists, and parameter bounds.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, show, stopAllAfter, removeDir,
} from './lib/harness.mjs';

let dir, server, admin;
const created = []; // {id, name, email, mobile} in creation order

// name, email (or null), national mobile
const PEOPLE = [
  ['张三丰', 'zhangsanfeng@example.com', '13300000001'],
  ['张三', 'zhangsan@example.com', '13312345678'],
  ['李四', 'lisi@example.org', '13300000003'],
  ['王五', null, '13300000004'],
  ['三毛', 'sanmao@example.cn', '13300000005'],
  ['Alice Wang', 'alice.wang@example.com', '13900001001'],
  ['Bob Smith', 'bob@smith.example', '13900001002'],
  ['Carol WANG', 'carol@example.com', '13900001003'],
  ['Dave', null, '13900001004'],
  ['Eve Anderson', 'eve@example.net', '13900001005'],
  ['Frank 100% Sure', 'frank@example.com', '13900001006'],
  ['Grace_Hopper', 'grace@example.com', '13900001007'],
  ['Heidi', 'heidi@corp.example', '13900001008'],
  ['Ivan Petrov', 'ivan@example.ru', '13900001009'],
  ['Judy', 'judy.q@example.com', '13900001010'],
  ['Mallory', 'mallory@evil.example', '13900001011'],
  ['Niaj', null, '13900001012'],
  ['Olivia O\'Brien', 'olivia@example.ie', '13900001013'],
  ['Peggy', 'peggy@example.com', '13900001014'],
  ['Rupert', 'rupert@example.com', '13900001015'],
  ['Sybil', 'sybil@example.com', '13900001016'],
  ['Trent', 'trent@example.com', '13900001017'],
  ['Victor', 'victor@example.com', '13900001018'],
  ['Walter', 'walter@example.com', '13900001019'],
  ['欧阳娜娜', 'ouyang@example.com', '13900001020'],
  ['司马懿', 'simayi@example.com', '13900001021'],
  ['a', null, '13900001022'],
  ['Zed', 'ZED.Upper@Example.COM', '13900001023'],
  ['Xavier', 'x@example.com', '13900001024'],
  ['Yolanda', 'yo@example.com', '13900001025'],
];

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
  // sequential, so that creation order is well defined
  for (const [name, email, mobile] of PEOPLE) {
    const json = { name, mobile };
    if (email) json.email = email;
    const res = await api(server, 'POST', '/v1/contacts', { key: admin, json });
    const c = assertOk(res, 201);
    created.push({ id: c.id, name, email, mobile: `+86${mobile}` });
  }
});

stopAllAfter(() => [server], () => dir);

// The contract's rule, evaluated locally: case-insensitive substring of
// name, email or mobile (stored normalised to E.164). ASCII lower-casing is
// enough for these names.
function expected(keyword) {
  const k = keyword.toLowerCase();
  return created
    .filter((c) => c.name.toLowerCase().includes(k) || (c.email && c.email.toLowerCase().includes(k)) || c.mobile.includes(keyword))
    .map((c) => c.id)
    .reverse(); // newest first
}

async function page(params) {
  const q = new URLSearchParams(params);
  const res = await api(server, 'GET', `/v1/contacts?${q}`, { key: admin });
  return { res, body: assertOk(res, 200) };
}

async function allPages(keyword, pageSize) {
  const ids = [];
  let total;
  const pages = Math.max(1, Math.ceil(created.length / pageSize)) + 1;
  for (let p = 1; p <= pages; p++) {
    const params = { page: String(p), page_size: String(pageSize) };
    if (keyword !== undefined) params.keyword = keyword;
    const { body } = await page(params);
    assert.equal(body.page, p);
    assert.equal(body.page_size, pageSize);
    assert.ok(body.items.length <= pageSize);
    if (total === undefined) total = body.total;
    assert.equal(body.total, total, 'total changes between pages');
    ids.push(...body.items.map((i) => i.id));
  }
  return { ids, total };
}

test('the whole list: total, newest first, pages cover everything without overlap', async () => {
  const want = created.map((c) => c.id).reverse();
  for (const size of [1, 7, 10, 30, 100]) {
    const { ids, total } = await allPages(undefined, size);
    assert.equal(total, created.length, `total with page_size ${size}`);
    assert.equal(new Set(ids).size, ids.length, `pages overlap with page_size ${size}`);
    assert.deepEqual(ids, want, `order/coverage with page_size ${size}`);
  }
});

test('a page past the end is empty but keeps the total', async () => {
  const { body } = await page({ page: '99', page_size: '10' });
  assert.deepEqual(body.items, []);
  assert.equal(body.total, created.length);
  assert.equal(body.page, 99);
});

test('the last partial page has the remainder', async () => {
  const { body } = await page({ page: '4', page_size: '8' });
  assert.equal(body.items.length, created.length - 24);
});

const KEYWORDS = [
  ['a 1-character Chinese keyword', '三'],
  ['a 2-character Chinese keyword', '张三'],
  ['a 3-character Chinese keyword', '张三丰'],
  ['a Chinese keyword in the middle of a name', '阳娜'],
  ['a 1-character Latin keyword', 'a'],
  ['a 1-character keyword matching one name exactly and emails', 'z'],
  ['a 2-character keyword', 'an'],
  ['a lower-case keyword for an upper-case name', 'wang'],
  ['an upper-case keyword', 'WANG'],
  ['a mixed-case keyword on a mixed-case email', 'zed.upper@example.com'],
  ['an email domain', 'example.org'],
  ['a mobile fragment', '1390000100'],
  ['a full national mobile', '13312345678'],
  ['a 2-digit mobile fragment', '45'],
  ['a keyword with a percent sign', '%'],
  ['a keyword with an underscore', '_'],
  ['a keyword with a quote', "O'B"],
  ['a keyword with a backslash', '\\'],
  ['a keyword that matches nothing', 'qqqqzzzz'],
  ['a keyword of 64 characters', 'x'.repeat(64)],
];

for (const [label, keyword] of KEYWORDS) {
  test(`search: ${label} (${JSON.stringify(keyword.length > 12 ? keyword.slice(0, 12) + '…' : keyword)})`, async () => {
    const want = expected(keyword);
    const { ids, total } = await allPages(keyword, 4);
    assert.equal(total, want.length, `total for ${JSON.stringify(keyword)}`);
    assert.deepEqual(ids, want, `items for ${JSON.stringify(keyword)}`);
  });
}

test('the test data exercises what it claims to', () => {
  // guards against a silently vacuous table above
  assert.ok(expected('三').length >= 3);
  assert.ok(expected('%').length === 1);
  assert.ok(expected('_').length === 1);
  assert.ok(expected('wang').length === 2);
  assert.ok(expected('a').length > 10 && expected('a').length < created.length);
});

test('search matches the full email and mobile even though lists show them masked', async () => {
  const { body } = await page({ keyword: 'zhangsan@example.com' });
  assert.equal(body.total, 1);
  const item = body.items[0];
  assert.equal(item.name, '张三');
  assert.equal(item.email, 'zh****n@example.com');
  assert.equal(item.mobile, '+86 133****5678');
});

test('every list item is masked', async () => {
  const { res, body } = await page({ page_size: '100' });
  for (const c of created) {
    if (c.email) assert.ok(!res.text.includes(c.email), `full email ${c.email} in list`);
    assert.ok(!res.text.includes(c.mobile), `full mobile ${c.mobile} in list`);
  }
  for (const item of body.items) {
    assert.match(item.mobile, /^\+86 1\d\d\*{4}\d{4}$/, show(res));
    if (item.email !== null) assert.match(item.email, /\*/, show(res));
  }
});

test('an empty keyword means no filter', async () => {
  const { body } = await page({ keyword: '' });
  assert.equal(body.total, created.length, 'an empty keyword means no filter');
});

const BAD = [
  [{ page: '0' }, 'InvalidParameter.Page'],
  [{ page: '-1' }, 'InvalidParameter.Page'],
  [{ page: 'abc' }, 'InvalidParameter.Page'],
  [{ page: '1.5' }, 'InvalidParameter.Page'],
  [{ page: '' }, 'InvalidParameter.Page'],
  [{ page: '99999999999999999999999' }, 'InvalidParameter.Page'],
  [{ page_size: '0' }, 'InvalidParameter.PageSize'],
  [{ page_size: '101' }, 'InvalidParameter.PageSize'],
  [{ page_size: '-1' }, 'InvalidParameter.PageSize'],
  [{ page_size: 'ten' }, 'InvalidParameter.PageSize'],
  [{ page_size: '20x' }, 'InvalidParameter.PageSize'],
  [{ page_size: '18446744073709551636' }, 'InvalidParameter.PageSize'],
  [{ keyword: 'k'.repeat(65) }, 'InvalidParameter.Keyword'],
  [{ keyword: '三'.repeat(65) }, 'InvalidParameter.Keyword'],
];

for (const [params, code] of BAD) {
  test(`400 ${code} for ${JSON.stringify(params).slice(0, 60)}`, async () => {
    const q = new URLSearchParams(params);
    const res = await api(server, 'GET', `/v1/contacts?${q}`, { key: admin });
    assertError(res, 400, code);
  });
}

test('page_size 100 and 1 are the accepted bounds', async () => {
  assert.equal((await page({ page_size: '100' })).body.items.length, created.length);
  assert.equal((await page({ page_size: '1' })).body.items.length, 1);
});

test('a keyword of 64 Chinese characters is accepted (characters, not bytes)', async () => {
  const { body } = await page({ keyword: '三'.repeat(64) });
  assert.equal(body.total, 0);
});

test('newly created and deleted contacts are reflected in search at once', async () => {
  const res = await api(server, 'POST', '/v1/contacts', { key: admin, json: { name: '新来的 Newcomer', mobile: '13900009999' } });
  const c = assertOk(res, 201);
  let { body } = await page({ keyword: '新来' });
  assert.deepEqual(body.items.map((i) => i.id), [c.id]);
  ({ body } = await page({ page_size: '1' }));
  assert.equal(body.items[0].id, c.id, 'the newest contact comes first');
  const p = await api(server, 'PATCH', `/v1/contacts/${c.id}`, { key: admin, json: { name: 'Renamed Person' } });
  assertOk(p, 200);
  ({ body } = await page({ keyword: '新来' }));
  assert.equal(body.total, 0, 'old name still found after rename');
  ({ body } = await page({ keyword: 'renamed' }));
  assert.deepEqual(body.items.map((i) => i.id), [c.id]);
  assert.equal((await api(server, 'DELETE', `/v1/contacts/${c.id}`, { key: admin })).status, 204);
  ({ body } = await page({ keyword: 'renamed' }));
  assert.equal(body.total, 0, 'deleted contact still found');
});

// search_count_max: a keyword's count stops there and says so (total_capped), the
// pages still reach every match; without a keyword the total is exact.
test('a search counts its matches up to search_count_max: total_capped, and the pages go on', async () => {
  const d2 = makeDataDir();
  const key = createAccount(d2);
  const s2 = await startServer(d2, { args: ['--search-count-max', '3'] });
  try {
    const ids = [];
    for (let i = 0; i < 6; i++) {
      const c = assertOk(await api(s2, 'POST', '/v1/contacts', { key, json: { name: `Capybara ${i}`, mobile: `1370000100${i}` } }), 201);
      ids.push(c.id);
    }
    assertOk(await api(s2, 'POST', '/v1/contacts', { key, json: { name: 'Someone Else', mobile: '13700002000' } }), 201);
    const newest = [...ids].reverse();
    for (const kw of ['capybara', 'ca', 'y']) { // the trigram index, and the short-keyword scan
      const p1 = assertOk(await api(s2, 'GET', `/v1/contacts?keyword=${kw}&page=1&page_size=2`, { key }), 200);
      assert.equal(p1.total, 3, kw);
      assert.equal(p1.total_capped, true, kw);
      const seen = [];
      for (let pg = 1; pg <= 4; pg++) {
        const r = assertOk(await api(s2, 'GET', `/v1/contacts?keyword=${kw}&page=${pg}&page_size=2`, { key }), 200);
        seen.push(...r.items.map((c) => c.id));
      }
      const want = kw === 'capybara' ? newest : null;
      if (want) assert.deepEqual(seen, want, 'every match is reached past the count, newest first');
      else assert.ok(newest.every((id) => seen.includes(id)), `${kw}: every match reached`);
    }
    const exact = assertOk(await api(s2, 'GET', '/v1/contacts?keyword=someone', { key }), 200);
    assert.equal(exact.total, 1);
    assert.equal(exact.total_capped, false);
    const all = assertOk(await api(s2, 'GET', '/v1/contacts?page_size=2', { key }), 200);
    assert.equal(all.total, 7);
    assert.equal(all.total_capped, false);
  } finally {
    await s2.stop();
    removeDir(d2);
  }
});
