//! QR codes drawn by the widget itself: the module matrix from the `qrcode` crate, turned into
//! one SVG path with a quiet zone. No image, no third-party request.

use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the code; the QR specification asks for four.
pub const QUIET_ZONE: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `payload` with medium error correction (readable with 15% of the code damaged).
    /// `None` if the payload is too long for any QR version.
    pub fn encode(payload: &str) -> Option<Self> {
        let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
        let width = code.width();
        let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
        Some(Self { width, dark })
    }

    /// Whether `payload` fits in a QR code (what `encode` would draw), without drawing it.
    pub fn fits(payload: &str) -> bool {
        qrcode::bits::encode_auto(payload.as_bytes(), EcLevel::M).is_ok()
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        self.dark[y * self.width + x]
    }

    /// Side of the SVG view box: the code plus the quiet zone on both sides.
    pub fn view_size(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The dark modules as one path in view-box units, one sub-path per horizontal run.
    pub fn svg_path(&self) -> String {
        let mut path = String::new();
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                path.push_str(&format!("M{} {}h{run}v1h-{run}z", start + QUIET_ZONE, y + QUIET_ZONE));
            }
        }
        path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_encodes_into_a_square_code() {
        let matrix = QrMatrix::encode("http://127.0.0.1:8080/sandbox/pay/ses_abc").unwrap();
        assert_eq!(matrix.width() % 4, 1, "QR sides are 17 + 4 * version");
        assert_eq!(matrix.view_size(), matrix.width() + 8);
        // The finder pattern's corner module is dark.
        assert!(matrix.is_dark(0, 0));
    }

    #[test]
    fn the_path_draws_every_dark_module_inside_the_quiet_zone() {
        let matrix = QrMatrix::encode("hello").unwrap();
        let path = matrix.svg_path();
        let drawn: usize = path
            .split('M')
            .skip(1)
            .map(|sub| sub.split('h').nth(1).unwrap().split('v').next().unwrap().parse::<usize>().unwrap())
            .sum();
        let dark = (0..matrix.width())
            .flat_map(|y| (0..matrix.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| matrix.is_dark(x, y))
            .count();
        assert_eq!(drawn, dark);
        assert!(path.starts_with(&format!("M{} {}", QUIET_ZONE, QUIET_ZONE)));
    }

    #[test]
    fn an_oversized_payload_is_refused_not_a_panic() {
        assert!(QrMatrix::encode(&"x".repeat(5000)).is_none());
        assert!(!QrMatrix::fits(&"x".repeat(5000)));
    }

    #[test]
    fn fits_agrees_with_encode_at_the_limit() {
        // Version 40 at level M holds 2331 bytes; a URL is not all upper-case, so it is bytes.
        for length in [1, 100, 2_300, 2_331, 2_332, 2_400] {
            let payload = "x".repeat(length);
            assert_eq!(QrMatrix::fits(&payload), QrMatrix::encode(&payload).is_some(), "{length}");
        }
        assert!(QrMatrix::fits(&"x".repeat(2_331)));
        assert!(!QrMatrix::fits(&"x".repeat(2_332)));
    }
}
