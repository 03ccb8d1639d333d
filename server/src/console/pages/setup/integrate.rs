//! Setup step 4: what the store's pages and each provider need to know about this server: the
//! exact embed snippet (the script with its Subresource Integrity hash from the built widget's
//! `integrity.json`, the element, the checkout endpoint), the store origins allowed to call the
//! checkout API, and the notification URLs for each provider, each with a copy button.

use super::{provider_name, step_page};
use crate::{
    console::{auth::Staff, layout::copyable, pages::forbidden},
    domain::Role,
    state::AppState,
};
use axum::{extract::State, http::HeaderMap, response::Response};
use maud::html;
use url::Url;

const STEP: &str = "integrate";

/// The SRI hash of the widget's loader, from the built widget's `integrity.json`.
pub fn loader_integrity(widget_dir: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(widget_dir.join("integrity.json")).ok()?;
    let hashes: std::collections::HashMap<String, String> = serde_json::from_str(&text).ok()?;
    hashes.get("wallet-checkout.js").filter(|hash| hash.starts_with("sha384-")).cloned()
}

/// The snippet a store page embeds: the script (with its hash when the widget is built) and the
/// element.
pub fn snippet(base: &Url, integrity: Option<&str>) -> String {
    let script = base.join("wallet-checkout/wallet-checkout.js").map(String::from).unwrap_or_default();
    let endpoint = base.join("api/checkout").map(String::from).unwrap_or_default();
    let script = match integrity {
        Some(hash) => format!(
            "<script type=\"module\" src=\"{script}\"\n        integrity=\"{hash}\" crossorigin=\"anonymous\"></script>"
        ),
        None => format!("<script type=\"module\" src=\"{script}\"></script>"),
    };
    format!("{script}\n<wallet-checkout endpoint=\"{endpoint}\" order=\"ORDER_ID\"></wallet-checkout>")
}

/// `GET /console/setup/integrate`.
pub async fn show(State(state): State<AppState>, staff: Staff, headers: HeaderMap) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let base = crate::public_url::base(&state.config, state.bound, &headers);
    let configured = state.config.public_url.is_some();
    let https = base.scheme() == "https";
    let integrity = loader_integrity(&state.config.widget_dir);
    let endpoint = base.join("api/checkout").map(String::from).unwrap_or_default();
    let origins: Vec<String> = state
        .config
        .allowed_origins
        .iter()
        .filter_map(|origin| origin.to_str().ok().map(str::to_owned))
        .collect();
    let body = html! {
        p { (t("setup.integrate.intro")) }
        @if !configured {
            p.notice.notice--problem data-testid="no-public-url" { (lang.tf("setup.integrate.no_public_url", &[("base", base.as_str())])) }
        } @else if !https {
            p.notice.notice--problem { (t("setup.integrate.not_https")) }
        }
        section.card aria-labelledby="embed" {
            h2 #embed { (t("setup.integrate.embed")) }
            p { (t("setup.integrate.embed_intro")) }
            div.snippet data-testid="snippet" { (copyable(lang, "snippet", &snippet(&base, integrity.as_deref()))) }
            @if integrity.is_none() {
                p.hint { (t("setup.integrate.no_integrity")) }
            }
            h3 { (t("setup.integrate.endpoint")) }
            p { (copyable(lang, "endpoint", &endpoint)) }
            p.hint { (t("setup.integrate.order_id")) }
        }
        section.card aria-labelledby="origins" {
            h2 #origins { (t("setup.integrate.origins")) }
            @if origins.is_empty() {
                p data-testid="origins" { (t("setup.integrate.origins_none")) }
            } @else {
                ul data-testid="origins" {
                    @for origin in &origins { li { code { (origin) } } }
                }
            }
            p.hint { (t("setup.integrate.origins_how")) }
            p { (copyable(lang, "origins-toml", "allowed_origins = [\"https://shop.example\"]")) }
            p { (copyable(lang, "origins-env", "WC_ALLOWED_ORIGINS=https://shop.example,https://www.shop.example")) }
        }
        section.card aria-labelledby="notify" {
            h2 #notify { (t("setup.integrate.notify")) }
            p { (t("setup.integrate.notify_intro")) }
            dl.urls {
                @for provider in crate::app::wallet_setup::providers() {
                    @let url = base.join(&format!("api/providers/{provider}/notify")).map(String::from).unwrap_or_default();
                    dt { (provider_name(lang, provider)) }
                    dd data-testid=(format!("notify-{provider}")) {
                        (copyable(lang, &format!("notify-{provider}"), &url))
                        p.hint { (t(&format!("setup.integrate.notify.{provider}"))) }
                    }
                }
            }
        }
    };
    step_page(&state, &staff, STEP, None, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_snippet_names_this_server_and_the_hash() {
        let base = Url::parse("https://pay.shop.example/").unwrap();
        let text = snippet(&base, Some("sha384-abc"));
        assert!(text.contains("src=\"https://pay.shop.example/wallet-checkout/wallet-checkout.js\""));
        assert!(text.contains("integrity=\"sha384-abc\" crossorigin=\"anonymous\""));
        assert!(text.contains("endpoint=\"https://pay.shop.example/api/checkout\""));
    }
}
