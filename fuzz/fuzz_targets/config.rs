//! `config/hotline.toml`: any text gives settings or a `file:line: message` error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(e) = hotline::config::parse_toml::<hotline::config::Settings>("hotline.toml", text)
        {
            let _ = e.to_string();
        }
    }
});
