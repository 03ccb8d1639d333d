//! Reference merchant backend: reads configuration, sets up logging and serves until stopped.

use wallet_checkout_server::{config::Config, startup::Application, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let config = Config::from_env()?;
    let app = Application::build(config).await?;
    tracing::info!(address = %app.address(), "wallet-checkout server listening");
    app.run_until_stopped().await
}
