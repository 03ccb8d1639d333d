//! Unusual transactions: the alerts not yet acknowledged (viewers read them; operators and admins
//! acknowledge them, audited), the latest acknowledged ones, and the rules' thresholds and
//! windows (admin).

use super::super::{
    auth::Staff,
    i18n::Lang,
    layout::{csrf_field, scroll_region, Notice},
};
use super::{audit, check_form, forbidden, internal_error, respond};
use crate::app::alerts::{self, RuleSetting, MAX_WINDOW_SECS};
use crate::domain::AuditAction;
use crate::{db::AlertRecord, domain::Role, state::AppState};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/alerts";
const RULES_PATH: &str = "/console/alerts/rules";
/// Alerts listed per state.
const LISTED: i64 = 100;
const ACKNOWLEDGED_LISTED: i64 = 20;

/// A window in words: `15 min`, `24 h`.
fn window(lang: Lang, secs: i64) -> String {
    if secs % 3600 == 0 {
        lang.tf("alerts.hours", &[("count", &(secs / 3600).to_string())])
    } else {
        lang.tf("alerts.minutes", &[("count", &(secs / 60).to_string())])
    }
}

/// What an alert says, in the member's language.
pub fn describe(lang: Lang, alert: &AlertRecord) -> String {
    let amount = match (alert.amount_minor, &alert.currency) {
        (Some(minor), Some(currency)) => lang.money(i128::from(minor), currency),
        _ => String::new(),
    };
    let usual =
        alert.currency.as_deref().map(|c| lang.money(i128::from(alert.observed), c)).unwrap_or_default();
    lang.tf(
        &format!("alerts.what.{}", alert.rule),
        &[
            ("subject", &alert.subject),
            ("observed", &alert.observed.to_string()),
            ("threshold", &alert.threshold.to_string()),
            ("window", &window(lang, alert.window_secs)),
            ("amount", &amount),
            ("usual", &usual),
        ],
    )
}

async fn body(state: &AppState, staff: &Staff) -> Result<Markup, Response> {
    let lang = staff.lang;
    let open = state.db.unacknowledged_alerts(LISTED).await.map_err(|e| internal_error(lang, e))?;
    let seen =
        state.db.acknowledged_alerts(ACKNOWLEDGED_LISTED).await.map_err(|e| internal_error(lang, e))?;
    let t = |key: &str| lang.t(key);
    let may_acknowledge = staff.may(Role::Operator);
    Ok(html! {
        p { (t("alerts.intro")) }
        @if staff.may(Role::Admin) {
            p { a href=(RULES_PATH) { (t("alerts.rules.link")) } }
        }
        section.card aria-labelledby="open" {
            h2 #open { (t("alerts.open")) }
            @if open.is_empty() {
                p data-testid="no-alerts" { (t("alerts.none")) }
            } @else {
                (scroll_region(&t("alerts.open"), html! {
                    table.table data-testid="alerts" {
                        thead { tr {
                            th scope="col" { (t("alerts.col.opened")) }
                            th scope="col" { (t("alerts.col.rule")) }
                            th scope="col" { (t("alerts.col.what")) }
                            th scope="col" { (t("alerts.col.state")) }
                            @if may_acknowledge { th scope="col" { span.visually-hidden { (t("alerts.acknowledge")) } } }
                        } }
                        tbody {
                            @for alert in &open {
                                tr data-testid="alert" data-rule=(alert.rule) {
                                    td { (lang.datetime(alert.opened_at)) }
                                    td { (t(&format!("alerts.rule.{}", alert.rule))) }
                                    td { (describe(lang, alert)) }
                                    td {
                                        @if alert.ended_at.is_some() { (t("alerts.state.ended")) }
                                        @else { span.alert-holding { (t("alerts.state.holding")) } }
                                    }
                                    @if may_acknowledge {
                                        td {
                                            form.form--inline method="post" action="/console/alerts/acknowledge" {
                                                (csrf_field(staff))
                                                input type="hidden" name="id" value=(alert.id);
                                                button.button.button--quiet type="submit" {
                                                    (t("alerts.acknowledge"))
                                                    span.visually-hidden { ": " (t(&format!("alerts.rule.{}", alert.rule))) ", " (lang.datetime(alert.opened_at)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
        }
        section.card aria-labelledby="seen" {
            h2 #seen { (t("alerts.acknowledged")) }
            @if seen.is_empty() {
                p { (t("alerts.none_acknowledged")) }
            } @else {
                (scroll_region(&t("alerts.acknowledged"), html! {
                    table.table data-testid="acknowledged" {
                        thead { tr {
                            th scope="col" { (t("alerts.col.opened")) }
                            th scope="col" { (t("alerts.col.rule")) }
                            th scope="col" { (t("alerts.col.what")) }
                            th scope="col" { (t("alerts.col.acknowledged")) }
                        } }
                        tbody {
                            @for alert in &seen {
                                tr {
                                    td { (lang.datetime(alert.opened_at)) }
                                    td { (t(&format!("alerts.rule.{}", alert.rule))) }
                                    td { (describe(lang, alert)) }
                                    td { (lang.tf("alerts.acknowledged_by", &[
                                        ("name", alert.acknowledged_by.as_deref().unwrap_or("")),
                                        ("at", &alert.acknowledged_at.map(|at| lang.datetime(at)).unwrap_or_default()),
                                    ])) }
                                }
                            }
                        }
                    }
                }))
            }
        }
    })
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    match body(&state, &staff).await {
        Ok(body) => respond(&state, &staff, PATH, &staff.lang.t("alerts.title"), None, body),
        Err(answer) => answer,
    }
}

#[derive(Debug, Deserialize)]
pub struct AcknowledgeForm {
    csrf: String,
    id: String,
}

pub async fn acknowledge(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<AcknowledgeForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Operator) {
        return answer;
    }
    let lang = staff.lang;
    let alert = match state.db.alert(&form.id).await {
        Ok(Some(alert)) => alert,
        Ok(None) => {
            return super::problem(
                &state,
                Some(&staff),
                lang,
                axum::http::StatusCode::NOT_FOUND,
                "error.not_found",
            )
        }
        Err(error) => return internal_error(lang, error),
    };
    let notice = match state.db.acknowledge_alert(&alert.id, &staff.record.name, state.now()).await {
        Ok(true) => {
            if let Err(answer) = audit(
                &state,
                &staff,
                AuditAction::AlertAcknowledge,
                &alert.id,
                serde_json::json!({ "rule": alert.rule, "subject": alert.subject }),
            )
            .await
            {
                return answer;
            }
            Notice::Done(lang.t("alerts.acknowledged_done"))
        }
        Ok(false) => Notice::Done(lang.t("alerts.already_acknowledged")),
        Err(error) => return internal_error(lang, error),
    };
    match body(&state, &staff).await {
        Ok(body) => respond(&state, &staff, PATH, &lang.t("alerts.title"), Some(notice), body),
        Err(answer) => answer,
    }
}

/// What an admin typed for a rule, shown again when it was refused.
struct Typed<'a> {
    rule: &'a str,
    threshold: &'a str,
    window: &'a str,
}

fn rules_body(staff: &Staff, settings: &[RuleSetting], typed: Option<&Typed>) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    html! {
        p { (t("alerts.rules.intro")) }
        p { a href=(PATH) { (t("alerts.rules.back")) } }
        @for setting in settings {
            @let name = setting.spec.name;
            @let again = typed.filter(|typed| typed.rule == name);
            @let threshold = again.map(|typed| typed.threshold.to_owned()).unwrap_or_else(|| setting.threshold.to_string());
            @let minutes = again.map(|typed| typed.window.to_owned()).unwrap_or_else(|| (setting.window_secs / 60).to_string());
            section.card aria-labelledby=(format!("rule-{name}")) data-testid="rule" data-rule=(name) {
                h2 #(format!("rule-{name}")) { (t(&format!("alerts.rule.{name}"))) }
                p.hint #(format!("help-{name}")) { (t(&format!("alerts.help.{name}"))) }
                form.form method="post" action=(RULES_PATH) {
                    (csrf_field(staff))
                    input type="hidden" name="rule" value=(name);
                    label for=(format!("threshold-{name}")) { (t(&format!("alerts.threshold.{name}"))) }
                    input #(format!("threshold-{name}")) type="number" name="threshold" inputmode="numeric"
                        min=(setting.spec.min_threshold) max=(setting.spec.max_threshold) required value=(threshold)
                        aria-describedby=(format!("help-{name}")) aria-invalid=[again.map(|_| "true")];
                    label for=(format!("window-{name}")) { (t("alerts.window_minutes")) }
                    input #(format!("window-{name}")) type="number" name="window_minutes" inputmode="numeric"
                        min="1" max=(MAX_WINDOW_SECS / 60) required value=(minutes) aria-invalid=[again.map(|_| "true")];
                    button.button type="submit" {
                        (t("common.save")) span.visually-hidden { ": " (t(&format!("alerts.rule.{name}"))) }
                    }
                }
            }
        }
    }
}

pub async fn show_rules(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    rules_page(&state, &staff, None, None).await
}

async fn rules_page(
    state: &AppState,
    staff: &Staff,
    notice: Option<Notice>,
    typed: Option<&Typed<'_>>,
) -> Response {
    let lang = staff.lang;
    match alerts::settings(&state.db).await {
        Ok(settings) => respond(
            state,
            staff,
            RULES_PATH,
            &lang.t("alerts.rules.title"),
            notice,
            rules_body(staff, &settings, typed),
        ),
        Err(error) => internal_error(lang, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct RuleForm {
    csrf: String,
    rule: String,
    threshold: String,
    window_minutes: String,
}

pub async fn set_rule(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<RuleForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let Some(spec) = alerts::spec(&form.rule) else { return super::bad_form(&state, &staff) };
    let threshold = form
        .threshold
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| (spec.min_threshold..=spec.max_threshold).contains(n));
    let minutes =
        form.window_minutes.trim().parse::<i64>().ok().filter(|n| (1..=MAX_WINDOW_SECS / 60).contains(n));
    let (Some(threshold), Some(minutes)) = (threshold, minutes) else {
        let typed = Typed { rule: spec.name, threshold: &form.threshold, window: &form.window_minutes };
        let problem = lang.tf(
            "alerts.rules.invalid",
            &[
                ("rule", &lang.t(&format!("alerts.rule.{}", spec.name))),
                ("min", &spec.min_threshold.to_string()),
                ("max", &spec.max_threshold.to_string()),
                ("days", &(MAX_WINDOW_SECS / 86_400).to_string()),
            ],
        );
        return rules_page(&state, &staff, Some(Notice::Problem(problem)), Some(&typed)).await;
    };
    let before = match alerts::settings(&state.db).await {
        Ok(settings) => settings.into_iter().find(|s| s.spec.name == spec.name),
        Err(error) => return internal_error(lang, error),
    };
    let now = state.now();
    if let Err(error) = state.db.set_alert_rule(spec.name, threshold, minutes * 60, now).await {
        return internal_error(lang, error);
    }
    if let Err(answer) = audit(
        &state,
        &staff,
        AuditAction::AlertRuleUpdate,
        spec.name,
        serde_json::json!({
            "threshold": threshold,
            "window_secs": minutes * 60,
            "before": before.map(|b| serde_json::json!({ "threshold": b.threshold, "window_secs": b.window_secs })),
        }),
    )
    .await
    {
        return answer;
    }
    // The new threshold applies at once.
    if let Err(error) = alerts::evaluate_named(&state.db, spec.name, now).await {
        tracing::error!(%error, "alert rule could not be evaluated");
    }
    let notice = lang.tf("alerts.rules.saved", &[("rule", &lang.t(&format!("alerts.rule.{}", spec.name)))]);
    rules_page(&state, &staff, Some(Notice::Done(notice)), None).await
}
