//! Staff accounts of the merchant's console and their sessions. Passwords are argon2 hashes;
//! a session's cookie is stored only as its SHA-256 digest; the TOTP secret is sealed by the
//! vault before it is stored here.

use super::{keys::secret_digest, Store, StoreError};
use crate::domain::UnixMillis;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffRecord {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    /// Sealed by the vault (`vault::Vault::seal`), never stored in the clear.
    pub totp_secret: Option<String>,
    pub totp_enabled: i64,
    pub locale: String,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
}

/// A new staff member.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub locale: String,
    pub created_at: UnixMillis,
}

/// A signed-in session, found by its cookie.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffSession {
    pub staff_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

const STAFF_SELECT: &str = "SELECT id, email, name, role, password_hash, totp_secret, totp_enabled, locale, \
     failed_logins, locked_until, disabled_at, created_at, updated_at, last_login_at FROM staff";

impl Store {
    /// Adds a staff member; `Ok(false)` if the e-mail address is taken.
    pub async fn insert_staff(&self, new: &NewStaff) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO staff (id, email, name, role, password_hash, locale, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&new.id)
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.role)
        .bind(&new.password_hash)
        .bind(&new.locale)
        .bind(new.created_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    pub async fn staff(&self, id: &str) -> Result<Option<StaffRecord>, StoreError> {
        Ok(sqlx::query_as(&format!("{STAFF_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRecord>, StoreError> {
        Ok(sqlx::query_as(&format!("{STAFF_SELECT} WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn all_staff(&self) -> Result<Vec<StaffRecord>, StoreError> {
        Ok(sqlx::query_as(&format!("{STAFF_SELECT} ORDER BY created_at, id")).fetch_all(&self.pool).await?)
    }

    /// Counts a failed sign-in; from the `limit`th in a row the account is locked until
    /// `lock_until`. Answers the failures counted so far.
    pub async fn note_failed_login(
        &self,
        id: &str,
        limit: i64,
        lock_until: UnixMillis,
        now: UnixMillis,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE staff SET failed_logins = failed_logins + 1, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let (failures,): (i64,) = sqlx::query_as("SELECT failed_logins FROM staff WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if failures >= limit {
            sqlx::query("UPDATE staff SET locked_until = $1, failed_logins = 0 WHERE id = $2")
                .bind(lock_until)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(failures)
    }

    /// A successful sign-in: the failure count starts over.
    pub async fn note_login(&self, id: &str, now: UnixMillis) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE staff SET failed_logins = 0, locked_until = NULL, last_login_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_staff_password(
        &self,
        id: &str,
        password_hash: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Sets (or clears) the sealed TOTP secret and whether it is required at sign-in.
    pub async fn set_staff_totp(
        &self,
        id: &str,
        sealed_secret: Option<&str>,
        enabled: bool,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff SET totp_secret = $1, totp_enabled = $2, updated_at = $3 WHERE id = $4")
            .bind(sealed_secret)
            .bind(i64::from(enabled))
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_staff_locale(&self, id: &str, locale: &str, now: UnixMillis) -> Result<(), StoreError> {
        sqlx::query("UPDATE staff SET locale = $1, updated_at = $2 WHERE id = $3")
            .bind(locale)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Changes a member's role or disables them (their sessions end).
    pub async fn update_staff(
        &self,
        id: &str,
        role: &str,
        disabled: bool,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE staff SET role = $1, disabled_at = CASE WHEN $2 = 1 THEN COALESCE(disabled_at, $3) ELSE NULL END, \
             updated_at = $3 WHERE id = $4",
        )
        .bind(role)
        .bind(i64::from(disabled))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if disabled {
            sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1").bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Admins who can still sign in.
    pub async fn active_admins(&self) -> Result<i64, StoreError> {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM staff WHERE role = 'admin' AND disabled_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(count)
    }

    /// Records a session for the cookie `token`.
    pub async fn insert_staff_session(
        &self,
        token: &str,
        staff_id: &str,
        csrf_token: &str,
        now: UnixMillis,
        expires_at: UnixMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(secret_digest(token))
        .bind(staff_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session of this cookie, if any; its idle time starts over (at most once a minute).
    pub async fn staff_session(
        &self,
        token: &str,
        idle_ms: i64,
        now: UnixMillis,
    ) -> Result<Option<StaffSession>, StoreError> {
        let digest = secret_digest(token);
        let session: Option<StaffSession> = sqlx::query_as(
            "SELECT staff_id, csrf_token, created_at, last_seen_at, expires_at FROM staff_sessions \
             WHERE token_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
        )
        .bind(&digest)
        .bind(now)
        .bind(now - idle_ms)
        .fetch_optional(&self.pool)
        .await?;
        if session.as_ref().is_some_and(|s| s.last_seen_at < now - 60_000) {
            sqlx::query("UPDATE staff_sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&digest)
                .execute(&self.pool)
                .await?;
        }
        Ok(session)
    }

    pub async fn delete_staff_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(secret_digest(token))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A console setting (`setup.step`, `mode.live`, ...).
    pub async fn console_setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM console_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(value,)| value))
    }

    pub async fn set_console_setting(
        &self,
        name: &str,
        value: &str,
        now: UnixMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO console_settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = $2, updated_at = $3",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
