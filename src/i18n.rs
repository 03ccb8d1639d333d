//! Every user-visible string, from `locales/<tag>.json` (compiled in by `build.rs`), and the
//! choice of locale from the `locale` attribute and the browser's languages.

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

impl Locale {
    /// The text for `key` in this locale (English where the locale lacks it).
    pub fn text(self, key: Key) -> &'static str {
        self.table()[key as usize]
    }

    /// The text for `key` with each `{name}` placeholder replaced by its value.
    pub fn format(self, key: Key, args: &[(&str, &str)]) -> String {
        let mut text = self.text(key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// Whether text in this locale runs right to left.
    pub fn is_rtl(self) -> bool {
        matches!(self.tag().split('-').next(), Some("ar" | "he" | "fa" | "ur"))
    }

    /// The first bundled locale that serves one of `requested` (most preferred first), else
    /// English. Matches the exact tag, then a known regional or script variant, then the language.
    pub fn negotiate<'a>(requested: impl IntoIterator<Item = &'a str>) -> Locale {
        requested.into_iter().find_map(Self::serving).unwrap_or(Locale::En)
    }

    fn serving(tag: &str) -> Option<Locale> {
        let tag = tag.trim().replace('_', "-").to_ascii_lowercase();
        if tag.is_empty() {
            return None;
        }
        if let Some(locale) = Self::ALL.iter().find(|l| l.tag().eq_ignore_ascii_case(&tag)) {
            return Some(*locale);
        }
        let mut parts = tag.split('-');
        let language = parts.next()?;
        let rest: Vec<&str> = parts.collect();
        if language == "zh" {
            // Traditional script or its regions; else Simplified.
            let traditional = rest.iter().any(|p| matches!(*p, "hant" | "tw" | "hk" | "mo"));
            let wanted = if traditional { "zh-TW" } else { "zh-CN" };
            return Self::ALL.iter().find(|l| l.tag() == wanted).copied();
        }
        Self::ALL
            .iter()
            .find(|l| l.tag().split('-').next().is_some_and(|lang| lang.eq_ignore_ascii_case(language)))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut names = BTreeSet::new();
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('}') else { break };
            names.insert(after[..end].to_owned());
            rest = &after[end + 1..];
        }
        names
    }

    fn load(tag: &str) -> BTreeMap<String, String> {
        let path = format!("{}/locales/{tag}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn every_locale_has_exactly_the_english_keys_and_placeholders() {
        let english = load("en");
        for locale in Locale::ALL {
            let texts = load(locale.tag());
            let keys: BTreeSet<_> = texts.keys().collect();
            let expected: BTreeSet<_> = english.keys().collect();
            assert_eq!(keys, expected, "keys of {}", locale.tag());
            for (key, english_text) in &english {
                assert_eq!(
                    placeholders(&texts[key]),
                    placeholders(english_text),
                    "placeholders of {key} in {}",
                    locale.tag()
                );
                assert!(!texts[key].trim().is_empty(), "{key} is empty in {}", locale.tag());
            }
        }
    }

    #[test]
    fn every_key_is_compiled_in() {
        assert_eq!(Key::ALL.len(), load("en").len());
        assert_eq!(Locale::En.text(Key::PaidTitle), "Payment received");
    }

    #[test]
    fn format_fills_named_placeholders() {
        let text = Locale::En.format(Key::PaidBody, &[("amount", "¥68.00"), ("wallet", "WeChat Pay")]);
        assert_eq!(text, "¥68.00 paid with WeChat Pay. Thank you!");
    }

    #[test]
    fn negotiation_prefers_the_first_served_language() {
        assert_eq!(Locale::negotiate(["xx", "zh-CN", "en"]), Locale::ZhCn);
        assert_eq!(Locale::negotiate(["zh"]), Locale::ZhCn);
        assert_eq!(Locale::negotiate(["zh-Hans-CN"]), Locale::ZhCn);
        assert_eq!(Locale::negotiate(["en-GB"]), Locale::En);
        assert_eq!(Locale::negotiate(["", "tlh"]), Locale::En);
        assert_eq!(Locale::negotiate([]), Locale::En);
    }
}
