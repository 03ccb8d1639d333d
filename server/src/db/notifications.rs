//! The wallets' notifications already handled, so that the same one again changes nothing.

use super::{Db, DbError};
use crate::domain::UnixMillis;

impl Db {
    /// Whether this notification was handled before.
    pub async fn notification_seen(&self, provider: &str, id: &str) -> Result<bool, DbError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT notification_id FROM provider_notifications WHERE provider = $1 AND notification_id = $2",
        )
        .bind(provider)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Remembers a handled notification.
    pub async fn remember_notification(
        &self,
        provider: &str,
        id: &str,
        subject: Option<&str>,
        now: UnixMillis,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO provider_notifications (provider, notification_id, received_at, subject) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (provider, notification_id) DO NOTHING",
        )
        .bind(provider)
        .bind(id)
        .bind(now)
        .bind(subject)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
