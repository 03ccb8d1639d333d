//! Stand-ins for the wallet providers, for the reference server's tests: each speaks its
//! provider's wire format and cryptography as documented (signatures, encryption, error bodies),
//! with keys made by the process that runs it ([`Keys`]; nothing secret is ever committed), so the
//! server's adapters are proven against the protocol rather than against themselves. Each also has
//! a control side the tests use to play the shopper (pay, decline) and to break things on purpose
//! (fail, time out).
//!
//! The `provider-mocks` binary serves every mock on one port, under `/<provider>/`, and writes a
//! configuration file for the server pointing at them, for the end-to-end tests.

pub mod alipay;
pub mod paypal;
pub mod wechat_pay;

use axum::Router;
use rsa::RsaPrivateKey;
use std::time::Duration;
use std::{path::Path, sync::OnceLock};

/// What a payment code on a shopper's phone does when a merchant charges it at a counter (WeChat
/// Pay's 付款码支付, Alipay's 条码支付); a code nobody scripted pays at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeScript {
    /// Paid at once (a small, password-free payment).
    PaysAtOnce,
    /// The shopper confirms in the app (a password): undecided for `after`, then paid, or
    /// declined when `pays` is false.
    Confirms { after: Duration, pays: bool },
    /// The shopper never confirms: undecided until the merchant undoes the payment.
    NeverDecides,
    /// Declined at once with the wallet's reason (WeChat Pay's `NOT_ENOUGH`, Alipay's
    /// `ACQ.BUYER_BALANCE_NOT_ENOUGH`, ...).
    Declines(String),
}

/// A mock as the binary serves it: its routes (below `/<name>`) and the configuration table the
/// server needs to use it.
pub struct Served {
    pub name: &'static str,
    pub router: Router,
    /// `[providers.<name>]` and its settings (key files are written into the directory given).
    pub config_toml: String,
}

/// Every mock, set up to be reached at `base` (`http://127.0.0.1:<port>`, or a proxy in front),
/// with key files written into `dir`.
pub async fn all(base: &str, dir: &Path) -> anyhow::Result<Vec<Served>> {
    let base = base.trim_end_matches('/');
    let mut served = Vec::new();
    let alipay = alipay::AlipayMock::new(&format!("{base}/alipay"), dir)?;
    served.push(Served { name: "alipay", router: alipay.router(), config_toml: alipay.config_toml() });
    let paypal = paypal::PayPalMock::new(&format!("{base}/paypal"))?;
    served.push(Served { name: "paypal", router: paypal.router(), config_toml: paypal.config_toml() });
    served.push(wechat_pay::served(base, dir).await?);
    Ok(served)
}

/// Which key of which wallet: every mock in a process has the same key for a role, and no two
/// roles share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    WechatPayMerchant,
    WechatPayPlatform,
    WechatPayPublicKey,
    /// Signs the forgeries a WeChat Pay test sends.
    WechatPayStranger,
    AlipayApp,
    Alipay,
    PayPalWebhook,
}

const KEY_ROLES: usize = 7;

/// Where a mock's RSA keys come from. Nothing is read from disk or committed: each process makes
/// its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keys {
    /// The process's key for each role, made the first time it is asked for and kept for every
    /// mock started after that: making one takes a few hundred milliseconds, and a test run starts
    /// dozens of mocks.
    #[default]
    Shared,
    /// Keys of its own, made now: for a mock that stands for another merchant, another app or
    /// another signer than the mocks before it.
    Own,
}

impl Keys {
    /// The RSA-2048 key of `role`.
    pub(crate) fn rsa(self, role: KeyRole) -> RsaPrivateKey {
        static SHARED: [OnceLock<RsaPrivateKey>; KEY_ROLES] = [const { OnceLock::new() }; KEY_ROLES];
        match self {
            Keys::Shared => SHARED[role as usize].get_or_init(new_rsa_key).clone(),
            Keys::Own => new_rsa_key(),
        }
    }
}

fn new_rsa_key() -> RsaPrivateKey {
    RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("an RSA key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_has_its_own_shared_key_and_own_keys_are_new() {
        let roles = [
            KeyRole::WechatPayMerchant,
            KeyRole::WechatPayPlatform,
            KeyRole::WechatPayPublicKey,
            KeyRole::WechatPayStranger,
            KeyRole::AlipayApp,
            KeyRole::Alipay,
            KeyRole::PayPalWebhook,
        ];
        assert_eq!(roles.len(), KEY_ROLES);
        let keys: Vec<RsaPrivateKey> = roles.iter().map(|&role| Keys::Shared.rsa(role)).collect();
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(Keys::Shared.rsa(roles[i]), *key, "{:?} is kept", roles[i]);
            for other in &keys[i + 1..] {
                assert_ne!(key, other, "{:?} has a key of its own", roles[i]);
            }
        }
        assert_ne!(Keys::Own.rsa(KeyRole::Alipay), keys[5], "an own key is new");
    }
}
