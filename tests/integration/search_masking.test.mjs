// search_masking.test.mjs — search is no oracle against masking. A readonly
// key sees mobiles and emails masked (+86 133****5678), so its keyword
// matches names (any part) and whole addresses exactly, never a part of an
// address: digit by digit it recovered a whole mobile before. Operators and
// admins, who read the full values, keep substring search. The same through
// REST `keyword` and Alibaba's `ListContact`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, createKey, api, assertOk, createContact,
  unique, uniqueMobile, stopAllAfter,
} from './lib/harness.mjs';
import { casClient, callAction } from './lib/alibaba.mjs';

let dir, server, admin, operator, readonly, person;
stopAllAfter(() => [server], () => dir);

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  server = await startServer(dir);
  // no digit in the name: a probe of the mobile's digits must not match it by chance
  const tag = unique('Oracle').replace(/[0-9]/g, (d) => 'abcdefghij'[d]);
  const local = unique('secretlocal').toLowerCase();
  person = { name: `${tag} Zhang`, email: `${local}@Example.com`, mobile: uniqueMobile('133'), tag, local };
  await createContact(server, admin, { name: person.name, email: person.email, mobile: person.mobile });
});

const rest = async (key, keyword) =>
  assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(keyword)}`, { key }), 200).total;
const acs = async (key, keyword) => (await callAction(casClient(server, key), 'ListContact', { Keyword: keyword })).TotalCount;

/** The hidden parts a masked view does not show: middle digits, the whole national number's parts, the local part. */
function hiddenParts() {
  const digits = person.mobile.slice(3); // 133xxxxxxxx
  return [digits.slice(3, 7), digits.slice(0, 7), digits.slice(3), person.local.slice(0, 6), person.local, `${person.local}@`];
}

test('operators and admins, who read addresses in full, search any part of them', async () => {
  for (const key of [admin, operator])
    for (const kw of hiddenParts()) {
      assert.equal(await rest(key, kw), 1, `REST ${kw}`);
      assert.equal(await acs(key, kw), 1, `ListContact ${kw}`);
    }
});

test('a readonly key finds nothing by a hidden part of a mobile or email (REST keyword and ListContact)', async () => {
  for (const kw of hiddenParts()) {
    assert.equal(await rest(readonly, kw), 0, `REST keyword ${kw} must not match`);
    assert.equal(await acs(readonly, kw), 0, `ListContact Keyword ${kw} must not match`);
  }
  // a one- and two-character probe takes the other search path: the same rule
  for (const kw of [person.mobile.slice(-1), person.mobile.slice(-2)]) {
    const items = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${kw}&page_size=100`, { key: readonly }), 200).items;
    assert.ok(!items.some((c) => c.name === person.name), `REST keyword ${kw} must not match by the mobile`);
  }
});

test('a readonly key finds a contact by its name, or by a whole address exactly in any accepted form', async () => {
  const national = person.mobile.slice(3);
  for (const kw of [person.tag, person.name.toLowerCase(), person.tag.slice(2, 9),
    person.email, person.email.toUpperCase(), person.mobile, national, `+86 ${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`]) {
    assert.equal(await rest(readonly, kw), 1, `REST keyword ${kw}`);
    assert.equal(await acs(readonly, kw), 1, `ListContact Keyword ${kw}`);
  }
  // and what it gets back is still masked
  const [c] = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(person.mobile)}`, { key: readonly }), 200).items;
  assert.ok(!c.mobile.includes(national), c.mobile);
  assert.ok(!c.email.includes(person.local), c.email);
});
