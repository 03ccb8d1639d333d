//! The widget's views, one file per screen or building block. They read the `Checkout`
//! controller's signals and call its methods; they hold no payment logic of their own.

mod countdown;
mod notice;
mod outcome;
mod paying;
mod qr_code;
mod summary;
mod wallet_mark;
mod wallet_picker;

pub use countdown::Countdown;
pub use qr_code::QrCode;

use crate::{
    checkout::{Checkout, Stage},
    config::ConfigError,
    i18n::{Key, Locale},
};
use leptos::prelude::*;
use notice::{ErrorNotice, Spinner};
use outcome::Outcome;
use paying::{BackButton, Paying};
use summary::OrderSummary;
use wallet_checkout_contract::OrderStatus;
use wallet_picker::WalletPicker;

/// The whole widget for one order.
#[component]
pub fn WalletCheckout(checkout: Checkout) -> impl IntoView {
    let locale = checkout.locale;
    let body = move || match checkout.stage.get() {
        Stage::Loading => view! { <Spinner text=locale.text(Key::Loading).to_owned()/> }.into_any(),
        Stage::Unavailable(error) => view! {
            <ErrorNotice locale=locale text=locale.text(error.key()).to_owned()>
                <button type="button" class="wc-button" on:click=move |_| checkout.retry()>
                    {locale.text(Key::Retry)}
                </button>
            </ErrorNotice>
        }
        .into_any(),
        Stage::Choosing(problem) => view! { <WalletPicker checkout=checkout problem=problem/> }.into_any(),
        Stage::Starting(wallet) => {
            let text = locale.format(Key::Starting, &[("wallet", &wallet.name)]);
            view! { <Spinner text=text/> <div class="wc-actions"><BackButton checkout=checkout/></div> }
                .into_any()
        }
        Stage::Paying(session) => view! { <Paying checkout=checkout session=session/> }.into_any(),
        Stage::Redirecting(session) => {
            let text = locale
                .format(Key::Redirecting, &[("wallet", &checkout.wallet_name(session.wallet_id.as_str()))]);
            view! { <Spinner text=text/> }.into_any()
        }
        Stage::Finished(session) => view! { <Outcome checkout=checkout session=session/> }.into_any(),
        Stage::OrderClosed(status) => {
            let key = if status == OrderStatus::Canceled { Key::OrderCanceled } else { Key::OrderPaid };
            view! {
                <div class="wc-outcome" data-testid="order-closed">
                    <p class="wc-outcome__title" tabindex="-1" data-focus>{locale.text(key)}</p>
                </div>
            }
            .into_any()
        }
    };
    let notice = move || checkout.notice.get().map(|notice| locale.text(notice.key()));
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
            {move || checkout.order.get().map(|order| view! { <OrderSummary checkout=checkout order=order/> })}
            <div class="wc-body">{body}</div>
            <p class="wc-notice" role="status" data-testid="notice">{notice}</p>
            <p class="wc-visually-hidden" role="status" data-testid="announcer">{move || announcement(checkout)}</p>
            <p class="wc-visually-hidden" role="status" data-testid="time-announcer">{move || checkout.announcement.get()}</p>
        </div>
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
        request_animation_frame(move || {
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

fn direction(locale: Locale) -> &'static str {
    if locale.is_rtl() {
        "rtl"
    } else {
        "ltr"
    }
}

/// The widget when its attributes are unusable: an explanation and nothing else, until the
/// attributes change.
#[component]
pub fn Misconfigured(error: ConfigError, locale: Locale) -> impl IntoView {
    view! {
        <div class="wc-root" dir=direction(locale) lang=locale.tag() data-testid="wallet-checkout">
            <ConfigNotice error=error locale=locale/>
        </div>
    }
}

/// What a screen reader hears when the stage changes: one sentence per meaningful step, not
/// every countdown tick.
fn announcement(checkout: Checkout) -> String {
    let locale = checkout.locale;
    match checkout.stage.get() {
        Stage::Paying(session) => {
            let wallet = checkout.wallet_name(session.wallet_id.as_str());
            match session.next_action {
                Some(wallet_checkout_contract::NextAction::Qr { .. }) => {
                    locale.format(Key::ScanTitle, &[("wallet", &wallet)])
                }
                _ => locale.format(Key::WaitingRedirect, &[("wallet", &wallet)]),
            }
        }
        Stage::Finished(session) => locale.text(outcome::title_key(session.status)).to_owned(),
        Stage::Unavailable(error) | Stage::Choosing(Some(error)) => locale.text(error.key()).to_owned(),
        _ => String::new(),
    }
}

/// The explanation of a configuration mistake, for the page's developer and the shopper.
#[component]
fn ConfigNotice(error: ConfigError, locale: Locale) -> impl IntoView {
    view! {
        <div class="wc-error" role="alert" data-testid="config-error" data-attribute=error.attribute()>
            <p class="wc-error__title">{locale.text(Key::ConfigTitle)}</p>
            <p class="wc-error__text">{error.message(locale)}</p>
        </div>
    }
}
