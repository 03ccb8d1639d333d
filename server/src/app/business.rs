//! Seeing the business, computed: takings per day, week or month, per wallet and currency, with
//! the providers' fees from the terms the merchant recorded and what is left; and the shopper's
//! path from the order shown to the payment, with the drop-off at each step and the median time
//! to pay. Money is exact integer minor units throughout.

use crate::db::{DayTakings, PathSession, ProviderTerms, StepRecord};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Duration};

/// The page's period switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    pub fn parse(text: &str) -> Option<Period> {
        match text {
            "day" => Some(Period::Day),
            "week" => Some(Period::Week),
            "month" => Some(Period::Month),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// How many periods the page shows, the current one last.
    pub fn shown(self) -> i64 {
        match self {
            Period::Day => 14,
            Period::Week => 8,
            Period::Month => 6,
        }
    }

    /// The first day of the period `day` is in.
    pub fn start_of(self, day: Date) -> Date {
        match self {
            Period::Day => day,
            Period::Week => day - Duration::days(i64::from(day.weekday().number_days_from_monday())),
            Period::Month => day.replace_day(1).unwrap_or(day),
        }
    }

    /// The first days of the periods shown, oldest first, ending with the one `today` is in.
    pub fn starts(self, today: Date) -> Vec<Date> {
        let mut starts = vec![self.start_of(today)];
        for _ in 1..self.shown() {
            let last = starts[starts.len() - 1];
            let before = self.start_of(last.previous_day().unwrap_or(last));
            starts.push(before);
        }
        starts.reverse();
        starts
    }
}

const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 as a date.
pub fn date_of_day(day: i64) -> Date {
    Date::from_julian_day(EPOCH_JULIAN + day as i32).unwrap_or(Date::MIN)
}

/// A date as days since 1970-01-01.
pub fn day_of_date(date: Date) -> i64 {
    i64::from(date.to_julian_day() - EPOCH_JULIAN)
}

/// A date's start, in Unix milliseconds.
pub fn millis_of_date(date: Date) -> i64 {
    day_of_date(date) * DAY_MS
}

const EPOCH_JULIAN: i32 = 2_440_588;

/// One line of takings: a period, a wallet and a currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    pub payments: i64,
    pub paid: u128,
    /// The providers' per-payment fees (rate and fixed fee).
    pub fees: u128,
    pub refunds: i64,
    pub refunded: u128,
    /// Payments of a provider with no recorded terms (their fees are not known).
    pub without_terms: i64,
}

impl Line {
    /// What is left: paid, less fees and refunds (negative when more went out than came in).
    pub fn net(&self) -> i128 {
        self.paid as i128 - self.fees as i128 - self.refunded as i128
    }

    fn add(&mut self, other: &Line) {
        self.payments += other.payments;
        self.paid += other.paid;
        self.fees += other.fees;
        self.refunds += other.refunds;
        self.refunded += other.refunded;
        self.without_terms += other.without_terms;
    }
}

/// The fee of `count` payments of `provider` totalling `amount` minor units of `currency`: the
/// rate (hundredths of a percent) of the total, rounded half up to the minor unit, and the fixed
/// fee per payment when the terms are in the payments' currency. `None` without terms.
pub fn fee(terms: Option<&ProviderTerms>, currency: &str, count: i64, amount: u128) -> Option<u128> {
    let terms = terms?;
    let rate = u128::try_from(terms.rate_bp.max(0)).unwrap_or(0);
    let by_rate = (amount * rate + 5_000) / 10_000;
    let fixed = if terms.currency == currency {
        u128::try_from(terms.fixed_minor.max(0)).unwrap_or(0) * u128::try_from(count.max(0)).unwrap_or(0)
    } else {
        0
    };
    Some(by_rate + fixed)
}

/// Takings by period start, currency and wallet.
pub type Takings = BTreeMap<Date, BTreeMap<String, BTreeMap<String, Line>>>;

/// Puts the days' payments and refunds into periods, with each provider's fees.
pub fn takings(
    period: Period,
    paid: &[DayTakings],
    refunded: &[DayTakings],
    terms: &[ProviderTerms],
) -> Takings {
    let mut lines = Takings::new();
    for row in paid {
        let start = period.start_of(date_of_day(row.day));
        let line = lines
            .entry(start)
            .or_default()
            .entry(row.currency.clone())
            .or_default()
            .entry(row.wallet_id.clone())
            .or_default();
        line.payments += row.count;
        line.paid += row.amount_minor;
        match fee(
            terms.iter().find(|t| t.provider == row.provider),
            &row.currency,
            row.count,
            row.amount_minor,
        ) {
            Some(fee) => line.fees += fee,
            None => line.without_terms += row.count,
        }
    }
    for row in refunded {
        let start = period.start_of(date_of_day(row.day));
        let line = lines
            .entry(start)
            .or_default()
            .entry(row.currency.clone())
            .or_default()
            .entry(row.wallet_id.clone())
            .or_default();
        line.refunds += row.count;
        line.refunded += row.amount_minor;
    }
    lines
}

/// The whole range's totals per currency.
pub fn totals(takings: &Takings) -> BTreeMap<String, Line> {
    let mut totals: BTreeMap<String, Line> = BTreeMap::new();
    for currencies in takings.values() {
        for (currency, wallets) in currencies {
            for line in wallets.values() {
                totals.entry(currency.clone()).or_default().add(line);
            }
        }
    }
    totals
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
        let paid = session.status == "succeeded" && session.flag.as_deref() != Some("refund_due");
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
    use time::macros::date;

    fn terms(provider: &str, rate_bp: i64, fixed_minor: i64, currency: &str) -> ProviderTerms {
        ProviderTerms {
            provider: provider.into(),
            rate_bp,
            fixed_minor,
            monthly_minor: 0,
            withdrawal_minor: 0,
            currency: currency.into(),
            updated_at: 0,
        }
    }

    #[test]
    fn fees_are_the_rate_rounded_half_up_and_the_fixed_fee_in_the_same_currency() {
        let wechat = terms("wechat_pay", 60, 0, "CNY");
        assert_eq!(fee(Some(&wechat), "CNY", 3, 10_000), Some(60));
        // 0.6% of 1.25 is 0.0075: rounds to 0.01.
        assert_eq!(fee(Some(&wechat), "CNY", 1, 125), Some(1));
        assert_eq!(fee(Some(&wechat), "CNY", 1, 83), Some(0));
        let paypal = terms("paypal", 340, 30, "USD");
        assert_eq!(fee(Some(&paypal), "USD", 2, 2_500), Some(85 + 60));
        assert_eq!(fee(Some(&paypal), "JPY", 2, 2_500), Some(85), "no fixed fee in another currency");
        assert_eq!(fee(None, "USD", 2, 2_500), None);
        assert_eq!(fee(Some(&paypal), "USD", 1, u128::from(u64::MAX)), Some(627_189_298_506_124_755 + 30));
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let sunday = date!(2026 - 11 - 29);
        assert_eq!(Period::Week.start_of(sunday), date!(2026 - 11 - 23));
        assert_eq!(Period::Month.start_of(sunday), date!(2026 - 11 - 01));
        let months = Period::Month.starts(sunday);
        assert_eq!(months.len(), 6);
        assert_eq!(months[0], date!(2026 - 06 - 01));
        assert_eq!(Period::Day.starts(sunday)[0], date!(2026 - 11 - 16));
        assert_eq!(date_of_day(day_of_date(sunday)), sunday);
        assert_eq!(date_of_day(0), date!(1970 - 01 - 01));
    }

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
            status: if paid.is_some() { "succeeded" } else { "failed" }.into(),
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
