//! The checkout controller: what the widget shows (`Stage`), and the steps that move it: load the
//! order, pick a wallet, follow the backend's next action, track the status to the end.
//!
//! It is a `Copy` handle on reactive state, so views and event handlers can share it. Every task it
//! starts belongs to the widget's reactive owner and is canceled when the widget is removed.

use crate::{
    answers::Expected,
    api::Api,
    browser,
    config::WidgetConfig,
    error::WidgetError,
    events::{dispatch, Detail, EventKind},
    i18n::{Key, Locale},
    screen::{self, Act},
    storage,
    tracker::{Backoff, Next, Observation, Tracker, Trouble, POLL_INTERVAL_MS, WAIT_SECS},
};
use leptos::{prelude::*, task::spawn_local_scoped_with_cancellation};
use send_wrapper::SendWrapper;
use std::future::Future;
use wallet_checkout_contract::{
    Amount, CreateSessionRequest, DeviceKind, NextAction, OrderResponse, OrderStatus, Session, SessionId,
    SessionStatus, WalletOption,
};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

/// How long the cancel of a session whose time left is unknown is tried (the reference server's
/// session lifetime); a session whose time is known is tried until that runs out.
const CANCEL_UNKNOWN_LIFETIME_MS: f64 = 15.0 * 60_000.0;

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
    /// The session is open: a QR code, a hand-off to the wallet app, or the wait after a redirect.
    Paying(Session),
    /// The browser is leaving for the wallet's page.
    Redirecting(Session),
    /// The backend reported a final status.
    Finished(Session),
    /// After a reload, the remembered session could not be read yet: the widget keeps trying
    /// (the notice says why) and the shopper may choose another wallet instead.
    Resuming(SessionId),
    /// The order is paid or canceled and no session of this page is known.
    OrderClosed(OrderStatus),
}

struct Env {
    api: Api,
    config: WidgetConfig,
    host: web_sys::HtmlElement,
    owner: Owner,
    /// Owns the tasks of the current generation: cleaning it up when the shopper starts over
    /// drops them, which aborts their requests in flight.
    round: Owner,
    /// The last (session, status) announced by a `status` event, so each is announced once.
    announced: Option<(SessionId, SessionStatus)>,
    /// Whether `ready` was dispatched.
    ready: bool,
    /// Ends the tracker's current pause early (see `poll_now`).
    wake: Option<js_sys::Function>,
}

#[derive(Clone, Copy)]
pub struct Checkout {
    pub locale: Locale,
    pub device: DeviceKind,
    pub stage: RwSignal<Stage>,
    pub order: RwSignal<Option<OrderResponse>>,
    /// A passing notice shown while the widget keeps working (offline, reconnecting).
    pub notice: RwSignal<Option<Key>>,
    /// A sentence for screen readers that is not a stage change (time left, link copied).
    pub announcement: RwSignal<String>,
    /// When the current session's `expires_in_secs` was read, by `performance.now()`.
    pub session_read_at: RwSignal<f64>,
    /// On a phone, whether the shopper asked for the QR code (to scan with another device).
    pub qr_requested: RwSignal<bool>,
    /// The result of the last "copy payment link".
    pub copied: RwSignal<Option<Key>>,
    env: StoredValue<Env, LocalStorage>,
    /// Bumped whenever the shopper starts over; older tasks see it changed and stop.
    generation: StoredValue<u32>,
    /// Set to make the next pause of a waiting tracker end at once (back online, countdown ran
    /// out) when none is under way.
    poll_now: StoredValue<bool>,
}

impl Checkout {
    /// Creates the controller under the current reactive owner.
    pub fn new(config: WidgetConfig, locale: Locale, host: web_sys::HtmlElement) -> Self {
        let owner = Owner::current().unwrap_or_default();
        let env = Env {
            api: Api::new(config.endpoint.clone()),
            config,
            host,
            round: owner.child(),
            owner,
            announced: None,
            ready: false,
            wake: None,
        };
        let checkout = Self {
            locale,
            device: browser::device_kind(),
            stage: RwSignal::new(Stage::Loading),
            order: RwSignal::new(None),
            notice: RwSignal::new(None),
            announcement: RwSignal::new(String::new()),
            session_read_at: RwSignal::new(0.0),
            qr_requested: RwSignal::new(false),
            copied: RwSignal::new(None),
            env: StoredValue::new_local(env),
            generation: StoredValue::new(0),
            poll_now: StoredValue::new(false),
        };
        checkout.watch_connectivity();
        checkout
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
        self.emit(
            EventKind::WalletSelected,
            Detail { wallet_id: Some(wallet.id.as_str()), ..Detail::default() },
        );
        self.start_session(wallet);
    }

    /// A new session for the same wallet, after the last one expired; the old one is canceled.
    pub fn renew(self) {
        let session = match self.stage.get_untracked() {
            Stage::Finished(session) | Stage::Paying(session) => session,
            _ => return,
        };
        let wallet = self.order.with_untracked(|order| {
            order.as_ref().and_then(|o| o.wallets.iter().find(|w| w.id == session.wallet_id).cloned())
        });
        self.cancel_open_session(&session);
        match wallet {
            Some(wallet) => self.start_session(wallet),
            None => self.set_stage(Stage::Choosing(None)),
        }
    }

    /// Carries out a screen's action.
    pub fn act(self, act: Act) {
        match act {
            Act::Pick(wallet) => self.pick(wallet),
            Act::ChooseAnother => self.choose_another(),
            Act::Retry => self.retry(),
            Act::Renew => self.renew(),
            Act::ToggleQr => self.qr_requested.update(|shown| *shown = !*shown),
            Act::Copy(text) => self.spawn(async move {
                let key = if browser::copy_text(&text).await { Key::LinkCopied } else { Key::CopyFailed };
                self.copied.try_set(Some(key));
                self.announcement.try_set(self.locale.text(key).to_owned());
            }),
            Act::Open { .. } => {}
        }
    }

    /// Back to the wallet list; the open session, if any, is canceled on the server.
    pub fn choose_another(self) {
        match self.stage.get_untracked() {
            Stage::Paying(session) | Stage::Redirecting(session) => self.cancel_open_session(&session),
            // Its status is unknown: a session that is final already refuses the cancel.
            Stage::Resuming(id) => self.cancel_in_background(id, CANCEL_UNKNOWN_LIFETIME_MS),
            _ => {}
        }
        self.next_generation();
        self.notice.set(None);
        self.forget_session();
        self.emit_ready();
        self.set_stage(Stage::Choosing(None));
    }

    /// Loads everything again after a failure to load.
    pub fn retry(self) {
        self.next_generation();
        self.set_stage(Stage::Loading);
        self.start();
    }

    /// Makes a waiting tracker ask the backend now (the countdown ran out, the network is back).
    pub fn poll_now(self) {
        match self.env.try_update_value(|env| env.wake.take()).flatten() {
            Some(wake) => {
                let _ = wake.call0(&JsValue::UNDEFINED);
            }
            None => self.poll_now.set_value(true),
        }
    }

    /// Whether `url` may be opened from the widget: a trusted web page, or a wallet deep link.
    pub fn is_openable(self, url: &str) -> bool {
        self.env.try_with_value(|env| browser::is_openable(url, env.api.endpoint())).unwrap_or(false)
    }

    /// Whether the widget may send the browser to `url` (see `browser::is_trusted_redirect`).
    fn is_trusted_redirect(self, url: &str) -> bool {
        self.env.try_with_value(|env| browser::is_trusted_redirect(url, env.api.endpoint())).unwrap_or(false)
    }

    /// The wallet's display name, from the order's wallet list.
    pub fn wallet_name(self, id: &str) -> String {
        self.order
            .with_untracked(|order| {
                order
                    .as_ref()
                    .and_then(|o| o.wallets.iter().find(|w| w.id.as_str() == id).map(|w| w.name.clone()))
            })
            .unwrap_or_else(|| id.to_owned())
    }

    /// Money in the widget's locale.
    pub fn money(self, amount: &Amount) -> String {
        browser::format_money(amount, self.locale.tag())
    }

    /// The element the widget lives in.
    pub fn host(self) -> Option<web_sys::HtmlElement> {
        self.env.try_with_value(|env| env.host.clone())
    }

    /// Runs `task` in the current generation: it stops when the shopper starts over or the
    /// widget is removed.
    fn spawn(self, task: impl Future<Output = ()> + 'static) {
        self.spawn_under(|env| env.round.clone(), task);
    }

    /// Runs `task` until it ends or the widget is removed, whatever the shopper does meanwhile.
    fn spawn_for_widget(self, task: impl Future<Output = ()> + 'static) {
        self.spawn_under(|env| env.owner.clone(), task);
    }

    fn spawn_under(self, owner: impl FnOnce(&Env) -> Owner, task: impl Future<Output = ()> + 'static) {
        if let Some(owner) = self.env.try_with_value(owner) {
            owner.with(|| spawn_local_scoped_with_cancellation(task));
        }
    }

    fn api(self) -> Option<Api> {
        self.env.try_with_value(|env| env.api.clone())
    }

    fn config(self) -> Option<WidgetConfig> {
        self.env.try_with_value(|env| env.config.clone())
    }

    /// Starts over: the tasks of the last generation stop, and their requests in flight (a
    /// waiting read of an abandoned session) are aborted.
    fn next_generation(self) -> u32 {
        let old = self.env.try_update_value(|env| {
            let next = env.owner.child();
            env.wake = None;
            std::mem::replace(&mut env.round, next)
        });
        if let Some(old) = old {
            old.cleanup();
        }
        self.poll_now.set_value(false);
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
        let Some(current) = self.stage.try_get_untracked() else { return };
        if current == stage {
            return;
        }
        let same_session = matches!((&current, &stage), (Stage::Paying(a), Stage::Paying(b)) if a.id == b.id);
        if !same_session {
            self.qr_requested.set(false);
            self.copied.set(None);
        }
        self.stage.set(stage);
    }

    fn emit(self, kind: EventKind, detail: Detail<'_>) {
        let _ = self.env.try_with_value(|env| {
            let order = env.config.order.as_str();
            dispatch(&env.host, kind, &Detail { order_id: Some(order), ..detail });
        });
    }

    fn emit_error(self, error: &WidgetError) {
        self.emit(EventKind::Error, Detail { code: Some(error.code()), ..Detail::default() });
    }

    /// `ready`, the first time the order is shown with its wallets or a session of this page.
    fn emit_ready(self) {
        let first = self.env.try_update_value(|env| !std::mem::replace(&mut env.ready, true));
        if first == Some(true) {
            self.emit(EventKind::Ready, Detail::default());
        }
    }

    /// `status` event for a status the page has not heard of yet; true if it was new.
    fn announce_status(self, session: &Session) -> bool {
        let new = self
            .env
            .try_update_value(|env| {
                let key = (session.id.clone(), session.status);
                let new = env.announced.as_ref() != Some(&key);
                env.announced = Some(key);
                new
            })
            .unwrap_or(false);
        if new {
            self.emit(EventKind::Status, session_detail(session));
        }
        new
    }

    fn forget_session(self) {
        if let Some(config) = self.config() {
            storage::forget_session(&config.endpoint, &config.order);
        }
    }

    /// Cancels an abandoned session if it is still open, until its time (as last read) runs out.
    fn cancel_open_session(self, session: &Session) {
        if session.status != SessionStatus::Pending {
            return;
        }
        let read_ago_ms = browser::now_ms() - self.session_read_at.get_untracked();
        self.cancel_in_background(session.id.clone(), session.expires_in_secs as f64 * 1000.0 - read_ago_ms);
    }

    /// Cancels a session on the server, trying again with the tracker's backoff while that fails
    /// transiently (an abandoned session must not stay payable), for at most `lifetime_ms`: a
    /// session past its time cannot be paid anyway. Any definite answer ends it, `session_final`
    /// included.
    fn cancel_in_background(self, id: SessionId, lifetime_ms: f64) {
        let Some(api) = self.api() else { return };
        let give_up_at = browser::now_ms() + lifetime_ms;
        // Not tied to the widget's owner: a cancel must reach the server even if the widget goes.
        leptos::task::spawn_local(async move {
            let mut backoff = Backoff::default();
            loop {
                match api.cancel_session(&id).await {
                    Err(error) if error.is_transient() => {
                        backoff.record(Observation::of_error(error));
                        let delay_ms = backoff.delay_ms(browser::random());
                        if browser::now_ms() + f64::from(delay_ms) > give_up_at {
                            return;
                        }
                        browser::sleep(delay_ms).await;
                    }
                    _ => return,
                }
            }
        });
    }

    /// Shows what kept the last requests from being answered, unless the offline notice
    /// already says more.
    fn show_trouble(self, trouble: Option<Trouble>) {
        if self.notice.get_untracked() != Some(Key::Offline) {
            self.notice.set(match trouble {
                Some(Trouble::Unreachable) => Some(Key::Reconnecting),
                Some(Trouble::Unreadable) => Some(Key::UnexpectedAnswer),
                None => None,
            });
        }
    }

    fn is_offline(self) -> bool {
        self.notice.get_untracked() == Some(Key::Offline)
    }

    fn watch_connectivity(self) {
        let Some(window) = browser::window() else { return };
        if !window.navigator().on_line() {
            self.notice.set(Some(Key::Offline));
        }
        let offline = Closure::<dyn Fn()>::new(move || self.notice.set(Some(Key::Offline)));
        let online = Closure::<dyn Fn()>::new(move || {
            if self.notice.get_untracked() == Some(Key::Offline) {
                self.notice.set(None);
            }
            self.poll_now();
        });
        let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        let listeners = SendWrapper::new((window, offline, online));
        on_cleanup(move || {
            let (window, offline, online) = &*listeners;
            let _ = window.remove_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
            let _ = window.remove_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        });
    }

    async fn load(self) {
        let (Some(api), Some(config)) = (self.api(), self.config()) else { return };
        let generation = self.generation.try_get_value().unwrap_or(0);
        let order = match Expected::order(&config.order).check(api.order(&config.order).await) {
            Ok(order) => order,
            Err(error) => {
                let error = WidgetError::from(error);
                self.emit_error(&error);
                self.set_stage(Stage::Unavailable(error));
                return;
            }
        };
        let order_status = order.order.status;
        let amount = order.order.amount;
        self.order.set(Some(order));

        let returned = browser::returned_session_param();
        browser::forget_returned_session_param();
        let known = returned
            .and_then(|id| SessionId::parse(id).ok())
            .or_else(|| storage::remembered_session(&config.endpoint, &config.order));
        if let Some(id) = known {
            // Remembered until the backend says it does not know it: a read that fails leaves the
            // session as payable as before, and a payment made meanwhile must still be seen.
            storage::remember_session(&config.endpoint, &config.order, &id);
            if !self.resume(&api, &config, id, &amount, generation).await {
                return;
            }
        }
        self.emit_ready();
        match order_status {
            OrderStatus::Open => self.set_stage(Stage::Choosing(None)),
            closed => self.set_stage(Stage::OrderClosed(closed)),
        }
    }

    /// Picks this page's session up again after a reload or a return from the wallet, reading it
    /// until the backend answers (with the tracker's notices and backoff). False once it is
    /// shown (or this generation is over); true if the backend does not know it, and it is
    /// forgotten.
    async fn resume(
        self,
        api: &Api,
        config: &WidgetConfig,
        id: SessionId,
        amount: &Amount,
        generation: u32,
    ) -> bool {
        let expected =
            Expected { order: &config.order, session: Some(&id), wallet: None, amount: Some(amount) };
        let mut backoff = Backoff::default();
        loop {
            let result = if self.is_offline() { None } else { Some(expected.check(api.session(&id).await)) };
            if !self.is_current(generation) {
                return false;
            }
            match result {
                Some(Ok(session)) => {
                    self.notice.set(None);
                    self.show_session(session, generation);
                    return false;
                }
                Some(Err(error)) if error.is_not_found() => {
                    self.notice.set(None);
                    storage::forget_session(&config.endpoint, &config.order);
                    return true;
                }
                Some(Err(error)) => {
                    backoff.record(Observation::of_error(error));
                    self.show_trouble(backoff.trouble());
                }
                // No request while offline; the `online` event ends the pause.
                None => {}
            }
            self.set_stage(Stage::Resuming(id.clone()));
            self.pause(backoff.delay_ms(browser::random()), backoff.holds_off()).await;
            if !self.is_current(generation) {
                return false;
            }
        }
    }

    fn start_session(self, wallet: WalletOption) {
        let generation = self.next_generation();
        self.notice.set(None);
        self.set_stage(Stage::Starting(wallet.clone()));
        // Not stopped when the shopper starts over: a session created meanwhile is canceled once
        // its answer arrives, which an aborted request would leave open on the server.
        self.spawn_for_widget(async move { self.create_session(wallet, generation).await });
    }

    async fn create_session(self, wallet: WalletOption, generation: u32) {
        let (Some(api), Some(config)) = (self.api(), self.config()) else { return };
        let request = CreateSessionRequest {
            order_id: config.order.clone(),
            wallet_id: wallet.id.clone(),
            return_url: browser::return_url(),
            device: self.device,
        };
        // One key for this attempt: retries after a lost answer return the same session.
        let key = browser::new_idempotency_key();
        let order_amount = self.order.with_untracked(|order| order.as_ref().map(|o| o.order.amount));
        let expected = Expected {
            order: &config.order,
            session: None,
            wallet: Some(&wallet.id),
            amount: order_amount.as_ref(),
        };
        let result = expected.check(api.create_session(&request, &key).await);
        if !self.is_current(generation) {
            // The shopper went back meanwhile: the session is not wanted.
            if let Ok(session) = result {
                self.cancel_in_background(session.id, session.expires_in_secs as f64 * 1000.0);
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
        self.emit(EventKind::SessionCreated, session_detail(&session));
        let redirect = match &session.next_action {
            Some(NextAction::Redirect { url }) if session.status == SessionStatus::Pending => {
                Some(url.clone())
            }
            _ => None,
        };
        match redirect {
            Some(url) if self.device == DeviceKind::Desktop && self.refusal(&session).is_none() => {
                self.announce_status(&session);
                self.set_stage(Stage::Redirecting(session));
                browser::navigate(&url);
            }
            _ => self.show_session(session, generation),
        }
    }

    /// Why the shopper cannot pay `session` here, if they cannot (`screen::unusable`).
    fn refusal(self, session: &Session) -> Option<WidgetError> {
        let trusted = |url: &str| self.is_trusted_redirect(url);
        let openable = |url: &str| self.is_openable(url);
        screen::unusable(session, self.device, &trusted, &openable)
    }

    /// Cancels a session the widget cannot carry out and explains why.
    fn abandon(self, session: Session, error: WidgetError) {
        self.cancel_open_session(&session);
        self.forget_session();
        self.emit_error(&error);
        self.set_stage(Stage::Choosing(Some(error)));
    }

    /// Shows a session as the backend reported it (refusing one the shopper could not pay here)
    /// and keeps tracking it until it is final.
    fn show_session(self, session: Session, generation: u32) {
        self.session_read_at.set(browser::now_ms());
        self.emit_ready();
        if let Some(error) = self.refusal(&session) {
            return self.abandon(session, error);
        }
        if session.status.is_final() {
            self.finish(session);
            return;
        }
        self.announce_status(&session);
        self.set_stage(Stage::Paying(session.clone()));
        self.spawn(async move { self.track(session, generation).await });
    }

    /// Waits `ms`, or less if asked to poll at once (`poll_now`), unless the backend asked for
    /// the pause (`holds_off`).
    async fn pause(self, ms: u32, holds_off: bool) {
        if !holds_off && self.poll_now.try_update_value(std::mem::take) == Some(true) {
            return;
        }
        let (wait, _timer, wake) = browser::delay(ms);
        if !holds_off {
            self.env.try_update_value(|env| env.wake = wake);
        }
        let _ = wait.await;
        self.env.try_update_value(|env| env.wake = None);
        self.poll_now.try_set_value(false);
    }

    async fn track(self, mut session: Session, generation: u32) {
        let Some(api) = self.api() else { return };
        let mut tracker = Tracker::new(session.status);
        // A waiting read goes out at once: the backend answers when the status changes.
        let mut delay = 0;
        loop {
            if delay > 0 {
                self.pause(delay, tracker.holds_off()).await;
            }
            if !self.is_current(generation) {
                return;
            }
            if self.is_offline() {
                // No request while offline; the `online` event wakes the tracker.
                delay = POLL_INTERVAL_MS;
                continue;
            }
            let asked_at = browser::now_ms();
            let answer = api.wait_for_session(&session.id, tracker.status(), WAIT_SECS).await;
            let observation = match Expected::tracking(&session).check(answer) {
                Ok(latest) => {
                    let status = latest.status;
                    session = latest;
                    Observation::Status(status)
                }
                Err(error) => Observation::of_error(error),
            };
            if !self.is_current(generation) {
                return;
            }
            let next = tracker.observe_wait(observation, browser::random(), browser::now_ms() - asked_at);
            self.show_trouble(tracker.trouble());
            match next {
                Next::Finished(_) => {
                    self.finish(session);
                    return;
                }
                Next::PollAfter { delay_ms } => {
                    delay = delay_ms;
                    // Only what the tracker accepted is shown, never a step backwards; and the
                    // screen changes only with the status (the countdown keeps its own time).
                    if tracker.status() == session.status && self.announce_status(&session) {
                        self.session_read_at.set(browser::now_ms());
                        self.set_stage(Stage::Paying(session.clone()));
                    }
                }
            }
        }
    }

    fn finish(self, session: Session) {
        self.notice.set(None);
        let status = session.status;
        let detail = session_detail(&session);
        if self.announce_status(&session) {
            match status {
                SessionStatus::Succeeded => self.emit(EventKind::Paid, detail),
                SessionStatus::Failed => self.emit(EventKind::Failed, detail),
                SessionStatus::Expired => self.emit(EventKind::Expired, detail),
                SessionStatus::Canceled => self.emit(EventKind::Canceled, detail),
                SessionStatus::Pending | SessionStatus::Processing => {}
            }
        }
        self.set_stage(Stage::Finished(session));
    }
}

fn session_detail(session: &Session) -> Detail<'_> {
    Detail {
        session_id: Some(session.id.as_str()),
        status: Some(session.status.as_str()),
        wallet_id: Some(session.wallet_id.as_str()),
        ..Detail::default()
    }
}
