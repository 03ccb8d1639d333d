//! Reference merchant backend: reads configuration, sets up logging, and serves until stopped;
//! or, with `keys ...`, manages API keys from the command line (the first admin key).

use wallet_checkout_server::{
    cli,
    config::{Config, LogFormat},
    startup::Application,
    telemetry,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.is_empty() {
        return cli::run(config, &args).await;
    }
    telemetry::init(config.log_format);
    let config_format = config.log_format;
    let app = Application::build(config).await?;
    // The welcome goes out before the line that says the server listens, so that whoever waits
    // for that line has the welcome too.
    match (app.welcome(), config_format) {
        (Some(welcome), LogFormat::Text) => println!("{welcome}"),
        (Some(welcome), LogFormat::Json) => tracing::info!(%welcome, "demo"),
        (None, _) => {}
    }
    tracing::info!(address = %app.address(), "wallet-checkout server listening");
    app.run_until_stopped().await
}
