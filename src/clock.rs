//! Time as the hotline sees it: instants, and the city's calendar day in Asia/Shanghai.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

pub const CITY_TIME_ZONE: &str = "Asia/Shanghai";

/// The city's time zone (bundled tz database: no system files needed).
pub fn city_tz() -> TimeZone {
    TimeZone::get(CITY_TIME_ZONE).unwrap_or(TimeZone::fixed(jiff::tz::offset(8)))
}

pub fn now() -> Timestamp {
    Timestamp::now()
}

/// Today's date in the city.
pub fn today() -> Date {
    now().to_zoned(city_tz()).date()
}

/// A timestamp as a citizen reads it: "2026年11月22日 14:05".
pub fn display(at: Timestamp) -> String {
    at.to_zoned(city_tz())
        .strftime("%Y年%m月%d日 %H:%M")
        .to_string()
}
