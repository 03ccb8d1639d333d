// Every path a shopper takes, in headless Chromium against the real server: codes that expire,
// changing one's mind, paying on a phone, losing the connection, and other languages.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, recordEvents, recordedEvents, startServer, watchForProblems } from './lib/harness.mjs';
import { sandboxDecide, sessionStatus } from './lib/pages.mjs';
import { scanQr, scanSessionId } from './lib/qr.mjs';

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

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

beforeEach(() => {
  problems = [];
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  assert.deepEqual(problems, [], 'the page logged no errors');
});

async function open(url, options = {}) {
  context = await browser.newContext({ locale: 'en-US', ...options });
  await recordEvents(context);
  page = await context.newPage();
  watchForProblems(page, problems);
  await page.goto(url);
  return page;
}

async function events(type) {
  return (await recordedEvents(page)).filter((event) => event.type === `wallet-checkout:${type}`);
}

async function showQr(wallet = 'WeChat Pay') {
  await page.getByRole('button', { name: wallet }).click();
  await page.getByTestId('qr').waitFor();
  return scanSessionId(page.locator('.wc-qr'));
}

test('choosing another wallet cancels the abandoned session on the server', async () => {
  await open(`${server.base}/`);
  const sessionId = await showQr();
  await page.getByRole('button', { name: 'Choose another wallet' }).click();
  await page.getByRole('heading', { name: 'Choose how to pay' }).waitFor();
  await assertEventually(async () => (await sessionStatus(server.base, sessionId)) === 'canceled', 'the session is canceled');
  const detail = (await events('wallet-selected'))[0].detail;
  assert.equal(detail.walletId, 'wechat_pay');
});

test('an expired code is replaced by a new session in one click', async () => {
  const shortLived = await startServer({ WC_SESSION_TTL_SECS: '3' });
  try {
    await open(`${shortLived.base}/`);
    const first = await showQr();
    assert.match(await page.getByTestId('countdown').textContent(), /^Expires in 0:0[23]$/);
    await page.getByRole('heading', { name: 'Payment expired' }).waitFor({ timeout: 10_000 });
    assert.equal((await events('expired'))[0].detail.sessionId, first);
    await page.getByRole('button', { name: 'Get a new code' }).click();
    await page.getByTestId('qr').waitFor();
    const second = await scanSessionId(page.locator('.wc-qr'));
    assert.notEqual(second, first, 'a new session');
    assert.equal(await sessionStatus(shortLived.base, first), 'expired');
    assert.equal(await sessionStatus(shortLived.base, second), 'pending');
  } finally {
    await context.close();
    context = undefined;
    await shortLived.stop();
  }
});

test('on a phone a redirect wallet gets an Open button, and paying there returns to a paid widget', async () => {
  await open(`${server.base}/`, { userAgent: IPHONE, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const orderPage = page.url();
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  const open_wallet = page.getByRole('link', { name: 'Open WeChat Pay' });
  await open_wallet.waitFor();
  assert.equal(page.url(), orderPage, 'no redirect without the shopper asking for it');
  assert.equal(await page.getByTestId('qr').count(), 0, 'no code to scan with the same phone');
  await open_wallet.click();
  await page.waitForURL(/\/sandbox\/pay\//);
  await page.getByRole('button', { name: 'Approve payment' }).click();
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
});

test('on a phone a QR code with an app link becomes an Open button, with the code on request', async () => {
  await open(`${server.base}/`, { userAgent: IPHONE, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.getByRole('button', { name: 'Alipay' }).click();
  await page.getByRole('link', { name: 'Open Alipay' }).waitFor();
  assert.equal(await page.getByTestId('qr').count(), 0);
  await page.getByRole('button', { name: 'Show a QR code to scan with another device' }).click();
  await page.getByTestId('qr').waitFor();
  const href = await page.getByRole('link', { name: 'Open Alipay' }).getAttribute('href');
  assert.equal(await scanQr(page.locator('.wc-qr')), href, 'the code and the button lead to the same place');
});

test('losing the connection shows a notice that clears itself, and the payment still arrives', async () => {
  await open(`${server.base}/`);
  const sessionId = await showQr();
  await context.setOffline(true);
  await page.getByText('You are offline.').waitFor();
  // A waiting read already in flight may or may not survive Chromium's offline emulation, so
  // what is checked is the widget's own part: it starts no request while offline.
  const askedWhileOffline = [];
  const onRequest = (request) => {
    if (request.url().includes(`/sessions/${sessionId}`)) askedWhileOffline.push(request.url());
  };
  page.on('request', onRequest);
  await sandboxDecide(server.base, sessionId);
  await page.waitForTimeout(2_500);
  page.off('request', onRequest);
  assert.deepEqual(askedWhileOffline, [], 'no status request is started while offline');
  await context.setOffline(false);
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
  assert.equal(await page.getByText('You are offline.').count(), 0);
});

test('the copy button copies the payment link', async () => {
  await open(`${server.base}/`);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
  const sessionId = await showQr();
  await page.getByRole('button', { name: 'Copy payment link' }).click();
  await page.getByText('Payment link copied').first().waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, `${server.base}/sandbox/pay/${sessionId}`);
});

test('the browser language chooses the locale, with amounts formatted by Intl', async () => {
  await open(`${server.base}/`, { locale: 'ja-JP' });
  await page.getByRole('heading', { name: 'お支払い方法を選択' }).waitFor();
  const orderId = new URL(page.url()).pathname.split('/').pop();
  const order = await (await fetch(`${server.base}/api/checkout/orders/${orderId}`)).json();
  const expected = await page.evaluate(({ minor_units, currency }) => {
    const format = new Intl.NumberFormat('ja', { style: 'currency', currency });
    return format.format(minor_units / 10 ** format.resolvedOptions().maximumFractionDigits);
  }, order.order.amount);
  assert.equal(await page.getByTestId('amount').textContent(), expected);
  const localeFile = await page.evaluate(() =>
    performance.getEntriesByType('resource').map((e) => e.name).find((name) => /wallet-checkout\.ja\.[0-9a-f]{12}\.json$/.test(name)));
  assert.ok(localeFile, 'the Japanese texts came from their own file');
});

test('Arabic is laid out right to left', async () => {
  await open(`${server.base}/`);
  const url = new URL(page.url());
  url.searchParams.set('locale', 'ar');
  await page.goto(url.href);
  const root = page.locator('.wc-root');
  await root.waitFor();
  await page.getByRole('button', { name: 'PayPal' }).waitFor();
  assert.equal(await root.getAttribute('dir'), 'rtl');
  assert.equal(await root.getAttribute('lang'), 'ar');
  assert.equal(await root.evaluate((el) => getComputedStyle(el).direction), 'rtl');
});

async function assertEventually(check, message, timeout = 5_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(message);
}
