//! A server whose only wallet is Alipay, against the Alipay mock (its gateway, keys and cashier)
//! served in this process.

use super::{eventually_within, spawn_with, TestApp};
use serde_json::{json, Value};
use std::time::Duration;
use tempfile::TempDir;
use wallet_checkout_mocks::alipay::AlipayMock;
use wallet_checkout_server::{config::Config, providers::ProviderSettings};

pub struct AlipayApp {
    pub app: TestApp,
    pub mock: AlipayMock,
    pub keys: TempDir,
}

/// The mock and a server configured for it (`extra` is added to `[providers.alipay]`), the
/// sandbox wallet off.
pub async fn spawn_alipay(extra: &str, adjust: impl FnOnce(&mut Config)) -> AlipayApp {
    let keys = TempDir::new().unwrap();
    let mock = AlipayMock::spawn(keys.path()).await.expect("the Alipay mock starts");
    let toml = format!("{}{extra}", mock.config_toml());
    let providers = ProviderSettings::from_toml(&toml).expect("the mock's configuration reads");
    let app = spawn_with(|config| {
        config.sandbox = false;
        config.providers = providers;
        adjust(config);
    })
    .await;
    AlipayApp { app, mock, keys }
}

impl AlipayApp {
    /// A session for a new demo order (CNY 68.00): its JSON.
    pub async fn session(&self, device: &str) -> Value {
        let order = self.app.new_order().await;
        let response = self
            .app
            .create_session(
                &format!("key-{order}"),
                &json!({
                    "order_id": order,
                    "wallet_id": "alipay",
                    "return_url": format!("http://127.0.0.1/store/orders/{order}"),
                    "device": device,
                }),
            )
            .await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    pub fn notify_url(&self) -> String {
        self.app.url("/api/providers/alipay/notify")
    }

    pub async fn status(&self, session_id: &str) -> String {
        self.app.get_session(session_id).await["status"].as_str().unwrap().to_owned()
    }

    /// Waits (at most 15 s) for the session to reach `status`.
    pub async fn wait_for(&self, session_id: &str, status: &str) {
        let what = format!("session {session_id} to be {status}");
        eventually_within(&what, Duration::from_secs(15), async || self.status(session_id).await == status)
            .await;
    }
}
