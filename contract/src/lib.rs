//! The JSON contract between the `<wallet-checkout>` widget and a merchant backend, version 1.
//!
//! Both sides compile against these types: the widget to read what the backend says, the
//! reference server to say it. Nothing here knows about the browser, HTTP frameworks or storage.
//! `docs/contract.md` is the prose version of this module and must stay in step with it.

mod ids;
mod money;
mod status;

pub use ids::{IdError, OrderId, SessionId, WalletId};
pub use money::{Amount, AmountError, Currency, MAX_MINOR_UNITS};
pub use status::SessionStatus;

use serde::{Deserialize, Serialize};

/// Version of the contract described by this crate.
pub const CONTRACT_VERSION: u32 = 1;

/// Header that makes `POST /sessions` safe to retry: the same key returns the same session.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Longest idempotency key a backend must accept.
pub const IDEMPOTENCY_KEY_MAX_LEN: usize = 255;

/// Query parameter a backend appends to `return_url` when a redirect flow sends the shopper back.
pub const RETURN_SESSION_PARAM: &str = "wc_session";

/// Longest wait, in seconds, a client may ask `GET /sessions/{id}?wait=` for. Waiting is optional
/// for a backend: one that ignores `wait` answers at once, and clients then poll.
pub const MAX_WAIT_SECS: u64 = 25;

/// Paths relative to the merchant's `endpoint`, shared so that both sides spell them alike.
pub mod paths {
    use super::{OrderId, SessionId};

    pub fn order(id: &OrderId) -> String {
        format!("/orders/{id}")
    }

    pub fn sessions() -> &'static str {
        "/sessions"
    }

    pub fn session(id: &SessionId) -> String {
        format!("/sessions/{id}")
    }

    /// The session, answered once its status differs from `known` or after `wait_secs`.
    pub fn wait_for_session(id: &SessionId, known: super::SessionStatus, wait_secs: u64) -> String {
        format!("/sessions/{id}?wait={wait_secs}&status={known}")
    }

    pub fn cancel_session(id: &SessionId) -> String {
        format!("/sessions/{id}/cancel")
    }
}

/// `GET {endpoint}/orders/{order_id}`: what the shopper is paying for and how they can pay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderResponse {
    pub order: Order,
    /// Wallets offered for this order, in the order the merchant wants them shown.
    pub wallets: Vec<WalletOption>,
    /// `false` in test mode: no real money moves.
    pub livemode: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub description: String,
    pub amount: Amount,
    pub status: OrderStatus,
}

/// Whether an order can still be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    Paid,
    Canceled,
}

/// Wire names of simple enums, for clients that read JSON without serde (the widget).
macro_rules! wire_names {
    ($type:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            /// The name on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $($type::$variant => $name),+ }
            }

            /// The variant with this wire name.
            pub fn parse(name: &str) -> Option<Self> {
                match name { $($name => Some($type::$variant),)+ _ => None }
            }
        }
    };
}

wire_names!(OrderStatus { Open => "open", Paid => "paid", Canceled => "canceled" });
wire_names!(DeviceKind { Desktop => "desktop", Mobile => "mobile" });
wire_names!(CheckoutStep { Shown => "shown", WalletChosen => "wallet_chosen" });

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletOption {
    pub id: WalletId,
    /// The wallet's own name, as the shopper knows it ("WeChat Pay"); not translated.
    pub name: String,
}

/// Kind of device the shopper is on; decides between a QR code and a hand-off to the wallet app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Desktop,
    Mobile,
}

/// `POST {endpoint}/sessions` body. The amount is not part of it: the backend takes it from the
/// stored order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSessionRequest {
    pub order_id: OrderId,
    pub wallet_id: WalletId,
    /// Where a redirect flow sends the shopper back to; an absolute `http(s)` URL.
    pub return_url: String,
    pub device: DeviceKind,
}

/// A step of the shopper's path that the widget reports (`POST {endpoint}/steps`), so the merchant
/// can see where shoppers stop. Anonymous: nothing about the shopper but the kind of device and
/// the language the widget shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckoutStep {
    /// The widget showed the order and its wallets.
    Shown,
    /// The shopper chose a wallet (`wallet_id`).
    WalletChosen,
}

/// `POST {endpoint}/steps` body. The backend answers `204` with no body; a repeat of the same
/// step for the same order (and wallet) is counted once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepReport {
    pub order_id: OrderId,
    pub step: CheckoutStep,
    /// The wallet chosen: required for `wallet_chosen`, absent for `shown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_id: Option<WalletId>,
    pub device: DeviceKind,
    /// The language the widget shows (`en`, `zh-CN`): a language tag, at most 35 characters.
    pub locale: String,
}

/// A payment attempt for one order with one wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub order_id: OrderId,
    pub wallet_id: WalletId,
    pub status: SessionStatus,
    pub amount: Amount,
    /// RFC 3339 timestamp after which the session can no longer be paid.
    pub expires_at: String,
    /// Seconds left until `expires_at`, by the backend's clock (0 once expired). The widget
    /// counts down from this, not from the shopper's clock.
    pub expires_in_secs: u64,
    /// What the widget must do to let the shopper pay. Present while the session is open.
    pub next_action: Option<NextAction>,
    /// How much of a paid session the merchant has given back. A refunded session stays
    /// `succeeded`; absent (or `null`) when nothing was refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_refunded: Option<Amount>,
}

/// What the widget does next. The widget is driven by this, so a new wallet needs no widget change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NextAction {
    /// Show `payload` as a QR code for the shopper to scan with the wallet app.
    Qr { payload: String },
    /// Send the browser to `url`; the wallet sends the shopper back to `return_url`.
    Redirect { url: String },
    /// An action this version of the contract does not know.
    #[serde(other)]
    Unsupported,
}

/// Every error answer has this body, whatever the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// A developer-facing explanation in English; the widget shows its own words instead.
    pub message: String,
}

/// Machine-readable error codes. Clients must treat codes they do not know as `Unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or a field is invalid (400).
    InvalidRequest,
    /// No such order or session (404).
    NotFound,
    /// The order is already paid or canceled (409).
    OrderNotPayable,
    /// The wallet is not offered for this order (422).
    WalletUnavailable,
    /// The session is final and cannot change any more (409).
    SessionFinal,
    /// A payment of the order is in flight (approved, not yet confirmed), so it cannot be
    /// canceled now (409).
    PaymentInProgress,
    /// (Merchant API) The payment cannot be refunded (not paid, or nothing left to refund) (409).
    NotRefundable,
    /// The idempotency key was used with a different request (422).
    IdempotencyConflict,
    /// Another request with this idempotency key is still being processed (409).
    IdempotencyKeyInUse,
    /// Too many requests from this client (429).
    RateLimited,
    /// Missing or wrong credentials (401).
    Unauthorized,
    /// The credentials do not allow this (403).
    Forbidden,
    /// The wallet provider failed or is unreachable (502).
    ProviderError,
    /// Something went wrong on the backend (500).
    Internal,
    #[serde(other)]
    Unknown,
}

wire_names!(ErrorCode {
    InvalidRequest => "invalid_request",
    NotFound => "not_found",
    OrderNotPayable => "order_not_payable",
    WalletUnavailable => "wallet_unavailable",
    SessionFinal => "session_final",
    PaymentInProgress => "payment_in_progress",
    NotRefundable => "not_refundable",
    IdempotencyConflict => "idempotency_conflict",
    IdempotencyKeyInUse => "idempotency_key_in_use",
    RateLimited => "rate_limited",
    Unauthorized => "unauthorized",
    Forbidden => "forbidden",
    ProviderError => "provider_error",
    Internal => "internal",
    Unknown => "unknown",
});

impl ErrorCode {
    /// The HTTP status that goes with this code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidRequest => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::OrderNotPayable
            | ErrorCode::SessionFinal
            | ErrorCode::PaymentInProgress
            | ErrorCode::NotRefundable
            | ErrorCode::IdempotencyKeyInUse => 409,
            ErrorCode::WalletUnavailable | ErrorCode::IdempotencyConflict => 422,
            ErrorCode::RateLimited => 429,
            ErrorCode::ProviderError => 502,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip<T>(value: &T) -> T
    where
        T: Serialize + for<'de> Deserialize<'de>,
    {
        serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
    }

    fn sample_session(next_action: Option<NextAction>) -> Session {
        Session {
            id: SessionId::parse("ses_123").unwrap(),
            order_id: OrderId::parse("ord_1").unwrap(),
            wallet_id: WalletId::parse("wechat_pay").unwrap(),
            status: SessionStatus::Pending,
            amount: Amount::new(1999, Currency::parse("CNY").unwrap()).unwrap(),
            expires_at: "2026-11-26T10:00:00Z".into(),
            expires_in_secs: 900,
            next_action,
            amount_refunded: None,
        }
    }

    #[test]
    fn session_with_qr_action_round_trips() {
        let session = sample_session(Some(NextAction::Qr { payload: "https://pay.example/x".into() }));
        assert_eq!(round_trip(&session), session);
    }

    #[test]
    fn session_with_redirect_action_round_trips() {
        let session = sample_session(Some(NextAction::Redirect { url: "https://pay.example/r".into() }));
        assert_eq!(round_trip(&session), session);
    }

    #[test]
    fn a_refunded_amount_is_written_only_when_there_is_one() {
        let mut session = sample_session(None);
        assert!(serde_json::to_value(&session).unwrap().get("amount_refunded").is_none());
        session.status = SessionStatus::Succeeded;
        session.amount_refunded = Some(Amount::new(500, Currency::parse("CNY").unwrap()).unwrap());
        let value = serde_json::to_value(&session).unwrap();
        assert_eq!(value["amount_refunded"], json!({"minor_units": 500, "currency": "CNY"}));
        assert_eq!(round_trip(&session), session);
    }

    #[test]
    fn next_action_is_tagged_by_type() {
        let qr = NextAction::Qr { payload: "weixin://x".into() };
        assert_eq!(serde_json::to_value(&qr).unwrap(), json!({"type": "qr", "payload": "weixin://x"}));
        let redirect: NextAction =
            serde_json::from_value(json!({"type": "redirect", "url": "https://a.example/"})).unwrap();
        assert_eq!(redirect, NextAction::Redirect { url: "https://a.example/".into() });
    }

    #[test]
    fn unknown_action_type_reads_as_unsupported() {
        let action: NextAction = serde_json::from_value(json!({"type": "voucher", "code": "123"})).unwrap();
        assert_eq!(action, NextAction::Unsupported);
    }

    #[test]
    fn order_response_round_trips_with_snake_case_fields() {
        let response = OrderResponse {
            order: Order {
                id: OrderId::parse("ord_9").unwrap(),
                description: "Tea".into(),
                amount: Amount::new(500, Currency::parse("USD").unwrap()).unwrap(),
                status: OrderStatus::Open,
            },
            wallets: vec![WalletOption { id: WalletId::parse("paypal").unwrap(), name: "PayPal".into() }],
            livemode: false,
        };
        let value = serde_json::to_value(&response).unwrap();
        assert_eq!(value["order"]["amount"], json!({"minor_units": 500, "currency": "USD"}));
        assert_eq!(value["order"]["status"], json!("open"));
        assert_eq!(round_trip(&response), response);
    }

    #[test]
    fn create_session_request_round_trips() {
        let request = CreateSessionRequest {
            order_id: OrderId::parse("ord_1").unwrap(),
            wallet_id: WalletId::parse("alipay").unwrap(),
            return_url: "https://shop.example/checkout".into(),
            device: DeviceKind::Mobile,
        };
        assert_eq!(serde_json::to_value(&request).unwrap()["device"], json!("mobile"));
        assert_eq!(round_trip(&request), request);
    }

    #[test]
    fn error_body_has_code_and_message() {
        let body =
            ErrorBody { error: ErrorDetail { code: ErrorCode::NotFound, message: "no such order".into() } };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            json!({"error": {"code": "not_found", "message": "no such order"}})
        );
        assert_eq!(round_trip(&body), body);
    }

    #[test]
    fn unknown_error_code_reads_as_unknown() {
        let body: ErrorBody =
            serde_json::from_value(json!({"error": {"code": "teapot", "message": "short and stout"}}))
                .unwrap();
        assert_eq!(body.error.code, ErrorCode::Unknown);
    }

    #[test]
    fn negative_or_float_amounts_are_refused() {
        assert!(serde_json::from_value::<Amount>(json!({"minor_units": -1, "currency": "USD"})).is_err());
        assert!(serde_json::from_value::<Amount>(json!({"minor_units": 1.5, "currency": "USD"})).is_err());
        assert!(serde_json::from_value::<Amount>(json!({"minor_units": 1, "currency": "usd"})).is_err());
    }

    #[test]
    fn wire_names_agree_with_serde() {
        for code in ErrorCode::ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), json!(code.as_str()));
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
        for status in OrderStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), json!(status.as_str()));
        }
        for device in DeviceKind::ALL {
            assert_eq!(serde_json::to_value(device).unwrap(), json!(device.as_str()));
        }
        for step in CheckoutStep::ALL {
            assert_eq!(serde_json::to_value(step).unwrap(), json!(step.as_str()));
        }
    }

    #[test]
    fn error_codes_map_to_fitting_http_statuses() {
        assert_eq!(ErrorCode::InvalidRequest.http_status(), 400);
        assert_eq!(ErrorCode::NotFound.http_status(), 404);
        assert_eq!(ErrorCode::IdempotencyConflict.http_status(), 422);
        assert_eq!(ErrorCode::Internal.http_status(), 500);
    }
}
