//! Who is using the console: staff accounts with argon2 password hashes (checked off the async
//! workers, `passwords`), an optional TOTP second factor whose codes work once, lockout after
//! repeated failures (`domain::sign_in`), sessions in `__Host-` cookies that are `Secure`,
//! `HttpOnly` and `SameSite=Strict`, a CSRF token in every form, and a pre-session token in the
//! sign-in form (so no other site can sign a browser in to an account of its choosing).

use super::i18n::Lang;
use crate::{db::StaffRecord, domain::new_secret, domain::Role, state::AppState};
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
/// The sign-in form's pre-session cookie: a random token the form repeats.
pub const SIGN_IN_COOKIE: &str = "__Host-wc_sign_in";
/// Where a member whose password must change is sent, whatever they ask for.
pub const PASSWORD_PATH: &str = "/console/account/password";
/// Passwords are at least this long (and at most 1024 characters).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// TOTP codes: 6 digits, 30-second steps, one step of clock drift either way.
const TOTP_DIGITS: usize = 6;
const TOTP_STEP_SECS: u64 = 30;
/// Characters of a session, CSRF or sign-in token.
const TOKEN_CHARS: usize = 43;

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

/// What a member's TOTP secret is sealed for (the vault's associated data).
pub fn totp_purpose(staff_id: &str) -> String {
    format!("staff:{staff_id}:totp")
}

/// A new random TOTP secret (160 bits, as RFC 4226 recommends) and its Base32 form for people.
pub fn new_totp_secret() -> (Vec<u8>, String) {
    let secret = TotpSecret::generate_secret();
    let bytes = secret.to_bytes().unwrap_or_default();
    let encoded = secret.to_encoded().to_string();
    (bytes, encoded)
}

/// The 30-second step whose code `code` is, for `secret` at `now_secs` (the step now, or one
/// before or after for clock drift). A step is accepted once per account: the caller compares it
/// with the last one used (`Db::use_totp_step`), as RFC 6238 section 5.2 asks.
pub fn totp_step(secret: &[u8], account: &str, code: &str, now_secs: u64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != TOTP_DIGITS {
        return None;
    }
    let totp = totp(secret, account).ok()?;
    let now_step = now_secs / TOTP_STEP_SECS;
    [now_step.saturating_sub(1), now_step, now_step + 1]
        .into_iter()
        .find(|step| {
            subtle_eq::constant_time_eq(totp.generate(step * TOTP_STEP_SECS).as_bytes(), code.as_bytes())
        })
        .and_then(|step| i64::try_from(step).ok())
}

/// The step of `code` at `now` (see [`totp_step`]).
pub fn totp_step_at(secret: &[u8], account: &str, code: &str, now: crate::domain::UnixMillis) -> Option<i64> {
    totp_step(secret, account, code, u64::try_from(now / 1000).unwrap_or(0))
}

/// A new session, CSRF or sign-in token.
pub fn new_token() -> String {
    new_secret("", TOKEN_CHARS)
}

/// Only a path of the console is a place to go back to: `/console...`, not `//...`, of visible
/// ASCII characters without `\` (so never a header break or another host); anything else is
/// `/console`.
pub fn console_path(next: Option<&str>) -> &str {
    match next {
        Some(path)
            if path.starts_with("/console")
                && !path.starts_with("//")
                && path.len() <= 2048
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path
        }
        _ => "/console",
    }
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
    /// The member as the audit log names them.
    pub fn actor(&self) -> crate::app::Actor {
        crate::app::Actor::new(&self.record.id, &self.record.name)
    }

    /// Whether this member's role allows what needs `needed`.
    pub fn may(&self, needed: Role) -> bool {
        self.role >= needed
    }
}

/// The value of the cookie `name` in a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(found, _)| *found == name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| value.len() <= 128)
}

/// The value of the session cookie in a request.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    cookie(headers, COOKIE)
}

/// `Set-Cookie` for a cookie of the console (`Secure`, `HttpOnly`, `SameSite=Strict`, this host
/// only) kept `max_age_secs`, or (with `None`) one that ends it.
fn host_cookie(name: &str, value: Option<&str>, max_age_secs: i64) -> HeaderValue {
    let value = match value {
        Some(value) => {
            format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}")
        }
        None => format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"),
    };
    HeaderValue::from_str(&value).expect("a cookie of visible ASCII")
}

/// `Set-Cookie` for a new session, or (with `None`) one that ends it.
pub fn set_cookie(token: Option<&str>) -> HeaderValue {
    host_cookie(COOKIE, token, LIFETIME_MS / 1000)
}

/// `Set-Cookie` for the sign-in form's pre-session token, or (with `None`) one that ends it.
pub fn set_sign_in_cookie(token: Option<&str>) -> HeaderValue {
    host_cookie(SIGN_IN_COOKIE, token, IDLE_MS / 1000)
}

/// The console's sign-in page, coming back to `path` afterwards.
pub fn to_sign_in(path: &str) -> Response {
    let mut target = url::form_urlencoded::Serializer::new(String::new());
    target.append_pair("next", console_path(Some(path)));
    Redirect::to(&format!("/console/login?{}", target.finish())).into_response()
}

/// Why a request has no signed-in member: it is sent to sign in (or to change its password), or
/// the database failed (the console's error page, drawn by `pages`).
#[derive(Debug)]
pub enum NotSignedIn {
    Redirect(Response),
    Failed(String),
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = NotSignedIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, NotSignedIn> {
        let to_sign_in = |path: &str| NotSignedIn::Redirect(to_sign_in(path));
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/console").to_owned();
        let Some(token) = session_cookie(&parts.headers) else { return Err(to_sign_in(&path)) };
        let now = state.now();
        let session = match state.db.staff_session(&token, IDLE_MS, now).await {
            Ok(Some(session)) => session,
            Ok(None) => return Err(to_sign_in(&path)),
            Err(error) => return Err(NotSignedIn::Failed(error.to_string())),
        };
        let record = match state.db.staff(&session.staff_id).await {
            Ok(Some(record)) if record.disabled_at.is_none() => record,
            Ok(_) => return Err(to_sign_in(&path)),
            Err(error) => return Err(NotSignedIn::Failed(error.to_string())),
        };
        // A one-time password opens one page: the one that replaces it (and signing out).
        if record.password_must_change != 0 && !matches!(parts.uri.path(), PASSWORD_PATH | "/console/logout")
        {
            return Err(NotSignedIn::Redirect(Redirect::to(PASSWORD_PATH).into_response()));
        }
        let role = Role::parse(&record.role).unwrap_or(Role::Viewer);
        let lang = Lang::parse(&record.locale).unwrap_or(Lang::En);
        Ok(Staff { record, role, lang, csrf: session.csrf_token, token })
    }
}

/// Whether a form's CSRF token is the session's, and the request comes from this site.
pub fn form_is_genuine(staff: &Staff, headers: &HeaderMap, token: &str, state: &AppState) -> bool {
    subtle_eq::constant_time_eq(staff.csrf.as_bytes(), token.as_bytes()) && from_this_site(headers, state)
}

/// Whether a sign-in comes from this server's own sign-in form: the form's token is the one in
/// the pre-session cookie the form was served with (a `SameSite=Strict` cookie no other site's
/// page can make the browser send), and the request comes from this site.
pub fn sign_in_is_genuine(headers: &HeaderMap, token: &str, state: &AppState) -> bool {
    cookie(headers, SIGN_IN_COOKIE).is_some_and(|expected| {
        !token.is_empty() && subtle_eq::constant_time_eq(expected.as_bytes(), token.as_bytes())
    }) && from_this_site(headers, state)
}

/// A browser that says where a form came from (`Sec-Fetch-Site`, `Origin`) must name this
/// server. (The pages' `Referrer-Policy: no-referrer` makes browsers send `Origin: null` for the
/// console's own forms; the tokens and the `SameSite=Strict` cookies still tie them to this site.)
fn from_this_site(headers: &HeaderMap, state: &AppState) -> bool {
    let site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| matches!(site, "same-origin" | "none"));
    let origin_ok = match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => origin == state.public_base(headers).origin().ascii_serialization(),
    };
    site_ok && origin_ok
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
    fn passwords_must_be_long_enough() {
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
        let generator = totp(&secret, "a@b.example").unwrap();
        let at = 1_000_000_000u64;
        let step = (at / 30) as i64;
        let code = generator.generate(at);
        assert_eq!(totp_step(&secret, "a@b.example", &code, at), Some(step));
        assert_eq!(totp_step(&secret, "a@b.example", &code, at + 30), Some(step), "one step of drift");
        assert_eq!(totp_step(&secret, "a@b.example", &code, at + 60), None, "two steps: too old");
        let later = generator.generate(at + 30);
        assert_eq!(totp_step(&secret, "a@b.example", &later, at), Some(step + 1));
        assert_eq!(totp_step(&secret, "a@b.example", "12345", at), None);
        assert_eq!(
            totp_step(&secret, "a@b.example", &format!("{} {}", &code[..3], &code[3..]), at),
            Some(step)
        );
    }

    #[test]
    fn only_a_console_path_of_visible_characters_is_a_place_to_go_back_to() {
        assert_eq!(console_path(Some("/console/orders?page=2")), "/console/orders?page=2");
        for bad in [
            "//evil.example",
            "https://evil.example/",
            "/console\\evil",
            "/console\r\nSet-Cookie: x=1",
            "/console x",
            "/store",
        ] {
            assert_eq!(console_path(Some(bad)), "/console", "{bad:?}");
        }
        assert_eq!(console_path(None), "/console");
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
