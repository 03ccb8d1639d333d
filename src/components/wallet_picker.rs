//! The list of wallets the backend offers, one button each, named by the wallet's own name.

use super::wallet_mark::WalletMark;
use crate::{checkout::Checkout, error::WidgetError, i18n::Key};
use leptos::prelude::*;

#[component]
pub fn WalletPicker(checkout: Checkout, problem: Option<WidgetError>) -> impl IntoView {
    let locale = checkout.locale;
    let wallets =
        checkout.order.with_untracked(|order| order.as_ref().map(|o| o.wallets.clone()).unwrap_or_default());
    let empty = wallets.is_empty();
    let buttons = wallets
        .into_iter()
        .map(|wallet| {
            let name = wallet.name.clone();
            let id = wallet.id.to_string();
            view! {
                <li class="wc-wallets__item">
                    <button
                        type="button"
                        class="wc-wallet"
                        data-wallet=id.clone()
                        on:click=move |_| checkout.pick(wallet.clone())
                    >
                        <WalletMark wallet_id=id.clone() name=name.clone()/>
                        <span class="wc-wallet__name">{name}</span>
                    </button>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="wc-wallets" aria-labelledby="wc-wallets-title">
            <h2 class="wc-heading" id="wc-wallets-title" tabindex="-1" data-focus>{locale.text(Key::ChooseWallet)}</h2>
            {problem.map(|problem| view! {
                <p class="wc-error wc-error--inline" role="alert" data-testid="error">{locale.text(problem.key())}</p>
            })}
            {empty.then(|| view! { <p class="wc-empty">{locale.text(Key::NoWallets)}</p> })}
            <ul class="wc-wallets__list" role="list">{buttons}</ul>
        </section>
    }
}
