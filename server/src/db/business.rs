//! Seeing the business: what was paid per day, wallet, provider and currency (exact sums), the
//! refunds, and the shopper's path (the steps the widget reports, and the sessions).

use super::{rows, Db, DbError};
use crate::domain::{takings::DaySum, Flag, UnixMillis};
use wallet_checkout_contract::SessionStatus;

const DAY_MS: i64 = crate::domain::takings::DAY_MS;
/// Sums are taken in two parts (multiples of 2^32 and the rest) so that no database sum can
/// overflow or lose precision; the exact total is put together here.
const LOW_BITS: i64 = 1 << 32;
/// Most rows of the shopper's path read for one page.
const PATH_ROWS: i64 = 200_000;

#[derive(sqlx::FromRow)]
struct DaySumRow {
    day: i64,
    wallet_id: String,
    provider: String,
    currency: String,
    status: String,
    flag: Option<String>,
    count: i64,
    high: i64,
    low: i64,
}

impl TryFrom<DaySumRow> for DaySum {
    type Error = DbError;
    fn try_from(row: DaySumRow) -> Result<Self, DbError> {
        let (Ok(high), Ok(low)) = (u128::try_from(row.high), u128::try_from(row.low)) else {
            return Err(DbError::Corrupt(format!("a negative total on day {}", row.day)));
        };
        Ok(DaySum {
            day: row.day,
            wallet_id: row.wallet_id,
            provider: row.provider,
            currency: row.currency,
            status: rows::status(&row.status)?,
            flag: rows::flag(row.flag.as_deref())?,
            count: row.count,
            amount_minor: (high << 32) + low,
        })
    }
}

/// A step the widget reported.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StepRecord {
    pub order_id: String,
    pub step: String,
    pub wallet_id: String,
    pub device: String,
    pub locale: String,
}

/// A session on the shopper's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathSession {
    pub order_id: String,
    pub wallet_id: String,
    pub device: String,
    pub status: SessionStatus,
    pub flag: Option<Flag>,
    pub created_at: i64,
    pub paid_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct PathSessionRow {
    order_id: String,
    wallet_id: String,
    device: String,
    status: String,
    flag: Option<String>,
    created_at: i64,
    paid_at: Option<i64>,
}

impl TryFrom<PathSessionRow> for PathSession {
    type Error = DbError;
    fn try_from(row: PathSessionRow) -> Result<Self, DbError> {
        Ok(PathSession {
            order_id: row.order_id,
            wallet_id: row.wallet_id,
            device: row.device,
            status: rows::status(&row.status)?,
            flag: rows::flag(row.flag.as_deref())?,
            created_at: row.created_at,
            paid_at: row.paid_at,
        })
    }
}

impl Db {
    /// Money paid in `[from, to)` per day of payment, wallet, provider, currency and the
    /// session's status and flag (`domain::takings` decides which of it is takings).
    pub async fn paid_per_day(&self, from: UnixMillis, to: UnixMillis) -> Result<Vec<DaySum>, DbError> {
        let rows: Vec<DaySumRow> = sqlx::query_as(
            "SELECT (paid_at / $1) AS day, wallet_id, COALESCE(provider, '') AS provider, currency, status, flag, \
             COUNT(*) AS count, CAST(SUM(amount_minor / $4) AS BIGINT) AS high, \
             CAST(SUM(amount_minor % $4) AS BIGINT) AS low FROM sessions WHERE paid_at >= $2 AND paid_at < $3 \
             GROUP BY (paid_at / $1), wallet_id, COALESCE(provider, ''), currency, status, flag",
        )
        .bind(DAY_MS)
        .bind(from)
        .bind(to)
        .bind(LOW_BITS)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(DaySum::try_from).collect()
    }

    /// Refunds that succeeded in `[from, to)`, per day, wallet, provider and currency, and the
    /// status and flag of the session each refunds.
    pub async fn refunded_per_day(&self, from: UnixMillis, to: UnixMillis) -> Result<Vec<DaySum>, DbError> {
        let rows: Vec<DaySumRow> = sqlx::query_as(
            "SELECT (r.updated_at / $1) AS day, s.wallet_id, COALESCE(s.provider, '') AS provider, r.currency, \
             s.status, s.flag, COUNT(*) AS count, CAST(SUM(r.amount_minor / $4) AS BIGINT) AS high, \
             CAST(SUM(r.amount_minor % $4) AS BIGINT) AS low FROM refunds r JOIN sessions s ON s.id = r.session_id \
             WHERE r.status = 'succeeded' AND r.updated_at >= $2 AND r.updated_at < $3 \
             GROUP BY (r.updated_at / $1), s.wallet_id, COALESCE(s.provider, ''), r.currency, s.status, s.flag",
        )
        .bind(DAY_MS)
        .bind(from)
        .bind(to)
        .bind(LOW_BITS)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(DaySum::try_from).collect()
    }

    /// Records a step of the shopper's path the widget reported; a repeat changes nothing.
    pub async fn record_checkout_step(&self, step: &StepRecord, at: UnixMillis) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO checkout_steps (order_id, step, wallet_id, device, locale, at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (order_id, step, wallet_id) DO NOTHING",
        )
        .bind(&step.order_id)
        .bind(&step.step)
        .bind(&step.wallet_id)
        .bind(&step.device)
        .bind(&step.locale)
        .bind(at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The steps reported in `[from, to)`.
    pub async fn checkout_steps(&self, from: UnixMillis, to: UnixMillis) -> Result<Vec<StepRecord>, DbError> {
        Ok(sqlx::query_as(
            "SELECT order_id, step, wallet_id, device, locale FROM checkout_steps WHERE at >= $1 AND at < $2 LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(PATH_ROWS)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The sessions made in `[from, to)` that reached their provider.
    pub async fn path_sessions(&self, from: UnixMillis, to: UnixMillis) -> Result<Vec<PathSession>, DbError> {
        let rows: Vec<PathSessionRow> = sqlx::query_as(
            "SELECT order_id, wallet_id, device, status, flag, created_at, paid_at FROM sessions \
             WHERE created_at >= $1 AND created_at < $2 AND action_type IS NOT NULL LIMIT $3",
        )
        .bind(from)
        .bind(to)
        .bind(PATH_ROWS)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(PathSession::try_from).collect()
    }
}
