//! The widget's one error type, mapped to translation keys and to the `code` of the `error` event.

use crate::{api::ApiError, config::ConfigError, i18n::Key};
use wallet_checkout_contract::ErrorCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WidgetError {
    /// The host page's attributes are unusable.
    Config(ConfigError),
    /// The backend cannot be reached.
    Network,
    /// The backend said no, with this contract code.
    Backend(ErrorCode),
    /// The backend's answer could not be read.
    BadAnswer,
    /// The backend asked for an action this widget does not know.
    Unsupported,
    /// The backend sent a redirect the widget will not follow.
    UntrustedRedirect,
    /// The backend sent a QR payload too long for any QR code.
    QrTooLong,
}

impl WidgetError {
    /// What the shopper reads.
    pub fn key(&self) -> Key {
        match self {
            WidgetError::Config(_) => Key::ConfigTitle,
            WidgetError::Network => Key::ErrorNetwork,
            WidgetError::Backend(ErrorCode::NotFound) => Key::ErrorNotFound,
            WidgetError::Backend(ErrorCode::OrderNotPayable) => Key::ErrorOrderClosed,
            WidgetError::Backend(ErrorCode::WalletUnavailable) => Key::ErrorUnsupported,
            WidgetError::Backend(_) => Key::ErrorBackend,
            WidgetError::BadAnswer => Key::ErrorBadAnswer,
            WidgetError::Unsupported => Key::ErrorUnsupported,
            WidgetError::UntrustedRedirect => Key::ErrorUntrustedRedirect,
            WidgetError::QrTooLong => Key::ErrorQrTooLong,
        }
    }

    /// `detail.code` of the `error` event.
    pub fn code(&self) -> &'static str {
        match self {
            WidgetError::Config(_) => "config",
            WidgetError::Network => "network",
            WidgetError::Backend(ErrorCode::NotFound) => "not_found",
            WidgetError::Backend(ErrorCode::OrderNotPayable) => "order_not_payable",
            WidgetError::Backend(ErrorCode::WalletUnavailable) => "wallet_unavailable",
            WidgetError::Backend(_) => "backend",
            WidgetError::BadAnswer => "bad_answer",
            WidgetError::Unsupported => "unsupported_action",
            WidgetError::UntrustedRedirect => "untrusted_redirect",
            WidgetError::QrTooLong => "qr_too_long",
        }
    }
}

impl From<ApiError> for WidgetError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Network | ApiError::Timeout => WidgetError::Network,
            ApiError::Backend { code, .. } => WidgetError::Backend(code),
            ApiError::BadAnswer => WidgetError::BadAnswer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_errors_map_to_shopper_words() {
        assert_eq!(WidgetError::from(ApiError::Timeout).key(), Key::ErrorNetwork);
        let closed = WidgetError::from(ApiError::Backend {
            status: 409,
            code: ErrorCode::OrderNotPayable,
            retry_after_ms: None,
        });
        assert_eq!(closed.key(), Key::ErrorOrderClosed);
        assert_eq!(closed.code(), "order_not_payable");
        assert_eq!(WidgetError::from(ApiError::BadAnswer).key(), Key::ErrorBadAnswer);
    }
}
