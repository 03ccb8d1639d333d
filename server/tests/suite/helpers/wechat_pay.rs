//! A server whose WeChat Pay provider talks to the WeChat Pay mock (`mocks/src/wechat_pay.rs`),
//! started in this process with the keys the process made (`wallet_checkout_mocks::Keys`).

use super::{eventually, spawn_with, TestApp};
use serde_json::Value;
use tempfile::TempDir;
use wallet_checkout_mocks::wechat_pay::{self, WechatPayMock};
use wallet_checkout_server::{config::Config, providers::ProviderSettings};

pub struct WechatApp {
    pub app: TestApp,
    pub mock: WechatPayMock,
    pub dir: TempDir,
}

/// The mock, with its configuration table (key files in a temporary directory) and `extra`
/// settings appended to the table.
pub async fn mock_with_config(extra: &str) -> (WechatPayMock, TempDir, String) {
    let mock = wechat_pay::start().await.expect("the WeChat Pay mock starts");
    let dir = TempDir::new().expect("a temporary directory");
    let mut toml = mock.config_toml(dir.path()).expect("the mock's configuration");
    toml.push_str(extra);
    (mock, dir, toml)
}

/// A server with only the WeChat Pay provider (no sandbox wallet), pointed at a fresh mock.
pub async fn spawn_wechat(extra: &str, adjust: impl FnOnce(&mut Config)) -> WechatApp {
    let (mock, dir, toml) = mock_with_config(extra).await;
    let providers = ProviderSettings::from_toml(&toml).expect("the mock's settings read");
    let app = spawn_with(|config| {
        config.sandbox = false;
        config.providers = providers;
        adjust(config);
    })
    .await;
    WechatApp { app, mock, dir }
}

impl WechatApp {
    /// The server's notification URL for WeChat Pay.
    pub fn notify_url(&self) -> String {
        self.app.url("/api/providers/wechat_pay/notify")
    }

    /// A new order and a WeChat Pay session for it on `device`: the session's JSON.
    pub async fn session(&self, device: &str) -> Value {
        let order = self.app.new_order().await;
        let mut body = super::session_body(&order, "wechat_pay");
        body["device"] = Value::from(device);
        let response = self.app.create_session(&format!("key-{order}"), &body).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        response.json().await.unwrap()
    }

    /// Waits (at most 10 s) until the session has `status`.
    pub async fn wait_for_status(&self, session_id: &str, status: &str) -> Value {
        let mut session = Value::Null;
        eventually(&format!("session {session_id} to be {status}"), async || {
            session = self.app.get_session(session_id).await;
            session["status"] == status
        })
        .await;
        session
    }
}
