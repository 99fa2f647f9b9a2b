// console_keyboard_browser.test.mjs — the console by keyboard (issue 17, item 9)
// and the smaller points of item 10, in a real browser, in English and 简体中文.
// Enter in a dialog's one-line field presses its main button (not in a
// textarea); Escape closes a dialog at once when nothing was changed and
// otherwise asks, inside the page, before throwing the changes away; focus
// never drops to <body> after OK, Delete, Send test, a throttled Verify or
// closing a dialog. Item 10: the sign-in hint speaks to a user, Send test
// picks the email first and writes the mobile as the list does, the template
// editor starts in the user's language with translated preview headings, and
// a broken robot says so in words at phone width.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, getContact,
  unique, verifiedContactBody, cleanUp, waitFor,
} from './lib/harness.mjs';
import { startRobots, wecomWebhookUrl, robotId } from './lib/robots.mjs';
import { launch, newPage, shot, signIn, PHONE } from './lib/browser.mjs';
import { WORDS } from '../../web/js/words.js';

const PASSWORD = 'correct horse battery staple';

let dir, server, key, browser, robots;
const users = {};
const pages = [];

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  robots = await startRobots();
  server = await startServer(dir, {
    env: { CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '', ...robots.env() },
  });
  for (const L of ['en', 'zh-CN']) {
    const email = `${unique('k')}@example.com`;
    const b = assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'operator', password: PASSWORD } }), 201);
    users[L] = { email, id: b.user.id };
  }
  browser = await launch();
});

after(async () => {
  await cleanUp([...pages.map((p) => () => p.context.close()), () => browser?.close(), () => server?.stop(), () => robots?.stop(), () => removeDir(dir)]);
});

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function open(opts) {
  const p = await newPage(browser, opts);
  pages.push(p);
  return p.page;
}

/** A page on the sign-in form in language L. */
async function signInPage(L, opts) {
  const page = await open(opts);
  await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  if (L !== 'en') await page.getByLabel(WORDS.en['lang.label'], { exact: true }).selectOption(L);
  await page.getByRole('button', { name: WORDS[L]['signin.submit'], exact: true }).waitFor();
  return page;
}

async function signedIn(L, opts) {
  const w = WORDS[L];
  const page = await signInPage(L, opts);
  await signIn(page, users[L].email, PASSWORD, { names: { email: w['signin.email'], password: w['signin.password'], submit: w['signin.submit'] } });
  await page.getByRole('heading', { name: w['contacts.title'], level: 1 }).waitFor();
  return page;
}

const row = (page, name) => page.getByRole('row', { name: new RegExp(esc(name)) });

/** Focus is somewhere real: not on <body> (nor nowhere). Returns a description of where it is. */
async function assertFocusKept(page, after) {
  const where = await page.evaluate(() => {
    const a = document.activeElement;
    if (!a || a === document.body || a === document.documentElement) return null;
    return `${a.tagName.toLowerCase()}${a.getAttribute('role') ? `[role=${a.getAttribute('role')}]` : ''} "${(a.getAttribute('aria-label') || a.textContent || '').trim().slice(0, 60)}"`;
  });
  assert.ok(where, `focus dropped to <body> after ${after}`);
  return where;
}

for (const L of ['en', 'zh-CN']) {
  const w = WORDS[L];
  test(`${L}: Enter submits a dialog, Escape asks before throwing changes away, and focus never drops to <body>`, { timeout: 120000 }, async () => {
    const a = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: await verifiedContactBody(server, key, { name: `Keys A ${unique('n')}` }) }), 201);
    const { contact: b } = await createContact(server, key, { name: `Keys B ${unique('n')}` });
    const page = await signedIn(L);
    const edit = page.getByRole('dialog', { name: w['form.editTitle'] });
    const nameBox = edit.getByLabel(w['form.name'], { exact: true });
    const discard = page.getByRole('dialog', { name: w['dialog.discardTitle'] });

    // Escape with nothing changed: closes at once, focus back on Edit
    await row(page, a.name).getByRole('button', { name: w['common.edit'] }).click();
    await nameBox.waitFor();
    await page.keyboard.press('Escape');
    await edit.waitFor({ state: 'detached' });
    assert.equal(await discard.count(), 0);
    await assertFocusKept(page, 'Escape on an unchanged dialog');

    // Escape with a change: asks first; Escape on the question keeps editing
    await row(page, a.name).getByRole('button', { name: w['common.edit'] }).click();
    await nameBox.fill(`${a.name} changed`);
    await page.keyboard.press('Escape');
    await discard.waitFor();
    assert.equal(await discard.getByRole('button', { name: w['dialog.keepEditing'] }).evaluate((el) => el === document.activeElement), true,
      'Keep editing is not focused');
    await shot(page, `keys-${L}-discard-question`);
    await page.keyboard.press('Escape');
    await discard.waitFor({ state: 'detached' });
    assert.equal(await nameBox.inputValue(), `${a.name} changed`);
    assert.equal(await edit.evaluate((d) => d.contains(document.activeElement)), true, 'focus left the Edit dialog');
    // ... and Discard throws the change away
    await page.keyboard.press('Escape');
    await discard.getByRole('button', { name: w['dialog.discard'], exact: true }).click();
    await edit.waitFor({ state: 'detached' });
    assert.equal(assertOk(await getContact(server, key, a.id), 200).name, a.name);
    await assertFocusKept(page, 'discarding changes');

    // Enter in a field presses OK: saved, the list drawn again, focus on the row's Edit
    await row(page, a.name).getByRole('button', { name: w['common.edit'] }).click();
    const renamed = `Keys A2 ${unique('n')}`;
    await nameBox.fill(renamed);
    await nameBox.press('Enter');
    await edit.waitFor({ state: 'detached' });
    await row(page, renamed).waitFor();
    assert.equal(assertOk(await getContact(server, key, a.id), 200).name, renamed);
    const afterOk = await assertFocusKept(page, 'OK');
    await shot(page, `keys-${L}-after-ok`);
    assert.equal(await row(page, renamed).evaluate((r) => r.contains(document.activeElement)), true, `focus is not on the edited row but on ${afterOk}`);

    // Send test: the email is picked first, the mobile is written as the list writes it;
    // focus lands on the verdict, then back on the row
    await row(page, renamed).getByRole('button', { name: w['contacts.sendTest'] }).click();
    const test = page.getByRole('dialog', { name: new RegExp(`^${esc(w['test.title'])}`) });
    await test.waitFor();
    const radios = test.getByRole('radio');
    assert.equal(await radios.first().isChecked(), true, 'the email is not picked');
    assert.match(await test.getByRole('radio', { checked: true }).evaluate((r) => r.closest('label').textContent), new RegExp(esc(w['channel.email'])));
    const mobileLabel = await test.getByRole('radio', { name: new RegExp(esc(w['channel.mobile'])) }).evaluate((r) => r.closest('label').textContent);
    assert.match(mobileLabel, /\+86 1\d{2} \d{4} \d{4}/, mobileLabel);
    await test.getByRole('button', { name: w['test.send'], exact: true }).click();
    await test.getByRole('status').filter({ hasText: new RegExp(`${esc(w['test.delivered'])}|${esc(w['test.notDelivered'])}`) }).waitFor();
    // the platform's verdict reads in the console's language
    const verdict = await test.getByRole('status').textContent();
    if (L === 'zh-CN') {
      assert.match(verdict, /[\u4e00-\u9fff]/, verdict);
      assert.doesNotMatch(verdict, /written to the log|accepted by/, verdict);
    }
    const onVerdict = await assertFocusKept(page, 'Send test');
    assert.equal(await test.getByRole('status').evaluate((s) => s === document.activeElement), true, `focus is on ${onVerdict}, not the verdict`);
    await shot(page, `keys-${L}-send-test`);
    await test.getByRole('button', { name: w['common.close'], exact: true }).last().click();
    await test.waitFor({ state: 'detached' });
    await assertFocusKept(page, 'closing Send test');

    // Delete: the row goes, focus stays in the list
    await row(page, b.name).getByRole('button', { name: w['common.delete'] }).click();
    const confirm = page.getByRole('dialog', { name: w['delete.title'] });
    await confirm.getByRole('button', { name: w['common.delete'], exact: true }).click();
    await confirm.waitFor({ state: 'detached' });
    await row(page, b.name).waitFor({ state: 'detached' });
    const afterDelete = await assertFocusKept(page, 'Delete');
    assert.equal(await page.getByRole('table').evaluate((t) => t.contains(document.activeElement) || t === document.activeElement), true,
      `focus is not in the list but on ${afterDelete}`);
    await shot(page, `keys-${L}-after-delete`);
    assert.deepEqual(page.problems, [], page.problems.join('\n'));
  });

  test(`${L}: Verify, then Verify again while throttled: focus stays on the field's group or the message`, { timeout: 60000 }, async () => {
    const { contact: c } = await createContact(server, key, { name: `Keys V ${unique('n')}` });
    const page = await signedIn(L);
    const edit = page.getByRole('dialog', { name: w['form.editTitle'] });
    const mv = edit.getByRole('group', { name: w['form.mobileVerification'] });
    await row(page, c.name).getByRole('button', { name: w['common.edit'] }).click();
    await mv.getByRole('button', { name: w['verify.verify'] }).click();
    await mv.getByLabel(w['verify.code']).waitFor();
    await page.waitForLoadState('networkidle');
    await assertFocusKept(page, 'Verify');
    await page.keyboard.press('Escape');
    await edit.waitFor({ state: 'detached' });
    // reopened within the resend interval: Verify is throttled
    await row(page, c.name).getByRole('button', { name: w['common.edit'] }).click();
    const verify = mv.getByRole('button', { name: w['verify.verify'] });
    await verify.click();
    await page.waitForLoadState('networkidle');
    const where = await assertFocusKept(page, 'a throttled Verify');
    assert.equal(await edit.evaluate((d) => d.contains(document.activeElement)), true, `focus left the dialog: ${where}`);
    await shot(page, `keys-${L}-throttled-verify`);
    await page.keyboard.press('Escape');
    if (await page.getByRole('dialog', { name: w['dialog.discardTitle'] }).count()) {
      await page.getByRole('button', { name: w['dialog.discard'], exact: true }).click();
    }
    await edit.waitFor({ state: 'detached' });
    await assertFocusKept(page, 'closing Edit');
    assert.deepEqual(page.problems, [], page.problems.join('\n'));
  });

  test(`${L}: Enter in a textarea is a new line, not OK`, async () => {
    const page = await signedIn(L);
    await page.goto(`${server.base}/#/certificates`);
    await page.getByRole('button', { name: w['certs.upload'] }).first().click();
    const dlg = page.getByRole('dialog', { name: w['certs.upload'] });
    const pem = dlg.getByLabel(w['certs.pem'], { exact: true });
    await pem.fill('-----BEGIN CERTIFICATE-----');
    await pem.press('Enter');
    await pem.pressSequentially('x');
    assert.equal(await pem.inputValue(), '-----BEGIN CERTIFICATE-----\nx');
    assert.equal(await dlg.count(), 1);
    assert.equal(await dlg.getByRole('alert').filter({ hasText: /\S/ }).count(), 0, 'the dialog was submitted');
    await page.keyboard.press('Escape');
    const discard = page.getByRole('dialog', { name: w['dialog.discardTitle'] });
    await discard.waitFor();
    await shot(page, `keys-${L}-discard-upload`);
    await discard.getByRole('button', { name: w['dialog.discard'], exact: true }).click();
    await dlg.waitFor({ state: 'detached' });
    await assertFocusKept(page, 'discarding an upload');
  });

  test(`${L}: the sign-in hint is for a user; templates start in the user's language with translated preview headings`, async () => {
    const page = await signInPage(L);
    const hint = (await page.locator('.signin-hint').innerText()).trim();
    assert.equal(hint, w['signin.hint']);
    assert.doesNotMatch(hint, /certcontacts user|make run|"/, hint);
    await signIn(page, users[L].email, PASSWORD, { names: { email: w['signin.email'], password: w['signin.password'], submit: w['signin.submit'] } });
    await page.getByRole('heading', { name: w['contacts.title'], level: 1 }).waitFor();
    await page.goto(`${server.base}/#/settings`);
    await page.getByRole('tab', { name: w['settings.templates'] }).click();
    const langSel = page.getByLabel(w['tpl.language'], { exact: true });
    await langSel.waitFor();
    assert.equal(await langSel.inputValue(), L);
    const preview = page.getByRole('region', { name: w['tpl.preview'] });
    const heads = preview.getByRole('heading', { level: 3 });
    await heads.first().waitFor();
    const names = await heads.allTextContents(); // as written (the style shows them in capitals)
    const allowed = ['title', 'text', 'markdown', 'html'].map((f) => w[`tform.${f}`]);
    for (const n of names) assert.ok(allowed.includes(n.trim()), `untranslated preview heading "${n}"`);
    if (L === 'zh-CN') assert.ok(names.some((n) => /[\u4e00-\u9fff]/.test(n)), names.join(', '));
    await shot(page, `keys-${L}-templates`);
  });

  test(`${L}: a broken robot is said in words, readable at phone width`, async () => {
    const id = robotId('wecom');
    robots.register('wecom', id);
    robots.update('wecom', id, { removed: true });
    const { contact: c } = await createContact(server, key, { name: `Keys R ${unique('n')}`, webhooks: [{ url: wecomWebhookUrl(id) }] });
    const hook = assertOk(await getContact(server, key, c.id), 200).webhooks[0];
    const v = assertOk(await api(server, 'POST', `/v1/contacts/${c.id}/test`, { key, json: { channel: 'webhook', webhook_id: hook.id } }), 200);
    assert.equal(v.delivered, false);
    const page = await signedIn(L, { viewport: PHONE });
    const r = row(page, c.name);
    const word = r.getByText(w['status.broken'], { exact: true });
    await word.waitFor();
    assert.equal(await word.isVisible(), true);
    // the list may render its rows again (a refresh) between the wait and the read:
    // read the word once it is in the page
    const size = await waitFor(async () => {
      const s = await word.evaluate((el) => (el.isConnected ? parseFloat(getComputedStyle(el).fontSize) : NaN));
      return Number.isNaN(s) ? null : s;
    }, { timeoutMs: 5000, what: 'the broken word rendered' });
    assert.ok(size >= 12, `the broken word is ${size}px`);
    await shot(page, `keys-${L}-phone-broken-robot`);
  });
}
