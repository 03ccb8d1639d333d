// wallet-checkout: the one script a page includes. It defines the <wallet-checkout> element and
// the WalletCheckout JS API. scripts/bundle.mjs puts wasm-bindgen's glue (with the element class,
// js/element.js) in front of this file, which is where `__wbg_init` and `loadLocales` below come
// from. The WebAssembly module sits next to this file (a CDN works) and is fetched with the
// SHA-384 hash the build fills in, while the order of each <wallet-checkout> already in the page
// is read. Loading this script twice is harmless.

const WASM_FILE = './__WASM_FILE__';
const WASM_INTEGRITY = '__WASM_INTEGRITY__';
const TAG = 'wallet-checkout';

// Order reads begun here, by element, for the widget to take over (`takeBegunRead` in
// js/element.js): the order is read while the module downloads instead of after it runs.
const reads = (globalThis.__walletCheckoutReads ??= new WeakMap());

/**
 * Begins `GET {endpoint}/orders/{order}` for `element` as the widget would send it, if its
 * attributes are usable (the widget checks them again, explains bad ones, and asks anew when the
 * URL is not the one it would ask for).
 */
function beginOrderRead(element) {
  const endpoint = element.getAttribute('endpoint')?.trim();
  const order = element.getAttribute('order')?.trim() ?? '';
  if (!endpoint || /[?#\s]/.test(endpoint) || !/^[\w-]{1,64}$/.test(order) || reads.has(element)) return;
  let url;
  try {
    url = new URL(endpoint, document.baseURI);
  } catch {
    return;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return;
  url = `${url.href.replace(/\/+$/, '')}/orders/${order}`;
  const controller = new AbortController();
  const response = fetch(url, { headers: { Accept: 'application/json' }, signal: controller.signal });
  // Its failure is the widget's to handle, not an unhandled rejection.
  response.catch(() => {});
  reads.set(element, { url, response, abort: () => controller.abort() });
}

function start() {
  const elements = document.querySelectorAll(TAG);
  for (const element of elements) beginOrderRead(element);
  // A page likely not in English needs the locale manifest (`loadLocales` in js/element.js): it
  // is read while the module downloads. A guess; the widget decides the locale.
  const english = (tag) => /^en\b/i.test(tag);
  if (!english(navigator.language) || [...elements].some((element) => !english(element.getAttribute('locale') ?? 'en'))) {
    loadLocales();
  }
  // A `<link rel="preload">` of the module with the same hash (the snippet's) is taken over.
  const module = fetch(new URL(WASM_FILE, import.meta.url), { integrity: WASM_INTEGRITY, credentials: 'same-origin' });
  return __wbg_init(module);
}

const ready = globalThis.__walletCheckoutReady ??= start();
ready.catch((error) => console.error('wallet-checkout: the module failed to load', error));

/**
 * Mounts a checkout into `target` (an element or a CSS selector) and returns a handle.
 * `options`: `endpoint` and `order` (required), `locale`, `theme`, and event handlers named
 * `onReady`, `onWalletSelected`, `onSessionCreated`, `onStatus`, `onPaid`, `onFailed`,
 * `onExpired`, `onCanceled`, `onError`, each called with the event's `detail`.
 */
export function mount(target, options = {}) {
  const parent = typeof target === 'string' ? document.querySelector(target) : target;
  if (!(parent instanceof Element)) {
    throw new TypeError(`WalletCheckout.mount: no element matches ${String(target)}`);
  }
  const element = document.createElement(TAG);
  const listeners = [];
  const apply = (next) => {
    for (const name of ['endpoint', 'order', 'locale', 'theme']) {
      if (next[name] === undefined) continue;
      if (next[name] === null) element.removeAttribute(name);
      else element.setAttribute(name, String(next[name]));
    }
    for (const [key, handler] of Object.entries(next)) {
      const match = /^on([A-Z][A-Za-z]*)$/.exec(key);
      if (!match || typeof handler !== 'function') continue;
      const type = `wallet-checkout:${match[1].replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase())}`;
      const listener = (event) => handler(event.detail, event);
      element.addEventListener(type, listener);
      listeners.push([type, listener]);
    }
  };
  apply(options);
  beginOrderRead(element);
  parent.append(element);
  return {
    element,
    /** Changes options (attributes or more handlers); the widget follows. */
    update: apply,
    /** Removes the widget: every timer and request stops. */
    destroy() {
      for (const [type, listener] of listeners.splice(0)) element.removeEventListener(type, listener);
      element.remove();
    },
  };
}

/** Resolves once the module is loaded and `<wallet-checkout>` is defined. */
export function whenReady() {
  return ready.then(() => customElements.whenDefined(TAG));
}

globalThis.WalletCheckout ??= Object.freeze({ mount, whenReady });
