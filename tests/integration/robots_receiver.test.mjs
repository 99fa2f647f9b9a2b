// robots_receiver.test.mjs — self-tests of the local DingTalk / Lark / WeCom robot
// receivers (lib/robots.mjs) alone, without certcontacts: the signatures with the
// spec's vectors and with the current time, every refusal with its code (HTTP 200,
// or 400 for Lark's rate limit), rate limits and DingTalk's block, size limits in
// UTF-8 bytes, keywords, and the test controls. Rate windows are shortened so the
// whole file runs in well under five seconds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startRobots, dingtalkSign, dingtalkSignedQuery, larkSign, larkSignedFields, LIMITS,
  dingtalkWebhookUrl, larkWebhookUrl, wecomWebhookUrl, robotId,
} from './lib/robots.mjs';

const DT_SECRET = 'SECtestsecret0123456789';
const DT_TS = 1700000000000;
const DT_SIGN = 'zrLWzK97t62y5CpqN8Ok9UIdPvX+jL1PNoW8nKT5a9k=';
const DT_SIGN_URL = 'zrLWzK97t62y5CpqN8Ok9UIdPvX%2BjL1PNoW8nKT5a9k%3D';
const LARK_SECRET = 'demo';
const LARK_TS = 1599360473;
const LARK_SIGN = 'l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=';

/** POST `body` (object → JSON, string/Buffer as is) to `url` exactly as written; agent-less. */
function post(url, body, { headers = {}, timeoutMs = 3000 } = {}) {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: u.hostname,
      port: u.port,
      method: 'POST',
      path: url.slice(url.indexOf('/', 'http://'.length)), // raw path+query, no re-encoding
      agent: false,
      headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': data.length, ...headers },
      timeout: timeoutMs,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(data);
  });
}

const dtText = (content, more = {}) => ({ msgtype: 'text', text: { content }, ...more });
const dtMd = (title, text, more = {}) => ({ msgtype: 'markdown', markdown: { title, text }, ...more });
const larkText = (text, more = {}) => ({ msg_type: 'text', content: { text }, ...more });
const wcText = (content, more = {}) => ({ msgtype: 'text', text: { content, ...more } });
const wcMd = (content) => ({ msgtype: 'markdown', markdown: { content } });

function assertCode(res, httpStatus, field, code, msgRe) {
  assert.equal(res.status, httpStatus, `HTTP status; body ${res.text}`);
  assert.ok(res.json, `JSON body: ${res.text}`);
  assert.equal(res.json[field], code, `${field}; body ${res.text}`);
  if (msgRe) assert.match(res.json[field === 'code' ? 'msg' : 'errmsg'], msgRe);
}
const dtIs = (res, code, msgRe) => assertCode(res, 200, 'errcode', code, msgRe);
const wcIs = (res, code, msgRe) => assertCode(res, 200, 'errcode', code, msgRe);
const larkIs = (res, code, msgRe, status = 200) => assertCode(res, status, 'code', code, msgRe);

let robots; // default clock and limits; rate tests give their robots short windows
let fixed; // clock window relaxed, for the spec's fixed-timestamp vectors

before(async () => {
  robots = await startRobots();
  fixed = await startRobots({ clockWindowMs: Infinity });
});

after(async () => {
  await robots?.stop();
  await fixed?.stop();
});

const dtUrl = (r, token, q = '') => `${r.url}/robot/send?access_token=${token}${q ? `&${q}` : ''}`;
const larkUrl = (r, id, prefix = '') => `${r.url}${prefix}/open-apis/bot/v2/hook/${id}`;
const wcUrl = (r, k) => `${r.url}/cgi-bin/webhook/send?key=${k}`;

// ------------------------------------------------------------------ signatures

test('signature arithmetic matches the spec vectors', () => {
  assert.equal(dingtalkSign(DT_SECRET, DT_TS), DT_SIGN);
  assert.equal(dingtalkSignedQuery(DT_SECRET, DT_TS), `timestamp=${DT_TS}&sign=${DT_SIGN_URL}`);
  assert.equal(larkSign(LARK_SECRET, LARK_TS), LARK_SIGN);
  assert.equal(larkSign(DT_SECRET, 1700000000), 'P5ztu8hdWkPL63034kyAa0q2+9oUqMQS6U0IhqJQ4MM=');
  assert.deepEqual(larkSignedFields(LARK_SECRET, LARK_TS), { timestamp: '1599360473', sign: LARK_SIGN });
  assert.equal(dingtalkWebhookUrl('abc'), 'https://oapi.dingtalk.com/robot/send?access_token=abc');
  assert.equal(larkWebhookUrl('x-1'), 'https://open.feishu.cn/open-apis/bot/v2/hook/x-1');
  assert.equal(larkWebhookUrl('x-1', 'lark'), 'https://open.larksuite.com/open-apis/bot/v2/hook/x-1');
  assert.equal(wecomWebhookUrl('k-1'), 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1');
});

test('DingTalk: the spec vector is accepted with the clock relaxed, refused with the real clock', async () => {
  const t = robotId('dingtalk');
  fixed.register('dingtalk', t, { secret: DT_SECRET });
  robots.register('dingtalk', t, { secret: DT_SECRET });
  const body = dtText('certificate expiring');
  dtIs(await post(dtUrl(fixed, t, `timestamp=${DT_TS}&sign=${DT_SIGN_URL}`), body), 0, /^ok$/);
  // '+' not encoded: decoded once it becomes a space, as the real platform sees it.
  dtIs(await post(dtUrl(fixed, t, `timestamp=${DT_TS}&sign=${DT_SIGN}`), body), 310000, /^sign not match$/);
  // Encoded twice: decoded once it is still "%2B".
  dtIs(await post(dtUrl(fixed, t, `timestamp=${DT_TS}&sign=${encodeURIComponent(DT_SIGN_URL)}`), body), 310000, /^sign not match$/);
  // Timestamp changed by 1 ms: the signature no longer matches.
  dtIs(await post(dtUrl(fixed, t, `timestamp=${DT_TS + 1}&sign=${DT_SIGN_URL}`), body), 310000, /^sign not match$/);
  dtIs(await post(dtUrl(robots, t, `timestamp=${DT_TS}&sign=${DT_SIGN_URL}`), body), 310000, /^invalid timestamp$/);
  assert.equal(fixed.messages('dingtalk', t).length, 1);
  assert.equal(robots.messages('dingtalk', t).length, 0);
});

test('Lark: the spec vector is accepted with the clock relaxed, refused with the real clock', async () => {
  const id = robotId('lark');
  fixed.register('lark', id, { secret: LARK_SECRET });
  robots.register('feishu', id, { secret: LARK_SECRET }); // 'feishu' is an alias of 'lark'
  const body = larkText('certificate expiring', { timestamp: String(LARK_TS), sign: LARK_SIGN });
  larkIs(await post(larkUrl(fixed, id), body), 0, /^success$/);
  assert.deepEqual((await post(larkUrl(fixed, id), body)).json, { code: 0, msg: 'success', data: {} });
  larkIs(await post(larkUrl(fixed, id), { ...body, timestamp: LARK_TS }), 19021); // a number, not a string
  larkIs(await post(larkUrl(fixed, id), { ...body, timestamp: String(LARK_TS + 1) }), 19021);
  larkIs(await post(larkUrl(robots, id), body), 19021,
    /^sign match fail or timestamp is not within one hour from current time$/);
  assert.equal(fixed.messages('lark', id).length, 2);
  assert.equal(robots.messages('feishu', id).length, 0);
});

test('DingTalk: live signing with the current time; stale, future and seconds timestamps refused', async () => {
  const t = robots.register('dingtalk', null, { secret: DT_SECRET });
  const body = dtMd('certificate', '### certificate example.com expires in 7 days');
  dtIs(await post(dtUrl(robots, t, dingtalkSignedQuery(DT_SECRET)), body), 0);
  const old = Date.now() - LIMITS.clockWindowMs - 60000;
  dtIs(await post(dtUrl(robots, t, dingtalkSignedQuery(DT_SECRET, old)), body), 310000, /^invalid timestamp$/);
  const future = Date.now() + LIMITS.clockWindowMs + 60000;
  dtIs(await post(dtUrl(robots, t, dingtalkSignedQuery(DT_SECRET, future)), body), 310000, /^invalid timestamp$/);
  const secs = Math.floor(Date.now() / 1000);
  dtIs(await post(dtUrl(robots, t, dingtalkSignedQuery(DT_SECRET, secs)), body), 310000, /^invalid timestamp$/);
  dtIs(await post(dtUrl(robots, t), body), 310000, /^invalid timestamp$/); // no timestamp/sign at all
  dtIs(await post(dtUrl(robots, t, dingtalkSignedQuery('SECwrong')), body), 310000, /^sign not match$/);
  const near = Date.now() - LIMITS.clockWindowMs + 60000; // 59 minutes old: still inside
  dtIs(await post(dtUrl(robots, t, dingtalkSignedQuery(DT_SECRET, near)), body), 0);
  const shown = robots.messages('dingtalk', t);
  assert.equal(shown.length, 2);
  assert.equal(shown[0].msgtype, 'markdown');
  assert.equal(shown[0].title, 'certificate');
  assert.equal(shown[0].query.access_token, t);
  assert.ok(shown[0].query.sign && shown[0].query.timestamp);
  assert.equal(robots.rejected('dingtalk', t).length, 5);
});

test('Lark: live signing with the current time; stale and millisecond timestamps refused', async () => {
  const id = robots.register('lark', null, { secret: DT_SECRET });
  larkIs(await post(larkUrl(robots, id), larkText('certificate ok', larkSignedFields(DT_SECRET))), 0);
  const old = Math.floor(Date.now() / 1000) - 3700;
  larkIs(await post(larkUrl(robots, id), larkText('certificate', larkSignedFields(DT_SECRET, old))), 19021);
  larkIs(await post(larkUrl(robots, id), larkText('certificate', larkSignedFields(DT_SECRET, Date.now()))), 19021);
  larkIs(await post(larkUrl(robots, id), larkText('certificate')), 19021);
  larkIs(await post(larkUrl(robots, id), larkText('certificate', larkSignedFields('other'))), 19021);
  assert.equal(robots.messages('lark', id).length, 1);
});

// ------------------------------------------------------------------ DingTalk

test('DingTalk: every refusal is HTTP 200 with the code', async () => {
  dtIs(await post(dtUrl(robots, 'nosuchtoken'), dtText('certificate')), 300001, /^token is not exist$/);
  const t = robots.register('dingtalk', null, { keywords: ['certificate', '证书'] });
  dtIs(await post(dtUrl(robots, t), dtText('no keyword here')), 310000, /^keywords not in content$/);
  dtIs(await post(dtUrl(robots, t), dtText('证书即将过期')), 0);
  dtIs(await post(dtUrl(robots, t), dtMd('certificate', 'title only has it')), 310000, /^keywords not in content$/);
  dtIs(await post(dtUrl(robots, t), dtText('Certificate')), 310000); // case-sensitive
  dtIs(await post(dtUrl(robots, t), { msgtype: 'markdown', markdown: { text: 'certificate' } }), 40035);
  dtIs(await post(dtUrl(robots, t), { msgtype: 'markdown', markdown: { title: 'certificate' } }), 40035);
  dtIs(await post(dtUrl(robots, t), { msgtype: 'link', link: { text: 'certificate' } }), 40035);
  dtIs(await post(dtUrl(robots, t), { text: { content: 'certificate' } }), 40035);
  dtIs(await post(dtUrl(robots, t), 'certificate, not json'), 40035);
  dtIs(await post(dtUrl(robots, t), dtText('certificate'), { headers: { 'content-type': 'text/plain' } }), 43004);
  robots.update('dingtalk', t, { disabled: true });
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 400102);
  robots.update('dingtalk', t, { disabled: false, removed: true });
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 400106);
  robots.update('dingtalk', t, { removed: false, dissolved: true });
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 400013);
  robots.update('dingtalk', t, { dissolved: false, ipAllow: false });
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 310000, /whitelist/);
  robots.update('dingtalk', t, { ipAllow: ['127.0.0.1'] });
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 0);
  robots.unregister('dingtalk', t);
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 300001);
  const all = robots.received('dingtalk', t);
  assert.ok(all.every((r) => r.status === 200));
  assert.equal(robots.messages('dingtalk', t).length, 2);
});

test('DingTalk: the body limit is 20000 bytes, counted in UTF-8, Chinese included', async () => {
  const t = robots.register('dingtalk', null, { keywords: ['证书'] });
  const frame = (s) => JSON.stringify(dtText(s));
  const base = Buffer.byteLength(frame('证书'));
  // Fill with 3-byte characters, then pad with ASCII to exactly 20000 bytes.
  const room = LIMITS.dingtalkBodyBytes - base;
  const cjk = '书'.repeat(Math.floor(room / 3));
  const fill = `证书${cjk}${'x'.repeat(room - cjk.length * 3)}`;
  const exact = frame(fill);
  assert.equal(Buffer.byteLength(exact), 20000);
  assert.ok(exact.length < 8000, 'far fewer characters than bytes');
  dtIs(await post(dtUrl(robots, t), exact), 0);
  dtIs(await post(dtUrl(robots, t), frame(`${fill}x`)), 460101);
  dtIs(await post(dtUrl(robots, t), frame(`${fill}书`)), 460101);
  assert.equal(robots.messages('dingtalk', t)[0].bytes, 20000);
});

test('DingTalk: msgUuid retries are accepted but shown once; mentions need @mobile in markdown', async () => {
  const t = robots.register('dingtalk', null, {});
  const a = dtMd('certificate', 'certificate @13800138000', { msgUuid: 'n-1-a', at: { atMobiles: ['13800138000', '13900139000'] } });
  dtIs(await post(dtUrl(robots, t), a), 0);
  dtIs(await post(dtUrl(robots, t), a), 0);
  dtIs(await post(dtUrl(robots, t), { ...a, msgUuid: 'n-2-a' }), 0);
  dtIs(await post(dtUrl(robots, t), dtText('certificate', { at: { atMobiles: ['13900139000'] } })), 0);
  const shown = robots.messages('dingtalk', t);
  assert.equal(shown.length, 3);
  assert.deepEqual(shown.map((m) => m.msgUuid), ['n-1-a', 'n-2-a', null]);
  assert.deepEqual(shown[0].mentions, ['13800138000']);
  assert.deepEqual(shown[0].atMobiles, ['13800138000', '13900139000']);
  assert.deepEqual(shown[2].mentions, ['13900139000']);
  const dups = robots.duplicates('dingtalk', t);
  assert.equal(dups.length, 1);
  assert.equal(dups[0].msgUuid, 'n-1-a');
  assert.equal(dups[0].accepted, true);
});

test('DingTalk: over the rate the robot answers 130101 and stays blocked for blockMs', async () => {
  const t = robots.register('dingtalk', null, { rate: { perMinute: 3, windowMs: 400, blockMs: 300 } });
  for (let i = 0; i < 3; i += 1) dtIs(await post(dtUrl(robots, t), dtText(`certificate ${i}`)), 0);
  dtIs(await post(dtUrl(robots, t), dtText('certificate 3')), 130101, /send too fast/);
  assert.ok(robots.isBlocked('dingtalk', t));
  dtIs(await post(dtUrl(robots, t), dtText('certificate 4')), 130101);
  // Refusals other than the rate are still reported first.
  dtIs(await post(dtUrl(robots, t, 'x=1'), 'not json'), 40035);
  await new Promise((r) => setTimeout(r, 320));
  assert.ok(!robots.isBlocked('dingtalk', t));
  dtIs(await post(dtUrl(robots, t), dtText('certificate 5')), 0);
  assert.equal(robots.messages('dingtalk', t).length, 4);
});

// ------------------------------------------------------------------ Lark

test('Lark: refusals, shapes, keywords, prefix and host recorded', async () => {
  larkIs(await post(larkUrl(robots, 'no-such-hook'), larkText('certificate')), 19001, /token invalid/);
  const id = robots.register('lark', null, { keywords: ['certificate'] });
  larkIs(await post(larkUrl(robots, id), larkText('nothing')), 19024, /^Key Words Not Found$/);
  larkIs(await post(larkUrl(robots, id, '/feishu'), larkText('certificate a')), 0);
  const postMsg = {
    msg_type: 'post',
    content: { post: { zh_cn: { title: '证书到期', content: [[{ tag: 'text', text: 'certificate b' }, { tag: 'a', text: 'x', href: 'https://e' }]] } } },
  };
  larkIs(await post(larkUrl(robots, id, '/lark'), postMsg), 0);
  const card = { msg_type: 'interactive', card: { header: { title: { tag: 'plain_text', content: 'certificate c' } }, elements: [] } };
  larkIs(await post(larkUrl(robots, id), card), 0);
  larkIs(await post(larkUrl(robots, id), { msg_type: 'interactive', content: { card: {} } }), 9499, /Bad Request/);
  larkIs(await post(larkUrl(robots, id), { msg_type: 'post', content: { post: { zh_cn: { content: [{ tag: 'text' }] } } } }), 9499);
  larkIs(await post(larkUrl(robots, id), { msg_type: 'markdown', content: { text: 'certificate' } }), 9499);
  larkIs(await post(larkUrl(robots, id), { msg_type: 'text', content: {} }), 9499);
  larkIs(await post(larkUrl(robots, id), 'not json'), 9499, /Bad Request/, 400);
  robots.update('lark', id, { disabled: true });
  larkIs(await post(larkUrl(robots, id), larkText('certificate')), 19007);
  robots.update('lark', id, { disabled: false, ipAllow: false });
  larkIs(await post(larkUrl(robots, id), larkText('certificate')), 19022);
  robots.update('lark', id, { ipAllow: true, successStyle: 'legacy' });
  const legacy = await post(larkUrl(robots, id), larkText('certificate d'));
  assert.deepEqual(legacy.json, { Extra: null, StatusCode: 0, StatusMessage: 'success' });
  const shown = robots.messages('lark', id);
  assert.deepEqual(shown.map((m) => m.msgtype), ['text', 'post', 'interactive', 'text']);
  assert.deepEqual(shown.map((m) => m.prefix), ['/feishu', '/lark', '', '']);
  assert.equal(shown[1].title, '证书到期');
  assert.equal(shown[2].title, 'certificate c');
  assert.match(shown[0].host, /^127\.0\.0\.1:\d+$/);
});

test('Lark: the body limit is 20 KB in UTF-8 bytes', async () => {
  const id = robots.register('lark', null, {});
  const base = Buffer.byteLength(JSON.stringify(larkText('')));
  const room = LIMITS.larkBodyBytes - base;
  const cjk = '证'.repeat(Math.floor(room / 3));
  const fill = cjk + 'y'.repeat(room - cjk.length * 3);
  const exact = JSON.stringify(larkText(fill));
  assert.equal(Buffer.byteLength(exact), 20480);
  larkIs(await post(larkUrl(robots, id), exact), 0);
  larkIs(await post(larkUrl(robots, id), JSON.stringify(larkText(`${fill}y`))), 19036);
});

test('Lark: rate limits per second and per minute answer HTTP 400 with 9499 "too many request"', async () => {
  const id = robots.register('lark', null, { rate: { perSecond: 2, secondMs: 150, perMinute: 4, minuteMs: 500 } });
  larkIs(await post(larkUrl(robots, id), larkText('certificate 1')), 0);
  larkIs(await post(larkUrl(robots, id), larkText('certificate 2')), 0);
  larkIs(await post(larkUrl(robots, id), larkText('certificate 3')), 9499, /^too many request$/, 400);
  await new Promise((r) => setTimeout(r, 170));
  larkIs(await post(larkUrl(robots, id), larkText('certificate 4')), 0);
  larkIs(await post(larkUrl(robots, id), larkText('certificate 5')), 0);
  await new Promise((r) => setTimeout(r, 170));
  larkIs(await post(larkUrl(robots, id), larkText('certificate 6')), 9499, /^too many request$/, 400); // minute window
  assert.equal(robots.messages('lark', id).length, 4);

  const other = await startRobots({ larkRate: { perSecond: 1, secondMs: 1000, code: 11232 } });
  try {
    const id2 = other.register('lark', null, {});
    larkIs(await post(larkUrl(other, id2), larkText('certificate')), 0);
    larkIs(await post(larkUrl(other, id2), larkText('certificate')), 11232, null, 400);
  } finally {
    await other.stop();
  }
});

// ------------------------------------------------------------------ WeCom

test('WeCom: unknown key, removed, disabled, empty content, wrong type', async () => {
  wcIs(await post(wcUrl(robots, 'nokey'), wcText('certificate')), 93000, /^invalid webhook url, hint: \[.*\], from ip: 127\.0\.0\.1, more info at https:\/\/open\.work\.weixin\.qq\.com\/devtool\/query\?e=93000$/);
  const k = robots.register('wecom', null, {});
  wcIs(await post(wcUrl(robots, k), wcText('')), 44004, /^empty content/);
  wcIs(await post(wcUrl(robots, k), wcMd('')), 44004);
  wcIs(await post(wcUrl(robots, k), { msgtype: 'markdown', markdown: {} }), 44004);
  wcIs(await post(wcUrl(robots, k), { msgtype: 'news', news: {} }), 40008);
  wcIs(await post(wcUrl(robots, k), wcText('certificate', { mentioned_mobile_list: ['13800138000'] })), 0, /^ok$/);
  const md = { msgtype: 'markdown', markdown: { content: 'certificate', mentioned_mobile_list: ['13800138000'] } };
  wcIs(await post(wcUrl(robots, k), md), 0);
  const shown = robots.messages('wecom', k);
  assert.deepEqual(shown[0].mentions, ['13800138000']);
  assert.deepEqual(shown[1].mentions, []); // ignored outside text messages
  assert.deepEqual(shown[1].ignoredMentions, ['13800138000']);
  robots.update('wecom', k, { disabled: true });
  wcIs(await post(wcUrl(robots, k), wcText('certificate')), 93004);
  robots.update('wecom', k, { disabled: false, removed: true });
  wcIs(await post(wcUrl(robots, k), wcText('certificate')), 93000);
  assert.ok(robots.received('wecom', k).every((r) => r.status === 200));
});

test('WeCom: text ≤ 2048 and markdown ≤ 4096 UTF-8 bytes of content (40058)', async () => {
  const k = robots.register('wecom', null, {});
  const zh = (bytes) => '证'.repeat(Math.floor(bytes / 3)) + 'a'.repeat(bytes % 3);
  assert.equal(Buffer.byteLength(zh(2048)), 2048);
  wcIs(await post(wcUrl(robots, k), wcText(zh(2048))), 0);
  wcIs(await post(wcUrl(robots, k), wcText(zh(2049))), 40058, /text\.content exceed max length 2048/);
  wcIs(await post(wcUrl(robots, k), wcText(`${zh(2046)}书`)), 40058); // 2049 bytes, 684 characters
  wcIs(await post(wcUrl(robots, k), wcMd(zh(4096))), 0);
  wcIs(await post(wcUrl(robots, k), wcMd(zh(4097))), 40058, /markdown\.content exceed max length 4096/);
  assert.deepEqual(robots.messages('wecom', k).map((m) => Buffer.byteLength(m.text)), [2048, 4096]);
});

test('WeCom: rate limit answers 45009 until the window passes', async () => {
  const k = robots.register('wecom', null, { rate: { perMinute: 3, windowMs: 300 } });
  for (let i = 0; i < 3; i += 1) wcIs(await post(wcUrl(robots, k), wcText(`certificate ${i}`)), 0);
  wcIs(await post(wcUrl(robots, k), wcText('certificate 3')), 45009, /^api freq out of limit/);
  await new Promise((r) => setTimeout(r, 320));
  wcIs(await post(wcUrl(robots, k), wcText('certificate 4')), 0);
});

// ------------------------------------------------------------------ controls

test('failNext: forced codes, HTTP 500, non-JSON, delay, counts, wildcard, accept', async () => {
  const t = robots.register('dingtalk', null, {});
  robots.failNext('dingtalk', t, { errcode: 130101 }, 2);
  assert.equal(robots.pendingFailures('dingtalk', t), 2);
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 130101, /send too fast/);
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 130101);
  dtIs(await post(dtUrl(robots, t), dtText('certificate')), 0);

  robots.failNext('dingtalk', t, { http: 500 });
  const r500 = await post(dtUrl(robots, t), dtText('certificate'));
  assert.equal(r500.status, 500);
  assert.equal(r500.json, null);

  robots.failNext('dingtalk', t, { body: 'not json' });
  const nj = await post(dtUrl(robots, t), dtText('certificate'));
  assert.equal(nj.status, 200);
  assert.equal(nj.text, 'not json');

  robots.failNext('dingtalk', t, { body: { ok: true } });
  assert.deepEqual((await post(dtUrl(robots, t), dtText('certificate'))).json, { ok: true });

  robots.failNext('dingtalk', t, { delayMs: 150 });
  const t0 = Date.now();
  dtIs(await post(dtUrl(robots, t), dtText('certificate slow')), 0);
  assert.ok(Date.now() - t0 >= 140);

  // The reply is lost but the group shows the message: a retry with the msgUuid is a duplicate.
  robots.failNext('dingtalk', t, { accept: true, http: 502 });
  const lost = await post(dtUrl(robots, t), dtText('certificate', { msgUuid: 'lost-1' }));
  assert.equal(lost.status, 502);
  dtIs(await post(dtUrl(robots, t), dtText('certificate', { msgUuid: 'lost-1' })), 0);
  assert.equal(robots.duplicates('dingtalk', t).length, 1);

  robots.failNext('dingtalk', t, { destroy: true });
  await assert.rejects(post(dtUrl(robots, t), dtText('certificate')));

  robots.failNext('dingtalk', t, { hang: true });
  await assert.rejects(post(dtUrl(robots, t), dtText('certificate'), { timeoutMs: 150 }), /client timeout/);

  // Wildcard: the next answer of any Lark bot; Lark's 9499 comes with HTTP 400 by default.
  const id = robots.register('lark', null, {});
  robots.failNext('lark', '*', { code: 9499 });
  larkIs(await post(larkUrl(robots, id), larkText('certificate')), 9499, /^too many request$/, 400);
  robots.failNext('lark', id, { errcode: 19021 });
  larkIs(await post(larkUrl(robots, id), larkText('certificate')), 19021, /^sign match fail/);
  larkIs(await post(larkUrl(robots, id), larkText('certificate')), 0);

  const k = robots.register('wecom', null, {});
  robots.failNext('wecom', k, { errcode: -1 });
  wcIs(await post(wcUrl(robots, k), wcText('certificate')), -1, /^system busy/);

  // Forced answers are not shown in the group (except with accept).
  assert.deepEqual(robots.messages('dingtalk', t).map((m) => m.text), ['certificate', 'certificate slow', 'certificate']);
  const forced = robots.received('dingtalk', t).filter((r) => r.forced);
  assert.equal(forced.length, 9);
  robots.failNext('wecom', k, { errcode: 45009 }, 5);
  robots.clearFailures('wecom');
  assert.equal(robots.pendingFailures('wecom', k), 0);
});

test('records, waitFor, mark, reset, env', async () => {
  const t = robots.register('dingtalk', null, { secret: DT_SECRET });
  const mark = robots.mark();
  const sending = (async () => {
    await new Promise((r) => setTimeout(r, 50));
    await post(dtUrl(robots, t, dingtalkSignedQuery(DT_SECRET)), dtText('certificate 证书'));
    await post(dtUrl(robots, t, dingtalkSignedQuery(DT_SECRET)), dtText('certificate two'));
  })();
  const got = await robots.waitFor('dingtalk', t, 2, { timeoutMs: 2000, after: mark });
  await sending;
  assert.equal(got.length, 2);
  const m = got[0];
  assert.equal(m.platform, 'dingtalk');
  assert.equal(m.id, t);
  assert.equal(m.method, 'POST');
  assert.equal(m.path, '/robot/send');
  assert.equal(m.text, 'certificate 证书');
  assert.deepEqual(m.body, dtText('certificate 证书'));
  assert.match(m.headers['content-type'], /^application\/json/);
  assert.equal(typeof m.at, 'number');
  assert.ok(m.answeredAt >= m.at);
  assert.deepEqual(m.reply, { errcode: 0, errmsg: 'ok' });
  assert.equal(m.code, 0);

  const t0 = Date.now();
  await assert.rejects(robots.waitFor('dingtalk', t, 3, { timeoutMs: 100, after: mark }), /timed out.*received so far/s);
  assert.ok(Date.now() - t0 < 1000);
  await post(dtUrl(robots, t), dtText('x'));
  const reqs = await robots.waitForRequests('dingtalk', t, 3, { after: mark });
  assert.equal(reqs[2].code, 310000);

  const unknown = await post(`${robots.url}/nothing/here`, {});
  assert.equal(unknown.status, 404);
  assert.equal(robots.received('unknown').at(-1).path, '/nothing/here');

  const env = robots.env();
  for (const name of ['DINGTALK', 'FEISHU', 'LARK', 'WECOM']) assert.equal(env[`CERTCONTACTS_${name}_BASE_URL`], robots.url);
  assert.equal(robots.localUrl('wecom', 'k'), `${robots.url}/cgi-bin/webhook/send?key=k`);

  robots.reset();
  assert.equal(robots.received().length, 0);
  assert.ok(robots.robot('dingtalk', t), 'robots stay registered');
  robots.reset({ robots: true });
  assert.equal(robots.robot('dingtalk', t), undefined);
});

test('robots can be registered at start and the clock injected', async () => {
  let now = DT_TS;
  const r = await startRobots({
    now: () => now,
    robots: {
      dingtalk: { tok: { secret: DT_SECRET } },
      feishu: { hook: { secret: LARK_SECRET } },
      wecom: { key1: {} },
    },
  });
  try {
    dtIs(await post(dtUrl(r, 'tok', `timestamp=${DT_TS}&sign=${DT_SIGN_URL}`), dtText('certificate')), 0);
    now = DT_TS + LIMITS.clockWindowMs + 1;
    dtIs(await post(dtUrl(r, 'tok', `timestamp=${DT_TS}&sign=${DT_SIGN_URL}`), dtText('certificate')), 310000, /invalid timestamp/);
    now = LARK_TS * 1000 + 5000;
    larkIs(await post(larkUrl(r, 'hook'), larkText('certificate', { timestamp: String(LARK_TS), sign: LARK_SIGN })), 0);
    wcIs(await post(wcUrl(r, 'key1'), wcText('certificate')), 0);
  } finally {
    await r.stop();
  }
});
