//! Setup step 6, going live (`/console/setup/golive`, admin): a checklist computed from facts,
//! never ticked by hand, then the switch. The facts are gathered by `app::golive` and the
//! verdicts (each item, and whether the switch may turn live mode on) decided by
//! `domain::golive`; this page only words and draws them, and the switch asks the same verdicts.
//! The switch is a console setting (`server.mode`) that the server reads when it starts
//! (`apply_mode`), and it wins over the configuration file's `sandbox`: live mode turns the
//! sandbox and the demo store off, test mode turns the sandbox on. It takes effect at the next
//! start, which the page says.

use super::super::{
    auth::Staff,
    i18n::Lang,
    layout::{csrf_field, Notice},
};
use super::{audit, check_form, internal_error, setup::step_page};
use crate::domain::golive::{
    BackupVerdict, DemoVerdict, GoLiveVerdicts, HttpsVerdict, Item, Outcome, ProviderProblem,
    ProvidersVerdict, SandboxVerdict, WebhookVerdict,
};
use crate::domain::AuditAction;
use crate::{config::Config, db::Db, domain::Role, state::AppState};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use serde::Deserialize;

/// The console setting that holds the mode chosen with the switch: `live` or `test`.
pub const MODE_SETTING: &str = "server.mode";

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

/// The checklist's verdicts, gathered and decided now (`app::golive`, `domain::golive`).
async fn checklist(state: &AppState) -> anyhow::Result<GoLiveVerdicts> {
    crate::app::golive::checklist(&state.db, &state.vault, &state.config, &state.app.clock).await
}

/// What was found for `item`, in words.
fn found(lang: Lang, verdicts: &GoLiveVerdicts, item: Item) -> String {
    let t = |key: &str| lang.t(key);
    match item {
        Item::Https => match &verdicts.https {
            HttpsVerdict::Https(url) => url.to_string(),
            HttpsVerdict::NotHttps(url) => lang.tf("golive.found.not_https", &[("url", url.as_str())]),
            HttpsVerdict::NoPublicUrl => t("golive.found.no_public_url"),
        },
        Item::Providers => match &verdicts.providers {
            ProvidersVerdict::NoneSetUp => t("golive.found.no_providers"),
            ProvidersVerdict::AllReady(names) => names
                .iter()
                .map(|name| lang.tf("golive.found.provider_ok", &[("provider", name)]))
                .collect::<Vec<_>>()
                .join("; "),
            ProvidersVerdict::NotReady(providers) => providers
                .iter()
                .map(|(name, problem)| match problem {
                    None => lang.tf("golive.found.provider_ok", &[("provider", name)]),
                    Some(problem) => lang.tf(
                        "golive.found.provider_failed",
                        &[("provider", name), ("why", &provider_problem(lang, problem))],
                    ),
                })
                .collect::<Vec<_>>()
                .join("; "),
        },
        Item::Webhook => match &verdicts.webhook {
            WebhookVerdict::NoEndpoint => t("golive.found.no_endpoint"),
            WebhookVerdict::NoDelivery => t("golive.found.no_delivery"),
            WebhookVerdict::Delivered(event) => lang.tf("golive.found.delivered", &[("event", event)]),
            WebhookVerdict::NotDelivered(event) => lang.tf("golive.found.not_delivered", &[("event", event)]),
        },
        Item::Backup => match verdicts.backup {
            BackupVerdict::Unseen => t("golive.found.backup_postgres"),
            BackupVerdict::Fresh { age_ms } => {
                lang.tf("golive.found.backup", &[("age", &super::backups::age(lang, age_ms))])
            }
            BackupVerdict::Old { age_ms } => {
                lang.tf("golive.found.backup_old", &[("age", &super::backups::age(lang, age_ms))])
            }
            BackupVerdict::NoneTaken => t("golive.found.no_backup"),
        },
        Item::Demo => match verdicts.demo {
            DemoVerdict::StoreOn => t("golive.found.demo_store_on"),
            DemoVerdict::Gone => t("golive.found.no_demo_keys"),
            DemoVerdict::KeysLeft(n) => lang.tf("golive.found.demo_keys", &[("n", &n.to_string())]),
        },
        Item::Sandbox => match verdicts.sandbox {
            SandboxVerdict::BesideLive => t("golive.found.sandbox_beside_live"),
            SandboxVerdict::Off => t("golive.found.sandbox_off"),
            SandboxVerdict::GoesWithSwitch => t("golive.found.sandbox_goes"),
        },
    }
}

/// Why a provider is not ready for live payments, in words (what it said itself, as it said it).
fn provider_problem(lang: Lang, problem: &ProviderProblem) -> String {
    match problem {
        ProviderProblem::Incomplete(why)
        | ProviderProblem::NotBuilt(why)
        | ProviderProblem::CheckFailed(why) => why.clone(),
        ProviderProblem::TestMode => lang.t("golive.found.provider_test_mode"),
        ProviderProblem::NoAnswer { after_secs } => format!("no answer in {after_secs} s"),
    }
}

fn body(state: &AppState, staff: &Staff, verdicts: &GoLiveVerdicts, chosen: Option<&str>) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let ready = verdicts.switch_allowed();
    let live = state.config.livemode();
    html! {
        p { (t("golive.intro")) }
        section.card aria-labelledby="checklist" {
            h2 #checklist { (t("golive.checklist")) }
            ul.checklist data-testid="golive-checklist" {
                @for (item, outcome) in verdicts.outcomes() {
                    @let (class, state_key, passed) = match outcome {
                        Outcome::Passed => ("checklist__item checklist__item--pass", "golive.pass", "yes"),
                        Outcome::Failed => ("checklist__item checklist__item--fail", "golive.fail", "no"),
                        Outcome::Unseen => ("checklist__item", "golive.unseen", "unseen"),
                    };
                    li class=(class) data-testid=(format!("golive-{}", item.as_str())) data-passed=(passed) {
                        strong { (t(&format!("golive.item.{}", item.as_str()))) }
                        " "
                        span.checklist__state { (t(state_key)) }
                        p.hint { (found(lang, verdicts, item)) }
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
    let verdicts = match checklist(state).await {
        Ok(verdicts) => verdicts,
        Err(error) => return internal_error(staff.lang, error),
    };
    let chosen = match state.db.console_setting(MODE_SETTING).await {
        Ok(chosen) => chosen,
        Err(error) => return internal_error(staff.lang, error),
    };
    step_page(state, staff, "golive", notice, body(state, staff, &verdicts, chosen.as_deref())).await
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
        let verdicts = match checklist(&state).await {
            Ok(verdicts) => verdicts,
            Err(error) => return internal_error(lang, error),
        };
        if !verdicts.switch_allowed() {
            return page(&state, &staff, Some(Notice::Problem(lang.t("golive.refused")))).await;
        }
        let checklist: serde_json::Map<String, serde_json::Value> = verdicts
            .outcomes()
            .into_iter()
            .map(|(item, outcome)| {
                let passed = match outcome {
                    Outcome::Passed => Some(true),
                    Outcome::Failed => Some(false),
                    Outcome::Unseen => None,
                };
                (item.as_str().to_owned(), serde_json::json!(passed))
            })
            .collect();
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
