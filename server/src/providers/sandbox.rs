//! The sandbox wallet: a stand-in for WeChat Pay, Alipay and PayPal that runs inside this server,
//! behind the same provider trait as the real ones. It keeps its own record of each payment (as a
//! wallet does at its end), and its pay page (`routes::sandbox`) makes it notify the server over
//! HTTP with a signed notification, as a real wallet does, so the whole flow runs on one machine
//! with no accounts.
//!
//! The pay page offers scripted outcomes, so a merchant can test every path: the payment
//! succeeds, is declined, stays processing and then fails, or is paid after the session expired.

use super::{
    Ack, CreatedPayment, Notice, Notification, PaymentProvider, PaymentRef, PaymentRequest, PaymentState,
    ProviderError, ProviderRefs, RefundRef, RefundRequest, RefundState, Rejection, Reply, WalletOffer,
};
use crate::{
    db::{Db, SandboxPayment},
    domain::{is_past_expiry, new_id, SharedClock, UnixMillis},
    webhooks,
};
use async_trait::async_trait;
use http::{HeaderMap, StatusCode};
use std::time::Duration;
use url::Url;
use wallet_checkout_contract::{
    Amount, Currency, DeviceKind, NextAction, WalletId, WalletOption, MAX_MINOR_UNITS,
};

/// The notification's signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256>` over
/// `"<t>.<raw body>"`, as the server's own webhooks are signed.
/// The sandbox's name in routes, logs and the console.
pub const NAME: &str = "sandbox";
pub const SIGNATURE_HEADER: &str = "Sandbox-Signature";

/// How long a payment scripted to "stay processing, then fail" stays processing.
pub const FAIL_LATER_MS: i64 = 3_000;
/// How long after the session's expiry a payment scripted to "pay after expiry" is paid.
pub const PAY_LATE_AFTER_EXPIRY_MS: i64 = 1_000;

/// How a sandbox wallet hands the shopper over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// A QR code on desktop; a redirect on mobile (the shopper cannot scan their own screen).
    QrOrRedirectOnMobile,
    /// A QR code everywhere; its payload is a link a phone can open (the widget offers it as an
    /// "Open <wallet>" button there), as wallets with app links do.
    QrWithAppLink,
    /// Always a redirect to the wallet's page.
    Redirect,
}

const WALLETS: [(&str, &str, Flow); 3] = [
    ("wechat_pay", "WeChat Pay", Flow::QrOrRedirectOnMobile),
    ("alipay", "Alipay", Flow::QrWithAppLink),
    ("paypal", "PayPal", Flow::Redirect),
];

/// What the shopper (or a test) decides on the pay page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The payment succeeds at once.
    Succeed,
    /// The wallet declines.
    Decline,
    /// Approved, processing for a few seconds, then failed.
    ProcessThenFail,
    /// Paid, but only after the session expired (a late payment, to be flagged and refunded).
    PayAfterExpiry,
}

impl Outcome {
    pub const ALL: [Outcome; 4] =
        [Outcome::Succeed, Outcome::Decline, Outcome::ProcessThenFail, Outcome::PayAfterExpiry];

    /// Its name in the pay page's paths (`/sandbox/pay/{id}/approve`).
    pub fn path(self) -> &'static str {
        match self {
            Outcome::Succeed => "approve",
            Outcome::Decline => "decline",
            Outcome::ProcessThenFail => "process-then-fail",
            Outcome::PayAfterExpiry => "pay-after-expiry",
        }
    }

    pub fn parse(path: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|outcome| outcome.path() == path)
    }
}

pub struct SandboxProvider {
    db: Db,
    clock: SharedClock,
    /// Where the sandbox sends its notifications: this server's own notification route.
    notify_url: Url,
    /// The signing secret of its notifications, made at every start.
    secret: String,
    client: reqwest::Client,
}

impl SandboxProvider {
    /// The sandbox for a server reachable at `server_base` (its own address, not the public one).
    pub fn new(store: Db, clock: SharedClock, server_base: &Url) -> Self {
        Self {
            db: store,
            clock,
            notify_url: server_base.join("api/providers/sandbox/notify").expect("a path joins a base URL"),
            secret: crate::domain::new_secret("sbxsec_", 32),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .no_proxy()
                .build()
                .expect("the HTTP client builds"),
        }
    }

    /// Path of the sandbox pay page for a session, below the server's public base URL.
    pub fn pay_path(session_id: &str) -> String {
        format!("sandbox/pay/{session_id}")
    }

    pub fn wallet_name(id: &WalletId) -> Option<&'static str> {
        WALLETS.iter().find(|(wallet, _, _)| *wallet == id.as_str()).map(|(_, name, _)| *name)
    }

    /// The shopper's decision on the pay page: the wallet records it and notifies the server.
    /// Answers the wallet's record after the decision; `None` if there is no such payment.
    pub async fn decide(
        &self,
        session_id: &str,
        outcome: Outcome,
        expires_at: UnixMillis,
    ) -> Result<Option<SandboxPayment>, crate::db::DbError> {
        let now = self.clock.now();
        let Some(record) = self.db.sandbox_payment(session_id).await? else { return Ok(None) };
        if is_past_expiry(record.expires_at, now)
            && record.status == "pending"
            && outcome != Outcome::PayAfterExpiry
        {
            // Like a real wallet's code, this one no longer pays once its time is up.
            if self.db.move_sandbox_payment(session_id, &["pending"], "closed", None, None, now).await? {
                if let Some(record) = self.db.sandbox_payment(session_id).await? {
                    self.notify(&record).await;
                }
            }
            return self.db.sandbox_payment(session_id).await;
        }
        let moved = match outcome {
            Outcome::Succeed => {
                self.db.move_sandbox_payment(session_id, &["pending"], "paid", None, None, now).await?
            }
            Outcome::Decline => {
                self.db.move_sandbox_payment(session_id, &["pending"], "declined", None, None, now).await?
            }
            Outcome::ProcessThenFail => {
                self.db
                    .move_sandbox_payment(
                        session_id,
                        &["pending"],
                        "processing",
                        Some("fail_later"),
                        Some(now + FAIL_LATER_MS),
                        now,
                    )
                    .await?
            }
            Outcome::PayAfterExpiry => {
                let due = expires_at.max(now) + PAY_LATE_AFTER_EXPIRY_MS;
                self.db
                    .move_sandbox_payment(
                        session_id,
                        &["pending"],
                        "pending",
                        Some("pay_late"),
                        Some(due),
                        now,
                    )
                    .await?
            }
        };
        let payment = self.db.sandbox_payment(session_id).await?;
        if let Some(payment) = &payment {
            // A decision made before is told again (as wallets resend notifications that may
            // have been lost).
            if moved || payment.status != "pending" {
                self.notify(payment).await;
            }
        }
        Ok(payment)
    }

    /// Carries out scripted steps that are due (a payment that fails after processing, one paid
    /// after expiry). Every instance runs it; the record's compare-and-set does each step once.
    pub async fn run_scripts(&self, now: UnixMillis) -> Result<(), crate::db::DbError> {
        for payment in self.db.sandbox_scripts_due(now).await? {
            let moved = match payment.script.as_deref() {
                Some("fail_later") => {
                    self.db
                        .move_sandbox_payment(
                            &payment.session_id,
                            &["processing"],
                            "declined",
                            None,
                            None,
                            now,
                        )
                        .await?
                }
                Some("pay_late") => {
                    self.db
                        .move_sandbox_payment(
                            &payment.session_id,
                            &["pending", "closed"],
                            "paid",
                            None,
                            None,
                            now,
                        )
                        .await?
                }
                _ => false,
            };
            if moved {
                if let Some(payment) = self.db.sandbox_payment(&payment.session_id).await? {
                    tracing::info!(session_id = %payment.session_id, status = %payment.status, "sandbox script step");
                    self.notify(&payment).await;
                }
            }
        }
        Ok(())
    }

    /// Sends the server a signed notification of the payment's state. A lost notification is
    /// not lost money: the server asks the wallet (`query`) when none came.
    async fn notify(&self, payment: &SandboxPayment) {
        let body = serde_json::json!({
            "id": new_id("ntf"),
            "session_id": payment.session_id,
            "trade_no": payment.trade_no,
            "status": payment.status,
            "amount": { "minor_units": payment.amount_minor, "currency": payment.currency },
        })
        .to_string();
        let signature = webhooks::signature_header(&self.secret, self.clock.now() / 1000, &body);
        let sent = self
            .client
            .post(self.notify_url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                tracing::warn!(session_id = %payment.session_id, status = %response.status(), "the server refused a sandbox notification")
            }
            Err(error) => {
                tracing::warn!(session_id = %payment.session_id, %error, "a sandbox notification could not be sent")
            }
        }
    }

    fn state_of(payment: &SandboxPayment) -> Result<PaymentState, ProviderError> {
        Ok(match payment.status.as_str() {
            "pending" => PaymentState::Pending,
            "processing" => PaymentState::Processing,
            "paid" => PaymentState::Succeeded {
                refs: ProviderRefs {
                    transaction_id: Some(payment.trade_no.clone()),
                    ..ProviderRefs::default()
                },
                paid: Some(sandbox_amount(payment)?),
            },
            "declined" => PaymentState::Failed { reason: "declined in the sandbox".into() },
            "closed" => PaymentState::Closed,
            other => return Err(ProviderError::InvalidRequest(format!("unknown sandbox status {other}"))),
        })
    }
}

fn sandbox_amount(payment: &SandboxPayment) -> Result<Amount, ProviderError> {
    let currency =
        Currency::parse(&payment.currency).map_err(|e| ProviderError::InvalidRequest(e.to_string()))?;
    let minor =
        u64::try_from(payment.amount_minor).map_err(|e| ProviderError::InvalidRequest(e.to_string()))?;
    Amount::new(minor, currency).map_err(|e| ProviderError::InvalidRequest(e.to_string()))
}

fn store_error(error: crate::db::DbError) -> ProviderError {
    ProviderError::Retryable(error.to_string())
}

#[async_trait]
impl PaymentProvider for SandboxProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn offers(&self) -> Vec<WalletOffer> {
        WALLETS
            .iter()
            .map(|(id, name, _)| WalletOffer {
                wallet: WalletOption {
                    id: WalletId::parse(*id).expect("sandbox wallet ids are valid"),
                    name: (*name).to_owned(),
                },
                currencies: Vec::new(),
                min_minor_units: 1,
                max_minor_units: MAX_MINOR_UNITS,
                whole_units_only: Vec::new(),
            })
            .collect()
    }

    fn livemode(&self) -> bool {
        false
    }

    async fn create(&self, request: &PaymentRequest<'_>) -> Result<CreatedPayment, ProviderError> {
        let flow = WALLETS
            .iter()
            .find(|(id, _, _)| *id == request.wallet_id.as_str())
            .map(|(_, _, flow)| *flow)
            .ok_or_else(|| {
                ProviderError::InvalidRequest(format!("sandbox has no wallet {}", request.wallet_id))
            })?;
        let pay_url = request
            .public_base
            .join(&Self::pay_path(request.session_id.as_str()))
            .map_err(|e| ProviderError::Misconfigured(format!("cannot build the pay page URL: {e}")))?
            .to_string();
        let trade_no = new_id("sbx");
        self.db
            .insert_sandbox_payment(&SandboxPayment {
                session_id: request.session_id.to_string(),
                trade_no: trade_no.clone(),
                amount_minor: request.amount.minor_units() as i64,
                currency: request.amount.currency().to_string(),
                status: "pending".into(),
                script: None,
                due_at: None,
                expires_at: request.expires_at,
                refunded: 0,
                updated_at: self.clock.now(),
            })
            .await
            .map_err(store_error)?;
        let next_action = match (flow, request.device) {
            (Flow::QrOrRedirectOnMobile, DeviceKind::Desktop) | (Flow::QrWithAppLink, _) => {
                NextAction::Qr { payload: pay_url }
            }
            _ => NextAction::Redirect { url: pay_url },
        };
        Ok(CreatedPayment {
            next_action,
            refs: ProviderRefs { order_id: Some(trade_no), ..ProviderRefs::default() },
        })
    }

    async fn query(&self, payment: &PaymentRef<'_>) -> Result<PaymentState, ProviderError> {
        match self.db.sandbox_payment(payment.session_id.as_str()).await.map_err(store_error)? {
            Some(record) => Self::state_of(&record),
            None => Err(ProviderError::InvalidRequest("no such sandbox payment".into())),
        }
    }

    async fn close(&self, payment: &PaymentRef<'_>) -> Result<(), ProviderError> {
        let id = payment.session_id.as_str();
        let record = self.db.sandbox_payment(id).await.map_err(store_error)?;
        match record {
            // A payment scripted to be paid after expiry goes through whatever the merchant does.
            Some(record) if record.script.as_deref() == Some("pay_late") => Ok(()),
            Some(record) if record.status == "pending" => {
                self.db
                    .move_sandbox_payment(id, &["pending"], "closed", None, None, self.clock.now())
                    .await
                    .map_err(store_error)?;
                Ok(())
            }
            Some(record) if record.status == "closed" || record.status == "declined" => Ok(()),
            Some(_) => Err(ProviderError::InvalidRequest("the payment was already made".into())),
            None => Ok(()),
        }
    }

    async fn refund(&self, refund: &RefundRequest<'_>) -> Result<RefundState, ProviderError> {
        let id = refund.payment.session_id.as_str();
        let minor = refund.amount.minor_units() as i64;
        if self.db.refund_sandbox_payment(id, minor, self.clock.now()).await.map_err(store_error)? {
            Ok(RefundState::Succeeded { provider_refund_id: Some(format!("sbxr_{}", refund.refund_id)) })
        } else {
            Err(ProviderError::Declined("the sandbox payment is not paid, or less is left to refund".into()))
        }
    }

    async fn query_refund(&self, refund: &RefundRef<'_>) -> Result<RefundState, ProviderError> {
        Ok(RefundState::Succeeded { provider_refund_id: refund.provider_refund_id.map(str::to_owned) })
    }

    async fn verify_notification(&self, body: &[u8], headers: &HeaderMap) -> Result<Notification, Rejection> {
        let header = headers
            .get(SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok())
            .ok_or_else(|| Rejection::BadSignature("no signature".into()))?;
        let text =
            std::str::from_utf8(body).map_err(|_| Rejection::BadSignature("the body is not UTF-8".into()))?;
        webhooks::verify(&self.secret, header, text, self.clock.now() / 1000)
            .map_err(|error| Rejection::BadSignature(format!("{error:?}")))?;
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|_| Rejection::Invalid("the body is not JSON".into()))?;
        let field = |name: &str| {
            value[name].as_str().map(str::to_owned).ok_or_else(|| Rejection::Invalid(format!("no {name}")))
        };
        let (id, session_id, status) = (field("id")?, field("session_id")?, field("status")?);
        let amount: Amount = serde_json::from_value(value["amount"].clone())
            .map_err(|_| Rejection::Invalid("no amount".into()))?;
        let record = SandboxPayment {
            session_id: session_id.clone(),
            trade_no: field("trade_no")?,
            amount_minor: amount.minor_units() as i64,
            currency: amount.currency().to_string(),
            status,
            script: None,
            due_at: None,
            expires_at: 0,
            refunded: 0,
            updated_at: 0,
        };
        let state = Self::state_of(&record).map_err(|e| Rejection::Invalid(e.to_string()))?;
        Ok(Notification { id, notice: Notice::Payment { session_id, state, amount: Some(amount) } })
    }

    async fn self_check(&self) -> Result<(), ProviderError> {
        self.db.ping().await.map_err(store_error)
    }

    fn acknowledge(&self, ack: Ack) -> Reply {
        match ack {
            Ack::Accepted => Reply::empty(StatusCode::NO_CONTENT),
            Ack::Refused => Reply::text(StatusCode::BAD_REQUEST, "refused"),
            Ack::RetryLater => Reply::text(StatusCode::SERVICE_UNAVAILABLE, "try again"),
        }
    }
}
