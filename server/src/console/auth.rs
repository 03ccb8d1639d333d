//! Who is using the console: staff accounts with argon2 password hashes, an optional TOTP second
//! factor, lockout after repeated failures, sessions in `__Host-` cookies that are `Secure`,
//! `HttpOnly` and `SameSite=Strict`, and a CSRF token in every form.

use super::i18n::Lang;
use crate::{
    auth::Role,
    domain::{new_secret, now_millis},
    routes::AppState,
    store::StaffRecord,
};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts, HeaderMap, HeaderValue},
    response::{IntoResponse, Redirect, Response},
};
use totp_rs::{Algorithm, Secret as TotpSecret, TOTP};

/// The session cookie. The `__Host-` prefix makes the browser keep it only if it is `Secure`,
/// for this host alone, for every path.
pub const COOKIE: &str = "__Host-wc_console";
/// A session ends after this long without a request...
pub const IDLE_MS: i64 = 2 * 3600 * 1000;
/// ...and after this long in any case.
pub const LIFETIME_MS: i64 = 12 * 3600 * 1000;
/// Failed sign-ins in a row before the account is locked...
pub const LOCK_AFTER: i64 = 5;
/// ...for this long.
pub const LOCK_MS: i64 = 15 * 60 * 1000;
/// Passwords are at least this long (and at most 1024 characters).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// TOTP codes: 6 digits, 30-second steps, one step of clock drift either way.
const TOTP_DIGITS: usize = 6;
const TOTP_STEP_SECS: u64 = 30;

/// An argon2id hash of a password (PHC string, with its own salt).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Whether a new password is acceptable.
pub fn password_is_acceptable(password: &str) -> bool {
    (MIN_PASSWORD_CHARS..=1024).contains(&password.chars().count())
}

/// A one-time password for a new staff member (shown once; they change it).
pub fn new_one_time_password() -> String {
    new_secret("", 20)
}

/// The TOTP generator for a secret (raw bytes) and the account it is for.
pub fn totp(secret: &[u8], account: &str) -> anyhow::Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        1,
        TOTP_STEP_SECS,
        secret.to_vec(),
        Some("wallet-checkout".to_owned()),
        account.to_owned(),
    )
    .map_err(|error| anyhow::anyhow!("cannot make a TOTP generator: {error}"))
}

/// A new random TOTP secret (160 bits, as RFC 4226 recommends) and its Base32 form for people.
pub fn new_totp_secret() -> (Vec<u8>, String) {
    let secret = TotpSecret::generate_secret();
    let bytes = secret.to_bytes().unwrap_or_default();
    let encoded = secret.to_encoded().to_string();
    (bytes, encoded)
}

/// Whether `code` is the TOTP code for `secret` now (or one step before or after).
pub fn totp_accepts(secret: &[u8], account: &str, code: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    code.len() == TOTP_DIGITS
        && totp(secret, account).is_ok_and(|totp| totp.check(&code, (now_millis() / 1000) as u64))
}

/// A signed-in staff member, from the session cookie. A page that needs one redirects to the
/// sign-in page without it.
#[derive(Debug, Clone)]
pub struct Staff {
    pub record: StaffRecord,
    pub role: Role,
    pub lang: Lang,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The cookie's value, to end the session.
    pub token: String,
}

impl Staff {
    /// Whether this member's role allows what needs `needed`.
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }
}

/// The value of the session cookie in a request.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
        .filter(|value| value.len() <= 128)
}

/// `Set-Cookie` for a new session, or (with `None`) one that ends it.
pub fn set_cookie(token: Option<&str>) -> HeaderValue {
    let value = match token {
        Some(token) => format!(
            "{COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}",
            LIFETIME_MS / 1000
        ),
        None => format!("{COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    HeaderValue::from_str(&value).expect("a cookie of visible ASCII")
}

/// The console's sign-in page, coming back to `path` afterwards.
pub fn to_sign_in(path: &str) -> Response {
    let next = if path.starts_with("/console") && !path.starts_with("//") { path } else { "/console" };
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    target.append_pair("next", next);
    Redirect::to(&format!("/console/login?{}", target.finish())).into_response()
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/console").to_owned();
        let Some(token) = session_cookie(&parts.headers) else { return Err(to_sign_in(&path)) };
        let now = now_millis();
        let session = match state.store.staff_session(&token, IDLE_MS, now).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(to_sign_in(&path)),
            Err(error) => return Err(super::pages::internal_error(Lang::En, error)),
        };
        let record = match state.store.staff(&session.staff_id).await {
            Ok(Some(record)) if record.disabled_at.is_none() => record,
            Ok(_) => return Err(to_sign_in(&path)),
            Err(error) => return Err(super::pages::internal_error(Lang::En, error)),
        };
        let role = Role::parse(&record.role).unwrap_or(Role::Viewer);
        let lang = Lang::parse(&record.locale).unwrap_or(Lang::En);
        Ok(Staff { record, role, lang, csrf: session.csrf_token, token })
    }
}

/// Whether a form's CSRF token is the session's, and the request comes from this site: a browser
/// that says where the form came from (`Sec-Fetch-Site`, `Origin`) must name this server. (The
/// pages' `Referrer-Policy: no-referrer` makes browsers send `Origin: null` for the console's own
/// forms; the token and the `SameSite=Strict` cookie still tie the form to the session.)
pub fn form_is_genuine(staff: &Staff, headers: &HeaderMap, token: &str, state: &AppState) -> bool {
    let same_token = subtle_eq::constant_time_eq(staff.csrf.as_bytes(), token.as_bytes());
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| matches!(site, "same-origin" | "none"));
    let origin_ok = match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => origin == state.public_base(headers).origin().ascii_serialization(),
    };
    same_token && site_ok && origin_ok
}

/// Constant-time comparison of two byte strings (their lengths are not secret).
mod subtle_eq {
    pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_with_a_salt_and_verified() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterz", &hash));
        assert_ne!(hash, hash_password("correct horse battery").unwrap(), "a new salt each time");
        assert!(!verify_password("x", "not a hash"));
        assert!(!password_is_acceptable("short"));
        assert!(password_is_acceptable("twelve chars"));
    }

    #[test]
    fn totp_codes_follow_rfc_6238() {
        // RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" gives 94287082 at
        // 59 s (8 digits); the 6-digit code is its last six digits.
        let generator =
            TOTP::new(Algorithm::SHA1, 8, 1, 30, b"12345678901234567890".to_vec(), None, "x".into()).unwrap();
        assert_eq!(generator.generate(59), "94287082");
        assert_eq!(generator.generate(1_111_111_109), "07081804");
        let (secret, encoded) = new_totp_secret();
        assert_eq!(secret.len(), 20);
        assert!(!encoded.is_empty());
        let now = totp(&secret, "a@b.example").unwrap().generate_current().unwrap();
        assert!(totp_accepts(&secret, "a@b.example", &now));
        assert!(!totp_accepts(&secret, "a@b.example", "000000") || now == "000000");
        assert!(!totp_accepts(&secret, "a@b.example", "12345"));
    }

    #[test]
    fn the_cookie_is_secure_http_only_strict_and_host_only() {
        let cookie = set_cookie(Some("abc")).to_str().unwrap().to_owned();
        assert!(cookie.starts_with("__Host-wc_console=abc; Path=/; Secure; HttpOnly; SameSite=Strict"));
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; __Host-wc_console=tok; b=2".parse().unwrap());
        assert_eq!(session_cookie(&headers).as_deref(), Some("tok"));
        assert_eq!(to_sign_in("//evil.example").headers()["location"], "/console/login?next=%2Fconsole");
    }
}
