//! Builds the application: storage, providers, router, listener; and runs it until a shutdown
//! signal, letting in-flight requests finish.

use crate::{
    config::Config,
    domain::SessionEvent,
    providers::{sandbox::SandboxProvider, Providers, Verdict},
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

/// How often the sweeper expires sessions whose time is up.
pub const SWEEP_INTERVAL_MS: u64 = 500;

/// How long an approved session waits for its confirmation before the wallet is asked.
pub const CONFIRMATION_GRACE_MS: i64 = 2_000;

pub struct Application {
    listener: TcpListener,
    router: Router,
    address: SocketAddr,
    state: AppState,
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
        store.spawn_listener();
        let mut providers = Providers::default();
        if config.sandbox {
            providers.add(Arc::new(SandboxProvider));
        }
        let state = AppState { store, providers: Arc::new(providers), config: Arc::new(config) };
        spawn_sweeper(state.clone());
        let router = router(state.clone());
        let listener = TcpListener::bind(state.config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", state.config.bind))?;
        let address = listener.local_addr()?;
        Ok(Self { listener, router, address, state })
    }

    /// The state the routes share (for tests that look behind the API).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The address actually bound (useful with port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until SIGTERM or Ctrl-C, then stops taking connections, answers every waiting
    /// reader at once and lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let notifier = self.state.store.notifier().clone();
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                notifier.shut_down();
            })
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

/// Expires sessions on time even when nobody reads them, and asks the wallet about approved
/// sessions whose confirmation never came. Every instance sweeps; the state machine's
/// compare-and-set makes each change happen once.
fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(SWEEP_INTERVAL_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = crate::domain::now_millis();
            if let Err(error) = state.store.expire_due(now).await {
                tracing::error!(%error, "expiry sweep failed");
            }
            if let Err(error) = reconcile(&state, now).await {
                tracing::error!(%error, "confirmation sweep failed");
            }
        }
    });
}

async fn reconcile(state: &AppState, now: crate::domain::UnixMillis) -> anyhow::Result<()> {
    for session in state.store.unconfirmed(now - CONFIRMATION_GRACE_MS).await? {
        let (Some(provider), Some(reference)) =
            (state.providers.provider_for(&session.wallet_id), session.provider_reference.as_deref())
        else {
            continue;
        };
        let event = match provider.payment_verdict(reference).await {
            Ok(Verdict::Succeeded) => SessionEvent::Confirmed,
            Ok(Verdict::Failed) => SessionEvent::Declined,
            Ok(Verdict::Pending) => continue,
            Err(error) => {
                tracing::warn!(session_id = %session.id, %error, "the wallet could not say how the payment ended");
                continue;
            }
        };
        state.store.apply(&session.id, event, now).await?;
        tracing::info!(session_id = %session.id, ?event, "confirmation reconciled with the wallet");
    }
    Ok(())
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
