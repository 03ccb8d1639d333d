//! WeChat Pay's 付款码支付 (`codepay`) and its reverse, through the server's provider against the
//! WeChat Pay mock over real HTTP with WeChat Pay's signatures: paid at once; the shopper
//! confirming (HTTP 202) then paid or declined, as the query sees it; declined at once with the
//! wallet's code; a code used twice; a server error as an unknown outcome, never charged again;
//! reverse of an undecided and of a paid order (the money goes back), refused while the shopper
//! is still confirming; close refused on a code payment.

use crate::helpers::codes::{amount, payment, reference};
use crate::helpers::wechat_pay::{spawn_wechat, WechatApp};
use std::time::Duration;
use wallet_checkout_contract::{SessionId, WalletId};
use wallet_checkout_mocks::wechat_pay::{new_payment_code, CodeScript};
use wallet_checkout_server::providers::{CodeAnswer, PaymentState, ProviderError, ProviderRefs};

fn new_session() -> SessionId {
    wallet_checkout_server::domain::new_session_id()
}

async fn query(wechat: &WechatApp, session: &SessionId) -> PaymentState {
    let (wallet, refs) = (WalletId::parse("wechat_pay").unwrap(), ProviderRefs::default());
    wechat
        .app
        .provider("wechat_pay")
        .query(&reference(session, &wallet, &refs))
        .await
        .expect("the query answers")
}

async fn reverse(wechat: &WechatApp, session: &SessionId) -> Result<(), ProviderError> {
    let (wallet, refs) = (WalletId::parse("wechat_pay").unwrap(), ProviderRefs::default());
    wechat.app.provider("wechat_pay").reverse(&reference(session, &wallet, &refs)).await
}

#[tokio::test]
async fn a_code_that_pays_at_once_is_paid_with_the_shops_and_tills_numbers_and_no_notify_url() {
    let wechat = spawn_wechat("", |_| {}).await;
    let session = new_session();
    let code = new_payment_code();
    let answer = wechat.app.provider("wechat_pay").charge_code(&payment(&session, &code)).await.unwrap();
    let CodeAnswer::Paid { refs, paid } = answer else { panic!("paid at once: {answer:?}") };
    assert_eq!(paid, Some(amount()));
    assert_eq!(refs.transaction_id, wechat.mock.transaction_id(session.as_str()));
    assert!(refs.transaction_id.is_some());
    let sent = wechat.mock.order_request(session.as_str()).expect("the mock kept the request");
    assert_eq!(sent["payer"]["auth_code"], code);
    assert_eq!(sent["scene_info"]["store_info"]["out_id"], "SZ0012");
    assert_eq!(sent["scene_info"]["device_id"], "POS-01");
    assert_eq!(sent["scene_info"]["device_ip"], "192.0.2.10");
    assert_eq!(sent["amount"]["total"], 2_350);
    assert!(sent.get("notify_url").is_none() && sent.get("time_expire").is_none(), "{sent}");
    assert!(matches!(query(&wechat, &session).await, PaymentState::Succeeded { .. }));
}

#[tokio::test]
async fn a_shopper_confirming_is_asked_about_until_paid_or_declined() {
    let wechat = spawn_wechat("", |_| {}).await;
    for pays in [true, false] {
        let session = new_session();
        let code = new_payment_code();
        wechat.mock.script_code(&code, CodeScript::Confirms { after: Duration::from_millis(400), pays });
        let answer = wechat.app.provider("wechat_pay").charge_code(&payment(&session, &code)).await.unwrap();
        assert_eq!(answer, CodeAnswer::Confirming, "HTTP 202 USERPAYING");
        assert_eq!(query(&wechat, &session).await, PaymentState::Pending, "still confirming");
        // A reverse now is refused by WeChat Pay: retryable, and nothing changes.
        assert!(matches!(reverse(&wechat, &session).await, Err(ProviderError::Retryable(_))));
        tokio::time::sleep(Duration::from_millis(500)).await;
        match query(&wechat, &session).await {
            PaymentState::Succeeded { paid, .. } if pays => assert_eq!(paid, Some(amount())),
            PaymentState::Failed { reason } if !pays => assert!(reason.starts_with("PAYERROR"), "{reason}"),
            other => panic!("pays {pays}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_declined_code_gives_the_wallets_reason_and_a_code_pays_once() {
    let wechat = spawn_wechat("", |_| {}).await;
    let code = new_payment_code();
    wechat.mock.script_code(&code, CodeScript::Declines("NOT_ENOUGH".into()));
    let session = new_session();
    let answer = wechat.app.provider("wechat_pay").charge_code(&payment(&session, &code)).await.unwrap();
    let CodeAnswer::Declined { code: reason, message } = answer else { panic!("declined: {answer:?}") };
    assert_eq!(reason, "NOT_ENOUGH");
    assert!(message.contains("余额不足"), "{message}");

    // A code is used once: a second charge of a paid code, under a new number, is declined.
    let code = new_payment_code();
    let first = new_session();
    assert!(matches!(
        wechat.app.provider("wechat_pay").charge_code(&payment(&first, &code)).await.unwrap(),
        CodeAnswer::Paid { .. }
    ));
    let second = new_session();
    let again = wechat.app.provider("wechat_pay").charge_code(&payment(&second, &code)).await.unwrap();
    assert!(matches!(&again, CodeAnswer::Declined { code, .. } if code == "AUTH_CODE_INVALID"), "{again:?}");
    assert_eq!(wechat.mock.trade_state(first.as_str()), Some("SUCCESS"));
    assert_eq!(wechat.mock.trade_state(second.as_str()), None, "nothing made for the second");
}

#[tokio::test]
async fn a_server_error_is_an_unknown_outcome_and_the_code_is_not_charged_again() {
    let wechat = spawn_wechat("", |_| {}).await;
    let code = new_payment_code();
    let session = new_session();
    wechat.mock.fail_next(1);
    let answer = wechat.app.provider("wechat_pay").charge_code(&payment(&session, &code)).await;
    assert!(matches!(answer, Err(ProviderError::Retryable(_))), "{answer:?}");
    assert_eq!(wechat.mock.calls("POST /v3/pay/transactions/codepay"), 1, "never sent twice");
    // The failure came before WeChat Pay made anything: the query finds no order, and the code
    // is still the shopper's to use.
    assert_eq!(query(&wechat, &session).await, PaymentState::Closed);
    let retry = new_session();
    assert!(matches!(
        wechat.app.provider("wechat_pay").charge_code(&payment(&retry, &code)).await.unwrap(),
        CodeAnswer::Paid { .. }
    ));
}

#[tokio::test]
async fn reverse_closes_an_undecided_payment_and_gives_back_a_paid_one_and_close_is_refused() {
    let wechat = spawn_wechat("", |_| {}).await;
    let code = new_payment_code();
    wechat.mock.script_code(&code, CodeScript::NeverDecides);
    let undecided = new_session();
    assert_eq!(
        wechat.app.provider("wechat_pay").charge_code(&payment(&undecided, &code)).await.unwrap(),
        CodeAnswer::Confirming
    );
    reverse(&wechat, &undecided).await.expect("reversed");
    assert_eq!(wechat.mock.trade_state(undecided.as_str()), Some("REVOKED"));
    assert_eq!(query(&wechat, &undecided).await, PaymentState::Closed);
    assert!(!wechat.mock.money_returned(undecided.as_str()));
    reverse(&wechat, &undecided).await.expect("reversing again changes nothing");

    let paid = new_session();
    let code = new_payment_code();
    assert!(matches!(
        wechat.app.provider("wechat_pay").charge_code(&payment(&paid, &code)).await.unwrap(),
        CodeAnswer::Paid { .. }
    ));
    reverse(&wechat, &paid).await.expect("reversed");
    assert!(wechat.mock.money_returned(paid.as_str()), "the money went back to the shopper");

    // A payment never made there: nothing to reverse.
    reverse(&wechat, &new_session()).await.expect("nothing to reverse");

    // Close is not for code payments.
    let (wallet, refs) = (WalletId::parse("wechat_pay").unwrap(), ProviderRefs::default());
    assert!(wechat.app.provider("wechat_pay").close(&reference(&paid, &wallet, &refs)).await.is_err());
}
