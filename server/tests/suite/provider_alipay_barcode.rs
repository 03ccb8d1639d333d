//! Alipay's 当面付 条码支付 (`alipay.trade.pay`, `scene=bar_code`) and its cancel, through the
//! server's provider against the Alipay mock over real HTTP with Alipay's RSA2 signatures: paid at
//! once; the shopper confirming (`10003`) then paid or closed, as the query sees it; declined with
//! Alipay's reason; a code used twice; a gateway failure as an unknown outcome, never charged
//! again; cancel of an undecided and of a paid trade (given back), and of one Alipay never made.

use crate::helpers::alipay::{spawn_alipay, AlipayApp};
use crate::helpers::codes::{amount, payment, reference};
use std::time::Duration;
use wallet_checkout_contract::{SessionId, WalletId};
use wallet_checkout_mocks::alipay::{new_payment_code, CodeScript};
use wallet_checkout_server::providers::{CodeAnswer, PaymentState, ProviderError, ProviderRefs};

fn new_session() -> SessionId {
    wallet_checkout_server::domain::new_session_id()
}

async fn query(alipay: &AlipayApp, session: &SessionId) -> PaymentState {
    let (wallet, refs) = (WalletId::parse("alipay").unwrap(), ProviderRefs::default());
    alipay.app.provider("alipay").query(&reference(session, &wallet, &refs)).await.expect("the query answers")
}

async fn cancel(alipay: &AlipayApp, session: &SessionId) -> Result<(), ProviderError> {
    let (wallet, refs) = (WalletId::parse("alipay").unwrap(), ProviderRefs::default());
    alipay.app.provider("alipay").reverse(&reference(session, &wallet, &refs)).await
}

#[tokio::test]
async fn a_code_that_pays_at_once_is_paid_and_a_code_pays_once() {
    let alipay = spawn_alipay("", |_| {}).await;
    let session = new_session();
    let code = new_payment_code();
    let answer = alipay.app.provider("alipay").charge_code(&payment(&session, &code)).await.unwrap();
    let CodeAnswer::Paid { refs, paid } = answer else { panic!("paid at once: {answer:?}") };
    assert_eq!(paid, Some(amount()));
    let trade = alipay.mock.trade(session.as_str()).expect("the trade");
    assert_eq!(refs.transaction_id.as_deref(), Some(trade.trade_no.as_str()));
    assert!(matches!(query(&alipay, &session).await, PaymentState::Succeeded { .. }));

    let again = new_session();
    let answer = alipay.app.provider("alipay").charge_code(&payment(&again, &code)).await.unwrap();
    assert!(
        matches!(&answer, CodeAnswer::Declined { code, .. } if code == "ACQ.PAYMENT_AUTH_CODE_INVALID"),
        "{answer:?}"
    );
    assert!(alipay.mock.trade(again.as_str()).is_none(), "nothing made for the second");
}

#[tokio::test]
async fn a_shopper_confirming_is_asked_about_until_paid_or_closed() {
    let alipay = spawn_alipay("", |_| {}).await;
    for pays in [true, false] {
        let session = new_session();
        let code = new_payment_code();
        alipay.mock.script_code(&code, CodeScript::Confirms { after: Duration::from_millis(400), pays });
        let answer = alipay.app.provider("alipay").charge_code(&payment(&session, &code)).await.unwrap();
        assert_eq!(answer, CodeAnswer::Confirming, "10003");
        assert_eq!(query(&alipay, &session).await, PaymentState::Pending, "WAIT_BUYER_PAY");
        tokio::time::sleep(Duration::from_millis(500)).await;
        match query(&alipay, &session).await {
            PaymentState::Succeeded { paid, .. } if pays => assert_eq!(paid, Some(amount())),
            PaymentState::Closed if !pays => {}
            other => panic!("pays {pays}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_declined_code_gives_alipays_reason() {
    let alipay = spawn_alipay("", |_| {}).await;
    let code = new_payment_code();
    alipay.mock.script_code(&code, CodeScript::Declines("ACQ.BUYER_BALANCE_NOT_ENOUGH".into()));
    let answer = alipay.app.provider("alipay").charge_code(&payment(&new_session(), &code)).await.unwrap();
    let CodeAnswer::Declined { code, message } = answer else { panic!("declined: {answer:?}") };
    assert_eq!(code, "ACQ.BUYER_BALANCE_NOT_ENOUGH");
    assert_eq!(message, "买家余额不足");
}

#[tokio::test]
async fn a_gateway_failure_is_an_unknown_outcome_and_the_code_is_not_charged_again() {
    let alipay = spawn_alipay("", |_| {}).await;
    let code = new_payment_code();
    let session = new_session();
    alipay.mock.fail_next(1);
    let answer = alipay.app.provider("alipay").charge_code(&payment(&session, &code)).await;
    assert!(matches!(answer, Err(ProviderError::Retryable(_))), "{answer:?}");
    assert_eq!(alipay.mock.calls("alipay.trade.pay"), 1, "never sent twice");
    // Nothing was made: the query finds no trade, and the code is still the shopper's.
    assert_eq!(query(&alipay, &session).await, PaymentState::Pending, "ACQ.TRADE_NOT_EXIST");
    cancel(&alipay, &session).await.expect("nothing to cancel");
    let retry = new_session();
    assert!(matches!(
        alipay.app.provider("alipay").charge_code(&payment(&retry, &code)).await.unwrap(),
        CodeAnswer::Paid { .. }
    ));
}

#[tokio::test]
async fn cancel_closes_an_undecided_trade_and_gives_back_a_paid_one() {
    let alipay = spawn_alipay("", |_| {}).await;
    let code = new_payment_code();
    alipay.mock.script_code(&code, CodeScript::NeverDecides);
    let undecided = new_session();
    assert_eq!(
        alipay.app.provider("alipay").charge_code(&payment(&undecided, &code)).await.unwrap(),
        CodeAnswer::Confirming
    );
    cancel(&alipay, &undecided).await.expect("cancelled");
    assert_eq!(query(&alipay, &undecided).await, PaymentState::Closed);
    assert!(!alipay.mock.money_returned(undecided.as_str()));
    cancel(&alipay, &undecided).await.expect("cancelling again changes nothing");

    let paid = new_session();
    let code = new_payment_code();
    assert!(matches!(
        alipay.app.provider("alipay").charge_code(&payment(&paid, &code)).await.unwrap(),
        CodeAnswer::Paid { .. }
    ));
    cancel(&alipay, &paid).await.expect("cancelled");
    assert!(alipay.mock.money_returned(paid.as_str()), "the money went back to the shopper");
}
