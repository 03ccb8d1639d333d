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
    i18n::{self, Locale},
};
use leptos::prelude::*;
use std::{
    any::Any,
    cell::{Cell, RefCell},
    rc::{Rc, Weak},
};
use wasm_bindgen::{prelude::*, JsCast};

/// The element's tag name.
pub const TAG_NAME: &str = "wallet-checkout";

/// Attributes whose change makes the widget start over with the new values. (`theme` is read by
/// the stylesheet alone.)
pub const OBSERVED_ATTRIBUTES: [&str; 3] = ["endpoint", "order", "locale"];

/// The widget's styles, compiled in (minified by `build.rs`) and shared by every instance as one
/// constructed stylesheet.
pub const STYLESHEET: &str = include_str!(concat!(env!("OUT_DIR"), "/wallet-checkout.min.css"));

#[wasm_bindgen(module = "/js/element.js")]
extern "C" {
    #[wasm_bindgen(js_name = defineElement)]
    fn define_element(name: &str, observed: js_sys::Array, connect: &JsValue) -> bool;

    #[wasm_bindgen(js_name = localeUrl)]
    fn locale_url_js(tag: &str) -> Option<String>;

    #[wasm_bindgen(js_name = localeIntegrity)]
    fn locale_integrity_js(tag: &str) -> Option<String>;
}

/// Where the bundle keeps the file of a locale, if it ships one, and the file's SRI hash.
pub fn locale_file(tag: &str) -> Option<(String, Option<String>)> {
    Some((locale_url_js(tag)?, locale_integrity_js(tag)))
}

/// Defines `<wallet-checkout>` unless it is defined already (the script loaded twice).
pub fn define() -> bool {
    let observed = OBSERVED_ATTRIBUTES.iter().map(|name| JsValue::from_str(name)).collect();
    let connect = Closure::<dyn Fn(web_sys::HtmlElement) -> Widget>::new(Widget::connect);
    // The element class keeps the callback for the life of the page.
    define_element(TAG_NAME, observed, &connect.into_js_value())
}

thread_local! {
    static SHEET: Option<web_sys::CssStyleSheet> = web_sys::CssStyleSheet::new()
        .ok()
        .filter(|sheet| sheet.replace_sync(STYLESHEET).is_ok());
}

/// One mounted widget.
#[wasm_bindgen]
pub struct Widget {
    inner: Rc<RefCell<Mount>>,
}

struct Mount {
    host: web_sys::HtmlElement,
    view: Option<Box<dyn Any>>,
    /// The view's reactive owner. Tasks hold references to it, so dropping the view alone would
    /// not dispose it: `teardown` cleans it up explicitly, canceling tasks and timers.
    owner: Option<Owner>,
    /// Bumped on every render, so a locale that arrives late does not mount an outdated view.
    generation: u32,
}

#[wasm_bindgen]
impl Widget {
    /// Mounts a widget into `host`'s shadow root, configured by `host`'s attributes.
    pub fn connect(host: web_sys::HtmlElement) -> Widget {
        let inner = Rc::new(RefCell::new(Mount { host, view: None, owner: None, generation: 0 }));
        render(&inner);
        Widget { inner }
    }

    /// Reads the attributes again and starts over with them.
    pub fn refresh(&mut self) {
        self.inner.borrow_mut().teardown();
        render(&self.inner);
    }
}

impl Drop for Widget {
    fn drop(&mut self) {
        let mut mount = self.inner.borrow_mut();
        mount.generation += 1;
        mount.teardown();
    }
}

impl Mount {
    fn teardown(&mut self) {
        self.view = None;
        if let Some(owner) = self.owner.take() {
            owner.cleanup();
        }
    }
}

/// Reads the attributes and mounts the view, once the shopper's locale is at hand.
fn render(inner: &Rc<RefCell<Mount>>) {
    let (host, generation) = {
        let mut mount = inner.borrow_mut();
        mount.generation += 1;
        (mount.host.clone(), mount.generation)
    };
    let Some(root) = shadow_root(&host) else {
        browser::console_error("wallet-checkout: cannot attach a shadow root to the element");
        return;
    };
    adopt_styles(&root);
    let attributes = Attributes {
        endpoint: host.get_attribute("endpoint"),
        order: host.get_attribute("order"),
        locale: host.get_attribute("locale"),
    };
    let locale = config::choose_locale(attributes.locale.as_deref(), &browser::languages());
    if locale.is_ready() {
        mount_view(inner, root, attributes, locale);
        return;
    }
    let weak: Weak<RefCell<Mount>> = Rc::downgrade(inner);
    // `mount_to` starts the executor; this task may run before any widget was mounted.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async move {
        i18n::load(locale).await;
        if let Some(inner) = weak.upgrade() {
            if inner.borrow().generation == generation {
                mount_view(&inner, root, attributes, locale);
            }
        }
    });
}

fn mount_view(inner: &Rc<RefCell<Mount>>, root: web_sys::ShadowRoot, attributes: Attributes, locale: Locale) {
    let host = inner.borrow().host.clone();
    let parsed = config::parse(&attributes, browser::resolve_url);
    let owner_slot = Rc::new(Cell::new(None));
    let slot = owner_slot.clone();
    let view = leptos::mount::mount_to(root.unchecked_into(), move || {
        slot.set(Owner::current());
        match parsed {
            Ok(config) => {
                let checkout = Checkout::new(config, locale, host);
                checkout.start();
                view! { <WalletCheckout checkout=checkout/> }.into_any()
            }
            Err(error) => {
                let mut message = String::from("wallet-checkout: ");
                message.push_str(&error.message(Locale::En));
                browser::console_error(&message);
                let detail =
                    Detail { code: Some("config"), message: Some(error.attribute()), ..Detail::default() };
                dispatch(&host, EventKind::Error, &detail);
                view! { <Misconfigured error=error locale=locale/> }.into_any()
            }
        }
    });
    let mut mount = inner.borrow_mut();
    mount.view = Some(Box::new(view));
    mount.owner = owner_slot.take();
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
