//! The outgoing webhook event: the body written to the outbox and sent to the merchant's endpoint
//! (`WebhookEvent` in `server/openapi.json`). One envelope for every event (`id`, `type`,
//! `created_at`, `livemode`, `data`); only `data` differs with what the event tells of.

use super::{rfc3339, Flag, UnixMillis};
use serde_json::{json, Value};
use wallet_checkout_contract::Session;

/// What an event tells of: its `data`.
#[derive(Debug, Clone, PartialEq)]
pub enum EventData<'a> {
    /// `session.*`: the session as the contract shows it at the event's time, and its flag.
    Session { session: Session, flag: Option<Flag> },
    /// `refund.*`: the refund as the merchant API shows it.
    Refund(Value),
    /// `alert.<rule>`: the alert just opened.
    Alert(AlertView<'a>),
}

/// An alert as its event shows it (`Alert` in `server/openapi.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertView<'a> {
    pub id: &'a str,
    pub rule: &'a str,
    pub subject: &'a str,
    pub observed: i64,
    pub threshold: i64,
    pub window_secs: i64,
    pub session_id: Option<&'a str>,
    /// The session's amount in minor units of `currency`; shown only with its currency.
    pub amount_minor: Option<i64>,
    pub currency: Option<&'a str>,
    pub opened_at: UnixMillis,
}

impl EventData<'_> {
    /// The event's `data` object.
    fn to_json(&self) -> Value {
        match self {
            EventData::Session { session, flag } => json!({ "session": session, "flag": flag }),
            EventData::Refund(refund) => json!({ "refund": refund }),
            EventData::Alert(alert) => {
                let amount = match (alert.amount_minor, alert.currency) {
                    (Some(minor_units), Some(currency)) => {
                        json!({ "minor_units": minor_units, "currency": currency })
                    }
                    _ => Value::Null,
                };
                json!({ "alert": {
                    "id": alert.id,
                    "rule": alert.rule,
                    "subject": alert.subject,
                    "observed": alert.observed,
                    "threshold": alert.threshold,
                    "window_secs": alert.window_secs,
                    "session_id": alert.session_id,
                    "amount": amount,
                    "opened_at": rfc3339(alert.opened_at),
                } })
            }
        }
    }
}

/// The body of event `id` of type `kind` (`session.succeeded`, `refund.created`,
/// `alert.late_payment`, ...), made at `created_at`, as the outbox stores it and the endpoint
/// receives it.
pub fn payload(id: &str, kind: &str, created_at: UnixMillis, livemode: bool, data: &EventData<'_>) -> String {
    json!({
        "id": id,
        "type": kind,
        "created_at": rfc3339(created_at),
        "livemode": livemode,
        "data": data.to_json(),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_checkout_contract::{
        Amount, Currency, NextAction, OrderId, SessionId, SessionStatus, WalletId,
    };

    const AT: UnixMillis = 1_764_151_200_500; // 2025-11-26T10:00:00.5Z

    fn parsed(payload: &str) -> Value {
        serde_json::from_str(payload).expect("the payload is JSON")
    }

    fn envelope_keys(event: &Value) -> Vec<&str> {
        event.as_object().expect("an object").keys().map(String::as_str).collect()
    }

    fn session() -> Session {
        Session {
            id: SessionId::parse("ses_abc").unwrap(),
            order_id: OrderId::parse("ord_abc").unwrap(),
            wallet_id: WalletId::parse("wechat_pay").unwrap(),
            status: SessionStatus::Succeeded,
            amount: Amount::new(1250, Currency::parse("CNY").unwrap()).unwrap(),
            expires_at: "2025-11-26T10:15:00Z".into(),
            expires_in_secs: 0,
            next_action: None::<NextAction>,
            amount_refunded: None,
        }
    }

    #[test]
    fn a_session_event_carries_the_session_and_its_flag() {
        let data = EventData::Session { session: session(), flag: Some(Flag::LateApproval) };
        let event = parsed(&payload("evt_1", "session.late_approval", AT, true, &data));
        assert_eq!(envelope_keys(&event), ["created_at", "data", "id", "livemode", "type"]);
        assert_eq!(event["id"], "evt_1");
        assert_eq!(event["type"], "session.late_approval");
        assert_eq!(event["created_at"], "2025-11-26T10:00:00.5Z");
        assert_eq!(event["livemode"], true);
        assert_eq!(event["data"]["flag"], "late_approval");
        assert_eq!(event["data"]["session"], serde_json::to_value(session()).unwrap());
        assert_eq!(envelope_keys(&event["data"]), ["flag", "session"]);

        let unflagged = EventData::Session { session: session(), flag: None };
        let event = parsed(&payload("evt_2", "session.succeeded", 0, false, &unflagged));
        assert_eq!(event["livemode"], false);
        assert_eq!(event["created_at"], "1970-01-01T00:00:00Z");
        assert_eq!(event["data"]["flag"], Value::Null, "the flag is there, null");
    }

    #[test]
    fn a_refund_event_carries_the_refund_as_given() {
        let refund = json!({ "id": "ref_1", "status": "succeeded", "amount": { "minor_units": 500, "currency": "CNY" } });
        let body = payload("evt_3", "refund.succeeded", AT, false, &EventData::Refund(refund.clone()));
        assert_eq!(
            body,
            r#"{"created_at":"2025-11-26T10:00:00.5Z","data":{"refund":{"amount":{"currency":"CNY","minor_units":500},"id":"ref_1","status":"succeeded"}},"id":"evt_3","livemode":false,"type":"refund.succeeded"}"#
        );
        let event = parsed(&body);
        assert_eq!(envelope_keys(&event["data"]), ["refund"]);
        assert_eq!(event["data"]["refund"], refund);
    }

    #[test]
    fn an_alert_event_carries_the_alert() {
        let alert = AlertView {
            id: "alr_1",
            rule: "unusual_amount",
            subject: "ses_abc",
            observed: 1200,
            threshold: 10,
            window_secs: 86_400,
            session_id: Some("ses_abc"),
            amount_minor: Some(99_000),
            currency: Some("CNY"),
            opened_at: AT,
        };
        let event = parsed(&payload("evt_4", "alert.unusual_amount", AT, true, &EventData::Alert(alert)));
        assert_eq!(envelope_keys(&event), ["created_at", "data", "id", "livemode", "type"]);
        assert_eq!(
            (event["type"].as_str(), event["livemode"].as_bool()),
            (Some("alert.unusual_amount"), Some(true))
        );
        assert_eq!(
            event["data"],
            json!({ "alert": {
                "id": "alr_1",
                "rule": "unusual_amount",
                "subject": "ses_abc",
                "observed": 1200,
                "threshold": 10,
                "window_secs": 86_400,
                "session_id": "ses_abc",
                "amount": { "minor_units": 99_000, "currency": "CNY" },
                "opened_at": "2025-11-26T10:00:00.5Z",
            } })
        );

        let about_an_endpoint = AlertView {
            rule: "webhook_failures",
            subject: "endpoint",
            session_id: None,
            amount_minor: None,
            currency: None,
            ..alert
        };
        let event = parsed(&payload(
            "evt_5",
            "alert.webhook_failures",
            AT,
            false,
            &EventData::Alert(about_an_endpoint),
        ));
        assert_eq!(event["livemode"], false);
        assert_eq!(event["data"]["alert"]["session_id"], Value::Null);
        assert_eq!(event["data"]["alert"]["amount"], Value::Null, "no amount without its currency");
    }
}
