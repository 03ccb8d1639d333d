//! Setup step 3: each provider's credentials, entered in the browser (typed, pasted, or a key
//! file read into the form), or pointed at in the configuration file. Stored sealed
//! (`app::wallet_setup`) and never shown again: the page shows a fingerprint and who set the
//! value when. Saving again replaces a value; removing is one button; every change is audited
//! (names and fingerprints, never a value), and the providers are built again at once.

use super::{provider_name, step_page};
use crate::domain::AuditAction;
use crate::{
    app::wallet_setup::{self as credentials, fields, Field, Kind, Standing},
    console::{
        auth::Staff,
        i18n::Lang,
        layout::{csrf_field, Notice},
        pages::{audit, bad_form, check_form, forbidden, internal_error},
    },
    db::StoredCredential,
    domain::Role,
    state::AppState,
};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use std::collections::HashMap;

const STEP: &str = "keys";

/// The longest value the form takes (a PEM key of 4096 bits is about 3,300 characters).
const MAX_VALUE_CHARS: usize = 16_384;

/// Whether a value fits its field; `Err`: the locale key of why not.
pub fn check_value(field: &Field, value: &str) -> Result<(), &'static str> {
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err("setup.keys.too_long");
    }
    match field.kind {
        Kind::Environment if !matches!(value, "live" | "sandbox") => Err("setup.keys.bad_environment"),
        Kind::Url => match url::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
            _ => Err("setup.keys.bad_url"),
        },
        Kind::Id | Kind::Secret if value.chars().any(char::is_control) || value.chars().count() > 1000 => {
            Err("setup.keys.bad_secret")
        }
        Kind::Pem => {
            let base64 = |text: &str| {
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'\n' | b'\r'))
            };
            if value.contains("-----BEGIN ") && value.contains("-----END ") || base64(value) {
                Ok(())
            } else {
                Err("setup.keys.bad_pem")
            }
        }
        _ => Ok(()),
    }
}

fn label(lang: Lang, field: &Field) -> String {
    lang.t(&format!("setup.field.{}", field.name))
}

fn standing_line(lang: Lang, provider: &str, standing: &Standing) -> Markup {
    html! {
        @match standing {
            Standing::Absent => p.standing data-testid=(format!("standing-{provider}")) { (lang.t("setup.keys.absent")) },
            Standing::Active { live: true } => p.standing.standing--ok data-testid=(format!("standing-{provider}")) { (lang.t("setup.keys.active_live")) },
            Standing::Active { live: false } => p.standing.standing--ok data-testid=(format!("standing-{provider}")) { (lang.t("setup.keys.active_test")) },
            Standing::Unusable(why) => p.standing.standing--problem data-testid=(format!("standing-{provider}")) {
                (lang.t("setup.keys.unusable")) " " code { (why) }
            },
        }
    }
}

fn field_row(
    staff: &Staff,
    provider: &str,
    field: &Field,
    stored: Option<&StoredCredential>,
    shown: Option<&str>,
) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let id = format!("{provider}-{}", field.name);
    let state_id = format!("{id}-state");
    html! {
        div.field.key {
            label for=(id) { (label(lang, field)) }
            p.hint id=(state_id) data-testid=(format!("state-{id}")) {
                @match (stored, shown) {
                    (Some(_), Some(value)) if field.kind == Kind::Environment => {
                        (t("setup.keys.value")) " " (t(&format!("setup.keys.environment.{value}")))
                    }
                    (Some(_), Some(value)) => { (t("setup.keys.value")) " " code { (value) } }
                    (Some(credential), None) => {
                        (lang.tf("setup.keys.set", &[
                            ("fingerprint", &credential.fingerprint),
                            ("date", &lang.datetime(credential.set_at)),
                            ("name", &credential.set_by),
                        ]))
                    }
                    (None, _) => (t("setup.keys.not_set")),
                }
            }
            @match field.kind {
                Kind::Environment => {
                    select id=(id) name=(field.name) aria-describedby=(state_id) {
                        option value="" { (t("setup.keys.unchanged")) }
                        option value="sandbox" { (t("setup.keys.environment.sandbox")) }
                        option value="live" { (t("setup.keys.environment.live")) }
                    }
                }
                Kind::Url => {
                    input id=(id) type="url" name=(field.name) inputmode="url" autocomplete="off" spellcheck="false" aria-describedby=(state_id);
                }
                Kind::Id => {
                    input id=(id) type="text" name=(field.name) autocomplete="off" spellcheck="false" aria-describedby=(state_id);
                }
                Kind::Secret => {
                    input id=(id) type="password" name=(field.name) autocomplete="off" spellcheck="false" aria-describedby=(state_id);
                }
                Kind::Pem => {
                    textarea id=(id) name=(field.name) rows="4" autocomplete="off" spellcheck="false" aria-describedby=(state_id) {}
                    label.file for=(format!("{id}-file")) {
                        (t("setup.keys.file")) " "
                        input id=(format!("{id}-file")) type="file" accept=".pem,.key,.crt,.txt" data-fill=(id);
                    }
                }
            }
            @if stored.is_some() {
                button.link type="submit" formaction="/console/setup/keys/remove" name="remove" value=(field.name)
                    data-testid=(format!("remove-{id}")) {
                    (lang.tf("setup.keys.remove", &[("field", &label(lang, field))]))
                }
            }
        }
    }
}

async fn body(state: &AppState, staff: &Staff) -> Result<Markup, Response> {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let fail = |error: anyhow::Error| internal_error(lang, error);
    let (stored, opened) = credentials::opened(&state.db, &state.vault).await.map_err(fail)?;
    let (_, standings) =
        credentials::build(&state.config, &state.db, &state.vault, None, &state.app.clock, false)
            .await
            .map_err(fail)?;
    Ok(html! {
        p { (t("setup.keys.intro")) }
        p.hint { (t("setup.keys.precedence")) }
        @for provider in credentials::providers() {
            @let standing = standings.iter().find(|(name, _)| *name == provider).map(|(_, s)| s.clone()).unwrap_or(Standing::Absent);
            section.card aria-labelledby=(format!("{provider}-keys")) data-testid=(format!("keys-{provider}")) {
                h2 id=(format!("{provider}-keys")) { (provider_name(lang, provider)) }
                (standing_line(lang, provider, &standing))
                form.form.keys method="post" action="/console/setup/keys" {
                    (csrf_field(staff))
                    input type="hidden" name="provider" value=(provider);
                    @for field in fields(provider) {
                        @let credential = stored.iter().find(|c| c.provider == provider && c.field == field.name);
                        @let shown = field.shown().then(|| opened.iter().find(|o| o.provider == provider && o.field == field.name).map(|o| o.value.as_str())).flatten();
                        (field_row(staff, provider, field, credential, shown))
                    }
                    button.button type="submit" { (lang.tf("setup.keys.save", &[("provider", &provider_name(lang, provider))])) }
                }
                details.config {
                    summary { (t("setup.keys.or_file")) }
                    p.hint { (lang.tf("setup.keys.or_file_intro", &[("table", &format!("[providers.{provider}]"))])) }
                    (crate::console::layout::scroll_region(&lang.tf("setup.keys.or_file_table", &[("provider", &provider_name(lang, provider))]), html! {
                        table.table {
                            thead { tr {
                                th scope="col" { (t("setup.keys.setting")) }
                                th scope="col" { (t("setup.keys.toml")) }
                                th scope="col" { (t("setup.keys.env")) }
                            } }
                            tbody {
                                @for field in fields(provider) {
                                    tr {
                                        td { (label(lang, field)) }
                                        td {
                                            code { (field.name) }
                                            @if let Some(file) = field.file_alternative {
                                                " " (t("setup.keys.or")) " " code { (file) }
                                            }
                                        }
                                        td { code { (credentials::env_var(provider, field.name)) } }
                                    }
                                }
                            }
                        }
                    }))
                }
            }
        }
    })
}

async fn again(state: &AppState, staff: &Staff, notice: Option<Notice>) -> Response {
    match body(state, staff).await {
        Ok(body) => step_page(state, staff, STEP, notice, body).await,
        Err(answer) => answer,
    }
}

/// `GET /console/setup/keys`.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    again(&state, &staff, None).await
}

/// After a change: the providers built again, and what the page says about the provider.
async fn rebuilt(state: &AppState, staff: &Staff, provider: &str, done: String) -> Response {
    let lang = staff.lang;
    let standings = match reload(state).await {
        Ok(standings) => standings,
        Err(error) => return internal_error(lang, error),
    };
    let standing = standings.into_iter().find(|(name, _)| *name == provider).map(|(_, s)| s);
    let notice = match standing {
        Some(Standing::Active { .. }) => Notice::Done(format!(
            "{done} {}",
            lang.tf("setup.keys.in_use", &[("provider", &provider_name(lang, provider))])
        )),
        Some(Standing::Unusable(_)) => Notice::Problem(format!(
            "{done} {}",
            lang.tf("setup.keys.not_in_use", &[("provider", &provider_name(lang, provider))])
        )),
        _ => Notice::Done(done),
    };
    again(state, staff, Some(notice)).await
}

/// `POST /console/setup/keys`: stores every field given for one provider (blank ones stay as
/// they are). Fields that do not fit are named and not stored; the others are.
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
    if let Err(answer) = check_form(&state, &staff, &headers, csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let provider = form.get("provider").map(String::as_str).unwrap_or_default();
    if !credentials::providers().any(|name| name == provider) {
        return bad_form(&state, &staff);
    }
    let mut saved = Vec::new();
    let mut wrong = Vec::new();
    let now = state.now();
    for field in fields(provider) {
        let Some(value) = form.get(field.name).map(|value| value.trim()).filter(|value| !value.is_empty())
        else {
            continue;
        };
        if let Err(why) = check_value(field, value) {
            wrong.push(format!("{}: {}", label(lang, field), lang.t(why)));
            continue;
        }
        let credential = StoredCredential {
            provider: provider.to_owned(),
            field: field.name.to_owned(),
            ciphertext: state.vault.seal(&credentials::purpose(provider, field.name), value.as_bytes()),
            fingerprint: credentials::fingerprint(value),
            set_at: now,
            set_by: staff.record.name.clone(),
        };
        if let Err(error) = state.db.set_provider_credential(&credential).await {
            return internal_error(lang, error);
        }
        saved.push((field, credential.fingerprint));
    }
    if !saved.is_empty() {
        let detail = serde_json::json!({
            "fields": saved.iter().map(|(field, fingerprint)| serde_json::json!({ "field": field.name, "fingerprint": fingerprint })).collect::<Vec<_>>(),
        });
        if let Err(answer) = audit(&state, &staff, AuditAction::SetupCredentialsSet, provider, detail).await {
            return answer;
        }
    }
    if !wrong.is_empty() {
        let mut text = lang.tf("setup.keys.invalid", &[("fields", &wrong.join("; "))]);
        if !saved.is_empty() {
            text = format!(
                "{text} {}",
                lang.tf("setup.keys.saved_others", &[("count", &saved.len().to_string())])
            );
            // The providers use what was stored.
            if let Err(error) = reload(&state).await {
                return internal_error(lang, error);
            }
        }
        return again(&state, &staff, Some(Notice::Problem(text))).await;
    }
    if saved.is_empty() {
        return again(&state, &staff, Some(Notice::Problem(lang.t("setup.keys.nothing")))).await;
    }
    let names: Vec<String> = saved.iter().map(|(field, _)| label(lang, field)).collect();
    let done = lang.tf("setup.keys.saved", &[("fields", &names.join(", "))]);
    rebuilt(&state, &staff, provider, done).await
}

/// `POST /console/setup/keys/remove`: removes one stored value of a provider.
pub async fn remove(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let csrf = form.get("csrf").map(String::as_str).unwrap_or_default();
    if let Err(answer) = check_form(&state, &staff, &headers, csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let provider = form.get("provider").map(String::as_str).unwrap_or_default();
    let Some(field) = form.get("remove").and_then(|name| credentials::find(provider, name)) else {
        return bad_form(&state, &staff);
    };
    match state.db.remove_provider_credential(provider, field.name).await {
        Ok(true) => {}
        Ok(false) => {
            return again(&state, &staff, Some(Notice::Problem(lang.t("setup.keys.already_removed")))).await
        }
        Err(error) => return internal_error(lang, error),
    }
    if let Err(answer) = audit(
        &state,
        &staff,
        AuditAction::SetupCredentialsRemove,
        provider,
        serde_json::json!({ "field": field.name }),
    )
    .await
    {
        return answer;
    }
    let done = lang.tf("setup.keys.removed", &[("field", &label(lang, &field))]);
    rebuilt(&state, &staff, provider, done).await
}

/// Builds the wallets again from what is stored and puts them in place of the running ones.
async fn reload(state: &AppState) -> anyhow::Result<Vec<(&'static str, credentials::Standing)>> {
    let sandbox = state.sandbox.clone();
    credentials::reload(&state.config, &state.db, &state.vault, sandbox, &state.app.clock, &state.providers)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked_for_their_kind() {
        let environment = credentials::find("paypal", "environment").unwrap();
        let url = credentials::find("paypal", "base_url").unwrap();
        let secret = credentials::find("paypal", "client_secret").unwrap();
        let pem = credentials::find("alipay", "app_private_key_pem").unwrap();
        assert!(check_value(&environment, "sandbox").is_ok());
        assert!(check_value(&environment, "prod").is_err());
        assert!(check_value(&url, "http://127.0.0.1:9000").is_ok());
        assert!(check_value(&url, "javascript:alert(1)").is_err());
        assert!(check_value(&secret, "abc\u{0}").is_err());
        assert!(check_value(&pem, "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----").is_ok());
        assert!(check_value(&pem, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC").is_ok());
        assert!(check_value(&pem, "not a key!").is_err());
    }
}
