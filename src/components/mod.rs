//! The widget's views, drawn as plain elements: the frame (order summary, screen, notice, live
//! regions) once, and each screen by one function from the screen's data (`draw`), so the module
//! carries one renderer rather than a view type per screen. Leptos's effects keep them in step
//! with the controller's signals and are disposed with the widget's reactive owner.

mod wallet_mark;

use crate::{
    browser::{self, Timer},
    checkout::Checkout,
    config::ConfigError,
    dom::Dom,
    i18n::{Key, Locale},
    qr::QrMatrix,
    screen::{self, Act, Facts, Icon, Screen, TextKind},
};
use leptos::prelude::*;
use wallet_checkout_contract::OrderResponse;
use wallet_mark::{wallet_mark, Shape, PROBLEM_ICON, SUCCESS_ICON};
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::Element;

/// What the drawn screen needs while it is shown.
#[derive(Default)]
struct Drawn {
    /// Whether a screen was drawn before.
    shown: bool,
    /// The action of each button, by the index in its `data-act`.
    acts: Vec<Act>,
    /// The order summary drawn last.
    summary: Option<Element>,
    /// The paragraph that says whether the link was copied.
    copy_result: Option<Element>,
    /// The countdown's timer.
    _countdown: Option<Timer>,
}

/// What the frame keeps for the widget's life: one stored value (each type stored costs the
/// module its own copy of the storage code).
#[derive(Default)]
struct Frame {
    drawn: Drawn,
    /// Whether focus is in the widget, so that it follows the screen (see `focus_heading`).
    had_focus: bool,
    listeners: Vec<Closure<dyn Fn(web_sys::Event)>>,
}

/// Mounts the whole widget for one order into `root`; answers the frame, which the caller
/// removes when the widget goes. Call under the widget's reactive owner.
pub fn mount(root: &web_sys::ShadowRoot, checkout: Checkout) -> Option<Element> {
    let dom = Dom::of(root)?;
    let locale = checkout.locale;
    let frame = frame(&dom, locale)?;
    let at = Some(&frame);
    let body = dom.add(at, "div", &[])?;
    let notice =
        dom.add(at, "p", &[("class", "wc-notice"), ("role", "status"), ("data-testid", "notice")])?;
    let hidden = [("class", "wc-visually-hidden"), ("role", "status")];
    let announcer = dom.add(at, "p", &[hidden[0], hidden[1], ("data-testid", "announcer")])?;
    let time_announcer = dom.add(at, "p", &[hidden[0], hidden[1], ("data-testid", "time-announcer")])?;
    let _ = root.append_child(&frame);

    let kept = StoredValue::new_local(Frame::default());
    let listeners = vec![
        listen(&frame, "focusin", move |_| {
            kept.try_update_value(|kept| kept.had_focus = true);
        }),
        // Focus that leaves for the page (not for a node that is being replaced) is gone.
        listen(&frame, "focusout", move |event| {
            let left = event.dyn_ref::<web_sys::FocusEvent>().is_some_and(|e| e.related_target().is_some());
            if left {
                kept.try_update_value(|kept| kept.had_focus = false);
            }
        }),
        listen(&body, "click", move |event| {
            if let Some(act) = clicked_act(&event, kept) {
                checkout.act(act);
            }
        }),
    ];
    kept.try_update_value(|kept| kept.listeners = listeners);
    on_cleanup(move || drop(kept.try_update_value(|kept| std::mem::take(&mut kept.listeners))));

    // The screen, drawn again whenever the stage (or what it shows) changes.
    let root_box = frame.clone();
    Effect::new(move |_| {
        let frame = &root_box;
        checkout.screen_changed.track();
        let drawn_view = checkout.view(|view, order| {
            let wallets = order.map(|o| o.wallets.as_slice()).unwrap_or_default();
            let money = |amount: &wallet_checkout_contract::Amount| checkout.money(amount);
            let openable = |url: &str| checkout.is_openable(url);
            let facts = Facts {
                locale,
                device: checkout.device,
                wallets,
                money: &money,
                openable: &openable,
                web_address: &browser::is_web_address,
                qr_requested: view.qr_requested,
            };
            let summary = order.and_then(|order| self::summary(&dom, checkout, order));
            (screen::screen(&view.stage, &facts), summary)
        });
        let Some((screen, summary)) = drawn_view else { return };
        announcer.set_text_content(Some(&screen.announcement()));
        let mut next = Drawn { shown: true, summary, ..Drawn::default() };
        let Some(section) = draw(&dom, &screen, &mut next.acts) else { return };
        next.copy_result = section.query_selector("[data-testid=copy-result]").ok().flatten();
        if let Some(secs) = screen.countdown {
            next._countdown = countdown(&section, checkout, secs);
        }
        body.replace_children_with_node_1(&section);
        if let Some(summary) = &next.summary {
            let _ = frame.insert_before(summary, Some(&body));
        }
        let previous =
            kept.try_update_value(|kept| (std::mem::replace(&mut kept.drawn, next), kept.had_focus));
        if let Some((previous, had_focus)) = &previous {
            if let Some(old) = &previous.summary {
                old.remove();
            }
            show_copied(checkout, kept);
            if previous.shown && *had_focus {
                focus_heading(checkout);
            }
        }
    });
    // The passing texts: the notice, the time left, whether the link was copied.
    Effect::new(move |_| {
        checkout.texts_changed.track();
        checkout.view(|view, _| {
            notice.set_text_content(view.notice.map(|key| locale.text(key)));
            time_announcer.set_text_content(Some(&view.announcement));
        });
        show_copied(checkout, kept);
    });
    Some(frame)
}

/// The widget's outer box.
fn frame(dom: &Dom, locale: Locale) -> Option<Element> {
    let attributes = [
        ("class", "wc-root"),
        ("dir", direction(locale)),
        ("lang", locale.tag()),
        ("data-testid", "wallet-checkout"),
    ];
    dom.add(None, "div", &attributes)
}

/// Calls `handler` for each `event` on `target` while the answered closure lives.
fn listen(
    target: &Element,
    event: &str,
    handler: impl Fn(web_sys::Event) + 'static,
) -> Closure<dyn Fn(web_sys::Event)> {
    let closure = Closure::<dyn Fn(web_sys::Event)>::new(handler);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    closure
}

/// The widget when its attributes are unusable: an explanation and nothing else, until the
/// attributes change. Drawn without a controller.
pub fn misconfigured(root: &web_sys::ShadowRoot, error: &ConfigError, locale: Locale) -> Option<Element> {
    let dom = Dom::of(root)?;
    let frame = frame(&dom, locale)?;
    let section = draw(&dom, &screen::misconfigured(locale, error), &mut Vec::new())?;
    let _ = frame.append_child(&section);
    let _ = root.append_child(&frame);
    Some(frame)
}

fn direction(locale: Locale) -> &'static str {
    if locale.is_rtl() {
        "rtl"
    } else {
        "ltr"
    }
}

/// What is being paid and how much.
fn summary(dom: &Dom, checkout: Checkout, order: &OrderResponse) -> Option<Element> {
    let locale = checkout.locale;
    let summary = dom.add(None, "div", &[("class", "wc-summary")])?;
    let at = Some(&summary);
    let text = dom.add(at, "div", &[("class", "wc-summary__text")]);
    dom.add_text(text.as_ref(), "span", &[("class", "wc-summary__label")], locale.text(Key::Total));
    dom.add_text(text.as_ref(), "span", &[("class", "wc-summary__description")], &order.order.description);
    let amount = checkout.money(&order.order.amount);
    dom.add_text(at, "span", &[("class", "wc-summary__amount"), ("data-testid", "amount")], &amount);
    if !order.livemode {
        dom.add_text(
            at,
            "span",
            &[("class", "wc-badge"), ("data-testid", "test-mode")],
            locale.text(Key::TestMode),
        );
    }
    Some(summary)
}

/// Draws any screen: its `<section>`, with each button's action pushed to `acts` (the button's
/// `data-act` is the index).
fn draw(dom: &Dom, screen: &Screen, acts: &mut Vec<Act>) -> Option<Element> {
    let mut attributes = vec![("class", "wc-screen"), ("data-testid", screen.name)];
    if screen.alert {
        attributes.push(("role", "alert"));
    }
    if let Some(status) = screen.status {
        attributes.push(("data-status", status));
    }
    if let Some(attribute) = screen.attribute {
        attributes.push(("data-attribute", attribute));
    }
    let section = dom.add(None, "section", &attributes)?;
    let at = Some(&section);
    match screen.icon {
        Icon::None => {}
        Icon::Spinner => {
            dom.add(at, "span", &[("class", "wc-spinner"), ("aria-hidden", "true")]);
        }
        Icon::Success => glyph(dom, at, "wc-screen__icon wc-screen__icon--success", "none", &SUCCESS_ICON),
        Icon::Problem => glyph(dom, at, "wc-screen__icon wc-screen__icon--problem", "none", &PROBLEM_ICON),
    }
    if let Some(title) = &screen.title {
        dom.add_text(
            at,
            "h2",
            &[("class", "wc-screen__title"), ("tabindex", "-1"), ("data-focus", "")],
            title,
        );
    }
    if let Some(qr) = &screen.qr {
        let frame = dom.add(at, "div", &[("class", "wc-qr")]);
        qr_code(dom, frame.as_ref(), &qr.payload, &qr.label);
    }
    for text in &screen.texts {
        let class = match text.kind {
            TextKind::Body => "wc-screen__text",
            TextKind::Hint => "wc-screen__text wc-screen__text--hint",
            TextKind::Error => "wc-screen__text wc-screen__text--error",
        };
        dom.add_text(at, "p", &[("class", class)], &text.text);
    }
    if !screen.wallets.is_empty() {
        let list = dom.add(at, "ul", &[("class", "wc-wallets"), ("role", "list")]);
        for wallet in &screen.wallets {
            let item = dom.add(list.as_ref(), "li", &[]);
            let index = act_index(acts, Act::Pick(wallet.clone()));
            let button = dom.add(
                item.as_ref(),
                "button",
                &[
                    ("type", "button"),
                    ("class", "wc-wallet"),
                    ("data-wallet", wallet.id.as_str()),
                    ("data-act", &index),
                ],
            );
            match wallet_mark(wallet.id.as_str()) {
                Some((background, shapes)) => glyph(dom, button.as_ref(), "wc-mark", background, shapes),
                None => {
                    let initial: String = wallet.name.chars().take(1).collect();
                    let attributes = [("class", "wc-mark wc-mark--initial"), ("aria-hidden", "true")];
                    dom.add_text(button.as_ref(), "span", &attributes, &initial);
                }
            }
            dom.add_text(button.as_ref(), "span", &[("class", "wc-wallet__name")], &wallet.name);
        }
    }
    if screen.countdown.is_some() {
        dom.add(at, "p", &[("class", "wc-countdown"), ("data-testid", "countdown")]);
    }
    let actions = dom.add(at, "div", &[("class", "wc-actions")]);
    for action in &screen.actions {
        let class = if action.primary { "wc-button" } else { "wc-button wc-button--quiet" };
        let link = match &action.act {
            Act::Open { href, new_tab: true } => {
                Some(vec![("href", href.as_str()), ("target", "_blank"), ("rel", "noopener noreferrer")])
            }
            Act::Open { href, new_tab: false } => Some(vec![("href", href.as_str())]),
            _ => None,
        };
        match link {
            Some(mut attributes) => {
                attributes.extend([("class", class), ("data-testid", action.test_id)]);
                dom.add_text(actions.as_ref(), "a", &attributes, &action.label);
            }
            None => {
                let index = act_index(acts, action.act.clone());
                let mut attributes = vec![
                    ("type", "button"),
                    ("class", class),
                    ("data-testid", action.test_id),
                    ("data-act", &index),
                ];
                if action.act == Act::ToggleQr {
                    attributes.push(("aria-expanded", "false"));
                }
                dom.add_text(actions.as_ref(), "button", &attributes, &action.label);
            }
        }
    }
    dom.add(at, "p", &[("class", "wc-screen__text wc-screen__text--hint"), ("data-testid", "copy-result")]);
    Some(section)
}

/// Keeps `act` for a button and answers the button's `data-act`.
fn act_index(acts: &mut Vec<Act>, act: Act) -> String {
    acts.push(act);
    crate::text::digits(acts.len() as u64 - 1)
}

/// The action of the button a click landed on (by its `data-act`), if any: one click listener
/// serves every button of every screen.
fn clicked_act(event: &web_sys::Event, kept: StoredValue<Frame, LocalStorage>) -> Option<Act> {
    let target = event.target()?.dyn_into::<Element>().ok()?;
    let index = target.closest("[data-act]").ok()??.get_attribute("data-act")?.parse::<u32>().ok()? as usize;
    kept.try_with_value(|kept| kept.drawn.acts.get(index).cloned()).flatten()
}

fn show_copied(checkout: Checkout, kept: StoredValue<Frame, LocalStorage>) {
    let text = checkout.view(|view, _| view.copied).flatten().map(|key| checkout.locale.text(key));
    kept.try_with_value(|kept| {
        if let Some(paragraph) = &kept.drawn.copy_result {
            paragraph.set_text_content(text);
        }
    });
}

/// The time left to pay, counted down from the seconds the backend reported (not from the
/// shopper's clock, which may be wrong), using the browser's monotonic clock in between. Screen
/// readers hear it at a few milestones, not every second; at zero the widget asks the backend.
fn countdown(section: &Element, checkout: Checkout, expires_in_secs: u64) -> Option<Timer> {
    let paragraph = section.query_selector("[data-testid=countdown]").ok().flatten()?;
    let locale = checkout.locale;
    let read_at = checkout.view(|view, _| view.session_read_at).unwrap_or_default();
    let show = move |paragraph: &Element, secs: u64| {
        paragraph.set_text_content(Some(&locale.format(Key::ExpiresIn, &[("time", &screen::clock(secs))])));
    };
    show(&paragraph, expires_in_secs);
    let mut left = expires_in_secs;
    Timer::repeat(checkout.timing().tick_ms, move || {
        let elapsed = ((browser::now_ms() - read_at) / 1000.0).max(0.0) as u64;
        let now = expires_in_secs.saturating_sub(elapsed);
        if now == left {
            return;
        }
        let before = std::mem::replace(&mut left, now);
        show(&paragraph, now);
        if let Some(mark) = screen::milestone(before, now) {
            let text = locale.format(Key::TimeLeft, &[("time", &screen::clock(mark))]);
            checkout.change_texts(|view| view.announcement = text);
        }
        if now == 0 {
            // The backend decides whether the session expired; ask it now.
            checkout.poll_now();
        }
    })
}

/// A QR code as inline SVG: dark modules on a light square with the quiet zone, whatever the
/// theme, so that every scanner reads it. A payload too long for any code (refused before it is
/// shown) leaves its text alternative instead.
fn qr_code(dom: &Dom, parent: Option<&Element>, payload: &str, label: &str) {
    let Some(matrix) = QrMatrix::encode(payload) else {
        dom.add_text(
            parent,
            "p",
            &[("class", "wc-screen__text wc-screen__text--error"), ("role", "alert")],
            label,
        );
        return;
    };
    let size = crate::text::digits(matrix.view_size() as u64);
    let mut view_box = String::from("0 0 ");
    view_box.push_str(&size);
    view_box.push(' ');
    view_box.push_str(&size);
    let modules = crate::text::digits(matrix.width() as u64);
    let svg = dom.add_svg(
        parent,
        "svg",
        &[
            ("class", "wc-qr__code"),
            ("role", "img"),
            ("aria-label", label),
            ("viewBox", &view_box),
            ("shape-rendering", "crispEdges"),
            ("data-testid", "qr"),
            ("data-modules", &modules),
        ],
    );
    dom.add_svg(svg.as_ref(), "rect", &[("width", &size), ("height", &size), ("fill", "#ffffff")]);
    dom.add_svg(svg.as_ref(), "path", &[("d", &matrix.svg_path()), ("fill", "#000000")]);
}

/// A decorative 24 × 24 glyph: an optional rounded background and its shapes.
fn glyph(dom: &Dom, parent: Option<&Element>, class: &str, background: &str, shapes: &[Shape]) {
    let attributes =
        [("class", class), ("viewBox", "0 0 24 24"), ("aria-hidden", "true"), ("focusable", "false")];
    let svg = dom.add_svg(parent, "svg", &attributes);
    if background != "none" && background != "currentColor" {
        let backdrop = [("width", "24"), ("height", "24"), ("rx", "6"), ("fill", background)];
        dom.add_svg(svg.as_ref(), "rect", &backdrop);
    }
    for shape in shapes {
        let mut attributes = vec![("d", shape.d)];
        if shape.stroke {
            attributes.extend([
                ("fill", "none"),
                ("stroke", shape.color),
                ("stroke-width", "2"),
                ("stroke-linecap", "round"),
                ("stroke-linejoin", "round"),
            ]);
        } else {
            attributes.push(("fill", shape.color));
        }
        dom.add_svg(svg.as_ref(), "path", &attributes);
    }
}

/// When the screen changes under a shopper who was using the widget (the button they pressed is
/// gone), focus moves to the new screen's heading instead of falling back to the page.
fn focus_heading(checkout: Checkout) {
    let Some(host) = checkout.host() else { return };
    browser::request_animation_frame(move || {
        let target = host.shadow_root().and_then(|root| root.query_selector("[data-focus]").ok().flatten());
        if let Some(target) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = target.focus();
        }
    });
}
