//! Refunds of a paid session, in full or in part: recorded first (idempotently, never more than
//! was paid), then asked of the provider; its answer, a later notification or the sweep settles
//! the refund as succeeded or failed.

use super::{payment_ref, Actor, App, AppError};
use crate::{
    db::{NewRefund, RefundCreation, RefundRecord},
    domain::{
        new_id,
        refund::{self, RefundRefusal},
        request_hash, AuditAction,
    },
    providers::{ProviderError, RefundRequest, RefundState},
};
use serde_json::json;
use wallet_checkout_contract::{Amount, ErrorCode, OrderId, SessionId};

/// A refund the merchant asks for.
#[derive(Debug, Clone)]
pub struct RefundInput {
    pub order_id: OrderId,
    /// Which payment of the order: by default the one that paid it. A second payment (flagged
    /// `refund_due`) or a late one (`late_approval`) is named here.
    pub session_id: Option<SessionId>,
    /// How much; by default all that is left.
    pub amount: Option<Amount>,
    /// Why, as typed: checked and trimmed here (`domain::refund::check_reason`).
    pub reason: String,
    pub idempotency_key: Option<String>,
    /// The key or staff member asking: the refund is theirs in the audit log.
    pub by: Actor,
    pub public_base: url::Url,
}

/// A refund that was made now, or the one an earlier request with the same key made.
pub enum RefundOutcome {
    Created(RefundRecord),
    Replayed(RefundRecord),
}

impl App {
    /// Makes a refund: the merchant API and the console both come here.
    pub async fn refund(&self, input: RefundInput) -> Result<RefundOutcome, AppError> {
        let reason = refund::check_reason(&input.reason).map_err(refusal)?.to_owned();
        let order = self.db.order(&input.order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
        let session_id = match input.session_id.clone().or_else(|| order.paid_session_id.clone()) {
            Some(id) => id,
            None => return Err(not_refundable("the order has no payment to refund")),
        };
        let session = self.db.session(&session_id).await?.filter(|s| s.order_id == order.id);
        let Some(session) = session else { return Err(AppError::not_found("session of this order")) };
        if session.paid_at.is_none() {
            return Err(not_refundable("this session was not paid"));
        }
        let amount = match input.amount {
            Some(amount) if amount.currency() != session.amount.currency() => {
                return Err(AppError::invalid(format!(
                    "amount.currency must be the payment's currency, {}",
                    session.amount.currency()
                )))
            }
            Some(amount) if amount.minor_units() == 0 => {
                return Err(AppError::invalid("amount.minor_units must be more than 0"))
            }
            Some(amount) => Some(amount),
            // All that is left, counted where the refund is made (two at once leave nothing over).
            None => None,
        };
        let new = NewRefund {
            id: new_id("ref"),
            order_id: order.id.clone(),
            session_id: session.id.clone(),
            amount,
            request_hash: request_hash(&json!({
                "order": order.id,
                "amount": input.amount,
                "reason": reason,
                "session_id": input.session_id,
            })),
            reason,
            idempotency_key: input.idempotency_key.clone(),
            created_by: input.by.id.clone(),
            created_at: self.clock.now(),
        };
        let refund = match self.db.create_refund(&new).await? {
            RefundCreation::Created(refund) => refund,
            RefundCreation::Replayed(refund) => return Ok(RefundOutcome::Replayed(refund)),
            RefundCreation::KeyReused => {
                return Err(AppError::refused(
                    ErrorCode::IdempotencyConflict,
                    "this Idempotency-Key was used with a different request",
                ))
            }
            RefundCreation::TooMuch { left: 0 } => return Err(not_refundable("nothing is left to refund")),
            RefundCreation::TooMuch { left } => {
                let left = Amount::new(left, session.amount.currency()).map_err(AppError::internal)?;
                return Err(not_refundable(&format!(
                    "more than is left to refund ({} {})",
                    left.currency(),
                    left.to_decimal_string()
                )));
            }
            RefundCreation::NotPaid => return Err(not_refundable("this session was not paid")),
        };
        input
            .by
            .audit(
                &self.db,
                AuditAction::RefundCreate,
                &refund.id,
                json!({ "order_id": refund.order_id, "session_id": refund.session_id, "amount": refund.amount, "reason": refund.reason }),
                refund.created_at,
            )
            .await?;
        tracing::info!(refund_id = %refund.id, session_id = %session.id, amount = %refund.amount.to_decimal_string(), "refund requested");
        let Some(provider) = self.provider_of(&session) else {
            return Err(AppError::refused(
                ErrorCode::ProviderError,
                "the payment's wallet provider is not configured",
            ));
        };
        let answer = provider
            .refund(&RefundRequest {
                refund_id: &refund.id,
                payment: payment_ref(&session),
                amount: refund.amount,
                reason: &refund.reason,
                public_base: &input.public_base,
            })
            .await;
        let now = self.clock.now();
        match answer {
            Ok(state) => self.settle_refund(&refund, state, now).await?,
            Err(ProviderError::Retryable(why)) => {
                // Not known whether the provider took it: asked again by the sweep, safely (the
                // refund's number is the provider's idempotency key).
                tracing::warn!(refund_id = %refund.id, %why, "the wallet provider did not answer the refund; it will be asked again");
                self.db.note_refund_pending(&refund.id, None, Some(now + self.check_ms)).await?;
            }
            Err(error) => {
                self.settle_refund(&refund, RefundState::Failed { reason: error.to_string() }, now).await?;
            }
        }
        let refund =
            self.db.refund(&refund.id).await?.ok_or_else(|| AppError::internal("a refund vanished"))?;
        Ok(RefundOutcome::Created(refund))
    }
}

/// A refund the rules refuse, in the contract's words.
fn refusal(refusal: RefundRefusal) -> AppError {
    match refusal {
        RefundRefusal::BadReason(message) => AppError::invalid(message),
        RefundRefusal::TooMuch { left: _ } => not_refundable("nothing is left to refund"),
    }
}

fn not_refundable(message: &str) -> AppError {
    AppError::refused(ErrorCode::NotRefundable, message)
}
