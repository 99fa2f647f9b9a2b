// console_session_browser.test.mjs — no lost work when a console session ends
// (issue 17, item 4), in a real browser, in English and 简体中文. The server runs
// with a short session_idle_timeout: a person opens Edit, types, leaves the
// console alone until the session has ended and presses OK. A sign-in dialog
// opens over the page (not the browser's own password box: no 401 carries
// WWW-Authenticate), the Edit dialog and what was typed stay behind it, and
// after signing in again the save goes through. A session signed out
// elsewhere does the same; cancelling the sign-in keeps the dialog and its
// data, and someone else signing in starts a clean console as them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, getContact,
  unique, waitFor, verifiedContactBody, cleanUp,
} from './lib/harness.mjs';
import { launch, newPage, shot, signIn } from './lib/browser.mjs';
import { WORDS } from '../../web/js/words.js';

const PASSWORD = 'correct horse battery staple';
const IDLE_S = 10; // session_idle_timeout: short, so a test can outwait it

let dir, server, key, browser;
const users = {};
const pages = [];

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  server = await startServer(dir, {
    env: {
      CERTCONTACTS_DEV: '1',
      CERTCONTACTS_SMS_PROVIDER: 'log',
      CERTCONTACTS_SMTP_URL: '',
      CERTCONTACTS_SESSION_IDLE_TIMEOUT: String(IDLE_S),
    },
  });
  for (const name of ['en', 'zh-CN', 'other']) {
    const email = `${unique('s')}@example.com`;
    const b = assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'operator', password: PASSWORD } }), 201);
    users[name] = { email, id: b.user.id };
  }
  browser = await launch();
});

after(async () => {
  await cleanUp([...pages.map((p) => () => p.context.close()), () => browser?.close(), () => server?.stop(), () => removeDir(dir)]);
});

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A signed-in page in language L. It records when it last called the API and
 * every 401 it was answered, so a test can outwait the session and check that
 * none asked the browser for a password.
 */
async function openSignedIn(L, user) {
  const p = await newPage(browser);
  pages.push(p);
  const page = p.page;
  page.lastApi = Date.now();
  page.unauthorized = [];
  page.on('request', (r) => {
    if (new URL(r.url()).pathname.startsWith('/v1/')) page.lastApi = Date.now();
  });
  page.on('response', (r) => {
    if (r.status() === 401) page.unauthorized.push({ url: r.url(), challenge: r.headers()['www-authenticate'] || null });
  });
  const w = WORDS[L];
  await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  if (L !== 'en') await page.getByLabel(WORDS.en['lang.label'], { exact: true }).selectOption(L);
  await signIn(page, user.email, PASSWORD, { names: { email: w['signin.email'], password: w['signin.password'], submit: w['signin.submit'] } });
  await page.getByRole('heading', { name: w['contacts.title'], level: 1 }).waitFor();
  return page;
}

/** Waits (without calling the API, which would keep it alive) until the page's session has gone unused too long. */
async function outwaitSession(page) {
  await waitFor(() => Date.now() > page.lastApi + IDLE_S * 1000 + 1500, {
    timeoutMs: IDLE_S * 1000 + 10000, intervalMs: 200, what: 'the session to go idle',
  });
}

function noChallenge(page) {
  assert.ok(page.unauthorized.length > 0, 'no call was refused: the session did not end');
  assert.deepEqual(page.unauthorized.filter((u) => u.challenge), [], 'a console 401 carried WWW-Authenticate');
}

for (const L of ['en', 'zh-CN']) {
  const w = WORDS[L];
  test(`${L}: after an idle time-out, OK opens a sign-in dialog over the Edit dialog, and signing in saves what was typed`, { timeout: 120000 }, async () => {
    const body = await verifiedContactBody(server, key, { name: `Idle ${unique('n')}` });
    const c = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: body }), 201);
    const page = await openSignedIn(L, users[L]);
    const row = page.getByRole('row', { name: new RegExp(esc(c.name)) });
    await row.getByRole('button', { name: w['common.edit'] }).click();
    const edit = page.getByRole('dialog', { name: w['form.editTitle'] });
    const nameBox = edit.getByLabel(w['form.name'], { exact: true });
    await nameBox.waitFor();
    const newName = `Renamed ${unique('n')}`;
    await nameBox.fill(newName);
    await shot(page, `session-${L}-typed`);

    await outwaitSession(page);
    await edit.getByRole('button', { name: w['common.ok'], exact: true }).click();
    const again = page.getByRole('dialog', { name: w['signin.againTitle'] });
    await again.waitFor();
    // over the page: the Edit dialog and its data are still there, behind it
    assert.equal(await edit.count(), 1, 'the Edit dialog was closed');
    assert.equal(await nameBox.inputValue(), newName);
    assert.equal(await again.getByLabel(w['signin.email'], { exact: true }).inputValue(), users[L].email);
    noChallenge(page);
    assert.equal(assertOk(await getContact(server, key, c.id), 200).name, c.name, 'saved without a session');
    await shot(page, `session-${L}-sign-in-again`);

    // a wrong password is refused inside the dialog, which stays
    const pw = again.getByLabel(w['signin.password'], { exact: true });
    await pw.fill('not the password');
    await pw.press('Enter');
    await again.getByRole('alert').filter({ hasText: /\S/ }).waitFor();
    assert.equal(await edit.count(), 1);
    await shot(page, `session-${L}-wrong-password`);

    // signing in again makes the refused save again: it goes through and the dialog closes
    await pw.fill(PASSWORD);
    await pw.press('Enter');
    await again.waitFor({ state: 'detached' });
    await edit.waitFor({ state: 'detached' });
    await page.getByRole('row', { name: new RegExp(esc(newName)) }).waitFor();
    assert.equal(assertOk(await getContact(server, key, c.id), 200).name, newName);
    assert.equal(await page.evaluate(() => document.activeElement !== document.body), true, 'focus dropped to <body>');
    await shot(page, `session-${L}-saved`);
    assert.deepEqual(page.problems, [], page.problems.join('\n'));
  });
}

test('a session signed out elsewhere: cancel keeps the dialog and its data; another user signing in starts clean', { timeout: 60000 }, async () => {
  const w = WORDS.en;
  // verified addresses: OK saves only those, so the save reaches the server
  const c = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: await verifiedContactBody(server, key, { name: `Gone ${unique('n')}` }) }), 201);
  const page = await openSignedIn('en', users.en);
  const row = page.getByRole('row', { name: new RegExp(esc(c.name)) });
  await row.getByRole('button', { name: w['common.edit'] }).click();
  const edit = page.getByRole('dialog', { name: w['form.editTitle'] });
  const nameBox = edit.getByLabel(w['form.name'], { exact: true });
  await nameBox.waitFor();
  const typed = `Typed ${unique('n')}`;
  await nameBox.fill(typed);

  // signed out from another tab of the same browser
  const other = await page.context().newPage();
  await other.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  const out = await other.evaluate(async () => {
    const s = await (await fetch('/v1/session')).json();
    const r = await fetch('/v1/session', { method: 'DELETE', headers: { 'X-CSRF-Token': s.csrf_token, 'Content-Type': 'application/json' } });
    return r.status;
  });
  assert.equal(out, 204);
  await other.close();

  await edit.getByRole('button', { name: w['common.ok'], exact: true }).click();
  const again = page.getByRole('dialog', { name: w['signin.againTitle'] });
  await again.waitFor();
  noChallenge(page);
  await again.getByRole('button', { name: w['common.cancel'] }).click();
  await again.waitFor({ state: 'detached' });
  // the Edit dialog stays with what was typed and says why it did not save
  assert.equal(await nameBox.inputValue(), typed);
  await edit.getByRole('alert').filter({ hasText: /\S/ }).waitFor();
  await shot(page, 'session-cancelled');

  // OK again asks again; this time someone else signs in: a clean console as them
  await edit.getByRole('button', { name: w['common.ok'], exact: true }).click();
  await again.waitFor();
  await again.getByLabel(w['signin.email'], { exact: true }).fill(users.other.email);
  await again.getByLabel(w['signin.password'], { exact: true }).fill(PASSWORD);
  await again.getByRole('button', { name: w['signin.submit'], exact: true }).click();
  await page.getByText(users.other.email).waitFor();
  await page.getByRole('heading', { name: w['contacts.title'], level: 1 }).waitFor();
  assert.equal(await page.getByRole('dialog').count(), 0, 'a dialog of the previous user is still open');
  assert.equal(assertOk(await getContact(server, key, c.id), 200).name, c.name, 'the other user saved the first one\'s edit');
  await shot(page, 'session-other-user');
  assert.deepEqual(page.problems, [], page.problems.join('\n'));
});
