#!/usr/bin/env node
// logscan.mjs — the scan of every server log line the integration suite
// kept (tests/integration/lib/harness.mjs writes them to $CC_SERVER_LOGS):
// each line must be one JSON object, and no line may hold a full mobile,
// email address, ID number, robot token or secret. Prints TAP (one case per
// rule, the offending lines under a failing one) for tests/run.sh.
//
//   node tests/logscan.mjs DIR
//
// How each is known:
//  - mobiles: an 11-digit mainland number (1[3-9]…) or an E.164 number of
//    8 to 15 digits not written masked ("+86 133****5678" is fine);
//  - emails: an address whose local part is not masked ("zh****n@…" is
//    fine), other than the service's own sender and console admin;
//  - ID numbers: 17 digits with a birth date and a right check character;
//  - robot tokens: an access_token=, key= or /hook/ value that is not masked
//    ("abcd…wxyz");
//  - secrets: every access key secret and password the harness was handed
//    (DIR/secrets/), every secret and password written as a literal in the
//    integration tests, DingTalk-style "SEC…" secrets, and Basic
//    credentials.
// A line that is not JSON (a sanitizer's report, a plain-text message) is
// scanned as text too.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = process.argv[2];
if (!dir) {
  console.error('usage: node tests/logscan.mjs DIR');
  process.exit(2);
}

/** Secrets handed to the tests, and written in them. */
function knownSecrets() {
  const set = new Set();
  const sdir = path.join(dir, 'secrets');
  if (fs.existsSync(sdir)) {
    for (const f of fs.readdirSync(sdir)) {
      for (const line of fs.readFileSync(path.join(sdir, f), 'utf8').split('\n')) if (line.length >= 8) set.add(line);
    }
  }
  const itDir = path.join(ROOT, 'tests/integration');
  const files = [...fs.readdirSync(itDir).map((f) => path.join(itDir, f)), ...fs.readdirSync(path.join(itDir, 'lib')).map((f) => path.join(itDir, 'lib', f))];
  const literal = /\b(?:secret|SECRET|password|PASSWORD|Password)\w*['"]?\s*[:=]\s*['"]([^'"`$\s\\]{8,})['"]/g;
  for (const f of files.filter((x) => x.endsWith('.mjs'))) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(literal)) set.add(m[1]);
  }
  return [...set];
}

function idCheckOk(id) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * w[i];
  return '10X98765432'[sum % 11] === id[17].toUpperCase();
}

const SELF_ADDRESSES = new Set(['noreply@localhost', 'noreply@certcontacts.test']);
const masked = (v) => /[*…]/.test(v);

const rules = [
  {
    name: 'no full mobile number',
    find(text) {
      const out = [];
      for (const m of text.matchAll(/(?<![0-9A-Za-z_])(?:\+?86[ -]?)?1[3-9]\d{9}(?![0-9A-Za-z_])/g)) out.push(m[0]);
      for (const m of text.matchAll(/(?<![0-9A-Za-z_])\+\d{8,15}(?![0-9A-Za-z_*])/g)) out.push(m[0]);
      return out;
    },
  },
  {
    name: 'no full email address',
    find(text) {
      const out = [];
      for (const m of text.matchAll(/(?<![*A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g)) {
        if (!SELF_ADDRESSES.has(m[0].toLowerCase())) out.push(m[0]);
      }
      return out;
    },
  },
  {
    name: 'no ID number',
    // 17 digits with a birth date, and the ISO 7064 MOD 11-2 check character:
    // an 18-digit number that is not an ID (an out-of-range id in a path) passes.
    find: (text) => [...text.matchAll(/(?<![0-9A-Za-z_])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z_])/g)]
      .map((m) => m[0]).filter(idCheckOk),
  },
  {
    name: 'no robot token',
    find(text) {
      const out = [];
      for (const m of text.matchAll(/(?:access_token=|[?&]key=|\/hook\/)([^&\s"\\,;]+)/g)) {
        if (!masked(m[1]) && m[1].length >= 6) out.push(m[0]);
      }
      return out;
    },
  },
];

function secretRule(secrets) {
  return {
    name: 'no secret',
    find(text) {
      const out = secrets.filter((s) => text.includes(s));
      for (const m of text.matchAll(/(?<![A-Za-z0-9])SEC[a-z0-9][A-Za-z0-9]{3,}/g)) out.push(m[0]);
      for (const m of text.matchAll(/Basic [A-Za-z0-9+/]{12,}={0,2}/g)) out.push(m[0]);
      return out;
    },
  };
}

/** Every string in a parsed line (keys too), joined: what is scanned. */
function strings(v, out = []) {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => strings(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push(k); strings(x, out); }
  else if (typeof v === 'number') out.push(String(v));
  return out;
}

const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.log')).sort() : [];
const all = [...rules, secretRule(knownSecrets())];
const offenders = new Map(all.map((r) => [r.name, []]));
const notJson = [];
let lines = 0;
for (const f of files) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8').split('\n');
  text.forEach((line, i) => {
    if (line === '') return;
    lines += 1;
    const where = `${f}:${i + 1}`;
    let obj;
    try {
      obj = JSON.parse(line);
    } catch {
      obj = undefined;
    }
    let scanned;
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
      scanned = strings(obj).join('\n');
    } else {
      notJson.push(`${where}: ${line.slice(0, 200)}`);
      scanned = line;
    }
    // Paths and queries may carry a value percent-encoded ("%2B86…", "%40").
    let decoded = scanned;
    try {
      decoded = decodeURIComponent(scanned.replace(/\+/g, ' '));
    } catch {
      decoded = scanned.replace(/%40/gi, '@').replace(/%2B/gi, '+');
    }
    const both = decoded === scanned ? scanned : `${scanned}\n${decoded}`;
    for (const r of all) {
      for (const hit of new Set(r.find(both))) offenders.get(r.name).push(`${where}: ${hit} in ${line.slice(0, 300)}`);
    }
  });
}

let n = 0;
let failed = 0;
const report = (ok, name, list) => {
  n += 1;
  if (!ok) failed += 1;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`);
  for (const l of list.slice(0, 40)) console.log(`#   ${l}`);
  if (list.length > 40) console.log(`#   … and ${list.length - 40} more`);
};
console.log('TAP version 13');
report(files.length > 0 && lines > 0, `server logs were kept (${files.length} files, ${lines} lines in ${dir})`, []);
report(notJson.length === 0, 'every log line is one JSON object', notJson);
for (const r of all) report(offenders.get(r.name).length === 0, `${r.name} in the logs`, offenders.get(r.name));
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
