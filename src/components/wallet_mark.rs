//! Wallet marks drawn by the widget itself (no image, no third-party request), so the shopper
//! recognises the wallet at a glance. A wallet the widget does not know gets its initial.
//! The marks are decorative: the wallet's name beside them is what assistive technology reads.

use leptos::prelude::*;

#[component]
pub fn WalletMark(wallet_id: String, name: String) -> impl IntoView {
    let mark = match wallet_id.as_str() {
        "wechat_pay" => view! {
            <svg class="wc-mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <rect width="24" height="24" rx="6" fill="#07813f"></rect>
                <path fill="#fff" d="M9.6 4.5C5.9 4.5 3 7 3 10.1c0 1.8 1 3.3 2.5 4.4l-.6 1.9 2.2-1.1c.8.2 1.6.4 2.5.4h.4a4.6 4.6 0 0 1-.2-1.3c0-2.9 2.8-5.2 6.2-5.2h.4C15.8 6.5 13 4.5 9.6 4.5z"></path>
                <path fill="#fff" d="M21 14.3c0-2.5-2.4-4.5-5.3-4.5s-5.3 2-5.3 4.5 2.4 4.5 5.3 4.5c.6 0 1.3-.1 1.9-.3l1.7.9-.5-1.5c1.3-.9 2.2-2.2 2.2-3.6z"></path>
                <circle cx="7.5" cy="8.6" r=".9" fill="#07813f"></circle>
                <circle cx="11.6" cy="8.6" r=".9" fill="#07813f"></circle>
                <circle cx="14" cy="13.2" r=".7" fill="#07813f"></circle>
                <circle cx="17.4" cy="13.2" r=".7" fill="#07813f"></circle>
            </svg>
        }
        .into_any(),
        "alipay" => view! {
            <svg class="wc-mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <rect width="24" height="24" rx="6" fill="#1660cc"></rect>
                <path d="M6 7.5h12M12 4.5v6M7 10.5h10c-1.5 4-4.5 7-9 9M9.5 13c2 2.5 5 4.8 8.5 6" stroke="#fff" stroke-width="1.8" fill="none" stroke-linecap="round" stroke-linejoin="round"></path>
            </svg>
        }
        .into_any(),
        "paypal" => view! {
            <svg class="wc-mark" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
                <rect width="24" height="24" rx="6" fill="#003087"></rect>
                <path fill="#7fb2ff" d="M10.4 6.2h4.7c2.5 0 3.8 1.4 3.4 3.6-.5 2.7-2.3 4-4.9 4h-1.7l-.9 5h-2.9z"></path>
                <path fill="#fff" d="M8.4 4.5h4.8c2.5 0 3.8 1.4 3.4 3.6-.5 2.7-2.3 4-4.9 4H10l-.9 5H6.2z"></path>
            </svg>
        }
        .into_any(),
        _ => {
            let initial: String = name.chars().next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
            view! { <span class="wc-mark wc-mark--initial" aria-hidden="true">{initial}</span> }.into_any()
        }
    };
    mark
}
