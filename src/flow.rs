//! The checkout's rules as a pure function: what the widget shows (`Stage`), what the shopper and
//! the backend's answers can change (`Message`), and what the controller must then do
//! (`Effect`). `step` is the only place a stage changes; `checkout.rs` carries the effects out
//! (requests, timers, storage, events) and sends their outcomes back as messages. No browser, no
//! clock: natively tested.

use crate::{answers::Expected, api::ApiError, error::WidgetError, events::EventKind, qr};
use wallet_checkout_contract::{
    CheckoutStep, DeviceKind, NextAction, OrderId, OrderResponse, OrderStatus, Session, SessionId,
    SessionStatus, WalletId, WalletOption,
};

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
    /// The backend reported a final status. The session keeps the action it was paid by (the
    /// backend drops `next_action` once a session is final), so the screen knows a QR code from a
    /// redirect.
    Finished(Session),
    /// After a reload, the remembered session could not be read yet: the widget keeps trying
    /// (the notice says why) and the shopper may choose another wallet instead.
    Resuming(SessionId),
    /// After a reload, the remembered session was read but cannot be shown here (`unusable`
    /// says why). The shopper may hold its code already, so its status is still followed and it
    /// is canceled only if the shopper chooses another wallet; a later answer that can be shown
    /// is.
    Unshowable(Session, WidgetError),
    /// The order is paid or canceled and no session of this page is known.
    OrderClosed(OrderStatus),
}

/// What the shopper can ask for from a screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Act {
    Pick(WalletOption),
    ChooseAnother,
    Retry,
    Renew,
    Copy(String),
    ToggleQr,
    /// A link: to a web page in a new tab, or (on a phone) into the wallet app.
    Open {
        href: String,
        new_tab: bool,
    },
}

/// What can change the stage: the shopper's actions and the outcome of the controller's work.
/// Outcomes carry the round they were started in; one from an earlier round (the shopper has
/// started over since) changes nothing, except that a session created for it is canceled.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// The widget is mounted.
    Start,
    /// The shopper pressed a button (`Pick`, `ChooseAnother`, `Retry`, `Renew`; the others are
    /// the view's own).
    Act(Act),
    /// The order's answer, and the session this page knows of (from the return of a redirect,
    /// or remembered in `sessionStorage`).
    OrderRead { round: u32, answer: Result<OrderResponse, ApiError>, known: Option<SessionId> },
    /// The known session was read.
    Resumed { round: u32, session: Session },
    /// The known session could not be read; the controller tries again.
    ResumeFailed { round: u32, id: SessionId },
    /// The backend does not know the known session (`404 not_found`).
    ResumeUnknown { round: u32 },
    /// The answer to creating a session.
    Created { round: u32, answer: Result<Session, ApiError> },
    /// The tracker accepted a new status of the session being paid.
    Tracked { round: u32, session: Session },
}

/// Who an event is about, besides the order.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    Order,
    Wallet(WalletId),
    Session(Session),
    /// An `error` event's `code`.
    Error(&'static str),
}

/// How long a cancel is worth trying: as long as the session can be paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// This many seconds from the last time a session was shown (`Effect::SessionShown`).
    FromShown(u64),
    /// This many seconds from now.
    FromNow(u64),
    /// Unknown (a session picked up after a reload and never read).
    Unknown,
}

/// What the controller must do after a step, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Stop every task of the last round; their requests in flight are aborted.
    NewRound,
    /// Read the order (and find the session this page knows of).
    LoadOrder,
    /// Read the known session until the backend answers.
    Resume(SessionId),
    /// Create a session for this wallet. Carried through even if the shopper starts over, so
    /// that a session created meanwhile is canceled rather than left open.
    Create(WalletOption),
    /// Follow the session's status until it is final.
    Track(Session),
    /// Cancel an abandoned session on the server, trying again while that fails transiently.
    Cancel { id: SessionId, lifetime: Lifetime },
    /// Remember this session for the order (a reload picks it up again).
    Remember(SessionId),
    /// Forget the order's session.
    Forget,
    /// Send the browser to the wallet's page.
    Navigate(String),
    /// Dispatch `wallet-checkout:<kind>`.
    Emit(EventKind, Subject),
    /// A session was just shown: its `expires_in_secs` counts from now.
    SessionShown,
    /// The passing notice (reconnecting, unexpected answer) no longer applies.
    ClearNotice,
    /// Tell the backend how far the shopper got (`POST /steps`): the order's wallets shown, or
    /// a wallet chosen. Anonymous, once, and nothing waits on it.
    Report(CheckoutStep, Option<WalletId>),
}

/// The rules' view of the browser: which links it may follow and open (`trust`), and the device.
pub struct Rules<'a> {
    pub device: DeviceKind,
    pub trusted_redirect: &'a dyn Fn(&str) -> bool,
    pub openable: &'a dyn Fn(&str) -> bool,
}

/// The stage and what the rules remember beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub stage: Stage,
    pub order_id: OrderId,
    /// The order, once read.
    pub order: Option<OrderResponse>,
    /// Bumped whenever the shopper starts over.
    pub round: u32,
    /// The last (session, status) announced by a `status` event: each is announced once.
    announced: Option<(SessionId, SessionStatus)>,
    /// Whether `ready` was dispatched.
    ready: bool,
}

impl State {
    pub fn new(order_id: OrderId) -> Self {
        Self { stage: Stage::Loading, order_id, order: None, round: 0, announced: None, ready: false }
    }
}

/// One step: the state after `message`, and what to do about it.
pub fn step(state: State, message: Message, rules: &Rules) -> (State, Vec<Effect>) {
    let mut step = Step { state, effects: Vec::new(), rules };
    step.take(message);
    (step.state, step.effects)
}

struct Step<'a, 'r> {
    state: State,
    effects: Vec<Effect>,
    rules: &'a Rules<'r>,
}

impl Step<'_, '_> {
    fn take(&mut self, message: Message) {
        let current = self.state.round;
        match message {
            Message::Start => self.effects.push(Effect::LoadOrder),
            Message::Act(act) => self.act(act),
            Message::OrderRead { round, answer, known } if round == current => self.order_read(answer, known),
            Message::Resumed { round, session } if round == current => {
                self.effects.push(Effect::ClearNotice);
                self.show(session, true);
            }
            Message::ResumeFailed { round, id } if round == current => self.state.stage = Stage::Resuming(id),
            Message::ResumeUnknown { round } if round == current => {
                self.effects.push(Effect::ClearNotice);
                self.effects.push(Effect::Forget);
                self.show_order();
            }
            Message::Created { round, answer } if round == current => self.created(answer),
            // The shopper went back while it was being created: the session is not wanted.
            Message::Created { answer: Ok(session), .. } => self.effects.push(Effect::Cancel {
                id: session.id,
                lifetime: Lifetime::FromNow(session.expires_in_secs),
            }),
            Message::Tracked { round, session } if round == current => self.tracked(session),
            _ => {}
        }
    }

    fn act(&mut self, act: Act) {
        match act {
            // A second click while a session is being created does nothing.
            Act::Pick(wallet) if matches!(self.state.stage, Stage::Choosing(_)) => {
                self.emit(EventKind::WalletSelected, Subject::Wallet(wallet.id.clone()));
                self.start_session(wallet);
            }
            Act::ChooseAnother => {
                match &self.state.stage {
                    Stage::Paying(session) | Stage::Redirecting(session) | Stage::Unshowable(session, _) => {
                        self.cancel_shown(session.clone())
                    }
                    // Its status is unknown: a session that is final already refuses the cancel.
                    Stage::Resuming(id) => {
                        let id = id.clone();
                        self.effects.push(Effect::Cancel { id, lifetime: Lifetime::Unknown });
                    }
                    _ => {}
                }
                self.new_round();
                self.effects.push(Effect::ClearNotice);
                self.effects.push(Effect::Forget);
                self.emit_ready();
                self.state.stage = Stage::Choosing(None);
            }
            Act::Retry if matches!(self.state.stage, Stage::Unavailable(_)) => {
                self.new_round();
                self.state.stage = Stage::Loading;
                self.effects.push(Effect::LoadOrder);
            }
            // A new session for the same wallet, after the last one expired; the old one is
            // canceled.
            Act::Renew => {
                let (Stage::Finished(session) | Stage::Paying(session)) = &self.state.stage else { return };
                let session = session.clone();
                let wallet = self.wallet(&session.wallet_id);
                self.cancel_shown(session);
                match wallet {
                    Some(wallet) => self.start_session(wallet),
                    None => self.state.stage = Stage::Choosing(None),
                }
            }
            _ => {}
        }
    }

    fn order_read(&mut self, answer: Result<OrderResponse, ApiError>, known: Option<SessionId>) {
        let order = match Expected::order(&self.state.order_id).check(answer) {
            Ok(order) => order,
            Err(error) => {
                let error = WidgetError::from(error);
                self.emit(EventKind::Error, Subject::Error(error.code()));
                self.state.stage = Stage::Unavailable(error);
                return;
            }
        };
        self.state.order = Some(order);
        match known {
            // Remembered until the backend says it does not know it: a read that fails leaves
            // the session as payable as before, and a payment made meanwhile must still be seen.
            Some(id) => {
                self.effects.push(Effect::Remember(id.clone()));
                self.effects.push(Effect::Resume(id));
            }
            None => self.show_order(),
        }
    }

    /// The wallet list, or why the order cannot be paid.
    fn show_order(&mut self) {
        let first_time = !self.state.ready;
        self.emit_ready();
        self.state.stage = match self.state.order.as_ref().map(|o| o.order.status) {
            Some(OrderStatus::Open) | None => {
                if first_time {
                    self.effects.push(Effect::Report(CheckoutStep::Shown, None));
                }
                Stage::Choosing(None)
            }
            Some(closed) => Stage::OrderClosed(closed),
        };
    }

    fn start_session(&mut self, wallet: WalletOption) {
        self.new_round();
        self.effects.push(Effect::ClearNotice);
        self.state.stage = Stage::Starting(wallet.clone());
        self.effects.push(Effect::Report(CheckoutStep::WalletChosen, Some(wallet.id.clone())));
        self.effects.push(Effect::Create(wallet));
    }

    fn created(&mut self, answer: Result<Session, ApiError>) {
        let Stage::Starting(wallet) = &self.state.stage else { return };
        let amount = self.state.order.as_ref().map(|o| o.order.amount);
        let expected = Expected {
            order: &self.state.order_id,
            session: None,
            wallet: Some(&wallet.id),
            amount: amount.as_ref(),
        };
        let session = match expected.check(answer) {
            Ok(session) => session,
            Err(error) => {
                let error = WidgetError::from(error);
                self.emit(EventKind::Error, Subject::Error(error.code()));
                self.state.stage = Stage::Choosing(Some(error));
                return;
            }
        };
        self.effects.push(Effect::Remember(session.id.clone()));
        self.emit(EventKind::SessionCreated, Subject::Session(session.clone()));
        let redirect = match &session.next_action {
            Some(NextAction::Redirect { url }) if session.status == SessionStatus::Pending => {
                Some(url.clone())
            }
            _ => None,
        };
        match redirect {
            Some(url) if self.rules.device == DeviceKind::Desktop && self.refusal(&session).is_none() => {
                self.effects.push(Effect::SessionShown);
                self.announce(&session);
                self.state.stage = Stage::Redirecting(session);
                self.effects.push(Effect::Navigate(url));
            }
            _ => self.show(session, false),
        }
    }

    /// Shows a session as the backend reported it and has it tracked until it is final. One the
    /// shopper cannot pay here is explained: just created (nobody has seen its code or page),
    /// it is canceled with the wallet list as the way forward; picked up after a reload
    /// (`resumed`), it may have been shown before, so one answer does not decide its fate
    /// (`Stage::Unshowable`).
    fn show(&mut self, session: Session, resumed: bool) {
        self.effects.push(Effect::SessionShown);
        self.emit_ready();
        if let Some(error) = self.refusal(&session) {
            self.emit(EventKind::Error, Subject::Error(error.code()));
            if resumed {
                self.announce(&session);
                self.state.stage = Stage::Unshowable(session.clone(), error);
                self.effects.push(Effect::Track(session));
                return;
            }
            self.cancel_shown(session);
            self.effects.push(Effect::Forget);
            self.state.stage = Stage::Choosing(Some(error));
            return;
        }
        if session.status.is_final() {
            return self.finish(session);
        }
        self.announce(&session);
        self.state.stage = Stage::Paying(session.clone());
        self.effects.push(Effect::Track(session));
    }

    fn tracked(&mut self, mut session: Session) {
        let (Stage::Paying(shown) | Stage::Unshowable(shown, _)) = &self.state.stage else { return };
        if shown.id != session.id {
            return;
        }
        if session.next_action.is_none() {
            session.next_action = shown.next_action.clone();
        }
        if session.status.is_final() {
            return self.finish(session);
        }
        // A new status is shown; so is a session that could not be shown before and now can.
        let unshowable = matches!(self.state.stage, Stage::Unshowable(..));
        if self.announce(&session) || unshowable && self.refusal(&session).is_none() {
            self.effects.push(Effect::SessionShown);
            self.state.stage = Stage::Paying(session);
        }
    }

    fn finish(&mut self, session: Session) {
        self.effects.push(Effect::ClearNotice);
        if self.announce(&session) {
            let kind = match session.status {
                SessionStatus::Succeeded => Some(EventKind::Paid),
                SessionStatus::Failed => Some(EventKind::Failed),
                SessionStatus::Expired => Some(EventKind::Expired),
                SessionStatus::Canceled => Some(EventKind::Canceled),
                SessionStatus::Pending | SessionStatus::Processing => None,
            };
            if let Some(kind) = kind {
                self.emit(kind, Subject::Session(session.clone()));
            }
        }
        self.state.stage = Stage::Finished(session);
    }

    /// A `status` event for a status the page has not heard of yet; true if it was new.
    fn announce(&mut self, session: &Session) -> bool {
        let key = (session.id.clone(), session.status);
        if self.state.announced.as_ref() == Some(&key) {
            return false;
        }
        self.state.announced = Some(key);
        self.emit(EventKind::Status, Subject::Session(session.clone()));
        true
    }

    /// `ready`, the first time the order is shown with its wallets or a session of this page.
    fn emit_ready(&mut self) {
        if !std::mem::replace(&mut self.state.ready, true) {
            self.emit(EventKind::Ready, Subject::Order);
        }
    }

    fn emit(&mut self, kind: EventKind, subject: Subject) {
        self.effects.push(Effect::Emit(kind, subject));
    }

    fn new_round(&mut self) {
        self.state.round = self.state.round.wrapping_add(1);
        self.effects.push(Effect::NewRound);
    }

    /// Cancels a session that was shown, if it is still open, until its time runs out.
    fn cancel_shown(&mut self, session: Session) {
        if session.status == SessionStatus::Pending {
            let lifetime = Lifetime::FromShown(session.expires_in_secs);
            self.effects.push(Effect::Cancel { id: session.id, lifetime });
        }
    }

    fn wallet(&self, id: &WalletId) -> Option<WalletOption> {
        self.state.order.as_ref()?.wallets.iter().find(|w| &w.id == id).cloned()
    }

    fn refusal(&self, session: &Session) -> Option<WidgetError> {
        unusable(session, self.rules.device, self.rules.trusted_redirect, self.rules.openable)
    }
}

/// Why the shopper cannot pay `session` in this widget, if they cannot. Asked before any open
/// session is shown, just created or picked up after a reload (`Step::show` says what follows).
/// A redirect must be trusted (`trusted_redirect`); a QR code must fit in a QR code, unless a
/// phone can open its payload instead (`openable`); an action the widget does not know, or none,
/// cannot be shown.
pub fn unusable(
    session: &Session,
    device: DeviceKind,
    trusted_redirect: &dyn Fn(&str) -> bool,
    openable: &dyn Fn(&str) -> bool,
) -> Option<WidgetError> {
    if session.status != SessionStatus::Pending {
        return None;
    }
    match &session.next_action {
        Some(NextAction::Redirect { url }) => {
            (!trusted_redirect(url)).then_some(WidgetError::UntrustedRedirect)
        }
        Some(NextAction::Qr { payload }) => {
            let handoff = device == DeviceKind::Mobile && openable(payload);
            (!handoff && !qr::fits(payload)).then_some(WidgetError::QrTooLong)
        }
        Some(NextAction::Unsupported) | None => Some(WidgetError::Unsupported),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_checkout_contract::{Amount, Currency, ErrorCode, Order};

    fn wallet(id: &str, name: &str) -> WalletOption {
        WalletOption { id: WalletId::parse(id).unwrap(), name: name.into() }
    }

    fn order() -> OrderResponse {
        OrderResponse {
            order: Order {
                id: OrderId::parse("ord_1").unwrap(),
                description: "Tea".into(),
                amount: Amount::new(6800, Currency::parse("CNY").unwrap()).unwrap(),
                status: OrderStatus::Open,
            },
            wallets: vec![wallet("wechat_pay", "WeChat Pay"), wallet("paypal", "PayPal")],
            livemode: false,
        }
    }

    fn session(wallet: &str, status: SessionStatus, action: Option<NextAction>) -> Session {
        Session {
            id: SessionId::parse("ses_1").unwrap(),
            order_id: OrderId::parse("ord_1").unwrap(),
            wallet_id: WalletId::parse(wallet).unwrap(),
            status,
            amount: Amount::new(6800, Currency::parse("CNY").unwrap()).unwrap(),
            expires_at: String::new(),
            expires_in_secs: 600,
            next_action: action,
            amount_refunded: None,
        }
    }

    fn qr_session(status: SessionStatus) -> Session {
        session("wechat_pay", status, Some(NextAction::Qr { payload: "https://pay.example/1".into() }))
    }

    fn paypal(status: SessionStatus, url: &str) -> Session {
        session("paypal", status, Some(NextAction::Redirect { url: url.into() }))
    }

    /// Runs messages from a fresh widget on a desktop, as the controller would; answers every
    /// effect's outcome only through the messages given.
    struct Run {
        state: State,
        effects: Vec<Effect>,
        device: DeviceKind,
    }

    impl Run {
        fn new() -> Self {
            Self {
                state: State::new(OrderId::parse("ord_1").unwrap()),
                effects: Vec::new(),
                device: DeviceKind::Desktop,
            }
        }

        fn send(&mut self, message: Message) -> &[Effect] {
            let rules = Rules {
                device: self.device,
                trusted_redirect: &|url: &str| url.starts_with("https:"),
                openable: &|url: &str| !url.starts_with("javascript:"),
            };
            let (state, effects) = step(self.state.clone(), message, &rules);
            self.state = state;
            self.effects = effects;
            &self.effects
        }

        fn act(&mut self, act: Act) -> &[Effect] {
            self.send(Message::Act(act))
        }

        fn round(&self) -> u32 {
            self.state.round
        }

        /// The wallet list of an open order.
        fn choosing() -> Self {
            let mut run = Self::new();
            run.send(Message::Start);
            run.send(Message::OrderRead { round: 0, answer: Ok(order()), known: None });
            run
        }

        /// A QR code being paid.
        fn paying() -> Self {
            let mut run = Self::choosing();
            run.act(Act::Pick(wallet("wechat_pay", "WeChat Pay")));
            let round = run.round();
            run.send(Message::Created { round, answer: Ok(qr_session(SessionStatus::Pending)) });
            run
        }

        fn events(&self) -> Vec<EventKind> {
            self.effects
                .iter()
                .filter_map(|e| match e {
                    Effect::Emit(kind, _) => Some(*kind),
                    _ => None,
                })
                .collect()
        }
    }

    fn creates(effects: &[Effect]) -> usize {
        effects.iter().filter(|e| matches!(e, Effect::Create(_))).count()
    }

    fn cancels(effects: &[Effect]) -> Vec<Lifetime> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Cancel { lifetime, .. } => Some(*lifetime),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_loaded_order_shows_its_wallets_and_is_ready_once() {
        let mut run = Run::new();
        assert_eq!(run.send(Message::Start), [Effect::LoadOrder]);
        run.send(Message::OrderRead { round: 0, answer: Ok(order()), known: None });
        assert_eq!(run.state.stage, Stage::Choosing(None));
        assert_eq!(run.events(), [EventKind::Ready]);
        run.act(Act::ChooseAnother);
        assert_eq!(run.events(), [], "ready is dispatched once");
    }

    fn reports(effects: &[Effect]) -> Vec<(CheckoutStep, Option<&str>)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Report(step, wallet) => Some((*step, wallet.as_ref().map(|w| w.as_str()))),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_steps_of_the_path_are_reported_once_each() {
        let mut run = Run::new();
        run.send(Message::Start);
        let shown = run.send(Message::OrderRead { round: 0, answer: Ok(order()), known: None }).to_vec();
        assert_eq!(reports(&shown), [(CheckoutStep::Shown, None)]);
        let picked = run.act(Act::Pick(wallet("wechat_pay", "WeChat Pay"))).to_vec();
        assert_eq!(reports(&picked), [(CheckoutStep::WalletChosen, Some("wechat_pay"))]);
        let report_at = picked.iter().position(|e| matches!(e, Effect::Report(..)));
        let create_at = picked.iter().position(|e| matches!(e, Effect::Create(_)));
        assert!(report_at < create_at, "the choice is reported before the session is asked for");
        let again = run.act(Act::ChooseAnother).to_vec();
        assert_eq!(reports(&again), [], "the wallet list shown again is not a new order shown");
    }

    #[test]
    fn an_order_read_after_a_reload_with_its_session_reports_nothing() {
        let mut run = Run::new();
        run.send(Message::Start);
        let id = SessionId::parse("ses_1").unwrap();
        let effects =
            run.send(Message::OrderRead { round: 0, answer: Ok(order()), known: Some(id) }).to_vec();
        assert_eq!(reports(&effects), []);
    }

    #[test]
    fn a_double_click_creates_one_session() {
        let mut run = Run::choosing();
        let first = run.act(Act::Pick(wallet("wechat_pay", "WeChat Pay"))).to_vec();
        assert_eq!(creates(&first), 1);
        assert_eq!(run.events(), [EventKind::WalletSelected]);
        assert!(matches!(run.state.stage, Stage::Starting(_)));
        let second = run.act(Act::Pick(wallet("wechat_pay", "WeChat Pay")));
        assert_eq!(second, [], "the second click does nothing");
    }

    #[test]
    fn a_created_qr_session_is_shown_and_tracked() {
        let run = Run::paying();
        assert!(matches!(run.state.stage, Stage::Paying(_)));
        assert!(run.effects.contains(&Effect::Remember(SessionId::parse("ses_1").unwrap())));
        assert!(run.effects.iter().any(|e| matches!(e, Effect::Track(_))));
        assert_eq!(run.events(), [EventKind::SessionCreated, EventKind::Status]);
    }

    #[test]
    fn starting_over_cancels_the_open_session_and_stops_its_round() {
        let mut run = Run::paying();
        let before = run.round();
        let effects = run.act(Act::ChooseAnother).to_vec();
        assert_eq!(cancels(&effects), [Lifetime::FromShown(600)]);
        assert!(effects.contains(&Effect::NewRound) && effects.contains(&Effect::Forget));
        assert_eq!(run.state.stage, Stage::Choosing(None));
        // A status read of the abandoned round changes nothing.
        run.send(Message::Tracked { round: before, session: qr_session(SessionStatus::Succeeded) });
        assert_eq!(run.state.stage, Stage::Choosing(None));
        assert_eq!(run.events(), []);
    }

    #[test]
    fn a_session_created_after_the_shopper_went_back_is_canceled_not_shown() {
        let mut run = Run::choosing();
        run.act(Act::Pick(wallet("wechat_pay", "WeChat Pay")));
        let round = run.round();
        run.act(Act::ChooseAnother);
        let effects = run.send(Message::Created { round, answer: Ok(qr_session(SessionStatus::Pending)) });
        assert_eq!(cancels(effects), [Lifetime::FromNow(600)]);
        assert_eq!(run.state.stage, Stage::Choosing(None));
    }

    #[test]
    fn an_untrusted_redirect_is_refused_canceled_and_explained() {
        let mut run = Run::choosing();
        run.act(Act::Pick(wallet("paypal", "PayPal")));
        let round = run.round();
        let effects = run
            .send(Message::Created {
                round,
                answer: Ok(paypal(SessionStatus::Pending, "http://evil.example/")),
            })
            .to_vec();
        assert!(!effects.iter().any(|e| matches!(e, Effect::Navigate(_))), "{effects:?}");
        assert_eq!(cancels(&effects).len(), 1);
        assert!(effects.contains(&Effect::Forget));
        assert!(effects.contains(&Effect::Emit(EventKind::Error, Subject::Error("untrusted_redirect"))));
        assert_eq!(run.state.stage, Stage::Choosing(Some(WidgetError::UntrustedRedirect)));
    }

    #[test]
    fn a_trusted_redirect_on_a_desktop_leaves_for_the_wallet() {
        let mut run = Run::choosing();
        run.act(Act::Pick(wallet("paypal", "PayPal")));
        let round = run.round();
        let effects = run.send(Message::Created {
            round,
            answer: Ok(paypal(SessionStatus::Pending, "https://paypal.example/")),
        });
        assert!(effects.contains(&Effect::Navigate("https://paypal.example/".into())));
        assert!(matches!(run.state.stage, Stage::Redirecting(_)));
    }

    #[test]
    fn a_created_session_for_another_wallet_is_a_bad_answer() {
        let mut run = Run::choosing();
        run.act(Act::Pick(wallet("wechat_pay", "WeChat Pay")));
        let round = run.round();
        let effects =
            run.send(Message::Created { round, answer: Ok(paypal(SessionStatus::Succeeded, "https://p/")) });
        assert!(!effects.iter().any(|e| matches!(e, Effect::Remember(_))));
        assert_eq!(run.state.stage, Stage::Choosing(Some(WidgetError::BadAnswer)));
        assert!(!run.events().contains(&EventKind::Paid));
    }

    #[test]
    fn renew_cancels_nothing_final_and_creates_a_session_for_the_same_wallet() {
        let mut run = Run::paying();
        let round = run.round();
        run.send(Message::Tracked { round, session: qr_session(SessionStatus::Expired) });
        assert_eq!(run.events(), [EventKind::Status, EventKind::Expired]);
        let effects = run.act(Act::Renew).to_vec();
        assert_eq!(cancels(&effects), [], "an expired session needs no cancel");
        assert_eq!(
            effects
                .iter()
                .filter_map(|e| match e {
                    Effect::Create(wallet) => Some(wallet.id.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            ["wechat_pay"]
        );
        assert!(matches!(run.state.stage, Stage::Starting(_)));
    }

    #[test]
    fn the_last_status_is_announced_once() {
        let mut run = Run::paying();
        let round = run.round();
        run.send(Message::Tracked { round, session: qr_session(SessionStatus::Processing) });
        assert_eq!(run.events(), [EventKind::Status]);
        run.send(Message::Tracked { round, session: qr_session(SessionStatus::Processing) });
        assert_eq!(run.events(), [], "the same status again is not news");
        run.send(Message::Tracked { round, session: qr_session(SessionStatus::Succeeded) });
        assert_eq!(run.events(), [EventKind::Status, EventKind::Paid]);
        assert!(matches!(run.state.stage, Stage::Finished(_)));
        run.send(Message::Tracked { round, session: qr_session(SessionStatus::Succeeded) });
        assert_eq!(run.events(), [], "paid is dispatched once");
    }

    #[test]
    fn a_finished_session_keeps_the_action_it_was_paid_by() {
        let mut run = Run::choosing();
        run.device = DeviceKind::Mobile; // a phone waits for the tap instead of leaving at once
        run.act(Act::Pick(wallet("paypal", "PayPal")));
        let round = run.round();
        run.send(Message::Created {
            round,
            answer: Ok(paypal(SessionStatus::Pending, "https://paypal.example/")),
        });
        assert!(matches!(run.state.stage, Stage::Paying(_)));
        // The backend clears next_action once the session is final.
        run.send(Message::Tracked { round, session: session("paypal", SessionStatus::Expired, None) });
        let Stage::Finished(finished) = &run.state.stage else { panic!("{:?}", run.state.stage) };
        assert!(matches!(finished.next_action, Some(NextAction::Redirect { .. })));
    }

    #[test]
    fn a_known_session_is_remembered_and_read_before_the_wallets_are_shown() {
        let mut run = Run::new();
        run.send(Message::Start);
        let id = SessionId::parse("ses_1").unwrap();
        let effects =
            run.send(Message::OrderRead { round: 0, answer: Ok(order()), known: Some(id.clone()) }).to_vec();
        assert_eq!(effects, [Effect::Remember(id.clone()), Effect::Resume(id.clone())]);
        assert_eq!(run.state.stage, Stage::Loading);
        run.send(Message::ResumeFailed { round: 0, id: id.clone() });
        assert_eq!(run.state.stage, Stage::Resuming(id.clone()));
        let effects = run.act(Act::ChooseAnother).to_vec();
        assert_eq!(cancels(&effects), [Lifetime::Unknown]);
    }

    #[test]
    fn a_known_session_the_backend_does_not_know_is_forgotten() {
        let mut run = Run::new();
        run.send(Message::Start);
        let id = SessionId::parse("ses_1").unwrap();
        run.send(Message::OrderRead { round: 0, answer: Ok(order()), known: Some(id) });
        let effects = run.send(Message::ResumeUnknown { round: 0 }).to_vec();
        assert!(effects.contains(&Effect::Forget));
        assert_eq!(run.state.stage, Stage::Choosing(None));
    }

    /// The session picked up after a reload, answered with `action`.
    fn resumed(action: NextAction) -> Run {
        let mut run = Run::new();
        run.send(Message::Start);
        let id = SessionId::parse("ses_1").unwrap();
        run.send(Message::OrderRead { round: 0, answer: Ok(order()), known: Some(id) });
        run.send(Message::Resumed {
            round: 0,
            session: session("wechat_pay", SessionStatus::Pending, Some(action)),
        });
        run
    }

    /// Regression test: one bad answer about the session picked up after a reload (a redirect
    /// to an untrusted address, a `javascript:` or `data:` URL, a QR payload too long to draw)
    /// canceled and forgot the session, and the payment the shopper then made with the code
    /// they already had landed on a canceled session.
    #[test]
    fn an_unusable_session_after_a_reload_is_explained_and_followed_not_canceled() {
        let redirect = |url: &str| NextAction::Redirect { url: url.into() };
        let long_code = NextAction::Qr { payload: format!("https://pay.example/{}", "x".repeat(3_000)) };
        for (action, error) in [
            (redirect("http://evil.example/pay"), WidgetError::UntrustedRedirect),
            (redirect("javascript:alert(1)"), WidgetError::UntrustedRedirect),
            (redirect("data:text/html,<p>pay</p>"), WidgetError::UntrustedRedirect),
            (long_code, WidgetError::QrTooLong),
            (NextAction::Unsupported, WidgetError::Unsupported),
        ] {
            let mut run = resumed(action.clone());
            let effects = run.effects.clone();
            assert_eq!(cancels(&effects), [], "{action:?}");
            assert!(!effects.contains(&Effect::Forget), "{action:?}");
            assert!(!effects.iter().any(|e| matches!(e, Effect::Navigate(_))), "{action:?}");
            assert!(effects.iter().any(|e| matches!(e, Effect::Track(_))), "{action:?}: still followed");
            assert!(effects.contains(&Effect::Emit(EventKind::Error, Subject::Error(error.code()))));
            assert!(matches!(&run.state.stage, Stage::Unshowable(_, shown) if *shown == error), "{action:?}");
            run.send(Message::Tracked { round: 0, session: qr_session(SessionStatus::Succeeded) });
            assert_eq!(run.events(), [EventKind::Status, EventKind::Paid], "{action:?}");
            assert!(matches!(run.state.stage, Stage::Finished(_)));
        }
    }

    #[test]
    fn an_unshowable_session_is_canceled_when_the_shopper_chooses_another_wallet() {
        let mut run = resumed(NextAction::Redirect { url: "javascript:alert(1)".into() });
        let effects = run.act(Act::ChooseAnother).to_vec();
        assert_eq!(cancels(&effects), [Lifetime::FromShown(600)]);
        assert!(effects.contains(&Effect::NewRound) && effects.contains(&Effect::Forget));
        assert_eq!(run.state.stage, Stage::Choosing(None));
    }

    #[test]
    fn an_unshowable_session_is_shown_once_an_answer_can_be() {
        let mut run = resumed(NextAction::Unsupported);
        run.send(Message::Tracked { round: 0, session: session("wechat_pay", SessionStatus::Pending, None) });
        assert!(matches!(run.state.stage, Stage::Unshowable(..)), "no action: the last one still holds");
        run.send(Message::Tracked { round: 0, session: qr_session(SessionStatus::Pending) });
        assert_eq!(run.state.stage, Stage::Paying(qr_session(SessionStatus::Pending)));
        assert!(run.effects.contains(&Effect::SessionShown), "its time left counts from this answer");
        assert_eq!(run.events(), [], "the same status is not announced again");
    }

    #[test]
    fn a_resumed_paid_session_fires_paid() {
        let mut run = Run::new();
        run.send(Message::Start);
        run.send(Message::OrderRead {
            round: 0,
            answer: Ok(order()),
            known: Some(SessionId::parse("ses_1").unwrap()),
        });
        run.send(Message::Resumed { round: 0, session: qr_session(SessionStatus::Succeeded) });
        assert_eq!(run.events(), [EventKind::Ready, EventKind::Status, EventKind::Paid]);
    }

    #[test]
    fn an_order_that_cannot_be_read_offers_a_retry() {
        let mut run = Run::new();
        run.send(Message::Start);
        let error = ApiError::Backend { status: 404, code: ErrorCode::NotFound, retry_after_ms: None };
        run.send(Message::OrderRead { round: 0, answer: Err(error), known: None });
        assert_eq!(run.state.stage, Stage::Unavailable(WidgetError::Backend(ErrorCode::NotFound)));
        let effects = run.act(Act::Retry).to_vec();
        assert_eq!(effects, [Effect::NewRound, Effect::LoadOrder]);
        assert_eq!(run.state.stage, Stage::Loading);
    }

    #[test]
    fn sessions_with_no_way_to_pay_here_are_refused_with_the_reason() {
        let trusted = |url: &str| url.starts_with("https:");
        let openable = |url: &str| !url.starts_with("javascript:");
        let refused = |s: &Session, device| unusable(s, device, &trusted, &openable);
        let long_code = NextAction::Qr { payload: format!("https://pay.example/{}", "x".repeat(3_000)) };
        let pending = |action| session("wechat_pay", SessionStatus::Pending, Some(action));
        assert_eq!(refused(&pending(long_code), DeviceKind::Desktop), Some(WidgetError::QrTooLong));
        let long_link = NextAction::Qr { payload: format!("weixin://{}", "x".repeat(3_000)) };
        assert_eq!(refused(&pending(long_link), DeviceKind::Mobile), None, "a phone opens the link instead");
        assert_eq!(
            refused(&pending(NextAction::Unsupported), DeviceKind::Desktop),
            Some(WidgetError::Unsupported)
        );
        assert_eq!(refused(&session("paypal", SessionStatus::Expired, None), DeviceKind::Desktop), None);
    }
}
