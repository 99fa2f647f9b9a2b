// console_certificates_browser.test.mjs — the console's Applications and
// Certificates pages in a real browser (Debian's chromium through
// playwright-core) against the real binary, with the test SMTP server and the
// SMS gateway stand-in: an operator applies for a DigiCert OV certificate,
// creates the contact from the Contact drop-down (verifying email and mobile
// with the codes that arrived), is told in the API's words that the ID card is
// missing, adds it through Edit Contact, submits, moves the application to
// issued with a certificate PEM, finds the certificate with its days left,
// uploads another by paste, sees the certificate in the contact's Edit dialog,
// and deletes a contact an open application names by reassigning it. Then the
// key labels in 简体中文, and a readonly user who sees no write button.
// Elements are found by role and accessible name only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, assertError, createContact,
  unique, uniqueMobile, waitFor, cleanUp,
} from './lib/harness.mjs';
import { startSmtpSink, startSmsGateway, codeFromMail, nationalMobile } from './lib/sinks.mjs';
import { launch, newPage, shot, signIn, STEP_TIMEOUT_MS } from './lib/browser.mjs';
import { Pki } from './lib/pki.mjs';

const SMS_KEY_ID = 'LTAI5tConsoleCerts001';
const SMS_SECRET = 'console-certs-sms-secret';
const SIGN_NAME = 'certcontacts';
const TEMPLATE = 'SMS_468009877';
const PASSWORD = 'correct horse battery staple';
const ID_CARD = '11010519491231002X';

let dir, server, sink, gw, browser, key, pki;
const users = {};
const contexts = [];
let page; // the operator's page, shared by the flow's steps in order
const person = { name: `Li Lei ${unique('n')}`, email: `${unique('lilei')}@example.com`, mobile: uniqueMobile('137') };
const domain = `www.${unique('d')}.example.com`;
let contactId, appId;

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  pki = new Pki();
  sink = await startSmtpSink();
  gw = await startSmsGateway({ keys: { [SMS_KEY_ID]: SMS_SECRET }, signName: SIGN_NAME, templateCode: TEMPLATE });
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
    },
  });
  for (const role of ['operator', 'readonly']) {
    const email = `${role}-${unique('u')}@example.com`;
    assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role, password: PASSWORD } }), 201);
    users[role] = { email };
  }
  browser = await launch();
});

after(async () => {
  await cleanUp([...contexts.map((c) => () => c.close()), () => browser?.close(), () => server?.stop(),
    () => gw?.stop(), () => sink?.stop(), () => pki?.remove(), () => removeDir(dir)]);
});

async function open(opts) {
  const p = await newPage(browser, opts);
  contexts.push(p.context);
  return p.page;
}

function noProblems(p) {
  assert.deepEqual(p.problems, [], `the page reported problems:\n${p.problems.join('\n')}`);
}

function esc(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function row(p, text) {
  return p.getByRole('row', { name: new RegExp(esc(text)) });
}

async function closeDialogs(p) {
  for (let i = 0; i < 5 && (await p.getByRole('dialog').count()) > 0; i++) await p.keyboard.press('Escape');
}

async function goTo(p, link, heading) {
  await p.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: link, exact: true }).click();
  await p.getByRole('heading', { name: heading, level: 1 }).waitFor();
}

/** Verify an address in the contact dialog: Verify, the code from the SMTP sink or the SMS gateway, Confirm. */
async function verify(dlg, group, codeOf) {
  const g = dlg.getByRole('group', { name: group });
  const code = await codeOf(() => g.getByRole('button', { name: 'Verify' }).click());
  await g.getByLabel('Verification Code').fill(code);
  await g.getByRole('button', { name: 'Confirm' }).click();
  await g.getByText('Verified', { exact: true }).waitFor();
}

test('apply: Create Contact from the Contact drop-down selects the new contact; the missing ID card is told in the API\'s words', async () => {
  page = await open();
  await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(page, users.operator.email, PASSWORD);
  await page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  await goTo(page, 'Applications', 'Certificate Applications');
  await page.getByRole('button', { name: 'Apply for Certificate' }).click();
  const dlg = page.getByRole('dialog', { name: 'Apply for Certificate' });
  await dlg.waitFor();
  const product = dlg.getByLabel('Product');
  assert.equal(await product.inputValue(), 'digicert-free-1-free');
  await product.selectOption({ label: 'DigiCert OV single domain — DigiCert · OV · single domain' });
  await dlg.getByText(/The contact needs an ID card number/).waitFor();
  await dlg.getByLabel('Domains').fill(domain);

  // the combobox, by keyboard: ArrowUp from the box lands on its last option, Create Contact
  const combo = dlg.getByRole('combobox', { name: 'Contact' });
  await combo.focus();
  await combo.press('ArrowUp');
  assert.equal(await combo.getAttribute('aria-expanded'), 'true');
  const createOpt = dlg.getByRole('option', { name: /Create Contact/ });
  assert.equal(await createOpt.getAttribute('aria-selected'), 'true');
  assert.equal(await combo.getAttribute('aria-activedescendant'), await createOpt.getAttribute('id'));
  await shot(page, 'certs-picker-open');
  await combo.press('Enter');

  const cdlg = page.getByRole('dialog', { name: 'Create Contact' });
  await cdlg.waitFor();
  await cdlg.getByLabel('Contact Name').fill(person.name);
  await cdlg.getByLabel('Email Address').fill(person.email);
  await cdlg.getByLabel('Mobile Number').fill(nationalMobile(person.mobile));
  await verify(cdlg, 'Email verification', async (send) => {
    const m = sink.mark();
    await send();
    return codeFromMail(await sink.waitForMail(person.email, { after: m, timeoutMs: STEP_TIMEOUT_MS }));
  });
  await verify(cdlg, 'Mobile verification', async (send) => {
    const phone = nationalMobile(person.mobile);
    const n = gw.sentTo(phone).length;
    await send();
    return (await gw.waitForSms(phone, { after: n, timeoutMs: STEP_TIMEOUT_MS })).templateParam.code;
  });
  await cdlg.getByRole('button', { name: 'OK', exact: true }).click();
  await cdlg.waitFor({ state: 'detached' });
  await waitFor(async () => (await combo.inputValue()) === person.name, { timeoutMs: STEP_TIMEOUT_MS, what: 'the new contact selected in the drop-down' });
  assert.equal(await combo.evaluate((el) => el === document.activeElement), true, 'focus returns to the drop-down');
  const list = assertOk(await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(person.name)}`, { key }), 200);
  assert.equal(list.total, 1);
  contactId = list.items[0].id;
  // the server's words for the refusal a submission gets
  const refusal = assertError(await api(server, 'POST', '/v1/applications', { key, json: { product: 'digicert-ov-1-personal', domains: [domain], contact_id: contactId } }), 400, 'Contact.Ineligible');
  assert.deepEqual(refusal.problems.map((p) => p.code), ['MissingParameter.IdCard']);

  // before submitting: what the product needs and the contact lacks, in those words
  await dlg.getByText('For this product the contact still needs:').waitFor();
  await dlg.getByRole('listitem').filter({ hasText: refusal.problems[0].message }).waitFor();
  assert.equal(await dlg.getByRole('listitem').filter({ hasText: /verified/ }).count(), 0, 'email and mobile were verified');
  await dlg.getByRole('button', { name: 'Submit' }).click();
  await dlg.getByRole('alert').getByText(refusal.problems[0].message, { exact: true }).waitFor();
  await shot(page, 'certs-apply-refused');

  // Edit Contact next to the drop-down: the same dialog, the ID card added
  await dlg.getByRole('button', { name: 'Edit Contact' }).click();
  const edlg = page.getByRole('dialog', { name: 'Edit Contact' });
  await edlg.getByLabel('ID Card Number').fill(ID_CARD);
  await edlg.getByRole('button', { name: 'OK', exact: true }).click();
  await edlg.waitFor({ state: 'detached' });
  await dlg.getByText('This contact has everything the product needs.').waitFor();
  await dlg.getByRole('button', { name: 'Submit' }).click();
  await dlg.waitFor({ state: 'detached' });
  const detail = page.getByRole('dialog', { name: /^Application #\d+$/ });
  await detail.waitFor();
  appId = Number(/#(\d+)/.exec(await detail.getByRole('heading', { level: 2 }).innerText())[1]);
  const a = assertOk(await api(server, 'GET', `/v1/applications/${appId}`, { key }), 200);
  assert.equal(a.contact_id, contactId);
  assert.equal(a.state, 'submitted');
  assert.equal(a.product, 'digicert-ov-1-personal');
  await detail.getByText('Submitted', { exact: true }).first().waitFor();
  noProblems(page);
});

test('the operator moves the application to pending validation, approved and issued with a PEM', async () => {
  const detail = page.getByRole('dialog', { name: `Application #${appId}` });
  await detail.waitFor();
  const moves = detail.getByRole('group', { name: 'Move the application' });
  await moves.getByRole('button', { name: 'Start validation' }).click();
  await detail.getByRole('row', { name: /Submitted\s+Pending validation/ }).waitFor();
  await moves.getByRole('button', { name: 'Approve' }).click();
  await detail.getByRole('row', { name: /Pending validation\s+Approved/ }).waitFor();
  await moves.getByRole('button', { name: 'Issue' }).click();
  const issue = page.getByRole('dialog', { name: `Application #${appId}: Issued` });
  const leaf = pki.leaf([domain], { days: 90 });
  // the leaf alone: an application's certificate_pem is one certificate
  await issue.getByLabel('Certificate PEM').fill(leaf.pem);
  await issue.getByRole('button', { name: 'Issue' }).click();
  await issue.waitFor({ state: 'detached' });
  await detail.getByRole('row', { name: /Approved\s+Issued/ }).waitFor();
  assert.equal(await moves.getByRole('button').count(), 0, 'an issued application has no move left');
  await shot(page, 'certs-issued');
  const a = assertOk(await api(server, 'GET', `/v1/applications/${appId}`, { key }), 200);
  assert.equal(a.state, 'issued');
  assert.deepEqual(a.history.map((h) => h.to), ['submitted', 'pending_validation', 'approved', 'issued']);
  await page.keyboard.press('Escape');
  await detail.waitFor({ state: 'detached' });
  await row(page, `#${appId}`).getByText('Issued', { exact: true }).waitFor();
});

test('Certificates lists the issued certificate with its days left; another is uploaded by paste', async () => {
  await closeDialogs(page);
  await goTo(page, 'Certificates', 'Certificates');
  const r = row(page, domain);
  await r.getByText(/^(89|90) days left$/).waitFor();
  const certs = assertOk(await api(server, 'GET', `/v1/certificates?domain=${encodeURIComponent(domain)}`, { key }), 200);
  assert.equal(certs.total, 1);
  assert.deepEqual(certs.items[0].contact_ids, [contactId]);

  const other = `api.${unique('d')}.example.com`;
  const leaf = pki.leaf([other], { days: 10 });
  await page.getByRole('button', { name: 'Upload Certificate' }).click();
  const up = page.getByRole('dialog', { name: 'Upload Certificate' });
  await up.getByLabel('Certificate (PEM)').fill(leaf.chain);
  await up.getByLabel('Private key (optional)').fill(leaf.key);
  await up.getByLabel('Name', { exact: true }).fill('API gateway');
  await up.getByRole('group', { name: 'Contacts to notify' }).getByLabel(person.name).check();
  await up.getByRole('button', { name: 'Upload', exact: true }).click();
  await up.waitFor({ state: 'detached' });
  const r2 = row(page, 'API gateway');
  const days = r2.getByText(/^(9|10) days left$/);
  await days.waitFor();
  // under the first reminder threshold (30 days): marked; the 90-day one is not
  assert.match(await days.getAttribute('class'), /days-soon/);
  assert.doesNotMatch(await r.getByText(/days left/).getAttribute('class'), /days-soon/);
  // sorted by expiry: the 10-day certificate comes first
  const names = await page.getByRole('row').allInnerTexts();
  assert.ok(names.findIndex((x) => x.includes('API gateway')) < names.findIndex((x) => x.includes(domain)), 'not sorted by expiry');
  // the keyword filter
  await page.getByLabel('Keyword or domain').fill(other);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await waitFor(async () => (await row(page, domain).count()) === 0, { timeoutMs: STEP_TIMEOUT_MS, what: 'the filter to hide the other certificate' });
  await r2.waitFor();
  await shot(page, 'certs-list');
  await page.getByLabel('Keyword or domain').fill('');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await r.waitFor();

  // its detail: remove the contact, add it back, revoke with a reason, delete
  await r2.getByRole('button', { name: 'Details of API gateway' }).click();
  const cd = page.getByRole('dialog', { name: /^Certificate #\d+$/ });
  const subs = cd.getByRole('region', { name: 'Contacts to notify' });
  await subs.getByRole('button', { name: `Remove ${person.name}` }).click();
  await subs.getByLabel('Add a contact').waitFor();
  const uploaded = assertOk(await api(server, 'GET', `/v1/certificates?domain=${encodeURIComponent(other)}`, { key }), 200).items[0];
  assert.deepEqual(uploaded.contact_ids, []);
  await subs.getByLabel('Add a contact').selectOption({ label: person.name });
  await subs.getByRole('button', { name: 'Add', exact: true }).click();
  await subs.getByRole('button', { name: `Remove ${person.name}` }).waitFor();
  assert.deepEqual(assertOk(await api(server, 'GET', `/v1/certificates/${uploaded.id}`, { key }), 200).contact_ids, [contactId]);
  // its own reminder days, then back to the account's
  const rem = cd.getByRole('region', { name: 'Reminders for this certificate' });
  assert.equal(uploaded.reminder_days, null);
  await rem.getByLabel('Use the account\'s reminder settings').uncheck();
  await rem.getByLabel('Reminder days before expiry').fill('10, 2');
  // a save paints the dialog again: the next step types into the new field, not the old one
  const typedInto = await rem.getByLabel('Reminder days before expiry').elementHandle();
  await rem.getByRole('button', { name: 'Save reminders' }).click();
  await waitFor(async () => JSON.stringify(assertOk(await api(server, 'GET', `/v1/certificates/${uploaded.id}`, { key }), 200).reminder_days) === '[10,2]', { timeoutMs: STEP_TIMEOUT_MS, what: 'the certificate\'s own reminder days' });
  await waitFor(() => typedInto.evaluate((el) => !el.isConnected), { timeoutMs: STEP_TIMEOUT_MS, what: 'the dialog painted again after the save' });
  await rem.getByLabel('Reminder days before expiry').fill('10, x');
  await rem.getByRole('button', { name: 'Save reminders' }).click();
  await rem.getByText('Whole numbers of days, separated by commas.').waitFor();
  await rem.getByLabel('Reminder days before expiry').fill('400');
  await rem.getByRole('button', { name: 'Save reminders' }).click();
  await rem.locator('.field-error, [role=alert]').filter({ hasText: /365/ }).first().waitFor();
  await rem.getByLabel('Use the account\'s reminder settings').check();
  await rem.getByRole('button', { name: 'Save reminders' }).click();
  await waitFor(async () => assertOk(await api(server, 'GET', `/v1/certificates/${uploaded.id}`, { key }), 200).reminder_days === null, { timeoutMs: STEP_TIMEOUT_MS, what: 'the account\'s reminder days again' });
  await cd.getByRole('button', { name: 'Revoke' }).click();
  const rv = page.getByRole('dialog', { name: `Revoke certificate #${uploaded.id}` });
  await rv.getByLabel('Reason').fill('key compromise');
  await rv.getByRole('button', { name: 'Revoke' }).click();
  await rv.waitFor({ state: 'detached' });
  await cd.getByText('Revoked', { exact: true }).waitFor();
  assert.equal(assertOk(await api(server, 'GET', `/v1/certificates/${uploaded.id}`, { key }), 200).state, 'revoked');
  await cd.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: `Delete certificate #${uploaded.id}` }).getByRole('button', { name: 'Delete' }).click();
  await cd.waitFor({ state: 'detached' });
  await waitFor(async () => (await row(page, 'API gateway').count()) === 0, { timeoutMs: STEP_TIMEOUT_MS, what: 'the deleted certificate to leave the list' });
  assertError(await api(server, 'GET', `/v1/certificates/${uploaded.id}`, { key }), 404, 'NotFound');
  noProblems(page);
});

test('the contact\'s Edit dialog lists its certificates; deleting a contact on an open application explains and Reassign works', async () => {
  await closeDialogs(page);
  // an open application for the contact, and another contact to take it over
  const open = assertOk(await api(server, 'POST', '/v1/applications', { key, json: { product: 'digicert-ov-1-personal', domains: [`shop.${unique('d')}.example.com`], contact_id: contactId } }), 201);
  const heir = (await createContact(server, key, { name: `Han Meimei ${unique('n')}` })).contact;
  await goTo(page, 'Contact Management', 'Contact Management');
  await row(page, person.name).getByRole('button', { name: 'Edit' }).click();
  const edlg = page.getByRole('dialog', { name: 'Edit Contact' });
  const certs = edlg.getByRole('region', { name: 'Certificates' });
  await edlg.getByRole('region', { name: 'Open applications' }).getByRole('link', { name: new RegExp(`^#${open.id} shop\\.`) }).waitFor();
  await shot(page, 'certs-contact-edit');
  // the link opens the certificate's detail on the Certificates page
  await certs.getByRole('link', { name: domain }).click();
  await page.getByRole('heading', { name: 'Certificates', level: 1 }).waitFor();
  const cd = page.getByRole('dialog', { name: /^Certificate #\d+$/ });
  await cd.getByText(domain).first().waitFor();
  await page.keyboard.press('Escape');
  await cd.waitFor({ state: 'detached' });
  await goTo(page, 'Contact Management', 'Contact Management');

  await row(page, person.name).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Confirmation' }).getByRole('button', { name: 'Delete' }).click();
  const why = page.getByRole('dialog', { name: 'The contact is in use' });
  await why.waitFor();
  await why.getByRole('link', { name: new RegExp(`^#${open.id} `) }).waitFor();
  await why.getByLabel('Reassign to').selectOption(String(heir.id));
  await shot(page, 'certs-in-use');
  await why.getByRole('button', { name: 'Reassign and delete' }).click();
  await why.waitFor({ state: 'detached' });
  await waitFor(async () => (await row(page, person.name).count()) === 0, { timeoutMs: STEP_TIMEOUT_MS, what: 'the contact to leave the list' });
  const moved = assertOk(await api(server, 'GET', `/v1/applications/${open.id}`, { key }), 200);
  assert.equal(moved.contact_id, heir.id);
  assertError(await api(server, 'GET', `/v1/contacts/${contactId}`, { key }), 404, 'NotFound');
  noProblems(page);
});

test('in 简体中文 the pages, buttons and the reminders settings speak Chinese', async () => {
  await closeDialogs(page);
  await page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
  const nav = page.getByRole('navigation', { name: '主导航' });
  await nav.getByRole('link', { name: '证书申请', exact: true }).click();
  await page.getByRole('heading', { name: '证书申请', level: 1 }).waitFor();
  await page.getByRole('button', { name: '申请证书' }).click();
  const dlg = page.getByRole('dialog', { name: '申请证书' });
  await dlg.getByRole('combobox', { name: '联系人' }).waitFor();
  await dlg.getByLabel('产品').waitFor();
  await page.keyboard.press('Escape');
  await nav.getByRole('link', { name: '证书', exact: true }).click();
  await page.getByRole('heading', { name: '证书', level: 1 }).waitFor();
  await page.getByRole('button', { name: '上传证书' }).waitFor();
  await page.getByText(/^剩余 \d+ 天$/).first().waitFor();
  await nav.getByRole('link', { name: '设置', exact: true }).click();
  await page.getByRole('tab', { name: '到期提醒' }).click();
  await page.getByLabel('到期前天数').fill('60, 7');
  await page.getByLabel('到期后一天提醒').uncheck();
  await page.getByRole('button', { name: '保存', exact: true }).click();
  await waitFor(async () => {
    const r = assertOk(await api(server, 'GET', '/v1/settings/reminders', { key }), 200);
    return r.days_before.join() === '60,7' && r.day_after === false;
  }, { timeoutMs: STEP_TIMEOUT_MS, what: 'the reminder settings saved' });
  await shot(page, 'certs-zh-reminders');
  noProblems(page);
});

test('a readonly user sees the pages without any write button', async () => {
  const p = await open();
  await p.goto(server.base + '/#/applications');
  await signIn(p, users.readonly.email, PASSWORD);
  await goTo(p, 'Applications', 'Certificate Applications');
  await row(p, `#${appId}`).getByRole('button', { name: `Details of application #${appId}` }).click();
  const detail = p.getByRole('dialog', { name: `Application #${appId}` });
  await detail.getByRole('row', { name: /Approved\s+Issued/ }).waitFor();
  assert.equal(await detail.getByRole('button', { name: /Start validation|Approve|Issue|Reject|Cancel application/ }).count(), 0);
  assert.equal(await p.getByRole('button', { name: 'Apply for Certificate' }).count(), 0);
  await p.keyboard.press('Escape');
  await goTo(p, 'Certificates', 'Certificates');
  await row(p, domain).getByRole('button', { name: /^Details of / }).click();
  const cd = p.getByRole('dialog', { name: /^Certificate #\d+$/ });
  await cd.getByText(domain).first().waitFor();
  assert.equal(await cd.getByRole('button', { name: /Revoke|Delete|Remove|Add/ }).count(), 0);
  assert.equal(await p.getByRole('button', { name: 'Upload Certificate' }).count(), 0);
  await p.keyboard.press('Escape');
  await goTo(p, 'Settings', 'Settings');
  await p.getByRole('tab', { name: 'Reminders' }).click();
  assert.equal(await p.getByLabel('Days before expiry').inputValue(), '60, 7');
  assert.equal(await p.getByLabel('Days before expiry').isDisabled(), true);
  assert.equal(await p.getByLabel('On the day of expiry').isDisabled(), true);
  assert.equal(await p.getByRole('button', { name: 'Save' }).count(), 0);
  noProblems(p);
});
