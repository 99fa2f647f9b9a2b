// packaging.test.mjs — certcontacts as Debian users install it: the manual
// page lists exactly the commands and options --help lists (both come from
// one table) and is well-formed roff; the systemd unit passes
// `systemd-analyze verify`; `make install DESTDIR=... PREFIX=...` lays out
// exactly the expected files with their modes, and `make uninstall` takes
// them away again; `make deb` builds a package whose contents and control
// fields are right, and which installs into a throwaway root, is removed
// (its config kept) and purged (config and data gone). Parts this machine
// cannot do are skipped with the reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, BIN, removeDir } from './lib/harness.mjs';

const VERSION = fs.readFileSync(path.join(ROOT, 'VERSION'), 'utf8').trim();

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: ROOT, timeout: 120000, ...opts });
  return { status: r.error ? -1 : r.status, stdout: r.stdout || '', stderr: r.error ? String(r.error) : r.stderr || '' };
}

function ok(r, what) {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

function have(cmd) {
  return run('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

// The binary under test decides the build directory (build/ or build-asan/),
// so that make builds nothing and installs what is being tested.
const BUILD = path.relative(ROOT, path.dirname(BIN));
// Under `make test` the parent make's MAKEFLAGS (its jobserver) must not leak in.
function make(args) {
  const extra = BUILD === 'build-asan' ? ['SANITIZE=1'] : [`BUILD=${BUILD}`];
  const env = { ...process.env };
  for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES']) delete env[k];
  return run('make', ['-s', '--no-print-directory', ...extra, ...args], { env });
}

/** Every file and directory below dir: {'usr/bin/certcontacts': 0o755, ...}. */
function tree(dir) {
  const out = {};
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(dir, p);
      const st = fs.lstatSync(p);
      out[rel + (e.isDirectory() ? '/' : '')] = st.mode & 0o7777;
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// ---------------------------------------------------------------- manual page

/** Every --flag a text names, hyphens as they are typed. */
function flags(text) {
  return new Set(text.match(/--[a-z][a-z0-9-]*/g));
}

test('the manual page lists exactly the commands and options of --help, in well-formed roff', () => {
  const help = ok(run(BIN, ['--help']), '--help').stdout;
  const man = ok(run(BIN, ['help', '--man']), 'help --man').stdout;
  assert.equal(ok(run(BIN, ['help']), 'help').stdout, help);
  // roff writes a minus sign as \-
  const manText = man.replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '');
  const inHelp = flags(help);
  const inMan = flags(manText);
  assert.ok(inHelp.size > 80, `--help names only ${inHelp.size} flags`);
  assert.deepEqual([...inMan].sort(), [...inHelp].sort());
  for (const f of ['--listen', '--data-dir', '--max-connections', '--config', '--json', '--account', '--man']) {
    assert.ok(inMan.has(f), `${f} is missing from the manual page`);
  }
  // every command of --help has its entry under COMMANDS
  const commands = [...help.split('\nCommands:\n')[1].split('\n\n')[0].matchAll(/^  ([a-z][a-z-]*(?: [a-z][a-z-]*)?)/gm)]
    .map((m) => m[1]);
  assert.ok(commands.includes('serve') && commands.includes('key rotate-master'), commands.join(', '));
  const section = '\n' + manText.split('\n.SH COMMANDS\n')[1].split('\n.SH ')[0];
  for (const c of commands) assert.ok(section.includes(`\n.TP\n${c}`), `command "${c}" is missing from COMMANDS`);
  // each option with its default
  assert.match(manText, /\n\.TP\n--listen VALUE\n[^\n]*\n\.br\nDefault: 127\.0\.0\.1:8080\. Config file: listen; environment: CERTCONTACTS_LISTEN\.\n/);
  for (const s of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'EXIT STATUS', 'ENVIRONMENT', 'FILES', 'SEE ALSO']) {
    assert.ok(man.includes(`\n.SH ${s}\n`), `no ${s} section`);
  }
  assert.match(man, new RegExp(`^\\.TH CERTCONTACTS 1 "" "certcontacts ${VERSION.replace(/\./g, '\\.')}" `, 'm'));
  // no text line that roff would take for a request
  for (const line of man.split('\n')) {
    if (/^[.']/.test(line)) assert.match(line, /^(\.\\"|\.(TH|SH|TP|PP|br|nh|BR) ?)/, `stray request: ${line}`);
  }
  // the Makefile's copy is the binary's output
  const built = path.join(path.dirname(BIN), 'certcontacts.1');
  if (fs.existsSync(built)) assert.equal(fs.readFileSync(built, 'utf8'), man);
});

test('groff reads the manual page without a warning', (t) => {
  if (!have('groff')) return t.skip('groff is not installed (Debian package groff-base)');
  const man = ok(run(BIN, ['help', '--man']), 'help --man').stdout;
  const r = run('groff', ['-man', '-ww', '-z'], { input: man });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', r.stderr);
  const text = run('groff', ['-man', '-Tutf8', '-P-cbou'], { input: man }).stdout;
  assert.match(text, /certcontacts - certificate contacts/);
  assert.match(text, /--max-connections VALUE/);
});

// ---------------------------------------------------------------- install

test('make install DESTDIR PREFIX=/usr lays out exactly the expected files; uninstall removes them', async (t) => {
  const dest = tmpDir('cc-install-');
  t.after(() => removeDir(dest));
  ok(make(['install', `DESTDIR=${dest}`, 'PREFIX=/usr']), 'make install');
  assert.deepEqual(tree(dest), {
    'etc/': 0o755,
    'etc/certcontacts/': 0o755,
    'etc/certcontacts/certcontacts.conf': 0o640,
    'usr/': 0o755,
    'usr/bin/': 0o755,
    'usr/bin/certcontacts': 0o755,
    'usr/lib/': 0o755,
    'usr/lib/systemd/': 0o755,
    'usr/lib/systemd/system/': 0o755,
    'usr/lib/systemd/system/certcontacts.service': 0o644,
    'usr/share/': 0o755,
    'usr/share/bash-completion/': 0o755,
    'usr/share/bash-completion/completions/': 0o755,
    'usr/share/bash-completion/completions/certcontacts': 0o644,
    'usr/share/man/': 0o755,
    'usr/share/man/man1/': 0o755,
    'usr/share/man/man1/certcontacts.1.gz': 0o644,
  });
  // the binary under test, its manual (gzip -9n: no name, no time stamp)
  assert.ok(fs.readFileSync(path.join(dest, 'usr/bin/certcontacts')).equals(fs.readFileSync(BIN)));
  const gz = fs.readFileSync(path.join(dest, 'usr/share/man/man1/certcontacts.1.gz'));
  assert.equal(gz.readUInt32LE(4), 0, 'gzip header has a time stamp');
  assert.equal(gz[3] & 0x08, 0, 'gzip header has a file name');
  assert.equal(zlib.gunzipSync(gz).toString('utf8'), ok(run(BIN, ['help', '--man']), 'help --man').stdout);
  // the bash completion: what the binary prints, and bash loads it
  const comp = path.join(dest, 'usr/share/bash-completion/completions/certcontacts');
  assert.equal(fs.readFileSync(comp, 'utf8'), ok(run(BIN, ['help', '--completion']), 'help --completion').stdout);
  assert.match(ok(run('bash', ['-c', `source '${comp}' && complete -p certcontacts`]), 'bash source').stdout,
    /complete -F _certcontacts certcontacts/);
  // the unit runs the installed binary with the installed config
  const unit = fs.readFileSync(path.join(dest, 'usr/lib/systemd/system/certcontacts.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/certcontacts serve --config \$\{CREDENTIALS_DIRECTORY\}\/certcontacts\.conf$/m);
  assert.match(unit, /^LoadCredential=certcontacts\.conf:\/etc\/certcontacts\/certcontacts\.conf$/m);
  assert.doesNotMatch(unit, /@[A-Z]+@/);
  // the config: the example with the service's data directory, and one the binary reads
  const conf = fs.readFileSync(path.join(dest, 'etc/certcontacts/certcontacts.conf'), 'utf8');
  assert.match(conf, /^data_dir = \/var\/lib\/certcontacts$/m);
  const active = conf.split('\n').filter((l) => l && !l.startsWith('#'));
  assert.deepEqual(active, ['data_dir = /var/lib/certcontacts']);
  const example = fs.readFileSync(path.join(ROOT, 'certcontacts.conf.example'), 'utf8');
  assert.equal(conf.split('\n').length, example.split('\n').length + 1);
  const data = path.join(dest, 'data');
  const r = run(BIN, ['--config', path.join(dest, 'etc/certcontacts/certcontacts.conf'), '--data-dir', data, 'migrate']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(fs.existsSync(path.join(data, 'certcontacts.db')));

  // a second install keeps the operator's config
  fs.appendFileSync(path.join(dest, 'etc/certcontacts/certcontacts.conf'), 'threads = 2\n');
  ok(make(['install', `DESTDIR=${dest}`, 'PREFIX=/usr']), 'make install again');
  assert.match(fs.readFileSync(path.join(dest, 'etc/certcontacts/certcontacts.conf'), 'utf8'), /^threads = 2$/m);

  ok(make(['uninstall', `DESTDIR=${dest}`, 'PREFIX=/usr']), 'make uninstall');
  const left = Object.keys(tree(dest)).filter((p) => !p.endsWith('/') && !p.startsWith('data/'));
  assert.deepEqual(left, ['etc/certcontacts/certcontacts.conf']);
});

test('make install without PREFIX goes to /usr/local, and the unit names that binary', async (t) => {
  const dest = tmpDir('cc-install-local-');
  t.after(() => removeDir(dest));
  ok(make(['install', `DESTDIR=${dest}`]), 'make install');
  const files = Object.keys(tree(dest)).filter((p) => !p.endsWith('/')).sort();
  assert.deepEqual(files, [
    'etc/certcontacts/certcontacts.conf',
    'usr/local/bin/certcontacts',
    'usr/local/lib/systemd/system/certcontacts.service',
    'usr/local/share/bash-completion/completions/certcontacts',
    'usr/local/share/man/man1/certcontacts.1.gz',
  ]);
  const unit = fs.readFileSync(path.join(dest, 'usr/local/lib/systemd/system/certcontacts.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/local\/bin\/certcontacts serve /m);
});

// ---------------------------------------------------------------- systemd unit

test('the systemd unit is hardened and passes systemd-analyze verify', async (t) => {
  const dest = tmpDir('cc-unit-');
  t.after(() => removeDir(dest));
  ok(make(['install', `DESTDIR=${dest}`, 'PREFIX=/usr']), 'make install');
  const unit = fs.readFileSync(path.join(dest, 'usr/lib/systemd/system/certcontacts.service'), 'utf8');
  const settings = {};
  for (const line of unit.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) (settings[m[1]] ||= []).push(m[2]);
  }
  const want = {
    Type: 'notify',
    DynamicUser: 'yes',
    StateDirectory: 'certcontacts',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    NoNewPrivileges: 'yes',
    RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX',
    SystemCallFilter: '@system-service',
    CapabilityBoundingSet: '',
    ExecReload: '/bin/kill -HUP $MAINPID',
    Restart: 'on-failure',
    WantedBy: 'multi-user.target',
  };
  for (const [k, v] of Object.entries(want)) assert.deepEqual(settings[k], [v], `${k}=`);
  // a descriptor per connection at max_connections' default, and room besides
  const maxConn = Number(/--max-connections\s.*\[default: (\d+)\]/.exec(run(BIN, ['--help']).stdout)[1]);
  assert.ok(Number(settings.LimitNOFILE[0]) >= 2 * maxConn, `LimitNOFILE=${settings.LimitNOFILE}`);

  if (!have('systemd-analyze')) return t.skip('systemd-analyze is not installed (Debian package systemd)');
  // verify checks that ExecStart's program exists: the copy names the binary under test
  const dir = path.join(dest, 'verify');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'certcontacts.service'), unit.replace('ExecStart=/usr/bin/certcontacts', `ExecStart=${BIN}`));
  const r = run('systemd-analyze', ['verify', '--man=no', path.join(dir, 'certcontacts.service')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', `systemd-analyze verify warns:\n${r.stderr}`);
});

// ---------------------------------------------------------------- Debian package

test('make deb builds a package that installs, is removed and purged in a throwaway root', async (t) => {
  if (!have('dpkg-deb') || !have('dpkg')) return t.skip('dpkg is not installed: not a Debian system');
  const r = ok(make(['deb']), 'make deb');
  const deb = path.join(ROOT, r.stdout.trim().split('\n').pop());
  const arch = ok(run('dpkg', ['--print-architecture']), 'dpkg --print-architecture').stdout.trim();
  assert.equal(path.basename(deb), `certcontacts_${VERSION}_${arch}.deb`);

  const field = (f) => ok(run('dpkg-deb', ['-f', deb, f]), `dpkg-deb -f ${f}`).stdout.trim();
  assert.equal(field('Package'), 'certcontacts');
  assert.equal(field('Version'), VERSION);
  assert.equal(field('Architecture'), arch);
  assert.match(field('Maintainer'), /<[^>]+@[^>]+>/);
  assert.match(field('Description'), /^certificate contacts/);
  const depends = field('Depends').split(/,\s*/);
  for (const p of ['libc6', 'libsystemd0', 'libsqlite3-0', 'libmicrohttpd12', 'libjansson4', 'libcurl4', 'libssl3', 'libpq5']) {
    assert.ok(depends.some((d) => d === p || d.startsWith(`${p} `)), `Depends lacks ${p}: ${depends}`);
  }
  assert.ok(!depends.includes('libgmp10'), 'Depends names libraries of libraries');

  const info = ok(run('dpkg-deb', ['-I', deb]), 'dpkg-deb -I').stdout;
  for (const s of ['postinst', 'prerm', 'postrm', 'conffiles', 'md5sums']) assert.match(info, new RegExp(`\\s${s}\\b`));
  const ctrl = tmpDir('cc-deb-ctrl-');
  t.after(() => removeDir(ctrl));
  ok(run('dpkg-deb', ['-e', deb, ctrl]), 'dpkg-deb -e');
  assert.equal(fs.readFileSync(path.join(ctrl, 'conffiles'), 'utf8'), '/etc/certcontacts/certcontacts.conf\n');
  for (const s of ['postinst', 'prerm', 'postrm']) {
    assert.equal(fs.statSync(path.join(ctrl, s)).mode & 0o777, 0o755);
    ok(run('sh', ['-n', path.join(ctrl, s)]), `sh -n ${s}`);
  }

  const listing = ok(run('dpkg-deb', ['-c', deb]), 'dpkg-deb -c').stdout.trim().split('\n');
  const files = listing.filter((l) => l.startsWith('-')).map((l) => {
    const cols = l.split(/\s+/);
    return `${cols[0]} ${cols[1]} ${cols[5]}`;
  }).sort();
  assert.deepEqual(files, [
    '-rw-r----- root/root ./etc/certcontacts/certcontacts.conf',
    '-rw-r--r-- root/root ./usr/lib/systemd/system/certcontacts.service',
    '-rw-r--r-- root/root ./usr/share/bash-completion/completions/certcontacts',
    '-rw-r--r-- root/root ./usr/share/doc/certcontacts/changelog.gz',
    '-rw-r--r-- root/root ./usr/share/doc/certcontacts/copyright',
    '-rw-r--r-- root/root ./usr/share/lintian/overrides/certcontacts',
    '-rw-r--r-- root/root ./usr/share/man/man1/certcontacts.1.gz',
    '-rwxr-xr-x root/root ./usr/bin/certcontacts',
  ]);

  if (have('lintian')) {
    const l = run('lintian', ['--tag-display-limit', '0', deb]);
    const tags = l.stdout.split('\n').filter((x) => /^[EW]: /.test(x));
    assert.deepEqual(tags, [], `lintian:\n${l.stdout}${l.stderr}`);
  } else {
    t.diagnostic('lintian is not installed: the package is not checked by it');
  }

  // Install into a throwaway root: the maintainer scripts run on this
  // system with DPKG_ROOT set, and must touch nothing outside it.
  const root = tmpDir('cc-deb-root-');
  t.after(() => removeDir(root));
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers']) {
    fs.mkdirSync(path.join(root, d), { recursive: true });
  }
  fs.writeFileSync(path.join(root, 'var/lib/dpkg/status'), '');
  fs.writeFileSync(path.join(root, 'var/lib/dpkg/available'), '');
  const dpkg = (...args) => run('dpkg', [`--root=${root}`, '--force-not-root', '--force-script-chrootless',
    '--force-depends', '--force-unsafe-io', '--log=/dev/null', ...args]);
  const installed = (p) => fs.existsSync(path.join(root, p));
  const hostHadUnit = isLink('/etc/systemd/system/multi-user.target.wants/certcontacts.service');

  let d = dpkg('-i', deb);
  if (d.status !== 0 && /chrootless|not supported|requires/.test(d.stderr)) {
    return t.skip(`dpkg cannot install into another root here: ${d.stderr.trim().split('\n').pop()}`);
  }
  ok(d, 'dpkg -i');
  for (const p of ['usr/bin/certcontacts', 'usr/share/man/man1/certcontacts.1.gz',
    'usr/share/bash-completion/completions/certcontacts',
    'usr/lib/systemd/system/certcontacts.service', 'etc/certcontacts/certcontacts.conf']) {
    assert.ok(installed(p), `${p} not installed`);
  }
  assert.match(ok(dpkg('-s', 'certcontacts'), 'dpkg -s').stdout, /^Status: install ok installed$/m);
  if (have('deb-systemd-helper')) {
    // a symbolic link to /usr/lib/..., which only the root's own system resolves
    assert.ok(isLink(path.join(root, 'etc/systemd/system/multi-user.target.wants/certcontacts.service')),
      'the service is not enabled');
  }
  assert.equal(isLink('/etc/systemd/system/multi-user.target.wants/certcontacts.service'), hostHadUnit,
    'the maintainer scripts changed this system instead of the root');

  // an upgrade to a later version keeps the operator's config
  fs.appendFileSync(path.join(root, 'etc/certcontacts/certcontacts.conf'), 'threads = 2\n');
  const next = path.join(ROOT, ok(make(['deb', `VERSION=${VERSION}+1`]), 'make deb (next version)').stdout.trim().split('\n').pop());
  t.after(() => fs.rmSync(next, { force: true }));
  ok(dpkg('--force-confold', '-i', next), 'dpkg -i (upgrade)');
  assert.match(ok(dpkg('-s', 'certcontacts'), 'dpkg -s').stdout, new RegExp(`^Version: ${VERSION.replace(/\./g, '\\.')}\\+1$`, 'm'));
  assert.match(fs.readFileSync(path.join(root, 'etc/certcontacts/certcontacts.conf'), 'utf8'), /^threads = 2$/m);

  // data the service made (with DynamicUser=yes systemd keeps it in /var/lib/private)
  fs.mkdirSync(path.join(root, 'var/lib/private/certcontacts'), { recursive: true });
  fs.symlinkSync('private/certcontacts', path.join(root, 'var/lib/certcontacts'));
  fs.writeFileSync(path.join(root, 'var/lib/private/certcontacts/certcontacts.db'), 'data');

  ok(dpkg('-r', 'certcontacts'), 'dpkg -r');
  assert.ok(!installed('usr/bin/certcontacts'), 'the binary stayed after removal');
  assert.ok(!installed('usr/lib/systemd/system/certcontacts.service'), 'the unit stayed after removal');
  assert.ok(installed('etc/certcontacts/certcontacts.conf'), 'removal (not purge) took the config');
  assert.ok(installed('var/lib/private/certcontacts/certcontacts.db'), 'removal (not purge) took the data');

  ok(dpkg('-P', 'certcontacts'), 'dpkg -P');
  for (const p of ['etc/certcontacts', 'var/lib/certcontacts', 'var/lib/private/certcontacts',
    'etc/systemd/system/multi-user.target.wants/certcontacts.service']) {
    assert.ok(!fs.existsSync(path.join(root, p)) && !isLink(path.join(root, p)), `${p} stayed after purge`);
  }
  assert.doesNotMatch(dpkg('-s', 'certcontacts').stdout, /^Status: .* installed$/m);
});

function isLink(p) {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
