//! Keyed hashes (HMAC-SHA256) that stand for a client or an e-mail address wherever the server
//! must count or log it without keeping it: the alert on many sessions from one client, the log
//! lines of the rate limits, the sign-in lockout per e-mail address. The key is made on first use
//! and kept sealed in the database, so every instance on one database hashes alike, and nobody
//! who has only the database (or a backup) can test a guessed address against the hashes.

use crate::{
    db::Db,
    domain::{ClientKey, UnixMillis},
    vault::Vault,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;

/// The console setting that keeps the sealed key (named for its first use, the alert rules).
const KEY_SETTING: &str = "alerts.client_key";

#[derive(Clone)]
pub struct Pseudonyms {
    key: [u8; 32],
}

impl fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pseudonyms")
    }
}

impl Pseudonyms {
    /// The key from the database, made and sealed there the first time.
    pub async fn load(store: &Db, vault: &Vault, now: UnixMillis) -> anyhow::Result<Self> {
        let mut fresh = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut fresh);
        let sealed =
            store.console_setting_or_insert(KEY_SETTING, &vault.seal(KEY_SETTING, &fresh), now).await?;
        let key = vault.open_sealed(KEY_SETTING, &sealed)?;
        let key: [u8; 32] = key.try_into().map_err(|_| anyhow::anyhow!("{KEY_SETTING} is not 32 bytes"))?;
        Ok(Self { key })
    }

    /// Pseudonyms under a given key (tests).
    pub fn from_key(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn digest(&self, kind: &str, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        mac.finalize().into_bytes()[..8].iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// A client, as the per-client rules count it (16 hexadecimal digits).
    pub fn client(&self, client: ClientKey) -> String {
        self.digest("client", &client.to_string())
    }

    /// An e-mail address, as the sign-in lockout counts it (case and surrounding spaces ignored).
    pub fn email(&self, email: &str) -> String {
        self.digest("email", &email.trim().to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_or_address_has_one_pseudonym_per_key() {
        let pseudonyms = Pseudonyms::from_key([7; 32]);
        let client = |a: &str| pseudonyms.client(ClientKey::of(a.parse().unwrap()));
        assert_eq!(client("2001:db8::1"), client("2001:db8::2"), "one /64");
        assert_ne!(client("192.0.2.1"), client("192.0.2.2"));
        assert_eq!(client("192.0.2.1").len(), 16);
        assert!(!client("192.0.2.1").contains("192"));
        assert_eq!(pseudonyms.email(" Ana@Shop.example"), pseudonyms.email("ana@shop.example"));
        assert_ne!(
            Pseudonyms::from_key([8; 32]).email("ana@shop.example"),
            pseudonyms.email("ana@shop.example")
        );
    }
}
