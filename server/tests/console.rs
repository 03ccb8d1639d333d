//! The console's staff accounts over real HTTP: sign-in with a password and an optional TOTP
//! code, lockout, the session cookie's attributes, sign-out, CSRF, roles, the language each
//! person chooses, and every action in the audit log under the person's name.

mod common;

use common::{spawn, ConsoleUser, JsonAnswer, TestApp};
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
        .client
        .post(app.url("/console/login"))
        .form(&[
            ("email", "li.wei@shop.example"),
            ("password", password.as_str()),
            ("next", "/console/staff"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/console/staff");
    let cookie = response.headers()["set-cookie"].to_str().unwrap().to_owned();
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
    let elsewhere = app
        .client
        .post(app.url("/console/login"))
        .form(&[
            ("email", "li.wei@shop.example"),
            ("password", password.as_str()),
            ("next", "https://evil.example/"),
        ])
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
    assert!(locked.text().await.unwrap().contains("locked for 15 minutes"), "even the right password now");
    assert!(audit_actions(&app).await.contains(&("staff.locked".to_owned(), "Ana".to_owned())));
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
    let code = generator.generate_current().unwrap();
    assert!(app.console_sign_in(&admin.email, &admin.password, &code).await.is_ok());
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
    let db = common::test_db().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .args(["staff", "create", "--name", "Shop owner", "--email", "owner@shop.example", "--role", "admin"])
        .env("DATABASE_URL", &db.url)
        .env("WC_DATA_DIR", &db.data_dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let password = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap().trim().to_owned();
    let app = common::spawn_on(&db, |_| {}).await;
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
