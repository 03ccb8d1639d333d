//! Money as integer minor units plus an ISO 4217 currency code; never floating point.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest amount in minor units: the largest integer a JavaScript number holds exactly.
pub const MAX_MINOR_UNITS: u64 = 9_007_199_254_740_991;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not an active ISO 4217 currency code (three upper-case letters such as `CNY`).
    BadCurrency,
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountError::BadCurrency => "currency must be an active ISO 4217 currency code such as \"USD\"",
            AmountError::TooLarge => "amount is too large",
        })
    }
}

impl std::error::Error for AmountError {}

/// Every active ISO 4217 currency, by the digits of its minor unit (ISO 4217 list one, 2026).
/// Codes without a minor unit (precious metals, `XDR`, the testing code `XTS`, "no currency"
/// `XXX`) are not money a shopper can pay, and withdrawn codes (`ANG`, `BGN`, `CUC`, `HRK`,
/// `SLL`, `ZWL`) can no longer be paid in: neither is a `Currency`.
///
/// Each string is a run of three-letter codes in alphabetical order, kept as plain bytes so the
/// widget carries the table in about half a kilobyte.
const CURRENCIES_BY_EXPONENT: [(u8, &str); 4] = [
    (
        2,
        "AEDAFNALLAMDAOAARSAUDAWGAZNBAMBBDBDTBMDBNDBOBBOVBRLBSDBTNBWPBYNBZDCADCDFCHECHFCHWCNYCOPCOU\
         CRCCUPCVECZKDKKDOPDZDEGPERNETBEURFJDFKPGBPGELGHSGIPGMDGTQGYDHKDHNLHTGHUFIDRILSINRIRRJMDKES\
         KGSKHRKPWKYDKZTLAKLBPLKRLRDLSLMADMDLMGAMKDMMKMNTMOPMRUMURMVRMWKMXNMXVMYRMZNNADNGNNIONOK\
         NPRNZDPABPENPGKPHPPKRPLNQARRONRSDRUBSARSBDSCRSDGSEKSGDSHPSLESOSSRDSSPSTNSVCSYPSZLTHBTJS\
         TMTTOPTRYTTDTWDTZSUAHUSDUSNUYUUZSVEDVESWSTXCDXCGYERZARZMWZWG",
    ),
    (0, "BIFCLPDJFGNFISKJPYKMFKRWPYGRWFUGXUYIVNDVUVXAFXOFXPF"),
    (3, "BHDIQDJODKWDLYDOMRTND"),
    (4, "CLFUYW"),
];

/// The minor-unit digits of an active currency code, or `None` for anything else.
fn lookup_exponent(code: &[u8]) -> Option<u8> {
    CURRENCIES_BY_EXPONENT
        .iter()
        .find(|(_, codes)| codes.as_bytes().chunks_exact(3).any(|known| known == code))
        .map(|(exponent, _)| *exponent)
}

/// An active ISO 4217 currency, such as `CNY`, with the digits of its minor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

impl Currency {
    /// The currency with this code; only active ISO 4217 codes are currencies.
    pub fn parse(code: &str) -> Result<Self, AmountError> {
        match code.as_bytes() {
            &[a, b, c] => {
                let exponent = lookup_exponent(&[a, b, c]).ok_or(AmountError::BadCurrency)?;
                Ok(Self { code: [a, b, c], exponent })
            }
            _ => Err(AmountError::BadCurrency),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only codes from the table (ASCII upper-case letters) get in through `parse`.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Digits after the decimal point in the currency's minor unit (ISO 4217): 2 for `CNY`, 0 for
    /// `JPY`, 3 for `KWD`, 4 for `CLF`.
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }

    /// Every active currency, in the table's order (for tests and documentation).
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES_BY_EXPONENT.iter().flat_map(|(exponent, codes)| {
            codes
                .as_bytes()
                .chunks_exact(3)
                .map(move |c| Currency { code: [c[0], c[1], c[2]], exponent: *exponent })
        })
    }
}

impl TryFrom<String> for Currency {
    type Error = AmountError;
    fn try_from(code: String) -> Result<Self, AmountError> {
        Self::parse(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> String {
        currency.as_str().to_owned()
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount of money: `{"minor_units": 1999, "currency": "CNY"}` is 19.99 yuan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawAmount")]
pub struct Amount {
    minor_units: u64,
    currency: Currency,
}

#[derive(Deserialize)]
struct RawAmount {
    minor_units: u64,
    currency: Currency,
}

impl TryFrom<RawAmount> for Amount {
    type Error = AmountError;
    fn try_from(raw: RawAmount) -> Result<Self, AmountError> {
        Amount::new(raw.minor_units, raw.currency)
    }
}

impl Amount {
    pub fn new(minor_units: u64, currency: Currency) -> Result<Self, AmountError> {
        if minor_units > MAX_MINOR_UNITS {
            return Err(AmountError::TooLarge);
        }
        Ok(Self { minor_units, currency })
    }

    pub fn minor_units(&self) -> u64 {
        self.minor_units
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Plain decimal form without grouping or symbol (`"19.99"`), for logs and fallbacks.
    pub fn to_decimal_string(&self) -> String {
        // In 64-bit arithmetic: the widget formats money with this, and 128-bit division would
        // bring its own routines into the module.
        let mut digits = Vec::with_capacity(20);
        let mut rest = self.minor_units;
        while rest > 0 || digits.is_empty() {
            digits.push(b'0' + (rest % 10) as u8);
            rest /= 10;
        }
        self.currency.point(digits)
    }
}

impl Currency {
    /// `minor_units` of this currency in plain decimal form (`"19.99"`), exact for any total, so
    /// that sums of many amounts (reports) are written without rounding.
    pub fn decimal_string(&self, minor_units: u128) -> String {
        let mut digits = Vec::with_capacity(40);
        let mut rest = minor_units;
        while rest > 0 || digits.is_empty() {
            digits.push(b'0' + (rest % 10) as u8);
            rest /= 10;
        }
        self.point(digits)
    }

    /// A plain decimal amount of this currency (`"129"`, `"129.5"`, `"129.50"`, `".5"`) in minor
    /// units, exactly (no floating point). Digits past the minor unit must be zeros: `"10.000"` is
    /// USD 10.00, `"10.005"` is no amount. `None` for anything else (signs, spaces, separators,
    /// exponents, a trailing point, more than [`MAX_MINOR_UNITS`]). Amounts typed in the console
    /// and amounts the wallets write (Alipay's yuan, PayPal's `value`) are all read here.
    pub fn parse_decimal(&self, text: &str) -> Option<u64> {
        let (whole, fraction) = match text.split_once('.') {
            Some((_, "")) => return None,
            Some(parts) => parts,
            None => (text, ""),
        };
        if whole.is_empty() && fraction.is_empty()
            || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let exponent = self.exponent() as usize;
        let (kept, extra) = fraction.split_at(fraction.len().min(exponent));
        if extra.bytes().any(|b| b != b'0') {
            return None;
        }
        let padding = core::iter::repeat_n(b'0', exponent - kept.len());
        let mut minor: u64 = 0;
        for digit in whole.bytes().chain(kept.bytes()).chain(padding) {
            minor = minor.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
        }
        (minor <= MAX_MINOR_UNITS).then_some(minor)
    }

    /// Decimal digits, least significant first, with the decimal point where the minor unit
    /// says (written digit by digit rather than with `format!`, which the widget keeps out of its
    /// module).
    fn point(&self, mut digits: Vec<u8>) -> String {
        let exponent = self.exponent() as usize;
        while digits.len() <= exponent {
            digits.push(b'0');
        }
        let mut out = String::with_capacity(digits.len() + 1);
        for (place, digit) in digits.iter().enumerate().rev() {
            out.push(char::from(*digit));
            if place == exponent && exponent > 0 {
                out.push('.');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(minor: u64, code: &str) -> Amount {
        Amount::new(minor, Currency::parse(code).unwrap()).unwrap()
    }

    #[test]
    fn decimal_amounts_are_read_exactly_by_the_currencys_minor_unit() {
        let read = |text: &str, code: &str| Currency::parse(code).unwrap().parse_decimal(text);
        assert_eq!(read("129", "CNY"), Some(12_900));
        assert_eq!(read("129.5", "CNY"), Some(12_950));
        assert_eq!(read("0.07", "CNY"), Some(7));
        assert_eq!(read(".5", "USD"), Some(50));
        assert_eq!(read("1234", "JPY"), Some(1_234));
        assert_eq!(read("1.234", "KWD"), Some(1_234));
        assert_eq!(read("6800", "HUF"), Some(680_000));
        assert_eq!(read("10.000", "USD"), Some(1_000), "zeros past the minor unit change nothing");
        assert_eq!(read("12.0", "JPY"), Some(12));
        assert_eq!(read("9007199254740.99", "USD"), Some(900_719_925_474_099));
        assert_eq!(read("90071992547409.91", "USD"), Some(MAX_MINOR_UNITS));
        assert_eq!(read("90071992547409.92", "USD"), None, "more than the largest amount");
        for bad in [
            "",
            ".",
            "1.",
            "1.234",
            "10.005",
            "-1",
            "+1",
            "1,000",
            "1e3",
            "12.3.4",
            "１２",
            " 1",
            "1 ",
            "99999999999999999999999",
        ] {
            assert_eq!(read(bad, "CNY"), None, "{bad:?}");
        }
        assert_eq!(read("12.5", "JPY"), None);
        assert_eq!(read("12.", "JPY"), None);
        // Every amount reads back from its own decimal form.
        for minor in [0, 1, 99, 100, 12_345, MAX_MINOR_UNITS] {
            for code in ["JPY", "CNY", "KWD", "CLF"] {
                let written = amount(minor, code).to_decimal_string();
                assert_eq!(read(&written, code), Some(minor), "{written} {code}");
            }
        }
    }

    #[test]
    fn currency_codes_are_three_upper_case_letters() {
        assert!(Currency::parse("CNY").is_ok());
        assert_eq!(Currency::parse("cny"), Err(AmountError::BadCurrency));
        assert_eq!(Currency::parse("CNYX"), Err(AmountError::BadCurrency));
        assert_eq!(Currency::parse("C1Y"), Err(AmountError::BadCurrency));
    }

    #[test]
    fn only_active_iso_4217_currencies_are_currencies() {
        for code in ["XXX", "ABC", "XTS", "XAU", "XDR", "ANG", "HRK", "ZWL", "BGN", "AAA"] {
            assert_eq!(Currency::parse(code), Err(AmountError::BadCurrency), "{code}");
        }
        for code in ["USD", "EUR", "CNY", "JPY", "XCG", "ZWG", "SLE", "VED", "CLF", "UYW"] {
            assert!(Currency::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn the_table_is_sorted_without_duplicates_and_every_code_round_trips() {
        for (_, codes) in CURRENCIES_BY_EXPONENT {
            assert_eq!(codes.len() % 3, 0);
            let list: Vec<&[u8]> = codes.as_bytes().chunks_exact(3).collect();
            assert!(list.windows(2).all(|pair| pair[0] < pair[1]), "{codes} is sorted");
            assert!(list.iter().all(|code| code.iter().all(u8::is_ascii_uppercase)));
        }
        let all: Vec<Currency> = Currency::all().collect();
        let mut codes: Vec<&str> = all.iter().map(Currency::as_str).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "no code is listed twice");
        assert_eq!(all.len(), 164, "active ISO 4217 currencies with a minor unit");
        for currency in all {
            assert_eq!(Currency::parse(currency.as_str()), Ok(currency));
        }
    }

    #[test]
    fn exponents_follow_iso_4217_where_browsers_disagree() {
        // Intl (CLDR) shows these with other digits; ISO 4217 decides the minor unit.
        for (code, exponent) in [
            ("HUF", 2),
            ("IDR", 2),
            ("COP", 2),
            ("IQD", 3),
            ("CLF", 4),
            ("UYW", 4),
            ("ISK", 0),
            ("KRW", 0),
            ("TWD", 2),
            ("BHD", 3),
            ("XOF", 0),
            ("MGA", 2),
        ] {
            assert_eq!(Currency::parse(code).unwrap().exponent(), exponent, "{code}");
        }
    }

    #[test]
    fn decimal_string_follows_the_currency_exponent() {
        assert_eq!(amount(1999, "CNY").to_decimal_string(), "19.99");
        assert_eq!(amount(5, "USD").to_decimal_string(), "0.05");
        assert_eq!(amount(1999, "JPY").to_decimal_string(), "1999");
        assert_eq!(amount(1234, "KWD").to_decimal_string(), "1.234");
        assert_eq!(amount(6800, "HUF").to_decimal_string(), "68.00");
        assert_eq!(amount(12345, "CLF").to_decimal_string(), "1.2345");
        assert_eq!(amount(0, "CNY").to_decimal_string(), "0.00");
        let cny = Currency::parse("CNY").unwrap();
        assert_eq!(cny.decimal_string(u128::from(u64::MAX) * 3), "553402322211286548.45");
    }

    #[test]
    fn amounts_beyond_exact_javascript_integers_are_refused() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(Amount::new(MAX_MINOR_UNITS + 1, usd), Err(AmountError::TooLarge));
    }
}
