//! Working days and deadlines in the city's time zone (Asia/Shanghai), following the national
//! holiday table with its 调休 make-up working days (`config/holidays.toml`).
//!
//! Conventions, so every caller counts the same way:
//! - A day is a working day when it is listed in `workdays`, or is Monday–Friday and not listed in
//!   `holidays`. A year the file does not cover counts weekends only ([`WorkCalendar::covers`]).
//! - A deadline counted in working days with [`StartRule::FromNextDay`] (Zhongshan practice: the
//!   count starts the next calendar day) ends at 23:59:59 local time of the last working day.
//!   With [`StartRule::FromNow`] it keeps the clock time of the start on the last working day;
//!   a start on a day off counts as the start of the next working day, i.e. it also ends at
//!   23:59:59.
//! - Hour tiers (2 h, 24 h) are natural hours: nights, weekends and holidays count.
//! - The yellow warning falls one working day before the deadline, at the same clock time; red is
//!   any moment after the deadline.
//!
//! Arithmetic saturates at the ends of jiff's range (year ±9999) instead of failing.

mod limits;
#[cfg(test)]
mod tests;

pub use limits::{Limit, TimeLimits, Urgency};

use std::collections::BTreeSet;
use std::path::Path;

use jiff::civil::{Date, Time, Weekday};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use toml::Spanned;
use toml::value::Datetime;

use crate::clock::city_tz;
use crate::config::{ConfigError, line_of_offset, parse_toml};

pub const HOLIDAYS_FILE: &str = "holidays.toml";

/// Where a count of working days starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartRule {
    /// From the moment itself: one working day after Monday 10:00 is Tuesday 10:00.
    FromNow,
    /// From the next calendar day: one working day after Monday 10:00 ends Tuesday 23:59:59.
    FromNextDay,
}

/// How close a ticket is to its deadline (预警).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Warning {
    /// More than one working day left.
    Clear,
    /// 黄牌: within one working day of the deadline.
    Yellow,
    /// 红牌: past the deadline (督办).
    Red,
}

/// The holiday table, checked: ask it whether a day is worked and when deadlines fall.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    holidays: BTreeSet<Date>,
    workdays: BTreeSet<Date>,
    years: BTreeSet<i16>,
    provisional: BTreeSet<i16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidaysFile {
    #[serde(default)]
    year: Vec<YearTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearTable {
    year: Spanned<i16>,
    #[serde(default)]
    provisional: bool,
    #[serde(default)]
    holidays: Vec<Spanned<Datetime>>,
    #[serde(default)]
    workdays: Vec<Spanned<Datetime>>,
}

impl WorkCalendar {
    /// Reads and checks `<config_dir>/holidays.toml`. The file is required: without it every
    /// national holiday would silently count as a working day.
    pub fn load(config_dir: &Path) -> Result<WorkCalendar, ConfigError> {
        let path = config_dir.join(HOLIDAYS_FILE);
        let file = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            file: file.clone(),
            source,
        })?;
        WorkCalendar::from_toml(&file, &text)
    }

    /// Parses a holiday table; errors name `file` and the line of the offending entry.
    pub fn from_toml(file: &str, text: &str) -> Result<WorkCalendar, ConfigError> {
        let parsed: HolidaysFile = parse_toml(file, text)?;
        let invalid = |span: std::ops::Range<usize>, message: String| ConfigError::Invalid {
            file: file.to_string(),
            line: line_of_offset(text, span.start),
            message,
        };
        let mut calendar = WorkCalendar::default();
        for table in parsed.year {
            let year = *table.year.get_ref();
            if !calendar.years.insert(year) {
                return Err(invalid(
                    table.year.span(),
                    format!("year {year} is listed twice"),
                ));
            }
            if table.provisional {
                calendar.provisional.insert(year);
            }
            for entry in &table.holidays {
                let date = date_in_year(entry, year).map_err(|m| invalid(entry.span(), m))?;
                if !calendar.holidays.insert(date) {
                    return Err(invalid(
                        entry.span(),
                        format!("holiday {date} is listed twice"),
                    ));
                }
            }
            for entry in &table.workdays {
                let date = date_in_year(entry, year).map_err(|m| invalid(entry.span(), m))?;
                if calendar.holidays.contains(&date) {
                    let message = format!("{date} is listed both as a holiday and as a workday");
                    return Err(invalid(entry.span(), message));
                }
                if !is_weekend(date) {
                    let message = format!(
                        "workday {date} is a {:?}: only a Saturday or Sunday can be a 调休 workday",
                        date.weekday()
                    );
                    return Err(invalid(entry.span(), message));
                }
                if !calendar.workdays.insert(date) {
                    return Err(invalid(
                        entry.span(),
                        format!("workday {date} is listed twice"),
                    ));
                }
            }
        }
        Ok(calendar)
    }

    /// A calendar without holidays: Monday to Friday (for tests and years not yet published).
    pub fn weekends_only() -> WorkCalendar {
        WorkCalendar::default()
    }

    /// Whether the holiday table has an entry for this date's year.
    pub fn covers(&self, date: Date) -> bool {
        self.years.contains(&date.year())
    }

    /// Years whose dates are not yet confirmed by the State Council notice.
    pub fn provisional_years(&self) -> impl Iterator<Item = i16> + '_ {
        self.provisional.iter().copied()
    }

    pub fn is_working_day(&self, date: Date) -> bool {
        if self.holidays.contains(&date) {
            return false;
        }
        self.workdays.contains(&date) || !is_weekend(date)
    }

    /// The deadline `n` working days after `from` (see the module conventions); `n = 0` is `from`.
    pub fn add_working_days(&self, from: Timestamp, n: u32, start: StartRule) -> Timestamp {
        if n == 0 {
            return from;
        }
        let local = from.to_zoned(city_tz());
        let day = self.nth_working_day_after(local.date(), n);
        match start {
            StartRule::FromNow if self.is_working_day(local.date()) => at_local(day, local.time()),
            _ => end_of_day(day),
        }
    }

    /// `hours` natural hours after `from` (the 2-hour and 24-hour tiers).
    pub fn add_hours(&self, from: Timestamp, hours: u32) -> Timestamp {
        add_duration(from, SignedDuration::from_hours(i64::from(hours)))
    }

    /// Working days in `(from, to]`: how many working days `to` lies after `from`; negative when
    /// `to` is earlier (then counted in `(to, from]`).
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        let (start, end, sign) = if to >= from {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut count = 0;
        let mut day = start;
        while day < end {
            let Ok(next) = day.tomorrow() else { break };
            day = next;
            if self.is_working_day(day) {
                count += 1;
            }
        }
        sign * count
    }

    /// 黄牌预警: one working day before `deadline`, at the same clock time.
    pub fn yellow_warning(&self, deadline: Timestamp) -> Timestamp {
        let local = deadline.to_zoned(city_tz());
        let mut day = local.date();
        loop {
            let Ok(previous) = day.yesterday() else {
                return deadline;
            };
            day = previous;
            if self.is_working_day(day) {
                return at_local(day, local.time());
            }
        }
    }

    /// How close `now` is to `deadline`.
    pub fn warning(&self, now: Timestamp, deadline: Timestamp) -> Warning {
        if now > deadline {
            Warning::Red
        } else if now >= self.yellow_warning(deadline) {
            Warning::Yellow
        } else {
            Warning::Clear
        }
    }

    fn nth_working_day_after(&self, date: Date, n: u32) -> Date {
        let mut day = date;
        let mut left = n;
        while left > 0 {
            let Ok(next) = day.tomorrow() else { return day };
            day = next;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

fn is_weekend(date: Date) -> bool {
    matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// A plain TOML date (no time, no offset) inside `year`.
fn date_in_year(entry: &Spanned<Datetime>, year: i16) -> Result<Date, String> {
    let value = entry.get_ref();
    let (Some(d), None, None) = (value.date, value.time, value.offset) else {
        return Err(format!("`{value}` is not a plain date like {year}-10-01"));
    };
    let date = Date::new(d.year as i16, d.month as i8, d.day as i8)
        .map_err(|_| format!("`{value}` is not a date in the calendar"))?;
    if date.year() != year {
        return Err(format!("{date} is listed under year {year}"));
    }
    Ok(date)
}

/// The moment `time` o'clock on `date` in the city.
fn at_local(date: Date, time: Time) -> Timestamp {
    date.to_datetime(time)
        .to_zoned(city_tz())
        .map(|z| z.timestamp())
        .unwrap_or(if date.year() < 0 {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// 23:59:59 on `date` in the city: when a deadline counted in working days ends.
pub fn end_of_day(date: Date) -> Timestamp {
    at_local(date, Time::constant(23, 59, 59, 0))
}

fn add_duration(from: Timestamp, duration: SignedDuration) -> Timestamp {
    from.checked_add(duration)
        .unwrap_or(if duration.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}
