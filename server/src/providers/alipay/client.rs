//! Calls to Alipay's gateway: the common parameters, the request's RSA2 signature, and the
//! response read back only after its signature over the raw `<method>_response` text verified.

use super::crypto;
use crate::providers::ProviderError;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::Value;
use std::time::Duration;
use time::{format_description::FormatItem, macros::format_description, OffsetDateTime, UtcOffset};
use url::Url;

/// `yyyy-MM-dd HH:mm:ss`, the gateway's time format (in GMT+8).
pub const TIME_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// China Standard Time, the zone of every time on Alipay's wire.
pub fn beijing() -> UtcOffset {
    UtcOffset::from_hms(8, 0, 0).expect("+08:00 is an offset")
}

/// A moment (Unix milliseconds) as the gateway writes times.
pub fn gateway_time(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(beijing())
        .format(TIME_FORMAT)
        .expect("the time formats")
}

/// A gateway time read back as Unix milliseconds.
pub fn parse_gateway_time(text: &str) -> Option<i64> {
    let local = time::PrimitiveDateTime::parse(text, TIME_FORMAT).ok()?;
    Some(local.assume_offset(beijing()).unix_timestamp() * 1000)
}

/// What Alipay answered inside a verified `<method>_response`.
#[derive(Debug, Clone)]
pub struct Reply {
    pub code: String,
    pub sub_code: Option<String>,
    pub body: Value,
}

impl Reply {
    pub fn ok(&self) -> bool {
        self.code == "10000"
    }

    pub fn field(&self, name: &str) -> Option<&str> {
        self.body.get(name).and_then(Value::as_str).filter(|value| !value.is_empty())
    }

    /// `code msg: sub_code sub_msg`, for errors and logs (never a secret in it).
    pub fn describe(&self) -> String {
        let text = |name: &str| self.body.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
        format!("{} {}: {} {}", self.code, text("msg"), text("sub_code"), text("sub_msg")).trim().to_owned()
    }

    /// The failure as the caller's typed error (the code classes of Alipay's 公共错误码).
    pub fn error(&self) -> ProviderError {
        let sub_code = self.sub_code.as_deref().unwrap_or("");
        let describe = self.describe();
        match self.code.as_str() {
            "20000" => ProviderError::Retryable(describe),
            "20001" | "40006" => ProviderError::Misconfigured(describe),
            "40002"
                if sub_code.contains("invalid-signature")
                    || sub_code.contains("invalid-app-id")
                    || sub_code.contains("invalid-app-auth-token")
                    || sub_code.contains("invalid-sign-type") =>
            {
                ProviderError::Misconfigured(describe)
            }
            "40004" if sub_code == "ACQ.SYSTEM_ERROR" || sub_code.ends_with("SYSTEM_ERROR") => {
                ProviderError::Retryable(describe)
            }
            "40004" if sub_code == "ACQ.INVALID_PARAMETER" || sub_code == "ACQ.INVALID_PARAM" => {
                ProviderError::InvalidRequest(describe)
            }
            "40004" if sub_code == "ACQ.ACCESS_FORBIDDEN" || sub_code == "ACQ.PARTNER_ERROR" => {
                ProviderError::Misconfigured(describe)
            }
            "40004" => ProviderError::Declined(describe),
            _ => ProviderError::InvalidRequest(describe),
        }
    }
}

/// The app's gateway: who it is, its keys, where Alipay is.
pub struct Gateway {
    pub url: Url,
    pub app_id: String,
    app_key: RsaPrivateKey,
    alipay_key: RsaPublicKey,
    http: reqwest::Client,
}

impl Gateway {
    pub fn new(
        url: Url,
        app_id: String,
        app_key: RsaPrivateKey,
        alipay_key: RsaPublicKey,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .build()?;
        Ok(Self { url, app_id, app_key, alipay_key, http })
    }

    pub fn alipay_key(&self) -> &RsaPublicKey {
        &self.alipay_key
    }

    /// Every parameter of a call, with its signature last: the common ones (`app_id`, `method`,
    /// `format=JSON`, `charset=utf-8`, `sign_type=RSA2`, `timestamp` in GMT+8, `version=1.0`),
    /// `extra` (`notify_url`, `return_url`) and `biz_content`.
    pub fn signed_params(
        &self,
        method: &str,
        biz_content: &str,
        extra: &[(&str, &str)],
        now_millis: i64,
    ) -> Vec<(String, String)> {
        let timestamp = gateway_time(now_millis);
        let mut params: Vec<(String, String)> = [
            ("app_id", self.app_id.as_str()),
            ("method", method),
            ("format", "JSON"),
            ("charset", "utf-8"),
            ("sign_type", "RSA2"),
            ("timestamp", timestamp.as_str()),
            ("version", "1.0"),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .chain([("biz_content", biz_content)])
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect();
        let content = crypto::request_content(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        params.push(("sign".to_owned(), crypto::sign(&self.app_key, &content)));
        params
    }

    /// The signed gateway URL a browser is sent to (`alipay.trade.wap.pay`, `page.pay`): every
    /// parameter in the query, as the SDKs' `pageExecute` with GET makes it.
    pub fn page_url(&self, method: &str, biz_content: &str, extra: &[(&str, &str)], now_millis: i64) -> Url {
        let mut url = self.url.clone();
        url.query_pairs_mut().extend_pairs(self.signed_params(method, biz_content, extra, now_millis));
        url
    }

    /// One call: the common parameters and signature in the query, `biz_content` in the form body
    /// (as the official SDKs send it). Only a verified answer comes back.
    pub async fn call(
        &self,
        method: &str,
        biz_content: &str,
        extra: &[(&str, &str)],
    ) -> Result<Reply, ProviderError> {
        let params = self.signed_params(method, biz_content, extra, crate::domain::clock::wire_millis());
        let mut url = self.url.clone();
        url.query_pairs_mut().extend_pairs(params.iter().filter(|(key, _)| key != "biz_content"));
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("biz_content", biz_content)
            .finish();
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded;charset=utf-8")
            .body(body)
            .send()
            .await
            .map_err(|error| ProviderError::Retryable(format!("{method}: {}", transport(&error))))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|error| ProviderError::Retryable(format!("{method}: {}", transport(&error))))?;
        if status.is_server_error() {
            return Err(ProviderError::Retryable(format!("{method}: Alipay answered HTTP {status}")));
        }
        if !status.is_success() {
            return Err(ProviderError::InvalidRequest(format!("{method}: Alipay answered HTTP {status}")));
        }
        self.read_reply(method, &text)
    }

    /// A call that changes nothing twice (query, close, refund query): asked once more when Alipay
    /// could not be reached or answered 5xx / `20000`.
    pub async fn call_idempotent(&self, method: &str, biz_content: &str) -> Result<Reply, ProviderError> {
        match self.call(method, biz_content, &[]).await {
            Err(ProviderError::Retryable(why)) => {
                tracing::info!(method, %why, "Alipay did not answer; asking once more");
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.call(method, biz_content, &[]).await
            }
            Ok(reply) if reply.code == "20000" => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                self.call(method, biz_content, &[]).await
            }
            other => other,
        }
    }

    /// Reads a response body: the `<method>_response` (or `error_response`) node is verified
    /// with Alipay's public key over its exact text in the body, then parsed.
    pub fn read_reply(&self, method: &str, raw: &str) -> Result<Reply, ProviderError> {
        let unreadable =
            || ProviderError::Retryable(format!("{method}: Alipay's answer is not its JSON envelope"));
        let members = crypto::top_level_members(raw).ok_or_else(unreadable)?;
        let node_name = format!("{}_response", method.replace('.', "_"));
        let (_, node) = members
            .iter()
            .find(|(key, _)| *key == node_name)
            .or_else(|| members.iter().find(|(key, _)| key == "error_response"))
            .ok_or_else(unreadable)?;
        let sign = match members.iter().find(|(key, _)| key == "sign") {
            Some((_, value)) => Some(serde_json::from_str::<String>(value).map_err(|_| unreadable())?),
            None => None,
        };
        let body: Value = serde_json::from_str(node).map_err(|_| unreadable())?;
        let code = body.get("code").and_then(Value::as_str).unwrap_or("").to_owned();
        let sub_code = body.get("sub_code").and_then(Value::as_str).map(str::to_owned);
        let reply = Reply { code, sub_code, body };
        match sign {
            Some(sign) if crypto::verify(&self.alipay_key, node, &sign) => Ok(reply),
            Some(_) => Err(ProviderError::Misconfigured(format!(
                "{method}: the answer's signature does not verify with alipay_public_key_file (is it Alipay's public key for this app, not the app's own?)"
            ))),
            // Alipay leaves gateway-level refusals (bad signature, unknown app, missing
            // parameter) unsigned; a success or a business answer must be signed.
            None if !matches!(reply.code.as_str(), "10000" | "40004" | "") => Ok(reply),
            None => Err(ProviderError::Misconfigured(format!("{method}: Alipay's answer carries no signature"))),
        }
    }
}

fn transport(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "Alipay did not answer in time".to_owned()
    } else if error.is_connect() {
        "Alipay's gateway cannot be reached".to_owned()
    } else {
        "the connection to Alipay failed".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_times_are_in_beijing_time() {
        // 2026-11-29 20:08:35 UTC is 2026-11-30 04:08:35 in GMT+8.
        let millis = 1_795_982_915_000;
        assert_eq!(gateway_time(millis), "2026-11-30 04:08:35");
        assert_eq!(parse_gateway_time("2026-11-30 04:08:35"), Some(millis));
        assert_eq!(parse_gateway_time("2026-11-30T04:08:35"), None);
    }
}
