//! What the pages of the daily work share: amounts typed in major units and read exactly by the
//! currency's minor unit, dates from date fields, page numbers and links that keep the filters
//! in the query string, the second page that asks before an action, and wallets by their names.
#![allow(clippy::too_many_arguments)]

use super::super::{auth::Staff, i18n::Lang, layout::csrf_field};
use super::respond;
use crate::{db::EventRecord, state::AppState};
use axum::response::Response;
use maud::{html, Markup};
use wallet_checkout_contract::Currency;

/// Rows on one page of a list.
pub const PAGE_SIZE: i64 = 25;
/// The last page a list goes to.
pub const MAX_PAGE: i64 = 10_000;
pub const DAY_MS: i64 = 86_400_000;

/// An amount typed in major units (`129`, `129.5`, `129.50`) as minor units of `currency`,
/// exactly, as the contract reads decimal amounts; spaces around it are forgiven.
pub fn parse_major_units(text: &str, currency: Currency) -> Option<u64> {
    currency.parse_decimal(text.trim())
}

/// An example amount for a currency's messages (`129.00`, `129`, `129.000`).
pub fn example_amount(currency: Currency) -> String {
    currency.decimal_string(129 * 10u128.pow(currency.exponent()))
}

/// Input that is not what the field takes (the page says what it takes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadInput;

/// The start of a day typed as `YYYY-MM-DD` (a date field's value): `Ok(None)` when empty.
pub fn parse_day(text: &str) -> Result<Option<i64>, BadInput> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() != 10 {
        return Err(BadInput);
    }
    crate::domain::parse_instant(text).map(Some).ok_or(BadInput)
}

/// A page number from the query string: 1 when absent.
pub fn parse_page(raw: Option<&str>) -> Result<i64, BadInput> {
    match raw.map(str::trim) {
        None | Some("") => Ok(1),
        Some(raw) => raw.parse::<i64>().ok().filter(|n| (1..=MAX_PAGE).contains(n)).ok_or(BadInput),
    }
}

/// A query string (`?a=1&b=2`) of the pairs that are not empty; empty when none are.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (name, value) in pairs.iter().filter(|(_, value)| !value.trim().is_empty()) {
        serializer.append_pair(name, value);
        any = true;
    }
    if any {
        format!("?{}", serializer.finish())
    } else {
        String::new()
    }
}

/// Links to the previous and next pages, keeping the filters.
pub fn pager(lang: Lang, path: &str, filters: &[(&str, &str)], page: i64, has_more: bool) -> Markup {
    let link = |number: i64| {
        let number = number.to_string();
        let mut pairs = filters.to_vec();
        if number != "1" {
            pairs.push(("page", &number));
        }
        format!("{path}{}", query_string(&pairs))
    };
    html! {
        @if page > 1 || has_more {
            nav.pager aria-label=(lang.t("orders.pages")) {
                @if page > 1 {
                    a href=(link(page - 1)) rel="prev" { (lang.t("orders.previous")) }
                }
                span { (lang.tf("orders.page", &[("page", &page.to_string())])) }
                @if has_more {
                    a href=(link(page + 1)) rel="next" { (lang.t("orders.next")) }
                }
            }
        }
    }
}

/// The second page of an action that asks first: the question, the form that does it (with
/// `fields` carried over as hidden fields), and the way back.
pub fn confirm_page(
    state: &AppState,
    staff: &Staff,
    path: &str,
    title: &str,
    question: &str,
    action: &str,
    fields: &[(&str, &str)],
    confirm_label: &str,
    back: &str,
    danger: bool,
) -> Response {
    let lang = staff.lang;
    let body = html! {
        section.card aria-labelledby="confirm-question" {
            p #confirm-question.question data-testid="confirm-question" { (question) }
            form.form--inline method="post" action=(action) {
                (csrf_field(staff))
                @for (name, value) in fields {
                    input type="hidden" name=(name) value=(value);
                }
                input type="hidden" name="confirm" value="1";
                button.button.button--danger[danger] type="submit" { (confirm_label) }
                a.button.button--quiet href=(back) { (lang.t("orders.cancel")) }
            }
        }
    };
    respond(state, staff, path, title, None, body)
}

/// A wallet's own name ("WeChat Pay"), or its id when this server does not offer it.
pub fn wallet_name(state: &AppState, id: &str) -> String {
    state
        .providers
        .wallets()
        .into_iter()
        .find(|wallet| wallet.id.as_str() == id)
        .map_or_else(|| id.to_owned(), |wallet| wallet.name)
}

/// The delivery log's rows (of every event, or of one order's).
pub fn deliveries_table(lang: Lang, staff: Option<&Staff>, events: &[EventRecord]) -> Markup {
    let t = |key: &str| lang.t(key);
    html! {
        table.table data-testid="deliveries" {
            thead { tr {
                th scope="col" { (t("webhooks.event")) }
                th scope="col" { (t("webhooks.type")) }
                th scope="col" { (t("webhooks.created")) }
                th scope="col" { (t("webhooks.state")) }
                th scope="col" { (t("webhooks.attempts")) }
                th scope="col" { (t("webhooks.last_error")) }
                @if staff.is_some() { th scope="col" { span.visually-hidden { (t("webhooks.resend")) } } }
            } }
            tbody {
                @for event in events {
                    @let state = event.delivery_state();
                    tr data-testid="delivery" {
                        td { code { (event.id) } }
                        td { (event.kind) }
                        td { (lang.datetime(event.created_at)) }
                        td { span class=(format!("delivery delivery--{state}")) { (t(&format!("webhooks.state_{state}"))) } }
                        td { (event.attempts) }
                        td { (event.last_error.as_deref().map(|e| delivery_error(lang, e)).unwrap_or_default()) }
                        @if let Some(staff) = staff {
                            td {
                                @if state == "failed" || state == "skipped" {
                                    form.form--inline method="post" action=(format!("/console/webhooks/events/{}/resend", event.id)) {
                                        (csrf_field(staff))
                                        button.button.button--quiet type="submit" aria-label=(lang.tf("webhooks.resend_label", &[("event", &event.id)])) { (t("webhooks.resend")) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The delivery worker's words for a failure (they name no address or internal detail), said in
/// the staff member's language where we know them.
pub fn delivery_error(lang: Lang, error: &str) -> String {
    let known = [
        ("delivery failed: the endpoint did not answer in time", "webhooks.error_timeout"),
        ("delivery failed: the endpoint could not be reached", "webhooks.error_unreachable"),
        ("delivery failed: the request to the endpoint failed", "webhooks.error_request"),
        ("no webhook endpoint is enabled", "webhooks.error_no_endpoint"),
        ("delivery failed: the endpoint URL is not valid", "webhooks.error_bad_url"),
    ];
    if let Some((_, key)) = known.iter().find(|(english, _)| *english == error) {
        return lang.t(key);
    }
    if let Some(status) = error.strip_prefix("delivery failed: the endpoint answered HTTP ") {
        return lang.tf("webhooks.error_status", &[("status", status)]);
    }
    if error.starts_with("delivery refused") {
        return lang.t("webhooks.error_refused");
    }
    lang.t("webhooks.error_other")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn amounts_in_major_units_are_read_with_spaces_forgiven() {
        assert_eq!(parse_major_units(" 129.5 ", currency("CNY")), Some(12_950));
        assert_eq!(parse_major_units("1 2", currency("CNY")), None);
        assert_eq!(example_amount(currency("JPY")), "129");
        assert_eq!(example_amount(currency("CNY")), "129.00");
    }

    #[test]
    fn days_pages_and_query_strings() {
        assert_eq!(parse_day(""), Ok(None));
        assert_eq!(parse_day("1970-01-02"), Ok(Some(DAY_MS)));
        assert_eq!(parse_day("2026-02-30"), Err(BadInput));
        assert_eq!(parse_day("1970-01-02T00:00:00Z"), Err(BadInput));
        assert_eq!(parse_page(None), Ok(1));
        assert_eq!(parse_page(Some("0")), Err(BadInput));
        assert_eq!(query_string(&[("q", "A 1&"), ("status", "")]), "?q=A+1%26");
        assert_eq!(query_string(&[("q", " ")]), "");
    }

    #[test]
    fn delivery_errors_are_said_in_the_staff_language() {
        assert_eq!(
            delivery_error(Lang::En, "delivery failed: the endpoint answered HTTP 500"),
            Lang::En.tf("webhooks.error_status", &[("status", "500")])
        );
        assert_eq!(delivery_error(Lang::ZhCn, "something new"), Lang::ZhCn.t("webhooks.error_other"));
    }
}
