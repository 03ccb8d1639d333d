//! The `<wallet-checkout>` element. Its class is a few lines of JS (`js/element.js`, because
//! wasm-bindgen cannot subclass `HTMLElement`) that call back into the `Widget` here: connect when
//! the element is attached, `refresh()` when an attribute changes, `free()` when it is removed,
//! which unmounts the view and cancels every task and timer.

use crate::{
    browser,
    checkout::Checkout,
    components,
    config::{self, Attributes, Timing},
    events::{dispatch, Detail, EventKind},
    i18n::{self, Locale},
};
use leptos::prelude::*;
use std::{
    cell::RefCell,
    rc::{Rc, Weak},
};
use wasm_bindgen::prelude::*;

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
    timing: Timing,
    /// What the widget drew into its shadow root.
    view: Option<web_sys::Element>,
    /// The widget's reactive owner. Tasks hold references to it, so it is cleaned up explicitly
    /// (`teardown`), canceling tasks, effects and timers.
    owner: Option<Owner>,
    /// Bumped on every render, so a locale that arrives late does not mount an outdated view.
    generation: u32,
}

#[wasm_bindgen]
impl Widget {
    /// Mounts a widget into `host`'s shadow root, configured by `host`'s attributes.
    pub fn connect(host: web_sys::HtmlElement) -> Widget {
        Self::connect_with(host, Timing::default())
    }

    /// Reads the attributes again and starts over with them.
    pub fn refresh(&mut self) {
        teardown(&self.inner);
        render(&self.inner);
    }
}

impl Widget {
    /// `connect` with other timing (widget tests use shorter intervals).
    pub fn connect_with(host: web_sys::HtmlElement, timing: Timing) -> Widget {
        let mount = Mount { host, timing, view: None, owner: None, generation: 0 };
        let inner = Rc::new(RefCell::new(mount));
        render(&inner);
        Widget { inner }
    }
}

impl Drop for Widget {
    fn drop(&mut self) {
        if let Ok(mut mount) = self.inner.try_borrow_mut() {
            mount.generation = mount.generation.wrapping_add(1);
        }
        teardown(&self.inner);
    }
}

/// Unmounts the view and cleans its owner up, canceling tasks and timers. What is dropped is
/// taken out of the cell first: dropping it calls into the page (clearing timers), which must
/// find the cell free.
fn teardown(inner: &Rc<RefCell<Mount>>) {
    let Ok(mut mount) = inner.try_borrow_mut() else { return };
    let view = mount.view.take();
    let owner = mount.owner.take();
    drop(mount);
    if let Some(owner) = owner {
        owner.cleanup();
    }
    if let Some(view) = view {
        view.remove();
    }
}

/// Reads the attributes and mounts the view, once the shopper's locale is at hand.
fn render(inner: &Rc<RefCell<Mount>>) {
    let Ok(mut mount) = inner.try_borrow_mut() else { return };
    mount.generation = mount.generation.wrapping_add(1);
    let (host, generation) = (mount.host.clone(), mount.generation);
    drop(mount);
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
    // The executor may not be running yet: this task may come before any widget was mounted.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async move {
        i18n::load(locale).await;
        if let Some(inner) = weak.upgrade() {
            if inner.try_borrow().is_ok_and(|mount| mount.generation == generation) {
                mount_view(&inner, root, attributes, locale);
            }
        }
    });
}

fn mount_view(inner: &Rc<RefCell<Mount>>, root: web_sys::ShadowRoot, attributes: Attributes, locale: Locale) {
    let Ok((host, timing)) = inner.try_borrow().map(|mount| (mount.host.clone(), mount.timing)) else {
        return;
    };
    let config = match config::parse(&attributes, browser::resolve_url) {
        Ok(config) => config,
        Err(error) => {
            let drawn = components::misconfigured(&root, &error, locale);
            if let Ok(mut mount) = inner.try_borrow_mut() {
                mount.view = drawn;
            }
            // The page's developer reads why on the console, in English.
            let mut message = String::from("wallet-checkout: ");
            message.push_str(&error.message(Locale::En));
            browser::console_error(&message);
            let detail =
                Detail { code: Some("config"), message: Some(error.attribute()), ..Detail::default() };
            dispatch(&host, EventKind::Error, &detail);
            return;
        }
    };
    // Effects and tasks run on Leptos's executor for wasm.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    let owner = Owner::new();
    let view = owner.with(|| {
        let checkout = Checkout::new(config, timing, locale, host);
        let view = components::mount(&root, checkout);
        checkout.start();
        view
    });
    if let Ok(mut mount) = inner.try_borrow_mut() {
        mount.view = view;
        mount.owner = Some(owner);
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
