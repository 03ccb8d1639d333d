// The widget on pages developers write: the JS API, several widgets, the script loaded twice or
// late, another origin for script and API, a strict CSP, and host CSS that tries to restyle it.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { launchBrowser, recordEvents, recordedEvents, startServer, watchForProblems } from './lib/harness.mjs';
import { createOrder, page as hostPage, reserveStore, sandboxDecide, sessionStatus, startPages } from './lib/pages.mjs';
import { scanSessionId } from './lib/qr.mjs';

const STRICT_CSP =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'";

let server;
/** The origin of the test pages that proxy to the server (a store in front of its backend). */
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
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1000, height: 900 } });
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

test('the JS API mounts a checkout, calls back with events and destroys it', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/': hostPage(`<div id="slot"></div><script type="module">
      import { mount, whenReady } from '/wallet-checkout/wallet-checkout.js';
      window.events = [];
      window.handle = mount('#slot', {
        endpoint: '/api/checkout', order: '${order}', locale: 'en',
        onReady: (detail) => window.events.push(['ready', detail.orderId]),
        onSessionCreated: (detail) => window.events.push(['session-created', detail.sessionId]),
        onPaid: (detail) => window.events.push(['paid', detail.sessionId]),
      });
      window.sameGlobal = window.WalletCheckout.mount === mount;
      whenReady().then(() => (window.defined = true));
    </script>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByTestId('qr').waitFor();
    const sessionId = await scanSessionId(page.locator('.wc-qr'));
    await sandboxDecide(server.base, sessionId);
    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.events), [
      ['ready', order],
      ['session-created', sessionId],
      ['paid', sessionId],
    ]);
    assert.equal(await page.evaluate(() => window.sameGlobal && window.defined), true);

    await page.evaluate(() => window.handle.destroy());
    assert.equal(await page.locator('wallet-checkout').count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test('destroying a widget stops its requests', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/': hostPage(`<div id="slot"></div><script type="module">
      import { mount } from '/wallet-checkout/wallet-checkout.js';
      window.handle = mount('#slot', { endpoint: '/api/checkout', order: '${order}', locale: 'en' });
    </script>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByTestId('qr').waitFor();
    await page.waitForTimeout(2_500);
    const reads = pages.requests.filter((r) => r.startsWith('GET /api/checkout/sessions/'));
    assert.ok(reads.length >= 1, 'the widget was tracking the session');
    assert.match(reads[0], /\?wait=25&status=pending$/, 'with a waiting read, not a poll every few seconds');
    assert.ok(reads.length <= 2, `${reads.length} reads in 2.5 s`);
    await page.evaluate(() => window.handle.destroy());
    const count = pages.requests.length;
    await page.waitForTimeout(4_500);
    assert.deepEqual(pages.requests.slice(count), [], 'no request after destroy()');
    assert.equal(pages.open(), 0, 'the waiting read in flight was aborted, not left open');
  } finally {
    await pages.close();
  }
});

test('several widgets on one page work independently', async () => {
  const [first, second] = [await createOrder(server.base, 0), await createOrder(server.base, 1)];
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout id="one" endpoint="/api/checkout" order="${first}" locale="en"></wallet-checkout>
      <wallet-checkout id="two" endpoint="/api/checkout" order="${second}" locale="zh-CN"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    const one = page.locator('#one');
    const two = page.locator('#two');
    await one.getByRole('button', { name: 'WeChat Pay' }).click();
    await one.getByTestId('qr').waitFor();
    const sessionId = await scanSessionId(one.locator('.wc-qr'));
    await sandboxDecide(server.base, sessionId);
    await one.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
    assert.equal(await two.getByRole('heading', { name: '选择付款方式' }).count(), 1, 'the second widget still offers its wallets');
    const paid = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:paid');
    assert.deepEqual(paid.map((e) => e.detail.orderId), [first]);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test('the script may load twice and the element may come before or after it', async () => {
  const [early, late] = [await createOrder(server.base), await createOrder(server.base)];
  const pages = await startPages({
    '/': `<!doctype html><html><head><meta charset="utf-8"><title>twice</title></head><body>
      <wallet-checkout id="early" endpoint="/api/checkout" order="${early}" locale="en"></wallet-checkout>
      <script type="module" src="/wallet-checkout/wallet-checkout.js"></script>
      <script type="module" src="/wallet-checkout/wallet-checkout.js"></script>
      <script type="module" src="/wallet-checkout/wallet-checkout.js?copy=2"></script>
      <script type="module">
        setTimeout(() => {
          const late = document.createElement('wallet-checkout');
          late.id = 'late';
          late.setAttribute('endpoint', '/api/checkout');
          late.setAttribute('order', '${late}');
          late.setAttribute('locale', 'en');
          document.body.append(late);
        }, 300);
      </script></body></html>`,
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    await page.locator('#early').getByRole('button', { name: 'PayPal' }).waitFor();
    await page.locator('#late').getByRole('button', { name: 'PayPal' }).waitFor();
    const modules = pages.requests.filter((r) => /\.wasm$/.test(r));
    assert.equal(modules.length, 1, `the module is fetched once: ${modules}`);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test('script and API on another origin than the page work with CORS', async () => {
  // The page's server starts first, so the API can name its origin in its allow-list.
  const routes = {};
  const pages = await startPages(routes);
  const api = await startServer({ WC_ALLOWED_ORIGINS: pages.base });
  try {
    const apiBase = api.base.replace('127.0.0.1', 'localhost');
    const order = await createOrder(api.base);
    routes['/'] = hostPage(
      `<wallet-checkout endpoint="${apiBase}/api/checkout" order="${order}" locale="zh-CN"></wallet-checkout>`,
      { scriptBase: apiBase },
    );
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByTestId('qr').waitFor();
    const sessionId = await scanSessionId(page.locator('.wc-qr'));
    await sandboxDecide(api.base, sessionId);
    await page.getByRole('heading', { name: '已收到付款' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(problems, [], 'the module, its glue and the locale file load across origins');

    const preflight = await fetch(`${api.base}/api/checkout/sessions`, {
      method: 'OPTIONS',
      headers: { origin: pages.base, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), pages.base);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), null, 'no credentials');
  } finally {
    await api.stop();
    await pages.close();
  }
});

test('an origin that is not allowed gets no answer it can read, and the widget says so', async () => {
  const routes = {};
  const pages = await startPages(routes);
  const api = await startServer({ WC_ALLOWED_ORIGINS: 'https://someone-else.example' });
  try {
    const apiBase = api.base.replace('127.0.0.1', 'localhost');
    const order = await createOrder(api.base);
    routes['/'] = hostPage(
      `<wallet-checkout endpoint="${apiBase}/api/checkout" order="${order}" locale="en"></wallet-checkout>`,
      { scriptBase: apiBase },
    );
    const page = await newPage({ allowErrors: true });
    await page.goto(`${pages.base}/`);
    await page.getByText('The payment service cannot be reached.').waitFor({ timeout: 15_000 });
    const errors = (await recordedEvents(page)).filter((e) => e.type === 'wallet-checkout:error');
    assert.equal(errors[0].detail.code, 'network');
  } finally {
    await api.stop();
    await pages.close();
  }
});

test('a page with a strict Content-Security-Policy runs the whole payment with no violation', async () => {
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await newPage();
  const response = await page.goto(`${server.base}/`);
  assert.equal(response.headers()['content-security-policy'], STRICT_CSP, 'the demo store sends exactly the documented policy');
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByTestId('qr').waitFor();
  const sessionId = await scanSessionId(page.locator('.wc-qr'));
  await sandboxDecide(server.base, sessionId);
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(await page.evaluate(() => window.__violations), []);
  assert.deepEqual(problems, []);
});

const HOSTILE_CSS = `
  * { all: unset !important; font: 31px/3 serif !important; color: #f0f !important; background: #ff0 !important;
      margin: 7px !important; padding: 9px !important; border: 3px dashed #0f0 !important;
      letter-spacing: 2px !important; text-transform: uppercase !important; box-sizing: content-box !important;
      visibility: visible !important; }
  html, body { display: block !important; }
  head, style, script { display: none !important; }
  wallet-checkout { display: inline !important; width: 10px !important; opacity: 0.5 !important; outline: 9px solid red !important; }
  button, a, h2, p, section, div, ul, li, svg { display: inline !important; }
`;

test("the page's CSS cannot restyle the widget", async () => {
  const order = await createOrder(server.base);
  // Both pages pin the widget to the same spot (inline !important styles outrank any stylesheet),
  // so the same pixels are expected, not just similar ones.
  const pin = 'position:fixed !important;top:40px !important;left:40px !important;width:600px !important;'
    + 'margin:0 !important;padding:0 !important;border:0 !important;display:block !important';
  const body = `<div style="${pin}"><wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout></div>`;
  const pages = await startPages({
    '/plain': hostPage(body),
    '/hostile': hostPage(body, { head: `<style>${HOSTILE_CSS}</style>` }),
  }, { proxyTo: server.base, port: store.port });
  try {
    const shots = [];
    for (const path of ['/plain', '/hostile']) {
      const page = await newPage();
      await page.goto(`${pages.base}${path}`);
      await page.getByRole('button', { name: 'PayPal' }).waitFor();
      const root = page.locator('.wc-root');
      shots.push(PNG.sync.read(await root.screenshot()));
      await page.close();
    }
    const [plain, hostile] = shots;
    assert.equal(hostile.width, plain.width);
    assert.equal(hostile.height, plain.height);
    // The page's own background shows through the rounded corners; every other pixel is the
    // widget's. Anti-aliased edges may differ by a level or two between two renderings; a restyle
    // changes colours far more than that.
    const corner = 12;
    const tolerance = 8;
    const differing = [];
    for (let y = 0; y < plain.height; y += 1) {
      for (let x = 0; x < plain.width; x += 1) {
        const inCorner = (x < corner || x >= plain.width - corner) && (y < corner || y >= plain.height - corner);
        const i = (y * plain.width + x) * 4;
        const channels = [0, 1, 2, 3].map((c) => Math.abs(plain.data[i + c] - hostile.data[i + c]));
        if (!inCorner && Math.max(...channels) > tolerance) differing.push(`${x},${y}`);
      }
    }
    assert.deepEqual(differing.slice(0, 10), [], `${differing.length} pixels differ under hostile CSS`);
    assert.deepEqual(problems, []);
  } finally {
    await pages.close();
  }
});

test('the integrity hash from integrity.json loads the widget, and a tampered module is refused', async () => {
  const integrity = await (await fetch(`${server.base}/wallet-checkout/integrity.json`)).json();
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/': `<!doctype html><html><head><meta charset="utf-8"><title>SRI</title>
      <script type="module" src="/wallet-checkout/wallet-checkout.js" integrity="${integrity['wallet-checkout.js']}" crossorigin="anonymous"></script>
      </head><body><wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout></body></html>`,
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await newPage();
    await page.goto(`${pages.base}/`);
    await page.getByRole('button', { name: 'PayPal' }).waitFor();
    assert.deepEqual(problems, []);

    // The module is checked against the hash inside the loader, the loader (and the glue in it)
    // against the page's.
    for (const [kind, file] of [['module', /\/wallet-checkout\.[0-9a-f]{12}\.wasm$/], ['loader', /\/wallet-checkout\.js$/]]) {
      const tampered = await newPage({ allowErrors: true });
      const errors = [];
      tampered.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      await tampered.route(file, async (route) => {
        const original = await route.fetch();
        const body = Buffer.from(await original.body());
        body[body.length - 2] ^= 0x20;
        await route.fulfill({ response: original, body });
      });
      await tampered.goto(`${pages.base}/`);
      await tampered.waitForTimeout(1_500);
      assert.equal(await tampered.locator('.wc-root').count(), 0, `a tampered ${kind} file never runs`);
      assert.ok(errors.some((e) => /integrity|wallet-checkout/i.test(e)), `${kind}: ${errors.join(' | ')}`);
      await tampered.close();
    }
  } finally {
    await pages.close();
  }
});
