//! `[providers.wechat_pay]`: the merchant's ids and keys at WeChat Pay, the keys WeChat Pay signs
//! with (its public key, its platform certificates, or both during the migration between them),
//! where its API is, and which orders the wallet takes. `docs/providers/wechat-pay.md` says where
//! each value is found in the merchant platform.

use crate::providers::settings::{Environment, Secret, Text, TextList};
use serde::Deserialize;

/// The settings of the WeChat Pay provider (environment variables `WC_PROVIDERS__WECHAT_PAY__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `live` (default): WeChat Pay's API at `https://api.mch.weixin.qq.com`, real money.
    /// `sandbox`: WeChat Pay has no APIv3 sandbox, so this means a test server of one's own at
    /// `base_url` (required then), and no real money.
    #[serde(default)]
    pub environment: Environment,
    /// The API's base URL. Default for `live`: `https://api.mch.weixin.qq.com` (the backup
    /// domain is `https://api2.mch.weixin.qq.com`).
    pub base_url: Option<Text>,
    /// The merchant id (商户号).
    pub mchid: Text,
    /// The AppID bound to the merchant id (公众号, 小程序 or 移动应用 AppID).
    pub appid: Text,
    /// The serial number of the merchant API certificate (商户API证书序列号).
    pub merchant_serial_no: Text,
    /// Path of the merchant API private key (`apiclient_key.pem`, PKCS#8 or PKCS#1 PEM). One of
    /// this and `merchant_private_key_pem` is required; the PEM wins when both are set.
    #[serde(default)]
    pub merchant_private_key_file: Option<Text>,
    /// The merchant API private key itself (the PEM text), as entered in the console or given
    /// inline (`WC_PROVIDERS__WECHAT_PAY__MERCHANT_PRIVATE_KEY_PEM`).
    #[serde(default)]
    pub merchant_private_key_pem: Option<Secret>,
    /// Path of the merchant API certificate (`apiclient_cert.pem`), optional: when given, the
    /// server checks that the private key and `merchant_serial_no` belong to it.
    pub merchant_certificate_file: Option<Text>,
    /// The APIv3 key (32 characters) that decrypts notifications.
    pub apiv3_key: Secret,
    /// The WeChat Pay public key's id (`PUB_KEY_ID_...`), with `wechatpay_public_key_file`.
    pub wechatpay_public_key_id: Option<Text>,
    /// Path of the WeChat Pay public key (`pub_key.pem`).
    pub wechatpay_public_key_file: Option<Text>,
    /// The WeChat Pay public key itself (PEM text), instead of `wechatpay_public_key_file` (wins
    /// when both are set).
    #[serde(default)]
    pub wechatpay_public_key_pem: Option<Text>,
    /// Paths of WeChat Pay platform certificates (PEM); each one's serial is read from it.
    pub platform_certificate_files: Option<TextList>,
    /// H5 payment (a redirect to WeChat Pay's page) for shoppers on mobile browsers. Default
    /// `true`; with `false`, mobile shoppers get the Native QR code too.
    pub h5: Option<Text>,
    /// Seconds one call to the API may take. Default 10.
    pub timeout_secs: Option<Text>,
    /// Currencies offered. Default `CNY` (WeChat Pay's domestic API settles in CNY only).
    pub currencies: Option<TextList>,
    /// Smallest order, in fen. Default 1.
    pub min_amount: Option<Text>,
    /// Largest order, in fen. Default (and most) 2147483647, the largest `amount.total`.
    pub max_amount: Option<Text>,
}

impl Settings {
    /// Sets the field `name` to a value stored in the console.
    pub fn apply(&mut self, name: &str, value: String) {
        match name {
            "environment" => self.environment = Environment::from_stored(&value),
            "base_url" => self.base_url = Some(Text(value)),
            "mchid" => self.mchid = Text(value),
            "appid" => self.appid = Text(value),
            "merchant_serial_no" => self.merchant_serial_no = Text(value),
            "merchant_private_key_pem" => self.merchant_private_key_pem = Some(Secret::new(value)),
            "apiv3_key" => self.apiv3_key = Secret::new(value),
            "wechatpay_public_key_id" => self.wechatpay_public_key_id = Some(Text(value)),
            "wechatpay_public_key_pem" => self.wechatpay_public_key_pem = Some(Text(value)),
            _ => {}
        }
    }
}
