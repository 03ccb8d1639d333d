// The merchant's console in the browser: the set-up its test files share, staff members made with
// the server's command line, signed in through the sign-in page, the language chosen on the
// account page, and whole console pages checked with axe-core on a desktop's and a phone's screen.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { after, afterEach, before } from 'node:test';
import { launchBrowser, startServer, watchForProblems } from './harness.mjs';

const ROOT = resolve(import.meta.dirname, '../../..');
const SERVER_BIN = resolve(process.env.SERVER_BIN ?? join(ROOT, 'target/release/wallet-checkout-server'));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/** The screens every console page is checked on: a desktop's and a phone's (390 px wide). */
export const SCREENS = [{ width: 1280, height: 900 }, { width: 390, height: 844 }];

let made = 0;

/**
 * The set-up of a console test file, registered as its hooks: one reference server (started with
 * `env`) and one browser for the file, and a new browser context for each `newPage`, closed after
 * its test. `server` and `browser` are set when the file's tests run; another `before` hook of
 * the file may run alongside this one, so it must not rely on them. `newPage` resolves to
 * `{ context, page, problems }` (see `consolePage`); its `options` and `pageDefaults` are the
 * context's.
 */
export function consoleSuite(env = {}, pageDefaults = {}) {
  const contexts = [];
  const suite = {
    server: undefined,
    browser: undefined,
    async newPage(options = {}) {
      const opened = await consolePage(suite.browser, { ...pageDefaults, ...options });
      contexts.push(opened.context);
      return opened;
    },
  };
  before(async () => {
    suite.server = await startServer(env);
    suite.browser = await launchBrowser();
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close();
  });
  return suite;
}

/** Runs the server's command line with `args` against the running `server`; answers its output. */
export function serverCommand(server, args) {
  return execFileSync(SERVER_BIN, args, {
    env: { ...process.env, ...server.env, WC_DATA_DIR: server.dataDir, NO_COLOR: '1' },
    encoding: 'utf8',
  });
}

/**
 * Makes a staff member of `role` on the running `server` (from `startServer`) with the command
 * line, as a shop owner makes the first admin. Resolves to `{ email, password, name }`.
 */
export function createStaff(server, role, name = `${role} person`) {
  made += 1;
  const email = `${role}-${process.pid}-${made}@shop.example`;
  const output = serverCommand(server, ['staff', 'create', '--name', name, '--email', email, '--role', role]);
  const password = output.trim().split('\n').filter((line) => line.trim()).pop().trim();
  return { email, password, name };
}

/**
 * A new browser context and page for the console, in English unless `options` say otherwise and
 * with the page's CSP bypassed so that axe-core can be injected; the page's errors and console
 * errors are collected in `problems`. Resolves to `{ context, page, problems }`.
 */
export async function consolePage(browser, options = {}) {
  const context = await browser.newContext({ locale: 'en-US', bypassCSP: true, ...options });
  const page = await context.newPage();
  const problems = [];
  watchForProblems(page, problems);
  return { context, page, problems };
}

/**
 * Signs `member` in on `page` through the sign-in page; resolves once the console shows. A
 * member's one-time password is replaced at the first sign-in, as the console asks (with
 * `<password>-chosen`, kept in `member.password` for the next time).
 */
export async function signIn(page, base, member, { code = '' } = {}) {
  await page.goto(`${base}/console/login`);
  await page.getByLabel('E-mail address').fill(member.email);
  await page.getByLabel('Password', { exact: true }).fill(member.password);
  if (code) await page.getByLabel('Code from your authenticator app').fill(code);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('who').waitFor();
  if (new URL(page.url()).pathname === '/console/account/password') {
    const chosen = `${member.password}-chosen`;
    await page.getByLabel('Current password').fill(member.password);
    await page.getByLabel(/^New password/).fill(chosen);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL((url) => url.pathname === '/console');
    member.password = chosen;
  }
}

/** Chooses `lang` on the account page of the console at `base`; resolves once the console speaks it. */
export async function setLanguage(page, base, lang) {
  await page.goto(`${base}/console/account`);
  await page.locator('#locale').selectOption(lang);
  await page.getByRole('button', { name: /^(Save language|保存语言)$/ }).click();
  await page.locator(`html[lang="${lang}"]`).waitFor();
}

/**
 * The page as it is now, checked on each of the `SCREENS`: axe-core's violations (see
 * `axeViolations`) and any sideways scrolling. The page is resized, not loaded again: the console
 * follows the screen's width with CSS alone (its one script copies and confirms), so a resized
 * page is laid out as one loaded at that size, and a state reached once is checked on both
 * screens. Resolves to the problems, as strings that say where; the page keeps its own size.
 */
export async function screenProblems(page, state) {
  const own = page.viewportSize();
  const found = [];
  for (const screen of SCREENS) {
    await page.setViewportSize(screen);
    const where = `${state} ${screen.width}`;
    found.push(...(await axeViolations(page, where)));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 1) found.push(`${where}: ${overflow}px wider than the screen`);
  }
  if (own) await page.setViewportSize(own);
  return found;
}

/**
 * axe-core over the whole page (WCAG 2.2 AA): resolves to the violations, as strings that say
 * where. The console's strict CSP allows no injected script, so open its pages in a context with
 * `bypassCSP: true` to run this.
 */
export async function axeViolations(page, state) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }), WCAG_22_AA);
  return result.violations.map((v) => `${state}: ${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}
