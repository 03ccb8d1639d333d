//! `provider-mocks --dir DIR [--bind 127.0.0.1:0] [--base URL]`: serves every provider mock on
//! one port (under `/<provider>/`), writes `DIR/wallet-checkout.toml` for the server, and prints
//! one line of JSON with the address and the configuration file's path. Runs until killed.

use std::path::PathBuf;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut dir = None;
    let mut bind = "127.0.0.1:0".to_owned();
    let mut base = None;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next();
        match (flag.as_str(), value) {
            ("--dir", Some(value)) => dir = Some(PathBuf::from(value)),
            ("--bind", Some(value)) => bind = value,
            ("--base", Some(value)) => base = Some(value),
            _ => anyhow::bail!("usage: provider-mocks --dir DIR [--bind ADDRESS] [--base URL]"),
        }
    }
    let dir = dir.ok_or_else(|| anyhow::anyhow!("--dir is required"))?;
    std::fs::create_dir_all(&dir)?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let address = listener.local_addr()?;
    let base = base.unwrap_or_else(|| format!("http://{address}"));
    let mut router = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let mut config = String::new();
    for served in wallet_checkout_mocks::all(&base, &dir).await? {
        router = router.nest(&format!("/{}", served.name), served.router);
        config.push_str(&served.config_toml);
        config.push('\n');
    }
    let config_file = dir.join("wallet-checkout.toml");
    std::fs::write(&config_file, config)?;
    println!(
        "{}",
        serde_json::json!({ "address": address.to_string(), "base": base, "config": config_file })
    );
    axum::serve(listener, router).await?;
    Ok(())
}
