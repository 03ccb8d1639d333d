//! Locations and counters (admin): the shops a merchant takes payments in and the tills in each,
//! with the numbers the wallets know them by (WeChat Pay's shop number, a till's device number).
//! What makes a name or a number is `domain::counter`'s; every change is in the audit log.

use super::super::{
    auth::Staff,
    layout::{csrf_field, scroll_region, Notice},
};
use super::{audit, check_form, forbidden, internal_error, respond};
use crate::{
    db::{CounterRecord, LocationRecord, Place, PlaceChange},
    domain::{
        counter::{place_name, wallet_identifier, CounterFieldError, IDENTIFIER_MAX_CHARS, NAME_MAX_CHARS},
        new_id, AuditAction, Role,
    },
    state::AppState,
};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/counters";

async fn body(state: &AppState, staff: &Staff) -> Result<Markup, Response> {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let locations = state.db.locations().await.map_err(|error| internal_error(lang, error))?;
    let counters = state.db.counters_in_use().await.map_err(|error| internal_error(lang, error))?;
    Ok(html! {
        p { (t("counters.intro")) }
        @if locations.is_empty() {
            p data-testid="no-locations" { (t("counters.none")) }
        }
        @for location in &locations {
            (location_card(staff, location, counters.iter().filter(|c| c.location_id == location.id).collect()))
        }
        section.card aria-labelledby="add-location" {
            h2 #add-location { (t("counters.add_location")) }
            form.form method="post" action="/console/counters/locations" {
                (csrf_field(staff))
                (name_field("location-name", &t("counters.location_name"), ""))
                (identifier_field(staff, "location-store", "store_id", &t("counters.store_id"), "", "counters.store_id_hint"))
                button.button type="submit" { (t("counters.add_location_submit")) }
            }
        }
    })
}

fn location_card(staff: &Staff, location: &LocationRecord, counters: Vec<&CounterRecord>) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let heading = format!("location-{}", location.id);
    html! {
        section.card aria-labelledby=(heading) data-testid="location" {
            h2 id=(heading) { (location.name) }
            p {
                (t("counters.store_id")) ": "
                (location.wechat_store_id.as_deref().unwrap_or_else(|| "—"))
            }
            details {
                summary { (t("counters.edit_location")) }
                form.form method="post" action="/console/counters/locations/update" {
                    (csrf_field(staff))
                    input type="hidden" name="id" value=(location.id);
                    (name_field(&format!("{heading}-name"), &t("counters.location_name"), &location.name))
                    (identifier_field(staff, &format!("{heading}-store"), "store_id", &t("counters.store_id"),
                        location.wechat_store_id.as_deref().unwrap_or_default(), "counters.store_id_hint"))
                    button.button.button--quiet type="submit" { (t("common.save")) }
                }
            }
            @if counters.is_empty() {
                p { (t("counters.no_counters")) }
            } @else {
                (scroll_region(&lang.tf("counters.counters_of", &[("location", &location.name)]), html! {
                    table.table data-testid="counters" {
                        thead { tr {
                            th scope="col" { (t("counters.counter_name")) }
                            th scope="col" { (t("counters.device_id")) }
                            th scope="col" { span.visually-hidden { (t("counters.change")) } }
                        } }
                        tbody {
                            @for counter in &counters {
                                tr {
                                    td { (counter.name) }
                                    td { (counter.device_id.as_deref().unwrap_or_else(|| "—")) }
                                    td { (counter_forms(staff, counter)) }
                                }
                            }
                        }
                    }
                }))
            }
            form.form method="post" action="/console/counters" {
                (csrf_field(staff))
                input type="hidden" name="location_id" value=(location.id);
                (name_field(&format!("{heading}-counter"), &t("counters.counter_name"), ""))
                (identifier_field(staff, &format!("{heading}-device"), "device_id", &t("counters.device_id"), "", "counters.device_id_hint"))
                button.button type="submit" { (lang.tf("counters.add_counter", &[("location", &location.name)])) }
            }
        }
    }
}

fn counter_forms(staff: &Staff, counter: &CounterRecord) -> Markup {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let id = format!("counter-{}", counter.id);
    html! {
        details {
            summary { (lang.tf("counters.edit_counter", &[("counter", &counter.name)])) }
            form.form method="post" action="/console/counters/update" {
                (csrf_field(staff))
                input type="hidden" name="id" value=(counter.id);
                (name_field(&format!("{id}-name"), &t("counters.counter_name"), &counter.name))
                (identifier_field(staff, &format!("{id}-device"), "device_id", &t("counters.device_id"),
                    counter.device_id.as_deref().unwrap_or_default(), "counters.device_id_hint"))
                button.button.button--quiet type="submit" { (t("common.save")) }
            }
            form.form method="post" action="/console/counters/retire" {
                (csrf_field(staff))
                input type="hidden" name="id" value=(counter.id);
                p { (t("counters.retire_explained")) }
                button.button.button--quiet type="submit" { (lang.tf("counters.retire", &[("counter", &counter.name)])) }
            }
        }
    }
}

fn name_field(id: &str, label: &str, value: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        input id=(id) type="text" name="name" value=(value) maxlength=(NAME_MAX_CHARS) required autocomplete="off";
    }
}

fn identifier_field(staff: &Staff, id: &str, name: &str, label: &str, value: &str, hint: &str) -> Markup {
    let hint_id = format!("{id}-hint");
    html! {
        label for=(id) { (label) }
        input id=(id) type="text" name=(name) value=(value) maxlength=(IDENTIFIER_MAX_CHARS)
            pattern="[A-Za-z0-9_\\-]*" autocomplete="off" spellcheck="false" aria-describedby=(hint_id);
        p.hint id=(hint_id) { (staff.lang.t(hint)) }
    }
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    again(&state, &staff, None).await
}

async fn again(state: &AppState, staff: &Staff, notice: Option<Notice>) -> Response {
    match body(state, staff).await {
        Ok(body) => respond(state, staff, PATH, &staff.lang.t("counters.title"), notice, body),
        Err(answer) => answer,
    }
}

/// The page again with what became of a change: done (and audited), or why not.
async fn answer(
    state: &AppState,
    staff: &Staff,
    change: PlaceChange,
    done: (AuditAction, &str, serde_json::Value, &str),
) -> Response {
    let lang = staff.lang;
    let notice = match change {
        PlaceChange::Done => {
            let (action, target, detail, message) = done;
            if let Err(answer) = audit(state, staff, action, target, detail).await {
                return answer;
            }
            Notice::Done(lang.t(message))
        }
        PlaceChange::NameTaken => Notice::Problem(lang.t("counters.name_taken")),
        PlaceChange::NotFound => Notice::Problem(lang.t("counters.not_found")),
    };
    again(state, staff, Some(notice)).await
}

/// The page again with why a field was refused.
async fn refused(state: &AppState, staff: &Staff, error: CounterFieldError) -> Response {
    let key = match error {
        CounterFieldError::EmptyName => "counters.name_empty",
        CounterFieldError::LongName => "counters.name_long",
        CounterFieldError::UnreadableName(_) => "counters.name_unreadable",
        CounterFieldError::BadIdentifier => "counters.identifier_bad",
    };
    again(state, staff, Some(Notice::Problem(staff.lang.t(key)))).await
}

#[derive(Debug, Deserialize)]
pub struct LocationForm {
    csrf: String,
    #[serde(default)]
    id: String,
    name: String,
    #[serde(default)]
    store_id: String,
}

pub async fn add_location(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<LocationForm>,
) -> Response {
    save_location(state, staff, headers, form, true).await
}

pub async fn update_location(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<LocationForm>,
) -> Response {
    save_location(state, staff, headers, form, false).await
}

async fn save_location(
    state: AppState,
    staff: Staff,
    headers: HeaderMap,
    form: LocationForm,
    new: bool,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let fields = place_name(&form.name).and_then(|name| Ok((name, wallet_identifier(&form.store_id)?)));
    let (name, store_id) = match fields {
        Ok(fields) => fields,
        Err(error) => return refused(&state, &staff, error).await,
    };
    let place = Place { name: &name, identifier: store_id.as_deref() };
    let (id, action, message) = if new {
        (new_id("loc"), AuditAction::LocationCreate, "counters.location_added")
    } else {
        (form.id.clone(), AuditAction::LocationUpdate, "counters.saved")
    };
    let change = if new {
        state.db.add_location(&id, &place, state.now()).await
    } else {
        state.db.update_location(&id, &place, state.now()).await
    };
    match change {
        Ok(change) => {
            let detail = serde_json::json!({ "name": name, "wechat_store_id": store_id });
            answer(&state, &staff, change, (action, &id, detail, message)).await
        }
        Err(error) => internal_error(staff.lang, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct CounterForm {
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    location_id: String,
    name: String,
    #[serde(default)]
    device_id: String,
}

pub async fn add_counter(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CounterForm>,
) -> Response {
    save_counter(state, staff, headers, form, true).await
}

pub async fn update_counter(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CounterForm>,
) -> Response {
    save_counter(state, staff, headers, form, false).await
}

async fn save_counter(
    state: AppState,
    staff: Staff,
    headers: HeaderMap,
    form: CounterForm,
    new: bool,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let fields = place_name(&form.name).and_then(|name| Ok((name, wallet_identifier(&form.device_id)?)));
    let (name, device_id) = match fields {
        Ok(fields) => fields,
        Err(error) => return refused(&state, &staff, error).await,
    };
    let place = Place { name: &name, identifier: device_id.as_deref() };
    let (id, change, action, message) = if new {
        let id = new_id("ctr");
        let change = state.db.add_counter(&id, &form.location_id, &place, state.now()).await;
        (id, change, AuditAction::CounterCreate, "counters.counter_added")
    } else {
        let change = state.db.update_counter(&form.id, &place, state.now()).await;
        (form.id.clone(), change, AuditAction::CounterUpdate, "counters.saved")
    };
    match change {
        Ok(change) => {
            let mut detail = serde_json::json!({ "name": name, "device_id": device_id });
            if new {
                detail["location_id"] = form.location_id.clone().into();
            }
            answer(&state, &staff, change, (action, &id, detail, message)).await
        }
        Err(error) => internal_error(staff.lang, error),
    }
}

#[derive(Debug, Deserialize)]
pub struct RetireForm {
    csrf: String,
    id: String,
}

pub async fn retire_counter(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<RetireForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    match state.db.retire_counter(&form.id, state.now()).await {
        Ok(change) => {
            let done =
                (AuditAction::CounterRetire, form.id.as_str(), serde_json::json!({}), "counters.retired");
            answer(&state, &staff, change, done).await
        }
        Err(error) => internal_error(staff.lang, error),
    }
}
