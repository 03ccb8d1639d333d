//! An open session: the QR code to scan, the hand-off to the wallet app on a phone, or the wait
//! for the wallet after a redirect.

use super::{Countdown, QrCode};
use crate::{checkout::Checkout, i18n::Key};
use leptos::prelude::*;
use wallet_checkout_contract::{DeviceKind, NextAction, Session, SessionStatus};

#[component]
pub fn Paying(checkout: Checkout, session: Session) -> impl IntoView {
    let locale = checkout.locale;
    let wallet = checkout.wallet_name(session.wallet_id.as_str());
    let countdown = view! { <Countdown checkout=checkout expires_in_secs=session.expires_in_secs/> };
    let back = view! { <BackButton checkout=checkout/> };

    if session.status == SessionStatus::Processing {
        return view! {
            <section class="wc-waiting" data-testid="confirming">
                <span class="wc-progress__spinner" aria-hidden="true"></span>
                <p class="wc-waiting__text" tabindex="-1" data-focus>{locale.format(Key::Confirming, &[("wallet", &wallet)])}</p>
            </section>
        }
        .into_any();
    }

    match session.next_action {
        Some(NextAction::Qr { payload }) => {
            let amount = checkout.money(&session.amount);
            let handoff = checkout.device == DeviceKind::Mobile && checkout.is_openable(&payload);
            view! {
                <QrPanel checkout=checkout payload=payload wallet=wallet amount=amount handoff=handoff/>
                {countdown}
                {back}
            }
            .into_any()
        }
        Some(NextAction::Redirect { url }) => {
            let link = checkout.is_openable(&url).then_some(url);
            view! {
                <section class="wc-waiting" data-testid="waiting">
                    <p class="wc-waiting__text" tabindex="-1" data-focus>
                        {locale.format(Key::WaitingRedirect, &[("wallet", &wallet)])}
                    </p>
                    {link.map(|url| view! {
                        <a class="wc-button" href=url data-testid="open-wallet">{locale.format(Key::OpenWallet, &[("wallet", &wallet)])}</a>
                    })}
                    <p class="wc-hint">{locale.format(Key::RedirectHint, &[("wallet", &wallet)])}</p>
                    {countdown}
                    {back}
                </section>
            }
            .into_any()
        }
        _ => view! {
            <section class="wc-waiting" data-testid="waiting">
                <p class="wc-waiting__text" tabindex="-1" data-focus>{locale.format(Key::WaitingRedirect, &[("wallet", &wallet)])}</p>
                {countdown}
                {back}
            </section>
        }
        .into_any(),
    }
}

/// The QR code with its hint and links. On a phone, when the payload is a link the phone can
/// open, the shopper first gets an "Open <wallet>" button, and the code on request.
#[component]
fn QrPanel(
    checkout: Checkout,
    payload: String,
    wallet: String,
    amount: String,
    handoff: bool,
) -> impl IntoView {
    let locale = checkout.locale;
    let show_code = RwSignal::new(!handoff);
    let label = locale.format(Key::QrLabel, &[("amount", &amount), ("wallet", &wallet)]);
    let web_link = web_sys::Url::new(&payload)
        .map(|url| matches!(url.protocol().as_str(), "http:" | "https:"))
        .unwrap_or(false);
    let open_link = (web_link && checkout.is_openable(&payload)).then(|| payload.clone());
    let copied = RwSignal::new(None::<Key>);
    let copy_payload = payload.clone();
    let copy = move |_| {
        let text = copy_payload.clone();
        leptos::task::spawn_local(async move {
            let key = if crate::browser::copy_text(&text).await { Key::LinkCopied } else { Key::CopyFailed };
            copied.try_set(Some(key));
            checkout.announcement.try_set(locale.text(key).to_owned());
        });
    };
    let handoff_view = handoff.then(|| {
        let href = payload.clone();
        let wallet = wallet.clone();
        view! {
            <a class="wc-button wc-button--wide" href=href data-testid="open-wallet">{locale.format(Key::OpenWallet, &[("wallet", &wallet)])}</a>
            <button type="button" class="wc-button wc-button--quiet" aria-expanded=move || show_code.get().to_string() on:click=move |_| show_code.update(|shown| *shown = !*shown)>
                {locale.text(Key::ShowQr)}
            </button>
        }
    });
    let wallet_for_code = wallet.clone();
    view! {
        <section class="wc-qr" aria-labelledby="wc-qr-title">
            <h2 class="wc-heading" id="wc-qr-title" tabindex="-1" data-focus>
                {locale.format(Key::ScanTitle, &[("wallet", &wallet)])}
            </h2>
            {handoff_view}
            {move || show_code.get().then(|| {
                let wallet = wallet_for_code.clone();
                view! {
                    <div class="wc-qr__frame"><QrCode payload=payload.clone() label=label.clone()/></div>
                    <p class="wc-hint">{locale.format(Key::ScanHint, &[("wallet", &wallet)])}</p>
                }
            })}
            <div class="wc-qr__links">
                {web_link.then(|| view! {
                    <button type="button" class="wc-button wc-button--quiet" data-testid="copy-link" on:click=copy.clone()>
                        {locale.text(Key::CopyLink)}
                    </button>
                })}
                {open_link.map(|href| view! {
                    <a class="wc-link" href=href target="_blank" rel="noopener noreferrer" data-testid="payment-link">
                        {locale.text(Key::OpenPaymentPage)}
                    </a>
                })}
            </div>
            <p class="wc-hint" role="status" data-testid="copy-result">{move || copied.get().map(|key| locale.text(key))}</p>
        </section>
    }
}

/// Back to the wallet list; the open session is canceled.
#[component]
pub fn BackButton(checkout: Checkout) -> impl IntoView {
    view! {
        <button type="button" class="wc-button wc-button--quiet" data-testid="choose-another" on:click=move |_| checkout.choose_another()>
            {checkout.locale.text(Key::ChooseAnother)}
        </button>
    }
}
