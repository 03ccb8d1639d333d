//! The one webhook endpoint: its URL (as it may be shown, and sealed whole), its sealed signing
//! secret, and whether events are sent.

use super::{Db, DbError};
use crate::domain::UnixMillis;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct WebhookEndpoint {
    pub id: String,
    /// The URL as it may be shown (credentials masked).
    pub url: String,
    /// The whole URL, sealed by the vault (`None` only in rows written before it was sealed).
    pub url_sealed: Option<String>,
    /// The signing secret, sealed by the vault.
    pub secret: String,
    pub enabled: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Db {
    pub async fn webhook_endpoint(&self) -> Result<Option<WebhookEndpoint>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, url, url_sealed, secret, enabled, created_at, updated_at FROM webhook_endpoints LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }
    /// Sets the one webhook endpoint (its URL, shown and sealed, and whether it is on); a new
    /// endpoint gets `sealed_secret`. Answers whether it is new.
    pub async fn set_webhook_endpoint(
        &self,
        id: &str,
        shown_url: &str,
        sealed_url: &str,
        enabled: bool,
        sealed_secret: &str,
        now: UnixMillis,
    ) -> Result<bool, DbError> {
        let mut tx = self.writer.begin().await?;
        let updated = sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, url_sealed = $2, enabled = $3, updated_at = $4",
        )
        .bind(shown_url)
        .bind(sealed_url)
        .bind(i64::from(enabled))
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            sqlx::query(
                "INSERT INTO webhook_endpoints (id, url, url_sealed, secret, enabled, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(id)
            .bind(shown_url)
            .bind(sealed_url)
            .bind(sealed_secret)
            .bind(i64::from(enabled))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(updated == 0)
    }
    /// A new signing secret (sealed) for the endpoint, if there is one.
    pub async fn rotate_webhook_secret(&self, sealed_secret: &str, now: UnixMillis) -> Result<bool, DbError> {
        Ok(sqlx::query("UPDATE webhook_endpoints SET secret = $1, updated_at = $2")
            .bind(sealed_secret)
            .bind(now)
            .execute(&self.writer)
            .await?
            .rows_affected()
            > 0)
    }
    /// Rewrites a row stored before URLs and secrets were sealed, once.
    pub async fn seal_webhook_endpoint(
        &self,
        id: &str,
        shown_url: &str,
        sealed_url: &str,
        sealed_secret: &str,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE webhook_endpoints SET url = $1, url_sealed = $2, secret = $3 WHERE id = $4 AND url_sealed IS NULL",
        )
        .bind(shown_url)
        .bind(sealed_url)
        .bind(sealed_secret)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
