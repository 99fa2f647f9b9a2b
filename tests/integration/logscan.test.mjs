// logscan.test.mjs — the log scan (tests/logscan.mjs, run by tests/run.sh
// over every server log line the suite kept) finds what it must: a line
// that is not JSON, a full mobile, email, ID number, robot token or secret,
// also percent-encoded in a path, or in a line that is not JSON; and passes masked values and ordinary
// fields (request ids, times, durations).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { ROOT, makeDataDir, removeDir } from './lib/harness.mjs';

const dir = makeDataDir('cc-logscan-');
after(() => removeDir(dir));

function scan(lines) {
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true });
  fs.writeFileSync(path.join(dir, 'server-1.log'), lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tests/logscan.mjs'), dir], { encoding: 'utf8' });
  const failed = [...r.stdout.matchAll(/^not ok \d+ - (.*)$/gm)].map((m) => m[1]);
  return { status: r.status, failed, out: r.stdout };
}

const ok = [
  { time: '2026-12-02T21:39:26.391Z', level: 'info', msg: 'request', request_id: '59f34119-aca5-4d72-9374-b6c11c025768', method: 'GET', path: '/v1/contacts/12', status: 200, duration_ms: 3 },
  { msg: 'email (development mode: not sent)', to: 'zh****n@example.com', subject: 'code' },
  { msg: 'sms (development mode: not sent)', mobile: '+86 133****5678' },
  { msg: 'x', id_card: '1****************5', url: 'https://oapi.dingtalk.com/robot/send?access_token=abcd…wxyz' },
  { msg: 'request', path: '/v1/contacts/123456789012345678', status: 400 }, // 18 digits, not an ID number
];

test('clean JSON logs with masked values pass', () => {
  const r = scan(ok);
  assert.equal(r.status, 0, r.out);
});

test('each kind of leak fails its rule, and a line that is not JSON fails', () => {
  const cases = [
    ['every log line is one JSON object', ['{"msg":"a", "level":"info"} trailing']],
    ['no full mobile number in the logs', [{ msg: 'request', path: '/v1/contacts?keyword=13812345678' }]],
    ['no full mobile number in the logs', [{ msg: 'request', path: '/v1/contacts?keyword=%2B8613812345678' }]],
    ['no full email address in the logs', [{ msg: 'x', error: 'zhang.san@example.com already exists' }]],
    ['no full email address in the logs', [{ msg: 'request', path: '/v1/contacts?keyword=zhang.san%40example.com' }]],
    ['no ID number in the logs', [{ msg: 'x', detail: '11010519491231002X' }]],
    ['no robot token in the logs', [{ msg: 'x', url: 'https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef' }]],
    ['no secret in the logs', [{ msg: 'x', secret: 'SECding0001' }]],
    ['no secret in the logs', [{ msg: 'x', authorization: 'Basic Q0NhYmNkZWY6c2VjcmV0c2VjcmV0' }]],
  ];
  for (const [rule, lines] of cases) {
    const r = scan([...ok, ...lines]);
    assert.equal(r.status, 1, `${rule}: ${JSON.stringify(lines)} passed:\n${r.out}`);
    assert.deepEqual(r.failed, [rule], `${JSON.stringify(lines)}:\n${r.out}`);
  }
});

test('a line that is not JSON fails, and is scanned as text too', () => {
  assert.deepEqual(scan([...ok, 'certcontacts: database /x is damaged']).failed, ['every log line is one JSON object']);
  assert.deepEqual(scan([...ok, 'certcontacts: zhang.san@example.com']).failed.sort(), ['every log line is one JSON object', 'no full email address in the logs']);
});
