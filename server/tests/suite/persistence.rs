//! Orders, sessions and status history live in the database and survive a restart.

use crate::helpers::{spawn_on, test_db};
use serde_json::json;
use wallet_checkout_contract::{SessionId, SessionStatus};

#[tokio::test]
async fn sessions_and_their_history_survive_a_restart() {
    let db = test_db().await;
    let (id, order) = {
        let app = spawn_on(&db, |_| {}).await;
        let session = app.new_session("wechat_pay").await;
        let id = session["id"].as_str().unwrap().to_owned();
        app.sandbox(&id, "approve").await;
        (id, session["order_id"].as_str().unwrap().to_owned())
    };
    let app = spawn_on(&db, |_| {}).await;
    let session = app.get_session(&id).await;
    assert_eq!(session["status"], json!("succeeded"));
    assert_eq!(session["order_id"], json!(order));

    let history = db.store().await.history(&SessionId::parse(id).unwrap()).await.unwrap();
    let steps: Vec<(Option<SessionStatus>, SessionStatus, &str)> =
        history.iter().map(|change| (change.from, change.to, change.reason.as_str())).collect();
    assert_eq!(
        steps,
        [
            (None, SessionStatus::Pending, "created"),
            (Some(SessionStatus::Pending), SessionStatus::Succeeded, "confirmed"),
        ]
    );
}
