// console_field_errors_browser.test.mjs — a refused contact save in the web
// console shows every problem at once, each next to its field: both unverified
// addresses at OK, an invalid email AND an invalid mobile at Verify, Bot 1's bad
// signing secret in Bot 1's row AND Bot 2's bad URL in Bot 2's row (not under
// the list); each field with
// a problem is aria-invalid and described by its message, the focus is on the
// first, and a field's message goes when it is edited. Walked in English and
// 简体中文, in Create and in Edit (an ID card number beside the robots), with
// axe-core at every error state (shot()). Elements are found by role and
// accessible name only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, unique, uniqueMobile,
  verifiedContactBody, waitFor, cleanUp,
} from './lib/harness.mjs';
import { launch, newPage, shot, signIn, STEP_TIMEOUT_MS } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const DING = (t) => `https://oapi.dingtalk.com/robot/send?access_token=${t}`;
const BAD_URL = 'https://evil.example/robot/send?access_token=abc123';
const BAD_ID_CARD = '110101199003071230'; // a wrong check digit

const WORDS = {
  en: {
    create: 'Create Contact', edit: 'Edit Contact', editBtn: 'Edit', ok: 'OK', cancel: 'Cancel',
    name: 'Contact Name', email: 'Email Address', mobile: 'Mobile Number', idCard: 'ID Card Number',
    bot: (n) => `Bot ${n}`, url: 'Webhook URL', secret: 'Signing Secret', addBot: 'Add Bot',
    heading: 'Contact Management', emailGroup: 'Email verification', mobileGroup: 'Mobile verification',
    verify: 'Verify', needVerified: 'Verify this address before saving.',
  },
  'zh-CN': {
    create: '创建联系人', edit: '编辑联系人', editBtn: '编辑', ok: '确定', cancel: '取消',
    name: '联系人姓名', email: '邮箱地址', mobile: '手机号码', idCard: '身份证号码',
    bot: (n) => `机器人 ${n}`, url: 'Webhook 地址', secret: '加签密钥', addBot: '添加机器人',
    heading: '联系人管理', emailGroup: '邮箱验证', mobileGroup: '手机验证',
    verify: '验证', needVerified: '保存前请先验证此地址。',
  },
};

let dir, server, browser, context, page, key, email;

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  // development mode writes codes to the log: the Edit walk's contact is verified from it
  server = await startServer(dir, { env: { CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '' } });
  email = `admin-${unique('u')}@example.com`;
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'admin', password: PASSWORD } }), 201);
  browser = await launch();
  ({ context, page } = await newPage(browser));
});

after(async () => {
  await cleanUp([() => context?.close(), () => browser?.close(), () => server?.stop(), () => removeDir(dir)]);
});

/** The problems the API answers for body, in the console's language: {path: message}. */
async function apiProblems(method, path, body, lang) {
  const r = await api(server, method, path, { key, json: body, headers: { 'accept-language': lang } });
  assert.ok(r.status === 400 || r.status === 409, r.text);
  return Object.fromEntries(r.json.problems.map((p) => [p.path, p.message]));
}

/** The text an input's aria-describedby points at (what a screen reader reads with it). */
async function description(input) {
  return input.evaluate((el) => (el.getAttribute('aria-describedby') || '').split(/\s+/)
    .map((id) => document.getElementById(id)).filter((x) => x && !x.hidden)
    .map((x) => x.textContent).join(' '));
}

async function assertProblem(input, message) {
  await waitFor(async () => (await input.getAttribute('aria-invalid')) === 'true', { timeoutMs: STEP_TIMEOUT_MS, what: `${message} marked` });
  const d = await description(input);
  assert.ok(d.includes(message), `"${message}" is not what the field's description reads: "${d}"`);
}

async function assertClean(input) {
  assert.equal(await input.getAttribute('aria-invalid'), null);
}

const focused = (input) => input.evaluate((el) => el === document.activeElement);

/** Fills Bot 1 (a DingTalk URL with a secret lacking SEC) and Bot 2 (a URL of no robot platform). */
async function fillBadBots(dlg, w) {
  const bot1 = dlg.getByRole('group', { name: w.bot(1) });
  await bot1.getByLabel(w.url).fill(DING(`tok${unique('t').replace(/[^A-Za-z0-9]/g, '')}`));
  await bot1.getByLabel(w.secret).fill('not-a-dingtalk-secret');
  if (await dlg.getByRole('group', { name: w.bot(2) }).count() === 0) await dlg.getByRole('button', { name: w.addBot }).click();
  const bot2 = dlg.getByRole('group', { name: w.bot(2) });
  await bot2.getByLabel(w.url).fill(BAD_URL);
  return { bot1, bot2 };
}

/** Both robots' problems sit in their own rows, and nothing under the list. */
async function assertBotProblems(dlg, w, bot1, bot2, want) {
  const w1 = want['webhooks[0].secret'];
  const w2 = want['webhooks[1].url'];
  assert.ok(w1 && w2, JSON.stringify(want));
  await assertProblem(bot1.getByLabel(w.secret), w1);
  await bot1.getByText(w1, { exact: true }).waitFor();
  await bot2.getByText(w2, { exact: true }).waitFor();
  assert.equal(await bot1.getByText(w2, { exact: true }).count(), 0, 'Bot 2\'s problem in Bot 1\'s row');
  assert.equal(await bot2.getByText(w1, { exact: true }).count(), 0, 'Bot 1\'s problem in Bot 2\'s row');
  assert.equal(await dlg.getByText(w2, { exact: true }).count(), 1, 'Bot 2\'s problem shown twice (under the list?)');
}

for (const lang of ['en', 'zh-CN']) {
  const w = WORDS[lang];

  test(`${lang}: Create names both unverified addresses at once, and each address's own problem at its field`, async () => {
    if (lang === 'en') {
      await page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
      await signIn(page, email, PASSWORD);
    } else {
      await page.getByLabel('Language', { exact: true }).selectOption('zh-CN');
    }
    await page.getByRole('heading', { name: w.heading, level: 1 }).waitFor();
    await page.getByRole('button', { name: w.create }).click();
    const dlg = page.getByRole('dialog', { name: w.create });
    await dlg.waitFor();
    const name = `Field ${unique('n')}`;
    await dlg.getByLabel(w.name, { exact: true }).fill(name);
    const emailIn = dlg.getByLabel(w.email, { exact: true });
    const mobileIn = dlg.getByLabel(w.mobile, { exact: true });
    await emailIn.fill('not-an-email');
    await mobileIn.fill('12345');
    await fillBadBots(dlg, w);
    // OK saves only verified addresses: both are named at once, the focus on the first
    await dlg.getByRole('button', { name: w.ok, exact: true }).click();
    await assertProblem(emailIn, w.needVerified);
    await assertProblem(mobileIn, w.needVerified);
    assert.equal(await focused(emailIn), true, 'the focus is not on the first field with a problem');
    await shot(page, `field-errors-create-unverified-${lang}`);

    // Verify asks the server: each address's own problem at its field, the other's stays
    const want = await apiProblems('POST', '/v1/contacts', { name, email: 'not-an-email', mobile: '12345' }, lang);
    if (lang === 'zh-CN') for (const m of [want.email, want.mobile]) assert.match(m, /[\u4e00-\u9fff]/, m);
    await dlg.getByRole('group', { name: w.emailGroup }).getByRole('button', { name: w.verify, exact: true }).click();
    await assertProblem(emailIn, want.email);
    await dlg.getByRole('group', { name: w.mobileGroup }).getByRole('button', { name: w.verify, exact: true }).click();
    await assertProblem(mobileIn, want.mobile);
    await assertProblem(emailIn, want.email);
    await shot(page, `field-errors-create-${lang}`);

    // editing a field takes its message away, and only its own
    await mobileIn.fill(uniqueMobile().slice(3));
    await assertClean(mobileIn);
    await assertProblem(emailIn, want.email);
    await shot(page, `field-errors-create-edited-${lang}`);
    await dlg.getByRole('button', { name: w.cancel }).click();
    await dlg.waitFor({ state: 'detached' });
  });

  test(`${lang}: Edit shows the ID card and both robots' problems at once, in the rows`, async () => {
    const body = await verifiedContactBody(server, key, { name: `Edit ${unique('e')}` });
    const c = assertOk(await api(server, 'POST', '/v1/contacts', { key, json: body }), 201);
    await page.reload();
    await page.getByRole('heading', { name: w.heading, level: 1 }).waitFor();
    const row = page.getByRole('row', { name: new RegExp(body.name) });
    await row.getByRole('button', { name: w.editBtn }).click();
    const dlg = page.getByRole('dialog', { name: w.edit });
    await dlg.getByLabel(w.name, { exact: true }).waitFor();
    const idIn = dlg.getByLabel(w.idCard, { exact: true });
    await idIn.fill(BAD_ID_CARD);
    const { bot1, bot2 } = await fillBadBots(dlg, w);
    await dlg.getByRole('button', { name: w.ok, exact: true }).click();

    const want = await apiProblems('PATCH', `/v1/contacts/${c.id}`, {
      id_card: BAD_ID_CARD, webhooks: [{ url: DING('abcdef123'), secret: 'not-a-dingtalk-secret' }, { url: BAD_URL }],
    }, lang);
    await assertProblem(idIn, want.id_card);
    await assertBotProblems(dlg, w, bot1, bot2, want);
    assert.equal(await focused(idIn), true, 'the focus is not on the first field with a problem');
    await shot(page, `field-errors-edit-${lang}`);

    await idIn.fill('');
    await assertClean(idIn);
    await dlg.getByRole('button', { name: w.cancel }).click();
    await dlg.waitFor({ state: 'detached' });
    const now = assertOk(await api(server, 'GET', `/v1/contacts/${c.id}`, { key }), 200);
    assert.equal(now.version, c.version, 'a refused save changed the contact');
    assert.deepEqual(page.problems, [], page.problems.join('\n'));
  });
}
