//! Who is calling the merchant API: a secret API key in `Authorization: Bearer`, and the role it
//! carries. `admin` may do everything (keys and webhook settings included), `operator` creates
//! and cancels orders and reads everything, `viewer` reads reports.

use crate::{db::ApiKeyRecord, domain::Role, error::ApiError, state::AppState};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use wallet_checkout_contract::ErrorCode;

/// The key a request was made with.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key: ApiKeyRecord,
    pub role: Role,
}

impl Caller {
    /// The key as the audit log names it.
    pub fn actor(&self) -> crate::app::Actor {
        crate::app::Actor::new(&self.key.id, &self.key.name)
    }

    /// Refuses the request unless the key's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role >= needed {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this needs a key with the {needed} role or higher"),
            ))
        }
    }
}

/// The secret from an `Authorization` header value: `Bearer <secret>`.
pub fn bearer_secret(value: &str) -> Option<&str> {
    let (scheme, secret) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty()).then(|| secret.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = || {
            ApiError::new(
                ErrorCode::Unauthorized,
                "a valid API key is required: Authorization: Bearer sk_...",
            )
        };
        let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(unauthorized)?;
        let secret = value.to_str().ok().and_then(bearer_secret).ok_or_else(unauthorized)?;
        if secret.len() > 200 {
            return Err(unauthorized());
        }
        let key = state
            .db
            .authenticate(secret, state.now())
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(unauthorized)?;
        let role =
            Role::parse(&key.role).ok_or_else(|| ApiError::internal("a stored key has an unknown role"))?;
        Ok(Caller { key, role })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_what_they_allow() {
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Viewer);
        assert_eq!(Role::parse("operator"), Some(Role::Operator));
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn bearer_secrets_are_read_from_the_header() {
        assert_eq!(bearer_secret("Bearer sk_test_abc"), Some("sk_test_abc"));
        assert_eq!(bearer_secret("bearer   sk_test_abc "), Some("sk_test_abc"));
        assert_eq!(bearer_secret("Basic abc"), None);
        assert_eq!(bearer_secret("Bearer "), None);
    }
}
