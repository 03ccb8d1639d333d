//! Creating a payment session: one per idempotency key, for an open order, with a wallet whose
//! provider takes the order's amount; reserved in the store before the provider is called, and
//! released again if the provider fails, so that nothing is half-created.

use super::{App, AppError};
use crate::{
    db::{NewSession, OrderRecord, Reservation, SessionRecord},
    domain::{new_session_id, IdempotencyKey, ReturnUrl},
    providers::{PaymentProvider, PaymentRequest, ProviderError},
};
use std::{net::IpAddr, sync::Arc, time::Duration};
use url::Url;
use wallet_checkout_contract::{DeviceKind, ErrorCode, OrderId, OrderStatus, WalletId};

/// How long a request waits for a concurrent request with the same key to finish.
const CONCURRENT_KEY_WAIT_MS: u64 = 5_000;
/// How often a request waiting on a concurrent one with the same key reads the session again:
/// the creator's instance announces its end to its own waiters only.
const REPLAY_LOOK_MS: u64 = 100;

/// A shopper's request to pay an order with a wallet.
#[derive(Debug, Clone)]
pub struct StartPayment {
    pub order_id: OrderId,
    pub wallet_id: WalletId,
    pub return_url: ReturnUrl,
    pub device: DeviceKind,
    pub idempotency_key: IdempotencyKey,
    /// Digest of the request, to tell a retry from a reused key.
    pub request_hash: String,
    pub client_ip: IpAddr,
    /// Where shoppers and wallets reach this server.
    pub public_base: Url,
}

/// A new session, or the one an earlier request with the same key made.
pub enum Started {
    Created(SessionRecord),
    Replayed(SessionRecord),
}

impl App {
    pub async fn start(&self, start: StartPayment) -> Result<Started, AppError> {
        // A new key, the common case, costs no lookup of its own: the reservation's unique key
        // settles a reuse. A request refused before that is first checked against the key, so a
        // retry of one that was accepted gets the same answer, whatever has changed since.
        let (order, provider) = match self.payable(&start).await {
            Ok(payable) => payable,
            Err(refusal) => {
                return match self.db.session_by_idempotency_key(&start.idempotency_key).await? {
                    Some(existing) => self.replay(existing, &start.request_hash).await.map(Started::Replayed),
                    None => Err(refusal),
                };
            }
        };

        let now = self.clock.now();
        let new = NewSession {
            id: new_session_id(),
            order_id: order.id.clone(),
            wallet_id: start.wallet_id.clone(),
            amount: order.amount,
            return_url: start.return_url.clone(),
            device: start.device,
            idempotency_key: start.idempotency_key.clone(),
            request_hash: start.request_hash.clone(),
            created_at: now,
            expires_at: now + self.session_ttl_ms,
        };
        let session = match self.db.reserve_session(&new).await? {
            Reservation::Existing(existing) => {
                return self.replay(existing, &start.request_hash).await.map(Started::Replayed)
            }
            Reservation::Reserved(session) => session,
        };

        let request = PaymentRequest {
            session_id: &session.id,
            wallet_id: &session.wallet_id,
            amount: session.amount,
            description: &order.description,
            device: session.device,
            client_ip: start.client_ip,
            expires_at: session.expires_at,
            return_url: &session.return_url,
            public_base: &start.public_base,
            idempotency_key: session.id.as_str(),
        };
        let created = match provider.create(&request).await {
            Ok(created) => created,
            Err(error) => {
                tracing::error!(session_id = %session.id, provider = provider.name(), %error, "the wallet provider could not create the payment");
                if let Err(error) = self.db.discard_reservation(&session.id).await {
                    tracing::error!(session_id = %session.id, %error, "could not discard the reservation");
                }
                crate::app::alerts::provider_failed(&self.db, provider.name(), self.clock.now()).await;
                return Err(provider_error(&error));
            }
        };
        let session = self
            .db
            .attach_action(
                &session.id,
                &created.next_action,
                provider.name(),
                &created.refs,
                now + self.check_ms,
                self.clock.now(),
            )
            .await?;
        tracing::info!(session_id = %session.id, order_id = %session.order_id, wallet = %session.wallet_id, provider = provider.name(), "session created");
        Ok(Started::Created(session))
    }

    /// The order, if it is open, and the provider of the wallet chosen, if it takes the order's amount.
    async fn payable(
        &self,
        start: &StartPayment,
    ) -> Result<(OrderRecord, Arc<dyn PaymentProvider>), AppError> {
        let order = self.db.order(&start.order_id).await?.ok_or_else(|| AppError::not_found("order"))?;
        if order.status != OrderStatus::Open {
            return Err(AppError::refused(
                ErrorCode::OrderNotPayable,
                "the order is already paid or canceled",
            ));
        }
        let unavailable = || {
            AppError::refused(
                ErrorCode::WalletUnavailable,
                format!("wallet {} is not offered for this order", start.wallet_id),
            )
        };
        let offer = self.providers.offer(&start.wallet_id).ok_or_else(unavailable)?;
        if !offer.accepts(&order.amount) {
            return Err(unavailable());
        }
        let provider = self.providers.provider_for(&start.wallet_id).ok_or_else(unavailable)?;
        Ok((order, provider))
    }

    /// The answer to a reused idempotency key: the same session, once its creator has finished.
    async fn replay(&self, existing: SessionRecord, request_hash: &str) -> Result<SessionRecord, AppError> {
        if existing.request_hash != request_hash {
            return Err(AppError::refused(
                ErrorCode::IdempotencyConflict,
                "this Idempotency-Key was used with a different request",
            ));
        }
        if existing.next_action.is_some() {
            return Ok(existing);
        }
        // Subscribe before reading again, so that the creator's finishing is not missed.
        let notifier = self.db.notifier().clone();
        let subscription = notifier.subscribe(existing.id.as_str());
        let mut changed = Box::pin(subscription.changed());
        changed.as_mut().enable();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(CONCURRENT_KEY_WAIT_MS);
        let mut session = existing;
        loop {
            session = match self.db.session(&session.id).await? {
                Some(session) => session,
                // The first request failed and released the key: the client may retry.
                None => {
                    return Err(AppError::refused(
                        ErrorCode::ProviderError,
                        "the wallet provider could not start the payment",
                    ))
                }
            };
            if session.next_action.is_some() {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline || notifier.is_shutting_down() {
                return Err(AppError::refused(
                    ErrorCode::IdempotencyKeyInUse,
                    "a request with this Idempotency-Key is still in progress",
                ));
            }
            subscription
                .wait(changed.as_mut(), (deadline - now).min(Duration::from_millis(REPLAY_LOOK_MS)))
                .await;
            changed.set(subscription.changed());
            changed.as_mut().enable();
        }
        Ok(session)
    }
}

/// The contract's answer for a provider that could not start a payment: what the shopper's widget
/// can act on (try again, or another wallet), never the provider's own words.
fn provider_error(error: &ProviderError) -> AppError {
    let message = match error {
        ProviderError::Retryable(_) => "the wallet provider could not be reached; try again",
        ProviderError::Declined(_) => "the wallet provider declined this payment",
        ProviderError::Misconfigured(_) => "the wallet is not set up correctly at this store",
        ProviderError::InvalidRequest(_) => "the wallet provider refused this payment",
    };
    AppError::refused(ErrorCode::ProviderError, message)
}
