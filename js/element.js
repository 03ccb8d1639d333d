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
