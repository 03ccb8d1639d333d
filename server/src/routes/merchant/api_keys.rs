//! `/api/v1/keys` (admin): make a key (its secret is shown once), list keys, revoke a key.

use super::{audit, time, Page};
use crate::domain::AuditAction;
use crate::{
    auth::{Caller, Role, LIVE_KEY_PREFIX, TEST_KEY_PREFIX},
    db::{ApiKeyRecord, Db, NewApiKey, Revocation},
    domain::{new_id, new_secret, now_millis},
    error::{ApiError, JsonBody, PathId},
    routes::AppState,
};
use axum::{extract::State, http::StatusCode, Json};
use serde::{Deserialize, Serialize};
use wallet_checkout_contract::ErrorCode;

/// Random characters in a key's secret after its prefix.
pub const SECRET_CHARS: usize = 32;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    pub role: String,
}

#[derive(Debug, Serialize)]
pub struct KeyView {
    pub id: String,
    pub name: String,
    pub role: String,
    /// The start of the secret, to tell keys apart.
    pub prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// Whether the key is for live mode (it works only on a live server) or test mode.
    pub livemode: bool,
}

impl From<ApiKeyRecord> for KeyView {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            id: key.id,
            name: key.name,
            role: key.role,
            prefix: key.prefix,
            created_at: time(key.created_at),
            revoked_at: key.revoked_at.map(time),
            last_used_at: key.last_used_at.map(time),
            livemode: key.livemode != 0,
        }
    }
}

/// A new key: everything a list shows, and the secret, this once.
#[derive(Debug, Serialize)]
pub struct NewKeyView {
    #[serde(flatten)]
    pub key: KeyView,
    pub secret: String,
}

/// Makes a key and returns it with its secret. Used by the API and by the `keys create` command.
pub async fn make_key(
    store: &Db,
    name: &str,
    role: Role,
    livemode: bool,
    created_by: &str,
) -> Result<(ApiKeyRecord, String), ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::invalid_request("name must be 1 to 100 characters"));
    }
    super::orders::readable("name", name)?;
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
        created_by: created_by.to_owned(),
        created_at: now_millis(),
    };
    let record = store.insert_api_key(&key).await.map_err(ApiError::internal)?;
    Ok((record, secret))
}

pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<NewKeyView>), ApiError> {
    caller.require(Role::Admin)?;
    let role = Role::parse(&request.role)
        .ok_or_else(|| ApiError::invalid_request("role must be admin, operator or viewer"))?;
    let (record, secret) =
        make_key(&state.db, &request.name, role, state.config.livemode(), &caller.key.id).await?;
    audit(
        &state,
        &caller,
        AuditAction::KeyCreate,
        &record.id,
        serde_json::json!({ "name": record.name, "role": record.role }),
    )
    .await?;
    tracing::info!(key_id = %record.id, role = %record.role, by = %caller.key.id, "API key created");
    Ok((StatusCode::CREATED, Json(NewKeyView { key: KeyView::from(record), secret })))
}

pub async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Page<KeyView>>, ApiError> {
    caller.require(Role::Admin)?;
    let keys = state.db.api_keys().await.map_err(ApiError::internal)?;
    Ok(Json(Page { data: keys.into_iter().map(KeyView::from).collect(), has_more: false }))
}

/// Revokes a key. The last live admin key cannot be revoked: no one could make keys again.
pub async fn revoke_key(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId<String>,
) -> Result<Json<KeyView>, ApiError> {
    caller.require(Role::Admin)?;
    match state.db.revoke_keeping_an_admin(&id, now_millis()).await.map_err(ApiError::internal)? {
        Revocation::Revoked(record) => {
            audit(&state, &caller, AuditAction::KeyRevoke, &id, serde_json::json!({ "name": record.name }))
                .await?;
            tracing::info!(key_id = %id, by = %caller.key.id, "API key revoked");
            Ok(Json(KeyView::from(record)))
        }
        Revocation::AlreadyRevoked(record) => Ok(Json(KeyView::from(record))),
        Revocation::LastAdmin => {
            Err(ApiError::new(ErrorCode::Forbidden, "the last admin key cannot be revoked"))
        }
        Revocation::NotFound => Err(ApiError::not_found("key")),
    }
}
