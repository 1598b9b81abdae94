//! Text normalisation shared by indexing, querying and the conversation engine.
//!
//! Citizens type on phones: full-width digits and letters, Traditional characters, upper-case
//! abbreviations. Everything that compares text goes through [`normalize`] first, so the index and
//! the query always see the same form.

use pinyin::ToPinyin;

/// Full-width → half-width, Traditional → Simplified, case-folded, control characters dropped and
/// runs of whitespace collapsed to one space.
///
/// The Traditional → Simplified step costs ~15,000 instructions for a short message, so a message
/// is normalised once where it enters (the engine's turn, [`crate::kb::Analysis`]) and the
/// normalised text is passed on to everything that reads it.
pub fn normalize(input: &str) -> String {
    let mut folded = String::with_capacity(input.len());
    let mut last_space = true;
    for c in input.chars() {
        let c = to_half_width(c);
        if c.is_whitespace() || c.is_control() {
            if !last_space {
                folded.push(' ');
                last_space = true;
            }
            continue;
        }
        last_space = false;
        folded.extend(c.to_lowercase());
    }
    let trimmed = folded.trim_end();
    if trimmed.chars().any(is_han) {
        to_simplified(trimmed)
    } else {
        trimmed.to_string()
    }
}

/// Traditional → Simplified with OpenCC's `t2s` dictionaries (phrases first, then characters),
/// built once per process.
fn to_simplified(text: &str) -> String {
    use std::sync::OnceLock;
    static T2S: OnceLock<ferrous_opencc::OpenCC> = OnceLock::new();
    T2S.get_or_init(|| {
        ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::T2s)
            .expect("the t2s configuration and dictionaries are compiled into the binary")
    })
    .convert(text)
}

/// Maps the full-width forms block (and the ideographic space) to ASCII.
pub fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// A CJK unified ideograph (the basic block and extension A).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Toneless pinyin syllables of the Han characters in `text`, in order; other characters are
/// skipped. "公积今" → ["gong", "ji", "jin"].
pub fn pinyin_syllables(text: &str) -> Vec<&'static str> {
    text.chars()
        .filter_map(|c| c.to_pinyin().map(|p| p.plain()))
        .collect()
}

/// The number of characters in `text` (what a citizen counts, not bytes).
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_characters_become_simplified() {
        assert_eq!(normalize("身份證補辦"), "身份证补办");
    }

    #[test]
    fn full_width_letters_and_digits_become_ascii_lower_case() {
        assert_eq!(normalize("ＧＪＪ　１２３"), "gjj 123");
    }

    #[test]
    fn control_characters_and_whitespace_runs_collapse() {
        assert_eq!(normalize("  a\u{0007}\n\n b "), "a b");
    }

    #[test]
    fn homophones_share_pinyin() {
        assert_eq!(pinyin_syllables("公积今"), pinyin_syllables("公积金"));
        assert_eq!(pinyin_syllables("a公b"), vec!["gong"]);
    }
}
