//! The sandbox wallet's own record of each payment, as a real wallet keeps one at its end.

use super::{Db, DbError};
use crate::domain::UnixMillis;

/// The sandbox wallet's record of one payment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SandboxPayment {
    pub session_id: String,
    pub trade_no: String,
    pub amount_minor: i64,
    pub currency: String,
    /// `pending`, `processing`, `paid`, `declined` or `closed`.
    pub status: String,
    /// A scripted outcome still to happen: `fail_later` or `pay_late`.
    pub script: Option<String>,
    /// When the script's next step is due.
    pub due_at: Option<i64>,
    /// After this the wallet no longer takes the payment (its code expired).
    pub expires_at: i64,
    /// Refunded so far, in minor units.
    pub refunded: i64,
    pub updated_at: i64,
}

const SANDBOX_SELECT: &str =
    "SELECT session_id, trade_no, amount_minor, currency, status, script, due_at, expires_at, refunded, updated_at FROM sandbox_payments";

impl Db {
    pub async fn insert_sandbox_payment(&self, payment: &SandboxPayment) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO sandbox_payments (session_id, trade_no, amount_minor, currency, status, script, due_at, expires_at, \
             refunded, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(&payment.session_id)
        .bind(&payment.trade_no)
        .bind(payment.amount_minor)
        .bind(&payment.currency)
        .bind(&payment.status)
        .bind(payment.script.as_deref())
        .bind(payment.due_at)
        .bind(payment.expires_at)
        .bind(payment.refunded)
        .bind(payment.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
    pub async fn sandbox_payment(&self, session_id: &str) -> Result<Option<SandboxPayment>, DbError> {
        Ok(sqlx::query_as(&format!("{SANDBOX_SELECT} WHERE session_id = $1"))
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?)
    }
    /// Moves a sandbox payment from one of `from` to `to`, with its script; false if it was in
    /// none of them (someone else moved it first).
    pub async fn move_sandbox_payment(
        &self,
        session_id: &str,
        from: &[&str],
        to: &str,
        script: Option<&str>,
        due_at: Option<UnixMillis>,
        now: UnixMillis,
    ) -> Result<bool, DbError> {
        let mut changed = 0;
        for status in from {
            changed += sqlx::query(
                "UPDATE sandbox_payments SET status = $1, script = $2, due_at = $3, updated_at = $4 \
                 WHERE session_id = $5 AND status = $6",
            )
            .bind(to)
            .bind(script)
            .bind(due_at)
            .bind(now)
            .bind(session_id)
            .bind(status)
            .execute(&self.writer)
            .await?
            .rows_affected();
            if changed > 0 {
                break;
            }
        }
        Ok(changed > 0)
    }
    /// Adds a refund to a sandbox payment if it stays within what was paid.
    pub async fn refund_sandbox_payment(
        &self,
        session_id: &str,
        minor: i64,
        now: UnixMillis,
    ) -> Result<bool, DbError> {
        Ok(sqlx::query(
            "UPDATE sandbox_payments SET refunded = refunded + $1, updated_at = $2 \
             WHERE session_id = $3 AND status = 'paid' AND refunded + $1 <= amount_minor",
        )
        .bind(minor)
        .bind(now)
        .bind(session_id)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1)
    }
    /// Sandbox payments whose scripted next step is due.
    pub async fn sandbox_scripts_due(&self, now: UnixMillis) -> Result<Vec<SandboxPayment>, DbError> {
        Ok(sqlx::query_as(&format!(
            "{SANDBOX_SELECT} WHERE script IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT 100"
        ))
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }
}
