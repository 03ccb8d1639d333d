//! Wallet providers' credentials entered in the console, sealed: the database holds only the
//! ciphertext (opened with the server's secrets key, which it never holds), a fingerprint, and
//! who set each value when.

use super::{Db, DbError};

/// One sealed credential of a provider.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredCredential {
    pub provider: String,
    pub field: String,
    /// `Vault::seal` of the value, for the purpose `provider:<provider>:<field>`.
    pub ciphertext: String,
    /// The first 16 hex digits of the value's SHA-256.
    pub fingerprint: String,
    pub set_at: i64,
    /// The name of the staff member who set it.
    pub set_by: String,
}

impl Db {
    /// Sets or replaces one credential.
    pub async fn set_provider_credential(&self, credential: &StoredCredential) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO provider_credentials (provider, field, ciphertext, fingerprint, set_at, set_by) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider, field) DO UPDATE SET ciphertext = $3, \
             fingerprint = $4, set_at = $5, set_by = $6",
        )
        .bind(&credential.provider)
        .bind(&credential.field)
        .bind(&credential.ciphertext)
        .bind(&credential.fingerprint)
        .bind(credential.set_at)
        .bind(&credential.set_by)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Removes one credential; whether there was one.
    pub async fn remove_provider_credential(&self, provider: &str, field: &str) -> Result<bool, DbError> {
        let done = sqlx::query("DELETE FROM provider_credentials WHERE provider = $1 AND field = $2")
            .bind(provider)
            .bind(field)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Every stored credential, by provider and field.
    pub async fn provider_credentials(&self) -> Result<Vec<StoredCredential>, DbError> {
        Ok(sqlx::query_as(
            "SELECT provider, field, ciphertext, fingerprint, set_at, set_by FROM provider_credentials ORDER BY provider, field",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}
