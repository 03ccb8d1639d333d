//! `[providers.paypal]`: the REST app's credentials, the webhook that sends this server its
//! events, where the API is, and which orders PayPal is offered for.

use super::super::settings::{Environment, Secret, Text, TextList};
use serde::Deserialize;

/// PayPal's hosts for each environment.
pub const LIVE_BASE_URL: &str = "https://api-m.paypal.com";
pub const SANDBOX_BASE_URL: &str = "https://api-m.sandbox.paypal.com";

/// Every currency PayPal takes for payments (developer.paypal.com, "Currency codes"). `BRL`,
/// `CNY` and `MYR` only for accounts in their own country; `HUF`, `JPY` and `TWD` in whole units.
pub const DEFAULT_CURRENCIES: [&str; 25] = [
    "AUD", "BRL", "CAD", "CNY", "CZK", "DKK", "EUR", "HKD", "HUF", "ILS", "JPY", "MYR", "MXN", "TWD", "NZD",
    "NOK", "PHP", "PLN", "GBP", "RUB", "SGD", "SEK", "CHF", "THB", "USD",
];

/// Currencies whose ISO 4217 minor unit PayPal does not take ("This currency does not support
/// decimals. If you pass a decimal amount, an error occurs."): amounts go over the wire in whole
/// units, and an amount with a fraction is not offered. (`JPY` has no minor unit in ISO either.)
pub const WHOLE_UNIT_CURRENCIES: [&str; 2] = ["HUF", "TWD"];

/// How long a call to PayPal may take by default, in milliseconds.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// `[providers.paypal]` (each setting also `WC_PROVIDERS__PAYPAL__<NAME>`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `live` (real money, `api-m.paypal.com`) or `sandbox` (`api-m.sandbox.paypal.com`).
    pub environment: Environment,
    /// The REST app's client id (Developer Dashboard, Apps & Credentials).
    pub client_id: Text,
    /// The REST app's secret.
    pub client_secret: Secret,
    /// The id of the webhook registered for `<public_url>/api/providers/paypal/notify`: PayPal
    /// verifies each event against it.
    pub webhook_id: Text,
    /// The API's base URL; default: the environment's host.
    pub base_url: Option<Text>,
    /// The name PayPal shows the shopper instead of the account's business name (at most 127
    /// characters); default: the account's.
    pub brand_name: Option<Text>,
    /// How long one call may take, in milliseconds; default 10000.
    pub timeout_ms: Option<Text>,
    /// Currencies PayPal is offered for; default: every currency PayPal takes.
    pub currencies: Option<TextList>,
    /// Smallest and largest amount, in minor units; default 1 and no limit.
    pub min_amount: Option<Text>,
    pub max_amount: Option<Text>,
}

impl Settings {
    /// Sets the field `name` to a value stored in the console.
    pub fn apply(&mut self, name: &str, value: String) {
        match name {
            "environment" => self.environment = Environment::from_stored(&value),
            "base_url" => self.base_url = Some(Text(value)),
            "client_id" => self.client_id = Text(value),
            "client_secret" => self.client_secret = Secret::new(value),
            "webhook_id" => self.webhook_id = Text(value),
            _ => {}
        }
    }

    /// The API's base URL: the configured one, else the environment's, without a trailing `/`.
    pub fn base_url(&self) -> anyhow::Result<url::Url> {
        let raw = match &self.base_url {
            Some(text) if !text.as_str().is_empty() => text.as_str(),
            _ => match self.environment {
                Environment::Live => LIVE_BASE_URL,
                Environment::Sandbox => SANDBOX_BASE_URL,
            },
        };
        let url = url::Url::parse(raw.trim_end_matches('/'))
            .map_err(|e| anyhow::anyhow!("base_url {raw:?} is not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            anyhow::bail!("base_url {raw:?} must be an http or https URL");
        }
        if url.query().is_some() || url.fragment().is_some() {
            anyhow::bail!("base_url {raw:?} must not have a query or a fragment");
        }
        Ok(url)
    }

    pub fn timeout(&self) -> anyhow::Result<std::time::Duration> {
        let ms = match &self.timeout_ms {
            None => DEFAULT_TIMEOUT_MS,
            Some(text) => {
                text.as_str().parse::<u64>().ok().filter(|ms| (1..=120_000).contains(ms)).ok_or_else(
                    || anyhow::anyhow!("timeout_ms={:?} must be from 1 to 120000", text.as_str()),
                )?
            }
        };
        Ok(std::time::Duration::from_millis(ms))
    }

    /// Checks what PayPal would refuse later, so that a bad value stops the server at start.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.client_id.as_str().is_empty() {
            anyhow::bail!("client_id is empty");
        }
        if self.client_secret.expose().trim().is_empty() {
            anyhow::bail!("client_secret is empty");
        }
        // PayPal's schema: `^[a-zA-Z0-9]+$`, at most 50 characters.
        let webhook_id = self.webhook_id.as_str();
        if webhook_id.is_empty()
            || webhook_id.len() > 50
            || !webhook_id.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            anyhow::bail!(
                "webhook_id {webhook_id:?} is not a PayPal webhook id (letters and digits, at most 50)"
            );
        }
        if let Some(brand) = &self.brand_name {
            let length = brand.as_str().chars().count();
            if length == 0 || length > 127 || brand.as_str().chars().any(char::is_control) {
                anyhow::bail!("brand_name must be 1 to 127 characters without control characters");
            }
        }
        self.base_url()?;
        self.timeout()?;
        Ok(())
    }
}
