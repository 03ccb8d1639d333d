//! The shipped bundle: sets up the module when the page loads it. The `<wallet-checkout>` element
//! class lives in `js/wallet-checkout.js`, which calls the exported `Widget`.

fn main() {
    wallet_checkout::start();
}
