//! Wallet providers' credentials entered in the console (setup step 3), and the providers built
//! from them.
//!
//! Each value is sealed with `AppState.vault` (AES-256-GCM, key outside the database) into the
//! `provider_credentials` table and never shown again: pages show its fingerprint and who set it
//! when. The providers the server uses are built from the configuration file merged with the
//! stored values: **a value stored in the console wins over the same setting in the file**, and
//! fills in what the file leaves out (a provider can be set up entirely in the console). A PEM
//! stored in the console is used instead of the file path setting for the same key.
//!
//! At startup a provider configured only in the file that cannot be built stops the server, as
//! before; one that uses stored values is left out with its reason (so that a wrong value entered
//! in the console never keeps the server from starting), and the console shows that reason.
//! After every change in the console the providers are built again and replace the running set.

use crate::{
    config::Config,
    db::{Db, StoredCredential},
    domain::SharedClock,
    providers::{find_wallet, sandbox::SandboxProvider, BuildContext, ProviderSettings, Providers, WALLETS},
    vault::Vault,
};
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub use crate::providers::wallet::{Field, Kind};

/// The names of the providers whose credentials the console keeps, in the order of the wallets.
pub fn providers() -> impl Iterator<Item = &'static str> {
    WALLETS.iter().map(|wallet| wallet.name)
}

/// The fields the console offers for a provider.
pub fn fields(provider: &str) -> &'static [Field] {
    find_wallet(provider).map_or(&[], |wallet| wallet.fields)
}

/// The field of a provider with this name.
pub fn find(provider: &str, name: &str) -> Option<Field> {
    fields(provider).iter().find(|field| field.name == name).copied()
}

/// The environment variable that sets this field from the configuration instead.
pub fn env_var(provider: &str, name: &str) -> String {
    format!("WC_PROVIDERS__{}__{}", provider.to_ascii_uppercase(), name.to_ascii_uppercase())
}

/// The place the vault seals a value for.
pub fn purpose(provider: &str, name: &str) -> String {
    format!("provider:{provider}:{name}")
}

/// The first 16 hex digits of the value's SHA-256: enough to tell two values apart, nothing
/// about the value.
pub fn fingerprint(value: &str) -> String {
    Sha256::digest(value.as_bytes())[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A stored credential, opened.
pub struct Opened {
    pub provider: String,
    pub field: String,
    pub value: String,
}

/// Every stored credential opened with the vault. One that does not open (sealed with another
/// key) is left out and logged: the console shows it as set, the provider does not get it.
pub async fn opened(store: &Db, vault: &Vault) -> anyhow::Result<(Vec<StoredCredential>, Vec<Opened>)> {
    let stored = store.provider_credentials().await?;
    let mut values = Vec::new();
    for credential in &stored {
        match vault.open_sealed(&purpose(&credential.provider, &credential.field), &credential.ciphertext) {
            Ok(bytes) => values.push(Opened {
                provider: credential.provider.clone(),
                field: credential.field.clone(),
                value: String::from_utf8_lossy(&bytes).into_owned(),
            }),
            Err(error) => {
                tracing::error!(provider = %credential.provider, field = %credential.field, %error, "a stored credential does not open with this server's secrets key")
            }
        }
    }
    Ok((stored, values))
}

/// The configuration's providers merged with the stored values (stored win), and for each
/// provider that has stored values but cannot be read from them yet, why.
pub fn merge(file: &ProviderSettings, values: &[Opened]) -> (ProviderSettings, Vec<(&'static str, String)>) {
    let mut merged = file.clone();
    let mut incomplete = Vec::new();
    for wallet in WALLETS {
        let stored: Vec<(&str, &str)> = values
            .iter()
            .filter(|v| v.provider == wallet.name)
            .map(|v| (v.field.as_str(), v.value.as_str()))
            .collect();
        if stored.is_empty() {
            continue;
        }
        if let Err(why) = (wallet.merge)(&mut merged, &stored) {
            incomplete.push((wallet.name, why));
        }
    }
    (merged, incomplete)
}

/// How a provider stands after a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Neither the file nor the console sets it up.
    Absent,
    /// In use; `live`: real money.
    Active { live: bool },
    /// Set up, but not in use, and why (never a secret: stored values are blotted out).
    Unusable(String),
}

/// Removes every stored value from a message, in case a provider's error quotes one.
pub fn blot(message: String, values: &[Opened]) -> String {
    values.iter().filter(|v| v.value.len() >= 4).fold(message, |text, v| text.replace(&v.value, "[…]"))
}

/// Builds the providers from the file and the stored credentials. `strict`: a provider of the
/// file alone that cannot be built is an error (at startup); otherwise it is left out with its
/// reason.
pub async fn build(
    config: &Config,
    store: &Db,
    vault: &Vault,
    sandbox: Option<Arc<SandboxProvider>>,
    clock: &SharedClock,
    strict: bool,
) -> anyhow::Result<(Providers, Vec<(&'static str, Standing)>)> {
    let (_, values) = opened(store, vault).await?;
    let (merged, incomplete) = merge(&config.providers, &values);
    let context = BuildContext { public_url: config.public_url.clone(), clock: clock.clone() };
    let mut providers = Providers::default();
    let mut standings: Vec<(&'static str, Standing)> =
        WALLETS.iter().map(|wallet| (wallet.name, Standing::Absent)).collect();
    let mut stand = |name: &str, standing: Standing| {
        if let Some(entry) = standings.iter_mut().find(|(known, _)| *known == name) {
            entry.1 = standing;
        }
    };
    for (name, why) in incomplete {
        stand(name, Standing::Unusable(why));
    }
    for (name, built) in crate::providers::configured(&merged, &context) {
        let uses_stored = values.iter().any(|v| v.provider == name);
        let built = built.map_err(|error| error.context(format!("providers.{name} cannot be used"))).and_then(|provider| {
            if provider.livemode() && config.sandbox && !config.sandbox_beside_live {
                anyhow::bail!(
                    "providers.{name} is live and the sandbox wallet is on: set sandbox = false, or sandbox_beside_live = true to offer both"
                );
            }
            Ok(provider)
        });
        match built {
            Ok(provider) => {
                tracing::info!(
                    provider = name,
                    live = provider.livemode(),
                    stored = uses_stored,
                    "wallet provider configured"
                );
                stand(name, Standing::Active { live: provider.livemode() });
                providers.add(provider);
            }
            Err(error) if strict && !uses_stored => return Err(error),
            Err(error) => {
                let why = blot(format!("{error:#}"), &values);
                tracing::warn!(provider = name, %why, "wallet provider left out");
                stand(name, Standing::Unusable(why));
            }
        }
    }
    // The sandbox comes last: it offers only the wallets no real provider offers.
    if let Some(sandbox) = sandbox {
        providers.add(sandbox);
    }
    Ok((providers, standings))
}

/// Builds the providers again (after a change in the console) and puts them in place of the
/// running ones; answers how each stands.
pub async fn reload(
    config: &Config,
    db: &Db,
    vault: &Vault,
    sandbox: Option<Arc<SandboxProvider>>,
    clock: &SharedClock,
    running: &Providers,
) -> anyhow::Result<Vec<(&'static str, Standing)>> {
    let (providers, standings) = build(config, db, vault, sandbox, clock, false).await?;
    running.replace_with(providers);
    Ok(standings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::settings::Environment;

    fn opened(provider: &str, field: &str, value: &str) -> Opened {
        Opened { provider: provider.into(), field: field.into(), value: value.into() }
    }

    #[test]
    fn stored_values_win_over_the_file_and_fill_in_a_provider_it_lacks() {
        let file = ProviderSettings::from_toml(
            "[providers.paypal]\nenvironment = \"sandbox\"\nclient_id = \"from-file\"\nclient_secret = \"file-secret\"\nwebhook_id = \"WH1\"\n",
        )
        .unwrap();
        let values = [
            opened("paypal", "client_secret", "console-secret"),
            opened("alipay", "app_id", "2021000000000001"),
            opened("alipay", "app_private_key_pem", "-----BEGIN PRIVATE KEY-----"),
            opened("alipay", "alipay_public_key_pem", "-----BEGIN PUBLIC KEY-----"),
            opened("wechat_pay", "mchid", "1900000001"),
        ];
        let (merged, incomplete) = merge(&file, &values);
        let paypal = merged.paypal.unwrap();
        assert_eq!(paypal.client_id.as_str(), "from-file");
        assert_eq!(paypal.client_secret.expose(), "console-secret");
        let alipay = merged.alipay.unwrap();
        assert_eq!(alipay.app_id.as_str(), "2021000000000001");
        assert_eq!(alipay.environment, Environment::Live);
        assert!(merged.wechat_pay.is_none());
        assert_eq!(incomplete.len(), 1);
        assert_eq!(incomplete[0].0, "wechat_pay");
        assert!(incomplete[0].1.ends_with("is not set"), "{}", incomplete[0].1);
    }

    #[test]
    fn fingerprints_are_16_hex_digits_and_messages_never_quote_a_value() {
        assert_eq!(fingerprint("abc"), "ba7816bf8f01cfea");
        let values = [opened("paypal", "webhook_id", "WH-secret-1")];
        assert_eq!(
            blot("webhook_id \"WH-secret-1\" is wrong".into(), &values),
            "webhook_id \"[…]\" is wrong"
        );
        assert_eq!(env_var("wechat_pay", "apiv3_key"), "WC_PROVIDERS__WECHAT_PAY__APIV3_KEY");
    }
}
