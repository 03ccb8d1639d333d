//! Setup step 6, going live (`/console/setup/golive`, admin): a checklist computed from facts,
//! never ticked by hand, then the switch. The switch is a console setting (`server.mode`) that
//! the server reads when it starts (`apply_mode`), and it wins over the configuration file's
//! `sandbox`: live mode turns the sandbox and the demo store off, test mode turns the sandbox on.
//! It takes effect at the next start, which the page says.

use super::super::{
    auth::Staff,
    i18n::Lang,
    layout::{csrf_field, Notice},
};
use super::{audit, backups::FRESH_MS, check_form, internal_error, setup::step_page};
use crate::app::wallet_setup as credentials;
use crate::domain::AuditAction;
use crate::{
    config::Config,
    db::{backup_age, Backend, Db},
    domain::Role,
    providers::BuildContext,
    state::AppState,
};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use serde::Deserialize;
use std::time::Duration;

/// The console setting that holds the mode chosen with the switch: `live` or `test`.
pub const MODE_SETTING: &str = "server.mode";

/// How long one provider's check may take before it counts as failed.
const PROVIDER_CHECK_TIMEOUT: Duration = Duration::from_secs(15);

/// Applies the mode chosen in the console to the configuration, before anything reads it: the
/// server and the command line both call this once the database is open.
pub async fn apply_mode(store: &Db, config: &mut Config) -> anyhow::Result<()> {
    match store.console_setting(MODE_SETTING).await?.as_deref() {
        Some("live") => {
            if config.sandbox {
                tracing::info!("live mode, switched on in the console (it wins over `sandbox`)");
            }
            config.sandbox = false;
            config.demo_store = false;
        }
        Some("test") => {
            if !config.sandbox {
                tracing::info!("test mode, chosen in the console (it wins over `sandbox`)");
            }
            config.sandbox = true;
        }
        _ => {}
    }
    Ok(())
}

/// One line of the checklist.
#[derive(Debug)]
struct Item {
    /// The locale key of what is checked (`golive.item.<name>`).
    name: &'static str,
    /// `None`: the server cannot see this fact; shown, but it does not hold the switch back.
    passed: Option<bool>,
    /// What was found, in words.
    found: String,
}

impl Item {
    fn new(name: &'static str, passed: bool, found: String) -> Self {
        Self { name, passed: Some(passed), found }
    }
}

/// The checklist, computed now.
async fn checklist(state: &AppState, lang: Lang) -> anyhow::Result<Vec<Item>> {
    let t = |key: &str| lang.t(key);
    let config = &state.config;
    let mut items = Vec::new();

    items.push(match &config.public_url {
        Some(url) if url.scheme() == "https" => Item::new("https", true, url.to_string()),
        Some(url) => Item::new("https", false, lang.tf("golive.found.not_https", &[("url", url.as_str())])),
        None => Item::new("https", false, t("golive.found.no_public_url")),
    });

    let providers = provider_checks(state, lang).await?;
    let providers_pass = !providers.is_empty() && providers.iter().all(|(_, problem)| problem.is_none());
    let found = if providers.is_empty() {
        t("golive.found.no_providers")
    } else {
        providers
            .iter()
            .map(|(name, problem)| match problem {
                None => lang.tf("golive.found.provider_ok", &[("provider", name)]),
                Some(problem) => {
                    lang.tf("golive.found.provider_failed", &[("provider", name), ("why", problem)])
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    items.push(Item::new("providers", providers_pass, found));

    let endpoint = state.db.webhook_endpoint().await?.filter(|endpoint| endpoint.enabled != 0);
    let last = state.db.last_attempted_event().await?;
    items.push(match (endpoint, last) {
        (None, _) => Item::new("webhook", false, t("golive.found.no_endpoint")),
        (Some(_), None) => Item::new("webhook", false, t("golive.found.no_delivery")),
        (Some(_), Some(event)) if event.delivered_at.is_some() => {
            Item::new("webhook", true, lang.tf("golive.found.delivered", &[("event", &event.kind)]))
        }
        (Some(_), Some(event)) => {
            Item::new("webhook", false, lang.tf("golive.found.not_delivered", &[("event", &event.kind)]))
        }
    });

    items.push(if state.db.backend() == Backend::Postgres {
        Item { name: "backup", passed: None, found: t("golive.found.backup_postgres") }
    } else {
        let last = state.db.last_backup().await?;
        match backup_age(last.as_ref(), state.now()) {
            Some(age) if age <= FRESH_MS => Item::new(
                "backup",
                true,
                lang.tf("golive.found.backup", &[("age", &super::backups::age(lang, age))]),
            ),
            Some(age) => Item::new(
                "backup",
                false,
                lang.tf("golive.found.backup_old", &[("age", &super::backups::age(lang, age))]),
            ),
            None => Item::new("backup", false, t("golive.found.no_backup")),
        }
    });

    let demo_keys = state
        .db
        .api_keys()
        .await?
        .into_iter()
        .filter(|key| key.name == crate::app::api_keys::DEMO_KEY_NAME && key.revoked_at.is_none())
        .count();
    items.push(match (config.demo_store, demo_keys) {
        (true, _) => Item::new("demo", false, t("golive.found.demo_store_on")),
        (false, 0) => Item::new("demo", true, t("golive.found.no_demo_keys")),
        (false, n) => Item::new("demo", false, lang.tf("golive.found.demo_keys", &[("n", &n.to_string())])),
    });

    items.push(if config.sandbox_beside_live {
        Item::new("sandbox", false, t("golive.found.sandbox_beside_live"))
    } else if config.livemode() {
        Item::new("sandbox", true, t("golive.found.sandbox_off"))
    } else {
        Item::new("sandbox", true, t("golive.found.sandbox_goes"))
    });
    Ok(items)
}

/// Each configured wallet provider (the file's settings with the keys entered in the console),
/// as `providers check` sees it, and whether it is ready for live payments: built, in live mode,
/// and one authenticated call answered. `None` is ready; `Some` says why not.
async fn provider_checks(
    state: &AppState,
    lang: Lang,
) -> anyhow::Result<Vec<(&'static str, Option<String>)>> {
    let (_, opened) = credentials::opened(&state.db, &state.vault).await?;
    let (merged, incomplete) = credentials::merge(&state.config.providers, &opened);
    let context =
        BuildContext { public_url: state.config.public_url.clone(), clock: state.app.clock.clone() };
    let mut checks: Vec<(&'static str, Option<String>)> =
        incomplete.into_iter().map(|(name, why)| (name, Some(why))).collect();
    for (name, built) in crate::providers::configured(&merged, &context) {
        let problem = match built {
            Err(error) => Some(format!("{error:#}")),
            Ok(provider) if !provider.livemode() => Some(lang.t("golive.found.provider_test_mode")),
            Ok(provider) => match tokio::time::timeout(PROVIDER_CHECK_TIMEOUT, provider.self_check()).await {
                Ok(Ok(())) => None,
                Ok(Err(error)) => Some(error.to_string()),
                Err(_) => Some("no answer in 15 s".to_owned()),
            },
        };
        checks.push((name, problem.map(|problem| credentials::blot(problem, &opened))));
    }
    Ok(checks)
}

fn body(state: &AppState, staff: &Staff, items: &[Item], chosen: Option<&str>) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let ready = items.iter().all(|item| item.passed != Some(false));
    let live = state.config.livemode();
    html! {
        p { (t("golive.intro")) }
        section.card aria-labelledby="checklist" {
            h2 #checklist { (t("golive.checklist")) }
            ul.checklist data-testid="golive-checklist" {
                @for item in items {
                    @let (class, state_key) = match item.passed {
                        Some(true) => ("checklist__item checklist__item--pass", "golive.pass"),
                        Some(false) => ("checklist__item checklist__item--fail", "golive.fail"),
                        None => ("checklist__item", "golive.unseen"),
                    };
                    li class=(class) data-testid=(format!("golive-{}", item.name)) data-passed=(match item.passed { Some(true) => "yes", Some(false) => "no", None => "unseen" }) {
                        strong { (t(&format!("golive.item.{}", item.name))) }
                        " "
                        span.checklist__state { (t(state_key)) }
                        p.hint { (item.found) }
                    }
                }
            }
        }
        section.card aria-labelledby="switch" {
            h2 #switch { (t("golive.switch")) }
            p data-testid="golive-mode" {
                @if live { (t("golive.now_live")) } @else { (t("golive.now_test")) }
                @match chosen {
                    Some("live") if !live => { " " strong { (t("golive.pending_live")) } }
                    Some("test") if live => { " " strong { (t("golive.pending_test")) } }
                    _ => {}
                }
            }
            @if !live && chosen != Some("live") {
                form.form method="post" action=(PATH) data-confirm=(t("golive.confirm")) {
                    (csrf_field(staff))
                    input type="hidden" name="mode" value="live";
                    @if ready {
                        button.button type="submit" data-testid="golive-switch" { (t("golive.go_live")) }
                    } @else {
                        p.hint #not-ready { (t("golive.not_ready")) }
                        button.button type="submit" disabled aria-describedby="not-ready" data-testid="golive-switch" { (t("golive.go_live")) }
                    }
                }
            } @else if live && chosen != Some("test") {
                form.form method="post" action=(PATH) data-confirm=(t("golive.confirm_test")) {
                    (csrf_field(staff))
                    input type="hidden" name="mode" value="test";
                    button.button.button--quiet type="submit" data-testid="golive-back" { (t("golive.back_to_test")) }
                }
            }
        }
    }
}

const PATH: &str = "/console/setup/golive";

async fn page(state: &AppState, staff: &Staff, notice: Option<Notice>) -> Response {
    let items = match checklist(state, staff.lang).await {
        Ok(items) => items,
        Err(error) => return internal_error(staff.lang, error),
    };
    let chosen = match state.db.console_setting(MODE_SETTING).await {
        Ok(chosen) => chosen,
        Err(error) => return internal_error(staff.lang, error),
    };
    step_page(state, staff, "golive", notice, body(state, staff, &items, chosen.as_deref())).await
}

/// `GET /console/setup/golive`.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return super::forbidden(&state, &staff);
    }
    page(&state, &staff, None).await
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    csrf: String,
    #[serde(default)]
    mode: String,
}

/// `POST /console/setup/golive`: the switch. Live mode only when every fact on the checklist
/// holds, computed again here; back to test mode at any time.
pub async fn switch(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<SwitchForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let mode = match form.mode.as_str() {
        "live" => "live",
        "test" => "test",
        _ => return page(&state, &staff, Some(Notice::Problem(lang.t("golive.bad_mode")))).await,
    };
    let mut detail = serde_json::json!({ "mode": mode });
    if mode == "live" {
        let items = match checklist(&state, lang).await {
            Ok(items) => items,
            Err(error) => return internal_error(lang, error),
        };
        let failing: Vec<&str> =
            items.iter().filter(|item| item.passed == Some(false)).map(|item| item.name).collect();
        if !failing.is_empty() {
            return page(&state, &staff, Some(Notice::Problem(lang.t("golive.refused")))).await;
        }
        let checklist: serde_json::Map<String, serde_json::Value> =
            items.iter().map(|item| (item.name.to_owned(), serde_json::json!(item.passed))).collect();
        detail["checklist"] = checklist.into();
    }
    if let Err(error) = state.db.set_console_setting(MODE_SETTING, mode, state.now()).await {
        return internal_error(lang, error);
    }
    if let Err(answer) = audit(&state, &staff, AuditAction::GoLiveSwitch, MODE_SETTING, detail).await {
        return answer;
    }
    let done = if mode == "live" { "golive.switched_live" } else { "golive.switched_test" };
    page(&state, &staff, Some(Notice::Done(lang.t(done)))).await
}
