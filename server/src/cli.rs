//! The command line beside the server: API keys, for the first admin key above all.
//!
//! ```text
//! wallet-checkout-server keys create --name "Shop owner" --role admin
//! wallet-checkout-server keys list
//! wallet-checkout-server keys revoke key_...
//! wallet-checkout-server backup [--dir DIR] [--keep N]
//! wallet-checkout-server restore FILE [--data-dir DIR]
//! ```

use crate::{
    app::{api_keys, Actor},
    config::Config,
    db::Db,
    domain::{AuditAction, Clock, Role, SystemClock},
};
use anyhow::{bail, Context};

const USAGE: &str = "usage:\n  wallet-checkout-server                      serve (configuration: README)\n  \
wallet-checkout-server keys create --name NAME --role admin|operator|viewer\n  \
wallet-checkout-server keys list\n  wallet-checkout-server keys revoke KEY_ID\n  \
wallet-checkout-server providers check           verify each configured wallet provider\n  \
wallet-checkout-server staff create --name NAME --email EMAIL --role admin|operator|viewer\n  \
wallet-checkout-server staff list\n  \
wallet-checkout-server backup [--dir DIR] [--keep N]   back the SQLite database up now, while it serves\n  \
wallet-checkout-server restore FILE [--data-dir DIR]   restore a backup into an empty data directory";

pub async fn run(config: Config, args: &[String]) -> anyhow::Result<()> {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    if matches!(args.as_slice(), ["--help" | "-h" | "help"]) {
        println!("{USAGE}");
        return Ok(());
    }
    if matches!(args.as_slice(), ["providers", "check"]) {
        return check_providers(&config).await;
    }
    if let ["restore", rest @ ..] = args.as_slice() {
        return restore(&config, rest).await;
    }
    if matches!(args.first(), Some(&"backup")) && !config.database_url.starts_with("sqlite:") {
        bail!("{}", crate::db::backups::POSTGRES_ADVICE);
    }
    if config.database_url.starts_with("sqlite:") {
        crate::db::prepare_data_dir(&config.data_dir)?;
    }
    let store = Db::connect(&config.database_url).await?;
    let mut config = config;
    crate::console::pages::golive::apply_mode(&store, &mut config).await?;
    let store = store.with_livemode(config.livemode());
    match args.as_slice() {
        ["keys", "create", rest @ ..] => {
            let mut name = None;
            let mut role = None;
            let mut rest = rest.iter();
            while let Some(flag) = rest.next() {
                match *flag {
                    "--name" => name = rest.next().copied(),
                    "--role" => role = rest.next().copied(),
                    other => bail!("unknown option {other}\n{USAGE}"),
                }
            }
            let name = name.context("--name is required")?;
            let role = Role::parse(role.context("--role is required")?)
                .context("--role must be admin, operator or viewer")?;
            let (key, secret) = api_keys::make_key(
                &store,
                name,
                role,
                config.livemode(),
                &Actor::command_line(),
                SystemClock.now(),
            )
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!("Created {} key {} ({}).", key.role, key.id, key.name);
            println!("Its secret is shown this once; store it safely:\n\n{secret}\n");
        }
        ["staff", "create", rest @ ..] => {
            let (mut name, mut email, mut role) = (None, None, None);
            let mut rest = rest.iter();
            while let Some(flag) = rest.next() {
                match *flag {
                    "--name" => name = rest.next().copied(),
                    "--email" => email = rest.next().copied(),
                    "--role" => role = rest.next().copied(),
                    other => bail!("unknown option {other}\n{USAGE}"),
                }
            }
            let name = name.context("--name is required")?;
            let email = email.context("--email is required")?;
            let role = role.context("--role is required")?;
            let password = crate::console::create_staff(&store, name, email, role, "cli").await?;
            println!(
                "Created {role} {name} <{}> for the console (/console).",
                email.trim().to_ascii_lowercase()
            );
            println!("Their one-time password is shown this once; they change it after signing in:\n\n{password}\n");
        }
        ["staff", "list"] => {
            for member in store.all_staff().await? {
                let state = if member.disabled_at.is_some() { "disabled" } else { "active" };
                println!(
                    "{}  {:<8}  {:<8}  {}  <{}>",
                    member.id, member.role, state, member.name, member.email
                );
            }
        }
        ["backup", rest @ ..] => {
            let (mut dir, mut keep) = (config.backup_dir.clone(), config.backup_keep);
            let mut rest = rest.iter();
            while let Some(flag) = rest.next() {
                match *flag {
                    "--dir" => dir = rest.next().context("--dir needs a directory")?.into(),
                    "--keep" => {
                        keep = rest
                            .next()
                            .and_then(|n| n.parse().ok())
                            .filter(|n| (1..=1_000).contains(n))
                            .context("--keep needs a number from 1 to 1000")?
                    }
                    other => bail!("unknown option {other}\n{USAGE}"),
                }
            }
            let now = SystemClock.now();
            let backup = store.take_backup(&dir, keep, "manual", now).await?;
            Actor::command_line()
                .audit(
                    &store,
                    AuditAction::BackupTake,
                    &backup.id,
                    serde_json::json!({ "path": backup.path, "bytes": backup.bytes }),
                    now,
                )
                .await
                .context("cannot write the audit log")?;
            println!("Backed up to {} ({} bytes, SHA-256 {}).", backup.path, backup.bytes, backup.sha256);
            println!("Keeping the newest {keep} backups in {}.", dir.display());
            println!("{SECRETS_NOTE}");
        }
        ["keys", "list"] => {
            for key in store.api_keys().await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "live" };
                println!("{}  {:<8}  {:<7}  {}…  {}", key.id, key.role, state, key.prefix, key.name);
            }
        }
        ["keys", "revoke", id] => {
            match api_keys::revoke_key(&store, id, &Actor::command_line(), SystemClock.now()).await {
                Ok(api_keys::Revoked::Now(key) | api_keys::Revoked::Already(key)) => {
                    println!("Revoked {} ({}).", key.id, key.name)
                }
                Err(error) => bail!("{error}"),
            }
        }
        _ => bail!("{USAGE}"),
    }
    Ok(())
}

const SECRETS_NOTE: &str = "Secrets kept in the database (provider keys, two-step sign-in) are sealed with the \
secrets key (secrets.key in the data directory, or secrets_key_file / WC_SECRETS_KEY): keep a copy of it apart \
from the backups; a restored database needs the same key.";

/// `restore FILE [--data-dir DIR]`: into an empty data directory only.
async fn restore(config: &Config, args: &[&str]) -> anyhow::Result<()> {
    if !config.database_url.starts_with("sqlite:") {
        bail!("{}", crate::db::backups::POSTGRES_ADVICE);
    }
    let (mut file, mut data_dir) = (None, config.data_dir.clone());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--data-dir" => data_dir = rest.next().context("--data-dir needs a directory")?.into(),
            other if other.starts_with("--") => bail!("unknown option {other}\n{USAGE}"),
            other if file.is_none() => file = Some(std::path::PathBuf::from(other)),
            _ => bail!("{USAGE}"),
        }
    }
    let file = file.context("restore needs the backup file: restore FILE [--data-dir DIR]")?;
    let restored = crate::db::backups::restore(&file, &data_dir).await?;
    println!("Restored {} into {}.", file.display(), restored.display());
    println!("Start the server with this data directory (data_dir / WC_DATA_DIR = {}).", data_dir.display());
    println!("{SECRETS_NOTE}");
    Ok(())
}

/// `providers check`: for each configured provider, its keys parse and match, and one harmless
/// authenticated call succeeds. Prints OK or the exact reason per provider; fails on any failure.
async fn check_providers(config: &Config) -> anyhow::Result<()> {
    let context = crate::providers::BuildContext {
        public_url: config.public_url.clone(),
        clock: std::sync::Arc::new(SystemClock),
    };
    let stored = stored_credentials(config).await;
    let (merged, incomplete) = crate::app::wallet_setup::merge(&config.providers, &stored);
    let providers = crate::providers::configured(&merged, &context);
    let mut failed = 0;
    for (name, why) in incomplete {
        failed += 1;
        println!("{name}: FAILED: {why} (keys entered in the console)");
    }
    if providers.is_empty() && failed == 0 {
        println!("No wallet providers are configured (README: Configuration, docs/providers/).");
        return Ok(());
    }
    for (name, built) in providers {
        let outcome = match built {
            Ok(provider) => provider.self_check().await.map_err(|error| error.to_string()),
            Err(error) => Err(format!("{error:#}")),
        };
        match outcome {
            Ok(()) => println!("{name}: OK"),
            Err(reason) => {
                failed += 1;
                println!("{name}: FAILED: {}", crate::app::wallet_setup::blot(reason, &stored));
            }
        }
    }
    if failed > 0 {
        bail!("{failed} provider(s) failed the check");
    }
    Ok(())
}

/// The provider credentials entered in the console (setup step 3), opened, so that the check sees
/// the providers as the server builds them. None when there is no database yet; a database or key
/// that cannot be opened is said and the check goes on with the file alone.
async fn stored_credentials(config: &Config) -> Vec<crate::app::wallet_setup::Opened> {
    if config.database_url.starts_with("sqlite:") && !config.data_dir.is_dir() {
        return Vec::new();
    }
    let opened = async {
        let store = Db::connect(&config.database_url).await?;
        if store.provider_credentials().await?.is_empty() {
            return Ok(Vec::new());
        }
        let vault = crate::vault::Vault::open(
            std::env::var("WC_SECRETS_KEY").ok().as_deref(),
            config.secrets_key_file.as_deref(),
            &config.data_dir,
        )?;
        let (stored, opened) = crate::app::wallet_setup::opened(&store, &vault).await?;
        if opened.len() < stored.len() {
            println!(
                "{} of the keys entered in the console do not open with this server's secrets key (secrets_key_file, WC_SECRETS_KEY); they are left out.",
                stored.len() - opened.len()
            );
        }
        anyhow::Ok(opened)
    };
    match opened.await {
        Ok(values) => values,
        Err(error) => {
            println!("The keys entered in the console cannot be read ({error:#}); checking the configuration file alone.");
            Vec::new()
        }
    }
}
