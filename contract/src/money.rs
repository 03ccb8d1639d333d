//! Money as integer minor units plus an ISO 4217 currency code; never floating point.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Largest amount in minor units: the largest integer a JavaScript number holds exactly.
pub const MAX_MINOR_UNITS: u64 = 9_007_199_254_740_991;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// A currency code is three upper-case ASCII letters.
    BadCurrency,
    TooLarge,
}

impl fmt::Display for AmountError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AmountError::BadCurrency => "currency must be an ISO 4217 code such as \"USD\"",
            AmountError::TooLarge => "amount is too large",
        })
    }
}

impl std::error::Error for AmountError {}

/// An ISO 4217 alphabetic currency code, such as `CNY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, AmountError> {
        match code.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_uppercase) => Ok(Self([a, b, c])),
            _ => Err(AmountError::BadCurrency),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters get in through `parse`.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point in the currency's minor unit (ISO 4217).
    pub fn exponent(&self) -> u32 {
        match self.as_str() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "UYI"
            | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
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
        let exponent = self.currency.exponent();
        if exponent == 0 {
            return self.minor_units.to_string();
        }
        let scale = 10u64.pow(exponent);
        format!(
            "{}.{:0width$}",
            self.minor_units / scale,
            self.minor_units % scale,
            width = exponent as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(minor: u64, code: &str) -> Amount {
        Amount::new(minor, Currency::parse(code).unwrap()).unwrap()
    }

    #[test]
    fn currency_codes_are_three_upper_case_letters() {
        assert!(Currency::parse("CNY").is_ok());
        assert_eq!(Currency::parse("cny"), Err(AmountError::BadCurrency));
        assert_eq!(Currency::parse("CNYX"), Err(AmountError::BadCurrency));
        assert_eq!(Currency::parse("C1Y"), Err(AmountError::BadCurrency));
    }

    #[test]
    fn decimal_string_follows_the_currency_exponent() {
        assert_eq!(amount(1999, "CNY").to_decimal_string(), "19.99");
        assert_eq!(amount(5, "USD").to_decimal_string(), "0.05");
        assert_eq!(amount(1999, "JPY").to_decimal_string(), "1999");
        assert_eq!(amount(1234, "KWD").to_decimal_string(), "1.234");
    }

    #[test]
    fn amounts_beyond_exact_javascript_integers_are_refused() {
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(Amount::new(MAX_MINOR_UNITS + 1, usd), Err(AmountError::TooLarge));
    }
}
