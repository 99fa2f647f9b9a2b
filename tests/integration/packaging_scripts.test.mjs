// packaging_scripts.test.mjs — the Debian package's maintainer scripts
// (packaging/debian/) do what debhelper's would with systemd running: start
// the service on a new installation, restart it on an upgrade only if it
// was running (the new release migrates the database as it starts), stop it
// on removal and not on an upgrade; and nothing of that without systemd.
// systemctl, deb-systemd-invoke and deb-systemd-helper are stand-ins that
// record their calls; "systemd running" is a /run/systemd/system made in a
// private mount namespace (unshare, as root), so this system is untouched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, removeDir } from './lib/harness.mjs';

const SCRIPTS = path.join(ROOT, 'packaging/debian');

function setup(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cc-maint-'));
  t.after(() => removeDir(dir));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const cmd of ['systemctl', 'deb-systemd-invoke', 'deb-systemd-helper']) {
    // is-active answers as $ACTIVE says (0: running, 3: not)
    fs.writeFileSync(path.join(bin, cmd),
      `#!/bin/sh\necho "${cmd} $*" >> "$CALLS"\ncase "$*" in *is-active*) exit "\${ACTIVE:-3}";; esac\nexit 0\n`,
      { mode: 0o755 });
  }
  return { dir, bin, calls: path.join(dir, 'calls') };
}

/** Runs one maintainer script; systemd "runs" when withSystemd. Returns the calls made. */
function script(env, name, args, { withSystemd = true, active = false, dpkgRoot = '' } = {}) {
  fs.rmSync(env.calls, { force: true });
  const cmd = withSystemd
    ? 'mount -t tmpfs tmpfs /run && mkdir -p /run/systemd/system && exec sh "$@"'
    : 'exec sh "$@"';
  const argv = withSystemd
    ? ['-m', '--propagation', 'private', 'sh', '-c', cmd, 'sh', path.join(SCRIPTS, name), ...args]
    : ['-c', cmd, 'sh', path.join(SCRIPTS, name), ...args];
  const r = spawnSync(withSystemd ? 'unshare' : 'sh', argv, {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${env.bin}:${process.env.PATH}`, CALLS: env.calls, ACTIVE: active ? '0' : '3', DPKG_ROOT: dpkgRoot },
    timeout: 20000,
  });
  assert.equal(r.status, 0, `${name} ${args.join(' ')}: ${r.stderr}${r.error || ''}`);
  return fs.existsSync(env.calls) ? fs.readFileSync(env.calls, 'utf8').trim().split('\n').filter(Boolean) : [];
}

function canUnshare() {
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
  return r.status === 0;
}

test('with systemd running: start on install, restart a running service on upgrade, stop on removal', (t) => {
  if (!canUnshare()) return t.skip('unshare -m is not allowed here (needs root): systemd cannot be simulated');
  const env = setup(t);
  const invokes = (calls) => calls.filter((c) => c.startsWith('deb-systemd-invoke') || c.includes('is-active'));

  // a new installation: enabled and started
  let calls = script(env, 'postinst', ['configure']);
  assert.ok(calls.includes('deb-systemd-helper enable certcontacts.service'), calls.join('\n'));
  assert.ok(calls.includes('systemctl --system daemon-reload'), calls.join('\n'));
  assert.deepEqual(invokes(calls), ['deb-systemd-invoke start certcontacts.service']);

  // an upgrade of a running service: restarted (and so migrated)
  calls = script(env, 'postinst', ['configure', '0.0.9'], { active: true });
  assert.deepEqual(invokes(calls), ['systemctl --quiet is-active certcontacts.service',
    'deb-systemd-invoke restart certcontacts.service']);
  // an upgrade of a stopped service: left stopped
  calls = script(env, 'postinst', ['configure', '0.0.9'], { active: false });
  assert.deepEqual(invokes(calls), ['systemctl --quiet is-active certcontacts.service']);

  // removal stops it; an upgrade's prerm does not
  assert.deepEqual(script(env, 'prerm', ['remove']), ['deb-systemd-invoke stop certcontacts.service']);
  assert.deepEqual(script(env, 'prerm', ['upgrade', '0.2.0']), []);
  calls = script(env, 'postrm', ['remove']);
  assert.ok(calls.includes('deb-systemd-helper mask certcontacts.service'), calls.join('\n'));
  calls = script(env, 'postrm', ['purge']);
  assert.ok(calls.includes('deb-systemd-helper purge certcontacts.service'), calls.join('\n'));
});

test('without systemd (a container, a chroot) the scripts start and stop nothing', (t) => {
  const env = setup(t);
  for (const [name, args] of [['postinst', ['configure']], ['postinst', ['configure', '0.0.9']], ['prerm', ['remove']]]) {
    const calls = script(env, name, args, { withSystemd: false, active: true });
    assert.deepEqual(calls.filter((c) => !c.startsWith('deb-systemd-helper ')), [], `${name} ${args}: ${calls}`);
  }
});

test('purge deletes the configuration and the data under DPKG_ROOT only', (t) => {
  const env = setup(t);
  const root = path.join(env.dir, 'root');
  fs.mkdirSync(path.join(root, 'etc/certcontacts'), { recursive: true });
  fs.writeFileSync(path.join(root, 'etc/certcontacts/certcontacts.conf'), 'threads = 2\n');
  fs.mkdirSync(path.join(root, 'var/lib/private/certcontacts'), { recursive: true });
  fs.writeFileSync(path.join(root, 'var/lib/private/certcontacts/master.key'), 'k');
  fs.symlinkSync('private/certcontacts', path.join(root, 'var/lib/certcontacts'));
  script(env, 'postrm', ['remove'], { withSystemd: false, dpkgRoot: root });
  assert.ok(fs.existsSync(path.join(root, 'var/lib/private/certcontacts/master.key')), 'remove took the data');
  assert.ok(fs.existsSync(path.join(root, 'etc/certcontacts/certcontacts.conf')), 'remove took the config');
  script(env, 'postrm', ['purge'], { withSystemd: false, dpkgRoot: root });
  assert.deepEqual(fs.readdirSync(path.join(root, 'etc')), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'var/lib/private')), []);
  assert.ok(!fs.existsSync(path.join(root, 'var/lib/certcontacts')) &&
    spawnSync('test', ['-L', path.join(root, 'var/lib/certcontacts')]).status !== 0);
});
