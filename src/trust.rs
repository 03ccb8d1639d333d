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

#[cfg(test)]
mod tests {
    use super::is_trusted;

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
}
