// robots.mjs — local stand-ins for the chat-bot webhooks certcontacts delivers to:
// the DingTalk custom robot, the Lark/Feishu custom bot and the WeCom group robot
// (wire formats, signing, codes and limits: ../shared/specs/chatbots-and-sms.md).
//
// One node:http server on 127.0.0.1 serves all three by path, so certcontacts
// can be started with
//   CERTCONTACTS_DINGTALK_BASE_URL = CERTCONTACTS_FEISHU_BASE_URL =
//   CERTCONTACTS_LARK_BASE_URL = CERTCONTACTS_WECOM_BASE_URL = robots.url
// (robots.env() gives that map) and keep the real URLs' path and query:
//   POST /robot/send?access_token=T[&timestamp=…&sign=…]   DingTalk
//   POST /open-apis/bot/v2/hook/ID                          Lark / Feishu
//   POST /cgi-bin/webhook/send?key=K                        WeCom
// Any path prefix before those is accepted and recorded (rec.prefix), as is the
// Host header (rec.host), so a test can tell a Feishu base URL from a Lark one.
//
// Like the real platforms, every refusal except Lark's rate limit (and a body
// Lark cannot parse) is HTTP 200 with an error code in the body. Everything is
// bounded: waits poll with deadlines, timers are cleared on stop().

import crypto from 'node:crypto';
import http from 'node:http';
import { waitFor as pollUntil } from './harness.mjs';

export const PLATFORMS = ['dingtalk', 'lark', 'wecom'];

export const LIMITS = Object.freeze({
  dingtalkBodyBytes: 20000, // whole body
  larkBodyBytes: 20 * 1024, // whole body, "20 KB"
  wecomTextBytes: 2048, // text.content, UTF-8 bytes
  wecomMarkdownBytes: 4096, // markdown.content, UTF-8 bytes
  clockWindowMs: 60 * 60 * 1000, // DingTalk and Lark timestamp window
});

const DEFAULT_RATES = Object.freeze({
  dingtalk: { perMinute: 20, windowMs: 60000, blockMs: 600000 },
  lark: { perSecond: 5, secondMs: 1000, perMinute: 100, minuteMs: 60000, code: 9499 },
  wecom: { perMinute: 20, windowMs: 60000 },
});

// Default messages for codes (used by the checks and by failNext({errcode}) without errmsg).
export const MESSAGES = Object.freeze({
  dingtalk: {
    0: 'ok',
    [-1]: '系统繁忙',
    300001: 'token is not exist',
    300005: 'token is not exist',
    400101: 'access_token不存在',
    400102: '机器人已停用',
    400106: '机器人不在群内',
    400013: '群已被解散',
    310000: 'keywords not in content',
    130101: 'send too fast, exceed 20 times per minute',
    410100: '发送速度太快而限流',
    460101: 'message too long, exceed 20000 bytes',
    430101: '含有不安全的外链',
    430102: '含有不合适的文本',
    430103: '含有不合适的图片',
    430104: '含有不合适的内容',
    40035: '缺少参数 json',
    43004: '无效的HTTP HEADER Content-Type',
  },
  lark: {
    0: 'success',
    9499: 'too many request',
    11232: 'frequency limited',
    19001: 'param invalid: incoming webhook access token invalid',
    19007: 'Bot Not Enabled',
    19021: 'sign match fail or timestamp is not within one hour from current time',
    19022: 'Ip Not Allowed',
    19024: 'Key Words Not Found',
    19036: 'message too large',
  },
  wecom: {
    0: 'ok',
    [-1]: 'system busy',
    93000: 'invalid webhook url',
    93004: 'webhook robot disabled',
    93008: 'not in the group',
    45009: 'api freq out of limit',
    40058: 'content exceed max length',
    44004: 'empty content',
    40008: 'invalid message type',
    40035: 'invalid parameter',
  },
});

// ------------------------------------------------------------------ signatures

/** DingTalk: base64(HMAC-SHA256(key = secret, data = `${tsMs}\n${secret}`)) — not URL-encoded. */
export function dingtalkSign(secret, timestampMs) {
  return crypto.createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** DingTalk: the query suffix `timestamp=…&sign=…` (sign URL-encoded once). */
export function dingtalkSignedQuery(secret, timestampMs = Date.now()) {
  return `timestamp=${timestampMs}&sign=${encodeURIComponent(dingtalkSign(secret, timestampMs))}`;
}

/** Lark/Feishu: base64(HMAC-SHA256(key = `${tsS}\n${secret}`, data = "")). */
export function larkSign(secret, timestampS) {
  return crypto.createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

/** Lark/Feishu: the body fields {timestamp (string, seconds), sign}. */
export function larkSignedFields(secret, timestampS = Math.floor(Date.now() / 1000)) {
  return { timestamp: String(timestampS), sign: larkSign(secret, timestampS) };
}

// ------------------------------------------------------------ real webhook URLs

/** The real DingTalk webhook URL for a token (what a contact's webhook is configured with). */
export function dingtalkWebhookUrl(token) {
  return `https://oapi.dingtalk.com/robot/send?access_token=${token}`;
}

/** The real Lark/Feishu webhook URL; flavor 'feishu' (open.feishu.cn) or 'lark' (open.larksuite.com). */
export function larkWebhookUrl(id, flavor = 'feishu') {
  const host = flavor === 'lark' ? 'open.larksuite.com' : 'open.feishu.cn';
  return `https://${host}/open-apis/bot/v2/hook/${id}`;
}

/** The real WeCom webhook URL for a key. */
export function wecomWebhookUrl(key) {
  return `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${key}`;
}

/** A random id/token/key of the kind each platform issues (letters, digits, '-'). */
export function robotId(platform) {
  switch (canonical(platform)) {
    case 'dingtalk': return crypto.randomBytes(32).toString('hex');
    case 'lark': return crypto.randomUUID();
    default: return crypto.randomUUID();
  }
}

// ----------------------------------------------------------------- helpers

function canonical(platform) {
  const p = String(platform).toLowerCase();
  if (p === 'feishu' || p === 'lark') return 'lark';
  if (p === 'dingtalk' || p === 'wecom') return p;
  throw new Error(`unknown platform ${platform} (dingtalk, lark/feishu, wecom)`);
}

const key = (platform, id) => `${platform}\n${id}`;

function utf8Bytes(s) {
  return Buffer.byteLength(String(s), 'utf8');
}

/** Every string value inside v, depth first (used for Lark keyword search). */
function stringsIn(v, out = []) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => stringsIn(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => stringsIn(x, out));
  return out;
}

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const nonEmptyString = (v) => typeof v === 'string' && v.length > 0;

function ipAllowed(allow, remote) {
  if (allow === undefined || allow === true || allow === null) return true;
  if (allow === false) return false;
  const ip = String(remote || '').replace(/^::ffff:/, '');
  return Array.isArray(allow) && allow.includes(ip);
}

function wecomHint(code, remote) {
  const ip = String(remote || '').replace(/^::ffff:/, '');
  const hint = `${Math.floor(Date.now() / 1000)}-${crypto.randomBytes(4).toString('hex')}`;
  return `, hint: [${hint}], from ip: ${ip}, more info at https://open.work.weixin.qq.com/devtool/query?e=${code}`;
}

const ANSWER_KEYS = ['errcode', 'code', 'http', 'body', 'hang', 'destroy'];

// ------------------------------------------------------------------- Robots

/**
 * The receivers (see startRobots() for the options). Each request is recorded as
 *   {seq, platform ('dingtalk'|'lark'|'wecom'|'unknown'), id, at (ms), method, url, path,
 *    prefix, host, query (decoded), rawQuery, headers, remote, raw (body text), bytes,
 *    body (parsed JSON or null), msgtype, title, text, mentions, atMobiles (DingTalk),
 *    ignoredMentions (WeCom markdown), msgUuid, status (HTTP, or 'hang'/'destroyed'),
 *    reply (object or string), code, errmsg, accepted, duplicate, forced (action or null),
 *    answeredAt}.
 */
export class Robots {
  constructor(opts = {}) {
    this.opts = opts;
    this.now = opts.now || (() => Date.now());
    this.clockWindowMs = opts.clockWindowMs ?? LIMITS.clockWindowMs;
    this.rates = {
      dingtalk: { ...DEFAULT_RATES.dingtalk, ...(opts.dingtalkRate || {}) },
      lark: { ...DEFAULT_RATES.lark, ...(opts.larkRate || {}) },
      wecom: { ...DEFAULT_RATES.wecom, ...(opts.wecomRate || {}) },
    };
    this.robots = new Map(); // key → {platform, id, opts, rate: {times: [], blockedUntil}, seenUuids: Set}
    this.forced = new Map(); // key (id or '*') → [action…]
    this.records = []; // every request, in arrival order
    this.connections = 0; // TCP connections accepted so far
    this.seq = 0;
    this.server = null;
    this.port = null;
    this.timers = new Set();
    this.hanging = new Set();
    for (const p of PLATFORMS) {
      const reg = (opts.robots && (opts.robots[p] || (p === 'lark' && opts.robots.feishu))) || {};
      for (const [id, o] of Object.entries(reg)) this.register(p, id, o);
    }
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The four base-URL settings for certcontacts, all pointing here. */
  env() {
    return {
      CERTCONTACTS_DINGTALK_BASE_URL: this.url,
      CERTCONTACTS_FEISHU_BASE_URL: this.url,
      CERTCONTACTS_LARK_BASE_URL: this.url,
      CERTCONTACTS_WECOM_BASE_URL: this.url,
    };
  }

  /** Local URL certcontacts will end up calling for a robot (no signature parameters). */
  localUrl(platform, id) {
    switch (canonical(platform)) {
      case 'dingtalk': return `${this.url}/robot/send?access_token=${id}`;
      case 'lark': return `${this.url}/open-apis/bot/v2/hook/${id}`;
      default: return `${this.url}/cgi-bin/webhook/send?key=${id}`;
    }
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        try {
          this.handle(req, Buffer.concat(chunks), res);
        } catch (e) {
          // A bug here must be visible, not a hung request.
          res.writeHead(599, { 'content-type': 'text/plain' });
          res.end(`robots.mjs internal error: ${e.stack}`);
        }
      });
    });
    // Idle connections kept as the platforms' own front ends keep them (a
    // minute or more), not Node's 5 s: a wait longer than that (DingTalk's
    // block, 6 s at 1%) would otherwise race the mock's close of the idle
    // connection against the robot's next request on it.
    this.server.keepAliveTimeout = 65000;
    this.server.on('connection', () => {
      this.connections++;
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port || 0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  async stop() {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const srv = this.server;
    this.server = null;
    if (!srv) return;
    srv.closeAllConnections?.();
    await new Promise((resolve) => srv.close(resolve));
  }

  // ---------------------------------------------------------------- controls

  /**
   * Register (or replace) a robot. Returns the id.
   *  dingtalk: {secret?, keywords?: [..], ipAllow?: false | [ip..], disabled?, removed?, dissolved?}
   *  lark:     {secret?, keywords?, ipAllow?, disabled?, successStyle?: 'code'|'legacy'|'both'}
   *  wecom:    {disabled?, removed?}
   *  all:      {rate?: (overrides the instance's dingtalkRate/larkRate/wecomRate fields),
   *             delayMs?: every answer delayed, hang?: never answer (the message is still shown),
   *             close?: read each whole request, then close the connection without an
   *             answer (recorded with status 'destroyed', never accepted)}
   *  id null/undefined: a random one is made (robotId()).
   */
  register(platform, id, opts = {}) {
    const p = canonical(platform);
    const rid = id ?? robotId(p);
    this.robots.set(key(p, rid), {
      platform: p, id: rid, opts: { ...opts }, rate: { times: [], secTimes: [], blockedUntil: 0 }, seenUuids: new Set(),
    });
    return rid;
  }

  /** Change some options of a registered robot (e.g. {disabled: true}); rate state is kept. */
  update(platform, id, patch) {
    const r = this.robots.get(key(canonical(platform), id));
    if (!r) throw new Error(`no ${platform} robot ${id}`);
    Object.assign(r.opts, patch);
    return r.opts;
  }

  unregister(platform, id) {
    return this.robots.delete(key(canonical(platform), id));
  }

  /** The robot's state: {platform, id, opts, blockedUntil} or undefined. */
  robot(platform, id) {
    const r = this.robots.get(key(canonical(platform), id));
    return r && { platform: r.platform, id: r.id, opts: { ...r.opts }, blockedUntil: r.rate.blockedUntil };
  }

  /** DingTalk: is the robot in its 10-minute (blockMs) block? */
  isBlocked(platform, id) {
    const r = this.robots.get(key(canonical(platform), id));
    return !!r && r.rate.blockedUntil > this.now();
  }

  /**
   * Force the next `count` answers of robot `id` (or of any robot of the platform: id '*').
   * action:
   *   {errcode, errmsg?, http?}  the platform's error body (Lark: {code, msg, data}; `code` also accepted)
   *   {http: 500, body?}          that HTTP status, with `body` (string or object) or a short text
   *   {body: 'not json', http?}   that raw body (HTTP 200 unless http given)
   *   {hang: true}                never answer (until stop())
   *   {destroy: true}             close the connection without an answer
   *   {delayMs}                   delay the answer; alone, the request is processed normally first
   *   {accept: true, …}           process (and record as accepted) normally, then answer as forced
   * A forced answer without `accept` is not checked and not recorded as accepted.
   */
  failNext(platform, id, action, count = 1) {
    const k = key(canonical(platform), id ?? '*');
    const q = this.forced.get(k) || [];
    for (let i = 0; i < count; i += 1) q.push({ ...action });
    this.forced.set(k, q);
  }

  /** Drop forced answers (all, of a platform, or of one robot). */
  clearFailures(platform, id) {
    if (!platform) this.forced.clear();
    else if (id === undefined) {
      const p = canonical(platform);
      for (const k of [...this.forced.keys()]) if (k.startsWith(`${p}\n`)) this.forced.delete(k);
    } else this.forced.delete(key(canonical(platform), id));
  }

  /** Forced answers still queued for a robot (or '*'). */
  pendingFailures(platform, id) {
    return (this.forced.get(key(canonical(platform), id ?? '*')) || []).length;
  }

  /** Forget received requests, rate windows, blocks, seen msgUuids and forced answers;
   *  with {robots: true} also unregister every robot. */
  reset({ robots = false } = {}) {
    this.records = [];
    this.forced.clear();
    if (robots) this.robots.clear();
    for (const r of this.robots.values()) {
      r.rate = { times: [], secTimes: [], blockedUntil: 0 };
      r.seenUuids.clear();
    }
  }

  /** The current sequence number: pass as {after} to see only later requests. */
  mark() {
    return this.seq;
  }

  /** Every request received (accepted or not), optionally for one platform / robot, after a mark. */
  received(platform, id, { after = 0 } = {}) {
    const p = platform && platform !== 'unknown' ? canonical(platform) : platform;
    return this.records.filter((r) => r.seq > after && (!p || r.platform === p) && (id === undefined || id === null || r.id === id));
  }

  /** Accepted messages, as the group would show them (duplicate msgUuids excluded). */
  messages(platform, id, opts) {
    return this.received(platform, id, opts).filter((r) => r.accepted && !r.duplicate);
  }

  /** DingTalk: accepted requests whose msgUuid had already been shown. */
  duplicates(platform, id, opts) {
    return this.received(platform, id, opts).filter((r) => r.duplicate);
  }

  /** Requests answered with something other than success (non-zero code, forced answers). */
  rejected(platform, id, opts) {
    return this.received(platform, id, opts).filter((r) => !r.accepted);
  }

  /** Wait (bounded) until robot `id` has shown at least n messages; returns them all. */
  async waitFor(platform, id, n = 1, { timeoutMs = 5000, after = 0, intervalMs = 10 } = {}) {
    return pollUntil(() => {
      const m = this.messages(platform, id, { after });
      return m.length >= n ? m : null;
    }, { timeoutMs, intervalMs, what: 'robot messages' })
      .catch((e) => { throw new Error(`${e.message}: ${this.describe(platform, id, n, 'accepted messages', after)}`); });
  }

  /** Wait (bounded) until robot `id` has received at least n requests, accepted or not. */
  async waitForRequests(platform, id, n = 1, { timeoutMs = 5000, after = 0, intervalMs = 10 } = {}) {
    return pollUntil(() => {
      const m = this.received(platform, id, { after });
      return m.length >= n ? m : null;
    }, { timeoutMs, intervalMs, what: 'robot requests' })
      .catch((e) => { throw new Error(`${e.message}: ${this.describe(platform, id, n, 'requests', after)}`); });
  }

  describe(platform, id, n, what, after) {
    const all = this.received(platform, id, { after });
    const summary = all.map((r) => ({ seq: r.seq, status: r.status, code: r.code, accepted: r.accepted, duplicate: r.duplicate }));
    return `${n} ${what} for ${platform} ${id}; received so far: ${JSON.stringify(summary)}`;
  }

  // ---------------------------------------------------------------- handler

  takeForced(platform, id) {
    for (const k of [key(platform, id), key(platform, '*')]) {
      const q = this.forced.get(k);
      if (q && q.length) {
        const a = q.shift();
        if (!q.length) this.forced.delete(k);
        return a;
      }
    }
    return null;
  }

  handle(req, body, res) {
    const u = new URL(req.url, 'http://127.0.0.1');
    const at = Date.now();
    let platform = 'unknown';
    let id = null;
    let prefix = '';
    let m;
    if ((m = /^(.*)\/robot\/send$/.exec(u.pathname))) {
      platform = 'dingtalk';
      id = u.searchParams.get('access_token');
      prefix = m[1];
    } else if ((m = /^(.*)\/open-apis\/bot\/v2\/hook\/([^/]*)$/.exec(u.pathname))) {
      platform = 'lark';
      id = decodeURIComponent(m[2]);
      prefix = m[1];
    } else if ((m = /^(.*)\/cgi-bin\/webhook\/send$/.exec(u.pathname))) {
      platform = 'wecom';
      id = u.searchParams.get('key');
      prefix = m[1];
    }
    this.seq += 1;
    const raw = body.toString('utf8');
    let parsed = null;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = null;
    }
    const rec = {
      seq: this.seq,
      platform,
      id,
      at,
      method: req.method,
      url: req.url,
      path: u.pathname,
      prefix,
      host: req.headers.host,
      query: Object.fromEntries(u.searchParams),
      rawQuery: u.search,
      headers: req.headers,
      remote: req.socket.remoteAddress,
      raw,
      bytes: body.length,
      body: parsed,
      msgtype: null,
      title: null,
      text: null,
      mentions: [],
      msgUuid: null,
      status: null,
      reply: null,
      code: null,
      errmsg: null,
      accepted: false,
      duplicate: false,
      forced: null,
      answeredAt: null,
    };
    this.records.push(rec);

    if (platform === 'unknown') {
      return this.send(res, rec, 404, { error: `no robot endpoint at ${u.pathname}` }, 0);
    }
    if (req.method !== 'POST') {
      return this.send(res, rec, 405, { error: `method ${req.method} not allowed` }, 0);
    }

    const robot = this.robots.get(key(platform, id));
    const action = this.takeForced(platform, id);
    rec.forced = action;
    const delayMs = action?.delayMs ?? robot?.opts.delayMs ?? 0;
    const forcesAnswer = action && ANSWER_KEYS.some((k) => action[k] !== undefined);

    let verdict = null;
    if (!forcesAnswer || action.accept) {
      const check = { dingtalk: this.checkDingtalk, lark: this.checkLark, wecom: this.checkWecom }[platform];
      verdict = check.call(this, rec, robot, req);
      const ok = (verdict.body.errcode ?? verdict.body.code ?? verdict.body.StatusCode) === 0;
      rec.accepted = ok;
    }
    if (forcesAnswer) {
      if (action.destroy) {
        rec.status = 'destroyed';
        return this.later(delayMs, () => req.socket.destroy());
      }
      if (action.hang) {
        rec.status = 'hang';
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return undefined;
      }
      verdict = this.forcedVerdict(platform, action, rec);
    } else if (robot?.opts.close) {
      rec.accepted = false;
      rec.status = 'destroyed';
      return this.later(delayMs, () => req.socket.destroy());
    } else if (robot?.opts.hang) {
      rec.status = 'hang';
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return undefined;
    }
    return this.send(res, rec, verdict.status, verdict.body, delayMs);
  }

  later(ms, fn) {
    if (!ms) return fn();
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return undefined;
  }

  send(res, rec, status, body, delayMs) {
    rec.status = status;
    rec.reply = body;
    if (isObj(body)) {
      rec.code = body.errcode ?? body.code ?? body.StatusCode ?? null;
      rec.errmsg = body.errmsg ?? body.msg ?? body.StatusMessage ?? null;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const ct = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json;charset=utf-8';
    this.later(delayMs, () => {
      if (res.destroyed) return;
      rec.answeredAt = Date.now();
      res.writeHead(status, { 'content-type': ct, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
  }

  forcedVerdict(platform, action, rec) {
    if (action.body !== undefined) return { status: action.http ?? 200, body: action.body };
    const code = action.errcode ?? action.code;
    if (code === undefined) {
      return { status: action.http ?? 500, body: `<html><body><h1>${action.http ?? 500}</h1>forced by robots.failNext</body></html>` };
    }
    const msg = action.errmsg ?? action.msg ?? MESSAGES[platform][code] ?? `error ${code}`;
    if (platform === 'lark') {
      const status = action.http ?? ((code === 9499 && /too many request/.test(msg)) || code === 11232 ? 400 : 200);
      return { status, body: { code, msg, data: {} } };
    }
    if (platform === 'wecom') {
      return { status: action.http ?? 200, body: { errcode: code, errmsg: code === 0 ? msg : msg + wecomHint(code, rec.remote) } };
    }
    return { status: action.http ?? 200, body: { errcode: code, errmsg: msg } };
  }

  /** The rate settings for a robot: the instance's, overridden by the robot's own `rate` option. */
  rateOf(robot) {
    return { ...this.rates[robot.platform], ...(robot.opts.rate || {}) };
  }

  // ---------------------------------------------------------------- DingTalk

  checkDingtalk(rec, robot, req) {
    const fail = (errcode, errmsg) => ({ status: 200, body: { errcode, errmsg: errmsg ?? MESSAGES.dingtalk[errcode] } });
    if (!robot) return fail(300001);
    const o = robot.opts;
    if (o.disabled) return fail(400102);
    if (o.removed) return fail(400106);
    if (o.dissolved) return fail(400013);
    if (rec.bytes > LIMITS.dingtalkBodyBytes) return fail(460101);
    const ct = String(req.headers['content-type'] || '').toLowerCase();
    if (!ct.startsWith('application/json')) return fail(43004);
    const b = rec.body;
    if (!isObj(b)) return fail(40035);

    if (o.secret !== undefined && o.secret !== null) {
      const ts = rec.query.timestamp;
      const now = this.now();
      if (!ts || !/^\d+$/.test(ts) || !(Math.abs(now - Number(ts)) <= this.clockWindowMs)) {
        return fail(310000, 'invalid timestamp');
      }
      // rec.query is URLSearchParams-decoded: decoded exactly once, '+' → ' ' as a form decoder does.
      const want = dingtalkSign(o.secret, ts);
      const got = rec.query.sign;
      if (typeof got !== 'string' || got.length !== want.length
        || !crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want))) {
        return fail(310000, 'sign not match');
      }
    }
    if (!ipAllowed(o.ipAllow, rec.remote)) {
      return fail(310000, `ip ${String(rec.remote).replace(/^::ffff:/, '')} not in whitelist`);
    }

    // Shape.
    const t = b.msgtype;
    rec.msgtype = t ?? null;
    if (typeof t !== 'string' || !t) return fail(40035, '缺少参数 msgtype');
    if (t === 'text') {
      if (!isObj(b.text) || !nonEmptyString(b.text.content)) return fail(40035, '缺少参数 text');
      rec.text = b.text.content;
    } else if (t === 'markdown') {
      if (!isObj(b.markdown) || !nonEmptyString(b.markdown.title)) return fail(40035, '缺少参数 markdown.title');
      if (!nonEmptyString(b.markdown.text)) return fail(40035, '缺少参数 markdown.text');
      rec.title = b.markdown.title;
      rec.text = b.markdown.text;
    } else {
      return fail(40035, `不支持的消息类型 msgtype: ${t}`);
    }
    if (b.at !== undefined && !isObj(b.at)) return fail(40035, '参数 at 格式错误');
    const atMobiles = b.at?.atMobiles ?? [];
    if (!Array.isArray(atMobiles) || atMobiles.some((x) => typeof x !== 'string')) return fail(40035, '参数 atMobiles 格式错误');
    // A text message shows the @ itself; a markdown one only when "@mobile" is in the text too.
    rec.mentions = t === 'text' ? [...atMobiles] : atMobiles.filter((mb) => rec.text.includes(`@${mb}`));
    rec.atMobiles = [...atMobiles];

    // Keywords: at least one in the content (text.content / markdown.text), case-sensitive.
    const kws = o.keywords || [];
    if (kws.length && !kws.some((k) => rec.text.includes(k))) return fail(310000, 'keywords not in content');

    // Rate: perMinute accepted per window; one more blocks the robot for blockMs.
    const rate = this.rateOf(robot);
    const now = this.now();
    if (robot.rate.blockedUntil > now) return fail(130101);
    if (robot.rate.blockedUntil) {
      robot.rate.blockedUntil = 0;
      robot.rate.times = [];
    }
    robot.rate.times = robot.rate.times.filter((x) => x > now - rate.windowMs);
    if (robot.rate.times.length >= rate.perMinute) {
      robot.rate.blockedUntil = now + rate.blockMs;
      robot.rate.times = [];
      return fail(130101);
    }
    robot.rate.times.push(now);

    if (b.msgUuid !== undefined && b.msgUuid !== null && b.msgUuid !== '') {
      rec.msgUuid = String(b.msgUuid);
      if (robot.seenUuids.has(rec.msgUuid)) rec.duplicate = true;
      robot.seenUuids.add(rec.msgUuid);
    }
    return { status: 200, body: { errcode: 0, errmsg: 'ok' } };
  }

  // ---------------------------------------------------------------- Lark / Feishu

  checkLark(rec, robot) {
    const fail = (code, msg, status = 200) => ({ status, body: { code, msg: msg ?? MESSAGES.lark[code], data: {} } });
    if (!robot) return fail(19001);
    const o = robot.opts;
    if (o.disabled) return fail(19007);
    if (rec.bytes > LIMITS.larkBodyBytes) return fail(19036);
    const b = rec.body;
    if (!isObj(b)) return fail(9499, 'Bad Request', 400);
    if (!ipAllowed(o.ipAllow, rec.remote)) return fail(19022);

    if (o.secret !== undefined && o.secret !== null) {
      const ts = b.timestamp;
      const now = this.now();
      // The timestamp is a string of seconds; a number, milliseconds or a stale value all fail.
      const tsOk = typeof ts === 'string' && /^\d+$/.test(ts) && Math.abs(now - Number(ts) * 1000) <= this.clockWindowMs;
      const want = tsOk ? larkSign(o.secret, ts) : null;
      if (!tsOk || typeof b.sign !== 'string' || b.sign !== want) return fail(19021);
    }

    // Shape.
    const t = b.msg_type;
    rec.msgtype = t ?? null;
    let searchable;
    if (t === 'text') {
      if (!isObj(b.content) || !nonEmptyString(b.content.text)) return fail(9499, 'Bad Request: content.text is required for msg_type text');
      rec.text = b.content.text;
      searchable = [rec.text];
    } else if (t === 'post') {
      const post = isObj(b.content) ? b.content.post : undefined;
      if (!isObj(post) || !Object.keys(post).length) return fail(9499, 'Bad Request: content.post is required for msg_type post');
      const texts = [];
      for (const [lang, v] of Object.entries(post)) {
        if (!isObj(v) || !Array.isArray(v.content) || v.content.some((line) => !Array.isArray(line) || line.some((el) => !isObj(el) || !nonEmptyString(el.tag)))) {
          return fail(9499, `Bad Request: content.post.${lang}.content must be an array of lines of elements with a tag`);
        }
        if (rec.title === null && typeof v.title === 'string') rec.title = v.title;
        texts.push(...stringsIn(v));
      }
      rec.text = texts.join('\n');
      searchable = texts;
    } else if (t === 'interactive') {
      if (!isObj(b.card) || !Object.keys(b.card).length) return fail(9499, 'Bad Request: card is required for msg_type interactive');
      searchable = stringsIn(b.card);
      rec.title = b.card.header?.title?.content ?? null;
      rec.text = searchable.join('\n');
    } else {
      return fail(9499, `Bad Request: unsupported msg_type ${JSON.stringify(t)}`);
    }

    const kws = o.keywords || [];
    if (kws.length && !kws.some((k) => searchable.some((s) => s.includes(k)))) return fail(19024);

    // Rate: perSecond in secondMs and perMinute in minuteMs (sliding), counted over accepted messages.
    const rate = this.rateOf(robot);
    const now = this.now();
    robot.rate.secTimes = robot.rate.secTimes.filter((x) => x > now - rate.secondMs);
    robot.rate.times = robot.rate.times.filter((x) => x > now - rate.minuteMs);
    if (robot.rate.secTimes.length >= rate.perSecond || robot.rate.times.length >= rate.perMinute) {
      return fail(rate.code, MESSAGES.lark[rate.code], 400);
    }
    robot.rate.secTimes.push(now);
    robot.rate.times.push(now);

    switch (o.successStyle) {
      case 'legacy': return { status: 200, body: { Extra: null, StatusCode: 0, StatusMessage: 'success' } };
      case 'both': return { status: 200, body: { Extra: null, StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' } };
      default: return { status: 200, body: { code: 0, msg: 'success', data: {} } };
    }
  }

  // ---------------------------------------------------------------- WeCom

  checkWecom(rec, robot) {
    const fail = (errcode, errmsg) => ({ status: 200, body: { errcode, errmsg: (errmsg ?? MESSAGES.wecom[errcode]) + wecomHint(errcode, rec.remote) } });
    if (!robot || robot.opts.removed) return fail(93000);
    if (robot.opts.disabled) return fail(93004);
    const b = rec.body;
    if (!isObj(b)) return fail(40035, 'invalid parameter: body is not a JSON object');
    const t = b.msgtype;
    rec.msgtype = t ?? null;
    let content;
    if (t === 'text') {
      if (!isObj(b.text)) return fail(44004);
      content = b.text.content;
      const list = b.text.mentioned_mobile_list ?? [];
      if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) return fail(40035, 'invalid parameter: mentioned_mobile_list');
      rec.mentions = [...list];
    } else if (t === 'markdown') {
      if (!isObj(b.markdown)) return fail(44004);
      content = b.markdown.content;
      // mentioned_mobile_list is a text-message field: in a markdown message it is ignored.
      rec.ignoredMentions = b.markdown.mentioned_mobile_list ?? b.text?.mentioned_mobile_list ?? null;
    } else {
      return fail(40008);
    }
    if (content === undefined || content === null || content === '') return fail(44004);
    if (typeof content !== 'string') return fail(40035, 'invalid parameter: content');
    const max = t === 'text' ? LIMITS.wecomTextBytes : LIMITS.wecomMarkdownBytes;
    if (utf8Bytes(content) > max) return fail(40058, `${t}.content exceed max length ${max}`);
    rec.text = content;

    const rate = this.rateOf(robot);
    const now = this.now();
    robot.rate.times = robot.rate.times.filter((x) => x > now - rate.windowMs);
    if (robot.rate.times.length >= rate.perMinute) return fail(45009);
    robot.rate.times.push(now);
    return { status: 200, body: { errcode: 0, errmsg: 'ok' } };
  }
}

/**
 * Start the receivers. opts:
 *   robots:        {dingtalk: {T: {...}}, lark (or feishu): {ID: {...}}, wecom: {K: {...}}} to register at once
 *   now:           () => ms — the clock for the timestamp window and the rate windows (default Date.now)
 *   clockWindowMs: the timestamp window (default 3600000; Infinity relaxes it for fixed test vectors)
 *   dingtalkRate:  {perMinute: 20, windowMs: 60000, blockMs: 600000}
 *   larkRate:      {perSecond: 5, secondMs: 1000, perMinute: 100, minuteMs: 60000, code: 9499 | 11232}
 *   wecomRate:     {perMinute: 20, windowMs: 60000}
 *   port:          a fixed port (default 0: any free one)
 */
export async function startRobots(opts = {}) {
  const r = new Robots(opts);
  await r.start();
  return r;
}
