//! The small types the `[providers.*]` tables' settings share (each provider's table is its own
//! `Settings`; all of them together are `providers::ProviderSettings`): texts that may come from the file or the environment, lists, secrets that never print, the
//! provider's environment, and which orders a wallet takes.

use super::WalletOffer;
use serde::{de, Deserialize, Deserializer};
use std::fmt;
use wallet_checkout_contract::{Currency, WalletOption, MAX_MINOR_UNITS};

/// A setting's value as text, whether the file wrote it as a string, a number or a boolean
/// (the environment gives `WC_PROVIDERS__WECHAT_PAY__MCHID=1900009191`, read as a number).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Text(pub String);

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

struct TextVisitor;

impl<'de> de::Visitor<'de> for TextVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, a number or a boolean")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Text, E> {
        Ok(Text(value.trim().to_owned()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Text, E> {
        Ok(Text(value.to_string()))
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor)
    }
}

/// A list: a TOML array, or (from the environment) one text with commas between the items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextList(pub Vec<String>);

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Many(Vec<Text>),
            One(Text),
        }
        Ok(TextList(match Either::deserialize(deserializer)? {
            Either::Many(items) => {
                items.into_iter().map(|item| item.0).filter(|item| !item.is_empty()).collect()
            }
            Either::One(text) => {
                text.0.split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
            }
        }))
    }
}

/// A secret setting (an API key, a client secret): it never appears in Debug output, so it
/// reaches no log line, no error body and no page.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends or uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(\"[redacted]\")")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Secret(Text::deserialize(deserializer)?.0))
    }
}

/// Where a provider's payments go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Environment {
    /// The provider's real system: real money.
    #[default]
    Live,
    /// The provider's own sandbox, where it has one.
    Sandbox,
}

impl<'de> Deserialize<'de> for Environment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Text::deserialize(deserializer)?.0.as_str() {
            "live" => Ok(Environment::Live),
            "sandbox" => Ok(Environment::Sandbox),
            other => Err(de::Error::custom(format!("environment must be live or sandbox, not {other:?}"))),
        }
    }
}

impl Environment {
    /// The environment a value stored in the console names (`sandbox`; anything else is live).
    pub fn from_stored(value: &str) -> Environment {
        if value == "sandbox" {
            Environment::Sandbox
        } else {
            Environment::Live
        }
    }
}

/// Which orders a wallet takes: its currencies and the smallest and largest amount, in minor
/// units (the settings `currencies`, `min_amount`, `max_amount` of each provider's table).
pub fn offer(
    wallet_id: &str,
    name: &str,
    currencies: Option<&TextList>,
    default_currencies: &[&str],
    min_amount: Option<&Text>,
    max_amount: Option<&Text>,
    default_max: u64,
) -> anyhow::Result<WalletOffer> {
    let currencies: Vec<String> = match currencies {
        Some(list) => list.0.iter().map(|c| c.to_ascii_uppercase()).collect(),
        None => default_currencies.iter().map(|c| (*c).to_owned()).collect(),
    };
    for currency in &currencies {
        Currency::parse(currency)
            .map_err(|_| anyhow::anyhow!("{currency:?} in currencies is not an ISO 4217 currency"))?;
    }
    let amount = |setting: &str, value: Option<&Text>, default: u64| -> anyhow::Result<u64> {
        match value {
            None => Ok(default),
            Some(text) => {
                text.0.parse::<u64>().ok().filter(|n| (1..=MAX_MINOR_UNITS).contains(n)).ok_or_else(|| {
                    anyhow::anyhow!("{setting}={:?} must be a whole number of minor units", text.0)
                })
            }
        }
    };
    let min_minor_units = amount("min_amount", min_amount, 1)?;
    let max_minor_units = amount("max_amount", max_amount, default_max)?;
    if min_minor_units > max_minor_units {
        anyhow::bail!("min_amount must not be more than max_amount");
    }
    Ok(WalletOffer {
        wallet: WalletOption {
            id: wallet_checkout_contract::WalletId::parse(wallet_id).map_err(|e| anyhow::anyhow!("{e}"))?,
            name: name.to_owned(),
        },
        currencies,
        min_minor_units,
        max_minor_units,
        whole_units_only: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Sample {
        id: Text,
        list: TextList,
        secret: Secret,
        environment: Environment,
    }

    #[test]
    fn texts_lists_and_secrets_read_from_any_spelling() {
        let toml = "id = 1900009191\nlist = \"CNY, usd\"\nsecret = \"s3cret\"\nenvironment = \"sandbox\"\n";
        let sample: Sample =
            figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(toml))
                .extract()
                .unwrap();
        assert_eq!(sample.id.as_str(), "1900009191");
        assert_eq!(sample.list.0, ["CNY", "usd"]);
        assert_eq!(sample.secret.expose(), "s3cret");
        assert_eq!(sample.environment, Environment::Sandbox);
        assert!(!format!("{sample:?}").contains("s3cret"), "a secret never prints");
    }

    #[test]
    fn offers_check_their_currencies_and_amounts() {
        let currencies = TextList(vec!["cny".into()]);
        let offer =
            offer("wechat_pay", "WeChat Pay", Some(&currencies), &[], None, Some(&Text("500".into())), 10)
                .unwrap();
        assert_eq!(offer.currencies, ["CNY"]);
        assert_eq!(offer.max_minor_units, 500);
        assert!(super::offer("x", "X", Some(&TextList(vec!["XXX".into()])), &[], None, None, 10).is_err());
        assert!(super::offer("x", "X", None, &["CNY"], Some(&Text("9".into())), Some(&Text("2".into())), 10)
            .is_err());
    }
}
