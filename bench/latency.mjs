// `make bench` (realtime part): time from a wallet's approval to the widget showing "paid", and
// the requests a waiting widget makes, in headless Chromium against the reference server.
//   node bench/latency.mjs [PAYMENTS] [postgres-url]   (default 50 payments on SQLite)
import { launchBrowser, startServer } from '../tests/e2e/lib/harness.mjs';

const PAYMENTS = Number(process.argv[2] ?? 50);
const DATABASE_URL = process.argv[3];

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const server = await startServer({ RUST_LOG: 'warn,wallet_checkout_server=info', ...(DATABASE_URL ? { DATABASE_URL } : {}) });
const browser = await launchBrowser({ full: true });
try {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const latencies = [];
  for (let i = 0; i < PAYMENTS; i += 1) {
    await page.goto(`${server.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    const link = page.getByTestId('payment-link');
    await link.waitFor();
    const payUrl = await link.getAttribute('href');
    // Let the widget's waiting read reach the server before the wallet approves.
    await page.waitForTimeout(150);
    // Approve from the page itself, so one clock measures both ends.
    const ms = await page.evaluate(async (url) => {
      const root = document.querySelector('wallet-checkout').shadowRoot;
      const paid = new Promise((resolve) => {
        const look = () => (root.querySelector('[data-status=succeeded]') ? resolve(performance.now()) : requestAnimationFrame(look));
        look();
      });
      const started = performance.now();
      fetch(`${url}/approve`, { method: 'POST', redirect: 'manual' });
      return (await paid) - started;
    }, payUrl);
    latencies.push(ms);
  }

  // A widget left waiting for a minute: how many status requests does it make?
  let reads = 0;
  page.on('request', (request) => {
    if (/\/api\/checkout\/sessions\/ses_/.test(request.url())) reads += 1;
  });
  await page.goto(`${server.base}/`);
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByTestId('qr').waitFor();
  // Counted from the first status read on, for one minute.
  await page.waitForTimeout(60_000);

  const db = DATABASE_URL ? 'PostgreSQL' : 'SQLite';
  const line = (name, values) =>
    `| ${name} | ${percentile(values, 50).toFixed(0)} ms | ${percentile(values, 95).toFixed(0)} ms | ${Math.max(...values).toFixed(0)} ms |`;
  console.log(`## Approval to "paid" (node bench/latency.mjs ${PAYMENTS}${DATABASE_URL ? ' <postgres-url>' : ''}), ${db}, ${new Date().toISOString().slice(0, 10)}\n`);
  console.log(`| ${PAYMENTS} payments | p50 | p95 | max |\n|---|---:|---:|---:|`);
  console.log(line('approval request sent → widget shows paid', latencies));
  console.log(`\nStatus requests by one widget waiting 60 s for a payment: ${reads}.`);
} finally {
  await browser.close();
  await server.stop();
}
