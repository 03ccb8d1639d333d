//! Going live: the facts the go-live checklist is decided from, gathered from the database, the
//! configuration and the wallet providers themselves (each built as `providers check` sees it
//! and, in live mode, asked one authenticated call). The verdicts are `domain::golive`'s.

use super::{api_keys::DEMO_KEY_NAME, wallet_setup as credentials};
use crate::{
    config::Config,
    db::{backup_age, Backend, Db},
    domain::{
        golive::{self, BackupFact, GoLiveFacts, GoLiveVerdicts, LastEvent, ProviderFact},
        SharedClock,
    },
    providers::BuildContext,
    vault::Vault,
};
use std::time::Duration;

/// How long one provider's check may take before it counts as failed.
const PROVIDER_CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// The facts, gathered now.
pub async fn facts(
    db: &Db,
    vault: &Vault,
    config: &Config,
    clock: &SharedClock,
) -> anyhow::Result<GoLiveFacts> {
    let providers = provider_facts(db, vault, config, clock).await?;
    let webhook_endpoint = db.webhook_endpoint().await?.is_some_and(|endpoint| endpoint.enabled != 0);
    let last_event = db
        .last_attempted_event()
        .await?
        .map(|event| LastEvent { delivered: event.delivered_at.is_some(), kind: event.kind });
    let backup = if db.backend() == Backend::Postgres {
        BackupFact::Unseen
    } else {
        match backup_age(db.last_backup().await?.as_ref(), clock.now()) {
            Some(age_ms) => BackupFact::Taken { age_ms },
            None => BackupFact::NoneTaken,
        }
    };
    let demo_keys = db
        .api_keys()
        .await?
        .into_iter()
        .filter(|key| key.name == DEMO_KEY_NAME && key.revoked_at.is_none())
        .count();
    Ok(GoLiveFacts {
        public_url: config.public_url.clone(),
        providers,
        webhook_endpoint,
        last_event,
        backup,
        demo_store: config.demo_store,
        demo_keys,
        sandbox_beside_live: config.sandbox_beside_live,
        livemode: config.livemode(),
    })
}

/// The checklist's verdicts, from the facts gathered now: what the console's page shows and
/// what its switch asks.
pub async fn checklist(
    db: &Db,
    vault: &Vault,
    config: &Config,
    clock: &SharedClock,
) -> anyhow::Result<GoLiveVerdicts> {
    Ok(golive::verdicts(&facts(db, vault, config, clock).await?))
}

/// Each configured wallet provider (the file's settings with the keys entered in the console),
/// as `providers check` sees it: built, and in live mode asked one authenticated call. What a
/// provider says is blotted of stored values, in case it quotes one.
async fn provider_facts(
    db: &Db,
    vault: &Vault,
    config: &Config,
    clock: &SharedClock,
) -> anyhow::Result<Vec<(&'static str, ProviderFact)>> {
    let (_, opened) = credentials::opened(db, vault).await?;
    let (merged, incomplete) = credentials::merge(&config.providers, &opened);
    let context = BuildContext { public_url: config.public_url.clone(), clock: clock.clone() };
    let mut facts: Vec<(&'static str, ProviderFact)> =
        incomplete.into_iter().map(|(name, why)| (name, ProviderFact::Incomplete(why))).collect();
    let blot = |message: String| credentials::blot(message, &opened);
    for (name, built) in crate::providers::configured(&merged, &context) {
        let fact = match built {
            Err(error) => ProviderFact::NotBuilt(blot(format!("{error:#}"))),
            Ok(provider) if !provider.livemode() => ProviderFact::TestMode,
            Ok(provider) => match tokio::time::timeout(PROVIDER_CHECK_TIMEOUT, provider.self_check()).await {
                Ok(answer) => ProviderFact::Checked(answer.map_err(|error| blot(error.to_string()))),
                Err(_) => ProviderFact::NoAnswer { after_secs: PROVIDER_CHECK_TIMEOUT.as_secs() },
            },
        };
        facts.push((name, fact));
    }
    Ok(facts)
}
