//! What the server knows of a wallet provider beyond its protocol, as one entry of the registry
//! (`providers::WALLETS`): its name, the credential fields the console asks for, where a merchant
//! registers, the currencies it takes, the word for its reference, and how its settings are
//! filled from stored values and built. The console's setup, the order page, the credential store
//! and the build all walk the registry; a provider's words are in `server/locales/*.json` under its
//! name. docs/providers/adding-a-wallet.md says what a new wallet needs, and the test below fails
//! by name when an entry lacks a part.

use super::{BuildContext, PaymentProvider, ProviderSettings};
use std::sync::Arc;

/// How a field is entered and whether it may be shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `live` or `sandbox`: shown.
    Environment,
    /// An API's base URL (a mock, a proxy): shown.
    Url,
    /// An id in one line (a merchant id, an app id): typed in the open, never shown again.
    Id,
    /// A key or password in one line: typed hidden, never shown again.
    Secret,
    /// A key in PEM (a text area, or a file read into it): never shown again.
    Pem,
}

/// A setting of a provider that the console can store.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The setting's name in `[providers.<provider>]` (and `WC_PROVIDERS__<PROVIDER>__<NAME>`).
    pub name: &'static str,
    pub kind: Kind,
    /// What the file may give instead of this field (a path setting for a PEM).
    pub file_alternative: Option<&'static str>,
}

impl Field {
    /// Whether the page may show the value (the environment and a URL are not secrets).
    pub fn shown(&self) -> bool {
        matches!(self.kind, Kind::Environment | Kind::Url)
    }
}

pub const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, file_alternative: None }
}

pub const fn pem(name: &'static str, file: &'static str) -> Field {
    Field { name, kind: Kind::Pem, file_alternative: Some(file) }
}

/// A provider built from its settings, or why it cannot be.
pub type Built = anyhow::Result<Arc<dyn PaymentProvider>>;

/// A stored setting's value, by the field's name.
pub type StoredValue<'a> = (&'a str, &'a str);

/// One wallet provider.
pub struct Wallet {
    /// Its name in the configuration (`[providers.<name>]`), routes, logs and the console.
    pub name: &'static str,
    /// The fields the console asks for, in the order it shows them.
    pub fields: &'static [Field],
    /// Where a merchant registers with it, and how many checklist items its words have
    /// (`setup.register.<name>.<n>`, from 1).
    pub register_links: &'static [&'static str],
    pub register_items: usize,
    /// The currencies its wallets take unless the settings say otherwise.
    pub currencies: &'static [&'static str],
    /// The currency its fees are charged in unless the merchant says otherwise.
    pub fee_currency: &'static str,
    /// The words (locale key) for its reference of the money movement on an order's page.
    pub reference_label: &'static str,
    /// Fills its table of `settings` with stored values: over the file's table if there is one,
    /// or from the stored values alone (`Err` names what is missing then).
    pub merge: fn(&mut ProviderSettings, &[StoredValue]) -> Result<(), String>,
    /// Builds it from its table, if the settings have one.
    pub build: fn(&ProviderSettings, &BuildContext) -> Option<Built>,
}

/// Fills a provider's table from stored values: `apply` each over the file's table, or read the
/// table from them alone.
pub fn merge_table<T: serde::de::DeserializeOwned>(
    table: &mut Option<T>,
    values: &[StoredValue],
    apply: fn(&mut T, &str, String),
) -> Result<(), String> {
    if let Some(settings) = table.as_mut() {
        values.iter().for_each(|(name, value)| apply(settings, name, (*value).to_owned()));
        return Ok(());
    }
    let map: serde_json::Map<String, serde_json::Value> =
        values.iter().map(|(name, value)| ((*name).to_owned(), serde_json::Value::from(*value))).collect();
    let settings = serde_json::from_value(serde_json::Value::Object(map)).map_err(|error| {
        // serde's messages name the missing field (`missing field `mchid``), never a value.
        let text = error.to_string();
        match text.split('`').nth(1) {
            Some(name) if text.starts_with("missing field") => format!("{name} is not set"),
            _ => "the stored settings cannot be read".to_owned(),
        }
    })?;
    *table = Some(settings);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::WALLETS;
    use std::path::Path;

    fn locale(name: &str) -> serde_json::Map<String, serde_json::Value> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("locales/{name}.json"));
        serde_json::from_str(&std::fs::read_to_string(path).expect("a locale file")).expect("JSON")
    }

    /// Each entry has every part a wallet needs: a test that fails names the wallet and the part.
    #[test]
    fn every_wallet_has_every_part() {
        let languages: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("locales"))
            .unwrap()
            .map(|entry| entry.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(languages.len() >= 2);
        let mut names = std::collections::BTreeSet::new();
        for wallet in WALLETS {
            let name = wallet.name;
            assert!(names.insert(name), "{name}: listed twice");
            assert!(
                wallet.fields.iter().any(|f| f.kind == Kind::Environment),
                "{name}: no environment field"
            );
            assert!(
                wallet.fields.iter().any(|f| matches!(f.kind, Kind::Secret | Kind::Pem)),
                "{name}: no key"
            );
            assert!(!wallet.register_links.is_empty(), "{name}: nowhere to register");
            assert!(wallet.register_links.iter().all(|link| link.starts_with("https://")), "{name}: a link");
            assert!(!wallet.currencies.is_empty(), "{name}: no currency");
            assert!(
                wallet_checkout_contract::Currency::parse(wallet.fee_currency).is_ok(),
                "{name}: fee currency"
            );
            let docs = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../docs/providers/{}.md", name.replace('_', "-")));
            assert!(docs.is_file(), "{name}: no page in docs/providers ({})", docs.display());
            for language in &languages {
                let words = locale(language);
                let mut keys = vec![
                    wallet.reference_label.to_owned(),
                    format!("setup.provider.{name}"),
                    format!("setup.providers.{name}.suits"),
                    format!("setup.providers.{name}.devices"),
                    format!("setup.providers.{name}.needs"),
                    format!("setup.integrate.notify.{name}"),
                ];
                keys.extend((1..=wallet.register_items).map(|n| format!("setup.register.{name}.{n}")));
                for key in keys {
                    assert!(words.contains_key(&key), "{name}: no words for {key} in {language}.json");
                }
            }
            // Its table is filled from stored values alone, or says what is missing.
            let mut settings = ProviderSettings::default();
            let missing = (wallet.merge)(&mut settings, &[("environment", "sandbox")]);
            assert!(missing.is_err_and(|why| why.ends_with("is not set")), "{name}: stored values read");
            assert!(
                (wallet.build)(&ProviderSettings::default(), &context()).is_none(),
                "{name}: built from nothing"
            );
        }
    }

    fn context() -> BuildContext {
        BuildContext { public_url: None, clock: Arc::new(crate::domain::SystemClock) }
    }
}
