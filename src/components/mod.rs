//! The widget's views. One generic view draws every screen the `screen` module describes, so the
//! bundle carries the code for a handful of element shapes rather than one per screen.

mod countdown;
mod qr_code;
mod wallet_mark;

pub use countdown::Countdown;
pub use qr_code::QrCode;

use crate::{
    checkout::Checkout,
    config::ConfigError,
    i18n::{Key, Locale},
    screen::{self, Act, Action, Facts, Icon, Screen, TextKind},
};
use leptos::prelude::*;
use wallet_checkout_contract::{OrderResponse, WalletOption};
use wallet_mark::{wallet_mark, Shape, PROBLEM_ICON, SUCCESS_ICON};

/// The whole widget for one order.
#[component]
pub fn WalletCheckout(checkout: Checkout) -> impl IntoView {
    let locale = checkout.locale;
    let current = move || {
        let stage = checkout.stage.get();
        let requested = checkout.qr_requested.get();
        checkout.order.with(|order| {
            let wallets = order.as_ref().map(|o| o.wallets.as_slice()).unwrap_or_default();
            let money = |amount: &wallet_checkout_contract::Amount| checkout.money(amount);
            let openable = |url: &str| checkout.is_openable(url);
            let facts = Facts {
                locale,
                device: checkout.device,
                wallets,
                money: &money,
                openable: &openable,
                web_address: &crate::browser::is_web_address,
                qr_requested: requested,
            };
            screen::screen(&stage, &facts)
        })
    };
    let had_focus = StoredValue::new(false);
    follow_focus(checkout, had_focus);
    view! {
        <div
            class="wc-root"
            dir=direction(locale)
            lang=locale.tag()
            data-testid="wallet-checkout"
            on:focusin=move |_| had_focus.set_value(true)
            on:focusout=move |event: web_sys::FocusEvent| {
                // Focus that leaves for the page (not for a node that is being replaced) is gone.
                if event.related_target().is_some() {
                    had_focus.set_value(false);
                }
            }
        >
            {move || checkout.order.get().map(|order| summary(checkout, order))}
            {move || screen_view(checkout, current())}
            <p class="wc-notice" role="status" data-testid="notice">
                {move || checkout.notice.get().map(|key| locale.text(key))}
            </p>
            <p class="wc-visually-hidden" role="status" data-testid="announcer">
                {move || current().announcement()}
            </p>
            <p class="wc-visually-hidden" role="status" data-testid="time-announcer">
                {move || checkout.announcement.get()}
            </p>
        </div>
    }
}

/// The widget when its attributes are unusable: an explanation and nothing else, until the
/// attributes change.
#[component]
pub fn Misconfigured(error: ConfigError, locale: Locale) -> impl IntoView {
    let screen = screen::misconfigured(locale, &error);
    view! {
        <div class="wc-root" dir=direction(locale) lang=locale.tag() data-testid="wallet-checkout">
            <section class="wc-screen" role="alert" data-testid="config-error" data-attribute=error.attribute()>
                {glyph("wc-screen__icon wc-screen__icon--problem", "currentColor", &PROBLEM_ICON)}
                <h2 class="wc-screen__title">{screen.title}</h2>
                {screen.texts.into_iter().map(|t| view! { <p class="wc-screen__text">{t.text}</p> }).collect_view()}
            </section>
        </div>
    }
}

fn direction(locale: Locale) -> &'static str {
    if locale.is_rtl() {
        "rtl"
    } else {
        "ltr"
    }
}

/// What is being paid and how much.
fn summary(checkout: Checkout, order: OrderResponse) -> impl IntoView {
    let locale = checkout.locale;
    view! {
        <div class="wc-summary">
            <div class="wc-summary__text">
                <span class="wc-summary__label">{locale.text(Key::Total)}</span>
                <span class="wc-summary__description">{order.order.description}</span>
            </div>
            <span class="wc-summary__amount" data-testid="amount">{checkout.money(&order.order.amount)}</span>
            {(!order.livemode).then(|| view! { <span class="wc-badge" data-testid="test-mode">{locale.text(Key::TestMode)}</span> })}
        </div>
    }
}

/// Any screen.
fn screen_view(checkout: Checkout, screen: Screen) -> impl IntoView {
    let icon = match screen.icon {
        Icon::None => None,
        Icon::Spinner => Some(view! { <span class="wc-spinner" aria-hidden="true"></span> }.into_any()),
        Icon::Success => {
            Some(glyph("wc-screen__icon wc-screen__icon--success", "none", &SUCCESS_ICON).into_any())
        }
        Icon::Problem => {
            Some(glyph("wc-screen__icon wc-screen__icon--problem", "none", &PROBLEM_ICON).into_any())
        }
    };
    let texts = screen
        .texts
        .into_iter()
        .map(|text| {
            let class = match text.kind {
                TextKind::Body => "wc-screen__text",
                TextKind::Hint => "wc-screen__text wc-screen__text--hint",
                TextKind::Error => "wc-screen__text wc-screen__text--error",
            };
            view! { <p class=class>{text.text}</p> }
        })
        .collect_view();
    let wallets = (!screen.wallets.is_empty()).then(|| {
        let buttons = screen.wallets.into_iter().map(|wallet| wallet_button(checkout, wallet)).collect_view();
        view! { <ul class="wc-wallets" role="list">{buttons}</ul> }
    });
    let qr =
        screen.qr.map(|qr| view! { <div class="wc-qr"><QrCode payload=qr.payload label=qr.label/></div> });
    let countdown =
        screen.countdown.map(|secs| view! { <Countdown checkout=checkout expires_in_secs=secs/> });
    let copied = move || checkout.copied.get().map(|key| checkout.locale.text(key));
    let actions = screen.actions.into_iter().map(|action| action_view(checkout, action)).collect_view();
    view! {
        <section
            class="wc-screen"
            role=screen.alert.then_some("alert")
            data-testid=screen.name
            data-status=screen.status
        >
            {icon}
            {screen.title.map(|title| view! { <h2 class="wc-screen__title" tabindex="-1" data-focus>{title}</h2> })}
            {qr}
            {texts}
            {wallets}
            {countdown}
            <div class="wc-actions">{actions}</div>
            <p class="wc-screen__text wc-screen__text--hint" data-testid="copy-result">{copied}</p>
        </section>
    }
}

fn wallet_button(checkout: Checkout, wallet: WalletOption) -> impl IntoView {
    let mark = match wallet_mark(wallet.id.as_str()) {
        Some((background, shapes)) => glyph("wc-mark", background, shapes).into_any(),
        None => {
            let initial: String = wallet.name.chars().take(1).collect();
            view! { <span class="wc-mark wc-mark--initial" aria-hidden="true">{initial}</span> }.into_any()
        }
    };
    let name = wallet.name.clone();
    let id = wallet.id.to_string();
    view! {
        <li>
            <button type="button" class="wc-wallet" data-wallet=id on:click=move |_| checkout.pick(wallet.clone())>
                {mark}
                <span class="wc-wallet__name">{name}</span>
            </button>
        </li>
    }
}

fn action_view(checkout: Checkout, action: Action) -> impl IntoView {
    let class = if action.primary { "wc-button" } else { "wc-button wc-button--quiet" };
    match action.act {
        Act::Open { href, new_tab } => view! {
            <a
                class=class
                href=href
                target=new_tab.then_some("_blank")
                rel=new_tab.then_some("noopener noreferrer")
                data-testid=action.test_id
            >
                {action.label}
            </a>
        }
        .into_any(),
        act => {
            let expanded = matches!(act, Act::ToggleQr).then_some("false");
            view! {
                <button
                    type="button"
                    class=class
                    aria-expanded=expanded
                    data-testid=action.test_id
                    on:click=move |_| checkout.act(act.clone())
                >
                    {action.label}
                </button>
            }
            .into_any()
        }
    }
}

/// A decorative 24 × 24 glyph: an optional rounded background and its shapes.
fn glyph(class: &'static str, background: &'static str, shapes: &'static [Shape]) -> impl IntoView {
    let backdrop = (background != "none" && background != "currentColor")
        .then(|| view! { <rect width="24" height="24" rx="6" fill=background></rect> });
    let paths = shapes
        .iter()
        .map(|shape| {
            let (fill, stroke) = if shape.stroke { ("none", Some(shape.color)) } else { (shape.color, None) };
            view! {
                <path
                    d=shape.d
                    fill=fill
                    stroke=stroke
                    stroke-width=shape.stroke.then_some("2")
                    stroke-linecap=shape.stroke.then_some("round")
                    stroke-linejoin=shape.stroke.then_some("round")
                ></path>
            }
        })
        .collect_view();
    view! {
        <svg class=class viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            {backdrop}
            {paths}
        </svg>
    }
}

/// When the screen changes under a shopper who was using the widget (the button they pressed is
/// gone), focus moves to the new screen's heading instead of falling back to the page.
fn follow_focus(checkout: Checkout, had_focus: StoredValue<bool>) {
    Effect::new(move |previous: Option<()>| {
        checkout.stage.track();
        if previous.is_none() || !had_focus.get_value() {
            return;
        }
        let Some(host) = checkout.host() else { return };
        crate::browser::request_animation_frame(move || {
            let target =
                host.shadow_root().and_then(|root| root.query_selector("[data-focus]").ok().flatten());
            if let Some(target) =
                target.and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(t).ok())
            {
                let _ = target.focus();
            }
        });
    });
}
