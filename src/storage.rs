//! Remembers the session of an order in `sessionStorage`, so that a reload or the return from a
//! redirect picks the same session up instead of creating another. Storage may be disabled;
//! every call then quietly does nothing.

use wallet_checkout_contract::{OrderId, SessionId};

fn key(endpoint: &str, order: &OrderId) -> String {
    let mut key = String::from("wallet-checkout:");
    key.push_str(endpoint);
    key.push(':');
    key.push_str(order.as_str());
    key
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub fn remembered_session(endpoint: &str, order: &OrderId) -> Option<SessionId> {
    let value = storage()?.get_item(&key(endpoint, order)).ok().flatten()?;
    SessionId::parse(value).ok()
}

pub fn remember_session(endpoint: &str, order: &OrderId, session: &SessionId) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(&key(endpoint, order), session.as_str());
    }
}

pub fn forget_session(endpoint: &str, order: &OrderId) {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(&key(endpoint, order));
    }
}
