//! The application layer: every use case of the server, written once, over the database and the
//! wallets, with no HTTP in it. The widget's API, the merchant API, the console, the command line
//! and the demo shop are thin callers: they parse and answer, and the rules run here.
//!
//! Payments: create a session (idempotency, reservation, the provider's call), apply what a
//! provider says (a notification or the answer to a query), expire, cancel, reconcile, refund.
//! The database only persists; providers only speak their wallet's protocol.

pub mod alerts;
pub mod api_keys;
pub mod backups;
pub mod business;
mod error;
pub mod golive;
pub mod passwords;
mod refunds;
mod sessions;
mod sweep;
pub mod wallet_setup;

pub use error::AppError;
pub use refunds::{RefundInput, RefundOutcome};
pub use sessions::{StartPayment, Started};

use crate::{
    db::{Db, DbError, RefundStatus, SessionRecord, Transition},
    domain::{is_approval_past_expiry, is_past_expiry, SessionEvent, SharedClock, UnixMillis},
    providers::{Ack, Notice, PaymentProvider, PaymentRef, PaymentState, Providers},
};
use http::HeaderMap;
use std::sync::Arc;
use wallet_checkout_contract::{ErrorCode, SessionId, SessionStatus};

/// Who does something the audit log records: an API key, a staff member, the command line or
/// the server itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: String,
    pub name: String,
}

impl Actor {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self { id: id.into(), name: name.into() }
    }

    /// The command line on the server's machine.
    pub fn command_line() -> Self {
        Self::new("cli", "command line")
    }

    /// The server itself (the demo's key and admin).
    pub fn server() -> Self {
        Self::new("server", "server")
    }

    /// Whether this is the command line, which can always make a new key.
    pub fn is_command_line(&self) -> bool {
        self.id == "cli"
    }

    /// Writes what this actor did to the audit log.
    pub async fn audit(
        &self,
        db: &Db,
        action: crate::domain::AuditAction,
        target: &str,
        detail: serde_json::Value,
        now: UnixMillis,
    ) -> Result<(), DbError> {
        db.audit(&self.id, &self.name, action, target, &detail, now).await
    }
}

/// Longest pause between two questions to a provider about a session.
pub const MAX_CHECK_INTERVAL_MS: i64 = 300_000;

/// When to ask again after `attempts` questions: `base`, twice that, four times ... at most 5
/// minutes (10 s, 20 s, 40 s ... by default).
pub fn check_backoff_ms(attempts: i64, base_ms: i64) -> i64 {
    base_ms.saturating_mul(1_i64 << attempts.clamp(0, 16)).min(MAX_CHECK_INTERVAL_MS)
}

/// The use cases over the database, the wallets and the clock.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    providers: Arc<Providers>,
    /// What time it is, for every rule.
    pub clock: SharedClock,
    session_ttl_ms: i64,
    /// The first question to a provider whose notification has not come (`provider_check_ms`).
    check_ms: i64,
}

impl App {
    pub fn new(
        db: Db,
        providers: Arc<Providers>,
        clock: SharedClock,
        config: &crate::config::Config,
    ) -> Self {
        Self {
            db,
            providers,
            clock,
            session_ttl_ms: config.session_ttl_secs as i64 * 1000,
            check_ms: config.provider_check_ms,
        }
    }

    pub fn providers(&self) -> &Providers {
        &self.providers
    }

    fn provider_of(&self, session: &SessionRecord) -> Option<Arc<dyn PaymentProvider>> {
        match session.provider.as_deref() {
            Some(name) => self.providers.named(name),
            None => None,
        }
    }

    /// The session as it stands. (Expiry is the sweeper's: it asks the provider first.)
    pub async fn session(&self, id: &SessionId) -> Result<SessionRecord, AppError> {
        self.db.session(id).await?.ok_or_else(|| AppError::not_found("session"))
    }

    /// The shopper gave up on a session: it is canceled, and closed at the provider so its code
    /// can no longer be paid. A session already canceled answers as it is.
    pub async fn cancel_session(&self, id: &SessionId) -> Result<SessionRecord, AppError> {
        let session = self.session(id).await?;
        let session = match self.db.apply(&session.id, SessionEvent::Canceled, self.clock.now()).await? {
            Transition::Applied(session) => {
                tracing::info!(session_id = %session.id, "session canceled");
                self.close_at_provider(&session).await;
                session
            }
            Transition::Refused(_, session) if session.status == SessionStatus::Canceled => session,
            Transition::Refused(_, session) => {
                return Err(AppError::refused(
                    ErrorCode::SessionFinal,
                    format!("the session is {} and can no longer be canceled", session.status),
                ))
            }
        };
        Ok(session)
    }

    /// Closes a session's payment at its provider, so that it can no longer be paid. A failure
    /// is logged: a payment that arrives anyway is recorded and flagged, never lost.
    pub async fn close_at_provider(&self, session: &SessionRecord) {
        let Some(provider) = self.provider_of(session) else { return };
        let payment = payment_ref(session);
        if let Err(error) = provider.close(&payment).await {
            tracing::warn!(session_id = %session.id, %error, "the wallet provider could not close the payment");
        }
    }

    /// Cancels an order (see `Db::cancel_order`) and closes its canceled payments at their
    /// providers.
    pub async fn cancel_order(
        &self,
        id: &wallet_checkout_contract::OrderId,
    ) -> Result<crate::db::OrderCancel, AppError> {
        let outcome = self.db.cancel_order(id, self.clock.now()).await?;
        if let crate::db::OrderCancel::Canceled(_) = &outcome {
            for session in self.db.sessions_of(id).await? {
                if session.status == SessionStatus::Canceled {
                    self.close_at_provider(&session).await;
                }
            }
        }
        Ok(outcome)
    }

    /// Applies what a provider says about a session's payment: the one way a verdict, from a
    /// notification or a query, changes a session. An approval that needs a capture (PayPal) is
    /// captured here, once per session (the provider's own idempotency makes a repeat harmless).
    pub async fn apply_state(
        &self,
        session: &SessionRecord,
        state: PaymentState,
        now: UnixMillis,
    ) -> Result<SessionRecord, AppError> {
        let event = match state {
            PaymentState::Pending => return Ok(session.clone()),
            PaymentState::Approved => {
                if session.status != SessionStatus::Pending || is_past_expiry(session.expires_at, now) {
                    // Too late to take the money: recorded and flagged, not captured.
                    return Ok(self.transition(session, SessionEvent::Approved, now).await?);
                }
                let Some(provider) = self.provider_of(session) else { return Ok(session.clone()) };
                match provider.capture(&payment_ref(session)).await {
                    Ok(PaymentState::Approved) => return Ok(session.clone()),
                    Ok(captured) => return Box::pin(self.apply_state(session, captured, now)).await,
                    Err(error) => {
                        tracing::warn!(session_id = %session.id, %error, "capture failed; it will be tried again");
                        self.db
                            .schedule_check(&session.id, Some(now + self.check_ms), session.check_attempts)
                            .await?;
                        return Ok(session.clone());
                    }
                }
            }
            PaymentState::Processing => SessionEvent::Approved,
            PaymentState::Succeeded { refs, paid } => {
                if let Some(paid) = paid.filter(|paid| *paid != session.amount) {
                    tracing::error!(
                        session_id = %session.id,
                        paid = %paid.to_decimal_string(), expected = %session.amount.to_decimal_string(),
                        "the wallet reports another amount than the session's; not accepted"
                    );
                    return Ok(session.clone());
                }
                self.db.record_refs(&session.id, &refs).await?;
                // Paid is paid: a pending session succeeds even past its expiry time (it was not
                // expired yet), and a final one records the payment and flags it for a refund.
                SessionEvent::Confirmed
            }
            PaymentState::Failed { reason } => {
                tracing::info!(session_id = %session.id, %reason, "the wallet declined the payment");
                SessionEvent::Declined
            }
            // Closed at the wallet: whether the session expires is the sweep's to decide.
            PaymentState::Closed => return Ok(session.clone()),
        };
        Ok(self.transition(session, event, now).await?)
    }

    async fn transition(
        &self,
        session: &SessionRecord,
        event: SessionEvent,
        now: UnixMillis,
    ) -> Result<SessionRecord, DbError> {
        Ok(match self.db.apply(&session.id, event, now).await? {
            Transition::Refused(refusal, current) if is_approval_past_expiry(event, refusal) => {
                // Approved after its time was up, before the sweep came to it: it expires now,
                // as the sweep would have it, and the approval is then recorded as a late one.
                let expired = self.expire(&current, now).await?;
                match self.db.apply(&expired.id, event, now).await? {
                    Transition::Applied(session) | Transition::Refused(_, session) => session,
                }
            }
            Transition::Applied(session) | Transition::Refused(_, session) => session,
        })
    }

    /// A provider's notification: verified on its raw body first, applied once, answered exactly
    /// as that provider expects. Nothing changes unless verification passes; the same
    /// notification again changes nothing more.
    /// Answers the acknowledgement the provider is to get.
    pub async fn handle_notification(
        &self,
        provider: &dyn PaymentProvider,
        body: &[u8],
        headers: &HeaderMap,
    ) -> Ack {
        let provider_name = provider.name();
        if body.len() > provider.max_notification_bytes() {
            tracing::warn!(
                provider = provider_name,
                bytes = body.len(),
                "notification refused unread: larger than the provider sends"
            );
            return Ack::Refused;
        }
        let notification = match provider.verify_notification(body, headers).await {
            Ok(notification) => notification,
            Err(rejection) => {
                tracing::warn!(provider = provider_name, %rejection, "notification refused");
                let ack = match rejection {
                    crate::providers::Rejection::Unavailable(_) => Ack::RetryLater,
                    _ => Ack::Refused,
                };
                return ack;
            }
        };
        let ack = match self.apply_notification(provider, &notification).await {
            Ok(ack) => ack,
            Err(error) => {
                tracing::error!(
                    provider = provider_name,
                    ?error,
                    "notification could not be applied; the provider will send it again"
                );
                Ack::RetryLater
            }
        };
        ack
    }

    async fn apply_notification(
        &self,
        provider: &dyn PaymentProvider,
        notification: &crate::providers::Notification,
    ) -> Result<Ack, AppError> {
        let name = provider.name();
        if self.db.notification_seen(name, &notification.id).await? {
            tracing::info!(provider = name, notification = %notification.id, "notification seen before; nothing changes");
            return Ok(Ack::Accepted);
        }
        let now = self.clock.now();
        let subject = match &notification.notice {
            Notice::Payment { session_id, state, amount } => {
                let session = match SessionId::parse(session_id.as_str()) {
                    Ok(id) => self.db.session(&id).await?,
                    Err(_) => None,
                };
                let Some(session) = session.filter(|s| s.provider.as_deref() == Some(name)) else {
                    tracing::warn!(provider = name, out_trade_no = %session_id, "notification about no payment of ours; refused");
                    return Ok(Ack::Refused);
                };
                if amount.is_some_and(|amount| amount != session.amount) {
                    tracing::warn!(session_id = %session.id, "notification with another amount or currency than the session's; refused");
                    return Ok(Ack::Refused);
                }
                let updated = self.apply_state(&session, state.clone(), now).await?;
                tracing::info!(session_id = %session.id, provider = name, status = %updated.status, "notification applied");
                Some(session.id.to_string())
            }
            Notice::Refund { refund_id, state } => {
                let Some(refund) = self.db.refund(refund_id).await? else {
                    tracing::warn!(provider = name, refund_id = %refund_id, "refund notification about no refund of ours; refused");
                    return Ok(Ack::Refused);
                };
                self.settle_refund(&refund, state.clone(), now).await?;
                Some(refund.id.clone())
            }
            Notice::Ignored => None,
        };
        self.db.remember_notification(name, &notification.id, subject.as_deref(), now).await?;
        Ok(Ack::Accepted)
    }

    /// Records what a provider says about a refund.
    async fn settle_refund(
        &self,
        refund: &crate::db::RefundRecord,
        state: crate::providers::RefundState,
        now: UnixMillis,
    ) -> Result<(), AppError> {
        use crate::providers::RefundState;
        match state {
            RefundState::Pending { provider_refund_id } => {
                let next = refund.next_check_at.unwrap_or(now + self.check_ms);
                self.db.note_refund_pending(&refund.id, provider_refund_id.as_deref(), Some(next)).await?;
            }
            RefundState::Succeeded { provider_refund_id } => {
                if let Some(refund) = self
                    .db
                    .settle_refund(
                        &refund.id,
                        RefundStatus::Succeeded,
                        provider_refund_id.as_deref(),
                        None,
                        now,
                    )
                    .await?
                {
                    tracing::info!(refund_id = %refund.id, session_id = %refund.session_id, "refund succeeded");
                }
            }
            RefundState::Failed { reason } => {
                if let Some(refund) =
                    self.db.settle_refund(&refund.id, RefundStatus::Failed, None, Some(&reason), now).await?
                {
                    tracing::warn!(refund_id = %refund.id, %reason, "refund failed");
                }
            }
        }
        Ok(())
    }
}

/// How the server refers to a session's payment when it talks to the provider.
pub fn payment_ref(session: &SessionRecord) -> PaymentRef<'_> {
    PaymentRef {
        session_id: &session.id,
        wallet_id: &session.wallet_id,
        amount: session.amount,
        refs: &session.refs,
    }
}
