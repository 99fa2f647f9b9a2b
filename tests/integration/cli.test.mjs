// cli.test.mjs — the command line client against a running server: the
// credentials profile (its mode checked like ssh's), `configure`, contacts
// created, listed, read, changed and deleted, events, notifications, keys,
// users and templates, CSV import with its progress and export, the exit
// codes (refused 1, usage 2, not found 3, conflict 4, unreachable 5) and
// the bash completion.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BIN, makeDataDir, startServer, createAccount, createKey, removeDir, unique, uniqueMobile,
  stopAllAfter, cliOk,
} from './lib/harness.mjs';

let dir, server, admin, home;
stopAllAfter(() => [server], () => dir);

before(async () => {
  dir = makeDataDir();
  admin = createAccount(dir);
  server = await startServer(dir);
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-cli-home-'));
  writeProfile(home, `[default]\nserver = ${server.base}\nkey_id = ${admin.access_key_id}\nkey_secret = ${admin.access_key_secret}\n`);
});

test.after(() => home && removeDir(home));

function writeProfile(h, text, mode = 0o600) {
  const d = path.join(h, '.config', 'certcontacts');
  fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  const f = path.join(d, 'credentials');
  fs.writeFileSync(f, text, { mode });
  fs.chmodSync(f, mode);
  return f;
}

/** Runs the binary with HOME=h and no CERTCONTACTS_* from the outside. */
function run(args, { h = home, env = {} } = {}) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CERTCONTACTS_') && k !== 'XDG_CONFIG_HOME'));
  return new Promise((resolve) => {
    execFile(BIN, args, { env: { ...clean, HOME: h, ...env }, encoding: 'utf8', timeout: 60000 },
      (err, stdout, stderr) => {
        resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr, args });
      });
  });
}

async function ok(args, opts) {
  const r = await run(args, opts);
  assert.equal(r.status, 0, `certcontacts ${args.join(' ')} exited ${r.status}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

async function json(args, opts) {
  const r = await ok([...args, '--json'], opts);
  return JSON.parse(r.stdout);
}

function status(r, want) {
  assert.equal(r.status, want, `certcontacts ${r.args.join(' ')} exited ${r.status}, want ${want}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}

test('contact create, list, get, update, delete through the profile; tables and --json', async () => {
  const name = `张三丰 ${unique('cli')}`;
  const email = `${unique('c')}@example.com`;
  const c = await json(['contact', 'create', '--name', name, '--mobile', uniqueMobile(), '--email', email, '--language', 'zh']);
  assert.equal(c.name, name);
  assert.equal(c.language, 'zh-CN');
  assert.equal(c.email, email);

  const list = await ok(['contact', 'list', '--search', name]);
  const lines = list.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^ID\s+NAME\s+EMAIL\s+MOBILE/);
  const row = lines.find((l) => l.includes(name));
  assert.ok(row, list.stdout);
  assert.ok(row.startsWith(String(c.id)));
  // aligned by display width: the EMAIL column starts at the same cell in the
  // header and in a row whose name is Chinese (2 cells per character)
  const cells = (s) => [...s].reduce((w, ch) => w + (/[\u4e00-\u9fff]/.test(ch) ? 2 : 1), 0);
  const emailAt = (l, word) => cells(l.slice(0, l.indexOf(word)));
  assert.equal(emailAt(row, row.split(/\s{2,}/)[2]), emailAt(lines[0], 'EMAIL'), list.stdout);

  const all = await json(['contacts', 'list', '--all']);
  assert.ok(all.items.some((x) => x.id === c.id));

  const got = await json(['contact', 'get', String(c.id)]);
  assert.equal(got.id, c.id);
  const shown = await ok(['contact', 'get', String(c.id)]);
  assert.match(shown.stdout, new RegExp(`^name:\\s+${name}$`, 'm'));

  const upd = await json(['contact', 'update', String(c.id), '--name', 'Renamed', '--if-match', String(got.version)]);
  assert.equal(upd.name, 'Renamed');
  assert.equal(upd.version, got.version + 1);
  // a stale version is a conflict: 4
  status(await run(['contact', 'update', String(c.id), '--name', 'Again', '--if-match', String(got.version)]), 4);

  const del = await ok(['contact', 'delete', String(c.id)]);
  assert.match(del.stdout, new RegExp(`contact ${c.id} deleted`));
  const gone = await run(['contact', 'get', String(c.id)]);
  status(gone, 3);
  assert.match(gone.stderr, /NotFound/);
});

test('exit statuses: conflict 4, refused 1 (bad field, wrong key), usage 2, unreachable 5', async () => {
  const email = `${unique('d')}@example.com`;
  await ok(['contact', 'create', '--name', 'First', '--mobile', uniqueMobile(), '--email', email]);
  const dup = await run(['contact', 'create', '--name', 'Second', '--mobile', uniqueMobile(), '--email', email]);
  status(dup, 4);
  assert.match(dup.stderr, /AlreadyExists\.Email/);

  const bad = await run(['contact', 'create', '--name', 'Bad', '--mobile', 'not a number']);
  status(bad, 1);
  assert.match(bad.stderr, /Mobile/);

  const wrong = await run(['contact', 'list', '--key', `${admin.access_key_id}:wrong-secret`]);
  status(wrong, 1);
  assert.match(wrong.stderr, /Unauthorized/);
  assert.doesNotMatch(wrong.stderr + wrong.stdout, /wrong-secret/);

  status(await run(['contact', 'frobnicate']), 2);
  status(await run(['contact', 'get']), 2);
  status(await run(['contact', 'list', '--no-such-option', 'x']), 2);
  status(await run(['contact', 'list', '--limit', '0']), 2);
  const noKey = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-cli-nokey-'));
  status(await run(['contact', 'list'], { h: noKey }), 2);
  fs.rmSync(noKey, { recursive: true, force: true });

  // nothing listens on port 1 of 127.0.0.1
  const down = await run(['contact', 'list', '--server', 'http://127.0.0.1:1']);
  status(down, 5);
  assert.match(down.stderr, /127\.0\.0\.1:1/);
});

test('the profile is refused when others may read it; flags win over the environment, which wins over the profile', async () => {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-cli-perm-'));
  try {
    const good = `[default]\nserver = ${server.base}\nkey_id = ${admin.access_key_id}\nkey_secret = ${admin.access_key_secret}\n`;
    const f = writeProfile(h, good, 0o644);
    const r = await run(['contact', 'list'], { h });
    status(r, 2);
    assert.match(r.stderr, /chmod 600/);
    assert.doesNotMatch(r.stderr, new RegExp(admin.access_key_secret));
    fs.chmodSync(f, 0o600);
    await ok(['contact', 'list'], { h });

    // a profile naming a dead server: the environment's server wins over it,
    // and a flag wins over the environment
    writeProfile(h, `[default]\nserver = http://127.0.0.1:1\nkey_id = ${admin.access_key_id}\nkey_secret = ${admin.access_key_secret}\n`);
    status(await run(['contact', 'list'], { h }), 5);
    await ok(['contact', 'list'], { h, env: { CERTCONTACTS_SERVER: server.base } });
    status(await run(['contact', 'list', '--server', 'http://127.0.0.1:1'], { h, env: { CERTCONTACTS_SERVER: server.base } }), 5);
    // a wrong key in the environment beats the profile's good one; the flag beats both
    const envKey = { CERTCONTACTS_SERVER: server.base, CERTCONTACTS_KEY: `${admin.access_key_id}:nope` };
    status(await run(['contact', 'list'], { h, env: envKey }), 1);
    await ok(['contact', 'list', '--key', `${admin.access_key_id}:${admin.access_key_secret}`], { h, env: envKey });
    // a named profile that is not there is a usage error
    status(await run(['contact', 'list', '--profile', 'nope'], { h }), 2);
  } finally {
    removeDir(h);
  }
});

test('configure writes the profile with mode 0600 in a 0700 directory, keeps other profiles, and is used', async () => {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-cli-conf-'));
  try {
    const ro = createKey(dir, admin.account_id, 'readonly');
    await ok(['configure', '--profile', 'other', '--server', 'http://127.0.0.1:1', '--key', 'X:Y'], { h });
    const r = await ok(['configure', '--server', server.base, '--key', `${ro.access_key_id}:${ro.access_key_secret}`], { h });
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(ro.access_key_secret));
    const f = path.join(h, '.config', 'certcontacts', 'credentials');
    assert.equal(fs.statSync(f).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(f)).mode & 0o777, 0o700);
    const text = fs.readFileSync(f, 'utf8');
    assert.match(text, /^\[other\]$/m);
    assert.match(text, /^\[default\]$/m);
    // the readonly key reads, and a write is refused (403: 1)
    await ok(['contact', 'list'], { h });
    status(await run(['contact', 'create', '--name', 'X', '--mobile', uniqueMobile()], { h }), 1);
    status(await run(['contact', 'list', '--profile', 'other'], { h }), 5);
    // XDG_CONFIG_HOME is honoured
    const xdg = path.join(h, 'xdg');
    await ok(['configure', '--server', server.base, '--key', `${ro.access_key_id}:${ro.access_key_secret}`], { h, env: { XDG_CONFIG_HOME: xdg } });
    assert.ok(fs.existsSync(path.join(xdg, 'certcontacts', 'credentials')));
    status(await run(['configure', '--server', server.base], { h }), 2);
  } finally {
    removeDir(h);
  }
});

test('event send, event get, notification list and get; key list and create; user list and create; template list, get, set, reset', async () => {
  const c = await json(['contact', 'create', '--name', 'Evt', '--mobile', uniqueMobile()]);
  const ev = await json(['event', 'send', '--type', 'certificate.expiring', '--contact', String(c.id), '--data', '{"domains":["cli.example.com"],"days_left":7}']);
  assert.equal(ev.type, 'certificate.expiring');
  const evGot = await json(['event', 'get', String(ev.id)]);
  assert.equal(evGot.id, ev.id);
  const notes = await json(['notification', 'list', '--event-id', String(ev.id)]);
  assert.ok(notes.items.length > 0);
  assert.ok(notes.items.every((n) => n.event_id === ev.id));
  const table = await ok(['notification', 'list', '--event-id', String(ev.id)]);
  assert.match(table.stdout, /^ID\s+EVENT_TYPE\s+CONTACT_ID\s+CHANNEL/);
  assert.match(table.stdout, /certificate\.expiring/);
  const one = await json(['notification', 'get', String(notes.items[0].id)]);
  assert.equal(one.id, notes.items[0].id);
  // a skipped notification cannot be resent: 409 → 4
  status(await run(['notification', 'resend', String(notes.items[0].id)]), 4);

  const keys = await ok(['key', 'list']);
  assert.match(keys.stdout, new RegExp(admin.access_key_id));
  assert.doesNotMatch(keys.stdout, new RegExp(admin.access_key_secret));
  const nk = await json(['key', 'create', '--role', 'readonly']);
  assert.equal(nk.key.role, 'readonly');
  await ok(['key', 'disable', nk.key.id]);
  const after = await json(['key', 'list']);
  assert.equal(after.keys.find((k) => k.id === nk.key.id).disabled, true);
  // the local form with --account still works beside it
  const local = cliOk(['key', 'list', '--account', String(admin.account_id)], { dataDir: dir });
  assert.match(local.stdout, new RegExp(admin.access_key_id));

  const email = `${unique('u')}@example.com`;
  const u = await json(['user', 'create', '--email', email, '--role', 'operator']);
  assert.equal(u.user.email, email);
  const users = await ok(['user', 'list']);
  assert.match(users.stdout, new RegExp(email.replace('.', '\\.')));
  const changed = await json(['user', 'update', String(u.user.id), '--role', 'readonly', '--disabled', 'true']);
  assert.equal(changed.user.role, 'readonly');
  assert.equal(changed.user.disabled, true);
  status(await run(['user', 'update', String(u.user.id), '--disabled', 'maybe']), 2);
  assert.equal((await json(['user', 'unlock', String(u.user.id)])).user.locked_until, null);
  await ok(['user', 'delete', String(u.user.id)]);
  status(await run(['user', 'delete', String(u.user.id)]), 3);

  const tl = await ok(['template', 'list']);
  assert.match(tl.stdout, /^EVENT_TYPE\s+CHANNEL\s+LANGUAGE/);
  assert.match(tl.stdout, /certificate\.expiring\s+robot\s+zh-CN/);
  const t = await json(['template', 'get', 'certificate.expiring', 'robot', 'en']);
  assert.equal(t.custom, false);
  const bodyFile = path.join(home, 'body.txt');
  fs.writeFileSync(bodyFile, 'The certificate for {{domains}} expires {{expires_in}}.');
  const set = await json(['template', 'set', 'certificate.expiring', 'robot', 'en', '--title', 'Certificate expiring', '--file', bodyFile]);
  assert.equal(set.custom, true);
  assert.match(set.body, /expires \{\{expires_in\}\}/);
  await ok(['template', 'reset', 'certificate.expiring', 'robot', 'en']);
  status(await run(['template', 'get', 'no.such.event', 'robot', 'en']), 3);
});

test('certificate list, get, revoke, delete; application list', async () => {
  const domain = `${unique('crt')}.example.com`;
  const res = await fetch(`${server.base}/v1/certificates`, {
    method: 'POST',
    headers: { authorization: 'Basic ' + Buffer.from(`${admin.access_key_id}:${admin.access_key_secret}`).toString('base64'), 'content-type': 'application/json' },
    body: JSON.stringify({ domains: [domain], not_after: '2099-01-01' }),
  });
  const body = await res.text();
  assert.equal(res.status, 201, body);
  const cert = JSON.parse(body);
  const list = await ok(['certificate', 'list', '--domain', domain]);
  assert.match(list.stdout, /^ID\s+NAME\s+DOMAINS\s+STATE/);
  assert.match(list.stdout, new RegExp(`^${cert.id}\\s.*${domain.replace(/\./g, '\\.')}\\s+active`, 'm'));
  assert.equal((await json(['certificate', 'get', String(cert.id)])).id, cert.id);
  assert.equal((await json(['certificate', 'revoke', String(cert.id), '--reason', 'key compromised'])).state, 'revoked');
  status(await run(['certificate', 'revoke', String(cert.id)]), 4);
  await ok(['certificate', 'delete', String(cert.id)]);
  status(await run(['certificate', 'get', String(cert.id)]), 3);
  const apps = await json(['application', 'list']);
  assert.ok(Array.isArray(apps.items));
  status(await run(['application', 'get', '999999']), 3);
});

test('contacts import: progress lines when stderr is not a terminal, the summary and refused rows', async () => {
  const rows = [];
  for (let i = 0; i < 3; i++) rows.push(`Imported ${i},${unique('imp')}@example.com,${uniqueMobile()}`);
  const csvFile = path.join(home, 'contacts.csv');
  fs.writeFileSync(csvFile, `name,email,mobile,extra\n${rows.join('\n')}\nBad row,not-an-email,123\n`);

  // mode all with a bad row: the job fails, nothing is written, exit 1
  const all = await run(['contacts', 'import', csvFile]);
  status(all, 1);
  assert.match(all.stdout, /1 refused/);
  assert.match(all.stdout, /refused rows:/);
  assert.match(all.stdout, /^5\s+Bad row/m);
  const none = await json(['contact', 'list', '--search', 'Imported']);
  assert.equal(none.items.length, 0);

  // skip-bad: three created, the bad row reported, exit 0
  const r = await ok(['contacts', 'import', csvFile, '--mode', 'skip-bad']);
  assert.match(r.stderr, /^import \d+: 4\/4 rows \(100%\), \d+ rows\/s, ETA /m);
  assert.doesNotMatch(r.stderr, /\r/);
  assert.match(r.stdout, /3 created, 0 updated, 0 unchanged, 1 refused/);
  assert.match(r.stdout, /ignored columns: extra/);
  const made = await json(['contact', 'list', '--search', 'Imported']);
  assert.equal(made.items.length, 3);

  // --trust-verified is for admins: an operator's is refused (403: 1)
  const op = createKey(dir, admin.account_id, 'operator');
  const forbidden = await run(['contacts', 'import', csvFile, '--trust-verified', '--dry-run', '--key', `${op.access_key_id}:${op.access_key_secret}`]);
  status(forbidden, 1);
  assert.match(forbidden.stderr, /Forbidden/);

  // again, as a dry run: every row unchanged; --json prints the job only
  const job = await json(['contacts', 'import', csvFile, '--mode', 'skip-bad', '--dry-run']);
  assert.equal(job.state, 'done');
  assert.equal(job.dry_run, true);
  assert.equal(job.unchanged, 3);
});

test('contacts export: CSV to a file (mode 0600, BOM and header), JSON lines to stdout', async () => {
  const name = `Exported ${unique('exp')}`;
  await ok(['contact', 'create', '--name', name, '--mobile', uniqueMobile()]);
  const out = path.join(home, 'export.csv');
  await ok(['contacts', 'export', '-o', out]);
  const text = fs.readFileSync(out, 'utf8');
  assert.ok(text.startsWith('\ufeffid,name,email,mobile,'), text.slice(0, 80));
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  assert.match(text, new RegExp(name));
  const jl = await ok(['contacts', 'export', '--format', 'jsonl']);
  const objs = jl.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(objs.some((o) => o.name === name));
  // the full export imports back unchanged
  const full = path.join(home, 'full.csv');
  await ok(['contacts', 'export', '--full', '-o', full]);
  const back = await json(['contacts', 'import', full, '--dry-run']);
  assert.equal(back.state, 'done', JSON.stringify(back));
  assert.equal(back.unchanged, back.total, JSON.stringify(back));
  assert.equal(back.refused, 0);
  // an error answer never lands in the file
  fs.rmSync(out);
  status(await run(['contacts', 'export', '-o', out, '--key', `${admin.access_key_id}:wrong`]), 1);
  assert.ok(!fs.existsSync(out));
});

test('the bash completion is printed from the command table and loads in bash', async () => {
  const r = await ok(['help', '--completion']);
  const f = path.join(home, 'completion.bash');
  fs.writeFileSync(f, r.stdout);
  const b = await new Promise((resolve) => {
    execFile('bash', ['-c', `source '${f}' && complete -p certcontacts && COMP_WORDS=(certcontacts contact l) COMP_CWORD=2 && _certcontacts && echo "\${COMPREPLY[*]}"`],
      { encoding: 'utf8' }, (err, stdout, stderr) => resolve({ err, stdout, stderr }));
  });
  assert.equal(b.err, null, b.stderr);
  assert.match(b.stdout, /complete -F _certcontacts certcontacts/);
  assert.match(b.stdout, /^list$/m);
  // every command of --help is in it
  for (const cmd of ['contact', 'contacts', 'event', 'notification', 'template', 'certificate', 'application', 'configure']) {
    assert.match(r.stdout, new RegExp(`\\b${cmd}\\b`));
  }
});
