//! Builds the application: storage, providers, router, listener; and runs it until a shutdown
//! signal, letting in-flight requests finish.

use crate::{
    config::Config,
    providers::{sandbox::SandboxProvider, Providers},
    routes::{self, AppState},
    store::Store,
};
use anyhow::Context;
use axum::{
    extract::DefaultBodyLimit,
    http::{header, HeaderName, HeaderValue, Method},
    middleware,
    routing::{get, post},
    Router,
};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use tokio::net::TcpListener;
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

/// Largest request body the API accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

pub struct Application {
    listener: TcpListener,
    router: Router,
    address: SocketAddr,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        if config.database_url.starts_with("sqlite:") {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create the data directory {}", config.data_dir.display()))?;
        }
        if !config.widget_dir.join("wallet-checkout.js").is_file() {
            tracing::warn!(dir = %config.widget_dir.display(), "the built widget is missing: run `make widget`");
        }
        let store = Store::connect(&config.database_url).await?;
        let mut providers = Providers::default();
        if config.sandbox {
            providers.add(Arc::new(SandboxProvider));
        }
        let state = AppState { store, providers: Arc::new(providers), config: Arc::new(config) };
        let router = router(state.clone());
        let listener = TcpListener::bind(state.config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", state.config.bind))?;
        let address = listener.local_addr()?;
        Ok(Self { listener, router, address })
    }

    /// The address actually bound (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server error")
    }
}

pub fn router(state: AppState) -> Router {
    let checkout_api = Router::new()
        .route("/orders/{id}", get(routes::orders::get_order))
        .route("/sessions", post(routes::sessions::create_session))
        .route("/sessions/{id}", get(routes::sessions::get_session))
        .route("/sessions/{id}/cancel", post(routes::sessions::cancel_session))
        .fallback(routes::api_not_found)
        .method_not_allowed_fallback(routes::api_method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));

    let widget = Router::new()
        .fallback_service(ServeDir::new(&state.config.widget_dir).precompressed_br().precompressed_gzip())
        .layer(middleware::from_fn(routes::assets::widget_headers));
    let checkout_api = match cors_layer(&state.config.allowed_origins) {
        Some(cors) => checkout_api.layer(cors),
        None => checkout_api,
    };

    let mut app = Router::new()
        .route("/", get(routes::store::new_order))
        .route("/store/orders", post(routes::store::create_order))
        .route("/store/orders/{id}", get(routes::store::order_page))
        .route("/static/{file}", get(routes::store::static_file))
        .route("/favicon.ico", get(|| async { axum::http::StatusCode::NO_CONTENT }))
        .nest("/api/checkout", checkout_api)
        .nest("/wallet-checkout", widget);
    if state.config.sandbox {
        app = app
            .route("/sandbox/pay/{id}", get(routes::sandbox::pay_page))
            .route("/sandbox/pay/{id}/approve", post(routes::sandbox::approve))
            .route("/sandbox/pay/{id}/decline", post(routes::sandbox::decline));
    }
    app.layer(TraceLayer::new_for_http()).with_state(state)
}

/// CORS for the widget-facing API: only the configured store origins, never a wildcard. The
/// widget sends no credentials, so none are allowed.
fn cors_layer(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([header::CONTENT_TYPE, header::ACCEPT, HeaderName::from_static("idempotency-key")])
            .expose_headers([HeaderName::from_static("idempotent-replayed")])
            .max_age(Duration::from_secs(600)),
    )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
