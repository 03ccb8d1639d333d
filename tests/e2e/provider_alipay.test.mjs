// Alipay on a phone, end to end: the real server configured for Alipay (its gateway being the
// provider mocks' Alipay, reached through the store's own origin under /mock), a store page with
// the widget, and headless Chromium as an iPhone. The widget sends the shopper to the signed
// alipay.trade.wap.pay URL, Alipay's (mock) cashier takes the payment, notifies the server and
// sends the shopper back to the store, where the widget says paid.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, recordEvents, recordedEvents, startMocks, startServer, watchForProblems } from './lib/harness.mjs';
import { createOrder, page as hostPage, reserveStore, sessionStatus, startPages } from './lib/pages.mjs';

const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

let store;
let mocks;
let server;
let pages;
let browser;

before(async () => {
  store = await reserveStore();
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
  await pages?.close();
  await server?.stop();
  await mocks?.stop();
});

test('on a phone, Alipay redirects to its cashier, the shopper pays there and comes back to a paid widget', async () => {
  const order = await createOrder(server.base);
  pages = await startPages({
    '/checkout': hostPage(`<h1>Store</h1><wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`),
  }, { proxyTo: server.base, mocksTo: `http://${mocks.address}`, port: store.port });

  const context = await browser.newContext({ locale: 'en-US', userAgent: IPHONE, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await recordEvents(context);
  const page = await context.newPage();
  const problems = [];
  watchForProblems(page, problems);
  try {
    await page.goto(`${store.origin}/checkout`);
    // Alipay is the only wallet (the sandbox is off), offered for this CNY order.
    await page.getByRole('button', { name: 'Alipay', exact: true }).click();
    const openAlipay = page.getByRole('link', { name: 'Open Alipay' });
    await openAlipay.waitFor();
    const [created] = (await recordedEvents(page)).filter((event) => event.type === 'wallet-checkout:session-created');
    const sessionId = created.detail.sessionId;

    const href = new URL(await openAlipay.getAttribute('href'));
    assert.equal(`${href.origin}${href.pathname}`, `${store.origin}/mock/alipay/gateway.do`, 'the signed gateway URL, on the store origin');
    assert.equal(href.searchParams.get('method'), 'alipay.trade.wap.pay');
    assert.equal(href.searchParams.get('sign_type'), 'RSA2');
    assert.ok(href.searchParams.get('sign'));
    const biz = JSON.parse(href.searchParams.get('biz_content'));
    assert.equal(biz.product_code, 'QUICK_WAP_WAY');
    assert.equal(biz.out_trade_no, sessionId);

    await openAlipay.click();
    await page.waitForURL(/\/mock\/alipay\/cashier\//);
    const amount = await page.getByTestId('amount').textContent();
    assert.equal(amount, `¥${biz.total_amount}`);
    await page.getByRole('button', { name: /^Pay ¥/ }).click();

    // Back on the store's page (with Alipay's synchronous return parameters), the widget says paid.
    await page.waitForURL((url) => url.pathname === '/checkout' && url.searchParams.get('method') === 'alipay.trade.wap.pay.return');
    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 15_000 });
    assert.equal(await sessionStatus(server.base, sessionId), 'succeeded');
    const log = server.log();
    assert.match(log, /notification applied/);
    assert.doesNotMatch(log, /notification refused/);
    assert.deepEqual(problems, [], 'the page logged no errors');
  } finally {
    await context.close();
  }
});
