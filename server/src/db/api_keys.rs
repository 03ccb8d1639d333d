//! API keys. A key's secret is shown once, when it is made; only its SHA-256
//! digest is stored (the secret is 32 random characters, so a fast digest is safe to compare).

use super::{Db, DbError};
use crate::domain::UnixMillis;
use sha2::{Digest, Sha256};

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: String,
    pub name: String,
    pub role: String,
    /// The start of the secret, kept to tell keys apart in lists (`sk_test_Ab12`).
    pub prefix: String,
    pub secret: String,
    /// Live-mode key (`sk_live_`) or test-mode key (`sk_test_`); it authenticates only there.
    pub livemode: bool,
    pub created_by: String,
    pub created_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    pub role: String,
    pub prefix: String,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// 1 for a live-mode key, 0 for a test-mode key.
    pub livemode: i64,
}

/// What revoking a key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    Revoked(ApiKeyRecord),
    AlreadyRevoked(ApiKeyRecord),
    /// Refused: it is the last live admin key.
    LastAdmin,
    NotFound,
}

/// The stored digest of a secret.
pub fn secret_digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

const KEY_SELECT: &str =
    "SELECT id, name, role, prefix, created_at, created_by, revoked_at, last_used_at, livemode FROM api_keys";

impl Db {
    pub async fn insert_api_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord, DbError> {
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, prefix, secret_hash, created_at, created_by, livemode) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&key.id)
        .bind(&key.name)
        .bind(&key.role)
        .bind(&key.prefix)
        .bind(secret_digest(&key.secret))
        .bind(key.created_at)
        .bind(&key.created_by)
        .bind(i64::from(key.livemode))
        .execute(&self.writer)
        .await?;
        self.api_key(&key.id).await?.ok_or_else(|| DbError::Corrupt("inserted key vanished".into()))
    }

    pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{KEY_SELECT} WHERE id = $1")).bind(id).fetch_optional(&self.pool).await?)
    }

    /// The unrevoked key with this secret made for this store's mode (a test key never opens a
    /// live server, nor a live key a test one), if any; notes its use.
    pub async fn authenticate(&self, secret: &str, now: UnixMillis) -> Result<Option<ApiKeyRecord>, DbError> {
        let key: Option<ApiKeyRecord> = sqlx::query_as(&format!(
            "{KEY_SELECT} WHERE secret_hash = $1 AND revoked_at IS NULL AND livemode = $2"
        ))
        .bind(secret_digest(secret))
        .bind(i64::from(self.livemode))
        .fetch_optional(&self.pool)
        .await?;
        if let Some(key) = &key {
            // At most one write a minute per key.
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
                .bind(now)
                .bind(&key.id)
                .bind(now - 60_000)
                .execute(&self.writer)
                .await?;
        }
        Ok(key)
    }

    pub async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{KEY_SELECT} ORDER BY created_at, id")).fetch_all(&self.pool).await?)
    }

    /// Revokes a key unless it is the last live admin key. Concurrent revocations cannot leave
    /// no admin: the revocation and the count run in one transaction, serializable on PostgreSQL
    /// (retried when it conflicts) and single-writer on SQLite.
    pub async fn revoke_keeping_an_admin(&self, id: &str, now: UnixMillis) -> Result<Revocation, DbError> {
        for _ in 0..8 {
            match self.try_revoke_keeping_an_admin(id, now).await {
                Err(DbError::Database(sqlx::Error::Database(error)))
                    if error.code().as_deref() == Some("40001") =>
                {
                    continue
                }
                outcome => return outcome,
            }
        }
        Err(DbError::Contended)
    }

    async fn try_revoke_keeping_an_admin(&self, id: &str, now: UnixMillis) -> Result<Revocation, DbError> {
        let mut tx = self.writer.begin().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE").execute(&mut *tx).await?;
        }
        let changed = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let key: Option<ApiKeyRecord> =
            sqlx::query_as(&format!("{KEY_SELECT} WHERE id = $1")).bind(id).fetch_optional(&mut *tx).await?;
        let Some(key) = key else {
            tx.rollback().await?;
            return Ok(Revocation::NotFound);
        };
        if changed == 0 {
            tx.rollback().await?;
            return Ok(Revocation::AlreadyRevoked(key));
        }
        let (admins,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL AND livemode = $1",
        )
        .bind(i64::from(self.livemode))
        .fetch_one(&mut *tx)
        .await?;
        // Only an admin key of this mode can be the last one (a shop may have no admin key at
        // all when its staff manage keys from the console).
        if admins == 0 && key.role == "admin" && key.livemode == i64::from(self.livemode) {
            tx.rollback().await?;
            return Ok(Revocation::LastAdmin);
        }
        tx.commit().await?;
        Ok(Revocation::Revoked(key))
    }

    /// Revokes a key; `None` if there is no such key.
    pub async fn revoke_api_key(&self, id: &str, now: UnixMillis) -> Result<Option<ApiKeyRecord>, DbError> {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        self.api_key(id).await
    }

    /// Revokes the live keys with this name unused since `unused_since` (the demo store's keys of
    /// earlier starts; another instance's live key stays).
    pub async fn revoke_stale_api_keys_named(
        &self,
        name: &str,
        unused_since: UnixMillis,
        now: UnixMillis,
    ) -> Result<u64, DbError> {
        Ok(sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL              AND COALESCE(last_used_at, created_at) < $3",
        )
        .bind(now)
        .bind(name)
        .bind(unused_since)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }
}
