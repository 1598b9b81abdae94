//! Phone numbers as SMS providers give them, in one form: E.164 (`+8613800138000`).

use crate::engine::extract::mask_phone;

/// A sender's or recipient's number in E.164 form: `+` and 8 to 15 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SmsNumber(String);

impl SmsNumber {
    /// Parses `+8613800138000`, `008613800138000` or a national number (`13800138000`, taken to
    /// be in `country_code`); spaces and dashes are ignored. `None` for anything else.
    pub fn parse(raw: &str, country_code: &str) -> Option<SmsNumber> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        let international = compact
            .strip_prefix('+')
            .or_else(|| compact.strip_prefix("00"));
        let digits = match international {
            Some(rest) => rest.to_string(),
            None => format!("{country_code}{}", compact.trim_start_matches('0')),
        };
        let valid = (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit());
        valid.then(|| SmsNumber(format!("+{digits}")))
    }

    pub fn e164(&self) -> &str {
        &self.0
    }

    /// The number as citizens write it at home: a Chinese mobile without +86 (what intake stores
    /// as a ticket's phone, so a proven sender matches it); others stay in E.164.
    pub fn national(&self) -> String {
        match self.0.strip_prefix("+86") {
            Some(rest) => rest.to_string(),
            None => self.0.clone(),
        }
    }

    /// For logs and pages: `138****8000` (the national form, masked).
    pub fn masked(&self) -> String {
        mask_phone(&self.national())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_and_international_forms_become_one() {
        let a = SmsNumber::parse("+86 138-0013-8000", "86").unwrap();
        let b = SmsNumber::parse("13800138000", "86").unwrap();
        let c = SmsNumber::parse("008613800138000", "86").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(a.e164(), "+8613800138000");
        assert_eq!(a.national(), "13800138000");
        assert_eq!(
            SmsNumber::parse("+15005550006", "86").unwrap().national(),
            "+15005550006"
        );
    }

    #[test]
    fn garbage_is_not_a_number() {
        for bad in ["", "+", "abc", "+86abc", "12", "+1234567890123456"] {
            assert!(SmsNumber::parse(bad, "86").is_none(), "{bad}");
        }
    }

    #[test]
    fn masked_numbers_hide_the_middle() {
        let n = SmsNumber::parse("13800138000", "86").unwrap();
        assert!(!n.masked().contains("13800138000"));
        assert!(n.masked().ends_with("8000"));
    }
}
