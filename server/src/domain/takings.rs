//! What the business took, in exact integer minor units: which payments count as takings (and so
//! whose refunds are subtracted), the providers' fees on a period's total, and what is left. The
//! console's overview and business page and the `daily-totals` report all take their figures
//! from here; the database only sums money per day.

use super::session::Flag;
use std::collections::BTreeMap;
use time::{Date, Duration};
use wallet_checkout_contract::SessionStatus;

/// Milliseconds in a day: figures are kept per UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// Whether a session's money is the merchant's: it succeeded, and it is not a second payment of
/// an order that goes back. A late approval (the session expired, was canceled or failed) is not
/// takings either. A refund counts against takings exactly when its payment counts in them.
pub fn counts_as_takings(status: SessionStatus, flag: Option<Flag>) -> bool {
    status == SessionStatus::Succeeded && flag != Some(Flag::RefundDue)
}

/// Money that moved on one day for sessions of one wallet, provider, currency, status and flag,
/// summed by the database: payments by the day they were paid, or succeeded refunds by the day
/// they succeeded (with the status and flag of the session they refund).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySum {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub wallet_id: String,
    /// The provider that took the payments.
    pub provider: String,
    pub currency: String,
    pub status: SessionStatus,
    pub flag: Option<Flag>,
    pub count: i64,
    pub amount_minor: u128,
}

impl DaySum {
    fn counts(&self) -> bool {
        counts_as_takings(self.status, self.flag)
    }
}

/// What a provider charges: `rate_bp` hundredths of a percent of each payment, plus fixed,
/// monthly and withdrawal fees in minor units of `currency`, as the merchant recorded them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderTerms {
    pub provider: String,
    pub rate_bp: i64,
    pub fixed_minor: i64,
    pub monthly_minor: i64,
    pub withdrawal_minor: i64,
    pub currency: String,
    pub updated_at: i64,
}

/// The fee of `count` payments of one provider totalling `amount` minor units of `currency`: the
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

/// What is left of `paid` once `fees` and `refunded` are taken off (negative when more went out
/// than came in).
pub fn net(paid: u128, fees: u128, refunded: u128) -> i128 {
    paid as i128 - fees as i128 - refunded as i128
}

/// The business page's period switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    pub fn parse(text: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|period| period.as_str() == text)
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

const EPOCH_JULIAN: i32 = 2_440_588;

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

/// One line of takings: a period, a wallet and a currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line {
    pub payments: i64,
    pub paid: u128,
    /// The providers' per-payment fees (rate and fixed fee) on the period's total.
    pub fees: u128,
    pub refunds: i64,
    pub refunded: u128,
    /// Payments of a provider with no recorded terms (their fees are not known).
    pub without_terms: i64,
}

impl Line {
    /// What is left: paid, less fees and refunds.
    pub fn net(&self) -> i128 {
        net(self.paid, self.fees, self.refunded)
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

/// Takings by period start, currency and wallet.
pub type Takings = BTreeMap<Date, BTreeMap<String, BTreeMap<String, Line>>>;

/// Puts the days' payments and refunds that count into periods. Each provider's fee is taken on
/// the period's total of its payments (as its terms state the rate), not added up day by day.
pub fn takings(period: Period, paid: &[DaySum], refunded: &[DaySum], terms: &[ProviderTerms]) -> Takings {
    // (period start, currency, wallet, provider) → (payments, amount)
    let mut per_provider: BTreeMap<(Date, &str, &str, &str), (i64, u128)> = BTreeMap::new();
    for row in paid.iter().filter(|row| row.counts()) {
        let start = period.start_of(date_of_day(row.day));
        let sum = per_provider.entry((start, &row.currency, &row.wallet_id, &row.provider)).or_default();
        sum.0 += row.count;
        sum.1 += row.amount_minor;
    }
    let mut lines = Takings::new();
    fn line<'a>(lines: &'a mut Takings, start: Date, currency: &str, wallet: &str) -> &'a mut Line {
        lines
            .entry(start)
            .or_default()
            .entry(currency.to_owned())
            .or_default()
            .entry(wallet.to_owned())
            .or_default()
    }
    for ((start, currency, wallet, provider), (count, amount)) in per_provider {
        let line = line(&mut lines, start, currency, wallet);
        line.payments += count;
        line.paid += amount;
        match fee(terms.iter().find(|t| t.provider == provider), currency, count, amount) {
            Some(fee) => line.fees += fee,
            None => line.without_terms += count,
        }
    }
    for row in refunded.iter().filter(|row| row.counts()) {
        let line = line(&mut lines, period.start_of(date_of_day(row.day)), &row.currency, &row.wallet_id);
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

/// What was paid on one day (UTC) with one wallet, in one currency, and what was refunded of
/// those payments that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTotal {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub wallet_id: String,
    pub currency: String,
    pub payments: i64,
    /// The sum in minor units: exact, however many payments (a day of large payments passes
    /// 2^53 and even 2^63).
    pub amount_minor: u128,
    pub refunds: i64,
    pub refunded_minor: u128,
}

impl DayTotal {
    /// Paid less refunded (no fees: the report leaves them to the merchant's own terms).
    pub fn net(&self) -> i128 {
        net(self.amount_minor, 0, self.refunded_minor)
    }
}

/// The days' payments and refunds that count, per day, wallet and currency, oldest first.
pub fn daily_totals(paid: &[DaySum], refunded: &[DaySum]) -> Vec<DayTotal> {
    let mut totals: BTreeMap<(i64, &str, &str), DayTotal> = BTreeMap::new();
    let rows = paid.iter().map(|row| (row, false)).chain(refunded.iter().map(|row| (row, true)));
    for (row, is_refund) in rows.filter(|(row, _)| row.counts()) {
        let total = totals.entry((row.day, &row.wallet_id, &row.currency)).or_insert_with(|| DayTotal {
            day: row.day,
            wallet_id: row.wallet_id.clone(),
            currency: row.currency.clone(),
            payments: 0,
            amount_minor: 0,
            refunds: 0,
            refunded_minor: 0,
        });
        if is_refund {
            total.refunds += row.count;
            total.refunded_minor += row.amount_minor;
        } else {
            total.payments += row.count;
            total.amount_minor += row.amount_minor;
        }
    }
    totals.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use SessionStatus::*;

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

    fn sum(day: i64, status: SessionStatus, flag: Option<Flag>, count: i64, amount: u128) -> DaySum {
        DaySum {
            day,
            wallet_id: "paypal".into(),
            provider: "paypal".into(),
            currency: "USD".into(),
            status,
            flag,
            count,
            amount_minor: amount,
        }
    }

    #[test]
    fn takings_are_succeeded_payments_that_stay() {
        assert!(counts_as_takings(Succeeded, None));
        assert!(!counts_as_takings(Succeeded, Some(Flag::RefundDue)));
        for status in [Expired, Canceled, Failed] {
            assert!(!counts_as_takings(status, Some(Flag::LateApproval)), "{status}");
        }
        assert!(!counts_as_takings(Pending, None));
    }

    /// USD 13.00 came in: 5.00 for the order, 5.00 a second time for the same order (flagged to
    /// go back) and 3.00 after the session expired; the 5.00 and 3.00 went back. Takings are
    /// 5.00 with nothing refunded, not paid 5.00, refunded 8.00, net −3.00.
    #[test]
    fn refunds_of_payments_left_out_of_takings_are_left_out_too() {
        let paid = [
            sum(20_000, Succeeded, None, 1, 500),
            sum(20_000, Succeeded, Some(Flag::RefundDue), 1, 500),
            sum(20_000, Expired, Some(Flag::LateApproval), 1, 300),
        ];
        let refunded = [
            sum(20_001, Succeeded, Some(Flag::RefundDue), 1, 500),
            sum(20_001, Expired, Some(Flag::LateApproval), 1, 300),
        ];
        let days = daily_totals(&paid, &refunded);
        assert_eq!(days.len(), 1, "no day of refunds of money that was never takings: {days:?}");
        assert_eq!((days[0].payments, days[0].amount_minor, days[0].refunds), (1, 500, 0));
        assert_eq!(days[0].net(), 500);

        let lines = takings(Period::Month, &paid, &refunded, &[]);
        let total = &totals(&lines)["USD"];
        assert_eq!((total.payments, total.paid, total.refunds, total.refunded), (1, 500, 0, 0));
        assert_eq!(total.net(), 500);

        // A refund of a payment that counts is subtracted.
        let refunded = [sum(20_001, Succeeded, None, 1, 200)];
        let total = &totals(&takings(Period::Month, &paid, &refunded, &[]))["USD"];
        assert_eq!((total.refunds, total.refunded, total.net()), (1, 200, 300));
        assert_eq!(daily_totals(&paid, &refunded)[1].net(), -200, "a day's net may be negative");
    }

    /// HKD at 3.4%: 30 days of one payment of HKD 0.15 each. Day by day each fee is 0.0051,
    /// rounded to 0.01, 0.30 in all; on the month's total of HKD 4.50 the rate gives 0.153, 0.15.
    /// And two days of 0.22: 0.01 each by day, 0.01 on their 0.44 (0.01496).
    #[test]
    fn the_rate_applies_to_the_periods_total() {
        let hkd = |day: i64, amount: u128| DaySum {
            day,
            wallet_id: "alipay_hk".into(),
            provider: "alipay".into(),
            currency: "HKD".into(),
            status: Succeeded,
            flag: None,
            count: 1,
            amount_minor: amount,
        };
        let terms = [terms("alipay", 340, 0, "HKD")];
        let november = day_of_date(date!(2026 - 11 - 01));
        let month: Vec<DaySum> = (0..30).map(|day| hkd(november + day, 15)).collect();
        let line = &takings(Period::Month, &month, &[], &terms)[&date!(2026 - 11 - 01)]["HKD"]["alipay_hk"];
        assert_eq!((line.payments, line.paid, line.fees), (30, 450, 15));
        let by_day: u128 = takings(Period::Day, &month, &[], &terms)
            .values()
            .map(|currencies| currencies["HKD"]["alipay_hk"].fees)
            .sum();
        assert_eq!(by_day, 30, "each day alone is rounded: the month is not their sum");

        let two = [hkd(november, 22), hkd(november + 1, 22)];
        assert_eq!(
            takings(Period::Week, &two, &[], &terms).values().next().unwrap()["HKD"]["alipay_hk"].fees,
            1
        );
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
    fn payments_without_terms_are_counted_and_have_no_fee() {
        let paid = [sum(20_000, Succeeded, None, 2, 1_000)];
        let total = &totals(&takings(Period::Day, &paid, &[], &[]))["USD"];
        assert_eq!((total.without_terms, total.fees, total.net()), (2, 0, 1_000));
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
        for period in Period::ALL {
            assert_eq!(Period::parse(period.as_str()), Some(period));
        }
    }
}
