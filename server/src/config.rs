//! Server configuration from environment variables, each with a default that runs the demo.

use anyhow::{bail, Context};
use axum::http::HeaderValue;
use std::{net::SocketAddr, path::PathBuf};
use url::Url;

/// Seconds a payment session stays payable.
pub const DEFAULT_SESSION_TTL_SECS: u64 = 15 * 60;

#[derive(Debug, Clone)]
pub struct Config {
    /// `WC_BIND`: address to listen on. Default `127.0.0.1:8080`; port 0 picks a free port.
    pub bind: SocketAddr,
    /// `WC_PUBLIC_URL`: the base URL shoppers reach this server at (QR codes and redirects point
    /// there). Default: taken from each request's `Host` header, which suits a demo on a LAN.
    pub public_url: Option<Url>,
    /// `WC_DATA_DIR`: where the embedded database lives. Default `./data`.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`: default `sqlite://<data_dir>/wallet-checkout.db`.
    pub database_url: String,
    /// `WC_WIDGET_DIR`: the built widget (`make widget`). Default `./dist/wallet-checkout`.
    pub widget_dir: PathBuf,
    /// `WC_SANDBOX`: offer the sandbox wallet (`true` by default; `false` means live mode).
    pub sandbox: bool,
    /// `WC_SESSION_TTL_SECS`: how long a payment session can be paid. Default 900.
    pub session_ttl_secs: u64,
    /// `WC_ALLOWED_ORIGINS`: comma-separated store origins (`https://shop.example`) allowed to
    /// call the checkout API from the browser. Default: none, same origin only.
    pub allowed_origins: Vec<HeaderValue>,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let bind = match var("WC_BIND") {
            Some(value) => value
                .parse()
                .with_context(|| format!("WC_BIND={value:?} is not an address like 127.0.0.1:8080"))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = match var("WC_PUBLIC_URL") {
            Some(value) => Some(parse_public_url(&value)?),
            None => None,
        };
        let data_dir = PathBuf::from(var("WC_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = var("DATABASE_URL").unwrap_or_else(|| sqlite_url(&data_dir));
        let widget_dir = PathBuf::from(var("WC_WIDGET_DIR").unwrap_or_else(|| "dist/wallet-checkout".into()));
        let sandbox = match var("WC_SANDBOX").as_deref() {
            None | Some("true" | "1" | "yes") => true,
            Some("false" | "0" | "no") => false,
            Some(other) => bail!("WC_SANDBOX={other:?} must be true or false"),
        };
        let session_ttl_secs = match var("WC_SESSION_TTL_SECS") {
            Some(value) => value
                .parse()
                .ok()
                .filter(|secs| (1..=86_400).contains(secs))
                .with_context(|| format!("WC_SESSION_TTL_SECS={value:?} must be 1 to 86400"))?,
            None => DEFAULT_SESSION_TTL_SECS,
        };
        let allowed_origins = match var("WC_ALLOWED_ORIGINS") {
            Some(list) => parse_origins(&list)?,
            None => Vec::new(),
        };
        Ok(Self {
            bind,
            public_url,
            data_dir,
            database_url,
            widget_dir,
            sandbox,
            session_ttl_secs,
            allowed_origins,
        })
    }

    /// A configuration for tests: port 0, an embedded database in `data_dir`, sandbox on.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            database_url: sqlite_url(&data_dir),
            data_dir,
            widget_dir: PathBuf::from("dist/wallet-checkout"),
            sandbox: true,
            session_ttl_secs: DEFAULT_SESSION_TTL_SECS,
            allowed_origins: Vec::new(),
        }
    }

    /// Live mode is the opposite of the sandbox: real wallets, real money.
    pub fn livemode(&self) -> bool {
        !self.sandbox
    }
}

fn sqlite_url(data_dir: &std::path::Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("wallet-checkout.db").display())
}

/// Parses `https://a.example, http://127.0.0.1:3000` into exact origins. A wildcard, a path or
/// anything but http(s) is refused: CORS must name the stores it trusts.
pub fn parse_origins(list: &str) -> anyhow::Result<Vec<HeaderValue>> {
    list.split(',')
        .map(str::trim)
        .filter(|origin| !origin.is_empty())
        .map(|origin| {
            let url = Url::parse(origin)
                .with_context(|| format!("{origin:?} in WC_ALLOWED_ORIGINS is not a URL"))?;
            let exact = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || exact != origin.trim_end_matches('/') {
                bail!("{origin:?} in WC_ALLOWED_ORIGINS must be an origin such as https://shop.example");
            }
            Ok(HeaderValue::from_str(&exact)?)
        })
        .collect()
}

fn parse_public_url(value: &str) -> anyhow::Result<Url> {
    let url = Url::parse(value).with_context(|| format!("WC_PUBLIC_URL={value:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("WC_PUBLIC_URL={value:?} must be an http(s) URL with a host");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::parse_origins;

    #[test]
    fn allowed_origins_are_exact_origins() {
        let origins = parse_origins("https://shop.example, http://127.0.0.1:3000/").unwrap();
        assert_eq!(origins, ["https://shop.example", "http://127.0.0.1:3000"]);
        assert!(parse_origins("*").is_err());
        assert!(parse_origins("https://shop.example/checkout").is_err());
        assert!(parse_origins("ftp://shop.example").is_err());
        assert!(parse_origins("").unwrap().is_empty());
    }
}
