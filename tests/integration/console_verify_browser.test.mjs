// console_verify_browser.test.mjs — verification that means something, in
// the console (Debian's chromium via playwright-core, the real binary, the
// test SMTP server and the SMS gateway stand-in), in English and 简体中文:
// OK saves only verified addresses and says so next to the field; an address
// another contact has is refused before a code is sent, naming that contact;
// the wrong-code message is the server's, once; a dialog reopened within the
// resend interval still takes the code sent before, its wait message and
// countdown agreeing; verifying in Edit and cancelling shows at once in the
// list; a second dialog shows an address confirmed minutes before as
// Verified; and a contact saved unverified (API) is verified from its row.
// Every state is a screenshot checked by axe-core.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, shot, signIn, resetScreenshots, STEP_TIMEOUT_MS } from './lib/browser.mjs';
import { startSmtpSink, startSmsGateway, codeFromMail, nationalMobile } from './lib/sinks.mjs';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, assertError, createContact,
  getContact, unique, uniqueMobile, waitFor, sendTargetCode, confirmTargetCode, wrongCode, cleanUp,
} from './lib/harness.mjs';

const SMS = { keyId: 'LTAI5tConsoleVerify01', secret: 'console-verify-sms-secret', signName: 'certcontacts', template: 'SMS_468009878' };
const PASSWORD = 'correct horse battery staple';

let dir, server, sink, gw, browser, key;
const pages = [];
const users = {};

before(async () => {
  resetScreenshots();
  dir = makeDataDir();
  key = createAccount(dir);
  sink = await startSmtpSink();
  gw = await startSmsGateway({ keys: { [SMS.keyId]: SMS.secret }, signName: SMS.signName, templateCode: SMS.template });
  server = await startServer(dir, {
    env: {
      CERTCONTACTS_SMTP_URL: sink.url,
      CERTCONTACTS_SMTP_FROM: 'certcontacts <noreply@certcontacts.test>',
      CERTCONTACTS_SMTP_STARTTLS: 'optional',
      CERTCONTACTS_SMS_PROVIDER: 'aliyun',
      CERTCONTACTS_SMS_ENDPOINT: gw.url,
      CERTCONTACTS_SMS_ACCESS_KEY_ID: SMS.keyId,
      CERTCONTACTS_SMS_ACCESS_KEY_SECRET: SMS.secret,
      CERTCONTACTS_SMS_SIGN_NAME: SMS.signName,
      CERTCONTACTS_SMS_TEMPLATE_CODE: SMS.template,
      CERTCONTACTS_SEND_TIMEOUT_MS: '5000',
    },
  });
  for (const who of ['en', 'zh']) {
    const email = `verify-${who}-${unique('u')}@example.com`;
    assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'operator', password: PASSWORD } }), 201);
    users[who] = email;
  }
  browser = await launch();
});

after(async () => {
  await cleanUp([...pages.map((p) => () => p.context.close()), () => browser?.close(), () => server?.stop(),
    () => gw?.stop(), () => sink?.stop(), () => removeDir(dir)]);
});

// ------------------------------------------------------------ helpers

const W = {
  en: {
    contacts: 'Contact Management', create: 'Create Contact', edit: 'Edit Contact', editBtn: 'Edit', ok: 'OK', cancel: 'Cancel',
    name: 'Contact Name', email: 'Email Address', mobile: 'Mobile Number', emailGroup: 'Email verification', mobileGroup: 'Mobile verification',
    verify: 'Verify', confirm: 'Confirm', code: 'Verification Code', verified: 'Verified', unverified: 'Unverified',
    needVerified: 'Verify this address before saving.', resendIn: /^Resend in (\d+) s$/, stillValid: /still valid/, done: 'Done',
    verifyTitle: (n) => `Verify ${n}`,
  },
  zh: {
    contacts: '联系人管理', create: '创建联系人', edit: '编辑联系人', editBtn: '编辑', ok: '确定', cancel: '取消',
    name: '联系人姓名', email: '邮箱地址', mobile: '手机号码', emailGroup: '邮箱验证', mobileGroup: '手机验证',
    verify: '验证', confirm: '确认', code: '验证码', verified: '已验证', unverified: '未验证',
    needVerified: '保存前请先验证此地址。', resendIn: /^(\d+) 秒后可重新发送$/, stillValid: /仍然有效/, done: '完成',
    verifyTitle: (n) => `验证 ${n}`,
  },
};

async function open(lang) {
  const p = await newPage(browser);
  pages.push(p);
  const page = p.page;
  await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  if (lang === 'zh') {
    await page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
    await signIn(page, users.zh, PASSWORD, { names: { email: '邮箱', password: '密码', submit: '登录' } });
  } else {
    await signIn(page, users.en, PASSWORD);
  }
  await page.getByRole('heading', { name: W[lang].contacts, level: 1 }).waitFor();
  return p;
}

function noProblems({ page }) {
  assert.deepEqual(page.problems, [], `the page reported problems:\n${page.problems.join('\n')}`);
}

function row(page, name) {
  return page.getByRole('row', { name: new RegExp(name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) });
}

/** The text of the field errors and hints an input is described by (what a screen reader reads with it). */
async function description(input) {
  return input.evaluate((el) => (el.getAttribute('aria-describedby') || '').split(/\s+/)
    .map((id) => document.getElementById(id)).filter((x) => x && !x.hidden)
    .map((x) => x.textContent).join(' '));
}

/** Click Verify in a group and return the code that arrived (SMTP sink or SMS gateway). */
async function sendCode(g, w, channel, address) {
  if (channel === 'email') {
    const m = sink.mark();
    await g.getByRole('button', { name: w.verify, exact: true }).click();
    return codeFromMail(await sink.waitForMail(address, { after: m, timeoutMs: STEP_TIMEOUT_MS }));
  }
  const phone = nationalMobile(address);
  const n = gw.sentTo(phone).length;
  await g.getByRole('button', { name: w.verify, exact: true }).click();
  return (await gw.waitForSms(phone, { after: n, timeoutMs: STEP_TIMEOUT_MS })).templateParam.code;
}

async function confirmCode(g, w, code) {
  await g.getByLabel(w.code, { exact: true }).fill(code);
  await g.getByRole('button', { name: w.confirm, exact: true }).click();
  await g.getByText(w.verified, { exact: true }).waitFor();
}

/** What the server says to a wrong code with `left` tries left, in the language lang (via the API). */
async function wrongCodeMessage(lang, left) {
  const k = createAccount(dir);
  const mobile = uniqueMobile('147');
  const phone = nationalMobile(mobile);
  const n = gw.sentTo(phone).length;
  const v = assertOk(await sendTargetCode(server, k, 'mobile', mobile), 201);
  const code = (await gw.waitForSms(phone, { after: n })).templateParam.code;
  const headers = { 'Accept-Language': lang === 'zh' ? 'zh-CN' : 'en' };
  let last;
  for (let i = 0; i < 5 - left; i++) {
    last = await api(server, 'POST', `/v1/verifications/${v.verification_id}/confirm`, { key: k, json: { code: wrongCode(code, i + 1) }, headers });
  }
  assertError(last, 400, 'VerificationCode.Mismatch');
  assert.equal(last.json.attempts_left, left);
  return last.json.message;
}

// ------------------------------------------------------------ item 2 and 6, 10's required mark

for (const lang of ['en', 'zh']) {
  const w = W[lang];

  test(`[${lang}] Create: OK waits for verified addresses and says so; a number another contact has is refused before a code goes out; the wrong-code message is said once`, async () => {
    const p = await open(lang);
    const page = p.page;
    const owner = (await createContact(server, key, { name: `Owner ${unique('n')}`, mobile: uniqueMobile('136') })).contact;
    const person = { name: `Verified ${lang} ${unique('n')}`, email: `${unique('v')}@example.com`, mobile: uniqueMobile('137') };

    await page.getByRole('button', { name: w.create, exact: true }).click();
    const dlg = page.getByRole('dialog', { name: w.create });
    await dlg.waitFor();
    const eg = dlg.getByRole('group', { name: w.emailGroup });
    const mg = dlg.getByRole('group', { name: w.mobileGroup });
    // both addresses carry the required mark
    assert.equal(await eg.locator('.req').count(), 1, 'Email Address has no required mark');
    assert.equal(await mg.locator('.req').count(), 1, 'Mobile Number has no required mark');
    await dlg.getByLabel(w.name, { exact: true }).fill(person.name);
    await dlg.getByLabel(w.email, { exact: true }).fill(person.email);
    await dlg.getByLabel(w.mobile, { exact: true }).fill(nationalMobile(owner.mobile));
    await dlg.getByRole('button', { name: w.ok, exact: true }).click();
    const emailInput = dlg.getByLabel(w.email, { exact: true });
    const mobileInput = dlg.getByLabel(w.mobile, { exact: true });
    await eg.getByText(w.needVerified, { exact: true }).waitFor();
    await mg.getByText(w.needVerified, { exact: true }).waitFor();
    assert.ok((await description(emailInput)).includes(w.needVerified), 'the message is not tied to the email field');
    assert.equal(await emailInput.evaluate((el) => el === document.activeElement), true, 'focus is not on the first unverified address');
    assert.equal((await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(person.name)}`, { key })).json.total, 0, 'OK saved unverified addresses');
    await shot(page, `${lang}-create-needs-verification`);

    // the owner's number: 409 before anything is sent, naming the owner
    const ownerPhone = nationalMobile(owner.mobile);
    const sent0 = gw.sentTo(ownerPhone).length;
    await mg.getByRole('button', { name: w.verify, exact: true }).click();
    await mg.getByText(owner.name, { exact: false }).waitFor();
    assert.match(await description(mobileInput), new RegExp(`["“]${owner.name}["”]`), 'the clash message does not name the owner');
    assert.equal(gw.sentTo(ownerPhone).length, sent0, 'a code went to the other contact\'s number');
    assert.equal(await mg.getByLabel(w.code, { exact: true }).count(), 0, 'a code box for a code never sent');
    await shot(page, `${lang}-create-mobile-clash`);

    // the email: verified with the mailed code
    await confirmCode(eg, w, await sendCode(eg, w, 'email', person.email));
    // the mobile: its own number; a wrong code first, said once, in one language
    await mobileInput.fill(nationalMobile(person.mobile));
    const code = await sendCode(mg, w, 'mobile', person.mobile);
    await mg.getByLabel(w.code, { exact: true }).fill(wrongCode(code));
    await mg.getByRole('button', { name: w.confirm, exact: true }).click();
    const expected = await wrongCodeMessage(lang, 4);
    await mg.getByText(expected, { exact: true }).waitFor();
    const said = await description(mg.getByLabel(w.code, { exact: true }));
    assert.equal(said.trim(), expected, 'the code box says more than the server\'s message');
    assert.doesNotMatch(said, /attempts left.*还可尝试|还可尝试.*attempts left/, 'two languages at once');
    await shot(page, `${lang}-create-wrong-code`);
    await confirmCode(mg, w, code);
    await shot(page, `${lang}-create-verified`);
    await dlg.getByRole('button', { name: w.ok, exact: true }).click();
    await dlg.waitFor({ state: 'detached' });
    const r = row(page, person.name);
    await r.waitFor();
    assert.equal(await r.getByText(w.verified, { exact: true }).count(), 2);
    const saved = (await api(server, 'GET', `/v1/contacts?keyword=${encodeURIComponent(person.name)}`, { key })).json.items[0];
    assert.equal(saved.email_status, 1);
    assert.equal(saved.mobile_status, 1);
    noProblems(p);
  });

  // ---------------------------------------------------------- item 3

  test(`[${lang}] a dialog reopened within the resend interval takes the code sent before, its wait message and countdown agreeing`, async () => {
    const p = await open(lang);
    const page = p.page;
    const mobile = uniqueMobile('135');
    const phone = nationalMobile(mobile);
    const openCreate = async () => {
      await page.getByRole('button', { name: w.create, exact: true }).click();
      const dlg = page.getByRole('dialog', { name: w.create });
      await dlg.waitFor();
      await dlg.getByLabel(w.mobile, { exact: true }).fill(phone);
      return { dlg, mg: dlg.getByRole('group', { name: w.mobileGroup }) };
    };
    let { dlg, mg } = await openCreate();
    const code = await sendCode(mg, w, 'mobile', mobile);
    await mg.getByLabel(w.code, { exact: true }).waitFor();
    await dlg.getByRole('button', { name: w.cancel, exact: true }).click();
    await dlg.waitFor({ state: 'detached' });

    ({ dlg, mg } = await openCreate());
    const n = gw.sentTo(phone).length;
    await mg.getByRole('button', { name: w.verify, exact: true }).click();
    // the code box is there for the code still valid, with the countdown to a new one
    const box = mg.getByLabel(w.code, { exact: true });
    await box.waitFor();
    await mg.getByText(w.stillValid).waitFor();
    const resend = mg.getByRole('button', { name: w.resendIn });
    await resend.waitFor();
    assert.equal(await resend.isDisabled(), true);
    const wait = mg.locator('.verify-wait');
    // the wait message and the button count the same seconds (read together; a tick may fall between)
    const seconds = () => mg.evaluate((g) => {
      const b = [...g.querySelectorAll('button')].find((x) => /\d/.test(x.textContent));
      return [g.querySelector('.verify-wait').textContent, b.textContent].map((x) => Number(x.match(/\d+/)[0]));
    });
    const msg = await wait.textContent();
    const numbers = await seconds();
    assert.ok(Math.abs(numbers[0] - numbers[1]) <= 1, `the message says ${numbers[0]} s, the button ${numbers[1]} s (${msg})`);
    assert.ok(numbers[0] > 1 && numbers[0] <= 60, `a wait of ${numbers[0]} s`);
    assert.equal(gw.sentTo(phone).length, n, 'a throttled Verify sent a code');
    await shot(page, `${lang}-reopened-code-box`);
    // some seconds later they still agree
    const first = numbers[0];
    await waitFor(async () => Number(((await wait.textContent()) || '').match(/\d+/)?.[0] ?? first) < first, { timeoutMs: 5000, what: 'the wait message to count down' });
    const later = await seconds();
    assert.ok(Math.abs(later[0] - later[1]) <= 1, `later the message says ${later[0]} s, the button ${later[1]} s`);
    // the code sent before still works
    await confirmCode(mg, w, code);
    await shot(page, `${lang}-reopened-verified`);
    await dlg.getByRole('button', { name: w.cancel, exact: true }).click();
    await dlg.waitFor({ state: 'detached' });

    // item 10: a third dialog shows the number confirmed a moment ago as Verified, as OK will save it
    ({ dlg, mg } = await openCreate());
    await mg.getByText(w.verified, { exact: true }).waitFor();
    await shot(page, `${lang}-second-dialog-verified`);
    await dlg.getByRole('button', { name: w.cancel, exact: true }).click();
    await dlg.waitFor({ state: 'detached' });
    noProblems(p);
  });

  // ---------------------------------------------------------- item 10

  test(`[${lang}] verifying in Edit and cancelling shows in the list at once; a changed address confirmed before shows Verified in the next dialog and is saved so`, async () => {
    const p = await open(lang);
    const page = p.page;
    const { contact } = await createContact(server, key, { name: `Edited ${lang} ${unique('n')}`, mobile: uniqueMobile('133'), email: `${unique('e')}@example.com` });
    await page.reload();
    const r = row(page, contact.name);
    await r.waitFor();
    assert.equal(await r.getByText(w.verified, { exact: true }).count(), 0);
    const marker = await page.evaluate(() => {
      window.__noReload = Math.random();
      return window.__noReload;
    });

    await r.getByRole('button', { name: w.editBtn, exact: true }).click();
    let dlg = page.getByRole('dialog', { name: w.edit });
    await dlg.waitFor();
    let mg = dlg.getByRole('group', { name: w.mobileGroup });
    await confirmCode(mg, w, await sendCode(mg, w, 'mobile', contact.mobile));
    // the email changes to a new address, verified, and the dialog cancelled
    const newEmail = `${unique('new')}@example.com`;
    let eg = dlg.getByRole('group', { name: w.emailGroup });
    await dlg.getByLabel(w.email, { exact: true }).fill(newEmail);
    await confirmCode(eg, w, await sendCode(eg, w, 'email', newEmail));
    await shot(page, `${lang}-edit-verified-before-cancel`);
    await dlg.getByRole('button', { name: w.cancel, exact: true }).click();
    await dlg.waitFor({ state: 'detached' });
    // the mobile verified in the dialog is Verified in the row without a reload
    await waitFor(async () => (await r.getByText(w.verified, { exact: true }).count()) === 1, { timeoutMs: STEP_TIMEOUT_MS, what: 'the row to show the mobile Verified' });
    assert.equal(await page.evaluate(() => window.__noReload), marker, 'the page was reloaded');
    await shot(page, `${lang}-list-after-cancel`);

    // the next Edit: the mobile is Verified; the new email typed again shows Verified, and OK saves it so
    await r.getByRole('button', { name: w.editBtn, exact: true }).click();
    dlg = page.getByRole('dialog', { name: w.edit });
    await dlg.waitFor();
    mg = dlg.getByRole('group', { name: w.mobileGroup });
    eg = dlg.getByRole('group', { name: w.emailGroup });
    await mg.getByText(w.verified, { exact: true }).waitFor();
    await eg.getByText(w.unverified, { exact: true }).waitFor();
    await dlg.getByLabel(w.email, { exact: true }).fill(newEmail);
    await eg.getByText(w.verified, { exact: true }).waitFor();
    await shot(page, `${lang}-edit-confirmed-before`);
    await dlg.getByRole('button', { name: w.ok, exact: true }).click();
    await dlg.waitFor({ state: 'detached' });
    const c = assertOk(await getContact(server, key, contact.id), 200);
    assert.equal(c.email, newEmail);
    assert.equal(c.email_status, 1);
    assert.equal(c.mobile_status, 1);
    await waitFor(async () => (await r.getByText(w.verified, { exact: true }).count()) === 2, { timeoutMs: STEP_TIMEOUT_MS, what: 'both Verified in the row' });
    noProblems(p);
  });

  // ---------------------------------------------------------- item 2: the row's Verify

  test(`[${lang}] a contact saved unverified through the API is verified from its list row, and the row updates in place`, async () => {
    const p = await open(lang);
    const page = p.page;
    const { contact } = await createContact(server, key, { name: `Imported ${lang} ${unique('n')}`, mobile: uniqueMobile('132'), email: `${unique('imp')}@example.com` });
    const verified = (await createContact(server, key, { name: `Mobile only ${lang} ${unique('n')}`, mobile: uniqueMobile('132'), email: undefined })).contact;
    await page.reload();
    const r = row(page, contact.name);
    await r.waitFor();
    await r.getByRole('button', { name: w.verify, exact: true }).waitFor();
    await shot(page, `${lang}-row-verify-action`);
    const marker = await page.evaluate(() => {
      window.__noReload = Math.random();
      return window.__noReload;
    });
    await r.getByRole('button', { name: w.verify, exact: true }).click();
    const dlg = page.getByRole('dialog', { name: w.verifyTitle(contact.name) });
    await dlg.waitFor();
    const eg = dlg.getByRole('group', { name: w.emailGroup });
    const mg = dlg.getByRole('group', { name: w.mobileGroup });
    // the addresses are the contact's, not to be changed here
    assert.equal(await dlg.getByLabel(w.email, { exact: true }).inputValue(), contact.email);
    assert.equal(await dlg.getByLabel(w.mobile, { exact: true }).evaluate((el) => el.readOnly), true);
    await shot(page, `${lang}-row-verify-dialog`);
    await confirmCode(eg, w, await sendCode(eg, w, 'email', contact.email));
    await confirmCode(mg, w, await sendCode(mg, w, 'mobile', contact.mobile));
    await shot(page, `${lang}-row-verify-done`);
    await dlg.getByRole('button', { name: w.done, exact: true }).click();
    await dlg.waitFor({ state: 'detached' });
    await waitFor(async () => (await r.getByText(w.verified, { exact: true }).count()) === 2, { timeoutMs: STEP_TIMEOUT_MS, what: 'the row to show both Verified' });
    assert.equal(await r.getByRole('button', { name: w.verify, exact: true }).count(), 0, 'the row still offers Verify');
    assert.equal(await page.evaluate(() => window.__noReload), marker, 'the page was reloaded');
    // focus stays on the row, not the page body
    assert.equal(await page.evaluate(() => document.activeElement.closest('tr') !== null), true, 'focus left the row');
    const c = assertOk(await getContact(server, key, contact.id), 200);
    assert.equal(c.email_status, 1);
    assert.equal(c.mobile_status, 1);
    await shot(page, `${lang}-row-verified`);
    // a contact with no email is offered Verify for its mobile alone
    await row(page, verified.name).getByRole('button', { name: w.verify, exact: true }).click();
    const d2 = page.getByRole('dialog', { name: w.verifyTitle(verified.name) });
    await d2.waitFor();
    assert.equal(await d2.getByRole('group', { name: w.emailGroup }).count(), 0);
    await d2.getByRole('group', { name: w.mobileGroup }).waitFor();
    await page.keyboard.press('Escape');
    await d2.waitFor({ state: 'detached' });
    noProblems(p);
  });
}
