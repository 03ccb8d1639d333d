//! The audit log (admin): who changed what and when, staff by their name and keys by theirs,
//! searched by person, action, target and dates, with the search in the query string.

use super::super::{
    auth::Staff,
    i18n::Lang,
    layout::{scroll_region, Notice},
};
use super::{daily, forbidden, internal_error, respond};
use crate::{db::AuditFilter, domain::Role, state::AppState};
use axum::{
    extract::{Query, State},
    response::Response,
};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/audit";
const MAX_TEXT_CHARS: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    person: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<String>,
}

impl AuditQuery {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("person", self.person.as_str()),
            ("action", self.action.as_str()),
            ("target", self.target.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ]
    }

    fn parse(&self, lang: Lang) -> Result<(AuditFilter, i64), String> {
        let text = |value: &str| {
            let value = value.trim();
            if value.chars().count() > MAX_TEXT_CHARS {
                Err(lang.tf("orders.bad_text", &[("max", &MAX_TEXT_CHARS.to_string())]))
            } else {
                Ok((!value.is_empty()).then(|| value.to_owned()))
            }
        };
        let from = daily::parse_day(&self.from).map_err(|_| lang.t("orders.bad_date"))?;
        let to = daily::parse_day(&self.to).map_err(|_| lang.t("orders.bad_date"))?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(lang.t("orders.bad_range"));
            }
        }
        let page = daily::parse_page(self.page.as_deref()).map_err(|_| lang.t("orders.bad_page"))?;
        Ok((
            AuditFilter {
                person: text(&self.person)?,
                action: text(&self.action)?,
                target: text(&self.target)?,
                from,
                to: to.map(|to| to + daily::DAY_MS),
            },
            page,
        ))
    }
}

fn form(lang: Lang, query: &AuditQuery) -> Markup {
    let t = |key: &str| lang.t(key);
    html! {
        form.filters method="get" action=(PATH) role="search" aria-label=(t("audit.search")) {
            div.field {
                label for="person" { (t("audit.person")) }
                input #person type="search" name="person" value=(query.person) autocomplete="off";
            }
            div.field {
                label for="action" { (t("audit.action")) }
                input #action type="search" name="action" value=(query.action) autocomplete="off" aria-describedby="action-hint";
                span #action-hint.hint { (t("audit.action_hint")) }
            }
            div.field {
                label for="target" { (t("audit.target")) }
                input #target type="search" name="target" value=(query.target) autocomplete="off";
            }
            div.field {
                label for="from" { (t("orders.from")) }
                input #from type="date" name="from" value=(query.from);
            }
            div.field {
                label for="to" { (t("orders.to")) }
                input #to type="date" name="to" value=(query.to);
            }
            div.filters__actions {
                button.button type="submit" { (t("orders.search_button")) }
                a.button.button--quiet href=(PATH) { (t("orders.clear")) }
            }
        }
    }
}

/// `GET /console/audit` (admin).
pub async fn show(State(state): State<AppState>, staff: Staff, Query(query): Query<AuditQuery>) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let (filter, page) = match query.parse(lang) {
        Ok(parsed) => parsed,
        Err(message) => {
            let body = html! { section.card { (form(lang, &query)) } };
            return respond(&state, &staff, PATH, &t("audit.title"), Some(Notice::Problem(message)), body);
        }
    };
    let mut entries =
        match state.db.search_audit(&filter, daily::PAGE_SIZE + 1, (page - 1) * daily::PAGE_SIZE).await {
            Ok(entries) => entries,
            Err(error) => return internal_error(lang, error),
        };
    let has_more = entries.len() as i64 > daily::PAGE_SIZE;
    entries.truncate(daily::PAGE_SIZE as usize);
    let body = html! {
        section.card { (form(lang, &query)) }
        section aria-labelledby="entries" {
            h2 #entries { (t("audit.entries")) }
            @if entries.is_empty() {
                p data-testid="no-entries" { (t("audit.none")) }
            } @else {
                (scroll_region(&t("audit.entries"), html! {
                    table.table data-testid="audit" {
                        thead { tr {
                            th scope="col" { (t("audit.when")) }
                            th scope="col" { (t("audit.person")) }
                            th scope="col" { (t("audit.action")) }
                            th scope="col" { (t("audit.target")) }
                            th scope="col" { (t("audit.detail")) }
                        } }
                        tbody {
                            @for entry in &entries {
                                tr data-testid="audit-row" {
                                    td { (lang.datetime(entry.at)) }
                                    td { (entry.actor_name) br; span.hint { code { (entry.actor_id) } } }
                                    td { code { (entry.action) } }
                                    td { code { (entry.target) } }
                                    td.detail { code { (entry.detail) } }
                                }
                            }
                        }
                    }
                }))
            }
            (daily::pager(lang, PATH, &query.pairs(), page, has_more))
        }
    };
    respond(&state, &staff, PATH, &t("audit.title"), None, body)
}
