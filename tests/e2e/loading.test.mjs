// How the widget loads. The snippet (embed.json) has the browser fetch the module as soon as it
// reads the page, under a strict Content-Security-Policy, with every file checked against a hash
// the page pins.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, recordEvents, recordedEvents, startServer, watchForProblems } from './lib/harness.mjs';
import { createOrder, page as hostPage, reserveStore, sandboxDecide, snippetPage, startPages } from './lib/pages.mjs';
import { scanQr, scanSessionId } from './lib/qr.mjs';

const STRICT_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'";

let server;
let store;
let browser;
let context;
let problems;

before(async () => {
  store = await reserveStore();
  server = await startServer({ WC_ALLOWED_ORIGINS: store.origin });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

beforeEach(async () => {
  context = await browser.newContext({ locale: 'en-US' });
  await recordEvents(context);
  problems = [];
});

afterEach(async () => {
  await context.close();
});

async function newPage({ allowErrors = false } = {}) {
  const page = await context.newPage();
  watchForProblems(page, problems, { allowConsoleErrors: allowErrors });
  return page;
}

/** The order reads among `requests` (the store's proxy's list), by order id, in the order they arrived. */
function orderReads(requests) {
  return requests
    .filter((request) => request.startsWith('GET /api/checkout/orders/'))
    .map((request) => request.slice('GET /api/checkout/orders/'.length));
}

/** Records the page's Content-Security-Policy violations in `window.__violations`. */
async function watchViolations() {
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

test('the snippet fetches the module once, with the page, and runs a payment under a strict CSP', async () => {
  const [order, late] = [await createOrder(server.base, 0), await createOrder(server.base, 1)];
  const pages = await startPages({
    '/': {
      html: snippetPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`),
      headers: { 'content-security-policy': STRICT_CSP },
    },
  }, { proxyTo: server.base, port: store.port });
  try {
    await watchViolations();
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByTestId('qr').waitFor();
    const sessionId = await scanSessionId(page.locator('.wc-qr'));
    await sandboxDecide(server.base, sessionId);
    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });

    // An element added afterwards works too, and reads its own order.
    await page.evaluate((id) => {
      const element = document.createElement('wallet-checkout');
      element.id = 'late';
      element.setAttribute('endpoint', '/api/checkout');
      element.setAttribute('order', id);
      element.setAttribute('locale', 'en');
      document.body.append(element);
    }, late);
    await page.locator('#late').getByRole('button', { name: 'PayPal' }).waitFor();

    const files = pages.requests.filter((r) => r.startsWith('GET /wallet-checkout/'));
    assert.equal(files.length, 2, `the versioned loader and the module, once each: ${files}`);
    assert.match(files.find((r) => r.endsWith('.wasm')) ?? '', /^GET \/wallet-checkout\/wallet-checkout\.[0-9a-f]{12}\.wasm$/);
    assert.match(files.find((r) => r.endsWith('.js')) ?? '', /^GET \/wallet-checkout\/wallet-checkout\.[0-9a-f]{12}\.js$/);
    const moduleAt = pages.requests.findIndex((r) => r.endsWith('.wasm'));
    const readAt = pages.requests.findIndex((r) => r.startsWith('GET /api/checkout/orders/'));
    assert.ok(moduleAt < readAt, 'the module was asked for with the page, before the loader ran');
    assert.deepEqual(orderReads(pages.requests), [order, late], 'one read per element');
    assert.deepEqual(await page.evaluate(() => window.__violations), []);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test('a reload in the middle of a payment on a snippet page shows the same QR code, the order read once per load', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/': {
      html: snippetPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`),
      headers: { 'content-security-policy': STRICT_CSP },
    },
  }, { proxyTo: server.base, port: store.port });
  try {
    await watchViolations();
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByTestId('qr').waitFor();
    const before = await scanQr(page.locator('.wc-qr'));
    await page.reload();
    await page.getByTestId('qr').waitFor();
    assert.equal(await scanQr(page.locator('.wc-qr')), before);
    const created = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:session-created');
    assert.equal(created.length, 0, 'no second session');
    assert.deepEqual(orderReads(pages.requests), [order, order], 'one read per load');
    assert.deepEqual(await page.evaluate(() => window.__violations), []);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test("a snippet page refuses a module or a loader that does not match the hashes it pins", async () => {
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/': snippetPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    for (const [kind, file] of [['module', /\/wallet-checkout\.[0-9a-f]{12}\.wasm$/], ['loader', /\/wallet-checkout\.[0-9a-f]{12}\.js$/]]) {
      const page = await newPage({ allowErrors: true });
      const errors = [];
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await page.route(file, async (route) => {
        const original = await route.fetch();
        const body = Buffer.from(await original.body());
        body[body.length - 2] ^= 0x20;
        await route.fulfill({ response: original, body });
      });
      await page.goto(`${pages.base}/`);
      await page.waitForTimeout(1_500);
      assert.equal(await page.locator('.wc-root').count(), 0, `a tampered ${kind} never runs`);
      assert.ok(errors.some((e) => /integrity|digest/i.test(e)), `${kind}: ${errors.join(' | ')}`);
      await page.close();
    }
  } finally {
    await pages.close();
  }
});
