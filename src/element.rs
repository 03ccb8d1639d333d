//! The `<wallet-checkout>` element. Its class is a few lines of JS (`js/element.js`, because
//! wasm-bindgen cannot subclass `HTMLElement`) that call back into the `Widget` here: connect when
//! the element is attached, `refresh()` when an attribute changes, `free()` when it is removed,
//! which unmounts the view and cancels every task and timer.

use crate::{
    browser,
    checkout::Checkout,
    components::{Misconfigured, WalletCheckout},
    config::{self, Attributes},
    events::{dispatch, Detail, EventKind},
};
use leptos::prelude::*;
use std::{any::Any, cell::Cell, rc::Rc};
use wasm_bindgen::{prelude::*, JsCast};

/// The element's tag name.
pub const TAG_NAME: &str = "wallet-checkout";

/// Attributes whose change makes the widget start over with the new values. (`theme` is read by
/// the stylesheet alone.)
pub const OBSERVED_ATTRIBUTES: [&str; 3] = ["endpoint", "order", "locale"];

#[wasm_bindgen(module = "/js/element.js")]
extern "C" {
    #[wasm_bindgen(js_name = defineElement)]
    fn define_element(name: &str, observed: js_sys::Array, connect: &JsValue) -> bool;
}

/// Defines `<wallet-checkout>` unless it is defined already (the script loaded twice).
pub fn define() -> bool {
    let observed = OBSERVED_ATTRIBUTES.iter().map(|name| JsValue::from_str(name)).collect();
    let connect = Closure::<dyn Fn(web_sys::HtmlElement) -> Widget>::new(Widget::connect);
    // The element class keeps the callback for the life of the page.
    define_element(TAG_NAME, observed, &connect.into_js_value())
}

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
    /// The view's reactive owner. Tasks hold references to it, so dropping the mount handle alone
    /// would not dispose it: `teardown` cleans it up explicitly, canceling tasks and timers.
    owner: Option<Owner>,
}

#[wasm_bindgen]
impl Widget {
    /// Mounts a widget into `host`'s shadow root, configured by `host`'s attributes.
    pub fn connect(host: web_sys::HtmlElement) -> Widget {
        let mut widget = Widget { host, mounted: None, owner: None };
        widget.render();
        widget
    }

    /// Reads the attributes again and starts over with them.
    pub fn refresh(&mut self) {
        self.teardown();
        self.render();
    }
}

impl Drop for Widget {
    fn drop(&mut self) {
        self.teardown();
    }
}

impl Widget {
    fn teardown(&mut self) {
        self.mounted = None;
        if let Some(owner) = self.owner.take() {
            owner.cleanup();
        }
    }

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
        let owner_slot = Rc::new(Cell::new(None));
        let slot = owner_slot.clone();
        let handle = leptos::mount::mount_to(root.unchecked_into(), move || {
            slot.set(Owner::current());
            match parsed {
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
                    dispatch(
                        &host,
                        EventKind::Error,
                        &Detail {
                            code: Some("config"),
                            message: Some(error.attribute()),
                            ..Detail::default()
                        },
                    );
                    view! { <Misconfigured error=error locale=locale/> }.into_any()
                }
            }
        });
        self.mounted = Some(Box::new(handle));
        self.owner = owner_slot.take();
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
