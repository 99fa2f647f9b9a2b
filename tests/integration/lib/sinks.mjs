// sinks.mjs — the outside world certcontacts talks to, for the tests:
//
//  * startSmtpSink(): a real SMTP server (aiosmtpd, tests/integration/lib/smtp_sink.py,
//    run with Debian's /usr/bin/python3) that writes each message it receives,
//    parsed by Python's email package, into a directory; or, with mode 'hang',
//    a server that accepts connections and never says a word.
//  * closedPort(): a local TCP port nobody listens on (an SMTP server that is down).
//  * startSmsGateway(): a node:http stand-in for Alibaba Cloud SMS SendSms
//    (dysmsapi 2017-05-25) that checks the request the way the real service
//    does — HMAC-SHA1 SignatureVersion 1.0, key, timestamp window, nonce
//    reuse, the common and SendSms parameters — and answers OK, a business
//    error or HTTP 500 on demand.
//
// Everything here is bounded: waits poll with deadlines, never sleep blindly.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeDataDir, removeDir, waitFor } from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SMTP_SINK_PY = path.join(HERE, 'smtp_sink.py');
// Debian's interpreter: it has python3-aiosmtpd; a python3 earlier on PATH may not.
export const SYSTEM_PYTHON = process.env.CC_SINK_PYTHON || '/usr/bin/python3';

const SINK_START_TIMEOUT_MS = 10000;
const SINK_STOP_TIMEOUT_MS = 5000;

// ------------------------------------------------------------------ SMTP sink

export class SmtpSink {
  constructor({ mode = 'accept', port = 0, auth, rejectRcpt } = {}) {
    this.mode = mode;
    this.requestedPort = port;
    this.auth = auth; // "user:password"
    this.rejectRcpt = rejectRcpt;
    this.dir = null;
    this.port = null;
    this.proc = null;
    this.stdout = '';
    this.stderr = '';
    this.connections = 0; // hang mode: connections accepted so far
  }

  get url() {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start() {
    this.dir = makeDataDir('cc-smtp-');
    const argv = [SMTP_SINK_PY, '--mode', this.mode, '--dir', this.dir, '--port', String(this.requestedPort)];
    if (this.auth) argv.push('--auth', this.auth);
    if (this.rejectRcpt) argv.push('--reject-rcpt', this.rejectRcpt);
    const proc = spawn(SYSTEM_PYTHON, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    let exited = null;
    this.exit = new Promise((resolve) => proc.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }));
    proc.on('error', (e) => { exited = { error: e }; });
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (c) => { this.stderr += c; });
    let partial = '';
    proc.stdout.on('data', (c) => {
      this.stdout += c;
      partial += c;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl).trim();
        partial = partial.slice(nl + 1);
        let m;
        if (this.port === null && /^\d+$/.test(line)) this.port = Number(line);
        else if ((m = /^conn (\d+)$/.exec(line))) this.connections = Number(m[1]);
      }
    });
    await waitFor(() => {
      if (exited) {
        throw new Error(`SMTP sink exited before it was ready (${JSON.stringify(exited)}; is python3-aiosmtpd installed for ${SYSTEM_PYTHON}?)\nstderr:\n${this.stderr}`);
      }
      return this.port !== null;
    }, { timeoutMs: SINK_START_TIMEOUT_MS, what: `SMTP sink port; stderr so far:\n${this.stderr}` }).catch((e) => {
      proc.kill('SIGKILL');
      throw e;
    });
    return this;
  }

  async stop() {
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      let timer;
      const t = new Promise((r) => { timer = setTimeout(() => r('timeout'), SINK_STOP_TIMEOUT_MS); });
      const r = await Promise.race([this.exit, t]);
      clearTimeout(timer);
      if (r === 'timeout') {
        proc.kill('SIGKILL');
        await this.exit;
      }
    }
    removeDir(this.dir);
  }

  /** Every message received so far, in order (the parsed JSON records). */
  messages() {
    if (!this.dir || !fs.existsSync(this.dir)) return [];
    return fs.readdirSync(this.dir)
      .filter((f) => /^\d+\.json$/.test(f))
      .sort()
      .map((f) => {
        const rec = JSON.parse(fs.readFileSync(path.join(this.dir, f), 'utf8'));
        rec.raw = fs.readFileSync(rec.eml); // Buffer: the bytes of DATA
        return rec;
      });
  }

  /** The sequence number of the last message received (0 if none): pass it as `after`. */
  mark() {
    const all = this.messages();
    return all.length ? all[all.length - 1].seq : 0;
  }

  /** Messages received after `after` (a mark) addressed to `to` (case-insensitive). */
  mailsTo(to, after = 0) {
    const want = to.toLowerCase();
    return this.messages().filter((m) => m.seq > after && m.rcpt_tos.some((r) => r.toLowerCase() === want));
  }

  /** Wait (bounded) for the first message to `to` received after the mark `after`. */
  async waitForMail(to, { after = 0, timeoutMs = 5000 } = {}) {
    return waitFor(() => this.mailsTo(to, after)[0], {
      timeoutMs,
      what: `an email to ${to} at the SMTP sink (received so far: ${JSON.stringify(this.messages().map((m) => m.rcpt_tos))})`,
    });
  }
}

/** Start an SMTP sink. mode 'accept' (default) or 'hang'; auth "user:password"; rejectRcpt "550 …". */
export async function startSmtpSink(opts = {}) {
  const s = new SmtpSink(opts);
  await s.start();
  return s;
}

/** The leaf MIME parts of a received message, depth first. */
export function leafParts(mail) {
  const out = [];
  const walk = (p) => {
    if (p.parts) p.parts.forEach(walk);
    else out.push(p);
  };
  walk(mail.mime);
  return out;
}

/** The single leaf part of a content type (throws if there is not exactly one). */
export function partOf(mail, contentType) {
  const ps = leafParts(mail).filter((p) => p.content_type === contentType);
  if (ps.length !== 1) {
    throw new Error(`expected one ${contentType} part, found ${ps.length}: ${JSON.stringify(mail.mime, null, 1)}`);
  }
  return ps[0];
}

/** Every distinct standalone 6-digit number in a string. */
export function sixDigitNumbers(s) {
  return [...new Set(String(s).match(/(?<![0-9])[0-9]{6}(?![0-9])/g) || [])];
}

/** The verification code of an email: the one 6-digit number in its text/plain part. */
export function codeFromMail(mail) {
  const text = partOf(mail, 'text/plain').content;
  const found = sixDigitNumbers(text);
  if (found.length !== 1) throw new Error(`expected exactly one 6-digit code in the text part, found ${JSON.stringify(found)}:\n${text}`);
  return found[0];
}

/** A local TCP port with nothing listening on it (connections are refused). */
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// ----------------------------------------------------- Alibaba Cloud signing

/** Alibaba's percent-encoding: RFC 3986 unreserved kept, UTF-8, upper-case hex. */
export function acsEncode(s) {
  return encodeURIComponent(String(s)).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** The string to sign of SignatureVersion 1.0 for a parameter object (Signature excluded). */
export function acsStringToSign(method, params) {
  const pairs = Object.entries(params)
    .filter(([k]) => k !== 'Signature')
    .map(([k, v]) => [acsEncode(k), acsEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const joined = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  return `${method.toUpperCase()}&${acsEncode('/')}&${acsEncode(joined)}`;
}

/** base64(HMAC-SHA1(secret + "&", string to sign)). */
export function acsSignV1(method, params, secret) {
  return crypto.createHmac('sha1', `${secret}&`).update(acsStringToSign(method, params), 'utf8').digest('base64');
}

/** An Alibaba-style Timestamp: YYYY-MM-DDTHH:MM:SSZ (UTC, no fraction). */
export function acsTimestamp(ms = Date.now()) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// --------------------------------------------------------- SMS gateway (Alibaba)

const COMMON_REQUIRED = ['Action', 'Version', 'AccessKeyId', 'Signature', 'SignatureMethod', 'SignatureVersion', 'SignatureNonce', 'Timestamp', 'Format'];
const TIMESTAMP_WINDOW_MS = 15 * 60 * 1000;

function requestId() {
  return crypto.randomUUID().toUpperCase();
}

/**
 * A stand-in for https://dysmsapi.aliyuncs.com that serves SendSms only.
 *
 * keys: {AccessKeyId: secret}; signName, templateCode: the values the account
 * has approved. Set `gw.mode` to choose how valid requests are answered:
 *   'ok'      {"Code":"OK","Message":"OK","BizId":…,"RequestId":…}
 *   'limit'   isv.BUSINESS_LIMIT_CONTROL (HTTP 200, as the real service)
 *   'illegal' isv.MOBILE_NUMBER_ILLEGAL (HTTP 200)
 *   'http500' HTTP 500
 *   'hang'    never answers (the connection stays open until stop())
 *
 * gw.sent: every valid SendSms, {phone, templateParam (parsed), params, mode, at};
 * gw.rejected: every request the checks refused, {status, code, message, params};
 * gw.received: every request, in order.
 */
export class SmsGateway {
  constructor({ keys, signName, templateCode, templates }) {
    this.keys = { ...keys };
    this.signName = signName;
    this.templateCode = templateCode;
    // template code → the variables it was registered with, as at Alibaba Cloud
    this.templates = templates || { [templateCode]: ['code'] };
    this.mode = 'ok';
    this.sent = [];
    this.rejected = [];
    this.received = [];
    this.nonces = new Map(); // `${key}\n${nonce}` → ms seen
    this.hanging = new Set();
    this.server = null;
    this.port = null;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => this.handle(req, Buffer.concat(chunks), res));
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  async stop() {
    if (!this.server) return;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const srv = this.server;
    this.server = null;
    srv.closeAllConnections?.();
    await new Promise((resolve) => srv.close(resolve));
  }

  /** Valid SendSms requests to `phone` (as sent: "13312345678"). */
  sentTo(phone) {
    return this.sent.filter((s) => s.phone === phone);
  }

  /** Wait (bounded) until more than `after` valid requests for `phone` arrived; returns the next one. */
  async waitForSms(phone, { after = 0, timeoutMs = 5000 } = {}) {
    return waitFor(() => this.sentTo(phone)[after], {
      timeoutMs,
      what: `SendSms for ${phone} (valid so far: ${JSON.stringify(this.sent.map((s) => s.phone))}; rejected: ${JSON.stringify(this.rejected)})`,
    });
  }

  reply(res, status, body) {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  refuse(res, rec, status, code, message) {
    rec.verdict = code;
    this.rejected.push({ status, code, message, method: rec.method, url: rec.url, params: rec.params });
    this.reply(res, status, { RequestId: requestId(), HostId: 'dysmsapi.aliyuncs.com', Code: code, Message: message, Recommend: '' });
  }

  handle(req, body, res) {
    const u = new URL(req.url, 'http://127.0.0.1');
    const rec = { method: req.method, url: req.url, headers: req.headers, body: body.toString('utf8'), params: {}, verdict: null, at: Date.now() };
    this.received.push(rec);

    // Parameters: the query and, for a form body, the body; all decoded.
    const params = {};
    const dup = [];
    const add = (sp) => {
      for (const [k, v] of sp) {
        if (Object.prototype.hasOwnProperty.call(params, k)) dup.push(k);
        params[k] = v;
      }
    };
    add(u.searchParams);
    const ct = String(req.headers['content-type'] || '').toLowerCase();
    if (body.length && ct.startsWith('application/x-www-form-urlencoded')) add(new URLSearchParams(body.toString('utf8')));
    rec.params = params;

    if (u.pathname !== '/') return this.refuse(res, rec, 404, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method. (path ${u.pathname})`);
    if (req.method !== 'POST' && req.method !== 'GET') return this.refuse(res, rec, 405, 'UnsupportedHTTPMethod', `method ${req.method}`);
    if (dup.length) return this.refuse(res, rec, 400, 'InvalidParameter', `parameters given more than once: ${dup.join(', ')}`);
    for (const k of COMMON_REQUIRED) {
      if (!params[k]) return this.refuse(res, rec, 400, `Missing${k}`, `The input parameter "${k}" that is mandatory for processing this request is not supplied.`);
    }
    if (params.Action !== 'SendSms') return this.refuse(res, rec, 404, 'InvalidAction.NotFound', `Specified api is not found: ${params.Action}`);
    if (params.Version !== '2017-05-25') return this.refuse(res, rec, 400, 'InvalidVersion', `Specified parameter Version is not valid: ${params.Version}`);
    if (!/^json$/i.test(params.Format)) return this.refuse(res, rec, 400, 'InvalidParameter.Format', `Format must be JSON: ${params.Format}`);
    if (params.SignatureMethod !== 'HMAC-SHA1') return this.refuse(res, rec, 400, 'InvalidSignatureMethod', `Specified signature method is not valid: ${params.SignatureMethod}`);
    if (params.SignatureVersion !== '1.0') return this.refuse(res, rec, 400, 'InvalidSignatureVersion', `Specified signature version is not valid: ${params.SignatureVersion}`);
    const secret = this.keys[params.AccessKeyId];
    if (secret === undefined) return this.refuse(res, rec, 404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(params.Timestamp) || Number.isNaN(Date.parse(params.Timestamp))) {
      return this.refuse(res, rec, 400, 'InvalidTimeStamp.Format', `Specified time stamp or date value is not well formatted: ${params.Timestamp}`);
    }
    if (Math.abs(Date.parse(params.Timestamp) - Date.now()) > TIMESTAMP_WINDOW_MS) {
      return this.refuse(res, rec, 400, 'InvalidTimeStamp.Expired', `Specified time stamp or date value is expired: ${params.Timestamp}`);
    }
    const sts = acsStringToSign(req.method, params);
    const want = crypto.createHmac('sha1', `${secret}&`).update(sts, 'utf8').digest('base64');
    if (params.Signature !== want) {
      return this.refuse(res, rec, 400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${sts}`);
    }
    const nk = `${params.AccessKeyId}\n${params.SignatureNonce}`;
    if (this.nonces.has(nk)) return this.refuse(res, rec, 400, 'SignatureNonceUsed', `Specified signature nonce was used already: ${params.SignatureNonce}`);
    this.nonces.set(nk, Date.now());

    // SendSms itself.
    for (const k of ['PhoneNumbers', 'SignName', 'TemplateCode']) {
      if (!params[k]) return this.refuse(res, rec, 400, `Missing${k}`, `${k} is mandatory for this action.`);
    }
    if (!/^[0-9]{5,20}$/.test(params.PhoneNumbers)) return this.refuse(res, rec, 200, 'isv.MOBILE_NUMBER_ILLEGAL', `非法手机号: ${params.PhoneNumbers}`);
    if (params.SignName !== this.signName) return this.refuse(res, rec, 200, 'isv.SMS_SIGNATURE_ILLEGAL', `该账号下找不到对应签名: ${params.SignName}`);
    if (!(params.TemplateCode in this.templates)) return this.refuse(res, rec, 200, 'isv.SMS_TEMPLATE_ILLEGAL', `该账号下找不到对应模板: ${params.TemplateCode}`);
    if (params.TemplateParam === undefined) return this.refuse(res, rec, 200, 'isv.TEMPLATE_MISSING_PARAMETERS', '模板变量缺少对应参数值');
    let tp;
    try {
      tp = JSON.parse(params.TemplateParam);
    } catch {
      tp = undefined;
    }
    if (!tp || typeof tp !== 'object' || Array.isArray(tp) || Object.values(tp).some((v) => typeof v !== 'string')) {
      return this.refuse(res, rec, 200, 'isv.INVALID_JSON_PARAM', `JSON参数不合法，只接受字符串值: ${params.TemplateParam}`);
    }
    const missing = this.templates[params.TemplateCode].find((v) => !(v in tp));
    if (missing) return this.refuse(res, rec, 200, 'isv.TEMPLATE_MISSING_PARAMETERS', `模板变量缺少对应参数值: ${missing}`);

    const mode = this.mode;
    rec.verdict = 'valid';
    this.sent.push({ phone: params.PhoneNumbers, templateParam: tp, params, mode, at: Date.now() });
    const rid = requestId();
    switch (mode) {
      case 'ok':
        return this.reply(res, 200, { Code: 'OK', Message: 'OK', BizId: `${Date.now()}${Math.floor(Math.random() * 1e6)}^0`, RequestId: rid });
      case 'limit':
        return this.reply(res, 200, { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发小时级流控Permits:5', RequestId: rid, Recommend: '' });
      case 'illegal':
        return this.reply(res, 200, { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号', RequestId: rid, Recommend: '' });
      case 'http500':
        return this.reply(res, 500, { Code: 'InternalError', Message: 'The request processing has failed due to some unknown error.', RequestId: rid });
      case 'hang':
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return undefined;
      default:
        throw new Error(`unknown gateway mode ${mode}`);
    }
  }
}

export async function startSmsGateway(opts) {
  const g = new SmsGateway(opts);
  await g.start();
  return g;
}

/** The server's settings for sending SMS through gw with these credentials and templates. */
export function aliyunSmsEnv(gw, { keyId, secret, signName, templateCode, notifyTemplateCode }) {
  return {
    CERTCONTACTS_SMS_PROVIDER: 'aliyun',
    CERTCONTACTS_SMS_ENDPOINT: gw.url,
    CERTCONTACTS_SMS_ACCESS_KEY_ID: keyId,
    CERTCONTACTS_SMS_ACCESS_KEY_SECRET: secret,
    CERTCONTACTS_SMS_SIGN_NAME: signName,
    CERTCONTACTS_SMS_TEMPLATE_CODE: templateCode,
    CERTCONTACTS_SMS_NOTIFY_TEMPLATE_CODE: notifyTemplateCode,
  };
}

/** The server's settings for sending email through sink (plain SMTP on loopback). */
export function smtpSinkEnv(sink) {
  return {
    CERTCONTACTS_SMTP_URL: sink.url,
    CERTCONTACTS_SMTP_FROM: 'certcontacts <noreply@certcontacts.test>',
    CERTCONTACTS_SMTP_STARTTLS: 'optional',
  };
}

/** The phone number SendSms expects for a mainland number: "+8613312345678" → "13312345678". */
export function nationalMobile(e164) {
  return e164.replace(/^\+86/, '');
}
