// Starts the real reference server on a free port with a fresh data directory, and headless
// Chromium (Debian's) through playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = resolve(import.meta.dirname, '../../..');
const SERVER_BIN = resolve(process.env.SERVER_BIN ?? join(ROOT, 'target/release/wallet-checkout-server'));
/** The built widget the server serves: `make widget`'s, or another build's copy (`WIDGET_DIR`). */
export const WIDGET_DIR = resolve(process.env.WIDGET_DIR ?? join(ROOT, 'dist/wallet-checkout'));

/** Starts the server; resolves once it listens. `env` adds environment variables. */
export async function startServer(env = {}) {
  const dataDir = env.WC_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'wc-e2e-'));
  const child = spawn(SERVER_BIN, [], {
    cwd: ROOT,
    env: {
      ...process.env,
      WC_BIND: '127.0.0.1:0',
      WC_DATA_DIR: dataDir,
      WC_WIDGET_DIR: WIDGET_DIR,
      NO_COLOR: '1',
      RUST_LOG: process.env.RUST_LOG ?? 'info',
      // The suite creates sessions faster than a shopper would; the limit has its own tests.
      WC_SESSION_RATE_PER_MINUTE: '0',
      // No demo admin: the console tests make the staff they need (its own test is the server's).
      WC_DEMO_ADMIN: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const base = await new Promise((resolveBase, reject) => {
    const onData = (chunk) => {
      log += chunk;
      const match = /listening address=(\S+)/.exec(log.replace(/\x1b\[[0-9;]*m/g, ''));
      if (match) resolveBase(`http://${match[1]}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
    // Unreferenced: a pending deadline must not keep the test file's process alive once it started.
    setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 20_000).unref();
  });
  return {
    base,
    dataDir,
    /** The variables the server was started with (for its command line against the same data). */
    env,
    log: () => log,
    async stop({ keepData = false } = {}) {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (!keepData && !env.WC_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const MOCKS_BIN = resolve(process.env.MOCKS_BIN ?? join(ROOT, 'target/release/provider-mocks'));

/**
 * Starts the wallet provider mocks (`mocks/`: WeChat Pay, Alipay and PayPal as their APIs speak,
 * with keys made at start) on one port. `base` is where the server and the browser reach them
 * (a store's proxy in front, say); default their own address. Resolves to `{ address, base,
 * config, stop }`, `config` being a configuration file for the server that points at them.
 */
export async function startMocks({ base } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'wc-mocks-'));
  const args = ['--dir', dir, ...(base ? ['--base', base] : [])];
  const child = spawn(MOCKS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const info = await new Promise((resolveInfo, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolveInfo(JSON.parse(line));
    });
    child.stderr.on('data', (chunk) => { out += chunk; });
    child.on('exit', (code) => reject(new Error(`provider mocks exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`provider mocks did not start:\n${out}`)), 20_000).unref();
  });
  return {
    ...info,
    dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Launches headless Chromium with the flags this machine's closed network needs: Debian's
 * headless shell (the same Blink and V8 without the browser around them, as Playwright runs
 * headless by default; a new page costs a third of the CPU), or with `{ full: true }` the whole
 * browser, which the benchmarks time as a shopper's. `CHROMIUM` names another executable.
 */
export async function launchBrowser({ full = false } = {}) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'wc-chromium-'));
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? (full ? '/usr/bin/chromium' : '/usr/bin/chromium-headless-shell'),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    rmSync(userDataDir, { recursive: true, force: true });
  };
  return browser;
}

/** Collects the page's uncaught errors (and console errors unless allowed) into `problems`. */
export function watchForProblems(page, problems, { allowConsoleErrors = false } = {}) {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !allowConsoleErrors) problems.push(`console error: ${message.text()}`);
  });
}

/** Records every `wallet-checkout:*` event the page receives, in `window.__walletCheckoutEvents`. */
export async function recordEvents(context) {
  await context.addInitScript(() => {
    window.__walletCheckoutEvents = [];
    const names = ['ready', 'wallet-selected', 'session-created', 'status', 'paid', 'failed', 'expired', 'canceled', 'error'];
    for (const name of names) {
      document.addEventListener(`wallet-checkout:${name}`, (event) => {
        window.__walletCheckoutEvents.push({ type: event.type, detail: event.detail, composed: event.composed, bubbles: event.bubbles });
      });
    }
  });
}

export function recordedEvents(page) {
  return page.evaluate(() => window.__walletCheckoutEvents);
}
