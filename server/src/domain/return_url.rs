//! Where a redirect flow sends the shopper back to: an absolute http(s) URL.

use std::fmt;
use url::Url;

/// Longest return URL accepted, in bytes.
pub const RETURN_URL_MAX_LEN: usize = 2048;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnUrl(Url);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnUrlError {
    TooLong,
    NotAbsoluteHttp,
}

impl fmt::Display for ReturnUrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(f, "return_url must be at most {RETURN_URL_MAX_LEN} characters"),
            Self::NotAbsoluteHttp => write!(f, "return_url must be an absolute http or https URL"),
        }
    }
}

impl ReturnUrl {
    pub fn parse(value: &str) -> Result<Self, ReturnUrlError> {
        if value.len() > RETURN_URL_MAX_LEN {
            return Err(ReturnUrlError::TooLong);
        }
        let url = Url::parse(value).map_err(|_| ReturnUrlError::NotAbsoluteHttp)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(ReturnUrlError::NotAbsoluteHttp);
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The URL's origin, as a browser writes it (`https://shop.example`).
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    /// The URL with one query parameter set, replacing any earlier value of it.
    pub fn with_param(&self, name: &str, value: &str) -> String {
        let mut url = self.0.clone();
        let kept: Vec<(String, String)> =
            url.query_pairs().filter(|(k, _)| k != name).map(|(k, v)| (k.into(), v.into())).collect();
        url.query_pairs_mut().clear().extend_pairs(kept).append_pair(name, value);
        url.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_http_urls_are_return_urls() {
        assert!(ReturnUrl::parse("https://shop.example/checkout?x=1").is_ok());
        assert!(ReturnUrl::parse("http://127.0.0.1:8080/").is_ok());
        assert_eq!(ReturnUrl::parse("/relative"), Err(ReturnUrlError::NotAbsoluteHttp));
        assert_eq!(ReturnUrl::parse("javascript:alert(1)"), Err(ReturnUrlError::NotAbsoluteHttp));
        let long = format!("https://a.example/{}", "x".repeat(RETURN_URL_MAX_LEN));
        assert_eq!(ReturnUrl::parse(&long), Err(ReturnUrlError::TooLong));
    }

    #[test]
    fn with_param_replaces_an_earlier_value() {
        let url = ReturnUrl::parse("https://shop.example/c?a=1&wc_session=old").unwrap();
        assert_eq!(url.with_param("wc_session", "ses_1"), "https://shop.example/c?a=1&wc_session=ses_1");
    }
}
