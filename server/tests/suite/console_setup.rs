//! The console's guided setup, steps 1 to 4, over real HTTP: the step where the merchant stopped,
//! fee terms stored exactly, the registration checklists, credentials entered in the browser that
//! make a real provider work (against the PayPal mock), stored sealed and never shown again, the
//! embed snippet and notification URLs, and roles and CSRF on every action.

use crate::helpers::{session_body, spawn_on, spawn_with, test_db, ConsoleUser, TestApp};
use wallet_checkout_mocks::paypal::PayPalMock;

async fn page(app: &TestApp, user: &ConsoleUser, path: &str) -> String {
    let response = app.console_get(user, path).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

async fn location(app: &TestApp, user: &ConsoleUser) -> String {
    let response = app.console_get(user, "/console/setup").send().await.unwrap();
    assert_eq!(response.status(), 303);
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    let store = app.store().await;
    store
        .audit_log(100)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| (entry.action, entry.actor_name, entry.detail.to_string()))
        .collect()
}

/// Every text the database holds in the tables a secret could reach.
async fn stored_text(app: &TestApp) -> String {
    let pool = sqlx::AnyPool::connect(&app.db.as_ref().unwrap().url).await.unwrap();
    let credentials: Vec<(String, String, String, String, String)> =
        sqlx::query_as("SELECT provider, field, ciphertext, fingerprint, set_by FROM provider_credentials")
            .fetch_all(&pool)
            .await
            .unwrap();
    let audit = app.store().await.audit_log(1000).await.unwrap();
    let settings: Vec<(String, String)> =
        sqlx::query_as("SELECT name, value FROM console_settings").fetch_all(&pool).await.unwrap();
    format!("{credentials:?} {audit:?} {settings:?}")
}

#[tokio::test]
async fn setup_opens_the_step_where_the_merchant_stopped_with_the_steps_before_it_done() {
    let app = spawn_with(|_| {}).await;
    let admin = app.console_user("admin").await;
    assert_eq!(location(&app, &admin).await, "/console/setup/providers", "the first step at the start");
    let overview = page(&app, &admin, "/console").await;
    assert!(overview.contains("href=\"/console/setup\""), "the navigation has Setup");

    let keys = page(&app, &admin, "/console/setup/keys").await;
    assert_eq!(keys.matches("steps__step--done").count(), 2, "providers and register are done");
    assert_eq!(keys.matches("aria-current=\"step\"").count(), 1);
    for step in ["providers", "register", "keys", "integrate", "test", "golive"] {
        assert!(keys.contains(&format!("href=\"/console/setup/{step}\"")), "a link to {step}");
    }
    assert_eq!(location(&app, &admin).await, "/console/setup/keys");
    page(&app, &admin, "/console/setup/register").await;
    assert_eq!(location(&app, &admin).await, "/console/setup/register");
}

#[tokio::test]
async fn fee_terms_are_stored_exactly_and_bad_input_is_named_and_kept() {
    let app = spawn_with(|_| {}).await;
    let admin = app.console_user("admin").await;
    let providers = page(&app, &admin, "/console/setup/providers").await;
    for name in ["WeChat Pay", "Alipay", "PayPal", "Sandbox wallet", "mainland China", "abroad"] {
        assert!(providers.contains(name), "{name}");
    }

    let terms = [
        ("provider", "wechat_pay"),
        ("rate", "0.6"),
        ("fixed", "0.30"),
        ("monthly", "0"),
        ("withdrawal", "2"),
        ("currency", "cny"),
    ];
    let saved = app.console_post(&admin, "/console/setup/providers", &terms).send().await.unwrap();
    assert_eq!(saved.status(), 200);
    assert!(saved.text().await.unwrap().contains("data-testid=\"notice\""));
    let store = app.store().await;
    let recorded = store.provider_terms().await.unwrap();
    assert_eq!(recorded.len(), 1);
    let wechat = &recorded[0];
    assert_eq!(
        (
            wechat.rate_bp,
            wechat.fixed_minor,
            wechat.monthly_minor,
            wechat.withdrawal_minor,
            wechat.currency.as_str()
        ),
        (60, 30, 0, 200, "CNY")
    );
    let yen = [("provider", "paypal"), ("rate", "3.49"), ("fixed", "40"), ("currency", "JPY")];
    app.console_post(&admin, "/console/setup/providers", &yen).send().await.unwrap();
    let paypal = store.provider_terms().await.unwrap().into_iter().find(|t| t.provider == "paypal").unwrap();
    assert_eq!((paypal.rate_bp, paypal.fixed_minor, paypal.currency.as_str()), (349, 40, "JPY"));

    let bad = [
        ("provider", "wechat_pay"),
        ("rate", "100.5"),
        ("fixed", "0.305"),
        ("monthly", "12"),
        ("withdrawal", "1"),
        ("currency", "CNY"),
    ];
    let answer = app.console_post(&admin, "/console/setup/providers", &bad).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.unwrap();
    assert!(html.contains("data-testid=\"problem\""), "a clear message");
    assert!(
        html.contains("value=\"100.5\"") && html.contains("value=\"0.305\"") && html.contains("value=\"12\""),
        "nothing typed is lost"
    );
    assert_eq!(html.matches("aria-invalid=\"true\"").count(), 2, "the two wrong fields are marked");
    let unchanged =
        store.provider_terms().await.unwrap().into_iter().find(|t| t.provider == "wechat_pay").unwrap();
    assert_eq!(unchanged.rate_bp, 60, "bad terms change nothing");

    let audit = audit_actions(&app).await;
    let entries: Vec<_> = audit.iter().filter(|(action, _, _)| action == "setup.provider_terms").collect();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|(_, name, _)| name == "admin person"));
}

#[tokio::test]
async fn the_register_step_lists_what_to_prepare_and_where_to_go_in_both_languages() {
    let app = spawn_with(|_| {}).await;
    let admin = app.console_user("admin").await;
    let html = page(&app, &admin, "/console/setup/register").await;
    for link in [
        "https://pay.weixin.qq.com",
        "https://open.alipay.com",
        "https://developer.paypal.com/dashboard/applications",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(html.contains("APIv3") && html.contains("RSA2") && html.contains("Webhook ID"));
    app.console_post(&admin, "/console/account/language", &[("locale", "zh-CN")]).send().await.unwrap();
    let chinese = page(&app, &admin, "/console/setup/register").await;
    assert!(chinese.contains("lang=\"zh-CN\"") && chinese.contains("营业执照"), "in Chinese");
}

/// Enters PayPal's credentials for `mock` in the console.
async fn enter_paypal(app: &TestApp, admin: &ConsoleUser, mock: &PayPalMock) -> String {
    let fields = [
        ("provider", "paypal"),
        ("environment", "sandbox"),
        ("base_url", mock.base()),
        ("client_id", mock.client_id()),
        ("client_secret", mock.client_secret()),
        ("webhook_id", mock.webhook_id()),
    ];
    let response = app.console_post(admin, "/console/setup/keys", &fields).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

async fn paypal_session(app: &TestApp) -> reqwest::Response {
    let order = app.new_order().await;
    app.create_session(&format!("key-{order}"), &session_body(&order, "paypal")).await
}

#[tokio::test]
async fn credentials_entered_in_the_console_make_paypal_work_and_are_never_shown_or_stored_in_the_clear() {
    let mock = PayPalMock::start().await.unwrap();
    let db = test_db().await;
    let mut app = spawn_on(&db, |config| config.sandbox = false).await;
    app.db = Some(db);
    let admin = app.console_user("admin").await;
    assert_eq!(paypal_session(&app).await.status(), 422, "no PayPal before its keys");
    let before = page(&app, &admin, "/console/setup/keys").await;
    assert!(before.contains("WC_PROVIDERS__PAYPAL__CLIENT_SECRET"), "the configuration file's way is named");

    let html = enter_paypal(&app, &admin, &mock).await;
    assert!(html.contains("data-testid=\"notice\""), "saved and in use: {html}");

    // The provider built from the console's keys creates a payment at PayPal (the mock).
    let session = paypal_session(&app).await;
    assert_eq!(session.status(), 201);
    let session: serde_json::Value = session.json().await.unwrap();
    assert_eq!(session["next_action"]["type"], "redirect", "{session}");
    assert!(mock.order_of(session["id"].as_str().unwrap()).is_some(), "the order was created at PayPal");

    // Never shown again: the page has fingerprints, not the values.
    let keys = page(&app, &admin, "/console/setup/keys").await;
    for secret in [mock.client_secret(), mock.client_id(), mock.webhook_id()] {
        assert!(!keys.contains(secret), "the page never shows a stored value");
    }
    let fingerprint = wallet_checkout_server::app::wallet_setup::fingerprint(mock.client_secret());
    assert!(keys.contains(&fingerprint), "the secret's fingerprint is shown");
    assert!(keys.contains("admin person"), "and who set it");
    assert!(keys.contains(mock.base()), "the API address is not a secret and is shown");

    // Sealed in the database; the audit log names the fields, not the values.
    let stored = stored_text(&app).await;
    for secret in [mock.client_secret(), mock.client_id(), mock.webhook_id()] {
        assert!(!stored.contains(secret), "the database never holds a value in the clear");
    }
    assert!(stored.contains(&fingerprint));
    let audit = audit_actions(&app).await;
    assert!(audit.iter().any(|(action, name, detail)| action == "setup.credentials.set"
        && name == "admin person"
        && detail.contains("client_secret")));

    // Removing the secret takes PayPal out of use at once; entering it again brings it back.
    let removed = app
        .console_post(
            &admin,
            "/console/setup/keys/remove",
            &[("provider", "paypal"), ("remove", "client_secret")],
        )
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), 200);
    assert!(removed.text().await.unwrap().contains("data-testid=\"problem\""), "PayPal is no longer in use");
    assert_eq!(paypal_session(&app).await.status(), 422);
    assert!(audit_actions(&app).await.iter().any(|(action, _, _)| action == "setup.credentials.remove"));
    let replaced = app
        .console_post(
            &admin,
            "/console/setup/keys",
            &[("provider", "paypal"), ("client_secret", mock.client_secret())],
        )
        .send()
        .await
        .unwrap();
    assert!(replaced.text().await.unwrap().contains("data-testid=\"notice\""));
    assert_eq!(paypal_session(&app).await.status(), 201);

    // After a restart the server builds PayPal from the stored keys (same data directory, same
    // secrets key).
    let db = app.db.take().unwrap();
    drop(app);
    let mut again = spawn_on(&db, |config| config.sandbox = false).await;
    again.db = Some(db);
    assert_eq!(paypal_session(&again).await.status(), 201, "stored keys are used at startup");
}

#[tokio::test]
async fn a_value_that_does_not_fit_is_named_and_the_others_are_saved() {
    let app = spawn_with(|_| {}).await;
    let admin = app.console_user("admin").await;
    let answer = app
        .console_post(
            &admin,
            "/console/setup/keys",
            &[("provider", "alipay"), ("app_id", "2021000000000042"), ("app_private_key_pem", "not a key!")],
        )
        .send()
        .await
        .unwrap();
    let html = answer.text().await.unwrap();
    assert!(html.contains("data-testid=\"problem\""));
    assert!(html.contains("App private key"), "the wrong field is named");
    let stored = app.store().await.provider_credentials().await.unwrap();
    assert_eq!(stored.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["app_id"]);
    assert!(!html.contains("not a key!"));
}

#[tokio::test]
async fn the_integrate_step_gives_this_servers_snippet_with_its_hash_and_the_notification_urls() {
    let widget = tempfile::TempDir::new().unwrap();
    let module_hash = format!("sha384-{}", "M".repeat(64));
    let loader_hash = format!("sha384-{}", "L".repeat(64));
    std::fs::write(
        widget.path().join("embed.json"),
        format!(
            r#"{{"links": [{{"rel": "preload", "href": "wallet-checkout.0123456789ab.wasm", "as": "fetch",
                "crossorigin": "anonymous", "integrity": "{module_hash}"}}],
              "script": {{"type": "module", "src": "wallet-checkout.ba9876543210.js",
                "integrity": "{loader_hash}", "crossorigin": "anonymous"}}}}"#
        ),
    )
    .unwrap();
    let dir = widget.path().to_path_buf();
    let app = spawn_with(move |config| {
        config.public_url = Some(url::Url::parse("https://pay.shop.example/").unwrap());
        config.widget_dir = dir;
        config.allowed_origins = vec![axum::http::HeaderValue::from_static("https://shop.example")];
    })
    .await;
    let admin = app.console_user("admin").await;
    let html = page(&app, &admin, "/console/setup/integrate").await;
    assert!(
        html.contains(&format!(
            "&lt;link rel=&quot;preload&quot; \
             href=&quot;https://pay.shop.example/wallet-checkout/wallet-checkout.0123456789ab.wasm&quot; \
             as=&quot;fetch&quot; crossorigin=&quot;anonymous&quot; integrity=&quot;{module_hash}&quot;&gt;"
        )),
        "the module's preload, with its hash: {html}"
    );
    assert!(
        html.contains(&format!(
            "&lt;script type=&quot;module&quot; \
             src=&quot;https://pay.shop.example/wallet-checkout/wallet-checkout.ba9876543210.js&quot; \
             integrity=&quot;{loader_hash}&quot; crossorigin=&quot;anonymous&quot;&gt;&lt;/script&gt;"
        )),
        "the versioned loader, with its hash"
    );
    assert!(!html.contains("no integrity hash"), "no warning of a missing build");
    assert!(html.contains("endpoint=&quot;https://pay.shop.example/api/checkout&quot;"));
    for provider in ["wechat_pay", "alipay", "paypal"] {
        let url = format!("https://pay.shop.example/api/providers/{provider}/notify");
        assert!(html.contains(&format!("<code id=\"notify-{provider}\">{url}</code>")), "{url}");
        assert!(html.contains(&format!("data-copy=\"notify-{provider}\"")), "a copy button for {url}");
    }
    assert!(html.contains("data-copy=\"snippet\""));
    assert!(html.contains("<code>https://shop.example</code>"), "the allowed origins");
}

#[tokio::test]
async fn only_admins_open_the_setup_and_every_change_needs_the_session_token() {
    let app = spawn_with(|_| {}).await;
    let paths = [
        "/console/setup",
        "/console/setup/providers",
        "/console/setup/register",
        "/console/setup/keys",
        "/console/setup/integrate",
    ];
    let changes: [(&str, &[(&str, &str)]); 3] = [
        ("/console/setup/providers", &[("provider", "paypal"), ("rate", "1"), ("currency", "USD")]),
        ("/console/setup/keys", &[("provider", "paypal"), ("client_secret", "sekrit-from-a-viewer")]),
        ("/console/setup/keys/remove", &[("provider", "paypal"), ("remove", "client_secret")]),
    ];
    for role in ["viewer", "operator"] {
        let member = app.console_user(role).await;
        for path in paths {
            assert_eq!(app.console_get(&member, path).send().await.unwrap().status(), 403, "{role} {path}");
        }
        for (path, fields) in changes {
            assert_eq!(
                app.console_post(&member, path, fields).send().await.unwrap().status(),
                403,
                "{role} {path}"
            );
        }
        let overview = page(&app, &member, "/console").await;
        assert!(!overview.contains("href=\"/console/setup\""), "no Setup in the {role}'s navigation");
    }
    let admin = app.console_user("admin").await;
    let forged = ConsoleUser { csrf: "forged".into(), ..admin.clone() };
    for (path, fields) in changes {
        assert_eq!(app.console_post(&forged, path, fields).send().await.unwrap().status(), 403, "{path}");
    }
    let store = app.store().await;
    assert!(store.provider_terms().await.unwrap().is_empty(), "nothing changed");
    assert!(store.provider_credentials().await.unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn wechat_pay_keys_pasted_as_pem_in_the_console_create_a_payment_at_the_mock() {
    let (mock, _dir, toml) = crate::helpers::wechat_pay::mock_with_config("").await;
    let file = wallet_checkout_server::providers::ProviderSettings::from_toml(&toml).unwrap();
    let file = file.wechat_pay.unwrap();
    let read = |path: &Option<wallet_checkout_server::providers::settings::Text>| {
        std::fs::read_to_string(path.as_ref().expect("a key file").as_str()).unwrap()
    };
    let private_key = read(&file.merchant_private_key_file);
    let public_key = read(&file.wechatpay_public_key_file);
    let app = spawn_with(|config| config.sandbox = false).await;
    let admin = app.console_user("admin").await;
    let fields = [
        ("provider", "wechat_pay"),
        ("environment", "sandbox"),
        ("base_url", file.base_url.as_ref().unwrap().as_str()),
        ("mchid", file.mchid.as_str()),
        ("appid", file.appid.as_str()),
        ("merchant_serial_no", file.merchant_serial_no.as_str()),
        ("merchant_private_key_pem", private_key.as_str()),
        ("apiv3_key", file.apiv3_key.expose()),
        ("wechatpay_public_key_id", file.wechatpay_public_key_id.as_ref().unwrap().as_str()),
        ("wechatpay_public_key_pem", public_key.as_str()),
    ];
    let html =
        app.console_post(&admin, "/console/setup/keys", &fields).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("data-testid=\"notice\""), "WeChat Pay is in use: {html}");
    let pem_body = private_key.lines().nth(1).unwrap();
    assert!(
        !html.contains(pem_body) && !html.contains(file.apiv3_key.expose()),
        "keys are never shown again"
    );

    let order = app.new_order().await;
    let session = app.create_session(&format!("key-{order}"), &session_body(&order, "wechat_pay")).await;
    assert_eq!(session.status(), 201);
    let session: serde_json::Value = session.json().await.unwrap();
    let code_url = mock.code_url(session["id"].as_str().unwrap()).expect("a Native order at the mock");
    assert_eq!(session["next_action"]["payload"], code_url.as_str());
    let stored = stored_text(&app).await;
    assert!(!stored.contains(pem_body) && !stored.contains(file.apiv3_key.expose()));
}

#[tokio::test]
async fn a_value_stored_in_the_console_wins_over_the_configuration_file() {
    let mock = PayPalMock::start().await.unwrap();
    let toml = mock.config_toml().replace(mock.client_secret(), "a-stale-secret-from-the-file");
    let file = wallet_checkout_server::providers::ProviderSettings::from_toml(&toml).unwrap();
    let app = spawn_with(|config| {
        config.sandbox = false;
        config.providers = file;
    })
    .await;
    assert_ne!(paypal_session(&app).await.status(), 201, "PayPal refuses the file's stale secret");
    let admin = app.console_user("admin").await;
    let html = app
        .console_post(
            &admin,
            "/console/setup/keys",
            &[("provider", "paypal"), ("client_secret", mock.client_secret())],
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-testid=\"notice\""));
    assert_eq!(paypal_session(&app).await.status(), 201, "the console's secret is used");
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_check_sees_the_keys_entered_in_the_console_and_never_prints_them() {
    let mock = PayPalMock::start().await.unwrap();
    let app = spawn_with(|config| config.sandbox = false).await;
    let admin = app.console_user("admin").await;
    enter_paypal(&app, &admin, &mock).await;
    let db = app.db.as_ref().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
        .args(["providers", "check"])
        .env("WC_DATA_DIR", &db.data_dir)
        .env("DATABASE_URL", &db.url)
        .env("WC_SANDBOX", "false")
        .env("WC_BIND", "127.0.0.1:0")
        .env("NO_COLOR", "1")
        .env_remove("WC_CONFIG")
        .output()
        .unwrap();
    let said =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{said}");
    assert!(said.contains("paypal: OK"), "{said}");
    assert!(!said.contains(mock.client_secret()) && !said.contains(mock.client_id()), "{said}");
}
