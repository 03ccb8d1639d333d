//! `/dashboard`: a page for the merchant's staff. The browser asks for credentials (HTTP Basic):
//! any user name, and an API key with at least the `viewer` role as the password. It shows the
//! day's takings, a chart of totals per day and wallet, and the latest sessions with their status
//! history. Server-rendered, no script, the strict CSP.

use super::{merchant::reports::total_view, AppState};
use crate::{
    auth::Role,
    domain::{now_millis, rfc3339},
    html::{self, escape, page},
    store::TransactionFilter,
};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use base64::Engine;
use std::collections::BTreeMap;
use wallet_checkout_contract::Currency;

const DAY_MS: i64 = 86_400_000;
/// Days in the chart.
pub const CHART_DAYS: i64 = 14;
/// Sessions in the latest-sessions list.
pub const LATEST_SESSIONS: i64 = 20;

fn challenge() -> Response {
    let mut response = html::response(
        StatusCode::UNAUTHORIZED,
        page("Dashboard", "/static/dashboard.css", "", "<main class=\"dash\"><h1>Sign in with an API key</h1><p>Use any user name and a key with the viewer role or higher as the password.</p></main>"),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"wallet-checkout dashboard\", charset=\"UTF-8\""),
    );
    response
}

/// The password of a `Basic` authorization header.
fn basic_password(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    (!password.is_empty()).then(|| password.to_owned())
}

/// `CNY 68.00`: exact for any total.
fn money(minor: u128, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(currency) => format!("{currency} {}", currency.decimal_string(minor)),
        Err(_) => format!("{currency} {minor}"),
    }
}

pub async fn dashboard(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(secret) = basic_password(&headers) else { return challenge() };
    let key = match state.store.authenticate(&secret, now_millis()).await {
        Ok(Some(key)) => key,
        Ok(None) => return challenge(),
        Err(error) => return crate::error::ApiError::internal(error).into_response(),
    };
    if Role::parse(&key.role).is_none_or(|role| role < Role::Viewer) {
        return challenge();
    }
    match render(&state, &key.name).await {
        Ok(body) => html::response(StatusCode::OK, page("Dashboard", "/static/dashboard.css", "", &body)),
        Err(error) => crate::error::ApiError::internal(error).into_response(),
    }
}

async fn render(state: &AppState, viewer: &str) -> anyhow::Result<String> {
    let now = now_millis();
    let today = now - now.rem_euclid(DAY_MS);
    let from = today - (CHART_DAYS - 1) * DAY_MS;
    let totals = state.store.daily_totals(from, today + DAY_MS).await?;

    // Today's takings per currency: paid, refunded, and net.
    let mut takings: BTreeMap<String, (u128, i64, u128)> = BTreeMap::new();
    for total in totals.iter().filter(|t| t.day * DAY_MS == today) {
        let entry = takings.entry(total.currency.clone()).or_default();
        entry.0 += total.amount_minor;
        entry.1 += total.payments;
        entry.2 += total.refunded_minor;
    }
    let takings_html = if takings.is_empty() {
        "<p class=\"dash__figure\" data-testid=\"takings\">No payments yet today</p>".to_owned()
    } else {
        takings
            .iter()
            .map(|(currency, (minor, count, refunded))| {
                let refunds = if *refunded > 0 {
                    let net = super::merchant::reports::net(*minor, *refunded);
                    let net = match net.strip_prefix('-') {
                        Some(owed) => format!("−{}", money(owed.parse().unwrap_or_default(), currency)),
                        None => money(net.parse().unwrap_or_default(), currency),
                    };
                    format!(
                        " <span class=\"dash__count\" data-testid=\"refunds\">refunded {}, net {}</span>",
                        escape(&money(*refunded, currency)),
                        escape(&net)
                    )
                } else {
                    String::new()
                };
                format!(
                    "<p class=\"dash__figure\" data-testid=\"takings\">{} <span class=\"dash__count\">{} payment{}</span>{refunds}</p>",
                    escape(&money(*minor, currency)),
                    count,
                    if *count == 1 { "" } else { "s" }
                )
            })
            .collect()
    };

    let chart = chart(&totals, from)?;

    let latest = state
        .store
        .transactions(&TransactionFilter { limit: LATEST_SESSIONS, ..TransactionFilter::default() })
        .await?;
    let mut rows = String::new();
    for row in &latest {
        let id = wallet_checkout_contract::SessionId::parse(row.session_id.as_str())?;
        let history = state.store.history(&id).await?;
        let steps: Vec<String> = history
            .iter()
            .map(|c| {
                format!(
                    "<li><time datetime=\"{at}\">{time}</time> {reason}: {to}</li>",
                    at = rfc3339(c.at),
                    time = &rfc3339(c.at)[11..19],
                    reason = escape(&c.reason),
                    to = c.to
                )
            })
            .collect();
        rows.push_str(&format!(
            "<tr data-testid=\"session-row\"><td><code>{session}</code></td><td>{reference}</td><td>{wallet}</td><td class=\"dash__amount\">{amount}</td>\
             <td><span class=\"dash__status dash__status--{status}\">{status}</span>{flag}</td><td><ol class=\"dash__history\">{steps}</ol></td></tr>",
            session = escape(&row.session_id),
            reference = escape(row.reference.as_deref().unwrap_or("")),
            wallet = escape(&row.wallet_id),
            amount = escape(&money(u128::try_from(row.amount_minor).unwrap_or_default(), &row.currency)),
            status = escape(&row.status),
            flag = row.flag.as_deref().map(|f| format!(" <span class=\"dash__flag\">{}</span>", escape(f))).unwrap_or_default(),
            steps = steps.join(""),
        ));
    }
    let mode = if state.config.livemode() { "Live" } else { "Test mode" };
    Ok(format!(
        "<header class=\"dash__header\"><h1>Payments</h1><span class=\"dash__mode\">{mode}</span>\
         <span class=\"dash__who\">Signed in with key “{viewer}”</span></header>\n<main class=\"dash\">\n\
         <section class=\"dash__card\" aria-labelledby=\"today\"><h2 id=\"today\">Today’s takings</h2>{takings_html}</section>\n\
         <section class=\"dash__card\" aria-labelledby=\"chart\"><h2 id=\"chart\">Paid per day and wallet, last {CHART_DAYS} days</h2>{chart}</section>\n\
         <section class=\"dash__card\" aria-labelledby=\"latest\"><h2 id=\"latest\">Latest sessions</h2>\
         <table class=\"dash__table\"><thead><tr><th>Session</th><th>Reference</th><th>Wallet</th><th>Amount</th><th>Status</th><th>History (UTC)</th></tr></thead>\
         <tbody>{rows}</tbody></table></section>\n</main>",
        viewer = escape(viewer),
    ))
}

/// Stacked bars per day (one colour per wallet), for the currency with the most takings; SVG
/// drawn here, with a table of the same numbers for screen readers.
fn chart(totals: &[crate::store::DayTotal], from: i64) -> anyhow::Result<String> {
    let mut by_currency: BTreeMap<&str, u128> = BTreeMap::new();
    for total in totals {
        *by_currency.entry(&total.currency).or_default() += total.amount_minor;
    }
    let Some((currency, _)) = by_currency.iter().max_by_key(|(_, sum)| **sum) else {
        return Ok("<p>No payments in this period.</p>".into());
    };
    let wallets: Vec<&str> = {
        let mut wallets: Vec<&str> = totals.iter().map(|t| t.wallet_id.as_str()).collect();
        wallets.sort_unstable();
        wallets.dedup();
        wallets
    };
    const COLOURS: [&str; 6] = ["#0b7a3e", "#1660cc", "#003087", "#b35c00", "#7a3e9d", "#57606a"];
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
        for wallet in &wallets {
            let value = day.get(wallet).copied().unwrap_or(0);
            if value == 0 {
                continue;
            }
            // Bar heights in whole pixels, from exact totals (no overflow for any total).
            let h = ((value * (height - 40) as u128 / max) as i64).max(1);
            y -= h;
            let colour = COLOURS[wallets.iter().position(|w| w == wallet).unwrap_or(0) % COLOURS.len()];
            bars.push_str(&format!(
                "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{h}\" fill=\"{colour}\"></rect>"
            ));
        }
        let label = &rfc3339((first_day + i as i64) * DAY_MS)[8..10];
        bars.push_str(&format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">{label}</text>",
            x + bar / 2,
            height - 5
        ));
    }
    let legend: String = wallets
        .iter()
        .enumerate()
        .map(|(i, w)| {
            format!(
                "<li><span class=\"dash__swatch\" data-colour=\"{}\"></span>{}</li>",
                i % COLOURS.len(),
                escape(w)
            )
        })
        .collect();
    let table_rows: String = totals
        .iter()
        .filter(|t| t.currency == *currency)
        .map(|t| {
            let view = total_view(t.clone()).map_err(|e| anyhow::anyhow!(e.message))?;
            Ok(format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                view.date,
                escape(&view.wallet_id),
                view.payments,
                escape(&money(t.amount_minor, &t.currency)),
                escape(&money(t.refunded_minor, &t.currency)),
                escape(&format!("{} {}", t.currency, view.net.minor_units_decimal(&t.currency))),
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(format!(
        "<svg class=\"dash__chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"Paid per day in {currency}, stacked by wallet\">{bars}</svg>\
         <ul class=\"dash__legend\">{legend}</ul>\
         <details><summary>The numbers</summary><table class=\"dash__table\" data-testid=\"totals\"><thead><tr><th>Day</th><th>Wallet</th><th>Payments</th><th>Paid</th><th>Refunded</th><th>Net</th></tr></thead><tbody>{table_rows}</tbody></table></details>",
        currency = escape(currency),
    ))
}
