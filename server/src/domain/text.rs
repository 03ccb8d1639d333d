//! Text that staff and shoppers read (descriptions, references, metadata, key names) must read
//! as what it is. Control characters, bidirectional overrides and isolates (U+202E makes a reference
//! read backwards on screen) and invisible characters (a zero-width space inside
//! a reference makes two references look equal) are refused where text comes in.
//!
//! Two invisible characters are part of real writing and stay allowed between two visible
//! characters: the zero-width joiner (emoji sequences, Indic scripts) and the
//! zero-width non-joiner (Persian). Tag characters are allowed only inside a flag emoji (a black flag and
//! its tags).

use std::fmt;

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    Control,
    Bidi,
    Invisible,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextError::Control => "control characters",
            TextError::Bidi => "text direction controls (such as U+202E)",
            TextError::Invisible => "invisible characters (such as a zero-width space)",
        })
    }
}

/// Bidirectional formatting characters: marks, embeddings, overrides, isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that draw nothing (or a blank that looks like nothing) and have no place in a
/// product description or a reference.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}' // Mongolian variation selectors and vowel separator
            | '\u{200B}' // zero-width space
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{206A}'..='\u{206F}' // deprecated format characters
            | '\u{FEFF}' // zero-width no-break space (BOM)
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{1BCA0}'..='\u{1BCA3}' // shorthand format controls
            | '\u{1D173}'..='\u{1D17A}' // musical format controls
    )
}

fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

fn is_tag(c: char) -> bool {
    ('\u{E0000}'..='\u{E007F}').contains(&c)
}

const BLACK_FLAG: char = '\u{1F3F4}';

/// Whether `c` can sit next to a joiner: something that draws.
fn is_visible(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !is_bidi_control(c)
        && !is_invisible(c)
        && !is_joiner(c)
        && !is_tag(c)
}

/// Checks a text that people read (see the module documentation).
pub fn check_readable(text: &str) -> Result<(), TextError> {
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_control() {
            return Err(TextError::Control);
        }
        if is_bidi_control(c) {
            return Err(TextError::Bidi);
        }
        if is_invisible(c) {
            return Err(TextError::Invisible);
        }
        if is_joiner(c) {
            let between_visible =
                i > 0 && chars.get(i + 1).is_some_and(|next| is_visible(*next)) && is_visible(chars[i - 1]);
            if !between_visible {
                return Err(TextError::Invisible);
            }
        }
        if is_tag(c) {
            // Tags only continue a flag: 🏴 followed by tag letters and the cancel tag.
            let in_flag = chars[..i].iter().rev().find(|p| !is_tag(**p)) == Some(&BLACK_FLAG);
            if !in_flag {
                return Err(TextError::Invisible);
            }
        }
    }
    Ok(())
}

/// A CSV cell a spreadsheet shows as text, never runs: a cell whose first visible character
/// starts a formula (`=`, `+`, `-`, `@`, or their full-width forms `＝＋－＠`), even behind
/// white space or invisible characters, or that begins with a tab or carriage return, gets a
/// leading `'`.
pub fn spreadsheet_safe(value: &str) -> std::borrow::Cow<'_, str> {
    let starts_formula = value.starts_with(['\t', '\r'])
        || value
            .chars()
            .find(|c| {
                !(c.is_whitespace()
                    || c.is_control()
                    || is_bidi_control(*c)
                    || is_invisible(*c)
                    || is_joiner(*c))
            })
            .is_some_and(|first| matches!(first, '=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠'));
    if starts_formula {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

/// Characters that separate CSV cells in some locale's spreadsheet (Excel takes the system's
/// list separator: `,` in most, `;` where the decimal mark is a comma; tab and `|` elsewhere),
/// or end a cell or a row.
const CSV_SPECIAL: [char; 7] = [',', ';', '\t', '|', '"', '\n', '\r'];

/// One CSV cell, the one rule for every CSV the server writes: neutralised so that a spreadsheet
/// never runs it as a formula ([`spreadsheet_safe`]), and quoted when it holds a separator of
/// any locale, a quote or a line break, so that no locale splits it into cells of its own.
pub fn csv_field(value: &str) -> String {
    let value = spreadsheet_safe(value);
    if value.contains(CSV_SPECIAL) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.into_owned()
    }
}

/// `text` cut to at most `max` bytes of UTF-8, on a character boundary: a wallet's field limit in
/// bytes (WeChat Pay) or in US-ASCII characters (PayPal, where a byte limit is safe whatever the
/// script).
pub fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_cut_in_bytes_on_character_boundaries() {
        assert_eq!(truncate_bytes("abc", 127), "abc");
        assert_eq!(truncate_bytes("茶茶", 4), "茶");
        assert_eq!(truncate_bytes("茶茶", 6), "茶茶");
        assert_eq!(truncate_bytes(&"a".repeat(200), 127).len(), 127);
        assert_eq!(truncate_bytes("茶", 2), "");
    }

    #[test]
    fn csv_fields_are_quoted_for_every_locale_and_never_formulas() {
        assert_eq!(csv_field("A-1001"), "A-1001");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        // Excel with `;` as its list separator would make `=cmd|...` a cell of its own.
        assert_eq!(csv_field("K;=cmd|' /C calc'!A0"), "\"K;=cmd|' /C calc'!A0\"");
        assert_eq!(csv_field("a\tb"), "\"a\tb\"");
        assert_eq!(csv_field("a|b"), "\"a|b\"");
    }

    #[test]
    fn plain_text_in_any_script_is_readable() {
        for text in [
            "Jasmine tea",
            "茉莉花茶 250 g",
            "چای",
            "A-1001",
            "Tee für 2 × 50 g",
            "قهوه\u{200C}خانه",
            "👩\u{200D}💻 kit",
            "🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} shortbread",
        ] {
            assert_eq!(check_readable(text), Ok(()), "{text:?}");
        }
    }

    #[test]
    fn direction_overrides_and_invisible_characters_are_refused() {
        assert_eq!(check_readable("A-1001\u{202E}1000"), Err(TextError::Bidi));
        assert_eq!(check_readable("\u{2067}x\u{2069}"), Err(TextError::Bidi));
        assert_eq!(check_readable("\u{200F}A"), Err(TextError::Bidi));
        assert_eq!(check_readable("A-10\u{200B}01"), Err(TextError::Invisible));
        assert_eq!(check_readable("\u{FEFF}A"), Err(TextError::Invisible));
        assert_eq!(check_readable("A\u{2060}B"), Err(TextError::Invisible));
        assert_eq!(check_readable("\u{3164}"), Err(TextError::Invisible));
        assert_eq!(check_readable("tea\u{E0041}"), Err(TextError::Invisible));
        assert_eq!(check_readable("a\tb"), Err(TextError::Control));
    }

    #[test]
    fn joiners_only_between_visible_characters() {
        assert_eq!(check_readable("\u{200D}A"), Err(TextError::Invisible));
        assert_eq!(check_readable("A\u{200D}"), Err(TextError::Invisible));
        assert_eq!(check_readable("A \u{200C}B"), Err(TextError::Invisible));
        assert_eq!(check_readable("A\u{200D}\u{200D}B"), Err(TextError::Invisible));
    }

    #[test]
    fn cells_that_would_start_a_formula_are_neutralised() {
        for cell in [
            "=1+1",
            "+1",
            "-1",
            "@SUM(A1)",
            "＝HYPERLINK(\"x\")",
            "＠x",
            "\u{200B}=1",
            " =1",
            "\u{202E}=1",
            "\tx",
            "\rx",
        ] {
            assert!(spreadsheet_safe(cell).starts_with('\''), "{cell:?}");
        }
        for cell in ["A-1001", "Jasmine tea", "", "1-2"] {
            assert_eq!(spreadsheet_safe(cell), cell);
        }
    }
}
