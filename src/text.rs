//! Numbers as text without `core::fmt`: its machinery (formatters, padding, `Display` for every
//! integer type) is a few kilobytes of the module that the widget needs for nothing else.

/// Appends the decimal digits of `n`.
pub fn push_digits(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    out.extend(digits[at..].iter().map(|&d| char::from(d)));
}

/// The decimal digits of `n`.
pub fn digits(n: u64) -> String {
    let mut out = String::new();
    push_digits(&mut out, n);
    out
}

/// Lower-case hex of `bytes`, two digits a byte.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
    out
}

/// Whether `haystack` contains `needle` (byte by byte, without the two-way searcher
/// `str::contains` brings along).
pub fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || haystack.as_bytes().windows(needle.len()).any(|window| window == needle.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_core_fmt_writes_them() {
        for n in [0, 7, 10, 99, 100, 123_456_789, u64::MAX] {
            assert_eq!(digits(n), n.to_string());
        }
        assert_eq!(hex(&[0, 9, 10, 255, 0x3c]), "00090aff3c");
        assert!(contains("Mozilla/5.0 (iPhone; CPU", "iPhone"));
        assert!(!contains("Mozilla/5.0 (X11; Linux)", "Mobi"));
    }
}
