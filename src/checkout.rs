//! The checkout controller: what the widget shows (`Stage`), and the steps that move it: load the
//! order, pick a wallet, follow the backend's next action, track the status to the end.
//!
//! It is a `Copy` handle on reactive state, so views and event handlers can share it. Every task it
//! starts belongs to the widget's reactive owner and is canceled when the widget is removed.

use crate::{
    api::{Api, ApiError},
    browser,
    config::WidgetConfig,
    error::WidgetError,
    events::{dispatch, Detail, EventKind},
    i18n::{Key, Locale},
    storage,
    tracker::{Next, Observation, Tracker, POLL_INTERVAL_MS},
};
use leptos::{prelude::*, task::spawn_local_scoped_with_cancellation};
use std::future::Future;
use wallet_checkout_contract::{
    CreateSessionRequest, NextAction, OrderResponse, OrderStatus, Session, SessionId,
    SessionStatus, WalletOption,
};

/// Attempts at creating a session when the network fails, all with the same idempotency key.
pub const CREATE_ATTEMPTS: u32 = 3;

/// What the widget shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    Loading,
    /// The order could not be loaded; the shopper may try again.
    Unavailable(WidgetError),
    /// The wallet list, with the problem of the last attempt if it failed.
    Choosing(Option<WidgetError>),
    /// A session is being created for this wallet.
    Starting(WalletOption),
    /// The session is open: a QR code, or waiting for the wallet after a redirect.
    Paying(Session),
    /// The browser is leaving for the wallet's page.
    Redirecting(Session),
    /// The backend reported a final status.
    Finished(Session),
    /// The order is paid or canceled and no session of this page is known.
    OrderClosed(OrderStatus),
}

struct Env {
    api: Api,
    config: WidgetConfig,
    host: web_sys::HtmlElement,
    owner: Owner,
    /// The last (session, status) announced by an event, so each is announced once.
    announced: Option<(SessionId, SessionStatus)>,
}

#[derive(Clone, Copy)]
pub struct Checkout {
    pub locale: Locale,
    pub stage: RwSignal<Stage>,
    pub order: RwSignal<Option<OrderResponse>>,
    /// A passing notice while tracking goes on (for example a lost connection).
    pub notice: RwSignal<Option<Key>>,
    /// When the current session's `expires_in_secs` was read, by `performance.now()`.
    pub session_read_at: RwSignal<f64>,
    env: StoredValue<Env, LocalStorage>,
    /// Bumped whenever the shopper starts over; older tasks see it changed and stop.
    generation: StoredValue<u32>,
}

impl Checkout {
    /// Creates the controller under the current reactive owner.
    pub fn new(config: WidgetConfig, locale: Locale, host: web_sys::HtmlElement) -> Self {
        let env = Env {
            api: Api::new(config.endpoint.clone()),
            config,
            host,
            owner: Owner::current().unwrap_or_default(),
            announced: None,
        };
        Self {
            locale,
            stage: RwSignal::new(Stage::Loading),
            order: RwSignal::new(None),
            notice: RwSignal::new(None),
            session_read_at: RwSignal::new(0.0),
            env: StoredValue::new_local(env),
            generation: StoredValue::new(0),
        }
    }

    /// Loads the order and picks up this page's session if there is one.
    pub fn start(self) {
        self.spawn(async move { self.load().await });
    }

    /// The shopper chose a wallet.
    pub fn pick(self, wallet: WalletOption) {
        if !matches!(self.stage.get_untracked(), Stage::Choosing(_)) {
            return; // a second click while a session is being created
        }
        let generation = self.next_generation();
        self.set_stage(Stage::Starting(wallet.clone()));
        self.spawn(async move { self.create_session(wallet, generation).await });
    }

    /// Back to the wallet list; the open session, if any, is canceled on the server.
    pub fn choose_another(self) {
        let open = match self.stage.get_untracked() {
            Stage::Paying(session) | Stage::Redirecting(session) => Some(session.id),
            _ => None,
        };
        self.next_generation();
        self.notice.set(None);
        self.forget_session();
        if let Some(id) = open {
            self.spawn(async move {
                if let Some(api) = self.api() {
                    let _ = api.cancel_session(&id).await;
                }
            });
        }
        self.set_stage(Stage::Choosing(None));
    }

    /// Loads everything again after a failure to load.
    pub fn retry(self) {
        self.next_generation();
        self.set_stage(Stage::Loading);
        self.start();
    }

    /// Sends the shopper to a redirect action's URL again (after coming back without paying).
    pub fn reopen(self, url: String) {
        let endpoint = self
            .api()
            .map(|api| api.endpoint().to_owned())
            .unwrap_or_default();
        if browser::is_trusted_redirect(&url, &endpoint) {
            browser::navigate(&url);
        }
    }

    /// The wallet's display name, from the order's wallet list.
    pub fn wallet_name(self, id: &str) -> String {
        self.order
            .with_untracked(|order| {
                order.as_ref().and_then(|o| {
                    o.wallets
                        .iter()
                        .find(|w| w.id.as_str() == id)
                        .map(|w| w.name.clone())
                })
            })
            .unwrap_or_else(|| id.to_owned())
    }

    /// Money in the widget's locale.
    pub fn money(self, amount: &wallet_checkout_contract::Amount) -> String {
        browser::format_money(
            amount.minor_units(),
            amount.currency().as_str(),
            self.locale.tag(),
        )
    }

    fn spawn(self, task: impl Future<Output = ()> + 'static) {
        let owner = self.env.try_with_value(|env| env.owner.clone());
        if let Some(owner) = owner {
            owner.with(|| spawn_local_scoped_with_cancellation(task));
        }
    }

    fn api(self) -> Option<Api> {
        self.env.try_with_value(|env| env.api.clone())
    }

    fn config(self) -> Option<WidgetConfig> {
        self.env.try_with_value(|env| env.config.clone())
    }

    fn next_generation(self) -> u32 {
        self.generation
            .try_update_value(|g| {
                *g += 1;
                *g
            })
            .unwrap_or(0)
    }

    fn is_current(self, generation: u32) -> bool {
        self.generation.try_get_value() == Some(generation)
    }

    fn set_stage(self, stage: Stage) {
        if self.stage.try_get_untracked().as_ref() != Some(&stage) {
            self.stage.set(stage);
        }
    }

    fn emit(self, kind: EventKind, detail: Detail<'_>) {
        let _ = self.env.try_with_value(|env| {
            let order = env.config.order.as_str();
            dispatch(
                &env.host,
                kind,
                &Detail {
                    order_id: Some(order),
                    ..detail
                },
            );
        });
    }

    fn emit_error(self, error: &WidgetError) {
        self.emit(
            EventKind::Error,
            Detail {
                code: Some(error.code()),
                ..Detail::default()
            },
        );
    }

    fn forget_session(self) {
        if let Some(config) = self.config() {
            storage::forget_session(&config.endpoint, &config.order);
        }
    }

    async fn load(self) {
        let (Some(api), Some(config)) = (self.api(), self.config()) else {
            return;
        };
        let generation = self.generation.try_get_value().unwrap_or(0);
        let order = match with_retries(|| api.order(&config.order)).await {
            Ok(order) => order,
            Err(error) => {
                let error = WidgetError::from(error);
                self.emit_error(&error);
                self.set_stage(Stage::Unavailable(error));
                return;
            }
        };
        let order_status = order.order.status;
        self.order.set(Some(order));

        let returned = browser::returned_session_param();
        browser::forget_returned_session_param();
        let known = returned
            .and_then(|id| SessionId::parse(id).ok())
            .or_else(|| storage::remembered_session(&config.endpoint, &config.order));
        if let Some(id) = known {
            match api.session(&id).await {
                Ok(session) if session.order_id == config.order => {
                    storage::remember_session(&config.endpoint, &config.order, &session.id);
                    self.emit(EventKind::Ready, Detail::default());
                    self.show_session(session, generation);
                    return;
                }
                _ => storage::forget_session(&config.endpoint, &config.order),
            }
        }
        self.emit(EventKind::Ready, Detail::default());
        match order_status {
            OrderStatus::Open => self.set_stage(Stage::Choosing(None)),
            closed => self.set_stage(Stage::OrderClosed(closed)),
        }
    }

    async fn create_session(self, wallet: WalletOption, generation: u32) {
        let (Some(api), Some(config)) = (self.api(), self.config()) else {
            return;
        };
        let request = CreateSessionRequest {
            order_id: config.order.clone(),
            wallet_id: wallet.id.clone(),
            return_url: browser::return_url(),
            device: browser::device_kind(),
        };
        // One key for this attempt: retries after a lost answer return the same session.
        let key = browser::new_idempotency_key();
        let result = with_retries(|| api.create_session(&request, &key)).await;
        if !self.is_current(generation) {
            // The shopper went back meanwhile: the session is not wanted.
            if let Ok(session) = result {
                let _ = api.cancel_session(&session.id).await;
            }
            return;
        }
        let session = match result {
            Ok(session) => session,
            Err(error) => {
                let error = WidgetError::from(error);
                self.emit_error(&error);
                self.set_stage(Stage::Choosing(Some(error)));
                return;
            }
        };
        storage::remember_session(&config.endpoint, &config.order, &session.id);
        self.emit(
            EventKind::SessionCreated,
            Detail {
                session_id: Some(session.id.as_str()),
                status: Some(session.status.as_str()),
                wallet_id: Some(session.wallet_id.as_str()),
                ..Detail::default()
            },
        );
        match &session.next_action {
            Some(NextAction::Redirect { url }) if session.status == SessionStatus::Pending => {
                if browser::is_trusted_redirect(url, &config.endpoint) {
                    let url = url.clone();
                    self.set_stage(Stage::Redirecting(session));
                    browser::navigate(&url);
                } else {
                    self.abandon(&api, session, WidgetError::UntrustedRedirect)
                        .await;
                }
            }
            Some(NextAction::Unsupported) | None if session.status == SessionStatus::Pending => {
                self.abandon(&api, session, WidgetError::Unsupported).await;
            }
            _ => self.show_session(session, generation),
        }
    }

    /// Cancels a session the widget cannot carry out and explains why.
    async fn abandon(self, api: &Api, session: Session, error: WidgetError) {
        let _ = api.cancel_session(&session.id).await;
        self.forget_session();
        self.emit_error(&error);
        self.set_stage(Stage::Choosing(Some(error)));
    }

    /// Shows a session as the backend reported it and keeps tracking it until it is final.
    fn show_session(self, session: Session, generation: u32) {
        self.session_read_at.set(browser::now_ms());
        if session.status.is_final() {
            self.finish(session);
            return;
        }
        self.set_stage(Stage::Paying(session.clone()));
        self.spawn(async move { self.track(session, generation).await });
    }

    async fn track(self, mut session: Session, generation: u32) {
        let Some(api) = self.api() else { return };
        let mut tracker = Tracker::new(session.status);
        let mut delay = POLL_INTERVAL_MS;
        loop {
            browser::sleep(delay).await;
            if !self.is_current(generation) {
                return;
            }
            let observation = match api.session(&session.id).await {
                Ok(latest) if latest.id == session.id => {
                    let status = latest.status;
                    session = latest;
                    self.session_read_at.set(browser::now_ms());
                    Observation::Status(status)
                }
                Ok(_) | Err(ApiError::BadAnswer) => Observation::Unreadable,
                Err(_) => Observation::Unreachable,
            };
            if !self.is_current(generation) {
                return;
            }
            let next = tracker.observe(observation, browser::random());
            self.notice
                .set(tracker.is_struggling().then_some(Key::Reconnecting));
            match next {
                Next::Finished(_) => {
                    self.finish(session);
                    return;
                }
                Next::PollAfter { delay_ms } => {
                    delay = delay_ms;
                    if tracker.status() == session.status {
                        self.set_stage(Stage::Paying(session.clone()));
                    }
                }
            }
        }
    }

    fn finish(self, session: Session) {
        self.notice.set(None);
        let status = session.status;
        let first_time = self
            .env
            .try_update_value(|env| {
                let seen = env.announced.as_ref() == Some(&(session.id.clone(), status));
                env.announced = Some((session.id.clone(), status));
                !seen
            })
            .unwrap_or(false);
        if first_time {
            let detail = Detail {
                session_id: Some(session.id.as_str()),
                status: Some(status.as_str()),
                wallet_id: Some(session.wallet_id.as_str()),
                ..Detail::default()
            };
            match status {
                SessionStatus::Succeeded => self.emit(EventKind::Paid, detail),
                SessionStatus::Failed => self.emit(EventKind::Failed, detail),
                _ => {}
            }
        }
        self.set_stage(Stage::Finished(session));
    }
}

/// Runs `call` up to `CREATE_ATTEMPTS` times while it fails transiently, with exponential
/// backoff and jitter between attempts.
async fn with_retries<T, F, Fut>(mut call: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(error) if error.is_transient() && attempt + 1 < CREATE_ATTEMPTS => {
                let ceiling = 500.0 * f64::from(1u32 << attempt);
                browser::sleep((ceiling / 2.0 + ceiling / 2.0 * browser::random()) as u32).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}
