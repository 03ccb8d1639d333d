//! Setup step 2: what to prepare and where to go to register a merchant account at each
//! provider, as a checklist (the facts are those of `docs/providers/*.md`).

use super::{provider_name, providers, step_page};
use crate::{
    console::{auth::Staff, pages::forbidden},
    domain::Role,
    state::AppState,
};
use axum::{extract::State, response::Response};
use maud::html;

const STEP: &str = "register";

/// How many checklist items each provider has (`setup.register.<provider>.<n>`, from 1), and
/// the official places to go (the registry's; the sandbox has two items and nowhere to go).
fn checklist(provider: &str) -> (usize, &'static [&'static str]) {
    match crate::providers::find_wallet(provider) {
        Some(wallet) => (wallet.register_items, wallet.register_links),
        None => (2, &[]),
    }
}

/// `GET /console/setup/register`.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let body = html! {
        p { (t("setup.register.intro")) }
        div.setup-grid {
            @for provider in providers() {
                @let (items, links) = checklist(provider);
                section.card aria-labelledby=(format!("{provider}-register")) data-testid=(format!("register-{provider}")) {
                    h2 id=(format!("{provider}-register")) { (provider_name(lang, provider)) }
                    ol.checklist {
                        @for item in 1..=items {
                            li { (t(&format!("setup.register.{provider}.{item}"))) }
                        }
                    }
                    @if !links.is_empty() {
                        h3 { (t("setup.register.where")) }
                        ul.links {
                            @for link in links {
                                li { a href=(link) rel="noopener noreferrer" { (link) } }
                            }
                        }
                    }
                }
            }
        }
    };
    step_page(&state, &staff, STEP, None, body).await
}
