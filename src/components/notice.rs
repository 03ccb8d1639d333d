//! Progress and error notices.

use crate::i18n::{Key, Locale};
use leptos::prelude::*;

/// A calm progress indicator with its text.
#[component]
pub fn Spinner(text: String) -> impl IntoView {
    view! {
        <div class="wc-progress" data-testid="progress">
            <span class="wc-progress__spinner" aria-hidden="true"></span>
            <span class="wc-progress__text">{text}</span>
        </div>
    }
}

/// An error the shopper can act on; `children` holds the way forward.
#[component]
pub fn ErrorNotice(locale: Locale, text: String, children: Children) -> impl IntoView {
    view! {
        <div class="wc-error" role="alert" data-testid="error">
            <p class="wc-error__title">{locale.text(Key::ErrorTitle)}</p>
            <p class="wc-error__text">{text}</p>
            {children()}
        </div>
    }
}
