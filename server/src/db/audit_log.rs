//! The audit log: who (a key, a staff member, the command line) changed what, and when.

use super::{Db, DbError};
use crate::domain::UnixMillis;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_id: String,
    pub actor_name: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

impl Db {
    pub async fn audit(
        &self,
        actor_id: &str,
        actor_name: &str,
        action: crate::domain::AuditAction,
        target: &str,
        detail: &serde_json::Value,
        now: UnixMillis,
    ) -> Result<(), DbError> {
        sqlx::query("INSERT INTO audit_log (at, actor_id, actor_name, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(now)
            .bind(actor_id)
            .bind(actor_name)
            .bind(action.as_str())
            .bind(target)
            .bind(detail.to_string())
            .execute(&self.writer)
            .await?;
        Ok(())
    }
    /// The newest audit entries first, `limit` of them.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
        Ok(sqlx::query_as(
            "SELECT id, at, actor_id, actor_name, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}
