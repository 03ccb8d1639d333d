//! Orders: what a shopper pays for. Created by the merchant's backend (idempotently), read by the
//! widget and the merchant, canceled by the merchant.

use super::{
    rows::{self, OrderRow, SessionRow},
    Db, DbError, NewOrder, OrderRecord, SessionRecord,
};
use crate::domain::{
    order::{may_cancel, CancelRefusal},
    IdempotencyKey, SessionEvent, UnixMillis,
};
use wallet_checkout_contract::{OrderId, SessionStatus};

/// An order the merchant API creates, with the idempotency key it came with.
#[derive(Debug, Clone)]
pub struct NewMerchantOrder {
    pub order: NewOrder,
    pub idempotency_key: Option<IdempotencyKey>,
    /// Digest of the request, to tell a retry from a reused key.
    pub request_hash: String,
}

/// What canceling an order did.
#[derive(Debug)]
pub enum OrderCancel {
    /// Canceled now, with its pending sessions.
    Canceled(OrderRecord),
    /// It was paid or canceled already; unchanged.
    Closed(OrderRecord),
    /// A session of it is `processing` (the wallet approved, confirmation pending); unchanged.
    PaymentInProgress(OrderRecord),
    NotFound,
}

/// Takes the order's row for the rest of the transaction (a write, so that SQLite takes its
/// write lock at once and PostgreSQL locks the row); 0 if there is no such order. Cancels and
/// approvals of one order take it first, so they happen one after the other.
pub(super) async fn lock_order(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &OrderId,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("UPDATE orders SET updated_at = updated_at WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected())
}

#[derive(Debug)]
pub enum OrderCreation {
    Created(OrderRecord),
    /// The idempotency key was used before, for this same request: its order.
    Replayed(OrderRecord),
}

impl Db {
    /// Creates an order unless its idempotency key was used before: then the earlier order, if the
    /// request was the same, or `KeyReused`.
    pub async fn create_order(&self, new: &NewMerchantOrder) -> Result<OrderCreation, DbError> {
        let order = &new.order;
        let metadata = serde_json::to_string(&order.metadata).map_err(|e| DbError::Corrupt(e.to_string()))?;
        let inserted = sqlx::query(
            "INSERT INTO orders (id, description, amount_minor, currency, status, reference, metadata, idempotency_key, \
             request_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $9) \
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(order.id.as_str())
        .bind(&order.description)
        .bind(order.amount.minor_units() as i64)
        .bind(order.amount.currency().as_str())
        .bind(order.reference.as_deref())
        .bind(metadata)
        .bind(new.idempotency_key.as_ref().map(IdempotencyKey::as_str))
        .bind(&new.request_hash)
        .bind(order.created_at)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if inserted == 1 {
            let order = self
                .order(&order.id)
                .await?
                .ok_or_else(|| DbError::Corrupt("inserted order vanished".into()))?;
            return Ok(OrderCreation::Created(order));
        }
        let key =
            new.idempotency_key.as_ref().ok_or_else(|| DbError::Corrupt("order id collision".into()))?;
        let row: OrderRow = sqlx::query_as(&format!("{} WHERE idempotency_key = $1", rows::ORDER_SELECT))
            .bind(key.as_str())
            .fetch_one(&self.pool)
            .await?;
        if row.request_hash.as_deref() != Some(new.request_hash.as_str()) {
            return Err(DbError::KeyReused);
        }
        Ok(OrderCreation::Replayed(OrderRecord::try_from(row)?))
    }

    pub async fn order(&self, id: &OrderId) -> Result<Option<OrderRecord>, DbError> {
        let row: Option<OrderRow> = sqlx::query_as(&format!("{} WHERE id = $1", rows::ORDER_SELECT))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(OrderRecord::try_from).transpose()
    }

    /// Orders newest first, `limit` of them, older than the order `before` if given.
    pub async fn orders(&self, limit: i64, before: Option<&OrderId>) -> Result<Vec<OrderRecord>, DbError> {
        let rows: Vec<OrderRow> = match before {
            Some(before) => {
                let Some(anchor) = self.order(before).await? else { return Ok(Vec::new()) };
                sqlx::query_as(&format!(
                    "{} WHERE created_at < $1 OR (created_at = $1 AND id < $2) ORDER BY created_at DESC, id DESC LIMIT $3",
                    rows::ORDER_SELECT
                ))
                .bind(anchor.created_at)
                .bind(anchor.id.as_str())
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!("{} ORDER BY created_at DESC, id DESC LIMIT $1", rows::ORDER_SELECT))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.into_iter().map(OrderRecord::try_from).collect()
    }

    /// The order's sessions, oldest first.
    pub async fn sessions_of(&self, order: &OrderId) -> Result<Vec<SessionRecord>, DbError> {
        let rows: Vec<SessionRow> =
            sqlx::query_as(&format!("{} WHERE order_id = $1 ORDER BY created_at, id", rows::SESSION_SELECT))
                .bind(order.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(SessionRecord::try_from).collect()
    }

    /// Cancels an open order and every pending session of it, in one transaction that first takes
    /// the order's row (as an approval does, see `apply`): a payment in flight (a `processing`
    /// session) refuses the cancel, and a payment that lands first wins.
    pub async fn cancel_order(&self, id: &OrderId, now: UnixMillis) -> Result<OrderCancel, DbError> {
        let mut tx = self.writer.begin().await?;
        if lock_order(&mut tx, id).await? == 0 {
            tx.rollback().await?;
            return Ok(OrderCancel::NotFound);
        }
        let order = self.order_in(&mut tx, id).await?;
        let (in_flight,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sessions WHERE order_id = $1 AND status = 'processing'")
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await?;
        match may_cancel(order.status, in_flight) {
            Ok(()) => {}
            Err(refusal) => {
                tx.rollback().await?;
                return Ok(match refusal {
                    CancelRefusal::Closed => OrderCancel::Closed(order),
                    CancelRefusal::PaymentInProgress => OrderCancel::PaymentInProgress(order),
                });
            }
        }
        sqlx::query("UPDATE orders SET status = 'canceled', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let pending: Vec<SessionRow> = sqlx::query_as(&format!(
            "{} WHERE order_id = $1 AND status = 'pending' ORDER BY created_at, id",
            rows::SESSION_SELECT
        ))
        .bind(id.as_str())
        .fetch_all(&mut *tx)
        .await?;
        let mut canceled = Vec::new();
        for row in pending {
            let session = SessionRecord::try_from(row)?;
            if self
                .change_in(&mut tx, &session, SessionStatus::Canceled, SessionEvent::Canceled, now)
                .await?
                .is_some()
            {
                canceled.push(session.id);
            }
        }
        tx.commit().await?;
        for session in &canceled {
            self.announced(session);
            tracing::info!(session_id = %session, order_id = %id, "session canceled with its order");
        }
        let order =
            self.order(id).await?.ok_or_else(|| DbError::Corrupt("canceled order vanished".into()))?;
        Ok(OrderCancel::Canceled(order))
    }

    async fn order_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &OrderId,
    ) -> Result<OrderRecord, DbError> {
        let row: OrderRow = sqlx::query_as(&format!("{} WHERE id = $1", rows::ORDER_SELECT))
            .bind(id.as_str())
            .fetch_one(&mut **tx)
            .await?;
        OrderRecord::try_from(row)
    }

    /// Marks the order paid by `session` inside the session's transaction; false when another
    /// session paid it first.
    pub(super) async fn mark_paid(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        session: &SessionRecord,
        now: UnixMillis,
    ) -> Result<bool, sqlx::Error> {
        let paid = sqlx::query(
            "UPDATE orders SET status = 'paid', paid_session_id = $1, updated_at = $2 WHERE id = $3 AND status = 'open'",
        )
        .bind(session.id.as_str())
        .bind(now)
        .bind(session.order_id.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(paid == 1)
    }
}
