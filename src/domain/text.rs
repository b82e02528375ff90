//! Text normalisation shared by every parser: full-width to half-width, whitespace trimming.
//!
//! Clerks type in Chinese input methods, which produce full-width digits, letters and spaces
//! (`１１０１０５`, `Ｘ`, `　`). Everything that reads a code or an address goes through here first.

/// Maps full-width ASCII variants (U+FF01–U+FF5E) to their half-width forms and the ideographic
/// space (U+3000) to a plain space. Other characters are kept as they are.
pub fn to_half_width(input: &str) -> String {
    input.chars().map(half_width_char).collect()
}

/// One character of [`to_half_width`].
pub fn half_width_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Half-width, trimmed on both sides (including ideographic and no-break spaces); `None` when
/// nothing is left.
pub fn clean(input: &str) -> Option<String> {
    let half = to_half_width(input);
    let trimmed = half.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_letters_become_half_width() {
        assert_eq!(to_half_width("１１０１０５ｘＸ"), "110105xX");
    }

    #[test]
    fn ideographic_space_is_trimmed() {
        assert_eq!(clean("\u{3000} 张三\u{3000}").as_deref(), Some("张三"));
        assert_eq!(clean(" \u{3000} "), None);
    }

    #[test]
    fn chinese_characters_are_kept() {
        assert_eq!(to_half_width("山东省济南市"), "山东省济南市");
    }
}
