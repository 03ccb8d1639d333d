//! `/api/v1/reports` (viewer): transactions filtered by time, status and wallet (JSON or CSV),
//! and totals per day and wallet of what was paid.

use super::{time, MAX_LIMIT};
use crate::{
    app::business,
    auth::Caller,
    db::{TransactionFilter, TransactionRow},
    domain::takings::DayTotal,
    domain::Role,
    domain::{parse_instant, text::csv_field, UnixMillis},
    error::{ApiError, QueryParams},
    state::AppState,
};
use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    Json,
};
use serde::{Deserialize, Serialize};
use wallet_checkout_contract::{Amount, Currency, SessionStatus, WalletId};

use crate::db::MAX_REPORT_ROWS;
use crate::domain::takings::DAY_MS;

#[derive(Debug, Deserialize)]
pub struct TransactionsQuery {
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
    wallet: Option<String>,
    limit: Option<String>,
    format: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TransactionView {
    pub session_id: String,
    pub order_id: String,
    pub reference: Option<String>,
    pub wallet_id: String,
    pub status: String,
    pub amount: Amount,
    /// Given back by succeeded refunds so far.
    pub amount_refunded: Amount,
    pub flag: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize)]
pub struct Transactions {
    pub data: Vec<TransactionView>,
}

fn amount(minor: i64, currency: &str) -> Result<Amount, ApiError> {
    let currency = Currency::parse(currency).map_err(ApiError::internal)?;
    Amount::new(u64::try_from(minor).map_err(ApiError::internal)?, currency).map_err(ApiError::internal)
}

fn range(
    from: Option<&str>,
    to: Option<&str>,
    default_days: i64,
    now: UnixMillis,
) -> Result<(UnixMillis, UnixMillis), ApiError> {
    let to = match to {
        Some(raw) => parse_instant(raw)
            .ok_or_else(|| ApiError::invalid_request("to must be an RFC 3339 time or a date (YYYY-MM-DD)"))?,
        None => now + 1,
    };
    let from = match from {
        Some(raw) => parse_instant(raw).ok_or_else(|| {
            ApiError::invalid_request("from must be an RFC 3339 time or a date (YYYY-MM-DD)")
        })?,
        None => to - default_days * DAY_MS,
    };
    if from > to {
        return Err(ApiError::invalid_request("from must not be after to"));
    }
    Ok((from, to))
}

/// `GET /api/v1/reports/transactions`: sessions newest first; `format=csv` for a spreadsheet.
pub async fn transactions(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TransactionsQuery>,
) -> Result<Response, ApiError> {
    caller.require(Role::Viewer)?;
    let (from, to) = range(query.from.as_deref(), query.to.as_deref(), 30, state.now())?;
    if let Some(status) = &query.status {
        SessionStatus::parse(status)
            .ok_or_else(|| ApiError::invalid_request("status must be a session status"))?;
    }
    if let Some(wallet) = &query.wallet {
        WalletId::parse(wallet.as_str()).map_err(|e| ApiError::invalid_request(format!("wallet {e}")))?;
    }
    let limit = match query.limit.as_deref() {
        None => MAX_LIMIT,
        Some(raw) => {
            raw.parse::<i64>().ok().filter(|n| (1..=MAX_REPORT_ROWS).contains(n)).ok_or_else(|| {
                ApiError::invalid_request(format!("limit must be a whole number from 1 to {MAX_REPORT_ROWS}"))
            })?
        }
    };
    let csv = match query.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::invalid_request("format must be json or csv")),
    };
    let filter = TransactionFilter {
        from: Some(from),
        to: Some(to),
        status: query.status,
        wallet: query.wallet,
        limit,
    };
    let rows = state.db.transactions(&filter).await.map_err(ApiError::internal)?;
    if csv {
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"transactions.csv\""),
            ],
            to_csv(&rows),
        )
            .into_response());
    }
    let data = rows
        .into_iter()
        .map(|row| {
            Ok(TransactionView {
                amount: amount(row.amount_minor, &row.currency)?,
                amount_refunded: amount(row.refunded_minor, &row.currency)?,
                session_id: row.session_id,
                order_id: row.order_id,
                reference: row.reference,
                wallet_id: row.wallet_id,
                status: row.status,
                flag: row.flag,
                created_at: time(row.created_at),
                updated_at: time(row.updated_at),
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(Transactions { data }).into_response())
}

pub fn to_csv(rows: &[TransactionRow]) -> String {
    let mut out = String::from(
        "session_id,order_id,reference,wallet_id,status,amount,currency,refunded,flag,created_at,updated_at\r\n",
    );
    for row in rows {
        let decimal = |minor: i64| {
            Currency::parse(&row.currency)
                .map(|c| c.decimal_string(u128::try_from(minor).unwrap_or_default()))
                .unwrap_or_default()
        };
        let fields = [
            row.session_id.clone(),
            row.order_id.clone(),
            row.reference.clone().unwrap_or_default(),
            row.wallet_id.clone(),
            row.status.clone(),
            decimal(row.amount_minor),
            row.currency.clone(),
            decimal(row.refunded_minor),
            row.flag.clone().unwrap_or_default(),
            time(row.created_at),
            time(row.updated_at),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct TotalsQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TotalView {
    /// The day, in UTC.
    pub date: String,
    pub wallet_id: String,
    /// Payments that succeeded that day, and what they came to.
    pub payments: i64,
    pub amount: TotalAmount,
    /// Refunds that succeeded that day (of payments with this wallet), and what they came to.
    pub refunds: i64,
    pub refunded: TotalAmount,
    /// What was paid less what was refunded that day (negative when more went back).
    pub net: TotalAmount,
}

/// A sum of payments. `minor_units` is a string of digits: a day's total can pass 2^53, beyond
/// what a JSON number holds exactly in most languages.
#[derive(Debug, Serialize)]
pub struct TotalAmount {
    pub minor_units: String,
    pub currency: String,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub data: Vec<TotalView>,
}

/// `GET /api/v1/reports/daily-totals`: succeeded payments per day and wallet (default: 30 days).
pub async fn daily_totals(
    State(state): State<AppState>,
    caller: Caller,
    QueryParams(query): QueryParams<TotalsQuery>,
) -> Result<Json<Totals>, ApiError> {
    caller.require(Role::Viewer)?;
    let (from, to) = range(query.from.as_deref(), query.to.as_deref(), 30, state.now())?;
    let totals = business::daily_totals(&state.db, from, to).await.map_err(ApiError::internal)?;
    Ok(Json(Totals { data: totals.into_iter().map(total_view).collect::<Result<_, _>>()? }))
}

pub fn total_view(total: DayTotal) -> Result<TotalView, ApiError> {
    let net = total.net();
    Ok(TotalView {
        date: time(total.day * DAY_MS)[..10].to_owned(),
        wallet_id: total.wallet_id,
        payments: total.payments,
        refunds: total.refunds,
        net: TotalAmount { minor_units: net.to_string(), currency: total.currency.clone() },
        refunded: TotalAmount {
            minor_units: total.refunded_minor.to_string(),
            currency: total.currency.clone(),
        },
        amount: TotalAmount { minor_units: total.amount_minor.to_string(), currency: total.currency },
    })
}

impl TotalAmount {
    /// The amount in plain decimal form (`-12.50`), by the currency's minor unit.
    pub fn minor_units_decimal(&self, currency: &str) -> String {
        let (sign, digits) = match self.minor_units.strip_prefix('-') {
            Some(digits) => ("-", digits),
            None => ("", self.minor_units.as_str()),
        };
        let decimal = Currency::parse(currency)
            .map(|c| c.decimal_string(digits.parse().unwrap_or_default()))
            .unwrap_or_else(|_| digits.to_owned());
        format!("{sign}{decimal}")
    }
}
