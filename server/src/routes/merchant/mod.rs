//! The merchant API (`/api/v1`): the merchant's own backend, with a secret key, creates and reads
//! orders, manages keys and the webhook endpoint, and reads reports. Every change is written to
//! the audit log with the key that made it.

pub mod api_keys;
pub mod orders;
pub mod refunds;
pub mod reports;
pub mod webhooks;

use crate::{
    auth::Caller,
    domain::{rfc3339, UnixMillis},
    error::ApiError,
    state::AppState,
};
use serde::Serialize;

/// Default and largest page sizes of lists.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// A page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    /// A page from rows read with `limit + 1`: the extra row only says that there is more.
    pub fn from_rows<R>(mut rows: Vec<R>, limit: i64, view: impl FnMut(R) -> T) -> Self {
        let has_more = rows.len() as i64 > limit;
        rows.truncate(limit as usize);
        Page { data: rows.into_iter().map(view).collect(), has_more }
    }
}

/// `limit` from a query string: 1 to `MAX_LIMIT`, `DEFAULT_LIMIT` when absent.
pub fn limit(raw: Option<&str>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(raw) => raw.parse::<i64>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
            ApiError::invalid_request(format!("limit must be a whole number from 1 to {MAX_LIMIT}"))
        }),
    }
}

/// RFC 3339 time of a stored timestamp, for answers.
pub fn time(millis: UnixMillis) -> String {
    rfc3339(millis)
}

/// Writes an audit entry for a change made with `caller`'s key; a failure to write it fails the
/// request, so no change goes unrecorded unnoticed.
pub async fn audit(
    state: &AppState,
    caller: &Caller,
    action: crate::domain::AuditAction,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .db
        .audit(&caller.key.id, &caller.key.name, action, target, &detail, state.now())
        .await
        .map_err(ApiError::internal)
}
