//! API keys, the merchant's backends' way in: made with a name, a role and a mode (the secret
//! shown once, only its digest kept), revoked, never leaving a mode without an admin key. The
//! merchant API, the console and the command line all make and revoke keys here.

use super::{Actor, AppError};
use crate::{
    db::{ApiKeyRecord, Db, NewApiKey, Revocation},
    domain::{new_id, new_secret, text::check_readable, AuditAction, Role, UnixMillis},
};
use wallet_checkout_contract::ErrorCode;

/// Secrets of keys start with this, in test mode...
pub const TEST_KEY_PREFIX: &str = "sk_test_";
/// ...and with this in live mode.
pub const LIVE_KEY_PREFIX: &str = "sk_live_";
/// Random characters in a key's secret after its prefix.
pub const SECRET_CHARS: usize = 32;
/// The name of the demo store's keys (the go-live checklist wants none left).
pub const DEMO_KEY_NAME: &str = "demo store";
/// A key's name is at most this long.
pub const MAX_NAME_CHARS: usize = 100;

/// Makes a key for `livemode` and answers it with its secret (this once), audited under `by`.
pub async fn make_key(
    db: &Db,
    name: &str,
    role: Role,
    livemode: bool,
    by: &Actor,
    now: UnixMillis,
) -> Result<(ApiKeyRecord, String), AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::invalid(format!("name must be 1 to {MAX_NAME_CHARS} characters")));
    }
    check_readable(name).map_err(|error| AppError::invalid(format!("name must not hold {error}")))?;
    let secret = new_secret(if livemode { LIVE_KEY_PREFIX } else { TEST_KEY_PREFIX }, SECRET_CHARS);
    // `sk_test_` and four characters: enough to tell keys apart, far too little to guess with.
    let prefix: String = secret.chars().take(TEST_KEY_PREFIX.len() + 4).collect();
    let key = NewApiKey {
        id: new_id("key"),
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        prefix,
        secret: secret.clone(),
        livemode,
        created_by: by.id.clone(),
        created_at: now,
    };
    let record = db.insert_api_key(&key).await?;
    by.audit(
        db,
        AuditAction::KeyCreate,
        &record.id,
        serde_json::json!({ "name": record.name, "role": record.role, "livemode": livemode }),
        now,
    )
    .await?;
    tracing::info!(key_id = %record.id, role = %record.role, by = %by.id, "API key created");
    Ok((record, secret))
}

/// What revoking a key did.
#[derive(Debug)]
pub enum Revoked {
    /// Revoked now.
    Now(ApiKeyRecord),
    /// It was revoked before.
    Already(ApiKeyRecord),
}

/// Revokes a key, audited under `by`. The last admin key of the server's mode cannot be revoked
/// through the API or the console (no one could make keys there again); the command line, which
/// can always make a new one, may revoke any key.
pub async fn revoke_key(db: &Db, id: &str, by: &Actor, now: UnixMillis) -> Result<Revoked, AppError> {
    let revocation = if by.is_command_line() {
        match db.revoke_api_key(id, now).await? {
            Some(record) => Revocation::Revoked(record),
            None => Revocation::NotFound,
        }
    } else {
        db.revoke_keeping_an_admin(id, now).await?
    };
    match revocation {
        Revocation::Revoked(record) => {
            by.audit(db, AuditAction::KeyRevoke, id, serde_json::json!({ "name": record.name }), now).await?;
            tracing::info!(key_id = %id, by = %by.id, "API key revoked");
            Ok(Revoked::Now(record))
        }
        Revocation::AlreadyRevoked(record) => Ok(Revoked::Already(record)),
        Revocation::LastAdmin => {
            Err(AppError::refused(ErrorCode::Forbidden, "the last admin key cannot be revoked"))
        }
        Revocation::NotFound => Err(AppError::not_found("key")),
    }
}
