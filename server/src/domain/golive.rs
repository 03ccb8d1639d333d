//! Going live: the checklist's verdicts and whether the switch to live mode may be used, decided
//! from facts the application gathers (`app::golive`). Facts in, verdicts out: no I/O, no HTML,
//! no words; the console's page words and draws what this decides, and its switch asks the same
//! rule, so the two can never disagree.

use url::Url;

/// A backup counts as fresh up to this age: the checklist wants one from the last day.
pub const BACKUP_FRESH_MS: i64 = 24 * 3_600_000;

/// What the server can see about being ready for real money, gathered just now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoLiveFacts {
    /// The configured public URL (`public_url`), if any.
    pub public_url: Option<Url>,
    /// Each wallet provider set up (in the file or with keys entered in the console), in order.
    pub providers: Vec<(&'static str, ProviderFact)>,
    /// Whether an enabled webhook endpoint is set.
    pub webhook_endpoint: bool,
    /// The newest event whose delivery was tried, if any.
    pub last_event: Option<LastEvent>,
    /// The newest backup the server can see.
    pub backup: BackupFact,
    /// Whether the demo store is on (`demo_store`).
    pub demo_store: bool,
    /// How many of the demo store's keys can still be used.
    pub demo_keys: usize,
    /// Whether the sandbox wallet would be offered beside live ones (`sandbox_beside_live`).
    pub sandbox_beside_live: bool,
    /// Whether the server runs in live mode now.
    pub livemode: bool,
}

/// How one wallet provider stood when it was built and, in live mode, asked one authenticated
/// call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderFact {
    /// Keys entered in the console that do not make a whole setup yet, and why.
    Incomplete(String),
    /// It could not be built from its settings, and why.
    NotBuilt(String),
    /// Built in test mode (its own sandbox); its call is not made.
    TestMode,
    /// Built in live mode; its authenticated call answered, or failed and why.
    Checked(Result<(), String>),
    /// Built in live mode; its authenticated call did not answer within `after_secs` seconds.
    NoAnswer { after_secs: u64 },
}

/// The newest event whose delivery to the merchant's endpoint was tried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastEvent {
    /// Its type (`session.succeeded`, ...).
    pub kind: String,
    /// Whether the endpoint took it.
    pub delivered: bool,
}

/// The newest backup, as far as the server can see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupFact {
    /// The server cannot see backups (PostgreSQL is backed up with its own tools).
    Unseen,
    /// None has been taken.
    NoneTaken,
    /// The newest was taken this many milliseconds ago.
    Taken { age_ms: i64 },
}

/// The checklist's items, in the order the checklist shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Https,
    Providers,
    Webhook,
    Backup,
    Demo,
    Sandbox,
}

impl Item {
    /// Every item, in the checklist's order.
    pub const ALL: [Item; 6] =
        [Item::Https, Item::Providers, Item::Webhook, Item::Backup, Item::Demo, Item::Sandbox];

    /// The item's name in locale keys, test ids and the switch's audit entry.
    pub fn as_str(self) -> &'static str {
        match self {
            Item::Https => "https",
            Item::Providers => "providers",
            Item::Webhook => "webhook",
            Item::Backup => "backup",
            Item::Demo => "demo",
            Item::Sandbox => "sandbox",
        }
    }
}

/// How one item came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    /// The server cannot see this fact: shown, but it does not hold the switch back.
    Unseen,
}

/// The public address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpsVerdict {
    /// Passed: the public URL is HTTPS.
    Https(Url),
    /// Failed: the public URL is not HTTPS.
    NotHttps(Url),
    /// Failed: no public URL is set.
    NoPublicUrl,
}

/// What keeps one wallet provider from live payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderProblem {
    /// Its keys do not make a whole setup, and why.
    Incomplete(String),
    /// It could not be built, and why.
    NotBuilt(String),
    /// It is in test mode.
    TestMode,
    /// Its authenticated call failed, and why.
    CheckFailed(String),
    /// Its authenticated call did not answer within `after_secs` seconds.
    NoAnswer { after_secs: u64 },
}

/// The wallet providers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvidersVerdict {
    /// Failed: none is set up.
    NoneSetUp,
    /// Passed: every one is live and answered its call; their names, in order.
    AllReady(Vec<&'static str>),
    /// Failed: every provider, in order, with what keeps it from live payments (`None`: ready).
    NotReady(Vec<(&'static str, Option<ProviderProblem>)>),
}

/// The merchant's webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookVerdict {
    /// Failed: no enabled endpoint is set.
    NoEndpoint,
    /// Failed: no delivery has been tried yet.
    NoDelivery,
    /// Passed: the last event (its type) was delivered.
    Delivered(String),
    /// Failed: the last event (its type) has not been delivered.
    NotDelivered(String),
}

/// The newest backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupVerdict {
    /// Not seen by the server (PostgreSQL): it does not hold the switch back.
    Unseen,
    /// Passed: taken `age_ms` ago, within `BACKUP_FRESH_MS`.
    Fresh { age_ms: i64 },
    /// Failed: taken `age_ms` ago, too long ago.
    Old { age_ms: i64 },
    /// Failed: none has been taken.
    NoneTaken,
}

/// The demo store and its keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoVerdict {
    /// Failed: the demo store is on.
    StoreOn,
    /// Failed: the store is off, but this many of its keys can still be used.
    KeysLeft(usize),
    /// Passed: the store is off and none of its keys is left.
    Gone,
}

/// The sandbox wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxVerdict {
    /// Failed: `sandbox_beside_live` would offer it beside real wallets.
    BesideLive,
    /// Passed: the server is live and the sandbox is off.
    Off,
    /// Passed: the switch turns it off.
    GoesWithSwitch,
}

/// Every item's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoLiveVerdicts {
    pub https: HttpsVerdict,
    pub providers: ProvidersVerdict,
    pub webhook: WebhookVerdict,
    pub backup: BackupVerdict,
    pub demo: DemoVerdict,
    pub sandbox: SandboxVerdict,
}

impl GoLiveVerdicts {
    /// How `item` came out.
    pub fn outcome(&self, item: Item) -> Outcome {
        let passed = match item {
            Item::Https => matches!(self.https, HttpsVerdict::Https(_)),
            Item::Providers => matches!(self.providers, ProvidersVerdict::AllReady(_)),
            Item::Webhook => matches!(self.webhook, WebhookVerdict::Delivered(_)),
            Item::Backup => match self.backup {
                BackupVerdict::Unseen => return Outcome::Unseen,
                BackupVerdict::Fresh { .. } => true,
                BackupVerdict::Old { .. } | BackupVerdict::NoneTaken => false,
            },
            Item::Demo => matches!(self.demo, DemoVerdict::Gone),
            Item::Sandbox => !matches!(self.sandbox, SandboxVerdict::BesideLive),
        };
        if passed {
            Outcome::Passed
        } else {
            Outcome::Failed
        }
    }

    /// Every item with how it came out, in the checklist's order.
    pub fn outcomes(&self) -> [(Item, Outcome); 6] {
        Item::ALL.map(|item| (item, self.outcome(item)))
    }

    /// The items that failed, in order.
    pub fn failing(&self) -> Vec<Item> {
        Item::ALL.into_iter().filter(|item| self.outcome(*item) == Outcome::Failed).collect()
    }

    /// Whether the switch to live mode may be used: no item failed (one the server cannot see
    /// does not hold it back).
    pub fn switch_allowed(&self) -> bool {
        self.failing().is_empty()
    }
}

/// What keeps a provider from live payments, or `None` when it is live and answered its call.
pub fn provider_problem(fact: &ProviderFact) -> Option<ProviderProblem> {
    match fact {
        ProviderFact::Incomplete(why) => Some(ProviderProblem::Incomplete(why.clone())),
        ProviderFact::NotBuilt(why) => Some(ProviderProblem::NotBuilt(why.clone())),
        ProviderFact::TestMode => Some(ProviderProblem::TestMode),
        ProviderFact::Checked(Ok(())) => None,
        ProviderFact::Checked(Err(why)) => Some(ProviderProblem::CheckFailed(why.clone())),
        ProviderFact::NoAnswer { after_secs } => Some(ProviderProblem::NoAnswer { after_secs: *after_secs }),
    }
}

/// The checklist's verdicts from the facts.
pub fn verdicts(facts: &GoLiveFacts) -> GoLiveVerdicts {
    let https = match &facts.public_url {
        Some(url) if url.scheme() == "https" => HttpsVerdict::Https(url.clone()),
        Some(url) => HttpsVerdict::NotHttps(url.clone()),
        None => HttpsVerdict::NoPublicUrl,
    };

    let checked: Vec<(&'static str, Option<ProviderProblem>)> =
        facts.providers.iter().map(|(name, fact)| (*name, provider_problem(fact))).collect();
    let providers = if checked.is_empty() {
        ProvidersVerdict::NoneSetUp
    } else if checked.iter().all(|(_, problem)| problem.is_none()) {
        ProvidersVerdict::AllReady(checked.into_iter().map(|(name, _)| name).collect())
    } else {
        ProvidersVerdict::NotReady(checked)
    };

    let webhook = match (facts.webhook_endpoint, &facts.last_event) {
        (false, _) => WebhookVerdict::NoEndpoint,
        (true, None) => WebhookVerdict::NoDelivery,
        (true, Some(event)) if event.delivered => WebhookVerdict::Delivered(event.kind.clone()),
        (true, Some(event)) => WebhookVerdict::NotDelivered(event.kind.clone()),
    };

    let backup = match facts.backup {
        BackupFact::Unseen => BackupVerdict::Unseen,
        BackupFact::Taken { age_ms } if age_ms <= BACKUP_FRESH_MS => BackupVerdict::Fresh { age_ms },
        BackupFact::Taken { age_ms } => BackupVerdict::Old { age_ms },
        BackupFact::NoneTaken => BackupVerdict::NoneTaken,
    };

    let demo = match (facts.demo_store, facts.demo_keys) {
        (true, _) => DemoVerdict::StoreOn,
        (false, 0) => DemoVerdict::Gone,
        (false, n) => DemoVerdict::KeysLeft(n),
    };

    let sandbox = if facts.sandbox_beside_live {
        SandboxVerdict::BesideLive
    } else if facts.livemode {
        SandboxVerdict::Off
    } else {
        SandboxVerdict::GoesWithSwitch
    };

    GoLiveVerdicts { https, providers, webhook, backup, demo, sandbox }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh test server's facts, with everything that can fail failing.
    fn fresh() -> GoLiveFacts {
        GoLiveFacts {
            public_url: None,
            providers: Vec::new(),
            webhook_endpoint: false,
            last_event: None,
            backup: BackupFact::NoneTaken,
            demo_store: true,
            demo_keys: 1,
            sandbox_beside_live: true,
            livemode: false,
        }
    }

    /// Every fact holding.
    fn complete() -> GoLiveFacts {
        GoLiveFacts {
            public_url: Some("https://pay.shop.example".parse().unwrap()),
            providers: vec![
                ("paypal", ProviderFact::Checked(Ok(()))),
                ("alipay", ProviderFact::Checked(Ok(()))),
            ],
            webhook_endpoint: true,
            last_event: Some(LastEvent { kind: "session.succeeded".into(), delivered: true }),
            backup: BackupFact::Taken { age_ms: 3_600_000 },
            demo_store: false,
            demo_keys: 0,
            sandbox_beside_live: false,
            livemode: false,
        }
    }

    #[test]
    fn on_fresh_facts_every_item_fails_and_the_switch_is_refused() {
        let verdicts = verdicts(&fresh());
        assert_eq!(verdicts.https, HttpsVerdict::NoPublicUrl);
        assert_eq!(verdicts.providers, ProvidersVerdict::NoneSetUp);
        assert_eq!(verdicts.webhook, WebhookVerdict::NoEndpoint);
        assert_eq!(verdicts.backup, BackupVerdict::NoneTaken);
        assert_eq!(verdicts.demo, DemoVerdict::StoreOn);
        assert_eq!(verdicts.sandbox, SandboxVerdict::BesideLive);
        assert_eq!(verdicts.failing(), Item::ALL.to_vec());
        assert!(verdicts.outcomes().iter().all(|(_, outcome)| *outcome == Outcome::Failed));
        assert!(!verdicts.switch_allowed());
    }

    #[test]
    fn with_every_fact_holding_every_item_passes_and_the_switch_is_allowed() {
        let verdicts = verdicts(&complete());
        assert_eq!(verdicts.https, HttpsVerdict::Https("https://pay.shop.example".parse().unwrap()));
        assert_eq!(verdicts.providers, ProvidersVerdict::AllReady(vec!["paypal", "alipay"]));
        assert_eq!(verdicts.webhook, WebhookVerdict::Delivered("session.succeeded".into()));
        assert_eq!(verdicts.backup, BackupVerdict::Fresh { age_ms: 3_600_000 });
        assert_eq!(verdicts.demo, DemoVerdict::Gone);
        assert_eq!(verdicts.sandbox, SandboxVerdict::GoesWithSwitch);
        assert_eq!(
            verdicts.outcomes().map(|(item, outcome)| (item.as_str(), outcome)),
            [
                ("https", Outcome::Passed),
                ("providers", Outcome::Passed),
                ("webhook", Outcome::Passed),
                ("backup", Outcome::Passed),
                ("demo", Outcome::Passed),
                ("sandbox", Outcome::Passed),
            ]
        );
        assert!(verdicts.switch_allowed());

        let live = GoLiveFacts { livemode: true, ..complete() };
        assert_eq!(super::verdicts(&live).sandbox, SandboxVerdict::Off);
        assert!(super::verdicts(&live).switch_allowed());
    }

    #[test]
    fn one_item_missing_blocks_the_switch() {
        let broken: [(Item, GoLiveFacts); 6] = [
            (
                Item::Https,
                GoLiveFacts { public_url: Some("http://pay.shop.example".parse().unwrap()), ..complete() },
            ),
            (Item::Providers, {
                let mut facts = complete();
                facts.providers[1].1 = ProviderFact::TestMode;
                facts
            }),
            (
                Item::Webhook,
                GoLiveFacts {
                    last_event: Some(LastEvent { kind: "session.succeeded".into(), delivered: false }),
                    ..complete()
                },
            ),
            (
                Item::Backup,
                GoLiveFacts { backup: BackupFact::Taken { age_ms: BACKUP_FRESH_MS + 1 }, ..complete() },
            ),
            (Item::Demo, GoLiveFacts { demo_keys: 2, ..complete() }),
            (Item::Sandbox, GoLiveFacts { sandbox_beside_live: true, ..complete() }),
        ];
        for (item, facts) in broken {
            let verdicts = verdicts(&facts);
            assert_eq!(verdicts.failing(), vec![item], "{item:?} alone fails");
            assert!(!verdicts.switch_allowed(), "{item:?} blocks the switch");
        }
    }

    #[test]
    fn each_provider_says_what_keeps_it_from_live_payments() {
        let facts = GoLiveFacts {
            providers: vec![
                ("wechat_pay", ProviderFact::Incomplete("no merchant id".into())),
                ("alipay", ProviderFact::NotBuilt("bad key".into())),
                ("paypal", ProviderFact::Checked(Ok(()))),
                ("a", ProviderFact::TestMode),
                ("b", ProviderFact::Checked(Err("401".into()))),
                ("c", ProviderFact::NoAnswer { after_secs: 15 }),
            ],
            ..complete()
        };
        assert_eq!(
            verdicts(&facts).providers,
            ProvidersVerdict::NotReady(vec![
                ("wechat_pay", Some(ProviderProblem::Incomplete("no merchant id".into()))),
                ("alipay", Some(ProviderProblem::NotBuilt("bad key".into()))),
                ("paypal", None),
                ("a", Some(ProviderProblem::TestMode)),
                ("b", Some(ProviderProblem::CheckFailed("401".into()))),
                ("c", Some(ProviderProblem::NoAnswer { after_secs: 15 })),
            ])
        );
    }

    #[test]
    fn a_backup_is_fresh_for_a_day_and_one_the_server_cannot_see_holds_nothing_back() {
        let at =
            |age_ms| verdicts(&GoLiveFacts { backup: BackupFact::Taken { age_ms }, ..complete() }).backup;
        assert_eq!(at(BACKUP_FRESH_MS), BackupVerdict::Fresh { age_ms: BACKUP_FRESH_MS });
        assert_eq!(at(BACKUP_FRESH_MS + 1), BackupVerdict::Old { age_ms: BACKUP_FRESH_MS + 1 });
        let unseen = verdicts(&GoLiveFacts { backup: BackupFact::Unseen, ..complete() });
        assert_eq!(unseen.outcome(Item::Backup), Outcome::Unseen);
        assert!(unseen.switch_allowed());
    }
}
