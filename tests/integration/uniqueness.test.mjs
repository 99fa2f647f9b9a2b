// uniqueness.test.mjs — email and mobile are unique per account even under
// concurrency: 20 simultaneous creates with one email (or one mobile in
// different spellings) give exactly one contact and 19 clean 409s.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, assertError, show,
  unique, uniqueMobile, listAll, stopAllAfter,
} from './lib/harness.mjs';

let dir, server, admin;

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
});

stopAllAfter(() => [server], () => dir);

const N = 20;

function tally(results) {
  const created = results.filter((r) => r.status === 201);
  const rest = results.filter((r) => r.status !== 201);
  return { created, rest };
}

test(`${N} concurrent creates with one email → one 201 and ${N - 1} × 409 AlreadyExists.Email`, async () => {
  const local = unique('race');
  // different letter cases: uniqueness is case-insensitive
  const emails = Array.from({ length: N }, (_, i) => (i % 2 ? `${local}@example.com` : `${local.toUpperCase()}@EXAMPLE.com`));
  const results = await Promise.all(
    emails.map((email, i) =>
      api(server, 'POST', '/v1/contacts', { key: admin, json: { name: `Race ${i}`, email, mobile: uniqueMobile('158') } }),
    ),
  );
  const { created, rest } = tally(results);
  assert.equal(created.length, 1, results.map(show).join('\n---\n'));
  assert.equal(rest.length, N - 1);
  for (const r of rest) assertError(r, 409, 'AlreadyExists.Email');

  const all = await listAll(server, admin, { keyword: local });
  assert.equal(all.items.length, 1, 'exactly one contact with that email exists');
  assert.equal(all.items[0].id, created[0].json.id);
});

test(`${N} concurrent creates with one mobile in different spellings → one 201 and ${N - 1} × 409 AlreadyExists.Mobile`, async () => {
  const e164 = uniqueMobile('177');
  const national = e164.slice(3); // 11 digits
  const spellings = [
    national,
    e164,
    `+86 ${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`,
    `0086 ${national}`,
    `${national.slice(0, 3)} ${national.slice(3, 7)} ${national.slice(7)}`,
  ];
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      api(server, 'POST', '/v1/contacts', {
        key: admin,
        json: { name: `Mobile race ${i}`, email: `${unique('mr')}@example.com`, mobile: spellings[i % spellings.length] },
      }),
    ),
  );
  const { created, rest } = tally(results);
  assert.equal(created.length, 1, results.map(show).join('\n---\n'));
  assert.equal(created[0].json.mobile, e164);
  assert.equal(rest.length, N - 1);
  for (const r of rest) assertError(r, 409, 'AlreadyExists.Mobile');

  const all = await listAll(server, admin, { keyword: national });
  assert.equal(all.items.length, 1, 'exactly one contact with that mobile exists');
});

test(`${N} concurrent creates of distinct contacts all succeed with distinct ids`, async () => {
  const before = (await listAll(server, admin)).items.length;
  const results = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      api(server, 'POST', '/v1/contacts', {
        key: admin,
        json: { name: `Parallel ${i}`, email: `${unique('par')}@example.com`, mobile: uniqueMobile('186') },
      }),
    ),
  );
  for (const r of results) assertOk(r, 201);
  const ids = new Set(results.map((r) => r.json.id));
  assert.equal(ids.size, N);
  const after = await listAll(server, admin);
  assert.equal(after.items.length, before + N);
  assert.ok(after.totals.every((t) => t === before + N));
});

test('one failing write does not take concurrent good writes down', async () => {
  const { contact } = await (async () => {
    const r = await api(server, 'POST', '/v1/contacts', {
      key: admin,
      json: { name: 'Owner', email: `${unique('own')}@example.com`, mobile: uniqueMobile('150') },
    });
    return { contact: assertOk(r, 201) };
  })();
  const mixed = await Promise.all(
    Array.from({ length: N }, (_, i) =>
      api(server, 'POST', '/v1/contacts', {
        key: admin,
        json:
          i % 2
            ? { name: `Bad ${i}`, email: contact.email, mobile: uniqueMobile('151') }
            : { name: `Good ${i}`, email: `${unique('good')}@example.com`, mobile: uniqueMobile('152') },
      }),
    ),
  );
  mixed.forEach((r, i) => {
    if (i % 2) assertError(r, 409, 'AlreadyExists.Email');
    else assertOk(r, 201);
  });
  // and the good ones really exist
  for (const r of mixed.filter((x) => x.status === 201)) {
    assertOk(await api(server, 'GET', `/v1/contacts/${r.json.id}`, { key: admin }), 200);
  }
});
