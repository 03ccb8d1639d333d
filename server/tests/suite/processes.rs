//! Nothing lost: the real server binary, killed with SIGKILL in the middle of payments or stopped
//! with SIGTERM while readers wait, and (on PostgreSQL) two instances that behave as one.

use crate::helpers::{eventually, session_body, test_db, JsonAnswer, TestDb};
use nix::{sys::signal, unistd::Pid};
use reqwest::Client;
use serde_json::{json, Value};
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use wallet_checkout_contract::SessionId;

/// The server binary, running on a test database; everything it logs is kept.
struct Process {
    child: Child,
    base: String,
    log: Arc<Mutex<String>>,
}

fn server_command(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"));
    command
        .env("DATABASE_URL", &db.url)
        .env("WC_DATA_DIR", &db.data_dir)
        .env("WC_SESSION_RATE_PER_MINUTE", "0")
        // No demo admin: these tests count what is made and read every line as the log.
        .env("WC_DEMO_ADMIN", "false")
        .env("WC_WEBHOOK_RETRY_BASE_MS", "50")
        // An event the killed server was sending goes to the next after twice this (1 s).
        .env("WC_WEBHOOK_TIMEOUT_MS", "500")
        // The test store's origin (`session_body`), and webhook receivers on loopback.
        .env("WC_ALLOWED_ORIGINS", "http://127.0.0.1")
        .env("WC_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "debug,sqlx=info,hyper=info,reqwest=info,h2=info,rustls=info");
    command
}

/// The address in the server's "listening" line, as text or as JSON.
fn listening_address(line: &str) -> Option<String> {
    if let Some(address) = line.split("listening address=").nth(1) {
        return Some(address.trim().to_owned());
    }
    let entry: Value = serde_json::from_str(line).ok()?;
    let fields = &entry["fields"];
    (fields["message"].as_str()?.contains("listening"))
        .then(|| fields["address"].as_str().map(str::to_owned))?
}

impl Process {
    fn start(db: &TestDb) -> Self {
        Self::start_with(server_command(db))
    }

    fn start_with(mut command: Command) -> Self {
        let mut child = command
            .env("WC_BIND", "127.0.0.1:0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let log = Arc::new(Mutex::new(String::new()));
        let (sender, receiver) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(address) = listening_address(&line) {
                        let _ = sender.send(address);
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let address = receiver.recv_timeout(Duration::from_secs(30)).expect("the server listens");
        Self { child, base: format!("http://{address}"), log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/checkout{path}", self.base)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn terminate(&self) {
        signal::kill(Pid::from_raw(self.child.id() as i32), signal::Signal::SIGTERM).unwrap();
    }
}

/// Waits until `server` holds a waiting read open (its `/readyz` counts them).
async fn waiting_read_held(client: &Client, server: &Process) {
    eventually("the waiting read is held", async || {
        let ready: Value = client.get(server.url("/readyz")).json_answer().await;
        ready["waiting_reads"].as_u64().unwrap_or(0) > 0
    })
    .await;
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

async fn new_session(client: &Client, server: &Process, key: &str) -> String {
    let order: Value = client.post(server.url("/store/orders")).json_answer().await;
    let order = order["id"].as_str().unwrap();
    let session: Value = client
        .post(server.api("/sessions"))
        .header("Idempotency-Key", key)
        .json(&session_body(order, "wechat_pay"))
        .json_answer()
        .await;
    session["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn sigkill_in_the_middle_of_payments_loses_nothing() {
    let db = test_db().await;
    let client = client();
    let mut server = Process::start(&db);
    let mut sessions = Vec::new();
    for i in 0..40 {
        sessions.push(new_session(&client, &server, &format!("kill-{i}")).await);
    }
    // Approve them all at once and kill the server while the approvals are under way.
    let approvals: Vec<_> = sessions
        .iter()
        .map(|id| {
            let request = client.post(server.url(&format!("/sandbox/pay/{id}/approve"))).send();
            let id = id.clone();
            tokio::spawn(async move { (id, request.await.map(|r| r.status().as_u16()).ok()) })
        })
        .collect();
    let store = db.store().await;
    eventually("an approval is under way", async || {
        for id in &sessions {
            let session = store.session(&SessionId::parse(id.as_str()).unwrap()).await.unwrap().unwrap();
            if session.status.as_str() != "pending" {
                return true;
            }
        }
        false
    })
    .await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut confirmed = Vec::new();
    for approval in approvals {
        if let (id, Some(200)) = approval.await.unwrap() {
            confirmed.push(id);
        }
    }

    let server = Process::start(&db);
    let store = db.store().await;
    for id in &sessions {
        let session_id = SessionId::parse(id.as_str()).unwrap();
        let stored = store.session(&session_id).await.unwrap().expect("every created session is still there");
        let history = store.history(&session_id).await.unwrap();
        assert_eq!(history.first().unwrap().reason, "created");
        assert_eq!(history.last().unwrap().to, stored.status, "history and status agree for {id}");
        if confirmed.contains(id) {
            assert_eq!(stored.status.as_str(), "succeeded", "an approval that was answered is kept: {id}");
        }
    }
    // Tracking goes on: the sessions left pending can still be paid; the ones killed between
    // approval and confirmation are confirmed with the wallet; a waiting reader sees both.
    for id in &sessions {
        let status = client.get(server.api(&format!("/sessions/{id}"))).json_answer().await["status"].clone();
        if status == json!("pending") {
            client.post(server.url(&format!("/sandbox/pay/{id}/approve"))).send().await.unwrap();
        }
        let mut after: Value = client.get(server.api(&format!("/sessions/{id}"))).json_answer().await;
        if after["status"] == json!("processing") {
            after = client
                .get(server.api(&format!("/sessions/{id}?wait=10&status=processing")))
                .json_answer()
                .await;
        }
        assert_eq!(after["status"], json!("succeeded"), "{id}");
    }
    eprintln!("{} of {} approvals were answered before the kill", confirmed.len(), sessions.len());
}

#[tokio::test]
async fn sigterm_answers_waiting_readers_and_lets_requests_finish() {
    let db = test_db().await;
    let client = client();
    let mut server = Process::start(&db);
    let id = new_session(&client, &server, "term-1").await;
    let waiting = {
        let request = client.get(server.api(&format!("/sessions/{id}?wait=25"))).send();
        tokio::spawn(async move {
            let response = request.await.expect("the waiting read gets an answer");
            (response.status().as_u16(), response.json::<Value>().await.unwrap(), Instant::now())
        })
    };
    waiting_read_held(&client, &server).await;
    let signalled = Instant::now();
    server.terminate();
    let (status, body, answered) = waiting.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["status"], json!("pending"));
    assert!(
        answered.duration_since(signalled) < Duration::from_secs(3),
        "{:?}",
        answered.duration_since(signalled)
    );
    let exit = tokio::task::spawn_blocking(move || server.child.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "a clean exit: {exit:?}");
}

/// `wallet-checkout-server keys create ...`: the secret it prints.
fn create_key_with_the_command_line(db: &TestDb, name: &str, role: &str) -> String {
    let output = server_command(db)
        .args(["keys", "create", "--name", name, "--role", role])
        .output()
        .expect("the command runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.lines().find(|line| line.starts_with("sk_test_")).expect("the secret is printed").to_owned()
}

#[tokio::test]
async fn the_command_line_makes_the_first_admin_key_and_no_secret_reaches_the_log() {
    let db = test_db().await;
    let admin = create_key_with_the_command_line(&db, "Owner", "admin");
    let server = Process::start(&db);
    let client = client();
    // The admin key works: it makes an operator key and a webhook endpoint, whose secrets come
    // back in the answers only.
    let operator: Value = client
        .post(server.url("/api/v1/keys"))
        .bearer_auth(&admin)
        .json(&json!({ "name": "Shop backend", "role": "operator" }))
        .json_answer()
        .await;
    let operator = operator["secret"].as_str().unwrap().to_owned();
    let endpoint: Value = client
        .put(server.url("/api/v1/webhook-endpoint"))
        .bearer_auth(&admin)
        .json(&json!({ "url": "http://127.0.0.1:9/unreachable" }))
        .json_answer()
        .await;
    let webhook_secret = endpoint["secret"].as_str().unwrap().to_owned();
    let order: Value = client
        .post(server.url("/api/v1/orders"))
        .bearer_auth(&operator)
        .json(&json!({ "amount": { "minor_units": 500, "currency": "USD" }, "description": "Tea" }))
        .json_answer()
        .await;
    assert_eq!(order["status"], "open");
    let _ =
        client.get(server.url("/api/v1/orders")).bearer_auth("sk_test_a_wrong_guess").send().await.unwrap();
    let log: Value = client.get(server.url("/api/v1/audit-log")).bearer_auth(&admin).json_answer().await;
    let actions: Vec<&str> =
        log["data"].as_array().unwrap().iter().rev().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["key.create", "key.create", "key.create", "webhook_endpoint.update", "order.create"],
        "the command line's key, the demo store's key made at start and the operator key"
    );
    eventually("the order's log line", async || server.log().contains("order created")).await;

    let lines = server.log();
    assert!(lines.contains("order created"), "the log is being read");
    for secret in [admin.as_str(), operator.as_str(), webhook_secret.as_str(), "sk_test_a_wrong_guess"] {
        assert!(!lines.contains(secret), "a secret reached the log");
    }
    assert!(
        !lines.contains("sk_test_")
            && !lines.contains("whsec_")
            && !lines.to_ascii_lowercase().contains("authorization")
    );
}

#[tokio::test]
async fn webhook_events_survive_a_sigkill_and_are_delivered_after_restart() {
    use axum::{routing::post, Router};
    let db = test_db().await;
    let admin = create_key_with_the_command_line(&db, "Owner", "admin");
    // A receiver that is down at first.
    let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let app = {
        let (up, refused, received) = (up.clone(), refused.clone(), received.clone());
        Router::new().route(
            "/hooks",
            post(move |body: String| {
                let (up, refused, received) = (up.clone(), refused.clone(), received.clone());
                async move {
                    if !up.load(std::sync::atomic::Ordering::SeqCst) {
                        refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let event: Value = serde_json::from_str(&body).unwrap();
                    received.lock().unwrap().push(event["id"].as_str().unwrap().to_owned());
                    axum::http::StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = client();
    let mut server = Process::start(&db);
    client
        .put(server.url("/api/v1/webhook-endpoint"))
        .bearer_auth(&admin)
        .json(&json!({ "url": hook_url }))
        .send()
        .await
        .unwrap();
    let mut sessions = Vec::new();
    for i in 0..5 {
        let id = new_session(&client, &server, &format!("hook-{i}")).await;
        client.post(server.url(&format!("/sandbox/pay/{id}/approve"))).send().await.unwrap();
        sessions.push(id);
    }
    eventually("a delivery was tried", async || refused.load(std::sync::atomic::Ordering::SeqCst) > 0).await;
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert!(received.lock().unwrap().is_empty());

    let server = Process::start(&db);
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    let store = db.store().await;
    let expected: usize = 5 * 2; // created, succeeded
                                 // Each event failed against the receiver with backoff (doubling from 50 ms) for as long as the
                                 // first server ran, so its next attempt can be as far off again; and the event the killed
                                 // server was sending stays leased to it for twice the delivery timeout before another takes
                                 // it. The failed deliveries may also open an `alert.webhook_failures` alert, itself an event:
                                 // wait until everything in the outbox is delivered, then look at the sessions' events.
    crate::helpers::eventually_within(
        "every event delivered after the restart",
        Duration::from_secs(30),
        async || {
            let events = store.events(None, 100).await.unwrap();
            received.lock().unwrap().len() >= expected && events.iter().all(|e| e.delivered_at.is_some())
        },
    )
    .await;
    let events = store.events(None, 100).await.unwrap();
    let session_events: Vec<&str> =
        events.iter().filter(|e| e.kind.starts_with("session.")).map(|e| e.id.as_str()).collect();
    assert_eq!(session_events.len(), expected);
    let mut ids = received.lock().unwrap().clone();
    ids.sort();
    ids.dedup();
    for id in &session_events {
        assert!(ids.iter().any(|received| received == id), "{id} was delivered");
    }
    assert!(events.iter().all(|e| e.delivered_at.is_some()), "all marked delivered");
    drop(server);
}

#[tokio::test]
async fn json_logs_carry_the_session_id_on_every_line_about_a_session_and_the_request_id() {
    let db = test_db().await;
    let mut command = server_command(&db);
    command.env("WC_LOG_FORMAT", "json").env("RUST_LOG", "info");
    let server = Process::start_with(command);
    let client = client();
    let id = new_session(&client, &server, "logs-1").await;
    client.get(server.api(&format!("/sessions/{id}"))).send().await.unwrap();
    let approved = client.post(server.url(&format!("/sandbox/pay/{id}/approve"))).send().await.unwrap();
    let request_id = approved.headers()["x-request-id"].to_str().unwrap().to_owned();
    eventually("the approval's log lines", async || {
        server.log().lines().filter(|line| line.contains(&id)).count() >= 3
    })
    .await;
    // The lines written while serving the approval name that request, as its answer did.
    let named = server
        .log()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| entry["span"]["request_id"] == json!(request_id))
        .count();
    assert!(named >= 1, "no line names the request {request_id}");

    let log = server.log();
    let mut about_the_session = 0;
    for line in log.lines() {
        let entry: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}"));
        if !line.contains(&id) {
            continue;
        }
        about_the_session += 1;
        let in_fields = entry["fields"]["session_id"] == json!(id);
        let in_span = entry["span"]["session_id"] == json!(id);
        assert!(in_fields || in_span, "a line about the session without its session_id: {line}");
    }
    assert!(about_the_session >= 3, "{about_the_session} lines about the session:\n{log}");
}

/// Runs the server's command line against the database `command` names; answers its output.
fn server_cli(command: &Command, args: &[&str]) -> String {
    let mut cli = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"));
    cli.args(args).envs(command.get_envs().filter_map(|(k, v)| Some((k, v?))));
    let output = cli.output().expect("the command line runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn a_whole_runs_log_names_no_client_address_no_secret_and_no_e_mail_address() {
    const CLIENT: &str = "203.0.113.77";
    const EMAIL: &str = "owner@shop.example";
    let db = test_db().await;
    let mut command = server_command(&db);
    command.env("WC_LOG_FORMAT", "json").env("WC_TRUST_PROXY", "true").env("WC_SESSION_RATE_PER_MINUTE", "3");
    let key_output = server_cli(&command, &["keys", "create", "--name", "till", "--role", "operator"]);
    let secret = key_output.split_whitespace().find(|word| word.starts_with("sk_test_")).unwrap().to_owned();
    let staff_output =
        server_cli(&command, &["staff", "create", "--name", "Owner", "--email", EMAIL, "--role", "admin"]);
    let password = staff_output.trim().lines().last().unwrap().trim().to_owned();
    let server = Process::start_with(command);
    let client = client();
    let from = |request: reqwest::RequestBuilder| request.header("x-forwarded-for", CLIENT);

    // A merchant's order and payment, a refund, a session refused by the rate limit, a wrong
    // key, wrong sign-ins, a notification nobody signed.
    let order: Value = from(client.post(server.url("/api/v1/orders")))
        .bearer_auth(&secret)
        .header("Idempotency-Key", "log-order")
        .json(&json!({ "amount": { "minor_units": 2350, "currency": "CNY" }, "description": "Tea" }))
        .json_answer()
        .await;
    let order_id = order["id"].as_str().unwrap().to_owned();
    let mut created = Vec::new();
    for attempt in 0..5 {
        let answer = from(client.post(server.api("/sessions")))
            .header("Idempotency-Key", format!("log-{attempt}"))
            .json(&session_body(&order_id, "wechat_pay"))
            .send()
            .await
            .unwrap();
        created.push(answer.status().as_u16());
    }
    assert!(created.contains(&429), "the rate limit was met: {created:?}");
    let session_id = {
        let answer: Value = from(client.get(server.url(&format!("/api/v1/orders/{order_id}"))))
            .bearer_auth(&secret)
            .json_answer()
            .await;
        answer["sessions"][0]["id"].as_str().unwrap().to_owned()
    };
    let approved =
        from(client.post(server.url(&format!("/sandbox/pay/{session_id}/approve")))).send().await.unwrap();
    assert_eq!(approved.status(), 200);
    let refund = from(client.post(server.url(&format!("/api/v1/orders/{order_id}/refunds"))))
        .bearer_auth(&secret)
        .header("Idempotency-Key", "log-refund")
        .json(&json!({ "amount": { "minor_units": 100, "currency": "CNY" }, "reason": "Chipped cup" }))
        .send()
        .await
        .unwrap();
    assert!(refund.status().is_success(), "{}", refund.text().await.unwrap());
    let wrong_key = from(client.get(server.url("/api/v1/orders")))
        .bearer_auth("sk_test_wrongwrongwrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_key.status(), 401);
    for guess in ["guess-1", "guess-2"] {
        // As the console's own form signs in: its cookie and token first.
        let page = from(client.get(server.url("/console/login"))).send().await.unwrap();
        let cookie = page.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
        let html = page.text().await.unwrap();
        let token = html
            .split("name=\"sign_in_token\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();
        let answer = from(client.post(server.url("/console/login")))
            .header("cookie", cookie)
            .form(&[
                ("sign_in_token", token.as_str()),
                ("email", EMAIL),
                ("password", guess),
                ("next", "/console"),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            answer.contains("not right") || answer.contains("wrong") || answer.contains("incorrect"),
            "refused: {answer}"
        );
    }
    from(client.post(server.url("/api/providers/wechat_pay/notify")))
        .body("{\"id\":\"forged\"}")
        .send()
        .await
        .unwrap();

    eventually("the refund's log lines", async || server.log().contains("refund")).await;
    let log = server.log();
    assert!(log.contains(&session_id) && log.contains(&order_id), "the run is in the log:\n{log}");
    assert!(log.contains("sign-in"), "the failed sign-ins are in the log:\n{log}");
    for (what, text) in [
        ("the client's address", CLIENT),
        ("the API key", secret.as_str()),
        ("the wrong key", "sk_test_wrongwrongwrong"),
        ("the one-time password", password.as_str()),
        ("a guessed password", "guess-1"),
        ("the e-mail address", EMAIL),
    ] {
        assert!(
            !log.contains(text),
            "{what} is in the log:\n{}",
            log.lines().filter(|l| l.contains(text)).collect::<Vec<_>>().join("\n")
        );
    }
}

/// Tests of what only PostgreSQL has (several instances on one database); skipped on SQLite
/// (`make test` passes `--skip ::on_postgres::` there).
mod on_postgres {
    use super::*;

    #[tokio::test]
    async fn two_instances_on_postgresql_behave_as_one() {
        let db = test_db().await;
        crate::helpers::require_postgres(&db);
        let client = client();
        let first = Process::start(&db);
        let second = Process::start(&db);
        let id = new_session(&client, &first, "two-1").await;
        let waiting = {
            let request = client.get(first.api(&format!("/sessions/{id}?wait=25&status=pending"))).send();
            tokio::spawn(
                async move { (request.await.unwrap().json::<Value>().await.unwrap(), Instant::now()) },
            )
        };
        waiting_read_held(&client, &first).await;
        let approved = Instant::now();
        let answer = client.post(second.url(&format!("/sandbox/pay/{id}/approve"))).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        let (seen, at) = waiting.await.unwrap();
        assert_ne!(seen["status"], json!("pending"), "the reader on the first instance saw the change");
        assert!(at.duration_since(approved) < Duration::from_secs(2));
        let final_status: Value = client.get(first.api(&format!("/sessions/{id}"))).json_answer().await;
        assert_eq!(final_status["status"], json!("succeeded"));
    }
}
