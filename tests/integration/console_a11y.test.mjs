// console_a11y.test.mjs — axe-core over every page of the console and the
// dialogs that create things, in English and 简体中文, at laptop and phone
// width: any violation of the rules axe runs by default (WCAG 2.x A/AA and
// best practices) fails. The flows themselves are walked by the other
// console tests, whose every screenshot runs the same check
// (lib/browser.mjs, shot → assertAccessible).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, unique,
} from './lib/harness.mjs';
import { launch, newPage, signIn, assertAccessible, LAPTOP, PHONE } from './lib/browser.mjs';
import { Pki } from './lib/pki.mjs';

const PASSWORD = 'correct horse battery staple';
let dir, server, browser, key, pki;
const contexts = [];

const WORDS = {
  en: {
    locale: 'en-US', email: 'Email', password: 'Password', submit: 'Sign in', menu: 'Menu',
    pages: ['Contact Management', 'Notifications', 'Certificates', 'Applications', 'Settings', 'Audit log', 'Robot setup guide', 'Overview'],
    dialogs: [['contacts', 'Create Contact'], ['applications', 'Apply for Certificate'], ['certificates', 'Upload Certificate'], ['contacts', 'Import']],
  },
  'zh-CN': {
    locale: 'zh-CN', email: '邮箱', password: '密码', submit: '登录', menu: '菜单',
    pages: ['联系人管理', '通知记录', '证书', '证书申请', '设置', '审计日志', '机器人配置指南', '概览'],
    dialogs: [['contacts', '创建联系人'], ['applications', '申请证书'], ['certificates', '上传证书'], ['contacts', '导入']],
  },
};
const ROUTES = ['contacts', 'notifications', 'certificates', 'applications', 'settings', 'audit', 'guide', 'overview'];

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  server = await startServer(dir);
  pki = new Pki();
  // something on every page: contacts (one with a robot), a notification, an
  // application and a certificate
  const { contact } = await createContact(server, key, {
    name: unique('张三'),
    webhooks: [{ url: `https://oapi.dingtalk.com/robot/send?access_token=${'a'.repeat(64)}` }],
  });
  await createContact(server, key, { name: unique('Li Si') });
  assertOk(await api(server, 'POST', '/v1/events', { key, json: { type: 'certificate.issued', contact_ids: [contact.id] } }), 201);
  const leaf = pki.leaf([`${unique('a11y')}.example.com`]);
  assertOk(await api(server, 'POST', '/v1/certificates', { key, json: { pem: leaf.chain } }), 201);
  browser = await launch();
});

after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
  pki?.remove();
  removeDir(dir);
});

for (const lang of ['en', 'zh-CN']) {
  for (const [width, viewport] of [['laptop', LAPTOP], ['phone', PHONE]]) {
    test(`every page and create dialog is accessible (${lang}, ${width})`, async () => {
      const w = WORDS[lang];
      const email = `a11y-${unique('u')}@example.com`;
      assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'admin', password: PASSWORD } }), 201);
      const { context, page } = await newPage(browser, { viewport, locale: w.locale });
      contexts.push(context);
      await page.goto(server.base);
      if (lang !== 'en') await page.getByLabel(/^(Language|语言)$/).selectOption({ label: '简体中文' });
      await page.getByRole('button', { name: w.submit, exact: true }).waitFor();
      await assertAccessible(page, `sign-in (${lang}, ${width})`);
      await signIn(page, email, PASSWORD, { names: w });
      await page.getByRole('navigation').first().waitFor({ state: 'attached' });
      for (const [i, route] of ROUTES.entries()) {
        await page.goto(`${server.base}/#/${route}`);
        await page.getByRole('heading', { level: 1, name: w.pages[i] }).waitFor();
        await page.waitForLoadState('networkidle');
        await assertAccessible(page, `${route} (${lang}, ${width})`);
      }
      if (width === 'phone') {
        await page.getByRole('button', { name: w.menu }).click();
        await assertAccessible(page, `menu open (${lang}, ${width})`);
        await page.getByRole('button', { name: w.menu }).click();
      }
      for (const [route, button] of w.dialogs) {
        await page.goto(`${server.base}/#/${route}`);
        await page.getByRole('button', { name: button }).first().click();
        const dialog = page.getByRole('dialog');
        await dialog.waitFor();
        await page.waitForLoadState('networkidle');
        await assertAccessible(page, `${button} dialog (${lang}, ${width})`);
        await page.keyboard.press('Escape');
        await dialog.waitFor({ state: 'detached' });
      }
      assert.deepEqual(page.problems, [], page.problems.join('\n'));
    });
  }
}
