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

// Locale tag -> [file next to this script, its SRI hash], filled in by scripts/bundle.mjs. Empty
// in a development build, where every locale but English falls back to English.
const LOCALE_FILES = {/* LOCALE_FILES */};

export function localeUrl(tag) {
  const entry = LOCALE_FILES[tag];
  return entry ? new URL(entry[0], import.meta.url).href : undefined;
}

export function localeIntegrity(tag) {
  return LOCALE_FILES[tag]?.[1];
}
