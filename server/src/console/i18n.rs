//! The console's words, from `server/locales/<language>.json` (flat keys, `{name}` placeholders),
//! and money and times written the way each language writes them. English and Simplified
//! Chinese; each staff member chooses theirs.

use std::{collections::HashMap, sync::LazyLock};
use wallet_checkout_contract::Currency;

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    ZhCn,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::ZhCn];

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language's own name, as a language menu shows it.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::ZhCn => "简体中文",
        }
    }

    pub fn parse(tag: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|lang| lang.tag().eq_ignore_ascii_case(tag))
    }

    /// The first of the browser's languages (`Accept-Language`) the console speaks; English else.
    pub fn from_accept_language(header: &str) -> Lang {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .map(str::trim)
            .find_map(|tag| {
                Lang::parse(tag)
                    .or_else(|| tag.to_ascii_lowercase().starts_with("zh").then_some(Lang::ZhCn))
                    .or_else(|| tag.to_ascii_lowercase().starts_with("en").then_some(Lang::En))
            })
            .unwrap_or(Lang::En)
    }

    fn table(self) -> &'static HashMap<String, String> {
        static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
            serde_json::from_str(include_str!("../../locales/en.json")).expect("en.json is valid")
        });
        static ZH_CN: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
            serde_json::from_str(include_str!("../../locales/zh-CN.json")).expect("zh-CN.json is valid")
        });
        match self {
            Lang::En => &EN,
            Lang::ZhCn => &ZH_CN,
        }
    }

    /// The text for `key` (English if this language lacks it; the key itself if English does).
    pub fn t(self, key: &str) -> String {
        self.table().get(key).or_else(|| Lang::En.table().get(key)).cloned().unwrap_or_else(|| key.to_owned())
    }

    /// The text for `key` with each `{name}` replaced.
    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.t(key);
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// An amount of minor units of `currency` as this language writes money: `CNY 1,234.50` in
    /// English, `¥1,234.50` for yuan in Chinese. Exact for any total; a minus sign for negatives.
    pub fn money(self, minor_units: i128, currency: &str) -> String {
        let Ok(parsed) = Currency::parse(currency) else { return format!("{currency} {minor_units}") };
        let decimal = parsed.decimal_string(minor_units.unsigned_abs());
        let (whole, fraction) =
            decimal.split_once('.').map_or((decimal.as_str(), None), |(w, f)| (w, Some(f)));
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        if let Some(fraction) = fraction {
            grouped.push('.');
            grouped.push_str(fraction);
        }
        let sign = if minor_units < 0 { "−" } else { "" };
        match (self, currency) {
            (Lang::ZhCn, "CNY") => format!("{sign}¥{grouped}"),
            _ => format!("{sign}{currency} {grouped}"),
        }
    }

    /// A moment (Unix milliseconds) as this language writes a date and time, in UTC.
    pub fn datetime(self, millis: i64) -> String {
        let Ok(time) = time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)) else {
            return String::new();
        };
        match self {
            Lang::En => format!(
                "{} {} {} {:02}:{:02} UTC",
                time.day(),
                &format!("{:?}", time.month())[..3],
                time.year(),
                time.hour(),
                time.minute()
            ),
            Lang::ZhCn => format!(
                "{}年{}月{}日 {:02}:{:02} UTC",
                time.year(),
                u8::from(time.month()),
                time.day(),
                time.hour(),
                time.minute()
            ),
        }
    }

    /// A day (Unix milliseconds at its start) as this language writes a date.
    pub fn date(self, millis: i64) -> String {
        let Ok(time) = time::OffsetDateTime::from_unix_timestamp(millis.div_euclid(1000)) else {
            return String::new();
        };
        match self {
            Lang::En => format!("{} {} {}", time.day(), &format!("{:?}", time.month())[..3], time.year()),
            Lang::ZhCn => format!("{}年{}月{}日", time.year(), u8::from(time.month()), time.day()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
            .collect()
    }

    #[test]
    fn every_language_has_exactly_the_english_keys_and_placeholders() {
        let english = Lang::En.table();
        for lang in Lang::ALL {
            let table = lang.table();
            let keys: BTreeSet<&String> = table.keys().collect();
            assert_eq!(keys, english.keys().collect(), "keys of {}", lang.tag());
            for (key, text) in english {
                assert_eq!(placeholders(&table[key]), placeholders(text), "{key} in {}", lang.tag());
                assert!(!table[key].trim().is_empty(), "{key} is empty in {}", lang.tag());
            }
        }
    }

    #[test]
    fn money_and_dates_follow_the_language() {
        assert_eq!(Lang::En.money(123_456, "CNY"), "CNY 1,234.56");
        assert_eq!(Lang::ZhCn.money(123_456, "CNY"), "¥1,234.56");
        assert_eq!(Lang::En.money(-500, "USD"), "−USD 5.00");
        assert_eq!(Lang::En.money(1_234, "JPY"), "JPY 1,234");
        assert_eq!(Lang::En.datetime(0), "1 Jan 1970 00:00 UTC");
        assert_eq!(Lang::ZhCn.date(0), "1970年1月1日");
        assert_eq!(Lang::from_accept_language("zh-TW,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language("fr-FR,en-GB;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language(""), Lang::En);
        assert_eq!(Lang::ZhCn.tf("overview.payments", &[("count", "3")]), "3 笔");
    }
}
