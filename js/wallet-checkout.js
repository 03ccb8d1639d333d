// wallet-checkout: the one script a page includes. It defines the <wallet-checkout> element and
// the WalletCheckout JS API. The WebAssembly module and its glue sit next to this file (a CDN
// works); both are fetched in parallel and checked against the SHA-384 hashes below, which the
// build fills in. Loading this script twice is harmless.

const CORE_FILE = './__CORE_FILE__';
const CORE_INTEGRITY = '__CORE_INTEGRITY__';
const WASM_FILE = './__WASM_FILE__';
const WASM_INTEGRITY = '__WASM_INTEGRITY__';

const coreUrl = new URL(CORE_FILE, import.meta.url).href;
const wasmUrl = new URL(WASM_FILE, import.meta.url).href;

function start() {
  // The glue is imported through a modulepreload that carries its hash: the import below reuses
  // that checked fetch.
  if (!document.querySelector(`link[rel="modulepreload"][href="${coreUrl}"]`)) {
    const preload = document.createElement('link');
    preload.rel = 'modulepreload';
    preload.href = coreUrl;
    preload.integrity = CORE_INTEGRITY;
    preload.crossOrigin = 'anonymous';
    document.head.append(preload);
  }
  const module = fetch(wasmUrl, { integrity: WASM_INTEGRITY, credentials: 'same-origin' });
  return import(coreUrl).then(({ default: init }) => init({ module_or_path: module }));
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
  const element = document.createElement('wallet-checkout');
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
  return ready.then(() => customElements.whenDefined('wallet-checkout'));
}

globalThis.WalletCheckout ??= Object.freeze({ mount, whenReady });
