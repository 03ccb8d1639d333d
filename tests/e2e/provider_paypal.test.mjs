// PayPal in headless Chromium: the real server configured for PayPal (sandbox wallet off) against
// the PayPal mock, whose approval page is reached through the store's own origin
// (`/mock/paypal/...`) as PayPal's is over https. The shopper approves on PayPal's page, comes back
// through the server (which captures the order) to the store page, and the widget says paid; or
// cancels there and the widget says canceled.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, recordEvents, recordedEvents, startMocks, startServer, watchForProblems } from './lib/harness.mjs';
import { createOrder, page as hostPage, reserveStore, sessionStatus, startPages } from './lib/pages.mjs';

let store;
let mocks;
let server;
let browser;
let context;
let page;
let problems;

before(async () => {
  store = await reserveStore();
  mocks = await startMocks({ base: `${store.origin}/mock` });
  server = await startServer({
    WC_CONFIG: mocks.config,
    WC_SANDBOX: 'false',
    WC_DEMO_STORE: 'true',
    WC_ALLOWED_ORIGINS: store.origin,
  });
  // The webhook registered in PayPal's dashboard: the server's notification URL.
  const registered = await fetch(`http://${mocks.address}/paypal/control/webhook`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `${server.base}/api/providers/paypal/notify` }),
  });
  assert.equal(registered.status, 204);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await mocks?.stop();
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

/** A store page with the widget for a new order, served on the store's origin. */
async function storePage() {
  const order = await createOrder(server.base, 0);
  const pages = await startPages(
    { '/checkout': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}"></wallet-checkout>`) },
    { proxyTo: server.base, mocksTo: `http://${mocks.address}`, port: store.port },
  );
  return { order, pages };
}

async function eventsOfType(type) {
  return (await recordedEvents(page)).filter((event) => event.type === `wallet-checkout:${type}`);
}

test('PayPal: approve on PayPal, come back, the order is captured and the widget says paid', async () => {
  const { order, pages } = await storePage();
  try {
    await page.goto(`${pages.base}/checkout`);
    const paypal = page.getByRole('button', { name: 'PayPal', exact: true });
    await paypal.waitFor();
    assert.equal(await page.getByText('Test mode').count() > 0, true, "PayPal's sandbox is test mode");
    await paypal.click();

    // PayPal's approval page, on the store's origin through /mock/paypal.
    await page.waitForURL(new RegExp(`^${store.origin}/mock/paypal/checkoutnow\\?token=[A-Z0-9]+$`));
    assert.equal(await page.getByTestId('amount').textContent(), 'CNY 68.00');
    await page.getByRole('button', { name: 'Pay Now' }).click();

    // Back through the server's return URL to the store page, paid.
    await page.waitForURL(new RegExp(`^${store.origin}/checkout`), { timeout: 15_000 });
    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
    const [paid] = await eventsOfType('paid');
    assert.equal(paid.detail.walletId, 'paypal');
    assert.equal(paid.detail.orderId, order);
    assert.equal(await sessionStatus(server.base, paid.detail.sessionId), 'succeeded');
    assert.equal(new URL(page.url()).searchParams.has('wc_session'), false, 'the return parameter is cleaned up');

    const calls = await (await fetch(`http://${mocks.address}/paypal/control/calls`)).json();
    assert.equal(calls.create_order, 1);
    assert.ok(calls.capture >= 1, 'the server captured the order');
    assert.ok(calls.verify >= 1, "PayPal's webhook was verified by postback");
    const log = server.log();
    assert.ok(log.includes('PayPal order captured'), 'the server captured it');
  } finally {
    // Off the store's origin first: a request the page still makes there (PayPal's page asks for
    // its favicon after it loads) would be reset by the closing server and logged as an error.
    await page.goto('about:blank');
    await pages.close();
  }
});

test('PayPal: cancel on PayPal and the widget says canceled, with a way to start again', async () => {
  const { pages } = await storePage();
  try {
    await page.goto(`${pages.base}/checkout`);
    await page.getByRole('button', { name: 'PayPal', exact: true }).click();
    await page.waitForURL(/\/mock\/paypal\/checkoutnow\?token=/);
    await page.getByRole('button', { name: /^Cancel and return to / }).click();

    await page.waitForURL(new RegExp(`^${store.origin}/checkout`), { timeout: 15_000 });
    await page.getByRole('heading', { name: 'Payment canceled' }).waitFor({ timeout: 10_000 });
    const [canceled] = await eventsOfType('canceled');
    assert.equal(await sessionStatus(server.base, canceled.detail.sessionId), 'canceled');
    assert.equal((await eventsOfType('paid')).length, 0);
    // A way forward: PayPal again makes a new session and a new order at PayPal.
    await page.getByRole('button', { name: 'Choose another wallet' }).click();
    await page.getByRole('button', { name: 'PayPal', exact: true }).click();
    await page.waitForURL(/\/mock\/paypal\/checkoutnow\?token=/);
  } finally {
    // Off the store's origin first: a request the page still makes there (PayPal's page asks for
    // its favicon after it loads) would be reset by the closing server and logged as an error.
    await page.goto('about:blank');
    await pages.close();
  }
});
