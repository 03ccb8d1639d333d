//! Setup step 5, test payments (admin): a small order and a payment session for a wallet, made
//! through the same code as the merchant API and the widget (`store.create_order`,
//! `payments.start`). For a wallet the sandbox offers, the person picks a scripted outcome
//! (succeeded, declined, processing then failed, paid after expiry) and the sandbox wallet carries
//! it out as its pay page does; for a real provider in test mode (never a live one: no real
//! money moves here), the page shows the QR code's
//! link or the redirect to pay in the provider's own sandbox. The result page shows the session's
//! status and the events it produced (the outbox that becomes the merchant's webhooks).

use super::super::{
    auth::Staff,
    layout::{csrf_field, scroll_region, Notice},
};
use super::{audit, check_form, internal_error, problem};
use crate::domain::AuditAction;
use crate::{
    app::{StartPayment, Started},
    db::{NewMerchantOrder, NewOrder, OrderCreation},
    domain::Role,
    domain::{new_order_id, rfc3339, IdempotencyKey, ReturnUrl},
    providers::{sandbox::Outcome, WalletOffer},
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    Form,
};
use maud::{html, Markup};
use serde::Deserialize;
use wallet_checkout_contract::{Amount, Currency, DeviceKind, NextAction, SessionId, WalletId, WalletOption};

const PATH: &str = "/console/setup/test";

/// The test order's amount: 1.00 (100 minor units) of CNY, or else of the first currency the
/// wallet takes, or the wallet's smallest amount if it takes no less.
const TEST_AMOUNT_MINOR: u64 = 100;

/// The sandbox's scripted outcomes, in the order offered.
/// The outcome where nothing happens: the session is left unpaid until it expires.
const EXPIRE: &str = "expire";

const OUTCOMES: [Outcome; 4] =
    [Outcome::Succeed, Outcome::Decline, Outcome::ProcessThenFail, Outcome::PayAfterExpiry];

fn test_amount(offer: &WalletOffer) -> Option<Amount> {
    let currencies = std::iter::once("CNY").chain(offer.currencies.iter().map(String::as_str));
    currencies
        .filter_map(|code| Currency::parse(code).ok())
        .filter_map(|currency| Amount::new(TEST_AMOUNT_MINOR.max(offer.min_minor_units), currency).ok())
        .find(|amount| offer.accepts(amount))
}

/// The wallets a test payment can be made with, and the amount for each.
fn testable_wallets(state: &AppState) -> Vec<(WalletOption, Amount)> {
    state
        .providers
        .wallets()
        .into_iter()
        .filter(|wallet| testable(state, &wallet.id))
        .filter_map(|wallet| {
            let amount = test_amount(&state.providers.offer(&wallet.id)?)?;
            Some((wallet, amount))
        })
        .collect()
}

/// Only wallets whose provider takes no real money: the sandbox, or a provider in test mode.
fn testable(state: &AppState, wallet: &WalletId) -> bool {
    state.providers.provider_for(wallet).is_some_and(|provider| !provider.livemode())
}

fn is_sandbox(state: &AppState, wallet: &WalletId) -> bool {
    state.providers.provider_for(wallet).is_some_and(|provider| provider.name() == "sandbox")
}

fn form(state: &AppState, staff: &Staff) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let wallets = testable_wallets(state);
    html! {
        p { (t("testpay.intro")) }
        @if wallets.is_empty() {
            p data-testid="testpay-none" { (t("testpay.no_wallets")) }
        } @else {
            section.card aria-labelledby="new-test" {
                h2 #new-test { (t("testpay.new")) }
                form.form method="post" action=(PATH) {
                    (csrf_field(staff))
                    label for="wallet" { (t("testpay.wallet")) }
                    select #wallet name="wallet" {
                        @for (wallet, amount) in &wallets {
                            @let provider = state.providers.provider_for(&wallet.id).map(|p| p.name()).unwrap_or_default();
                            option value=(wallet.id) {
                                (wallet.name) " (" (provider) ", " (lang.money(i128::from(amount.minor_units()), amount.currency().as_str())) ")"
                            }
                        }
                    }
                    label for="outcome" { (t("testpay.outcome")) }
                    select #outcome name="outcome" aria-describedby="outcome-hint" {
                        @for outcome in OUTCOMES {
                            option value=(outcome.path()) { (t(&format!("testpay.outcome.{}", outcome.path()))) }
                        }
                        option value=(EXPIRE) { (t("testpay.outcome.expire")) }
                    }
                    p.hint #outcome-hint { (t("testpay.outcome_hint")) }
                    button.button type="submit" data-testid="testpay-start" { (t("testpay.start")) }
                }
            }
        }
    }
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return super::forbidden(&state, &staff);
    }
    super::setup::step_page(&state, &staff, "test", None, form(&state, &staff)).await
}

#[derive(Debug, Deserialize)]
pub struct StartForm {
    csrf: String,
    #[serde(default)]
    wallet: String,
    #[serde(default)]
    outcome: String,
}

pub async fn start(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(request): Form<StartForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &request.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let again = |key: &str| {
        let notice = Notice::Problem(lang.t(key));
        super::setup::step_page(&state, &staff, "test", Some(notice), form(&state, &staff))
    };
    // `None`: no script, the session expires unpaid.
    let outcome = match request.outcome.trim() {
        EXPIRE => Some(None),
        other => Outcome::parse(other).map(Some),
    };
    let (Ok(wallet), Some(outcome)) = (WalletId::parse(request.wallet.trim()), outcome) else {
        return again("testpay.invalid").await;
    };
    let Some((_, amount)) = testable_wallets(&state).into_iter().find(|(offered, _)| offered.id == wallet)
    else {
        return again("testpay.invalid").await;
    };
    let now = state.now();
    let new = NewMerchantOrder {
        order: NewOrder {
            id: new_order_id(),
            description: lang.t("testpay.order_description"),
            amount,
            reference: Some(format!("console-test-{now}")),
            metadata: Default::default(),
            created_at: now,
        },
        idempotency_key: None,
        request_hash: String::new(),
    };
    let order = match state.db.create_order(&new).await {
        Ok(OrderCreation::Created(order) | OrderCreation::Replayed(order)) => order,
        Err(error) => return internal_error(lang, error),
    };
    let public_base = state.public_base(&headers);
    let return_url =
        public_base.join("/console/setup/test").ok().and_then(|url| ReturnUrl::parse(url.as_str()).ok());
    let (Some(return_url), Ok(key)) =
        (return_url, IdempotencyKey::parse(&format!("console-test-{}", order.id)))
    else {
        return internal_error(lang, "cannot make the test session's return URL or key");
    };
    let started = state
        .app
        .start(StartPayment {
            order_id: order.id.clone(),
            wallet_id: wallet.clone(),
            return_url,
            device: DeviceKind::Desktop,
            idempotency_key: key,
            request_hash: format!("console-test-{}", order.id),
            client_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            public_base,
        })
        .await;
    let session = match started {
        Ok(Started::Created(session) | Started::Replayed(session)) => session,
        Err(error) => {
            tracing::warn!(?error, "a console test payment could not start");
            return again("testpay.failed").await;
        }
    };
    let scripted = is_sandbox(&state, &wallet);
    if let Err(answer) = audit(
        &state,
        &staff,
        AuditAction::TestPaymentCreate,
        session.id.as_str(),
        serde_json::json!({ "order_id": order.id.as_str(), "wallet": wallet.as_str(), "outcome": scripted.then(|| outcome.map_or(EXPIRE, Outcome::path)) }),
    )
    .await
    {
        return answer;
    }
    if let (true, Some(outcome)) = (scripted, outcome) {
        if let Some(sandbox) = &state.sandbox {
            if let Err(error) = sandbox.decide(session.id.as_str(), outcome, session.expires_at).await {
                return internal_error(lang, error);
            }
        }
    }
    Redirect::to(&format!("{PATH}/{}", session.id.as_str())).into_response()
}

/// The result of a test payment: its status, how to pay it (real providers), and its events.
pub async fn result(State(state): State<AppState>, staff: Staff, Path(id): Path<String>) -> Response {
    if !staff.may(Role::Admin) {
        return super::forbidden(&state, &staff);
    }
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let not_found = || problem(&state, Some(&staff), lang, StatusCode::NOT_FOUND, "error.not_found");
    let Ok(id) = SessionId::parse(id) else { return not_found() };
    let session = match state.db.session(&id).await {
        Ok(Some(session)) => session,
        Ok(None) => return not_found(),
        Err(error) => return internal_error(lang, error),
    };
    let events = match state.db.events(Some(session.id.as_str()), 50).await {
        Ok(mut events) => {
            events.reverse();
            events
        }
        Err(error) => return internal_error(lang, error),
    };
    let status = session.status.as_str();
    let scripted = session.provider.as_deref() == Some("sandbox");
    let body = html! {
        section.card aria-labelledby="result" data-testid="testpay-result" {
            h2 #result { (t("testpay.result")) }
            p.figure {
                span class=(format!("status status--{status}")) data-testid="testpay-status" { (t(&format!("status.{status}"))) }
            }
            p {
                (session.wallet_id) " · " (session.provider.as_deref().unwrap_or("")) " · "
                (lang.money(i128::from(session.amount.minor_units()), session.amount.currency().as_str()))
            }
            p.hint { (t("table.session")) " " code { (session.id.as_str()) } " · " (t("testpay.order")) " " code { (session.order_id.as_str()) } }
            @if matches!(status, "pending" | "processing") {
                p.hint data-testid="testpay-waiting" { (t("testpay.waiting")) " " a href=(format!("{PATH}/{}", session.id.as_str())) { (t("testpay.reload")) } }
            }
            @if !scripted {
                @match &session.next_action {
                    Some(NextAction::Redirect { url }) | Some(NextAction::Qr { payload: url }) => {
                        p { (t("testpay.pay_at_provider")) }
                        p { a href=(url) rel="noopener noreferrer" data-testid="testpay-link" { (t("testpay.open_provider")) } }
                    }
                    _ => {}
                }
            }
        }
        section.card aria-labelledby="events" {
            h2 #events { (t("testpay.events")) }
            p.hint { (t("testpay.events_hint")) }
            @if events.is_empty() {
                p { (t("testpay.no_events")) }
            } @else {
                (scroll_region(&t("testpay.events"), html! {
                    table.table data-testid="testpay-events" {
                        thead { tr {
                            th scope="col" { (t("testpay.event.type")) }
                            th scope="col" { (t("testpay.event.at")) }
                            th scope="col" { (t("testpay.event.delivery")) }
                        } }
                        tbody {
                            @for event in &events {
                                tr data-testid="testpay-event" {
                                    td { code { (event.kind) } }
                                    td { time datetime=(rfc3339(event.created_at)) { (lang.datetime(event.created_at)) } }
                                    td {
                                        @if event.delivered_at.is_some() { (t("testpay.event.delivered")) }
                                        @else if event.gave_up_at.is_some() { (t("testpay.event.gave_up")) }
                                        @else { (t("testpay.event.waiting")) }
                                    }
                                }
                            }
                        }
                    }
                }))
            }
        }
        p { a href=(PATH) { (t("testpay.another")) } }
    };
    super::setup::step_page(&state, &staff, "test", None, body).await
}
