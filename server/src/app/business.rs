//! Seeing the business: takings per day, week or month, per wallet and currency (the figures are
//! domain::takings'), and the shopper's path from the order shown to the payment, with the
//! drop-off at each step and the median time to pay.

use crate::db::{Db, DbError, PathSession, StepRecord};
use crate::domain::takings::{self, counts_as_takings, DayTotal, Period, Takings};
use crate::domain::UnixMillis;
use std::collections::{BTreeMap, BTreeSet};

/// Payments and refunds that count, per day, wallet and currency, in `[from, to)`.
pub async fn daily_totals(db: &Db, from: UnixMillis, to: UnixMillis) -> Result<Vec<DayTotal>, DbError> {
    Ok(takings::daily_totals(&db.paid_per_day(from, to).await?, &db.refunded_per_day(from, to).await?))
}

/// Takings in `[from, to)` by `period`, with each provider's fees on its recorded terms.
pub async fn takings_by_period(
    db: &Db,
    period: Period,
    from: UnixMillis,
    to: UnixMillis,
) -> Result<Takings, DbError> {
    Ok(takings::takings(
        period,
        &db.paid_per_day(from, to).await?,
        &db.refunded_per_day(from, to).await?,
        &db.provider_terms().await?,
    ))
}

/// The steps of the shopper's path, in order.
pub const STEPS: [&str; 4] = ["shown", "wallet_chosen", "session_created", "paid"];

/// Orders at each step of the path for one group (all, a wallet, a device, a language), and the
/// times to pay.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path {
    /// Orders per step, in the order of `STEPS`; `None` where the group cannot be told at that
    /// step (the wallet of an order that was only shown).
    pub orders: [Option<usize>; 4],
    /// Median seconds from a session's start to its payment.
    pub median_secs_to_pay: Option<i64>,
}

/// The path, for everyone and per wallet, device and language.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paths {
    pub all: Path,
    pub wallets: BTreeMap<String, Path>,
    pub devices: BTreeMap<String, Path>,
    pub locales: BTreeMap<String, Path>,
}

#[derive(Default)]
struct Sets {
    steps: [BTreeSet<String>; 4],
    waits: Vec<i64>,
}

impl Sets {
    fn path(&self, known: [bool; 4]) -> Path {
        let mut orders = [None; 4];
        for (i, set) in self.steps.iter().enumerate() {
            orders[i] = known[i].then_some(set.len());
        }
        let mut waits = self.waits.clone();
        waits.sort_unstable();
        let median = (!waits.is_empty()).then(|| waits[(waits.len() - 1) / 2]);
        Path { orders, median_secs_to_pay: median }
    }
}

/// Counts distinct orders at each step: the widget's reports for the first two, the sessions
/// for the last two. An order's language is the one the widget reported for it.
pub fn paths(steps: &[StepRecord], sessions: &[PathSession]) -> Paths {
    let mut locale_of: BTreeMap<&str, &str> = BTreeMap::new();
    for step in steps {
        locale_of.entry(&step.order_id).or_insert(&step.locale);
    }
    let mut all = Sets::default();
    let mut wallets: BTreeMap<String, Sets> = BTreeMap::new();
    let mut devices: BTreeMap<String, Sets> = BTreeMap::new();
    let mut locales: BTreeMap<String, Sets> = BTreeMap::new();
    let mut mark =
        |index: usize, order: &str, wallet: Option<&str>, device: &str, locale: &str, wait: Option<i64>| {
            let mut groups: Vec<&mut Sets> = vec![&mut all];
            let wallet_sets = wallet.map(|wallet| wallets.entry(wallet.to_owned()).or_default());
            groups.extend(wallet_sets);
            groups.push(devices.entry(device.to_owned()).or_default());
            groups.push(locales.entry(locale.to_owned()).or_default());
            for sets in groups {
                let new = sets.steps[index].insert(order.to_owned());
                if let (true, Some(wait)) = (new, wait) {
                    sets.waits.push(wait);
                }
            }
        };
    for step in steps {
        match step.step.as_str() {
            "shown" => mark(0, &step.order_id, None, &step.device, &step.locale, None),
            "wallet_chosen" => {
                mark(1, &step.order_id, Some(&step.wallet_id), &step.device, &step.locale, None)
            }
            _ => {}
        }
    }
    for session in sessions {
        let locale = locale_of.get(session.order_id.as_str()).copied().unwrap_or("");
        mark(2, &session.order_id, Some(&session.wallet_id), &session.device, locale, None);
        let paid = counts_as_takings(session.status, session.flag);
        if let (true, Some(paid_at)) = (paid, session.paid_at) {
            let wait = ((paid_at - session.created_at).max(0)) / 1000;
            mark(3, &session.order_id, Some(&session.wallet_id), &session.device, locale, Some(wait));
        }
    }
    let everything = [true; 4];
    Paths {
        all: all.path(everything),
        wallets: wallets.into_iter().map(|(k, v)| (k, v.path([false, true, true, true]))).collect(),
        devices: devices.into_iter().map(|(k, v)| (k, v.path(everything))).collect(),
        locales: locales.into_iter().map(|(k, v)| (k, v.path(everything))).collect(),
    }
}

/// The share that did not go on from `before` to `after`, in tenths of a percent.
pub fn drop_off_permille(before: usize, after: usize) -> Option<u64> {
    (before > 0).then(|| (before.saturating_sub(after) as u64 * 1000 + before as u64 / 2) / before as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_checkout_contract::SessionStatus;

    #[test]
    fn the_path_counts_orders_once_per_step_and_the_median_wait() {
        let step = |order: &str, step: &str, wallet: &str| StepRecord {
            order_id: order.into(),
            step: step.into(),
            wallet_id: wallet.into(),
            device: "mobile".into(),
            locale: "zh-CN".into(),
        };
        let steps = [
            step("o1", "shown", ""),
            step("o2", "shown", ""),
            step("o3", "shown", ""),
            step("o1", "wallet_chosen", "alipay"),
            step("o1", "wallet_chosen", "wechat_pay"),
            step("o2", "wallet_chosen", "alipay"),
        ];
        let session = |order: &str, wallet: &str, paid: Option<i64>| PathSession {
            order_id: order.into(),
            wallet_id: wallet.into(),
            device: "mobile".into(),
            status: if paid.is_some() { SessionStatus::Succeeded } else { SessionStatus::Failed },
            flag: None,
            created_at: 1_000,
            paid_at: paid,
        };
        let sessions = [
            session("o1", "alipay", None),
            session("o1", "wechat_pay", Some(31_000)),
            session("o2", "alipay", Some(11_000)),
        ];
        let paths = paths(&steps, &sessions);
        assert_eq!(paths.all.orders, [Some(3), Some(2), Some(2), Some(2)]);
        assert_eq!(paths.all.median_secs_to_pay, Some(10));
        assert_eq!(paths.wallets["alipay"].orders, [None, Some(2), Some(2), Some(1)]);
        assert_eq!(paths.locales["zh-CN"].orders, [Some(3), Some(2), Some(2), Some(2)]);
        assert_eq!(drop_off_permille(3, 2), Some(333));
        assert_eq!(drop_off_permille(0, 0), None);
    }
}
