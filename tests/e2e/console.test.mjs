// The merchant's console in headless Chromium: a staff member signs in through the form (the
// session cookie is Secure, HttpOnly and SameSite=Strict), reads the overview in their language,
// and every page is usable by keyboard, readable on a phone, and free of axe-core violations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleSuite, createStaff, screenProblems, setLanguage, signIn } from './lib/console.mjs';

const suite = consoleSuite();
const { newPage } = suite;

test('a staff member signs in, sees the overview and signs out; the cookie is secure, http-only and strict', async () => {
  const admin = createStaff(suite.server, 'admin', 'Li Wei');
  const { page, problems } = await newPage();
  await page.goto(`${suite.server.base}/console`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await signIn(page, suite.server.base, admin);
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  assert.match(await page.getByTestId('who').textContent(), /Li Wei \(Admin\)/);
  const [cookie] = await page.context().cookies();
  assert.equal(cookie.name, '__Host-wc_console');
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.secure, true);
  assert.equal(cookie.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'no script can read the session');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You are signed out.').waitFor();
  await page.goto(`${suite.server.base}/console`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  assert.deepEqual(problems, []);
});

test('every console page is free of axe violations, in English and in Chinese, on a desktop and on a phone', async () => {
  const admin = createStaff(suite.server, 'admin');
  const { page } = await newPage();
  await page.goto(`${suite.server.base}/console/login`);
  const found = await screenProblems(page, 'login');
  await signIn(page, suite.server.base, admin);
  for (const lang of ['en', 'zh-CN']) {
    await setLanguage(page, suite.server.base, lang);
    for (const path of ['/console', '/console/account', '/console/staff']) {
      await page.goto(`${suite.server.base}${path}`);
      found.push(...(await screenProblems(page, `${path} ${lang}`)));
    }
  }
  assert.deepEqual(found, []);
});

test('the console is usable by keyboard: the skip link, the navigation and the forms', async () => {
  const operator = createStaff(suite.server, 'operator');
  const { page } = await newPage();
  await page.goto(`${suite.server.base}/console/login`);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'email', 'the cursor starts in the first field');
  await page.keyboard.type(operator.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(operator.password);
  await page.keyboard.press('Enter');
  // A one-time password opens one page: the one that replaces it, by keyboard too.
  await page.getByTestId('password-must-change').waitFor();
  await page.getByLabel('Current password').focus();
  await page.keyboard.type(operator.password);
  await page.keyboard.press('Tab');
  await page.keyboard.type(`${operator.password}-chosen`);
  await page.keyboard.press('Enter');
  await page.waitForURL((url) => url.pathname === '/console');
  await page.getByTestId('who').waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to the content');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'the skip link moves focus to the content');
  const links = await page.getByRole('navigation').getByRole('link').allTextContents();
  assert.ok(!links.includes('Staff'), 'an operator is not shown what only an admin may open');
});
