//! Storage of orders, payment sessions and their status history, through sqlx.
//!
//! Every query goes through sqlx's `Any` driver with `$n` placeholders, so one code path serves
//! the embedded SQLite default and PostgreSQL. Status changes are compare-and-set updates: the
//! row only changes if it still has the status the decision was made on. Each committed change is
//! announced to waiting readers (`notifier`): directly on SQLite, through `NOTIFY` on PostgreSQL so
//! that every instance hears it.

mod alerts;
mod api_keys;
mod audit_log;
pub mod backups;
mod business;
mod counters;
mod fee_terms;
mod notifications;
pub mod notifier;
mod orders;
mod outbox;
mod refunds;
mod reports;
mod rows;
mod sandbox_payments;
mod search;
mod sessions;
mod staff;
mod wallet_credentials;
mod webhook_endpoint;

pub use alerts::{AlertRecord, NewAlert, SessionFact};
pub use api_keys::{ApiKeyRecord, NewApiKey, Revocation};
pub use audit_log::AuditEntry;
pub use backups::{backup_age, BackupRecord};
pub use business::{PathSession, StepRecord};
pub use counters::{CounterRecord, LocationRecord, Place, PlaceChange};
pub use fee_terms::ProviderTerms;
pub use orders::{NewMerchantOrder, OrderCancel, OrderCreation};
pub use outbox::{DueEvent, EventRecord};
pub use refunds::{NewRefund, RefundCreation, RefundRecord, RefundStatus};
pub use reports::{TransactionFilter, TransactionRow, MAX_REPORT_ROWS};
pub use rows::{NewOrder, NewSession, OrderRecord, SessionRecord, StatusChange};
pub use sandbox_payments::SandboxPayment;
pub use search::{AuditFilter, OrderFilter, OrderSummary};
pub use staff::{NewStaff, StaffRecord, StaffSession};
pub use wallet_credentials::StoredCredential;
pub use webhook_endpoint::WebhookEndpoint;

use crate::{
    db::notifier::{Notifier, CHANNEL},
    domain::{EventData, Refusal, UnixMillis},
};
use anyhow::{bail, Context};
use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    AnyPool, Executor,
};
use std::{sync::Arc, time::Duration};
use wallet_checkout_contract::{SessionId, SessionStatus};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Sessions expired per sweep query.
const SWEEP_BATCH: i64 = 200;

/// Times a status change is retried when another writer changed the row first.
const TRANSITION_ATTEMPTS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("no such session")]
    SessionNotFound,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("the session kept changing under concurrent writers")]
    Contended,
    #[error("the idempotency key was used with a different request")]
    KeyReused,
}

/// Result of asking for a session with an idempotency key.
#[derive(Debug)]
pub enum Reservation {
    /// The key was new: this request owns the new session.
    Reserved(SessionRecord),
    /// The key was used before: the session it made.
    Existing(SessionRecord),
}

/// Result of applying an event to a session.
#[derive(Debug)]
pub enum Transition {
    /// The status changed; the session as it is now.
    Applied(SessionRecord),
    /// Nothing changed, for the reason given; the session as it is.
    Refused(Refusal, SessionRecord),
}

#[derive(Clone)]
pub struct Db {
    /// Reads, and on PostgreSQL writes too.
    pool: AnyPool,
    /// Writes: on SQLite a pool of one connection, on PostgreSQL `pool` itself.
    writer: AnyPool,
    backend: Backend,
    database_url: String,
    notifier: Arc<Notifier>,
    /// Written into every event: `false` when the sandbox is on.
    livemode: bool,
}

/// Creates the data directory readable by this user only (0700). A directory that exists already
/// is left as it is, with a warning if others can read it: it holds the database and its secrets.
pub fn prepare_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
        } else if let Ok(metadata) = std::fs::metadata(dir) {
            if metadata.permissions().mode() & 0o077 != 0 {
                tracing::warn!(dir = %dir.display(), "the data directory can be read by other users; it holds secrets (chmod 700 it)");
            }
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    Ok(())
}

/// The database file of a `sqlite://<path>?...` URL, created empty and readable by this user only
/// (0600) before SQLite opens it; SQLite gives its `-wal` and `-shm` files the same permissions.
/// A database in memory is refused: each pooled connection would have one of its own, empty, and
/// everything would be gone at the next start.
fn prepare_sqlite_file(database_url: &str) -> anyhow::Result<()> {
    let rest = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:"));
    let (path, query) = rest.unwrap_or_default().split_once('?').unwrap_or((rest.unwrap_or_default(), ""));
    let in_memory =
        path.is_empty() || path.starts_with(':') || query.split('&').any(|pair| pair == "mode=memory");
    if in_memory {
        bail!("DATABASE_URL names a SQLite database in memory: name a file (sqlite://<path>?mode=rwc)");
    }
    if database_url.starts_with("sqlite:") && !database_url.starts_with("sqlite://") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("cannot create the database file {path}"))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict the database file {path} to this user"))?;
    }
    Ok(())
}

/// A pool of at most `max_connections` to `database_url`.
async fn open_pool(backend: Backend, database_url: &str, max_connections: u32) -> anyhow::Result<AnyPool> {
    AnyPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // A pooled connection is pinged before each use only where it can have gone away (a
        // PostgreSQL server restarted or a connection cut). An embedded SQLite file cannot,
        // and its ping is a round trip to the connection's worker thread for every query.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers run beside the single writer; the busy timeout makes
                    // writers queue instead of failing.
                    conn.execute(
                        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .connect(database_url)
        .await
        .context("cannot open the database")
}

impl Db {
    /// Sessions a waiting read is held open for on this instance.
    pub fn waiting_sessions(&self) -> usize {
        self.notifier.waiting_sessions()
    }

    /// Connects to `database_url` (`sqlite:` or `postgres:`) and brings the schema up to date.
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
        install_default_drivers();
        let backend = if database_url.starts_with("sqlite:") {
            prepare_sqlite_file(database_url)?;
            Backend::Sqlite
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            bail!("unsupported DATABASE_URL scheme (expected sqlite: or postgres:)");
        };
        let pool = open_pool(backend, database_url, if backend == Backend::Sqlite { 8 } else { 32 }).await?;
        // SQLite has one writer at a time. Writers that meet a busy file wait in SQLite's busy
        // handler, which sleeps and tries again (1, 2, 5, 10 ms, ...); queued on one connection of
        // their own they are woken in turn the moment the writer before them commits.
        let writer = match backend {
            Backend::Sqlite => open_pool(backend, database_url, 1).await?,
            Backend::Postgres => pool.clone(),
        };
        let migrations = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrations.run(&pool).await.context("cannot migrate the database")?;
        Ok(Self {
            pool,
            writer,
            backend,
            database_url: database_url.to_owned(),
            notifier: Arc::new(Notifier::default()),
            livemode: false,
        })
    }

    /// Closes every connection, waiting for those in use to be given back.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    /// Marks the events this store writes as live (real money) or test.
    pub fn with_livemode(mut self, livemode: bool) -> Self {
        self.livemode = livemode;
        self
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Where committed status changes are announced.
    pub fn notifier(&self) -> &Arc<Notifier> {
        &self.notifier
    }

    /// On PostgreSQL, listens for status changes made by any instance and passes them to this
    /// instance's waiters. Runs until the process ends; reconnects after a lost connection.
    pub fn spawn_listener(&self) {
        if self.backend != Backend::Postgres {
            return;
        }
        let url = self.database_url.clone();
        let notifier = self.notifier.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::error!(%error, "cannot listen for status changes; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                };
                if let Err(error) = listener.listen(CHANNEL).await {
                    tracing::error!(%error, "cannot listen for status changes; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
                // Changes made while not listening may have been missed: everyone reads again.
                notifier.publish_all();
                loop {
                    match listener.try_recv().await {
                        Ok(Some(notification)) => notifier.publish(notification.payload()),
                        Ok(None) => {
                            tracing::warn!("lost the status change listener's connection; reconnecting");
                            notifier.publish_all();
                        }
                        Err(error) => {
                            tracing::error!(%error, "status change listener failed; reconnecting");
                            notifier.publish_all();
                            break;
                        }
                    }
                }
            }
        });
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Tells every instance about a change, from inside its transaction (PostgreSQL delivers the
    /// notification on commit).
    async fn announce(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &SessionId,
    ) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(id.as_str())
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// After commit: on SQLite, this process is the only one, so its waiters hear it directly.
    fn announced(&self, id: &SessionId) {
        if self.backend == Backend::Sqlite {
            self.notifier.publish(id.as_str());
        }
    }

    /// Writes the event for a session's change into the outbox, in the change's transaction, so
    /// a change and its webhook are committed together or not at all.
    async fn record_event(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        kind: &str,
        session: &SessionRecord,
        now: UnixMillis,
    ) -> Result<(), sqlx::Error> {
        let data = EventData::Session { session: session.view(now), flag: session.flag };
        self.insert_event(tx, kind, session.id.as_str(), None, &data, now).await
    }
}

async fn record_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &SessionId,
    from: Option<SessionStatus>,
    to: SessionStatus,
    reason: &str,
    at: UnixMillis,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO session_events (session_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.as_str())
    .bind(from.map(SessionStatus::as_str))
    .bind(to.as_str())
    .bind(reason)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::prepare_sqlite_file;

    #[test]
    fn a_database_in_memory_is_refused_with_what_to_give_instead() {
        for url in
            ["sqlite::memory:", "sqlite://:memory:", "sqlite://", "sqlite://db?mode=memory&cache=shared"]
        {
            let error = prepare_sqlite_file(url).expect_err(url).to_string();
            assert!(error.contains("in memory") && error.contains("sqlite://<path>"), "{url}: {error}");
        }
        let dir = tempfile::TempDir::new().unwrap();
        let file = dir.path().join("wallet-checkout.db");
        prepare_sqlite_file(&format!("sqlite://{}?mode=rwc", file.display())).unwrap();
        assert!(file.exists());
    }
}
