//! Reports for the merchant's staff: transactions by time, status and wallet; totals per day and
//! wallet of what was paid and what was refunded.

use super::{Db, DbError};
use crate::domain::UnixMillis;

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

/// What was paid on one day (UTC) with one wallet, in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotal {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub wallet_id: String,
    pub currency: String,
    pub payments: i64,
    /// The sum in minor units: exact, however many payments (a day of large payments passes
    /// 2^53 and even 2^63).
    pub amount_minor: u128,
    /// Refunds that succeeded that day, of payments made with this wallet in this currency.
    pub refunds: i64,
    pub refunded_minor: u128,
}

#[derive(sqlx::FromRow)]
struct DayTotalRow {
    day: i64,
    wallet_id: String,
    currency: String,
    payments: i64,
    /// The sum of each amount's high part (`amount / 2^32`) and of its low part: each fits a
    /// 64-bit integer for up to 2^31 payments a day, so the database never overflows.
    high: i64,
    low: i64,
}

const LOW_BITS: i64 = 1 << 32;

const DAY_MS: i64 = 86_400_000;

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

    /// Totals of succeeded payments per day (by the time they succeeded) and wallet, and of the
    /// refunds that succeeded that day.
    pub async fn daily_totals(&self, from: UnixMillis, to: UnixMillis) -> Result<Vec<DayTotal>, DbError> {
        let paid: Vec<DayTotalRow> = sqlx::query_as(
            "SELECT (paid_at / $1) AS day, wallet_id, currency, COUNT(*) AS payments, \
             CAST(SUM(amount_minor / $4) AS BIGINT) AS high, CAST(SUM(amount_minor % $4) AS BIGINT) AS low \
             FROM sessions WHERE status = 'succeeded' AND (flag IS NULL OR flag <> 'refund_due') \
             AND paid_at >= $2 AND paid_at < $3 GROUP BY (paid_at / $1), wallet_id, currency",
        )
        .bind(DAY_MS)
        .bind(from)
        .bind(to)
        .bind(LOW_BITS)
        .fetch_all(&self.pool)
        .await?;
        let refunded: Vec<DayTotalRow> = sqlx::query_as(
            "SELECT (r.updated_at / $1) AS day, s.wallet_id, r.currency, COUNT(*) AS payments, \
             CAST(SUM(r.amount_minor / $4) AS BIGINT) AS high, CAST(SUM(r.amount_minor % $4) AS BIGINT) AS low \
             FROM refunds r JOIN sessions s ON s.id = r.session_id WHERE r.status = 'succeeded' \
             AND r.updated_at >= $2 AND r.updated_at < $3 GROUP BY (r.updated_at / $1), s.wallet_id, r.currency",
        )
        .bind(DAY_MS)
        .bind(from)
        .bind(to)
        .bind(LOW_BITS)
        .fetch_all(&self.pool)
        .await?;
        let mut totals: std::collections::BTreeMap<(i64, String, String), DayTotal> =
            std::collections::BTreeMap::new();
        for (row, is_refund) in
            paid.into_iter().map(|r| (r, false)).chain(refunded.into_iter().map(|r| (r, true)))
        {
            let sum = row.sum()?;
            let total =
                totals.entry((row.day, row.wallet_id.clone(), row.currency.clone())).or_insert(DayTotal {
                    day: row.day,
                    wallet_id: row.wallet_id,
                    currency: row.currency,
                    payments: 0,
                    amount_minor: 0,
                    refunds: 0,
                    refunded_minor: 0,
                });
            if is_refund {
                total.refunds += row.payments;
                total.refunded_minor += sum;
            } else {
                total.payments += row.payments;
                total.amount_minor += sum;
            }
        }
        Ok(totals.into_values().collect())
    }
}

impl DayTotalRow {
    /// The exact sum of the high and low parts.
    fn sum(&self) -> Result<u128, DbError> {
        match (u128::try_from(self.high), u128::try_from(self.low)) {
            (Ok(high), Ok(low)) => Ok((high << 32) + low),
            _ => Err(DbError::Corrupt(format!("a negative total on day {}", self.day))),
        }
    }
}
