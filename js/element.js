// The <wallet-checkout> element class. wasm-bindgen cannot subclass HTMLElement, so this small
// class forwards the element's life cycle to Rust: `connect(element)` mounts a widget and returns
// its handle, `refresh()` re-reads the attributes, `free()` unmounts it and stops its work.
export function defineElement(name, observed, connect) {
  if (customElements.get(name)) return false;
  customElements.define(name, class extends HTMLElement {
    static get observedAttributes() {
      return observed;
    }

    connectedCallback() {
      if (!this._widget) this._widget = connect(this);
    }

    disconnectedCallback() {
      this._widget?.free();
      this._widget = undefined;
    }

    attributeChangedCallback(_name, oldValue, newValue) {
      if (oldValue === newValue || !this._widget || this._refreshQueued) return;
      // Several attributes set in a row cause one refresh.
      this._refreshQueued = true;
      queueMicrotask(() => {
        this._refreshQueued = false;
        this._widget?.refresh();
      });
    }
  });
  return true;
}

// The order reads the loader began before the module ran (js/wallet-checkout.js): element ->
// { url, response, abort }. A widget takes its element's read once, for its first read of the
// order, if the read is for the URL it would ask for; a read for another URL (the attributes
// changed meanwhile) is aborted and not used.
export function takeBegunRead(host, url, signal) {
  const reads = globalThis.__walletCheckoutReads;
  const read = reads?.get(host);
  if (!read) return undefined;
  reads.delete(host);
  if (read.url !== url) {
    read.abort();
    return undefined;
  }
  signal.addEventListener('abort', read.abort);
  return read.response;
}

// [file next to this script, its SRI hash] of the locale manifest (locale tag -> [file, SRI hash]
// of every locale but English), filled in by scripts/bundle.mjs; empty in a development build,
// where every locale but English falls back to English. The manifest is a file of its own, so a
// page in English loads none of it.
const LOCALES = [/* LOCALES */];
// A locale file's or the manifest's deadline, as the widget's own requests have.
const LOCALE_TIMEOUT_MS = 10_000;
let manifest;

function fetchChecked([file, integrity]) {
  const url = new URL(file, import.meta.url);
  return fetch(url, { integrity, credentials: 'same-origin', signal: AbortSignal.timeout(LOCALE_TIMEOUT_MS) })
    .then((response) => (response.ok ? response : Promise.reject(new Error(`${url}: ${response.status}`))));
}

/** Begins reading the locale manifest (once; again after a failure). */
export function loadLocales() {
  manifest ??= Promise.resolve(LOCALES)
    .then((locales) => (locales.length ? fetchChecked(locales).then((response) => response.json()) : {}))
    .catch(() => {
      manifest = undefined;
      return {};
    });
  return manifest;
}

/** The JSON text of locale `tag`'s file, checked against its hash; undefined if there is none. */
export function localeText(tag) {
  return loadLocales()
    .then((files) => files[tag] && fetchChecked(files[tag]).then((response) => response.text()))
    .catch(() => undefined);
}
