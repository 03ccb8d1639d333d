//! The console's first page: today's takings (paid, refunded, net) per currency, a chart of what
//! was paid per day and wallet over two weeks with its numbers in a table, and the latest
//! sessions with their status history.

use super::super::{
    auth::Staff,
    i18n::Lang,
    layout::{scroll_region, svg},
};
use super::respond;
use crate::{
    app::business,
    db::TransactionFilter,
    domain::{
        rfc3339,
        takings::{self, DayTotal, DAY_MS},
    },
    state::AppState,
};
use axum::{extract::State, response::Response};
use maud::{html, Markup};
use std::collections::BTreeMap;

/// Days in the chart.
pub const CHART_DAYS: i64 = 14;
/// Sessions in the latest-sessions list.
pub const LATEST_SESSIONS: i64 = 20;
/// The wallets' colours in charts (each meets 3:1 against white).
pub const COLOURS: [&str; 6] = ["#0b7a3e", "#1660cc", "#003087", "#b35c00", "#7a3e9d", "#57606a"];

pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    match render(&state, staff.lang).await {
        Ok(body) => respond(&state, &staff, "/console", &staff.lang.t("overview.title"), None, body),
        Err(error) => super::internal_error(staff.lang, error),
    }
}

async fn render(state: &AppState, lang: Lang) -> anyhow::Result<Markup> {
    let now = state.now();
    let today = now - now.rem_euclid(DAY_MS);
    let from = today - (CHART_DAYS - 1) * DAY_MS;
    let totals = business::daily_totals(&state.db, from, today + DAY_MS).await?;

    let mut today_by_currency: BTreeMap<&str, (u128, i64, u128)> = BTreeMap::new();
    for total in totals.iter().filter(|t| t.day * DAY_MS == today) {
        let entry = today_by_currency.entry(total.currency.as_str()).or_default();
        entry.0 += total.amount_minor;
        entry.1 += total.payments;
        entry.2 += total.refunded_minor;
    }
    let latest = state
        .db
        .transactions(&TransactionFilter { limit: LATEST_SESSIONS, ..TransactionFilter::default() })
        .await?;
    let mut histories = Vec::new();
    for row in &latest {
        let id = wallet_checkout_contract::SessionId::parse(row.session_id.as_str())?;
        histories.push(state.db.history(&id).await?);
    }
    let t = |key: &str| lang.t(key);
    Ok(html! {
        section.card aria-labelledby="today" {
            h2 #today { (t("overview.today")) }
            @if today_by_currency.is_empty() {
                p.figure data-testid="takings" { (t("overview.none_today")) }
            }
            @for (currency, (paid, count, refunded)) in &today_by_currency {
                p.figure data-testid="takings" {
                    (lang.money(*paid as i128, currency)) " "
                    span.count { (lang.tf("overview.payments", &[("count", &count.to_string())])) }
                    @if *refunded > 0 {
                        " "
                        span.count data-testid="refunds" {
                            (lang.tf("overview.refunded_net", &[
                                ("refunded", &lang.money(*refunded as i128, currency)),
                                ("net", &lang.money(takings::net(*paid, 0, *refunded), currency)),
                            ]))
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="chart" {
            h2 #chart { (lang.tf("overview.chart", &[("days", &CHART_DAYS.to_string())])) }
            (chart(lang, &totals, from))
        }
        section.card aria-labelledby="latest" {
            h2 #latest { (t("overview.latest")) }
            (scroll_region(&t("overview.latest"), html! {
                table.table {
                    thead { tr {
                        th scope="col" { (t("table.session")) }
                        th scope="col" { (t("table.reference")) }
                        th scope="col" { (t("table.wallet")) }
                        th scope="col" { (t("table.amount")) }
                        th scope="col" { (t("table.status")) }
                        th scope="col" { (t("table.history")) }
                    } }
                    tbody {
                        @for (row, history) in latest.iter().zip(&histories) {
                            tr data-testid="session-row" {
                                td { code { (row.session_id) } }
                                td { (row.reference.as_deref().unwrap_or("")) }
                                td { (row.wallet_id) }
                                td.amount { (lang.money(i128::from(row.amount_minor), &row.currency)) }
                                td {
                                    span class=(format!("status status--{}", row.status)) { (t(&format!("status.{}", row.status))) }
                                    @if let Some(flag) = &row.flag { " " span.flag { (flag) } }
                                }
                                td { ol.history {
                                    @for change in history {
                                        li { time datetime=(rfc3339(change.at)) { (&rfc3339(change.at)[11..19]) } " " (change.reason) ": " (t(&format!("status.{}", change.to))) }
                                    }
                                } }
                            }
                        }
                    }
                }
            }))
        }
    })
}

/// Stacked bars per day (one colour per wallet) for the currency with the most takings, drawn
/// here as SVG, with the same numbers in a table for screen readers and for reading exactly.
pub fn chart(lang: Lang, totals: &[DayTotal], from: i64) -> Markup {
    let mut by_currency: BTreeMap<&str, u128> = BTreeMap::new();
    for total in totals {
        *by_currency.entry(&total.currency).or_default() += total.amount_minor;
    }
    let Some((currency, _)) = by_currency.iter().max_by_key(|(_, sum)| **sum) else {
        return html! { p { (lang.t("overview.no_payments_period")) } };
    };
    let mut wallets: Vec<&str> = totals.iter().map(|t| t.wallet_id.as_str()).collect();
    wallets.sort_unstable();
    wallets.dedup();
    let first_day = from / DAY_MS;
    let mut days = vec![BTreeMap::<&str, u128>::new(); CHART_DAYS as usize];
    for total in totals.iter().filter(|t| t.currency == *currency) {
        let index = (total.day - first_day) as usize;
        if index < days.len() {
            *days[index].entry(total.wallet_id.as_str()).or_default() += total.amount_minor;
        }
    }
    let max = days.iter().map(|d| d.values().sum::<u128>()).max().unwrap_or(0).max(1);
    let (width, height, bar) = (560, 200, 28);
    let mut bars = String::new();
    for (i, day) in days.iter().enumerate() {
        let x = 20 + i as i64 * 38;
        let mut y = height - 20;
        for (w, wallet) in wallets.iter().enumerate() {
            let value = day.get(wallet).copied().unwrap_or(0);
            if value == 0 {
                continue;
            }
            let h = ((value * (height - 40) as u128 / max) as i64).max(1);
            y -= h;
            bars.push_str(&format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{h}\" fill=\"{}\"></rect>",
                COLOURS[w % COLOURS.len()]
            ));
        }
        let label = &rfc3339((first_day + i as i64) * DAY_MS)[8..10];
        bars.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">{label}</text>",
            x + bar / 2,
            height - 5
        ));
    }
    let label = lang.tf("overview.chart_label", &[("currency", currency)]);
    let svg_markup = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"{}\">{bars}</svg>",
        maud::html! { (label) }.into_string()
    );
    let t = |key: &str| lang.t(key);
    html! {
        (svg(svg_markup))
        ul.legend {
            @for (i, wallet) in wallets.iter().enumerate() {
                li { span.swatch data-colour=(i % COLOURS.len()) {} (wallet) }
            }
        }
        details {
            summary { (t("overview.numbers")) }
            (scroll_region(&t("overview.numbers"), html! {
                table.table data-testid="totals" {
                    thead { tr {
                        th scope="col" { (t("table.day")) }
                        th scope="col" { (t("table.wallet")) }
                        th scope="col" { (t("table.payments")) }
                        th scope="col" { (t("table.paid")) }
                        th scope="col" { (t("table.refunded")) }
                        th scope="col" { (t("table.net")) }
                    } }
                    tbody {
                        @for total in totals.iter().filter(|t| t.currency == *currency) {
                            tr {
                                td { (lang.date(total.day * DAY_MS)) }
                                td { (total.wallet_id) }
                                td { (total.payments) }
                                td.amount { (lang.money(total.amount_minor as i128, &total.currency)) }
                                td.amount { (lang.money(total.refunded_minor as i128, &total.currency)) }
                                td.amount { (lang.money(total.amount_minor as i128 - total.refunded_minor as i128, &total.currency)) }
                            }
                        }
                    }
                }
            }))
        }
    }
}
