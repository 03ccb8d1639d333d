// `make bench` (widget part): the bytes a shopper downloads, and how long a page takes from
// navigation to the wallet list on a slow phone connection, beside the same page without the
// widget; measured in headless Chromium against the reference server on this machine.
//   node bench/widget.mjs [RUNS]     (default 15 runs of each page; medians and 90th percentiles)
//   WIDGET_DIR=<dist> node bench/widget.mjs [RUNS]   (another build of the widget, served instead)
//
// The connection is Chromium's network emulation (CDP `Network.emulateNetworkConditions`): 150 ms
// round trip, 1.6 Mbit/s down, 750 kbit/s up (Lighthouse's slow 4G), cache disabled, a new browser
// context each run. The floor is the same page without the widget: its HTML, then one request for
// the order (the one request the widget makes too), whose wallets it lists as plain buttons. The
// widget's own cost is the ratio of the two. The widget is measured embedded two ways: by the
// script tag alone, and by the snippet (the build's embed.json: the module preloaded with the page).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { launchBrowser, startServer } from '../tests/e2e/lib/harness.mjs';
import { createOrder, page as widgetPage, snippetPage, startPages } from '../tests/e2e/lib/pages.mjs';

const RUNS = Math.max(10, Number(process.argv[2] ?? 15));
const DIST = resolve(process.env.WIDGET_DIR ?? resolve(import.meta.dirname, '../dist/wallet-checkout'));
const NETWORK = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };

function sizes() {
  const integrity = JSON.parse(readFileSync(join(DIST, 'integrity.json'), 'utf8'));
  const loader = readFileSync(join(DIST, 'wallet-checkout.js'));
  return Object.keys(integrity)
    .filter((name) => !name.endsWith('.json') || name.includes('.zh-CN.') || name.includes('.locales.'))
    .map((name) => {
      const bytes = readFileSync(join(DIST, name));
      return {
        name,
        // The loader's versioned name (the snippet's) holds the same bytes: counted once.
        copy: name !== 'wallet-checkout.js' && bytes.equals(loader),
        raw: bytes.length,
        gzip: gzipSync(bytes, { level: 9 }).length,
        brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      };
    });
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// In the page: when the wallet list (in the widget's shadow root, or the floor page's own
// buttons) and the QR code first appeared, in ms since navigation started.
const PROBE = () => {
  window.__marks = {};
  const look = () => {
    const root = document.querySelector('wallet-checkout')?.shadowRoot ?? document;
    if (!window.__marks.wallets && root.querySelector('button.wc-wallet')) window.__marks.wallets = performance.now();
    if (!window.__marks.qr && root.querySelector('[data-testid=qr]')) window.__marks.qr = performance.now();
    if (!window.__marks.qr) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  document.addEventListener('click', (event) => { window.__marks.click ??= event.timeStamp; }, true);
};

/** The floor: the page's HTML and one request for the order, its wallets listed as buttons. */
function floorPage(orderId) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host page</title>
<script type="module">
const answer = await (await fetch('/api/checkout/orders/${orderId}')).json();
for (const wallet of answer.wallets) {
  const button = document.createElement('button');
  button.className = 'wc-wallet';
  button.textContent = wallet.name;
  document.body.append(button);
}
</script></head><body></body></html>`;
}

/** Navigation -> wallet list, throttled, `RUNS` times; with `clickQr`, also click -> QR code. */
async function navigations(browser, url, { throttled, clickQr = false }) {
  const toWallets = [];
  const toQr = [];
  for (let run = 0; run < RUNS; run += 1) {
    // A new context each run: an empty cache, as for a shopper's first visit.
    const context = await browser.newContext({ locale: 'en-US' });
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    if (throttled) await cdp.send('Network.emulateNetworkConditions', NETWORK);
    await page.goto(url);
    await page.waitForFunction(() => window.__marks?.wallets !== undefined, null, { timeout: 60_000 });
    toWallets.push(await page.evaluate(() => window.__marks.wallets));
    if (clickQr) {
      await page.getByRole('button', { name: 'WeChat Pay' }).click();
      await page.getByTestId('qr').waitFor();
      toQr.push(await page.evaluate(() => window.__marks.qr - window.__marks.click));
    }
    await context.close();
  }
  return { toWallets, toQr };
}

const rows = sizes();
const snippet = existsSync(join(DIST, 'embed.json'));
const server = await startServer({
  RUST_LOG: 'warn,wallet_checkout_server=info',
  WC_SESSION_RATE_PER_MINUTE: '0',
  WC_WIDGET_DIR: DIST,
});
const orderId = await createOrder(server.base);
const element = `<wallet-checkout endpoint="/api/checkout" order="${orderId}"></wallet-checkout>`;
const pages = await startPages(
  {
    '/widget': widgetPage(element),
    ...(snippet ? { '/snippet': snippetPage(element, { dist: DIST }) } : {}),
    '/floor': floorPage(orderId),
  },
  { proxyTo: server.base },
);
const browser = await launchBrowser({ full: true });
try {
  const floor = await navigations(browser, `${pages.base}/floor`, { throttled: true });
  const widget = await navigations(browser, `${pages.base}/widget`, { throttled: true });
  const fast = snippet ? await navigations(browser, `${pages.base}/snippet`, { throttled: true }) : undefined;
  // The demo store makes a new order for each visit, so each run pays a fresh one.
  const unthrottled = await navigations(browser, `${server.base}/`, { throttled: false, clickQr: true });
  const unthrottledWidget = await navigations(browser, `${pages.base}/widget`, { throttled: false });
  const unthrottledFast = snippet ? await navigations(browser, `${pages.base}/snippet`, { throttled: false }) : undefined;

  const firstPaint = rows.filter((r) => !r.name.endsWith('.json') && !r.copy);
  const total = (key) => firstPaint.reduce((sum, r) => sum + r[key], 0);
  console.log(`## Widget (node bench/widget.mjs ${RUNS}), ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| file | raw | gzip | brotli |\n|---|---:|---:|---:|');
  for (const r of rows) {
    if (r.copy) console.log(`| ${r.name} | the loader's versioned name: the same bytes | | |`);
    else console.log(`| ${r.name} | ${r.raw} | ${r.gzip} | ${r.brotli} |`);
  }
  console.log(`| **to a drawn QR code, English (${firstPaint.map((r) => r.name).join(' + ')})** | **${total('raw')}** | **${total('gzip')}** | **${total('brotli')}** |\n`);
  const ms = (v) => `${v.toFixed(0)} ms`;
  const median = (v) => percentile(v, 50);
  const row = (label, values) => console.log(`| ${label} | ${ms(median(values))} | ${ms(percentile(values, 90))} |`);
  const ratio = (label, values) => console.log(`| **${label} ÷ floor (medians)** | **${(median(values) / median(floor.toWallets)).toFixed(2)}** | |`);
  console.log(`| navigation → wallet list, 150 ms RTT, 1.6 Mbit/s, ${RUNS} runs each | median | p90 |\n|---|---:|---:|`);
  row('floor: the page without the widget (HTML + one request)', floor.toWallets);
  row('the page with the widget (script tag)', widget.toWallets);
  ratio('script tag', widget.toWallets);
  if (fast) {
    row('the page with the widget (snippet)', fast.toWallets);
    ratio('snippet', fast.toWallets);
  }
  console.log(`\n| unthrottled, ${RUNS} runs | median | p90 |\n|---|---:|---:|`);
  row('navigation → wallet list (the demo store)', unthrottled.toWallets);
  row('click on a wallet → QR code shown (includes creating the session)', unthrottled.toQr);
  row('navigation → wallet list (script tag, the page above)', unthrottledWidget.toWallets);
  if (unthrottledFast) row('navigation → wallet list (snippet, the page above)', unthrottledFast.toWallets);
} finally {
  await browser.close();
  await pages.close();
  await server.stop();
}
