//! `/healthz`: the process answers. `/readyz`: it can serve requests (the database answers), and
//! how many sessions have a waiting read held open on this instance.

use crate::state::AppState;
use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(
                json!({ "status": "ready", "database": "ok", "waiting_reads": state.db.waiting_sessions() }),
            ),
        ),
        Err(error) => {
            tracing::error!(%error, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "not ready", "database": "unavailable" })),
            )
        }
    }
}
