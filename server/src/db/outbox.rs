//! The outbox of events. An event is written in the same transaction as
//! the change it tells of; the delivery worker takes due events under a lease (so several
//! instances never send one event at the same time), and records each attempt.

use super::{Db, DbError};
use crate::domain::{event, new_event_id, EventData, UnixMillis};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventRecord {
    pub id: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub session_id: String,
    pub payload: String,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
    pub gave_up_at: Option<i64>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

impl EventRecord {
    /// Where an event's delivery stands: `delivered`, `pending` (tried again later), `failed` (given
    /// up after attempts) or `skipped` (no endpoint was on).
    pub fn delivery_state(&self) -> &'static str {
        if self.delivered_at.is_some() {
            "delivered"
        } else if self.gave_up_at.is_some() {
            if self.attempts == 0 {
                "skipped"
            } else {
                "failed"
            }
        } else {
            "pending"
        }
    }
}

/// An event taken for delivery.
#[derive(Debug, Clone)]
pub struct DueEvent {
    pub id: String,
    pub payload: String,
    pub attempts: i64,
}

pub(super) const EVENT_SELECT: &str =
    "SELECT id, type, session_id, payload, created_at, delivered_at, gave_up_at, attempts, \
     next_attempt_at, last_error FROM events";

impl Db {
    /// Writes an event into the outbox, in the transaction of the change it tells of, so that a
    /// change and its webhook are committed together or not at all. Its body is the domain's
    /// (`event::payload`); `session_id` and `refund_id` are the columns the event is found by.
    pub(super) async fn insert_event(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        kind: &str,
        session_id: &str,
        refund_id: Option<&str>,
        data: &EventData<'_>,
        now: UnixMillis,
    ) -> Result<(), sqlx::Error> {
        let id = new_event_id();
        let payload = event::payload(&id, kind, now, self.livemode, data);
        sqlx::query(
            "INSERT INTO events (id, type, session_id, refund_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&id)
        .bind(kind)
        .bind(session_id)
        .bind(refund_id)
        .bind(payload)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Events newest first, optionally of one session.
    pub async fn events(&self, session: Option<&str>, limit: i64) -> Result<Vec<EventRecord>, DbError> {
        Ok(match session {
            Some(session) => {
                sqlx::query_as(&format!(
                    "{EVENT_SELECT} WHERE session_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
                ))
                .bind(session)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query_as(&format!("{EVENT_SELECT} ORDER BY created_at DESC, id DESC LIMIT $1"))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        })
    }

    /// The newest event whose delivery was tried: whether the merchant's endpoint answered it.
    pub async fn last_attempted_event(&self) -> Result<Option<EventRecord>, DbError> {
        Ok(sqlx::query_as(&format!(
            "{EVENT_SELECT} WHERE attempts > 0 OR delivered_at IS NOT NULL ORDER BY created_at DESC, id DESC LIMIT 1"
        ))
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn event(&self, id: &str) -> Result<Option<EventRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{EVENT_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Up to `limit` events that are due and that no worker holds, oldest first. None is taken:
    /// [`Db::lease_event`] takes each as its turn comes.
    pub async fn due_events(&self, now: UnixMillis, limit: i64) -> Result<Vec<String>, DbError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM events WHERE delivered_at IS NULL AND gave_up_at IS NULL \
             AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
             ORDER BY next_attempt_at, created_at LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Takes the event under a lease until `lease_until` if it is still due and no other worker
    /// holds it (compare-and-set: one worker wins).
    pub async fn lease_event(
        &self,
        id: &str,
        now: UnixMillis,
        lease_until: UnixMillis,
    ) -> Result<Option<DueEvent>, DbError> {
        let won = sqlx::query(
            "UPDATE events SET lease_until = $1 WHERE id = $2 AND delivered_at IS NULL AND gave_up_at IS NULL \
             AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3)",
        )
        .bind(lease_until)
        .bind(id)
        .bind(now)
        .execute(&self.writer)
        .await?
        .rows_affected();
        if won != 1 {
            return Ok(None);
        }
        let (payload, attempts): (String, i64) =
            sqlx::query_as("SELECT payload, attempts FROM events WHERE id = $1")
                .bind(id)
                .fetch_one(&self.pool)
                .await?;
        Ok(Some(DueEvent { id: id.to_owned(), payload, attempts }))
    }

    pub async fn mark_delivered(&self, id: &str, now: UnixMillis) -> Result<(), DbError> {
        sqlx::query("UPDATE events SET delivered_at = $1, attempts = attempts + 1, lease_until = NULL, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Records a failed attempt: tried again at `next_attempt_at`, or given up when that is `None`.
    pub async fn mark_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: Option<UnixMillis>,
        now: UnixMillis,
    ) -> Result<(), DbError> {
        let error: String = error.chars().take(500).collect();
        match next_attempt_at {
            Some(next) => {
                sqlx::query(
                    "UPDATE events SET attempts = attempts + 1, next_attempt_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3",
                )
                .bind(next)
                .bind(error)
                .bind(id)
                .execute(&self.writer)
                .await?;
            }
            None => {
                sqlx::query(
                    "UPDATE events SET attempts = attempts + 1, gave_up_at = $1, lease_until = NULL, last_error = $2 WHERE id = $3",
                )
                .bind(now)
                .bind(error)
                .bind(id)
                .execute(&self.writer)
                .await?;
            }
        }
        Ok(())
    }

    /// Events that no endpoint can receive: not sent, marked so.
    pub async fn skip_event(&self, id: &str, now: UnixMillis) -> Result<(), DbError> {
        sqlx::query("UPDATE events SET gave_up_at = $1, lease_until = NULL, last_error = 'no webhook endpoint is enabled' WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
