//! The fee terms of each wallet provider, as the merchant recorded them.

use super::{Db, DbError};

pub use crate::domain::takings::ProviderTerms;

#[derive(sqlx::FromRow)]
struct TermsRow {
    provider: String,
    rate_bp: i64,
    fixed_minor: i64,
    monthly_minor: i64,
    withdrawal_minor: i64,
    currency: String,
    updated_at: i64,
}

impl Db {
    pub async fn set_provider_terms(&self, terms: &ProviderTerms) -> Result<(), DbError> {
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
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Every provider's recorded terms.
    pub async fn provider_terms(&self) -> Result<Vec<ProviderTerms>, DbError> {
        let rows: Vec<TermsRow> = sqlx::query_as(
            "SELECT provider, rate_bp, fixed_minor, monthly_minor, withdrawal_minor, currency, updated_at FROM provider_terms ORDER BY provider",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|row| ProviderTerms {
                provider: row.provider,
                rate_bp: row.rate_bp,
                fixed_minor: row.fixed_minor,
                monthly_minor: row.monthly_minor,
                withdrawal_minor: row.withdrawal_minor,
                currency: row.currency,
                updated_at: row.updated_at,
            })
            .collect())
    }
}
