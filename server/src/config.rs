//! Server configuration: a TOML file named by `WC_CONFIG` (optional), with every setting
//! overridable by its environment variable (layered by figment: `WC_BIND` for `bind`,
//! `WC_PROVIDERS__PAYPAL__CLIENT_ID` for `[providers.paypal] client_id`), and a default for
//! everything, so the demo needs none. README: "Configuration" lists every setting.

use crate::providers::{
    settings::{Text, TextList},
    ProviderSettings,
};
use anyhow::{bail, Context};
use http::HeaderValue;
use serde::Deserialize;
use std::{net::SocketAddr, path::PathBuf};
use url::Url;

/// Seconds a payment session stays payable.
pub const DEFAULT_SESSION_TTL_SECS: u64 = 15 * 60;

/// Every setting: its key in the file and its environment variable.
pub const SETTINGS: [(&str, &str); 25] = [
    ("bind", "WC_BIND"),
    ("public_url", "WC_PUBLIC_URL"),
    ("data_dir", "WC_DATA_DIR"),
    ("database_url", "DATABASE_URL"),
    ("widget_dir", "WC_WIDGET_DIR"),
    ("sandbox", "WC_SANDBOX"),
    ("session_ttl_secs", "WC_SESSION_TTL_SECS"),
    ("allowed_origins", "WC_ALLOWED_ORIGINS"),
    ("session_rate_per_minute", "WC_SESSION_RATE_PER_MINUTE"),
    ("trust_proxy", "WC_TRUST_PROXY"),
    ("webhook_retry_base_ms", "WC_WEBHOOK_RETRY_BASE_MS"),
    ("webhook_max_attempts", "WC_WEBHOOK_MAX_ATTEMPTS"),
    ("webhook_timeout_ms", "WC_WEBHOOK_TIMEOUT_MS"),
    ("log_format", "WC_LOG_FORMAT"),
    ("demo_store", "WC_DEMO_STORE"),
    ("demo_admin", "WC_DEMO_ADMIN"),
    ("public_hosts", "WC_PUBLIC_HOSTS"),
    ("webhook_allowed_networks", "WC_WEBHOOK_ALLOWED_NETWORKS"),
    ("provider_check_ms", "WC_PROVIDER_CHECK_MS"),
    ("sandbox_beside_live", "WC_SANDBOX_BESIDE_LIVE"),
    ("secrets_key_file", "WC_SECRETS_KEY_FILE"),
    ("alert_check_ms", "WC_ALERT_CHECK_MS"),
    ("backup_every_hours", "WC_BACKUP_EVERY_HOURS"),
    ("backup_keep", "WC_BACKUP_KEEP"),
    ("backup_dir", "WC_BACKUP_DIR"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `bind`: address to listen on. Default `127.0.0.1:8080`; port 0 picks a free port.
    pub bind: SocketAddr,
    /// `public_url`: the base URL shoppers reach this server at (QR codes and redirects point
    /// there). Default: none; then links use the request's `Host` only when it names this server
    /// (the bound address, one of this machine's addresses when bound to all of them, `localhost`,
    /// or a `public_hosts` entry), else the bound address. A demo convenience: set it in production.
    pub public_url: Option<Url>,
    /// `public_hosts`: further `host:port` names this server answers to without `public_url`
    /// (`shop-demo.lan:8080`). Default: none.
    pub public_hosts: Vec<String>,
    /// `data_dir`: where the embedded database lives. Default `./data`.
    pub data_dir: PathBuf,
    /// `database_url`: `sqlite://...` or `postgres://...`. Default `sqlite://<data_dir>/wallet-checkout.db`.
    pub database_url: String,
    /// `widget_dir`: the built widget (`make widget`). Default `./dist/wallet-checkout`.
    pub widget_dir: PathBuf,
    /// `sandbox`: offer the sandbox wallet (`true` by default; `false` means live mode).
    pub sandbox: bool,
    /// `session_ttl_secs`: how long a payment session can be paid. Default 900.
    pub session_ttl_secs: u64,
    /// `allowed_origins`: store origins (`https://shop.example`) allowed to call the checkout API
    /// from the browser. Default: none, same origin only.
    pub allowed_origins: Vec<HeaderValue>,
    /// `session_rate_per_minute`: session creations allowed per client address and minute
    /// (bursts up to the same number). Default 60; 0 turns the limit off.
    pub session_rate_per_minute: u32,
    /// `trust_proxy`: take the client address from `X-Forwarded-For` (only behind a proxy that
    /// sets it). Default `false`.
    pub trust_proxy: bool,
    /// `webhook_retry_base_ms`: the first retry of a failed webhook comes after this long, each
    /// next one after twice as long, at most an hour. Default 10000.
    pub webhook_retry_base_ms: i64,
    /// `webhook_max_attempts`: attempts before an event is given up. Default 20 (about 12 hours).
    pub webhook_max_attempts: i64,
    /// `webhook_timeout_ms`: how long one delivery may take. An event whose delivery a stopped
    /// server left unfinished is sent again by another after twice as long. Default 10000.
    pub webhook_timeout_ms: i64,
    /// `log_format`: `text` (default) or `json`, one object per line.
    pub log_format: LogFormat,
    /// `demo_store`: serve the demo store (default: when the sandbox is on).
    pub demo_store: bool,
    /// `demo_admin`: with the demo store in test mode, make a console admin on the first start
    /// (no staff yet) and print its one-time password on the terminal (default: with the demo
    /// store). Never in live mode.
    pub demo_admin: bool,
    /// `webhook_allowed_networks`: private networks webhooks may be delivered to, as CIDR ranges
    /// (`10.1.2.0/24`), for a receiver on the merchant's own network. Default: none; loopback,
    /// private, link-local and other internal addresses are refused.
    pub webhook_allowed_networks: Vec<ipnet::IpNet>,
    /// `provider_check_ms`: when a wallet's notification has not come, the provider is asked
    /// after this long, then after twice as long each time, at most every 5 minutes. Default
    /// 10000.
    pub provider_check_ms: i64,
    /// `sandbox_beside_live`: offer the sandbox wallet beside live providers. Default `false`:
    /// a server with a live provider refuses to start with the sandbox on, unless this says so.
    pub sandbox_beside_live: bool,
    /// `secrets_key_file`: the key that seals secrets kept at rest (32 bytes, Base64), or
    /// `WC_SECRETS_KEY` itself. Default: `secrets.key` in the data directory, made once.
    pub secrets_key_file: Option<PathBuf>,
    /// `alert_check_ms`: how often the rules for unusual transactions run (they also run right
    /// after the events they can check cheaply). Default 30000.
    pub alert_check_ms: u64,
    /// `backup_every_hours`: the server backs up its SQLite database when the newest backup is
    /// this many hours old (0: never by itself). Default 24. PostgreSQL: `pg_dump` (docs).
    pub backup_every_hours: u64,
    /// `backup_keep`: how many backups to keep in `backup_dir` (older ones are removed). Default 7.
    pub backup_keep: usize,
    /// `backup_dir`: where backups go. Default `backups` in the data directory; better on
    /// another disk.
    pub backup_dir: PathBuf,
    /// `[providers.wechat_pay]`, `[providers.alipay]`, `[providers.paypal]`: the real wallets
    /// (see `docs/providers/`). Default: none.
    pub providers: ProviderSettings,
}

/// The settings as read from the file and the environment, before they are checked. Every value
/// is a text (the environment has nothing else; the file's numbers and booleans are read as their
/// text), so that one set of checks below explains every bad value the same way.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    bind: Option<Text>,
    public_url: Option<Text>,
    data_dir: Option<Text>,
    database_url: Option<Text>,
    widget_dir: Option<Text>,
    sandbox: Option<Text>,
    session_ttl_secs: Option<Text>,
    allowed_origins: Option<TextList>,
    session_rate_per_minute: Option<Text>,
    trust_proxy: Option<Text>,
    webhook_retry_base_ms: Option<Text>,
    webhook_max_attempts: Option<Text>,
    webhook_timeout_ms: Option<Text>,
    log_format: Option<Text>,
    demo_store: Option<Text>,
    demo_admin: Option<Text>,
    public_hosts: Option<TextList>,
    webhook_allowed_networks: Option<TextList>,
    provider_check_ms: Option<Text>,
    sandbox_beside_live: Option<Text>,
    secrets_key_file: Option<Text>,
    alert_check_ms: Option<Text>,
    backup_every_hours: Option<Text>,
    backup_keep: Option<Text>,
    backup_dir: Option<Text>,
    #[serde(default)]
    providers: ProviderSettings,
}

/// Where settings come from: the environment over the file.
struct Source {
    raw: Raw,
}

impl Source {
    fn get(&self, key: &str) -> Option<String> {
        let raw = &self.raw;
        let text = match key {
            "bind" => &raw.bind,
            "public_url" => &raw.public_url,
            "data_dir" => &raw.data_dir,
            "database_url" => &raw.database_url,
            "widget_dir" => &raw.widget_dir,
            "sandbox" => &raw.sandbox,
            "session_ttl_secs" => &raw.session_ttl_secs,
            "session_rate_per_minute" => &raw.session_rate_per_minute,
            "trust_proxy" => &raw.trust_proxy,
            "webhook_retry_base_ms" => &raw.webhook_retry_base_ms,
            "webhook_max_attempts" => &raw.webhook_max_attempts,
            "webhook_timeout_ms" => &raw.webhook_timeout_ms,
            "log_format" => &raw.log_format,
            "demo_store" => &raw.demo_store,
            "demo_admin" => &raw.demo_admin,
            "provider_check_ms" => &raw.provider_check_ms,
            "sandbox_beside_live" => &raw.sandbox_beside_live,
            "secrets_key_file" => &raw.secrets_key_file,
            "alert_check_ms" => &raw.alert_check_ms,
            "backup_every_hours" => &raw.backup_every_hours,
            "backup_keep" => &raw.backup_keep,
            "backup_dir" => &raw.backup_dir,
            "allowed_origins" => return raw.allowed_origins.as_ref().map(|list| list.0.join(",")),
            "public_hosts" => return raw.public_hosts.as_ref().map(|list| list.0.join(",")),
            "webhook_allowed_networks" => {
                return raw.webhook_allowed_networks.as_ref().map(|list| list.0.join(","))
            }
            _ => return None,
        };
        text.as_ref().map(|text| text.0.clone())
    }
}

/// Whether an environment variable (its name without `WC_`, lower case, `__` between levels) is
/// a setting, and set to something: `WC_PROVIDERS__PAYPAL__CLIENT_ID` is `providers.paypal.client_id`;
/// an empty variable counts as unset.
fn is_env_setting(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    let top = key.split("__").next().unwrap_or_default().split('.').next().unwrap_or_default();
    let known =
        top == "providers" || SETTINGS.iter().any(|(name, env)| *name == top && env.starts_with("WC_"));
    let variable = format!("WC_{}", key.replace('.', "__").to_ascii_uppercase());
    known && std::env::var(&variable).is_ok_and(|value| !value.trim().is_empty())
}

/// The settings from the file named by `WC_CONFIG` (if any) and the environment over it.
fn read(path: Option<&str>) -> anyhow::Result<Raw> {
    use figment::{
        providers::{Env, Format, Toml},
        Figment,
    };
    let mut figment = Figment::new();
    if let Some(path) = path {
        if !std::path::Path::new(path).is_file() {
            bail!("cannot read the configuration file {path}");
        }
        figment = figment.merge(Toml::file(path));
    }
    figment =
        figment.merge(Env::prefixed("WC_").filter(|key| is_env_setting(key.as_str())).split("__")).merge(
            Env::raw()
                .only(&["DATABASE_URL"])
                .filter(|_| std::env::var("DATABASE_URL").is_ok_and(|value| !value.trim().is_empty())),
        );
    figment.extract::<Raw>().map_err(|error| {
        let place = path.map(|p| format!(" ({p} or the environment)")).unwrap_or_default();
        anyhow::anyhow!("configuration{place}: {}", describe(&error))
    })
}

/// A configuration error in words that name the setting (`providers.paypal.client_id`).
fn describe(error: &figment::Error) -> String {
    error
        .clone()
        .into_iter()
        .map(|error| {
            let path = error.path.join(".");
            let what = error.kind.to_string();
            if path.is_empty() {
                what
            } else {
                format!("{what} for `{path}`")
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn flag(name: &str, value: Option<String>, default: bool) -> anyhow::Result<bool> {
    match value.as_deref() {
        None => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => bail!("{name}={other:?} must be true or false"),
    }
}

fn number<T: std::str::FromStr + PartialOrd + Copy + std::fmt::Display>(
    name: &str,
    value: Option<String>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> anyhow::Result<T> {
    match value {
        None => Ok(default),
        Some(raw) => raw.parse::<T>().ok().filter(|n| range.contains(n)).with_context(|| {
            format!("{name}={raw:?} must be a number from {} to {}", range.start(), range.end())
        }),
    }
}

impl Config {
    /// Reads the file named by `WC_CONFIG` (if set) and the environment.
    pub fn load() -> anyhow::Result<Self> {
        let path = std::env::var("WC_CONFIG").ok().filter(|p| !p.trim().is_empty());
        Self::from_source(Source { raw: read(path.as_deref())? })
    }

    fn from_source(source: Source) -> anyhow::Result<Self> {
        let bind = match source.get("bind") {
            Some(value) => value
                .parse()
                .with_context(|| format!("bind={value:?} is not an address like 127.0.0.1:8080"))?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let public_url = source.get("public_url").map(|value| parse_public_url(&value)).transpose()?;
        let data_dir = PathBuf::from(source.get("data_dir").unwrap_or_else(|| "data".into()));
        let database_url = source.get("database_url").unwrap_or_else(|| sqlite_url(&data_dir));
        let widget_dir =
            PathBuf::from(source.get("widget_dir").unwrap_or_else(|| "dist/wallet-checkout".into()));
        let sandbox = flag("sandbox", source.get("sandbox"), true)?;
        let log_format = match source.get("log_format").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("log_format={other:?} must be text or json"),
        };
        Ok(Self {
            bind,
            public_url,
            database_url,
            widget_dir,
            sandbox,
            session_ttl_secs: number(
                "session_ttl_secs",
                source.get("session_ttl_secs"),
                DEFAULT_SESSION_TTL_SECS,
                1..=86_400,
            )?,
            allowed_origins: parse_origins(&source.get("allowed_origins").unwrap_or_default())?,
            session_rate_per_minute: number(
                "session_rate_per_minute",
                source.get("session_rate_per_minute"),
                60,
                0..=1_000_000,
            )?,
            trust_proxy: flag("trust_proxy", source.get("trust_proxy"), false)?,
            webhook_retry_base_ms: number(
                "webhook_retry_base_ms",
                source.get("webhook_retry_base_ms"),
                10_000,
                10..=3_600_000,
            )?,
            webhook_max_attempts: number(
                "webhook_max_attempts",
                source.get("webhook_max_attempts"),
                20,
                1..=100,
            )?,
            webhook_timeout_ms: number(
                "webhook_timeout_ms",
                source.get("webhook_timeout_ms"),
                10_000,
                100..=60_000,
            )?,
            log_format,
            demo_store: flag("demo_store", source.get("demo_store"), sandbox)?,
            demo_admin: flag("demo_admin", source.get("demo_admin"), true)?,
            public_hosts: parse_public_hosts(&source.get("public_hosts").unwrap_or_default())?,
            webhook_allowed_networks: parse_networks(
                &source.get("webhook_allowed_networks").unwrap_or_default(),
            )?,
            provider_check_ms: number(
                "provider_check_ms",
                source.get("provider_check_ms"),
                10_000,
                50..=3_600_000,
            )?,
            sandbox_beside_live: flag("sandbox_beside_live", source.get("sandbox_beside_live"), false)?,
            secrets_key_file: source.get("secrets_key_file").map(PathBuf::from),
            alert_check_ms: number("alert_check_ms", source.get("alert_check_ms"), 30_000, 100..=3_600_000)?,
            backup_every_hours: number(
                "backup_every_hours",
                source.get("backup_every_hours"),
                24,
                0..=8_760,
            )?,
            backup_keep: number("backup_keep", source.get("backup_keep"), 7, 1..=1_000)?,
            backup_dir: source.get("backup_dir").map_or_else(|| data_dir.join("backups"), PathBuf::from),
            providers: source.raw.providers,
            data_dir,
        })
    }

    /// A configuration for tests: port 0, an embedded database in `data_dir`, sandbox on, no
    /// rate limit, quick webhook retries, the test store at `http://127.0.0.1` and webhook
    /// receivers on loopback.
    pub fn for_tests(data_dir: PathBuf) -> Self {
        let backup_dir = data_dir.join("backups");
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            database_url: sqlite_url(&data_dir),
            data_dir,
            widget_dir: PathBuf::from("dist/wallet-checkout"),
            sandbox: true,
            session_ttl_secs: DEFAULT_SESSION_TTL_SECS,
            allowed_origins: vec![HeaderValue::from_static("http://127.0.0.1")],
            session_rate_per_minute: 0,
            trust_proxy: false,
            webhook_retry_base_ms: 100,
            webhook_max_attempts: 20,
            webhook_timeout_ms: 10_000,
            log_format: LogFormat::Text,
            demo_store: true,
            demo_admin: false,
            public_hosts: Vec::new(),
            webhook_allowed_networks: vec![
                "127.0.0.0/8".parse().expect("a network"),
                "::1/128".parse().expect("a network"),
            ],
            provider_check_ms: 200,
            sandbox_beside_live: false,
            secrets_key_file: None,
            alert_check_ms: 200,
            backup_every_hours: 0,
            backup_keep: 7,
            backup_dir,
            providers: ProviderSettings::default(),
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
            let url =
                Url::parse(origin).with_context(|| format!("{origin:?} in allowed_origins is not a URL"))?;
            let exact = url.origin().ascii_serialization();
            if !matches!(url.scheme(), "http" | "https") || exact != origin.trim_end_matches('/') {
                bail!("{origin:?} in allowed_origins must be an origin such as https://shop.example");
            }
            Ok(HeaderValue::from_str(&exact)?)
        })
        .collect()
}

/// Parses `shop-demo.lan:8080, 192.168.1.20:8080` into lower-case `host:port` names.
pub fn parse_public_hosts(list: &str) -> anyhow::Result<Vec<String>> {
    list.split(',')
        .map(str::trim)
        .filter(|host| !host.is_empty())
        .map(|host| {
            let url = Url::parse(&format!("http://{host}/"))
                .ok()
                .filter(|url| url.username().is_empty() && url.password().is_none() && url.path() == "/")
                .filter(|url| url.port().is_some() && url.host_str().is_some())
                .with_context(|| {
                    format!("{host:?} in public_hosts must be host:port, such as shop.lan:8080")
                })?;
            let authority = format!("{}:{}", url.host_str().unwrap_or_default(), url.port().unwrap_or(80));
            if !authority.eq_ignore_ascii_case(host) {
                bail!("{host:?} in public_hosts must be host:port, such as shop.lan:8080");
            }
            Ok(authority.to_ascii_lowercase())
        })
        .collect()
}

/// Parses `10.1.2.0/24, fd00::/8` into networks.
pub fn parse_networks(list: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    list.split(',')
        .map(str::trim)
        .filter(|network| !network.is_empty())
        .map(|network| {
            network.parse::<ipnet::IpNet>().map(|net| net.trunc()).with_context(|| {
                format!("{network:?} in webhook_allowed_networks must be a CIDR range such as 10.1.2.0/24")
            })
        })
        .collect()
}

fn parse_public_url(value: &str) -> anyhow::Result<Url> {
    let url = Url::parse(value).with_context(|| format!("public_url={value:?} is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        bail!("public_url={value:?} must be an http(s) URL with a host");
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(pairs: &[(&str, &str)]) -> Source {
        let toml: String = pairs.iter().map(|(k, v)| format!("{k} = {v:?}\n")).collect();
        let raw =
            figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(&toml))
                .extract()
                .unwrap();
        Source { raw }
    }

    #[test]
    fn allowed_origins_are_exact_origins() {
        let origins = parse_origins("https://shop.example, http://127.0.0.1:3000/").unwrap();
        assert_eq!(origins, ["https://shop.example", "http://127.0.0.1:3000"]);
        assert!(parse_origins("*").is_err());
        assert!(parse_origins("https://shop.example/checkout").is_err());
        assert!(parse_origins("ftp://shop.example").is_err());
        assert!(parse_origins("").unwrap().is_empty());
    }

    #[test]
    fn the_file_gives_settings_and_bad_values_are_explained() {
        let config = Config::from_source(source(&[
            ("bind", "127.0.0.1:9000"),
            ("sandbox", "false"),
            ("session_ttl_secs", "60"),
        ]))
        .unwrap();
        assert_eq!(config.bind.port(), 9000);
        assert!(config.livemode());
        assert!(!config.demo_store, "no demo store in live mode unless asked");
        assert_eq!(config.session_ttl_secs, 60);
        let error = Config::from_source(source(&[("session_ttl_secs", "0")])).unwrap_err().to_string();
        assert!(error.contains("session_ttl_secs"), "{error}");
        assert!(Config::from_source(source(&[("log_format", "xml")])).is_err());
    }

    #[test]
    fn backups_are_scheduled_by_default_and_checked() {
        let config = Config::from_source(source(&[("data_dir", "/srv/wc")])).unwrap();
        assert_eq!((config.backup_every_hours, config.backup_keep), (24, 7));
        assert_eq!(config.backup_dir, PathBuf::from("/srv/wc/backups"));
        let config = Config::from_source(source(&[
            ("backup_every_hours", "0"),
            ("backup_keep", "30"),
            ("backup_dir", "/mnt/backups"),
        ]))
        .unwrap();
        assert_eq!((config.backup_every_hours, config.backup_keep), (0, 30));
        assert_eq!(config.backup_dir, PathBuf::from("/mnt/backups"));
        assert!(Config::from_source(source(&[("backup_keep", "0")])).is_err());
    }

    #[test]
    fn public_hosts_and_allowed_networks_are_checked() {
        assert_eq!(
            parse_public_hosts("Shop.LAN:8080, 192.168.1.20:8080").unwrap(),
            ["shop.lan:8080", "192.168.1.20:8080"]
        );
        for bad in ["shop.lan", "a@b:80", "shop.lan:80/x", "shop.lan:99999"] {
            assert!(parse_public_hosts(bad).is_err(), "{bad}");
        }
        let networks = parse_networks("10.1.2.3/24, fd00::/8").unwrap();
        assert_eq!(networks[0].to_string(), "10.1.2.0/24");
        assert!(parse_networks("10.1.2.0").is_err());
        assert!(parse_networks("everything").is_err());
    }

    #[test]
    fn unknown_settings_in_the_file_are_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("wallet-checkout.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:1\"\nsanbox = true\n").unwrap();
        let error = read(Some(path.to_str().unwrap())).unwrap_err().to_string();
        assert!(error.contains("sanbox"), "{error}");
        std::fs::write(
            &path,
            "allowed_origins = [\"https://a.example\", \"https://b.example\"]\nsession_rate_per_minute = 5\n",
        )
        .unwrap();
        let source = Source { raw: read(Some(path.to_str().unwrap())).unwrap() };
        assert_eq!(source.get("allowed_origins").as_deref(), Some("https://a.example,https://b.example"));
        assert_eq!(source.get("session_rate_per_minute").as_deref(), Some("5"));
        assert!(read(Some("/nonexistent/wallet-checkout.toml"))
            .unwrap_err()
            .to_string()
            .contains("cannot read"));
    }

    #[test]
    fn an_unknown_provider_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("wallet-checkout.toml");
        std::fs::write(&path, "[providers.carrier_pigeon]\nspeed = 3\n").unwrap();
        let error = read(Some(path.to_str().unwrap())).unwrap_err().to_string();
        assert!(error.contains("carrier_pigeon") && error.contains("providers"), "{error}");
    }
}
