// contacts_import.test.mjs — contact import from CSV and export, end to end:
// a 100 000-row UTF-8 file (20 000 under ASan) imported in one mode=all
// transaction and imported again as all unchanged; a GBK (GB18030) file; bad
// rows (a bad email, an address twice in the file, an address of another
// contact) under dry_run, mode=all and skip_bad; trust_verified for admins
// only, audited; a kill -9 in the middle of a mode=all write leaves nothing
// and the job failed; the export masked, in full for an admin (audited),
// with its BOM, and imported back unchanged. SQLite, and PostgreSQL with
// CC_TEST_PG.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  BIN, BACKEND, makeDataDir, startServer, createAccount, createKey, api, assertOk, assertError,
  createContact, unique, uniqueMobile, idCard, stopAllAfter, waitFor, listAll, removeDir,
} from './lib/harness.mjs';

// PostgreSQL: fewer rows, each costing its statements' round trips (docs/api.md: the cost
// of an import). CC_IMPORT_ROWS sets the count, to measure how the cost grows.
const BIG = Number(process.env.CC_IMPORT_ROWS) ||
  (BACKEND === 'postgres' ? 10000 : BIN.includes('build-asan') ? 20000 : 100000);
let dir, server, admin, operator, readonly;
stopAllAfter(() => [server], () => dir);

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  operator = createKey(dir, admin.account_id, 'operator');
  readonly = createKey(dir, admin.account_id, 'readonly');
  server = await startServer(dir, { args: ['--max-contacts-per-account', String(BIG * 2)] });
});

const csvHeaders = { 'content-type': 'text/csv' };

async function postImport(key, body, query = '') {
  return api(server, 'POST', `/v1/contacts/import${query}`, { key, body, headers: csvHeaders });
}

/** Polls the job until it ends (no sleeps: waitFor's bounded polling). */
async function finished(loc, key = admin, timeoutMs = 120000) {
  return waitFor(async () => {
    const j = assertOk(await api(server, 'GET', loc, { key }), 200);
    return ['done', 'failed'].includes(j.state) ? j : null;
  }, { timeoutMs, intervalMs: 50, what: `import ${loc} to end` });
}

async function runImport(key, body, query = '') {
  const res = await postImport(key, body, query);
  const job = assertOk(res, 202);
  const loc = res.headers.get('location');
  assert.equal(loc, `/v1/contacts/imports/${job.id}`);
  assert.equal(job.state, 'queued');
  return { job: await finished(loc, key), loc };
}

async function rows(loc, query = '', key = admin) {
  return assertOk(await api(server, 'GET', `${loc}/rows${query}`, { key }), 200);
}

async function contactCount() {
  return assertOk(await api(server, 'GET', '/v1/contacts?page_size=1', { key: admin }), 200).total;
}

function gb18030(text) {
  return execFileSync('python3', ['-c', 'import sys; sys.stdout.buffer.write(sys.stdin.buffer.read().decode("utf-8").encode("gb18030"))'], { input: Buffer.from(text, 'utf8'), maxBuffer: 256 * 1024 * 1024 });
}

test('a file that is not CSV, or has no name column, is 400 InvalidParameter.File and makes no job', async () => {
  assertError(await postImport(operator, 'email,mobile\na@example.com,13800138000\n'), 400, 'InvalidParameter.File');
  assertError(await postImport(operator, 'name,mobile\n"open,13800138000\n'), 400, 'InvalidParameter.File');
  assertError(await postImport(operator, ''), 400, 'InvalidParameter.File');
  // only text/csv on this route; JSON elsewhere as before
  assertError(await api(server, 'POST', '/v1/contacts/import', { key: operator, body: 'name\nA\n', headers: { 'content-type': 'application/json' } }), 415, 'UnsupportedMediaType');
  assertError(await api(server, 'POST', '/v1/contacts', { key: operator, body: '{}', headers: csvHeaders }), 415, 'UnsupportedMediaType');
  assertError(await postImport(readonly, 'name\nA\n'), 403, 'Forbidden');
  assertError(await postImport(operator, 'name\nA\n', '?mode=some'), 400, 'InvalidParameter.Mode');
  assertError(await api(server, 'GET', '/v1/contacts/imports/999999', { key: admin }), 404, 'NotFound');
});

test(`${BIG} rows in UTF-8: one mode=all transaction, then the same rows again in GBK are all unchanged`, async () => {
  const before0 = await contactCount();
  const lines = ['Name,Email,手机号码,Department'];
  const tag = unique('b');
  for (let i = 0; i < BIG; i++) {
    const name = i % 10 === 0 ? `王${i}号` : `Person ${i}`;
    lines.push(`${name},${tag}.${i}@example.com,+86137${String(i).padStart(8, '0')},Sales`);
  }
  const body = lines.join('\r\n') + '\r\n';
  const t0 = Date.now();
  const { job, loc } = await runImport(operator, body);
  const took = Date.now() - t0;
  assert.equal(job.state, 'done', JSON.stringify(job));
  assert.equal(job.encoding, 'utf-8');
  assert.deepEqual(job.ignored_columns, ['Department']);
  assert.equal(job.total, BIG);
  assert.equal(job.processed, BIG);
  assert.equal(job.created, BIG);
  assert.equal(job.updated + job.unchanged + job.refused, 0);
  assert.ok(job.finished_at);
  assert.equal(await contactCount(), before0 + BIG);
  // the report, row by row, masked as the list shows addresses
  const first = await rows(loc, '?limit=2');
  assert.equal(first.total, BIG);
  assert.equal(first.rows[0].row, 2);
  assert.equal(first.rows[0].action, 'create');
  assert.ok(first.rows[0].contact_id > 0);
  assert.equal(first.rows[0].name, '王0号');
  assert.match(first.rows[0].email, /\*\*\*\*/);
  assert.match(first.rows[0].mobile, /^\+86 137\*\*\*\*0000$/);
  assert.equal((await rows(loc, `?offset=${BIG - 1}&limit=1`)).rows[0].row, BIG + 1);
  // the new contacts are found by search as any created contact is
  const found = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(`王${BIG - 10}号`)}`, { key: admin }), 200);
  assert.equal(found.total, 1);
  const one = assertOk(await api(server, 'GET', `/v1/contacts/${first.rows[0].contact_id}`, { key: admin }), 200);
  assert.equal(one.email_verified_at, null, 'imported addresses are unverified');
  assert.equal(one.mobile_verified_at, null);

  // the same rows again, saved as GBK (GB18030) as Chinese Excel saves them: converted,
  // matched, every row unchanged
  const gbk = gb18030(body);
  assert.notDeepEqual(gbk, Buffer.from(body, 'utf8'));
  const { job: again } = await runImport(operator, gbk);
  assert.equal(again.state, 'done');
  assert.equal(again.encoding, 'gb18030');
  assert.equal(again.unchanged, BIG);
  assert.equal(again.created + again.updated + again.refused, 0);
  const same = assertOk(await api(server, 'GET', `/v1/contacts/${first.rows[0].contact_id}`, { key: admin }), 200);
  assert.equal(same.version, one.version);
  assert.equal(same.updated_at, one.updated_at);
  assert.equal(await contactCount(), before0 + BIG);
  process.stderr.write(`# ${BIG} rows imported in ${took} ms\n`);
});

test('a GBK (GB18030) file is converted; Chinese headers', async () => {
  const tag = unique('g');
  const m1 = uniqueMobile('135'), m2 = uniqueMobile('135');
  const text = `姓名,邮箱,手机号,身份证号,语言\r\n张三,${tag}1@example.com,${m1},${idCard('11010519491231002')},zh-CN\r\n李四,${tag}2@example.com,${m2},,\r\n`;
  const bytes = gb18030(text);
  assert.notDeepEqual(bytes, Buffer.from(text, 'utf8'));
  const { job, loc } = await runImport(operator, bytes);
  assert.equal(job.state, 'done', JSON.stringify(job));
  assert.equal(job.encoding, 'gb18030');
  assert.equal(job.created, 2);
  const r = await rows(loc);
  assert.deepEqual(r.rows.map((x) => x.name), ['张三', '李四']);
  const c = assertOk(await api(server, 'GET', `/v1/contacts/${r.rows[0].contact_id}`, { key: admin }), 200);
  assert.equal(c.name, '张三');
  assert.equal(c.language, 'zh-CN');
  assert.match(c.id_card, /\*/);
});

test('bad rows: dry run reports and writes nothing, mode=all writes nothing, skip_bad writes the good ones', async () => {
  const tag = unique('bad');
  const heldMobile = uniqueMobile('136'), otherMobile = uniqueMobile('136');
  const held = (await createContact(server, admin, { name: 'Holder', email: `${tag}.held@example.com`, mobile: heldMobile })).contact;
  await createContact(server, admin, { name: 'Other', email: `${tag}.other@example.com`, mobile: otherMobile });
  const third = (await createContact(server, admin, { name: 'Third', email: `${tag}.third@example.com`, mobile: uniqueMobile('136') })).contact;
  const good1 = uniqueMobile('134'), good2 = uniqueMobile('134');
  const text = [
    'name,email,mobile',
    `Good One,${tag}.1@example.com,${good1}`,
    `Bad Email,not-an-email,${uniqueMobile('134')}`,
    `Twice,${tag}.1@example.com,${uniqueMobile('134')}`,
    `"Conflict, Two",${tag}.third@example.com,${otherMobile}`,
    `Good Two,${tag}.2@example.com,${good2}`,
    `Holder Renamed,${tag}.held@example.com,${heldMobile}`,
  ].join('\n');
  const n0 = await contactCount();

  const dry = await runImport(operator, text, '?dry_run=true');
  assert.equal(dry.job.state, 'done');
  assert.equal(dry.job.dry_run, true);
  assert.deepEqual([dry.job.created, dry.job.updated, dry.job.unchanged, dry.job.refused], [2, 1, 0, 3], JSON.stringify((await rows(dry.loc)).rows));
  const report = (await rows(dry.loc)).rows;
  assert.deepEqual(report.map((r) => [r.row, r.action]),
    [[2, 'create'], [3, 'refuse'], [4, 'refuse'], [5, 'refuse'], [6, 'create'], [7, 'update']]);
  assert.equal(report[1].code, 'IncorrectFormat.Email');
  assert.equal(report[1].field, 'Email');
  assert.equal(report[2].code, 'AlreadyExists.Email');
  assert.match(report[2].message, /Row 2/);
  assert.equal(report[3].code, 'AlreadyExists.Mobile');
  assert.equal(report[3].name, 'Conflict, Two');
  assert.equal(report[5].contact_id, held.id);
  const refused = await rows(dry.loc, '?action=refuse');
  assert.equal(refused.total, 3);
  const zh = assertOk(await api(server, 'GET', `${dry.loc}/rows?action=refuse&limit=1`, { key: admin, headers: { 'accept-language': 'zh-CN' } }), 200);
  assert.match(zh.rows[0].message, /[\u4e00-\u9fff]/);
  assert.equal(await contactCount(), n0, 'a dry run writes nothing');

  const all = await runImport(operator, text);
  assert.equal(all.job.state, 'failed');
  assert.equal(all.job.error.code, 'InvalidParameter.File');
  assert.equal(all.job.created + all.job.updated, 0);
  assert.equal(all.job.refused, 3);
  assert.equal(await contactCount(), n0, 'mode=all with a bad row writes nothing');
  assert.equal(assertOk(await api(server, 'GET', `/v1/contacts/${held.id}`, { key: admin }), 200).name, 'Holder');
  assert.equal(assertOk(await api(server, 'GET', `/v1/contacts/${third.id}`, { key: admin }), 200).version, third.version);

  const skip = await runImport(operator, text, '?mode=skip_bad');
  assert.equal(skip.job.state, 'done');
  assert.deepEqual([skip.job.created, skip.job.updated, skip.job.refused], [2, 1, 3]);
  assert.equal(await contactCount(), n0 + 2);
  const renamed = assertOk(await api(server, 'GET', `/v1/contacts/${held.id}`, { key: admin }), 200);
  assert.equal(renamed.name, 'Holder Renamed');
  assert.equal(renamed.version, held.version + 1);
  const made = (await rows(skip.loc, '?action=create')).rows;
  assert.equal(made.length, 2);
  assert.ok(made.every((r) => r.contact_id > 0));
});

test('trust_verified: refused for an operator, an admin\'s import saves verified addresses and is audited', async () => {
  const tag = unique('tv');
  const mobile = uniqueMobile('133');
  const text = `name,email,mobile,email_verified,mobile_verified\nTrusted,${tag}@example.com,${mobile},是,false\n`;
  assertError(await postImport(operator, text, '?trust_verified=true'), 403, 'Forbidden');
  const { job, loc } = await runImport(admin, text, '?trust_verified=true');
  assert.equal(job.state, 'done');
  assert.equal(job.trust_verified, true);
  const id = (await rows(loc)).rows[0].contact_id;
  const c = assertOk(await api(server, 'GET', `/v1/contacts/${id}`, { key: admin }), 200);
  assert.ok(c.email_verified_at, 'email_verified: 是');
  assert.equal(c.mobile_verified_at, null, 'mobile_verified: false');
  const audit = assertOk(await api(server, 'GET', `/v1/audit?action=contact.import&target_id=${job.id}`, { key: admin }), 200);
  assert.equal(audit.total, 1);
  assert.equal(audit.items[0].actor, admin.access_key_id);
  // without trust_verified the columns are not believed
  const m2 = uniqueMobile('133');
  const plain = await runImport(operator, `name,email,mobile,email_verified\nPlain,${tag}.p@example.com,${m2},true\n`);
  const p = assertOk(await api(server, 'GET', `/v1/contacts/${(await rows(plain.loc)).rows[0].contact_id}`, { key: admin }), 200);
  assert.equal(p.email_verified_at, null);
});

test('the export: masked by default with a BOM, in full for an admin (audited), and it imports back unchanged', async () => {
  // an account of its own: its export is a few contacts, whatever the other tests made
  const owner = createAccount(dir);
  const viewer = createKey(dir, owner.account_id, 'readonly');
  const op = createKey(dir, owner.account_id, 'operator');
  const tag = unique('ex');
  await createContact(server, owner, { name: `"Quoted", ${tag}`, email: `${tag}@example.com`, mobile: uniqueMobile('132'), id_card: idCard('11010519900307757') });
  await createContact(server, owner, { name: `张 ${tag}`, email: `${tag}.z@example.com`, mobile: uniqueMobile('132'), language: 'zh-CN' });
  await createContact(server, owner, { name: `No Email ${tag}`, email: null, mobile: uniqueMobile('132') });
  const total = 3;
  const res = await fetch(`${server.base}/v1/contacts/export`, { headers: { authorization: 'Basic ' + Buffer.from(`${viewer.access_key_id}:${viewer.access_key_secret}`).toString('base64') } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/csv/);
  assert.equal(res.headers.get('content-disposition'), 'attachment; filename="contacts.csv"');
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const masked = bytes.subarray(3).toString('utf8');
  const lines = masked.split('\r\n');
  assert.equal(lines[0], 'id,name,email,mobile,id_card,language,email_verified,mobile_verified,created_at');
  assert.equal(lines.length - 2, total); // the header, and the empty string after the last CRLF
  assert.ok(!masked.includes(`${tag}@example.com`), 'masked by default');
  assert.ok(!masked.includes('11010519900307757'));
  const quoted = lines.find((l) => l.includes('Quoted'));
  assert.ok(quoted.includes(`,"""Quoted"", ${tag}",`), quoted);
  assert.match(quoted, /\+86 132\*\*\*\*\d{4}/);

  assertError(await api(server, 'GET', '/v1/contacts/export?full=true', { key: op }), 403, 'Forbidden');
  assertError(await api(server, 'GET', '/v1/contacts/export?format=xml', { key: op }), 400, 'InvalidParameter.Format');
  const full = await api(server, 'GET', '/v1/contacts/export?full=true', { key: owner });
  assert.equal(full.status, 200);
  assert.ok(full.text.includes(`${tag}@example.com`));
  assert.ok(full.text.includes(idCard('11010519900307757')));
  const audit = assertOk(await api(server, 'GET', '/v1/audit?action=contact.export_all', { key: owner }), 200);
  assert.equal(audit.total, 1);
  assert.equal(audit.items[0].actor, owner.access_key_id);

  const jsonl = await api(server, 'GET', '/v1/contacts/export?format=jsonl', { key: owner });
  assert.equal(jsonl.status, 200);
  assert.equal(jsonl.headers.get('content-disposition'), 'attachment; filename="contacts.jsonl"');
  const objs = jsonl.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(objs.length, total);
  assert.deepEqual(Object.keys(objs[0]), ['id', 'name', 'email', 'mobile', 'id_card', 'language', 'email_verified', 'mobile_verified', 'created_at']);
  assert.equal(objs.find((o) => o.name.startsWith('No Email')).email, null);

  const back = await runImport(owner, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(full.text, 'utf8')]));
  assert.equal(back.job.state, 'done', JSON.stringify(back.job));
  assert.deepEqual(back.job.ignored_columns, ['id', 'created_at']);
  assert.equal(back.job.unchanged, total, JSON.stringify((await rows(back.loc, '', owner)).rows));
  assert.equal(back.job.created + back.job.updated + back.job.refused, 0);
});

test('a body past import_max_bytes is 413; other routes keep max_body_bytes', async () => {
  const d = makeDataDir();
  const a = createAccount(d);
  const s = await startServer(d, { args: ['--import-max-bytes', '4096', '--max-body-bytes', '2048'] });
  try {
    const ok = 'name,mobile\n' + 'A,13800138000\n'.repeat(200); // 2.8 KB: above max_body_bytes
    assert.equal((await api(s, 'POST', '/v1/contacts/import', { key: a, body: ok, headers: csvHeaders })).status, 202);
    const big = 'name,mobile\n' + 'A,13800138000\n'.repeat(400);
    assertError(await api(s, 'POST', '/v1/contacts/import', { key: a, body: big, headers: csvHeaders }), 413, 'RequestEntityTooLarge');
    assertError(await api(s, 'POST', '/v1/contacts', { key: a, json: { name: 'x'.repeat(3000) } }), 413, 'RequestEntityTooLarge');
  } finally {
    await s.stop();
    removeDir(d);
  }
});

test('the check counts max_contacts_per_account: what the write would refuse, the dry run refuses', async () => {
  const d = makeDataDir();
  const a = createAccount(d);
  const s = await startServer(d, { args: ['--max-contacts-per-account', '5'] });
  try {
    const post = async (query) => {
      const res = await api(s, 'POST', `/v1/contacts/import${query}`, { key: a, body, headers: csvHeaders });
      const loc = res.headers.get('location');
      assertOk(res, 202);
      return waitFor(async () => {
        const j = assertOk(await api(s, 'GET', loc, { key: a }), 200);
        return ['done', 'failed'].includes(j.state) ? { ...j, loc } : null;
      }, { timeoutMs: 60000, what: 'the limited import to end' });
    };
    let body = 'name,mobile\n';
    for (let i = 0; i < 7; i++) body += `Limit ${i},1370000${String(i).padStart(4, '0')}\n`;
    const dry = await post('?dry_run=true');
    assert.equal(dry.state, 'done');
    assert.equal(dry.created, 5);
    assert.equal(dry.refused, 2);
    const refused = assertOk(await api(s, 'GET', `${dry.loc}/rows?action=refuse`, { key: a }), 200);
    assert.deepEqual(refused.rows.map((r) => [r.row, r.code]), [[7, 'LimitExceeded.Contacts'], [8, 'LimitExceeded.Contacts']]);
    const all = await post('?mode=all');
    assert.equal(all.state, 'failed');
    assert.equal(assertOk(await api(s, 'GET', '/v1/contacts?page_size=1', { key: a }), 200).total, 0);
    const skip = await post('?mode=skip_bad');
    assert.equal(skip.state, 'done');
    assert.equal(skip.created, 5);
    assert.equal(skip.refused, 2);
    assert.equal(assertOk(await api(s, 'GET', '/v1/contacts?page_size=1', { key: a }), 200).total, 5);
  } finally {
    await s.stop();
    removeDir(d);
  }
});

test('kill -9 during a mode=all write: nothing of it stays, and the job is failed at the next start', async () => {
  const n0 = await contactCount();
  const tag = unique('k');
  const lines = ['name,email,mobile'];
  const N = BIG / 5;
  for (let i = 0; i < N; i++) lines.push(`K ${i},${tag}.${i}@example.com,+86131${String(i).padStart(8, '0')}`);
  const res = await postImport(admin, lines.join('\n'));
  const loc = res.headers.get('location');
  assertOk(res, 202);
  // the write has begun: its progress, counted in memory, moves
  await waitFor(async () => (await api(server, 'GET', loc, { key: admin })).json.processed > 0,
    { timeoutMs: 120000, intervalMs: 10, what: 'the mode=all write to begin' });
  server.proc.kill('SIGKILL');
  await server.exit;
  server.proc = null;
  server = await startServer(dir, { args: ['--max-contacts-per-account', String(BIG * 2)] });
  const job = assertOk(await api(server, 'GET', loc, { key: admin }), 200);
  assert.equal(job.state, 'failed');
  assert.equal(job.error.code, 'ServiceUnavailable');
  assert.equal(await contactCount(), n0);
  assert.equal((await listAll(server, admin, { keyword: `${tag}.1@` })).items.length, 0);
});
