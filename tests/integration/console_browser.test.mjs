// console_browser.test.mjs — the web console in a real browser (Debian's chromium,
// headless, through playwright-core) against the real binary, with the test SMTP
// server, the SMS gateway stand-in and the robot receivers: a person signs in,
// creates a contact with two robots and verifies its email and mobile with the
// codes that arrived, searches, edits the mobile (unverified again), sends a test
// to a robot and reads the verdict, cannot add a sixth robot, deletes the contact
// behind the confirmation, switches to 简体中文, reads the audit log and signs out. A readonly user sees
// no write action and the API refuses one anyway; a request without the CSRF
// token is refused; wrong passwords lock the user and an admin unlocks them. Elements are found by role and
// accessible name only. Screenshots of each step: tests/integration/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, getContact,
  unique, uniqueMobile, waitFor, cleanUp,
} from './lib/harness.mjs';
import { startSmtpSink, startSmsGateway, codeFromMail, nationalMobile } from './lib/sinks.mjs';
import { startRobots, dingtalkWebhookUrl, wecomWebhookUrl, robotId } from './lib/robots.mjs';
import { launch, newPage, shot, signIn, pageFetch, resetScreenshots, PHONE, STEP_TIMEOUT_MS } from './lib/browser.mjs';

const SMS_KEY_ID = 'LTAI5tConsoleBrowser01';
const SMS_SECRET = 'console-browser-sms-secret';
const SIGN_NAME = 'certcontacts';
const TEMPLATE = 'SMS_468009876';
const PASSWORD = 'correct horse battery staple';
const DING_SECRET = `SEC${'c0ffee'.repeat(8)}`;

let dir, server, sink, gw, robots, browser, key;
const users = {};
const pages = [];
let page; // the admin's page, shared by the flow's steps in order
let dingToken, wecomKey;
const person = {
  name: `Alice ${unique('n')}`,
  email: `${unique('alice')}@example.com`,
  mobile: uniqueMobile('139'),
  newMobile: uniqueMobile('138'),
};
let contactId;

before(async () => {
  resetScreenshots();
  dir = makeDataDir();
  key = createAccount(dir);
  sink = await startSmtpSink();
  gw = await startSmsGateway({ keys: { [SMS_KEY_ID]: SMS_SECRET }, signName: SIGN_NAME, templateCode: TEMPLATE });
  robots = await startRobots();
  dingToken = robots.register('dingtalk', robotId('dingtalk'), { secret: DING_SECRET, keywords: ['certificate', '证书'] });
  wecomKey = robots.register('wecom', robotId('wecom'));
  server = await startServer(dir, {
    env: {
      CERTCONTACTS_SMTP_URL: sink.url,
      CERTCONTACTS_SMTP_FROM: 'certcontacts <noreply@certcontacts.test>',
      CERTCONTACTS_SMTP_STARTTLS: 'optional',
      CERTCONTACTS_SMS_PROVIDER: 'aliyun',
      CERTCONTACTS_SMS_ENDPOINT: gw.url,
      CERTCONTACTS_SMS_ACCESS_KEY_ID: SMS_KEY_ID,
      CERTCONTACTS_SMS_ACCESS_KEY_SECRET: SMS_SECRET,
      CERTCONTACTS_SMS_SIGN_NAME: SIGN_NAME,
      CERTCONTACTS_SMS_TEMPLATE_CODE: TEMPLATE,
      CERTCONTACTS_SEND_TIMEOUT_MS: '5000',
      ...robots.env(),
    },
  });
  // console users, made through the API with the account's admin key
  for (const role of ['admin', 'readonly', 'operator']) {
    const email = `${role}-${unique('u')}@example.com`;
    const r = await api(server, 'POST', '/v1/users', { key, json: { email, role, password: PASSWORD } });
    const b = assertOk(r, 201);
    assert.equal(b.user.role, role);
    users[role] = { email, id: b.user.id };
  }
  browser = await launch();
});

after(async () => {
  await cleanUp([
    ...pages.map((p) => () => p.context.close()),
    () => browser?.close(),
    () => server?.stop(),
    () => robots?.stop(),
    () => gw?.stop(),
    () => sink?.stop(),
    () => removeDir(dir),
  ]);
});

async function open(opts) {
  const p = await newPage(browser, opts);
  pages.push(p);
  return p.page;
}

function noProblems(p) {
  assert.deepEqual(p.problems, [], `the page reported problems:\n${p.problems.join('\n')}`);
}

/** The table row of a contact, found by the name in its row header. */
function row(p, name) {
  return p.getByRole('row', { name: new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) });
}

/** What an input's aria-describedby points at (its hint and error: what a screen reader reads with it). */
async function description(input) {
  return input.evaluate((el) => (el.getAttribute('aria-describedby') || '').split(/\s+/)
    .map((id) => document.getElementById(id)).filter((x) => x && !x.hidden)
    .map((x) => x.textContent).join(' '));
}

// ------------------------------------------------------------------ the flow

/** After a failed step: close what it left open, so the next step starts from the page. */
async function closeDialogs(p) {
  for (let i = 0; i < 5 && (await p.getByRole('dialog').count()) > 0; i++) await p.keyboard.press('Escape');
}


test('sign in: the console is served under a strict CSP and the empty list invites the first contact', async () => {
  page = await open();
  const res = await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  assert.equal(res.status(), 200);
  const csp = res.headers()['content-security-policy'] || '';
  assert.match(csp, /script-src 'self'/, csp);
  assert.doesNotMatch(csp, /unsafe-inline/, csp);
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  await shot(page, 'sign-in');

  // a wrong password is refused in words on the form
  await signIn(page, users.admin.email, 'not the password');
  await page.getByRole('alert').filter({ hasText: /\S/ }).first().waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Contact Management' }).count(), 0);

  await signIn(page, users.admin.email, PASSWORD);
  await page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  await nav.getByText('Comprehensive Management').waitFor();
  assert.equal(await nav.getByRole('link', { name: 'Contact Management' }).getAttribute('aria-current'), 'page');
  await page.getByRole('heading', { name: 'No contacts yet' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Create Contact' }).count(), 1);
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await shot(page, 'empty-contacts');
  noProblems(page);
});

test('create a contact with two robots, verifying email and mobile with the codes that arrived', async () => {
  await page.getByRole('button', { name: 'Create Contact' }).click();
  const dlg = page.getByRole('dialog', { name: 'Create Contact' });
  await dlg.waitFor();
  // focus starts inside the dialog and Tab cannot leave it
  for (let i = 0; i < 40; i++) await page.keyboard.press('Tab');
  assert.equal(await dlg.evaluate((d) => d.contains(document.activeElement)), true, 'focus left the dialog');

  await dlg.getByLabel('Contact Name').fill(person.name);
  // a field error comes back from the API and sits next to its field (Verify
  // asks the server first: OK saves only verified addresses)
  await dlg.getByLabel('Email Address').fill('not-an-email');
  await dlg.getByLabel('Mobile Number').fill(nationalMobile(person.mobile));
  await dlg.getByRole('group', { name: 'Email verification' }).getByRole('button', { name: 'Verify' }).click();
  const emailInput = dlg.getByLabel('Email Address');
  await waitFor(async () => (await emailInput.getAttribute('aria-invalid')) === 'true', { timeoutMs: STEP_TIMEOUT_MS, what: 'the email field marked invalid' });
  const apiErr = await api(server, 'POST', '/v1/contacts', { key, json: { name: 'x', email: 'not-an-email', mobile: uniqueMobile() } });
  assert.match(apiErr.json.code, /\.Email$/);
  assert.ok((await description(emailInput)).includes(apiErr.json.message), 'the API\'s message is not next to the email field');
  await dlg.getByText(apiErr.json.message, { exact: true }).waitFor();
  await shot(page, 'create-field-error');

  await emailInput.fill(person.email);
  // two robots: the platform is recognised as soon as the URL is pasted
  const bot1 = dlg.getByRole('group', { name: 'Bot 1' });
  await bot1.getByLabel('Webhook URL').fill(dingtalkWebhookUrl(dingToken));
  await bot1.getByText('DingTalk', { exact: true }).waitFor();
  await bot1.getByLabel('Signing Secret').fill(DING_SECRET);
  await dlg.getByRole('button', { name: 'Add Bot' }).click();
  const bot2 = dlg.getByRole('group', { name: 'Bot 2' });
  await bot2.getByLabel('Webhook URL').fill(wecomWebhookUrl(wecomKey));
  await bot2.getByText('WeCom', { exact: true }).waitFor();

  // email: Verify, the code arrives by SMTP, Enter confirms
  const ev = dlg.getByRole('group', { name: 'Email verification' });
  await ev.getByText('Unverified', { exact: true }).waitFor();
  const mark = sink.mark();
  await ev.getByRole('button', { name: 'Verify' }).click();
  const mail = await sink.waitForMail(person.email, { after: mark, timeoutMs: STEP_TIMEOUT_MS });
  const emailCode = codeFromMail(mail);
  const codeBox = ev.getByLabel('Verification Code');
  await codeBox.fill(emailCode);
  await shot(page, 'email-code');
  await codeBox.press('Enter');
  await ev.getByText('Verified', { exact: true }).waitFor();
  assert.equal(await ev.getByLabel('Verification Code').count(), 0, 'the code box stays after confirming');

  // mobile: Verify, a visible countdown before a resend, the code from the SMS gateway, Confirm
  const mv = dlg.getByRole('group', { name: 'Mobile verification' });
  const phone = nationalMobile(person.mobile);
  const before = gw.sentTo(phone).length;
  await mv.getByRole('button', { name: 'Verify' }).click();
  const sms = await gw.waitForSms(phone, { after: before, timeoutMs: STEP_TIMEOUT_MS });
  const resend = mv.getByRole('button', { name: /^Resend in \d+ s$/ });
  await resend.waitFor();
  assert.equal(await resend.isDisabled(), true, 'resend is possible before the cooldown');
  // a wrong code is refused next to the code box, with the attempts left
  const wrong = String((Number(sms.templateParam.code) + 1) % 1000000).padStart(6, '0');
  await mv.getByLabel('Verification Code').fill(wrong);
  await mv.getByRole('button', { name: 'Confirm' }).click();
  await mv.getByText(/attempts left/).waitFor();
  await mv.getByLabel('Verification Code').fill(sms.templateParam.code);
  await mv.getByRole('button', { name: 'Confirm' }).click();
  await mv.getByText('Verified', { exact: true }).waitFor();
  await shot(page, 'create-verified');

  await dlg.getByRole('button', { name: 'OK', exact: true }).click();
  await dlg.waitFor({ state: 'detached' });
  const r = row(page, person.name);
  await r.waitFor();
  assert.equal(await r.getByText('Verified', { exact: true }).count(), 2, 'email and mobile both say Verified');
  await r.getByRole('img', { name: /DingTalk/ }).waitFor();
  await r.getByRole('img', { name: /WeCom/ }).waitFor();
  await shot(page, 'contact-created');

  // the server agrees
  const list = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(person.name)}`, { key }), 200);
  assert.equal(list.total, 1);
  contactId = list.items[0].id;
  const c = assertOk(await getContact(server, key, contactId), 200);
  assert.equal(c.email, person.email);
  assert.equal(c.mobile, person.mobile);
  assert.equal(c.email_status, 1);
  assert.equal(c.mobile_status, 1);
  assert.deepEqual(c.webhooks.map((w) => [w.kind, w.has_secret]), [['dingtalk', true], ['wecom', false]]);
  noProblems(page);
});

test('search finds the contact by a keyword and not the others', async () => {
  await closeDialogs(page);
  const other = `Bob ${unique('n')}`;
  await createContact(server, key, { name: other });
  await page.reload();
  await row(page, other).waitFor();
  const box = page.getByRole('searchbox', { name: 'Search contacts' });
  await box.fill(person.email.slice(0, 9));
  await box.press('Enter');
  await waitFor(async () => (await row(page, other).count()) === 0, { timeoutMs: STEP_TIMEOUT_MS, what: 'the other contact to leave the list' });
  await row(page, person.name).waitFor();
  await shot(page, 'search');
  await box.fill('no-such-contact-anywhere');
  await box.press('Enter');
  await page.getByText(/No contact matches/).waitFor();
  await box.fill('');
  await box.press('Enter');
  await row(page, other).waitFor();
});

test('editing the mobile shows it Unverified until verified again, and OK waits for it', async () => {
  await closeDialogs(page);
  await row(page, person.name).getByRole('button', { name: 'Edit' }).click();
  const dlg = page.getByRole('dialog', { name: 'Edit Contact' });
  await dlg.waitFor();
  assert.equal(await dlg.getByLabel('Contact Name').inputValue(), person.name);
  assert.equal(await dlg.getByLabel('Email Address').inputValue(), person.email);
  const mv = dlg.getByRole('group', { name: 'Mobile verification' });
  await mv.getByText('Verified', { exact: true }).waitFor();
  await dlg.getByLabel('Mobile Number').fill(nationalMobile(person.newMobile));
  await mv.getByText('Unverified', { exact: true }).waitFor();
  await mv.getByRole('button', { name: 'Verify' }).waitFor();
  await shot(page, 'edit-mobile-unverified');
  // OK saves only a verified number, and says so next to it
  await dlg.getByRole('button', { name: 'OK', exact: true }).click();
  await mv.getByText('Verify this address before saving.').waitFor();
  assert.equal(assertOk(await getContact(server, key, contactId), 200).mobile, person.mobile, 'OK saved an unverified number');
  const phone = nationalMobile(person.newMobile);
  const before = gw.sentTo(phone).length;
  await mv.getByRole('button', { name: 'Verify' }).click();
  const sms = await gw.waitForSms(phone, { after: before, timeoutMs: STEP_TIMEOUT_MS });
  await mv.getByLabel('Verification Code').fill(sms.templateParam.code);
  await mv.getByRole('button', { name: 'Confirm' }).click();
  await mv.getByText('Verified', { exact: true }).waitFor();
  await dlg.getByRole('button', { name: 'OK', exact: true }).click();
  await dlg.waitFor({ state: 'detached' });
  const r = row(page, person.name);
  await waitFor(async () => (await r.getByText('Verified', { exact: true }).count()) === 2, { timeoutMs: STEP_TIMEOUT_MS, what: 'both addresses Verified in the row' });
  await shot(page, 'edited');
  const c = assertOk(await getContact(server, key, contactId), 200);
  assert.equal(c.mobile, person.newMobile);
  assert.equal(c.mobile_status, 1);
  assert.equal(c.email_status, 1);
});

test('send a test to a robot and see the verdict: delivered, then refused with its reason', async () => {
  await closeDialogs(page);
  await row(page, person.name).getByRole('button', { name: 'Send test' }).click();
  const dlg = page.getByRole('dialog', { name: /Send test/ });
  await dlg.waitFor();
  await dlg.getByRole('radio', { name: /DingTalk/ }).check();
  const m = robots.mark();
  await dlg.getByRole('button', { name: 'Send test' }).click();
  await dlg.getByRole('status').getByText('Delivered', { exact: true }).waitFor();
  await robots.waitFor('dingtalk', dingToken, 1, { after: m, timeoutMs: STEP_TIMEOUT_MS });
  await shot(page, 'test-delivered');

  robots.update('wecom', wecomKey, { removed: true });
  await dlg.getByRole('radio', { name: /WeCom/ }).check();
  await dlg.getByRole('button', { name: 'Send test' }).click();
  const status = dlg.getByRole('status');
  await status.getByText('Not delivered').waitFor();
  const text = await status.innerText();
  assert.match(text, /93008|group|removed/i, `the verdict should give the platform's reason:\n${text}`);
  await shot(page, 'test-refused');
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'detached' });
  // the refused robot is marked broken in the list: in words beside its icon
  // (readable on a phone), its reason in the icon's name and on hover
  const broken = row(page, person.name).getByRole('img', { name: /WeCom.*broken/i });
  await broken.waitFor();
  const item = broken.locator('xpath=..');
  assert.match(await item.innerText(), /Broken/);
  assert.match(await item.getAttribute('title'), /broken: \S/);
  // and in the detail: the robot's row in the Edit dialog says why
  await row(page, person.name).getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit Contact' });
  await edit.getByRole('group', { name: 'Bot 2' }).getByText(/^Broken: /).waitFor();
  await shot(page, 'broken-robot-detail');
  await edit.getByRole('button', { name: 'Cancel' }).click();
  await edit.waitFor({ state: 'detached' });
  robots.update('wecom', wecomKey, { removed: false });
});

test('the delivery log shows each notification, its attempts with the platform answer, and resends', async () => {
  await closeDialogs(page);
  const m = robots.mark();
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key,
    json: { type: 'certificate.expiring', contact_ids: [contactId], data: { domains: ['www.example.com'], days_left: 30 } },
  }), 201);
  await robots.waitFor('dingtalk', dingToken, 1, { after: m, timeoutMs: STEP_TIMEOUT_MS });
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Notifications' }).click();
  await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
  await page.getByLabel('Channel', { exact: true }).selectOption('webhook');
  // the Contact filter is a searchable picker: type, then choose
  await page.getByRole('combobox', { name: 'Contact' }).fill(person.name);
  await page.getByRole('option', { name: new RegExp(person.name) }).click();
  // the robots' notifications, delivered (poll: the dispatcher may still be at it)
  const delivered = page.getByRole('row').filter({ hasText: 'Delivered' });
  await waitFor(async () => {
    if ((await delivered.count()) >= 1) return true;
    await page.getByRole('button', { name: 'Refresh' }).click();
    return false;
  }, { timeoutMs: STEP_TIMEOUT_MS, intervalMs: 300, what: 'a delivered robot notification in the log' });
  assert.equal(await page.getByRole('row').filter({ hasText: 'SMS' }).count(), 0, 'the channel filter let an SMS through');
  await shot(page, 'delivery-log');
  await delivered.first().getByRole('button', { name: 'Details' }).click();
  const dlg = page.getByRole('dialog', { name: /^Notification \d+$/ });
  await dlg.waitFor();
  const attempts = dlg.getByRole('table', { name: 'Delivery attempts' });
  await attempts.waitFor();
  assert.ok((await attempts.getByRole('row').count()) >= 2, 'no attempt row');
  await shot(page, 'notification-detail');
  const before = (await api(server, 'GET', `/v1/events/${ev.id}`, { key })).json;
  assert.ok(before.notifications.length >= 2, JSON.stringify(before));
  const m2 = robots.mark();
  await dlg.getByRole('button', { name: 'Resend' }).click();
  await dlg.waitFor({ state: 'detached' });
  await robots.waitForRequests('dingtalk', dingToken, 1, { after: m2, timeoutMs: STEP_TIMEOUT_MS }).catch(async () => {
    await robots.waitForRequests('wecom', wecomKey, 1, { after: m2, timeoutMs: STEP_TIMEOUT_MS });
  });
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Contact Management' }).click();
  await row(page, person.name).waitFor();
});

test('a sixth robot cannot be added', async () => {
  await closeDialogs(page);
  await row(page, person.name).getByRole('button', { name: 'Edit' }).click();
  const dlg = page.getByRole('dialog', { name: 'Edit Contact' });
  await dlg.waitFor();
  // a saved robot can be tested from its row
  const m = robots.mark();
  const bot1 = dlg.getByRole('group', { name: 'Bot 1' });
  await bot1.getByRole('button', { name: 'Send test' }).click();
  await bot1.getByRole('status').getByText('Delivered', { exact: true }).waitFor();
  await robots.waitFor('dingtalk', dingToken, 1, { after: m, timeoutMs: STEP_TIMEOUT_MS });
  const add = dlg.getByRole('button', { name: 'Add Bot' });
  // a robot not saved yet can be tested from its row too, before OK
  const fresh = robots.register('dingtalk', null, { keywords: ['certificate'] });
  await add.click();
  const bot3 = dlg.getByRole('group', { name: 'Bot 3' });
  await bot3.getByLabel('Webhook URL').fill(dingtalkWebhookUrl(fresh));
  await bot3.getByRole('button', { name: 'Send test' }).click();
  await bot3.getByRole('status').getByText('Delivered', { exact: true }).waitFor();
  await robots.waitFor('dingtalk', fresh, 1, { timeoutMs: STEP_TIMEOUT_MS });
  for (let n = 4; n <= 5; n++) {
    await add.click();
    await dlg.getByRole('group', { name: `Bot ${n}` }).getByLabel('Webhook URL').fill(dingtalkWebhookUrl(robotId('dingtalk')));
  }
  assert.equal(await add.isDisabled(), true, 'Add Bot still enabled with five rows');
  await add.click({ force: true, timeout: 2000 }).catch(() => {});
  assert.equal(await dlg.getByRole('group', { name: /^Bot \d$/ }).count(), 5);
  assert.equal(await dlg.getByRole('group', { name: 'Bot 6' }).count(), 0);
  await dlg.getByText('At most 5 bots per contact.').waitFor();
  await shot(page, 'five-bots');
  // the robot setup guide opens from the bots field, over the dialog; Escape closes the guide only
  await dlg.getByRole('button', { name: /robot setup guide/ }).click();
  const guide = page.getByRole('dialog', { name: 'Robot setup guide' });
  for (const h of ['DingTalk custom robot', 'Lark / Feishu custom bot', 'WeCom group robot']) await guide.getByRole('heading', { name: h }).waitFor();
  await guide.getByText(/keyword certificate/).first().waitFor();
  await shot(page, 'guide', { fullPage: false });
  await page.keyboard.press('Escape');
  await guide.waitFor({ state: 'detached' });
  await dlg.getByRole('button', { name: 'Add Bot' }).waitFor();
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  await dlg.waitFor({ state: 'detached' });
  const c = assertOk(await getContact(server, key, contactId), 200);
  assert.equal(c.webhooks.length, 2, 'Cancel saved something');
});

test('delete asks for confirmation, naming the contact, and removes it', async () => {
  await closeDialogs(page);
  await row(page, person.name).getByRole('button', { name: 'Delete' }).click();
  const dlg = page.getByRole('dialog', { name: 'Confirmation' });
  await dlg.waitFor();
  await dlg.getByText(person.name, { exact: false }).waitFor();
  await dlg.getByText(/no longer receive certificate notifications/).waitFor();
  await shot(page, 'delete-confirmation');
  // Cancel keeps it
  await dlg.getByRole('button', { name: 'Cancel' }).click();
  await dlg.waitFor({ state: 'detached' });
  assert.equal((await getContact(server, key, contactId)).status, 200);
  await row(page, person.name).getByRole('button', { name: 'Delete' }).click();
  await dlg.getByRole('button', { name: 'Delete' }).click();
  await dlg.waitFor({ state: 'detached' });
  await waitFor(async () => (await row(page, person.name).count()) === 0, { timeoutMs: STEP_TIMEOUT_MS, what: 'the row to go' });
  assert.equal((await getContact(server, key, contactId)).status, 404);
  await shot(page, 'deleted');
});

test('settings: an access key shown once and disabled, a template previewed live and saved, the users', async () => {
  await closeDialogs(page);
  await page.getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
  await page.getByRole('tab', { name: 'Access keys' }).click();
  await page.getByRole('button', { name: 'Create access key' }).click();
  const cdlg = page.getByRole('dialog', { name: 'Create access key' });
  await cdlg.getByLabel('Role').selectOption('operator');
  await cdlg.getByRole('button', { name: 'OK', exact: true }).click();
  const sdlg = page.getByRole('dialog', { name: 'Access key created' });
  const id = await sdlg.getByLabel('Access key ID').inputValue();
  const secret = await sdlg.getByLabel('Access key secret').inputValue();
  assert.ok(id && secret, 'no key id or secret shown');
  const newKey = { access_key_id: id, access_key_secret: secret };
  assert.equal((await api(server, 'GET', '/v1/contacts', { key: newKey })).status, 200, 'the new key does not work');
  await shot(page, 'key-created');
  await sdlg.getByRole('button', { name: 'Close' }).first().click();
  await sdlg.waitFor({ state: 'detached' });
  const krow = page.getByRole('row', { name: new RegExp(id) });
  await krow.getByRole('button', { name: 'Disable' }).click();
  await page.getByRole('dialog', { name: 'Disable access key' }).getByRole('button', { name: 'Disable' }).click();
  await krow.getByText('Disabled', { exact: true }).waitFor();
  assert.equal((await api(server, 'GET', '/v1/contacts', { key: newKey })).status, 401, 'the disabled key still works');

  await page.getByRole('tab', { name: 'Templates' }).click();
  await page.getByLabel('Event type').selectOption('certificate.expiring');
  await page.getByLabel('Channel', { exact: true }).selectOption('robot');
  await page.getByLabel('Template language').selectOption('en');
  const title = page.getByLabel('Title', { exact: true });
  await waitFor(async () => (await title.inputValue()) !== '', { timeoutMs: STEP_TIMEOUT_MS, what: 'the template to load' });
  await title.fill('{{domains}}: certificate ends in {{days_left}} days PREVIEWMARK');
  const preview = page.getByRole('region', { name: 'Preview' });
  await preview.getByText(/PREVIEWMARK/).first().waitFor();
  // a text without the robots' keyword is refused, in the API's words, next to the field
  const body = page.getByLabel('Body', { exact: true });
  const bodyText = await body.inputValue();
  await title.fill('{{domains}}: ends in {{days_left}} days');
  await body.fill('Renew {{domains}} soon.');
  await waitFor(async () => (await title.getAttribute('aria-invalid')) === 'true' || (await body.getAttribute('aria-invalid')) === 'true',
    { timeoutMs: STEP_TIMEOUT_MS, what: 'the keyword rule to be shown' });
  await shot(page, 'template-refused');
  await body.fill(bodyText);
  await title.fill('{{domains}}: certificate ends in {{days_left}} days PREVIEWMARK');
  await waitFor(async () => (await body.getAttribute('aria-invalid')) !== 'true' && (await title.getAttribute('aria-invalid')) !== 'true',
    { timeoutMs: STEP_TIMEOUT_MS, what: 'the error to clear' });
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByText('Your own text', { exact: true }).waitFor();
  const tpl = assertOk(await api(server, 'GET', '/v1/templates/certificate.expiring/robot/en', { key }), 200);
  assert.equal(tpl.custom, true);
  assert.match(tpl.title, /PREVIEWMARK/);
  await shot(page, 'template-saved');
  await page.getByRole('button', { name: 'Restore built-in' }).click();
  await page.getByText('Built-in text', { exact: true }).waitFor();
  assert.equal(assertOk(await api(server, 'GET', '/v1/templates/certificate.expiring/robot/en', { key }), 200).custom, false);

  await page.getByRole('tab', { name: 'Console users' }).click();
  await page.getByRole('row', { name: new RegExp(users.readonly.email) }).waitFor();
  await shot(page, 'users');
  await page.getByRole('link', { name: 'Contact Management' }).click();
  await page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
});

test('switch to 简体中文: every name follows, and it is remembered for the user', async () => {
  await closeDialogs(page);
  await page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
  await page.getByRole('heading', { name: '联系人管理', level: 1 }).waitFor();
  await page.getByRole('navigation', { name: '主导航' }).getByText('综合管理').waitFor();
  await page.getByRole('button', { name: '创建联系人' }).click();
  const dlg = page.getByRole('dialog', { name: '创建联系人' });
  await dlg.waitFor();
  for (const label of ['联系人姓名', '邮箱地址', '手机号码', '身份证号码']) await dlg.getByLabel(label, { exact: true }).waitFor();
  assert.equal(await dlg.getByRole('button', { name: '验证', exact: true }).count(), 2);
  await dlg.getByRole('button', { name: '添加机器人' }).waitFor();
  await dlg.getByRole('button', { name: '确定', exact: true }).waitFor();
  await dlg.getByLabel('Webhook 地址').waitFor();
  await dlg.getByLabel('加签密钥').waitFor();
  await dlg.getByLabel('手机号码', { exact: true }).fill(nationalMobile(uniqueMobile()));
  await dlg.getByRole('group', { name: '手机验证' }).getByText('未验证', { exact: true }).waitFor();
  await shot(page, 'zh-create-dialog');
  await dlg.getByRole('button', { name: '取消' }).click();
  await dlg.waitFor({ state: 'detached' });
  // remembered server-side: a reload (and another browser) gets Chinese for this user
  await page.reload();
  await page.getByRole('heading', { name: '联系人管理', level: 1 }).waitFor();
  const s = await pageFetch(page, 'GET', '/v1/session');
  assert.equal(s.status, 200);
  assert.equal(s.body.user.language, 'zh-CN');
  const row2 = page.getByRole('row').filter({ has: page.getByRole('button', { name: '编辑' }) }).first();
  await row2.getByRole('button', { name: '删除' }).waitFor();
  await row2.getByRole('button', { name: '发送测试' }).waitFor();
  await shot(page, 'zh-contacts');
});

test('the audit log (admins, 简体中文): who changed the contacts and from where, filtered by action', async () => {
  await closeDialogs(page);
  await page.getByRole('link', { name: '审计日志' }).click();
  await page.getByRole('heading', { name: '审计日志', level: 1 }).waitFor();
  // the contacts this admin made in the console: actor user:ID, from the browser's address
  // (filtered: the verifications before saving fill the newest page)
  await page.getByLabel('操作', { exact: true }).selectOption('contact.create');
  const created = page.getByRole('row').filter({ hasText: 'contact.create' })
    .filter({ hasText: `user:${users.admin.id}` }).first();
  await created.waitFor();
  const text = await created.textContent();
  assert.match(text, /127\.0\.0\.1/);
  assert.ok(!text.includes(person.email), 'the email is masked');
  await page.getByLabel('操作', { exact: true }).selectOption('contact.delete');
  await page.getByRole('row').filter({ hasText: 'contact.delete' }).first().waitFor();
  await waitFor(async () => (await page.getByRole('row').filter({ hasText: 'contact.create' }).count()) === 0,
    { what: 'the filter applied' });
  await page.getByRole('button', { name: '导出 CSV' }).waitFor();
  await shot(page, 'zh-audit');
  // the same page in English, then back to 简体中文 for the steps after
  await page.getByLabel('语言', { exact: true }).selectOption('en');
  await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
  for (const label of ['Actor', 'Action', 'Target type', 'Target id', 'From', 'Before']) {
    await page.getByLabel(label, { exact: true }).waitFor();
  }
  await page.getByRole('button', { name: 'Export CSV' }).waitFor();
  await page.getByRole('columnheader', { name: 'Source address' }).waitFor();
  await shot(page, 'audit');
  await page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
  await page.getByRole('heading', { name: '审计日志', level: 1 }).waitFor();
  noProblems(page);
});

test('sign out ends the session', async () => {
  await closeDialogs(page);
  await page.getByRole('button', { name: '退出登录' }).click();
  await page.getByRole('button', { name: '登录', exact: true }).waitFor();
  const s = await pageFetch(page, 'GET', '/v1/session', { csrf: null });
  assert.equal(s.status, 401);
  await shot(page, 'signed-out');
  noProblems(page);
});

// ------------------------------------------------------------ roles, CSRF, lockout

test('a readonly user sees no write action, and the API refuses one anyway', async () => {
  const name = `Carol ${unique('n')}`;
  await createContact(server, key, { name });
  const p = await open();
  await p.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(p, users.readonly.email, PASSWORD);
  await p.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  await row(p, name).waitFor();
  for (const b of ['Create Contact', 'Edit', 'Delete', 'Send test', 'Verify']) {
    assert.equal(await p.getByRole('button', { name: b, exact: true }).count(), 0, `readonly sees "${b}"`);
  }
  await shot(p, 'readonly-contacts');
  await p.getByRole('link', { name: 'Settings' }).click();
  await p.getByRole('tab', { name: 'Templates' }).waitFor();
  assert.equal(await p.getByRole('tab', { name: 'Access keys' }).count(), 0);
  assert.equal(await p.getByRole('tab', { name: 'Console users' }).count(), 0);
  assert.equal(await p.getByRole('button', { name: 'Save' }).count(), 0);
  // the API, with the cookie and a valid CSRF token, still says no
  const w = await pageFetch(p, 'POST', '/v1/contacts', { json: { name: 'x', mobile: uniqueMobile() } });
  assert.equal(w.status, 403, JSON.stringify(w));
  assert.equal(w.body.code, 'Forbidden');
  noProblems(p);
});

test('a state-changing request without the CSRF token is refused', async () => {
  const p = await open();
  await p.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(p, users.operator.email, PASSWORD);
  await p.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  const no = await pageFetch(p, 'POST', '/v1/contacts', { json: { name: 'csrf', mobile: uniqueMobile() }, csrf: null });
  assert.equal(no.status, 403, JSON.stringify(no));
  assert.equal(no.body.code, 'Forbidden.CSRF');
  const bad = await pageFetch(p, 'POST', '/v1/contacts', { json: { name: 'csrf', mobile: uniqueMobile() }, csrf: 'x'.repeat(43) });
  assert.equal(bad.status, 403);
  const ok = await pageFetch(p, 'POST', '/v1/contacts', { json: { name: `csrf ${unique('n')}`, mobile: uniqueMobile() } });
  assert.equal(ok.status, 201, JSON.stringify(ok));
});

test('wrong passwords lock the user, the form says so, and an admin unlocks them', async () => {
  const email = `locked-${unique('u')}@example.com`;
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'operator', password: PASSWORD } }), 201);
  const p = await open();
  await p.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  const alert = p.getByRole('alert').filter({ hasText: /\S/ });
  for (let i = 0; i < 5; i++) {
    await signIn(p, email, `wrong password ${i}`);
    // each answer is slower from the third on; the button comes back when it arrives
    await p.getByRole('button', { name: 'Sign in', exact: true }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await waitFor(async () => !(await p.getByRole('button', { name: 'Sign in', exact: true }).isDisabled()), { timeoutMs: STEP_TIMEOUT_MS, what: 'the sign-in answer' });
  }
  await signIn(p, email, PASSWORD);
  await alert.getByText(/try again/i).waitFor();
  await shot(p, 'locked');
  assert.equal(await p.getByRole('heading', { name: 'Contact Management' }).count(), 0);
  // an admin sees the lock under Settings > Console users and lifts it (an
  // admin of its own: the first one reads Chinese since the language test)
  const adminEmail = `unlocker-${unique('u')}@example.com`;
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email: adminEmail, role: 'admin', password: PASSWORD } }), 201);
  const a = await open();
  await a.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(a, adminEmail, PASSWORD);
  await a.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  await a.getByRole('link', { name: 'Settings' }).click();
  await a.getByRole('tab', { name: 'Console users' }).click();
  const locked = a.getByRole('row', { name: new RegExp(email) });
  await locked.getByText(/Locked until/).waitFor();
  await locked.getByRole('button', { name: 'Unlock' }).click();
  await a.getByText(`${email} can sign in again.`).waitFor();
  await waitFor(async () => (await locked.getByText(/Locked until/).count()) === 0, { timeoutMs: STEP_TIMEOUT_MS, what: 'the lock to go' });
  assert.equal(await locked.getByRole('button', { name: 'Unlock' }).count(), 0);
  await shot(a, 'unlocked');
  // and the user signs in
  await signIn(p, email, PASSWORD);
  await p.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
});

test('on a phone the navigation folds into a menu and the list stays readable', async () => {
  const name = `Dave ${unique('n')}`;
  await createContact(server, key, { name });
  const p = await open({ viewport: PHONE });
  await p.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(p, users.operator.email, PASSWORD);
  await p.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  const nav = p.getByRole('navigation', { name: 'Main navigation' });
  assert.equal(await nav.isVisible(), false);
  await p.getByRole('button', { name: 'Menu' }).click();
  await nav.getByRole('link', { name: 'Notifications' }).waitFor();
  await shot(p, 'phone-menu');
  await nav.getByRole('link', { name: 'Contact Management' }).click();
  await row(p, name).getByRole('button', { name: 'Edit' }).waitFor();
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  assert.equal(overflow, false, 'the page scrolls sideways on a phone');
  await shot(p, 'phone-contacts');
  await row(p, name).getByRole('button', { name: 'Edit' }).click();
  await p.getByRole('dialog', { name: 'Edit Contact' }).getByLabel('Contact Name').waitFor();
  await shot(p, 'phone-edit', { fullPage: false });
  await p.keyboard.press('Escape');
  await p.getByRole('dialog').waitFor({ state: 'detached' });
});

test('paging: ten contacts a page, the next page holds the older ones', async () => {
  const made = [];
  for (let i = 0; i < 11; i++) made.push((await createContact(server, key, { name: `Page ${i} ${unique('n')}` })).contact);
  const total = assertOk(await api(server, 'GET', '/v1/contacts?page=1&page_size=1', { key }), 200).total;
  assert.ok(total > 10);
  const pagesCount = Math.ceil(total / 10);
  const p = await open();
  await p.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(p, users.operator.email, PASSWORD);
  await p.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  await row(p, made[10].name).waitFor(); // the newest comes first
  assert.equal(await row(p, made[0].name).count(), 0, 'the oldest should not be on the first page');
  await p.getByText(`Page 1 of ${pagesCount}`).waitFor();
  assert.equal(await p.getByRole('button', { name: 'Previous page' }).isDisabled(), true);
  await p.getByRole('button', { name: 'Next page' }).click();
  await p.getByText(`Page 2 of ${pagesCount}`).waitFor();
  await row(p, made[0].name).waitFor();
  assert.equal(await row(p, made[10].name).count(), 0);
  await shot(p, 'page-2');
  noProblems(p);
});

test('a language picked on the sign-in page is used and remembered for the user', async () => {
  const email = `zh-${unique('u')}@example.com`;
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'operator', password: PASSWORD } }), 201);
  const p = await open();
  await p.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await p.getByLabel('Language', { exact: true }).selectOption('zh-CN');
  await p.getByRole('button', { name: '登录', exact: true }).waitFor();
  await shot(p, 'zh-sign-in');
  await signIn(p, email, PASSWORD, { names: { email: '邮箱', password: '密码', submit: '登录' } });
  await p.getByRole('heading', { name: '联系人管理', level: 1 }).waitFor();
  await waitFor(async () => (await pageFetch(p, 'GET', '/v1/session')).body.user.language === 'zh-CN',
    { timeoutMs: STEP_TIMEOUT_MS, what: 'the user\'s language to be saved' });
});
