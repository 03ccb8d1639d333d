//! `POST /api/checkout/steps`: the widget reports a step of the shopper's path (the order shown,
//! a wallet chosen), for the console's view of where shoppers stop. Anonymous and small: the
//! order, the step, the wallet, the kind of device and the language; nothing personal. Limited
//! per client address together with session creation.

use crate::state::AppState;
use crate::{
    db::StepRecord,
    domain::ClientKey,
    error::{ApiError, JsonBody},
};
use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
};
use std::net::SocketAddr;
use wallet_checkout_contract::{CheckoutStep, DeviceKind, StepReport};

/// A language tag as the widget sends it: a 2 or 3 letter language, then up to two parts of 2
/// to 8 letters or digits (`en`, `zh-CN`, `zh-Hans-CN`).
pub fn is_locale(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && rest.len() <= 2
        && rest
            .iter()
            .all(|part| (2..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric()))
}

pub async fn report_step(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(report): JsonBody<StepReport>,
) -> Result<StatusCode, ApiError> {
    let client = ClientKey::of(state.client_address(&headers, peer));
    if let Err(wait) = state.session_limiter.check(client, state.now()) {
        return Err(ApiError::rate_limited(wait));
    }
    if !is_locale(&report.locale) {
        return Err(ApiError::invalid_request("locale must be a language tag such as en or zh-CN"));
    }
    let wallet = match (report.step, &report.wallet_id) {
        (CheckoutStep::Shown, None) => String::new(),
        (CheckoutStep::Shown, Some(_)) => {
            return Err(ApiError::invalid_request("wallet_id is only for the step wallet_chosen"))
        }
        (CheckoutStep::WalletChosen, None) => {
            return Err(ApiError::invalid_request("wallet_id is required for the step wallet_chosen"))
        }
        (CheckoutStep::WalletChosen, Some(wallet)) => {
            if state.app.providers().offer(wallet).is_none() {
                return Err(ApiError::invalid_request(format!("wallet {wallet} is not offered here")));
            }
            wallet.as_str().to_owned()
        }
    };
    if state.db.order(&report.order_id).await.map_err(ApiError::internal)?.is_none() {
        return Err(ApiError::not_found("order"));
    }
    let step = StepRecord {
        order_id: report.order_id.as_str().to_owned(),
        step: match report.step {
            CheckoutStep::Shown => "shown",
            CheckoutStep::WalletChosen => "wallet_chosen",
        }
        .to_owned(),
        wallet_id: wallet,
        device: match report.device {
            DeviceKind::Desktop => "desktop",
            DeviceKind::Mobile => "mobile",
        }
        .to_owned(),
        locale: report.locale,
    };
    state.db.record_checkout_step(&step, state.now()).await.map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::is_locale;

    #[test]
    fn locales_are_language_tags() {
        for good in ["en", "zh-CN", "zh-Hans-CN", "yue", "es-419"] {
            assert!(is_locale(good), "{good}");
        }
        for bad in
            ["", "e", "english", "zh_CN", "en-", "a-b", "en-US-x-y-z", "zh-CN<script>", "li.wei@shop.example"]
        {
            assert!(!is_locale(bad), "{bad}");
        }
    }
}
