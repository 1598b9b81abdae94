//! Where a ticket is: the street of its address (the place hotspots and reports group by). Pure
//! text, no configuration, so the store can keep it in a ticket's digest.

/// The street of an address: the 街道/镇/乡 it names, else its road (路/街/大道/巷), else `None`.
/// The district prefix is skipped, so "南山区桃源街道龙珠路18号" gives 桃源街道.
pub fn street_of(address: &str, district: Option<&str>) -> Option<String> {
    let text: String = address.chars().filter(|c| !c.is_whitespace()).collect();
    let rest = match district {
        Some(d) => text.strip_prefix(d).unwrap_or(&text),
        None => &text,
    };
    let rest = skip_district(rest);
    for marker in ["街道", "镇", "乡"] {
        if let Some(at) = rest.find(marker) {
            let end = at + marker.len();
            if at > 0 {
                return Some(rest[..end].to_string());
            }
        }
    }
    for marker in ["大道", "路", "街", "巷"] {
        if let Some(at) = rest.find(marker)
            && at > 0
        {
            return Some(rest[..at + marker.len()].to_string());
        }
    }
    None
}

/// Drops a leading "…区" or "…县" (an address that repeats its district).
fn skip_district(text: &str) -> &str {
    for marker in ["区", "县"] {
        if let Some(at) = text.find(marker) {
            let chars = text[..at].chars().count();
            if (1..=4).contains(&chars) {
                return &text[at + marker.len()..];
            }
        }
    }
    text
}
