// console_endpoints_browser.test.mjs — the console's Endpoints page (under
// Certificates) in a real browser against the real binary and an
// `openssl s_server` on 127.0.0.1 serving a certificate for another name:
// an operator watches it with a contact to tell, sees the error with its
// reason after Check now, changes the contacts, removes it; a readonly user
// sees no write button; the page in 简体中文. Elements are found by role and
// accessible name only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, unique, waitFor, cleanUp,
} from './lib/harness.mjs';
import { launch, newPage, shot, signIn } from './lib/browser.mjs';
import { Pki } from './lib/pki.mjs';

const PASSWORD = 'correct horse battery staple';

let dir, server, browser, key, pki, tls, port;
const users = {};
const contexts = [];
let contactName;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  pki = new Pki();
  const leaf = pki.leaf(['other.example.test']);
  for (const [name, text] of [['c.pem', leaf.pem], ['k.pem', leaf.key], ['i.pem', pki.intermediate]]) fs.writeFileSync(path.join(pki.dir, name), text);
  port = await freePort();
  tls = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', path.join(pki.dir, 'c.pem'),
    '-key', path.join(pki.dir, 'k.pem'), '-cert_chain', path.join(pki.dir, 'i.pem'), '-www',
    '-no-CAfile', '-no-CApath', '-no-CAstore'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  tls.stdout.on('data', (c) => { out += c; });
  await waitFor(() => out.includes('ACCEPT'), { timeoutMs: 10000, what: 's_server' });
  server = await startServer(dir, { env: { CERTCONTACTS_ENDPOINT_CA_FILE: path.join(pki.dir, 'root.pem') } });
  for (const role of ['operator', 'readonly']) {
    const email = `${role}-${unique('u')}@example.com`;
    assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role, password: PASSWORD } }), 201);
    users[role] = { email };
  }
  contactName = `Wang Wu ${unique('n')}`;
  await createContact(server, key, { name: contactName });
  browser = await launch();
});

after(async () => {
  await cleanUp([...contexts.map((c) => () => c.close()), () => browser?.close(), () => server?.stop(),
    () => tls?.kill('SIGTERM'), () => pki?.remove(), () => removeDir(dir)]);
});

async function open(opts) {
  const p = await newPage(browser, opts);
  contexts.push(p.context);
  return p.page;
}

async function goToEndpoints(p, link = 'Endpoints', heading = 'Endpoints') {
  await p.getByRole('navigation').getByRole('link', { name: link, exact: true }).click();
  await p.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

test('an operator watches a server, checks it now, sees why it is in error, changes its contacts and removes it', async () => {
  const page = await open();
  await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(page, users.operator.email, PASSWORD);
  await page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  await goToEndpoints(page);
  await page.getByText('No endpoints watched yet.').waitFor();
  await page.getByRole('button', { name: 'Watch an endpoint' }).click();
  const dlg = page.getByRole('dialog', { name: 'Watch an endpoint' });
  await dlg.getByLabel('Host name or IP address').fill('127.0.0.1');
  await dlg.getByLabel('Port').fill(String(port));
  await dlg.getByLabel('Server name (SNI)').fill('www.example.test');
  await dlg.getByRole('checkbox', { name: contactName }).check();
  await dlg.getByRole('button', { name: 'Watch', exact: true }).click();
  await dlg.waitFor({ state: 'hidden' });
  const row = page.getByRole('row', { name: new RegExp(`www\\.example\\.test:${port}`) });
  await row.waitFor();
  await row.getByRole('button', { name: `Check now: www.example.test:${port} (127.0.0.1)` }).click();
  await row.getByText('Error', { exact: true }).waitFor();
  await row.getByText(/does not cover www\.example\.test; it is for other\.example\.test/).waitFor();
  assert.equal(await row.getByRole('cell', { name: '1', exact: true }).count(), 1);
  await shot(page, 'endpoints-error');

  await row.getByRole('button', { name: `Contacts: www.example.test:${port} (127.0.0.1)` }).click();
  const cdlg = page.getByRole('dialog', { name: /Contacts told about/ });
  await cdlg.getByRole('checkbox', { name: contactName }).uncheck();
  await cdlg.getByRole('button', { name: 'Save' }).click();
  await cdlg.waitFor({ state: 'hidden' });
  await row.getByRole('cell', { name: '0', exact: true }).waitFor();

  await row.getByRole('button', { name: `Delete: www.example.test:${port} (127.0.0.1)` }).click();
  const confirm = page.getByRole('dialog', { name: 'Stop watching this endpoint?' });
  await confirm.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No endpoints watched yet.').waitFor();
  assert.deepEqual(page.problems, []);
});

test('a readonly user sees the list without write buttons; the page in 简体中文', async () => {
  assertOk(await api(server, 'POST', '/v1/endpoints', { key, json: { host: '127.0.0.1', port, sni: 'ro.example.test' } }), 201);
  const page = await open();
  await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(page, users.readonly.email, PASSWORD);
  await page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  await goToEndpoints(page);
  await page.getByRole('row', { name: /ro\.example\.test/ }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Watch an endpoint' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: /Check now/ }).count(), 0);
  await page.getByLabel('Language').selectOption('zh-CN');
  await page.getByRole('heading', { name: '站点监测', level: 1 }).waitFor();
  await page.getByRole('columnheader', { name: '使用的证书' }).waitFor();
  assert.deepEqual(page.problems, []);
});
