//! WCAG colour contrast: which text colour reads on a brand colour, and how well.

/// The text colour (`#ffffff` or `#111111`) with the higher WCAG contrast against `background`
/// (`#rrggbb`), so any brand colour yields a readable launcher.
pub fn readable_text_on(background: &str) -> &'static str {
    let luminance = relative_luminance(background).unwrap_or(0.0);
    let contrast_with_white = contrast_ratio(1.0, luminance);
    let contrast_with_dark = contrast_ratio(luminance, DARK_TEXT_LUMINANCE);
    let (best, ratio) =
        if contrast_with_white >= contrast_with_dark { ("#ffffff", contrast_with_white) } else { ("#111111", contrast_with_dark) };
    if ratio >= WCAG_AA_TEXT {
        best
    } else {
        // Mid-tone brands (luminance about 0.18-0.21, e.g. #3d8b3d green or #7a7a7a grey) get
        // under 4.5:1 with both white and #111 (at worst 4.31:1 for the better one); pure black still gets at least
        // 4.58:1 wherever white falls short, so such brands keep readable text.
        "#000000"
    }
}

/// WCAG 2 AA minimum contrast for normal text.
pub const WCAG_AA_TEXT: f64 = 4.5;
/// The relative luminance of #111111, the widget's dark text.
const DARK_TEXT_LUMINANCE: f64 = 0.005_605;

/// WCAG 2 relative luminance of a `#rrggbb` colour; `None` if it is not one.
pub fn relative_luminance(hex: &str) -> Option<f64> {
    if !is_hex_color(hex) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some(luminance_of(channel(1)?, channel(3)?, channel(5)?))
}

/// WCAG 2 relative luminance of an sRGB colour.
pub fn luminance_of(r: u8, g: u8, b: u8) -> f64 {
    let linear = |value: u8| {
        let c = f64::from(value) / 255.0;
        if c <= 0.039_28 { c / 12.92 } else { pow_2_4((c + 0.055) / 1.055) }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// `x^2.4` for `x` in (0, 1] with multiplications only: the widget's first load then carries no
/// libm `pow` (2 KB of wasm). `x^2.4 = x² · ⁵√(x²)`; the fifth root by Newton's method from 1,
/// which descends monotonically to it on (0, 1].
fn pow_2_4(x: f64) -> f64 {
    let square = x * x;
    let mut root = 1.0_f64;
    for _ in 0..40 {
        let fourth = (root * root) * (root * root);
        root -= (fourth * root - square) / (5.0 * fourth);
    }
    square * root
}

/// WCAG 2 contrast ratio of two relative luminances (order does not matter), from 1 to 21.
pub fn contrast_ratio(a: f64, b: f64) -> f64 {
    let (light, dark) = if a >= b { (a, b) } else { (b, a) };
    (light + 0.05) / (dark + 0.05)
}

/// Whether `value` is a `#rrggbb` colour.
pub fn is_hex_color(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_luminance_power_matches_libm_on_every_channel_value() {
        for value in 0..=255u8 {
            let x = (f64::from(value) / 255.0 + 0.055) / 1.055;
            assert!((pow_2_4(x) - x.powf(2.4)).abs() < 1e-12, "{value}: {} vs {}", pow_2_4(x), x.powf(2.4));
        }
    }

    #[test]
    fn picks_the_readable_side() {
        assert_eq!(readable_text_on("#000000"), "#ffffff");
        assert_eq!(readable_text_on("#1f6feb"), "#ffffff");
        assert_eq!(readable_text_on("#ffffff"), "#111111");
        assert_eq!(readable_text_on("#ffd400"), "#111111");
        assert_eq!(readable_text_on("#1a237e"), "#ffffff");
    }

    /// The text on a brand-coloured header, button or bubble meets WCAG AA (4.5:1) whatever brand
    /// colour a site owner picks: every 5th step of each channel, which covers the mid-tones
    /// where neither white nor #111 reach it.
    #[test]
    fn text_on_any_brand_colour_meets_wcag_aa() {
        let mut worst = f64::MAX;
        for r in (0..=255u8).step_by(5) {
            for g in (0..=255u8).step_by(5) {
                for b in (0..=255u8).step_by(5) {
                    let brand = format!("#{r:02x}{g:02x}{b:02x}");
                    let text = readable_text_on(&brand);
                    let ratio = contrast_ratio(relative_luminance(&brand).unwrap(), relative_luminance(text).unwrap());
                    assert!(ratio >= WCAG_AA_TEXT, "{text} on {brand}: {ratio:.2}:1");
                    worst = worst.min(ratio);
                }
            }
        }
        assert!(worst < 4.7, "the sample reaches the hard mid-tones (worst {worst:.2})");
        // Two of them: white gets 4.23:1 and #111 4.46:1 on this green, 4.29 and 4.40 on the
        // grey; black gets 4.96 and 4.89.
        assert_eq!(readable_text_on("#3d8b3d"), "#000000");
        assert_eq!(readable_text_on("#7a7a7a"), "#000000");
    }

    #[test]
    fn contrast_ratio_matches_wcag() {
        assert!((contrast_ratio(1.0, 0.0) - 21.0).abs() < 1e-9);
        assert!((contrast_ratio(0.0, 1.0) - 21.0).abs() < 1e-9);
        assert_eq!(relative_luminance("red"), None);
        // #767676 on white is the classic 4.54:1.
        let grey = relative_luminance("#767676").unwrap();
        assert!((contrast_ratio(1.0, grey) - 4.54).abs() < 0.01);
    }
}
