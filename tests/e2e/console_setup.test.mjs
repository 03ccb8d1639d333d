// The console's guided setup (steps 1 to 4) in headless Chromium: an admin walks the steps, records
// fee terms (a mistake is named and nothing typed is lost), enters PayPal's keys and Alipay's key
// files in the browser against the provider mocks (the wallets are offered at once; the page never
// shows a key again), copies the embed snippet, and every step is free of axe-core violations in
// English and Chinese, on a desktop and on a phone, without sideways scrolling.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startMocks } from './lib/harness.mjs';
import { consoleSuite, createStaff, screenProblems, setLanguage, signIn } from './lib/console.mjs';

let mocks;

const suite = consoleSuite();
const { newPage } = suite;

before(async () => {
  mocks = await startMocks();
});

after(async () => {
  await mocks?.stop();
});

/** The `[providers.<name>]` table of the mocks' configuration file, as an object of strings. */
function mockSettings(name) {
  const text = readFileSync(mocks.config, 'utf8');
  const table = text.split(/^\[/m).find((part) => part.startsWith(`providers.${name}]`));
  const settings = {};
  for (const line of table.split('\n').slice(1)) {
    const match = /^(\w+)\s*=\s*"(.*)"\s*$/.exec(line.trim());
    if (match) settings[match[1]] = match[2];
  }
  return settings;
}

/**
 * Whether a PayPal payment for a new demo order goes to PayPal (the mock) rather than to the
 * sandbox wallet, which stands in for every wallet no real provider offers.
 */
async function paypalIsReal() {
  const answer = await fetch(`${suite.server.base}/`, { redirect: 'manual' });
  const order = answer.headers.get('location').split('/').pop();
  const created = await fetch(`${suite.server.base}/api/checkout/sessions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `setup-${order}` },
    body: JSON.stringify({ order_id: order, wallet_id: 'paypal', return_url: `${suite.server.base}/store/orders/${order}`, device: 'desktop' }),
  });
  assert.equal(created.status, 201);
  return JSON.stringify((await created.json()).next_action).includes(mocks.base);
}

const STEPS = ['/console/setup/providers', '/console/setup/register', '/console/setup/keys', '/console/setup/integrate'];

test('an admin records fee terms, enters keys that the providers use at once, and gets the embed snippet', async () => {
  const admin = createStaff(suite.server, 'admin', 'Zhang Min');
  const { page, problems } = await newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, suite.server.base, admin);
  await page.getByRole('link', { name: 'Setup' }).click();
  await page.getByRole('heading', { name: 'Setup, step 1: Choose providers' }).waitFor();

  // Step 1: a mistake in the fee terms is named, and what was typed stays.
  const wechat = page.getByTestId('terms-wechat_pay');
  await wechat.getByLabel('Rate per payment (%)').fill('0.605');
  await wechat.getByLabel('Fixed fee per payment').fill('0.30');
  await wechat.getByRole('button', { name: 'Save WeChat Pay fees' }).click();
  await page.getByTestId('problem').waitFor();
  const rate = page.getByTestId('terms-wechat_pay').getByLabel('Rate per payment (%)');
  assert.equal(await rate.getAttribute('aria-invalid'), 'true');
  assert.equal(await rate.inputValue(), '0.605');
  assert.equal(await page.getByTestId('terms-wechat_pay').getByLabel('Fixed fee per payment').inputValue(), '0.30');
  await rate.fill('0.6');
  await page.getByTestId('terms-wechat_pay').getByRole('button', { name: 'Save WeChat Pay fees' }).click();
  await page.getByTestId('notice').waitFor();
  assert.match(await page.getByTestId('provider-wechat_pay').getByTestId('recorded').textContent(), /0\.6% and CNY 0\.30 per payment/);

  // Step 3: PayPal's keys typed, Alipay's keys read from their files.
  await page.getByRole('link', { name: 'Next: Register' }).click();
  await page.getByRole('link', { name: 'Next: Keys' }).click();
  assert.ok(!(await paypalIsReal()), 'the sandbox stands in for PayPal before its keys');
  const paypal = mockSettings('paypal');
  const paypalForm = page.getByTestId('keys-paypal');
  await paypalForm.getByLabel('Environment').selectOption('sandbox');
  await paypalForm.getByLabel('API address (only for a test server)').fill(paypal.base_url);
  await paypalForm.getByLabel('Client ID').fill(paypal.client_id);
  await paypalForm.getByLabel('Secret', { exact: true }).fill(paypal.client_secret);
  await paypalForm.getByLabel('Webhook ID').fill(paypal.webhook_id);
  await paypalForm.getByRole('button', { name: 'Save PayPal keys' }).click();
  await page.getByTestId('notice').waitFor();
  assert.match(await page.getByTestId('notice').textContent(), /PayPal is in use/);
  assert.match(await page.getByTestId('standing-paypal').textContent(), /test environment/);
  assert.ok(await paypalIsReal(), 'PayPal takes the payment with the keys entered in the console');
  const html = await page.content();
  for (const secret of [paypal.client_secret, paypal.client_id, paypal.webhook_id]) {
    assert.ok(!html.includes(secret), 'a stored key is never shown again');
  }
  assert.match(await page.getByTestId('state-paypal-client_secret').textContent(), /fingerprint [0-9a-f]{16}.*Zhang Min/);

  const alipay = mockSettings('alipay');
  const alipayForm = page.getByTestId('keys-alipay');
  await alipayForm.getByLabel('Environment').selectOption('sandbox');
  await alipayForm.getByLabel('Gateway address (only for a test server)').fill(alipay.gateway_url);
  await alipayForm.getByLabel('APPID').fill(alipay.app_id);
  await alipayForm.locator('#alipay-app_private_key_pem-file').setInputFiles(alipay.app_private_key_file);
  await alipayForm.locator('#alipay-alipay_public_key_pem-file').setInputFiles(alipay.alipay_public_key_file);
  await page.waitForFunction(() => document.getElementById('alipay-alipay_public_key_pem').value.includes('-----BEGIN'));
  await alipayForm.getByRole('button', { name: 'Save Alipay keys' }).click();
  await page.getByTestId('notice').waitFor();
  assert.match(await page.getByTestId('notice').textContent(), /Alipay is in use/);
  const privateKey = readFileSync(alipay.app_private_key_file, 'utf8').split('\n')[1];
  assert.ok(!(await page.content()).includes(privateKey), 'the private key is never shown again');

  // Removing a key is one button.
  await page.getByTestId('remove-paypal-client_secret').click();
  await page.getByTestId('problem').waitFor();
  assert.ok(!(await paypalIsReal()), 'PayPal is out of use without its secret');

  // Step 4: the snippet of the widget this server serves (the build's preload and versioned
  // loader, with their hashes, under this server's address), and a copy button that copies it.
  await page.getByRole('link', { name: 'Next: Integrate' }).click();
  const snippet = await page.locator('#snippet').textContent();
  const embed = JSON.parse(readFileSync(new URL('../../dist/wallet-checkout/embed.json', import.meta.url), 'utf8'));
  const [preload] = embed.links;
  const widget = `${suite.server.base}/wallet-checkout`;
  assert.equal(snippet.trim(), [
    `<link rel="preload" href="${widget}/${preload.href}" as="fetch" crossorigin="anonymous" integrity="${preload.integrity}">`,
    `<script type="module" src="${widget}/${embed.script.src}" integrity="${embed.script.integrity}" crossorigin="anonymous"></script>`,
    `<wallet-checkout endpoint="${suite.server.base}/api/checkout" order="ORDER_ID"></wallet-checkout>`,
  ].join('\n'));
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: suite.server.base });
  await page.getByTestId('snippet').getByRole('button', { name: 'Copy' }).click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), snippet.trim());
  assert.match(await page.getByTestId('notify-paypal').textContent(), /\/api\/providers\/paypal\/notify/);

  // The setup opens where the merchant stopped.
  await page.goto(`${suite.server.base}/console/setup`);
  assert.ok(page.url().endsWith('/console/setup/integrate'));
  assert.deepEqual(problems, []);
});

test('every setup step is free of axe violations, in English and in Chinese, on a desktop and on a phone', async () => {
  const admin = createStaff(suite.server, 'admin');
  const { page } = await newPage();
  await signIn(page, suite.server.base, admin);
  const found = [];
  for (const lang of ['en', 'zh-CN']) {
    await setLanguage(page, suite.server.base, lang);
    for (const path of STEPS) {
      await page.goto(`${suite.server.base}${path}`);
      found.push(...(await screenProblems(page, `${path} ${lang}`)));
    }
    // A form that comes back with a problem, and the open configuration-file table.
    await page.goto(`${suite.server.base}/console/setup/providers`);
    await page.locator('#paypal-rate').fill('101');
    await page.locator('#paypal-rate').press('Enter');
    await page.getByTestId('problem').waitFor();
    found.push(...(await screenProblems(page, `terms problem ${lang}`)));
    await page.goto(`${suite.server.base}/console/setup/keys`);
    for (const summary of await page.locator('details.config summary').all()) await summary.click();
    found.push(...(await screenProblems(page, `keys with the file tables ${lang}`)));
  }
  assert.deepEqual(found, []);
});

test('the setup is usable by keyboard: the steps and the forms are reached with Tab', async () => {
  const admin = createStaff(suite.server, 'admin');
  const { page } = await newPage({ viewport: { width: 390, height: 844 } });
  await signIn(page, suite.server.base, admin);
  await page.goto(`${suite.server.base}/console/setup/register`);
  const reached = new Set();
  for (let i = 0; i < 40; i += 1) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement?.getAttribute('href') ?? ''));
  }
  for (const step of ['providers', 'keys', 'integrate', 'test', 'golive']) {
    assert.ok(reached.has(`/console/setup/${step}`), `step ${step} is reached by keyboard`);
  }
  const current = page.locator('[aria-current="step"]');
  assert.equal(await current.getAttribute('href'), '/console/setup/register');
});

test('an admin adds a location and its counters, renames one and retires another, free of axe violations in both languages', async () => {
  const admin = createStaff(suite.server, 'admin', 'Counter Admin');
  const { page, problems } = await newPage();
  await signIn(page, suite.server.base, admin);
  await page.getByRole('navigation').getByRole('link', { name: 'Counters' }).click();
  await page.getByRole('heading', { name: 'Locations and counters' }).waitFor();
  const found = [];

  const location = `Nanjing Road ${process.pid}`;
  const adding = page.getByRole('region', { name: 'Add a location' });
  // The browser itself refuses a shop number the wallets would not take.
  await adding.getByLabel('Name of the location').fill(location);
  await adding.getByLabel('WeChat Pay shop number').fill('shop 1');
  assert.equal(await adding.getByLabel('WeChat Pay shop number').evaluate((input) => input.validity.patternMismatch), true);
  await adding.getByLabel('WeChat Pay shop number').fill('SZ_0012');
  await adding.getByRole('button', { name: 'Add the location' }).click();
  assert.equal(await page.getByTestId('notice').textContent(), 'The location is added.');
  // A second location of the same name is refused by the server.
  await adding.getByLabel('Name of the location').fill(location);
  await adding.getByRole('button', { name: 'Add the location' }).click();
  assert.equal(await page.getByTestId('problem').textContent(), 'That name is taken here already. Nothing was changed.');
  found.push(...(await screenProblems(page, 'a refused name')));

  const card = page.getByTestId('location').filter({ hasText: location });
  for (const [name, device] of [['Till 1', 'POS-01'], ['Till 2', '']]) {
    await card.getByLabel('Name of the counter').last().fill(name);
    await card.getByLabel('Device number').last().fill(device);
    await card.getByRole('button', { name: `Add a counter at ${location}` }).click();
    assert.equal(await page.getByTestId('notice').textContent(), 'The counter is added.');
  }
  const rows = card.getByTestId('counters').locator('tbody tr');
  assert.deepEqual(await rows.locator('td:first-child').allTextContents(), ['Till 1', 'Till 2']);

  // Rename Till 2 by keyboard: open its details, then the form's fields and button.
  const till2 = rows.filter({ hasText: 'Till 2' });
  await till2.getByText('Change or retire Till 2').focus();
  await page.keyboard.press('Enter');
  found.push(...(await screenProblems(page, 'a counter opened for change')));
  await till2.getByLabel('Name of the counter').fill('Express');
  await till2.getByLabel('Device number').fill('POS-02');
  await till2.getByLabel('Device number').press('Enter');
  assert.equal(await page.getByTestId('notice').textContent(), 'Saved.');
  assert.deepEqual(await rows.locator('td:first-child').allTextContents(), ['Express', 'Till 1']);

  const till1 = rows.filter({ hasText: 'Till 1' });
  await till1.getByText('Change or retire Till 1').click();
  await till1.getByRole('button', { name: 'Retire Till 1' }).click();
  assert.equal(await page.getByTestId('notice').textContent(), 'The counter is retired.');
  assert.deepEqual(await rows.locator('td:first-child').allTextContents(), ['Express']);
  found.push(...(await screenProblems(page, 'a location with a counter')));

  await setLanguage(page, suite.server.base, 'zh-CN');
  await page.goto(`${suite.server.base}/console/counters`);
  await page.getByRole('heading', { name: '门店与收银台' }).waitFor();
  found.push(...(await screenProblems(page, 'zh-CN')));
  assert.deepEqual(found, []);
  assert.deepEqual(problems, []);
});
