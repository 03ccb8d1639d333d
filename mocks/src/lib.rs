//! Stand-ins for the wallet providers, for the reference server's tests: each speaks its
//! provider's wire format and cryptography as documented (signatures, encryption, error bodies),
//! with keys made when it starts (nothing secret is ever committed), so the server's adapters are
//! proven against the protocol rather than against themselves. Each also has a control side the
//! tests use to play the shopper (pay, decline) and to break things on purpose (fail, time out).
//!
//! The `provider-mocks` binary serves every mock on one port, under `/<provider>/`, and writes a
//! configuration file for the server pointing at them, for the end-to-end tests.

pub mod alipay;
pub mod paypal;
pub mod wechat_pay;

use axum::Router;
use std::path::Path;

/// A mock as the binary serves it: its routes (below `/<name>`) and the configuration table the
/// server needs to use it.
pub struct Served {
    pub name: &'static str,
    pub router: Router,
    /// `[providers.<name>]` and its settings (key files are written into the directory given).
    pub config_toml: String,
}

/// Every mock, set up to be reached at `base` (`http://127.0.0.1:<port>`, or a proxy in front),
/// with key files written into `dir`.
pub async fn all(base: &str, dir: &Path) -> anyhow::Result<Vec<Served>> {
    let base = base.trim_end_matches('/');
    let mut served = Vec::new();
    let alipay = alipay::AlipayMock::new(&format!("{base}/alipay"), dir)?;
    served.push(Served { name: "alipay", router: alipay.router(), config_toml: alipay.config_toml() });
    let paypal = paypal::PayPalMock::new(&format!("{base}/paypal"))?;
    served.push(Served { name: "paypal", router: paypal.router(), config_toml: paypal.config_toml() });
    served.push(wechat_pay::served(base, dir).await?);
    Ok(served)
}
