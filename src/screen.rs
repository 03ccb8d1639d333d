//! What each stage of the checkout shows, as data: a pure function from the rules' `Stage` to a
//! `Screen` (title, texts, wallet list, QR code, countdown, actions). One function draws every
//! screen as plain elements (`components::draw`), which keeps the bundle small, and the rules
//! about what the shopper sees are tested natively here.

pub use crate::flow::Act;
use crate::{
    config::ConfigError,
    error::WidgetError,
    flow::Stage,
    i18n::{Key, Locale},
    qr,
};
use wallet_checkout_contract::{
    Amount, DeviceKind, NextAction, OrderStatus, Session, SessionStatus, WalletOption,
};

/// The icon at the top of a screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icon {
    None,
    Spinner,
    Success,
    Problem,
}

/// A paragraph and its role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub text: String,
    pub kind: TextKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    Body,
    Hint,
    Error,
}

/// A button or link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub label: String,
    pub act: Act,
    pub primary: bool,
    pub test_id: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qr {
    pub payload: String,
    /// The text alternative of the code.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screen {
    /// `data-testid` of the screen.
    pub name: &'static str,
    /// `data-status` of a session screen.
    pub status: Option<&'static str>,
    /// Errors are announced at once (`role="alert"`).
    pub alert: bool,
    /// `data-attribute` of a configuration error: the attribute at fault.
    pub attribute: Option<&'static str>,
    pub icon: Icon,
    pub title: Option<String>,
    pub texts: Vec<Text>,
    pub wallets: Vec<WalletOption>,
    pub qr: Option<Qr>,
    pub countdown: Option<u64>,
    pub actions: Vec<Action>,
}

impl Screen {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            status: None,
            alert: false,
            attribute: None,
            icon: Icon::None,
            title: None,
            texts: Vec::new(),
            wallets: Vec::new(),
            qr: None,
            countdown: None,
            actions: Vec::new(),
        }
    }

    fn title(mut self, title: String) -> Self {
        self.title = Some(title);
        self
    }

    fn text(mut self, text: String, kind: TextKind) -> Self {
        self.texts.push(Text { text, kind });
        self
    }

    fn action(mut self, label: String, act: Act, primary: bool, test_id: &'static str) -> Self {
        self.actions.push(Action { label, act, primary, test_id });
        self
    }

    fn icon(mut self, icon: Icon) -> Self {
        self.icon = icon;
        self
    }

    /// What went wrong, if something did, announced at once.
    fn problem(mut self, locale: Locale, problem: Option<&WidgetError>) -> Self {
        if let Some(problem) = problem {
            self = self.text(locale.text(problem.key()).to_owned(), TextKind::Error);
            self.alert = true;
        }
        self
    }

    /// The way back to the wallet list.
    fn choose_another(self, locale: Locale, primary: bool) -> Self {
        self.action(locale.text(Key::ChooseAnother).to_owned(), Act::ChooseAnother, primary, "choose-another")
    }

    /// The sentence a screen reader hears when this screen appears.
    pub fn announcement(&self) -> String {
        self.title.clone().or_else(|| self.texts.first().map(|t| t.text.clone())).unwrap_or_default()
    }
}

/// What the screen needs to know besides the stage; the browser-dependent parts are functions,
/// so tests can stand in for them.
pub struct Facts<'a> {
    pub locale: Locale,
    pub device: DeviceKind,
    pub wallets: &'a [WalletOption],
    pub money: &'a dyn Fn(&Amount) -> String,
    /// Whether a URL may be opened from the widget (`trust::is_openable`).
    pub openable: &'a dyn Fn(&str) -> bool,
    /// Whether a URL is an http(s) web address.
    pub web_address: &'a dyn Fn(&str) -> bool,
    /// Whether the shopper asked to see the QR code instead of the hand-off to the wallet app.
    pub qr_requested: bool,
}

impl Facts<'_> {
    fn wallet_name(&self, session: &Session) -> String {
        self.wallets
            .iter()
            .find(|w| w.id == session.wallet_id)
            .map_or_else(|| session.wallet_id.as_str().to_owned(), |w| w.name.clone())
    }

    fn with_wallet(&self, key: Key, wallet: &str) -> String {
        self.locale.format(key, &[("wallet", wallet)])
    }
}

/// The screen for a stage.
pub fn screen(stage: &Stage, facts: &Facts) -> Screen {
    let locale = facts.locale;
    let progress = |text: String| Screen::new("progress").icon(Icon::Spinner).text(text, TextKind::Body);
    match stage {
        Stage::Loading => progress(locale.text(Key::Loading).to_owned()),
        Stage::Unavailable(error) => {
            problem(locale, error).action(locale.text(Key::Retry).to_owned(), Act::Retry, true, "retry")
        }
        Stage::Choosing(problem) => {
            let mut screen = Screen::new("wallets")
                .title(locale.text(Key::ChooseWallet).to_owned())
                .problem(locale, problem.as_ref());
            if facts.wallets.is_empty() {
                screen = screen.text(locale.text(Key::NoWallets).to_owned(), TextKind::Body);
            }
            screen.wallets = facts.wallets.to_vec();
            screen
        }
        Stage::Starting(wallet) => {
            progress(facts.with_wallet(Key::Starting, &wallet.name)).choose_another(locale, false)
        }
        // After a reload, while the session is read again, or followed although it cannot be
        // shown (why, then, comes first).
        Stage::Resuming(_) | Stage::Unshowable(..) => {
            let problem = match stage {
                Stage::Unshowable(_, problem) => Some(problem),
                _ => None,
            };
            Screen::new("progress")
                .icon(Icon::Spinner)
                .problem(locale, problem)
                .text(locale.text(Key::Resuming).to_owned(), TextKind::Body)
                .choose_another(locale, false)
        }
        Stage::Redirecting(session) => {
            progress(facts.with_wallet(Key::Redirecting, &facts.wallet_name(session)))
        }
        Stage::Paying(session) => paying(session, facts),
        Stage::Finished(session) => finished(session, facts),
        Stage::OrderClosed(status) => {
            let key = if *status == OrderStatus::Canceled { Key::OrderCanceled } else { Key::OrderPaid };
            Screen::new("order-closed").title(locale.text(key).to_owned())
        }
    }
}

/// The screen for unusable attributes.
pub fn misconfigured(locale: Locale, error: &ConfigError) -> Screen {
    let mut screen = Screen::new("config-error")
        .icon(Icon::Problem)
        .title(locale.text(Key::ConfigTitle).to_owned())
        .text(error.message(locale), TextKind::Body);
    screen.alert = true;
    screen.attribute = Some(error.attribute());
    screen
}

fn problem(locale: Locale, error: &WidgetError) -> Screen {
    let mut screen = Screen::new("error")
        .icon(Icon::Problem)
        .title(locale.text(Key::ErrorTitle).to_owned())
        .text(locale.text(error.key()).to_owned(), TextKind::Body);
    screen.alert = true;
    screen
}

fn paying(session: &Session, facts: &Facts) -> Screen {
    let locale = facts.locale;
    let wallet = facts.wallet_name(session);
    if session.status == SessionStatus::Processing {
        let mut screen =
            Screen::new("confirming").icon(Icon::Spinner).title(facts.with_wallet(Key::Confirming, &wallet));
        screen.status = Some(session.status.as_str());
        return screen;
    }
    let mut screen = match &session.next_action {
        Some(NextAction::Qr { payload }) => {
            let handoff = facts.device == DeviceKind::Mobile && (facts.openable)(payload);
            // A phone can open a payload too long for a code; then no code is offered.
            let drawable = qr::fits(payload);
            let mut screen = Screen::new("scan").title(facts.with_wallet(Key::ScanTitle, &wallet));
            if handoff {
                screen = screen.action(
                    facts.with_wallet(Key::OpenWallet, &wallet),
                    Act::Open { href: payload.clone(), new_tab: false },
                    true,
                    "open-wallet",
                );
            }
            if drawable && (!handoff || facts.qr_requested) {
                let amount = (facts.money)(&session.amount);
                let label = locale.format(Key::QrLabel, &[("amount", &amount), ("wallet", &wallet)]);
                screen.qr = Some(Qr { payload: payload.clone(), label });
                screen = screen.text(facts.with_wallet(Key::ScanHint, &wallet), TextKind::Hint);
            }
            if handoff && drawable && !facts.qr_requested {
                screen = screen.action(locale.text(Key::ShowQr).to_owned(), Act::ToggleQr, false, "show-qr");
            }
            if (facts.web_address)(payload) {
                screen = screen.action(
                    locale.text(Key::CopyLink).to_owned(),
                    Act::Copy(payload.clone()),
                    false,
                    "copy-link",
                );
                if !handoff && (facts.openable)(payload) {
                    screen = screen.action(
                        locale.text(Key::OpenPaymentPage).to_owned(),
                        Act::Open { href: payload.clone(), new_tab: true },
                        false,
                        "payment-link",
                    );
                }
            }
            screen
        }
        Some(NextAction::Redirect { url }) => {
            let mut screen = Screen::new("waiting").title(facts.with_wallet(Key::WaitingRedirect, &wallet));
            if (facts.openable)(url) {
                screen = screen.action(
                    facts.with_wallet(Key::OpenWallet, &wallet),
                    Act::Open { href: url.clone(), new_tab: false },
                    true,
                    "open-wallet",
                );
            }
            screen.text(facts.with_wallet(Key::RedirectHint, &wallet), TextKind::Hint)
        }
        _ => Screen::new("waiting").title(facts.with_wallet(Key::WaitingRedirect, &wallet)),
    };
    screen.status = Some(session.status.as_str());
    screen.countdown = Some(session.expires_in_secs);
    screen.choose_another(locale, false)
}

fn finished(session: &Session, facts: &Facts) -> Screen {
    let locale = facts.locale;
    let wallet = facts.wallet_name(session);
    let (title, body) = match session.status {
        SessionStatus::Succeeded => {
            let amount = (facts.money)(&session.amount);
            (Key::PaidTitle, locale.format(Key::PaidBody, &[("amount", &amount), ("wallet", &wallet)]))
        }
        SessionStatus::Failed => (Key::FailedTitle, facts.with_wallet(Key::FailedBody, &wallet)),
        SessionStatus::Expired => (Key::ExpiredTitle, locale.text(Key::ExpiredBody).to_owned()),
        _ => (Key::CanceledTitle, locale.text(Key::CanceledBody).to_owned()),
    };
    let paid = session.status == SessionStatus::Succeeded;
    let mut screen = Screen::new("outcome")
        .icon(if paid { Icon::Success } else { Icon::Problem })
        .title(locale.text(title).to_owned())
        .text(body, TextKind::Body);
    screen.status = Some(session.status.as_str());
    if paid {
        return screen;
    }
    // An expired QR code gets a fresh one in one click. A redirect wallet's page cannot be
    // renewed that way (the session keeps the action it was paid by: `flow::Stage::Finished`).
    let renewable = session.status == SessionStatus::Expired
        && matches!(session.next_action, Some(NextAction::Qr { .. }));
    if renewable {
        screen = screen.action(locale.text(Key::NewCode).to_owned(), Act::Renew, true, "new-code");
    }
    screen.choose_another(locale, !renewable)
}

/// Seconds left at which the time is announced to screen readers.
pub const ANNOUNCE_AT_SECS: [u64; 3] = [300, 60, 30];

/// `m:ss` for a number of seconds.
pub fn clock(secs: u64) -> String {
    let mut text = crate::text::digits(secs / 60);
    text.push(':');
    let seconds = secs % 60;
    text.push(char::from(b'0' + (seconds / 10) as u8));
    text.push(char::from(b'0' + (seconds % 10) as u8));
    text
}

/// The milestone crossed when the time left drops from `before` to `now`, if any.
pub fn milestone(before: u64, now: u64) -> Option<u64> {
    ANNOUNCE_AT_SECS.into_iter().find(|&mark| before > mark && now <= mark)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_checkout_contract::{Currency, OrderId, SessionId, WalletId};

    fn wallets() -> Vec<WalletOption> {
        ["wechat_pay:WeChat Pay", "paypal:PayPal"]
            .iter()
            .map(|w| {
                let (id, name) = w.split_once(':').unwrap();
                WalletOption { id: WalletId::parse(id).unwrap(), name: name.into() }
            })
            .collect()
    }

    fn session(status: SessionStatus, action: Option<NextAction>) -> Session {
        Session {
            id: SessionId::parse("ses_1").unwrap(),
            order_id: OrderId::parse("ord_1").unwrap(),
            wallet_id: WalletId::parse("wechat_pay").unwrap(),
            status,
            amount: Amount::new(6800, Currency::parse("CNY").unwrap()).unwrap(),
            expires_at: String::new(),
            expires_in_secs: 600,
            next_action: action,
            amount_refunded: None,
        }
    }

    fn qr(payload: &str) -> Option<NextAction> {
        Some(NextAction::Qr { payload: payload.into() })
    }

    fn show(stage: Stage, device: DeviceKind, qr_requested: bool) -> Screen {
        let wallets = wallets();
        let facts = Facts {
            locale: Locale::En,
            device,
            wallets: &wallets,
            money: &|_| "¥68.00".into(),
            openable: &|url| !url.starts_with("javascript:"),
            web_address: &|url| url.starts_with("https:") || url.starts_with("http:"),
            qr_requested,
        };
        screen(&stage, &facts)
    }

    fn acts(screen: &Screen) -> Vec<&'static str> {
        screen.actions.iter().map(|a| a.test_id).collect()
    }

    #[test]
    fn a_qr_session_on_desktop_shows_the_code_countdown_and_links() {
        let screen = show(
            Stage::Paying(session(SessionStatus::Pending, qr("https://pay.example/1"))),
            DeviceKind::Desktop,
            false,
        );
        assert_eq!(screen.name, "scan");
        assert_eq!(screen.qr.as_ref().unwrap().label, "QR code to pay ¥68.00 with WeChat Pay");
        assert_eq!(screen.countdown, Some(600));
        assert_eq!(acts(&screen), ["copy-link", "payment-link", "choose-another"]);
    }

    #[test]
    fn a_wallet_scheme_payload_is_not_offered_as_a_web_link() {
        let screen = show(
            Stage::Paying(session(SessionStatus::Pending, qr("weixin://wxpay/1"))),
            DeviceKind::Desktop,
            false,
        );
        assert!(screen.qr.is_some());
        assert_eq!(acts(&screen), ["choose-another"]);
    }

    #[test]
    fn a_phone_gets_an_open_wallet_button_instead_of_a_code_to_scan() {
        let stage = Stage::Paying(session(SessionStatus::Pending, qr("weixin://wxpay/1")));
        let screen = show(stage.clone(), DeviceKind::Mobile, false);
        assert!(screen.qr.is_none());
        assert_eq!(screen.actions[0].label, "Open WeChat Pay");
        assert_eq!(screen.actions[0].act, Act::Open { href: "weixin://wxpay/1".into(), new_tab: false });
        assert_eq!(acts(&screen), ["open-wallet", "show-qr", "choose-another"]);
        let with_code = show(stage, DeviceKind::Mobile, true);
        assert!(with_code.qr.is_some(), "the code is there for a second device on request");
    }

    #[test]
    fn a_redirect_session_offers_to_open_the_wallet_again() {
        let redirect = Some(NextAction::Redirect { url: "https://www.paypal.example/x".into() });
        let screen =
            show(Stage::Paying(session(SessionStatus::Pending, redirect)), DeviceKind::Desktop, false);
        assert_eq!(screen.name, "waiting");
        assert_eq!(acts(&screen), ["open-wallet", "choose-another"]);
    }

    #[test]
    fn paid_is_shown_only_for_succeeded_and_has_no_way_back() {
        let screen =
            show(Stage::Finished(session(SessionStatus::Succeeded, None)), DeviceKind::Desktop, false);
        assert_eq!(screen.title.as_deref(), Some("Payment received"));
        assert_eq!(screen.icon, Icon::Success);
        assert!(screen.actions.is_empty());
        for status in [SessionStatus::Failed, SessionStatus::Expired, SessionStatus::Canceled] {
            let screen = show(Stage::Finished(session(status, None)), DeviceKind::Desktop, false);
            assert_ne!(screen.title.as_deref(), Some("Payment received"));
            assert_eq!(screen.icon, Icon::Problem);
            assert!(acts(&screen).contains(&"choose-another"), "{status} has a way forward");
        }
        let processing =
            show(Stage::Paying(session(SessionStatus::Processing, None)), DeviceKind::Desktop, false);
        assert_eq!(processing.title.as_deref(), Some("Confirming your payment with WeChat Pay…"));
    }

    #[test]
    fn an_expired_code_can_be_renewed_in_one_click() {
        let screen =
            show(Stage::Finished(session(SessionStatus::Expired, qr("x"))), DeviceKind::Desktop, false);
        assert_eq!(acts(&screen), ["new-code", "choose-another"]);
        assert!(screen.actions[0].primary);
    }

    /// Regression test: an expired PayPal session offered "Get a new code", which only a QR code
    /// can have.
    #[test]
    fn an_expired_redirect_session_offers_no_new_code() {
        let redirect = Some(NextAction::Redirect { url: "https://www.paypal.example/x".into() });
        for action in [redirect, None] {
            let screen =
                show(Stage::Finished(session(SessionStatus::Expired, action)), DeviceKind::Desktop, false);
            assert_eq!(acts(&screen), ["choose-another"]);
            assert!(screen.actions[0].primary);
        }
    }

    #[test]
    fn errors_are_alerts_with_a_way_forward() {
        let screen = show(Stage::Unavailable(WidgetError::Network), DeviceKind::Desktop, false);
        assert!(screen.alert);
        assert_eq!(acts(&screen), ["retry"]);
        let choosing =
            show(Stage::Choosing(Some(WidgetError::UntrustedRedirect)), DeviceKind::Desktop, false);
        assert!(choosing.alert);
        assert_eq!(choosing.wallets.len(), 2);
    }

    #[test]
    fn a_session_being_created_can_be_left() {
        let screen = show(Stage::Starting(wallets()[0].clone()), DeviceKind::Desktop, false);
        assert_eq!(screen.icon, Icon::Spinner);
        assert_eq!(acts(&screen), ["choose-another"]);
    }

    #[test]
    fn a_refused_session_is_explained_with_the_wallets_as_the_way_forward() {
        let explained = show(Stage::Choosing(Some(WidgetError::QrTooLong)), DeviceKind::Desktop, false);
        assert!(explained.texts[0].text.contains("QR code is too long"), "{:?}", explained.texts);
        assert_eq!(explained.wallets.len(), 2, "the way forward");
    }

    #[test]
    fn a_session_that_cannot_be_shown_after_a_reload_is_explained_and_still_followed() {
        let stage = Stage::Unshowable(session(SessionStatus::Pending, None), WidgetError::UntrustedRedirect);
        let screen = show(stage, DeviceKind::Desktop, false);
        assert!(screen.alert);
        let texts: Vec<&str> = screen.texts.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "The wallet’s page address could not be trusted, so it was not opened.",
                "Checking the payment you started…"
            ]
        );
        assert!(screen.wallets.is_empty(), "no second session while the first may be paid");
        assert!(screen.qr.is_none());
        assert_eq!(acts(&screen), ["choose-another"]);
    }

    #[test]
    fn clock_pads_seconds() {
        assert_eq!(clock(900), "15:00");
        assert_eq!(clock(61), "1:01");
        assert_eq!(clock(0), "0:00");
    }

    #[test]
    fn milestones_are_announced_once_when_crossed() {
        assert_eq!(milestone(301, 300), Some(300));
        assert_eq!(milestone(300, 299), None);
        assert_eq!(milestone(62, 59), Some(60));
        assert_eq!(milestone(900, 899), None);
        assert_eq!(milestone(31, 0), Some(30));
    }

    #[test]
    fn a_phone_opening_a_link_too_long_for_a_code_is_not_offered_the_code() {
        let long_link = qr(&format!("weixin://{}", "x".repeat(3_000)));
        let screen =
            show(Stage::Paying(session(SessionStatus::Pending, long_link)), DeviceKind::Mobile, false);
        assert_eq!(acts(&screen), ["open-wallet", "choose-another"]);
        assert!(screen.qr.is_none());
    }

    #[test]
    fn a_session_picked_up_again_while_reads_fail_can_be_left() {
        let screen = show(Stage::Resuming(SessionId::parse("ses_1").unwrap()), DeviceKind::Desktop, false);
        assert_eq!(screen.icon, Icon::Spinner);
        assert_eq!(screen.texts[0].text, "Checking the payment you started…");
        assert!(screen.wallets.is_empty(), "no second session while the first may be paid");
        assert_eq!(acts(&screen), ["choose-another"]);
    }
}
