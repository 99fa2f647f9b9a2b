// console_search_cap_browser.test.mjs — a search whose matches pass the
// server's search_count_max: the contact list says "at least" ("3+"), and
// Next leads on past the pages that count makes while a page is full, until
// every match has been shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, unique, uniqueMobile, cleanUp,
} from './lib/harness.mjs';
import { launch, newPage, signIn } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
let dir, server, browser, key, user;
const contexts = [];

before(async () => {
  dir = makeDataDir();
  key = createAccount(dir);
  server = await startServer(dir, { args: ['--search-count-max', '3'] });
  for (let i = 0; i < 12; i++) {
    const json = { name: `Capybara ${String(i).padStart(2, '0')}`, mobile: uniqueMobile('139') };
    assertOk(await api(server, 'POST', '/v1/contacts', { key, json }), 201);
  }
  user = { email: `cap-${unique('u')}@example.com` };
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email: user.email, role: 'operator', password: PASSWORD } }), 201);
  browser = await launch();
});

after(async () => {
  await cleanUp([...contexts.map((c) => () => c.close()), () => browser?.close(), () => server?.stop(), () => removeDir(dir)]);
});

test('a capped search total reads "3+", and Next still reaches every match', async () => {
  const { page, context } = await newPage(browser);
  contexts.push(context);
  await page.goto(`${server.base}/#/contacts`);
  await signIn(page, user.email, PASSWORD);
  const box = page.getByRole('searchbox', { name: 'Search contacts' });
  await box.fill('capybara');
  await box.press('Enter');
  const pager = page.locator('main .pager-text');
  await assert.doesNotReject(pager.filter({ hasText: 'Page 1 of 1+ · 3+ in total' }).waitFor());
  assert.equal(await page.locator('main table.grid tbody tr').count(), 10);
  const next = page.getByRole('button', { name: 'Next' });
  assert.equal(await next.isEnabled(), true, 'a full page of a capped search leads on');
  await next.click();
  await pager.filter({ hasText: 'Page 2 of 2+ · 3+ in total' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('main table.grid tbody tr').length === 2);
  assert.equal(await next.isEnabled(), false, 'the last, partial page ends it');
  // without a keyword the total is exact
  await box.fill('');
  await box.press('Enter');
  await pager.filter({ hasText: 'Page 1 of 2 · 12 in total' }).waitFor();
  assert.deepEqual(page.problems, []);
});
