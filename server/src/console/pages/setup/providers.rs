//! Setup step 1: which wallet providers suit the shop (where its shoppers are, on which devices,
//! in which currencies, what the merchant will need), and each provider's fee terms as the
//! merchant agreed them (`provider_terms`), for the fees and net in the reports.

use super::{provider_name, providers, step_page};
use crate::domain::AuditAction;
use crate::{
    console::{
        auth::Staff,
        i18n::Lang,
        layout::{csrf_field, Notice},
        pages::{audit, check_form, forbidden, internal_error},
    },
    db::ProviderTerms,
    domain::Role,
    state::AppState,
};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use serde::Deserialize;
use wallet_checkout_contract::Currency;

const STEP: &str = "providers";

/// The largest fee the form takes, in minor units (far beyond any real fee, far below overflow).
const MAX_FEE_MINOR: i64 = 1_000_000_000_000;

/// The fee terms as typed in the form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TermsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    provider: String,
    #[serde(default)]
    rate: String,
    #[serde(default)]
    fixed: String,
    #[serde(default)]
    monthly: String,
    #[serde(default)]
    withdrawal: String,
    #[serde(default)]
    currency: String,
}

/// A percentage from 0 to 100 with at most two decimals, in hundredths of a percent (exact: no
/// floating point). An empty field is 0.
pub fn parse_rate(text: &str) -> Option<i64> {
    let text = text.trim().trim_end_matches('%').trim();
    if text.is_empty() {
        return Some(0);
    }
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 3 || fraction.len() > 2 {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hundredths = whole.parse::<i64>().ok()? * 100 + format!("{fraction:0<2}").parse::<i64>().ok()?;
    (hundredths <= 10_000).then_some(hundredths)
}

/// An amount of money written in the currency's major units (`12.50`), in minor units, with no
/// more decimals than the currency has (ISO 4217, the contract's table). An empty field is 0.
pub fn parse_fee(text: &str, currency: Currency) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    let minor = i64::try_from(currency.parse_decimal(text)?).ok()?;
    (minor <= MAX_FEE_MINOR).then_some(minor)
}

/// Minor units written back in major units for the form (`1250` CNY is `12.50`).
fn major(minor: i64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(parsed) => parsed.decimal_string(minor.unsigned_abs() as u128),
        Err(_) => minor.to_string(),
    }
}

/// The rate in hundredths of a percent, written as a percentage (`60` is `0.6`).
fn percent(rate_bp: i64) -> String {
    let whole = rate_bp / 100;
    match rate_bp % 100 {
        0 => whole.to_string(),
        fraction if fraction % 10 == 0 => format!("{whole}.{}", fraction / 10),
        fraction => format!("{whole}.{fraction:02}"),
    }
}

/// The terms checked: the terms, or the names of the fields that are wrong.
fn check(form: &TermsForm, now: crate::domain::UnixMillis) -> Result<ProviderTerms, Vec<&'static str>> {
    let mut wrong = Vec::new();
    let currency = Currency::parse(form.currency.trim().to_ascii_uppercase().as_str());
    if currency.is_err() {
        wrong.push("currency");
    }
    let rate = parse_rate(&form.rate);
    if rate.is_none() {
        wrong.push("rate");
    }
    let fee = |name: &'static str, text: &str, wrong: &mut Vec<&'static str>| {
        let parsed = currency.as_ref().ok().and_then(|currency| parse_fee(text, *currency));
        if parsed.is_none() && currency.is_ok() {
            wrong.push(name);
        }
        parsed.unwrap_or(0)
    };
    let fixed = fee("fixed", &form.fixed, &mut wrong);
    let monthly = fee("monthly", &form.monthly, &mut wrong);
    let withdrawal = fee("withdrawal", &form.withdrawal, &mut wrong);
    if !wrong.is_empty() {
        return Err(wrong);
    }
    Ok(ProviderTerms {
        provider: form.provider.clone(),
        rate_bp: rate.unwrap_or(0),
        fixed_minor: fixed,
        monthly_minor: monthly,
        withdrawal_minor: withdrawal,
        currency: currency.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        updated_at: now,
    })
}

/// The currencies a provider's wallet takes, as the console lists them.
fn currencies(lang: Lang, provider: &str) -> String {
    match crate::providers::find_wallet(provider) {
        Some(wallet) => wallet.currencies.join(", "),
        None => lang.t("setup.providers.any_currency"),
    }
}

fn default_currency(provider: &str) -> &'static str {
    crate::providers::find_wallet(provider).map_or("CNY", |wallet| wallet.fee_currency)
}

/// What was typed, kept when the form comes back with a problem.
struct Typed<'a> {
    form: &'a TermsForm,
    wrong: &'a [&'static str],
}

fn terms_form(
    staff: &Staff,
    provider: &str,
    recorded: Option<&ProviderTerms>,
    typed: Option<&Typed>,
) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let value = |name: &str| -> String {
        if let Some(typed) = typed {
            let form = typed.form;
            return match name {
                "rate" => form.rate.clone(),
                "fixed" => form.fixed.clone(),
                "monthly" => form.monthly.clone(),
                "withdrawal" => form.withdrawal.clone(),
                _ => form.currency.clone(),
            };
        }
        match recorded {
            Some(terms) => match name {
                "rate" => percent(terms.rate_bp),
                "fixed" => major(terms.fixed_minor, &terms.currency),
                "monthly" => major(terms.monthly_minor, &terms.currency),
                "withdrawal" => major(terms.withdrawal_minor, &terms.currency),
                _ => terms.currency.clone(),
            },
            None => match name {
                "currency" => default_currency(provider).to_owned(),
                _ => String::new(),
            },
        }
    };
    let wrong = |name: &str| typed.is_some_and(|typed| typed.wrong.contains(&name));
    html! {
        form.form.terms method="post" action="/console/setup/providers" data-testid=(format!("terms-{provider}")) {
            (csrf_field(staff))
            input type="hidden" name="provider" value=(provider);
            @for (name, inputmode, size) in [("rate", "decimal", "6"), ("fixed", "decimal", "10"), ("monthly", "decimal", "10"), ("withdrawal", "decimal", "10"), ("currency", "text", "3")] {
                @let id = format!("{provider}-{name}");
                @let error = format!("{id}-error");
                div.field {
                    label for=(id) { (t(&format!("setup.terms.{name}"))) }
                    input id=(id) type="text" name=(name) value=(value(name)) inputmode=(inputmode) size=(size)
                        maxlength=(if name == "currency" { "3" } else { "20" }) autocomplete="off"
                        aria-invalid=[wrong(name).then_some("true")] aria-describedby=[wrong(name).then_some(error.as_str())];
                    @if wrong(name) {
                        span.field__error id=(error) { (t(&format!("setup.terms.{name}.invalid"))) }
                    }
                }
            }
            button.button type="submit" { (lang.tf("setup.terms.save", &[("provider", &provider_name(lang, provider))])) }
        }
    }
}

async fn body(state: &AppState, staff: &Staff, typed: Option<(&str, Typed<'_>)>) -> Result<Markup, Response> {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let recorded = state.db.provider_terms().await.map_err(|error| internal_error(lang, error))?;
    Ok(html! {
        p { (t("setup.providers.intro")) }
        div.setup-grid {
            @for provider in providers() {
                @let terms = recorded.iter().find(|terms| terms.provider == provider);
                section.card aria-labelledby=(format!("{provider}-title")) data-testid=(format!("provider-{provider}")) {
                    h2 id=(format!("{provider}-title")) { (provider_name(lang, provider)) }
                    dl.facts {
                        dt { (t("setup.providers.suits")) }
                        dd { (t(&format!("setup.providers.{provider}.suits"))) }
                        dt { (t("setup.providers.devices")) }
                        dd { (t(&format!("setup.providers.{provider}.devices"))) }
                        dt { (t("setup.providers.currencies")) }
                        dd { (currencies(lang, provider)) }
                        dt { (t("setup.providers.needs")) }
                        dd { (t(&format!("setup.providers.{provider}.needs"))) }
                    }
                    h3 { (t("setup.terms.title")) }
                    @match terms {
                        Some(terms) => p.hint data-testid="recorded" {
                            (lang.tf("setup.terms.recorded", &[
                                ("rate", &percent(terms.rate_bp)),
                                ("fixed", &lang.money(terms.fixed_minor.into(), &terms.currency)),
                                ("monthly", &lang.money(terms.monthly_minor.into(), &terms.currency)),
                                ("withdrawal", &lang.money(terms.withdrawal_minor.into(), &terms.currency)),
                                ("date", &lang.datetime(terms.updated_at)),
                            ]))
                        },
                        None => p.hint { (t("setup.terms.none")) },
                    }
                    @let kept = typed.as_ref().filter(|(which, _)| *which == provider).map(|(_, typed)| typed);
                    (terms_form(staff, provider, terms, kept))
                }
            }
        }
    })
}

/// `GET /console/setup/providers`.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    match body(&state, &staff, None).await {
        Ok(body) => step_page(&state, &staff, STEP, None, body).await,
        Err(answer) => answer,
    }
}

/// `POST /console/setup/providers`: records one provider's fee terms.
pub async fn save_terms(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<TermsForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    if !providers().any(|name| name == form.provider) {
        return crate::console::pages::bad_form(&state, &staff);
    }
    let terms = match check(&form, state.now()) {
        Ok(terms) => terms,
        Err(wrong) => {
            let typed = Typed { form: &form, wrong: &wrong };
            let problem = Notice::Problem(
                lang.tf("setup.terms.invalid", &[("provider", &provider_name(lang, &form.provider))]),
            );
            return match body(&state, &staff, Some((form.provider.as_str(), typed))).await {
                Ok(body) => step_page(&state, &staff, STEP, Some(problem), body).await,
                Err(answer) => answer,
            };
        }
    };
    if let Err(error) = state.db.set_provider_terms(&terms).await {
        return internal_error(lang, error);
    }
    if let Err(answer) = audit(
        &state,
        &staff,
        AuditAction::SetupProviderTerms,
        &terms.provider,
        serde_json::json!({
            "rate_bp": terms.rate_bp,
            "fixed_minor": terms.fixed_minor,
            "monthly_minor": terms.monthly_minor,
            "withdrawal_minor": terms.withdrawal_minor,
            "currency": terms.currency,
        }),
    )
    .await
    {
        return answer;
    }
    let done =
        Notice::Done(lang.tf("setup.terms.saved", &[("provider", &provider_name(lang, &terms.provider))]));
    match body(&state, &staff, None).await {
        Ok(body) => step_page(&state, &staff, STEP, Some(done), body).await,
        Err(answer) => answer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_percentages_with_two_decimals_kept_exactly() {
        assert_eq!(parse_rate("0.6"), Some(60));
        assert_eq!(parse_rate("0.29"), Some(29));
        assert_eq!(parse_rate("3.49%"), Some(349));
        assert_eq!(parse_rate("100"), Some(10_000));
        assert_eq!(parse_rate(""), Some(0));
        for bad in ["100.01", "0.001", "-1", "1,5", "abc", ".5", "1e2", "1000"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
        assert_eq!(percent(60), "0.6");
        assert_eq!(percent(349), "3.49");
        assert_eq!(percent(10_000), "100");
    }

    #[test]
    fn fees_follow_the_currency_minor_unit() {
        let cny = Currency::parse("CNY").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(parse_fee("0.30", cny), Some(30));
        assert_eq!(parse_fee("12.5", cny), Some(1250));
        assert_eq!(parse_fee("40", jpy), Some(40));
        assert_eq!(parse_fee("1.005", kwd), Some(1005));
        assert_eq!(parse_fee("0.001", cny), None);
        assert_eq!(parse_fee("1.5", jpy), None);
        assert_eq!(parse_fee("-1", cny), None);
        assert_eq!(parse_fee("1.", cny), None);
        assert_eq!(parse_fee("99999999999999", cny), None);
        assert_eq!(major(1250, "CNY"), "12.50");
    }
}
