//! Pulling what a handling unit needs out of free text: district, address, phone, name, ticket
//! numbers. Pure functions over normalised text, so "nothing is asked twice".

use std::sync::LazyLock;

use regex::Regex;

use crate::domain::TicketNumber;

static MOBILE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\d])(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?:[^\d]|$)")
        .expect("a valid literal pattern (checked by the unit tests)")
});
static LANDLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\d])(0\d{2,3}[- ]?\d{7,8})(?:[^\d]|$)")
        .expect("a valid literal pattern (checked by the unit tests)")
});
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"([\p{Han}\dA-Za-z]{1,16}?(?:路|街|巷|弄|胡同|大道|小区|花园|家园|苑|公寓|大厦|村|社区|广场|市场|公园|学校|医院|商场|工地|车站|地铁站)(?:[\p{Han}\d]{0,3}号(?:院|楼)?)?(?:[\d一二三四五六七八九十]+(?:号楼|栋|幢|单元|楼|层|室|号))*(?:东门|西门|南门|北门|门口|路口|附近|对面|旁边)?)",
    )
    .expect("a valid literal pattern (checked by the unit tests)")
});
static NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:我叫|我姓|姓名[是:：]?|名字[是叫:：]?)\s*([\p{Han}]{1,4}?)(?:[,，。\s]|先生|女士|$)",
    )
    .expect("a valid literal pattern (checked by the unit tests)")
});
static TICKET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[^\d])(\d{7,12})(?:[^\d]|$)")
        .expect("a valid literal pattern (checked by the unit tests)")
});

/// A mainland mobile (11 digits, 1[3-9]…) or a landline with area code, digits only.
pub fn phone(text: &str) -> Option<String> {
    let digits = |s: &str| s.chars().filter(|c| c.is_ascii_digit()).collect::<String>();
    if let Some(c) = MOBILE.captures(text) {
        return Some(digits(&c[1]));
    }
    LANDLINE.captures(text).map(|c| digits(&c[1]))
}

/// The first configured district named in `text`, also by its short name (东城 → 东城区).
pub fn district(text: &str, districts: &[String]) -> Option<String> {
    districts
        .iter()
        .filter_map(|d| {
            let short = d.trim_end_matches(['区', '县', '市']);
            let at = text.find(d.as_str()).or_else(|| {
                (short.chars().count() >= 2)
                    .then(|| text.find(short))
                    .flatten()
            })?;
            Some((at, d))
        })
        .min_by_key(|(at, _)| *at)
        .map(|(_, d)| d.clone())
}

/// A street address: the first run ending in a place word (路, 街, 小区, 村 …), with what follows
/// it (号, 栋, 单元, 门口 …). The district name is removed from the front.
pub fn address(text: &str, districts: &[String]) -> Option<String> {
    let mut cleaned = text.to_string();
    for d in districts {
        cleaned = cleaned.replace(d.as_str(), " ");
    }
    let found = ADDRESS.captures(&cleaned)?.get(1)?.as_str();
    let trimmed = found.trim_start_matches(|c: char| "在我家住的是到从".contains(c));
    (trimmed.chars().count() >= 3).then(|| trimmed.to_string())
}

/// A name the citizen gave ("我叫张三", "我姓王").
pub fn name(text: &str) -> Option<String> {
    NAME.captures(text).map(|c| c[1].to_string())
}

/// A ticket number in the text whose check digit is right.
pub fn ticket_number(text: &str) -> Option<TicketNumber> {
    TICKET
        .captures_iter(text)
        .find_map(|c| TicketNumber::parse(&c[1]))
}

/// Four digits alone (the "last four digits of your phone" answer).
pub fn last_four_digits(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    (digits.len() == 4).then_some(digits)
}

/// Masks a phone for display and logs: 138****1234.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Masks a name: 张** (the family name only).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn districts() -> Vec<String> {
        ["东城区", "西城区", "南山区", "北湖区", "高新区", "滨江县"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn mobile_and_landline_numbers_are_found_and_validated() {
        assert_eq!(phone("电话13812345678谢谢").as_deref(), Some("13812345678"));
        assert_eq!(phone("138-1234-5678").as_deref(), Some("13812345678"));
        assert_eq!(phone("+86 13812345678").as_deref(), Some("13812345678"));
        assert_eq!(phone("座机 0755-12345678").as_deref(), Some("075512345678"));
        assert_eq!(phone("12812345678"), None);
        assert_eq!(phone("1381234567"), None);
        assert_eq!(phone("138123456789"), None);
    }

    #[test]
    fn districts_are_found_by_full_and_short_name() {
        assert_eq!(
            district("我住南山区", &districts()).as_deref(),
            Some("南山区")
        );
        assert_eq!(
            district("东城这边", &districts()).as_deref(),
            Some("东城区")
        );
        assert_eq!(district("滨江", &districts()).as_deref(), Some("滨江县"));
        assert_eq!(district("朝阳区", &districts()), None);
    }

    #[test]
    fn addresses_are_found_without_the_district() {
        let d = districts();
        assert_eq!(
            address("南山区滨河小区3栋楼下烧烤店太吵", &d).as_deref(),
            Some("滨河小区3栋")
        );
        assert_eq!(
            address("西城区和平路和建设路路口的路灯坏了", &d).as_deref(),
            Some("和平路")
        );
        assert_eq!(address("我想问问公积金", &d), None);
    }

    #[test]
    fn names_ticket_numbers_and_digits_are_found() {
        assert_eq!(name("我叫张三，电话").as_deref(), Some("张三"));
        assert_eq!(name("我姓王"), Some("王".to_string()));
        let n = TicketNumber::from_sequence(100_001);
        assert_eq!(ticket_number(&format!("查询{n}")), Some(n));
        assert_eq!(ticket_number("查询1000000"), None);
        assert_eq!(last_four_digits("5678"), Some("5678".into()));
        assert_eq!(last_four_digits("56789"), None);
    }

    #[test]
    fn phones_and_names_are_masked() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_name("张三丰"), "张**");
    }
}
