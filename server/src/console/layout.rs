//! The frame of every console page: a skip link, the header with the mode and who is signed in,
//! the navigation (only what the member's role may open), the notice of the last action, and
//! the page itself. Pages are built with maud (escaped by default) under the strict
//! Content-Security-Policy: styles and the one script come from files.

use super::{auth::Staff, i18n::Lang};
use crate::domain::Role;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// An entry of the navigation: its path, its label's key, and the role it needs.
pub struct NavItem {
    pub path: &'static str,
    pub label: &'static str,
    pub role: Role,
}

/// The console's sections, in the order of the navigation.
pub const NAV: &[NavItem] = &[
    NavItem { path: "/console", label: "nav.overview", role: Role::Viewer },
    NavItem { path: "/console/orders", label: "nav.orders", role: Role::Viewer },
    NavItem { path: "/console/business", label: "business.nav", role: Role::Viewer },
    NavItem { path: "/console/alerts", label: "alerts.nav", role: Role::Viewer },
    NavItem { path: "/console/setup", label: "nav.setup", role: Role::Admin },
    NavItem { path: "/console/keys", label: "nav.keys", role: Role::Admin },
    NavItem { path: "/console/webhooks", label: "nav.webhooks", role: Role::Admin },
    NavItem { path: "/console/backups", label: "backups.nav", role: Role::Viewer },
    NavItem { path: "/console/audit", label: "nav.audit", role: Role::Admin },
    NavItem { path: "/console/counters", label: "nav.counters", role: Role::Admin },
    NavItem { path: "/console/staff", label: "nav.staff", role: Role::Admin },
    NavItem { path: "/console/account", label: "nav.account", role: Role::Viewer },
];

/// A short message about what the last action did.
pub enum Notice {
    Done(String),
    Problem(String),
}

/// What every page knows: who is looking (if anyone), in which language, and the mode.
pub struct Frame<'a> {
    pub staff: Option<&'a Staff>,
    pub lang: Lang,
    pub live: bool,
    /// The path of the page, to mark its section in the navigation.
    pub path: &'a str,
}

/// A complete page.
pub fn page(frame: &Frame, title: &str, notice: Option<Notice>, body: Markup) -> String {
    let lang = frame.lang;
    let t = |key: &str| lang.t(key);
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (t("app.title")) }
                link rel="stylesheet" href="/static/console.css";
                script src="/static/console.js" defer {}
            }
            body {
                a.skip href="#main" { (t("app.skip")) }
                header.top {
                    span.top__title { (t("app.title")) }
                    @if frame.live {
                        span.mode.mode--live { (t("app.mode.live")) }
                    } @else {
                        span.mode { (t("app.mode.test")) }
                    }
                    @if let Some(staff) = frame.staff {
                        span.top__who data-testid="who" {
                            (lang.tf("app.signed_in_as", &[("name", &staff.record.name), ("role", &t(&format!("role.{}", staff.role)))]))
                        }
                        form.top__out method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(staff.csrf);
                            button.link type="submit" { (t("app.sign_out")) }
                        }
                    }
                }
                @if let Some(staff) = frame.staff {
                    nav.nav aria-label=(t("nav.label")) {
                        ul {
                            @for item in NAV.iter().filter(|item| staff.may(item.role)) {
                                @let current = frame.path == item.path || (item.path != "/console" && frame.path.starts_with(item.path));
                                li {
                                    a href=(item.path) aria-current=[current.then_some("page")] { (t(item.label)) }
                                }
                            }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    @match notice {
                        Some(Notice::Done(text)) => p.notice role="status" data-testid="notice" { (text) },
                        Some(Notice::Problem(text)) => p.notice.notice--problem role="alert" data-testid="problem" { (text) },
                        None => {},
                    }
                    (body)
                }
            }
        }
    }
    .into_string()
}

/// A hidden field with the session's CSRF token, for every form that changes something.
pub fn csrf_field(staff: &Staff) -> Markup {
    html! { input type="hidden" name="csrf" value=(staff.csrf); }
}

/// A value with a copy button (the button needs the console's script; the value can always be
/// selected by hand).
pub fn copyable(lang: Lang, id: &str, value: &str) -> Markup {
    html! {
        span.copy {
            code #(id) { (value) }
            button.button.button--quiet type="button" data-copy=(id) data-copied=(lang.t("common.copied")) { (lang.t("common.copy")) }
        }
    }
}

/// A wide table (or anything wide) that scrolls sideways on a small screen: a labelled region
/// that takes keyboard focus, so it can be scrolled without a mouse.
pub fn scroll_region(label: &str, content: Markup) -> Markup {
    html! { div.scroll tabindex="0" role="region" aria-label=(label) { (content) } }
}

/// Inline SVG built by the server (charts, QR codes), already escaped where it holds data.
pub fn svg(markup: String) -> Markup {
    PreEscaped(markup)
}
