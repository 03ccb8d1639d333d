// The console's daily work in headless Chromium: an operator finds a paid order by its reference,
// refunds part of it through the confirmation page and sees the refund on the order page, and
// downloads the list as CSV; an admin makes an API key (its secret shown once) and revokes it, and
// sends a failed webhook delivery again; every page and state is free of axe violations in both
// languages on a desktop and a phone, and the forms work by keyboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { consoleSuite, createStaff, screenProblems, serverCommand, setLanguage, signIn } from './lib/console.mjs';

let apiKey;
let made = 0;

// One attempt per delivery, so that a failure is final at once; the receiver is on loopback.
const suite = consoleSuite(
  { WC_WEBHOOK_MAX_ATTEMPTS: '1', WC_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8' },
  { acceptDownloads: true },
);
const { newPage } = suite;

/** The merchant backend's API key, made with the command line on first use. */
function backendKey() {
  if (!apiKey) {
    const output = serverCommand(suite.server, ['keys', 'create', '--name', 'e2e backend', '--role', 'operator']);
    apiKey = /sk_test_\w+/.exec(output)[0];
  }
  return apiKey;
}

async function api(method, path, body, headers = {}) {
  const response = await fetch(`${suite.server.base}${path}`, {
    method,
    headers: { authorization: `Bearer ${backendKey()}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return response.json();
}

/** An order of CNY 129.00 with `reference`, paid with the sandbox's WeChat Pay: its id. */
async function paidOrder(reference) {
  const order = await api('POST', '/api/v1/orders', {
    amount: { minor_units: 12900, currency: 'CNY' },
    description: 'Celadon tea cup',
    reference,
  });
  made += 1;
  const session = await api(
    'POST',
    '/api/checkout/sessions',
    { order_id: order.id, wallet_id: 'wechat_pay', return_url: `${suite.server.base}/store/orders/${order.id}`, device: 'desktop' },
    { 'idempotency-key': `e2e-${process.pid}-${made}` },
  );
  const approved = await fetch(`${suite.server.base}/sandbox/pay/${session.id}/approve`, { method: 'POST' });
  assert.equal(approved.status, 200);
  return order.id;
}

test('an operator finds a paid order by its reference, refunds part of it after confirming, and downloads the list', async () => {
  const reference = `TEA-${process.pid}-1`;
  const orderId = await paidOrder(reference);
  const operator = createStaff(suite.server, 'operator', 'Ana Operator');
  const { page, problems } = await newPage();
  await signIn(page, suite.server.base, operator);
  await page.getByRole('navigation').getByRole('link', { name: 'Orders' }).click();
  await page.getByLabel('Order id or reference').fill(reference);
  await page.getByLabel('Order status').selectOption('paid');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/status=paid/);
  assert.match(page.url(), new RegExp(`q=${reference}`), 'the search is in the link');
  const rows = page.getByTestId('order-row');
  assert.equal(await rows.count(), 1);

  // The CSV of the same search.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv').click()]);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split('\r\n');
  assert.equal(lines.length, 2, csv);
  assert.ok(lines[1].startsWith(`${orderId},${reference},Celadon tea cup,paid,129.00,CNY,0.00,wechat_pay,`), csv);

  await rows.getByRole('link', { name: orderId }).click();
  await page.getByRole('heading', { name: `Order ${orderId}` }).waitFor();
  await page.getByLabel(/Amount in CNY/).fill('29.50');
  await page.getByLabel(/Reason/).fill('Chipped rim');
  await page.getByRole('button', { name: 'Review the refund' }).click();
  const question = await page.getByTestId('confirm-question').textContent();
  assert.equal(question, 'Refund CNY 29.50 of CNY 129.00 to WeChat Pay? Reason: Chipped rim');
  await page.getByRole('button', { name: 'Confirm the refund' }).click();
  assert.equal(await page.getByTestId('notice').textContent(), 'CNY 29.50 was refunded.');
  const refund = page.getByTestId('refund-row');
  assert.equal(await refund.count(), 1);
  assert.match(await refund.textContent(), /CNY 29\.50.*Chipped rim.*refunded/);
  // Reloaded from the store, the order page says the same, with what is left.
  await page.goto(`${suite.server.base}/console/orders/${orderId}`);
  assert.equal(await page.getByTestId('refund-row').count(), 1);
  await page.getByText('Up to CNY 99.50 can be given back').waitFor();
  assert.deepEqual(problems, []);
});

test('an admin makes an API key whose secret is shown once, then revokes it after confirming', async () => {
  const admin = createStaff(suite.server, 'admin', 'Li Wei');
  const { page, problems } = await newPage();
  await signIn(page, suite.server.base, admin);
  await page.getByRole('navigation').getByRole('link', { name: 'API keys' }).click();
  await page.getByLabel('Name').fill('Warehouse');
  await page.getByLabel('Role').selectOption('viewer');
  await page.getByRole('button', { name: 'Make the key' }).click();
  const secret = (await page.locator('#new-key-secret').textContent()).trim();
  assert.match(secret, /^sk_test_\w{32}$/);
  await page.getByRole('button', { name: 'Copy' }).waitFor();
  const works = await fetch(`${suite.server.base}/api/v1/reports/transactions`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(works.status, 200);
  await page.goto(`${suite.server.base}/console/keys`);
  assert.equal(await page.locator('#new-key-secret').count(), 0, 'never shown again');
  assert.ok(!(await page.content()).includes(secret));

  const row = page.getByTestId('key-row').filter({ hasText: 'Warehouse' });
  await row.getByRole('button', { name: /Revoke Warehouse/ }).click();
  assert.match(await page.getByTestId('confirm-question').textContent(), /Revoke the key Warehouse/);
  await page.getByRole('button', { name: 'Revoke the key' }).click();
  assert.equal(await page.getByTestId('notice').textContent(), 'The key Warehouse is revoked.');
  assert.match(await page.getByTestId('key-row').filter({ hasText: 'Warehouse' }).textContent(), /revoked/);
  const refused = await fetch(`${suite.server.base}/api/v1/reports/transactions`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(refused.status, 401);
  assert.deepEqual(problems, []);
});

test('an admin sends a failed webhook delivery again and it is delivered', async () => {
  let answer = 500;
  const received = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push(JSON.parse(body).id);
      response.writeHead(answer).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  try {
    const admin = createStaff(suite.server, 'admin');
    const { page, problems } = await newPage();
    await signIn(page, suite.server.base, admin);
    await page.goto(`${suite.server.base}/console/webhooks`);
    await page.getByLabel('Endpoint URL').fill(`http://127.0.0.1:${receiver.address().port}/hooks`);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('new-secret').waitFor();

    await paidOrder(`HOOK-${process.pid}`);
    const failed = page.getByTestId('delivery').filter({ hasText: 'Your endpoint answered with HTTP status 500.' }).first();
    for (let tries = 0; (await failed.count()) === 0; tries += 1) {
      assert.ok(tries < 100, 'a delivery fails');
      await page.waitForTimeout(200);
      await page.reload();
    }
    const eventId = (await failed.locator('code').first().textContent()).trim();
    answer = 200;
    await failed.getByRole('button', { name: `Send again: event ${eventId}` }).click();
    assert.match(await page.getByTestId('notice').textContent(), /will be sent again/);
    const delivered = page.getByTestId('delivery').filter({ hasText: eventId }).filter({ hasText: 'delivered' });
    for (let tries = 0; (await delivered.count()) === 0; tries += 1) {
      assert.ok(tries < 100, 'the event is delivered');
      await page.waitForTimeout(200);
      await page.reload();
    }
    assert.equal(received.filter((id) => id === eventId).length, 2, 'sent once, failed, and sent again');
    assert.deepEqual(problems, []);
  } finally {
    receiver.close();
  }
});

test('the forms work by keyboard: search, refund and confirm', async () => {
  const reference = `KEY-${process.pid}`;
  const orderId = await paidOrder(reference);
  const operator = createStaff(suite.server, 'operator');
  const { page } = await newPage();
  await signIn(page, suite.server.base, operator);
  await page.goto(`${suite.server.base}/console/orders`);
  await page.getByLabel('Order id or reference').focus();
  await page.keyboard.type(reference);
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=KEY-/);
  await page.getByRole('link', { name: orderId }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: `Order ${orderId}` }).waitFor();
  await page.getByLabel(/Amount in CNY/).focus();
  await page.keyboard.type('1');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'refund-reason', 'the reason comes next');
  await page.keyboard.type('Goodwill');
  await page.keyboard.press('Enter');
  await page.getByTestId('confirm-question').waitFor();
  // The confirm button is the first control of the page's content after the question.
  await page.locator('#main').focus();
  let focused = '';
  for (let tries = 0; focused !== 'Confirm the refund' && tries < 5; tries += 1) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement.textContent);
  }
  assert.equal(focused, 'Confirm the refund');
  await page.keyboard.press('Enter');
  assert.equal(await page.getByTestId('notice').textContent(), 'CNY 1.00 was refunded.');
});

test('every page and state of the daily work is free of axe violations, in both languages, on a desktop and a phone', async () => {
  const orderId = await paidOrder(`AXE-${process.pid}`);
  const admin = createStaff(suite.server, 'admin');
  const { page } = await newPage();
  await signIn(page, suite.server.base, admin);
  const found = [];
  for (const lang of ['en', 'zh-CN']) {
    await setLanguage(page, suite.server.base, lang);
    const check = async (state) => found.push(...(await screenProblems(page, `${state} ${lang}`)));
    for (const path of [
      '/console/orders',
      '/console/orders?status=paid&wallet=wechat_pay',
      '/console/orders?amount=12.345&currency=CNY',
      '/console/orders?q=nothing-like-this',
      `/console/orders/${orderId}`,
      '/console/keys',
      '/console/webhooks',
      '/console/audit',
      '/console/audit?from=yesterday',
    ]) {
      await page.goto(`${suite.server.base}${path}`);
      await check(path);
    }
    // The refund's states: refused, asked, done.
    await page.goto(`${suite.server.base}/console/orders/${orderId}`);
    await page.locator('#refund-amount').fill('500');
    await page.locator('#refund-reason').fill('Too much');
    await page.locator('form[data-testid="refund-form"] button').click();
    await page.getByTestId('problem').waitFor();
    await check('refund refused');
    await page.locator('#refund-amount').fill('0.01');
    await page.locator('form[data-testid="refund-form"] button').click();
    await page.getByTestId('confirm-question').waitFor();
    await check('refund confirmation');
    await page.locator('form button[type="submit"]').last().click();
    await page.getByTestId('notice').waitFor();
    await check('refund done');
    // A key made (its secret shown) and the question before revoking it.
    await page.goto(`${suite.server.base}/console/keys`);
    await page.locator('#key-name').fill(`Axe ${lang}`);
    await page.locator('form[action="/console/keys"] button').click();
    await page.getByTestId('new-secret').waitFor();
    await check('key made');
    await page.getByTestId('key-row').last().locator('button').click();
    await page.getByTestId('confirm-question').waitFor();
    await check('key revoke question');
  }
  assert.deepEqual(found, []);
});
