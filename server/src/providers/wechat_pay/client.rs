//! Calls to WeChat Pay's APIv3: each request signed (`Authorization`), each answer's signature
//! verified before its body is read, and WeChat Pay's error answers (`{"code", "message"}` with
//! an HTTP status) turned into the provider's typed errors.
//!
//! Only calls that are safe to repeat are retried here, once, after a transport failure or a 5xx
//! or 429 answer: the queries (GET) and the close (closing a closed order changes nothing).
//! Orders are not retried (a second `code_url` for the same `out_trade_no` is WeChat Pay's to
//! refuse, and the widget's retry makes a new session), nor refunds (the sweep asks again for a
//! refund that got no answer, with the same `out_refund_no`, which WeChat Pay treats as the same
//! refund).

use super::crypto::{self, SignedHeaders, WechatPayKeys};
use crate::providers::ProviderError;
use reqwest::{header, Method, StatusCode};
use rsa::RsaPrivateKey;
use serde::Deserialize;
use std::time::Duration;
use url::Url;

/// Pause before the one retry of an idempotent call.
const RETRY_PAUSE_MS: u64 = 300;

/// What the API answered, its signature verified where it carried one.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// Whether the answer was signed by a configured WeChat Pay key (every successful answer
    /// must be; an error answer without signature is only believed as far as its status goes).
    pub verified: bool,
}

/// WeChat Pay's error body.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl Answer {
    /// The error code of a verified error answer (`ORDER_NOT_EXIST`), else empty.
    pub fn code(&self) -> String {
        if !self.verified {
            return String::new();
        }
        serde_json::from_slice::<ErrorBody>(&self.body).map(|body| body.code).unwrap_or_default()
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ProviderError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ProviderError::InvalidRequest(format!("WeChat Pay's answer cannot be read: {e}")))
    }

    /// The typed error for an answer that is not a success.
    pub fn error(&self) -> ProviderError {
        let body: ErrorBody = if self.verified {
            serde_json::from_slice(&self.body).unwrap_or_default()
        } else {
            ErrorBody {
                code: "UNSIGNED".into(),
                message: "an error answer without a WeChat Pay signature".into(),
            }
        };
        let what = format!("HTTP {} {}: {}", self.status.as_u16(), body.code, truncate(&body.message, 200));
        match (self.status.as_u16(), body.code.as_str()) {
            (429, _) | (500..=599, _) => ProviderError::Retryable(what),
            (_, "SYSTEM_ERROR" | "FREQUENCY_LIMITED" | "BANKERROR" | "BANK_ERROR") => ProviderError::Retryable(what),
            (401, _) => ProviderError::Misconfigured(format!(
                "{what} (WeChat Pay refused the request's signature: check mchid, merchant_serial_no and merchant_private_key_file)"
            )),
            (_, "APPID_MCHID_NOT_MATCH" | "MCH_NOT_EXISTS" | "NO_AUTH" | "NOAUTH" | "MCH_NOT_AUTH") => {
                ProviderError::Misconfigured(what)
            }
            (
                _,
                "NOT_ENOUGH" | "TRADE_ERROR" | "RULE_LIMIT" | "USER_ACCOUNT_ABNORMAL" | "ACCOUNT_ERROR" | "ORDER_CLOSED"
                | "ORDERPAID" | "ORDER_PAID",
            ) => ProviderError::Declined(what),
            (403, _) => ProviderError::Declined(what),
            _ => ProviderError::InvalidRequest(what),
        }
    }
}

fn truncate(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// A signed client of WeChat Pay's API for one merchant.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    mchid: String,
    serial_no: String,
    key: RsaPrivateKey,
    keys: WechatPayKeys,
    /// Sent as `Wechatpay-Serial`: the key WeChat Pay is asked to answer with (the public key's
    /// id where one is configured, else a platform certificate's serial).
    answer_serial: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("mchid", &self.mchid)
            .field("serial_no", &self.serial_no)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl Client {
    pub fn new(
        base: Url,
        mchid: String,
        serial_no: String,
        key: RsaPrivateKey,
        keys: WechatPayKeys,
        answer_serial: Option<String>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("wallet-checkout-server/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base, mchid, serial_no, key, keys, answer_serial })
    }

    /// The keys WeChat Pay signs with.
    pub fn keys(&self) -> &WechatPayKeys {
        &self.keys
    }

    /// `path` below the base URL (`v3/pay/transactions/native`), with its query.
    fn url(&self, path: &str) -> Result<Url, ProviderError> {
        let mut base = self.base.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base.join(path).map_err(|e| ProviderError::Misconfigured(format!("base_url cannot take {path}: {e}")))
    }

    /// One signed call; the answer's signature is checked.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, ProviderError> {
        let url = self.url(path)?;
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let path_and_query = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let nonce = crypto::nonce();
        let authorization = crypto::authorization(
            &self.key,
            &self.mchid,
            &self.serial_no,
            &crypto::RequestToSign {
                method: method.as_str(),
                path_and_query: &path_and_query,
                timestamp,
                nonce: &nonce,
                body: &body,
            },
        );
        let mut request = self
            .http
            .request(method.clone(), url)
            .header(header::AUTHORIZATION, authorization)
            .header(header::ACCEPT, "application/json");
        if let Some(serial) = &self.answer_serial {
            request = request.header("Wechatpay-Serial", serial);
        }
        if method != Method::GET {
            request = request.header(header::CONTENT_TYPE, "application/json").body(body);
        }
        let response = request.send().await.map_err(|error| {
            let kind = if error.is_timeout() { "timed out" } else { "failed" };
            ProviderError::Retryable(format!("the call to WeChat Pay {kind}: {}", without_url(&error)))
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|error| {
                ProviderError::Retryable(format!(
                    "WeChat Pay's answer did not arrive whole: {}",
                    without_url(&error)
                ))
            })?
            .to_vec();
        let signed = SignedHeaders::from_headers(&headers);
        let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        let verified = if signed.is_signed() {
            match self.keys.verify(&signed, &body, time::OffsetDateTime::now_utc().unix_timestamp()) {
                Ok(()) => true,
                Err(_) if transient => false,
                Err(why) => {
                    return Err(ProviderError::Misconfigured(format!(
                        "WeChat Pay's answer (HTTP {}) does not verify: {why}; check wechatpay_public_key_id/_file and platform_certificate_files",
                        status.as_u16()
                    )))
                }
            }
        } else {
            false
        };
        if status.is_success() && !verified {
            return Err(ProviderError::Misconfigured(format!(
                "WeChat Pay's answer (HTTP {}) carries no signature; is base_url WeChat Pay's API?",
                status.as_u16()
            )));
        }
        Ok(Answer { status, body, verified })
    }

    /// A call that is safe to repeat: tried once more after a transient failure.
    pub async fn call_idempotent(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Answer, ProviderError> {
        let first = self.call(method.clone(), path, body).await;
        let transient = match &first {
            Err(ProviderError::Retryable(_)) => true,
            Ok(answer) => answer.status.is_server_error() || answer.status == StatusCode::TOO_MANY_REQUESTS,
            Err(_) => false,
        };
        if !transient {
            return first;
        }
        tokio::time::sleep(Duration::from_millis(RETRY_PAUSE_MS)).await;
        self.call(method, path, body).await
    }
}

/// A transport error's text without the URL (it holds nothing secret, but the query does not
/// belong in the shopper-facing path either).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "WeChat Pay");
    }
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
