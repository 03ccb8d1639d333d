//! Wallet marks and status icons drawn by the widget itself (no image, no third-party request),
//! as data: a background and a few SVG paths. The marks are decorative; the wallet's name beside
//! them is what assistive technology reads.

/// One path of a glyph in a 24 × 24 box: filled, or stroked when `stroke` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub d: &'static str,
    pub color: &'static str,
    pub stroke: bool,
}

const fn fill(d: &'static str, color: &'static str) -> Shape {
    Shape { d, color, stroke: false }
}

const fn line(d: &'static str, color: &'static str) -> Shape {
    Shape { d, color, stroke: true }
}

const WECHAT_PAY: [Shape; 4] = [
    fill("M9.6 4.5C5.9 4.5 3 7 3 10.1c0 1.8 1 3.3 2.5 4.4l-.6 1.9 2.2-1.1c.8.2 1.6.4 2.5.4h.4a4.6 4.6 0 0 1-.2-1.3c0-2.9 2.8-5.2 6.2-5.2h.4C15.8 6.5 13 4.5 9.6 4.5z", "#fff"),
    fill("M21 14.3c0-2.5-2.4-4.5-5.3-4.5s-5.3 2-5.3 4.5 2.4 4.5 5.3 4.5c.6 0 1.3-.1 1.9-.3l1.7.9-.5-1.5c1.3-.9 2.2-2.2 2.2-3.6z", "#fff"),
    fill("M6.6 8.6a.9.9 0 1 0 1.8 0a.9.9 0 1 0-1.8 0M10.7 8.6a.9.9 0 1 0 1.8 0a.9.9 0 1 0-1.8 0", "#07813f"),
    fill("M13.3 13.2a.7.7 0 1 0 1.4 0a.7.7 0 1 0-1.4 0M16.7 13.2a.7.7 0 1 0 1.4 0a.7.7 0 1 0-1.4 0", "#07813f"),
];

const ALIPAY: [Shape; 1] =
    [line("M6 7.5h12M12 4.5v6M7 10.5h10c-1.5 4-4.5 7-9 9M9.5 13c2 2.5 5 4.8 8.5 6", "#fff")];

const PAYPAL: [Shape; 2] = [
    fill("M10.4 6.2h4.7c2.5 0 3.8 1.4 3.4 3.6-.5 2.7-2.3 4-4.9 4h-1.7l-.9 5h-2.9z", "#7fb2ff"),
    fill("M8.4 4.5h4.8c2.5 0 3.8 1.4 3.4 3.6-.5 2.7-2.3 4-4.9 4H10l-.9 5H6.2z", "#fff"),
];

/// The mark of a wallet the widget knows: its background colour and shapes.
pub fn wallet_mark(wallet_id: &str) -> Option<(&'static str, &'static [Shape])> {
    match wallet_id {
        "wechat_pay" => Some(("#07813f", &WECHAT_PAY)),
        "alipay" => Some(("#1660cc", &ALIPAY)),
        "paypal" => Some(("#003087", &PAYPAL)),
        _ => None,
    }
}

pub const SUCCESS_ICON: [Shape; 1] = [line("M5 12.5l4.5 4.5L19 7.5", "currentColor")];
pub const PROBLEM_ICON: [Shape; 1] = [line("M12 7v6M12 16.5v.5", "currentColor")];
