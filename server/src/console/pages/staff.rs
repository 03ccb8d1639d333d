//! Staff accounts (admin): who may use the console and with which role. A new member gets a
//! one-time password shown once; an admin can change a role or disable an account (its sessions
//! end), never leaving the console without an admin.

use super::super::{
    auth::Staff,
    layout::{csrf_field, scroll_region, Notice},
};
use super::{audit, check_form, forbidden, internal_error, respond};
use crate::domain::AuditAction;
use crate::{domain::Role, state::AppState};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/staff";

async fn body(state: &AppState, staff: &Staff) -> Result<Markup, Response> {
    let lang = staff.lang;
    let members = state.db.all_staff().await.map_err(|error| internal_error(lang, error))?;
    let t = |key: &str| lang.t(key);
    Ok(html! {
        p { (t("staff.intro")) }
        (scroll_region(&t("staff.title"), html! {
            table.table data-testid="staff" {
                thead { tr {
                    th scope="col" { (t("table.name")) }
                    th scope="col" { (t("table.email")) }
                    th scope="col" { (t("table.role")) }
                    th scope="col" { (t("table.state")) }
                    th scope="col" { (t("table.last_login")) }
                    th scope="col" { span.visually-hidden { (t("staff.change_role")) } }
                } }
                tbody {
                    @for member in &members {
                        tr {
                            td { (member.name) }
                            td { (member.email) }
                            td { (t(&format!("role.{}", member.role))) }
                            td { (if member.disabled_at.is_some() { t("staff.disabled") } else { t("staff.active") }) }
                            td { (member.last_login_at.map(|at| lang.datetime(at)).unwrap_or_else(|| t("common.never"))) }
                            td {
                                form.form--inline method="post" action="/console/staff/update" {
                                    (csrf_field(staff))
                                    input type="hidden" name="id" value=(member.id);
                                    label.visually-hidden for=(format!("role-{}", member.id)) { (t("staff.role")) " " (member.name) }
                                    select id=(format!("role-{}", member.id)) name="role" {
                                        @for role in ["admin", "operator", "viewer"] {
                                            option value=(role) selected[member.role == role] { (t(&format!("role.{role}"))) }
                                        }
                                    }
                                    label.check {
                                        input type="checkbox" name="disabled" value="1" checked[member.disabled_at.is_some()];
                                        " " (t("staff.disabled"))
                                    }
                                    button.button.button--quiet type="submit" { (t("common.save")) }
                                }
                            }
                        }
                    }
                }
            }
        }))
        section.card aria-labelledby="add" {
            h2 #add { (t("staff.add")) }
            form.form method="post" action="/console/staff" {
                (csrf_field(staff))
                label for="name" { (t("staff.name")) }
                input #name type="text" name="name" maxlength="100" required autocomplete="off";
                label for="email" { (t("staff.email")) }
                input #email type="email" name="email" maxlength="254" required autocomplete="off";
                label for="role" { (t("staff.role")) }
                select #role name="role" {
                    @for role in ["viewer", "operator", "admin"] {
                        option value=(role) { (t(&format!("role.{role}"))) }
                    }
                }
                button.button type="submit" { (t("staff.submit")) }
            }
        }
    })
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    match body(&state, &staff).await {
        Ok(body) => respond(&state, &staff, PATH, &staff.lang.t("staff.title"), None, body),
        Err(answer) => answer,
    }
}

async fn again(state: &AppState, staff: &Staff, notice: Notice) -> Response {
    match body(state, staff).await {
        Ok(body) => respond(state, staff, PATH, &staff.lang.t("staff.title"), Some(notice), body),
        Err(answer) => answer,
    }
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    csrf: String,
    name: String,
    email: String,
    role: String,
}

/// A plausible e-mail address (one `@`, something on both sides, a dot in the domain, no spaces).
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.contains(char::is_whitespace)
        && !domain.contains('@')
        && text.len() <= 254
}

pub async fn add(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<AddForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let member = crate::console::NewMember {
        name: &form.name,
        email: &form.email,
        role: &form.role,
        locale: lang.tag(),
    };
    match crate::console::add_staff_member(
        &state.db,
        member,
        (&staff.record.id, &staff.record.name),
        state.now(),
    )
    .await
    {
        Ok((_, password)) => {
            let name = form.name.trim();
            again(
                &state,
                &staff,
                Notice::Done(lang.tf("staff.created", &[("name", name), ("password", &password)])),
            )
            .await
        }
        Err(crate::console::AddStaffError::Exists) => {
            again(&state, &staff, Notice::Problem(lang.t("staff.exists"))).await
        }
        Err(crate::console::AddStaffError::Failed(error)) => internal_error(lang, error),
        Err(_) => again(&state, &staff, Notice::Problem(lang.t("staff.invalid"))).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct UpdateForm {
    csrf: String,
    id: String,
    role: String,
    #[serde(default)]
    disabled: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<UpdateForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    let Some(role) = Role::parse(&form.role) else { return super::bad_form(&state, &staff) };
    let member = match state.db.staff(&form.id).await {
        Ok(Some(member)) => member,
        Ok(None) => {
            return super::problem(
                &state,
                Some(&staff),
                lang,
                axum::http::StatusCode::NOT_FOUND,
                "error.not_found",
            )
        }
        Err(error) => return internal_error(lang, error),
    };
    let disabled = form.disabled.is_some();
    let loses_admin =
        member.role == "admin" && member.disabled_at.is_none() && (role != Role::Admin || disabled);
    if loses_admin {
        match state.db.active_admins().await {
            Ok(admins) if admins <= 1 => {
                return again(&state, &staff, Notice::Problem(lang.t("staff.last_admin"))).await
            }
            Ok(_) => {}
            Err(error) => return internal_error(lang, error),
        }
    }
    if let Err(error) = state.db.update_staff(&member.id, role.as_str(), disabled, state.now()).await {
        return internal_error(lang, error);
    }
    if let Err(answer) = audit(
        &state,
        &staff,
        AuditAction::StaffUpdate,
        &member.id,
        serde_json::json!({ "role": role.as_str(), "disabled": disabled }),
    )
    .await
    {
        return answer;
    }
    again(&state, &staff, Notice::Done(lang.t("staff.updated"))).await
}

#[cfg(test)]
mod tests {
    use super::is_email;

    #[test]
    fn plausible_email_addresses() {
        assert!(is_email("li.wei@shop.example"));
        for bad in
            ["", "a", "a@b", "@shop.example", "a@.example", "a b@shop.example", "a@b@c.example", "a@shop."]
        {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
