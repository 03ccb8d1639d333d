// WeChat Pay through its API v3 mock (mocks/src/wechat_pay.rs) in headless Chromium: the real
// server binary is configured by the mocks binary, the widget shows the Native order's code_url
// as a QR code, the "shopper" scans exactly that code and pays at the mock, WeChat Pay's signed
// and encrypted notification reaches the server, and the widget says paid.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, recordEvents, recordedEvents, startMocks, startServer, watchForProblems } from './lib/harness.mjs';
import { createOrder, page as hostPage, reserveStore, sessionStatus, startPages } from './lib/pages.mjs';
import { scanQr } from './lib/qr.mjs';

let store;
let mocks;
let server;
let browser;
let context;
let problems;

before(async () => {
  store = await reserveStore();
  // The mocks are reached through the store's origin (`/mock/...`), as the server is.
  mocks = await startMocks({ base: `${store.origin}/mock` });
  server = await startServer({
    WC_CONFIG: mocks.config,
    WC_SANDBOX: 'false',
    WC_DEMO_STORE: 'true',
    WC_ALLOWED_ORIGINS: store.origin,
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await mocks?.stop();
});

beforeEach(async () => {
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 900 } });
  await recordEvents(context);
  problems = [];
});

afterEach(async () => {
  await context.close();
  assert.deepEqual(problems, [], 'the page logged no errors');
});

/** Asks the WeChat Pay mock's control side. */
async function control(path, body) {
  const response = await fetch(`${store.origin}/mock/wechat_pay/control/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

test('WeChat Pay: the QR code is the code_url of the Native order, and paying it makes the widget say paid', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages(
    { '/': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`) },
    { proxyTo: server.base, mocksTo: `http://${mocks.address}`, port: store.port },
  );
  try {
    const page = await context.newPage();
    watchForProblems(page, problems);
    await page.goto(`${pages.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByRole('img', { name: /QR code to pay .* with WeChat Pay/ }).waitFor();

    const scanned = await scanQr(page.locator('.wc-qr'));
    assert.match(scanned, /^weixin:\/\/wxpay\/bizpayurl\?pr=[A-Za-z0-9]+$/, 'a WeChat Pay code, not a web page');
    const [created] = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:session-created');
    const sessionId = created.detail.sessionId;
    const session = await (await fetch(`${server.base}/api/checkout/sessions/${sessionId}`)).json();
    assert.deepEqual(session.next_action, { type: 'qr', payload: scanned });
    assert.equal(session.status, 'pending');

    // The shopper scans the code with WeChat and pays: the mock knows this exact code_url.
    const paid = await control('scan', { code_url: scanned });
    assert.equal(paid.status, 200, JSON.stringify(paid.body));
    assert.deepEqual(paid.body.notification, { status: 204, body: '' }, 'the server accepted the notification');

    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
    assert.equal(await sessionStatus(server.base, sessionId), 'succeeded');
    const paidEvents = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:paid');
    assert.equal(paidEvents.length, 1);
    assert.equal(paidEvents[0].detail.sessionId, sessionId);

    // A code that WeChat Pay never issued pays nothing.
    assert.equal((await control('scan', { code_url: 'weixin://wxpay/bizpayurl?pr=unknown' })).status, 404);
  } finally {
    await pages.close();
  }
});

test('WeChat Pay H5: a phone is sent to the H5 page, pays there and comes back to a paid widget', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages(
    { '/checkout': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`) },
    { proxyTo: server.base, mocksTo: `http://${mocks.address}`, port: store.port },
  );
  const phone = await browser.newContext({
    locale: 'en-US',
    viewport: { width: 390, height: 844 },
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1',
  });
  try {
    const page = await phone.newPage();
    watchForProblems(page, problems);
    await page.goto(`${pages.base}/checkout`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByText('Open WeChat Pay').click();
    // WeChat Pay's H5 page (the mock's, on the store's origin like a real https page).
    await page.waitForURL(/\/mock\/wechat_pay\/cgi-bin\/mmpayweb-bin\/checkmweb\?prepay_id=/);
    const h5 = new URL(page.url());
    const back = new URL(h5.searchParams.get('redirect_url'));
    assert.equal(`${back.origin}${back.pathname}`, `${pages.base}/checkout`, 'back to the store page');
    const sessionId = back.searchParams.get('wc_session');
    assert.match(sessionId, /^ses_/);
    assert.equal(await sessionStatus(server.base, sessionId), 'pending');

    await page.getByRole('button', { name: '确认支付' }).click();
    await page.waitForURL((url) => url.pathname === '/checkout');
    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
    assert.equal(await sessionStatus(server.base, sessionId), 'succeeded');
  } finally {
    await phone.close();
    await pages.close();
  }
});
