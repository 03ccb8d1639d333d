//! Payment sessions: created once per idempotency key, changed only through the state machine,
//! each change written with its history entry and its event in one transaction.

use super::{
    orders::lock_order,
    record_change,
    rows::{self, SessionRow, StatusChangeRow},
    Db, DbError, NewSession, Reservation, SessionRecord, StatusChange, Transition, SWEEP_BATCH,
    TRANSITION_ATTEMPTS,
};
use crate::domain::{
    decide, is_late_approval, Flag, IdempotencyKey, ProviderRefs, Refusal, SessionEvent, UnixMillis,
};
use wallet_checkout_contract::{NextAction, SessionId, SessionStatus};

impl Db {
    /// Creates the session unless its idempotency key was used before, in which case the
    /// earlier session is returned. The unique key in the table settles races.
    pub async fn reserve_session(&self, new: &NewSession) -> Result<Reservation, DbError> {
        let mut tx = self.writer.begin().await?;
        let inserted: Option<SessionRow> = sqlx::query_as(concat!(
            "INSERT INTO sessions (id, order_id, wallet_id, status, amount_minor, currency, return_url, \
             device, idempotency_key, request_hash, created_at, expires_at, updated_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $10, $11, $10) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING ",
            rows::session_columns!()
        ))
        .bind(new.id.as_str())
        .bind(new.order_id.as_str())
        .bind(new.wallet_id.as_str())
        .bind(new.amount.minor_units() as i64)
        .bind(new.amount.currency().as_str())
        .bind(new.return_url.as_str())
        .bind(rows::device_name(new.device))
        .bind(new.idempotency_key.as_str())
        .bind(&new.request_hash)
        .bind(new.created_at)
        .bind(new.expires_at)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = inserted {
            record_change(&mut tx, &new.id, None, SessionStatus::Pending, "created", new.created_at).await?;
            tx.commit().await?;
            return Ok(Reservation::Reserved(SessionRecord::try_from(row)?));
        }
        tx.rollback().await?;
        let existing = self
            .session_by_idempotency_key(&new.idempotency_key)
            .await?
            .ok_or_else(|| DbError::Corrupt("idempotency key without a session".into()))?;
        Ok(Reservation::Existing(existing))
    }

    /// Stores what the provider said the shopper must do next, which provider it was and its
    /// references; from now on the session is in use, and its `session.created` event goes out.
    /// `next_check_at`: when to ask the provider if no notification has come by then.
    pub async fn attach_action(
        &self,
        id: &SessionId,
        action: &NextAction,
        provider: &str,
        refs: &ProviderRefs,
        next_check_at: UnixMillis,
        now: UnixMillis,
    ) -> Result<SessionRecord, DbError> {
        let (kind, value) = rows::action_columns(action);
        let mut tx = self.writer.begin().await?;
        let row: SessionRow = sqlx::query_as(concat!(
            "UPDATE sessions SET action_type = $1, action_value = $2, provider = $3, provider_order_id = $4, \
             provider_transaction_id = $5, provider_capture_id = $6, next_check_at = $7, updated_at = $8 \
             WHERE id = $9 RETURNING ",
            rows::session_columns!()
        ))
        .bind(kind)
        .bind(value)
        .bind(provider)
        .bind(refs.order_id.as_deref())
        .bind(refs.transaction_id.as_deref())
        .bind(refs.capture_id.as_deref())
        .bind(next_check_at)
        .bind(now)
        .bind(id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let session = SessionRecord::try_from(row)?;
        self.record_event(&mut tx, "session.created", &session, now).await?;
        tx.commit().await?;
        // A request waiting on the same idempotency key on this instance reads it now; one on
        // another instance reads it at its next look (`app::sessions`, `REPLAY_LOOK_MS`). No
        // PostgreSQL NOTIFY here: a transaction that notifies holds a database-wide lock from
        // its commit's start to its end, so every creation's commit would wait for the others'.
        self.notifier.publish(id.as_str());
        Ok(session)
    }

    /// Keeps references the provider gave later (a transaction or capture id).
    pub async fn record_refs(&self, id: &SessionId, refs: &ProviderRefs) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE sessions SET provider_order_id = COALESCE($1, provider_order_id), \
             provider_transaction_id = COALESCE($2, provider_transaction_id), \
             provider_capture_id = COALESCE($3, provider_capture_id) WHERE id = $4",
        )
        .bind(refs.order_id.as_deref())
        .bind(refs.transaction_id.as_deref())
        .bind(refs.capture_id.as_deref())
        .bind(id.as_str())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// When to ask the provider next about a session (`None`: no more).
    pub async fn schedule_check(
        &self,
        id: &SessionId,
        next_check_at: Option<UnixMillis>,
        attempts: i64,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE sessions SET next_check_at = $1, check_attempts = $2 WHERE id = $3")
            .bind(next_check_at)
            .bind(attempts)
            .bind(id.as_str())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Open sessions (pending or processing) whose provider is due to be asked, or whose time is
    /// up: the sweeper's work, oldest first, at most one batch.
    pub async fn sessions_to_check(&self, now: UnixMillis) -> Result<Vec<SessionRecord>, DbError> {
        let rows: Vec<SessionRow> = sqlx::query_as(&format!(
            // `expires_at <= now`: `domain::is_due_to_expire` in SQL.
            "{} WHERE (status = 'pending' AND expires_at <= $1) \
             OR (status IN ('pending', 'processing') AND next_check_at <= $1) ORDER BY expires_at LIMIT $2",
            rows::SESSION_SELECT
        ))
        .bind(now)
        .bind(SWEEP_BATCH)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(SessionRecord::try_from).collect()
    }

    /// Removes a reserved session whose provider call failed, so the key can be retried.
    pub async fn discard_reservation(&self, id: &SessionId) -> Result<(), DbError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM session_events WHERE session_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND action_type IS NULL")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        self.announce(&mut tx, id).await?;
        tx.commit().await?;
        self.announced(id);
        Ok(())
    }

    pub async fn session(&self, id: &SessionId) -> Result<Option<SessionRecord>, DbError> {
        let row: Option<SessionRow> = sqlx::query_as(&format!("{} WHERE id = $1", rows::SESSION_SELECT))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(SessionRecord::try_from).transpose()
    }

    async fn session_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        id: &SessionId,
    ) -> Result<SessionRecord, DbError> {
        let row: SessionRow = sqlx::query_as(&format!("{} WHERE id = $1", rows::SESSION_SELECT))
            .bind(id.as_str())
            .fetch_one(&mut **tx)
            .await?;
        SessionRecord::try_from(row)
    }

    pub async fn session_by_idempotency_key(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<SessionRecord>, DbError> {
        let row: Option<SessionRow> =
            sqlx::query_as(&format!("{} WHERE idempotency_key = $1", rows::SESSION_SELECT))
                .bind(key.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(SessionRecord::try_from).transpose()
    }

    /// Applies `event` to the session: the status follows from [`decide`], and the change, its
    /// history entry, its event and (on success) the order's new status are written in one
    /// transaction. An approval, and any change to `succeeded` (which writes the order too),
    /// first takes the order's row: every writer of a session and its order takes the order
    /// first, as a cancel of the order does (`cancel_order`), so none can interleave with a cancel
    /// or wait on another in the opposite order (a deadlock on PostgreSQL).
    pub async fn apply(
        &self,
        id: &SessionId,
        event: SessionEvent,
        now: UnixMillis,
    ) -> Result<Transition, DbError> {
        for _ in 0..TRANSITION_ATTEMPTS {
            let current = self.session(id).await?.ok_or(DbError::SessionNotFound)?;
            let next = match decide(current.status, current.expires_at, now, event) {
                Ok(next) => next,
                Err(refusal) if is_late_approval(event, refusal) => {
                    return self.refuse_late_approval(current, refusal, event, now).await;
                }
                Err(refusal) => return Ok(Transition::Refused(refusal, current)),
            };
            let mut tx = self.writer.begin().await?;
            if event == SessionEvent::Approved || next == SessionStatus::Succeeded {
                lock_order(&mut tx, &current.order_id).await?;
            }
            let Some(session) = self.change_in(&mut tx, &current, next, event, now).await? else {
                tx.rollback().await?;
                continue;
            };
            tx.commit().await?;
            self.announced(id);
            return Ok(Transition::Applied(session));
        }
        Err(DbError::Contended)
    }

    /// Inside `tx`: moves `current` to `next` if it still has the status the decision was made on
    /// (`None` if another writer changed it first), with its history entry, its event, the
    /// announcement, and for a payment the order's new status.
    pub(super) async fn change_in(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        current: &SessionRecord,
        next: SessionStatus,
        event: SessionEvent,
        now: UnixMillis,
    ) -> Result<Option<SessionRecord>, DbError> {
        let id = &current.id;
        // A payment is when the money moved: refunds refer to it.
        let paid_at = (next == SessionStatus::Succeeded).then_some(now);
        let changed = sqlx::query(
            "UPDATE sessions SET status = $1, updated_at = $2, paid_at = COALESCE($5, paid_at) \
             WHERE id = $3 AND status = $4",
        )
        .bind(next.as_str())
        .bind(now)
        .bind(id.as_str())
        .bind(current.status.as_str())
        .bind(paid_at)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(None);
        }
        record_change(tx, id, Some(current.status), next, event.reason(), now).await?;
        let mut session = self.session_in(tx, id).await?;
        if next == SessionStatus::Succeeded && !self.mark_paid(tx, &session, now).await? {
            // The order was paid through another session: this money goes back.
            let flag = Flag::RefundDue;
            sqlx::query("UPDATE sessions SET flag = $1 WHERE id = $2")
                .bind(flag.as_str())
                .bind(id.as_str())
                .execute(&mut **tx)
                .await?;
            record_change(tx, id, Some(next), next, flag.as_str(), now).await?;
            session.flag = Some(flag);
            tracing::warn!(session_id = %id, "order already paid; payment flagged for refund");
        }
        self.record_event(tx, &format!("session.{next}"), &session, now).await?;
        self.announce(tx, id).await?;
        Ok(Some(session))
    }

    /// An approval for a session that is over: written to its history and flagged for the merchant
    /// instead of turning into a payment.
    async fn refuse_late_approval(
        &self,
        current: SessionRecord,
        refusal: Refusal,
        event: SessionEvent,
        now: UnixMillis,
    ) -> Result<Transition, DbError> {
        let mut tx = self.writer.begin().await?;
        // A confirmation is money that moved: it can be refunded.
        let paid_at = (event == SessionEvent::Confirmed).then_some(now);
        sqlx::query(
            "UPDATE sessions SET flag = $4, updated_at = $1, paid_at = COALESCE(paid_at, $3) WHERE id = $2",
        )
        .bind(now)
        .bind(current.id.as_str())
        .bind(paid_at)
        .bind(Flag::LateApproval.as_str())
        .execute(&mut *tx)
        .await?;
        let reason = if event == SessionEvent::Confirmed { "late_confirmation" } else { "late_approval" };
        record_change(&mut tx, &current.id, Some(current.status), current.status, reason, now).await?;
        let session = self.session_in(&mut tx, &current.id).await?;
        self.record_event(&mut tx, "session.late_approval", &session, now).await?;
        tx.commit().await?;
        tracing::warn!(session_id = %session.id, status = %session.status, "late approval recorded and flagged");
        Ok(Transition::Refused(refusal, session))
    }

    /// The session's status changes, oldest first.
    pub async fn history(&self, id: &SessionId) -> Result<Vec<StatusChange>, DbError> {
        let rows: Vec<StatusChangeRow> = sqlx::query_as(
            "SELECT from_status, to_status, reason, at FROM session_events WHERE session_id = $1 ORDER BY id",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(StatusChange::try_from).collect()
    }
}
