// The whole payment in headless Chromium against the real reference server: the demo store, the
// widget, the sandbox wallet's pay page, and the events the host page receives.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, recordEvents, recordedEvents, startServer, watchForProblems } from './lib/harness.mjs';
import { scanQr } from './lib/qr.mjs';

let server;
let browser;
let context;
let page;
let problems;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(async () => {
  context = await browser.newContext({ locale: 'en-US' });
  await recordEvents(context);
  page = await context.newPage();
  problems = [];
  watchForProblems(page, problems);
});

afterEach(async () => {
  await context.close();
  assert.deepEqual(problems, [], 'the page logged no errors');
});

async function openStore() {
  await page.goto(`${server.base}/`);
  await page.getByRole('button', { name: 'WeChat Pay' }).waitFor();
  const orderId = new URL(page.url()).pathname.split('/').pop();
  return orderId;
}

async function eventsOfType(type) {
  return (await recordedEvents(page)).filter((event) => event.type === `wallet-checkout:${type}`);
}

test('the widget reports the order shown and the wallet chosen, and the server takes both', async () => {
  const reports = [];
  page.on('response', (response) => {
    if (new URL(response.url()).pathname === '/api/checkout/steps') {
      reports.push({ status: response.status(), body: response.request().postDataJSON() });
    }
  });
  const orderId = await openStore();
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByRole('img', { name: /QR/ }).first().waitFor();
  for (let i = 0; i < 50 && reports.length < 2; i += 1) await page.waitForTimeout(100);
  assert.deepEqual(reports, [
    { status: 204, body: { order_id: orderId, step: 'shown', device: 'desktop', locale: 'en' } },
    { status: 204, body: { order_id: orderId, step: 'wallet_chosen', wallet_id: 'wechat_pay', device: 'desktop', locale: 'en' } },
  ]);
});

test('the store shows the order amount for the locale and the sandbox wallets by name', async () => {
  const orderId = await openStore();
  const order = await (await fetch(`${server.base}/api/checkout/orders/${orderId}`)).json();
  const expected = await page.evaluate(({ minor_units, currency }) => {
    const format = new Intl.NumberFormat('en-US', { style: 'currency', currency });
    return format.format(minor_units / 10 ** format.resolvedOptions().maximumFractionDigits);
  }, order.order.amount);
  assert.equal(await page.getByTestId('amount').textContent(), expected);
  for (const name of ['WeChat Pay', 'Alipay', 'PayPal']) {
    const count = await page.getByRole('button', { name, exact: true }).count();
    assert.equal(count, 1, `${name} is a button whose accessible name is the wallet's name`);
  }
  const [ready] = await eventsOfType('ready');
  assert.equal(ready.detail.orderId, orderId);
  assert.equal(ready.bubbles && ready.composed, true);
});

test('QR flow: the code scans to the pay page, approval there makes the widget say paid', async () => {
  const orderId = await openStore();
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  const qr = page.getByRole('img', { name: /QR code to pay .* with WeChat Pay/ });
  await qr.waitFor();
  assert.match(await page.getByTestId('countdown').textContent(), /^Expires in 1[45]:\d\d$/);

  const [created] = await eventsOfType('session-created');
  const sessionId = created.detail.sessionId;
  const scanned = await scanQr(page.locator('.wc-qr'));
  assert.equal(scanned, `${server.base}/sandbox/pay/${sessionId}`, 'the QR code carries the sandbox pay page URL');

  const phone = await context.newPage();
  await phone.goto(scanned);
  const order = await (await fetch(`${server.base}/api/checkout/orders/${orderId}`)).json();
  const { minor_units, currency } = order.order.amount;
  assert.equal(await phone.getByTestId('amount').textContent(), `${currency} ${(minor_units / 100).toFixed(2)}`);
  await phone.getByRole('button', { name: 'Approve payment' }).click();
  await phone.getByText('Payment approved').waitFor();

  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
  const [paid] = await eventsOfType('paid');
  assert.deepEqual(paid.detail, { orderId, sessionId, status: 'succeeded', walletId: 'wechat_pay' });
  assert.equal(await page.locator('#store-message').textContent(), 'Thank you! Your order is confirmed.');
});

test('redirect flow: PayPal leaves for the pay page and the widget picks the same session up on return', async () => {
  const orderId = await openStore();
  await page.getByRole('button', { name: 'PayPal' }).click();
  await page.waitForURL(/\/sandbox\/pay\/ses_/);
  const sessionId = new URL(page.url()).pathname.split('/').pop();
  await page.getByRole('button', { name: 'Approve payment' }).click();

  await page.waitForURL(new RegExp(`/store/orders/${orderId}`));
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
  const [paid] = await eventsOfType('paid');
  assert.equal(paid.detail.sessionId, sessionId, 'the same session, not a new one');
  assert.equal(await eventsOfType('session-created').then((e) => e.length), 0, 'no session was created on return');
  assert.equal(new URL(page.url()).searchParams.has('wc_session'), false, 'the return parameter is cleaned from the address bar');
});

test('declining shows a failure and a way to choose another wallet', async () => {
  await openStore();
  await page.getByRole('button', { name: 'Alipay' }).click();
  await page.getByTestId('qr').waitFor();
  const phone = await context.newPage();
  await phone.goto(await page.getByTestId('payment-link').getAttribute('href'));
  await phone.getByRole('button', { name: 'Decline' }).click();

  await page.getByRole('heading', { name: 'Payment not completed' }).waitFor({ timeout: 10_000 });
  const [failed] = await eventsOfType('failed');
  assert.equal(failed.detail.status, 'failed');
  assert.equal((await eventsOfType('paid')).length, 0);
  await page.getByRole('button', { name: 'Choose another wallet' }).click();
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByTestId('qr').waitFor();
});

test('declining on the redirect flow returns to the store with a failure and a way forward', async () => {
  await openStore();
  await page.getByRole('button', { name: 'PayPal' }).click();
  await page.waitForURL(/\/sandbox\/pay\/ses_/);
  await page.getByRole('button', { name: 'Decline' }).click();
  await page.getByRole('heading', { name: 'Payment not completed' }).waitFor({ timeout: 10_000 });
  assert.equal((await eventsOfType('failed')).length, 1);
  await page.getByRole('button', { name: 'Choose another wallet' }).click();
  await page.getByRole('button', { name: 'WeChat Pay', exact: true }).waitFor();
});

test('a reload in the middle of a payment shows the same QR code again', async () => {
  await openStore();
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByTestId('qr').waitFor();
  const before = await scanQr(page.locator('.wc-qr'));
  await page.reload();
  await page.getByTestId('qr').waitFor();
  assert.equal(await scanQr(page.locator('.wc-qr')), before);
  assert.equal((await eventsOfType('session-created')).length, 0, 'no second session');
});

test('the demo store embeds the widget as the snippet says: the module preloaded by the page, fetched once, and the loader by its versioned name', async () => {
  const embed = await (await fetch(`${server.base}/wallet-checkout/embed.json`)).json();
  const widgetFiles = [];
  page.on('request', (request) => {
    const path = new URL(request.url()).pathname;
    if (path.startsWith('/wallet-checkout/')) widgetFiles.push(path.slice('/wallet-checkout/'.length));
  });
  await openStore();
  const [preload] = embed.links;
  assert.equal(await page.locator(`head link[rel="preload"][href="/wallet-checkout/${preload.href}"][integrity="${preload.integrity}"]`).count(), 1);
  assert.equal(await page.locator(`head script[src="/wallet-checkout/${embed.script.src}"][integrity="${embed.script.integrity}"]`).count(), 1);
  assert.deepEqual(widgetFiles.sort(), [preload.href, embed.script.src].sort(), 'the two files of the snippet, each once, and nothing else');
  const initiator = await page.evaluate((name) => performance.getEntriesByType('resource').filter((entry) => entry.name.endsWith(name)).map((entry) => entry.initiatorType), preload.href);
  assert.deepEqual(initiator, ['link'], 'the module is fetched by the page, not after the loader ran');
});

test('the widget files are served compressed, with the right types and cache lifetimes', async () => {
  const integrity = await (await fetch(`${server.base}/wallet-checkout/integrity.json`)).json();
  const files = Object.keys(integrity);
  assert.ok(files.includes('wallet-checkout.js'), 'the loader');
  assert.ok(files.some((f) => f.endsWith('.wasm')), 'the module');
  assert.ok(files.some((f) => /\.zh-CN\.[0-9a-f]{12}\.json$/.test(f)), 'the locale files');
  for (const file of files) {
    const response = await fetch(`${server.base}/wallet-checkout/${file}`, { headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(response.status, 200, file);
    const type = file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.json') ? 'application/json' : 'text/javascript';
    assert.equal(response.headers.get('content-type'), type, file);
    assert.equal(response.headers.get('content-encoding'), 'br', file);
    const hashed = /\.[0-9a-f]{12}\.(js|wasm|json)$/.test(file);
    assert.equal(response.headers.get('cache-control'), hashed ? 'public, max-age=31536000, immutable' : 'no-cache', file);
    assert.equal(response.headers.get('access-control-allow-origin'), '*', file);
  }
  const gzip = await fetch(`${server.base}/wallet-checkout/wallet-checkout.js`, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(gzip.headers.get('content-encoding'), 'gzip');
});
