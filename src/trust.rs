//! Which redirect targets the widget may follow, as a pure rule.

/// `protocol` and `origin` are the target's (as the browser's `URL` reports them);
/// `known_origins` are the page's and the endpoint's.
pub fn is_trusted(protocol: &str, origin: &str, known_origins: &[Option<String>]) -> bool {
    match protocol {
        "https:" => true,
        "http:" => known_origins.iter().flatten().any(|known| known == origin),
        _ => false,
    }
}

/// Schemes that run code or read local data: never opened, whatever the backend says.
const DANGEROUS_SCHEMES: [&str; 7] =
    ["javascript:", "data:", "vbscript:", "file:", "blob:", "about:", "filesystem:"];

/// Whether a QR payload may also be offered as a link on the shopper's phone (a deep link into
/// the wallet app, such as `weixin://...`, or a web page the redirect rule trusts).
pub fn is_openable(protocol: &str, origin: &str, known_origins: &[Option<String>]) -> bool {
    match protocol {
        "https:" | "http:" => is_trusted(protocol, origin, known_origins),
        scheme => {
            let name = scheme.trim_end_matches(':');
            !DANGEROUS_SCHEMES.contains(&scheme)
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{is_openable, is_trusted};

    const KNOWN: [Option<String>; 0] = [];

    #[test]
    fn https_targets_are_trusted() {
        assert!(is_trusted("https:", "https://www.paypal.com", &KNOWN));
    }

    #[test]
    fn plain_http_is_trusted_only_on_a_known_origin() {
        let known = [Some("http://127.0.0.1:8080".to_owned()), None];
        assert!(is_trusted("http:", "http://127.0.0.1:8080", &known));
        assert!(!is_trusted("http:", "http://evil.example", &known));
    }

    #[test]
    fn script_and_data_urls_are_never_trusted() {
        let known = [Some("null".to_owned())];
        assert!(!is_trusted("javascript:", "null", &known));
        assert!(!is_trusted("data:", "null", &known));
    }

    #[test]
    fn wallet_deep_links_are_openable_but_script_urls_are_not() {
        assert!(is_openable("weixin:", "null", &KNOWN));
        assert!(is_openable("alipays:", "null", &KNOWN));
        assert!(is_openable("https:", "https://pay.example", &KNOWN));
        assert!(!is_openable("javascript:", "null", &KNOWN));
        assert!(!is_openable("data:", "null", &KNOWN));
        assert!(!is_openable("http:", "http://evil.example", &KNOWN));
    }
}
