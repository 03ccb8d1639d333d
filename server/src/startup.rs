//! Builds the application: storage, providers, router, listener; and runs it until a shutdown
//! signal, letting in-flight requests finish.

use crate::{
    config::Config,
    db::Db,
    domain::Role,
    egress::EgressPolicy,
    providers::sandbox::SandboxProvider,
    rate_limit::RateLimiter,
    routes,
    state::{AppState, DemoStore},
    webhooks::{self, DeliveryPolicy},
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

/// Console sign-ins allowed per client and minute.
pub const LOGIN_RATE_PER_MINUTE: u32 = 20;

/// Provider notifications a client may have refused per minute before the next ones are turned
/// away unread (with the answer that makes a wallet send them again later).
pub const NOTIFICATION_REFUSALS_PER_MINUTE: u32 = 60;

/// Largest request body the API accepts, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How often the sweeper expires sessions whose time is up.
pub const SWEEP_INTERVAL_MS: u64 = 500;

pub struct Application {
    listener: TcpListener,
    router: Router,
    address: SocketAddr,
    state: AppState,
    welcome: Option<String>,
}

impl Application {
    /// The server on the system's clock.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(crate::domain::SystemClock)).await
    }

    /// The server on `clock` (a test's, which the test moves ahead).
    pub async fn build_with_clock(config: Config, clock: crate::domain::SharedClock) -> anyhow::Result<Self> {
        if config.database_url.starts_with("sqlite:") {
            crate::db::prepare_data_dir(&config.data_dir)?;
        }
        if !config.widget_dir.join("wallet-checkout.js").is_file() {
            tracing::warn!(dir = %config.widget_dir.display(), "the built widget is missing: run `make widget`");
        }
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("cannot listen on {}", config.bind))?;
        let address = listener.local_addr()?;
        let store = Db::connect(&config.database_url).await?;
        // The mode chosen in the console's go-live step wins over the file's `sandbox`.
        let mut config = config;
        crate::console::pages::golive::apply_mode(&store, &mut config).await?;
        let store = store.with_livemode(config.livemode());
        store.spawn_listener();
        let sandbox = config.sandbox.then(|| {
            Arc::new(SandboxProvider::new(
                store.clone(),
                clock.clone(),
                &crate::public_url::bound_base(address),
            ))
        });
        let vault = Arc::new(crate::vault::Vault::open(
            std::env::var("WC_SECRETS_KEY").ok().as_deref(),
            config.secrets_key_file.as_deref(),
            &config.data_dir,
        )?);
        // The configuration file's providers, with the credentials entered in the console.
        let (providers, _) =
            crate::app::wallet_setup::build(&config, &store, &vault, sandbox.clone(), &clock, true).await?;
        let providers = Arc::new(providers);
        let (demo, welcome) = if config.demo_store {
            let demo = demo_store(&store, &config, address, clock.now()).await?;
            let welcome = demo_welcome(&store, &config, &demo.api_base, clock.now()).await?;
            (Some(Arc::new(demo)), Some(welcome))
        } else {
            (None, None)
        };
        let egress = Arc::new(EgressPolicy { allowed: config.webhook_allowed_networks.clone() });
        let app = crate::app::App::new(store.clone(), providers.clone(), clock.clone(), &config);
        webhooks::seal_stored_endpoint(&store, &vault).await?;
        let pseudonyms = Arc::new(crate::pseudonym::Pseudonyms::load(&store, &vault, clock.now()).await?);
        let session_counter =
            crate::app::alerts::SessionCounter::spawn(store.clone(), pseudonyms.clone(), clock.clone());
        let state = AppState::new(crate::state::Shared {
            db: store,
            providers,
            app,
            sandbox,
            vault,
            session_counter,
            login_limiter: Arc::new(RateLimiter::new(LOGIN_RATE_PER_MINUTE)),
            notification_limiter: Arc::new(RateLimiter::new(NOTIFICATION_REFUSALS_PER_MINUTE)),
            passwords: crate::app::passwords::Passwords::for_this_machine(),
            pseudonyms,
            session_limiter: Arc::new(RateLimiter::new(config.session_rate_per_minute)),
            demo,
            config: Arc::new(config),
            bound: address,
            egress: egress.clone(),
        });
        spawn_sweeper(state.clone());
        spawn_housekeeping(state.db.clone(), clock.clone());
        crate::app::alerts::spawn_evaluator(
            state.db.clone(),
            Duration::from_millis(state.config.alert_check_ms),
            clock.clone(),
        );
        crate::app::backups::spawn_schedule(state.db.clone(), state.backup_schedule(), clock.clone());
        webhooks::spawn_worker(
            state.db.clone(),
            state.vault.clone(),
            DeliveryPolicy {
                retry_base_ms: state.config.webhook_retry_base_ms,
                max_attempts: state.config.webhook_max_attempts,
                timeout_ms: state.config.webhook_timeout_ms,
            },
            egress,
            clock,
        );
        let router = router(state.clone());
        Ok(Self { listener, router, address, state, welcome })
    }

    /// With the demo store: where the store and the console are, and on the first start the demo
    /// admin's one-time password (for the terminal, never the log).
    pub fn welcome(&self) -> Option<&str> {
        self.welcome.as_deref()
    }

    /// What the routes share: the use cases, the database, the clock... (for tests that run a
    /// sweep or a delivery round at once).
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
        let notifier = self.state.db.notifier().clone();
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                notifier.shut_down();
            })
            .await
            .context("server error")
    }
}

/// The demo store's operator key, made anew at every start. Keys of earlier starts are revoked
/// once unused for a day (several instances may share one database, each with its own key).
async fn demo_store(
    store: &Db,
    config: &Config,
    address: SocketAddr,
    now: crate::domain::UnixMillis,
) -> anyhow::Result<DemoStore> {
    const NAME: &str = crate::app::api_keys::DEMO_KEY_NAME;
    store.revoke_stale_api_keys_named(NAME, now - 86_400_000, now).await?;
    let (_, secret) = crate::app::api_keys::make_key(
        store,
        NAME,
        Role::Operator,
        config.livemode(),
        &crate::app::Actor::server(),
        now,
    )
    .await
    .map_err(|error| anyhow::anyhow!("{error}"))?;
    let host = if address.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], address.port()))
    } else {
        address
    };
    Ok(DemoStore {
        api_base: format!("http://{host}"),
        secret,
        client: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
    })
}

/// The e-mail address of the demo's admin.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo-shop.example";

/// What a newcomer who ran `make demo` needs: the store's address and the console's. In test
/// mode, on the first start (no staff yet), a demo admin is made with a one-time password,
/// printed here (they choose their own at the first sign-in). Nothing of the kind in live mode,
/// nor with JSON logs (the terminal is a log there, and a password never goes into one).
async fn demo_welcome(
    store: &Db,
    config: &Config,
    base: &str,
    now: crate::domain::UnixMillis,
) -> anyhow::Result<String> {
    let mut welcome = format!("Demo store: {base}/\nConsole:    {base}/console");
    let terminal = config.log_format == crate::config::LogFormat::Text;
    if !config.demo_admin || !terminal || config.livemode() || !store.all_staff().await?.is_empty() {
        return Ok(welcome);
    }
    let admin = crate::console::NewMember {
        name: "Demo admin",
        email: DEMO_ADMIN_EMAIL,
        role: "admin",
        locale: "en",
    };
    let (_, password) = crate::console::add_staff_member(store, admin, ("server", "demo"), now)
        .await
        .map_err(|error| anyhow::anyhow!("cannot make the demo admin: {error}"))?;
    welcome.push_str(&format!(
        "\n            sign in as {DEMO_ADMIN_EMAIL} with the one-time password {password}\n            \
         (shown once; you choose your own password at the first sign-in)"
    ));
    Ok(welcome)
}

pub fn router(state: AppState) -> Router {
    let api_headers =
        SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    let checkout_api = Router::new()
        .route("/orders/{id}", get(routes::orders::get_order))
        .route("/sessions", post(routes::sessions::create_session))
        .route("/sessions/{id}", get(routes::sessions::get_session))
        .route("/sessions/{id}/cancel", post(routes::sessions::cancel_session))
        .route("/steps", post(routes::steps::report_step))
        .fallback(routes::api_not_found)
        .method_not_allowed_fallback(routes::api_method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(api_headers.clone());
    let checkout_api = match cors_layer(&state.config.allowed_origins) {
        Some(cors) => checkout_api.layer(cors),
        None => checkout_api,
    };

    use routes::merchant::{api_keys, orders, refunds, reports, webhooks as hooks};
    let merchant_api = Router::new()
        .route("/orders", post(orders::create_order).get(orders::list_orders))
        .route("/orders/{id}", get(orders::get_order))
        .route("/orders/{id}/cancel", post(orders::cancel_order))
        .route("/orders/{id}/refunds", post(refunds::create_refund).get(refunds::list_refunds))
        .route("/refunds/{id}", get(refunds::get_refund))
        .route("/keys", post(api_keys::create_key).get(api_keys::list_keys))
        .route("/keys/{id}/revoke", post(api_keys::revoke_key))
        .route("/webhook-endpoint", get(hooks::get_endpoint).put(hooks::set_endpoint))
        .route("/webhook-endpoint/rotate-secret", post(hooks::rotate_secret))
        .route("/events", get(hooks::list_events))
        .route("/audit-log", get(hooks::audit_log))
        .route("/reports/transactions", get(reports::transactions))
        .route("/reports/daily-totals", get(reports::daily_totals))
        .fallback(routes::api_not_found)
        .method_not_allowed_fallback(routes::api_method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(api_headers);

    let widget = Router::new()
        .fallback_service(ServeDir::new(&state.config.widget_dir).precompressed_br().precompressed_gzip())
        .layer(middleware::from_fn(routes::assets::widget_headers));

    let mut app = Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route("/readyz", get(routes::health::readyz))
        .route("/openapi.json", get(routes::openapi::document))
        .route("/static/{file}", get(routes::demo_shop::static_file))
        .route("/favicon.ico", get(|| async { axum::http::StatusCode::NO_CONTENT }))
        .nest("/api/checkout", checkout_api)
        .nest("/api/v1", merchant_api)
        .route(
            "/api/providers/{provider}/notify",
            post(routes::notifications::notify)
                .layer(DefaultBodyLimit::max(crate::providers::MAX_NOTIFICATION_BYTES)),
        )
        .route("/api/providers/paypal/return/{id}", get(routes::paypal_return::returned))
        .route("/api/providers/paypal/cancel/{id}", get(routes::paypal_return::canceled))
        .nest("/wallet-checkout", widget)
        .merge(crate::console::router());
    if state.demo.is_some() {
        app = app
            .route("/", get(routes::demo_shop::new_order))
            .route("/store/orders", post(routes::demo_shop::create_order))
            .route("/store/orders/{id}", get(routes::demo_shop::order_page));
    }
    if state.config.sandbox {
        app = app
            .route("/sandbox/pay/{id}", get(routes::sandbox_pay_page::pay_page))
            .route("/sandbox/pay/{id}/{outcome}", post(routes::sandbox_pay_page::decide));
    }
    let https = state.config.public_url.as_ref().is_some_and(|url| url.scheme() == "https");
    let trust_proxy = state.config.trust_proxy;
    app.layer(middleware::from_fn(move |request, next| security_headers(request, next, https)))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(middleware::from_fn(move |request, next| request_id(request, next, trust_proxy)))
        .with_state(state)
}

/// The header that names a request: in every log line written while serving it, and on its answer.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, as its span and its answer carry it.
#[derive(Clone)]
struct RequestId(HeaderValue);

/// Names each request: a new id, or behind a trusted proxy the one the proxy gave it (so the
/// proxy's log and this one meet), if it is 1 to 64 of `A-Z a-z 0-9 - _ .`. Sent back as
/// `X-Request-Id`.
async fn request_id(
    mut request: axum::extract::Request,
    next: middleware::Next,
    trust_proxy: bool,
) -> axum::response::Response {
    let given = request.headers().get(&REQUEST_ID).filter(|value| {
        let bytes = value.as_bytes();
        trust_proxy
            && (1..=64).contains(&bytes.len())
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    let id = match given {
        Some(value) => value.clone(),
        None => HeaderValue::from_str(&crate::domain::new_id("req")).expect("an id is a header value"),
    };
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// Headers every answer carries: no MIME sniffing, no referrer, no framing; HSTS over https.
async fn security_headers(
    request: axum::extract::Request,
    next: middleware::Next,
    https: bool,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("no-referrer"));
    headers.entry(header::X_FRAME_OPTIONS).or_insert(HeaderValue::from_static("DENY"));
    headers
        .insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    if https {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// The span of a request: its id, method and path, and the session id when the path names one, so
/// every line logged while serving it is about that request and that session. Query strings are
/// left out.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let path = request.uri().path();
    let id = request.extensions().get::<RequestId>().and_then(|id| id.0.to_str().ok()).unwrap_or_default();
    let session = path.split('/').find(|part| part.starts_with("ses_") && part.len() <= 64);
    match session {
        Some(session_id) => {
            tracing::info_span!("request", request_id = id, method = %request.method(), path, session_id)
        }
        None => tracing::info_span!("request", request_id = id, method = %request.method(), path),
    }
}

/// The payment sweep (expiry after asking the provider, reconciliation, refunds) and the sandbox
/// wallet's scripted steps, every half second on every instance.
fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(SWEEP_INTERVAL_MS));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep_round(&state).await;
        }
    });
}

/// One round of the sweep at the clock's time: the sandbox wallet's scripted steps, then the
/// payments' (expiry, reconciliation, refunds). The background task runs one every half second;
/// a test that moves the clock runs one at once.
pub async fn sweep_round(state: &AppState) {
    let now = state.now();
    let public_base = crate::public_url::base(&state.config, state.bound, &axum::http::HeaderMap::new());
    if let Some(sandbox) = &state.sandbox {
        if let Err(error) = sandbox.run_scripts(now).await {
            tracing::error!(%error, "sandbox scripts failed");
        }
    }
    if let Err(error) = state.app.sweep(now, &public_base).await {
        tracing::error!(?error, "payment sweep failed");
    }
}

/// How often what counts for nothing any more is deleted.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(600);

/// Deletes sign-in attempts that count for nothing any more and staff sessions that have ended,
/// every ten minutes.
fn spawn_housekeeping(store: Db, clock: crate::domain::SharedClock) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = clock.now();
            let forgotten = async {
                store.forget_sign_in_attempts(now - crate::domain::sign_in::LOCK_MS).await?;
                store.forget_staff_sessions(now).await
            };
            if let Err(error) = forgotten.await {
                tracing::error!(%error, "housekeeping failed");
            }
        }
    });
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
            .expose_headers([HeaderName::from_static("idempotent-replayed"), header::RETRY_AFTER, REQUEST_ID])
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
