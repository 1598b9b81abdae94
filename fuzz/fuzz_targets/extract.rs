//! Extraction from citizens' text: phone numbers, districts, addresses, names, ticket numbers,
//! and the masks that keep them out of logs.
#![no_main]

use hotline::engine::extract;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let districts: Vec<String> = ["东城区", "西城区", "南山区", "北湖区", "高新区", "滨江县"]
        .map(String::from)
        .to_vec();
    if let Some(phone) = extract::phone(text) {
        let masked = extract::mask_phone(&phone);
        assert!(phone.len() < 7 || masked != phone, "a phone number left unmasked");
    }
    let _ = extract::district(text, &districts);
    let _ = extract::address(text, &districts);
    if let Some(name) = extract::name(text) {
        let _ = extract::mask_name(&name);
    }
    let _ = extract::ticket_number(text);
    let _ = extract::last_four_digits(text);
});
