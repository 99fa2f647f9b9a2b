// console_lists_browser.test.mjs — the console's lists in a real browser
// against the real binary, with 61 contacts made through the API: the
// contact list's page size (50) and page jump, its place kept in the URL
// (a reload and the browser's back and forward come back to it), a search
// for a mobile as the list writes it ("+86 158"); the Notifications page's
// searchable Contact picker (keyboard only), its Event type and Domain
// columns, a channel the event skipped shown as Skipped with why, and the
// detail with the event's data. In English and 简体中文, every state checked
// by axe-core through shot(). Elements are found by role and accessible name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact, unique, uniqueMobile, waitFor, cleanUp,
} from './lib/harness.mjs';
import { launch, newPage, shot, signIn, PHONE } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const COUNT = 60;

let dir, server, browser, key, admin, special, eventId;
const contexts = [];

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  server = await startServer(dir);
  const email = `admin-${unique('u')}@example.com`;
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'admin', password: PASSWORD } }), 201);
  admin = { email };
  const tag = unique('p').replace(/[0-9]/g, (d) => 'abcdefghij'[d]);
  for (let i = 1; i <= COUNT; i++) {
    await createContact(server, key, { name: `Person ${String(i).padStart(2, '0')} ${tag}`, mobile: uniqueMobile('139') });
  }
  // the newest contact: first in the list; its addresses never verified, no robots
  ({ contact: special } = await createContact(server, key, { name: `Lin Xiaohong ${tag}`, mobile: uniqueMobile('158') }));
  const ev = assertOk(await api(server, 'POST', '/v1/events', {
    key,
    json: { type: 'certificate.expiring', contact_ids: [special.id], data: { domains: ['shop.example.com'], certificate_id: '41', days_left: 12 } },
  }), 201);
  assert.equal(ev.skipped.length, 3);
  eventId = ev.id;
  browser = await launch();
});

after(async () => {
  await cleanUp([...contexts.map((c) => () => c.close()), () => browser?.close(), () => server?.stop(), () => removeDir(dir)]);
});

async function open(opts) {
  const p = await newPage(browser, opts);
  contexts.push(p.context);
  await p.page.goto(server.base + '/#/contacts'); // the contact list, not the Overview the console lands on
  await signIn(p.page, admin.email, PASSWORD);
  await p.page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  return p.page;
}

const contactsTable = (page, name = 'Contacts') => page.getByRole('table', { name });
/** Waits until the contact table shows n rows (the header's included) and the pager says text. */
async function listShows(page, rows, pagerText, table = 'Contacts') {
  await page.getByText(pagerText, { exact: true }).waitFor();
  await waitFor(async () => (await contactsTable(page, table).getByRole('row').count()) === rows,
    { timeoutMs: 10000, intervalMs: 50, what: `${rows} rows` });
}

test('the contact list: page size 50, a page jump, the place kept across reload and back/forward, a search for "+86 158"', async () => {
  const page = await open();
  const total = COUNT + 1;
  await listShows(page, 11, `Page 1 of 7 · ${total} in total`);
  await shot(page, 'lists-contacts-first');

  await page.getByLabel('Per page').selectOption('50');
  await listShows(page, 51, `Page 1 of 2 · ${total} in total`);
  assert.match(page.url(), /#\/contacts\?size=50$/);
  // focus went to the list, not <body>
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'TABLE');
  await shot(page, 'lists-contacts-size50');

  await page.getByLabel('Go to page').fill('2');
  await page.getByRole('button', { name: 'Go', exact: true }).click();
  await listShows(page, 12, `Page 2 of 2 · ${total} in total`);
  assert.match(page.url(), /#\/contacts\?page=2&size=50$/);
  await shot(page, 'lists-contacts-page2');

  await page.reload();
  await listShows(page, 12, `Page 2 of 2 · ${total} in total`);
  assert.equal(await page.getByLabel('Per page').inputValue(), '50');

  await page.goBack();
  await listShows(page, 51, `Page 1 of 2 · ${total} in total`);
  await page.goBack();
  await listShows(page, 11, `Page 1 of 7 · ${total} in total`);
  await page.goForward();
  await listShows(page, 51, `Page 1 of 2 · ${total} in total`);

  // the mobile as the list writes it
  const shown = `+86 ${special.mobile.slice(3, 6)}`;
  await page.getByRole('searchbox', { name: 'Search contacts' }).fill(shown);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await listShows(page, 2, 'Page 1 of 1 · 1 in total');
  await contactsTable(page).getByRole('rowheader', { name: special.name }).waitFor();
  assert.ok(decodeURIComponent(page.url().replace(/\+/g, '%20')).includes(`q=${shown}`), page.url());
  await shot(page, 'lists-contacts-search-mobile');
  // a part of the number with a space between its groups, and the search kept over a reload
  const part = `${special.mobile.slice(3, 6)} ${special.mobile.slice(6, 10)}`;
  await page.getByRole('searchbox', { name: 'Search contacts' }).fill(part);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL(/q=/);
  await listShows(page, 2, 'Page 1 of 1 · 1 in total');
  await page.reload();
  await listShows(page, 2, 'Page 1 of 1 · 1 in total');
  assert.equal(await page.getByRole('searchbox', { name: 'Search contacts' }).inputValue(), part);
  await page.goBack();
  await listShows(page, 2, 'Page 1 of 1 · 1 in total');
  assert.equal(await page.getByRole('searchbox', { name: 'Search contacts' }).inputValue(), shown);
  assert.deepEqual(page.problems, []);
});

test('Notifications: the Contact picker finds any contact by typing, the list names the event and domain, a skipped channel says why, the detail shows the event data', async () => {
  const page = await open();
  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: 'Notifications' }).click();
  await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();

  // keyboard only: type a part of the name, the server's answer is listed, Down and Enter choose
  const picker = page.getByRole('combobox', { name: 'Contact' });
  await picker.focus();
  await page.keyboard.type('Xiaohong');
  const option = page.getByRole('option', { name: new RegExp(special.name) });
  await option.waitFor();
  await waitFor(async () => (await page.getByRole('option', { name: /^Person/ }).count()) === 0,
    { timeoutMs: 5000, intervalMs: 50, what: 'the search to narrow the list' });
  // the server's search also matches the mobile, written as the list writes it
  await picker.fill(`+86 ${special.mobile.slice(3, 6)}`);
  // "All contacts" and the one contact
  await waitFor(async () => (await page.getByRole('listbox', { name: 'Contact' }).getByRole('option').count()) === 2 && (await option.count()) === 1,
    { timeoutMs: 5000, intervalMs: 50, what: 'the contact found by its mobile' });
  await shot(page, 'lists-notifications-picker', { fullPage: false });
  await waitFor(async () => {
    await page.keyboard.press('ArrowDown');
    return (await option.getAttribute('aria-selected')) === 'true';
  }, { timeoutMs: 5000, intervalMs: 50, what: 'the option to be active' });
  await page.keyboard.press('Enter');
  assert.equal(await picker.inputValue(), special.name);

  const table = page.getByRole('table', { name: 'Notifications' });
  await waitFor(async () => (await table.getByRole('row').count()) === 4, { timeoutMs: 10000, intervalMs: 50, what: 'three rows' });
  for (const h of ['Event type', 'Domain']) await table.getByRole('columnheader', { name: h }).waitFor();
  const skipped = table.getByRole('row').filter({ hasText: 'Skipped' });
  assert.equal(await skipped.count(), 3);
  const email = table.getByRole('row').filter({ hasText: 'email address not verified' });
  await email.getByRole('cell', { name: 'Certificate expiring' }).waitFor();
  await email.getByRole('cell', { name: 'shop.example.com' }).waitFor();
  await email.getByText('Not sent: email address not verified').waitFor();
  assert.equal(await email.getByRole('button', { name: 'Resend' }).count(), 0, 'a skipped notification offers Resend');
  await table.getByRole('row').filter({ hasText: 'no notification robots' }).waitFor();
  await shot(page, 'lists-notifications-skipped');

  await page.getByLabel('Status', { exact: true }).selectOption('skipped');
  await waitFor(async () => (await table.getByRole('row').count()) === 4, { timeoutMs: 10000, intervalMs: 50, what: 'the skipped rows' });

  await email.getByRole('button', { name: 'Details' }).click();
  const dlg = page.getByRole('dialog', { name: /^Notification \d+$/ });
  await dlg.waitFor();
  const data = dlg.getByRole('region', { name: 'Event data' });
  await data.getByText('Days left').waitFor();
  await data.getByText('12', { exact: true }).waitFor();
  await data.getByText('Certificate ID').waitFor();
  await data.getByText('41', { exact: true }).waitFor();
  await dlg.getByText(`#${eventId} · Certificate expiring`).waitFor();
  await dlg.getByText('email address not verified').waitFor();
  await shot(page, 'lists-notifications-detail');
  await dlg.getByRole('button', { name: 'Close' }).last().click();
  await dlg.waitFor({ state: 'detached' });

  // "All contacts" clears the filter again
  await picker.fill('');
  await picker.press('ArrowDown');
  await page.getByRole('option', { name: 'All contacts' }).click();
  assert.equal(await picker.inputValue(), '');
  assert.deepEqual(page.problems, []);
});

test('简体中文: the pager, the page jump, the Notifications columns, Skipped and the event data in Chinese; at phone width', async () => {
  const page = await open();
  await page.getByLabel('Language').selectOption('zh-CN');
  await page.getByRole('heading', { name: '联系人管理', level: 1 }).waitFor();
  await page.getByLabel('每页条数').selectOption('20');
  await listShows(page, 21, `第 1/4 页 · 共 ${COUNT + 1} 条`, '联系人列表');
  await page.getByLabel('跳至页').fill('4');
  await page.getByRole('button', { name: '跳转', exact: true }).click();
  await listShows(page, 2, `第 4/4 页 · 共 ${COUNT + 1} 条`, '联系人列表');
  assert.match(page.url(), /#\/contacts\?page=4&size=20$/);
  await shot(page, 'lists-contacts-zh-page4');
  await page.goBack();
  await listShows(page, 21, `第 1/4 页 · 共 ${COUNT + 1} 条`, '联系人列表');
  await page.getByRole('searchbox', { name: '搜索联系人' }).fill(`+86 ${special.mobile.slice(3, 6)}`);
  await page.getByRole('button', { name: '搜索', exact: true }).click();
  await listShows(page, 2, '第 1/1 页 · 共 1 条', '联系人列表');
  await shot(page, 'lists-contacts-zh-search');

  await page.goto(server.base + '/#/notifications');
  await page.getByRole('heading', { name: '通知记录', level: 1 }).waitFor();
  const picker = page.getByRole('combobox', { name: '联系人' });
  await picker.fill('Xiaohong');
  await page.getByRole('option', { name: new RegExp(special.name) }).click();
  const table = page.getByRole('table', { name: '通知记录' });
  await waitFor(async () => (await table.getByRole('row').count()) === 4, { timeoutMs: 10000, intervalMs: 50, what: 'three rows' });
  assert.equal(await table.getByRole('row').filter({ hasText: '已跳过' }).count(), 3);
  await table.getByRole('row').filter({ hasText: '证书即将到期' }).first().waitFor();
  await shot(page, 'lists-notifications-zh');
  // the reason the server stored in English reads in Chinese
  assert.equal(await table.getByText('email address not verified').count(), 0, 'a reason left in English');
  await table.getByRole('row').filter({ hasText: '邮箱地址未验证' }).getByRole('button', { name: '详情' }).click();
  const dlg = page.getByRole('dialog', { name: /^通知 \d+$/ });
  const data = dlg.getByRole('region', { name: '事件数据' });
  await data.getByText('剩余天数').waitFor();
  await data.getByText('证书 ID').waitFor();
  await shot(page, 'lists-notifications-zh-detail');
  await dlg.getByRole('button', { name: '关闭' }).last().click();
  await dlg.waitFor({ state: 'detached' });
  // at phone width: the same list, every state still accessible
  await page.setViewportSize(PHONE);
  await shot(page, 'lists-notifications-zh-phone');
  await page.goto(server.base + '/#/contacts?page=2&size=20');
  await page.getByText(`第 2/4 页 · 共 ${COUNT + 1} 条`, { exact: true }).waitFor();
  await shot(page, 'lists-contacts-zh-phone');
  assert.deepEqual(page.problems, []);
});
