// The widget against a backend that fails and a host page that is unusual, in headless Chromium
// against the real server. Faults are injected on the contract calls with `page.route`, which
// stands between the browser and the server as a fault-injecting proxy.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, recordEvents, recordedEvents, startServer, watchForProblems } from './lib/harness.mjs';
import { createOrder, page as hostPage, reserveStore, sandboxDecide, sessionStatus, startPages } from './lib/pages.mjs';
import { scanSessionId } from './lib/qr.mjs';

let server;
/** The origin of the test pages that proxy to the server (a store in front of its backend). */
let store;
let browser;
let context;
let page;
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

beforeEach(() => {
  problems = [];
});

afterEach(async () => {
  await context?.close();
  context = undefined;
  assert.deepEqual(problems, [], 'the page logged no errors');
});

async function open(url, { initScript } = {}) {
  context = await browser.newContext({ locale: 'en-US' });
  await recordEvents(context);
  if (initScript) await context.addInitScript(initScript);
  page = await context.newPage();
  // The browser logs each injected fault as a resource that failed to load; any other error on
  // the console (a panic, for one) is a problem.
  watchForProblems(page, problems, { allowConsoleErrors: true });
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console error: ${message.text()}`);
    }
  });
  await page.goto(url);
  return page;
}

async function events(type) {
  return (await recordedEvents(page)).filter((event) => event.type === `wallet-checkout:${type}`);
}

async function showQr(wallet = 'WeChat Pay') {
  await page.getByRole('button', { name: wallet }).click();
  await page.getByTestId('qr').waitFor();
  return scanSessionId(page.locator('.wc-qr'));
}

/**
 * Answers the requests `route` matches with `faults`, one each, in order, then lets the rest
 * through to the server. A fault is an HTTP status (with optional headers), `reset` (the
 * connection is reset) or `garbage` (200 with a body that is not JSON).
 */
async function injectFaults(target, matcher, faults) {
  const left = [...faults];
  const injected = [];
  await target.route(matcher, async (route) => {
    const fault = left.shift();
    if (fault === undefined) return route.fallback();
    injected.push(fault.status ?? fault);
    if (fault === 'reset') return route.abort('connectionreset');
    if (fault === 'garbage') return route.fulfill({ status: 200, contentType: 'text/html', body: '<html>Bad gateway</html>' });
    const code = fault.status === 429 ? 'rate_limited' : 'internal';
    return route.fulfill({
      status: fault.status,
      headers: fault.headers ?? {},
      contentType: 'application/json',
      body: JSON.stringify({ error: { code, message: 'injected' } }),
    });
  });
  return injected;
}

/** Matches the plain read of a session (the one after a reload), not the waiting reads. */
function plainSessionRead(url) {
  return /\/api\/checkout\/sessions\/ses_[^/]+$/.test(url.pathname) && !url.searchParams.has('wait');
}

test('a reload while the backend fails keeps the session, and a payment made meanwhile is reported', async () => {
  await open(`${server.base}/`);
  const sessionId = await showQr();
  const injected = await injectFaults(page, plainSessionRead, [{ status: 503 }, 'reset', 'garbage', { status: 429 }, { status: 500 }]);
  await page.reload();
  await page.getByTestId('notice').getByText('Still checking your payment').waitFor();
  await page.getByRole('button', { name: 'Choose another wallet' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Alipay' }).count(), 0, 'no wallet list while the session may be paid');
  await sandboxDecide(server.base, sessionId);

  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 30_000 });
  assert.deepEqual(injected, [503, 'reset', 'garbage', 429, 500], 'every fault was met');
  const [paid] = await events('paid');
  assert.equal(paid.detail.sessionId, sessionId);
  assert.equal((await events('session-created')).length, 0, 'no second session');
  assert.equal(await page.getByTestId('notice').textContent(), '', 'the notice clears');
});

test('Retry-After is honoured when creating a session and while tracking it', async () => {
  await open(`${server.base}/`, {
    initScript: () => {
      // The host page's timers, watched: the delays the widget asks for.
      const realSetTimeout = window.setTimeout;
      window.__delays = [];
      window.setTimeout = function (callback, ms, ...rest) {
        window.__delays.push(ms);
        return realSetTimeout.call(this, callback, ms, ...rest);
      };
    },
  });
  const isCreation = (url) => url.pathname === '/api/checkout/sessions';
  const isWaitingRead = (url) => /\/api\/checkout\/sessions\/ses_[^/]+$/.test(url.pathname) && url.searchParams.has('wait');
  const created = await injectFaults(page, isCreation, [{ status: 429, headers: { 'retry-after': '3' } }]);
  const read = await injectFaults(page, isWaitingRead, [{ status: 503, headers: { 'retry-after': '6' } }]);
  const sessionId = await showQr();
  assert.deepEqual(created, [429]);
  await assertEventually(async () => read.length === 1, 'the waiting read met the 503');
  await sandboxDecide(server.base, sessionId);
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 20_000 });
  const delays = await page.evaluate(() => window.__delays);
  assert.ok(delays.includes(3_000), `the creation was retried after Retry-After: 3 (delays asked for: ${delays})`);
  assert.ok(delays.includes(6_000), `the tracker waited Retry-After: 6 (delays asked for: ${delays})`);
});

/** Matches the waiting reads of the tracker. */
function waitingRead(url) {
  return /\/api\/checkout\/sessions\/ses_[^/]+$/.test(url.pathname) && url.searchParams.has('wait');
}

/** Records when each request `matcher` matches is sent (`Date.now()`). */
function requestTimes(matcher) {
  const times = [];
  page.on('request', (request) => {
    if (matcher(new URL(request.url()))) times.push(Date.now());
  });
  return times;
}

/**
 * Regression test: after a reload, one bad answer about the remembered session made the widget
 * cancel and forget it, and a payment the shopper then made with the code they already had
 * landed on a canceled session. Each kind of bad answer is shown as a problem while the
 * session's status is still followed; only choosing another wallet cancels it.
 */
test('a bad answer about the session picked up after a reload is shown, the payment is still seen, and only choosing another wallet cancels it', async () => {
  const untrusted = 'could not be trusted';
  const cases = [
    { name: 'untrusted redirect', action: { type: 'redirect', url: 'http://evil.example/pay' }, words: untrusted },
    { name: 'javascript: URL', action: { type: 'redirect', url: 'javascript:alert(document.domain)' }, words: untrusted },
    { name: 'data: URL', action: { type: 'redirect', url: 'data:text/html,<p>Pay here</p>' }, words: untrusted },
    { name: 'QR payload too long', action: { type: 'qr', payload: `https://pay.example/${'x'.repeat(3_000)}` }, words: 'QR code is too long' },
    { name: 'unknown action', action: { type: 'app_sdk', token: 'x' }, words: 'cannot be shown here' },
    { name: 'malformed body', garbage: true, words: 'unexpected answer' },
    { name: 'javascript: URL, then another wallet', action: { type: 'redirect', url: 'javascript:alert(1)' }, words: untrusted, chooseAnother: true },
  ];
  for (const { name, action, garbage, words, chooseAnother } of cases) {
    await open(`${server.base}/`);
    const cancels = requestTimes((url) => url.pathname.endsWith('/cancel'));
    const sessionId = await showQr();
    let broken = 0;
    await page.route(plainSessionRead, async (route) => {
      if (broken++) return route.fallback();
      if (garbage) return route.fulfill({ status: 200, contentType: 'text/html', body: '<html>Bad gateway</html>' });
      const answer = await route.fetch();
      const session = await answer.json();
      assert.equal(session.id, sessionId);
      return route.fulfill({ response: answer, json: { ...session, next_action: action } });
    });
    await page.reload();
    // (The screen's text, or the notice; the live region repeats the former.)
    await page.getByText(words).first().waitFor();
    // A cancel would have been sent with the step that showed the problem.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(cancels.length, 0, `${name}: the session was canceled on one bad answer`);
    await page.getByRole('button', { name: 'Choose another wallet' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Alipay' }).count(), 0, `${name}: no wallet list while the session may be paid`);
    if (chooseAnother) {
      await page.getByRole('button', { name: 'Choose another wallet' }).click();
      await page.getByRole('button', { name: 'Alipay' }).waitFor();
      await assertEventually(async () => (await sessionStatus(server.base, sessionId)) === 'canceled', `${name}: the shopper's choice cancels it`);
    } else {
      await sandboxDecide(server.base, sessionId);
      await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 30_000 });
      const [paid] = await events('paid');
      assert.equal(paid?.detail.sessionId, sessionId, name);
      assert.equal(cancels.length, 0, `${name}: never canceled`);
    }
    assert.equal((await events('session-created')).length, 0, `${name}: no second session`);
    await context.close();
    context = undefined;
  }
});

/**
 * After a reload, the order, the remembered session and the waiting reads that follow it each
 * meet one busy answer (`Retry-After: 3`), and each waits as long as it asks before trying again.
 */
test('Retry-After is honoured by every read after a reload', async () => {
  await open(`${server.base}/`);
  const sessionId = await showQr();
  const orderRead = (url) => url.pathname.startsWith('/api/checkout/orders/');
  const busy = (status) => [{ status, headers: { 'retry-after': '3' } }];
  const times = { order: requestTimes(orderRead), session: requestTimes(plainSessionRead), waiting: requestTimes(waitingRead) };
  const met = {
    order: await injectFaults(page, orderRead, busy(503)),
    session: await injectFaults(page, plainSessionRead, busy(429)),
    waiting: await injectFaults(page, waitingRead, busy(503)),
  };
  for (const list of Object.values(times)) list.length = 0;
  await page.reload();
  await assertEventually(async () => times.waiting.length >= 2, 'the tracker read again after its busy answer', 20_000);
  await sandboxDecide(server.base, sessionId);
  await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 20_000 });
  for (const [read, list] of Object.entries(times)) {
    assert.deepEqual(met[read], [read === 'session' ? 429 : 503], `the ${read} read met its busy answer`);
    const pause = list[1] - list[0];
    assert.ok(pause >= 2_500, `the ${read} read was tried again ${pause} ms after Retry-After: 3`);
  }
});

/**
 * Regression test: a cancel that hung was never aborted (Chromium does not abort a `keepalive`
 * request: its promise is rejected, its connection stays open), and was tried again three times
 * while it was open, so hung requests could take every connection the browser opens to the
 * backend, the waiting read's too. The first request of each kind hangs here, at a proxy in front
 * of the server (`page.route` cannot tell whether the browser really let go of a request).
 */
test('a request that hangs is aborted at its deadline before it is tried again, whatever its kind', async () => {
  const order = await createOrder(server.base);
  // [name, method, path, whether it is tried again (a report is sent once)]
  const kinds = [
    ['the order read', 'GET', /^\/api\/checkout\/orders\//, true],
    ['the report of the wallets shown', 'POST', /^\/api\/checkout\/steps$/, false],
    ['the session creation', 'POST', /^\/api\/checkout\/sessions$/, true],
    ['the cancel', 'POST', /^\/api\/checkout\/sessions\/[^/]+\/cancel$/, true],
  ];
  const sent = kinds.map(() => []);
  const hold = (method, url) => {
    const kind = kinds.findIndex(([, m, path]) => m === method && path.test(url.split('?')[0]));
    if (kind < 0) return false;
    sent[kind].push(Date.now());
    return sent[kind].length === 1;
  };
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`),
  }, { proxyTo: server.base, port: store.port, hold });
  try {
    await open(`${pages.base}/`);
    await page.getByRole('button', { name: 'WeChat Pay' }).waitFor({ timeout: 20_000 });
    const abandoned = await showQr();
    await page.getByRole('button', { name: 'Choose another wallet' }).click();
    await page.getByRole('button', { name: 'Alipay' }).waitFor();
    await assertEventually(async () => (await sessionStatus(server.base, abandoned)) === 'canceled', 'the cancel was tried again and reached the server', 20_000);
    // The waiting read of the next session still gets through.
    const sessionId = await showQr('Alipay');
    await sandboxDecide(server.base, sessionId);
    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
    assert.equal(pages.held.length, kinds.length, 'every kind of request met a hang');
    const faults = [];
    for (const held of pages.held) {
      const kind = kinds.findIndex(([, m, path]) => held.request.startsWith(`${m} `) && path.test(held.request.split(' ')[1].split('?')[0]));
      const [name, , , retried] = kinds[kind];
      if (held.closedAt === undefined) faults.push(`${name} that hung was never aborted`);
      else if (held.closedAt - held.at > 15_000) faults.push(`${name} that hung was aborted after ${held.closedAt - held.at} ms`);
      if (retried && !(sent[kind][1] >= held.closedAt)) faults.push(`${name} was tried again while the one that hung was open`);
    }
    assert.deepEqual(faults, [], 'each request that hung was aborted at its 10 s deadline, before it was tried again');
  } finally {
    await pages.close();
  }
});

/**
 * A request that must outlive the page (a cancel, a report) is sent as an ordinary one, so that
 * its deadline can abort it, and again with `keepalive` when the page is left while it is under
 * way: a shopper who chooses another wallet and leaves at once still has the session canceled.
 */
test('a cancel under way when the shopper leaves the page still reaches the server', async () => {
  const order = await createOrder(server.base);
  let cancels = 0;
  const hold = (method, url) => method === 'POST' && url.endsWith('/cancel') && ++cancels === 1;
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`),
    '/elsewhere': hostPage('<p>Another page</p>'),
  }, { proxyTo: server.base, port: store.port, hold });
  try {
    await open(`${pages.base}/`);
    const abandoned = await showQr();
    await page.getByRole('button', { name: 'Choose another wallet' }).click();
    await assertEventually(async () => pages.held.length === 1, 'the cancel went out');
    await page.goto(`${pages.base}/elsewhere`);
    await assertEventually(async () => (await sessionStatus(server.base, abandoned)) === 'canceled', 'the cancel reached the server after the page was left');
  } finally {
    await pages.close();
  }
});

/**
 * A host page whose timer functions return handles that are not small integers: ids above 2^31
 * and objects (as fake-timer libraries and some frameworks' zones do). It counts the timers still
 * running and the clears that named no timer it handed out.
 */
const ODD_TIMERS = `<script>
  (() => {
    const real = Object.fromEntries(['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'requestAnimationFrame']
      .map((name) => [name, window[name].bind(window)]));
    const timers = new Map();
    let count = 0;
    window.__timers = { intervals: 0, unknownClears: 0 };
    const handle = () => (++count % 2 ? 2 ** 31 + 1000 + count : { timer: count });
    window.setTimeout = (callback, ms, ...rest) => {
      const h = handle();
      timers.set(h, real.setTimeout(() => { timers.delete(h); typeof callback === 'function' && callback(...rest); }, ms));
      return h;
    };
    window.clearTimeout = (h) => {
      if (h === undefined || h === null) return;
      if (!timers.has(h)) { window.__timers.unknownClears += 1; return; }
      real.clearTimeout(timers.get(h));
      timers.delete(h);
    };
    window.setInterval = (callback, ms, ...rest) => {
      const h = handle();
      timers.set(h, real.setInterval(callback, ms, ...rest));
      window.__timers.intervals += 1;
      return h;
    };
    window.clearInterval = (h) => {
      if (h === undefined || h === null) return;
      if (!timers.has(h)) { window.__timers.unknownClears += 1; return; }
      real.clearInterval(timers.get(h));
      timers.delete(h);
      window.__timers.intervals -= 1;
    };
    window.requestAnimationFrame = (callback) => { real.requestAnimationFrame(callback); return { frame: ++count }; };
  })();
</script>`;

test('a host page whose timers return ids above 2^31 or objects runs the whole payment', async () => {
  const order = await createOrder(server.base);
  const pages = await startPages({
    '/': hostPage(`<wallet-checkout endpoint="/api/checkout" order="${order}" locale="en"></wallet-checkout>`, { head: ODD_TIMERS }),
  }, { proxyTo: server.base, port: store.port });
  try {
    await open(`${pages.base}/`);
    await showQr();
    assert.equal(await page.evaluate(() => window.__timers.intervals), 1, 'the countdown runs');
    await page.getByRole('button', { name: 'Choose another wallet' }).click();
    await page.getByRole('button', { name: 'Alipay' }).waitFor();
    await assertEventually(async () => (await page.evaluate(() => window.__timers.intervals)) === 0, 'the countdown stopped');
    const sessionId = await showQr('Alipay');
    await sandboxDecide(server.base, sessionId);
    await page.getByRole('heading', { name: 'Payment received' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => window.__timers), { intervals: 0, unknownClears: 0 }, 'every timer was cleared by its own handle');
  } finally {
    await pages.close();
  }
});

async function assertEventually(check, message, timeout = 5_000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(message);
}
