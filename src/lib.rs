//! wallet-checkout: an embeddable wallet checkout widget, the `<wallet-checkout>` custom element.
//!
//! The shopper picks a wallet the merchant's backend offers, pays by QR code or by a redirect to
//! the wallet, and the widget tracks the session's status through the backend until it is final.
//! The backend contract lives in the `wallet-checkout-contract` crate.

pub mod answers;
pub mod api;
pub mod browser;
pub mod checkout;
pub mod components;
pub mod config;
pub mod dom;
pub mod element;
pub mod error;
pub mod events;
pub mod flow;
pub mod i18n;
pub mod json;
pub mod qr;
pub mod screen;
pub mod storage;
pub mod text;
pub mod tracker;
pub mod trust;

pub use element::Widget;

/// Registers the `<wallet-checkout>` element. Panics (which should never happen) are reported on
/// the console.
pub fn register() {
    console_error_panic_hook::set_once();
    element::define();
}
