//! Backups: `wallet-checkout-server backup` while the server takes payments, `restore` into an
//! empty data directory (and nothing else), and a server started on the restored data that has
//! every payment and outbox event committed before the backup began. On PostgreSQL the same test
//! runs against a dump made and restored with `pg_dump`/`pg_restore`. Then the console's page.

use crate::helpers::{eventually, spawn_on, test_db, TestApp, TestDb};
use serde_json::json;
use sqlx::{Connection, Executor, Row};
use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
};

/// Runs the server's command line on the test's database (awaited: see `in_background`).
async fn server(db: &TestDb, args: &[&str]) -> Output {
    let (url, data_dir) = (db.url.clone(), db.data_dir.clone());
    let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
    in_background(move || {
        Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
            .args(args)
            .env("DATABASE_URL", url)
            .env("WC_DATA_DIR", data_dir)
            .env_remove("WC_CONFIG")
            .output()
            .expect("the server binary runs")
    })
    .await
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

fn is_postgres(db: &TestDb) -> bool {
    db.url.starts_with("postgres")
}

/// Sessions created and paid through HTTP, one after another, until stopped: the ids of those
/// whose payment was answered (committed), in order.
struct Load {
    paid: Arc<Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

fn start_load(app: &Arc<TestApp>) -> Load {
    let paid = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn({
        let (app, paid, count, stop) = (app.clone(), paid.clone(), count.clone(), stop.clone());
        async move {
            while !stop.load(Ordering::SeqCst) {
                let session = app.new_session("wechat_pay").await;
                let id = session["id"].as_str().unwrap().to_owned();
                assert_eq!(app.sandbox(&id, "approve").await.status(), 200);
                paid.lock().unwrap().push(id);
                count.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    Load { paid, count, stop, task }
}

impl Load {
    async fn wait_for(&self, at_least: usize) {
        eventually(&format!("{at_least} payments under load"), async || {
            self.count.load(Ordering::SeqCst) >= at_least
        })
        .await;
    }

    async fn finish(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.expect("the load ran without failing");
        self.count.load(Ordering::SeqCst)
    }
}

/// Every event id in the database at `url`.
async fn event_ids(url: &str) -> Vec<String> {
    let mut connection = sqlx::AnyConnection::connect(url).await.unwrap();
    sqlx::query("SELECT id FROM events ORDER BY id")
        .fetch_all(&mut connection)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<String, _>(0))
        .collect()
}

/// The restored data is one moment of the database: every paid session has its order paid and
/// its `session.succeeded` event, and no event speaks of a payment that is not there.
async fn assert_consistent(url: &str) {
    let mut connection = sqlx::AnyConnection::connect(url).await.unwrap();
    for (what, query) in [
        (
            "paid sessions without their event",
            "SELECT count(*) FROM sessions s WHERE s.status = 'succeeded' AND NOT EXISTS \
             (SELECT 1 FROM events e WHERE e.session_id = s.id AND e.type = 'session.succeeded')",
        ),
        (
            "events without their payment",
            "SELECT count(*) FROM events e WHERE e.type = 'session.succeeded' AND NOT EXISTS \
             (SELECT 1 FROM sessions s WHERE s.id = e.session_id AND s.status = 'succeeded')",
        ),
        (
            "paid sessions of unpaid orders",
            "SELECT count(*) FROM sessions s JOIN orders o ON o.id = s.order_id \
             WHERE s.status = 'succeeded' AND o.status <> 'paid'",
        ),
    ] {
        let count: i64 = sqlx::query(query).fetch_one(&mut connection).await.unwrap().get(0);
        assert_eq!(count, 0, "{what}");
    }
}

/// Starts a server on the restored database and checks it has everything committed before the
/// backup began.
async fn assert_restored(template: &TestDb, url: &str, data_dir: &Path, paid: &[String], events: &[String]) {
    let (url_owned, dir) = (url.to_owned(), data_dir.to_path_buf());
    let restored = spawn_on(template, move |config| {
        config.database_url = url_owned;
        config.data_dir = dir;
    })
    .await;
    for id in paid {
        assert_eq!(restored.get_session(id).await["status"], json!("succeeded"), "{id} is paid");
    }
    let restored_events = event_ids(url).await;
    for id in events {
        assert!(restored_events.contains(id), "event {id} was restored");
    }
    assert_consistent(url).await;
    // The restored server takes payments again.
    let session = restored.new_session("wechat_pay").await;
    assert_eq!(restored.sandbox(session["id"].as_str().unwrap(), "approve").await.status(), 200);
}

/// PostgreSQL's own tool of the server's version (Debian keeps them per version).
fn pg_tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|e| Some(e.ok()?.path().join("bin").join(name))).collect())
        .unwrap_or_default();
    dirs.retain(|path| path.is_file());
    dirs.sort_by_key(|path| {
        path.components().nth(3).and_then(|c| c.as_os_str().to_str()?.parse::<u32>().ok()).unwrap_or(0)
    });
    dirs.pop().unwrap_or_else(|| PathBuf::from(name))
}

/// The server runs on this test's runtime: a command is awaited (never waited for on the
/// runtime's thread), or a server transaction left mid-way would hold SQLite's write lock
/// until the command gave up.
async fn in_background(command: impl FnOnce() -> Output + Send + 'static) -> Output {
    tokio::task::spawn_blocking(command).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_load_restores_every_committed_payment() {
    let db = test_db().await;
    let app = Arc::new(spawn_on(&db, |_| {}).await);
    let load = start_load(&app);
    load.wait_for(5).await;
    // Everything answered before the backup starts was committed before it began.
    let paid_before: Vec<String> = load.paid.lock().unwrap().clone();
    let events_before = event_ids(&db.url).await;
    let started_at = load.count.load(Ordering::SeqCst);
    let scratch = tempfile::TempDir::new().unwrap();

    if !is_postgres(&db) {
        let dir = scratch.path().join("backups");
        let output = server(&db, &["backup", "--dir", dir.to_str().unwrap()]).await;
        assert!(output.status.success(), "{}", text(&output));
        // The payments kept coming while the backup ran, and after it.
        load.wait_for(started_at + 3).await;
        let total = load.finish().await;
        assert!(total > paid_before.len());

        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "db"))
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        let backup = &files[0];
        assert!(text(&output).contains(&backup.display().to_string()));
        let sums = std::fs::read_to_string(format!("{}.sha256", backup.display())).unwrap();
        let name = backup.file_name().unwrap().to_str().unwrap();
        assert!(sums.ends_with(&format!("  {name}\n")), "sha256sum format: {sums}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(backup).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // The server recorded it.
        let recorded = db.store().await.last_backup().await.unwrap().expect("the backup is recorded");
        assert_eq!(recorded.path, backup.display().to_string());
        assert_eq!(recorded.kind, "manual");
        assert_eq!(sums.split_whitespace().next().unwrap(), recorded.sha256);

        let fresh = scratch.path().join("restored");
        let restored = Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
            .args(["restore", backup.to_str().unwrap(), "--data-dir", fresh.to_str().unwrap()])
            .env("WC_DATA_DIR", scratch.path().join("unused"))
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(restored.status.success(), "{}", text(&restored));
        assert!(text(&restored).contains("secrets key"), "it reminds of the secrets key");
        // As the docs say: the secrets key goes with the restored data (kept apart from backups).
        std::fs::copy(db.data_dir.join("secrets.key"), fresh.join("secrets.key")).unwrap();
        let url = format!("sqlite://{}?mode=rwc", fresh.join("wallet-checkout.db").display());
        assert_restored(&db, &url, &fresh, &paid_before, &events_before).await;
    } else {
        // The backup command says what to use instead of pretending.
        let output = server(&db, &["backup"]).await;
        assert!(!output.status.success());
        assert!(
            text(&output).contains("pg_dump") && text(&output).contains("PostgreSQL"),
            "{}",
            text(&output)
        );

        let dump = scratch.path().join("wallet-checkout.dump");
        let (dump_arg, url) = (dump.clone(), db.url.clone());
        let pg_dump = in_background(move || {
            Command::new(pg_tool("pg_dump"))
                .args(["--format=custom", "--file", dump_arg.to_str().unwrap(), &url])
                .output()
                .expect("pg_dump is installed")
        })
        .await;
        assert!(pg_dump.status.success(), "{}", text(&pg_dump));
        load.wait_for(started_at + 3).await;
        load.finish().await;

        let server_url = std::env::var("WC_TEST_POSTGRES").unwrap();
        let name = format!("wc_restored_{}", rand_suffix());
        let mut admin = sqlx::PgConnection::connect(&server_url).await.unwrap();
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        let mut url = url::Url::parse(&server_url).unwrap();
        url.set_path(&name);
        let url = url.to_string();
        let pg_restore = Command::new(pg_tool("pg_restore"))
            .args(["--no-owner", "--exit-on-error", "--dbname", &url, dump.to_str().unwrap()])
            .output()
            .expect("pg_restore is installed");
        assert!(pg_restore.status.success(), "{}", text(&pg_restore));
        let fresh = scratch.path().join("restored");
        std::fs::create_dir(&fresh).unwrap();
        std::fs::copy(db.data_dir.join("secrets.key"), fresh.join("secrets.key")).unwrap();
        assert_restored(&db, &url, &fresh, &paid_before, &events_before).await;
    }
}

fn rand_suffix() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(12)
        .map(char::from)
        .collect::<String>()
        .to_ascii_lowercase()
}

#[tokio::test]
async fn restore_refuses_anything_but_a_good_backup_into_an_empty_directory() {
    let db = test_db().await;
    if is_postgres(&db) {
        let output = server(&db, &["restore", "/nonexistent.db"]).await;
        assert!(!output.status.success());
        assert!(text(&output).contains("pg_restore"), "{}", text(&output));
        return;
    }
    let app = spawn_on(&db, |_| {}).await;
    let session = app.new_session("wechat_pay").await;
    app.sandbox(session["id"].as_str().unwrap(), "approve").await;
    let scratch = tempfile::TempDir::new().unwrap();
    let dir = scratch.path().join("backups");
    let output = server(&db, &["backup", "--dir", dir.to_str().unwrap()]).await;
    assert!(output.status.success(), "{}", text(&output));
    let backup = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "db"))
        .unwrap();
    let restore = |file: &Path, into: &Path| {
        Command::new(env!("CARGO_BIN_EXE_wallet-checkout-server"))
            .args(["restore", file.to_str().unwrap(), "--data-dir", into.to_str().unwrap()])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let refused = |output: &Output, words: &str| {
        assert!(!output.status.success(), "{}", text(output));
        assert!(text(output).contains(words), "{words:?} in {}", text(output));
    };

    // Not over a data directory that has anything in it (here: the live one).
    refused(&restore(&backup, &db.data_dir), "is not empty");
    let other = scratch.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("note.txt"), "mine").unwrap();
    refused(&restore(&backup, &other), "is not empty");
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1, "nothing was written");

    // Not a damaged file.
    let damaged = scratch.path().join("damaged.db");
    let mut bytes = std::fs::read(&backup).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&damaged, &bytes).unwrap();
    std::fs::copy(format!("{}.sha256", backup.display()), format!("{}.sha256", damaged.display())).unwrap();
    let target = scratch.path().join("target");
    refused(&restore(&damaged, &target), "checksum");
    assert!(!target.join("wallet-checkout.db").exists());

    // Not a file without its checksum.
    let bare = scratch.path().join("bare.db");
    std::fs::copy(&backup, &bare).unwrap();
    refused(&restore(&bare, &target), "no checksum file");

    // Not something that is not a backup, even with a right checksum.
    let stranger = scratch.path().join("stranger.db");
    std::fs::write(&stranger, "not a database at all").unwrap();
    let digest = wallet_checkout_server::db::backups::checksum(&stranger).await.unwrap().0;
    std::fs::write(format!("{}.sha256", stranger.display()), format!("{digest}  stranger.db\n")).unwrap();
    refused(&restore(&stranger, &target), "not a backup");
    // An SQLite database that is not this server's.
    let foreign = scratch.path().join("foreign.db");
    {
        let url = format!("sqlite://{}?mode=rwc", foreign.display());
        let mut connection = sqlx::SqliteConnection::connect(&url).await.unwrap();
        connection.execute("CREATE TABLE notes (text TEXT)").await.unwrap();
        connection.close().await.unwrap();
    }
    let digest = wallet_checkout_server::db::backups::checksum(&foreign).await.unwrap().0;
    std::fs::write(format!("{}.sha256", foreign.display()), format!("{digest}  foreign.db\n")).unwrap();
    refused(&restore(&foreign, &target), "not a backup this server can restore");
    assert!(!target.join("wallet-checkout.db").exists());

    // A good backup into a new directory.
    let output = restore(&backup, &target);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("secrets key"), "it reminds of the secrets key");
}

#[tokio::test]
async fn the_console_shows_backups_and_an_admin_takes_one() {
    let scratch = tempfile::TempDir::new().unwrap();
    let dir = scratch.path().join("console-backups");
    let app = crate::helpers::spawn_with({
        let dir = dir.clone();
        move |config| {
            config.backup_dir = dir;
            config.backup_keep = 5;
        }
    })
    .await;
    let postgres = is_postgres(app.db.as_ref().unwrap());
    let admin = app.console_user("admin").await;
    let viewer = app.console_user("viewer").await;
    let page = |user: &crate::helpers::ConsoleUser| {
        let request = app.console_get(user, "/console/backups");
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        }
    };

    // Everyone sees the last backup (none yet); only an admin sees the button.
    let seen = page(&viewer).await;
    assert!(seen.contains("No backup yet") && seen.contains("data-testid=\"backup-stale\""));
    assert!(!seen.contains("take-backup") && !seen.contains("data-testid=\"backups\""));
    assert!(seen.contains("href=\"/console/backups\""), "in the navigation");
    let seen = page(&admin).await;
    if postgres {
        assert!(seen.contains("data-testid=\"backups-postgres\"") && !seen.contains("take-backup"));
        let answer = app.console_post(&admin, "/console/backups", &[]).send().await.unwrap();
        assert!(answer.text().await.unwrap().contains("pg_dump"));
        assert!(app.store().await.last_backup().await.unwrap().is_none());
        return;
    }
    assert!(seen.contains("take-backup"));
    assert!(seen.contains("The server takes no backups by itself"), "the schedule (off in tests)");

    // Only an admin may take one, and only with the form's token.
    let refused = app.console_post(&viewer, "/console/backups", &[]).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let forged = app
        .client
        .post(app.url("/console/backups"))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", "not-the-token")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(app.store().await.last_backup().await.unwrap().is_none(), "nothing was taken");

    let taken = app.console_post(&admin, "/console/backups", &[]).send().await.unwrap();
    assert_eq!(taken.status(), 200);
    let taken = taken.text().await.unwrap();
    assert!(taken.contains("Backup taken: wallet-checkout-"), "{taken}");
    assert_eq!(taken.matches("data-testid=\"backup-row\"").count(), 1);
    assert!(taken.contains("just now") && taken.contains("data-testid=\"backup-fresh\""));
    let store = app.store().await;
    let backup = store.last_backup().await.unwrap().expect("recorded");
    assert_eq!(backup.kind, "manual");
    assert!(Path::new(&backup.path).starts_with(dir.canonicalize().unwrap()));
    let audit = store.audit_log(10).await.unwrap();
    let entry = audit.iter().find(|entry| entry.action == "backup.take").expect("audited");
    assert_eq!((entry.actor_name.as_str(), entry.target.as_str()), ("admin person", backup.id.as_str()));

    // The viewer now sees its age, in their language too.
    let seen = page(&viewer).await;
    assert!(seen.contains("just now") && seen.contains("data-testid=\"backup-fresh\""));
    assert!(!seen.contains(&backup.sha256), "the list is for admins");
    let chinese =
        app.console_post(&viewer, "/console/account/language", &[("locale", "zh-CN")]).send().await.unwrap();
    assert!(chinese.status().is_success() || chinese.status().is_redirection());
    let seen = page(&viewer).await;
    assert!(seen.contains("最近一次备份") && seen.contains("刚刚"), "{seen}");
}

/// The result page of a test payment, once its status is `status` (the sandbox wallet notifies
/// the server over HTTP, so the change comes a moment after the form's answer).
async fn test_payment_result(
    app: &TestApp,
    admin: &crate::helpers::ConsoleUser,
    location: &str,
    status: &str,
) -> String {
    let wanted = format!("data-testid=\"testpay-status\">{status}<");
    let mut page = String::new();
    eventually(&format!("the test payment at {location} to become {status}"), async || {
        let answer = app.console_get(admin, location).send().await.unwrap();
        assert_eq!(answer.status(), 200);
        page = answer.text().await.unwrap();
        page.contains(&wanted)
    })
    .await;
    page
}

#[tokio::test]
async fn an_admin_makes_test_payments_with_the_sandbox_outcomes_and_sees_their_events() {
    let app = crate::helpers::spawn().await;
    let admin = app.console_user("admin").await;
    let operator = app.console_user("operator").await;

    let page = app.console_get(&admin, "/console/setup/test").send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<h1>Setup, step 5: Test</h1>"), "the fifth step of the setup");
    assert!(page.contains("value=\"wechat_pay\"") && page.contains("value=\"decline\""));
    assert_eq!(app.console_get(&operator, "/console/setup/test").send().await.unwrap().status(), 403);
    let refused = app
        .console_post(&operator, "/console/setup/test", &[("wallet", "wechat_pay"), ("outcome", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let forged = app
        .client
        .post(app.url("/console/setup/test"))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", "forged"), ("wallet", "wechat_pay"), ("outcome", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let bad = app
        .console_post(&admin, "/console/setup/test", &[("wallet", "carrier_pigeon"), ("outcome", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 200);
    assert!(bad.text().await.unwrap().contains("Choose a wallet and an outcome"));

    for (wallet, outcome, status, event) in [
        ("wechat_pay", "decline", "failed", "session.failed"),
        ("alipay", "approve", "succeeded", "session.succeeded"),
    ] {
        let made = app
            .console_post(&admin, "/console/setup/test", &[("wallet", wallet), ("outcome", outcome)])
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 303, "{wallet} {outcome}");
        let location = made.headers()["location"].to_str().unwrap().to_owned();
        let session_id = location.strip_prefix("/console/setup/test/").expect("the result page").to_owned();
        let page = test_payment_result(&app, &admin, &location, status).await;
        assert!(page.contains("<code>session.created</code>"), "{page}");
        // The event is committed with the status change it tells of.
        assert!(page.contains(&format!("<code>{event}</code>")), "{page}");
        // The same session the API shows, made through the same code.
        let session = app.get_session(&session_id).await;
        assert_eq!(session["wallet_id"], json!(wallet));
        assert_eq!(session["status"], json!(status));
    }
    let audit = app.store().await.audit_log(20).await.unwrap();
    assert_eq!(audit.iter().filter(|entry| entry.action == "testpay.create").count(), 2);
    assert!(audit.iter().any(|entry| entry.detail.contains("\"outcome\":\"decline\"")));
    assert!(audit.iter().all(|entry| entry.action != "testpay.create" || entry.actor_name == "admin person"));
    let missing = app.console_get(&admin, "/console/setup/test/ses_nothing").send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn a_test_payment_at_a_provider_in_test_mode_links_to_its_sandbox_and_live_keys_are_never_used() {
    let paypal = crate::helpers::paypal::start().await;
    let app = &paypal.app;
    let admin = app.console_user("admin").await;
    let page = app.console_get(&admin, "/console/setup/test").send().await.unwrap().text().await.unwrap();
    assert!(page.contains("value=\"paypal\""), "PayPal in test mode can be tested: {page}");
    let made = app
        .console_post(&admin, "/console/setup/test", &[("wallet", "paypal"), ("outcome", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 303);
    let location = made.headers()["location"].to_str().unwrap().to_owned();
    let page = app.console_get(&admin, &location).send().await.unwrap().text().await.unwrap();
    assert!(
        page.contains("data-testid=\"testpay-status\">pending<"),
        "nothing is scripted at PayPal: {page}"
    );
    let link = page
        .split("data-testid=\"testpay-link\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .and_then(|rest| rest.split('"').next())
        .expect("a link to pay at PayPal")
        .replace("&amp;", "&");
    assert!(link.starts_with(paypal.mock.base()), "{link}");
    assert!(page.contains("<code>session.created</code>"));

    // The same provider with live keys: no test payment there.
    let live = crate::helpers::paypal::start_with("", |config| {
        let text = paypal.mock.config_toml().replace("environment = \"sandbox\"", "environment = \"live\"");
        config.providers = wallet_checkout_server::providers::ProviderSettings::from_toml(&text).unwrap();
    })
    .await;
    let admin = live.app.console_user("admin").await;
    let page =
        live.app.console_get(&admin, "/console/setup/test").send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("value=\"paypal\"") && page.contains("data-testid=\"testpay-none\""), "{page}");
    let refused = live
        .app
        .console_post(&admin, "/console/setup/test", &[("wallet", "paypal"), ("outcome", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 200);
    assert!(refused.text().await.unwrap().contains("Choose a wallet and an outcome"));
    let orders = live.app.store().await.orders(10, None).await.unwrap();
    assert!(orders.is_empty(), "no order was made for a live provider");
}

#[tokio::test]
async fn a_test_payment_left_unpaid_expires_and_shows_its_event() {
    let app = crate::helpers::spawn().await;
    let admin = app.console_user("admin").await;
    let form = app.console_get(&admin, "/console/setup/test").send().await.unwrap().text().await.unwrap();
    assert!(form.contains("value=\"expire\""), "the outcome is offered");
    let made = app
        .console_post(&admin, "/console/setup/test", &[("wallet", "wechat_pay"), ("outcome", "expire")])
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 303);
    let location = made.headers()["location"].to_str().unwrap().to_owned();
    app.advance_past_session_ttl().await;
    let page = test_payment_result(&app, &admin, &location, "expired").await;
    assert!(page.contains("<code>session.expired</code>"), "{page}");
    let audit = app.store().await.audit_log(5).await.unwrap();
    assert!(audit
        .iter()
        .any(|entry| entry.action == "testpay.create" && entry.detail.contains("\"outcome\":\"expire\"")));
}

/// Tests of what only the embedded SQLite database has (its files, its backups); skipped on
/// PostgreSQL (`make test` passes `--skip ::on_sqlite::` there).
mod on_sqlite {
    use super::*;

    /// Regression: a backup and the journal beside it were created readable by every user of the
    /// machine (0644) and made private only once the copy was done. A watcher looks at the backup
    /// directory all the time the backup is written: no file in it is ever readable by others.
    #[cfg(unix)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backup_is_private_from_its_first_byte() {
        use std::os::unix::fs::PermissionsExt;
        let db = test_db().await;
        crate::helpers::require_sqlite(&db);
        let store = db.store().await;
        // Enough data that writing the copy takes a while.
        let mut connection = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        for i in 0..32 {
            sqlx::query("INSERT INTO console_settings (name, value, updated_at) VALUES ($1, $2, 0)")
                .bind(format!("filler.{i}"))
                .bind("x".repeat(256 * 1024))
                .execute(&mut connection)
                .await
                .unwrap();
        }
        let scratch = tempfile::TempDir::new().unwrap();
        let dir = scratch.path().join("backups");
        std::fs::create_dir(&dir).unwrap();
        let done = Arc::new(AtomicBool::new(false));
        let watcher = std::thread::spawn({
            let (dir, done) = (dir.clone(), done.clone());
            move || {
                let mut seen = Vec::new();
                while !done.load(Ordering::SeqCst) {
                    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                        if let Ok(metadata) = entry.metadata() {
                            if metadata.permissions().mode() & 0o077 != 0 {
                                seen.push(entry.file_name().to_string_lossy().into_owned());
                            }
                        }
                    }
                }
                seen
            }
        });
        store.take_backup(&dir, 2, "manual", 0).await.unwrap();
        done.store(true, Ordering::SeqCst);
        let readable: Vec<String> =
            watcher.join().unwrap().into_iter().filter(|name| !name.ends_with(".sha256")).collect();
        assert!(readable.is_empty(), "files readable by others while the backup was written: {readable:?}");
    }

    #[tokio::test]
    async fn backups_keep_the_newest_n() {
        let db = test_db().await;
        crate::helpers::require_sqlite(&db);
        let scratch = tempfile::TempDir::new().unwrap();
        let dir = scratch.path().join("backups");
        for _ in 0..3 {
            let output = server(&db, &["backup", "--dir", dir.to_str().unwrap(), "--keep", "2"]).await;
            assert!(output.status.success(), "{}", text(&output));
        }
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names.len(), 4, "two backups and their checksums: {names:?}");
        let store = db.store().await;
        let records = store.backups(10).await.unwrap();
        assert_eq!(records.len(), 2);
        for record in records {
            assert!(Path::new(&record.path).is_file());
        }
        let output = server(&db, &["backup", "--keep", "0"]).await;
        assert!(!output.status.success());
    }

    #[tokio::test]
    async fn the_server_backs_itself_up_on_its_schedule() {
        let db = test_db().await;
        crate::helpers::require_sqlite(&db);
        let scratch = tempfile::TempDir::new().unwrap();
        let dir = scratch.path().join("scheduled");
        let _app = spawn_on(&db, |config| {
            config.backup_every_hours = 24;
            config.backup_keep = 3;
            config.backup_dir = dir.clone();
        })
        .await;
        let store = db.store().await;
        // No backup yet, so one is due at once.
        let mut backup = None;
        eventually("the scheduled backup", async || {
            backup = store.last_backup().await.unwrap();
            backup.is_some()
        })
        .await;
        let backup = backup.unwrap();
        assert_eq!(backup.kind, "scheduled");
        assert!(Path::new(&backup.path).starts_with(dir.canonicalize().unwrap()));
        assert!(Path::new(&format!("{}.sha256", backup.path)).is_file());
    }
}
