// How the widget loads: the loader begins reading each order while the module downloads, and
// hands the answer to the widget, which does not ask again; attributes changed afterwards are read
// afresh. The module is held back (`page.route`) so that what happens before it runs is seen. The
// snippet (embed.json) has the browser fetch the module as soon as it reads the page, under a
// strict Content-Security-Policy, with every file checked against a hash the page pins.
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

async function eventually(check, message, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(message);
}

/** The order reads among `requests` (the store's proxy's list), by order id, in the order they arrived. */
function orderReads(requests) {
  return requests
    .filter((request) => request.startsWith('GET /api/checkout/orders/'))
    .map((request) => request.slice('GET /api/checkout/orders/'.length));
}

/**
 * Holds the module back until `release()` (or `ms` at most): the module is what the widget waits
 * for, so whatever the page asks for meanwhile was asked before the widget ran. Resolves to
 * `{ release, released }`, `released` being the index in `pages.requests` at which the module
 * was let through.
 */
async function holdModule(page, pages, ms = 4_000) {
  let release;
  const gate = new Promise((resolve) => {
    release = resolve;
    setTimeout(resolve, ms);
  });
  const state = { release: () => release(), released: undefined };
  await page.route(/\/wallet-checkout\.[0-9a-f]{12}\.wasm$/, async (route) => {
    await gate;
    state.released = pages.requests.length;
    await route.continue();
  });
  return state;
}

test('each element in the page has its order read once, begun while the module downloads', async () => {
  const [first, second, late] = [await createOrder(server.base, 0), await createOrder(server.base, 1), await createOrder(server.base, 2)];
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout id="first" endpoint="/api/checkout" order="${first}" locale="en"></wallet-checkout>
      <wallet-checkout id="second" endpoint="/api/checkout/" order="${second}" locale="en"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage();
    const module = await holdModule(page, pages);
    await page.goto(`${pages.base}/`);
    // Both reads reach the backend while the module is still held back.
    await eventually(() => orderReads(pages.requests).length === 2, 'the loader began both order reads', 3_000).catch(() => {});
    module.release();
    await page.locator('#first').getByRole('button', { name: 'PayPal' }).waitFor();
    await page.locator('#second').getByRole('button', { name: 'PayPal' }).waitFor();
    assert.ok(module.released !== undefined, 'the module was asked for');
    assert.deepEqual(
      orderReads(pages.requests.slice(0, module.released)).sort(),
      [first, second].sort(),
      'both orders were asked for before the module was let through',
    );

    // An element added after the script reads its own order, once.
    await page.evaluate((order) => {
      const element = document.createElement('wallet-checkout');
      element.id = 'late';
      element.setAttribute('endpoint', '/api/checkout');
      element.setAttribute('order', order);
      element.setAttribute('locale', 'en');
      document.body.append(element);
    }, late);
    await page.locator('#late').getByRole('button', { name: 'PayPal' }).waitFor();
    await page.waitForTimeout(1_000);
    assert.deepEqual(orderReads(pages.requests).sort(), [first, second, late].sort(), 'one read per element, none twice');
    const ready = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:ready');
    assert.deepEqual(ready.map((e) => e.detail.orderId).sort(), [first, second, late].sort());
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test('an order changed before the module runs is read afresh, and so is one changed later', async () => {
  const [before, changed] = [await createOrder(server.base, 0), await createOrder(server.base, 1)];
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${before}" locale="en"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage();
    const module = await holdModule(page, pages);
    await page.goto(`${pages.base}/`);
    await eventually(() => orderReads(pages.requests).includes(before), 'the loader began the read of the first order', 3_000);
    await page.evaluate((order) => document.querySelector('wallet-checkout').setAttribute('order', order), changed);
    module.release();
    await page.getByText('Celadon tea cup').waitFor();
    assert.equal(await page.getByText('Jasmine green tea, 250 g').count(), 0, 'the answer about the old order is not shown');
    const ready = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:ready');
    assert.deepEqual(ready.map((e) => e.detail.orderId), [changed]);
    assert.deepEqual(orderReads(pages.requests), [before, changed]);

    // Changed once the widget runs: read again, even back to an order read before.
    await page.evaluate((order) => document.querySelector('wallet-checkout').setAttribute('order', order), before);
    await page.getByText('Jasmine green tea, 250 g').waitFor();
    await page.evaluate(() => document.querySelector('wallet-checkout').setAttribute('endpoint', '/api/checkout/'));
    await eventually(() => orderReads(pages.requests).length === 4, 'a new endpoint reads the order again');
    await page.getByRole('button', { name: 'PayPal' }).waitFor();
    assert.deepEqual(orderReads(pages.requests), [before, changed, before, before]);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test("the loader's read is handed over with its failure: a final one is shown, a passing one tried again", async () => {
  const [gone, busy] = [await createOrder(server.base, 0), await createOrder(server.base, 1)];
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout id="gone" endpoint="/api/checkout" order="${gone}" locale="en"></wallet-checkout>
      <wallet-checkout id="busy" endpoint="/api/checkout" order="${busy}" locale="en"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage({ allowErrors: true });
    const answered = [];
    await page.route(/\/api\/checkout\/orders\//, async (route) => {
      const order = new URL(route.request().url()).pathname.split('/').pop();
      const first = !answered.includes(order);
      answered.push(order);
      if (order === gone) {
        return route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"no such order"}}' });
      }
      if (first) {
        return route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"internal","message":"busy"}}' });
      }
      return route.fallback();
    });
    const module = await holdModule(page, pages);
    await page.goto(`${pages.base}/`);
    await eventually(() => answered.length === 2, 'the loader began both reads', 3_000);
    module.release();
    await page.locator('#busy').getByRole('button', { name: 'PayPal' }).waitFor();
    await page.locator('#gone').getByRole('alert').waitFor();
    await page.waitForTimeout(1_000);
    assert.deepEqual(answered.filter((order) => order === gone), [gone], 'a 404 is not asked again');
    assert.deepEqual(answered.filter((order) => order === busy), [busy, busy], 'a 503 is tried again, once');
    const errors = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:error');
    assert.deepEqual(errors.map((e) => [e.detail.orderId, e.detail.code]), [[gone, 'not_found']]);
  } finally {
    await pages.close();
  }
});

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

test('a page in English loads no locale file; one in Chinese reads the locale manifest while the module downloads', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/en': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}"></wallet-checkout>`),
    '/zh': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="zh-CN"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    const english = await newPage();
    await english.goto(`${pages.base}/en`);
    await english.getByRole('button', { name: 'PayPal' }).waitFor();
    await english.waitForTimeout(500);
    assert.deepEqual(pages.requests.filter((r) => r.endsWith('.json')), [], 'no locale file, no manifest');

    const chinese = await newPage();
    const module = await holdModule(chinese, pages);
    const before = pages.requests.length;
    await chinese.goto(`${pages.base}/zh`);
    await eventually(() => pages.requests.slice(before).some((r) => /\/wallet-checkout\.locales\.[0-9a-f]{12}\.json$/.test(r)), 'the manifest was read before the module ran', 3_000);
    module.release();
    await chinese.getByRole('heading', { name: '选择付款方式' }).waitFor();
    const files = pages.requests.slice(before).filter((r) => r.endsWith('.json'));
    assert.equal(files.length, 2, `the manifest and the Chinese texts: ${files}`);
    assert.match(files[1], /\/wallet-checkout\.zh-CN\.[0-9a-f]{12}\.json$/);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test('a locale manifest or locale file that does not match its hash is refused, and the widget speaks English', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="zh-CN"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    for (const file of [/\/wallet-checkout\.locales\.[0-9a-f]{12}\.json$/, /\/wallet-checkout\.zh-CN\.[0-9a-f]{12}\.json$/]) {
      const page = await newPage({ allowErrors: true });
      const errors = [];
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await page.route(file, async (route) => {
        const original = await route.fetch();
        const body = Buffer.from(await original.body());
        body[body.length - 2] ^= 0x01;
        await route.fulfill({ response: original, body });
      });
      await page.goto(`${pages.base}/`);
      await page.getByRole('heading', { name: 'Choose how to pay' }).waitFor();
      assert.ok(errors.some((e) => /integrity|digest/i.test(e)), `${file}: ${errors.join(' | ')}`);
      await page.close();
    }
  } finally {
    await pages.close();
  }
});
