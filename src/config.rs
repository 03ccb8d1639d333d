//! The widget's configuration, read from the host element's attributes. Bad values become a
//! `ConfigError` the widget shows and logs; nothing here panics.

use crate::{
    api::{REQUEST_TIMEOUT_MS, RETRY_BASE_MS},
    i18n::{Key, Locale},
    tracker::{Pace, WAIT_SECS},
};
use wallet_checkout_contract::OrderId;

/// How long the widget waits for things. `Timing::default()` is what ships; widget tests mount
/// with shorter intervals (`Widget::connect_with`), so that they prove behaviour (a timeout, a
/// retry, silence after removal) without waiting on the wall clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// A request that has not answered after this long is abandoned (10 s).
    pub request_timeout_ms: u32,
    /// The first pause between attempts at one request, doubling after (500 ms).
    pub retry_base_ms: u32,
    /// How long a status read asks the backend to wait for a change (25 s).
    pub wait_secs: u64,
    /// The tracker's pauses (2 s between reads of a backend that does not wait, backoff up to 30 s).
    pub pace: Pace,
    /// How often the countdown looks at the time left (twice a second, so no second is skipped).
    pub tick_ms: u32,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            request_timeout_ms: REQUEST_TIMEOUT_MS,
            retry_base_ms: RETRY_BASE_MS,
            wait_secs: WAIT_SECS,
            pace: Pace::default(),
            tick_ms: 500,
        }
    }
}

/// Attribute values as the host page set them (`None` when absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes {
    pub endpoint: Option<String>,
    pub order: Option<String>,
    pub locale: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WidgetConfig {
    /// Absolute base URL of the merchant's checkout backend, without a trailing slash.
    pub endpoint: String,
    pub order: OrderId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    MissingEndpoint,
    BadEndpoint(String),
    MissingOrder,
    BadOrder(String),
}

impl ConfigError {
    /// The explanation shown in the widget, in the shopper's language.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            ConfigError::MissingEndpoint => locale.text(Key::ConfigEndpointMissing).to_owned(),
            ConfigError::BadEndpoint(value) => locale.format(Key::ConfigEndpointBad, &[("value", value)]),
            ConfigError::MissingOrder => locale.text(Key::ConfigOrderMissing).to_owned(),
            ConfigError::BadOrder(value) => locale.format(Key::ConfigOrderBad, &[("value", value)]),
        }
    }

    /// The attribute at fault, for the console message and the `error` event.
    pub fn attribute(&self) -> &'static str {
        match self {
            ConfigError::MissingEndpoint | ConfigError::BadEndpoint(_) => "endpoint",
            ConfigError::MissingOrder | ConfigError::BadOrder(_) => "order",
        }
    }
}

/// The locale to speak: the `locale` attribute if it names a bundled locale, else the browser's
/// languages, else English.
pub fn choose_locale(attribute: Option<&str>, browser_languages: &[String]) -> Locale {
    Locale::negotiate(attribute.into_iter().chain(browser_languages.iter().map(String::as_str)))
}

/// Checks the attributes. `resolve` turns the endpoint into an absolute URL against the page
/// (the browser's `URL`), returning its protocol and the URL with no trailing slash.
pub fn parse(
    attributes: &Attributes,
    resolve: impl Fn(&str) -> Option<(String, String)>,
) -> Result<WidgetConfig, ConfigError> {
    let endpoint = match attributes.endpoint.as_deref().map(str::trim) {
        None | Some("") => return Err(ConfigError::MissingEndpoint),
        Some(raw) => {
            let bad = || ConfigError::BadEndpoint(raw.to_owned());
            if raw.contains(['?', '#']) || raw.chars().any(char::is_whitespace) {
                return Err(bad());
            }
            let (protocol, absolute) = resolve(raw).ok_or_else(bad)?;
            if protocol != "https:" && protocol != "http:" {
                return Err(bad());
            }
            absolute.trim_end_matches('/').to_owned()
        }
    };
    let order = match attributes.order.as_deref().map(str::trim) {
        None | Some("") => return Err(ConfigError::MissingOrder),
        Some(raw) => OrderId::parse(raw).map_err(|_| ConfigError::BadOrder(raw.to_owned()))?,
    };
    Ok(WidgetConfig { endpoint, order })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(raw: &str) -> Option<(String, String)> {
        // A stand-in for the browser's URL parser, resolving against https://shop.example/.
        if let Some(rest) = raw.strip_prefix('/') {
            return Some(("https:".into(), format!("https://shop.example/{rest}")));
        }
        let (scheme, _) = raw.split_once(':')?;
        Some((format!("{scheme}:"), raw.to_owned()))
    }

    fn attrs(endpoint: Option<&str>, order: Option<&str>) -> Attributes {
        Attributes { endpoint: endpoint.map(Into::into), order: order.map(Into::into), locale: None }
    }

    #[test]
    fn relative_endpoint_resolves_against_the_page() {
        let config = parse(&attrs(Some("/api/checkout/"), Some("ord_1")), resolve).unwrap();
        assert_eq!(config.endpoint, "https://shop.example/api/checkout");
        assert_eq!(config.order.as_str(), "ord_1");
    }

    #[test]
    fn missing_attributes_are_explained() {
        assert_eq!(parse(&attrs(None, Some("o")), resolve), Err(ConfigError::MissingEndpoint));
        assert_eq!(parse(&attrs(Some("  "), Some("o")), resolve), Err(ConfigError::MissingEndpoint));
        assert_eq!(parse(&attrs(Some("/api"), None), resolve), Err(ConfigError::MissingOrder));
    }

    #[test]
    fn unusable_endpoints_are_refused() {
        for bad in ["javascript:alert(1)", "ftp://x.example/", "/api?x=1", "/a b", "data:text/plain,hi"] {
            assert_eq!(
                parse(&attrs(Some(bad), Some("o")), resolve),
                Err(ConfigError::BadEndpoint(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn unsafe_order_ids_are_refused() {
        assert_eq!(
            parse(&attrs(Some("/api"), Some("../../admin")), resolve),
            Err(ConfigError::BadOrder("../../admin".into()))
        );
    }

    #[test]
    fn error_messages_quote_the_bad_value() {
        let message = ConfigError::BadOrder("<b>".into()).message(Locale::En);
        assert!(message.contains("“<b>”"), "{message}");
    }

    #[test]
    fn locale_attribute_wins_over_the_browser() {
        let browser = vec!["en-US".to_owned()];
        assert_eq!(choose_locale(Some("zh-CN"), &browser), Locale::ZhCn);
        assert_eq!(choose_locale(Some("tlh"), &["zh".to_owned()]), Locale::ZhCn);
        assert_eq!(choose_locale(None, &browser), Locale::En);
    }
}
