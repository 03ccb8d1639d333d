//! Several wallet providers on one server: which one offers a wallet, for which orders, whether
//! the order's payment is live, and when the sandbox may stand beside a live provider.

use crate::helpers::{error_code, spawn_with, JsonAnswer};
use serde_json::Value;
use tempfile::TempDir;
use wallet_checkout_mocks::alipay::AlipayMock;
use wallet_checkout_server::{config::Config, providers::ProviderSettings, startup::Application};

async fn alipay(environment: &str) -> (AlipayMock, TempDir, ProviderSettings) {
    let keys = TempDir::new().unwrap();
    let mock = AlipayMock::spawn(keys.path()).await.expect("the Alipay mock starts");
    let toml =
        mock.config_toml().replace("environment = \"sandbox\"", &format!("environment = \"{environment}\""));
    assert!(toml.contains(&format!("environment = \"{environment}\"")), "{toml}");
    (mock, keys, ProviderSettings::from_toml(&toml).unwrap())
}

fn wallet_ids(order: &Value) -> Vec<String> {
    order["wallets"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_real_provider_offers_its_wallet_and_the_sandbox_fills_in_the_rest() {
    let (_mock, _keys, providers) = alipay("sandbox").await;
    let app = spawn_with(|config| config.providers = providers).await;
    let order = app.new_order().await;
    let view: Value = app.client.get(app.api(&format!("/orders/{order}"))).json_answer().await;
    let ids = wallet_ids(&view);
    assert_eq!(ids.iter().filter(|id| *id == "alipay").count(), 1, "one Alipay, not two: {ids:?}");
    assert!(ids.contains(&"wechat_pay".to_owned()) && ids.contains(&"paypal".to_owned()), "{ids:?}");
    assert_eq!(view["livemode"], false);
    // Alipay is the real one (its QR code is Alipay's), the others the sandbox's pay page.
    let alipay = app.session_for(&order, "alipay").await;
    let payload = alipay["next_action"]["payload"].as_str().unwrap();
    assert!(!payload.contains("/sandbox/pay/"), "{payload}");
    let other = app.new_order().await;
    let wechat = app.session_for(&other, "wechat_pay").await;
    assert!(wechat["next_action"]["payload"].as_str().unwrap().contains("/sandbox/pay/"));
}

#[tokio::test]
async fn a_wallet_is_offered_only_for_the_orders_its_provider_takes() {
    let (_mock, _keys, providers) = alipay("sandbox").await;
    let app = spawn_with(|config| {
        config.sandbox = false;
        config.providers = providers;
    })
    .await;
    let operator = {
        let store = app.store().await;
        crate::helpers::make_key(&store, "ops", wallet_checkout_server::domain::Role::Operator, true, "test")
            .await
            .unwrap()
            .1
    };
    let create = |currency: &str| {
        app.client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&operator)
            .json(&serde_json::json!({ "amount": { "minor_units": 6800, "currency": currency }, "description": "Tea" }))
    };
    let cny: Value = create("CNY").json_answer().await;
    let usd: Value = create("USD").json_answer().await;
    let (cny, usd) = (cny["id"].as_str().unwrap(), usd["id"].as_str().unwrap());
    let view: Value = app.client.get(app.api(&format!("/orders/{cny}"))).json_answer().await;
    assert_eq!(wallet_ids(&view), ["alipay"]);
    let view: Value = app.client.get(app.api(&format!("/orders/{usd}"))).json_answer().await;
    assert!(wallet_ids(&view).is_empty(), "Alipay takes CNY only: {view}");
    let refused = app.create_session("usd-1", &crate::helpers::session_body(usd, "alipay")).await;
    assert_eq!(error_code(refused, 422).await, "wallet_unavailable");
}

#[tokio::test]
async fn a_live_provider_and_the_sandbox_stand_together_only_when_told_to() {
    let (_mock, _keys, providers) = alipay("live").await;
    let db = crate::helpers::test_db().await;
    let mut config = Config::for_tests(db.data_dir.clone());
    config.database_url = db.url.clone();
    config.providers = providers;
    let error = Application::build(config.clone()).await.err().expect("refused").to_string();
    assert!(error.contains("providers.alipay is live") && error.contains("sandbox_beside_live"), "{error}");
    config.sandbox_beside_live = true;
    let app = Application::build(config).await.expect("starts when told to");
    drop(app);
    // Live and alone: the order's payment is live.
    let (_mock, _keys, providers) = alipay("live").await;
    let app = spawn_with(|config| {
        config.sandbox = false;
        config.demo_store = true;
        config.providers = providers;
    })
    .await;
    let order = app.new_order().await;
    let view: Value = app.client.get(app.api(&format!("/orders/{order}"))).json_answer().await;
    assert_eq!(view["livemode"], true);
    assert_eq!(wallet_ids(&view), ["alipay"]);
}
