// Backups in the console, in headless Chromium: an admin takes one with the button and the list
// shows it with its age; a viewer sees the last backup's age and no button; every state is free
// of axe violations in both languages, on a desktop and on a phone, and usable by keyboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consoleSuite, createStaff, screenProblems, setLanguage, signIn } from './lib/console.mjs';

// No backup by itself at start: the test decides when one is taken.
const suite = consoleSuite({ WC_BACKUP_EVERY_HOURS: '0', WC_BACKUP_KEEP: '3' });
const { newPage } = suite;

test('with no backup yet, every state of the page is axe-clean in both languages on a desktop and a phone', async () => {
  const admin = createStaff(suite.server, 'admin');
  const viewer = createStaff(suite.server, 'viewer');
  const found = [];
  for (const member of [admin, viewer]) {
    const { page } = await newPage();
    await signIn(page, suite.server.base, member);
    for (const lang of ['en', 'zh-CN']) {
      await setLanguage(page, suite.server.base, lang);
      await page.goto(`${suite.server.base}/console/backups`);
      await page.getByTestId('backup-stale').waitFor();
      found.push(...(await screenProblems(page, `empty ${member.email} ${lang}`)));
    }
    await page.context().close();
  }
  assert.deepEqual(found, []);
});

test('an admin takes a backup with the button; the list shows it with its age, and a viewer sees its age', async () => {
  const admin = createStaff(suite.server, 'admin', 'Wang Fang');
  const { page, problems } = await newPage();
  await signIn(page, suite.server.base, admin);
  await page.getByRole('navigation').getByRole('link', { name: 'Backups' }).click();
  await page.getByRole('heading', { name: 'Backups', level: 1 }).waitFor();
  const before = await page.getByTestId('backup-row').count();
  await page.getByRole('button', { name: 'Take a backup now' }).click();
  await page.getByTestId('notice').waitFor();
  assert.match(await page.getByTestId('notice').textContent(), /^Backup taken: wallet-checkout-.*\.db\.$/);
  const rows = page.getByTestId('backup-row');
  assert.equal(await rows.count(), before + 1);
  assert.match(await rows.first().textContent(), /just now/);
  assert.match(await rows.first().textContent(), /taken by hand/);
  assert.match(await page.getByTestId('last-backup').textContent(), /just now/);
  await page.getByTestId('backup-fresh').waitFor();
  // The state after the action, in both languages and on a phone.
  const found = await screenProblems(page, 'taken en');
  await setLanguage(page, suite.server.base, 'zh-CN');
  await page.goto(`${suite.server.base}/console/backups`);
  assert.match(await page.getByTestId('backup-row').first().textContent(), /刚刚/);
  found.push(...(await screenProblems(page, 'list zh-CN')));
  assert.deepEqual(found, []);
  assert.deepEqual(problems, []);
  await page.context().close();

  const viewer = createStaff(suite.server, 'viewer');
  const seen = await newPage();
  await signIn(seen.page, suite.server.base, viewer);
  await seen.page.goto(`${suite.server.base}/console/backups`);
  assert.match(await seen.page.getByTestId('last-backup').textContent(), /just now/);
  assert.equal(await seen.page.getByRole('button', { name: 'Take a backup now' }).count(), 0);
  assert.equal(await seen.page.getByTestId('backup-row').count(), 0, 'the list is for admins');
  assert.deepEqual(await screenProblems(seen.page, 'viewer after a backup'), []);
});

test('the backups page is usable by keyboard: from the navigation to the button', async () => {
  const admin = createStaff(suite.server, 'admin');
  const { page } = await newPage();
  await signIn(page, suite.server.base, admin);
  await page.goto(`${suite.server.base}/console/backups`);
  const before = await page.getByTestId('backup-row').count();
  // Tab through the page until the button has the focus, then press Enter.
  for (let i = 0; i < 30; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.dataset?.testid === 'take-backup')) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'take-backup');
  await page.keyboard.press('Enter');
  await page.getByTestId('notice').waitFor();
  assert.equal(await page.getByTestId('backup-row').count(), before + 1);
});

/** Reloads the result page until the test payment's status is `status`. */
async function waitForStatus(page, status) {
  for (let i = 0; i < 100; i += 1) {
    if ((await page.getByTestId('testpay-status').textContent()).trim() === status) return;
    await page.waitForTimeout(100);
    await page.reload();
  }
  assert.fail(`the test payment never became ${status}`);
}

test('a test payment with a declined outcome shows its events; both pages are axe-clean in both languages on a desktop and a phone', async () => {
  const admin = createStaff(suite.server, 'admin');
  const { page, problems } = await newPage();
  await signIn(page, suite.server.base, admin);
  // From the console's navigation to the setup, then to its fifth step.
  await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Setup' }).click();
  await page.getByRole('navigation', { name: 'Setup steps' }).getByRole('link', { name: /Test/ }).click();
  await page.getByRole('heading', { name: 'Setup, step 5: Test', level: 1 }).waitFor();
  await page.getByLabel('Wallet', { exact: true }).selectOption('wechat_pay');
  await page.getByLabel('What happens (sandbox wallet)').selectOption('decline');
  await page.getByTestId('testpay-start').click();
  await page.getByTestId('testpay-result').waitFor();
  await waitForStatus(page, 'failed');
  const events = await page.getByTestId('testpay-event').allTextContents();
  assert.ok(events.some((row) => row.includes('session.created')), events.join('\n'));
  assert.ok(events.some((row) => row.includes('session.failed')), events.join('\n'));
  const result = page.url();
  assert.deepEqual(problems, []);

  const found = [];
  for (const lang of ['en', 'zh-CN']) {
    await setLanguage(page, suite.server.base, lang);
    await page.goto(`${suite.server.base}/console/setup/test`);
    found.push(...(await screenProblems(page, `test form ${lang}`)));
    await page.goto(result);
    found.push(...(await screenProblems(page, `test result ${lang}`)));
  }
  await setLanguage(page, suite.server.base, 'en');
  // A form sent with a wallet that is not offered: the problem is said, and the form stays.
  await page.goto(`${suite.server.base}/console/setup/test`);
  await page.evaluate(() => {
    const option = document.createElement('option');
    option.value = 'carrier_pigeon';
    option.textContent = 'Carrier pigeon';
    document.querySelector('#wallet').append(option);
  });
  await page.getByLabel('Wallet', { exact: true }).selectOption('carrier_pigeon');
  await page.getByTestId('testpay-start').click();
  await page.getByTestId('problem').waitFor();
  found.push(...(await screenProblems(page, 'test form with a problem')));
  assert.deepEqual(found, []);
});

test('a test payment can be made by keyboard alone', async () => {
  const admin = createStaff(suite.server, 'admin');
  const { page } = await newPage();
  await signIn(page, suite.server.base, admin);
  await page.goto(`${suite.server.base}/console/setup/test`);
  for (let i = 0; i < 30; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id === 'outcome')) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'outcome');
  await page.keyboard.press('ArrowDown'); // "declined"
  assert.equal(await page.evaluate(() => document.activeElement.value), 'decline');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.getByTestId('testpay-result').waitFor();
  await waitForStatus(page, 'failed');
});
