//! Report periods in the city's time: a day, a Monday–Sunday week or a calendar month, and the
//! earlier periods a trend compares it with.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;

use crate::clock::city_tz;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Daily,
    Weekly,
    Monthly,
}

impl PeriodKind {
    pub fn label(self) -> &'static str {
        match self {
            PeriodKind::Daily => "日报",
            PeriodKind::Weekly => "周报",
            PeriodKind::Monthly => "月报",
        }
    }

    /// Periods shown in a trend, this one included.
    pub fn trend_len(self) -> usize {
        match self {
            PeriodKind::Daily => 14,
            PeriodKind::Weekly => 8,
            PeriodKind::Monthly => 6,
        }
    }

    pub fn parse(text: &str) -> Option<PeriodKind> {
        match text {
            "daily" => Some(PeriodKind::Daily),
            "weekly" => Some(PeriodKind::Weekly),
            "monthly" => Some(PeriodKind::Monthly),
            _ => None,
        }
    }
}

/// One period: `[first, last]` as dates, `[start, end)` as moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
}

fn midnight(date: Date) -> Timestamp {
    date.to_zoned(city_tz())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Period {
    /// The last complete period before `today`: yesterday, last week (Monday–Sunday) or last
    /// month.
    pub fn last_complete(kind: PeriodKind, today: Date) -> Period {
        let yesterday = today.yesterday().unwrap_or(today);
        Period::containing(kind, yesterday)
    }

    /// The period `date` falls in.
    pub fn containing(kind: PeriodKind, date: Date) -> Period {
        match kind {
            PeriodKind::Daily => Period {
                kind,
                first: date,
                last: date,
            },
            PeriodKind::Weekly => {
                let back = i64::from(date.weekday().to_monday_zero_offset());
                let first = date.checked_sub(back.days()).unwrap_or(date);
                Period {
                    kind,
                    first,
                    last: first.checked_add(6.days()).unwrap_or(first),
                }
            }
            PeriodKind::Monthly => Period {
                kind,
                first: date.first_of_month(),
                last: date.last_of_month(),
            },
        }
    }

    pub fn start(&self) -> Timestamp {
        midnight(self.first)
    }

    pub fn end(&self) -> Timestamp {
        midnight(self.last.tomorrow().unwrap_or(self.last))
    }

    pub fn previous(&self) -> Period {
        let before = self.first.yesterday().unwrap_or(self.first);
        Period::containing(self.kind, before)
    }

    /// This period and the ones before it, oldest first, `trend_len` in all.
    pub fn trend(&self) -> Vec<Period> {
        let mut out = vec![*self];
        while out.len() < self.kind.trend_len() {
            let p = out[out.len() - 1].previous();
            out.push(p);
        }
        out.reverse();
        out
    }

    /// "2026年11月16日—11月22日", or one date for a day.
    pub fn title(&self) -> String {
        let f = self.first.strftime("%Y年%m月%d日");
        match self.kind {
            PeriodKind::Daily => f.to_string(),
            PeriodKind::Monthly => self.first.strftime("%Y年%m月").to_string(),
            PeriodKind::Weekly => format!("{f}—{}", self.last.strftime("%m月%d日")),
        }
    }

    /// A short label for a trend axis: "11/16" for days and weeks, "2026-11" for months.
    pub fn short(&self) -> String {
        match self.kind {
            PeriodKind::Monthly => self.first.strftime("%Y-%m").to_string(),
            _ => self.first.strftime("%m/%d").to_string(),
        }
    }

    /// The days of the period (for daily volumes).
    pub fn days(&self) -> Vec<Date> {
        let mut out = Vec::new();
        let mut d = self.first;
        while d <= self.last {
            out.push(d);
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn last_week_runs_monday_to_sunday() {
        let p = Period::last_complete(PeriodKind::Weekly, date(2026, 11, 23));
        assert_eq!((p.first, p.last), (date(2026, 11, 16), date(2026, 11, 22)));
        assert_eq!(p.title(), "2026年11月16日—11月22日");
        let trend = p.trend();
        assert_eq!(trend.len(), 8);
        assert_eq!(trend[6].last, date(2026, 11, 15));
    }

    #[test]
    fn last_month_is_the_whole_calendar_month() {
        let p = Period::last_complete(PeriodKind::Monthly, date(2026, 3, 1));
        assert_eq!((p.first, p.last), (date(2026, 2, 1), date(2026, 2, 28)));
        assert_eq!(p.days().len(), 28);
        assert_eq!(p.end().as_second() - p.start().as_second(), 28 * 86_400);
    }
}
