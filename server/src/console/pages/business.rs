//! Seeing the business (viewer): takings per day, week or month, per wallet and currency, with the
//! providers' fees from the recorded terms, the refunds and what is left; and the shopper's path
//! from the order shown to the payment, per wallet, device and language, with the drop-off at each
//! step and the median time to pay. Charts are drawn here as SVG, each with its numbers in a table.

use super::super::{
    i18n::Lang,
    layout::{scroll_region, svg},
};
use super::{internal_error, overview::COLOURS, respond};
use crate::app::business::{self, Path, Paths, STEPS};
use crate::domain::takings::{
    self, date_of_day, day_of_date, millis_of_date, Period, ProviderTerms, Takings, DAY_MS,
};
use crate::state::AppState;
use axum::{
    extract::{Query, State},
    response::Response,
};
use maud::{html, Markup};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use time::Date;

const PATH: &str = "/console/business";

#[derive(Debug, Deserialize)]
pub struct BusinessQuery {
    period: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    staff: super::super::auth::Staff,
    Query(query): Query<BusinessQuery>,
) -> Response {
    let period = query.period.as_deref().and_then(Period::parse).unwrap_or(Period::Day);
    match render(&state, staff.lang, period).await {
        Ok(body) => respond(&state, &staff, PATH, &staff.lang.t("business.title"), None, body),
        Err(error) => internal_error(staff.lang, error),
    }
}

/// A period's name: its date, the week it starts, or its month.
fn period_label(lang: Lang, period: Period, start: Date) -> String {
    match period {
        Period::Day => lang.date(millis_of_date(start)),
        Period::Week => lang.tf("business.week_of", &[("date", &lang.date(millis_of_date(start)))]),
        Period::Month => lang.tf(
            "business.month_label",
            &[
                ("month", &lang.t(&format!("business.month.{}", u8::from(start.month())))),
                ("year", &start.year().to_string()),
            ],
        ),
    }
}

/// A share in tenths of a percent, as `12.5%`.
fn percent(permille: u64) -> String {
    format!("{}.{}%", permille / 10, permille % 10)
}

fn duration(lang: Lang, secs: i64) -> String {
    if secs < 60 {
        lang.tf("business.seconds", &[("s", &secs.to_string())])
    } else {
        lang.tf(
            "business.minutes_seconds",
            &[("m", &(secs / 60).to_string()), ("s", &(secs % 60).to_string())],
        )
    }
}

async fn render(state: &AppState, lang: Lang, period: Period) -> anyhow::Result<Markup> {
    let now = state.now();
    let today = date_of_day(now.div_euclid(DAY_MS));
    let starts = period.starts(today);
    let from = millis_of_date(starts[0]);
    let to = (day_of_date(today) + 1) * DAY_MS;
    let store = &state.db;
    let terms = store.provider_terms().await?;
    let takings = business::takings_by_period(store, period, from, to).await?;
    let paths =
        business::paths(&store.checkout_steps(from, to).await?, &store.path_sessions(from, to).await?);
    let t = |key: &str| lang.t(key);
    let range =
        lang.tf("business.range", &[("from", &lang.date(from)), ("to", &lang.date(millis_of_date(today)))]);
    Ok(html! {
        nav.periods aria-label=(t("business.period")) {
            ul {
                @for option in Period::ALL {
                    li { a href=(format!("{PATH}?period={}", option.as_str())) aria-current=[(option == period).then_some("page")] data-testid=(format!("period-{}", option.as_str())) {
                        (t(&format!("business.period.{}", option.as_str())))
                    } }
                }
            }
        }
        p.hint data-testid="range" { (range) }
        section.card aria-labelledby="takings" {
            h2 #takings { (t("business.takings")) }
            (takings_section(lang, period, &starts, &takings, &terms))
        }
        section.card aria-labelledby="path" {
            h2 #path { (t("business.path")) }
            p.hint { (t("business.path_intro")) }
            (path_section(lang, &paths))
        }
    })
}

fn takings_section(
    lang: Lang,
    period: Period,
    starts: &[Date],
    takings: &Takings,
    terms: &[ProviderTerms],
) -> Markup {
    let t = |key: &str| lang.t(key);
    let totals = takings::totals(takings);
    let mut currencies: Vec<(&String, u128)> = totals.iter().map(|(c, line)| (c, line.paid)).collect();
    currencies.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let unknown_fees = totals.values().any(|line| line.without_terms > 0);
    let monthly: Vec<&ProviderTerms> = terms.iter().filter(|terms| terms.monthly_minor > 0).collect();
    html! {
        @if currencies.is_empty() {
            p data-testid="no-takings" { (t("business.no_takings")) }
        }
        @for (currency, _) in &currencies {
            @let heading = format!("takings-{currency}");
            section.business-currency aria-labelledby=(heading) data-testid="currency" data-currency=(currency) {
                h3 #(heading) { (currency) }
                (takings_chart(lang, period, starts, takings, currency))
                (scroll_region(&lang.tf("business.takings_numbers", &[("currency", currency)]), html! {
                    table.table data-testid="takings" {
                        caption.visually-hidden { (lang.tf("business.takings_numbers", &[("currency", currency)])) }
                        thead { tr {
                            th scope="col" { (t("business.col.period")) }
                            th scope="col" { (t("business.col.wallet")) }
                            th scope="col" { (t("business.col.payments")) }
                            th scope="col" { (t("business.col.paid")) }
                            th scope="col" { (t("business.col.fees")) }
                            th scope="col" { (t("business.col.refunded")) }
                            th scope="col" { (t("business.col.net")) }
                        } }
                        tbody {
                            @for (start, currencies) in takings.iter().rev() {
                                @if let Some(wallets) = currencies.get(*currency) {
                                    @for (wallet, line) in wallets {
                                        tr data-testid="takings-row" data-wallet=(wallet) {
                                            th scope="row" { (period_label(lang, period, *start)) }
                                            td { (wallet) }
                                            td { (line.payments) }
                                            td.amount { (lang.money(line.paid as i128, currency)) }
                                            td.amount { (lang.money(line.fees as i128, currency)) }
                                            td.amount { (lang.money(line.refunded as i128, currency)) }
                                            td.amount { (lang.money(line.net(), currency)) }
                                        }
                                    }
                                }
                            }
                        }
                        @if let Some(total) = totals.get(*currency) {
                            tfoot { tr data-testid="takings-total" {
                                th scope="row" colspan="2" { (t("business.total")) }
                                td { (total.payments) }
                                td.amount { (lang.money(total.paid as i128, currency)) }
                                td.amount { (lang.money(total.fees as i128, currency)) }
                                td.amount { (lang.money(total.refunded as i128, currency)) }
                                td.amount { (lang.money(total.net(), currency)) }
                            } }
                        }
                    }
                }))
            }
        }
        @if unknown_fees {
            p.hint data-testid="unknown-fees" { (t("business.unknown_fees")) }
        }
        p.hint { (t("business.fees_note")) }
        @if !monthly.is_empty() {
            h3 { (t("business.monthly_fees")) }
            @if period == Period::Month {
                (scroll_region(&t("business.monthly_fees"), html! {
                    table.table data-testid="monthly-fees" {
                        thead { tr {
                            th scope="col" { (t("business.col.period")) }
                            th scope="col" { (t("business.col.provider")) }
                            th scope="col" { (t("business.col.monthly_fee")) }
                        } }
                        tbody {
                            @for start in starts.iter().rev() {
                                @for terms in &monthly {
                                    tr {
                                        th scope="row" { (period_label(lang, period, *start)) }
                                        td { (terms.provider) }
                                        td.amount { (lang.money(i128::from(terms.monthly_minor), &terms.currency)) }
                                    }
                                }
                            }
                        }
                    }
                }))
            } @else {
                p.hint { (t("business.monthly_in_month_view")) }
            }
        }
    }
}

/// Bars of what was paid per period, one colour per wallet, for one currency.
fn takings_chart(lang: Lang, period: Period, starts: &[Date], takings: &Takings, currency: &str) -> Markup {
    let wallets: BTreeSet<&String> =
        takings.values().filter_map(|c| c.get(currency)).flat_map(|w| w.keys()).collect();
    let wallets: Vec<&String> = wallets.into_iter().collect();
    let sums: Vec<u128> = starts
        .iter()
        .map(|start| {
            takings.get(start).and_then(|c| c.get(currency)).map_or(0, |w| w.values().map(|l| l.paid).sum())
        })
        .collect();
    let max = sums.iter().copied().max().unwrap_or(0).max(1);
    let (height, slot) = (200_i64, 40_i64);
    let width = 20 + slot * starts.len() as i64;
    let mut bars = String::new();
    for (i, start) in starts.iter().enumerate() {
        let x = 20 + i as i64 * slot;
        let mut y = height - 20;
        if let Some(by_wallet) = takings.get(start).and_then(|c| c.get(currency)) {
            for (w, wallet) in wallets.iter().enumerate() {
                let value = by_wallet.get(*wallet).map_or(0, |line| line.paid);
                if value == 0 {
                    continue;
                }
                let h = ((value * (height - 40) as u128 / max) as i64).max(1);
                y -= h;
                bars.push_str(&format!(
                    "<rect x=\"{x}\" y=\"{y}\" width=\"28\" height=\"{h}\" fill=\"{}\"></rect>",
                    COLOURS[w % COLOURS.len()]
                ));
            }
        }
        let label = match period {
            Period::Month => lang.t(&format!("business.month.{}", u8::from(start.month()))),
            _ => start.day().to_string(),
        };
        bars.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">{label}</text>",
            x + 14,
            height - 5
        ));
    }
    let label = lang.tf(
        "business.chart_label",
        &[("currency", currency), ("period", &lang.t(&format!("business.period.{}", period.as_str())))],
    );
    let markup = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">{bars}</svg>",
        html! { (label) }.into_string()
    );
    html! {
        (svg(markup))
        ul.legend {
            @for (i, wallet) in wallets.iter().enumerate() {
                li { span.swatch data-colour=(i % COLOURS.len()) {} (wallet) }
            }
        }
    }
}

fn count(value: Option<usize>) -> String {
    value.map_or_else(|| "—".to_owned(), |n| n.to_string())
}

fn path_section(lang: Lang, paths: &Paths) -> Markup {
    let t = |key: &str| lang.t(key);
    let first = paths.all.orders.iter().flatten().copied().max().unwrap_or(0).max(1);
    let (width, row) = (560_i64, 36_i64);
    let mut bars = String::new();
    for (i, orders) in paths.all.orders.iter().enumerate() {
        let value = orders.unwrap_or(0);
        let y = 8 + i as i64 * row;
        let w = (value as i64 * (width - 200) / first as i64).max(if value > 0 { 1 } else { 0 });
        bars.push_str(&format!(
            "<rect x=\"180\" y=\"{y}\" width=\"{w}\" height=\"24\" fill=\"{}\"></rect>",
            COLOURS[1]
        ));
        let name = html! { (t(&format!("business.step.{}", STEPS[i]))) }.into_string();
        bars.push_str(&format!(
            "<text x=\"170\" y=\"{}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1f2328\">{name}</text>",
            y + 16
        ));
        bars.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1f2328\">{value}</text>",
            186 + w,
            y + 16
        ));
    }
    let height = 8 + row * STEPS.len() as i64;
    let markup = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">{bars}</svg>",
        html! { (t("business.path_chart")) }.into_string()
    );
    let groups: [(&str, &BTreeMap<String, Path>); 3] =
        [("wallet", &paths.wallets), ("device", &paths.devices), ("locale", &paths.locales)];
    html! {
        (svg(markup))
        (scroll_region(&t("business.path_numbers"), html! {
            table.table data-testid="path" {
                caption.visually-hidden { (t("business.path_numbers")) }
                thead { tr {
                    th scope="col" { (t("business.col.step")) }
                    th scope="col" { (t("business.col.orders")) }
                    th scope="col" { (t("business.col.dropped")) }
                } }
                tbody {
                    @for (i, step) in STEPS.iter().enumerate() {
                        tr data-testid="path-step" data-step=(step) {
                            th scope="row" { (t(&format!("business.step.{step}"))) }
                            td data-testid="orders" { (count(paths.all.orders[i])) }
                            td {
                                @if i > 0 {
                                    @match (paths.all.orders[i - 1], paths.all.orders[i]) {
                                        (Some(before), Some(after)) => {
                                            @match business::drop_off_permille(before, after) {
                                                Some(permille) => { (before.saturating_sub(after)) " (" (percent(permille)) ")" },
                                                None => "—",
                                            }
                                        },
                                        _ => "—",
                                    }
                                } @else { "—" }
                            }
                        }
                    }
                }
            }
        }))
        p data-testid="median" {
            (t("business.median_to_pay")) ": "
            strong { (paths.all.median_secs_to_pay.map_or_else(|| "—".to_owned(), |secs| duration(lang, secs))) }
        }
        @for (group, rows) in groups {
            @if !rows.is_empty() {
                h3 #(format!("path-{group}")) { (t(&format!("business.by.{group}"))) }
                (scroll_region(&t(&format!("business.by.{group}")), html! {
                    table.table data-testid=(format!("path-{group}")) {
                        thead { tr {
                            th scope="col" { (t(&format!("business.col.{group}"))) }
                            @for step in STEPS { th scope="col" { (t(&format!("business.step.{step}"))) } }
                            th scope="col" { (t("business.median_to_pay")) }
                        } }
                        tbody {
                            @for (name, path) in rows {
                                tr data-testid="path-row" data-group=(name) {
                                    th scope="row" {
                                        @if name.is_empty() { (t("business.unknown")) }
                                        @else if group == "device" { (t(&format!("business.device.{name}"))) }
                                        @else { (name) }
                                    }
                                    @for orders in &path.orders { td { (count(*orders)) } }
                                    td { (path.median_secs_to_pay.map_or_else(|| "—".to_owned(), |secs| duration(lang, secs))) }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}
