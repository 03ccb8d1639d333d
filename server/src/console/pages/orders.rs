//! Orders: found by id or reference, amount (typed in major units), dates, status and wallet,
//! with every filter in the query string (a bookmark keeps the search); the list as CSV; an
//! order's page with its sessions, their history and the provider's references, its refunds and
//! the webhook deliveries about it; and refunds (operator and admin), asked on a second page
//! before they are made through the payments layer, as the merchant API makes them.

use super::super::{
    auth::Staff,
    i18n::Lang,
    layout::{csrf_field, scroll_region, Notice},
};
use super::{
    check_form,
    daily::{self, example_amount, parse_day, parse_major_units, parse_page, query_string, wallet_name},
    internal_error, problem, respond,
};
use crate::{
    app::{AppError, RefundInput, RefundOutcome},
    db::{OrderFilter, OrderRecord, OrderSummary, RefundRecord, RefundStatus, SessionRecord},
    domain::Role,
    domain::{new_id, refund as refund_rules, rfc3339},
    state::AppState,
};
use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Form,
};
use maud::{html, Markup};
use serde::Deserialize;
use wallet_checkout_contract::{Amount, Currency, ErrorCode, OrderId, SessionId, WalletId};

const PATH: &str = "/console/orders";
const ORDER_STATUSES: [&str; 3] = ["open", "paid", "canceled"];
/// Longest search text.
const MAX_TEXT_CHARS: usize = 100;
/// Deliveries shown on an order's page.
const ORDER_EVENTS: i64 = 50;

/// The list's filters as typed (each kept as it was, to show it again).
#[derive(Debug, Default, Deserialize)]
pub struct OrdersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    wallet: String,
    page: Option<String>,
}

impl OrdersQuery {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("q", self.q.as_str()),
            ("amount", self.amount.as_str()),
            ("currency", self.currency.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("status", self.status.as_str()),
            ("wallet", self.wallet.as_str()),
        ]
    }

    /// The store's filter and the page, or what is wrong with the input, in `lang`.
    fn parse(&self, lang: Lang, currencies: &[String]) -> Result<(OrderFilter, i64), String> {
        let text = self.q.trim();
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(lang.tf("orders.bad_text", &[("max", &MAX_TEXT_CHARS.to_string())]));
        }
        let currency_code = match self.currency.trim() {
            "" if !self.amount.trim().is_empty() && currencies.len() == 1 => Some(currencies[0].clone()),
            "" => None,
            code => Some(code.to_owned()),
        };
        let currency = match &currency_code {
            Some(code) => Some(Currency::parse(code).map_err(|_| lang.t("orders.bad_currency"))?),
            None => None,
        };
        let amount_minor = match (self.amount.trim(), currency) {
            ("", _) => None,
            (_, None) => return Err(lang.t("orders.amount_needs_currency")),
            (typed, Some(currency)) => Some(parse_major_units(typed, currency).ok_or_else(|| {
                lang.tf(
                    "orders.bad_amount",
                    &[
                        ("currency", currency.as_str()),
                        ("digits", &currency.exponent().to_string()),
                        ("example", &example_amount(currency)),
                    ],
                )
            })?),
        };
        let from = parse_day(&self.from).map_err(|_| lang.t("orders.bad_date"))?;
        let to = parse_day(&self.to).map_err(|_| lang.t("orders.bad_date"))?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(lang.t("orders.bad_range"));
            }
        }
        let status = self.status.trim();
        if !status.is_empty() && !ORDER_STATUSES.contains(&status) {
            return Err(lang.t("orders.bad_status"));
        }
        let wallet = self.wallet.trim();
        if !wallet.is_empty() && WalletId::parse(wallet).is_err() {
            return Err(lang.t("orders.bad_wallet"));
        }
        let page = parse_page(self.page.as_deref()).map_err(|_| lang.t("orders.bad_page"))?;
        let filter = OrderFilter {
            text: (!text.is_empty()).then(|| text.to_owned()),
            amount_minor,
            currency: currency_code,
            from,
            // The last day is included.
            to: to.map(|to| to + daily::DAY_MS),
            status: (!status.is_empty()).then(|| status.to_owned()),
            wallet: (!wallet.is_empty()).then(|| wallet.to_owned()),
        };
        Ok((filter, page))
    }
}

fn order_status(lang: Lang, status: &str) -> String {
    lang.t(&format!("orders.status_{status}"))
}

fn filters_form(
    state: &AppState,
    lang: Lang,
    query: &OrdersQuery,
    currencies: &[String],
    wallets: &[String],
) -> Markup {
    let t = |key: &str| lang.t(key);
    html! {
        form.filters method="get" action=(PATH) role="search" aria-label=(t("orders.search")) {
            div.field.field--wide {
                label for="q" { (t("orders.q")) }
                input #q type="search" name="q" value=(query.q) maxlength="200" autocomplete="off";
            }
            div.field {
                label for="amount" { (t("orders.amount")) }
                input #amount type="text" inputmode="decimal" name="amount" value=(query.amount) autocomplete="off" aria-describedby="amount-hint";
                span #amount-hint.hint { (t("orders.amount_hint")) }
            }
            div.field {
                label for="currency" { (t("orders.currency")) }
                select #currency name="currency" {
                    option value="" { (t("orders.any")) }
                    @for code in currencies {
                        option value=(code) selected[query.currency == *code] { (code) }
                    }
                    @if !query.currency.is_empty() && !currencies.contains(&query.currency) {
                        option value=(query.currency) selected { (query.currency) }
                    }
                }
            }
            div.field {
                label for="from" { (t("orders.from")) }
                input #from type="date" name="from" value=(query.from);
            }
            div.field {
                label for="to" { (t("orders.to")) }
                input #to type="date" name="to" value=(query.to);
            }
            div.field {
                label for="status" { (t("orders.status")) }
                select #status name="status" {
                    option value="" { (t("orders.any")) }
                    @for status in ORDER_STATUSES {
                        option value=(status) selected[query.status == status] { (order_status(lang, status)) }
                    }
                }
            }
            div.field {
                label for="wallet" { (t("orders.wallet")) }
                select #wallet name="wallet" {
                    option value="" { (t("orders.any")) }
                    @for wallet in wallets {
                        option value=(wallet) selected[query.wallet == *wallet] { (wallet_name(state, wallet)) }
                    }
                }
            }
            div.filters__actions {
                button.button type="submit" { (t("orders.search_button")) }
                a.button.button--quiet href=(PATH) { (t("orders.clear")) }
                a.button.button--quiet href=(format!("{PATH}.csv{}", query_string(&query.pairs()))) download="orders.csv" data-testid="csv" { (t("orders.csv")) }
            }
        }
    }
}

fn orders_table(state: &AppState, lang: Lang, orders: &[OrderSummary]) -> Markup {
    let t = |key: &str| lang.t(key);
    html! {
        (scroll_region(&t("orders.results"), html! {
            table.table data-testid="orders" {
                thead { tr {
                    th scope="col" { (t("orders.order")) }
                    th scope="col" { (t("table.reference")) }
                    th scope="col" { (t("orders.created")) }
                    th scope="col" { (t("table.amount")) }
                    th scope="col" { (t("table.status")) }
                    th scope="col" { (t("table.wallet")) }
                    th scope="col" { (t("table.refunded")) }
                } }
                tbody {
                    @for summary in orders {
                        @let order = &summary.order;
                        tr data-testid="order-row" {
                            td { a href=(format!("{PATH}/{}", order.id)) { code { (order.id) } } }
                            td { (order.reference.as_deref().unwrap_or("")) }
                            td { (lang.datetime(order.created_at)) }
                            td.amount { (lang.money(i128::from(order.amount.minor_units()), order.amount.currency().as_str())) }
                            td { span class=(format!("status status--{}", order.status.as_str())) { (order_status(lang, order.status.as_str())) } }
                            td { (summary.paid_wallet.as_deref().map(|w| wallet_name(state, w)).unwrap_or_default()) }
                            td.amount {
                                @if summary.refunded_minor > 0 {
                                    (lang.money(i128::from(summary.refunded_minor), order.amount.currency().as_str()))
                                }
                            }
                        }
                    }
                }
            }
        }))
    }
}

/// `GET /console/orders` (everyone signed in).
pub async fn list(State(state): State<AppState>, staff: Staff, Query(query): Query<OrdersQuery>) -> Response {
    let lang = staff.lang;
    let (currencies, wallets) = match (state.db.order_currencies().await, state.db.session_wallets().await) {
        (Ok(currencies), Ok(wallets)) => (currencies, wallets),
        (Err(error), _) | (_, Err(error)) => return internal_error(lang, error),
    };
    let form = filters_form(&state, lang, &query, &currencies, &wallets);
    let (filter, page) = match query.parse(lang, &currencies) {
        Ok(parsed) => parsed,
        Err(message) => {
            let body = html! { section.card { (form) } };
            return respond(
                &state,
                &staff,
                PATH,
                &lang.t("orders.title"),
                Some(Notice::Problem(message)),
                body,
            );
        }
    };
    let mut orders =
        match state.db.find_orders(&filter, daily::PAGE_SIZE + 1, (page - 1) * daily::PAGE_SIZE).await {
            Ok(orders) => orders,
            Err(error) => return internal_error(lang, error),
        };
    let has_more = orders.len() as i64 > daily::PAGE_SIZE;
    orders.truncate(daily::PAGE_SIZE as usize);
    let body = html! {
        section.card { (form) }
        section aria-labelledby="results" {
            h2 #results { (lang.t("orders.results")) }
            @if orders.is_empty() {
                p data-testid="no-orders" { (lang.t("orders.none")) }
            } @else {
                (orders_table(&state, lang, &orders))
            }
            (daily::pager(lang, PATH, &query.pairs(), page, has_more))
        }
    };
    respond(&state, &staff, PATH, &lang.t("orders.title"), None, body)
}

/// `GET /console/orders.csv`: the list with the same filters, every page of it, as CSV (every
/// field neutralised against formulas, as the reports are).
pub async fn csv(State(state): State<AppState>, staff: Staff, Query(query): Query<OrdersQuery>) -> Response {
    let lang = staff.lang;
    let currencies = match state.db.order_currencies().await {
        Ok(currencies) => currencies,
        Err(error) => return internal_error(lang, error),
    };
    let filter = match query.parse(lang, &currencies) {
        Ok((filter, _)) => filter,
        Err(message) => return (StatusCode::BAD_REQUEST, message).into_response(),
    };
    let limit = crate::db::MAX_REPORT_ROWS;
    let orders = match state.db.find_orders(&filter, limit, 0).await {
        Ok(orders) => orders,
        Err(error) => return internal_error(lang, error),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"orders.csv\""),
        ],
        to_csv(&orders),
    )
        .into_response()
}

/// The orders as CSV: amounts in major units of their currency, times in RFC 3339.
pub fn to_csv(orders: &[OrderSummary]) -> String {
    use crate::domain::text::csv_field;
    let mut out = String::from(
        "order_id,reference,description,status,amount,currency,refunded,wallet_id,paid_session_id,created_at\r\n",
    );
    for summary in orders {
        let order = &summary.order;
        let currency = order.amount.currency();
        let fields = [
            order.id.to_string(),
            order.reference.clone().unwrap_or_default(),
            order.description.clone(),
            order.status.as_str().to_owned(),
            order.amount.to_decimal_string(),
            currency.as_str().to_owned(),
            currency.decimal_string(u128::from(summary.refunded_minor)),
            summary.paid_wallet.clone().unwrap_or_default(),
            order.paid_session_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            rfc3339(order.created_at),
        ];
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// What an order's page shows.
struct OrderView {
    order: OrderRecord,
    sessions: Vec<(SessionRecord, Vec<crate::db::StatusChange>)>,
    refunds: Vec<RefundRecord>,
    events: Vec<crate::db::EventRecord>,
}

impl OrderView {
    async fn load(state: &AppState, id: &OrderId) -> anyhow::Result<Option<Self>> {
        let Some(order) = state.db.order(id).await? else { return Ok(None) };
        let mut sessions = Vec::new();
        for session in state.db.sessions_of(id).await? {
            let history = state.db.history(&session.id).await?;
            sessions.push((session, history));
        }
        let refunds = state.db.refunds_of(id).await?;
        let events = state.db.events_of_order(id.as_str(), ORDER_EVENTS).await?;
        Ok(Some(Self { order, sessions, refunds, events }))
    }

    /// What is left to refund of a paid session.
    fn left(&self, session: &SessionRecord) -> u64 {
        let taken: u64 = self
            .refunds
            .iter()
            .filter(|r| r.session_id == session.id && r.status != RefundStatus::Failed)
            .map(|r| r.amount.minor_units())
            .sum();
        refund_rules::left_to_refund(session.amount.minor_units(), taken)
    }

    /// The paid sessions with something left to refund, the one that paid the order first.
    fn refundable(&self) -> Vec<&SessionRecord> {
        let mut sessions: Vec<&SessionRecord> = self
            .sessions
            .iter()
            .map(|(session, _)| session)
            .filter(|session| session.paid_at.is_some() && self.left(session) > 0)
            .collect();
        sessions.sort_by_key(|session| Some(&session.id) != self.order.paid_session_id.as_ref());
        sessions
    }
}

/// The refund form as typed.
#[derive(Debug, Default, Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

fn provider_references(lang: Lang, session: &SessionRecord) -> Markup {
    let provider = session.provider.as_deref().unwrap_or("");
    let transaction_key =
        crate::providers::find_wallet(provider).map_or("orders.ref_transaction", |w| w.reference_label);
    let references = [
        ("orders.ref_order", session.refs.order_id.as_deref()),
        (transaction_key, session.refs.transaction_id.as_deref()),
        ("orders.ref_capture", session.refs.capture_id.as_deref()),
    ];
    html! {
        @if references.iter().any(|(_, value)| value.is_some()) {
            dl.refs data-testid="provider-refs" {
                @for (key, value) in references {
                    @if let Some(value) = value {
                        dt { (lang.t(key)) }
                        dd { code { (value) } }
                    }
                }
            }
        }
    }
}

fn refund_status(lang: Lang, refund: &RefundRecord) -> Markup {
    let status = refund.status.as_str();
    html! {
        span class=(format!("status status--{status}")) { (lang.t(&format!("orders.refund_status_{status}"))) }
        @if let Some(reason) = &refund.failure_reason { " " span.hint { (reason) } }
    }
}

fn order_body(state: &AppState, staff: &Staff, view: &OrderView, typed: &RefundForm) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let order = &view.order;
    let money = |minor: u64, currency: Currency| lang.money(i128::from(minor), currency.as_str());
    let refundable = view.refundable();
    html! {
        section.card aria-labelledby="summary" {
            h2 #summary { (t("orders.summary")) }
            dl.facts {
                dt { (t("orders.order")) } dd { code data-testid="order-id" { (order.id) } }
                dt { (t("table.reference")) } dd data-testid="order-reference" { (order.reference.as_deref().unwrap_or("—")) }
                dt { (t("orders.description")) } dd { (order.description) }
                dt { (t("table.amount")) } dd.amount { (money(order.amount.minor_units(), order.amount.currency())) }
                dt { (t("table.status")) } dd data-testid="order-status" { span class=(format!("status status--{}", order.status.as_str())) { (order_status(lang, order.status.as_str())) } }
                dt { (t("orders.created")) } dd { (lang.datetime(order.created_at)) }
            }
        }
        @if staff.may(Role::Operator) && !refundable.is_empty() {
            section.card aria-labelledby="refund" {
                h2 #refund { (t("orders.refund")) }
                form.form method="post" action=(format!("{PATH}/{}/refund", order.id)) data-testid="refund-form" {
                    (csrf_field(staff))
                    @if refundable.len() == 1 {
                        input type="hidden" name="session" value=(refundable[0].id);
                        p.hint { (lang.tf("orders.refund_left", &[
                            ("left", &money(view.left(refundable[0]), refundable[0].amount.currency())),
                            ("wallet", &wallet_name(state, refundable[0].wallet_id.as_str())),
                        ])) }
                    } @else {
                        label for="refund-session" { (t("orders.refund_session")) }
                        select #refund-session name="session" {
                            @for session in &refundable {
                                option value=(session.id) selected[typed.session == session.id.as_str()] {
                                    (session.id) " · " (wallet_name(state, session.wallet_id.as_str())) " · "
                                    (lang.tf("orders.left", &[("left", &money(view.left(session), session.amount.currency()))]))
                                }
                            }
                        }
                    }
                    label for="refund-amount" { (lang.tf("orders.refund_amount", &[("currency", order.amount.currency().as_str())])) }
                    input #refund-amount type="text" inputmode="decimal" name="amount" value=(typed.amount) autocomplete="off" aria-describedby="refund-amount-hint";
                    span #refund-amount-hint.hint { (t("orders.refund_amount_hint")) }
                    label for="refund-reason" { (t("orders.refund_reason")) }
                    input #refund-reason type="text" name="reason" value=(typed.reason) maxlength=(refund_rules::MAX_REASON_CHARS) required autocomplete="off";
                    button.button type="submit" { (t("orders.refund_review")) }
                }
            }
        }
        section.card aria-labelledby="sessions" {
            h2 #sessions { (t("orders.sessions")) }
            @if view.sessions.is_empty() { p { (t("orders.no_sessions")) } }
            @for (session, history) in &view.sessions {
                article.session data-testid="session" aria-labelledby=(format!("s-{}", session.id)) {
                    h3 #(format!("s-{}", session.id)) {
                        code { (session.id) } " · " (wallet_name(state, session.wallet_id.as_str())) " · "
                        span class=(format!("status status--{}", session.status)) { (t(&format!("status.{}", session.status))) }
                        @if let Some(flag) = &session.flag { " " span.flag { (flag) } }
                    }
                    dl.facts {
                        dt { (t("table.amount")) } dd.amount { (money(session.amount.minor_units(), session.amount.currency())) }
                        @if session.refunded_minor > 0 {
                            dt { (t("table.refunded")) } dd.amount { (money(session.refunded_minor, session.amount.currency())) }
                        }
                        @if let Some(provider) = &session.provider { dt { (t("orders.provider")) } dd { (provider) } }
                        dt { (t("orders.created")) } dd { (lang.datetime(session.created_at)) }
                        @if let Some(paid_at) = session.paid_at { dt { (t("orders.paid_at")) } dd { (lang.datetime(paid_at)) } }
                    }
                    (provider_references(lang, session))
                    h4 { (t("orders.history")) }
                    ol.history {
                        @for change in history {
                            li {
                                time datetime=(rfc3339(change.at)) { (lang.datetime(change.at)) } " · "
                                (t(&format!("status.{}", change.to))) " (" (change.reason) ")"
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="refunds" {
            h2 #refunds { (t("orders.refunds")) }
            @if view.refunds.is_empty() {
                p data-testid="no-refunds" { (t("orders.no_refunds")) }
            } @else {
                (scroll_region(&t("orders.refunds"), html! {
                    table.table data-testid="refunds" {
                        thead { tr {
                            th scope="col" { (t("orders.refund_id")) }
                            th scope="col" { (t("table.amount")) }
                            th scope="col" { (t("orders.reason")) }
                            th scope="col" { (t("table.status")) }
                            th scope="col" { (t("orders.created")) }
                            th scope="col" { (t("orders.updated")) }
                        } }
                        tbody {
                            @for refund in &view.refunds {
                                tr data-testid="refund-row" {
                                    td { code { (refund.id) } }
                                    td.amount { (money(refund.amount.minor_units(), refund.amount.currency())) }
                                    td { (refund.reason) }
                                    td { (refund_status(lang, refund)) }
                                    td { (lang.datetime(refund.created_at)) }
                                    td { (lang.datetime(refund.updated_at)) }
                                }
                            }
                        }
                    }
                }))
            }
        }
        section.card aria-labelledby="order-deliveries" {
            h2 #order-deliveries { (t("orders.deliveries")) }
            @if view.events.is_empty() {
                p { (t("orders.no_deliveries")) }
            } @else {
                (scroll_region(&t("orders.deliveries"), daily::deliveries_table(lang, staff.may(Role::Admin).then_some(staff), &view.events)))
            }
        }
    }
}

fn parse_order_id(raw: &str) -> Option<OrderId> {
    OrderId::parse(raw.to_owned()).ok()
}

async fn order_page(
    state: &AppState,
    staff: &Staff,
    id: &str,
    notice: Option<Notice>,
    typed: &RefundForm,
) -> Response {
    let lang = staff.lang;
    let Some(id) = parse_order_id(id) else {
        return problem(state, Some(staff), lang, StatusCode::NOT_FOUND, "error.not_found");
    };
    match OrderView::load(state, &id).await {
        Ok(Some(view)) => {
            let title = lang.tf("orders.order_title", &[("id", id.as_str())]);
            respond(state, staff, PATH, &title, notice, order_body(state, staff, &view, typed))
        }
        Ok(None) => problem(state, Some(staff), lang, StatusCode::NOT_FOUND, "error.not_found"),
        Err(error) => internal_error(lang, error),
    }
}

/// `GET /console/orders/{id}` (everyone signed in).
pub async fn show(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    order_page(&state, &staff, &id, None, &RefundForm::default()).await
}

/// A refund checked against the order: which session, how much, why.
struct CheckedRefund {
    session: SessionRecord,
    amount: Amount,
    reason: String,
}

/// The form's words for a reason the rules refuse.
fn bad_reason(lang: Lang) -> String {
    lang.tf("orders.refund_bad_reason", &[("max", &refund_rules::MAX_REASON_CHARS.to_string())])
}

/// Checks a refund's fields; `Err` is the message to show with the form.
fn check_refund(
    lang: Lang,
    view: &OrderView,
    session: &str,
    amount: Result<Option<u64>, ()>,
    reason: &str,
) -> Result<CheckedRefund, String> {
    let Some(session) = view.refundable().into_iter().find(|s| s.id.as_str() == session).cloned() else {
        return Err(lang.t("orders.refund_nothing"));
    };
    let currency = session.amount.currency();
    let left = view.left(&session);
    let minor = match amount {
        Ok(Some(minor)) => minor,
        Ok(None) => left,
        Err(()) => {
            return Err(lang.tf(
                "orders.bad_amount",
                &[
                    ("currency", currency.as_str()),
                    ("digits", &currency.exponent().to_string()),
                    ("example", &example_amount(currency)),
                ],
            ))
        }
    };
    if minor == 0 {
        return Err(lang.t("orders.refund_zero"));
    }
    if refund_rules::refund_amount(Some(minor), left).is_err() {
        return Err(
            lang.tf("orders.refund_too_much", &[("left", &lang.money(i128::from(left), currency.as_str()))])
        );
    }
    let Ok(reason) = refund_rules::check_reason(reason) else {
        return Err(bad_reason(lang));
    };
    let amount = Amount::new(minor, currency).map_err(|_| lang.t("orders.refund_zero"))?;
    Ok(CheckedRefund { session, amount, reason: reason.to_owned() })
}

/// `POST /console/orders/{id}/refund` (operator): checks the refund and asks for confirmation.
pub async fn review_refund(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<RefundForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Operator) {
        return answer;
    }
    let lang = staff.lang;
    let Some(order_id) = parse_order_id(&id) else {
        return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found");
    };
    let view = match OrderView::load(&state, &order_id).await {
        Ok(Some(view)) => view,
        Ok(None) => return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found"),
        Err(error) => return internal_error(lang, error),
    };
    let amount = match form.amount.trim() {
        "" => Ok(None),
        typed => {
            let currency = view
                .sessions
                .iter()
                .find(|(s, _)| s.id.as_str() == form.session)
                .map_or(view.order.amount.currency(), |(s, _)| s.amount.currency());
            parse_major_units(typed, currency).map(Some).ok_or(())
        }
    };
    let refund = match check_refund(lang, &view, &form.session, amount, &form.reason) {
        Ok(refund) => refund,
        Err(message) => return order_page(&state, &staff, &id, Some(Notice::Problem(message)), &form).await,
    };
    let currency = refund.amount.currency();
    let question = lang.tf(
        "orders.refund_question",
        &[
            ("amount", &lang.money(i128::from(refund.amount.minor_units()), currency.as_str())),
            ("paid", &lang.money(i128::from(refund.session.amount.minor_units()), currency.as_str())),
            ("wallet", &wallet_name(&state, refund.session.wallet_id.as_str())),
            ("reason", &refund.reason),
        ],
    );
    // One key per confirmation page: sending it twice makes one refund.
    let key = new_id("console_refund");
    daily::confirm_page(
        &state,
        &staff,
        PATH,
        &lang.t("orders.refund_confirm_title"),
        &question,
        &format!("{PATH}/{}/refund/confirm", order_id),
        &[
            ("session", refund.session.id.as_str()),
            ("amount_minor", &refund.amount.minor_units().to_string()),
            ("reason", &refund.reason),
            ("key", &key),
        ],
        &lang.t("orders.refund_confirm"),
        &format!("{PATH}/{}", order_id),
        true,
    )
}

#[derive(Debug, Deserialize)]
pub struct ConfirmRefundForm {
    csrf: String,
    session: String,
    amount_minor: String,
    reason: String,
    key: String,
}

/// `POST /console/orders/{id}/refund/confirm` (operator): the refund, through the payments layer.
pub async fn confirm_refund(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<ConfirmRefundForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Operator) {
        return answer;
    }
    let lang = staff.lang;
    let Some(order_id) = parse_order_id(&id) else {
        return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found");
    };
    let key_ok = form.key.len() <= 64 && form.key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let (Ok(session_id), Ok(minor), true) =
        (SessionId::parse(form.session.clone()), form.amount_minor.parse::<u64>(), key_ok)
    else {
        return super::bad_form(&state, &staff);
    };
    let view = match OrderView::load(&state, &order_id).await {
        Ok(Some(view)) => view,
        Ok(None) => return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found"),
        Err(error) => return internal_error(lang, error),
    };
    let Some((session, _)) = view.sessions.iter().find(|(s, _)| s.id == session_id) else {
        return problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found");
    };
    let Ok(reason) = refund_rules::check_reason(&form.reason) else {
        let message = bad_reason(lang);
        return order_page(&state, &staff, &id, Some(Notice::Problem(message)), &RefundForm::default()).await;
    };
    let Ok(amount) = Amount::new(minor, session.amount.currency()) else {
        return super::bad_form(&state, &staff);
    };
    let input = RefundInput {
        order_id: order_id.clone(),
        session_id: Some(session_id),
        amount: Some(amount),
        reason: reason.to_owned(),
        idempotency_key: Some(form.key.clone()),
        by: staff.actor(),
        public_base: state.public_base(&headers),
    };
    let notice = match state.app.refund(input).await {
        Ok(RefundOutcome::Created(refund)) => refund_notice(lang, &refund),
        Ok(RefundOutcome::Replayed(refund)) => refund_notice(lang, &refund),
        Err(AppError::Refused { code: ErrorCode::NotRefundable, .. }) => {
            let left = view.left(session);
            Notice::Problem(lang.tf(
                "orders.refund_too_much",
                &[("left", &lang.money(i128::from(left), session.amount.currency().as_str()))],
            ))
        }
        Err(AppError::Refused { code, message }) => {
            tracing::warn!(order_id = %order_id, ?code, %message, "console refund refused");
            Notice::Problem(lang.t("orders.refund_refused"))
        }
        Err(error) => return internal_error(lang, error),
    };
    order_page(&state, &staff, &id, Some(notice), &RefundForm::default()).await
}

fn refund_notice(lang: Lang, refund: &RefundRecord) -> Notice {
    let amount = lang.money(i128::from(refund.amount.minor_units()), refund.amount.currency().as_str());
    match refund.status {
        RefundStatus::Succeeded => Notice::Done(lang.tf("orders.refund_done", &[("amount", &amount)])),
        RefundStatus::Pending => {
            Notice::Done(lang.tf("orders.refund_pending_notice", &[("amount", &amount)]))
        }
        RefundStatus::Failed => {
            Notice::Problem(lang.tf("orders.refund_failed_notice", &[("amount", &amount)]))
        }
    }
}
