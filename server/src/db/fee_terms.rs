//! What the console keeps about running the shop: the backups taken, and the fee terms of each
//! wallet provider as the merchant recorded them.

use super::{Store, StoreError};
use crate::domain::UnixMillis;

/// A backup the server took.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BackupRecord {
    pub id: String,
    pub taken_at: i64,
    pub path: String,
    pub bytes: i64,
    pub sha256: String,
    /// `manual` (the command line or the console) or `scheduled`.
    pub kind: String,
}

/// What a provider charges: `rate_bp` hundredths of a percent of each payment, plus fixed,
/// monthly and withdrawal fees in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ProviderTerms {
    pub provider: String,
    pub rate_bp: i64,
    pub fixed_minor: i64,
    pub monthly_minor: i64,
    pub withdrawal_minor: i64,
    pub currency: String,
    pub updated_at: i64,
}

impl Store {
    pub async fn record_backup(&self, backup: &BackupRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO backups (id, taken_at, path, bytes, sha256, kind) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&backup.id)
        .bind(backup.taken_at)
        .bind(&backup.path)
        .bind(backup.bytes)
        .bind(&backup.sha256)
        .bind(&backup.kind)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest backup, if any.
    pub async fn last_backup(&self) -> Result<Option<BackupRecord>, StoreError> {
        Ok(sqlx::query_as("SELECT id, taken_at, path, bytes, sha256, kind FROM backups ORDER BY taken_at DESC, id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Backups newest first.
    pub async fn backups(&self, limit: i64) -> Result<Vec<BackupRecord>, StoreError> {
        Ok(sqlx::query_as("SELECT id, taken_at, path, bytes, sha256, kind FROM backups ORDER BY taken_at DESC, id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn set_provider_terms(&self, terms: &ProviderTerms) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO provider_terms (provider, rate_bp, fixed_minor, monthly_minor, withdrawal_minor, currency, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (provider) DO UPDATE SET rate_bp = $2, fixed_minor = $3, \
             monthly_minor = $4, withdrawal_minor = $5, currency = $6, updated_at = $7",
        )
        .bind(&terms.provider)
        .bind(terms.rate_bp)
        .bind(terms.fixed_minor)
        .bind(terms.monthly_minor)
        .bind(terms.withdrawal_minor)
        .bind(&terms.currency)
        .bind(terms.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every provider's recorded terms.
    pub async fn provider_terms(&self) -> Result<Vec<ProviderTerms>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT provider, rate_bp, fixed_minor, monthly_minor, withdrawal_minor, currency, updated_at FROM provider_terms ORDER BY provider",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

/// The time since the newest backup, for checks such as "a backup in the last 24 hours".
pub fn backup_age(last: Option<&BackupRecord>, now: UnixMillis) -> Option<i64> {
    last.map(|backup| now - backup.taken_at)
}
