//! Refunds: money given back from a paid session, in full or in part, each with its own record
//! and status (`pending` until the provider settles it, then `succeeded` or `failed`). A refund
//! is created idempotently, and only while the sum of the session's refunds that have not failed
//! stays within what was paid: both checked in one transaction that takes the session's row.

use super::{Db, DbError};
use crate::domain::{refund, rfc3339, EventData, UnixMillis};
use wallet_checkout_contract::{Amount, Currency, OrderId, SessionId};

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundStatus {
    Pending,
    Succeeded,
    Failed,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Pending => "pending",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [RefundStatus::Pending, RefundStatus::Succeeded, RefundStatus::Failed]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

/// A refund to record.
#[derive(Debug, Clone)]
pub struct NewRefund {
    pub id: String,
    pub order_id: OrderId,
    pub session_id: SessionId,
    /// In the payment's currency; `None` for all that is left, as it is when the refund is made.
    pub amount: Option<Amount>,
    pub reason: String,
    pub idempotency_key: Option<String>,
    /// Digest of the request, to tell a retry from a reused key.
    pub request_hash: String,
    /// Who asked for it (the key's id).
    pub created_by: String,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    pub id: String,
    pub order_id: OrderId,
    pub session_id: SessionId,
    pub amount: Amount,
    pub reason: String,
    pub status: RefundStatus,
    pub provider_refund_id: Option<String>,
    pub failure_reason: Option<String>,
    pub created_by: String,
    pub created_at: UnixMillis,
    pub updated_at: UnixMillis,
    pub next_check_at: Option<UnixMillis>,
}

impl RefundRecord {
    /// The refund as the merchant API and webhook events show it.
    pub fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "order_id": self.order_id,
            "session_id": self.session_id,
            "amount": self.amount,
            "reason": self.reason,
            "status": self.status.as_str(),
            "failure_reason": self.failure_reason,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        })
    }
}

/// What asking for a refund did.
#[derive(Debug)]
pub enum RefundCreation {
    Created(RefundRecord),
    /// The idempotency key was used before, for the same request: that refund.
    Replayed(RefundRecord),
    /// The key was used for another request.
    KeyReused,
    /// More than what is left to refund (`left` minor units).
    TooMuch {
        left: u64,
    },
    /// The session's money has not moved (nothing to refund).
    NotPaid,
}

const REFUND_SELECT: &str = "SELECT id, order_id, session_id, amount_minor, currency, reason, status, \
     provider_refund_id, failure_reason, request_hash, created_by, created_at, updated_at, next_check_at FROM refunds";

#[derive(sqlx::FromRow)]
struct RefundRow {
    id: String,
    order_id: String,
    session_id: String,
    amount_minor: i64,
    currency: String,
    reason: String,
    status: String,
    provider_refund_id: Option<String>,
    failure_reason: Option<String>,
    request_hash: String,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    next_check_at: Option<i64>,
}

impl TryFrom<RefundRow> for RefundRecord {
    type Error = DbError;

    fn try_from(row: RefundRow) -> Result<Self, DbError> {
        let corrupt = |what: &str| DbError::Corrupt(format!("refund {}: {what}", row.id));
        let currency = Currency::parse(&row.currency).map_err(|_| corrupt("currency"))?;
        let minor = u64::try_from(row.amount_minor).map_err(|_| corrupt("amount"))?;
        Ok(Self {
            order_id: OrderId::parse(row.order_id.clone()).map_err(|_| corrupt("order id"))?,
            session_id: SessionId::parse(row.session_id.clone()).map_err(|_| corrupt("session id"))?,
            amount: Amount::new(minor, currency).map_err(|_| corrupt("amount"))?,
            status: RefundStatus::parse(&row.status).ok_or_else(|| corrupt("status"))?,
            id: row.id,
            reason: row.reason,
            provider_refund_id: row.provider_refund_id,
            failure_reason: row.failure_reason,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            next_check_at: row.next_check_at,
        })
    }
}

impl Db {
    /// Records a refund of a paid session unless its idempotency key was used before, or it
    /// would give back more than was paid less the refunds that have not failed.
    pub async fn create_refund(&self, new: &NewRefund) -> Result<RefundCreation, DbError> {
        if let Some(key) = &new.idempotency_key {
            let existing: Option<RefundRow> =
                sqlx::query_as(&format!("{REFUND_SELECT} WHERE idempotency_key = $1"))
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
            if let Some(existing) = existing {
                if existing.request_hash != new.request_hash {
                    return Ok(RefundCreation::KeyReused);
                }
                return Ok(RefundCreation::Replayed(RefundRecord::try_from(existing)?));
            }
        }
        let mut tx = self.writer.begin().await?;
        // Takes the session's row first (a write, for SQLite's lock), so two refunds of one
        // session are checked one after the other.
        sqlx::query("UPDATE sessions SET updated_at = updated_at WHERE id = $1")
            .bind(new.session_id.as_str())
            .execute(&mut *tx)
            .await?;
        let paid: Option<(Option<i64>, i64, String)> =
            sqlx::query_as("SELECT paid_at, amount_minor, currency FROM sessions WHERE id = $1")
                .bind(new.session_id.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let Some((Some(_), paid_minor, currency)) = paid else {
            tx.rollback().await?;
            return Ok(RefundCreation::NotPaid);
        };
        let (taken,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) FROM refunds WHERE session_id = $1 AND status <> 'failed'",
        )
        .bind(new.session_id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let left =
            refund::left_to_refund(u64::try_from(paid_minor).unwrap_or(0), u64::try_from(taken).unwrap_or(0));
        let amount = match refund::refund_amount(new.amount.map(|amount| amount.minor_units()), left) {
            Ok(amount) => amount,
            Err(_) => {
                tx.rollback().await?;
                return Ok(RefundCreation::TooMuch { left });
            }
        };
        let inserted = sqlx::query(
            "INSERT INTO refunds (id, order_id, session_id, amount_minor, currency, reason, status, idempotency_key, \
             request_hash, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10, $10) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(&new.id)
        .bind(new.order_id.as_str())
        .bind(new.session_id.as_str())
        .bind(amount as i64)
        .bind(&currency)
        .bind(&new.reason)
        .bind(new.idempotency_key.as_deref())
        .bind(&new.request_hash)
        .bind(&new.created_by)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            // The same key won a race: answer its refund.
            tx.rollback().await?;
            return Box::pin(self.create_refund(new)).await;
        }
        let refund = self.refund_in(&mut tx, &new.id).await?;
        self.record_refund_event(&mut tx, "refund.created", &refund, new.created_at).await?;
        tx.commit().await?;
        Ok(RefundCreation::Created(refund))
    }

    pub async fn refund(&self, id: &str) -> Result<Option<RefundRecord>, DbError> {
        let row: Option<RefundRow> = sqlx::query_as(&format!("{REFUND_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(RefundRecord::try_from).transpose()
    }

    async fn refund_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &str,
    ) -> Result<RefundRecord, DbError> {
        let row: RefundRow =
            sqlx::query_as(&format!("{REFUND_SELECT} WHERE id = $1")).bind(id).fetch_one(&mut **tx).await?;
        RefundRecord::try_from(row)
    }

    /// The refunds of an order, oldest first.
    pub async fn refunds_of(&self, order: &OrderId) -> Result<Vec<RefundRecord>, DbError> {
        let rows: Vec<RefundRow> =
            sqlx::query_as(&format!("{REFUND_SELECT} WHERE order_id = $1 ORDER BY created_at, id"))
                .bind(order.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(RefundRecord::try_from).collect()
    }

    /// Pending refunds whose provider is due to be asked.
    pub async fn refunds_to_check(&self, now: UnixMillis) -> Result<Vec<RefundRecord>, DbError> {
        let rows: Vec<RefundRow> = sqlx::query_as(&format!(
            "{REFUND_SELECT} WHERE status = 'pending' AND next_check_at <= $1 ORDER BY next_check_at LIMIT 100"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(RefundRecord::try_from).collect()
    }

    /// Keeps the provider's id of a pending refund and when to ask about it next.
    pub async fn note_refund_pending(
        &self,
        id: &str,
        provider_refund_id: Option<&str>,
        next_check_at: Option<UnixMillis>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE refunds SET provider_refund_id = COALESCE($1, provider_refund_id), next_check_at = $2 \
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(provider_refund_id)
        .bind(next_check_at)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Settles a pending refund as succeeded or failed, once: the refund, the session's refunded
    /// amount and the event are written together. `None` if it was settled already.
    pub async fn settle_refund(
        &self,
        id: &str,
        status: RefundStatus,
        provider_refund_id: Option<&str>,
        failure_reason: Option<&str>,
        now: UnixMillis,
    ) -> Result<Option<RefundRecord>, DbError> {
        let mut tx = self.writer.begin().await?;
        let changed = sqlx::query(
            "UPDATE refunds SET status = $1, provider_refund_id = COALESCE($2, provider_refund_id), failure_reason = $3, \
             updated_at = $4, next_check_at = NULL WHERE id = $5 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(provider_refund_id)
        .bind(failure_reason)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
            return Ok(None);
        }
        let refund = self.refund_in(&mut tx, id).await?;
        if status == RefundStatus::Succeeded {
            sqlx::query(
                "UPDATE sessions SET refunded_minor = refunded_minor + $1, updated_at = $2 WHERE id = $3",
            )
            .bind(refund.amount.minor_units() as i64)
            .bind(now)
            .bind(refund.session_id.as_str())
            .execute(&mut *tx)
            .await?;
        }
        self.record_refund_event(&mut tx, &format!("refund.{}", status.as_str()), &refund, now).await?;
        self.announce(&mut tx, &refund.session_id).await?;
        tx.commit().await?;
        self.announced(&refund.session_id);
        Ok(Some(refund))
    }

    /// Writes a refund's event into the outbox, in the refund's transaction.
    async fn record_refund_event(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        kind: &str,
        refund: &RefundRecord,
        now: UnixMillis,
    ) -> Result<(), sqlx::Error> {
        let data = EventData::Refund(refund.view());
        self.insert_event(tx, kind, refund.session_id.as_str(), Some(&refund.id), &data, now).await
    }
}
