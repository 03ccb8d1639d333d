//! Reports for the merchant's staff: transactions by time, status and wallet (the totals per day
//! are `app::business::daily_totals`).

use super::{Db, DbError};
use crate::domain::UnixMillis;

/// Most rows in one transactions report (JSON or CSV).
pub const MAX_REPORT_ROWS: i64 = 10_000;

/// Which transactions a report covers.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    /// Sessions created at or after this time.
    pub from: Option<UnixMillis>,
    /// Sessions created before this time.
    pub to: Option<UnixMillis>,
    pub status: Option<String>,
    pub wallet: Option<String>,
    pub limit: i64,
}

/// One payment session, with its order's reference, as reports show it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TransactionRow {
    pub session_id: String,
    pub order_id: String,
    pub reference: Option<String>,
    pub wallet_id: String,
    pub status: String,
    pub amount_minor: i64,
    pub currency: String,
    /// Given back by succeeded refunds, in minor units.
    pub refunded_minor: i64,
    pub flag: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Db {
    pub async fn transactions(&self, filter: &TransactionFilter) -> Result<Vec<TransactionRow>, DbError> {
        // Every condition is always there, with a neutral value when unused, so one statement
        // serves every filter on both databases.
        Ok(sqlx::query_as(
            "SELECT s.id AS session_id, s.order_id, o.reference, s.wallet_id, s.status, s.amount_minor, s.currency, \
             s.refunded_minor, s.flag, s.created_at, s.updated_at FROM sessions s JOIN orders o ON o.id = s.order_id \
             WHERE s.action_type IS NOT NULL AND s.created_at >= $1 AND s.created_at < $2 \
             AND ($3 = '' OR s.status = $3) AND ($4 = '' OR s.wallet_id = $4) \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $5",
        )
        .bind(filter.from.unwrap_or(i64::MIN / 2))
        .bind(filter.to.unwrap_or(i64::MAX / 2))
        .bind(filter.status.clone().unwrap_or_default())
        .bind(filter.wallet.clone().unwrap_or_default())
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
