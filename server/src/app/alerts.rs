//! Unusual transactions: the rules, each over a rolling window with a threshold an admin can
//! change, and the evaluator that runs them. It runs every `alert_check_ms` on every instance,
//! right after a provider fails, and within half a second of sessions being made (counted in
//! batches by [`SessionCounter`]). Each rule names the subjects its condition holds for; an alert
//! opens once per rule and subject while the condition holds (the store refuses a second), is
//! sent as a signed `alert.<rule>` webhook through the outbox, and ends when the condition stops
//! holding.

use crate::{
    db::{Db, DbError, NewAlert},
    domain::{new_id, ClientKey, Flag, SharedClock, UnixMillis},
    pseudonym::Pseudonyms,
};
use std::{collections::BTreeMap, sync::Arc, time::Duration};
use tokio::sync::mpsc;

/// A rule, its defaults and the thresholds it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSpec {
    /// Also the event's type after `alert.`.
    pub name: &'static str,
    pub threshold: i64,
    pub window_secs: i64,
    pub min_threshold: i64,
    pub max_threshold: i64,
}

const fn rule(name: &'static str, threshold: i64, window_secs: i64, min_threshold: i64) -> RuleSpec {
    RuleSpec { name, threshold, window_secs, min_threshold, max_threshold: 1_000_000 }
}

/// Every rule, in the order the console lists them.
pub const RULES: [RuleSpec; 7] = [
    // Sessions declined per wallet in the window.
    rule("failed_payments", 5, 15 * 60, 1),
    // A session whose amount is this many times above (or below) the shop's usual amount.
    rule("unusual_amount", 10, 60 * 60, 2),
    // Sessions made from one client address in the window.
    rule("client_sessions", 20, 10 * 60, 1),
    // Payments that arrived after their session expired, in the window.
    rule("late_payment", 1, 24 * 60 * 60, 1),
    // Orders paid twice (a second payment to give back), in the window.
    rule("double_payment", 1, 24 * 60 * 60, 1),
    // Webhook events whose delivery keeps failing, made in the window.
    rule("webhook_failures", 5, 60 * 60, 1),
    // Times a provider failed to start a payment in the window.
    rule("provider_errors", 3, 15 * 60, 1),
];

/// The longest window an admin may set (a week), in seconds.
pub const MAX_WINDOW_SECS: i64 = 7 * 24 * 60 * 60;
/// The shop's usual amount is the median of its payments over this many days...
pub const USUAL_DAYS: i64 = 30;
/// ... of at most this many payments ...
pub const USUAL_SAMPLE: i64 = 500;
/// ... and needs at least this many before any amount counts as unusual.
pub const USUAL_MIN_PAYMENTS: usize = 5;

const DAY_MS: i64 = 86_400_000;

/// A rule with the threshold and window in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSetting {
    pub spec: RuleSpec,
    pub threshold: i64,
    pub window_secs: i64,
}

pub fn spec(name: &str) -> Option<RuleSpec> {
    RULES.iter().copied().find(|rule| rule.name == name)
}

/// Every rule with what an admin set, or its defaults.
pub async fn settings(store: &Db) -> Result<Vec<RuleSetting>, DbError> {
    let set: BTreeMap<String, (i64, i64)> =
        store.alert_rule_settings().await?.into_iter().map(|(rule, t, w)| (rule, (t, w))).collect();
    Ok(RULES
        .iter()
        .map(|spec| {
            let (threshold, window_secs) =
                set.get(spec.name).copied().unwrap_or((spec.threshold, spec.window_secs));
            RuleSetting { spec: *spec, threshold, window_secs }
        })
        .collect())
}

/// Runs every rule; answers how many alerts were opened.
pub async fn evaluate(store: &Db, now: UnixMillis) -> Result<usize, DbError> {
    let mut opened = 0;
    for setting in settings(store).await? {
        opened += evaluate_rule(store, setting, now).await?;
    }
    store.forget_alert_signals(now - MAX_WINDOW_SECS * 1000 - DAY_MS).await?;
    Ok(opened)
}

/// Runs the rule called `name` alone.
pub async fn evaluate_named(store: &Db, name: &str, now: UnixMillis) -> Result<usize, DbError> {
    match settings(store).await?.into_iter().find(|s| s.spec.name == name) {
        Some(setting) => evaluate_rule(store, setting, now).await,
        None => Ok(0),
    }
}

async fn evaluate_rule(store: &Db, setting: RuleSetting, now: UnixMillis) -> Result<usize, DbError> {
    let holding = holding(store, setting, now).await?;
    let mut opened = 0;
    for alert in &holding {
        if store.open_alert(alert, &new_id("alr"), now).await? {
            tracing::warn!(rule = %alert.rule, subject = %alert.subject, observed = alert.observed, "alert opened");
            opened += 1;
        }
    }
    let subjects: Vec<String> = holding.into_iter().map(|alert| alert.subject).collect();
    store.end_alerts(setting.spec.name, &subjects, now).await?;
    Ok(opened)
}

/// The subjects the rule's condition holds for now, as the alerts they would open.
async fn holding(store: &Db, setting: RuleSetting, now: UnixMillis) -> Result<Vec<NewAlert>, DbError> {
    let since = now - setting.window_secs * 1000;
    let alert = |subject: String, observed: i64| NewAlert {
        rule: setting.spec.name.to_owned(),
        subject,
        observed,
        threshold: setting.threshold,
        window_secs: setting.window_secs,
        session_id: None,
        amount_minor: None,
        currency: None,
    };
    let counted = |counts: Vec<(String, i64)>| {
        counts
            .into_iter()
            .filter(|(_, count)| *count >= setting.threshold)
            .map(|(subject, count)| alert(subject, count))
            .collect::<Vec<_>>()
    };
    Ok(match setting.spec.name {
        "failed_payments" => counted(store.failed_sessions_per_wallet(since).await?),
        "client_sessions" => counted(store.alert_signal_counts("client", since).await?),
        "provider_errors" => counted(store.alert_signal_counts("provider_error", since).await?),
        "webhook_failures" => counted(vec![("endpoint".to_owned(), store.failing_deliveries(since).await?)]),
        "late_payment" | "double_payment" => {
            let flag = if setting.spec.name == "late_payment" { Flag::LateApproval } else { Flag::RefundDue };
            let sessions = store.flagged_sessions(flag, since).await?;
            let count = sessions.len() as i64;
            if count < setting.threshold {
                Vec::new()
            } else {
                sessions
                    .into_iter()
                    .map(|session| NewAlert {
                        session_id: Some(session.id.clone()),
                        amount_minor: Some(session.amount_minor),
                        currency: Some(session.currency),
                        ..alert(session.id, count)
                    })
                    .collect()
            }
        }
        "unusual_amount" => {
            let mut paid: BTreeMap<String, Vec<crate::db::SessionFact>> = BTreeMap::new();
            let mut found = Vec::new();
            for session in store.sessions_made_since(since).await? {
                if !paid.contains_key(&session.currency) {
                    let amounts = store
                        .paid_amounts(&session.currency, now - USUAL_DAYS * DAY_MS, USUAL_SAMPLE)
                        .await?;
                    paid.insert(session.currency.clone(), amounts);
                }
                // The usual amount of the other payments.
                let others =
                    paid[&session.currency].iter().filter(|p| p.id != session.id).map(|p| p.amount_minor);
                let Some(median) = median(others.collect()) else { continue };
                if is_unusual(session.amount_minor, median, setting.threshold) {
                    found.push(NewAlert {
                        session_id: Some(session.id.clone()),
                        amount_minor: Some(session.amount_minor),
                        currency: Some(session.currency),
                        ..alert(session.id, median)
                    });
                }
            }
            found
        }
        _ => Vec::new(),
    })
}

/// The middle amount (the lower of the two middle ones for an even count), if there are enough
/// payments to speak of a usual amount.
pub fn median(mut amounts: Vec<i64>) -> Option<i64> {
    if amounts.len() < USUAL_MIN_PAYMENTS {
        return None;
    }
    amounts.sort_unstable();
    Some(amounts[(amounts.len() - 1) / 2])
}

/// An amount at least `factor` times the usual one, or at most its `factor`th part.
pub fn is_unusual(amount: i64, usual: i64, factor: i64) -> bool {
    let (amount, usual, factor) = (i128::from(amount), i128::from(usual), i128::from(factor));
    amount >= usual * factor || amount * factor <= usual
}

/// Runs every rule every `every`, on every instance (an alert opens once however many run).
pub fn spawn_evaluator(store: Db, every: Duration, clock: SharedClock) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = evaluate(&store, clock.now()).await {
                tracing::error!(%error, "alert rules could not be evaluated");
            }
        }
    });
}

/// How long the sessions made are gathered before they are counted together.
const COUNT_EVERY: Duration = Duration::from_millis(500);
/// Sessions waiting to be counted at most; a flood beyond that is over any threshold already.
const MOST_WAITING: usize = 10_000;

/// Counts the sessions made per client ([`ClientKey`], as the rate limits count) for the
/// `client_sessions` rule. Making a session
/// only hands its address over; a background task writes what gathered in one transaction every
/// half second and checks the rule once, so a busy shop's database takes one write for many
/// sessions rather than three for each. Sessions not yet written when the server stops (half a
/// second's worth at most) are not counted.
#[derive(Debug, Clone)]
pub struct SessionCounter {
    sender: mpsc::Sender<(ClientKey, UnixMillis)>,
    clock: SharedClock,
}

impl SessionCounter {
    /// Starts the task that writes the counts; it ends when the last counter is dropped.
    pub fn spawn(store: Db, pseudonyms: Arc<Pseudonyms>, clock: SharedClock) -> Self {
        let (sender, mut receiver) = mpsc::channel(MOST_WAITING);
        let now = clock.clone();
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                tokio::time::sleep(COUNT_EVERY).await;
                let mut made = vec![first];
                while let Ok(next) = receiver.try_recv() {
                    made.push(next);
                }
                if let Err(error) = count_sessions(&store, &pseudonyms, &made, now.now()).await {
                    tracing::error!(%error, sessions = made.len(), "sessions could not be counted for the alert rules");
                }
            }
        });
        Self { sender, clock }
    }

    /// Counts a session made from `client` (the shopper does not wait for it).
    pub fn made(&self, client: ClientKey) {
        if self.sender.try_send((client, self.clock.now())).is_err() {
            tracing::debug!("a session was not counted for the alert rules: too many waiting");
        }
    }
}

/// Writes the sessions `made` as signals keyed by their client's pseudonym, then checks the rule.
async fn count_sessions(
    store: &Db,
    pseudonyms: &Pseudonyms,
    made: &[(ClientKey, UnixMillis)],
    now: UnixMillis,
) -> anyhow::Result<()> {
    let signals: Vec<(String, UnixMillis)> =
        made.iter().map(|&(client, at)| (pseudonyms.client(client), at)).collect();
    store.record_alert_signals("client", &signals).await?;
    evaluate_named(store, "client_sessions", now).await?;
    Ok(())
}

/// After a provider failed to start a payment: counts it and checks that rule.
pub async fn provider_failed(store: &Db, provider: &str, now: UnixMillis) {
    let result = async {
        store.record_alert_signal("provider_error", provider, now).await?;
        evaluate_named(store, "provider_errors", now).await
    }
    .await;
    if let Err(error) = result {
        tracing::error!(%error, "a provider error could not be counted for the alert rules");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_usual_amount_needs_enough_payments_and_is_their_median() {
        assert_eq!(median(vec![100, 200, 300, 400]), None);
        assert_eq!(median(vec![500, 100, 300, 200, 400]), Some(300));
        assert_eq!(median(vec![1, 2, 3, 4, 5, 6]), Some(3));
    }

    #[test]
    fn amounts_far_above_or_below_the_usual_one_are_unusual() {
        assert!(is_unusual(10_000, 1_000, 10));
        assert!(!is_unusual(9_999, 1_000, 10));
        assert!(is_unusual(100, 1_000, 10));
        assert!(!is_unusual(101, 1_000, 10));
        assert!(!is_unusual(i64::MAX, i64::MAX, 2), "no overflow");
    }

    #[test]
    fn every_rule_has_a_default_within_its_bounds() {
        for rule in RULES {
            assert!((rule.min_threshold..=rule.max_threshold).contains(&rule.threshold), "{}", rule.name);
            assert!(rule.window_secs > 0 && rule.window_secs <= MAX_WINDOW_SECS, "{}", rule.name);
        }
    }
}
