//! Setup step 4: what the store's pages and each provider need to know about this server: the
//! exact embed snippet (the widget's tags from the build, with their Subresource Integrity hashes,
//! and the element with the checkout endpoint), the store origins allowed to call the checkout
//! API, and the notification URLs for each provider, each with a copy button.

use super::{provider_name, step_page};
use crate::{
    console::{auth::Staff, layout::copyable, pages::forbidden},
    domain::Role,
    embed,
    state::AppState,
};
use axum::{extract::State, http::HeaderMap, response::Response};
use maud::html;

const STEP: &str = "integrate";

/// The snippet a store page embeds: the widget's `<head>` tags (see [`embed`]) and the element
/// with the checkout `endpoint`.
fn snippet(tags: &embed::HeadTags, endpoint: &str) -> String {
    format!("{}\n<wallet-checkout endpoint=\"{endpoint}\" order=\"ORDER_ID\"></wallet-checkout>", tags.html)
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
    let widget_base = base.join("wallet-checkout/").map(String::from).unwrap_or_default();
    let tags = embed::head_tags(&state.config.widget_dir, &widget_base);
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
            div.snippet data-testid="snippet" { (copyable(lang, "snippet", &snippet(&tags, &endpoint))) }
            @if !tags.from_build {
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
    fn the_snippet_is_the_widgets_tags_then_the_element_with_the_endpoint() {
        let tags = embed::HeadTags {
            html: "<script type=\"module\" src=\"x.js\"></script>".into(),
            from_build: true,
        };
        assert_eq!(
            snippet(&tags, "https://pay.shop.example/api/checkout"),
            "<script type=\"module\" src=\"x.js\"></script>\n\
             <wallet-checkout endpoint=\"https://pay.shop.example/api/checkout\" order=\"ORDER_ID\"></wallet-checkout>"
        );
    }
}
