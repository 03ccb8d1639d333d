// Takes the README's screenshots of the console: a server with the sandbox, a few orders paid,
// declined and open, an admin signed in, and each page at 1280×900 (and the overview on a phone).
// Run with `make screenshots`; writes PNG files to docs/screenshots/.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchBrowser, startServer } from './lib/harness.mjs';
import { createStaff, signIn } from './lib/console.mjs';
import { createOrder, sandboxDecide } from './lib/pages.mjs';

const OUT = resolve(import.meta.dirname, '../../docs/screenshots');

/** The console's pages worth showing, in the README's order: [file name, path]. */
const PAGES = [
  ['console-overview', '/console'],
  ['console-orders', '/console/orders'],
  ['console-business', '/console/business?period=month'],
  ['console-alerts', '/console/alerts'],
  ['console-alert-rules', '/console/alerts/rules'],
  ['console-setup-1-providers', '/console/setup/providers'],
  ['console-setup-2-register', '/console/setup/register'],
  ['console-setup-3-keys', '/console/setup/keys'],
  ['console-setup-4-integrate', '/console/setup/integrate'],
  ['console-setup-5-test', '/console/setup/test'],
  ['console-setup-6-golive', '/console/setup/golive'],
  ['console-keys', '/console/keys'],
  ['console-webhooks', '/console/webhooks'],
  ['console-backups', '/console/backups'],
  ['console-audit', '/console/audit'],
  ['console-staff', '/console/staff'],
  ['console-account', '/console/account'],
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
  for (let i = 0; i < 12; i += 1) await pay(server.base, i % 3, i % 4 === 3 ? 'decline' : i === 6 ? null : 'approve');
  // A backup, so that the backups page and the go-live checklist have one to show.
  execFileSync(process.env.SERVER_BIN ?? join(resolve(import.meta.dirname, '../..'), 'target/release/wallet-checkout-server'), ['backup'], {
    env: { ...process.env, ...server.env, WC_DATA_DIR: server.dataDir, NO_COLOR: '1' },
  });
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
  // An order's page, and the refund's confirmation step.
  await page.goto(`${server.base}/console/orders?status=paid`);
  await page.getByTestId('order-row').first().getByRole('link').first().click();
  await page.getByTestId('order-id').waitFor();
  await page.screenshot({ path: join(OUT, 'console-order.png') });
  taken.push('console-order');
  const refund = page.getByTestId('refund-form');
  await refund.getByRole('textbox').first().fill('10.00');
  await refund.getByRole('textbox').last().fill('A cup was broken');
  await refund.getByRole('button').click();
  await page.waitForLoadState();
  await page.screenshot({ path: join(OUT, 'console-refund-confirm.png') });
  taken.push('console-refund-confirm');
  // A phone, in Chinese.
  await page.goto(`${server.base}/console/account`);
  await page.getByRole('combobox').first().selectOption('zh-CN');
  await page.getByRole('button', { name: 'Save language' }).click();
  await page.locator('html[lang="zh-CN"]').waitFor();
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.base}/console`);
  await page.screenshot({ path: join(OUT, 'console-overview-phone-zh-CN.png') });
  taken.push('console-overview-phone-zh-CN');
  console.log(`wrote ${taken.length} screenshots to ${OUT}: ${taken.join(', ')}`);
} finally {
  await browser.close();
  await server.stop();
}
