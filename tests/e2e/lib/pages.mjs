// A small web server for host pages the tests write themselves (a store on another origin, a page
// with hostile CSS, the JS API). With `proxyTo`, the checkout API, the widget's files and the
// sandbox pay pages are passed through to the reference server, so the page is their origin too.
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { WIDGET_DIR as DIST } from './harness.mjs';

const PROXIED = ['/api/', '/wallet-checkout/', '/sandbox/', '/static/', '/favicon.ico'];

/**
 * `pages` maps a path to `{ html, headers }` (or to HTML alone). Answers `{ base, requests, open,
 * held, close }`; `requests` lists every proxied request as `METHOD url`. With `mocksTo` (the
 * provider mocks' address), `/mock/...` is passed to them. A proxied request for which
 * `hold(method, url)` is true is never answered (a backend that hangs); `held` lists each as
 * `{ request, at, closedAt }`, `closedAt` being when the browser let go of it (`Date.now()`).
 */
export async function startPages(pages, { proxyTo, mocksTo, port = 0, hold } = {}) {
  const requests = [];
  const held = [];
  let open = 0;
  const server = createServer((req, res) => {
    const path = req.url.split('?')[0];
    // `/mock/<provider>/...` reaches the provider mocks (`startMocks`), so their pages (PayPal's
    // approval, Alipay's cashier) are on the store's own origin, as a real wallet's are on https.
    const toMocks = mocksTo && path.startsWith('/mock/');
    if (toMocks || (proxyTo && PROXIED.some((prefix) => path.startsWith(prefix)))) {
      requests.push(`${req.method} ${req.url}`);
      open += 1;
      res.on('close', () => { open -= 1; });
      if (hold?.(req.method, req.url)) {
        const entry = { request: `${req.method} ${req.url}`, at: Date.now(), closedAt: undefined };
        held.push(entry);
        res.on('close', () => { entry.closedAt = Date.now(); });
        return;
      }
      const target = toMocks ? new URL(req.url.slice('/mock'.length), mocksTo) : new URL(req.url, proxyTo);
      const upstream = httpRequest(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
      return;
    }
    const page = pages[path];
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const { html, headers = {} } = typeof page === 'string' ? { html: page } : page;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    requests,
    /** Proxied requests still open. */
    open: () => open,
    held,
    /** Stops the server; connections a browser still holds open (keep-alive, a request it
     * abandoned) are ended rather than waited for. */
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

/**
 * A port for a store's pages, chosen before the reference server starts, so that the server can
 * be told the store's origin (`WC_ALLOWED_ORIGINS`: it sends shoppers back only to the store's
 * own pages). Pass `port` to `startPages`.
 */
export async function reserveStore() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return { port, origin: `http://127.0.0.1:${port}` };
}

/** A page with `body` and the widget's script from `scriptBase`. */
export function page(body, { scriptBase = '', head = '' } = {}) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host page</title>${head}
<script type="module" src="${scriptBase}/wallet-checkout/wallet-checkout.js"></script></head>
<body>${body}</body></html>`;
}

/**
 * The snippet's tags for the widget served under `${scriptBase}/wallet-checkout/` (from the build's
 * embed.json, as a server writes them): a preload of the module and the versioned loader, each
 * with its hash. `dist` is another build's directory.
 */
export function embedTags({ scriptBase = '', dist = DIST } = {}) {
  const embed = JSON.parse(readFileSync(join(dist, 'embed.json'), 'utf8'));
  const base = `${scriptBase}/wallet-checkout/`;
  const attributes = (tag) =>
    Object.entries(tag).map(([name, value]) => ` ${name}="${['href', 'src'].includes(name) ? base + value : value}"`).join('');
  return [...embed.links.map((link) => `<link${attributes(link)}>`), `<script${attributes(embed.script)}></script>`].join('\n');
}

/** A page with `body` and the widget embedded by its snippet (`embedTags`). */
export function snippetPage(body, { scriptBase = '', head = '', dist } = {}) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host page</title>${head}
${embedTags({ scriptBase, dist })}</head>
<body>${body}</body></html>`;
}

/** Creates an order on the reference server (the demo store's JSON route) and returns its id. */
export async function createOrder(base, item = 0) {
  const response = await fetch(`${base}/store/orders?item=${item}`, { method: 'POST' });
  if (response.status !== 201) throw new Error(`order creation failed: ${response.status}`);
  return (await response.json()).id;
}

/** Approves or declines a session on the sandbox pay page, as a shopper's phone would. */
export async function sandboxDecide(base, sessionId, decision = 'approve') {
  await fetch(`${base}/sandbox/pay/${sessionId}/${decision}`, { method: 'POST', redirect: 'manual' });
}

export async function sessionStatus(base, sessionId) {
  return (await (await fetch(`${base}/api/checkout/sessions/${sessionId}`)).json()).status;
}
