//! Backups: the newest backup and its age (everyone), the schedule, the list and "take a backup
//! now" (admin). Backups themselves are `db::backup` (the command line's `backup` too); on
//! PostgreSQL the page says to use PostgreSQL's own tools instead.

use super::super::{
    auth::Staff,
    i18n::Lang,
    layout::{csrf_field, scroll_region, Notice},
};
use super::{audit, check_form, internal_error, respond};
use crate::domain::AuditAction;
use crate::{
    db::{backup_age, Backend},
    domain::rfc3339,
    domain::Role,
    state::AppState,
};
use axum::{extract::State, http::HeaderMap, response::Response, Form};
use maud::{html, Markup};
use serde::Deserialize;

const PATH: &str = "/console/backups";

/// A backup older than this is stale (the go-live checklist wants one from the last day).
pub const FRESH_MS: i64 = crate::domain::golive::BACKUP_FRESH_MS;

/// How long ago, in words: "just now", "5 minutes ago", "3 hours ago", "2 days ago".
pub fn age(lang: Lang, millis: i64) -> String {
    let minutes = millis.max(0) / 60_000;
    let (key, n) = match minutes {
        0 => return lang.t("backups.age.now"),
        1..=59 => ("minutes", minutes),
        60..=2_879 => ("hours", minutes / 60),
        _ => ("days", minutes / 1_440),
    };
    let key = if n == 1 { format!("backups.age.{key}.one") } else { format!("backups.age.{key}") };
    lang.tf(&key, &[("n", &n.to_string())])
}

/// A size in bytes as KiB or MiB, one decimal.
fn size(lang: Lang, bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    if bytes >= 1024.0 * 1024.0 {
        lang.tf("backups.size.mib", &[("n", &format!("{:.1}", bytes / 1024.0 / 1024.0))])
    } else {
        lang.tf("backups.size.kib", &[("n", &format!("{:.1}", bytes / 1024.0))])
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

async fn body(state: &AppState, staff: &Staff) -> Result<Markup, Response> {
    let lang = staff.lang;
    let t = |key: &str| lang.t(key);
    let now = state.now();
    let last = state.db.last_backup().await.map_err(|error| internal_error(lang, error))?;
    let admin = staff.may(Role::Admin);
    let list = if admin {
        state.db.backups(50).await.map_err(|error| internal_error(lang, error))?
    } else {
        Vec::new()
    };
    let postgres = state.db.backend() == Backend::Postgres;
    let config = &state.config;
    Ok(html! {
        p { (t("backups.intro")) }
        section.card aria-labelledby="last" data-testid="last-backup" {
            h2 #last { (t("backups.last")) }
            @match (&last, backup_age(last.as_ref(), now)) {
                (Some(backup), Some(ms)) => {
                    p.figure { (age(lang, ms)) }
                    p {
                        time datetime=(rfc3339(backup.taken_at)) { (lang.datetime(backup.taken_at)) }
                        " · " (t(&format!("backups.kind.{}", backup.kind)))
                    }
                    @if ms < FRESH_MS {
                        p.backups__state.backups__state--ok data-testid="backup-fresh" { (t("backups.fresh")) }
                    } @else {
                        p.backups__state.backups__state--stale data-testid="backup-stale" { (t("backups.stale")) }
                    }
                }
                _ => {
                    p.figure { (t("backups.none")) }
                    p.backups__state.backups__state--stale data-testid="backup-stale" { (t("backups.none_hint")) }
                }
            }
        }
        @if postgres {
            section.card aria-labelledby="postgres" {
                h2 #postgres { (t("backups.postgres.title")) }
                p data-testid="backups-postgres" { (t("backups.postgres")) }
                pre.backups__command { code { "pg_dump --format=custom --file=wallet-checkout.dump \"$DATABASE_URL\"" } }
            }
        } @else {
            section.card aria-labelledby="schedule" {
                h2 #schedule { (t("backups.schedule")) }
                p data-testid="backup-schedule" {
                    @if config.backup_every_hours == 0 {
                        (lang.tf("backups.schedule.off", &[("keep", &config.backup_keep.to_string())]))
                    } @else {
                        (lang.tf("backups.schedule.every", &[
                            ("hours", &config.backup_every_hours.to_string()),
                            ("keep", &config.backup_keep.to_string()),
                        ]))
                    }
                }
                @if admin {
                    p.hint { (lang.tf("backups.schedule.where", &[("dir", &config.backup_dir.display().to_string())])) }
                    form.form method="post" action=(PATH) {
                        (csrf_field(staff))
                        button.button type="submit" data-testid="take-backup" { (t("backups.take")) }
                    }
                }
            }
        }
        @if admin && !postgres {
            section.card aria-labelledby="all" {
                h2 #all { (t("backups.list")) }
                @if list.is_empty() {
                    p { (t("backups.none")) }
                } @else {
                    (scroll_region(&t("backups.list"), html! {
                        table.table data-testid="backups" {
                            thead { tr {
                                th scope="col" { (t("backups.table.taken")) }
                                th scope="col" { (t("backups.table.age")) }
                                th scope="col" { (t("backups.table.kind")) }
                                th scope="col" { (t("backups.table.size")) }
                                th scope="col" { (t("backups.table.file")) }
                                th scope="col" { (t("backups.table.sha256")) }
                            } }
                            tbody {
                                @for backup in &list {
                                    tr data-testid="backup-row" {
                                        td { time datetime=(rfc3339(backup.taken_at)) { (lang.datetime(backup.taken_at)) } }
                                        td { (age(lang, now - backup.taken_at)) }
                                        td { (t(&format!("backups.kind.{}", backup.kind))) }
                                        td.amount { (size(lang, backup.bytes)) }
                                        td { code { (file_name(&backup.path)) } }
                                        td { code title=(backup.sha256) { (backup.sha256.get(..12).unwrap_or(&backup.sha256)) "…" } }
                                    }
                                }
                            }
                        }
                    }))
                }
            }
        }
    })
}

async fn answer(state: &AppState, staff: &Staff, notice: Option<Notice>) -> Response {
    match body(state, staff).await {
        Ok(body) => respond(state, staff, PATH, &staff.lang.t("backups.title"), notice, body),
        Err(answer) => answer,
    }
}

/// Everyone may see the last backup and its age; the rest is for admins.
pub async fn show(State(state): State<AppState>, staff: Staff) -> Response {
    answer(&state, &staff, None).await
}

#[derive(Debug, Deserialize)]
pub struct TakeForm {
    csrf: String,
}

/// "Take a backup now" (admin).
pub async fn take(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<TakeForm>,
) -> Response {
    if let Err(answer) = check_form(&state, &staff, &headers, &form.csrf, Role::Admin) {
        return answer;
    }
    let lang = staff.lang;
    if state.db.backend() == Backend::Postgres {
        return answer(&state, &staff, Some(Notice::Problem(lang.t("backups.postgres")))).await;
    }
    let config = &state.config;
    let backup =
        match state.db.take_backup(&config.backup_dir, config.backup_keep, "manual", state.now()).await {
            Ok(backup) => backup,
            Err(error) => {
                tracing::error!(error = %format!("{error:#}"), "backup from the console failed");
                return answer(&state, &staff, Some(Notice::Problem(lang.t("backups.failed")))).await;
            }
        };
    if let Err(answer) = audit(
        &state,
        &staff,
        AuditAction::BackupTake,
        &backup.id,
        serde_json::json!({ "path": backup.path, "bytes": backup.bytes, "sha256": backup.sha256 }),
    )
    .await
    {
        return answer;
    }
    let notice = lang.tf("backups.taken", &[("file", file_name(&backup.path))]);
    answer(&state, &staff, Some(Notice::Done(notice))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_as_words() {
        assert_eq!(age(Lang::En, 30_000), "just now");
        assert_eq!(age(Lang::En, 60_000), "1 minute ago");
        assert_eq!(age(Lang::En, 5 * 60_000), "5 minutes ago");
        assert_eq!(age(Lang::En, 3 * 3_600_000 + 5), "3 hours ago");
        assert_eq!(age(Lang::En, 47 * 3_600_000), "47 hours ago");
        assert_eq!(age(Lang::En, 3 * 86_400_000), "3 days ago");
        assert_eq!(age(Lang::ZhCn, 5 * 60_000), "5 分钟前");
    }
}
