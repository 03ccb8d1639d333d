//! `/api/v1/keys` (admin): make a key (its secret is shown once), list keys, revoke a key.

use super::{time, Page};
use crate::{
    app::api_keys,
    auth::Caller,
    db::ApiKeyRecord,
    domain::Role,
    error::{ApiError, JsonBody, PathId},
    state::AppState,
};
use axum::{extract::State, http::StatusCode, Json};
use serde::{Deserialize, Serialize};

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

pub async fn create_key(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<CreateKey>,
) -> Result<(StatusCode, Json<NewKeyView>), ApiError> {
    caller.require(Role::Admin)?;
    let role = Role::parse(&request.role)
        .ok_or_else(|| ApiError::invalid_request("role must be admin, operator or viewer"))?;
    let (record, secret) = api_keys::make_key(
        &state.db,
        &request.name,
        role,
        state.config.livemode(),
        &caller.actor(),
        state.now(),
    )
    .await?;
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
    match api_keys::revoke_key(&state.db, &id, &caller.actor(), state.now()).await? {
        api_keys::Revoked::Now(record) | api_keys::Revoked::Already(record) => {
            Ok(Json(KeyView::from(record)))
        }
    }
}
