//! QR codes drawn by the widget itself: the module matrix (ISO/IEC 18004, byte mode, medium error
//! correction, versions 1 to 40), turned into one SVG path with a quiet zone. No image, no
//! third-party request.
//!
//! The widget encodes payment links, so it needs one mode and one error-correction level; this
//! encoder does that and nothing else, in a fraction of a general QR library's code and tables.
//! Its output is decoded by an independent decoder in the tests below.

use crate::text::push_digits;

/// Light modules around the code; the QR specification asks for four.
pub const QUIET_ZONE: usize = 4;

/// Error-correction codewords per block at level M, by version (index 0 unused).
const ECC_PER_BLOCK: [u8; 41] = [
    0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];

/// Error-correction blocks at level M, by version (index 0 unused).
const BLOCKS: [u8; 41] = [
    0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28,
    29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49,
];

/// Whether `payload` fits in a QR code (what `QrMatrix::encode` would draw).
pub fn fits(payload: &str) -> bool {
    version_for(payload.len()).is_some()
}

/// Modules of a version that hold data and error correction (all but the function patterns).
fn raw_modules(version: usize) -> usize {
    let mut modules = (16 * version + 128) * version + 64;
    if version >= 2 {
        let alignments = version / 7 + 2;
        modules -= (25 * alignments - 10) * alignments - 55;
        if version >= 7 {
            modules -= 36;
        }
    }
    modules
}

/// Data codewords of a version at level M.
fn data_codewords(version: usize) -> usize {
    raw_modules(version) / 8 - usize::from(ECC_PER_BLOCK[version]) * usize::from(BLOCKS[version])
}

/// The smallest version whose byte mode holds `length` bytes.
fn version_for(length: usize) -> Option<usize> {
    (1..=40).find(|&version| {
        let count_bits = if version <= 9 { 8 } else { 16 };
        length < 1 << count_bits && 4 + count_bits + 8 * length <= data_codewords(version) * 8
    })
}

/// Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x^2 + 1.
fn gf_mul(x: u8, y: u8) -> u8 {
    let mut z: u16 = 0;
    for i in (0..8).rev() {
        z = (z << 1) ^ ((z >> 7) * 0x11d);
        z ^= u16::from((y >> i) & 1) * u16::from(x);
    }
    z as u8
}

/// The Reed-Solomon error-correction codewords of `data`.
fn ecc(data: &[u8], degree: usize) -> Vec<u8> {
    // The generator polynomial, highest coefficient (always 1) left out.
    let mut divisor = vec![0u8; degree];
    divisor[degree - 1] = 1;
    let mut root = 1u8;
    for _ in 0..degree {
        for j in 0..degree {
            divisor[j] = gf_mul(divisor[j], root);
            if j + 1 < degree {
                divisor[j] ^= divisor[j + 1];
            }
        }
        root = gf_mul(root, 2);
    }
    let mut remainder = vec![0u8; degree];
    for &byte in data {
        let factor = byte ^ remainder[0];
        remainder.rotate_left(1);
        remainder[degree - 1] = 0;
        for (r, &d) in remainder.iter_mut().zip(&divisor) {
            *r ^= gf_mul(d, factor);
        }
    }
    remainder
}

/// The codewords of `payload` in version `version`: data, padding, then error correction, the
/// blocks interleaved.
fn codewords(payload: &[u8], version: usize) -> Vec<u8> {
    let capacity = data_codewords(version);
    let mut bits = Bits::default();
    bits.push(0b0100, 4);
    bits.push(payload.len() as u32, if version <= 9 { 8 } else { 16 });
    for &byte in payload {
        bits.push(u32::from(byte), 8);
    }
    let room = capacity * 8 - bits.len;
    bits.push(0, room.min(4));
    bits.push(0, (8 - bits.len % 8) % 8);
    let mut data = bits.bytes;
    for pad in [0xec, 0x11].into_iter().cycle() {
        if data.len() >= capacity {
            break;
        }
        data.push(pad);
    }

    let blocks = usize::from(BLOCKS[version]);
    let ecc_len = usize::from(ECC_PER_BLOCK[version]);
    let raw = raw_modules(version) / 8;
    let short_blocks = blocks - raw % blocks;
    let short_len = raw / blocks;
    let mut split = Vec::with_capacity(blocks);
    let mut at = 0;
    for block in 0..blocks {
        let length = short_len - ecc_len + usize::from(block >= short_blocks);
        let mut words = data[at..at + length].to_vec();
        at += length;
        let correction = ecc(&words, ecc_len);
        if block < short_blocks {
            words.push(0);
        }
        words.extend(correction);
        split.push(words);
    }
    let mut out = Vec::with_capacity(raw);
    for i in 0..=short_len {
        for (j, block) in split.iter().enumerate() {
            // The short blocks' placeholder is not a codeword.
            if i != short_len - ecc_len || j >= short_blocks {
                out.push(block[i]);
            }
        }
    }
    out
}

#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    len: usize,
}

impl Bits {
    fn push(&mut self, value: u32, count: usize) {
        for i in (0..count).rev() {
            if self.len.is_multiple_of(8) {
                self.bytes.push(0);
            }
            if (value >> i) & 1 == 1 {
                let last = self.bytes.len() - 1;
                self.bytes[last] |= 0x80 >> (self.len % 8);
            }
            self.len += 1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
    /// Modules of the function patterns (finders, timing, alignment, format and version).
    function: Vec<bool>,
}

impl QrMatrix {
    /// Encodes `payload` with medium error correction (readable with 15% of the code damaged).
    /// `None` if the payload is too long for any QR version.
    pub fn encode(payload: &str) -> Option<Self> {
        let version = version_for(payload.len())?;
        let width = 17 + 4 * version;
        let mut matrix =
            Self { width, dark: vec![false; width * width], function: vec![false; width * width] };
        matrix.draw_function_patterns(version);
        matrix.draw_codewords(&codewords(payload.as_bytes(), version));
        let mut best = (u32::MAX, 0);
        for mask in 0..8 {
            matrix.apply_mask(mask);
            matrix.draw_format(mask);
            let penalty = matrix.penalty();
            if penalty < best.0 {
                best = (penalty, mask);
            }
            matrix.apply_mask(mask);
        }
        matrix.apply_mask(best.1);
        matrix.draw_format(best.1);
        Some(matrix)
    }

    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
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
                while self.is_dark(x, y) {
                    x += 1;
                }
                let run = (x - start) as u64;
                path.push('M');
                push_digits(&mut path, (start + QUIET_ZONE) as u64);
                path.push(' ');
                push_digits(&mut path, (y + QUIET_ZONE) as u64);
                path.push('h');
                push_digits(&mut path, run);
                path.push_str("v1h-");
                push_digits(&mut path, run);
                path.push('z');
            }
        }
        path
    }

    fn set(&mut self, x: usize, y: usize, dark: bool) {
        let at = y * self.width + x;
        self.dark[at] = dark;
        self.function[at] = true;
    }

    fn draw_function_patterns(&mut self, version: usize) {
        let size = self.width;
        for i in 0..size {
            self.set(6, i, i % 2 == 0);
            self.set(i, 6, i % 2 == 0);
        }
        for (x, y) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4i32..=4 {
                for dx in -4i32..=4 {
                    let (xx, yy) = (x as i32 + dx, y as i32 + dy);
                    if (0..size as i32).contains(&xx) && (0..size as i32).contains(&yy) {
                        let distance = dx.abs().max(dy.abs());
                        self.set(xx as usize, yy as usize, distance != 2 && distance != 4);
                    }
                }
            }
        }
        let positions = alignment_positions(version);
        let last = positions.len().wrapping_sub(1);
        for (i, &x) in positions.iter().enumerate() {
            for (j, &y) in positions.iter().enumerate() {
                // Not over the finder patterns, written out corner by corner: clippy's shorter
                // form reads worse, and comparing `(i, j)` as tuples cost 124 B of brotli.
                #[allow(clippy::nonminimal_bool)]
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) {
                    continue;
                }
                for dy in -2i32..=2 {
                    for dx in -2i32..=2 {
                        let dark = dx.abs().max(dy.abs()) != 1;
                        self.set((x as i32 + dx) as usize, (y as i32 + dy) as usize, dark);
                    }
                }
            }
        }
        // Reserved for the format; drawn for each mask.
        self.draw_format(0);
        if version >= 7 {
            let mut remainder = version as u32;
            for _ in 0..12 {
                remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1f25);
            }
            let bits = (version as u32) << 12 | remainder;
            for i in 0..18 {
                let dark = (bits >> i) & 1 == 1;
                let (a, b) = (size - 11 + i % 3, i / 3);
                self.set(a, b, dark);
                self.set(b, a, dark);
            }
        }
    }

    /// The format (level M and the mask) in its two copies, and the dark module.
    fn draw_format(&mut self, mask: u32) {
        let data = mask; // level M is 0b00
        let mut remainder = data;
        for _ in 0..10 {
            remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537);
        }
        let bits = (data << 10 | remainder) ^ 0x5412;
        let bit = |i: usize| (bits >> i) & 1 == 1;
        let size = self.width;
        for i in 0..6 {
            self.set(8, i, bit(i));
        }
        self.set(8, 7, bit(6));
        self.set(8, 8, bit(7));
        self.set(7, 8, bit(8));
        for i in 9..15 {
            self.set(14 - i, 8, bit(i));
        }
        for i in 0..8 {
            self.set(size - 1 - i, 8, bit(i));
        }
        for i in 8..15 {
            self.set(8, size - 15 + i, bit(i));
        }
        self.set(8, size - 8, true);
    }

    /// Places the codewords in the zigzag of two-module columns, right to left.
    fn draw_codewords(&mut self, data: &[u8]) {
        let size = self.width;
        let mut bit = 0;
        let mut right = size - 1;
        loop {
            if right == 6 {
                right = 5;
            }
            for vertical in 0..size {
                for j in 0..2 {
                    let x = right - j;
                    let upward = (right + 1) & 2 == 0;
                    let y = if upward { size - 1 - vertical } else { vertical };
                    let at = y * size + x;
                    if !self.function[at] && bit < data.len() * 8 {
                        self.dark[at] = (data[bit >> 3] >> (7 - (bit & 7))) & 1 == 1;
                        bit += 1;
                    }
                }
            }
            if right < 2 {
                break;
            }
            right -= 2;
        }
    }

    /// Inverts the data modules where `mask` says (twice undoes it).
    fn apply_mask(&mut self, mask: u32) {
        let size = self.width;
        for y in 0..size {
            for x in 0..size {
                let invert = match mask {
                    0 => (x + y) % 2 == 0,
                    1 => y % 2 == 0,
                    2 => x % 3 == 0,
                    3 => (x + y) % 3 == 0,
                    4 => (x / 3 + y / 2) % 2 == 0,
                    5 => x * y % 2 + x * y % 3 == 0,
                    6 => (x * y % 2 + x * y % 3) % 2 == 0,
                    _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
                };
                let at = y * size + x;
                if invert && !self.function[at] {
                    self.dark[at] = !self.dark[at];
                }
            }
        }
    }

    /// The specification's penalty for a masked code: long runs, 2 × 2 blocks, finder-like
    /// patterns and an unbalanced share of dark modules. The mask with the lowest is used.
    fn penalty(&self) -> u32 {
        let size = self.width;
        let mut penalty = 0;
        for transpose in [false, true] {
            let at = |a: usize, b: usize| if transpose { self.is_dark(b, a) } else { self.is_dark(a, b) };
            for line in 0..size {
                let mut run = 0;
                let mut window: u32 = 0;
                for i in 0..size {
                    let dark = at(i, line);
                    run = if i > 0 && dark == at(i - 1, line) { run + 1 } else { 1 };
                    if run == 5 {
                        penalty += 3;
                    } else if run > 5 {
                        penalty += 1;
                    }
                    // 1:1:3:1:1 with four light modules on one side (the quiet zone counts).
                    window = ((window << 1) | u32::from(dark)) & 0x7ff;
                    if i >= 10 && (window == 0b101_1101_0000 || window == 0b000_0101_1101) {
                        penalty += 40;
                    }
                }
            }
        }
        let mut dark_modules = 0;
        for y in 0..size {
            for x in 0..size {
                let dark = self.is_dark(x, y);
                dark_modules += usize::from(dark);
                if x + 1 < size
                    && y + 1 < size
                    && dark == self.is_dark(x + 1, y)
                    && dark == self.is_dark(x, y + 1)
                    && dark == self.is_dark(x + 1, y + 1)
                {
                    penalty += 3;
                }
            }
        }
        let total = size * size;
        let k = (dark_modules * 20).abs_diff(total * 10).div_ceil(total).saturating_sub(1);
        penalty + 10 * k as u32
    }
}

/// Centres of the alignment patterns of a version, on each axis.
fn alignment_positions(version: usize) -> Vec<usize> {
    if version == 1 {
        return Vec::new();
    }
    let count = version / 7 + 2;
    let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2;
    let mut positions = vec![6];
    let mut at = 17 + 4 * version - 7;
    for _ in 0..count - 1 {
        positions.insert(1, at);
        at -= step;
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `matrix` with an independent decoder (rqrr), drawn as an image with its quiet
    /// zone, four pixels a module.
    fn decode(matrix: &QrMatrix) -> String {
        let scale = 4;
        let side = matrix.view_size() * scale;
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| {
            let (mx, my) = (x / scale, y / scale);
            let inside = mx >= QUIET_ZONE && my >= QUIET_ZONE;
            if inside && matrix.is_dark(mx - QUIET_ZONE, my - QUIET_ZONE) {
                0
            } else {
                255
            }
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one code found");
        let (meta, content) = grids[0].decode().expect("the code decodes");
        assert_eq!(meta.ecc_level, 0, "medium error correction (format bits 00)");
        content
    }

    #[test]
    fn codes_of_every_size_decode_to_their_payload() {
        for length in [1, 14, 15, 40, 100, 271, 500, 1_000, 2_331] {
            let payload: String = (0..length)
                .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789/:.?=&"[i % 42]))
                .collect();
            let matrix = QrMatrix::encode(&payload).unwrap();
            assert_eq!(decode(&matrix), payload, "{length} bytes, {} modules", matrix.width());
        }
    }

    #[test]
    fn a_payment_link_decodes_and_non_ascii_text_survives() {
        for payload in
            ["http://127.0.0.1:8080/sandbox/pay/ses_abc", "weixin://wxpay/bizpayurl?pr=AbC123", "支付 ✓"]
        {
            assert_eq!(decode(&QrMatrix::encode(payload).unwrap()), payload);
        }
    }

    #[test]
    fn the_smallest_version_is_chosen() {
        assert_eq!(QrMatrix::encode("x").unwrap().width(), 21, "version 1");
        assert_eq!(QrMatrix::encode(&"x".repeat(14)).unwrap().width(), 21, "version 1-M holds 14 bytes");
        assert_eq!(QrMatrix::encode(&"x".repeat(15)).unwrap().width(), 25);
        assert_eq!(QrMatrix::encode(&"x".repeat(2_331)).unwrap().width(), 177, "version 40");
    }

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
        assert!(!fits(&"x".repeat(5000)));
    }

    #[test]
    fn fits_agrees_with_encode_at_the_limit() {
        // Version 40 at level M holds 2331 bytes.
        for length in [1, 100, 2_300, 2_331, 2_332, 2_400] {
            let payload = "x".repeat(length);
            assert_eq!(fits(&payload), QrMatrix::encode(&payload).is_some(), "{length}");
        }
        assert!(fits(&"x".repeat(2_331)));
        assert!(!fits(&"x".repeat(2_332)));
    }

    #[test]
    fn capacities_match_the_specification() {
        // ISO/IEC 18004 table 7, level M, byte mode: versions 1, 2, 7, 10 and 40.
        for (version, bytes) in [(1, 14), (2, 26), (7, 122), (10, 213), (40, 2_331)] {
            assert_eq!(version_for(bytes), Some(version), "{bytes} bytes");
            assert_ne!(version_for(bytes + 1), Some(version), "{} bytes", bytes + 1);
        }
    }
}
