//! Webhooks to the merchant: every event in the outbox is sent, signed, to the configured
//! endpoint, at least once. A failed delivery is tried again with exponential backoff and
//! jitter for about half a day; a crash loses nothing, because the outbox is in the database.
//!
//! The signature header is `Wallet-Checkout-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`
//! over `"<t>.<raw body>"` with the endpoint's secret; receivers check it and the timestamp's age
//! (README: Webhooks).
//!
//! The endpoint's URL may carry credentials and its secret signs what the merchant trusts: both
//! are sealed by the vault at rest, like the providers' keys, so a copy of the database (a
//! backup) holds neither; what is shown of the URL has its credentials masked.

use crate::{
    db::{Db, WebhookEndpoint},
    domain::{new_id, new_secret, SharedClock, UnixMillis},
    egress::{self, EgressPolicy, GuardedResolver},
    vault::Vault,
};
use anyhow::Context;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::{sync::Arc, time::Duration};

pub const SIGNATURE_HEADER: &str = "Wallet-Checkout-Signature";
pub const EVENT_ID_HEADER: &str = "Wallet-Checkout-Event-Id";

/// Oldest signature timestamp a receiver should accept, in seconds.
pub const SIGNATURE_TOLERANCE_SECS: i64 = 300;
/// Due events read at once; each is leased only as its turn comes.
const BATCH: i64 = 20;
/// Longest pause between two attempts.
const MAX_BACKOFF_MS: i64 = 3_600_000;

/// `t=<timestamp>,v1=<signature>` for a body sent at `timestamp` (Unix seconds).
pub fn signature_header(secret: &str, timestamp: i64, body: &str) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, body))
}

fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyError {
    Malformed,
    TooOld,
    BadSignature,
}

/// What a receiver does: checks the header against the raw body, the secret and the time
/// (`now` in Unix seconds). Comparison is constant-time.
pub fn verify(secret: &str, header: &str, body: &str, now: i64) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now - timestamp).abs() > SIGNATURE_TOLERANCE_SECS {
        return Err(VerifyError::TooOld);
    }
    for signature in signatures {
        let Some(bytes) = decode_hex(signature) else { continue };
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        if mac.verify_slice(&bytes).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::BadSignature)
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// Pause before attempt `attempts + 1`: `base * 2^attempts`, capped at an hour, with jitter
/// (a random share of up to a fifth) so that many failed events do not come back at once.
pub fn backoff_ms(attempts: i64, base_ms: i64, jitter: f64) -> i64 {
    let exponential = base_ms.saturating_mul(1_i64 << attempts.clamp(0, 20)).min(MAX_BACKOFF_MS);
    exponential + (exponential as f64 * 0.2 * jitter.clamp(0.0, 1.0)) as i64
}

/// How deliveries are tried.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryPolicy {
    /// The first retry comes after this long.
    pub retry_base_ms: i64,
    /// After this many failed attempts the event is given up.
    pub max_attempts: i64,
    /// How long one delivery may take.
    pub timeout_ms: i64,
}

impl DeliveryPolicy {
    /// How long a worker owns the event it is sending: the attempt and the writing down of its
    /// outcome. An event whose worker stopped goes to another after that long.
    pub fn lease_ms(&self) -> i64 {
        2 * self.timeout_ms
    }
}

const URL_PURPOSE: &str = "webhook:url";
const SECRET_PURPOSE: &str = "webhook:secret";

/// The webhook endpoint, opened.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    /// Where events are sent, credentials and all.
    pub url: String,
    /// The URL as staff and the audit log see it (credentials masked).
    pub shown_url: String,
    pub secret: String,
    pub enabled: bool,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
}

fn open_endpoint(vault: &Vault, stored: WebhookEndpoint) -> anyhow::Result<Endpoint> {
    let open = |purpose: &str, sealed: &str| -> anyhow::Result<String> {
        String::from_utf8(vault.open_sealed(purpose, sealed)?).context("a sealed webhook value is not text")
    };
    let url = match &stored.url_sealed {
        Some(sealed) => open(URL_PURPOSE, sealed)?,
        None => stored.url.clone(),
    };
    let secret = if stored.url_sealed.is_some() {
        open(SECRET_PURPOSE, &stored.secret)?
    } else {
        stored.secret.clone()
    };
    Ok(Endpoint {
        id: stored.id,
        shown_url: masked_url(&url),
        url,
        secret,
        enabled: stored.enabled != 0,
        created_at: stored.created_at,
        updated_at: stored.updated_at,
    })
}

/// A webhook URL: absolute http(s), https in live mode (events carry payment data), and not an
/// internal address (checked again, after resolving the name, at every delivery).
pub fn check_url(
    raw: &str,
    livemode: bool,
    egress: &crate::egress::EgressPolicy,
) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|_| "url must be an absolute URL".to_owned())?;
    let allowed = match url.scheme() {
        "https" => true,
        "http" => !livemode,
        _ => false,
    };
    if !allowed || url.host().is_none() || raw.len() > 2048 {
        return Err(if livemode {
            "url must be an https URL of at most 2048 characters"
        } else {
            "url must be an http or https URL of at most 2048 characters"
        }
        .to_owned());
    }
    egress.check_url(&url).map_err(|refusal| {
        format!("url is refused: {refusal} (a receiver on your own network needs its range in webhook_allowed_networks)")
    })?;
    Ok(url)
}

/// The webhook endpoint, if one is set.
pub async fn endpoint(store: &Db, vault: &Vault) -> anyhow::Result<Option<Endpoint>> {
    store.webhook_endpoint().await?.map(|stored| open_endpoint(vault, stored)).transpose()
}

/// Sets where events go and whether they are sent (the URL checked by the caller); a new
/// endpoint gets a new signing secret. Answers the endpoint and whether it is new.
pub async fn set_endpoint(
    store: &Db,
    vault: &Vault,
    url: &url::Url,
    enabled: bool,
    now: UnixMillis,
) -> anyhow::Result<(Endpoint, bool)> {
    let created = store
        .set_webhook_endpoint(
            &new_id("whe"),
            &masked_url(url.as_str()),
            &vault.seal(URL_PURPOSE, url.as_str().as_bytes()),
            enabled,
            &vault.seal(SECRET_PURPOSE, new_secret("whsec_", 32).as_bytes()),
            now,
        )
        .await?;
    let endpoint = endpoint(store, vault).await?.context("the webhook endpoint vanished")?;
    Ok((endpoint, created))
}

/// A new signing secret; `None` when no endpoint is set.
pub async fn rotate_secret(store: &Db, vault: &Vault, now: UnixMillis) -> anyhow::Result<Option<Endpoint>> {
    let sealed = vault.seal(SECRET_PURPOSE, new_secret("whsec_", 32).as_bytes());
    if !store.rotate_webhook_secret(&sealed, now).await? {
        return Ok(None);
    }
    endpoint(store, vault).await
}

/// Seals an endpoint stored before URLs and secrets were sealed (once, at start).
pub async fn seal_stored_endpoint(store: &Db, vault: &Vault) -> anyhow::Result<()> {
    if let Some(stored) = store.webhook_endpoint().await?.filter(|stored| stored.url_sealed.is_none()) {
        store
            .seal_webhook_endpoint(
                &stored.id,
                &masked_url(&stored.url),
                &vault.seal(URL_PURPOSE, stored.url.as_bytes()),
                &vault.seal(SECRET_PURPOSE, stored.secret.as_bytes()),
            )
            .await?;
        tracing::info!("the webhook endpoint's URL and secret are sealed at rest now");
    }
    Ok(())
}

/// The URL as staff and the audit log see it: credentials in it (`https://user:pass@host/`) are
/// kept for delivery but shown as `****`.
pub fn masked_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("****");
            let _ = url.set_password(None);
            url.into()
        }
        Ok(url) => url.into(),
        Err(_) => "(not a valid URL)".to_owned(),
    }
}

/// The client deliveries go through: no redirects, no proxy from the environment, and only
/// addresses the egress policy allows (names are resolved through it).
pub fn delivery_client(egress: Arc<EgressPolicy>, policy: DeliveryPolicy) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(policy.timeout_ms.unsigned_abs()))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(GuardedResolver::new(egress)))
        .user_agent("wallet-checkout-webhooks/1")
        .build()
        .expect("the HTTP client builds")
}

/// Sends due events every half second, on every instance; leases keep two instances from
/// sending one event at once.
pub fn spawn_worker(
    store: Db,
    vault: Arc<Vault>,
    policy: DeliveryPolicy,
    egress: Arc<EgressPolicy>,
    clock: SharedClock,
) {
    let client = delivery_client(egress.clone(), policy);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = deliver_due(&store, &vault, &client, policy, &egress, &clock).await {
                tracing::error!(%error, "webhook delivery round failed");
            }
        }
    });
}

pub async fn deliver_due(
    store: &Db,
    vault: &Vault,
    client: &reqwest::Client,
    policy: DeliveryPolicy,
    egress: &EgressPolicy,
    clock: &SharedClock,
) -> anyhow::Result<()> {
    let due = store.due_events(clock.now(), BATCH).await?;
    if due.is_empty() {
        return Ok(());
    }
    let endpoint = endpoint(store, vault).await?.filter(|e| e.enabled);
    for id in due {
        // One event leased at a time: a worker that stops holds back one event, for one lease.
        let now = clock.now();
        let Some(event) = store.lease_event(&id, now, now + policy.lease_ms()).await? else {
            continue;
        };
        let Some(endpoint) = &endpoint else {
            store.skip_event(&event.id, now).await?;
            continue;
        };
        let failure = deliver(client, egress, endpoint, &event).await.err();
        let now = clock.now();
        match failure {
            None => {
                store.mark_delivered(&event.id, now).await?;
                tracing::info!(event_id = %event.id, "webhook delivered");
            }
            Some(error) => {
                let attempts = event.attempts + 1;
                let next = (attempts < policy.max_attempts)
                    .then(|| now + backoff_ms(attempts - 1, policy.retry_base_ms, rand::random::<f64>()));
                store.mark_failed(&event.id, &error, next, now).await?;
                tracing::warn!(event_id = %event.id, attempts, %error, gave_up = next.is_none(), "webhook delivery failed");
            }
        }
    }
    Ok(())
}

/// One delivery attempt: `Err` says why it failed, in words for the merchant's staff that name
/// no address, port or internal detail.
async fn deliver(
    client: &reqwest::Client,
    egress: &EgressPolicy,
    endpoint: &Endpoint,
    event: &crate::db::DueEvent,
) -> Result<(), String> {
    let url = url::Url::parse(&endpoint.url)
        .map_err(|_| "delivery failed: the endpoint URL is not valid".to_owned())?;
    egress.check_url(&url).map_err(|refusal| format!("delivery refused: {refusal}"))?;
    // The receiver checks this against its own clock.
    let timestamp = crate::domain::clock::wire_millis() / 1000;
    let outcome = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature_header(&endpoint.secret, timestamp, &event.payload))
        .header(EVENT_ID_HEADER, &event.id)
        .body(event.payload.clone())
        .send()
        .await;
    match outcome {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => {
            Err(format!("delivery failed: the endpoint answered HTTP {}", response.status().as_u16()))
        }
        Err(error) => Err(describe(&error)),
    }
}

/// What went wrong, in our words: never the URL (it may carry credentials) nor the socket error
/// (it would tell which internal ports are open).
fn describe(error: &reqwest::Error) -> String {
    if let Some(refusal) = egress::refusal_in(error) {
        return match refusal {
            egress::Refusal::InternalAddress => format!("delivery refused: {refusal}"),
            egress::Refusal::UnknownName => format!("delivery failed: {refusal}"),
        };
    }
    let why = if error.is_timeout() {
        "the endpoint did not answer in time"
    } else if error.is_connect() {
        "the endpoint could not be reached"
    } else {
        "the request to the endpoint failed"
    };
    format!("delivery failed: {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_changed_body_does_not() {
        let header = signature_header("whsec_x", 1_700_000_000, r#"{"id":"evt_1"}"#);
        assert_eq!(verify("whsec_x", &header, r#"{"id":"evt_1"}"#, 1_700_000_010), Ok(()));
        assert_eq!(
            verify("whsec_x", &header, r#"{"id":"evt_2"}"#, 1_700_000_010),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify("whsec_y", &header, r#"{"id":"evt_1"}"#, 1_700_000_010),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn old_signatures_are_refused_as_replays() {
        let header = signature_header("whsec_x", 1_700_000_000, "{}");
        assert_eq!(verify("whsec_x", &header, "{}", 1_700_000_000 + 301), Err(VerifyError::TooOld));
        assert_eq!(verify("whsec_x", "v1=abc", "{}", 1_700_000_000), Err(VerifyError::Malformed));
    }

    #[test]
    fn the_signature_is_hmac_sha256_over_timestamp_dot_body() {
        // Computed independently: printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec_x
        let header = signature_header("whsec_x", 1_700_000_000, "{}");
        assert_eq!(header, format!("t=1700000000,v1={}", OPENSSL_SIGNATURE));
    }

    const OPENSSL_SIGNATURE: &str = "be8cb8325f2202445260a855532f967e30ad2a9394ce28da66ee02880ddcb661";

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        assert_eq!(backoff_ms(0, 10_000, 0.0), 10_000);
        assert_eq!(backoff_ms(3, 10_000, 0.0), 80_000);
        assert_eq!(backoff_ms(19, 10_000, 0.0), 3_600_000);
        assert_eq!(backoff_ms(1, 10_000, 1.0), 24_000);
    }

    #[test]
    fn credentials_in_a_webhook_url_are_masked() {
        assert_eq!(
            masked_url("https://shop:s3cret@hooks.shop.example/in"),
            "https://****@hooks.shop.example/in"
        );
        assert_eq!(masked_url("https://token@hooks.shop.example/"), "https://****@hooks.shop.example/");
        assert_eq!(masked_url("https://hooks.shop.example/in"), "https://hooks.shop.example/in");
    }
}
