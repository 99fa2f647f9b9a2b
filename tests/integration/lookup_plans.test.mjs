// lookup_plans.test.mjs — a lookup by address takes its unique index whatever the
// database's statistics say: on a new database (no statistics at all) the plan the
// server caches for every later lookup must not walk the account's contacts, or an
// import of n rows in one transaction costs n^2. PostgreSQL: the generic plan of
// each lookup (PREPARE + EXPLAIN EXECUTE with plan_cache_mode = force_generic_plan)
// names the address's unique index with both columns as its condition, and the list
// and short-keyword search still take the covering index. SQLite: EXPLAIN QUERY
// PLAN names the unique index too. Then the account's kept count agrees with its
// rows after an import, a create and a delete.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, startServer, createAccount, api, assertOk, createContact,
  dbQuery, stopAllAfter, waitFor, unique, uniqueMobile, BACKEND,
} from './lib/harness.mjs';

let dir, server, admin, account;
stopAllAfter(() => [server], () => dir);

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  account = admin.account_id;
  server = await startServer(dir);
});

const LOOKUPS = [
  ['email', 'SELECT id, name FROM contacts WHERE account_id = $1 AND email_norm = $2 AND id <> $3',
    'contacts_account_email'],
  ['mobile', 'SELECT id, name FROM contacts WHERE account_id = $1 AND mobile = $2 AND id <> $3',
    'contacts_account_mobile'],
];

function pgPlan(name, sql, args) {
  return dbQuery(dir, `SET plan_cache_mode = force_generic_plan; PREPARE ${name} AS ${sql}; ` +
    `EXPLAIN EXECUTE ${name}(${args});`);
}

test('a lookup by address takes its unique index on a database without statistics', async () => {
  if (BACKEND === 'postgres') {
    assert.equal(dbQuery(dir, "SELECT count(*) FROM pg_stats WHERE tablename = 'contacts'").trim(), '0',
      'the contacts table has no statistics yet');
    for (const [what, sql, index] of LOOKUPS) {
      const plan = pgPlan(`look_${what}`, sql.replace('$1', '$1::bigint').replace('$3', '$3::bigint'), "1, 'x', 0");
      assert.match(plan, new RegExp(`Index Scan using ${index} on contacts`), `${what} lookup:\n${plan}`);
      const col = what === 'email' ? 'email_norm' : 'mobile';
      assert.match(plan, new RegExp(`Index Cond: \\(\\(${col} = \\$2\\) AND \\(account_id = \\$1\\)\\)`),
        `${what} lookup uses both columns:\n${plan}`);
    }
    const list = pgPlan('list_all', 'SELECT id FROM contacts WHERE account_id = $1::bigint AND id > 0 ' +
      'ORDER BY id DESC LIMIT 20', '1');
    assert.match(list, /contacts_account_search/, `the list takes the covering index:\n${list}`);
  } else {
    for (const [what, sql, index] of LOOKUPS) {
      const plan = dbQuery(dir, `EXPLAIN QUERY PLAN ${sql.replace(/\$(\d)/g, '?$1')}`);
      assert.match(plan, new RegExp(`USING INDEX ${index} \\(account_id=\\? AND ${what === 'email' ? 'email_norm' : 'mobile'}=\\?\\)`),
        `${what} lookup:\n${plan}`);
    }
  }
});

test("the account's kept count agrees with its rows after an import, a create and a delete", async () => {
  const lines = ['name,email,mobile'];
  for (let i = 0; i < 50; i++) lines.push(`${unique('n')},${unique('e')}@example.com,${uniqueMobile()}`);
  const res = await api(server, 'POST', '/v1/contacts/import?mode=all', {
    key: admin, body: `${lines.join('\n')}\n`, headers: { 'Content-Type': 'text/csv' },
  });
  assertOk(res, 202);
  const loc = res.headers.get('location');
  const job = await waitFor(async () => {
    const j = assertOk(await api(server, 'GET', loc, { key: admin }), 200);
    return j.state === 'done' || j.state === 'failed' ? j : null;
  }, { timeoutMs: 30000, what: 'the import to finish' });
  assert.equal(job.state, 'done');
  assert.equal(job.created, 50);
  const made = await createContact(server, admin);
  assertOk(await api(server, 'DELETE', `/v1/contacts/${made.contact.id}`, { key: admin }), 204);
  await createContact(server, admin);
  const [kept, rows] = dbQuery(dir, `SELECT contact_count, (SELECT count(*) FROM contacts WHERE account_id = ${account}) ` +
    `FROM accounts WHERE id = ${account}`).trim().split('|').map(Number);
  assert.equal(rows, 51);
  assert.equal(kept, rows);
  assert.equal(assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin }), 200).total, 51);
});
