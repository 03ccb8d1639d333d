// WCAG 2.2 AA in headless Chromium: axe-core finds no violation in any state of the widget, in the
// light and the dark theme; the wallet choice works by keyboard; status changes are announced;
// reduced motion and the automatic theme are respected.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { launchBrowser, startServer } from './lib/harness.mjs';
import { page as hostPage, reserveStore, sandboxDecide, startPages } from './lib/pages.mjs';
import { scanSessionId } from './lib/qr.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

let server;
/** The origin of the test pages that proxy to the server (a store in front of its backend). */
let store;
let browser;
let context;

before(async () => {
  store = await reserveStore();
  server = await startServer({ WC_ALLOWED_ORIGINS: store.origin });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

async function open(url, options = {}) {
  // The demo store's CSP would refuse the injected axe script.
  context = await browser.newContext({ locale: 'en-US', bypassCSP: true, ...options });
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** Runs axe on the widget (shadow tree included) in both themes; returns the violations. */
async function violations(page, state) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE });
  const found = [];
  for (const theme of ['light', 'dark']) {
    await page.evaluate((t) => document.querySelector('wallet-checkout').setAttribute('theme', t), theme);
    const result = await page.evaluate(
      (tags) => window.axe.run({ include: [['wallet-checkout']] }, { runOnly: { type: 'tag', values: tags } }),
      WCAG_22_AA,
    );
    for (const violation of result.violations) {
      found.push(`${state}/${theme}: ${violation.id} (${violation.nodes.map((n) => n.target.join(' ')).join(', ')})`);
    }
  }
  return found;
}

test('no axe violation in the wallet list, QR, paid and failed states', async () => {
  const page = await open(`${server.base}/`);
  await page.getByRole('button', { name: 'WeChat Pay' }).waitFor();
  const found = await violations(page, 'wallets');
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByTestId('qr').waitFor();
  found.push(...(await violations(page, 'qr')));
  await sandboxDecide(server.base, await scanSessionId(page.locator('.wc-qr')));
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
  found.push(...(await violations(page, 'paid')));

  const second = await context.newPage();
  await second.goto(`${server.base}/`);
  await second.getByRole('button', { name: 'Alipay' }).click();
  await second.getByTestId('qr').waitFor();
  await sandboxDecide(server.base, await scanSessionId(second.locator('.wc-qr')), 'decline');
  await second.getByRole('heading', { name: 'Payment not completed' }).waitFor({ timeout: 10_000 });
  found.push(...(await violations(second, 'failed')));
  assert.deepEqual(found, []);
});

test('no axe violation while redirecting', async () => {
  const page = await open(`${server.base}/`);
  // Keep the page: a beforeunload prompt, dismissed, cancels the widget's navigation to the wallet.
  await page.evaluate(() => window.addEventListener('beforeunload', (event) => event.preventDefault()));
  page.on('dialog', (dialog) => dialog.dismiss());
  await page.getByRole('button', { name: 'PayPal' }).click();
  await page.getByText('Taking you to PayPal…').first().waitFor();
  assert.deepEqual(await violations(page, 'redirecting'), []);
});

test('no axe violation when the code expired', async () => {
  const shortLived = await startServer({ WC_SESSION_TTL_SECS: '2' });
  try {
    const page = await open(`${shortLived.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).click();
    await page.getByRole('heading', { name: 'Payment expired' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await violations(page, 'expired'), []);
  } finally {
    await context.close();
    context = undefined;
    await shortLived.stop();
  }
});

test('no axe violation in the error states', async () => {
  const pages = await startPages({
    '/unknown': hostPage('<wallet-checkout endpoint="/api/checkout" order="ord_unknown" locale="en"></wallet-checkout>'),
    '/misconfigured': hostPage('<wallet-checkout order="ord_1" locale="en"></wallet-checkout>'),
  }, { proxyTo: server.base, port: store.port });
  try {
    const page = await open(`${pages.base}/unknown`);
    await page.getByText('This order could not be found.').waitFor();
    const found = await violations(page, 'error');
    await page.goto(`${pages.base}/misconfigured`);
    await page.getByText('The endpoint attribute is missing.', { exact: false }).waitFor();
    found.push(...(await violations(page, 'misconfigured')));
    assert.deepEqual(found, []);
  } finally {
    await pages.close();
  }
});

test('the wallet choice works by keyboard with visible focus, and focus follows the screen', async () => {
  const page = await open(`${server.base}/`);
  await page.getByRole('button', { name: 'WeChat Pay' }).waitFor();
  const focused = () =>
    page.evaluate(() => {
      const element = document.querySelector('wallet-checkout').shadowRoot.activeElement;
      if (!element) return null;
      return { text: element.textContent.trim(), outline: getComputedStyle(element).outlineStyle };
    });
  for (let i = 0; i < 20 && (await focused())?.text !== 'WeChat Pay'; i += 1) await page.keyboard.press('Tab');
  assert.deepEqual(await focused(), { text: 'WeChat Pay', outline: 'solid' }, 'Tab reaches the first wallet, visibly');
  await page.keyboard.press('Tab');
  assert.equal((await focused()).text, 'Alipay');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Enter');
  await page.getByTestId('qr').waitFor();
  await page.waitForFunction(() => document.querySelector('wallet-checkout').shadowRoot.activeElement?.tagName === 'H2');
  assert.equal((await focused()).text, 'Scan to pay with WeChat Pay', 'focus moves to the new screen, not to the page');
});

test('status changes are announced once', async () => {
  const page = await open(`${server.base}/`);
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByTestId('qr').waitFor();
  const announcer = page.getByTestId('announcer');
  assert.equal(await announcer.getAttribute('role'), 'status');
  assert.equal(await announcer.textContent(), 'Scan to pay with WeChat Pay');
  assert.equal(await page.getByTestId('time-announcer').textContent(), '', 'no countdown announcement at 15 minutes left');
  assert.equal(await page.getByRole('img', { name: /^QR code to pay .* with WeChat Pay$/ }).count(), 1, 'the code has a text alternative');
  await sandboxDecide(server.base, await scanSessionId(page.locator('.wc-qr')));
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
  assert.equal(await announcer.textContent(), 'Payment received');
});

/** Polls `read` (with Node's own timers, which the page's clock does not touch) until it answers `expected`. */
async function settles(read, expected, what) {
  let last;
  for (let i = 0; i < 100; i += 1) {
    last = await read();
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(last, expected, what);
}

test('the time left is announced at 5 minutes, 1 minute and 30 seconds, and not every second', async () => {
  // The page's clock is Playwright's and stands still unless the test moves it: the countdown is
  // followed through fifteen minutes without waiting for them.
  context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  await page.clock.install({ time: new Date('2030-01-01T00:00:00Z') });
  await page.clock.pauseAt(new Date('2030-01-01T00:00:01Z'));
  await page.goto(`${server.base}/`);
  await page.getByRole('button', { name: 'WeChat Pay' }).click();
  await page.getByTestId('qr').waitFor();
  const countdown = page.getByTestId('countdown');
  const timeAnnouncer = page.getByTestId('time-announcer');
  const [, minutes, seconds] = /^Expires in (\d+):(\d\d)$/.exec(await countdown.textContent());
  const start = Number(minutes) * 60 + Number(seconds);
  assert.ok(start >= 890 && start <= 900, `the session's 15 minutes: ${start} s`);

  await page.clock.runFor((start - 301) * 1000);
  await settles(() => countdown.textContent(), 'Expires in 5:01', 'the countdown follows the clock');
  assert.equal(await timeAnnouncer.textContent(), '', 'nothing announced before 5 minutes left');
  await page.clock.runFor(1000);
  await settles(() => timeAnnouncer.textContent(), 'Time left to pay: 5:00', 'announced at 5 minutes');
  await page.clock.runFor(10_000);
  await settles(() => countdown.textContent(), 'Expires in 4:50', 'the countdown goes on');
  assert.equal(await timeAnnouncer.textContent(), 'Time left to pay: 5:00', 'the seconds between are not announced');
  await page.clock.runFor(230_000);
  await settles(() => timeAnnouncer.textContent(), 'Time left to pay: 1:00', 'announced at 1 minute');
  await page.clock.runFor(29_000);
  await settles(() => countdown.textContent(), 'Expires in 0:31', 'the countdown goes on');
  assert.equal(await timeAnnouncer.textContent(), 'Time left to pay: 1:00');
  await page.clock.runFor(1000);
  await settles(() => timeAnnouncer.textContent(), 'Time left to pay: 0:30', 'announced at 30 seconds');
});

test('reduced motion stops the spinner, and theme="auto" follows the system', async () => {
  const page = await open(`${server.base}/`, { reducedMotion: 'reduce', colorScheme: 'dark' });
  await page.getByRole('button', { name: 'WeChat Pay' }).waitFor();
  const probe = await page.evaluate(() => {
    const host = document.querySelector('wallet-checkout');
    const spinner = document.createElement('span');
    spinner.className = 'wc-spinner';
    host.shadowRoot.querySelector('.wc-root').append(spinner);
    const animation = getComputedStyle(spinner).animationName;
    spinner.remove();
    const background = () => getComputedStyle(host.shadowRoot.querySelector('.wc-root')).backgroundColor;
    const light = background();
    host.setAttribute('theme', 'auto');
    return { animation, light, auto: background() };
  });
  assert.equal(probe.animation, 'none');
  assert.equal(probe.light, 'rgb(255, 255, 255)', 'without theme the widget is light');
  assert.equal(probe.auto, 'rgb(22, 27, 34)', 'theme="auto" turns dark with the system');
});
