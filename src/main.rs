//! The shipped bundle: registers the `<wallet-checkout>` element when the page loads the module.

fn main() {
    wallet_checkout::register();
}
