// alidns.mjs — a stand-in for Alibaba Cloud DNS (https://alidns.aliyuncs.com,
// API 2015-01-09) that serves AddDomainRecord and DeleteDomainRecord for the
// ACME DNS-01 tests: it checks each request's HMAC-SHA1 signature as the real
// service does (sinks.mjs' acsSignV1) and publishes the TXT record in
// pebble-challtestsrv, the DNS pebble asks.
import http from 'node:http';
import crypto from 'node:crypto';
import { acsSignV1 } from './sinks.mjs';

export async function startAliDns({ keys, challtestsrv }) {
  const records = new Map(); // RecordId -> {host, value}
  const calls = [];
  let seq = 1000;
  const setTxt = async (pathName, body) => {
    const r = await fetch(`${challtestsrv}${pathName}`, { method: 'POST', body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`challtestsrv ${pathName}: ${r.status}`);
  };
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { raw += c; });
    req.on('end', async () => {
      const params = Object.fromEntries(new URLSearchParams(raw));
      const call = { action: params.Action, params, ok: false };
      // a call is listed once it has been answered, with its outcome: a test
      // that waits for the second call sees how it ended, not that it began
      const send = (status, o) => {
        calls.push(call);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ RequestId: crypto.randomUUID().toUpperCase(), ...o }));
      };
      const secret = keys[params.AccessKeyId];
      if (req.method !== 'POST' || params.Version !== '2015-01-09') return send(400, { Code: 'InvalidVersion', Message: 'bad version' });
      if (!secret) return send(404, { Code: 'InvalidAccessKeyId.NotFound', Message: 'Specified access key is not found.' });
      if (params.SignatureMethod !== 'HMAC-SHA1' || params.Signature !== acsSignV1('POST', params, secret)) {
        return send(400, { Code: 'SignatureDoesNotMatch', Message: 'Specified signature is not matched with our calculation.' });
      }
      try {
        if (params.Action === 'AddDomainRecord') {
          if (params.Type !== 'TXT' || !params.RR || !params.DomainName || !params.Value) {
            return send(400, { Code: 'MissingParameter', Message: 'RR, DomainName, Type TXT and Value are required' });
          }
          const host = `${params.RR}.${params.DomainName}.`;
          await setTxt('/set-txt', { host, value: params.Value });
          const id = String(seq++);
          records.set(id, { host, value: params.Value });
          call.ok = true;
          return send(200, { RecordId: id });
        }
        if (params.Action === 'DeleteDomainRecord') {
          const r = records.get(params.RecordId);
          if (!r) return send(400, { Code: 'DomainRecordNotBelongToUser', Message: 'The DNS record does not exist.' });
          records.delete(params.RecordId);
          await setTxt('/clear-txt', { host: r.host });
          call.ok = true;
          return send(200, { RecordId: params.RecordId });
        }
        return send(400, { Code: 'InvalidAction.NotFound', Message: `Specified api is not found: ${params.Action}` });
      } catch (e) {
        return send(500, { Code: 'InternalError', Message: e.message });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls,
    records,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}
