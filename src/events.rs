//! DOM events the widget dispatches on its host element, bubbling and composed so that the page
//! can listen on the element, the document or any ancestor. Names are `wallet-checkout:<kind>`.

use wasm_bindgen::JsValue;

/// Prefix of every event name.
pub const EVENT_PREFIX: &str = "wallet-checkout:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The order and its wallets are shown (or this page's session, picked up again).
    Ready,
    /// The shopper chose a wallet.
    WalletSelected,
    /// A payment session was created for the chosen wallet.
    SessionCreated,
    /// The session's status changed (including its first status).
    Status,
    /// The backend said the session succeeded.
    Paid,
    /// The session failed (declined by the shopper or the wallet).
    Failed,
    /// The session ran out of time.
    Expired,
    /// The session was canceled.
    Canceled,
    /// Something kept the widget from working: bad configuration or backend trouble.
    Error,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Ready => "ready",
            EventKind::WalletSelected => "wallet-selected",
            EventKind::SessionCreated => "session-created",
            EventKind::Status => "status",
            EventKind::Paid => "paid",
            EventKind::Failed => "failed",
            EventKind::Expired => "expired",
            EventKind::Canceled => "canceled",
            EventKind::Error => "error",
        }
    }
}

/// The `detail` of an event; absent fields are left out of the object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Detail<'a> {
    pub order_id: Option<&'a str>,
    pub session_id: Option<&'a str>,
    pub status: Option<&'a str>,
    pub wallet_id: Option<&'a str>,
    /// For `error`: a machine-readable reason (`config`, `network`, a contract error code).
    pub code: Option<&'a str>,
    pub message: Option<&'a str>,
}

/// Dispatches `wallet-checkout:<kind>` on `host`.
pub fn dispatch(host: &web_sys::EventTarget, kind: EventKind, detail: &Detail<'_>) {
    let object = js_sys::Object::new();
    for (key, value) in [
        ("orderId", detail.order_id),
        ("sessionId", detail.session_id),
        ("status", detail.status),
        ("walletId", detail.wallet_id),
        ("code", detail.code),
        ("message", detail.message),
    ] {
        if let Some(value) = value {
            let _ = js_sys::Reflect::set(&object, &JsValue::from_str(key), &JsValue::from_str(value));
        }
    }
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&object);
    let mut name = String::from(EVENT_PREFIX);
    name.push_str(kind.name());
    if let Ok(event) = web_sys::CustomEvent::new_with_event_init_dict(&name, &init) {
        let _ = host.dispatch_event(&event);
    }
}
