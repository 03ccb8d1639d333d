//! Staff accounts of the merchant's console, their sessions and the sign-in lockout. Passwords
//! are argon2 hashes; a session's cookie is stored only as its SHA-256 digest; the TOTP secret
//! is sealed by the vault before it is stored here.

use super::{api_keys::secret_digest, Db, DbError};
use crate::domain::{
    sign_in::{self, Admission, Attempts},
    UnixMillis,
};

/// Times a compare-and-set change of the sign-in attempts is tried when other sign-ins changed
/// the row first.
const ATTEMPT_WRITES: usize = 64;

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
    pub disabled_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_login_at: Option<i64>,
    /// 1 while the password is a one-time password, to be changed at the next sign-in.
    pub password_must_change: i64,
    /// A TOTP secret being enrolled (sealed), in force only once a code proves it.
    pub totp_pending: Option<String>,
    /// The last 30-second step whose code was accepted.
    pub totp_last_step: Option<i64>,
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
    /// A one-time password, to be changed at the first sign-in.
    pub password_must_change: bool,
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
     disabled_at, created_at, updated_at, last_login_at, password_must_change, totp_pending, totp_last_step \
     FROM staff";

impl Db {
    /// Adds a staff member; `Ok(false)` if the e-mail address is taken.
    pub async fn insert_staff(&self, new: &NewStaff) -> Result<bool, DbError> {
        let inserted = sqlx::query(
            "INSERT INTO staff (id, email, name, role, password_hash, locale, created_at, updated_at, \
             password_must_change) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) ON CONFLICT (email) DO NOTHING",
        )
        .bind(&new.id)
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.role)
        .bind(&new.password_hash)
        .bind(&new.locale)
        .bind(new.created_at)
        .bind(i64::from(new.password_must_change))
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    pub async fn staff(&self, id: &str) -> Result<Option<StaffRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{STAFF_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn staff_by_email(&self, email: &str) -> Result<Option<StaffRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{STAFF_SELECT} WHERE email = $1"))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn all_staff(&self) -> Result<Vec<StaffRecord>, DbError> {
        Ok(sqlx::query_as(&format!("{STAFF_SELECT} ORDER BY created_at, id")).fetch_all(&self.pool).await?)
    }

    /// Counts a sign-in attempt for `subject` (an e-mail address's pseudonym) before its
    /// password is checked, and says whether it may be (`domain::sign_in::admit`).
    pub async fn admit_sign_in(&self, subject: &str, now: UnixMillis) -> Result<Admission, DbError> {
        self.change_sign_in_attempts(subject, |stored| {
            let (next, admission) = sign_in::admit(stored, now);
            (Some(next), admission)
        })
        .await
    }

    /// The `attempt`th attempt for `subject` failed; answers whether the address is locked now.
    pub async fn sign_in_failed(
        &self,
        subject: &str,
        attempt: i64,
        now: UnixMillis,
    ) -> Result<bool, DbError> {
        self.change_sign_in_attempts(subject, |stored| {
            let (next, locked) = sign_in::failed(stored, attempt, now);
            (Some(next), locked)
        })
        .await
    }

    /// An attempt for `subject` succeeded: its failures are forgiven.
    pub async fn sign_in_succeeded(&self, subject: &str) -> Result<(), DbError> {
        self.change_sign_in_attempts(subject, |_| (sign_in::succeeded(), ())).await
    }

    /// Applies `change` to what is stored for `subject`, compare-and-set on the row's version
    /// (tried again when another sign-in changed it first): the rule decides on exactly the
    /// state it changes, whatever runs at the same time, on SQLite and PostgreSQL alike.
    async fn change_sign_in_attempts<T>(
        &self,
        subject: &str,
        change: impl Fn(Attempts) -> (Option<Attempts>, T),
    ) -> Result<T, DbError> {
        for _ in 0..ATTEMPT_WRITES {
            let row: Option<(i64, Option<i64>, i64, i64)> = sqlx::query_as(
                "SELECT failures, locked_until, last_at, version FROM sign_in_attempts WHERE subject = $1",
            )
            .bind(subject)
            .fetch_optional(&self.pool)
            .await?;
            let stored =
                row.map(|(failures, locked_until, last_at, _)| Attempts { failures, locked_until, last_at });
            let (next, answer) = change(stored.unwrap_or_default());
            let written = match (row.map(|row| row.3), next) {
                _ if next == stored => 1,
                (None, Some(next)) => sqlx::query(
                    "INSERT INTO sign_in_attempts (subject, failures, locked_until, last_at, version) \
                     VALUES ($1, $2, $3, $4, 1) ON CONFLICT (subject) DO NOTHING",
                )
                .bind(subject)
                .bind(next.failures)
                .bind(next.locked_until)
                .bind(next.last_at)
                .execute(&self.writer)
                .await?
                .rows_affected(),
                (Some(version), Some(next)) => sqlx::query(
                    "UPDATE sign_in_attempts SET failures = $1, locked_until = $2, last_at = $3, \
                     version = version + 1 WHERE subject = $4 AND version = $5",
                )
                .bind(next.failures)
                .bind(next.locked_until)
                .bind(next.last_at)
                .bind(subject)
                .bind(version)
                .execute(&self.writer)
                .await?
                .rows_affected(),
                (Some(version), None) => {
                    sqlx::query("DELETE FROM sign_in_attempts WHERE subject = $1 AND version = $2")
                        .bind(subject)
                        .bind(version)
                        .execute(&self.writer)
                        .await?
                        .rows_affected()
                }
                (None, None) => 1,
            };
            if written == 1 {
                return Ok(answer);
            }
        }
        Err(DbError::Contended)
    }

    /// Forgets the sign-in attempts that count for nothing any more: the last one and any lock
    /// ended before `before`.
    pub async fn forget_sign_in_attempts(&self, before: UnixMillis) -> Result<u64, DbError> {
        Ok(sqlx::query(
            "DELETE FROM sign_in_attempts WHERE last_at < $1 AND (locked_until IS NULL OR locked_until < $1)",
        )
        .bind(before)
        .execute(&self.writer)
        .await?
        .rows_affected())
    }

    /// A successful sign-in.
    pub async fn note_login(&self, id: &str, now: UnixMillis) -> Result<(), DbError> {
        sqlx::query("UPDATE staff SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A member's own new password: no longer one to change, and every other session of theirs
    /// ends (`keep_token`'s goes on).
    pub async fn set_staff_password(
        &self,
        id: &str,
        password_hash: &str,
        keep_token: &str,
        now: UnixMillis,
    ) -> Result<(), DbError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "UPDATE staff SET password_hash = $1, password_must_change = 0, updated_at = $2 WHERE id = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1 AND token_hash <> $2")
            .bind(id)
            .bind(secret_digest(keep_token))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses up the TOTP step `step` of a member: `true` if it is later than every step used
    /// before (so the same code is never accepted twice, however many requests race).
    pub async fn use_totp_step(&self, id: &str, step: i64) -> Result<bool, DbError> {
        let used = sqlx::query(
            "UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(id)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(used == 1)
    }

    /// Keeps a TOTP secret being enrolled (sealed); the factor in force, if any, stays.
    pub async fn set_staff_totp_pending(
        &self,
        id: &str,
        sealed: &str,
        now: UnixMillis,
    ) -> Result<(), DbError> {
        sqlx::query("UPDATE staff SET totp_pending = $1, updated_at = $2 WHERE id = $3")
            .bind(sealed)
            .bind(now)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Puts the enrolled secret `pending` in force, if it is still the one waiting, with `step`
    /// (the code that proved it) used up. `false` if another enrolment replaced it meanwhile.
    pub async fn confirm_staff_totp(
        &self,
        id: &str,
        pending: &str,
        step: i64,
        now: UnixMillis,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE staff SET totp_secret = totp_pending, totp_pending = NULL, totp_enabled = 1, \
             totp_last_step = $1, updated_at = $2 WHERE id = $3 AND totp_pending = $4",
        )
        .bind(step)
        .bind(now)
        .bind(id)
        .bind(pending)
        .execute(&self.writer)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    /// Removes the second factor (and any enrolment under way).
    pub async fn remove_staff_totp(&self, id: &str, now: UnixMillis) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE staff SET totp_secret = NULL, totp_pending = NULL, totp_enabled = 0, updated_at = $1 \
             WHERE id = $2",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn set_staff_locale(&self, id: &str, locale: &str, now: UnixMillis) -> Result<(), DbError> {
        sqlx::query("UPDATE staff SET locale = $1, updated_at = $2 WHERE id = $3")
            .bind(locale)
            .bind(now)
            .bind(id)
            .execute(&self.writer)
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
    ) -> Result<(), DbError> {
        let mut tx = self.writer.begin().await?;
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
    pub async fn active_admins(&self) -> Result<i64, DbError> {
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
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, csrf_token, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(secret_digest(token))
        .bind(staff_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The live session of this cookie, if any; its idle time starts over (at most once a minute).
    pub async fn staff_session(
        &self,
        token: &str,
        idle_ms: i64,
        now: UnixMillis,
    ) -> Result<Option<StaffSession>, DbError> {
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
                .execute(&self.writer)
                .await?;
        }
        Ok(session)
    }

    /// Deletes the sessions that have ended by `now` (they no longer sign anyone in).
    pub async fn forget_staff_sessions(&self, now: UnixMillis) -> Result<u64, DbError> {
        Ok(sqlx::query("DELETE FROM staff_sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }

    pub async fn delete_staff_session(&self, token: &str) -> Result<(), DbError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(secret_digest(token))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// A console setting (`setup.step`, `mode.live`, ...).
    pub async fn console_setting(&self, name: &str) -> Result<Option<String>, DbError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM console_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(value,)| value))
    }

    pub async fn set_console_setting(&self, name: &str, value: &str, now: UnixMillis) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO console_settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = $2, updated_at = $3",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}
