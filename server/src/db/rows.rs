//! What the store reads and writes, and the checked conversion from database rows.

use super::DbError;
use crate::domain::{rfc3339, Flag, IdempotencyKey, ProviderRefs, ReturnUrl, UnixMillis};
use std::collections::BTreeMap;
use wallet_checkout_contract::{
    Amount, Currency, DeviceKind, NextAction, OrderId, OrderStatus, Session, SessionId, SessionStatus,
    WalletId,
};

/// A session's columns, as `SessionRow` reads them.
macro_rules! session_columns {
    () => {
        "id, order_id, wallet_id, status, amount_minor, currency, return_url, device, request_hash, \
         action_type, action_value, provider, provider_order_id, provider_transaction_id, \
         provider_capture_id, paid_at, next_check_at, check_attempts, refunded_minor, flag, created_at, \
         expires_at, updated_at"
    };
}
pub(super) use session_columns;

pub(super) const SESSION_SELECT: &str = concat!("SELECT ", session_columns!(), " FROM sessions");

#[derive(Debug, Clone)]
pub struct NewOrder {
    pub id: OrderId,
    pub description: String,
    pub amount: Amount,
    /// The merchant's own reference for the order (their order number).
    pub reference: Option<String>,
    /// The merchant's key-value notes, returned as given.
    pub metadata: BTreeMap<String, String>,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub id: OrderId,
    pub description: String,
    pub amount: Amount,
    pub status: OrderStatus,
    pub paid_session_id: Option<SessionId>,
    pub reference: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub order_id: OrderId,
    pub wallet_id: WalletId,
    pub amount: Amount,
    pub return_url: ReturnUrl,
    pub device: DeviceKind,
    pub idempotency_key: IdempotencyKey,
    /// Digest of the request that made the session, to recognise a reused key.
    pub request_hash: String,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: SessionId,
    pub order_id: OrderId,
    pub wallet_id: WalletId,
    pub status: SessionStatus,
    pub amount: Amount,
    pub return_url: ReturnUrl,
    pub device: DeviceKind,
    pub request_hash: String,
    /// `None` until the provider has answered.
    pub next_action: Option<NextAction>,
    /// The provider that took the payment (`wechat_pay`, `sandbox`, ...), once it answered.
    pub provider: Option<String>,
    /// The provider's references for the payment.
    pub refs: ProviderRefs,
    /// When the money moved (the payment succeeded, even if late or twice): what may be refunded.
    pub paid_at: Option<UnixMillis>,
    /// When the provider is to be asked about a notification that has not come.
    pub next_check_at: Option<UnixMillis>,
    /// How often it was asked so far (for the backoff).
    pub check_attempts: i64,
    /// How much was given back by succeeded refunds, in minor units.
    pub refunded_minor: u64,
    /// A note for the merchant: the money goes back, or came too late.
    pub flag: Option<Flag>,
    pub created_at: UnixMillis,
    pub expires_at: UnixMillis,
    pub updated_at: UnixMillis,
}

impl SessionRecord {
    /// The contract's view of this session at time `now`.
    pub fn view(&self, now: UnixMillis) -> Session {
        let millis_left = (self.expires_at - now).max(0);
        Session {
            id: self.id.clone(),
            order_id: self.order_id.clone(),
            wallet_id: self.wallet_id.clone(),
            status: self.status,
            amount: self.amount,
            expires_at: rfc3339(self.expires_at),
            // Rounded up, so that a session with time left never reads as 0.
            expires_in_secs: ((millis_left + 999) / 1000) as u64,
            next_action: if self.status == SessionStatus::Pending { self.next_action.clone() } else { None },
            amount_refunded: (self.refunded_minor > 0)
                .then(|| Amount::new(self.refunded_minor, self.amount.currency()).ok())
                .flatten(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub from: Option<SessionStatus>,
    pub to: SessionStatus,
    pub reason: String,
    pub at: UnixMillis,
}

pub(super) const ORDER_SELECT: &str =
    "SELECT id, description, amount_minor, currency, status, paid_session_id, \
     reference, metadata, request_hash, created_at, updated_at FROM orders";

#[derive(sqlx::FromRow)]
pub(super) struct OrderRow {
    id: String,
    description: String,
    amount_minor: i64,
    currency: String,
    status: String,
    paid_session_id: Option<String>,
    reference: Option<String>,
    metadata: String,
    pub(super) request_hash: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    id: String,
    order_id: String,
    wallet_id: String,
    status: String,
    amount_minor: i64,
    currency: String,
    return_url: String,
    device: String,
    request_hash: String,
    action_type: Option<String>,
    action_value: Option<String>,
    provider: Option<String>,
    provider_order_id: Option<String>,
    provider_transaction_id: Option<String>,
    provider_capture_id: Option<String>,
    paid_at: Option<i64>,
    next_check_at: Option<i64>,
    check_attempts: i64,
    refunded_minor: i64,
    flag: Option<String>,
    created_at: i64,
    expires_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct StatusChangeRow {
    from_status: Option<String>,
    to_status: String,
    reason: String,
    at: i64,
}

fn corrupt(what: &str, value: impl std::fmt::Debug) -> DbError {
    DbError::Corrupt(format!("{what}: {value:?}"))
}

fn amount(minor: i64, currency: &str) -> Result<Amount, DbError> {
    let currency = Currency::parse(currency).map_err(|_| corrupt("currency", currency))?;
    let minor = u64::try_from(minor).map_err(|_| corrupt("amount", minor))?;
    Amount::new(minor, currency).map_err(|_| corrupt("amount", minor))
}

pub(super) fn status(value: &str) -> Result<SessionStatus, DbError> {
    SessionStatus::parse(value).ok_or_else(|| corrupt("session status", value))
}

pub(super) fn flag(value: Option<&str>) -> Result<Option<Flag>, DbError> {
    value.map(|text| Flag::parse(text).ok_or_else(|| corrupt("session flag", text))).transpose()
}

pub(super) fn device_name(device: DeviceKind) -> &'static str {
    match device {
        DeviceKind::Desktop => "desktop",
        DeviceKind::Mobile => "mobile",
    }
}

pub(super) fn action_columns(action: &NextAction) -> (&'static str, Option<&str>) {
    match action {
        NextAction::Qr { payload } => ("qr", Some(payload)),
        NextAction::Redirect { url } => ("redirect", Some(url)),
        NextAction::Unsupported => ("unsupported", None),
    }
}

impl TryFrom<OrderRow> for OrderRecord {
    type Error = DbError;

    fn try_from(row: OrderRow) -> Result<Self, DbError> {
        Ok(Self {
            id: OrderId::parse(row.id).map_err(|e| corrupt("order id", e))?,
            description: row.description,
            amount: amount(row.amount_minor, &row.currency)?,
            status: match row.status.as_str() {
                "open" => OrderStatus::Open,
                "paid" => OrderStatus::Paid,
                "canceled" => OrderStatus::Canceled,
                other => return Err(corrupt("order status", other)),
            },
            paid_session_id: row
                .paid_session_id
                .map(SessionId::parse)
                .transpose()
                .map_err(|e| corrupt("paid session id", e))?,
            reference: row.reference,
            metadata: serde_json::from_str(&row.metadata).map_err(|e| corrupt("metadata", e))?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = DbError;

    fn try_from(row: SessionRow) -> Result<Self, DbError> {
        let next_action = match (row.action_type.as_deref(), row.action_value) {
            (None, _) => None,
            (Some("qr"), Some(payload)) => Some(NextAction::Qr { payload }),
            (Some("redirect"), Some(url)) => Some(NextAction::Redirect { url }),
            (Some("unsupported"), _) => Some(NextAction::Unsupported),
            (Some(other), _) => return Err(corrupt("action type", other)),
        };
        Ok(Self {
            id: SessionId::parse(row.id).map_err(|e| corrupt("session id", e))?,
            order_id: OrderId::parse(row.order_id).map_err(|e| corrupt("order id", e))?,
            wallet_id: WalletId::parse(row.wallet_id).map_err(|e| corrupt("wallet id", e))?,
            status: status(&row.status)?,
            amount: amount(row.amount_minor, &row.currency)?,
            return_url: ReturnUrl::parse(&row.return_url).map_err(|e| corrupt("return url", e))?,
            device: match row.device.as_str() {
                "desktop" => DeviceKind::Desktop,
                "mobile" => DeviceKind::Mobile,
                other => return Err(corrupt("device", other)),
            },
            request_hash: row.request_hash,
            next_action,
            provider: row.provider,
            refs: ProviderRefs {
                order_id: row.provider_order_id,
                transaction_id: row.provider_transaction_id,
                capture_id: row.provider_capture_id,
            },
            paid_at: row.paid_at,
            next_check_at: row.next_check_at,
            check_attempts: row.check_attempts,
            refunded_minor: u64::try_from(row.refunded_minor)
                .map_err(|_| corrupt("refunded amount", row.refunded_minor))?,
            flag: flag(row.flag.as_deref())?,
            created_at: row.created_at,
            expires_at: row.expires_at,
            updated_at: row.updated_at,
        })
    }
}

impl TryFrom<StatusChangeRow> for StatusChange {
    type Error = DbError;

    fn try_from(row: StatusChangeRow) -> Result<Self, DbError> {
        Ok(Self {
            from: row.from_status.as_deref().map(status).transpose()?,
            to: status(&row.to_status)?,
            reason: row.reason,
            at: row.at,
        })
    }
}
