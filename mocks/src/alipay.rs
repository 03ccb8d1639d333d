//! Alipay's Open Platform gateway (`gateway.do`, RSA2) as the server's Alipay adapter meets it:
//!
//! - every call's signature is checked with the app public key "uploaded" to this mock (all
//!   parameters but `sign`, empty ones dropped, sorted, `k=v&...`, SHA256withRSA), with its
//!   common parameters (`app_id`, `method`, `charset`, `sign_type=RSA2`, `timestamp` within
//!   10 minutes of now in GMT+8, `version=1.0`, `biz_content`);
//! - answers come in Alipay's envelope, `{"<method>_response":{...},"sign":"..."}`, signed with
//!   this mock's own "Alipay" key over the exact text of the response node, which is written the
//!   way Alipay's own JSON is (escaped slashes, fields not in alphabetical order, stray spaces),
//!   so that a verifier that re-serialises fails; refusals come as `40002`/`40004` with
//!   `sub_code`;
//! - `alipay.trade.precreate` gives a QR code whose trade exists only once it is "scanned"
//!   (`ACQ.TRADE_NOT_EXIST` before); `alipay.trade.wap.pay` / `page.pay` are signed GET URLs that
//!   open the mock's cashier page, where the shopper pays and returns to `return_url`;
//! - payments and refunds send signed form notifications to `notify_url` and record whether the
//!   answer was exactly `success`.
//!
//! The control side (`/control/...`, and the methods of [`AlipayMock`]) pays, fails or slows the
//! next call, refuses the next one with a code, and counts calls.

mod barcode;

pub use crate::CodeScript;
pub use barcode::{is_payment_code, new_payment_code};

use crate::{KeyRole, Keys};
use axum::{
    body::Bytes,
    extract::{Path as UrlPath, Query, State},
    http::{header, StatusCode, Uri},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use rand::Rng;
use rsa::{
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    signature::{SignatureEncoding, Signer, Verifier},
    RsaPrivateKey, RsaPublicKey,
};
use serde_json::{json, Value};
use sha2::Sha256;
use std::{
    collections::HashMap,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};
use time::{format_description::FormatItem, macros::format_description, OffsetDateTime, UtcOffset};

/// The app id the mock knows (an Open Platform APPID is digits).
pub const APP_ID: &str = "2021000000000042";
/// The merchant's Alipay user id.
pub const SELLER_ID: &str = "2088000000000042";

const TIME_FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

fn beijing_now() -> OffsetDateTime {
    OffsetDateTime::now_utc().to_offset(UtcOffset::from_hms(8, 0, 0).expect("an offset"))
}

/// Now, as Alipay writes times (`yyyy-MM-dd HH:mm:ss`, GMT+8).
pub fn gateway_now() -> String {
    beijing_now().format(TIME_FORMAT).expect("the time formats")
}

/// A time `minutes` from now (negative: ago), as Alipay writes times.
pub fn gateway_time_in(minutes: i64) -> String {
    (beijing_now() + time::Duration::minutes(minutes)).format(TIME_FORMAT).expect("the time formats")
}

/// How a trade stands at the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TradeStatus {
    /// A precreated code nobody scanned: Alipay has no trade yet.
    Precreated,
    WaitBuyerPay,
    Success,
    Closed,
}

impl TradeStatus {
    fn wire(self) -> &'static str {
        match self {
            TradeStatus::Precreated | TradeStatus::WaitBuyerPay => "WAIT_BUYER_PAY",
            TradeStatus::Success => "TRADE_SUCCESS",
            TradeStatus::Closed => "TRADE_CLOSED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Trade {
    pub out_trade_no: String,
    pub trade_no: String,
    pub total_fen: u64,
    pub subject: String,
    pub method: String,
    pub status: TradeStatus,
    pub notify_url: Option<String>,
    pub return_url: Option<String>,
    pub quit_url: Option<String>,
    /// The merchant closed the code before anyone scanned it: the cashier refuses it.
    pub closed_before_scan: bool,
    pub created_at: String,
    pub paid_at: Option<String>,
    /// `(out_request_no, fen)`.
    pub refunds: Vec<(String, u64)>,
}

/// A notification the mock sent, and what the server answered.
#[derive(Debug, Clone)]
pub struct Sent {
    pub out_trade_no: String,
    pub body: String,
    pub status: u16,
    pub answer: String,
}

impl Sent {
    /// Whether the server answered exactly `success`.
    pub fn acknowledged(&self) -> bool {
        self.answer == "success"
    }
}

#[derive(Default)]
struct Inner {
    trades: HashMap<String, Trade>,
    fail_next: u32,
    slow_next_ms: u64,
    refuse_next: Option<(String, String, String)>,
    calls: HashMap<String, u32>,
    sent: Vec<Sent>,
    /// What each payment code does when charged, the codes used (each once), the code payments
    /// still to be decided (when, and whether they pay), and those given back by a cancel.
    codes: HashMap<String, CodeScript>,
    used_codes: std::collections::HashSet<String>,
    pending: HashMap<String, (Option<std::time::Instant>, bool)>,
    money_returned: std::collections::HashSet<String>,
}

struct Shared {
    /// This mock's own key: what Alipay signs answers and notifications with.
    alipay_key: RsaPrivateKey,
    /// The app's public key as uploaded to Alipay: what requests are verified with.
    app_public: RsaPublicKey,
    /// Where the mock is reached (`http://127.0.0.1:<port>/alipay`), no trailing slash.
    base: String,
    files: KeyFiles,
    inner: Mutex<Inner>,
    http: reqwest::Client,
}

/// The key files the mock wrote for the server.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub app_private_key: std::path::PathBuf,
    pub app_public_key: std::path::PathBuf,
    pub alipay_public_key: std::path::PathBuf,
}

/// The Alipay mock; clones share one state.
#[derive(Clone)]
pub struct AlipayMock {
    shared: Arc<Shared>,
}

/// Alipay's string to sign: non-empty values but those in `skip`, sorted by key, `k=v&...`.
pub fn content_to_sign(params: &[(String, String)], skip: &[&str]) -> String {
    let mut pairs: Vec<&(String, String)> =
        params.iter().filter(|(k, v)| !v.is_empty() && !skip.contains(&k.as_str())).collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

fn rsa2_sign(key: &RsaPrivateKey, content: &str) -> String {
    STANDARD.encode(SigningKey::<Sha256>::new(key.clone()).sign(content.as_bytes()).to_bytes())
}

fn rsa2_verify(key: &RsaPublicKey, content: &str, sign: &str) -> bool {
    let Ok(bytes) = STANDARD.decode(sign) else { return false };
    let Ok(signature) = Signature::try_from(bytes.as_slice()) else { return false };
    VerifyingKey::<Sha256>::new(key.clone()).verify(content.as_bytes(), &signature).is_ok()
}

/// A trade number as Alipay gives them (20 digits).
fn new_trade_no() -> String {
    format!("2026{}", rand::thread_rng().gen_range(10u64.pow(15)..10u64.pow(16)))
}

fn yuan(fen: u64) -> String {
    format!("{}.{:02}", fen / 100, fen % 100)
}

fn parse_yuan(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.')?;
    if fraction.len() != 2
        || whole.is_empty()
        || !(whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    Some(whole.parse::<u64>().ok()? * 100 + fraction.parse::<u64>().ok()?)
}

/// A JSON string as Alipay writes it: slashes escaped, non-ASCII text as it is.
fn alipay_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises").replace('/', "\\/")
}

/// A response node written as Alipay writes them: `code` and `msg` first, the rest in the order
/// given (not alphabetical), with stray spaces a re-serialising verifier would lose.
fn node_text(fields: &[(&str, String)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .enumerate()
        .map(|(i, (key, value))| {
            let gap = if i % 2 == 0 { "" } else { " " };
            format!("{gap}\"{key}\":{gap}{}", alipay_string(value))
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

impl AlipayMock {
    /// A mock reached at `base` (`http://host:port/alipay`); writes the app's key pair (as the
    /// merchant makes it) and Alipay's public key into `dir`.
    pub fn new(base: &str, dir: &Path) -> anyhow::Result<Self> {
        Self::with_keys(base, dir, Keys::Shared)
    }

    /// A mock whose key pairs are `keys` (`Keys::Own`: another app, and another Alipay).
    pub fn with_keys(base: &str, dir: &Path, keys: Keys) -> anyhow::Result<Self> {
        let app_key = keys.rsa(KeyRole::AlipayApp);
        let alipay_key = keys.rsa(KeyRole::Alipay);
        std::fs::create_dir_all(dir)?;
        let files = KeyFiles {
            app_private_key: dir.join("alipay-app-private-key.pem"),
            app_public_key: dir.join("alipay-app-public-key.pem"),
            alipay_public_key: dir.join("alipay-public-key.pem"),
        };
        std::fs::write(&files.app_private_key, app_key.to_pkcs8_pem(LineEnding::LF)?.as_bytes())?;
        std::fs::write(&files.app_public_key, app_key.to_public_key().to_public_key_pem(LineEnding::LF)?)?;
        std::fs::write(
            &files.alipay_public_key,
            alipay_key.to_public_key().to_public_key_pem(LineEnding::LF)?,
        )?;
        Ok(Self {
            shared: Arc::new(Shared {
                alipay_key,
                app_public: app_key.to_public_key(),
                base: base.trim_end_matches('/').to_owned(),
                files,
                inner: Mutex::new(Inner::default()),
                http: reqwest::Client::builder().timeout(Duration::from_secs(10)).no_proxy().build()?,
            }),
        })
    }

    /// Serves a new mock on `127.0.0.1:0` in this process (for server tests).
    pub async fn spawn(dir: &Path) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mock = Self::new(&format!("http://{}", listener.local_addr()?), dir)?;
        let router = mock.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(mock)
    }

    pub fn base(&self) -> &str {
        &self.shared.base
    }

    pub fn gateway_url(&self) -> String {
        format!("{}/gateway.do", self.shared.base)
    }

    pub fn key_files(&self) -> &KeyFiles {
        &self.shared.files
    }

    /// `[providers.alipay]` for a server using this mock (the sandbox environment, the gateway
    /// overridden to the mock).
    pub fn config_toml(&self) -> String {
        let path = |p: &std::path::Path| serde_json::to_string(&p.display().to_string()).expect("a string");
        let files = &self.shared.files;
        format!(
            "[providers.alipay]\nenvironment = \"sandbox\"\napp_id = \"{APP_ID}\"\nseller_id = \"{SELLER_ID}\"\n\
             app_private_key_file = {}\napp_public_key_file = {}\nalipay_public_key_file = {}\ngateway_url = {}\n",
            path(&files.app_private_key),
            path(&files.app_public_key),
            path(&files.alipay_public_key),
            serde_json::to_string(&self.gateway_url()).expect("a string"),
        )
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/gateway.do", post(gateway_post).get(gateway_get))
            .route("/qr/{out_trade_no}", get(scan_page))
            .route("/cashier/{out_trade_no}", get(cashier_page))
            .route("/cashier/{out_trade_no}/pay", post(cashier_pay))
            .route("/control/pay/{out_trade_no}", post(control_pay))
            .route("/control/fail-next", post(control_fail_next))
            .route("/control/slow-next", post(control_slow_next))
            .route("/control/calls", get(control_calls))
            .with_state(self.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The next `count` calls to the gateway answer HTTP 500.
    pub fn fail_next(&self, count: u32) {
        self.lock().fail_next = count;
    }

    /// The next call to the gateway is answered after `ms` milliseconds.
    pub fn slow_next(&self, ms: u64) {
        self.lock().slow_next_ms = ms;
    }

    /// The next call is refused with this `code` / `sub_code` (signed like any answer, except
    /// gateway-level `40002`, which Alipay leaves unsigned).
    pub fn refuse_next(&self, code: &str, sub_code: &str, sub_msg: &str) {
        self.lock().refuse_next = Some((code.into(), sub_code.into(), sub_msg.into()));
    }

    /// How many times `method` was called (`alipay.trade.query` ...), signature checked or not.
    pub fn calls(&self, method: &str) -> u32 {
        self.lock().calls.get(method).copied().unwrap_or(0)
    }

    pub fn trade(&self, out_trade_no: &str) -> Option<Trade> {
        let mut inner = self.lock();
        barcode::decide(&mut inner, out_trade_no);
        inner.trades.get(out_trade_no).cloned()
    }

    /// Every notification sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// The shopper scans the code (the trade now exists, waiting for payment).
    pub fn scan(&self, out_trade_no: &str) -> bool {
        let mut inner = self.lock();
        match inner.trades.get_mut(out_trade_no) {
            Some(trade) if trade.status == TradeStatus::Precreated && !trade.closed_before_scan => {
                trade.status = TradeStatus::WaitBuyerPay;
                true
            }
            Some(trade) => trade.status == TradeStatus::WaitBuyerPay,
            None => false,
        }
    }

    /// The shopper pays without the notification being sent (as when it is lost).
    pub fn pay_silently(&self, out_trade_no: &str) -> bool {
        self.scan(out_trade_no);
        let mut inner = self.lock();
        match inner.trades.get_mut(out_trade_no) {
            Some(trade) if trade.status == TradeStatus::WaitBuyerPay => {
                trade.status = TradeStatus::Success;
                trade.paid_at = Some(gateway_now());
                true
            }
            _ => false,
        }
    }

    /// The shopper scans (if need be) and pays; the notification is sent and its answer returned.
    pub async fn pay(&self, out_trade_no: &str) -> Option<Sent> {
        if !self.pay_silently(out_trade_no) {
            return None;
        }
        self.notify(out_trade_no, None).await
    }

    /// The parameters of a notification about a trade as it stands (a refund's when given).
    pub fn notification_params(
        &self,
        out_trade_no: &str,
        refund: Option<&str>,
    ) -> Option<Vec<(String, String)>> {
        let inner = self.lock();
        let trade = inner.trades.get(out_trade_no)?;
        let notify_id: String = rand::thread_rng()
            .sample_iter(rand::distributions::Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let mut params: Vec<(&str, String)> = vec![
            ("gmt_create", trade.created_at.clone()),
            ("charset", "utf-8".into()),
            ("seller_email", "merchant@example.com".into()),
            ("subject", trade.subject.clone()),
            ("buyer_id", "2088102000000001".into()),
            ("invoice_amount", yuan(trade.total_fen)),
            ("notify_id", notify_id),
            (
                "fund_bill_list",
                format!("[{{\"amount\":\"{}\",\"fundChannel\":\"ALIPAYACCOUNT\"}}]", yuan(trade.total_fen)),
            ),
            ("notify_type", "trade_status_sync".into()),
            ("trade_status", trade.status.wire().into()),
            ("receipt_amount", yuan(trade.total_fen)),
            ("buyer_pay_amount", yuan(trade.total_fen)),
            ("app_id", APP_ID.into()),
            ("seller_id", SELLER_ID.into()),
            ("gmt_payment", trade.paid_at.clone().unwrap_or_default()),
            ("notify_time", gateway_now()),
            ("version", "1.0".into()),
            ("out_trade_no", trade.out_trade_no.clone()),
            ("total_amount", yuan(trade.total_fen)),
            ("trade_no", trade.trade_no.clone()),
            ("auth_app_id", APP_ID.into()),
            ("buyer_logon_id", "tes***@example.com".into()),
            ("point_amount", "0.00".into()),
        ];
        let refunded: u64 = trade.refunds.iter().map(|(_, fen)| fen).sum();
        // Payments' notifications carry `refund_fee=0.00` too (Alipay's own examples).
        params.push(("refund_fee", yuan(refunded)));
        if let Some(out_request_no) = refund {
            params.push(("out_biz_no", out_request_no.to_owned()));
            params.push(("gmt_refund", format!("{}.000", gateway_now())));
        }
        Some(params.into_iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.to_owned(), v)).collect())
    }

    /// A notification's form body, signed as Alipay signs them (all but `sign` and `sign_type`).
    pub fn signed_form(&self, params: &[(String, String)]) -> String {
        let sign = rsa2_sign(&self.shared.alipay_key, &content_to_sign(params, &["sign", "sign_type"]));
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in params {
            if key != "sign" && key != "sign_type" {
                form.append_pair(key, value);
            }
        }
        form.append_pair("sign", &sign).append_pair("sign_type", "RSA2");
        form.finish()
    }

    /// Sends the server a notification about the trade (a refund's when given), and records the
    /// answer. `None` without a trade or a `notify_url`.
    pub async fn notify(&self, out_trade_no: &str, refund: Option<&str>) -> Option<Sent> {
        let url = self.trade(out_trade_no)?.notify_url?;
        let body = self.signed_form(&self.notification_params(out_trade_no, refund)?);
        let sent = self.post_notification(&url, out_trade_no, body).await;
        self.lock().sent.push(sent.clone());
        Some(sent)
    }

    /// Posts a notification body to `url` as Alipay does.
    pub async fn post_notification(&self, url: &str, out_trade_no: &str, body: String) -> Sent {
        let answer = self
            .shared
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
            .body(body.clone())
            .send()
            .await;
        let (status, answer) = match answer {
            Ok(response) => (response.status().as_u16(), response.text().await.unwrap_or_default()),
            Err(error) => (0, format!("not delivered: {error}")),
        };
        Sent { out_trade_no: out_trade_no.to_owned(), body, status, answer }
    }

    /// A signed answer in Alipay's envelope: `{"<method>_response":NODE,"sign":"..."}`, the
    /// signature over NODE's exact text.
    fn envelope(&self, method: &str, fields: &[(&str, String)]) -> Response {
        let node = node_text(fields);
        let sign = rsa2_sign(&self.shared.alipay_key, &node);
        let name = format!("{}_response", method.replace('.', "_"));
        let body = format!("{{\"{name}\":{node},\"sign\":\"{sign}\"}}");
        ([(header::CONTENT_TYPE, "text/html;charset=utf-8")], body).into_response()
    }

    /// A business refusal (`40004`), signed.
    fn business_error(&self, method: &str, sub_code: &str, sub_msg: &str) -> Response {
        self.envelope(
            method,
            &[
                ("code", "40004".into()),
                ("msg", "Business Failed".into()),
                ("sub_code", sub_code.into()),
                ("sub_msg", sub_msg.into()),
            ],
        )
    }

    /// A gateway-level refusal, unsigned as Alipay leaves them.
    fn gateway_error(method: Option<&str>, code: &str, msg: &str, sub_code: &str, sub_msg: &str) -> Response {
        let node = node_text(&[
            ("code", code.into()),
            ("msg", msg.into()),
            ("sub_code", sub_code.into()),
            ("sub_msg", sub_msg.into()),
        ]);
        let name = match method {
            Some(method) => format!("{}_response", method.replace('.', "_")),
            None => "error_response".to_owned(),
        };
        ([(header::CONTENT_TYPE, "text/html;charset=utf-8")], format!("{{\"{name}\":{node}}}"))
            .into_response()
    }

    /// Checks a call's common parameters and signature. `Err` is the answer to give.
    fn check_request(
        &self,
        params: &[(String, String)],
        check_time: bool,
    ) -> Result<(String, Value), Box<Response>> {
        let get = |name: &str| {
            params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
        };
        let Some(method) = get("method") else {
            return Err(Box::new(Self::gateway_error(
                None,
                "40001",
                "Missing Required Arguments",
                "isv.missing-method",
                "缺少方法名参数",
            )));
        };
        let method = method.to_owned();
        let m = Some(method.as_str());
        for (name, sub_code) in [
            ("app_id", "isv.missing-app-id"),
            ("sign", "isv.missing-signature"),
            ("sign_type", "isv.missing-signature-type"),
            ("timestamp", "isv.missing-timestamp"),
            ("version", "isv.missing-version"),
        ] {
            if get(name).is_none() {
                return Err(Box::new(Self::gateway_error(
                    m,
                    "40001",
                    "Missing Required Arguments",
                    sub_code,
                    &format!("缺少{name}参数"),
                )));
            }
        }
        if get("app_id") != Some(APP_ID) {
            return Err(Box::new(Self::gateway_error(
                m,
                "40002",
                "Invalid Arguments",
                "isv.invalid-app-id",
                "无效的AppID参数",
            )));
        }
        if get("sign_type") != Some("RSA2") {
            return Err(Box::new(Self::gateway_error(
                m,
                "40002",
                "Invalid Arguments",
                "isv.invalid-signature-type",
                "无效的签名类型",
            )));
        }
        if get("charset").is_some_and(|c| !c.eq_ignore_ascii_case("utf-8"))
            || get("format").is_some_and(|f| f != "JSON")
            || get("version") != Some("1.0")
        {
            return Err(Box::new(Self::gateway_error(
                m,
                "40002",
                "Invalid Arguments",
                "isv.invalid-parameter",
                "参数无效",
            )));
        }
        let time = get("timestamp").and_then(|t| time::PrimitiveDateTime::parse(t, TIME_FORMAT).ok());
        let Some(time) = time else {
            return Err(Box::new(Self::gateway_error(
                m,
                "40002",
                "Invalid Arguments",
                "isv.invalid-timestamp",
                "非法的时间戳参数",
            )));
        };
        let skew = (time.assume_offset(UtcOffset::from_hms(8, 0, 0).expect("an offset"))
            - OffsetDateTime::now_utc())
        .abs();
        if check_time && skew > time::Duration::minutes(10) {
            return Err(Box::new(Self::gateway_error(
                m,
                "40002",
                "Invalid Arguments",
                "isv.invalid-timestamp",
                "非法的时间戳参数",
            )));
        }
        let sign = get("sign").unwrap_or_default();
        if !rsa2_verify(&self.shared.app_public, &content_to_sign(params, &["sign"]), sign) {
            return Err(Box::new(Self::gateway_error(
                m,
                "40002",
                "Invalid Arguments",
                "isv.invalid-signature",
                "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配",
            )));
        }
        let Some(biz) = get("biz_content").and_then(|text| serde_json::from_str::<Value>(text).ok()) else {
            return Err(Box::new(Self::gateway_error(
                m,
                "40001",
                "Missing Required Arguments",
                "isv.missing-biz-content",
                "缺少biz_content参数",
            )));
        };
        Ok((method, biz))
    }

    fn trade_fields(trade: &Trade) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("code", "10000".to_owned()),
            ("msg", "Success".to_owned()),
            ("buyer_logon_id", "tes***@example.com".to_owned()),
            ("trade_status", trade.status.wire().to_owned()),
            ("out_trade_no", trade.out_trade_no.clone()),
            ("total_amount", yuan(trade.total_fen)),
            ("trade_no", trade.trade_no.clone()),
            ("buyer_pay_amount", if trade.paid_at.is_some() { yuan(trade.total_fen) } else { "0.00".into() }),
        ];
        if let Some(paid_at) = &trade.paid_at {
            fields.push(("send_pay_date", paid_at.clone()));
        }
        fields
    }

    /// One API call, its signature checked.
    async fn api(&self, params: Vec<(String, String)>) -> Response {
        let method = params.iter().find(|(k, _)| k == "method").map(|(_, v)| v.clone()).unwrap_or_default();
        let (slow, fail, refuse) = {
            let mut inner = self.lock();
            *inner.calls.entry(method.clone()).or_default() += 1;
            let slow = std::mem::take(&mut inner.slow_next_ms);
            let fail = inner.fail_next > 0;
            if fail {
                inner.fail_next -= 1;
            }
            (slow, fail, if fail { None } else { inner.refuse_next.take() })
        };
        if slow > 0 {
            tokio::time::sleep(Duration::from_millis(slow)).await;
        }
        if fail {
            return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
        }
        let (method, biz) = match self.check_request(&params, true) {
            Ok(checked) => checked,
            Err(answer) => return *answer,
        };
        if let Some((code, sub_code, sub_msg)) = refuse {
            return if code == "40004" {
                self.business_error(&method, &sub_code, &sub_msg)
            } else {
                Self::gateway_error(Some(&method), &code, "Refused", &sub_code, &sub_msg)
            };
        }
        let text =
            |name: &str| biz.get(name).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        let param = |name: &str| {
            params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
        };
        match method.as_str() {
            "alipay.trade.precreate" => {
                let (Some(out_trade_no), Some(amount), Some(subject)) =
                    (text("out_trade_no"), text("total_amount"), text("subject"))
                else {
                    return Self::gateway_error(
                        Some(&method),
                        "40001",
                        "Missing Required Arguments",
                        "isv.missing-parameter",
                        "缺少必选参数",
                    );
                };
                let Some(total_fen) = parse_yuan(&amount).filter(|fen| (1..=10_000_000_000).contains(fen))
                else {
                    return self.business_error(
                        &method,
                        "ACQ.INVALID_PARAMETER",
                        "total_amount 金额格式错误",
                    );
                };
                let mut inner = self.lock();
                if let Some(existing) = inner.trades.get(&out_trade_no) {
                    if existing.status != TradeStatus::Precreated || existing.total_fen != total_fen {
                        return self.business_error(&method, "ACQ.TRADE_HAS_SUCCESS", "交易已被支付");
                    }
                }
                inner.trades.insert(
                    out_trade_no.clone(),
                    Trade {
                        out_trade_no: out_trade_no.clone(),
                        trade_no: new_trade_no(),
                        total_fen,
                        subject,
                        method: method.clone(),
                        status: TradeStatus::Precreated,
                        notify_url: param("notify_url"),
                        return_url: None,
                        quit_url: None,
                        closed_before_scan: false,
                        created_at: gateway_now(),
                        paid_at: None,
                        refunds: Vec::new(),
                    },
                );
                drop(inner);
                self.envelope(
                    &method,
                    &[
                        ("code", "10000".into()),
                        ("msg", "Success".into()),
                        ("out_trade_no", out_trade_no.clone()),
                        ("qr_code", format!("{}/qr/{out_trade_no}", self.shared.base)),
                    ],
                )
            }
            "alipay.trade.pay" => self.trade_pay(&method, &biz),
            "alipay.trade.cancel" => self.trade_cancel(&method, &biz),
            "alipay.trade.query" | "alipay.trade.close" => {
                let Some(out_trade_no) = text("out_trade_no") else {
                    return self.business_error(&method, "ACQ.INVALID_PARAMETER", "参数无效");
                };
                let mut inner = self.lock();
                barcode::decide(&mut inner, &out_trade_no);
                let Some(trade) = inner.trades.get_mut(&out_trade_no) else {
                    return self.business_error(&method, "ACQ.TRADE_NOT_EXIST", "交易不存在");
                };
                if trade.status == TradeStatus::Precreated {
                    if method == "alipay.trade.close" {
                        trade.closed_before_scan = true;
                    }
                    return self.business_error(&method, "ACQ.TRADE_NOT_EXIST", "交易不存在");
                }
                if method == "alipay.trade.query" {
                    let fields = Self::trade_fields(trade);
                    drop(inner);
                    return self.envelope(&method, &fields);
                }
                match trade.status {
                    TradeStatus::Success => {
                        self.business_error(&method, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
                    }
                    _ => {
                        trade.status = TradeStatus::Closed;
                        let fields = [
                            ("code", "10000".to_owned()),
                            ("msg", "Success".to_owned()),
                            ("trade_no", trade.trade_no.clone()),
                            ("out_trade_no", out_trade_no.clone()),
                        ];
                        drop(inner);
                        self.envelope(&method, &fields)
                    }
                }
            }
            "alipay.trade.refund" => {
                let (Some(out_trade_no), Some(amount)) = (text("out_trade_no"), text("refund_amount")) else {
                    return self.business_error(&method, "ACQ.INVALID_PARAMETER", "参数无效");
                };
                let Some(fen) = parse_yuan(&amount).filter(|fen| *fen > 0) else {
                    return self.business_error(
                        &method,
                        "ACQ.INVALID_PARAMETER",
                        "refund_amount 金额格式错误",
                    );
                };
                let mut inner = self.lock();
                let Some(trade) =
                    inner.trades.get_mut(&out_trade_no).filter(|t| t.status != TradeStatus::Precreated)
                else {
                    return self.business_error(&method, "ACQ.TRADE_NOT_EXIST", "交易不存在");
                };
                let request_no = text("out_request_no");
                let refunded: u64 = trade.refunds.iter().map(|(_, f)| f).sum();
                if let Some(no) = &request_no {
                    if let Some((_, earlier)) = trade.refunds.iter().find(|(known, _)| known == no) {
                        if *earlier != fen {
                            return self.business_error(
                                &method,
                                "ACQ.INVALID_PARAMETER",
                                "同一退款请求号金额不一致",
                            );
                        }
                        let fields = [
                            ("code", "10000".to_owned()),
                            ("msg", "Success".to_owned()),
                            ("fund_change", "N".to_owned()),
                            ("out_trade_no", out_trade_no.clone()),
                            ("refund_fee", yuan(refunded)),
                            ("trade_no", trade.trade_no.clone()),
                        ];
                        drop(inner);
                        return self.envelope(&method, &fields);
                    }
                }
                if trade.status != TradeStatus::Success {
                    return self.business_error(&method, "ACQ.TRADE_STATUS_ERROR", "交易状态不合法");
                }
                if refunded + fen > trade.total_fen {
                    return self.business_error(&method, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限");
                }
                let partial = refunded + fen < trade.total_fen || refunded > 0;
                let Some(no) = request_no.or_else(|| (!partial).then(|| trade.trade_no.clone())) else {
                    return self.business_error(
                        &method,
                        "ACQ.INVALID_PARAMETER",
                        "部分退款需要 out_request_no",
                    );
                };
                trade.refunds.push((no.clone(), fen));
                if refunded + fen == trade.total_fen {
                    trade.status = TradeStatus::Closed;
                }
                let fields = [
                    ("code", "10000".to_owned()),
                    ("msg", "Success".to_owned()),
                    ("buyer_logon_id", "tes***@example.com".to_owned()),
                    ("fund_change", "Y".to_owned()),
                    ("refund_fee", yuan(refunded + fen)),
                    ("out_trade_no", out_trade_no.clone()),
                    ("trade_no", trade.trade_no.clone()),
                    ("gmt_refund_pay", gateway_now()),
                ];
                drop(inner);
                // Alipay also tells the notify_url (TRADE_SUCCESS after a part, TRADE_CLOSED after all).
                let mock = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    mock.notify(&out_trade_no, Some(&no)).await;
                });
                self.envelope(&method, &fields)
            }
            "alipay.trade.fastpay.refund.query" => {
                let (Some(out_trade_no), Some(no)) = (text("out_trade_no"), text("out_request_no")) else {
                    return self.business_error(&method, "ACQ.INVALID_PARAMETER", "参数无效");
                };
                let inner = self.lock();
                let Some(trade) =
                    inner.trades.get(&out_trade_no).filter(|t| t.status != TradeStatus::Precreated)
                else {
                    return self.business_error(&method, "ACQ.TRADE_NOT_EXIST", "交易不存在");
                };
                let mut fields = vec![("code", "10000".to_owned()), ("msg", "Success".to_owned())];
                if let Some((_, fen)) = trade.refunds.iter().find(|(known, _)| *known == no) {
                    fields.extend([
                        ("out_request_no", no.clone()),
                        ("refund_status", "REFUND_SUCCESS".to_owned()),
                        ("out_trade_no", out_trade_no.clone()),
                        ("refund_amount", yuan(*fen)),
                        ("total_amount", yuan(trade.total_fen)),
                        ("trade_no", trade.trade_no.clone()),
                    ]);
                }
                drop(inner);
                self.envelope(&method, &fields)
            }
            _ => Self::gateway_error(
                Some(&method),
                "40004",
                "Business Failed",
                "isv.invalid-method",
                "不存在的方法名",
            ),
        }
    }

    /// A browser sent to a signed gateway URL (`wap.pay` / `page.pay`): the trade is made and the
    /// shopper lands on the cashier.
    fn open_cashier(&self, params: Vec<(String, String)>) -> Response {
        let method = params.iter().find(|(k, _)| k == "method").map(|(_, v)| v.clone()).unwrap_or_default();
        *self.lock().calls.entry(method.clone()).or_default() += 1;
        // The browser may follow the link minutes after it was made; only its signature counts.
        let (method, biz) = match self.check_request(&params, false) {
            Ok(checked) => checked,
            Err(answer) => return (StatusCode::BAD_REQUEST, *answer).into_response(),
        };
        let expected = match method.as_str() {
            "alipay.trade.wap.pay" => "QUICK_WAP_WAY",
            "alipay.trade.page.pay" => "FAST_INSTANT_TRADE_PAY",
            _ => return (StatusCode::BAD_REQUEST, Html("<h1>Unknown method</h1>")).into_response(),
        };
        let text =
            |name: &str| biz.get(name).and_then(Value::as_str).filter(|v| !v.is_empty()).map(str::to_owned);
        let param = |name: &str| {
            params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).filter(|v| !v.is_empty())
        };
        if text("product_code").as_deref() != Some(expected) {
            return (StatusCode::BAD_REQUEST, Html("<h1>product_code is wrong</h1>")).into_response();
        }
        let (Some(out_trade_no), Some(total_fen), Some(subject)) =
            (text("out_trade_no"), text("total_amount").and_then(|a| parse_yuan(&a)), text("subject"))
        else {
            return (StatusCode::BAD_REQUEST, Html("<h1>Missing out_trade_no, total_amount or subject</h1>"))
                .into_response();
        };
        let mut inner = self.lock();
        let trade = inner.trades.entry(out_trade_no.clone()).or_insert_with(|| Trade {
            out_trade_no: out_trade_no.clone(),
            trade_no: new_trade_no(),
            total_fen,
            subject,
            method: method.clone(),
            status: TradeStatus::WaitBuyerPay,
            notify_url: param("notify_url"),
            return_url: param("return_url"),
            quit_url: text("quit_url"),
            closed_before_scan: false,
            created_at: gateway_now(),
            paid_at: None,
            refunds: Vec::new(),
        });
        if trade.total_fen != total_fen {
            return (StatusCode::BAD_REQUEST, Html("<h1>The order's amount changed</h1>")).into_response();
        }
        Redirect::to(&format!("{}/cashier/{out_trade_no}", self.shared.base)).into_response()
    }

    /// `return_url` with the synchronous return's signed parameters, as Alipay sends the browser.
    fn return_url(&self, trade: &Trade) -> Option<String> {
        let mut url = url::Url::parse(trade.return_url.as_deref()?).ok()?;
        let mut params: Vec<(String, String)> = [
            ("charset", "utf-8".to_owned()),
            ("out_trade_no", trade.out_trade_no.clone()),
            ("method", format!("{}.return", trade.method)),
            ("total_amount", yuan(trade.total_fen)),
            ("trade_no", trade.trade_no.clone()),
            ("auth_app_id", APP_ID.to_owned()),
            ("version", "1.0".to_owned()),
            ("app_id", APP_ID.to_owned()),
            ("seller_id", SELLER_ID.to_owned()),
            ("timestamp", gateway_now()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let sign = rsa2_sign(&self.shared.alipay_key, &content_to_sign(&params, &["sign", "sign_type"]));
        params.push(("sign".into(), sign));
        params.push(("sign_type".into(), "RSA2".into()));
        url.query_pairs_mut().extend_pairs(params);
        Some(url.to_string())
    }
}

fn form_pairs(text: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(text.as_bytes()).into_owned().collect()
}

async fn gateway_post(State(mock): State<AlipayMock>, uri: Uri, body: Bytes) -> Response {
    let mut params = form_pairs(uri.query().unwrap_or(""));
    params.extend(form_pairs(&String::from_utf8_lossy(&body)));
    mock.api(params).await
}

async fn gateway_get(State(mock): State<AlipayMock>, uri: Uri) -> Response {
    let params = form_pairs(uri.query().unwrap_or(""));
    let method = params.iter().find(|(k, _)| k == "method").map(|(_, v)| v.as_str()).unwrap_or("");
    if method.ends_with(".wap.pay") || method.ends_with(".page.pay") {
        mock.open_cashier(params)
    } else {
        mock.api(params).await
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title></head><body><main>{body}</main></body></html>"
    ))
}

/// A phone scanned the code of a precreated trade: the trade now exists and the cashier opens.
async fn scan_page(State(mock): State<AlipayMock>, UrlPath(out_trade_no): UrlPath<String>) -> Response {
    if !mock.scan(&out_trade_no) {
        return (StatusCode::GONE, page("Alipay", "<h1>本笔交易已关闭 (this payment is closed)</h1>"))
            .into_response();
    }
    Redirect::to(&format!("{}/cashier/{out_trade_no}", mock.shared.base)).into_response()
}

async fn cashier_page(State(mock): State<AlipayMock>, UrlPath(out_trade_no): UrlPath<String>) -> Response {
    let Some(trade) = mock.trade(&out_trade_no) else {
        return (StatusCode::NOT_FOUND, page("Alipay", "<h1>交易不存在 (no such payment)</h1>"))
            .into_response();
    };
    if trade.status != TradeStatus::WaitBuyerPay {
        return page("Alipay", &format!("<h1>Payment {}</h1>", trade.status.wire())).into_response();
    }
    let quit = trade
        .quit_url
        .as_deref()
        .map(|url| format!("<p><a href=\"{}\">Back to the store</a></p>", escape(url)));
    page(
        "Alipay cashier",
        &format!(
            "<h1>Alipay cashier (mock)</h1><p data-testid=\"subject\">{}</p><p data-testid=\"amount\">¥{}</p>\
             <form method=\"post\" action=\"{}/cashier/{}/pay\"><button type=\"submit\">Pay ¥{}</button></form>{}",
            escape(&trade.subject),
            yuan(trade.total_fen),
            escape(&mock.shared.base),
            escape(&out_trade_no),
            yuan(trade.total_fen),
            quit.unwrap_or_default()
        ),
    )
    .into_response()
}

/// The shopper pays on the cashier: Alipay notifies the merchant, then sends the browser back.
async fn cashier_pay(State(mock): State<AlipayMock>, UrlPath(out_trade_no): UrlPath<String>) -> Response {
    mock.pay(&out_trade_no).await;
    match mock.trade(&out_trade_no) {
        Some(trade) if trade.status == TradeStatus::Success => match mock.return_url(&trade) {
            Some(url) => Redirect::to(&url).into_response(),
            None => page("Alipay", "<h1>Payment successful</h1>").into_response(),
        },
        _ => (StatusCode::CONFLICT, page("Alipay", "<h1>This payment cannot be paid</h1>")).into_response(),
    }
}

async fn control_pay(State(mock): State<AlipayMock>, UrlPath(out_trade_no): UrlPath<String>) -> Response {
    match mock.pay(&out_trade_no).await {
        Some(sent) => {
            Json(json!({ "notified": true, "status": sent.status, "answer": sent.answer })).into_response()
        }
        None if mock.trade(&out_trade_no).is_some_and(|t| t.status == TradeStatus::Success) => {
            Json(json!({ "notified": false })).into_response()
        }
        None => (StatusCode::CONFLICT, Json(json!({ "error": "no payable trade" }))).into_response(),
    }
}

async fn control_fail_next(
    State(mock): State<AlipayMock>,
    Query(query): Query<HashMap<String, String>>,
) -> StatusCode {
    mock.fail_next(query.get("count").and_then(|c| c.parse().ok()).unwrap_or(1));
    StatusCode::NO_CONTENT
}

async fn control_slow_next(
    State(mock): State<AlipayMock>,
    Query(query): Query<HashMap<String, String>>,
) -> StatusCode {
    mock.slow_next(query.get("ms").and_then(|c| c.parse().ok()).unwrap_or(5_000));
    StatusCode::NO_CONTENT
}

async fn control_calls(State(mock): State<AlipayMock>) -> Json<Value> {
    Json(json!(mock.lock().calls.clone()))
}
