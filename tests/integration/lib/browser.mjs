// browser.mjs — Debian's chromium, headless, driven by playwright-core, for the
// console tests. Every wait is bounded (default timeouts on each page), each
// page records the problems a person would not see but a test must: uncaught
// errors and Content-Security-Policy refusals. Screenshots go to
// tests/integration/screenshots/ (git-ignored).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.resolve(HERE, '..', 'screenshots');
export const CHROMIUM = process.env.CC_CHROMIUM || '/usr/bin/chromium';

// Sanitizer builds answer slowly; a step still never waits longer than this.
export const STEP_TIMEOUT_MS = 15000;

export const LAPTOP = { width: 1366, height: 860 };
export const PHONE = { width: 390, height: 844 };

/** Launch headless chromium (no sandbox: the tests may run as root in a container). */
export async function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--lang=en-US'],
    timeout: 30000,
  });
}

/**
 * A fresh context (own cookies) and page with bounded default timeouts.
 * page.problems collects uncaught exceptions and CSP violations.
 */
export async function newPage(browser, { viewport = LAPTOP, locale = 'en-US' } = {}) {
  const context = await browser.newContext({ viewport, locale });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(text)) page.problems.push(`CSP: ${text}`);
  });
  return { context, page };
}

let shotSeq = 0;

/** Empty the screenshots folder, so it holds this run's steps only. */
export function resetScreenshots() {
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  shotSeq = 0;
}

/** A screenshot (full page unless fullPage: false) named NN-name.png in the screenshots folder. */
export async function shot(page, name, { fullPage = true, a11y = true } = {}) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  shotSeq += 1;
  const file = path.join(SCREENSHOTS, `${String(shotSeq).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage, timeout: STEP_TIMEOUT_MS });
  if (a11y) await assertAccessible(page, name);
  return file;
}

/**
 * axe-core over the page as it is now (every rule axe runs by default: WCAG 2.x
 * A/AA and best practices). Any violation fails, listing each rule, its impact
 * and the nodes it found, so that the step that showed it is named. Every
 * screenshot a console test takes checks its state this way.
 */
export async function assertAccessible(page, what) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  if (!violations.length) return;
  const lines = violations.map((v) => `- ${v.id} (${v.impact}, ${v.nodes.length} node${v.nodes.length === 1 ? '' : 's'}): ${v.help}\n${
    v.nodes.slice(0, 5).map((n) => `    ${n.target.join(' ')} — ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 240)}`).join('\n')}`);
  throw new Error(`accessibility violations at "${what}" (${page.url()}):\n${lines.join('\n')}`);
}

/** Fill the sign-in form and press the button (whatever the console's language, by the given names). */
export async function signIn(page, email, password, { names = { email: 'Email', password: 'Password', submit: 'Sign in' } } = {}) {
  await page.getByLabel(names.email, { exact: true }).fill(email);
  await page.getByLabel(names.password, { exact: true }).fill(password);
  await page.getByRole('button', { name: names.submit, exact: true }).click();
}

/**
 * fetch() from inside the page (the session cookie goes along), optionally
 * with the CSRF token of the current session. Returns {status, body}.
 */
export async function pageFetch(page, method, urlPath, { json, csrf = 'session' } = {}) {
  return page.evaluate(async ({ method, urlPath, json, csrf }) => {
    const headers = {};
    if (csrf === 'session') {
      const s = await fetch('/v1/session', { credentials: 'same-origin' });
      if (s.ok) headers['X-CSRF-Token'] = (await s.json()).csrf_token;
    } else if (typeof csrf === 'string' && csrf) {
      headers['X-CSRF-Token'] = csrf;
    }
    if (json !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(urlPath, { method, headers, credentials: 'same-origin', body: json === undefined ? undefined : JSON.stringify(json) });
    const text = await r.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    return { status: r.status, body };
  }, { method, urlPath, json, csrf });
}
