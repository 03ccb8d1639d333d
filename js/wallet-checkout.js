// wallet-checkout: the one script a page includes. It loads the WebAssembly module (next to this
// file, so a CDN works) and defines the <wallet-checkout> element, whose work is done in Rust.
// Including it twice is harmless: the element is defined once.
import init, { Widget } from './wallet-checkout-core.js';

const ready = init();

const OBSERVED = ['endpoint', 'order', 'locale'];

class WalletCheckoutElement extends HTMLElement {
  static get observedAttributes() {
    return OBSERVED;
  }

  connectedCallback() {
    ready.then(() => {
      if (this.isConnected && !this._widget) this._widget = Widget.connect(this);
    }, (error) => console.error('wallet-checkout: the module failed to load', error));
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
}

if (!customElements.get('wallet-checkout')) {
  customElements.define('wallet-checkout', WalletCheckoutElement);
}
