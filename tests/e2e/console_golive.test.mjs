// Going live in headless Chromium: the last setup step shows each fact of the checklist in words
// (not colour alone), the switch stays disabled while anything fails, every step of the setup is
// reachable by keyboard, and the page is free of axe violations in both languages, on a desktop
// and on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleSuite, createStaff, screenProblems, setLanguage, signIn } from './lib/console.mjs';

const suite = consoleSuite();
const { newPage } = suite;

test('the go-live checklist names what is missing and the switch waits for it', async () => {
  const admin = createStaff(suite.server, 'admin', 'Li Wei');
  const { page, problems } = await newPage();
  await signIn(page, suite.server.base, admin);
  await page.goto(`${suite.server.base}/console/setup/golive`);
  await page.getByRole('heading', { name: 'Setup, step 6: Go live' }).waitFor();
  const checklist = page.getByTestId('golive-checklist');
  assert.equal(await checklist.getByRole('listitem').count(), 6);
  assert.match(await page.getByTestId('golive-https').textContent(), /Not yet.*No public address is set/);
  assert.match(await page.getByTestId('golive-demo').textContent(), /Not yet.*demo store is on/);
  assert.match(await page.getByTestId('golive-sandbox').textContent(), /Ready/);
  const button = page.getByRole('button', { name: 'Go live' });
  assert.equal(await button.isDisabled(), true, 'the switch waits for every item');
  assert.equal(await button.getAttribute('aria-describedby'), 'not-ready');
  assert.match(await page.getByTestId('golive-mode').textContent(), /test mode/);
  // The steps of the setup, by keyboard: the fifth step is a link in the steps navigation.
  const steps = page.getByRole('navigation', { name: 'Setup steps' });
  await steps.getByRole('link', { name: /Test/ }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /step 5/ }).waitFor();
  assert.deepEqual(problems, []);
});

test('the go-live page is free of axe violations in English and in Chinese, on a desktop and on a phone', async () => {
  const admin = createStaff(suite.server, 'admin');
  const { page } = await newPage();
  await signIn(page, suite.server.base, admin);
  const found = [];
  for (const lang of ['en', 'zh-CN']) {
    await setLanguage(page, suite.server.base, lang);
    for (const path of ['/console/setup/golive', '/console/setup/test']) {
      await page.goto(`${suite.server.base}${path}`);
      found.push(...(await screenProblems(page, `${path} ${lang}`)));
    }
  }
  assert.deepEqual(found, []);
});
