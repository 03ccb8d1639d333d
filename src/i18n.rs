//! Every user-visible string, from `locales/<tag>.json`, and the choice of locale from the
//! `locale` attribute and the browser's languages.
//!
//! English is compiled in (`build.rs`). Another locale is fetched once per page from the file the
//! bundle ships next to the script, then kept for the life of the page; until it arrives, or if
//! it cannot be had, English is used.

use std::cell::RefCell;
use wasm_bindgen::JsCast;

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

thread_local! {
    /// Loaded locales (by `Locale` index): their texts in `Key` order, kept for the page's life.
    static LOADED: RefCell<Vec<Option<&'static [&'static str]>>> = const { RefCell::new(Vec::new()) };
}

fn loaded(locale: Locale) -> Option<&'static [&'static str]> {
    LOADED.with(|loaded| loaded.try_borrow().ok()?.get(locale as usize).copied().flatten())
}

impl Locale {
    /// The text for `key` in this locale (English until the locale is loaded).
    pub fn text(self, key: Key) -> &'static str {
        loaded(self).unwrap_or(&ENGLISH)[key as usize]
    }

    /// The text for `key` with each `{name}` placeholder replaced by its value (a placeholder
    /// with no value given stays as it is).
    pub fn format(self, key: Key, args: &[(&str, &str)]) -> String {
        let mut rest = self.text(key);
        let mut text = String::with_capacity(rest.len());
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let (_, value) = args.iter().find(|(name, _)| *name == &after[..close])?;
                Some((value, close))
            });
            match value {
                Some((value, close)) => {
                    text.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    text.push('{');
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        text
    }

    /// Whether this locale's texts are at hand (English always is).
    pub fn is_ready(self) -> bool {
        self == Locale::En || loaded(self).is_some()
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
        let tag = tag.trim();
        let same = |a: &str, b: &str| {
            a.len() == b.len()
                && a.bytes()
                    .zip(b.bytes())
                    .all(|(x, y)| x.eq_ignore_ascii_case(&y) || (x == b'_' && y == b'-'))
        };
        if let Some(locale) = Self::ALL.iter().find(|l| same(tag, l.tag())) {
            return Some(*locale);
        }
        let mut parts = tag.split(['-', '_']);
        let language = parts.next().filter(|l| !l.is_empty())?;
        if same(language, "zh") {
            // Traditional script or its regions; else Simplified.
            let traditional = parts.any(|p| ["hant", "tw", "hk", "mo"].iter().any(|t| same(p, t)));
            return Some(if traditional { Locale::ZhTw } else { Locale::ZhCn });
        }
        Self::ALL.iter().find(|l| l.tag().split('-').next().is_some_and(|lang| same(language, lang))).copied()
    }
}

/// Installs a locale's texts, given `lookup` from key to text. A key the locale lacks keeps its
/// English text. Installing a locale twice keeps the first.
pub fn install(locale: Locale, lookup: impl Fn(Key) -> Option<String>) {
    if locale.is_ready() {
        return;
    }
    let table: Vec<&'static str> = Key::ALL
        .iter()
        .map(|&key| lookup(key).map_or(ENGLISH[key as usize], |text| &*Box::leak(text.into_boxed_str())))
        .collect();
    let table: &'static [&'static str] = Box::leak(table.into_boxed_slice());
    LOADED.with(|loaded| {
        let Ok(mut loaded) = loaded.try_borrow_mut() else { return };
        if loaded.len() <= locale as usize {
            loaded.resize(locale as usize + 1, None);
        }
        loaded[locale as usize] = Some(table);
    });
}

/// Installs a locale from the JSON text of its shipped file: an array of its texts in `Key` order
/// (`scripts/bundle.mjs` writes it from `locales/<tag>.json`), so the module carries no key names.
pub fn install_json(locale: Locale, json: &str) -> bool {
    let Some(texts) = crate::json::parse(json).and_then(|value| value.dyn_into::<js_sys::Array>().ok())
    else {
        return false;
    };
    install(locale, |key| texts.get(key as u32).as_string());
    true
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/element.js")]
extern "C" {
    /// The JSON text of a locale's shipped file, checked against its SRI hash, within a deadline;
    /// `undefined` when the bundle ships none or it cannot be had.
    #[wasm_bindgen(js_name = localeText)]
    fn locale_text(tag: &str) -> js_sys::Promise;
}

/// Makes `locale` ready: fetches its file if it is not loaded yet. Returns whether its own texts
/// (rather than English) are now in use.
pub async fn load(locale: Locale) -> bool {
    if locale.is_ready() {
        return true;
    }
    match wasm_bindgen_futures::JsFuture::from(locale_text(locale.tag())).await.map(|text| text.as_string()) {
        Ok(Some(text)) => install_json(locale, &text),
        _ => false,
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

    fn load_file(tag: &str) -> BTreeMap<String, String> {
        let path = format!("{}/locales/{tag}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn every_locale_has_exactly_the_english_keys_and_placeholders() {
        let english = load_file("en");
        for locale in Locale::ALL {
            let texts = load_file(locale.tag());
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
    fn at_least_the_twelve_promised_locales_are_bundled() {
        for tag in ["en", "zh-CN", "zh-TW", "ja", "ko", "es", "fr", "de", "pt-BR", "ru", "ar", "th"] {
            assert!(Locale::ALL.iter().any(|l| l.tag() == tag), "{tag} is missing");
        }
    }

    #[test]
    fn english_is_compiled_in_and_other_locales_are_installed() {
        assert_eq!(Key::ALL.len(), load_file("en").len());
        assert_eq!(Locale::En.text(Key::PaidTitle), "Payment received");
        let japanese = Locale::negotiate(["ja"]);
        assert!(!japanese.is_ready());
        assert_eq!(japanese.text(Key::PaidTitle), "Payment received", "English until loaded");
        let file = load_file("ja");
        install(japanese, |key| file.get(key.name()).cloned());
        assert!(japanese.is_ready());
        assert_eq!(japanese.text(Key::PaidTitle), file["paid_title"]);
    }

    #[test]
    fn format_fills_named_placeholders() {
        let text = Locale::En.format(Key::PaidBody, &[("amount", "¥68.00"), ("wallet", "WeChat Pay")]);
        assert_eq!(text, "¥68.00 paid with WeChat Pay. Thank you!");
        assert_eq!(
            Locale::En.format(Key::PaidBody, &[("wallet", "{amount}")]),
            "{amount} paid with {amount}. Thank you!"
        );
    }

    #[test]
    fn arabic_runs_right_to_left() {
        assert!(Locale::negotiate(["ar-EG"]).is_rtl());
        assert!(!Locale::ZhTw.is_rtl());
    }

    #[test]
    fn negotiation_prefers_the_first_served_language() {
        assert_eq!(Locale::negotiate(["xx", "zh-CN", "en"]), Locale::ZhCn);
        assert_eq!(Locale::negotiate(["zh"]), Locale::ZhCn);
        assert_eq!(Locale::negotiate(["zh-Hans-CN"]), Locale::ZhCn);
        assert_eq!(Locale::negotiate(["zh-HK"]), Locale::ZhTw);
        assert_eq!(Locale::negotiate(["pt"]), Locale::PtBr);
        assert_eq!(Locale::negotiate(["fr-CA", "en"]), Locale::Fr);
        assert_eq!(Locale::negotiate(["en-GB"]), Locale::En);
        assert_eq!(Locale::negotiate(["", "tlh"]), Locale::En);
        assert_eq!(Locale::negotiate([]), Locale::En);
    }
}
