//! The `<wallet-checkout>` element's Rust side. The element class itself is a few lines of JS
//! (`js/wallet-checkout.js`: wasm-bindgen cannot subclass `HTMLElement`); it calls
//! `Widget.connect(this)` when the element is attached, `refresh()` when an attribute changes
//! and `free()` when it is removed, which unmounts the view and cancels every task and timer.

use crate::{
    browser,
    checkout::Checkout,
    components::{Misconfigured, WalletCheckout},
    config::{self, Attributes},
    events::{dispatch, Detail, EventKind},
};
use leptos::prelude::*;
use std::any::Any;
use wasm_bindgen::{prelude::*, JsCast};

/// The widget's styles, compiled in and shared by every instance as one constructed stylesheet.
pub const STYLESHEET: &str = include_str!("../style/wallet-checkout.css");

thread_local! {
    static SHEET: Option<web_sys::CssStyleSheet> = web_sys::CssStyleSheet::new()
        .ok()
        .filter(|sheet| sheet.replace_sync(STYLESHEET).is_ok());
}

/// One mounted widget.
#[wasm_bindgen]
pub struct Widget {
    host: web_sys::HtmlElement,
    mounted: Option<Box<dyn Any>>,
}

#[wasm_bindgen]
impl Widget {
    /// Mounts a widget into `host`'s shadow root, configured by `host`'s attributes.
    pub fn connect(host: web_sys::HtmlElement) -> Widget {
        let mut widget = Widget { host, mounted: None };
        widget.render();
        widget
    }

    /// Reads the attributes again and starts over with them.
    pub fn refresh(&mut self) {
        self.mounted = None;
        self.render();
    }
}

impl Widget {
    fn render(&mut self) {
        let Some(root) = shadow_root(&self.host) else {
            browser::console_error("wallet-checkout: cannot attach a shadow root to the element");
            return;
        };
        adopt_styles(&root);
        let attributes = Attributes {
            endpoint: self.host.get_attribute("endpoint"),
            order: self.host.get_attribute("order"),
            locale: self.host.get_attribute("locale"),
        };
        let locale = config::choose_locale(attributes.locale.as_deref(), &browser::languages());
        let parsed = config::parse(&attributes, browser::resolve_url);
        let host = self.host.clone();
        let handle = leptos::mount::mount_to(root.unchecked_into(), move || match parsed {
            Ok(config) => {
                let checkout = Checkout::new(config, locale, host);
                checkout.start();
                view! { <WalletCheckout checkout=checkout/> }.into_any()
            }
            Err(error) => {
                browser::console_error(&format!(
                    "wallet-checkout: {} (attribute \"{}\")",
                    error.message(crate::i18n::Locale::En),
                    error.attribute()
                ));
                dispatch(&host, EventKind::Error, &Detail { code: Some("config"), message: Some(error.attribute()), ..Detail::default() });
                view! { <Misconfigured error=error locale=locale/> }.into_any()
            }
        });
        self.mounted = Some(Box::new(handle));
    }
}

fn shadow_root(host: &web_sys::HtmlElement) -> Option<web_sys::ShadowRoot> {
    if let Some(root) = host.shadow_root() {
        return Some(root);
    }
    host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open)).ok()
}

/// Gives the shadow root the widget's stylesheet. A constructed stylesheet needs no inline
/// `<style>`, so a page with `style-src 'self'` still works.
fn adopt_styles(root: &web_sys::ShadowRoot) {
    SHEET.with(|sheet| {
        if let Some(sheet) = sheet {
            root.set_adopted_style_sheets(&js_sys::Array::of1(sheet));
        }
    });
}
