//! Wallet providers behind one trait. A provider turns a stored session into a payment at the
//! wallet and tells the widget what to do next; it never sees the shopper's browser directly.

pub mod sandbox;

use async_trait::async_trait;
use std::sync::Arc;
use url::Url;
use wallet_checkout_contract::{Amount, DeviceKind, NextAction, SessionId, WalletId, WalletOption};

/// What a provider needs to start a payment.
#[derive(Debug, Clone)]
pub struct PaymentRequest<'a> {
    pub session_id: &'a SessionId,
    pub wallet_id: &'a WalletId,
    pub amount: Amount,
    pub device: DeviceKind,
    /// Base URL under which this server is reachable by the shopper.
    pub public_base: &'a Url,
}

/// The payment as the provider created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderPayment {
    /// The provider's own id for the payment.
    pub reference: String,
    pub next_action: NextAction,
}

#[derive(Debug, thiserror::Error)]
#[error("wallet provider error: {0}")]
pub struct ProviderError(pub String);

/// What the wallet says about a payment the shopper approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not settled yet: ask again later.
    Pending,
    Succeeded,
    Failed,
}

#[async_trait]
pub trait WalletProvider: Send + Sync {
    /// The wallets this provider serves, in display order.
    fn wallets(&self) -> Vec<WalletOption>;

    async fn create_payment(&self, request: PaymentRequest<'_>) -> Result<ProviderPayment, ProviderError>;

    /// Asks the wallet how an approved payment ended, for sessions whose confirmation did not
    /// arrive (a crash between approval and confirmation, a lost notification).
    async fn payment_verdict(&self, reference: &str) -> Result<Verdict, ProviderError>;
}

/// Every configured provider, looked up by wallet.
#[derive(Clone, Default)]
pub struct Providers {
    entries: Vec<(WalletOption, Arc<dyn WalletProvider>)>,
}

impl Providers {
    pub fn add(&mut self, provider: Arc<dyn WalletProvider>) {
        for wallet in provider.wallets() {
            self.entries.push((wallet, provider.clone()));
        }
    }

    /// The wallets offered to shoppers, in display order.
    pub fn wallets(&self) -> Vec<WalletOption> {
        self.entries.iter().map(|(wallet, _)| wallet.clone()).collect()
    }

    pub fn wallet(&self, id: &WalletId) -> Option<&WalletOption> {
        self.entries.iter().map(|(wallet, _)| wallet).find(|wallet| &wallet.id == id)
    }

    pub fn provider_for(&self, id: &WalletId) -> Option<&Arc<dyn WalletProvider>> {
        self.entries.iter().find(|(wallet, _)| &wallet.id == id).map(|(_, provider)| provider)
    }
}
