//! Knowledge-base articles: TOML front matter and Markdown body from the knowledge folder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let parsed = hotline::kb::Article::parse(std::path::Path::new("fuzz.md"), text, "示例市");
        if let Err(e) = parsed {
            // Every rejection must render as a message a person can act on.
            let _ = e.to_string();
        }
    }
});
