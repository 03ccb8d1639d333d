//! WeChat Pay API v3 as a direct merchant sees it: Native and H5 orders, the order query and
//! close, refunds and their query, and notifications, with WeChat Pay's cryptography.
//!
//! Keys are made when the mock starts: the merchant's API key pair (its private key is written
//! out for the server, with a merchant certificate), WeChat Pay's public key (`PUB_KEY_ID_...`)
//! and a platform certificate with its own key. Every request's `Authorization`
//! (`WECHATPAY2-SHA256-RSA2048`) is verified with the merchant's public key; every answer is
//! signed (by the key the request's `Wechatpay-Serial` names, else the public key), and errors
//! come as WeChat Pay writes them (`{"code", "message"}` with its HTTP status). Notifications are
//! encrypted with the APIv3 key (`AEAD_AES_256_GCM`), signed alternately by the public key and
//! the platform certificate (both verification paths are used), and sent to the order's
//! `notify_url`.
//!
//! The control side (`/control/...`, or the methods of [`WechatPayMock`]) plays the shopper
//! (scan and pay a `code_url`, pay an `out_trade_no`), breaks the next call (500, slow, a chosen
//! refusal), counts calls, and makes hostile notifications for the tests. `/cgi-bin/...` is the
//! H5 payment page a mobile shopper is sent to.

mod codepay;

pub use crate::CodeScript;
pub use codepay::{is_payment_code, new_payment_code};

use crate::{KeyRole, Keys};
use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm, Nonce,
};
use axum::{
    body::Bytes,
    extract::{OriginalUri, Path, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode},
    response::{Html, IntoResponse, Redirect, Response},
    routing::{any, get, post},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use rand::{distributions::Alphanumeric, Rng};
use rsa::{
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    sha2::Sha256,
    signature::{SignatureEncoding, Signer, Verifier},
    RsaPrivateKey, RsaPublicKey,
};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    net::IpAddr,
    path::{Path as FsPath, PathBuf},
    str::FromStr,
    sync::{Arc, Mutex},
    time::Duration,
};
use x509_cert::{
    builder::{Builder, CertificateBuilder, Profile},
    der::EncodePem,
    name::Name,
    serial_number::SerialNumber,
    spki::SubjectPublicKeyInfoOwned,
    time::Validity,
};

/// The merchant id and AppID the mock knows.
pub const MCHID: &str = "1900009191";
pub const APPID: &str = "wxd678efh567hg6787";

/// Which of WeChat Pay's keys signs (an answer or a notification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChoice {
    /// The WeChat Pay public key (`Wechatpay-Serial: PUB_KEY_ID_...`).
    PublicKey,
    /// The platform certificate's key (`Wechatpay-Serial: <certificate serial>`).
    Certificate,
    /// A key nobody configured, under the public key's id: the signature does not verify.
    Stranger,
}

/// A notification as WeChat Pay would send it: where, its raw body and its headers.
#[derive(Debug, Clone)]
pub struct OutgoingNotification {
    pub url: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl OutgoingNotification {
    /// Replaces (or adds) a header.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
struct Order {
    out_trade_no: String,
    appid: String,
    mchid: String,
    description: String,
    notify_url: String,
    total: u64,
    currency: String,
    trade_type: &'static str,
    trade_state: &'static str,
    transaction_id: Option<String>,
    success_time: Option<String>,
    code_url: Option<String>,
    prepay_id: String,
    /// The order body as the server sent it.
    request: Value,
    time_expire: Option<i64>,
    /// A code payment's decision still to come.
    pending: Option<codepay::Pending>,
    /// A paid code payment reversed: its money went back to the shopper.
    money_returned: bool,
}

#[derive(Debug, Clone)]
struct Refund {
    refund_id: String,
    out_refund_no: String,
    out_trade_no: String,
    transaction_id: String,
    refund: u64,
    total: u64,
    currency: String,
    status: &'static str,
    notify_url: Option<String>,
    created: String,
    success_time: Option<String>,
    request: Value,
}

/// How refunds go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundMode {
    /// Accepted as `PROCESSING`, then settled (`SUCCESS`) with a `REFUND.SUCCESS` notification.
    SucceedLater,
    /// Stays `PROCESSING` until the test settles it.
    StayProcessing,
}

#[derive(Debug)]
struct Broken {
    status: StatusCode,
    code: String,
    message: String,
}

#[derive(Debug)]
struct Mock {
    orders: HashMap<String, Order>,
    refunds: HashMap<String, Refund>,
    calls: Vec<String>,
    fail_next: u32,
    slow_next: Option<Duration>,
    refuse_next: Option<Broken>,
    refund_mode: RefundMode,
    notifications_sent: u32,
    last_delivery: Option<(u16, String)>,
    /// What each payment code does when charged, and the codes used (each once).
    codes: HashMap<String, CodeScript>,
    used_codes: std::collections::HashSet<String>,
}

struct Inner {
    base: String,
    apiv3_key: String,
    merchant_serial: String,
    merchant_key: RsaPrivateKey,
    merchant_public: RsaPublicKey,
    merchant_certificate: String,
    public_key_id: String,
    public_key: RsaPrivateKey,
    platform_serial: String,
    platform_key: RsaPrivateKey,
    platform_certificate: String,
    stranger_key: RsaPrivateKey,
    state: Mutex<Mock>,
    http: reqwest::Client,
}

/// A WeChat Pay API v3 stand-in. Cloning shares it.
#[derive(Clone)]
pub struct WechatPayMock {
    inner: Arc<Inner>,
}

fn random(length: usize) -> String {
    rand::thread_rng().sample_iter(&Alphanumeric).take(length).map(char::from).collect()
}

fn digits(length: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..length).map(|_| char::from(b'0' + rng.gen_range(0..10u8))).collect()
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn china_now() -> String {
    let t = time::OffsetDateTime::now_utc().to_offset(time::UtcOffset::from_hms(8, 0, 0).expect("an offset"));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn sign(key: &RsaPrivateKey, message: &[u8]) -> String {
    let signature: Signature = SigningKey::<Sha256>::new(key.clone()).sign(message);
    BASE64.encode(signature.to_bytes())
}

/// A self-signed certificate for `key` with `serial` (hex), made with x509-cert's builder.
fn certificate(key: &RsaPrivateKey, serial_hex: &str, subject: &str) -> anyhow::Result<String> {
    let serial_bytes: Vec<u8> = (0..serial_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&serial_hex[i..i + 2], 16))
        .collect::<Result<_, _>>()?;
    let serial = SerialNumber::new(&serial_bytes)?;
    let validity = Validity::from_now(Duration::from_secs(5 * 365 * 24 * 3600))?;
    let subject = Name::from_str(subject)?;
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key())?;
    let signer = SigningKey::<Sha256>::new(key.clone());
    let builder = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signer)?;
    let certificate = builder.build::<Signature>()?;
    Ok(certificate.to_pem(LineEnding::LF)?)
}

/// A certificate serial as WeChat Pay writes it: 40 upper-case hex digits, the first below 8 so
/// the DER integer needs no sign byte.
fn serial_hex() -> String {
    let mut rng = rand::thread_rng();
    let first = rng.gen_range(1..8u8);
    let mut serial = format!("{first:X}");
    for _ in 0..39 {
        serial.push_str(&format!("{:X}", rng.gen_range(0..16u8)));
    }
    serial
}

fn error(status: StatusCode, code: &str, message: &str) -> (StatusCode, Value) {
    (status, json!({ "code": code, "message": message }))
}

/// An order's `appid`, `mchid`, `description` and `out_trade_no`, checked as WeChat Pay does.
fn merchant_fields(body: &Value) -> Result<(String, String, String, String), (StatusCode, Value)> {
    let bad = |message: &str| error(StatusCode::BAD_REQUEST, "PARAM_ERROR", message);
    let text =
        |name: &str| body[name].as_str().map(str::to_owned).ok_or_else(|| bad(&format!("缺少参数 {name}")));
    let (appid, mchid, description, out_trade_no) =
        (text("appid")?, text("mchid")?, text("description")?, text("out_trade_no")?);
    if mchid != MCHID {
        return Err(error(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "商户号不存在"));
    }
    if appid != APPID {
        return Err(error(StatusCode::BAD_REQUEST, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配"));
    }
    if description.is_empty() || description.len() > 127 {
        return Err(bad("description 长度不符合要求"));
    }
    if !is_out_no(&out_trade_no, 32, "") {
        return Err(bad("out_trade_no 格式错误"));
    }
    Ok((appid, mchid, description, out_trade_no))
}

fn is_out_no(value: &str, max: usize, extra: &str) -> bool {
    (6..=max).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_alphanumeric() || "_-|*".contains(c) || extra.contains(c))
}

impl WechatPayMock {
    /// A mock reached at `base` (its own routes below it, such as `http://127.0.0.1:9000/wechat_pay`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Self::with_keys(base, Keys::Shared)
    }

    /// A mock whose keys are `keys` (`Keys::Own`: another merchant, and another WeChat Pay).
    pub fn with_keys(base: &str, keys: Keys) -> anyhow::Result<Self> {
        let merchant_key = keys.rsa(KeyRole::WechatPayMerchant);
        let merchant_serial = serial_hex();
        let merchant_certificate = certificate(
            &merchant_key,
            &merchant_serial,
            &format!("CN={MCHID},OU=Mock Merchant,O=Tenpay.com,C=CN"),
        )?;
        let platform_key = keys.rsa(KeyRole::WechatPayPlatform);
        let platform_serial = serial_hex();
        let platform_certificate = certificate(
            &platform_key,
            &platform_serial,
            "CN=Tenpay.com sign,OU=Tenpay.com CA Center,O=Tenpay.com,C=CN",
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                base: base.trim_end_matches('/').to_owned(),
                apiv3_key: random(32),
                merchant_serial,
                merchant_public: merchant_key.to_public_key(),
                merchant_key,
                merchant_certificate,
                public_key_id: format!("PUB_KEY_ID_0119{}", digits(28)),
                public_key: keys.rsa(KeyRole::WechatPayPublicKey),
                platform_serial,
                platform_key,
                platform_certificate,
                stranger_key: keys.rsa(KeyRole::WechatPayStranger),
                state: Mutex::new(Mock {
                    orders: HashMap::new(),
                    refunds: HashMap::new(),
                    calls: Vec::new(),
                    fail_next: 0,
                    slow_next: None,
                    refuse_next: None,
                    refund_mode: RefundMode::SucceedLater,
                    notifications_sent: 0,
                    last_delivery: None,
                    codes: HashMap::new(),
                    used_codes: std::collections::HashSet::new(),
                }),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .no_proxy()
                    .build()
                    .expect("the HTTP client builds"),
            }),
        })
    }

    /// Where the server reaches the API (`base_url`).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    pub fn apiv3_key(&self) -> &str {
        &self.inner.apiv3_key
    }

    pub fn merchant_serial(&self) -> &str {
        &self.inner.merchant_serial
    }

    pub fn public_key_id(&self) -> &str {
        &self.inner.public_key_id
    }

    pub fn platform_serial(&self) -> &str {
        &self.inner.platform_serial
    }

    /// The merchant private key's PEM (what the server signs with).
    pub fn merchant_private_key_pem(&self) -> String {
        self.inner.merchant_key.to_pkcs8_pem(LineEnding::LF).expect("a PEM key").to_string()
    }

    /// Writes the key files into `dir` and answers the `[providers.wechat_pay]` table that uses
    /// them: both the WeChat Pay public key and the platform certificate, as during the migration.
    pub fn config_toml(&self, dir: &FsPath) -> anyhow::Result<String> {
        let files = self.write_key_files(dir)?;
        let path = |p: &PathBuf| serde_json::to_string(&p.display().to_string()).expect("a JSON string");
        Ok(format!(
            "[providers.wechat_pay]\n\
             environment = \"sandbox\"\n\
             base_url = \"{base}\"\n\
             mchid = \"{MCHID}\"\n\
             appid = \"{APPID}\"\n\
             merchant_serial_no = \"{serial}\"\n\
             merchant_private_key_file = {key}\n\
             merchant_certificate_file = {cert}\n\
             apiv3_key = \"{apiv3}\"\n\
             wechatpay_public_key_id = \"{pub_id}\"\n\
             wechatpay_public_key_file = {pub_key}\n\
             platform_certificate_files = [{platform}]\n",
            base = self.inner.base,
            serial = self.inner.merchant_serial,
            key = path(&files.merchant_private_key),
            cert = path(&files.merchant_certificate),
            apiv3 = self.inner.apiv3_key,
            pub_id = self.inner.public_key_id,
            pub_key = path(&files.public_key),
            platform = path(&files.platform_certificate),
        ))
    }

    /// Writes the merchant's key and certificate, WeChat Pay's public key and the platform
    /// certificate as PEM files into `dir`.
    pub fn write_key_files(&self, dir: &FsPath) -> anyhow::Result<KeyFiles> {
        std::fs::create_dir_all(dir)?;
        let files = KeyFiles {
            merchant_private_key: dir.join("wechat_pay_apiclient_key.pem"),
            merchant_certificate: dir.join("wechat_pay_apiclient_cert.pem"),
            public_key: dir.join("wechat_pay_pub_key.pem"),
            platform_certificate: dir.join(format!("wechatpay_{}.pem", self.inner.platform_serial)),
        };
        std::fs::write(&files.merchant_private_key, self.merchant_private_key_pem())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&files.merchant_private_key, std::fs::Permissions::from_mode(0o600))?;
        }
        std::fs::write(&files.merchant_certificate, &self.inner.merchant_certificate)?;
        std::fs::write(
            &files.public_key,
            self.inner.public_key.to_public_key().to_public_key_pem(LineEnding::LF)?,
        )?;
        std::fs::write(&files.platform_certificate, &self.inner.platform_certificate)?;
        Ok(files)
    }

    /// The routes, to be served below `base_url`'s path.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/v3/{*rest}", any(api))
            .route("/cgi-bin/mmpayweb-bin/checkmweb", get(h5_page))
            .route("/cgi-bin/mmpayweb-bin/pay", post(h5_pay))
            .route("/control/pay/{out_trade_no}", post(control_pay))
            .route("/control/scan", post(control_scan))
            .route("/control/fail-next", post(control_fail_next))
            .route("/control/slow-next", post(control_slow_next))
            .route("/control/calls", get(control_calls))
            .with_state(self.clone())
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Mock> {
        self.inner.state.lock().expect("the mock's state")
    }

    // --- the control side ---

    /// The next `count` API calls answer 500 `SYSTEM_ERROR`.
    pub fn fail_next(&self, count: u32) {
        self.state().fail_next = count;
    }

    /// The next API call answers only after `delay`.
    pub fn slow_next(&self, delay: Duration) {
        self.state().slow_next = Some(delay);
    }

    /// The next API call is refused with this status and WeChat Pay error code.
    pub fn refuse_next(&self, status: u16, code: &str, message: &str) {
        self.state().refuse_next = Some(Broken {
            status: StatusCode::from_u16(status).expect("a status"),
            code: code.to_owned(),
            message: message.to_owned(),
        });
    }

    pub fn set_refund_mode(&self, mode: RefundMode) {
        self.state().refund_mode = mode;
    }

    /// API calls made so far whose `METHOD path` starts with `prefix` (`POST /v3/pay/transactions/native`).
    pub fn calls(&self, prefix: &str) -> usize {
        self.state().calls.iter().filter(|call| call.starts_with(prefix)).count()
    }

    /// The order body the server sent for `out_trade_no`.
    pub fn order_request(&self, out_trade_no: &str) -> Option<Value> {
        self.state().orders.get(out_trade_no).map(|order| order.request.clone())
    }

    pub fn code_url(&self, out_trade_no: &str) -> Option<String> {
        self.state().orders.get(out_trade_no).and_then(|order| order.code_url.clone())
    }

    /// The `trade_state` of an order as the merchant's next query would see it.
    pub fn trade_state(&self, out_trade_no: &str) -> Option<&'static str> {
        let mut state = self.state();
        let order = state.orders.get_mut(out_trade_no)?;
        codepay::decide(order);
        Some(order.trade_state)
    }

    pub fn transaction_id(&self, out_trade_no: &str) -> Option<String> {
        self.state().orders.get(out_trade_no).and_then(|order| order.transaction_id.clone())
    }

    /// The refund body the server sent for `out_refund_no`, and the refund's status.
    pub fn refund(&self, out_refund_no: &str) -> Option<(Value, &'static str)> {
        self.state().refunds.get(out_refund_no).map(|refund| (refund.request.clone(), refund.status))
    }

    /// The answer to the last notification sent.
    pub fn last_delivery(&self) -> Option<(u16, String)> {
        self.state().last_delivery.clone()
    }

    /// The shopper pays: the order is paid (if it can be) without a notification.
    /// Answers whether it was paid now.
    pub fn pay_silently(&self, out_trade_no: &str) -> bool {
        let mut state = self.state();
        let Some(order) = state.orders.get_mut(out_trade_no) else { return false };
        let expired = order.time_expire.is_some_and(|at| now_secs() > at);
        if order.trade_state != "NOTPAY" || expired {
            return false;
        }
        order.trade_state = "SUCCESS";
        order.transaction_id = Some(format!("4200{}", digits(24)));
        order.success_time = Some(china_now());
        true
    }

    /// The shopper pays and WeChat Pay notifies the merchant. Answers the merchant's answer to
    /// the notification, or `None` when the order could not be paid.
    pub async fn pay(&self, out_trade_no: &str) -> Option<(u16, String)> {
        if !self.pay_silently(out_trade_no) {
            return None;
        }
        let notification = self.payment_notification(out_trade_no, self.next_key())?;
        Some(self.deliver(&notification).await)
    }

    /// Which key signs the next notification: the public key and the platform certificate take
    /// turns, as during WeChat Pay's migration.
    fn next_key(&self) -> KeyChoice {
        let mut state = self.state();
        state.notifications_sent += 1;
        if state.notifications_sent % 2 == 1 {
            KeyChoice::PublicKey
        } else {
            KeyChoice::Certificate
        }
    }

    /// The decrypted content of a payment notification for the order (`TRANSACTION.SUCCESS`).
    pub fn transaction(&self, out_trade_no: &str) -> Option<Value> {
        let state = self.state();
        state.orders.get(out_trade_no).map(transaction_json)
    }

    /// A genuine notification of the order's payment, signed by `key`.
    pub fn payment_notification(&self, out_trade_no: &str, key: KeyChoice) -> Option<OutgoingNotification> {
        let url = self.state().orders.get(out_trade_no)?.notify_url.clone();
        let transaction = self.transaction(out_trade_no)?;
        Some(self.notification(&url, "TRANSACTION.SUCCESS", "支付成功", &transaction, key, now_secs()))
    }

    /// A notification of `event_type` whose resource is `content` (encrypted with the APIv3
    /// key), signed by `key` at `timestamp`.
    pub fn notification(
        &self,
        url: &str,
        event_type: &str,
        summary: &str,
        content: &Value,
        key: KeyChoice,
        timestamp: i64,
    ) -> OutgoingNotification {
        let original_type = if event_type.starts_with("REFUND.") { "refund" } else { "transaction" };
        let resource = self.encrypt(&self.inner.apiv3_key, content, original_type);
        let body = json!({
            "id": format!("EV-{}", random(24)),
            "create_time": china_now(),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": resource,
        })
        .to_string();
        self.signed(url, body, key, timestamp)
    }

    /// `content` as a resource: `AEAD_AES_256_GCM` with `key`, a 12-character nonce and
    /// `associated_data`.
    pub fn encrypt(&self, key: &str, content: &Value, associated_data: &str) -> Value {
        let nonce = random(12);
        let cipher = Aes256Gcm::new_from_slice(key.as_bytes()).expect("a 32-byte key");
        let plaintext = content.to_string();
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(nonce.as_bytes()),
                Payload { msg: plaintext.as_bytes(), aad: associated_data.as_bytes() },
            )
            .expect("encryption works");
        json!({
            "original_type": associated_data,
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": BASE64.encode(ciphertext),
            "associated_data": associated_data,
            "nonce": nonce,
        })
    }

    /// `body` with WeChat Pay's signature headers, signed by `key` at `timestamp`.
    pub fn signed(&self, url: &str, body: String, key: KeyChoice, timestamp: i64) -> OutgoingNotification {
        let nonce = random(32);
        let message = format!("{timestamp}\n{nonce}\n{body}\n");
        let (serial, private) = self.key(key);
        let signature = sign(private, message.as_bytes());
        OutgoingNotification {
            url: url.to_owned(),
            body,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Wechatpay-Timestamp".into(), timestamp.to_string()),
                ("Wechatpay-Nonce".into(), nonce),
                ("Wechatpay-Signature".into(), signature),
                ("Wechatpay-Serial".into(), serial.to_owned()),
                ("Wechatpay-Signature-Type".into(), "WECHATPAY2-SHA256-RSA2048".into()),
            ],
        }
    }

    fn key(&self, choice: KeyChoice) -> (&str, &RsaPrivateKey) {
        match choice {
            KeyChoice::PublicKey => (&self.inner.public_key_id, &self.inner.public_key),
            KeyChoice::Certificate => (&self.inner.platform_serial, &self.inner.platform_key),
            KeyChoice::Stranger => (&self.inner.public_key_id, &self.inner.stranger_key),
        }
    }

    /// Sends a notification; answers the merchant's status and body.
    pub async fn deliver(&self, notification: &OutgoingNotification) -> (u16, String) {
        let mut request = self.inner.http.post(&notification.url).body(notification.body.clone());
        for (name, value) in &notification.headers {
            request = request.header(name, value);
        }
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                (status, response.text().await.unwrap_or_default())
            }
            Err(error) => (0, error.to_string()),
        };
        self.state().last_delivery = Some(answer.clone());
        answer
    }

    /// Settles a refund without notifying the merchant (a lost notification).
    pub fn mark_refund(&self, out_refund_no: &str, status: &'static str) -> bool {
        let mut state = self.state();
        let Some(refund) = state.refunds.get_mut(out_refund_no) else { return false };
        refund.status = status;
        if status == "SUCCESS" {
            refund.success_time = Some(china_now());
        }
        true
    }

    /// Settles a refund (as WeChat Pay does after `PROCESSING`) and notifies the merchant.
    pub async fn settle_refund(&self, out_refund_no: &str, status: &'static str) -> Option<(u16, String)> {
        let (url, content) = {
            let mut state = self.state();
            let refund = state.refunds.get_mut(out_refund_no)?;
            refund.status = status;
            if status == "SUCCESS" {
                refund.success_time = Some(china_now());
            }
            (refund.notify_url.clone()?, refund_notification_json(refund))
        };
        let event = format!("REFUND.{status}");
        let summary = if status == "SUCCESS" { "退款成功" } else { "退款异常" };
        let notification = self.notification(&url, &event, summary, &content, self.next_key(), now_secs());
        Some(self.deliver(&notification).await)
    }

    // --- the API ---

    fn verify_authorization(
        &self,
        method: &Method,
        uri: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let header =
            headers.get("authorization").and_then(|v| v.to_str().ok()).ok_or("no Authorization header")?;
        let params = header
            .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
            .ok_or("the scheme is not WECHATPAY2-SHA256-RSA2048")?;
        let mut fields = HashMap::new();
        for part in params.split(',') {
            let (name, value) = part.trim().split_once('=').ok_or("a malformed Authorization item")?;
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or("an unquoted Authorization value")?;
            fields.insert(name.to_owned(), value.to_owned());
        }
        let field = |name: &str| fields.get(name).cloned().ok_or(format!("no {name} in Authorization"));
        let (mchid, nonce, signature, timestamp, serial) = (
            field("mchid")?,
            field("nonce_str")?,
            field("signature")?,
            field("timestamp")?,
            field("serial_no")?,
        );
        if mchid != MCHID {
            return Err(format!("mchid {mchid} is not a merchant here"));
        }
        if !serial.eq_ignore_ascii_case(&self.inner.merchant_serial) {
            return Err("serial_no is not the merchant certificate's".into());
        }
        let seconds: i64 = timestamp.parse().map_err(|_| "timestamp is not a number")?;
        if (now_secs() - seconds).abs() > 300 {
            return Err("the timestamp is more than 5 minutes off".into());
        }
        let body = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8")?;
        let message = format!("{method}\n{uri}\n{timestamp}\n{nonce}\n{body}\n");
        let bytes = BASE64.decode(signature).map_err(|_| "the signature is not Base64")?;
        let signature = Signature::try_from(bytes.as_slice()).map_err(|_| "the signature is malformed")?;
        VerifyingKey::<Sha256>::new(self.inner.merchant_public.clone())
            .verify(message.as_bytes(), &signature)
            .map_err(|_| "the signature does not verify with the merchant's public key".to_owned())
    }

    /// A signed answer: `Wechatpay-*` headers over the raw body, by the key the request named.
    fn answer(&self, status: StatusCode, body: Option<Value>, requested: Option<&str>) -> Response {
        let choice = match requested {
            Some(serial) if serial == self.inner.platform_serial => KeyChoice::Certificate,
            _ => KeyChoice::PublicKey,
        };
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        let signed = self.signed("", text.clone(), choice, now_secs());
        let mut response = (status, text.clone()).into_response();
        let headers = response.headers_mut();
        for (name, value) in signed.headers {
            if name == "Content-Type" && text.is_empty() {
                continue;
            }
            headers.insert(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
                HeaderValue::from_str(&value).expect("a header value"),
            );
        }
        headers.insert("Request-ID", HeaderValue::from_str(&random(32)).expect("a header value"));
        response
    }

    fn dispatch(
        &self,
        method: &Method,
        path: &str,
        query: &HashMap<String, String>,
        body: &[u8],
    ) -> (StatusCode, Option<Value>) {
        let json = || -> Result<Value, (StatusCode, Value)> {
            serde_json::from_slice(body)
                .map_err(|_| error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "请求体不是JSON"))
        };
        if method == Method::POST && path == "/v3/pay/transactions/codepay" {
            // Its own statuses: 200 paid, 202 the shopper confirming.
            let (status, value) = json().and_then(|b| self.codepay(b)).unwrap_or_else(|refusal| refusal);
            return (status, Some(value));
        }
        let result = match (method.as_str(), path.split('/').collect::<Vec<_>>().as_slice()) {
            ("POST", ["", "v3", "pay", "transactions", kind @ ("native" | "h5")]) => {
                json().and_then(|b| self.create(kind, b))
            }
            ("GET", ["", "v3", "pay", "transactions", "out-trade-no", no]) => self.query(no, query),
            ("POST", ["", "v3", "pay", "transactions", "out-trade-no", no, "close"]) => {
                json().and_then(|b| self.close(no, &b)).map(|_| Value::Null)
            }
            ("POST", ["", "v3", "pay", "transactions", "out-trade-no", no, "reverse"]) => {
                json().and_then(|b| self.reverse(no, &b))
            }
            ("POST", ["", "v3", "refund", "domestic", "refunds"]) => {
                json().and_then(|b| self.create_refund(b))
            }
            ("GET", ["", "v3", "refund", "domestic", "refunds", no]) => self.query_refund(no),
            _ => Err(error(StatusCode::NOT_FOUND, "NOT_FOUND", "无此接口")),
        };
        match result {
            Ok(Value::Null) => (StatusCode::NO_CONTENT, None),
            Ok(value) => (StatusCode::OK, Some(value)),
            Err((status, value)) => (status, Some(value)),
        }
    }

    fn create(&self, kind: &str, body: Value) -> Result<Value, (StatusCode, Value)> {
        let bad = |message: &str| error(StatusCode::BAD_REQUEST, "PARAM_ERROR", message);
        let text = |name: &str| {
            body[name].as_str().map(str::to_owned).ok_or_else(|| bad(&format!("缺少参数 {name}")))
        };
        let (appid, mchid, description, out_trade_no) = merchant_fields(&body)?;
        let notify_url = text("notify_url")?;
        let notify = url::Url::parse(&notify_url).map_err(|_| bad("notify_url 格式错误"))?;
        if notify.query().is_some() || !matches!(notify.scheme(), "http" | "https") || notify_url.len() > 255
        {
            return Err(bad("notify_url 不能携带参数"));
        }
        let total = body["amount"]["total"]
            .as_u64()
            .filter(|t| (1..=i32::MAX as u64).contains(t))
            .ok_or_else(|| bad("amount.total 错误"))?;
        let currency = body["amount"]["currency"].as_str().unwrap_or("CNY").to_owned();
        if currency != "CNY" {
            return Err(bad("amount.currency 只支持 CNY"));
        }
        let time_expire = match body["time_expire"].as_str() {
            Some(text) => Some(
                time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                    .map_err(|_| bad("time_expire 格式错误"))?
                    .unix_timestamp(),
            ),
            None => None,
        };
        if kind == "h5" {
            let ip = body["scene_info"]["payer_client_ip"]
                .as_str()
                .ok_or_else(|| bad("缺少参数 scene_info.payer_client_ip"))?;
            ip.parse::<IpAddr>().map_err(|_| bad("payer_client_ip 格式错误"))?;
            match body["scene_info"]["h5_info"]["type"].as_str() {
                Some("Wap" | "iOS" | "Android") => {}
                _ => return Err(bad("缺少参数 scene_info.h5_info.type")),
            }
        }
        let mut state = self.state();
        if let Some(order) = state.orders.get(&out_trade_no) {
            if order.trade_state != "NOTPAY" {
                return Err(error(StatusCode::BAD_REQUEST, "ORDERPAID", "该订单已支付或已关闭"));
            }
            if order.request != body {
                return Err(error(StatusCode::FORBIDDEN, "OUT_TRADE_NO_USED", "商户订单号重复"));
            }
            return Ok(self.created(order));
        }
        let order = Order {
            out_trade_no: out_trade_no.clone(),
            appid,
            mchid,
            description,
            notify_url,
            total,
            currency,
            trade_type: if kind == "h5" { "MWEB" } else { "NATIVE" },
            trade_state: "NOTPAY",
            transaction_id: None,
            success_time: None,
            code_url: (kind == "native").then(|| format!("weixin://wxpay/bizpayurl?pr={}", random(9))),
            prepay_id: format!("wx{}", random(30)),
            request: body,
            time_expire,
            pending: None,
            money_returned: false,
        };
        let answer = self.created(&order);
        state.orders.insert(out_trade_no, order);
        Ok(answer)
    }

    fn created(&self, order: &Order) -> Value {
        match &order.code_url {
            Some(code_url) => json!({ "code_url": code_url }),
            None => json!({
                "h5_url": format!(
                    "{}/cgi-bin/mmpayweb-bin/checkmweb?prepay_id={}&package=2150917749",
                    self.inner.base, order.prepay_id
                )
            }),
        }
    }

    fn query(
        &self,
        out_trade_no: &str,
        query: &HashMap<String, String>,
    ) -> Result<Value, (StatusCode, Value)> {
        match query.get("mchid") {
            Some(mchid) if mchid == MCHID => {}
            Some(_) => return Err(error(StatusCode::BAD_REQUEST, "MCH_NOT_EXISTS", "商户号不存在")),
            None => return Err(error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "缺少参数 mchid")),
        }
        let mut state = self.state();
        let order = state
            .orders
            .get_mut(out_trade_no)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
        codepay::decide(order);
        Ok(transaction_json(order))
    }

    fn close(&self, out_trade_no: &str, body: &Value) -> Result<(), (StatusCode, Value)> {
        if body["mchid"].as_str() != Some(MCHID) {
            return Err(error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "mchid 错误"));
        }
        let mut state = self.state();
        let order = state
            .orders
            .get_mut(out_trade_no)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "ORDER_NOT_EXIST", "订单不存在"))?;
        if order.trade_type == "MICROPAY" {
            // Error 268449641: a code payment is undone by reverse only.
            return Err(error(
                StatusCode::BAD_REQUEST,
                "INVALID_REQUEST",
                "当前交易不允许进行普通关单（只能撤销）",
            ));
        }
        match order.trade_state {
            "SUCCESS" | "REFUND" => Err(error(StatusCode::BAD_REQUEST, "ORDERPAID", "订单已支付")),
            _ => {
                order.trade_state = "CLOSED";
                Ok(())
            }
        }
    }

    fn create_refund(&self, body: Value) -> Result<Value, (StatusCode, Value)> {
        let bad = |message: &str| error(StatusCode::BAD_REQUEST, "PARAM_ERROR", message);
        let out_refund_no =
            body["out_refund_no"].as_str().ok_or_else(|| bad("缺少参数 out_refund_no"))?.to_owned();
        if !is_out_no(&out_refund_no, 64, "@") {
            return Err(bad("out_refund_no 格式错误"));
        }
        let refund =
            body["amount"]["refund"].as_u64().filter(|r| *r >= 1).ok_or_else(|| bad("amount.refund 错误"))?;
        let total = body["amount"]["total"].as_u64().ok_or_else(|| bad("缺少参数 amount.total"))?;
        let currency =
            body["amount"]["currency"].as_str().ok_or_else(|| bad("缺少参数 amount.currency"))?.to_owned();
        let notify_url = body["notify_url"].as_str().map(str::to_owned);
        let mut state = self.state();
        if let Some(existing) = state.refunds.get(&out_refund_no) {
            // The same out_refund_no is the same refund.
            if existing.refund != refund || existing.total != total {
                return Err(error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "退款单号已存在且参数不一致"));
            }
            return Ok(refund_json(existing));
        }
        let order = match (body["transaction_id"].as_str(), body["out_trade_no"].as_str()) {
            (Some(id), _) => state.orders.values().find(|o| o.transaction_id.as_deref() == Some(id)),
            (None, Some(no)) => state.orders.get(no),
            (None, None) => return Err(bad("transaction_id 和 out_trade_no 必须二选一")),
        }
        .cloned()
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "订单不存在"))?;
        if !matches!(order.trade_state, "SUCCESS" | "REFUND") {
            return Err(error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "订单未支付"));
        }
        if total != order.total || currency != order.currency {
            return Err(error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "订单金额或币种不一致"));
        }
        let refunded: u64 = state
            .refunds
            .values()
            .filter(|r| r.out_trade_no == order.out_trade_no && r.status != "CLOSED")
            .map(|r| r.refund)
            .sum();
        if refunded + refund > order.total {
            return Err(error(StatusCode::BAD_REQUEST, "INVALID_REQUEST", "申请退款金额超过订单可退金额"));
        }
        let record = Refund {
            refund_id: format!("5030{}", digits(25)),
            out_refund_no: out_refund_no.clone(),
            out_trade_no: order.out_trade_no.clone(),
            transaction_id: order.transaction_id.clone().unwrap_or_default(),
            refund,
            total,
            currency,
            status: "PROCESSING",
            notify_url,
            created: china_now(),
            success_time: None,
            request: body,
        };
        let answer = refund_json(&record);
        if let Some(order) = state.orders.get_mut(&record.out_trade_no) {
            order.trade_state = "REFUND";
        }
        let settle = state.refund_mode == RefundMode::SucceedLater;
        state.refunds.insert(out_refund_no.clone(), record);
        drop(state);
        if settle {
            let mock = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                mock.settle_refund(&out_refund_no, "SUCCESS").await;
            });
        }
        Ok(answer)
    }

    fn query_refund(&self, out_refund_no: &str) -> Result<Value, (StatusCode, Value)> {
        let state = self.state();
        let refund = state
            .refunds
            .get(out_refund_no)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "RESOURCE_NOT_EXISTS", "退款单不存在"))?;
        Ok(refund_json(refund))
    }

    /// The shopper scans a `code_url`: the out_trade_no it belongs to.
    pub fn scan(&self, code_url: &str) -> Option<String> {
        let state = self.state();
        state
            .orders
            .values()
            .find(|o| o.code_url.as_deref() == Some(code_url))
            .map(|o| o.out_trade_no.clone())
    }
}

/// Paths of the key files the mock writes for the server.
#[derive(Debug, Clone)]
pub struct KeyFiles {
    pub merchant_private_key: PathBuf,
    pub merchant_certificate: PathBuf,
    pub public_key: PathBuf,
    pub platform_certificate: PathBuf,
}

fn transaction_json(order: &Order) -> Value {
    let paid = matches!(order.trade_state, "SUCCESS" | "REFUND");
    let mut value = json!({
        "appid": order.appid,
        "mchid": order.mchid,
        "out_trade_no": order.out_trade_no,
        "trade_type": order.trade_type,
        "trade_state": order.trade_state,
        "trade_state_desc": match order.trade_state {
            "SUCCESS" => "支付成功",
            "REFUND" => "转入退款",
            "CLOSED" => "已关闭",
            "USERPAYING" => "需要用户输入支付密码",
            "PAYERROR" => "支付失败",
            "REVOKED" => "已撤销",
            _ => "未支付",
        },
        "attach": "",
        "amount": { "total": order.total, "currency": order.currency },
    });
    if paid {
        value["transaction_id"] = json!(order.transaction_id);
        value["bank_type"] = json!("OTHERS");
        value["success_time"] = json!(order.success_time);
        value["payer"] = json!({ "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" });
        value["amount"]["payer_total"] = json!(order.total);
        value["amount"]["payer_currency"] = json!(order.currency);
    }
    let _ = &order.description;
    value
}

fn refund_json(refund: &Refund) -> Value {
    json!({
        "refund_id": refund.refund_id,
        "out_refund_no": refund.out_refund_no,
        "transaction_id": refund.transaction_id,
        "out_trade_no": refund.out_trade_no,
        "channel": "ORIGINAL",
        "user_received_account": "支付用户零钱",
        "success_time": refund.success_time,
        "create_time": refund.created,
        "status": refund.status,
        "funds_account": "AVAILABLE",
        "amount": {
            "total": refund.total,
            "refund": refund.refund,
            "payer_total": refund.total,
            "payer_refund": refund.refund,
            "settlement_refund": refund.refund,
            "settlement_total": refund.total,
            "discount_refund": 0,
            "currency": refund.currency,
        },
    })
}

fn refund_notification_json(refund: &Refund) -> Value {
    json!({
        "mchid": MCHID,
        "out_trade_no": refund.out_trade_no,
        "transaction_id": refund.transaction_id,
        "out_refund_no": refund.out_refund_no,
        "refund_id": refund.refund_id,
        "refund_status": refund.status,
        "success_time": refund.success_time,
        "user_received_account": "支付用户零钱",
        "amount": {
            "total": refund.total,
            "refund": refund.refund,
            "payer_total": refund.total,
            "payer_refund": refund.refund,
        },
    })
}

async fn api(
    State(mock): State<WechatPayMock>,
    method: Method,
    OriginalUri(original): OriginalUri,
    axum::extract::RawQuery(raw_query): axum::extract::RawQuery,
    Path(rest): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v3/{rest}");
    let requested = headers.get("wechatpay-serial").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (slow, fail, refuse) = {
        let mut state = mock.state();
        state.calls.push(format!("{method} {path}"));
        let fail = state.fail_next > 0;
        if fail {
            state.fail_next -= 1;
        }
        (state.slow_next.take(), fail, state.refuse_next.take())
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    if fail {
        let (status, body) = error(StatusCode::INTERNAL_SERVER_ERROR, "SYSTEM_ERROR", "系统错误");
        return mock.answer(status, Some(body), requested.as_deref());
    }
    // The signed URL is the one the server sent the request to: the mock's public base (which a
    // proxy in front may have shortened before the request got here) and the API path.
    let base_path = url::Url::parse(&mock.inner.base).map(|url| url.path().trim_end_matches('/').to_owned());
    let signed_uri = match (&raw_query, base_path) {
        (Some(query), Ok(base)) => format!("{base}{path}?{query}"),
        (None, Ok(base)) => format!("{base}{path}"),
        (_, Err(_)) => original.path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_default(),
    };
    if let Err(why) = mock.verify_authorization(&method, &signed_uri, &headers, &body) {
        let (status, body) = error(StatusCode::UNAUTHORIZED, "SIGN_ERROR", &format!("签名错误: {why}"));
        return mock.answer(status, Some(body), requested.as_deref());
    }
    if let Some(refusal) = refuse {
        let (status, body) = error(refusal.status, &refusal.code, &refusal.message);
        return mock.answer(status, Some(body), requested.as_deref());
    }
    if !headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json") || v == "*/*")
    {
        let (status, body) = error(StatusCode::BAD_REQUEST, "PARAM_ERROR", "Accept 必须为 application/json");
        return mock.answer(status, Some(body), requested.as_deref());
    }
    let query: HashMap<String, String> = raw_query
        .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let (status, body) = mock.dispatch(&method, &path, &query, &body);
    mock.answer(status, body, requested.as_deref())
}

#[derive(serde::Deserialize)]
struct H5Query {
    prepay_id: String,
    redirect_url: Option<String>,
}

/// WeChat Pay's H5 page: the shopper confirms and pays.
async fn h5_page(State(mock): State<WechatPayMock>, Query(query): Query<H5Query>) -> Response {
    let order = mock.state().orders.values().find(|o| o.prepay_id == query.prepay_id).cloned();
    let Some(order) = order else {
        return (StatusCode::NOT_FOUND, "商家参数格式有误").into_response();
    };
    let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    Html(format!(
        "<!doctype html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>微信支付</title></head><body>\
         <h1>微信支付 (mock)</h1><p>{}</p><p>¥{}.{:02}</p>\
         <form method=\"post\" action=\"pay\"><input type=\"hidden\" name=\"prepay_id\" value=\"{}\">\
         <input type=\"hidden\" name=\"redirect_url\" value=\"{}\"><button type=\"submit\">确认支付</button></form></body></html>",
        escape(&order.description),
        order.total / 100,
        order.total % 100,
        escape(&order.prepay_id),
        escape(query.redirect_url.as_deref().unwrap_or("")),
    ))
    .into_response()
}

async fn h5_pay(State(mock): State<WechatPayMock>, axum::Form(form): axum::Form<H5Query>) -> Response {
    let out_trade_no =
        mock.state().orders.values().find(|o| o.prepay_id == form.prepay_id).map(|o| o.out_trade_no.clone());
    let Some(out_trade_no) = out_trade_no else {
        return (StatusCode::NOT_FOUND, "订单不存在").into_response();
    };
    mock.pay(&out_trade_no).await;
    match form.redirect_url.filter(|url| !url.is_empty()) {
        Some(url) => Redirect::to(&url).into_response(),
        None => Html("<p>支付成功</p>").into_response(),
    }
}

async fn control_pay(State(mock): State<WechatPayMock>, Path(out_trade_no): Path<String>) -> Response {
    match mock.pay(&out_trade_no).await {
        Some((status, body)) => {
            Json(json!({ "paid": true, "notification": { "status": status, "body": body } })).into_response()
        }
        None => (StatusCode::CONFLICT, Json(json!({ "paid": false }))).into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Scan {
    code_url: String,
}

/// The shopper scans a `code_url` with WeChat and pays.
async fn control_scan(State(mock): State<WechatPayMock>, Json(scan): Json<Scan>) -> Response {
    let Some(out_trade_no) = mock.scan(&scan.code_url) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "paid": false, "reason": "no order has this code_url" })),
        )
            .into_response();
    };
    control_pay(State(mock), Path(out_trade_no)).await
}

#[derive(serde::Deserialize)]
struct Count {
    count: Option<u32>,
    ms: Option<u64>,
}

async fn control_fail_next(State(mock): State<WechatPayMock>, Query(count): Query<Count>) -> StatusCode {
    mock.fail_next(count.count.unwrap_or(1));
    StatusCode::NO_CONTENT
}

async fn control_slow_next(State(mock): State<WechatPayMock>, Query(count): Query<Count>) -> StatusCode {
    mock.slow_next(Duration::from_millis(count.ms.unwrap_or(15_000)));
    StatusCode::NO_CONTENT
}

async fn control_calls(State(mock): State<WechatPayMock>) -> Json<Value> {
    Json(json!({ "calls": mock.state().calls.clone() }))
}

/// The mock for the `provider-mocks` binary: served below `<base>/wechat_pay`.
pub async fn served(base: &str, dir: &FsPath) -> anyhow::Result<crate::Served> {
    let mock = tokio::task::spawn_blocking({
        let base = format!("{}/wechat_pay", base.trim_end_matches('/'));
        move || WechatPayMock::new(&base)
    })
    .await??;
    Ok(crate::Served { name: "wechat_pay", router: mock.router(), config_toml: mock.config_toml(dir)? })
}

/// Serves a new mock on a free loopback port (below `/wechat_pay`), for in-process tests.
pub async fn start() -> anyhow::Result<WechatPayMock> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let mock =
        tokio::task::spawn_blocking(move || WechatPayMock::new(&format!("http://{address}/wechat_pay")))
            .await??;
    let router = Router::new().nest("/wechat_pay", mock.router());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(mock)
}
