//! Small, panic-free wrappers over the browser APIs the widget needs. Every call that can throw
//! is caught; a missing API degrades to a sensible default.

use js_sys::{Math, Promise};
use wallet_checkout_contract::{Amount, DeviceKind, RETURN_SESSION_PARAM};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// `Intl.NumberFormat`, bound here with `catch` so that a bad currency cannot throw past us.
    #[wasm_bindgen(js_namespace = Intl, js_name = NumberFormat)]
    type NumberFormat;

    #[wasm_bindgen(constructor, js_namespace = Intl, js_class = "NumberFormat", catch)]
    fn new(locale: &str, options: &js_sys::Object) -> Result<NumberFormat, JsValue>;

    /// Formats a decimal string exactly (Intl.NumberFormat v3); an older browser reads it as a
    /// number first.
    #[wasm_bindgen(method, js_class = "NumberFormat")]
    fn format(this: &NumberFormat, value: &str) -> String;

    // The page's own timer functions, looked up on every call (a page or a test library may
    // replace them). Their handles are kept as the page returned them: an id above 2^31 or an
    // object is as good a handle as a small integer.
    #[wasm_bindgen(js_name = setTimeout, catch)]
    fn set_timeout(callback: &JsValue, ms: u32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = clearTimeout, catch)]
    fn clear_timeout(handle: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(js_name = setInterval, catch)]
    fn set_interval(callback: &JsValue, ms: u32) -> Result<JsValue, JsValue>;

    #[wasm_bindgen(js_name = clearInterval, catch)]
    fn clear_interval(handle: &JsValue) -> Result<(), JsValue>;

    #[wasm_bindgen(js_name = requestAnimationFrame, catch)]
    fn request_animation_frame_js(callback: &JsValue) -> Result<JsValue, JsValue>;
}

pub fn window() -> Option<web_sys::Window> {
    web_sys::window()
}

/// `amount` as the locale writes money, by the browser's `Intl`, with exactly the minor-unit
/// digits of ISO 4217 (which the contract's minor units follow; `Intl`'s own digits come from
/// CLDR, which disagrees for some currencies, such as HUF and IQD). Intl is given the exact
/// decimal string, so no amount is rounded on the way. If Intl refuses, the plain decimal and
/// the code (`68.00 HUF`).
pub fn format_money(amount: &Amount, locale: &str) -> String {
    let decimal = amount.to_decimal_string();
    let currency = amount.currency();
    let digits = JsValue::from(currency.exponent());
    let options = js_sys::Object::new();
    for (key, value) in [
        ("style", &JsValue::from_str("currency")),
        ("currency", &JsValue::from_str(currency.as_str())),
        ("minimumFractionDigits", &digits),
        ("maximumFractionDigits", &digits),
    ] {
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str(key), value);
    }
    match NumberFormat::new(locale, &options) {
        Ok(formatter) => formatter.format(&decimal),
        Err(_) => {
            let mut plain = decimal;
            plain.push(' ');
            plain.push_str(currency.as_str());
            plain
        }
    }
}

/// A running `setTimeout` or `setInterval` of the page, stopped when dropped. The callback lives
/// as long as the timer.
pub struct Timer {
    handle: JsValue,
    repeating: bool,
    _callback: Closure<dyn FnMut()>,
}

impl Timer {
    /// Calls `callback` once, after `ms` milliseconds. `None` if the page refuses a timer.
    pub fn once(ms: u32, callback: impl FnMut() + 'static) -> Option<Timer> {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let handle = set_timeout(callback.as_ref(), ms).ok()?;
        Some(Timer { handle, repeating: false, _callback: callback })
    }

    /// Calls `callback` every `ms` milliseconds.
    pub fn repeat(ms: u32, callback: impl FnMut() + 'static) -> Option<Timer> {
        let callback = Closure::<dyn FnMut()>::new(callback);
        let handle = set_interval(callback.as_ref(), ms).ok()?;
        Some(Timer { handle, repeating: true, _callback: callback })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        let _ = if self.repeating { clear_interval(&self.handle) } else { clear_timeout(&self.handle) };
    }
}

/// A wait of `ms` milliseconds: the future that resolves when it is over, its timer (dropping it
/// stops the wait for good) and the function that ends it early.
pub fn delay(ms: u32) -> (JsFuture, Option<Timer>, Option<js_sys::Function>) {
    let mut timer = None;
    let mut end = None;
    let promise = Promise::new(&mut |resolve, _| {
        let on_time = resolve.clone();
        timer = Timer::once(ms, move || {
            let _ = on_time.call0(&JsValue::UNDEFINED);
        });
        end = Some(resolve);
    });
    (JsFuture::from(promise), timer, end)
}

/// Resolves after `ms` milliseconds.
pub async fn sleep(ms: u32) {
    let (wait, _timer, _) = delay(ms);
    let _ = wait.await;
}

/// Calls `callback` before the next repaint.
pub fn request_animation_frame(callback: impl FnOnce() + 'static) {
    let _ = request_animation_frame_js(&Closure::once_into_js(callback));
}

/// A random number in `[0, 1)`.
pub fn random() -> f64 {
    Math::random()
}

/// A fresh random idempotency key (128 bits, hex). `crypto.getRandomValues` works on plain
/// http pages too, unlike `crypto.randomUUID`.
pub fn new_idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    let filled = window()
        .and_then(|w| w.crypto().ok())
        .map(|crypto| crypto.get_random_values_with_u8_array(&mut bytes).is_ok())
        .unwrap_or(false);
    if !filled {
        for byte in &mut bytes {
            *byte = (Math::random() * 256.0) as u8;
        }
    }
    crate::text::hex(&bytes)
}

/// Whether the shopper is on a phone or tablet, where a QR code on the same screen cannot be
/// scanned.
pub fn device_kind() -> DeviceKind {
    let user_agent = window().and_then(|w| w.navigator().user_agent().ok()).unwrap_or_default();
    if ["Mobi", "Android", "iPhone", "iPad"].iter().any(|marker| crate::text::contains(&user_agent, marker)) {
        DeviceKind::Mobile
    } else {
        DeviceKind::Desktop
    }
}

/// The browser's preferred languages, most preferred first.
pub fn languages() -> Vec<String> {
    let Some(navigator) = window().map(|w| w.navigator()) else {
        return Vec::new();
    };
    let list: Vec<String> = navigator.languages().iter().filter_map(|v| v.as_string()).collect();
    if list.is_empty() {
        navigator.language().into_iter().collect()
    } else {
        list
    }
}

/// Resolves `raw` against the document's base URL: `(protocol, href)`.
pub fn resolve_url(raw: &str) -> Option<(String, String)> {
    let base = window()?.document()?.base_uri().ok().flatten()?;
    let url = web_sys::Url::new_with_base(raw, &base).ok()?;
    Some((url.protocol(), url.href()))
}

/// The page's URL without the widget's own return parameter: where redirect flows come back to.
pub fn return_url() -> String {
    let Some(href) = window().and_then(|w| w.location().href().ok()) else {
        return String::new();
    };
    match web_sys::Url::new(&href) {
        Ok(url) => {
            url.search_params().delete(RETURN_SESSION_PARAM);
            url.set_hash("");
            url.href()
        }
        Err(_) => href,
    }
}

/// The session id a redirect flow brought back in the page URL, if any.
pub fn returned_session_param() -> Option<String> {
    let href = window()?.location().href().ok()?;
    web_sys::Url::new(&href).ok()?.search_params().get(RETURN_SESSION_PARAM)
}

/// Removes the return parameter from the address bar, so a shared or bookmarked link does not
/// carry it.
pub fn forget_returned_session_param() {
    let Some(window) = window() else { return };
    let Ok(href) = window.location().href() else {
        return;
    };
    let Ok(url) = web_sys::Url::new(&href) else {
        return;
    };
    if url.search_params().get(RETURN_SESSION_PARAM).is_none() {
        return;
    }
    url.search_params().delete(RETURN_SESSION_PARAM);
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url.href()));
    }
}

/// Sends the browser to `url`.
pub fn navigate(url: &str) -> bool {
    window().map(|w| w.location().assign(url).is_ok()).unwrap_or(false)
}

/// Whether the widget may send the shopper to `url`: an https URL, or an http URL on the page's
/// own origin or the endpoint's origin (a local sandbox). Anything else (`javascript:`, `data:`,
/// plain http elsewhere) is refused.
pub fn is_trusted_redirect(url: &str, endpoint: &str) -> bool {
    let Ok(target) = web_sys::Url::new(url) else {
        return false;
    };
    let page_origin = window().and_then(|w| w.location().origin().ok());
    let endpoint_origin = web_sys::Url::new(endpoint).ok().map(|u| u.origin());
    crate::trust::is_trusted(&target.protocol(), &target.origin(), &[page_origin, endpoint_origin])
}

/// Whether `url` is an http(s) web address.
pub fn is_web_address(url: &str) -> bool {
    web_sys::Url::new(url).map(|url| matches!(url.protocol().as_str(), "http:" | "https:")).unwrap_or(false)
}

/// Whether a QR payload may be offered as a link to open on this device (see `trust::is_openable`).
pub fn is_openable(url: &str, endpoint: &str) -> bool {
    let Ok(target) = web_sys::Url::new(url) else { return false };
    let page_origin = window().and_then(|w| w.location().origin().ok());
    let endpoint_origin = web_sys::Url::new(endpoint).ok().map(|u| u.origin());
    crate::trust::is_openable(&target.protocol(), &target.origin(), &[page_origin, endpoint_origin])
}

/// Writes an error to the browser console for the page's developer.
pub fn console_error(message: &str) {
    web_sys::console::error_1(&JsValue::from_str(message));
}

/// A `performance.now()` reading in milliseconds (monotonic, unlike the shopper's clock).
pub fn now_ms() -> f64 {
    window().and_then(|w| w.performance()).map(|p| p.now()).unwrap_or(0.0)
}

/// Copies `text` to the clipboard; false where the browser refuses (for example on a page that
/// is not a secure context).
pub async fn copy_text(text: &str) -> bool {
    let Some(window) = window() else { return false };
    let clipboard = window.navigator().clipboard();
    if clipboard.is_undefined() {
        return false;
    }
    JsFuture::from(clipboard.write_text(text)).await.is_ok()
}
