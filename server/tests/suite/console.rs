//! The console's staff accounts over real HTTP: sign-in with a password and an optional TOTP
//! code, lockout, the session cookie's attributes, sign-out, CSRF, roles, the language each
//! person chooses, and every action in the audit log under the person's name.

use crate::helpers::{spawn, ConsoleUser, JsonAnswer, TestApp};
use serde_json::Value;

async fn audit_actions(app: &TestApp) -> Vec<(String, String)> {
    let store = app.store().await;
    store.audit_log(100).await.unwrap().into_iter().map(|e| (e.action, e.actor_name)).collect()
}

#[tokio::test]
async fn a_staff_member_signs_in_with_a_cookie_that_is_secure_http_only_and_strict() {
    let app = spawn().await;
    let store = app.store().await;
    let password = wallet_checkout_server::console::create_staff(
        &store,
        "Li Wei",
        "Li.Wei@shop.example",
        "admin",
        "test",
    )
    .await
    .unwrap();
    let response = app
        .sign_in_request(&[
            ("email", "li.wei@shop.example"),
            ("password", password.as_str()),
            ("next", "/console/staff"),
        ])
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/console/account/password", "a one-time password first");
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("__Host-wc_console="))
        .unwrap();
    for attribute in ["__Host-wc_console=", "Path=/", "Secure", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(attribute), "{cookie} has {attribute}");
    }
    // Only a digest of the cookie is stored.
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let pool = sqlx::AnyPool::connect(&app.db.as_ref().unwrap().url).await.unwrap();
    let stored: Vec<(String,)> =
        sqlx::query_as("SELECT token_hash FROM staff_sessions").fetch_all(&pool).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].0, token);
    // The password is an argon2 hash.
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM staff").fetch_one(&pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(&password));
    // An open redirect through `next` is refused.
    let chosen = app.console_sign_in("li.wei@shop.example", &password, "").await.unwrap().password;
    let elsewhere = app
        .sign_in_request(&[
            ("email", "li.wei@shop.example"),
            ("password", chosen.as_str()),
            ("next", "https://evil.example/"),
        ])
        .await
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.headers()["location"], "/console");
}

#[tokio::test]
async fn wrong_credentials_get_one_answer_and_five_failures_lock_the_account() {
    let app = spawn().await;
    let store = app.store().await;
    let password =
        wallet_checkout_server::console::create_staff(&store, "Ana", "ana@shop.example", "operator", "test")
            .await
            .unwrap();
    let unknown = app.console_sign_in("nobody@shop.example", &password, "").await.unwrap_err();
    assert_eq!(unknown.status(), 401);
    let unknown_text = unknown.text().await.unwrap();
    let wrong = app.console_sign_in("ana@shop.example", "not the password", "").await.unwrap_err();
    let wrong_text = wrong.text().await.unwrap();
    assert!(unknown_text.contains("is not right") && wrong_text.contains("is not right"), "the same answer");
    for _ in 0..4 {
        assert!(app.console_sign_in("ana@shop.example", "not the password", "").await.is_err());
    }
    let locked = app.console_sign_in("ana@shop.example", &password, "").await.unwrap_err();
    assert!(locked.text().await.unwrap().contains("Try again in 15 minutes"), "even the right password now");
    assert!(audit_actions(&app).await.contains(&("staff.locked".to_owned(), "Ana".to_owned())));
}

/// The code of the 30-second step after this one (accepted for one step of clock drift), so a
/// test need not wait for the next step to have a code not used yet.
fn next_code(generator: &totp_rs::TOTP) -> String {
    generator
        .generate(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 30)
}

/// Turns two-step sign-in on for `user` and answers its generator (the enrolling code is used up).
async fn turn_on_two_step(app: &TestApp, user: &ConsoleUser) -> totp_rs::TOTP {
    let started = app
        .console_post(user, "/console/account/totp/start", &[])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key =
        started.split("data-testid=\"totp-key\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let secret = totp_rs::Secret::Encoded(key).to_bytes().unwrap();
    let generator =
        totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, user.email.clone()).unwrap();
    let code = generator.generate_current().unwrap();
    let on =
        app.console_post(user, "/console/account/totp/confirm", &[("code", &code)]).send().await.unwrap();
    assert!(on.text().await.unwrap().contains("Two-step sign-in is on."));
    generator
}

/// Sends `requests` at once (each on its own connection, all in flight together) and answers
/// each status with whether its page says the sign-in failed and whether it says it is locked.
async fn all_at_once(requests: Vec<reqwest::RequestBuilder>) -> Vec<(u16, bool, bool)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|request| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let answer = request.send().await.unwrap();
                let status = answer.status().as_u16();
                let page = answer.text().await.unwrap();
                (status, page.contains("is not right"), page.contains("Try again in 15 minutes"))
            })
        })
        .collect();
    futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect()
}

/// Regression: the lock was read before the slow password check and failures counted after it,
/// so a burst of parallel sign-ins got a guess each (ten of eleven answered "failed"), and
/// seventeen addresses got fourteen guesses. At most five passwords are checked however the
/// guesses come: the fifth failure locks, the rest are locked (or told the console is busy)
/// unchecked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_sign_ins_gets_no_more_guesses_than_a_sequence() {
    let app = crate::helpers::spawn_with(|config| config.trust_proxy = true).await;
    let store = app.store().await;
    for (email, addresses, count) in [("one@shop.example", 1, 12), ("many@shop.example", 17, 17)] {
        let password =
            wallet_checkout_server::console::create_staff(&store, "Ana", email, "operator", "test")
                .await
                .unwrap();
        let mut requests = Vec::new();
        for i in 0..count {
            let guess = format!("guess number {i}");
            let request = app
                .sign_in_request(&[
                    ("email", email),
                    ("password", &guess),
                    ("code", ""),
                    ("next", "/console"),
                ])
                .await
                .header("x-forwarded-for", format!("198.51.100.{}", i % addresses));
            requests.push(request);
        }
        let answers = all_at_once(requests).await;
        let failed = answers.iter().filter(|(_, failed, _)| *failed).count();
        let locked = answers.iter().filter(|(_, _, locked)| *locked).count();
        assert!(
            failed < wallet_checkout_server::domain::sign_in::LOCK_AFTER as usize,
            "{email}: {failed} guesses were checked and answered \"failed\" in a burst of {count}: {answers:?}"
        );
        assert!(locked >= 1, "{email}: the burst locked the account: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|(status, failed, locked)| (*status == 401 && failed != locked) || *status == 503),
            "{email}: each answer is failed, locked or busy: {answers:?}"
        );
        let after = app.sign_in_answer(email, &password, "").await;
        assert_eq!(after.status(), 401, "{email}: locked after the burst, even to the right password");
    }
}

/// A lock lifts when its time is up, by the server's clock: a minute before, the right password
/// is still refused; after, it signs in.
#[tokio::test]
async fn a_lock_lifts_when_its_time_is_up() {
    use wallet_checkout_server::domain::sign_in::{LOCK_AFTER, LOCK_MS};
    let app = spawn().await;
    let store = app.store().await;
    let email = "lift@shop.example";
    let password = wallet_checkout_server::console::create_staff(&store, "Ana", email, "operator", "test")
        .await
        .unwrap();
    for _ in 0..LOCK_AFTER {
        assert_eq!(app.sign_in_answer(email, "a wrong guess", "").await.status(), 401);
    }
    assert_eq!(app.sign_in_answer(email, &password, "").await.status(), 401, "locked");
    let lock = std::time::Duration::from_millis(LOCK_MS as u64);
    app.clock.advance(lock - std::time::Duration::from_secs(60));
    assert_eq!(app.sign_in_answer(email, &password, "").await.status(), 401, "a minute before the end");
    app.clock.advance(std::time::Duration::from_secs(61));
    assert_eq!(app.sign_in_answer(email, &password, "").await.status(), 303, "signed in after the lock");
}

/// Regression: a lock said "locked" for an address with an account and "failed" for any other,
/// which told an attacker which addresses have accounts.
#[tokio::test]
async fn an_address_nobody_has_is_answered_like_one_with_an_account() {
    let app = spawn().await;
    let store = app.store().await;
    wallet_checkout_server::console::create_staff(&store, "Ana", "ana@shop.example", "operator", "test")
        .await
        .unwrap();
    let mut pages = Vec::new();
    for email in ["ana@shop.example", "nobody@shop.example"] {
        let mut answers = Vec::new();
        for _ in 0..6 {
            let answer = app.sign_in_answer(email, "not the password", "").await;
            let status = answer.status();
            answers.push((status, answer.text().await.unwrap().replace(email, "EMAIL")));
        }
        pages.push(answers);
    }
    let words = |answers: &Vec<(reqwest::StatusCode, String)>| -> Vec<(u16, bool, bool)> {
        answers
            .iter()
            .map(|(status, page)| {
                (status.as_u16(), page.contains("is not right"), page.contains("Try again in 15 minutes"))
            })
            .collect()
    };
    assert_eq!(words(&pages[0]), words(&pages[1]), "the same answers, attempt by attempt");
    assert!(words(&pages[1])[5].2, "the sixth attempt at an address nobody has is locked too");
}

/// Regression: starting enrolment (session token only) stored a new secret with two-step
/// sign-in off, so from then on the password alone signed in.
#[tokio::test]
async fn enrolling_a_new_second_factor_never_weakens_the_account() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let generator = turn_on_two_step(&app, &admin).await;
    // A stolen session cannot start over: replacing asks for the password and a current code.
    let start = app.console_post(&admin, "/console/account/totp/start", &[]).send().await.unwrap();
    let page = start.text().await.unwrap();
    assert!(page.contains("The password or the code is not right. Nothing was changed."), "{page}");
    assert!(app.console_sign_in(&admin.email, &admin.password, "").await.is_err(), "the factor still holds");
    // Neither can it remove the factor with the password alone.
    let off = app
        .console_post(&admin, "/console/account/totp/disable", &[("current", &admin.password), ("code", "")])
        .send()
        .await
        .unwrap();
    assert!(off.text().await.unwrap().contains("Nothing was changed"));
    assert!(app.console_sign_in(&admin.email, &admin.password, "").await.is_err(), "still on");
    // With both, a replacement is enrolled; until its code proves it, the old factor holds.
    let replace = app
        .console_post(
            &admin,
            "/console/account/totp/start",
            &[("current", &admin.password), ("code", &next_code(&generator))],
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(replace.contains("data-testid=\"totp-key\""), "the new key is shown");
    assert!(
        app.console_sign_in(&admin.email, &admin.password, "").await.is_err(),
        "enrolling weakens nothing"
    );
    let pool = sqlx::AnyPool::connect(&app.db.as_ref().unwrap().url).await.unwrap();
    let (enabled, pending): (i64, Option<String>) =
        sqlx::query_as("SELECT totp_enabled, totp_pending FROM staff").fetch_one(&pool).await.unwrap();
    assert_eq!(enabled, 1);
    assert!(pending.is_some_and(|sealed| sealed.starts_with("v1:")));
}

/// Regression (RFC 6238 section 5.2): the same code signed in twice within its 30 seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_signs_in_once() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let generator = turn_on_two_step(&app, &admin).await;
    let code = next_code(&generator);
    let first = app.console_sign_in(&admin.email, &admin.password, &code).await;
    assert!(first.is_ok(), "the first time");
    let again = app.console_sign_in(&admin.email, &admin.password, &code).await.unwrap_err();
    assert_eq!(again.status(), 401, "the same code again");
    // Two at once with one code: one signs in.
    let other = app.console_user("operator").await;
    let generator = turn_on_two_step(&app, &other).await;
    let code = next_code(&generator);
    let mut requests = Vec::new();
    for _ in 0..2 {
        let fields = [("email", other.email.as_str()), ("password", &other.password), ("code", &code)];
        requests.push(app.sign_in_request(&fields).await);
    }
    let answers = all_at_once(requests).await;
    assert_eq!(answers.iter().filter(|(status, _, _)| *status == 303).count(), 1, "{answers:?}");
}

/// Regression: a cross-site form could sign the browser in to the attacker's account (login CSRF).
#[tokio::test]
async fn only_the_consoles_own_sign_in_form_signs_a_browser_in() {
    let app = spawn().await;
    let store = app.store().await;
    let password =
        wallet_checkout_server::console::create_staff(&store, "Mallory", "m@shop.example", "viewer", "test")
            .await
            .unwrap();
    let fields = [("email", "m@shop.example"), ("password", password.as_str()), ("next", "/console")];
    // A form posted from another site's page carries none of the sign-in page's cookie.
    let bare = app.client.post(app.url("/console/login")).form(&fields).send().await.unwrap();
    assert_eq!(bare.status(), 403);
    assert!(crate::helpers::session_cookie(&bare).is_none());
    assert!(bare.text().await.unwrap().contains("This sign-in form has expired or came from another site"));
    for (header, value) in [("sec-fetch-site", "cross-site"), ("origin", "https://evil.example")] {
        let forged = app.sign_in_request(&fields).await.header(header, value).send().await.unwrap();
        assert_eq!(forged.status(), 403, "{header}: {value}");
        assert!(crate::helpers::session_cookie(&forged).is_none());
    }
    let genuine =
        app.sign_in_request(&fields).await.header("sec-fetch-site", "same-origin").send().await.unwrap();
    assert_eq!(genuine.status(), 303);
}

/// Regression: a new password left the account's other sessions signed in, and a new member's
/// one-time password kept working without ever being replaced.
#[tokio::test]
async fn a_new_password_ends_other_sessions_and_a_one_time_password_must_be_replaced() {
    let app = spawn().await;
    let store = app.store().await;
    let once =
        wallet_checkout_server::console::create_staff(&store, "Li", "li@shop.example", "admin", "test")
            .await
            .unwrap();
    let first = app.sign_in_answer("li@shop.example", &once, "").await;
    assert_eq!(first.headers()["location"], "/console/account/password");
    let cookie = crate::helpers::session_cookie(&first).unwrap();
    for path in ["/console", "/console/orders", "/console/staff"] {
        let page = app.client.get(app.url(path)).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(page.status(), 303, "{path}");
        assert_eq!(
            page.headers()["location"],
            "/console/account/password",
            "{path} waits for a new password"
        );
    }
    let li = app.console_sign_in("li@shop.example", &once, "").await.unwrap();
    assert_ne!(li.password, once);
    assert!(
        app.console_sign_in("li@shop.example", &once, "").await.is_err(),
        "the one-time password is spent"
    );
    assert_eq!(app.console_get(&li, "/console").send().await.unwrap().status(), 200);
    // Two sessions; a new password from one ends the other.
    let other = app.console_sign_in("li@shop.example", &li.password, "").await.unwrap();
    let newer = format!("{}-again", li.password);
    let changed = app
        .console_post(&li, "/console/account/password", &[("current", &li.password), ("new", &newer)])
        .send()
        .await
        .unwrap();
    assert!(changed.text().await.unwrap().contains("You are signed out everywhere else."));
    assert_eq!(app.console_get(&li, "/console").send().await.unwrap().status(), 200, "this session goes on");
    assert_eq!(
        app.console_get(&other, "/console").send().await.unwrap().status(),
        303,
        "the other one ended"
    );
}

/// Regression: a CR or LF in `next` answered 500 after the session cookie was set.
#[tokio::test]
async fn a_line_break_in_the_page_to_go_back_to_signs_in_to_the_overview() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    for next in ["/console\r\nSet-Cookie: x=1", "/console\n", "/console\u{0}"] {
        let answer = app
            .sign_in_request(&[("email", &admin.email), ("password", &admin.password), ("next", next)])
            .await
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 303, "{next:?}");
        assert_eq!(answer.headers()["location"], "/console");
    }
    let page = app.client.get(app.url("/console/login?next=%2Fconsole%0D%0Ax")).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("name=\"next\" value=\"/console\""));
}

#[tokio::test]
async fn two_step_sign_in_needs_the_code_once_it_is_on() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let started = app
        .console_post(&admin, "/console/account/totp/start", &[])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(started.contains("<svg role=\"img\" aria-label=\"QR code for your authenticator app\""));
    let key =
        started.split("data-testid=\"totp-key\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let secret = totp_rs::Secret::Encoded(key).to_bytes().unwrap();
    let generator =
        totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret, None, admin.email.clone()).unwrap();
    let wrong = app
        .console_post(&admin, "/console/account/totp/confirm", &[("code", "000000")])
        .send()
        .await
        .unwrap();
    assert!(
        wrong.text().await.unwrap().contains("That code is not right")
            || generator.generate_current().unwrap() == "000000"
    );
    let code = generator.generate_current().unwrap();
    let on =
        app.console_post(&admin, "/console/account/totp/confirm", &[("code", &code)]).send().await.unwrap();
    assert!(on.text().await.unwrap().contains("Two-step sign-in is on."));
    // Now the password alone is not enough.
    assert!(app.console_sign_in(&admin.email, &admin.password, "").await.is_err());
    assert!(app.console_sign_in(&admin.email, &admin.password, "123456").await.is_err() || code == "123456");
    // The code that turned it on is used up; the next step's code (one step of drift) works.
    let next = next_code(&generator);
    assert!(app.console_sign_in(&admin.email, &admin.password, &next).await.is_ok());
    // The secret is sealed in the database.
    let pool = sqlx::AnyPool::connect(&app.db.as_ref().unwrap().url).await.unwrap();
    let (sealed,): (String,) =
        sqlx::query_as("SELECT totp_secret FROM staff").fetch_one(&pool).await.unwrap();
    assert!(sealed.starts_with("v1:"));
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&("staff.totp_enable".to_owned(), "admin person".to_owned())));
}

#[tokio::test]
async fn forms_without_the_session_token_or_from_another_site_change_nothing() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let forged = ConsoleUser { csrf: "forged".into(), ..admin.clone() };
    let response = app
        .console_post(
            &forged,
            "/console/staff",
            &[("name", "Mallory"), ("email", "m@evil.example"), ("role", "admin")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let other_site = app
        .console_post(
            &admin,
            "/console/staff",
            &[("name", "Mallory"), ("email", "m@evil.example"), ("role", "admin")],
        )
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(other_site.status(), 403);
    let staff = app.console_get(&admin, "/console/staff").send().await.unwrap().text().await.unwrap();
    assert!(!staff.contains("Mallory"), "nobody was added");
}

#[tokio::test]
async fn roles_decide_which_pages_and_actions_a_member_has() {
    let app = spawn().await;
    let viewer = app.console_user("viewer").await;
    let operator = app.console_user("operator").await;
    let admin = app.console_user("admin").await;
    for member in [&viewer, &operator] {
        assert_eq!(app.console_get(member, "/console/staff").send().await.unwrap().status(), 403);
        let add = app
            .console_post(
                member,
                "/console/staff",
                &[("name", "X"), ("email", "x@shop.example"), ("role", "admin")],
            )
            .send()
            .await
            .unwrap();
        assert_eq!(add.status(), 403);
        let overview = app.console_get(member, "/console").send().await.unwrap().text().await.unwrap();
        assert!(
            !overview.contains("href=\"/console/staff\""),
            "the navigation shows only what the role may open"
        );
    }
    let added = app
        .console_post(
            &admin,
            "/console/staff",
            &[("name", "Zhang Min"), ("email", "zhang@shop.example"), ("role", "operator")],
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let password = added.split("change it at once: ").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert!(app.console_sign_in("zhang@shop.example", &password, "").await.is_ok());
    let actions = audit_actions(&app).await;
    assert!(actions.contains(&("staff.create".to_owned(), "admin person".to_owned())), "{actions:?}");
}

#[tokio::test]
async fn the_last_admin_cannot_be_disabled_and_a_disabled_member_is_signed_out() {
    let app = spawn().await;
    let admin = app.console_user("admin").await;
    let operator = app.console_user("operator").await;
    let store = app.store().await;
    let id_of = |email: String| {
        let store = store.clone();
        async move { store.staff_by_email(&email).await.unwrap().unwrap().id }
    };
    let admin_id = id_of(admin.email.clone()).await;
    let refused = app
        .console_post(
            &admin,
            "/console/staff/update",
            &[("id", &admin_id), ("role", "admin"), ("disabled", "1")],
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(refused.contains("The last admin cannot be disabled"));
    let operator_id = id_of(operator.email.clone()).await;
    app.console_post(
        &admin,
        "/console/staff/update",
        &[("id", &operator_id), ("role", "operator"), ("disabled", "1")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(app.console_get(&operator, "/console").send().await.unwrap().status(), 303, "signed out");
    assert!(app.console_sign_in(&operator.email, &operator.password, "").await.is_err());
}

#[tokio::test]
async fn each_member_reads_the_console_in_their_language_and_signs_out() {
    let app = spawn().await;
    let viewer = app.console_user("viewer").await;
    let english = app.console_get(&viewer, "/console").send().await.unwrap().text().await.unwrap();
    assert!(english.contains("<html lang=\"en\">") && english.contains("Today’s takings"));
    app.console_post(&viewer, "/console/account/language", &[("locale", "zh-CN")]).send().await.unwrap();
    let chinese = app.console_get(&viewer, "/console").send().await.unwrap().text().await.unwrap();
    assert!(chinese.contains("<html lang=\"zh-CN\">") && chinese.contains("今日收款"));
    let out = app.console_post(&viewer, "/console/logout", &[]).send().await.unwrap();
    assert_eq!(out.status(), 303);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(
        app.console_get(&viewer, "/console").send().await.unwrap().status(),
        303,
        "the session is gone"
    );
    // The sign-in page speaks the browser's language.
    let page = app
        .client
        .get(app.url("/console/login"))
        .header("accept-language", "zh-CN,zh;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains("登录"));
}

#[tokio::test]
async fn the_first_admin_comes_from_the_command_line() {
    let db = crate::helpers::test_db().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .args(["staff", "create", "--name", "Shop owner", "--email", "owner@shop.example", "--role", "admin"])
        .env("DATABASE_URL", &db.url)
        .env("WC_DATA_DIR", &db.data_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let password = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap().trim().to_owned();
    let app = crate::helpers::spawn_on(&db, |_| {}).await;
    let owner = app.console_sign_in("owner@shop.example", &password, "").await.expect("signs in");
    let who: String = app.console_get(&owner, "/console").send().await.unwrap().text().await.unwrap();
    assert!(who.contains("Shop owner (Admin)"));
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .args(["staff", "create", "--name", "Twice", "--email", "owner@shop.example", "--role", "admin"])
        .env("DATABASE_URL", &db.url)
        .env("WC_DATA_DIR", &db.data_dir)
        .output()
        .unwrap();
    assert!(!again.status.success());
    let _: Value = app.client.get(app.url("/healthz")).json_answer().await;
}
