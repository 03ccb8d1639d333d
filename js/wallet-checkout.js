// wallet-checkout: the one script a page includes. It loads the WebAssembly module from next to
// this file (so a CDN works); the module then defines the <wallet-checkout> element.
import init from './wallet-checkout-core.js';

init().catch((error) => console.error('wallet-checkout: the module failed to load', error));
