//! A real server on port 0 with a fresh database, and a plain HTTP client to talk to it.
//!
//! The database is SQLite in a temporary directory, or, when `WC_TEST_POSTGRES` holds the URL of
//! a PostgreSQL server (`make test` starts one), a new PostgreSQL database per test, copied from
//! one the run migrated first: the whole suite runs against both.

#![allow(dead_code)]

pub mod alipay;
pub mod codes;
pub mod paypal;
pub mod wechat_pay;

use rand::{distributions::Alphanumeric, Rng};
use reqwest::{redirect::Policy, Client, RequestBuilder, Response};
use serde_json::{json, Value};
use sqlx::{Connection, Executor};
use std::path::PathBuf;
use std::sync::Arc;
use tempfile::TempDir;
use wallet_checkout_server::{
    config::Config, db::Db, domain::TestClock, startup::Application, state::AppState,
};

/// A database for one test; it lives as long as this value.
pub struct TestDb {
    pub url: String,
    pub data_dir: PathBuf,
    _dir: TempDir,
}

pub async fn test_db() -> TestDb {
    let dir = TempDir::new().expect("temporary directory");
    let data_dir = dir.path().to_path_buf();
    let url = match std::env::var("WC_TEST_POSTGRES") {
        Ok(server) if !server.is_empty() => fresh_postgres_database(&server).await,
        _ => Config::for_tests(data_dir.clone()).database_url,
    };
    TestDb { url, data_dir, _dir: dir }
}

async fn fresh_postgres_database(server: &str) -> String {
    let template = migrated_template(server).await;
    let name = format!("wc_test_{}", random_name());
    let mut connection =
        sqlx::PgConnection::connect(server).await.expect("the test PostgreSQL server answers");
    connection
        .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
        .await
        .expect("a test database");
    database_url(server, &name)
}

/// A database this run of the suite migrated once, that each test's database is a copy of:
/// migrating a new database for each of some 240 tests cost PostgreSQL about a minute of CPU,
/// copying one costs it a few milliseconds. The migrations themselves still run here, from an
/// empty database, on every run.
async fn migrated_template(server: &str) -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("wc_template_{}", random_name());
            let mut connection =
                sqlx::PgConnection::connect(server).await.expect("the test PostgreSQL server answers");
            connection
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("a template database");
            let db = Db::connect(&database_url(server, &name)).await.expect("the template migrates");
            // A database is copied only while nobody is connected to it.
            db.close().await;
            name
        })
        .await
}

fn random_name() -> String {
    let name: String = rand::thread_rng().sample_iter(&Alphanumeric).take(16).map(char::from).collect();
    name.to_ascii_lowercase()
}

fn database_url(server: &str, name: &str) -> String {
    let mut url = url::Url::parse(server).expect("WC_TEST_POSTGRES is a URL");
    url.set_path(name);
    url.to_string()
}

/// Makes a merchant API key as the command line would (audited under `by`), at the system's time.
pub async fn make_key(
    db: &wallet_checkout_server::db::Db,
    name: &str,
    role: wallet_checkout_server::domain::Role,
    livemode: bool,
    by: &str,
) -> Result<(wallet_checkout_server::db::ApiKeyRecord, String), wallet_checkout_server::app::AppError> {
    use wallet_checkout_server::domain::Clock;
    let actor = wallet_checkout_server::app::Actor::new(by, by);
    let now = wallet_checkout_server::domain::SystemClock.now();
    wallet_checkout_server::app::api_keys::make_key(db, name, role, livemode, &actor, now).await
}

/// Whether the suite runs on PostgreSQL (`WC_TEST_POSTGRES` names a server).
pub fn on_postgres() -> bool {
    std::env::var("WC_TEST_POSTGRES").is_ok_and(|server| !server.is_empty())
}

/// For a test in an `on_sqlite` module: it means nothing on PostgreSQL, where `make test` skips it.
pub fn require_sqlite(db: &TestDb) {
    assert!(
        !db.url.starts_with("postgres"),
        "a test of the embedded SQLite database: skip it on PostgreSQL (--skip ::on_sqlite::)"
    );
}

/// For a test in an `on_sqlite` module that makes its own database.
pub fn require_sqlite_run() {
    assert!(
        !on_postgres(),
        "a test of the embedded SQLite database: skip it on PostgreSQL (--skip ::on_sqlite::)"
    );
}

/// For a test in an `on_postgres` module: it needs PostgreSQL, and `make test` skips it on SQLite.
pub fn require_postgres(db: &TestDb) {
    assert!(
        db.url.starts_with("postgres"),
        "a test that needs PostgreSQL: set WC_TEST_POSTGRES, or skip it (--skip ::on_postgres::)"
    );
}

/// Waits until `done` holds, asking again every 20 ms, for at most 10 seconds: the one way the
/// suite waits for something that happens over real I/O (a delivery, a notification, a process).
pub async fn eventually(what: &str, done: impl AsyncFnMut() -> bool) {
    eventually_within(what, std::time::Duration::from_secs(10), done).await;
}

/// [`eventually`] with a deadline of its own, for what takes longer by design (a lease to run out).
pub async fn eventually_within(what: &str, within: std::time::Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + within;
    loop {
        if done().await {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The `id` of an answer's object.
pub fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

impl TestDb {
    /// The store behind the API, for tests that check what the API does not show.
    pub async fn store(&self) -> Db {
        Db::connect(&self.url).await.expect("the test database opens")
    }
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub db: Option<TestDb>,
    /// The server's clock, which the test moves ahead (`advance`).
    pub clock: Arc<TestClock>,
    /// What the server's routes share (`None` for a server the test started as a process).
    pub state: Option<AppState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub async fn spawn() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let db = test_db().await;
    let mut app = spawn_on(&db, adjust).await;
    app.db = Some(db);
    app
}

/// Starts a server on an existing database (to test restarts or several instances).
pub async fn spawn_on(db: &TestDb, adjust: impl FnOnce(&mut Config)) -> TestApp {
    wallet_checkout_server::telemetry::init_for_tests();
    let mut config = Config::for_tests(db.data_dir.clone());
    config.database_url = db.url.clone();
    adjust(&mut config);
    let clock = TestClock::new();
    let app = Application::build_with_clock(config, clock.clone()).await.expect("the app builds");
    let base = format!("http://{}", app.address());
    let state = app.state().clone();
    let server = tokio::spawn(async move {
        app.run_until_stopped().await.expect("the server runs");
    });
    let client = Client::builder().redirect(Policy::none()).build().unwrap();
    TestApp { base, client, db: None, clock, state: Some(state), server }
}

impl TestApp {
    fn server_state(&self) -> &AppState {
        self.state.as_ref().expect("a server started in the test")
    }

    /// The server's provider of `wallet`, to call as the payments layer does.
    pub fn provider(
        &self,
        wallet: &str,
    ) -> std::sync::Arc<dyn wallet_checkout_server::providers::PaymentProvider> {
        let wallet = wallet_checkout_contract::WalletId::parse(wallet).expect("a wallet id");
        self.server_state().providers.provider_for(&wallet).expect("the wallet's provider")
    }

    /// Moves the server's clock ahead by `by` and runs a sweep at once: what was due in that
    /// time (an expiry, a question to a wallet, a refund's follow-up) has happened when it
    /// returns.
    pub async fn advance(&self, by: std::time::Duration) {
        self.clock.advance(by);
        self.sweep().await;
    }

    /// One round of the sweep, now.
    pub async fn sweep(&self) {
        wallet_checkout_server::startup::sweep_round(self.server_state()).await;
    }

    /// One round of the alert rules, now, at the server's clock (what the evaluator does every
    /// `alert_check_ms`): how many alerts it opened.
    pub async fn evaluate_alerts(&self) -> usize {
        let state = self.server_state();
        wallet_checkout_server::app::alerts::evaluate(&state.db, state.now())
            .await
            .expect("the alert rules run")
    }

    /// How long a session can be paid on this server (its `session_ttl_secs`).
    pub fn session_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.server_state().config.session_ttl_secs)
    }

    /// Moves the server's clock a second past the sessions' time to live and runs a sweep: every
    /// session made before, unless it was paid, has expired when it returns.
    pub async fn advance_past_session_ttl(&self) {
        self.advance(self.session_ttl() + std::time::Duration::from_secs(1)).await;
    }

    /// Moves the server's clock to the moment the session `id` expires, and no further, and runs
    /// a sweep: the session has expired when it returns, and what is due only after its expiry
    /// (the sandbox's payment scripted for a second later) has not happened yet.
    pub async fn advance_to_expiry(&self, id: &str) {
        use wallet_checkout_server::domain::Clock;
        let id = wallet_checkout_contract::SessionId::parse(id).expect("a session id");
        let session =
            self.server_state().db.session(&id).await.expect("the store answers").expect("the session");
        let left = session.expires_at - self.clock.now();
        self.advance(std::time::Duration::from_millis(u64::try_from(left).unwrap_or(0))).await;
    }

    /// For a session the sandbox wallet is to pay after its expiry (`pay-after-expiry`): moves
    /// the server's clock to its expiry, which the sweep carries out, and then to the moment the
    /// wallet pays, which the next sweep carries out (the wallet notifies the server before it
    /// returns).
    pub async fn advance_to_late_payment(&self, id: &str) {
        use wallet_checkout_server::providers::sandbox::PAY_LATE_AFTER_EXPIRY_MS;
        self.advance_to_expiry(id).await;
        self.advance(std::time::Duration::from_millis(PAY_LATE_AFTER_EXPIRY_MS.unsigned_abs())).await;
    }

    /// Waits until a read of a session is held waiting for a change (`/readyz` counts them), so
    /// that what the test does next happens while the read waits.
    pub async fn until_a_read_waits(&self) {
        let ready = self.url("/readyz");
        eventually("a read to be waiting", async || {
            let ready: Value = self.client.get(&ready).json_answer().await;
            ready["waiting_reads"].as_u64().unwrap_or(0) > 0
        })
        .await;
    }

    /// A new merchant API key with `role` (test mode), made as the command line makes one.
    pub async fn api_key(&self, role: wallet_checkout_server::domain::Role) -> String {
        let store = self.store().await;
        make_key(&store, &format!("{role} key"), role, false, "test").await.expect("a key").1
    }

    /// A request to the merchant API (`/api/v1{path}`) with `secret`.
    pub fn merchant(&self, method: reqwest::Method, path: &str, secret: &str) -> RequestBuilder {
        self.client.request(method, self.url(&format!("/api/v1{path}"))).bearer_auth(secret)
    }

    /// A client for a server running elsewhere (a binary the test started) at `base`.
    pub fn at(base: &str) -> TestApp {
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        TestApp {
            base: base.to_owned(),
            client,
            db: None,
            clock: TestClock::new(),
            state: None,
            server: tokio::spawn(async {}),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/checkout{}", self.base, path)
    }

    pub async fn store(&self) -> Db {
        self.db.as_ref().expect("a test database").store().await
    }

    /// The vault that seals this server's secrets at rest (its key file in the data directory).
    pub fn vault(&self) -> wallet_checkout_server::vault::Vault {
        let data_dir = &self.db.as_ref().expect("a test database").data_dir;
        wallet_checkout_server::vault::Vault::open(None, None, data_dir).expect("the vault opens")
    }

    /// Creates an order through the demo store and returns its id.
    pub async fn new_order(&self) -> String {
        let response = self.client.get(self.url("/")).send().await.unwrap();
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        location.strip_prefix("/store/orders/").expect("redirect to the order page").to_owned()
    }

    pub async fn create_session(&self, key: &str, body: &Value) -> Response {
        self.client
            .post(self.api("/sessions"))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a session for `order` and returns its JSON.
    pub async fn session_for(&self, order: &str, wallet: &str) -> Value {
        let key = format!("key-{order}-{wallet}");
        let response = self.create_session(&key, &session_body(order, wallet)).await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// Creates a session for a new order and returns its JSON.
    pub async fn new_session(&self, wallet: &str) -> Value {
        let order = self.new_order().await;
        self.session_for(&order, wallet).await
    }

    pub async fn get_session(&self, id: &str) -> Value {
        let response = self.client.get(self.api(&format!("/sessions/{id}"))).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Presses a button on the sandbox pay page.
    pub async fn sandbox(&self, session_id: &str, decision: &str) -> Response {
        self.client.post(self.url(&format!("/sandbox/pay/{session_id}/{decision}"))).send().await.unwrap()
    }
}

pub fn session_body(order: &str, wallet: &str) -> Value {
    json!({
        "order_id": order,
        "wallet_id": wallet,
        "return_url": format!("http://127.0.0.1/store/orders/{order}"),
        "device": "desktop",
    })
}

/// The console session cookie an answer sets (`name=value`).
pub fn session_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("__Host-wc_console=") && cookie.len() > "__Host-wc_console=".len())
}

/// Sends a request and reads its answer as JSON, whatever the status.
pub trait JsonAnswer {
    fn json_answer(self) -> impl std::future::Future<Output = Value>;
}

impl JsonAnswer for RequestBuilder {
    async fn json_answer(self) -> Value {
        self.send().await.expect("an answer").json().await.expect("a JSON body")
    }
}

/// Asserts the contract's error body and returns its code.
pub async fn error_code(response: Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("an error body in JSON");
    let message = body["error"]["message"].as_str().expect("error.message is a string");
    assert!(!message.is_empty());
    body["error"]["code"].as_str().expect("error.code is a string").to_owned()
}

/// A staff member signed in to the console: the cookie to send and the form token.
#[derive(Debug, Clone)]
pub struct ConsoleUser {
    pub email: String,
    pub password: String,
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    /// Makes a staff member with `role` (as the command line does) and signs them in.
    pub async fn console_user(&self, role: &str) -> ConsoleUser {
        let store = self.store().await;
        let email = format!("{role}-{}@shop.example", rand::thread_rng().gen_range(0..1_000_000_000u64));
        let password = wallet_checkout_server::console::create_staff(
            &store,
            &format!("{role} person"),
            &email,
            role,
            "test",
        )
        .await
        .expect("a staff member");
        self.console_sign_in(&email, &password, "").await.expect("signed in")
    }

    /// The sign-in form's pre-session cookie and token, as a browser gets them with the page.
    pub async fn sign_in_token(&self) -> (String, String) {
        let page = self.client.get(self.url("/console/login")).send().await.unwrap();
        let cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
            .find(|cookie| cookie.starts_with("__Host-wc_sign_in="))
            .expect("the sign-in page sets its cookie");
        let html = page.text().await.unwrap();
        let token = html
            .split("name=\"sign_in_token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the sign-in form carries its token")
            .to_owned();
        (cookie, token)
    }

    /// A sign-in as the console's own form sends it (its cookie and token), with `fields`.
    pub async fn sign_in_request(&self, fields: &[(&str, &str)]) -> RequestBuilder {
        let (cookie, token) = self.sign_in_token().await;
        let mut form: Vec<(&str, &str)> = vec![("sign_in_token", token.as_str())];
        form.extend_from_slice(fields);
        let form: Vec<(String, String)> =
            form.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        self.client.post(self.url("/console/login")).header("cookie", cookie).form(&form)
    }

    /// The answer to a sign-in through the console's form.
    pub async fn sign_in_answer(&self, email: &str, password: &str, code: &str) -> Response {
        self.sign_in_request(&[
            ("email", email),
            ("password", password),
            ("code", code),
            ("next", "/console"),
        ])
        .await
        .send()
        .await
        .unwrap()
    }

    /// Signs in; `Err` is the sign-in page's answer when it refuses. A member whose password is a
    /// one-time password replaces it first (with `<password>-chosen`), as the console asks.
    pub async fn console_sign_in(
        &self,
        email: &str,
        password: &str,
        code: &str,
    ) -> Result<ConsoleUser, Response> {
        let response = self.sign_in_answer(email, password, code).await;
        if response.status() != 303 {
            return Err(response);
        }
        let cookie = session_cookie(&response).expect("a session cookie");
        let csrf = |html: &str| {
            html.split("name=\"csrf\" value=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("a form with the CSRF token")
                .to_owned()
        };
        let mut user = ConsoleUser {
            email: email.to_owned(),
            password: password.to_owned(),
            cookie,
            csrf: String::new(),
        };
        if response.headers()["location"] == "/console/account/password" {
            let page = self.console_get(&user, "/console/account/password").send().await.unwrap();
            user.csrf = csrf(&page.text().await.unwrap());
            let chosen = format!("{password}-chosen");
            let changed = self
                .console_post(&user, "/console/account/password", &[("current", password), ("new", &chosen)])
                .send()
                .await
                .unwrap();
            assert_eq!(changed.status(), 303, "the one-time password is replaced");
            user.password = chosen;
        }
        let page = self.console_get(&user, "/console/account").send().await.unwrap();
        user.csrf = csrf(&page.text().await.unwrap());
        Ok(user)
    }

    /// A console page as this member sees it.
    pub fn console_get(&self, user: &ConsoleUser, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).header("cookie", &user.cookie)
    }

    /// A console form sent by this member, with their CSRF token.
    pub fn console_post(&self, user: &ConsoleUser, path: &str, fields: &[(&str, &str)]) -> RequestBuilder {
        let mut form: Vec<(&str, &str)> = vec![("csrf", user.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client.post(self.url(path)).header("cookie", &user.cookie).form(&form)
    }
}
