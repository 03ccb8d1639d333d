//! PayPal's REST API over HTTP: an OAuth 2.0 client-credentials token (`POST /v1/oauth2/token`,
//! HTTP Basic `client_id:secret`, `grant_type=client_credentials`), kept until shortly before its
//! `expires_in` and fetched again then, or at once when PayPal answers a call `401`: that call is
//! sent once more with the new token (a `401` means PayPal did nothing with it).
//!
//! Retries: a `GET` is sent a second time after a transport failure or a `5xx` (reading twice is
//! harmless). A `POST` is not repeated here: each carries a `PayPal-Request-Id`, so the payments
//! layer repeats it safely later (the sweep captures and refunds again with the same id), and a
//! failed create is answered to the widget at once, as the contract wants.

use super::wire::ApiError;
use crate::{
    domain::{SharedClock, UnixMillis},
    providers::{settings::Secret, ProviderError},
};
use reqwest::{header, Method, StatusCode};
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// A token is renewed this long before PayPal says it expires (or at half its life if shorter).
const RENEW_BEFORE_SECS: u64 = 300;
/// The pause before a `GET` is sent again.
const GET_RETRY_PAUSE_MS: u64 = 200;

struct Token {
    value: String,
    /// When to fetch a new one, by the server's clock.
    renew_at: UnixMillis,
}

/// What went wrong with a call.
#[derive(Debug)]
pub enum CallError {
    /// No answer: connection refused, reset, timed out.
    Transport(String),
    /// PayPal answered with an error status.
    Api(Box<ApiError>),
}

impl CallError {
    pub fn into_provider_error(self) -> ProviderError {
        match self {
            CallError::Transport(why) => ProviderError::Retryable(why),
            CallError::Api(error) => (*error).into_provider_error(),
        }
    }

    /// PayPal's `details[0].issue` of an error answer.
    pub fn issue(&self) -> Option<&str> {
        match self {
            CallError::Api(error) => error.issue.as_deref(),
            CallError::Transport(_) => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            CallError::Api(error) => Some(error.status),
            CallError::Transport(_) => None,
        }
    }
}

pub struct Client {
    http: reqwest::Client,
    base: Url,
    client_id: String,
    client_secret: Secret,
    token: tokio::sync::Mutex<Option<Token>>,
    clock: SharedClock,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl Client {
    pub fn new(
        base: Url,
        client_id: String,
        client_secret: Secret,
        timeout: Duration,
        clock: SharedClock,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("wallet-checkout/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base, client_id, client_secret, token: tokio::sync::Mutex::new(None), clock })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// A token that is still good, fetched when there is none, it is due for renewal, or
    /// `stale` is the one PayPal just refused.
    async fn token(&self, stale: Option<&str>) -> Result<String, CallError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            if self.clock.now() < token.renew_at && stale != Some(token.value.as_str()) {
                return Ok(token.value.clone());
            }
        }
        let fresh = self.fetch_token().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    async fn fetch_token(&self) -> Result<Token, CallError> {
        let response = self
            .http
            .post(self.url("/v1/oauth2/token"))
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|e| CallError::Transport(transport_words(&e)))?;
        let status = response.status();
        let body = read_json(response).await?;
        if !status.is_success() {
            return Err(CallError::Api(Box::new(ApiError::from_body(status.as_u16(), &body))));
        }
        let value = body
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| CallError::Transport("PayPal's token answer has no access_token".into()))?;
        let expires_in = body.get("expires_in").and_then(Value::as_u64).unwrap_or(0);
        let margin = RENEW_BEFORE_SECS.min(expires_in / 2);
        Ok(Token {
            value: value.to_owned(),
            renew_at: self.clock.now().saturating_add(
                i64::try_from(expires_in.saturating_sub(margin)).unwrap_or(i64::MAX / 2_000) * 1_000,
            ),
        })
    }

    /// Fetches a token now (`providers check`): proves the client id and secret.
    pub async fn authenticate(&self) -> Result<(), CallError> {
        self.token(None).await.map(|_| ())
    }

    /// Calls the API with a bearer token; answers the JSON body of a `2xx`. `body` is sent as it
    /// is (`application/json`), `request_id` as `PayPal-Request-Id`.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<Value, CallError> {
        let retries_allowed = if method == Method::GET { 1 } else { 0 };
        let mut attempt = 0;
        loop {
            match self.call_once(method.clone(), path, body, request_id).await {
                Err(error)
                    if attempt < retries_allowed
                        && (matches!(&error, CallError::Transport(_))
                            || matches!(error.status(), Some(500..=599))) =>
                {
                    attempt += 1;
                    tracing::warn!(path, ?error, "PayPal did not answer a read; asking once more");
                    tokio::time::sleep(Duration::from_millis(GET_RETRY_PAUSE_MS)).await;
                }
                other => return other,
            }
        }
    }

    async fn call_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<Value, CallError> {
        let mut token = self.token(None).await?;
        for fresh in [false, true] {
            let mut request = self
                .http
                .request(method.clone(), self.url(path))
                .bearer_auth(&token)
                .header(header::ACCEPT, "application/json")
                .header("Prefer", "return=representation");
            if let Some(id) = request_id {
                request = request.header("PayPal-Request-Id", id);
            }
            if let Some(body) = body {
                request = request.header(header::CONTENT_TYPE, "application/json").body(body.to_owned());
            }
            let response = request.send().await.map_err(|e| CallError::Transport(transport_words(&e)))?;
            let status = response.status();
            if status == StatusCode::UNAUTHORIZED && !fresh {
                // Expired or revoked before its time: one new token, one more try.
                tracing::info!(path, "PayPal refused the access token; fetching a new one");
                token = self.token(Some(&token)).await?;
                continue;
            }
            let json = read_json(response).await?;
            if status.is_success() {
                return Ok(json);
            }
            return Err(CallError::Api(Box::new(ApiError::from_body(status.as_u16(), &json))));
        }
        unreachable!("the loop returns on its second pass")
    }
}

/// The body as JSON; an empty body is `null`, a body that is not JSON an error body of its own.
async fn read_json(response: reqwest::Response) -> Result<Value, CallError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| CallError::Transport(transport_words(&e)))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).or_else(|_| {
        if status.is_success() {
            Err(CallError::Transport(format!("PayPal answered HTTP {status} with a body that is not JSON")))
        } else {
            Ok(Value::Null)
        }
    })
}

/// A transport failure in words that name no secret (reqwest's errors carry the URL, never
/// headers; the URL holds no credential).
fn transport_words(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "PayPal did not answer in time".into()
    } else if error.is_connect() {
        "PayPal could not be reached".into()
    } else {
        format!("the call to PayPal failed: {error}")
    }
}
