// console_import_browser.test.mjs — importing contacts from a CSV file in the
// console, in a real browser: a file that is not a contact CSV and one past
// import_max_bytes are refused in the dialog in the server's words; a small one with Chinese headers and a bad row is checked "all
// or nothing" (no Import offered) and again skipping bad rows; a 100 000-row file (20 000 under the sanitizers) with a few bad
// rows, one row equal to a contact the account has and one that changes one,
// is checked (the report's counts are the API job's, the refused rows are
// listed with their reasons, all rows can be paged), then imported skipping
// the bad rows while the progress bar moves; closing the dialog shows the new
// total in the list. Export downloads the list as CSV, masked; an admin's
// full export asks first. An admin who trusts the file's verified columns
// gets its addresses saved verified; an operator gets Import without "trust
// the verified columns"; a readonly user gets Export only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, unique, waitFor, cleanUp,
} from './lib/harness.mjs';
import { launch, newPage, shot, signIn } from './lib/browser.mjs';
import { WORDS } from '../../web/js/words.js';

const PASSWORD = 'correct horse battery staple';
const ASAN = /build-asan/.test(process.env.CC_BIN || '');
const N = ASAN ? 20000 : 100000; // data rows in the file
const MAX_BYTES = 16 * 1024 * 1024; // import_max_bytes: above the big file, below the too big one
const JOB_TIMEOUT_MS = 120000; // a job of the sanitizer build on PostgreSQL, on a busy machine

let dir, server, key, browser;
const users = {};
const pages = [];
const tag = unique('imp').replace(/[^a-z0-9]/gi, '').toLowerCase();

// rows by index (0-based; the file's row number is index + 2, the header is row 1)
const BAD = { email: 10, mobile: Math.floor(N / 3), name: Math.floor(N / 2), dupEmail: N - 3 };
const SAME = 20; // equal to a contact the account has: unchanged
const CHANGED = 30; // the same email and mobile as a contact, another name: update

const email = (i) => `imp${i}.${tag}@example.com`;
const mobile = (i) => `+86137${String(i).padStart(8, '0')}`;
const nameOf = (i) => `Import ${String(i).padStart(6, '0')}`;

function csvFile() {
  const lines = ['name,email,mobile'];
  for (let i = 0; i < N; i++) {
    let [n, e, m] = [nameOf(i), email(i), mobile(i)];
    if (i === BAD.email) e = 'not-an-email';
    if (i === BAD.mobile) m = '12345';
    if (i === BAD.name) n = '';
    if (i === BAD.dupEmail) e = email(5); // claimed by row 7 already
    lines.push(`${n},${e},${m}`);
  }
  const file = path.join(dir, 'contacts.csv');
  fs.writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  return file;
}

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  // room for the whole file (the default allows 10 000 contacts an account)
  server = await startServer(dir, { args: ['--max-contacts-per-account', String(N + 1000), '--import-max-bytes', String(MAX_BYTES)] });
  for (const role of ['admin', 'operator', 'readonly']) {
    const e = `${role}-${unique('u')}@example.com`;
    assertOk(await api(server, 'POST', '/v1/users', { key, json: { email: e, role, password: PASSWORD } }), 201);
    users[role] = e;
  }
  assertOk(await api(server, 'POST', '/v1/contacts', { key, json: { name: nameOf(SAME), email: email(SAME), mobile: mobile(SAME) } }), 201);
  assertOk(await api(server, 'POST', '/v1/contacts', { key, json: { name: 'Old Name', email: email(CHANGED), mobile: mobile(CHANGED) } }), 201);
  browser = await launch();
});

after(async () => {
  await cleanUp([...pages.map((p) => () => p.context.close()), () => browser?.close(), () => server?.stop(), () => removeDir(dir)]);
});

async function signedIn(role) {
  const p = await newPage(browser);
  pages.push(p);
  const { page } = p;
  await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(page, users[role], PASSWORD);
  await page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  return page;
}

async function contactTotal() {
  return assertOk(await api(server, 'GET', '/v1/contacts?page=1&page_size=1', { key }), 200).total;
}

/**
 * The answer to the page's next POST /v1/contacts/import: its status, query
 * and the job's id from Location (the browser keeps no copy of the body of an
 * answer to a large upload).
 */
function nextJob(page) {
  return page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/contacts/import')
    .then((r) => {
      const m = /^\/v1\/contacts\/imports\/(\d+)$/.exec(r.headers().location || '');
      return { status: r.status(), id: m ? Number(m[1]) : null, query: new URL(r.url()).searchParams };
    });
}

async function apiJob(id) {
  return assertOk(await api(server, 'GET', `/v1/contacts/imports/${id}`, { key }), 200);
}

/** The report's counts as the dialog shows them. */
async function shownCounts(dlg) {
  const out = {};
  for (const k of ['create', 'update', 'unchanged', 'refuse', 'total']) {
    out[k] = Number((await dlg.locator(`dd[data-count="${k}"]`).textContent()).replace(/\D/g, ''));
  }
  return out;
}

test('a file that is not a contact CSV, or too big, is refused in the dialog; all or nothing with a refused row offers no Import', async () => {
  const page = await signedIn('operator');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const dlg = page.getByRole('dialog', { name: 'Import Contacts' });
  await dlg.waitFor();
  // an operator may not trust the file's verified columns
  assert.equal(await dlg.getByLabel('Trust the verified columns').count(), 0);
  // Check without a file asks for one
  await dlg.getByRole('button', { name: 'Check' }).click();
  await dlg.getByText('Choose a CSV file.').waitFor();
  const bad = path.join(dir, 'not-contacts.csv');
  fs.writeFileSync(bad, 'colour,size\r\nred,3\r\n');
  await dlg.getByLabel('CSV file').setInputFiles(bad);
  const job = nextJob(page);
  await dlg.getByRole('button', { name: 'Check' }).click();
  assert.equal((await job).status, 400);
  // the server's own message (as the API gives it for the same bytes), described by the file input
  const r = await api(server, 'POST', '/v1/contacts/import?dry_run=true', { key, body: fs.readFileSync(bad), headers: { 'content-type': 'text/csv' } });
  assert.equal(r.status, 400, r.text);
  await dlg.getByText(r.json.message, { exact: false }).waitFor();
  const described = await dlg.getByLabel('CSV file').evaluate((el) => (el.getAttribute('aria-describedby') || '').split(/\s+/)
    .map((id) => document.getElementById(id)).filter((x) => x && !x.hidden).map((x) => x.textContent).join(' '));
  assert.ok(described.includes(r.json.message), described);
  assert.equal(await dlg.getByRole('button', { name: 'Import', exact: true }).isDisabled(), true);
  await shot(page, 'import-not-csv');

  // a file past import_max_bytes: the server's 413 in the dialog
  const big = path.join(dir, 'too-big.csv');
  fs.writeFileSync(big, `name,email,mobile\r\n${'x'.repeat(MAX_BYTES)}\r\n`);
  await dlg.getByLabel('CSV file').setInputFiles(big);
  const bigJob = nextJob(page);
  await dlg.getByRole('button', { name: 'Check' }).click();
  assert.equal((await bigJob).status, 413);
  // (the server hangs up on the rest of the upload, so the message is read off the dialog: an answer, not a network error)
  const alert = dlg.locator('.dialog-error[role="alert"]');
  await alert.filter({ hasText: /\S/ }).waitFor();
  assert.notEqual((await alert.textContent()).trim(), WORDS.en['err.network']);
  await dlg.getByText(/Request ID: \S+/).waitFor();

  // "All or nothing" (the default) with a refused row: the check says so and offers no Import
  const small = path.join(dir, 'small.csv');
  fs.writeFileSync(small, `姓名,邮箱,手机号,备注\r\n${[0, 1, 2].map((i) => `小${i},small${i}.${tag}@example.com,+86136${String(i).padStart(8, '0')},x`).join('\r\n')}\r\n坏,bad-email,+8613600000009,x\r\n`);
  await dlg.getByLabel('CSV file').setInputFiles(small);
  assert.equal(await dlg.getByLabel('CSV file').getAttribute('aria-invalid'), null, 'the old error stays after another file was chosen');
  await dlg.getByRole('button', { name: 'Check' }).click();
  await dlg.getByRole('heading', { name: 'Check result' }).waitFor({ timeout: JOB_TIMEOUT_MS });
  await dlg.getByText(/Rows refused: 1\. With "All or nothing" nothing would be imported/).waitFor();
  assert.deepEqual(await shownCounts(dlg), { create: 3, update: 0, unchanged: 0, refuse: 1, total: 4 });
  await dlg.getByText('备注').waitFor(); // the ignored column is named
  const refused = dlg.getByRole('table', { name: 'Rows of the file' }).locator('tbody tr');
  assert.deepEqual(await refused.evaluateAll((trs) => trs.map((tr) => tr.dataset.key)), ['5']);
  assert.equal(await dlg.getByRole('button', { name: 'Import', exact: true }).isDisabled(), true);
  // another mode: the check must be made again before Import
  await dlg.getByLabel('Skip bad rows').check();
  assert.equal(await dlg.getByRole('heading', { name: 'Check result' }).count(), 0);
  await dlg.getByRole('button', { name: 'Check' }).click();
  await dlg.getByRole('heading', { name: 'Check result' }).waitFor({ timeout: JOB_TIMEOUT_MS });
  assert.equal(await dlg.getByRole('button', { name: 'Import', exact: true }).isEnabled(), true);
  await shot(page, 'import-small-checked');
  // a checked file: Escape closes at once (nothing is lost)
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('dialog').count(), 0);
  assert.deepEqual(page.problems, []);
});

test('closing before a check asks first', async () => {
  const page = await signedIn('operator');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const dlg = page.getByRole('dialog', { name: 'Import Contacts' });
  await dlg.getByLabel('CSV file').setInputFiles({ name: 'x.csv', mimeType: 'text/csv', buffer: Buffer.from('name,mobile\r\n') });
  await page.keyboard.press('Escape');
  await page.getByRole('dialog', { name: 'Discard your changes?' }).getByRole('button', { name: 'Discard' }).click();
  await dlg.waitFor({ state: 'detached' });
  assert.deepEqual(page.problems, []);
});

test(`check then import ${N} rows, skipping the bad ones, with a moving progress bar`, { timeout: 300000 }, async () => {
  const file = csvFile();
  const before = await contactTotal();
  const page = await signedIn('admin');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const dlg = page.getByRole('dialog', { name: 'Import Contacts' });
  await dlg.waitFor();
  const trust = dlg.getByLabel('Trust the verified columns');
  assert.equal(await trust.isChecked(), false, 'trusting the file is a choice, not the default');
  await shot(page, 'import-dialog');
  await dlg.getByLabel('CSV file').setInputFiles(file);
  await dlg.getByLabel('Skip bad rows').check();

  // the check: a dry run, its report equal to the API's job
  let started = nextJob(page);
  await dlg.getByRole('button', { name: 'Check' }).click();
  let r = await started;
  assert.equal(r.status, 202);
  assert.ok(r.id, 'no Location');
  assert.equal(r.query.get('dry_run'), 'true');
  assert.equal(r.query.get('mode'), 'skip_bad');
  assert.equal(r.query.get('trust_verified'), 'false');
  const result = dlg.getByRole('heading', { name: 'Check result' });
  await result.waitFor({ timeout: JOB_TIMEOUT_MS });
  const dry = await apiJob(r.id);
  assert.equal(dry.state, 'done');
  assert.equal(dry.total, N);
  const shown = await shownCounts(dlg);
  assert.deepEqual(shown, { create: dry.created, update: dry.updated, unchanged: dry.unchanged, refuse: dry.refused, total: N });
  assert.equal(dry.unchanged, 1);
  assert.equal(dry.updated, 1);
  assert.ok(dry.refused >= 4 && dry.refused <= 5, `refused ${dry.refused}`); // a duplicated email may refuse both rows
  assert.equal(dry.created + dry.updated + dry.unchanged + dry.refused, N);
  assert.equal(await contactTotal(), before, 'a check wrote contacts');

  // refused rows only, first: each bad row with its reason
  const table = dlg.getByRole('table', { name: 'Rows of the file' });
  await table.waitFor();
  const refusedRows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
    row: Number(tr.dataset.key), action: tr.dataset.action, reason: tr.cells[3].textContent,
  })));
  assert.equal(refusedRows.length, dry.refused);
  const byRow = new Map(refusedRows.map((x) => [x.row, x]));
  for (const [what, i] of Object.entries(BAD)) {
    assert.ok(byRow.has(i + 2), `row ${i + 2} (${what}) is not listed as refused: ${JSON.stringify(refusedRows)}`);
    assert.equal(byRow.get(i + 2).action, 'refuse');
    assert.match(byRow.get(i + 2).reason, /\S/, `row ${i + 2} (${what}) has no reason`);
  }
  const apiRows = assertOk(await api(server, 'GET', `/v1/contacts/imports/${dry.id}/rows?action=refuse&limit=100`, { key }), 200);
  assert.deepEqual(refusedRows.map((x) => x.row), apiRows.rows.map((x) => x.row));
  assert.ok(refusedRows.some((x) => x.reason.includes(apiRows.rows[0].message)), 'the API\'s reason is not shown');
  await shot(page, 'import-check-report');

  // every row, paged
  await dlg.getByLabel('Show').selectOption({ label: 'All rows' });
  await table.locator('tbody tr[data-key="2"]').waitFor();
  assert.equal(await table.locator('tbody tr').count(), 50);
  await dlg.getByText(`Page 1 of ${Math.ceil(N / 50)} · ${N} in total`).waitFor();
  assert.equal(await table.locator(`tbody tr[data-key="${SAME + 2}"]`).getAttribute('data-action'), 'unchanged');
  assert.equal(await table.locator(`tbody tr[data-key="${CHANGED + 2}"]`).getAttribute('data-action'), 'update');
  await dlg.getByRole('button', { name: 'Next page' }).click();
  await table.locator('tbody tr[data-key="52"]').waitFor();
  await dlg.getByText(`Page 2 of ${Math.ceil(N / 50)}`).waitFor();

  // the import: the progress bar moves through values between 0 and the total
  started = nextJob(page);
  await dlg.getByRole('button', { name: 'Import', exact: true }).click();
  r = await started;
  assert.equal(r.status, 202);
  assert.ok(r.id, 'no Location');
  assert.equal(r.query.get('dry_run'), 'false');
  assert.equal(r.query.get('mode'), 'skip_bad');
  const bar = dlg.getByRole('progressbar', { name: 'Importing' });
  const seen = [];
  let words = '';
  // one look at the DOM a poll: the bar, its words, and whether the result is there
  await waitFor(async () => {
    const s = await bar.evaluate((el) => ({
      value: el.position >= 0 ? el.value : -1,
      max: el.max,
      text: el.parentElement.querySelector('.import-progress-text').textContent,
      ended: Array.from(el.closest('[role="dialog"]').querySelectorAll('h3')).some((x) => x.textContent === 'Import result'),
    }));
    seen.push(s);
    if (s.value > 0 && s.value < s.max && /rows\/s/.test(s.text)) words = s.text;
    return s.ended;
  }, { timeoutMs: JOB_TIMEOUT_MS, intervalMs: 20, what: 'the import to finish' });
  const history = (await bar.getAttribute('data-history')).split(',').filter(Boolean).map(Number);
  const between = seen.filter((s) => s.value > 0 && s.value < s.max);
  // polled from the page's DOM; should this machine outrun the polling, the values the bar showed
  assert.ok(between.length > 0 || history.some((v) => v > 0 && v < Math.max(...history)),
    `no progress between 0 and the end was shown: DOM ${JSON.stringify(seen.slice(0, 20))}, history ${history.join(',')}`);
  const max = Number(await bar.getAttribute('max'));
  assert.ok(max >= N, `the bar's max ${max} is under the ${N} rows`);
  assert.equal(history[history.length - 1], max, 'the bar did not end full');
  for (let i = 1; i < history.length; i++) assert.ok(history[i] >= history[i - 1], `the bar went back: ${history.join(',')}`);
  if (words) assert.match(words, /^(Checking|Writing) · [\d\u00a0]+ \/ [\d\u00a0]+ rows · [\d\u00a0]+ rows\/s( · about \d+ (s|min) left)?$/, words);
  const done = await apiJob(r.id);
  assert.equal(done.state, 'done');
  assert.equal(done.created, dry.created);
  assert.equal(done.refused, dry.refused);
  assert.deepEqual(await shownCounts(dlg), { create: done.created, update: done.updated, unchanged: done.unchanged, refuse: done.refused, total: N });
  // the refused rows are listed again
  await table.locator(`tbody tr[data-key="${BAD.email + 2}"]`).waitFor();
  assert.equal(await dlg.getByRole('button', { name: 'Import', exact: true }).isDisabled(), true, 'the same file can be imported twice from the report');
  await shot(page, 'import-done');

  // closing shows the new total in the list
  const after = await contactTotal();
  assert.equal(after, before + done.created);
  // (what was chosen has run and the filter is a view: Escape closes without asking)
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('dialog').count(), 0);
  await page.locator('main .pager-text').filter({ hasText: `· ${after} in total` }).waitFor();

  // Export: the masked CSV, every contact once
  await page.getByRole('button', { name: 'Export' }).click();
  const dl = page.waitForEvent('download');
  await page.getByRole('link', { name: 'CSV (masked)' }).click();
  const csv = fs.readFileSync(await (await dl).path(), 'utf8');
  const lines = csv.replace(/^\uFEFF/, '').split(/\r?\n/).filter(Boolean);
  assert.equal(lines[0], 'id,name,email,mobile,id_card,language,email_verified,mobile_verified,created_at');
  assert.equal(lines.length, after + 1);
  assert.ok(!csv.includes(email(42)), 'the masked export has a full email');
  assert.ok(csv.includes(nameOf(42)));

  // an admin's full export asks first
  await page.getByRole('button', { name: 'Export' }).click();
  await page.getByRole('button', { name: 'CSV with full values…' }).click();
  const ask = page.getByRole('dialog', { name: 'Export full values?' });
  await ask.getByText(/audit log/).waitFor();
  await shot(page, 'export-full-confirm');
  const dl2 = page.waitForEvent('download');
  await ask.getByRole('button', { name: 'Export' }).click();
  const full = fs.readFileSync(await (await dl2).path(), 'utf8');
  assert.ok(full.includes(email(42)), 'the full export lacks a full email');
  assert.deepEqual(page.problems, []);
});

test('an admin trusts the verified columns of a file: the import says so, and the addresses are saved verified', async () => {
  const page = await signedIn('admin');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  const dlg = page.getByRole('dialog', { name: 'Import Contacts' });
  const who = { name: `Trusted ${tag}`, email: `trusted.${tag}@example.com`, mobile: '+8613500000001' };
  await dlg.getByLabel('CSV file').setInputFiles({
    name: 'trusted.csv', mimeType: 'text/csv',
    buffer: Buffer.from(`name,email,mobile,email_verified,mobile_verified\r\n${who.name},${who.email},${who.mobile},yes,是\r\n`),
  });
  const trust = dlg.getByLabel('Trust the verified columns');
  await trust.check();
  // the warning says it is audited, and is read with the checkbox
  assert.match(await trust.evaluate((el) => document.getElementById(el.getAttribute('aria-describedby')).textContent), /audit log/);
  let started = nextJob(page);
  await dlg.getByRole('button', { name: 'Check' }).click();
  assert.equal((await started).query.get('trust_verified'), 'true');
  await dlg.getByRole('heading', { name: 'Check result' }).waitFor({ timeout: JOB_TIMEOUT_MS });
  started = nextJob(page);
  await dlg.getByRole('button', { name: 'Import', exact: true }).click();
  const r = await started;
  assert.equal(r.query.get('trust_verified'), 'true');
  await dlg.getByRole('heading', { name: 'Import result' }).waitFor({ timeout: JOB_TIMEOUT_MS });
  const job = await apiJob(r.id);
  assert.equal(job.trust_verified, true);
  assert.equal(job.created, 1);
  const found = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(who.name)}`, { key }), 200);
  assert.equal(found.items.length, 1);
  assert.equal(found.items[0].email_status, 1);
  assert.equal(found.items[0].mobile_status, 1);
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' });
  assert.deepEqual(page.problems, []);
});

test('a readonly user gets Export but no Import', async () => {
  const page = await signedIn('readonly');
  await page.getByRole('button', { name: 'Export' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Import', exact: true }).count(), 0);
  await page.getByRole('button', { name: 'Export' }).click();
  await page.getByRole('link', { name: 'CSV (masked)' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'CSV with full values…' }).count(), 0);
  // Escape closes the menu and gives focus back to its button
  await page.keyboard.press('Escape');
  await page.getByRole('link', { name: 'CSV (masked)' }).waitFor({ state: 'hidden' });
  assert.equal(await page.getByRole('button', { name: 'Export' }).evaluate((el) => el === document.activeElement), true);
  await shot(page, 'export-readonly');
  assert.deepEqual(page.problems, []);
});
