//! Unusual transactions: the thresholds an admin changed, the facts the rules read (failed and
//! flagged sessions, amounts, failing webhook deliveries, and the signals no other table keeps),
//! and the alerts themselves. An alert is opened once per rule and subject while its condition
//! holds, together with its `alert.<rule>` event in the outbox, in one transaction.

use super::{Db, DbError};
use crate::domain::{AlertView, EventData, Flag, UnixMillis};

/// An alert as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AlertRecord {
    pub id: String,
    pub rule: String,
    pub subject: String,
    pub observed: i64,
    pub threshold: i64,
    pub window_secs: i64,
    pub session_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub opened_at: i64,
    /// When the condition stopped holding (`None` while it holds).
    pub ended_at: Option<i64>,
    pub acknowledged_at: Option<i64>,
    /// The name of the person who acknowledged it.
    pub acknowledged_by: Option<String>,
}

/// An alert to open: what the rule saw.
#[derive(Debug, Clone)]
pub struct NewAlert {
    pub rule: String,
    pub subject: String,
    pub observed: i64,
    pub threshold: i64,
    pub window_secs: i64,
    pub session_id: Option<String>,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

/// A session a rule looks at: flagged, or with an amount to compare.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SessionFact {
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
}

const ALERT_SELECT: &str =
    "SELECT id, rule, subject, observed, threshold, window_secs, session_id, amount_minor, \
     currency, opened_at, ended_at, acknowledged_at, acknowledged_by FROM alerts";

impl Db {
    /// The thresholds and windows an admin set: `(rule, threshold, window_secs)`.
    pub async fn alert_rule_settings(&self) -> Result<Vec<(String, i64, i64)>, DbError> {
        Ok(sqlx::query_as("SELECT rule, threshold, window_secs FROM alert_rules ORDER BY rule")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn set_alert_rule(
        &self,
        rule: &str,
        threshold: i64,
        window_secs: i64,
        now: UnixMillis,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO alert_rules (rule, threshold, window_secs, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (rule) DO UPDATE SET threshold = $2, window_secs = $3, updated_at = $4",
        )
        .bind(rule)
        .bind(threshold)
        .bind(window_secs)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The console setting `name`, set to `value` first if it had none (the first writer wins).
    pub async fn console_setting_or_insert(
        &self,
        name: &str,
        value: &str,
        now: UnixMillis,
    ) -> Result<String, DbError> {
        sqlx::query(
            "INSERT INTO console_settings (name, value, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(&self.writer)
        .await?;
        self.console_setting(name).await?.ok_or_else(|| DbError::Corrupt(format!("setting {name} vanished")))
    }

    /// Remembers something no other table keeps (`client`: a keyed hash of a client address;
    /// `provider_error`: a provider that failed to start a payment).
    pub async fn record_alert_signal(
        &self,
        kind: &str,
        subject: &str,
        at: UnixMillis,
    ) -> Result<(), DbError> {
        sqlx::query("INSERT INTO alert_signals (kind, subject, at) VALUES ($1, $2, $3)")
            .bind(kind)
            .bind(subject)
            .bind(at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Several signals of `kind`, as `(subject, at)`, in one transaction.
    pub async fn record_alert_signals(
        &self,
        kind: &str,
        signals: &[(String, UnixMillis)],
    ) -> Result<(), DbError> {
        let mut tx = self.writer.begin().await?;
        for (subject, at) in signals {
            sqlx::query("INSERT INTO alert_signals (kind, subject, at) VALUES ($1, $2, $3)")
                .bind(kind)
                .bind(subject)
                .bind(*at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Signals older than `before` are of no more use.
    pub async fn forget_alert_signals(&self, before: UnixMillis) -> Result<(), DbError> {
        sqlx::query("DELETE FROM alert_signals WHERE at < $1").bind(before).execute(&self.writer).await?;
        Ok(())
    }

    /// Signals of `kind` since `since`, counted per subject.
    pub async fn alert_signal_counts(
        &self,
        kind: &str,
        since: UnixMillis,
    ) -> Result<Vec<(String, i64)>, DbError> {
        Ok(sqlx::query_as(
            "SELECT subject, COUNT(*) FROM alert_signals WHERE kind = $1 AND at >= $2 GROUP BY subject ORDER BY subject",
        )
        .bind(kind)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sessions that failed (declined) since `since`, counted per wallet.
    pub async fn failed_sessions_per_wallet(&self, since: UnixMillis) -> Result<Vec<(String, i64)>, DbError> {
        Ok(sqlx::query_as(
            "SELECT wallet_id, COUNT(*) FROM sessions WHERE status = 'failed' AND updated_at >= $1 \
             GROUP BY wallet_id ORDER BY wallet_id",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sessions flagged `flag` and changed since `since`.
    pub async fn flagged_sessions(&self, flag: Flag, since: UnixMillis) -> Result<Vec<SessionFact>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, amount_minor, currency FROM sessions WHERE flag = $1 AND updated_at >= $2 ORDER BY id",
        )
        .bind(flag.as_str())
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sessions made since `since`, the newest 1000 (the amounts shoppers tried to pay).
    pub async fn sessions_made_since(&self, since: UnixMillis) -> Result<Vec<SessionFact>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, amount_minor, currency FROM sessions WHERE created_at >= $1 ORDER BY created_at DESC LIMIT 1000",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The amounts of payments in `currency` that succeeded since `since`, newest first, at most
    /// `limit`: this shop's usual range.
    pub async fn paid_amounts(
        &self,
        currency: &str,
        since: UnixMillis,
        limit: i64,
    ) -> Result<Vec<SessionFact>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, amount_minor, currency FROM sessions WHERE status = 'succeeded' AND currency = $1 \
             AND paid_at >= $2 ORDER BY paid_at DESC LIMIT $3",
        )
        .bind(currency)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Webhook events made since `since` whose last delivery attempt failed and that were not
    /// delivered since.
    pub async fn failing_deliveries(&self, since: UnixMillis) -> Result<i64, DbError> {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM events WHERE created_at >= $1 AND delivered_at IS NULL AND last_error IS NOT NULL \
             AND attempts > 0",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(count)
    }

    /// Opens an alert unless one for the same rule and subject is open already; the alert's
    /// `alert.<rule>` event goes into the outbox in the same transaction. Answers whether it was
    /// opened.
    pub async fn open_alert(&self, alert: &NewAlert, id: &str, now: UnixMillis) -> Result<bool, DbError> {
        let mut tx = self.writer.begin().await?;
        let opened = sqlx::query(
            "INSERT INTO alerts (id, rule, subject, open_key, observed, threshold, window_secs, session_id, amount_minor, \
             currency, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (open_key) DO NOTHING",
        )
        .bind(id)
        .bind(&alert.rule)
        .bind(&alert.subject)
        .bind(format!("{}:{}", alert.rule, alert.subject))
        .bind(alert.observed)
        .bind(alert.threshold)
        .bind(alert.window_secs)
        .bind(&alert.session_id)
        .bind(alert.amount_minor)
        .bind(&alert.currency)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !opened {
            tx.rollback().await?;
            return Ok(false);
        }
        let view = AlertView {
            id,
            rule: &alert.rule,
            subject: &alert.subject,
            observed: alert.observed,
            threshold: alert.threshold,
            window_secs: alert.window_secs,
            session_id: alert.session_id.as_deref(),
            amount_minor: alert.amount_minor,
            currency: alert.currency.as_deref(),
            opened_at: now,
        };
        let kind = format!("alert.{}", alert.rule);
        let session_id = alert.session_id.as_deref().unwrap_or(id);
        self.insert_event(&mut tx, &kind, session_id, None, &EventData::Alert(view), now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends the open alerts of `rule` whose subject is not in `holding`: their condition no
    /// longer holds, and a new alert may open if it holds again.
    pub async fn end_alerts(&self, rule: &str, holding: &[String], now: UnixMillis) -> Result<(), DbError> {
        let open: Vec<(String, String)> =
            sqlx::query_as("SELECT id, subject FROM alerts WHERE rule = $1 AND open_key IS NOT NULL")
                .bind(rule)
                .fetch_all(&self.pool)
                .await?;
        for (id, subject) in open {
            if !holding.contains(&subject) {
                sqlx::query("UPDATE alerts SET open_key = NULL, ended_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(id)
                    .execute(&self.writer)
                    .await?;
            }
        }
        Ok(())
    }

    /// Alerts not acknowledged yet, newest first.
    pub async fn unacknowledged_alerts(&self, limit: i64) -> Result<Vec<AlertRecord>, DbError> {
        Ok(sqlx::query_as(&format!(
            "{ALERT_SELECT} WHERE acknowledged_at IS NULL ORDER BY opened_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Acknowledged alerts, the latest acknowledged first.
    pub async fn acknowledged_alerts(&self, limit: i64) -> Result<Vec<AlertRecord>, DbError> {
        Ok(sqlx::query_as(&format!(
            "{ALERT_SELECT} WHERE acknowledged_at IS NOT NULL ORDER BY acknowledged_at DESC, id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn alert(&self, id: &str) -> Result<Option<AlertRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{ALERT_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Marks an alert seen by `by` (a person's name); `false` if it was acknowledged already.
    pub async fn acknowledge_alert(&self, id: &str, by: &str, now: UnixMillis) -> Result<bool, DbError> {
        Ok(sqlx::query(
            "UPDATE alerts SET acknowledged_at = $1, acknowledged_by = $2 WHERE id = $3 AND acknowledged_at IS NULL",
        )
        .bind(now)
        .bind(by)
        .bind(id)
        .execute(&self.writer)
        .await?
        .rows_affected()
            == 1)
    }
}
