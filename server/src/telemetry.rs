//! Structured logs through `tracing`: text for people or JSON (one object a line) for machines,
//! with the level from `RUST_LOG` (default `info`). Lines about a session carry its `session_id`;
//! no line carries a secret (keys and webhook secrets are never logged, nor are request headers).

use crate::config::LogFormat;
use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"))
}

pub fn init(format: LogFormat) {
    // A second call keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => tracing_subscriber::fmt().with_env_filter(filter()).try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter())
            .try_init(),
    };
}

/// Logging for tests: captured by the test harness, shown only for failing tests.
pub fn init_for_tests() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
}
