//! Headers for the built widget's files. Content-hashed files (`wallet-checkout.<hash>.wasm`) never
//! change, so browsers and CDNs keep them for a year; the loader and `integrity.json` are
//! revalidated on every use. Every file may be loaded from another origin (a store that puts the
//! script on a CDN, or serves it from this server to its own domain).

use axum::{
    extract::Request,
    http::{header, HeaderValue},
    middleware::Next,
    response::Response,
};

/// `Cache-Control` of content-hashed files.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of files whose name stays the same across releases.
pub const REVALIDATE: &str = "no-cache";

/// Whether a file name carries a content hash: `name.<12 hex digits>.<extension>`.
pub fn is_content_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut parts = name.rsplit('.');
    let (_extension, hash) = (parts.next(), parts.next());
    hash.is_some_and(|hash| hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        && parts.next().is_some()
}

pub async fn widget_headers(request: Request, next: Next) -> Response {
    let immutable = is_content_hashed(request.uri().path());
    let mut response = next.run(request).await;
    let cache = if immutable && response.status().is_success() { IMMUTABLE } else { REVALIDATE };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn only_names_with_a_content_hash_are_immutable() {
        assert!(is_content_hashed("/wallet-checkout.3f9a0c12be45.wasm"));
        assert!(is_content_hashed("wallet-checkout.3f9a0c12be45.js"));
        assert!(!is_content_hashed("/wallet-checkout.js"));
        assert!(!is_content_hashed("/integrity.json"));
        assert!(!is_content_hashed("/wallet-checkout.3f9a0c12be4z.js"));
        assert!(!is_content_hashed("/3f9a0c12be45.js"));
    }
}
