//! Text normalisation: everything a citizen types passes through it first.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let once = hotline::text::normalize(text);
        // Normalising is idempotent: a second pass changes nothing.
        assert_eq!(hotline::text::normalize(&once), once);
        let _ = hotline::text::pinyin_syllables(&once);
        let _ = hotline::text::char_len(&once);
    }
});
