//! The widget in headless Chromium: mounted into a real custom element's shadow root, talking to a
//! fake backend that stands in for `fetch`. Queries go by role, `data-testid` and text.

#![cfg(target_arch = "wasm32")]

use js_sys::Array;
use std::time::Duration;
use wallet_checkout::{config::Timing, tracker::Pace, Widget};
use wallet_checkout_contract::{Amount, Currency, OrderId, SessionId};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
// Tests run concurrently in one page, so every test has its own path prefix and its own element.
const routes = new Map();
const calls = [];
const keys = [];
const aborted = [];
const keptAlive = [];
const deferred = [];
const withdrawn = [];
export function fake_install() {
  if (globalThis.__fakeInstalled) return;
  globalThis.__fakeInstalled = true;
  // Requests left for the browser to send when the page is left, and those withdrawn by their
  // signal before that.
  globalThis.fetchLater = (input, init) => {
    const key = `${(init && init.method) || 'GET'} ${new URL(input, location.href).pathname}`;
    deferred.push(key);
    init.signal.addEventListener('abort', () => withdrawn.push(key));
    return { activated: false };
  };
  globalThis.fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input.url, location.href);
    const method = (init && init.method) || (typeof input === 'string' ? 'GET' : input.method);
    const key = `${method} ${url.pathname}`;
    const headers = new Headers((init && init.headers) || (typeof input === 'string' ? undefined : input.headers));
    calls.push(key);
    keys.push(`${key} ${headers.get('idempotency-key')}`);
    if (init && init.keepalive) keptAlive.push(key);
    const answers = routes.get(key);
    if (!answers) {
      return new Response('{"error":{"code":"not_found","message":"no such route"}}', { status: 404 });
    }
    const [status, body] = answers.length > 1 ? answers.shift() : answers[0];
    // Status 0: the network fails. Status 1: no answer ever, until the request is aborted.
    // Status 1000 + s: status s after half a second, unless the request is aborted first.
    if (status === 0) throw new TypeError('Failed to fetch');
    if (status >= 1000) {
      let answered = false;
      await new Promise((resolve, reject) => {
        setTimeout(() => { answered = true; resolve(); }, 500);
        init.signal.addEventListener('abort', () => {
          if (answered) return;
          aborted.push(key);
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
      return new Response(body, { status: status - 1000, headers: { 'content-type': 'application/json' } });
    }
    if (status === 1) {
      return new Promise((_, reject) => init.signal.addEventListener('abort', () => {
        aborted.push(key);
        reject(new DOMException('aborted', 'AbortError'));
      }));
    }
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  };
}
export function fake_route(method, path, status, body) {
  const key = `${method} ${path}`;
  if (!routes.has(key)) routes.set(key, []);
  routes.get(key).push([status, body]);
}
export function fake_calls(prefix) { return calls.filter((call) => call.split(' ')[1].startsWith(prefix + '/')); }
export function fake_keys(prefix) { return keys.filter((call) => call.split(' ')[1].startsWith(prefix + '/')); }
export function fake_aborted(prefix) { return aborted.filter((call) => call.split(' ')[1].startsWith(prefix + '/')); }
export function fake_kept_alive(prefix) { return keptAlive.filter((call) => call.split(' ')[1].startsWith(prefix + '/')); }
export function fake_deferred(prefix) { return deferred.filter((call) => call.split(' ')[1].startsWith(prefix + '/')); }
export function fake_withdrawn(prefix) { return withdrawn.filter((call) => call.split(' ')[1].startsWith(prefix + '/')); }
// A read the loader began before the module ran (js/wallet-checkout.js), for `host`: status 0
// fails as the network does, 1 never answers until aborted; any other is the answer.
const begunAborted = [];
export function fake_begin_read(host, url, status, body) {
  const reads = (globalThis.__walletCheckoutReads ??= new WeakMap());
  const controller = new AbortController();
  controller.signal.addEventListener('abort', () => begunAborted.push(url));
  const response = status === 0
    ? Promise.reject(new TypeError('Failed to fetch'))
    : status === 1
      ? new Promise((_, reject) => controller.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))))
      : Promise.resolve(new Response(body, { status, headers: { 'content-type': 'application/json' } }));
  response.catch(() => {});
  reads.set(host, { url, response, abort: () => controller.abort() });
}
export function fake_begun_aborted(prefix) { return begunAborted.filter((url) => new URL(url).pathname.startsWith(prefix + '/')); }
export function listen_events(target) {
  target.__events = [];
  for (const name of ['ready', 'session-created', 'paid', 'failed', 'error']) {
    target.addEventListener(`wallet-checkout:${name}`, (e) => target.__events.push({ type: e.type, detail: e.detail }));
  }
}
export function event_types(target) { return target.__events.map((e) => e.type); }
export function event_detail(target, type, key) {
  const event = target.__events.find((e) => e.type === type);
  return event && event.detail[key] !== undefined ? String(event.detail[key]) : undefined;
}
"#)]
extern "C" {
    fn fake_install();
    fn fake_route(method: &str, path: &str, status: u16, body: &str);
    fn fake_calls(prefix: &str) -> Array;
    fn fake_keys(prefix: &str) -> Array;
    fn fake_aborted(prefix: &str) -> Array;
    fn fake_kept_alive(prefix: &str) -> Array;
    fn fake_deferred(prefix: &str) -> Array;
    fn fake_withdrawn(prefix: &str) -> Array;
    fn fake_begin_read(host: &HtmlElement, url: &str, status: u16, body: &str);
    fn fake_begun_aborted(prefix: &str) -> Array;
    fn listen_events(target: &web_sys::EventTarget);
    fn event_types(target: &web_sys::EventTarget) -> Array;
    fn event_detail(target: &web_sys::EventTarget, kind: &str, key: &str) -> Option<String>;
}

/// A fake merchant backend under its own path prefix.
struct Backend {
    prefix: String,
}

impl Backend {
    fn new(name: &str) -> Self {
        fake_install();
        Self { prefix: format!("/fake-{name}") }
    }

    fn route(&self, method: &str, path: &str, status: u16, body: &str) {
        fake_route(method, &format!("{}{path}", self.prefix), status, body);
    }

    fn calls(&self) -> Vec<String> {
        fake_calls(&self.prefix)
            .iter()
            .filter_map(|v| v.as_string())
            .map(|c| c.replace(&self.prefix, ""))
            .collect()
    }

    /// The Idempotency-Key of every `POST /sessions`.
    fn session_keys(&self) -> Vec<String> {
        fake_keys(&self.prefix)
            .iter()
            .filter_map(|v| v.as_string())
            .filter(|c| c.starts_with(&format!("POST {}/sessions ", self.prefix)))
            .map(|c| c.rsplit(' ').next().unwrap_or_default().to_owned())
            .collect()
    }

    fn count(&self, call: &str) -> usize {
        self.calls().iter().filter(|c| *c == call).count()
    }

    /// Requests the widget aborted before they were answered.
    fn aborted(&self) -> Vec<String> {
        self.strip(fake_aborted(&self.prefix))
    }

    /// Requests sent with `keepalive` (they outlive the page).
    fn kept_alive(&self) -> Vec<String> {
        self.strip(fake_kept_alive(&self.prefix))
    }

    /// Requests left to the browser to send if the page is left (`fetchLater`).
    fn deferred(&self) -> Vec<String> {
        self.strip(fake_deferred(&self.prefix))
    }

    /// Deferred requests withdrawn before the page was left.
    fn withdrawn(&self) -> Vec<String> {
        self.strip(fake_withdrawn(&self.prefix))
    }

    fn strip(&self, list: Array) -> Vec<String> {
        list.iter().filter_map(|v| v.as_string()).map(|c| c.replace(&self.prefix, "")).collect()
    }

    /// The absolute endpoint the widget resolves its `endpoint` attribute to.
    fn endpoint(&self) -> String {
        wallet_checkout::browser::resolve_url(&self.prefix).unwrap().1
    }

    /// Stores `session` as this order's session, as a page does before a reload.
    fn remember(&self, session: &str) {
        let order = OrderId::parse("ord_1").unwrap();
        wallet_checkout::storage::remember_session(
            &self.endpoint(),
            &order,
            &SessionId::parse(session).unwrap(),
        );
    }

    fn remembered(&self) -> Option<SessionId> {
        wallet_checkout::storage::remembered_session(&self.endpoint(), &OrderId::parse("ord_1").unwrap())
    }

    fn mount(&self, locale: &str) -> Mounted {
        mount(&[("endpoint", &self.prefix), ("order", "ord_1"), ("locale", locale)])
    }

    /// Mounts the widget for `ord_1` after the loader began reading `order` for its element, with
    /// this answer (`fake_begin_read`).
    fn mount_after_begun_read(&self, order: &str, status: u16, body: &str) -> Mounted {
        let url = format!("{}/orders/{order}", self.endpoint());
        mount_with(&[("endpoint", &self.prefix), ("order", "ord_1"), ("locale", "en")], |host| {
            fake_begin_read(host, &url, status, body)
        })
    }

    /// The reads begun by the loader that were aborted, by path.
    fn begun_aborted(&self) -> Vec<String> {
        fake_begun_aborted(&self.prefix)
            .iter()
            .filter_map(|v| v.as_string())
            .map(|url| url.rsplit_once(&self.prefix).map_or(url.clone(), |(_, path)| path.to_owned()))
            .collect()
    }
}

const ORDER: &str = r#"{"order":{"id":"ord_1","description":"Jasmine tea","amount":{"minor_units":6800,"currency":"CNY"},"status":"open"},
  "wallets":[{"id":"wechat_pay","name":"WeChat Pay"},{"id":"alipay","name":"Alipay"},{"id":"paypal","name":"PayPal"}],"livemode":false}"#;

fn session(status: &str, action: &str) -> String {
    format!(
        r#"{{"id":"ses_1","order_id":"ord_1","wallet_id":"wechat_pay","status":"{status}",
        "amount":{{"minor_units":6800,"currency":"CNY"}},"expires_at":"2030-01-01T00:00:00Z","expires_in_secs":600,
        "next_action":{action}}}"#
    )
}

const QR_ACTION: &str = r#"{"type":"qr","payload":"https://pay.example/sandbox/pay/ses_1"}"#;

struct Mounted {
    host: HtmlElement,
    widget: Option<Widget>,
}

impl Mounted {
    fn root(&self) -> ShadowRoot {
        self.host.shadow_root().expect("an open shadow root")
    }

    fn find(&self, selector: &str) -> Option<Element> {
        self.root().query_selector(selector).ok().flatten()
    }

    fn all(&self, selector: &str) -> Vec<Element> {
        let list = self.root().query_selector_all(selector).unwrap();
        (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect()
    }

    fn text(&self) -> String {
        self.root().text_content().unwrap_or_default()
    }

    fn button(&self, name: &str) -> Option<HtmlElement> {
        self.all("button")
            .into_iter()
            .find(|b| b.text_content().unwrap_or_default().trim() == name)
            .map(|b| b.unchecked_into())
    }

    async fn wait_for(&self, what: &str, ready: impl Fn(&Self) -> bool) {
        wait_until(what, || ready(self)).await
    }

    async fn wait_long(&self, what: &str, ready: impl Fn(&Self) -> bool) {
        for _ in 0..1_000 {
            if ready(self) {
                return;
            }
            sleep(Duration::from_millis(20)).await;
        }
        panic!("timed out waiting for {what}");
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.widget.take();
        self.host.remove();
    }
}

async fn wait_until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..300 {
        if ready() {
            return;
        }
        sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, duration.as_millis() as i32)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// The widget's timing in these tests: every interval short, so that a test proves what happens
/// after a timeout, a backoff or a pause without waiting seconds for it. (A request that is never
/// answered times out after 1 s here instead of 10; a backend that does not wait is read every
/// 50 ms instead of every 2 s.)
fn quick() -> Timing {
    Timing {
        request_timeout_ms: 1_000,
        retry_base_ms: 20,
        wait_secs: 25,
        pace: Pace { poll_ms: 50, max_backoff_ms: 200, waited_ms: 15_000.0 },
        tick_ms: 500,
    }
}

fn mount(attributes: &[(&str, &str)]) -> Mounted {
    mount_with(attributes, |_| {})
}

/// `mount`, with `before` called on the element before the widget connects to it.
fn mount_with(attributes: &[(&str, &str)], before: impl FnOnce(&HtmlElement)) -> Mounted {
    let document = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = document.create_element("wallet-checkout-test").unwrap().unchecked_into();
    for (name, value) in attributes {
        host.set_attribute(name, value).unwrap();
    }
    document.body().unwrap().append_child(&host).unwrap();
    before(&host);
    listen_events(&host);
    let widget = Widget::connect_with(host.clone(), quick());
    Mounted { host, widget: Some(widget) }
}

impl Mounted {
    fn events(&self) -> Vec<String> {
        event_types(&self.host).iter().filter_map(|v| v.as_string()).collect()
    }

    fn event(&self, kind: &str, key: &str) -> Option<String> {
        event_detail(&self.host, &format!("wallet-checkout:{kind}"), key)
    }
}

#[wasm_bindgen_test]
async fn it_mounts_and_lists_the_offered_wallets_by_name() {
    let backend = Backend::new("it_mounts_and_lists_the_offered_wallets_by_name");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
    let names: Vec<String> =
        widget.all("button.wc-wallet").iter().map(|b| b.text_content().unwrap().trim().to_owned()).collect();
    // The accessible name is the wallet's name (the mark beside it is aria-hidden).
    assert_eq!(names, ["WeChat Pay", "Alipay", "PayPal"]);
    for button in widget.all("button.wc-wallet") {
        let mark = button.query_selector(".wc-mark").unwrap().unwrap();
        assert_eq!(mark.get_attribute("aria-hidden").as_deref(), Some("true"));
    }
    assert_eq!(widget.find("[data-testid=amount]").unwrap().text_content().unwrap(), "CN¥68.00");
    assert!(widget.find("[data-testid=test-mode]").is_some());
    assert_eq!(widget.events(), ["wallet-checkout:ready"]);
    assert_eq!(widget.event("ready", "orderId").as_deref(), Some("ord_1"));
}

#[wasm_bindgen_test]
async fn it_draws_a_qr_code_with_a_quiet_zone_for_a_qr_action() {
    let backend = Backend::new("it_draws_a_qr_code_with_a_quiet_zone_for_a_qr_action");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 200, &session("pending", QR_ACTION));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the QR code", |w| w.find("[data-testid=qr]").is_some()).await;

    let svg = widget.find("[data-testid=qr]").unwrap();
    assert_eq!(svg.get_attribute("role").as_deref(), Some("img"));
    assert_eq!(svg.get_attribute("aria-label").as_deref(), Some("QR code to pay CN¥68.00 with WeChat Pay"));
    let modules: usize = svg.get_attribute("data-modules").unwrap().parse().unwrap();
    let side = modules + 8;
    assert_eq!(svg.get_attribute("viewBox").unwrap(), format!("0 0 {side} {side}"));
    let path = svg.query_selector("path").unwrap().unwrap().get_attribute("d").unwrap();
    assert!(path.starts_with("M4 4h"), "the code starts inside a four-module quiet zone: {path:.20}");
    assert!(widget.text().contains("Expires in 10:00") || widget.text().contains("Expires in 9:59"));
    assert_eq!(backend.count("POST /sessions"), 1);
    assert_eq!(widget.event("session-created", "sessionId").as_deref(), Some("ses_1"));
}

#[wasm_bindgen_test]
async fn a_second_click_while_starting_creates_no_second_session() {
    let backend = Backend::new("a_second_click_while_starting_creates_no_second_session");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 200, &session("pending", QR_ACTION));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    let button = widget.button("WeChat Pay").unwrap();
    button.click();
    button.click();
    widget.wait_for("the QR code", |w| w.find("[data-testid=qr]").is_some()).await;
    assert_eq!(backend.count("POST /sessions"), 1);
}

#[wasm_bindgen_test]
async fn it_says_paid_only_after_the_backend_says_succeeded() {
    let backend = Backend::new("it_says_paid_only_after_the_backend_says_succeeded");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    // A backend that does not wait answers at once: the widget reads again at its interval.
    for _ in 0..10 {
        backend.route("GET", "/sessions/ses_1", 200, &session("processing", "null"));
    }
    backend.route("GET", "/sessions/ses_1", 200, &session("succeeded", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the confirming state", |w| w.find("[data-testid=confirming]").is_some()).await;
    assert!(!widget.text().contains("Payment received"));
    assert!(!widget.events().contains(&"wallet-checkout:paid".to_owned()));
    widget.wait_for("the paid state", |w| w.text().contains("Payment received")).await;
    assert_eq!(widget.event("paid", "status").as_deref(), Some("succeeded"));
    assert_eq!(widget.event("paid", "sessionId").as_deref(), Some("ses_1"));
}

#[wasm_bindgen_test]
async fn a_missing_endpoint_is_explained_and_nothing_is_fetched() {
    fake_install();
    let widget = mount(&[("order", "ord_no_endpoint"), ("locale", "en")]);
    widget.wait_for("the configuration error", |w| w.find("[data-testid=config-error]").is_some()).await;
    let notice = widget.find("[data-testid=config-error]").unwrap();
    assert_eq!(notice.get_attribute("role").as_deref(), Some("alert"));
    assert!(notice.text_content().unwrap().contains("The endpoint attribute is missing"));
    assert_eq!(widget.event("error", "code").as_deref(), Some("config"));
    let all_calls: Vec<String> = fake_calls("").iter().filter_map(|v| v.as_string()).collect();
    assert!(!all_calls.iter().any(|call| call.contains("ord_no_endpoint")), "{all_calls:?}");
}

#[wasm_bindgen_test]
async fn a_bad_order_attribute_is_explained_as_text() {
    let widget = mount(&[("endpoint", "/fake-bad-order"), ("order", "<img src=x>"), ("locale", "en")]);
    widget.wait_for("the configuration error", |w| w.find("[data-testid=config-error]").is_some()).await;
    assert!(widget.text().contains("not a valid order id: “<img src=x>”"));
    assert!(widget.find("img").is_none(), "attribute text is never parsed as HTML");
}

#[wasm_bindgen_test]
async fn an_unusable_endpoint_is_explained() {
    let widget = mount(&[("endpoint", "javascript:alert(1)"), ("order", "ord_1"), ("locale", "en")]);
    widget.wait_for("the configuration error", |w| w.find("[data-testid=config-error]").is_some()).await;
    assert_eq!(
        widget.find("[data-testid=config-error]").unwrap().get_attribute("data-attribute").as_deref(),
        Some("endpoint")
    );
}

#[wasm_bindgen_test]
async fn a_malformed_order_answer_is_an_error_with_a_retry() {
    let backend = Backend::new("a_malformed_order_answer_is_an_error_with_a_retry");
    backend.route("GET", "/orders/ord_1", 200, "{\"order\": 42");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    let widget = backend.mount("en");
    widget.wait_for("the error", |w| w.find("[data-testid=error]").is_some()).await;
    assert!(widget.text().contains("an answer that could not be read"));
    assert_eq!(widget.event("error", "code").as_deref(), Some("bad_answer"));
    widget.button("Try again").unwrap().click();
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
}

#[wasm_bindgen_test]
async fn text_from_the_network_is_rendered_as_text() {
    let backend = Backend::new("text_from_the_network_is_rendered_as_text");
    let hostile = ORDER
        .replace("Jasmine tea", "<img src=x onerror=alert(1)>")
        .replace("\"WeChat Pay\"", "\"<b>WeChat</b>\"");
    backend.route("GET", "/orders/ord_1", 200, &hostile);
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
    assert!(widget.text().contains("<img src=x onerror=alert(1)>"));
    assert!(widget.text().contains("<b>WeChat</b>"));
    assert!(widget.find("img").is_none() && widget.find("b").is_none());
}

#[wasm_bindgen_test]
async fn the_locale_attribute_chooses_simplified_chinese() {
    let backend = Backend::new("the_locale_attribute_chooses_simplified_chinese");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    // As the bundle ships it: the texts in key order (scripts/bundle.mjs).
    let texts: std::collections::BTreeMap<String, String> =
        serde_json::from_str(include_str!("../locales/zh-CN.json")).unwrap();
    let shipped = serde_json::to_string(&texts.values().collect::<Vec<_>>()).unwrap();
    assert!(wallet_checkout::i18n::install_json(wallet_checkout::i18n::Locale::ZhCn, &shipped));
    let widget = backend.mount("zh-CN");
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
    assert!(widget.text().contains("选择付款方式"));
    assert_eq!(widget.find(".wc-root").unwrap().get_attribute("lang").as_deref(), Some("zh-CN"));
    assert_eq!(widget.find("[data-testid=amount]").unwrap().text_content().unwrap(), "¥68.00");
}

#[wasm_bindgen_test]
async fn removing_the_widget_stops_tracking() {
    let backend = Backend::new("removing_the_widget_stops_tracking");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 200, &session("pending", QR_ACTION));
    let mut widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the QR code", |w| w.find("[data-testid=qr]").is_some()).await;
    // The backend answers at once, so the widget reads the session every 50 ms (`quick`) ...
    let reading = backend.count("GET /sessions/ses_1");
    wait_until("the widget reads while it is mounted", || {
        backend.count("GET /sessions/ses_1") >= reading + 3
    })
    .await;
    // ... and not once in ten of those intervals after it is removed.
    widget.widget.take();
    let before = backend.calls().len();
    sleep(Duration::from_millis(500)).await;
    assert_eq!(backend.calls().len(), before, "no request after removal");
    assert!(widget.find("[data-testid=qr]").is_none(), "the view is unmounted");
}

#[wasm_bindgen_test]
async fn the_custom_element_mounts_from_its_attributes_and_follows_their_changes() {
    let backend = Backend::new("the_custom_element");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("GET", "/orders/ord_2", 200, &ORDER.replace("ord_1", "ord_2").replace("6800", "1200"));
    wallet_checkout::element::define();
    assert!(!wallet_checkout::element::define(), "a second definition is refused quietly");

    let document = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = document.create_element("wallet-checkout").unwrap().unchecked_into();
    host.set_attribute("endpoint", &backend.prefix).unwrap();
    host.set_attribute("order", "ord_1").unwrap();
    host.set_attribute("locale", "en").unwrap();
    document.body().unwrap().append_child(&host).unwrap();
    let element = Mounted { host: host.clone(), widget: None };
    element
        .wait_for("the first order", |w| {
            w.find("[data-testid=amount]").map(|a| a.text_content().unwrap()) == Some("CN¥68.00".into())
        })
        .await;

    host.set_attribute("order", "ord_2").unwrap();
    element
        .wait_for("the second order", |w| {
            w.find("[data-testid=amount]").map(|a| a.text_content().unwrap()) == Some("CN¥12.00".into())
        })
        .await;
    assert_eq!(backend.count("GET /orders/ord_2"), 1);
}

#[wasm_bindgen_test]
async fn a_retry_after_a_lost_answer_reuses_the_idempotency_key() {
    let backend = Backend::new("retry_reuses_key");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 0, "");
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 200, &session("pending", QR_ACTION));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the QR code", |w| w.find("[data-testid=qr]").is_some()).await;
    let keys = backend.session_keys();
    assert_eq!(keys.len(), 2, "one failed attempt, one retry: {keys:?}");
    assert_eq!(keys[0], keys[1], "the retry carries the same key");
    assert_eq!(keys[0].len(), 32, "a 128-bit random key");
}

#[wasm_bindgen_test]
async fn a_request_without_an_answer_times_out_and_is_retried() {
    let backend = Backend::new("timeout");
    backend.route("GET", "/orders/ord_1", 1, "");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    let widget = backend.mount("en");
    widget.wait_for("the first request", |_| backend.count("GET /orders/ord_1") == 1).await;
    assert!(backend.aborted().is_empty(), "not given up at once");
    // The configured timeout is 1 s (`quick`): the unanswered request is aborted and tried again.
    widget.wait_long("the wallet list after the timeout", |w| w.all("button.wc-wallet").len() == 3).await;
    assert_eq!(backend.aborted(), ["GET /orders/ord_1"], "the request that never answered was abandoned");
    assert_eq!(backend.count("GET /orders/ord_1"), 2);
}

/// A widget removed from the page while a payment is open, and put back (a framework that moves
/// the element, a tab of the page's own), picks the same session up and reports the payment.
#[wasm_bindgen_test]
async fn a_widget_removed_and_added_back_during_a_payment_picks_it_up_and_fires_paid() {
    let backend = Backend::new("removed_and_added_back");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 200, &session("pending", QR_ACTION));
    wallet_checkout::element::define();
    let document = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = document.create_element("wallet-checkout").unwrap().unchecked_into();
    for (name, value) in [("endpoint", backend.prefix.as_str()), ("order", "ord_1"), ("locale", "en")] {
        host.set_attribute(name, value).unwrap();
    }
    listen_events(&host);
    document.body().unwrap().append_child(&host).unwrap();
    let element = Mounted { host: host.clone(), widget: None };
    element.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    element.button("WeChat Pay").unwrap().click();
    element.wait_for("the QR code", |w| w.find("[data-testid=qr]").is_some()).await;

    host.remove();
    element.wait_for("the widget to stop", |w| w.find("[data-testid=qr]").is_none()).await;
    // Paid on the phone while the widget was away: the next read after the pick-up says so.
    backend.route("GET", "/sessions/ses_1", 200, &session("succeeded", "null"));
    let reads = backend.count("GET /sessions/ses_1");
    document.body().unwrap().append_child(&host).unwrap();

    element.wait_for("the paid screen", |w| w.text().contains("Payment received")).await;
    assert_eq!(backend.count("POST /sessions"), 1, "the session was picked up, not created again");
    assert!(backend.count("GET /sessions/ses_1") > reads, "read again after the widget came back");
    assert_eq!(element.events().iter().filter(|e| *e == "wallet-checkout:paid").count(), 1);
    assert_eq!(element.event("paid", "sessionId").as_deref(), Some("ses_1"));
}

#[wasm_bindgen_test]
async fn malformed_status_answers_show_a_notice_while_tracking_goes_on() {
    let backend = Backend::new("malformed_status");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    for _ in 0..4 {
        backend.route("GET", "/sessions/ses_1", 200, "<html>oops</html>");
        backend.route("GET", "/sessions/ses_1", 200, r#"{"id":"ses_1","status":"paid"}"#);
    }
    backend.route("GET", "/sessions/ses_1", 200, &session("succeeded", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget
        .wait_long("the unexpected-answer notice", |w| {
            w.find("[data-testid=notice]")
                .and_then(|n| n.text_content())
                .unwrap_or_default()
                .contains("unexpected answer")
        })
        .await;
    assert!(widget.find("[data-testid=qr]").is_some(), "the QR code stays while tracking goes on");
    widget.wait_long("the paid state", |w| w.text().contains("Payment received")).await;
    let notice = widget.find("[data-testid=notice]").and_then(|n| n.text_content()).unwrap_or_default();
    assert_eq!(notice, "", "the notice clears");
}

/// The runs of digits (with their grouping and decimal marks) in `text`, as an English locale
/// writes numbers.
fn numbers(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .map(|run| run.trim_matches(|c: char| !c.is_ascii_digit()).to_owned())
        .filter(|run| !run.is_empty())
        .collect()
}

/// `1234567.89` as English writes it: `1,234,567.89`.
fn grouped(decimal: &str) -> String {
    let (whole, fraction) = decimal.split_once('.').map_or((decimal, None), |(w, f)| (w, Some(f)));
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// Regression test for amounts shown 100 or 1000 times off: `Intl` (CLDR) and ISO 4217 disagree
/// on the minor unit of some currencies, and the contract's minor units follow ISO 4217.
#[wasm_bindgen_test]
fn amounts_show_exactly_the_iso_4217_minor_digits_of_every_currency() {
    let mut currencies: Vec<Currency> = Currency::all().filter(|c| c.exponent() != 2).collect();
    assert!(currencies.len() > 20, "currencies whose minor unit is not 2 digits: {}", currencies.len());
    // Two-digit currencies that Intl shows without decimals.
    currencies.extend(["HUF", "IDR", "COP"].map(|code| Currency::parse(code).unwrap()));
    let mut wrong = Vec::new();
    for currency in currencies {
        // The largest amount a JavaScript number holds exactly: no float division may round it.
        for minor_units in [0, 5, 6_800, 123_456_789, 9_007_199_254_740_991] {
            let amount = Amount::new(minor_units, currency).unwrap();
            let shown = wallet_checkout::browser::format_money(&amount, "en");
            let expected = grouped(&amount.to_decimal_string());
            if numbers(&shown) != [expected.clone()] {
                wrong.push(format!("{currency} {minor_units}: {shown:?}, expected {expected}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} amounts shown wrong:\n{}", wrong.len(), wrong.join("\n"));
}

#[wasm_bindgen_test]
async fn a_forint_order_is_shown_with_its_iso_4217_minor_digits() {
    let backend = Backend::new("a_forint_order_is_shown_with_its_iso_4217_minor_digits");
    backend.route("GET", "/orders/ord_1", 200, &ORDER.replace("CNY", "HUF"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
    let amount = widget.find("[data-testid=amount]").unwrap().text_content().unwrap();
    assert_eq!(numbers(&amount), ["68.00"], "6800 minor units of HUF are 68.00 forints: {amount}");
}

/// Regression test: a backend that answered session creation with another order's (or another
/// wallet's, or another amount's) session made the widget say "Payment received".
#[wasm_bindgen_test]
async fn a_created_session_that_is_not_the_one_asked_for_is_a_bad_answer_not_a_payment() {
    for (name, wrong) in [
        ("order", session("succeeded", "null").replace("\"ord_1\"", "\"ord_other\"")),
        ("wallet", session("succeeded", "null").replace("\"wechat_pay\"", "\"alipay\"")),
        ("amount", session("succeeded", "null").replace("6800", "1")),
    ] {
        let backend = Backend::new(&format!("created_session_for_another_{name}"));
        backend.route("GET", "/orders/ord_1", 200, ORDER);
        backend.route("POST", "/sessions", 201, &wrong);
        let widget = backend.mount("en");
        widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
        widget.button("WeChat Pay").unwrap().click();
        widget.wait_for("the bad-answer error", |w| w.event("error", "code").is_some()).await;
        assert_eq!(widget.event("error", "code").as_deref(), Some("bad_answer"), "{name}");
        assert!(widget.text().contains("an answer that could not be read"), "{name}");
        assert!(!widget.text().contains("Payment received"), "{name}");
        assert!(!widget.events().contains(&"wallet-checkout:paid".to_owned()), "{name}");
        assert_eq!(
            backend.remembered(),
            None,
            "{name}: a session that is not this order's is not remembered"
        );
        assert!(widget.button("WeChat Pay").is_some(), "{name}: the shopper can choose again");
    }
}

/// Regression test: a waiting read that answered `succeeded` for another order made the widget
/// say "Payment received" for this one.
#[wasm_bindgen_test]
async fn a_waiting_read_about_another_order_is_an_unexpected_answer_and_tracking_goes_on() {
    let backend = Backend::new("a_waiting_read_about_another_order");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    for _ in 0..8 {
        backend.route(
            "GET",
            "/sessions/ses_1",
            200,
            &session("succeeded", "null").replace("\"ord_1\"", "\"ord_other\""),
        );
    }
    backend.route("GET", "/sessions/ses_1", 200, &session("succeeded", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget
        .wait_for("the unexpected-answer notice", |w| {
            w.find("[data-testid=notice]")
                .and_then(|n| n.text_content())
                .unwrap_or_default()
                .contains("unexpected answer")
        })
        .await;
    assert!(!widget.events().contains(&"wallet-checkout:paid".to_owned()));
    assert!(widget.find("[data-testid=qr]").is_some(), "the QR code stays while tracking goes on");
    widget.wait_long("the paid state", |w| w.text().contains("Payment received")).await;
    assert_eq!(widget.events().iter().filter(|e| *e == "wallet-checkout:paid").count(), 1);
}

#[wasm_bindgen_test]
async fn an_order_answer_about_another_order_is_a_bad_answer() {
    let backend = Backend::new("an_order_answer_about_another_order_is_a_bad_answer");
    backend.route("GET", "/orders/ord_1", 200, &ORDER.replace("\"ord_1\"", "\"ord_2\""));
    let widget = backend.mount("en");
    widget.wait_for("the error", |w| w.find("[data-testid=error]").is_some()).await;
    assert_eq!(widget.event("error", "code").as_deref(), Some("bad_answer"));
    assert!(widget.button("WeChat Pay").is_none(), "no wallet of another order is offered");
}

/// Regression test: one failed read of the remembered session after a reload forgot the session,
/// so a payment made on the phone meanwhile was never reported.
#[wasm_bindgen_test]
async fn a_failed_read_after_a_reload_keeps_the_session_and_tries_again() {
    let backend = Backend::new("a_failed_read_after_a_reload_keeps_the_session");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    // Each read is tried three times: three reads that fail.
    for _ in 0..9 {
        backend.route("GET", "/sessions/ses_1", 503, r#"{"error":{"code":"internal","message":"x"}}"#);
    }
    backend.route("GET", "/sessions/ses_1", 200, &session("succeeded", "null"));
    backend.remember("ses_1");
    let widget = backend.mount("en");
    widget
        .wait_for("the reconnecting notice", |w| {
            w.find("[data-testid=notice]")
                .and_then(|n| n.text_content())
                .unwrap_or_default()
                .contains("Connection lost")
        })
        .await;
    assert!(widget.button("WeChat Pay").is_none(), "no wallet list while the session may still be paid");
    assert!(widget.button("Choose another wallet").is_some(), "a way forward while it retries");
    assert_eq!(backend.remembered().map(|s| s.to_string()).as_deref(), Some("ses_1"));
    widget.wait_long("the paid state", |w| w.text().contains("Payment received")).await;
    assert_eq!(widget.event("paid", "sessionId").as_deref(), Some("ses_1"));
    assert_eq!(backend.count("POST /sessions"), 0, "no second session");
}

#[wasm_bindgen_test]
async fn choosing_another_wallet_while_a_reload_retries_cancels_the_remembered_session() {
    let backend = Backend::new("choosing_another_wallet_while_a_reload_retries");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("GET", "/sessions/ses_1", 200, "<html>Bad gateway</html>");
    backend.route("POST", "/sessions/ses_1/cancel", 200, &session("canceled", "null"));
    backend.remember("ses_1");
    let widget = backend.mount("en");
    widget.wait_for("the way forward", |w| w.button("Choose another wallet").is_some()).await;
    let notice = widget.find("[data-testid=notice]").and_then(|n| n.text_content()).unwrap_or_default();
    assert!(notice.contains("unexpected answer"), "{notice}");
    widget.button("Choose another wallet").unwrap().click();
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget
        .wait_for("the cancel", |w| {
            backend.count("POST /sessions/ses_1/cancel") == 1 && w.button("WeChat Pay").is_some()
        })
        .await;
    assert_eq!(backend.remembered(), None);
}

#[wasm_bindgen_test]
async fn a_remembered_session_the_backend_does_not_know_is_forgotten() {
    let backend = Backend::new("a_remembered_session_the_backend_does_not_know");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.remember("ses_1");
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    assert_eq!(backend.count("GET /sessions/ses_1"), 1, "a definite not_found is not retried");
    assert_eq!(backend.remembered(), None);
}

/// Regression test: a QR payload too long to draw showed only the code's text alternative.
#[wasm_bindgen_test]
async fn a_qr_code_too_long_to_draw_is_explained_with_a_way_forward() {
    let action = format!(r#"{{"type":"qr","payload":"https://pay.example/{}"}}"#, "x".repeat(5_000));
    let backend = Backend::new("a_qr_code_too_long_to_draw");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", &action));
    backend.route("POST", "/sessions/ses_1/cancel", 200, &session("canceled", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the explanation", |w| w.text().contains("QR code is too long")).await;
    assert_eq!(widget.event("error", "code").as_deref(), Some("qr_too_long"));
    assert!(widget.button("Alipay").is_some(), "another wallet can be chosen");
    widget.wait_for("the cancel", |_| backend.count("POST /sessions/ses_1/cancel") == 1).await;
}

/// Regression test: an untrusted redirect or a QR payload too long to draw met after a reload
/// canceled and forgot the session, although the shopper may already have its code on their
/// phone. It is explained, still followed, and canceled only if the shopper chooses another wallet.
#[wasm_bindgen_test]
async fn an_unusable_session_after_a_reload_is_explained_and_followed_until_the_shopper_moves_on() {
    let long_qr = format!(r#"{{"type":"qr","payload":"weixin://{}"}}"#, "x".repeat(5_000));
    for (name, action, words, code) in [
        (
            "untrusted",
            r#"{"type":"redirect","url":"http://evil.example/pay"}"#.to_owned(),
            "could not be trusted",
            "untrusted_redirect",
        ),
        (
            "script",
            r#"{"type":"redirect","url":"javascript:alert(1)"}"#.to_owned(),
            "could not be trusted",
            "untrusted_redirect",
        ),
        ("too_long", long_qr, "QR code is too long", "qr_too_long"),
    ] {
        let backend = Backend::new(&format!("an_unusable_session_after_a_reload_{name}"));
        backend.route("GET", "/orders/ord_1", 200, ORDER);
        backend.route("GET", "/sessions/ses_1", 200, &session("pending", &action));
        backend.route("POST", "/sessions/ses_1/cancel", 200, &session("canceled", "null"));
        backend.remember("ses_1");
        let widget = backend.mount("en");
        widget.wait_for("the explanation", |w| w.text().contains(words)).await;
        assert_eq!(widget.event("error", "code").as_deref(), Some(code), "{name}");
        assert!(widget.text().contains("Checking the payment you started"), "{name}: still followed");
        assert!(widget.button("PayPal").is_none(), "{name}: no wallet list while the session may be paid");
        widget.wait_for("the waiting read", |_| backend.count("GET /sessions/ses_1") >= 2).await;
        assert_eq!(backend.count("POST /sessions/ses_1/cancel"), 0, "{name}: not canceled");
        assert_eq!(backend.remembered().map(|s| s.to_string()).as_deref(), Some("ses_1"), "{name}");
        widget.button("Choose another wallet").unwrap().click();
        widget
            .wait_for("the cancel", |w| {
                backend.count("POST /sessions/ses_1/cancel") == 1 && w.button("PayPal").is_some()
            })
            .await;
        assert_eq!(backend.remembered(), None, "{name}");
    }
}

/// Regression test: a cancel that failed was never tried again, so the abandoned session stayed
/// payable until it expired.
#[wasm_bindgen_test]
async fn a_failed_cancel_is_tried_again_until_the_backend_answers() {
    let backend = Backend::new("a_failed_cancel_is_tried_again");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 200, &session("pending", QR_ACTION));
    let unavailable = r#"{"error":{"code":"internal","message":"x"}}"#;
    backend.route("POST", "/sessions/ses_1/cancel", 503, unavailable);
    backend.route("POST", "/sessions/ses_1/cancel", 0, "");
    backend.route("POST", "/sessions/ses_1/cancel", 503, unavailable);
    backend.route("POST", "/sessions/ses_1/cancel", 200, &session("canceled", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the QR code", |w| w.find("[data-testid=qr]").is_some()).await;
    widget.button("Choose another wallet").unwrap().click();
    widget.wait_long("the fourth cancel", |_| backend.count("POST /sessions/ses_1/cancel") == 4).await;
}

/// Regression test: cancels were sent with `keepalive`, which Chromium does not abort (the promise
/// is rejected, the request stays open), so one that hung held a connection to the backend for as
/// long as the page lived and was tried again while open. A cancel is an ordinary request, which
/// its deadline aborts, with a copy the browser sends only if the page is left meanwhile.
#[wasm_bindgen_test]
async fn a_cancel_is_aborted_at_its_deadline_and_leaves_a_copy_only_for_leaving_the_page() {
    let backend = Backend::new("a_cancel_is_aborted_at_its_deadline");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 200, &session("pending", QR_ACTION));
    backend.route("POST", "/sessions/ses_1/cancel", 1, "");
    backend.route("POST", "/sessions/ses_1/cancel", 200, &session("canceled", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the QR code", |w| w.find("[data-testid=qr]").is_some()).await;
    widget.button("Choose another wallet").unwrap().click();
    let cancel = "POST /sessions/ses_1/cancel";
    widget.wait_for("the cancel", |_| backend.count(cancel) == 1).await;
    assert!(!backend.kept_alive().iter().any(|c| c == cancel), "not sent with keepalive");
    assert!(backend.deferred().iter().any(|c| c == cancel), "a copy is left for leaving the page");
    widget.wait_long("the second cancel", |_| backend.count(cancel) == 2).await;
    assert!(backend.aborted().iter().any(|c| c == cancel), "the first was aborted at its deadline");
    let count = |list: Vec<String>| list.iter().filter(|c| *c == cancel).count();
    widget.wait_for("both copies withdrawn", |_| count(backend.withdrawn()) == 2).await;
    assert_eq!(count(backend.deferred()), 2);
}

/// Regression test: the abandoned session's waiting read stayed open at the server after the
/// shopper chose another wallet.
#[wasm_bindgen_test]
async fn choosing_another_wallet_aborts_the_abandoned_waiting_read() {
    let backend = Backend::new("choosing_another_wallet_aborts_the_waiting_read");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 201, &session("pending", QR_ACTION));
    backend.route("GET", "/sessions/ses_1", 1, "");
    backend.route("POST", "/sessions/ses_1/cancel", 200, &session("canceled", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the waiting read", |_| backend.count("GET /sessions/ses_1") == 1).await;
    assert!(backend.aborted().is_empty());
    widget.button("Choose another wallet").unwrap().click();
    widget.wait_for("the abort", |_| backend.aborted() == ["GET /sessions/ses_1"]).await;
}

#[wasm_bindgen_test]
async fn a_session_still_being_created_when_the_shopper_goes_back_is_canceled() {
    let backend = Backend::new("a_session_still_being_created_when_the_shopper_goes_back");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    backend.route("POST", "/sessions", 1201, &session("pending", QR_ACTION));
    backend.route("POST", "/sessions/ses_1/cancel", 200, &session("canceled", "null"));
    let widget = backend.mount("en");
    widget.wait_for("the wallet list", |w| w.button("WeChat Pay").is_some()).await;
    widget.button("WeChat Pay").unwrap().click();
    widget.wait_for("the way back", |w| w.button("Choose another wallet").is_some()).await;
    widget.button("Choose another wallet").unwrap().click();
    widget.wait_for("the cancel", |_| backend.count("POST /sessions/ses_1/cancel") == 1).await;
    assert!(backend.aborted().is_empty(), "the creation was not cut off: {:?}", backend.aborted());
    assert!(widget.find("[data-testid=qr]").is_none(), "the abandoned session is not shown");
    assert!(widget.button("WeChat Pay").is_some());
}

#[wasm_bindgen_test]
async fn an_order_read_the_loader_began_is_taken_over_and_not_sent_again() {
    let backend = Backend::new("begun_read_taken_over");
    let mut widget = backend.mount_after_begun_read("ord_1", 200, ORDER);
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
    assert_eq!(backend.count("GET /orders/ord_1"), 0, "the loader's answer was used");

    // Starting over (an attribute changed) reads the order afresh.
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    widget.widget.as_mut().unwrap().refresh();
    widget.wait_for("a fresh read", |_| backend.count("GET /orders/ord_1") == 1).await;
    widget.wait_for("the wallet list again", |w| w.all("button.wc-wallet").len() == 3).await;
}

#[wasm_bindgen_test]
async fn a_read_the_loader_began_for_another_order_is_aborted_and_not_used() {
    let backend = Backend::new("begun_read_other_order");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    let other = ORDER.replace("ord_1", "ord_9").replace("Jasmine tea", "Another order");
    let widget = backend.mount_after_begun_read("ord_9", 200, &other);
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
    assert!(widget.text().contains("Jasmine tea"), "{}", widget.text());
    assert!(!widget.text().contains("Another order"));
    assert_eq!(backend.count("GET /orders/ord_1"), 1);
    assert_eq!(backend.begun_aborted(), ["/orders/ord_9"]);
}

#[wasm_bindgen_test]
async fn the_failure_of_a_read_the_loader_began_is_the_first_attempts() {
    // A final answer is shown without asking again.
    let backend = Backend::new("begun_read_not_found");
    let body = r#"{"error":{"code":"not_found","message":"no such order"}}"#;
    let widget = backend.mount_after_begun_read("ord_1", 404, body);
    widget.wait_for("the error", |w| w.event("error", "code").is_some()).await;
    assert_eq!(widget.event("error", "code").as_deref(), Some("not_found"));
    sleep(Duration::from_millis(200)).await;
    assert_eq!(backend.count("GET /orders/ord_1"), 0);

    // A network failure is tried again, as a first attempt that failed is.
    let backend = Backend::new("begun_read_network");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    let widget = backend.mount_after_begun_read("ord_1", 0, "");
    widget.wait_for("the wallet list", |w| w.all("button.wc-wallet").len() == 3).await;
    assert_eq!(backend.count("GET /orders/ord_1"), 1, "one retry");
}

#[wasm_bindgen_test]
async fn a_read_the_loader_began_that_hangs_is_aborted_at_the_deadline_and_tried_again() {
    let backend = Backend::new("begun_read_hangs");
    backend.route("GET", "/orders/ord_1", 200, ORDER);
    let widget = backend.mount_after_begun_read("ord_1", 1, "");
    sleep(Duration::from_millis(300)).await;
    assert!(backend.begun_aborted().is_empty(), "not given up at once");
    assert_eq!(backend.count("GET /orders/ord_1"), 0);
    // The configured timeout is 1 s (`quick`).
    widget.wait_long("the wallet list after the timeout", |w| w.all("button.wc-wallet").len() == 3).await;
    assert_eq!(backend.begun_aborted(), ["/orders/ord_1"]);
    assert_eq!(backend.count("GET /orders/ord_1"), 1);
}
