//! An open session: the QR code to scan, or the wait for the wallet after a redirect.

use super::{Countdown, QrCode};
use crate::{checkout::Checkout, i18n::Key};
use leptos::prelude::*;
use wallet_checkout_contract::{NextAction, Session, SessionStatus};

#[component]
pub fn Paying(checkout: Checkout, session: Session) -> impl IntoView {
    let locale = checkout.locale;
    let wallet = checkout.wallet_name(session.wallet_id.as_str());
    let amount = checkout.money(&session.amount);
    let back = view! {
        <button type="button" class="wc-button wc-button--quiet" data-testid="choose-another" on:click=move |_| checkout.choose_another()>
            {locale.text(Key::ChooseAnother)}
        </button>
    };
    let countdown =
        view! { <Countdown checkout=checkout expires_in_secs=session.expires_in_secs/> };

    if session.status == SessionStatus::Processing {
        let text = locale.format(Key::Confirming, &[("wallet", &wallet)]);
        return view! {
            <div class="wc-waiting" data-testid="confirming">
                <span class="wc-progress__spinner" aria-hidden="true"></span>
                <p class="wc-waiting__text">{text}</p>
            </div>
        }
        .into_any();
    }

    match session.next_action {
        Some(NextAction::Qr { payload }) => {
            let label = locale.format(Key::QrLabel, &[("amount", &amount), ("wallet", &wallet)]);
            let linkable = is_web_address(&payload);
            view! {
                <section class="wc-qr" aria-labelledby="wc-qr-title">
                    <h2 class="wc-heading" id="wc-qr-title">{locale.format(Key::ScanTitle, &[("wallet", &wallet)])}</h2>
                    <div class="wc-qr__frame"><QrCode payload=payload.clone() label=label/></div>
                    <p class="wc-qr__hint">{locale.format(Key::ScanHint, &[("wallet", &wallet)])}</p>
                    {countdown}
                    {linkable.then(|| view! {
                        <a class="wc-link" href=payload target="_blank" rel="noopener noreferrer" data-testid="payment-link">
                            {locale.text(Key::OpenPaymentPage)}
                        </a>
                    })}
                    {back}
                </section>
            }
            .into_any()
        }
        Some(NextAction::Redirect { url }) => view! {
            <section class="wc-waiting" data-testid="waiting">
                <span class="wc-progress__spinner" aria-hidden="true"></span>
                <p class="wc-waiting__text">{locale.format(Key::WaitingRedirect, &[("wallet", &wallet)])}</p>
                {countdown}
                <button type="button" class="wc-button" on:click=move |_| checkout.reopen(url.clone())>
                    {locale.format(Key::OpenWallet, &[("wallet", &wallet)])}
                </button>
                {back}
            </section>
        }
        .into_any(),
        _ => view! {
            <section class="wc-waiting" data-testid="waiting">
                <p class="wc-waiting__text">{locale.format(Key::WaitingRedirect, &[("wallet", &wallet)])}</p>
                {back}
            </section>
        }
        .into_any(),
    }
}

/// A QR payload is also offered as a link only when it is a web address the shopper's browser
/// can open (the sandbox pay page); wallet-specific schemes are for the wallet app alone.
fn is_web_address(payload: &str) -> bool {
    web_sys::Url::new(payload)
        .map(|url| url.protocol() == "https:" || url.protocol() == "http:")
        .unwrap_or(false)
}
