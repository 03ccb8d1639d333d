//! `[providers.alipay]`: the app on Alipay's Open Platform, its keys, and how the shopper pays.

use crate::providers::settings::{Environment, Secret, Text, TextList};
use serde::Deserialize;
use std::path::PathBuf;

/// Alipay's production gateway.
pub const LIVE_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// Alipay's sandbox gateway (open.alipay.com's 沙箱环境; the older `openapi.alipaydev.com` host
/// was replaced by this one in 2023).
pub const SANDBOX_GATEWAY: &str = "https://openapi-sandbox.dl.alipaydev.com/gateway.do";

/// The settings of `[providers.alipay]` (variables `WC_PROVIDERS__ALIPAY__<FIELD>`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `live` (real money) or `sandbox`. Default `live`.
    #[serde(default)]
    pub environment: Environment,
    /// The app's APPID on the Open Platform (`2021...`).
    pub app_id: Text,
    /// PEM (or bare Base64) file of the app's RSA2 private key; its public key is the one
    /// uploaded to the app as "应用公钥". One of this and `app_private_key_pem` is required; the
    /// PEM wins when both are set.
    #[serde(default)]
    pub app_private_key_file: Option<PathBuf>,
    /// The app's private key itself (PEM or bare Base64 text), as entered in the console or
    /// given inline (`WC_PROVIDERS__ALIPAY__APP_PRIVATE_KEY_PEM`).
    #[serde(default)]
    pub app_private_key_pem: Option<Secret>,
    /// PEM (or bare Base64) file of "支付宝公钥", the key Alipay shows for the app once the app's
    /// public key is uploaded. It verifies responses and notifications. One of this and
    /// `alipay_public_key_pem` is required; the PEM wins when both are set.
    #[serde(default)]
    pub alipay_public_key_file: Option<PathBuf>,
    /// Alipay's public key itself (PEM or bare Base64 text).
    #[serde(default)]
    pub alipay_public_key_pem: Option<Text>,
    /// Optional: the app public key file as uploaded, to check it matches the private key.
    #[serde(default)]
    pub app_public_key_file: Option<PathBuf>,
    /// Optional: the merchant's Alipay user id (`2088...`); notifications for another seller are
    /// refused, and payments name it as `seller_id`.
    #[serde(default)]
    pub seller_id: Option<Text>,
    /// `precreate` (default: a QR code of `alipay.trade.precreate`, 当面付) or `page_pay`
    /// (a redirect to `alipay.trade.page.pay`, 电脑网站支付) on desktops. Phones always get
    /// `alipay.trade.wap.pay` (手机网站支付).
    #[serde(default)]
    pub desktop_flow: Option<Text>,
    /// Overrides the gateway for the environment (a proxy, a mock).
    #[serde(default)]
    pub gateway_url: Option<Text>,
    /// How long a call to Alipay may take, in seconds. Default 10.
    #[serde(default)]
    pub timeout_secs: Option<Text>,
    /// Currencies offered: `CNY` only (the default); the gateway API takes amounts in yuan.
    #[serde(default)]
    pub currencies: Option<TextList>,
    /// Smallest and largest amount offered, in fen. Default 1 and 10000000000 (0.01 to
    /// 100,000,000 yuan, Alipay's range).
    #[serde(default)]
    pub min_amount: Option<Text>,
    #[serde(default)]
    pub max_amount: Option<Text>,
}

/// What desktops are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesktopFlow {
    /// A QR code of `alipay.trade.precreate` for the shopper's phone to scan.
    Precreate,
    /// A redirect to Alipay's web cashier, `alipay.trade.page.pay`.
    PagePay,
}

impl Settings {
    /// Sets the field `name` to a value stored in the console.
    pub fn apply(&mut self, name: &str, value: String) {
        match name {
            "environment" => self.environment = Environment::from_stored(&value),
            "gateway_url" => self.gateway_url = Some(Text(value)),
            "app_id" => self.app_id = Text(value),
            "app_private_key_pem" => self.app_private_key_pem = Some(Secret::new(value)),
            "alipay_public_key_pem" => self.alipay_public_key_pem = Some(Text(value)),
            "seller_id" => self.seller_id = Some(Text(value)),
            _ => {}
        }
    }

    pub fn gateway(&self) -> anyhow::Result<url::Url> {
        let text = match (&self.gateway_url, self.environment) {
            (Some(url), _) if !url.as_str().is_empty() => url.as_str(),
            (_, Environment::Live) => LIVE_GATEWAY,
            (_, Environment::Sandbox) => SANDBOX_GATEWAY,
        };
        let url =
            url::Url::parse(text).map_err(|e| anyhow::anyhow!("gateway_url={text:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            anyhow::bail!("gateway_url={text:?} must be an http(s) URL");
        }
        Ok(url)
    }

    pub fn desktop(&self) -> anyhow::Result<DesktopFlow> {
        match self.desktop_flow.as_ref().map(Text::as_str) {
            None | Some("precreate") => Ok(DesktopFlow::Precreate),
            Some("page_pay") => Ok(DesktopFlow::PagePay),
            Some(other) => anyhow::bail!("desktop_flow must be precreate or page_pay, not {other:?}"),
        }
    }

    pub fn timeout(&self) -> anyhow::Result<std::time::Duration> {
        match &self.timeout_secs {
            None => Ok(std::time::Duration::from_secs(10)),
            Some(text) => text
                .as_str()
                .parse::<u64>()
                .ok()
                .filter(|secs| (1..=120).contains(secs))
                .map(std::time::Duration::from_secs)
                .ok_or_else(|| anyhow::anyhow!("timeout_secs={:?} must be 1 to 120", text.as_str())),
        }
    }
}
