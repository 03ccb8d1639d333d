//! The guided setup (admin): six steps from choosing the wallet providers to going live, with a
//! navigation they all share. `/console/setup` opens the step where the merchant stopped.
//!
//! Steps 1 to 4 are here (`providers`, `register`, `keys`, `integrate`); `test` and `golive`
//! have pages of their own, which show `steps_nav` and call `remember_step` too.

pub mod credentials;
pub mod integrate;
pub mod providers;
pub mod register;

use super::{super::auth::Staff, forbidden, internal_error, respond};
use crate::{
    console::{i18n::Lang, layout::Notice},
    domain::Role,
    state::AppState,
};
use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use maud::{html, Markup};

/// The steps, in order (their paths are `/console/setup/<step>`).
pub const STEPS: [&str; 6] = ["providers", "register", "keys", "integrate", "test", "golive"];

/// The console setting that remembers the step the merchant was last on.
pub const STEP_SETTING: &str = "setup.step";

/// The wallet providers the setup speaks of, in the order of the wallets: the registry's, then
/// the sandbox.
pub fn providers() -> impl Iterator<Item = &'static str> {
    crate::providers::WALLETS.iter().map(|wallet| wallet.name).chain([crate::providers::sandbox::NAME])
}

/// The navigation between the six steps: every step a link, the steps before `current_step`
/// marked done, `current_step` marked as the current one.
pub fn steps_nav(lang: Lang, current_step: &str) -> Markup {
    let current = STEPS.iter().position(|step| *step == current_step);
    html! {
        nav.steps aria-label=(lang.t("setup.steps.label")) data-testid="steps" {
            ol.steps__list {
                @for (index, step) in STEPS.iter().enumerate() {
                    @let done = current.is_some_and(|current| index < current);
                    @let here = current == Some(index);
                    li.steps__step.steps__step--done[done].steps__step--current[here] data-step=(step) {
                        a.steps__link href=(format!("/console/setup/{step}")) aria-current=[here.then_some("step")] {
                            span.steps__mark aria-hidden="true" { @if done { "✓" } @else { (index + 1) } }
                            span.steps__name { (lang.t(&format!("setup.step.{step}"))) }
                            @if done { span.visually-hidden { " (" (lang.t("setup.steps.done")) ")" } }
                        }
                    }
                }
            }
        }
    }
}

/// Remembers that the merchant is on `step`, so that `/console/setup` opens it next time.
pub async fn remember_step(state: &AppState, step: &str) -> anyhow::Result<()> {
    if STEPS.contains(&step) {
        state.db.set_console_setting(STEP_SETTING, step, state.now()).await?;
    }
    Ok(())
}

/// `GET /console/setup`: the step where the merchant stopped (the first one at the start).
pub async fn resume(State(state): State<AppState>, staff: Staff) -> Response {
    if !staff.may(Role::Admin) {
        return forbidden(&state, &staff);
    }
    let step = match state.db.console_setting(STEP_SETTING).await {
        Ok(step) => step.filter(|step| STEPS.contains(&step.as_str())).unwrap_or_else(|| STEPS[0].to_owned()),
        Err(error) => return internal_error(staff.lang, error),
    };
    Redirect::to(&format!("/console/setup/{step}")).into_response()
}

/// A step's page: the steps, the step's content, and the way on.
pub async fn step_page(
    state: &AppState,
    staff: &Staff,
    step: &str,
    notice: Option<Notice>,
    body: Markup,
) -> Response {
    let lang = staff.lang;
    if let Err(error) = remember_step(state, step).await {
        return internal_error(lang, error);
    }
    let index = STEPS.iter().position(|known| *known == step).unwrap_or(0);
    let title = lang.tf(
        "setup.title_step",
        &[("number", &(index + 1).to_string()), ("step", &lang.t(&format!("setup.step.{step}")))],
    );
    let body = html! {
        (steps_nav(lang, step))
        (body)
        nav.setup-next aria-label=(lang.t("setup.steps.onward")) {
            @if index > 0 {
                a.button.button--quiet href=(format!("/console/setup/{}", STEPS[index - 1])) rel="prev" {
                    (lang.tf("setup.previous", &[("step", &lang.t(&format!("setup.step.{}", STEPS[index - 1])))]))
                }
            }
            @if let Some(next) = STEPS.get(index + 1) {
                a.button href=(format!("/console/setup/{next}")) rel="next" {
                    (lang.tf("setup.next", &[("step", &lang.t(&format!("setup.step.{next}")))]))
                }
            }
        }
    };
    respond(state, staff, &format!("/console/setup/{step}"), &title, notice, body)
}

/// The provider's name as the console writes it.
pub fn provider_name(lang: Lang, provider: &str) -> String {
    lang.t(&format!("setup.provider.{provider}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_before_the_current_one_are_done_and_every_step_is_a_link() {
        let nav = steps_nav(Lang::En, "keys").into_string();
        for step in STEPS {
            assert!(nav.contains(&format!("href=\"/console/setup/{step}\"")), "{step}");
        }
        assert_eq!(nav.matches("steps__step--done").count(), 2);
        assert_eq!(nav.matches("aria-current=\"step\"").count(), 1);
        assert!(nav.contains("data-step=\"keys\"><a class=\"steps__link\" href=\"/console/setup/keys\" aria-current=\"step\""), "{nav}");
    }
}
