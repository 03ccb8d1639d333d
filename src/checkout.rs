//! The checkout controller: it carries out what the rules (`flow::step`) decide, and sends the
//! outcomes back to them. Requests, timers, storage, navigation and DOM events live here; no
//! decision about what the shopper sees does.
//!
//! It is a `Copy` handle on reactive state, so the view and event handlers can share it. Every
//! task it starts belongs to the widget's reactive owner and is canceled when the widget is
//! removed; the tasks of one round (since the shopper last started over) are canceled together.

use crate::{
    answers::Expected,
    api::Api,
    browser,
    config::{Timing, WidgetConfig},
    events::{dispatch, Detail, EventKind},
    flow::{self, Act, Effect, Lifetime, Message, Rules, Stage, State, Subject},
    i18n::{Key, Locale},
    storage,
    tracker::{Backoff, Next, Observation, Tracker, Trouble},
};
use leptos::{prelude::*, task::spawn_local_scoped_with_cancellation};
use send_wrapper::SendWrapper;
use wallet_checkout_contract::{
    CheckoutStep, DeviceKind, OrderResponse, Session, SessionId, WalletId, WalletOption,
};
use wasm_bindgen::{closure::Closure, JsCast, JsValue};

/// How long the cancel of a session whose time left is unknown is tried (the reference server's
/// session lifetime); a session whose time is known is tried until that runs out.
const CANCEL_UNKNOWN_LIFETIME_MS: f64 = 15.0 * 60_000.0;

struct Env {
    api: Api,
    config: WidgetConfig,
    timing: Timing,
    host: web_sys::HtmlElement,
    owner: Owner,
    /// Owns the tasks of the current round: cleaning it up when the shopper starts over drops
    /// them, which aborts their requests in flight.
    round: Owner,
    /// The rules' state; `None` only while a step is under way.
    state: Option<State>,
    /// Ends the tracker's current pause early (see `poll_now`).
    wake: Option<js_sys::Function>,
    /// Set to make the next pause of a waiting tracker end at once (back online, countdown ran
    /// out) when none is under way.
    poll_now: bool,
    view: View,
}

/// What the view draws besides the order (the rules' own, `Checkout::view`). The screen is drawn
/// again when `Checkout::screen_changed` fires (the stage, the order or `qr_requested` changed),
/// the passing texts when `texts_changed` fires.
/// Two triggers over plain state, rather than a signal per value: each signal type costs the
/// module its own copy of the reactive machinery.
pub struct View {
    /// The rules' stage.
    pub stage: Stage,
    /// Whether the order was read (once it is, it does not change).
    has_order: bool,
    /// On a phone, whether the shopper asked for the QR code (to scan with another device).
    pub qr_requested: bool,
    /// A passing notice shown while the widget keeps working (offline, reconnecting).
    pub notice: Option<Key>,
    /// A sentence for screen readers that is not a stage change (time left, link copied).
    pub announcement: String,
    /// The result of the last "copy payment link".
    pub copied: Option<Key>,
    /// When the current session's `expires_in_secs` was read, by `performance.now()`.
    pub session_read_at: f64,
}

/// One piece of work, run as a task: the one future type every task of the widget is.
enum Job {
    Load,
    Resume(SessionId),
    Create(WalletOption),
    Track(Session),
    Cancel { id: SessionId, give_up_at: f64 },
    Copy(String),
    Report(CheckoutStep, Option<WalletId>),
}

#[derive(Clone, Copy)]
pub struct Checkout {
    pub locale: Locale,
    pub device: DeviceKind,
    /// Fires when the screen must be drawn again (see `View`).
    pub screen_changed: Trigger,
    /// Fires when the passing texts must be drawn again (see `View`).
    pub texts_changed: Trigger,
    env: StoredValue<Env, LocalStorage>,
}

impl Checkout {
    /// Creates the controller under the current reactive owner.
    pub fn new(config: WidgetConfig, timing: Timing, locale: Locale, host: web_sys::HtmlElement) -> Self {
        let owner = Owner::current().unwrap_or_default();
        let env = Env {
            api: Api::new(config.endpoint.clone(), timing.request_timeout_ms, timing.retry_base_ms),
            state: Some(State::new(config.order.clone())),
            config,
            timing,
            host,
            round: owner.child(),
            owner,
            wake: None,
            poll_now: false,
            view: View {
                stage: Stage::Loading,
                has_order: false,
                qr_requested: false,
                notice: None,
                announcement: String::new(),
                copied: None,
                session_read_at: 0.0,
            },
        };
        let checkout = Self {
            locale,
            device: browser::device_kind(),
            screen_changed: Trigger::new(),
            texts_changed: Trigger::new(),
            env: StoredValue::new_local(env),
        };
        checkout.watch_connectivity();
        checkout
    }

    /// Loads the order and picks up this page's session if there is one.
    pub fn start(self) {
        self.send(Message::Start);
    }

    /// Carries out a screen's action.
    pub fn act(self, act: Act) {
        match act {
            Act::ToggleQr => {
                if self.env.try_update_value(|env| env.view.qr_requested ^= true).is_some() {
                    self.screen_changed.notify();
                }
            }
            Act::Copy(text) => self.spawn(Job::Copy(text), Some(false)),
            Act::Open { .. } => {}
            act => self.send(Message::Act(act)),
        }
    }

    /// Makes a waiting tracker ask the backend now (the countdown ran out, the network is back).
    pub fn poll_now(self) {
        match self.env.try_update_value(|env| env.wake.take()).flatten() {
            Some(wake) => {
                let _ = wake.call0(&JsValue::UNDEFINED);
            }
            None => {
                self.env.try_update_value(|env| env.poll_now = true);
            }
        }
    }

    /// Whether `url` may be opened from the widget: a trusted web page, or a wallet deep link.
    pub fn is_openable(self, url: &str) -> bool {
        self.env.try_with_value(|env| browser::is_openable(url, env.api.endpoint())).unwrap_or(false)
    }

    /// Money in the widget's locale.
    pub fn money(self, amount: &wallet_checkout_contract::Amount) -> String {
        browser::format_money(amount, self.locale.tag())
    }

    /// The element the widget lives in.
    pub fn host(self) -> Option<web_sys::HtmlElement> {
        self.env.try_with_value(|env| env.host.clone())
    }

    /// Reads what the view draws, and the order once it is read (`None` once the widget is gone).
    pub fn view<R>(self, read: impl FnOnce(&View, Option<&OrderResponse>) -> R) -> Option<R> {
        self.env
            .try_with_value(|env| read(&env.view, env.state.as_ref().and_then(|state| state.order.as_ref())))
    }

    /// Changes the passing texts and has them drawn again.
    pub fn change_texts(self, change: impl FnOnce(&mut View)) {
        if self.env.try_update_value(|env| change(&mut env.view)).is_some() {
            self.texts_changed.notify();
        }
    }

    /// The widget's timing (`Timing::default()` outside tests).
    pub fn timing(self) -> Timing {
        self.env.try_with_value(|env| env.timing).unwrap_or_default()
    }

    /// Takes one step of the rules and carries out its effects.
    fn send(self, message: Message) {
        let Some(state) = self.env.try_update_value(|env| env.state.take()).flatten() else { return };
        let endpoint = self.env.try_with_value(|env| env.api.endpoint().to_owned()).unwrap_or_default();
        let trusted = |url: &str| browser::is_trusted_redirect(url, &endpoint);
        let openable = |url: &str| browser::is_openable(url, &endpoint);
        let rules = Rules { device: self.device, trusted_redirect: &trusted, openable: &openable };
        let (state, effects) = flow::step(state, message, &rules);
        let changed = self.env.try_update_value(|env| {
            let view = &mut env.view;
            let order_changed = view.has_order != state.order.is_some();
            view.has_order = state.order.is_some();
            let stage_changed = view.stage != state.stage;
            // Another screen than the same session's: the QR code is hidden again on a phone and
            // the copy result goes.
            let other_screen = stage_changed
                && !matches!((&view.stage, &state.stage), (Stage::Paying(a), Stage::Paying(b)) if a.id == b.id);
            if other_screen {
                view.qr_requested = false;
                view.copied = None;
            }
            if stage_changed {
                view.stage = state.stage.clone();
            }
            env.state = Some(state);
            (order_changed || stage_changed, other_screen)
        });
        if let Some((screen, texts)) = changed {
            if screen {
                self.screen_changed.notify();
            }
            if texts {
                self.texts_changed.notify();
            }
        }
        for effect in effects {
            self.carry_out(effect);
        }
    }

    fn round(self) -> u32 {
        self.env.try_with_value(|env| env.state.as_ref().map_or(0, |s| s.round)).unwrap_or(0)
    }

    fn carry_out(self, effect: Effect) {
        match effect {
            Effect::NewRound => self.new_round(),
            Effect::LoadOrder => self.spawn(Job::Load, Some(false)),
            Effect::Resume(id) => self.spawn(Job::Resume(id), Some(false)),
            // Not stopped when the shopper starts over: a session created meanwhile is canceled
            // once its answer arrives, which an aborted request would leave open on the server.
            Effect::Create(wallet) => self.spawn(Job::Create(wallet), Some(true)),
            Effect::Track(session) => self.spawn(Job::Track(session), Some(false)),
            Effect::Cancel { id, lifetime } => {
                let now = browser::now_ms();
                let give_up_at = match lifetime {
                    Lifetime::FromShown(secs) => {
                        self.view(|view, _| view.session_read_at).unwrap_or(now) + secs as f64 * 1000.0
                    }
                    Lifetime::FromNow(secs) => now + secs as f64 * 1000.0,
                    Lifetime::Unknown => now + CANCEL_UNKNOWN_LIFETIME_MS,
                };
                // Not tied to the widget: a cancel must reach the server even if the widget goes.
                self.spawn(Job::Cancel { id, give_up_at }, None);
            }
            Effect::Remember(id) => {
                let _ = self.env.try_with_value(|env| {
                    storage::remember_session(&env.config.endpoint, &env.config.order, &id)
                });
            }
            Effect::Forget => {
                let _ = self
                    .env
                    .try_with_value(|env| storage::forget_session(&env.config.endpoint, &env.config.order));
            }
            Effect::Navigate(url) => {
                browser::navigate(&url);
            }
            Effect::Emit(kind, subject) => self.emit(kind, &subject),
            Effect::SessionShown => {
                let now = browser::now_ms();
                self.env.try_update_value(|env| env.view.session_read_at = now);
            }
            Effect::ClearNotice => self.change_texts(|view| view.notice = None),
            // Not tied to the round: a step is reported even if the shopper moves on at once.
            Effect::Report(step, wallet) => self.spawn(Job::Report(step, wallet), None),
        }
    }

    fn emit(self, kind: EventKind, subject: &Subject) {
        let Some((order, host)) = self.env.try_with_value(|env| (env.config.order.clone(), env.host.clone()))
        else {
            return;
        };
        let detail = match subject {
            Subject::Session(session) => Detail {
                session_id: Some(session.id.as_str()),
                status: Some(session.status.as_str()),
                wallet_id: Some(session.wallet_id.as_str()),
                ..Detail::default()
            },
            Subject::Wallet(wallet) => Detail { wallet_id: Some(wallet.as_str()), ..Detail::default() },
            Subject::Error(code) => Detail { code: Some(code), ..Detail::default() },
            Subject::Order => Detail::default(),
        };
        dispatch(&host, kind, &Detail { order_id: Some(order.as_str()), ..detail });
    }

    /// Runs `job` in the current round (`Some(false)`: it stops when the shopper starts over or
    /// the widget is removed), for the widget's life (`Some(true)`), or to its end (`None`).
    fn spawn(self, job: Job, for_widget: Option<bool>) {
        let round = self.round();
        // Taken now: a cancel must go out even if the widget is removed before the task starts.
        let Some(context) = self.env.try_with_value(|env| (env.api.clone(), env.config.clone(), env.timing))
        else {
            return;
        };
        let task = async move { self.work(job, round, context).await };
        match for_widget {
            None => leptos::task::spawn_local(task),
            Some(widget) => {
                let owner =
                    self.env.try_with_value(|env| if widget { env.owner.clone() } else { env.round.clone() });
                if let Some(owner) = owner {
                    owner.with(|| spawn_local_scoped_with_cancellation(task));
                }
            }
        }
    }

    /// Starts over: the tasks of the last round stop, and their requests in flight (a waiting
    /// read of an abandoned session) are aborted.
    fn new_round(self) {
        let old = self.env.try_update_value(|env| {
            let next = env.owner.child();
            env.wake = None;
            env.poll_now = false;
            std::mem::replace(&mut env.round, next)
        });
        if let Some(old) = old {
            old.cleanup();
        }
    }

    fn is_current(self, round: u32) -> bool {
        self.round() == round
    }

    /// Shows what kept the last requests from being answered, unless the offline notice
    /// already says more.
    fn show_trouble(self, trouble: Option<Trouble>) {
        if !self.is_offline() {
            let notice = match trouble {
                Some(Trouble::Unreachable) => Some(Key::Reconnecting),
                Some(Trouble::Unreadable) => Some(Key::UnexpectedAnswer),
                None => None,
            };
            self.change_texts(|view| view.notice = notice);
        }
    }

    fn is_offline(self) -> bool {
        self.view(|view, _| view.notice == Some(Key::Offline)).unwrap_or(false)
    }

    fn watch_connectivity(self) {
        let Some(window) = browser::window() else { return };
        if !window.navigator().on_line() {
            self.change_texts(|view| view.notice = Some(Key::Offline));
        }
        // `FnMut`, as the timers' callbacks are: one closure type fewer in the bundle. (Neither is
        // called again while it runs.)
        let offline = Closure::<dyn FnMut()>::new(move || {
            self.change_texts(|view| view.notice = Some(Key::Offline));
        });
        let online = Closure::<dyn FnMut()>::new(move || {
            if self.is_offline() {
                self.change_texts(|view| view.notice = None);
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

    /// Waits `ms`, or less if asked to poll at once (`poll_now`), unless the backend asked for
    /// the pause (`holds_off`).
    async fn pause(self, ms: u32, holds_off: bool) {
        if !holds_off && self.env.try_update_value(|env| std::mem::take(&mut env.poll_now)) == Some(true) {
            return;
        }
        let (wait, _timer, wake) = browser::delay(ms);
        if !holds_off {
            self.env.try_update_value(|env| env.wake = wake);
        }
        let _ = wait.await;
        self.env.try_update_value(|env| {
            env.wake = None;
            env.poll_now = false;
        });
    }

    async fn work(self, job: Job, round: u32, (api, config, timing): (Api, WidgetConfig, Timing)) {
        match job {
            Job::Load => {
                let host = self.host();
                let answer = api.order(&config.order, host.as_ref()).await;
                let returned = browser::returned_session_param();
                browser::forget_returned_session_param();
                let known = returned
                    .and_then(|id| SessionId::parse(id).ok())
                    .or_else(|| storage::remembered_session(&config.endpoint, &config.order));
                self.send(Message::OrderRead { round, answer, known });
            }
            Job::Resume(id) => self.resume(&api, id, round, timing).await,
            Job::Create(wallet) => {
                let request = wallet_checkout_contract::CreateSessionRequest {
                    order_id: config.order.clone(),
                    wallet_id: wallet.id.clone(),
                    return_url: browser::return_url(),
                    device: self.device,
                };
                // One key for this attempt: retries after a lost answer return the same session.
                let key = browser::new_idempotency_key();
                let answer = api.create_session(&request, &key).await;
                self.send(Message::Created { round, answer });
            }
            Job::Track(session) => self.track(&api, session, round, timing).await,
            Job::Cancel { id, give_up_at } => {
                let mut backoff = Backoff::with_pace(timing.pace);
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
                        // Any definite answer ends it, `session_final` included.
                        _ => return,
                    }
                }
            }
            Job::Report(step, wallet) => {
                api.report_step(&config.order, step, wallet.as_ref(), self.device, self.locale.tag()).await;
            }
            Job::Copy(text) => {
                let key = if browser::copy_text(&text).await { Key::LinkCopied } else { Key::CopyFailed };
                let announcement = self.locale.text(key).to_owned();
                self.change_texts(|view| {
                    view.copied = Some(key);
                    view.announcement = announcement;
                });
            }
        }
    }

    /// Reads the session this page knows of until the backend answers, with the tracker's
    /// notices and backoff.
    async fn resume(self, api: &Api, id: SessionId, round: u32, timing: Timing) {
        let Some(order) = self.env.try_with_value(|env| env.config.order.clone()) else { return };
        let amount = self.view(|_, order| order.map(|o| o.order.amount)).flatten();
        let expected = Expected { order: &order, session: Some(&id), wallet: None, amount: amount.as_ref() };
        let mut backoff = Backoff::with_pace(timing.pace);
        loop {
            // No request while offline; the `online` event ends the pause.
            let answer = if self.is_offline() { None } else { Some(expected.check(api.session(&id).await)) };
            if !self.is_current(round) {
                return;
            }
            match answer {
                Some(Ok(session)) => return self.send(Message::Resumed { round, session }),
                Some(Err(error)) if error.is_not_found() => {
                    return self.send(Message::ResumeUnknown { round })
                }
                Some(Err(error)) => {
                    backoff.record(Observation::of_error(error));
                    self.show_trouble(backoff.trouble());
                }
                None => {}
            }
            self.send(Message::ResumeFailed { round, id: id.clone() });
            self.pause(backoff.delay_ms(browser::random()), backoff.holds_off()).await;
            if !self.is_current(round) {
                return;
            }
        }
    }

    async fn track(self, api: &Api, mut session: Session, round: u32, timing: Timing) {
        let mut tracker = Tracker::with_pace(session.status, timing.pace);
        // A waiting read goes out at once: the backend answers when the status changes.
        let mut delay = 0;
        loop {
            if delay > 0 {
                self.pause(delay, tracker.holds_off()).await;
            }
            if !self.is_current(round) {
                return;
            }
            if self.is_offline() {
                // No request while offline; the `online` event wakes the tracker.
                delay = timing.pace.poll_ms;
                continue;
            }
            let asked_at = browser::now_ms();
            let answer = api.wait_for_session(&session.id, tracker.status(), timing.wait_secs).await;
            let observation = match Expected::tracking(&session).check(answer) {
                Ok(latest) => {
                    let status = latest.status;
                    session = latest;
                    Observation::Status(status)
                }
                Err(error) => Observation::of_error(error),
            };
            if !self.is_current(round) {
                return;
            }
            let next = tracker.observe_wait(observation, browser::random(), browser::now_ms() - asked_at);
            self.show_trouble(tracker.trouble());
            // Only what the tracker accepted is shown, never a step backwards.
            if tracker.status() == session.status {
                self.send(Message::Tracked { round, session: session.clone() });
            }
            match next {
                Next::Finished(_) => return,
                Next::PollAfter { delay_ms } => delay = delay_ms,
            }
        }
    }
}
