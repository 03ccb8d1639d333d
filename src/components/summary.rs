//! The order summary above every screen: what is being paid and how much.

use crate::{checkout::Checkout, i18n::Key};
use leptos::prelude::*;
use wallet_checkout_contract::OrderResponse;

#[component]
pub fn OrderSummary(checkout: Checkout, order: OrderResponse) -> impl IntoView {
    let locale = checkout.locale;
    let amount = checkout.money(&order.order.amount);
    view! {
        <div class="wc-summary">
            <div class="wc-summary__text">
                <span class="wc-summary__label">{locale.text(Key::Total)}</span>
                <span class="wc-summary__description">{order.order.description.clone()}</span>
            </div>
            <span class="wc-summary__amount" data-testid="amount">{amount}</span>
            {(!order.livemode).then(|| view! {
                <span class="wc-badge" data-testid="test-mode">{locale.text(Key::TestMode)}</span>
            })}
        </div>
    }
}
