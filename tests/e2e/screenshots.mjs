// Takes the README's screenshots of the console: a server with the sandbox, a few orders paid,
// declined and open, an admin signed in, and each page at 1280×900 (and the overview on a phone).
// Run with `make screenshots`; writes PNG files to docs/screenshots/.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchBrowser, startServer } from './lib/harness.mjs';
import { createStaff, signIn } from './lib/console.mjs';
import { createOrder, sandboxDecide } from './lib/pages.mjs';

const OUT = resolve(import.meta.dirname, '../../docs/screenshots');

/** The console's pages worth showing, in the README's order: [file name, path]. */
const PAGES = [
  ['overview', '/console'],
  ['setup', '/console/setup/providers'],
  ['setup-keys', '/console/setup/keys'],
  ['setup-integrate', '/console/setup/integrate'],
  ['setup-test', '/console/setup/test'],
  ['setup-golive', '/console/setup/golive'],
  ['orders', '/console/orders'],
  ['business', '/console/business'],
  ['alerts', '/console/alerts'],
  ['keys', '/console/keys'],
  ['webhooks', '/console/webhooks'],
  ['audit', '/console/audit'],
  ['backups', '/console/backups'],
  ['staff', '/console/staff'],
  ['account', '/console/account'],
];

async function pay(base, item, decision) {
  const orderId = await createOrder(base, item);
  const response = await fetch(`${base}/api/checkout/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `shot-${orderId}` },
    body: JSON.stringify({ order_id: orderId, wallet_id: item % 2 ? 'alipay' : 'wechat_pay', return_url: `${base}/`, device: 'desktop' }),
  });
  if (!response.ok) throw new Error(`session creation failed: ${response.status} ${await response.text()}`);
  const session = await response.json();
  if (decision) await sandboxDecide(base, session.id, decision);
}

const server = await startServer();
const browser = await launchBrowser();
try {
  for (let i = 0; i < 8; i += 1) await pay(server.base, i % 3, i % 4 === 3 ? 'decline' : i === 6 ? null : 'approve');
  const admin = createStaff(server, 'admin', 'Li Wei');
  mkdirSync(OUT, { recursive: true });
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await signIn(page, server.base, admin);
  const taken = [];
  for (const [name, path] of PAGES) {
    const probe = await context.request.get(`${server.base}${path}`, { maxRedirects: 0 });
    if (probe.status() !== 200) {
      console.log(`skipped ${path}: ${probe.status()}`);
      continue;
    }
    await page.goto(`${server.base}${path}`);
    await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: false });
    taken.push(name);
  }
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.base}/console`);
  await page.screenshot({ path: join(OUT, 'overview-phone.png') });
  taken.push('overview-phone');
  console.log(`wrote ${taken.length} screenshots to ${OUT}: ${taken.join(', ')}`);
} finally {
  await browser.close();
  await server.stop();
}
