//! Storage of orders, payment sessions and their status history, through sqlx.
//!
//! Every query goes through sqlx's `Any` driver with `$n` placeholders, so one code path serves
//! the embedded SQLite default and PostgreSQL. Status changes are compare-and-set updates: the
//! row only changes if it still has the status the decision was made on. Each committed change is
//! announced to waiting readers (`notify`): directly on SQLite, through `NOTIFY` on PostgreSQL so
//! that every instance hears it.

mod records;

pub use records::{NewOrder, NewSession, OrderRecord, SessionRecord, StatusChange};

use crate::{
    domain::{decide, is_late_approval, IdempotencyKey, Refusal, SessionEvent, UnixMillis},
    notify::{Notifier, CHANNEL},
};
use anyhow::{bail, Context};
use records::{OrderRow, SessionRow, StatusChangeRow};
use sqlx::{
    any::{install_default_drivers, AnyPoolOptions},
    AnyPool, Executor,
};
use std::{sync::Arc, time::Duration};
use wallet_checkout_contract::{NextAction, OrderId, SessionId, SessionStatus};

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
pub enum StoreError {
    #[error("no such session")]
    SessionNotFound,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("the session kept changing under concurrent writers")]
    Contended,
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
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    database_url: String,
    notifier: Arc<Notifier>,
}

impl Store {
    /// Connects to `database_url` (`sqlite:` or `postgres:`) and brings the schema up to date.
    pub async fn connect(database_url: &str) -> anyhow::Result<Self> {
        install_default_drivers();
        let backend = if database_url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            bail!("unsupported DATABASE_URL scheme (expected sqlite: or postgres:)");
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 32 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the single writer; the busy timeout makes
                        // writers queue instead of failing.
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(database_url)
            .await
            .context("cannot open the database")?;
        let migrations = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrations.run(&pool).await.context("cannot migrate the database")?;
        Ok(Self {
            pool,
            backend,
            database_url: database_url.to_owned(),
            notifier: Arc::new(Notifier::default()),
        })
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
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn insert_order(&self, order: &NewOrder) -> Result<OrderRecord, StoreError> {
        sqlx::query(
            "INSERT INTO orders (id, description, amount_minor, currency, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'open', $5, $5)",
        )
        .bind(order.id.as_str())
        .bind(&order.description)
        .bind(order.amount.minor_units() as i64)
        .bind(order.amount.currency().as_str())
        .bind(order.created_at)
        .execute(&self.pool)
        .await?;
        self.order(&order.id).await?.ok_or_else(|| StoreError::Corrupt("inserted order vanished".into()))
    }

    pub async fn order(&self, id: &OrderId) -> Result<Option<OrderRecord>, StoreError> {
        let row: Option<OrderRow> = sqlx::query_as(
            "SELECT id, description, amount_minor, currency, status, paid_session_id, created_at \
             FROM orders WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(OrderRecord::try_from).transpose()
    }

    /// Creates the session unless its idempotency key was used before, in which case the
    /// earlier session is returned. The unique key in the table settles races.
    pub async fn reserve_session(&self, new: &NewSession) -> Result<Reservation, StoreError> {
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO sessions (id, order_id, wallet_id, status, amount_minor, currency, return_url, \
             device, idempotency_key, request_hash, created_at, expires_at, updated_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $10) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(new.id.as_str())
        .bind(new.order_id.as_str())
        .bind(new.wallet_id.as_str())
        .bind(new.amount.minor_units() as i64)
        .bind(new.amount.currency().as_str())
        .bind(new.return_url.as_str())
        .bind(records::device_name(new.device))
        .bind(new.idempotency_key.as_str())
        .bind(&new.request_hash)
        .bind(new.created_at)
        .bind(new.expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            record_change(&mut tx, &new.id, None, SessionStatus::Pending, "created", new.created_at).await?;
            tx.commit().await?;
            let session = self.session(&new.id).await?.ok_or(StoreError::SessionNotFound)?;
            return Ok(Reservation::Reserved(session));
        }
        tx.rollback().await?;
        let existing = self
            .session_by_idempotency_key(&new.idempotency_key)
            .await?
            .ok_or_else(|| StoreError::Corrupt("idempotency key without a session".into()))?;
        Ok(Reservation::Existing(existing))
    }

    /// Stores what the provider said the shopper must do next.
    pub async fn attach_action(
        &self,
        id: &SessionId,
        action: &NextAction,
        provider_reference: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        let (kind, value) = records::action_columns(action);
        sqlx::query(
            "UPDATE sessions SET action_type = $1, action_value = $2, provider_reference = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(kind)
        .bind(value)
        .bind(provider_reference)
        .bind(now)
        .bind(id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a reserved session whose provider call failed, so the key can be retried.
    pub async fn discard_reservation(&self, id: &SessionId) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM session_events WHERE session_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND action_type IS NULL")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(&format!("{} WHERE id = $1", records::SESSION_SELECT))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(SessionRecord::try_from).transpose()
    }

    pub async fn session_by_idempotency_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row: Option<SessionRow> =
            sqlx::query_as(&format!("{} WHERE idempotency_key = $1", records::SESSION_SELECT))
                .bind(key.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(SessionRecord::try_from).transpose()
    }

    /// Applies `event` to the session: the status follows from [`decide`], and the change, its
    /// history entry and (on success) the order's new status are written in one transaction.
    pub async fn apply(
        &self,
        id: &SessionId,
        event: SessionEvent,
        now: UnixMillis,
    ) -> Result<Transition, StoreError> {
        for _ in 0..TRANSITION_ATTEMPTS {
            let current = self.session(id).await?.ok_or(StoreError::SessionNotFound)?;
            let next = match decide(current.status, current.expires_at, now, event) {
                Ok(next) => next,
                Err(refusal) if is_late_approval(event, refusal) => {
                    return self.refuse_late_approval(current, refusal, event, now).await;
                }
                Err(refusal) => return Ok(Transition::Refused(refusal, current)),
            };
            let mut tx = self.pool.begin().await?;
            // The write comes first so that SQLite takes its write lock at once.
            let changed =
                sqlx::query("UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4")
                    .bind(next.as_str())
                    .bind(now)
                    .bind(id.as_str())
                    .bind(current.status.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if changed == 0 {
                tx.rollback().await?;
                continue;
            }
            record_change(&mut tx, id, Some(current.status), next, event.reason(), now).await?;
            if next == SessionStatus::Succeeded {
                let order_paid = sqlx::query(
                    "UPDATE orders SET status = 'paid', paid_session_id = $1, updated_at = $2 \
                     WHERE id = $3 AND status = 'open'",
                )
                .bind(id.as_str())
                .bind(now)
                .bind(current.order_id.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if order_paid == 0 {
                    // The order was paid through another session: this money goes back.
                    sqlx::query("UPDATE sessions SET flag = 'refund_due' WHERE id = $1")
                        .bind(id.as_str())
                        .execute(&mut *tx)
                        .await?;
                    tracing::warn!(session_id = %id, "order already paid; payment flagged for refund");
                }
            }
            self.announce(&mut tx, id).await?;
            tx.commit().await?;
            self.announced(id);
            let session = self.session(id).await?.ok_or(StoreError::SessionNotFound)?;
            return Ok(Transition::Applied(session));
        }
        Err(StoreError::Contended)
    }

    /// An approval that came too late: the session expires if its time is up, and the approval is
    /// written to its history and flagged for the merchant instead of turning into a payment.
    async fn refuse_late_approval(
        &self,
        current: SessionRecord,
        refusal: Refusal,
        event: SessionEvent,
        now: UnixMillis,
    ) -> Result<Transition, StoreError> {
        let current = match refusal {
            Refusal::Expired => {
                match Box::pin(self.apply(&current.id, SessionEvent::ExpiryReached, now)).await? {
                    Transition::Applied(session) | Transition::Refused(_, session) => session,
                }
            }
            _ => current,
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE sessions SET flag = 'late_approval', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(current.id.as_str())
            .execute(&mut *tx)
            .await?;
        let reason = if event == SessionEvent::Confirmed { "late_confirmation" } else { "late_approval" };
        record_change(&mut tx, &current.id, Some(current.status), current.status, reason, now).await?;
        tx.commit().await?;
        tracing::warn!(session_id = %current.id, status = %current.status, "late approval recorded and flagged");
        let session = self.session(&current.id).await?.ok_or(StoreError::SessionNotFound)?;
        Ok(Transition::Refused(refusal, session))
    }

    /// Expires every pending session whose time is up (at most one batch), through the same
    /// state machine as any other change, so several instances may sweep at once.
    pub async fn expire_due(&self, now: UnixMillis) -> Result<usize, StoreError> {
        let due: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM sessions WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(SWEEP_BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut expired = 0;
        for (id,) in due {
            let Ok(id) = SessionId::parse(id) else { continue };
            if let Transition::Applied(session) = self.apply(&id, SessionEvent::ExpiryReached, now).await? {
                tracing::info!(session_id = %session.id, "session expired");
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Sessions approved more than `older_than` ago whose confirmation has not arrived.
    pub async fn unconfirmed(&self, older_than: UnixMillis) -> Result<Vec<SessionRecord>, StoreError> {
        let rows: Vec<SessionRow> = sqlx::query_as(&format!(
            "{} WHERE status = 'processing' AND updated_at <= $1 ORDER BY updated_at LIMIT $2",
            records::SESSION_SELECT
        ))
        .bind(older_than)
        .bind(SWEEP_BATCH)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(SessionRecord::try_from).collect()
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

    /// The session's status changes, oldest first.
    pub async fn history(&self, id: &SessionId) -> Result<Vec<StatusChange>, StoreError> {
        let rows: Vec<StatusChangeRow> = sqlx::query_as(
            "SELECT from_status, to_status, reason, at FROM session_events WHERE session_id = $1 ORDER BY id",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StatusChange::try_from).collect()
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
