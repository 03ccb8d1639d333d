// `make bench` (widget part): bytes over the wire and time to the wallet list and to the QR code,
// measured in headless Chromium against the reference server on this machine.
//   node bench/widget.mjs [RUNS]     (default 15 runs; the median and the 90th percentile are printed)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { launchBrowser, startServer } from '../tests/e2e/lib/harness.mjs';

const RUNS = Number(process.argv[2] ?? 15);
const DIST = resolve(import.meta.dirname, '../dist/wallet-checkout');

function sizes() {
  const integrity = JSON.parse(readFileSync(join(DIST, 'integrity.json'), 'utf8'));
  const rows = Object.keys(integrity)
    .filter((name) => !name.endsWith('.json') || name.includes('.zh-CN.'))
    .map((name) => {
      const bytes = readFileSync(join(DIST, name));
      return {
        name,
        raw: bytes.length,
        gzip: gzipSync(bytes, { level: 9 }).length,
        brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
      };
    });
  return rows;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

// In the page: when the loader started, when the wallet list and the QR code first appeared.
const PROBE = () => {
  window.__marks = {};
  const look = () => {
    const root = document.querySelector('wallet-checkout')?.shadowRoot;
    if (root && !window.__marks.wallets && root.querySelector('button.wc-wallet')) window.__marks.wallets = performance.now();
    if (root && !window.__marks.qr && root.querySelector('[data-testid=qr]')) window.__marks.qr = performance.now();
    if (!window.__marks.qr) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  document.addEventListener('click', (event) => { window.__marks.click ??= event.timeStamp; }, true);
};

async function timings(server, browser) {
  const toWallets = [];
  const toQr = [];
  for (let run = 0; run < RUNS; run += 1) {
    // A new context each run: an empty cache, as for a shopper's first visit.
    const context = await browser.newContext({ locale: 'en-US' });
    await context.addInitScript(PROBE);
    const page = await context.newPage();
    await page.goto(`${server.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByTestId('qr').waitFor();
    const marks = await page.evaluate(() => {
      const loader = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/wallet-checkout.js'));
      return { ...window.__marks, start: loader.responseEnd };
    });
    toWallets.push(marks.wallets - marks.start);
    toQr.push(marks.qr - marks.click);
    await context.close();
  }
  return { toWallets, toQr };
}

const rows = sizes();
const server = await startServer({ RUST_LOG: 'warn,wallet_checkout_server=info' });
const browser = await launchBrowser();
try {
  const { toWallets, toQr } = await timings(server, browser);
  const firstPaint = rows.filter((r) => !r.name.endsWith('.json'));
  const total = (key) => firstPaint.reduce((sum, r) => sum + r[key], 0);
  console.log(`## Widget (node bench/widget.mjs ${RUNS}), ${new Date().toISOString().slice(0, 10)}\n`);
  console.log('| file | raw | gzip | brotli |\n|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${r.raw} | ${r.gzip} | ${r.brotli} |`);
  console.log(`| **first paint, English (loader + glue + module)** | **${total('raw')}** | **${total('gzip')}** | **${total('brotli')}** |\n`);
  const ms = (v) => `${v.toFixed(0)} ms`;
  console.log(`| headless Chromium, ${RUNS} runs, empty cache | median | p90 |\n|---|---:|---:|`);
  console.log(`| loader executed → wallet list shown | ${ms(percentile(toWallets, 50))} | ${ms(percentile(toWallets, 90))} |`);
  console.log(`| click on a wallet → QR code shown | ${ms(percentile(toQr, 50))} | ${ms(percentile(toQr, 90))} |`);
} finally {
  await browser.close();
  await server.stop();
}
