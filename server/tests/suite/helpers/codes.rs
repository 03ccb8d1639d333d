//! What the tests of scanned payment codes share: a code payment of CNY 23.50 at a till, and the
//! reference the payments layer asks a provider about it with.

use wallet_checkout_contract::{Amount, Currency, SessionId, WalletId};
use wallet_checkout_server::providers::{CodePayment, PaymentRef, ProviderRefs};

/// The amount every code payment of these tests is for.
pub fn amount() -> Amount {
    Amount::new(2_350, Currency::parse("CNY").unwrap()).unwrap()
}

/// A code payment of `amount()` at shop `SZ0012`, till `POS-01`.
pub fn payment<'a>(session: &'a SessionId, code: &'a str) -> CodePayment<'a> {
    CodePayment {
        session_id: session,
        amount: amount(),
        description: "Oolong tea, 2 cups",
        auth_code: code,
        store_id: "SZ0012",
        device_id: Some("POS-01"),
        device_ip: "192.0.2.10".parse().unwrap(),
    }
}

/// The reference to a code payment, as the payments layer queries and undoes it.
pub fn reference<'a>(session: &'a SessionId, wallet: &'a WalletId, refs: &'a ProviderRefs) -> PaymentRef<'a> {
    PaymentRef { session_id: session, wallet_id: wallet, amount: amount(), refs }
}
