//! A final status: paid, or not, with the way forward.

use crate::{checkout::Checkout, i18n::Key};
use leptos::prelude::*;
use wallet_checkout_contract::{NextAction, Session, SessionStatus};

pub fn title_key(status: SessionStatus) -> Key {
    match status {
        SessionStatus::Succeeded => Key::PaidTitle,
        SessionStatus::Failed => Key::FailedTitle,
        SessionStatus::Expired => Key::ExpiredTitle,
        SessionStatus::Canceled => Key::CanceledTitle,
        // Not final; not shown here.
        SessionStatus::Pending | SessionStatus::Processing => Key::Loading,
    }
}

#[component]
pub fn Outcome(checkout: Checkout, session: Session) -> impl IntoView {
    let locale = checkout.locale;
    let wallet = checkout.wallet_name(session.wallet_id.as_str());
    let amount = checkout.money(&session.amount);
    let status = session.status;
    let (body, modifier) = match status {
        SessionStatus::Succeeded => {
            (locale.format(Key::PaidBody, &[("amount", &amount), ("wallet", &wallet)]), "paid")
        }
        SessionStatus::Failed => (locale.format(Key::FailedBody, &[("wallet", &wallet)]), "failed"),
        SessionStatus::Expired => (locale.text(Key::ExpiredBody).to_owned(), "expired"),
        _ => (locale.text(Key::CanceledBody).to_owned(), "canceled"),
    };
    let paid = status == SessionStatus::Succeeded;
    // An expired QR code gets a fresh one in one click; the session's action is gone by now, so
    // the kind of wallet is read from the wallet list.
    let renewable =
        status == SessionStatus::Expired && !matches!(session.next_action, Some(NextAction::Redirect { .. }));
    view! {
        <section class=format!("wc-outcome wc-outcome--{modifier}") data-testid="outcome" data-status=status.as_str()>
            <span class="wc-outcome__icon" aria-hidden="true">
                {if paid {
                    view! { <svg viewBox="0 0 24 24" focusable="false"><path d="M5 12.5l4.5 4.5L19 7.5" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" stroke-linejoin="round"></path></svg> }.into_any()
                } else {
                    view! { <svg viewBox="0 0 24 24" focusable="false"><path d="M12 7v6M12 16.5v.5" fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round"></path></svg> }.into_any()
                }}
            </span>
            <h2 class="wc-outcome__title" tabindex="-1" data-focus>{locale.text(title_key(status))}</h2>
            <p class="wc-outcome__text">{body}</p>
            {renewable.then(|| view! {
                <button type="button" class="wc-button" data-testid="new-code" on:click=move |_| checkout.renew()>
                    {locale.text(Key::NewCode)}
                </button>
            })}
            {(!paid).then(|| view! {
                <button
                    type="button"
                    class=if renewable { "wc-button wc-button--quiet" } else { "wc-button" }
                    data-testid="choose-another"
                    on:click=move |_| checkout.choose_another()
                >
                    {locale.text(Key::ChooseAnother)}
                </button>
            })}
        </section>
    }
}
