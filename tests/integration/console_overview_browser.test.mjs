// console_overview_browser.test.mjs — the console's Overview in a real browser
// (Debian's chromium through playwright-core) against the real binary: traffic
// is made first (contacts with verified addresses, events delivered to robots
// on the local receivers, a robot the platform refuses, one whose retries run
// out, a contact left unverified, certificates expiring soon and later); a
// person signs in and lands on the Overview; both charts (Chart.js, embedded in
// the server) are drawn (pixels on their canvases), the totals in the tables
// behind them equal GET /v1/stats, the broken robot, the unverified contact and
// the expiring certificate are listed and lead to their pages; in 简体中文 and
// at phone width too, every state checked by axe-core, no CSP refusal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeDataDir, removeDir, startServer, createAccount, api, assertOk, createContact,
  verifiedContactBody, eventSettled, unique, waitFor, cleanUp,
} from './lib/harness.mjs';
import { startRobots, dingtalkWebhookUrl, wecomWebhookUrl, larkWebhookUrl } from './lib/robots.mjs';
import { launch, newPage, shot, signIn, pageFetch, assertAccessible, PHONE, STEP_TIMEOUT_MS } from './lib/browser.mjs';

const PASSWORD = 'correct horse battery staple';
const CHANNELS = ['email', 'sms', 'dingtalk', 'lark', 'wecom'];
const OUTCOMES = ['delivered', 'failed', 'dead'];
let dir, server, robots, browser, key, email;
const pages = [];
const made = {};

before(async () => {
  dir = makeDataDir();
  robots = await startRobots();
  key = createAccount(dir);
  server = await startServer(dir, {
    env: {
      ...robots.env(),
      CERTCONTACTS_DEV: '1', CERTCONTACTS_SMS_PROVIDER: 'log', CERTCONTACTS_SMTP_URL: '',
      CERTCONTACTS_VERIFY_RESEND_INTERVAL: '0', CERTCONTACTS_RETRY_SCHEDULE: '1,1,1',
      CERTCONTACTS_SEND_TIMEOUT_MS: '3000',
    },
  });
  email = `viewer-${unique('u')}@example.com`;
  assertOk(await api(server, 'POST', '/v1/users', { key, json: { email, role: 'readonly', password: PASSWORD } }), 201);

  // traffic: delivered on every channel, a robot refused for good, one whose retries run out
  const ding = robots.register('dingtalk', null, { keywords: ['certificate'] });
  const lark = robots.register('lark', null, {});
  const gone = robots.register('wecom', null, { removed: true });
  const down = robots.register('dingtalk', null, { keywords: ['certificate'] });
  robots.failNext('dingtalk', down, { http: 503 }, 8); // both events' four attempts
  const body = await verifiedContactBody(server, key, { name: unique('Lin') });
  made.good = (await createContact(server, key, {
    ...body, webhooks: [{ url: dingtalkWebhookUrl(ding) }, { url: larkWebhookUrl(lark) }, { url: wecomWebhookUrl(gone) }],
  })).contact;
  made.unverified = (await createContact(server, key, { name: unique('Wang'), webhooks: [{ url: dingtalkWebhookUrl(down) }] })).contact;
  for (const type of ['certificate.expiring', 'certificate.issued']) {
    const ev = assertOk(await api(server, 'POST', '/v1/events', {
      key, json: { type, contact_ids: [made.good.id, made.unverified.id], data: { domains: ['shop.example.com'], days_left: 9 } },
    }), 201);
    await eventSettled(server, key, ev.id, { timeoutMs: 30000 });
  }
  const day = 86400000;
  made.cert = assertOk(await api(server, 'POST', '/v1/certificates', {
    key, json: { domains: [`${unique('soon')}.example.com`], not_after: new Date(Date.now() + 12 * day).toISOString(), name: 'Shop' },
  }), 201);
  made.later = assertOk(await api(server, 'POST', '/v1/certificates', {
    key, json: { domains: [`${unique('later')}.example.com`], not_after: new Date(Date.now() + 60 * day).toISOString() },
  }), 201);
  browser = await launch();
});

after(async () => {
  await cleanUp([
    ...pages.map((p) => () => p.context.close()),
    () => browser?.close(),
    () => server?.stop(),
    () => robots?.stop(),
    () => removeDir(dir),
  ]);
});

async function open(opts) {
  const p = await newPage(browser, opts);
  pages.push(p);
  return p.page;
}

/** How many pixels of the chart's canvas are not transparent. */
async function inkOf(page, kind) {
  return page.locator(`canvas[data-chart="${kind}"]`).evaluate((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n += 1;
    return n;
  });
}

/** The coloured (bar) pixels of a chart: neither grey text/grid nor transparent. */
async function barsOf(page, kind) {
  return page.locator(`canvas[data-chart="${kind}"]`).evaluate((c) => {
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 60) n += 1;
    }
    return n;
  });
}

/** The totals table behind a chart: {channel: {outcome: n}}, read as a screen reader gets it. */
async function tableOf(page, kind) {
  const caption = kind === 'hours' ? 'Deliveries in the last 24 hours by channel' : 'Deliveries in the last 30 days by channel';
  const table = page.getByRole('table', { name: caption });
  return table.evaluate((tb) => {
    const out = {};
    for (const tr of tb.querySelectorAll('tbody tr')) {
      out[tr.dataset.channel] = {};
      for (const td of tr.querySelectorAll('td')) out[tr.dataset.channel][td.dataset.outcome] = Number(td.textContent);
    }
    return out;
  });
}

function totals(buckets) {
  const out = { all: { delivered: 0, failed: 0, dead: 0 } };
  for (const c of CHANNELS) {
    out[c] = { delivered: 0, failed: 0, dead: 0 };
    for (const b of buckets) for (const o of OUTCOMES) {
      out[c][o] += b.channels[c][o];
      out.all[o] += b.channels[c][o];
    }
  }
  return out;
}

test('signed in, the console lands on the Overview: both charts drawn, their numbers those of GET /v1/stats', async () => {
  const page = await open();
  await page.goto(server.base + '/');
  await signIn(page, email, PASSWORD);
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  assert.match(page.url(), /#\/overview$/);
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  assert.equal(await nav.getByRole('link', { name: 'Overview' }).getAttribute('aria-current'), 'page');

  // Chart.js came from the server itself, and drew bars on both canvases
  const res = await page.request.get(server.base + '/assets/vendor/chart.js');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-type'], /javascript/);
  for (const kind of ['hours', 'days']) {
    await waitFor(async () => (await barsOf(page, kind)) > 50, { timeoutMs: STEP_TIMEOUT_MS, what: `bars on the ${kind} chart` });
    assert.ok((await inkOf(page, kind)) > 500, `the ${kind} chart is drawn`);
  }

  const { body: s } = await pageFetch(page, 'GET', '/v1/stats', { csrf: false });
  const hours = totals(s.deliveries.hours), days = totals(s.deliveries.days);
  // what was sent: 2 events × (email, SMS, DingTalk, Lark delivered; WeCom failed; the dead robot)
  assert.deepEqual(days.all, { delivered: 8, failed: 2, dead: 2 }, JSON.stringify(days));
  assert.deepEqual(days.dingtalk, { delivered: 2, failed: 0, dead: 2 });
  assert.deepEqual(await tableOf(page, 'hours'), hours);
  assert.deepEqual(await tableOf(page, 'days'), days);
  const summaries = await page.locator('.chart-summary').allTextContents();
  assert.ok(summaries.every((x) => x === 'Delivered 8 · Failed 2 · Dead 2'), summaries.join(' | '));

  // one channel picked: the chart and its summary follow
  const daysCard = page.getByRole('region', { name: 'Last 30 days' });
  await daysCard.getByLabel('Channel').selectOption('wecom');
  await daysCard.getByText('Delivered 0 · Failed 2 · Dead 0').waitFor();
  await shot(page, 'overview');
  assert.deepEqual(page.problems, [], page.problems.join('\n'));
});

test('what needs attention, the unverified contacts and the expiring certificates are listed and lead to them', async () => {
  const page = await open();
  await page.goto(server.base + '/');
  await signIn(page, email, PASSWORD);
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  const attention = page.getByRole('region', { name: 'Needs attention' });
  const robotsTable = attention.getByRole('table', { name: 'Robots the platform refused' });
  const row = robotsTable.getByRole('row', { name: new RegExp(made.good.name) });
  await row.waitFor();
  assert.match(await row.textContent(), /WeCom/);
  assert.equal(await robotsTable.getByRole('row', { name: new RegExp(made.unverified.name) }).count(), 0, 'a dead notification is not a broken robot');

  const unverified = page.getByRole('region', { name: 'Unverified addresses' });
  await unverified.getByText('Contacts with an address not verified yet: 1', { exact: true }).waitFor();
  assert.equal(await unverified.getByRole('link', { name: made.good.name }).count(), 0);

  const expiring = page.getByRole('region', { name: 'Certificates expiring in the next 30 days' });
  const items = await expiring.getByRole('listitem').allTextContents();
  assert.equal(items.length, 1, items.join(' | '));
  assert.match(items[0], /Shop/);
  assert.match(items[0], /(11|12) days left/);
  assert.equal(await expiring.getByRole('link', { name: 'Shop' }).getAttribute('href'), `#/certificates/${made.cert.id}`);
  await page.getByRole('region', { name: 'Backup' }).getByText('No scheduled backup has been written yet.').waitFor();

  // the broken robot's contact: the contact list, found there
  await row.getByRole('link', { name: made.good.name }).click();
  await page.getByRole('heading', { name: 'Contact Management', level: 1 }).waitFor();
  await page.getByRole('row', { name: new RegExp(made.good.name) }).waitFor();
  // and back: the unverified contact
  await page.goBack();
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await page.getByRole('region', { name: 'Unverified addresses' }).getByRole('link', { name: made.unverified.name }).click();
  await page.getByRole('row', { name: new RegExp(made.unverified.name) }).waitFor();
  assert.deepEqual(page.problems, [], page.problems.join('\n'));
});

test('in 简体中文 and at phone width: the same page, charts drawn, accessible', async () => {
  const page = await open({ viewport: PHONE, locale: 'zh-CN' });
  await page.goto(server.base + '/');
  await page.getByLabel(/^(Language|语言)$/).selectOption({ label: '简体中文' });
  await signIn(page, email, PASSWORD, { names: { email: '邮箱', password: '密码', submit: '登录' } });
  await page.getByRole('heading', { name: '概览', level: 1 }).waitFor();
  for (const kind of ['hours', 'days']) {
    await waitFor(async () => (await barsOf(page, kind)) > 20, { timeoutMs: STEP_TIMEOUT_MS, what: `bars on the ${kind} chart` });
    const box = await page.locator(`canvas[data-chart="${kind}"]`).boundingBox();
    assert.ok(box.width > 200 && box.x >= 0 && box.x + box.width <= PHONE.width, `the ${kind} chart fits the screen: ${JSON.stringify(box)}`);
  }
  await page.getByRole('region', { name: '需要处理' }).waitFor();
  await page.getByText('已送达 8 · 失败 2 · 已放弃 2').first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await shot(page, 'overview-zh-phone');
  await assertAccessible(page, 'overview (zh-CN, phone)');
  assert.deepEqual(page.problems, [], page.problems.join('\n'));
});
