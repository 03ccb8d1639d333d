//! The sweep, on every instance: sessions whose time is up are expired (after asking the
//! provider: a payment that went through is never marked expired, and an unpaid one is closed
//! there first so its code can no longer be paid); sessions whose notification has not come are
//! asked about with backoff; pending refunds are followed up. The state machine's compare-and-set
//! makes each change happen once, however many instances sweep.

use super::{check_backoff_ms, payment_ref, App, AppError};
use crate::{
    db::{DbError, RefundRecord, SessionRecord, Transition},
    domain::{is_due_to_expire, SessionEvent, UnixMillis},
    providers::{PaymentState, ProviderError, RefundRef, RefundRequest},
};
use futures_util::{stream, StreamExt};
use wallet_checkout_contract::SessionStatus;

/// Providers asked at the same time by one sweep.
const CONCURRENT_CHECKS: usize = 8;

impl App {
    /// One sweep at `now`.
    pub async fn sweep(&self, now: UnixMillis, public_base: &url::Url) -> Result<(), AppError> {
        let sessions = self.db.sessions_to_check(now).await?;
        stream::iter(sessions)
            .for_each_concurrent(CONCURRENT_CHECKS, |session| async move {
                if let Err(error) = self.check_session(&session, now).await {
                    tracing::error!(session_id = %session.id, ?error, "could not settle the session with its provider");
                }
            })
            .await;
        let refunds = self.db.refunds_to_check(now).await?;
        stream::iter(refunds)
            .for_each_concurrent(CONCURRENT_CHECKS, |refund| async move {
                if let Err(error) = self.check_refund(&refund, now, public_base).await {
                    tracing::error!(refund_id = %refund.id, ?error, "could not follow up the refund");
                }
            })
            .await;
        Ok(())
    }

    /// Expires a session whose time is up: the one place a session expires (from the sweep, and
    /// for an approval that came after the time was up, before the sweep came to it).
    pub(super) async fn expire(
        &self,
        session: &SessionRecord,
        now: UnixMillis,
    ) -> Result<SessionRecord, DbError> {
        Ok(match self.db.apply(&session.id, SessionEvent::ExpiryReached, now).await? {
            Transition::Applied(expired) => {
                tracing::info!(session_id = %expired.id, "session expired");
                expired
            }
            Transition::Refused(_, current) => current,
        })
    }

    /// Asks the provider how a session's payment stands, and expires it if its time is up and it
    /// was not paid.
    async fn check_session(&self, session: &SessionRecord, now: UnixMillis) -> Result<(), AppError> {
        let due = is_due_to_expire(session.status, session.expires_at, now);
        let Some(provider) = self.provider_of(session) else {
            // No provider answered yet (a reservation), or its provider is no longer configured.
            if due {
                self.expire(session, now).await?;
            }
            self.db.schedule_check(&session.id, None, session.check_attempts).await?;
            return Ok(());
        };
        let state = match provider.query(&payment_ref(session)).await {
            Ok(state) => Some(state),
            Err(error) => {
                tracing::warn!(session_id = %session.id, provider = provider.name(), %error, "the wallet provider could not say how the payment stands");
                None
            }
        };
        let updated = match &state {
            Some(state) => self.apply_state(session, state.clone(), now).await?,
            None => session.clone(),
        };
        if is_due_to_expire(updated.status, updated.expires_at, now) {
            let paid_or_in_flight = matches!(
                state,
                Some(PaymentState::Succeeded { .. } | PaymentState::Processing | PaymentState::Approved)
            );
            if state.is_none() && !matches!(self.retry_or_give_up(session, now).await?, GiveUp::Now) {
                // Not knowing is not unpaid: ask again shortly before expiring.
                return Ok(());
            }
            if !paid_or_in_flight {
                // Closed at the wallet already, or closed now, so that the code cannot be paid.
                if !matches!(state, Some(PaymentState::Closed)) {
                    if let Err(error) = provider.close(&payment_ref(session)).await {
                        tracing::warn!(session_id = %session.id, %error, "the wallet provider could not close the payment; a late payment will be flagged");
                    }
                }
                self.expire(session, now).await?;
                self.db.schedule_check(&session.id, None, session.check_attempts).await?;
                return Ok(());
            }
        }
        let open = matches!(updated.status, SessionStatus::Pending | SessionStatus::Processing);
        let attempts = session.check_attempts + 1;
        let next = open.then(|| {
            (now + check_backoff_ms(attempts, self.check_ms)).min(updated.expires_at.max(now + self.check_ms))
        });
        self.db.schedule_check(&session.id, next, attempts).await?;
        Ok(())
    }

    /// When the provider cannot be asked at expiry: ask again a few times (`provider_check_ms` apart), then
    /// expire anyway (a payment that arrives later is recorded and flagged).
    async fn retry_or_give_up(&self, session: &SessionRecord, now: UnixMillis) -> Result<GiveUp, AppError> {
        const EXPIRY_ATTEMPTS: i64 = 3;
        let attempts = session.check_attempts + 1;
        if now - session.expires_at > EXPIRY_ATTEMPTS * self.check_ms {
            return Ok(GiveUp::Now);
        }
        self.db.schedule_check(&session.id, Some(now + self.check_ms), attempts).await?;
        Ok(GiveUp::Later)
    }

    /// Follows up a pending refund: asks again for it where the provider never answered (the
    /// provider's refund number makes that safe), else asks how it stands.
    async fn check_refund(
        &self,
        refund: &RefundRecord,
        now: UnixMillis,
        public_base: &url::Url,
    ) -> Result<(), AppError> {
        let session = self.session(&refund.session_id).await?;
        let Some(provider) = self.provider_of(&session) else { return Ok(()) };
        let payment = payment_ref(&session);
        let answer = match refund.provider_refund_id.as_deref() {
            None => {
                provider
                    .refund(&RefundRequest {
                        refund_id: &refund.id,
                        payment,
                        amount: refund.amount,
                        reason: &refund.reason,
                        public_base,
                    })
                    .await
            }
            Some(provider_refund_id) => {
                provider
                    .query_refund(&RefundRef {
                        refund_id: &refund.id,
                        provider_refund_id: Some(provider_refund_id),
                        payment,
                        amount: refund.amount,
                    })
                    .await
            }
        };
        match answer {
            Ok(state) => self.settle_refund(refund, state, now).await,
            Err(ProviderError::Retryable(why)) => {
                tracing::warn!(refund_id = %refund.id, %why, "the wallet provider could not be asked about the refund; asking again later");
                let waited = now - refund.created_at;
                let next =
                    now + check_backoff_ms((waited / self.check_ms).max(1).ilog2() as i64, self.check_ms);
                self.db.note_refund_pending(&refund.id, None, Some(next)).await?;
                Ok(())
            }
            Err(error) => {
                self.settle_refund(
                    refund,
                    crate::providers::RefundState::Failed { reason: error.to_string() },
                    now,
                )
                .await
            }
        }
    }
}

enum GiveUp {
    Now,
    Later,
}
