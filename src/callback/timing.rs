//! When a survey or reminder may go out: after the delay, and never in the quiet hours of the
//! city's night (default 21:00–08:00 Asia/Shanghai). Pure functions of the moment given.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The hours in which no message is sent, in the city's local time. `start > end` spans
/// midnight (21:00–08:00); `start == end` means no quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    pub start: Time,
    pub end: Time,
}

impl QuietHours {
    fn contains(self, t: Time) -> bool {
        if self.start == self.end {
            false
        } else if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }
}

/// `at` itself when it lies outside the quiet hours; otherwise the moment they end.
pub fn next_allowed(at: Timestamp, quiet: QuietHours, tz: &TimeZone) -> Timestamp {
    let zoned = at.to_zoned(tz.clone());
    let time = zoned.time();
    if !quiet.contains(time) {
        return at;
    }
    let date = zoned.date();
    // Past the start of a window that spans midnight: it ends tomorrow morning.
    let end_date = if quiet.start > quiet.end && time >= quiet.start {
        date.tomorrow().unwrap_or(date)
    } else {
        date
    };
    end_date
        .to_datetime(quiet.end)
        .to_zoned(tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(at)
}

/// When a message planned `after` the moment `from` may go out.
pub fn send_at(
    from: Timestamp,
    after: SignedDuration,
    quiet: QuietHours,
    tz: &TimeZone,
) -> Timestamp {
    next_allowed(from.saturating_add(after).unwrap_or(from), quiet, tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz() -> TimeZone {
        crate::clock::city_tz()
    }

    fn at(text: &str) -> Timestamp {
        format!("{text}+08:00[Asia/Shanghai]")
            .parse::<jiff::Zoned>()
            .unwrap()
            .timestamp()
    }

    fn night() -> QuietHours {
        QuietHours {
            start: Time::constant(21, 0, 0, 0),
            end: Time::constant(8, 0, 0, 0),
        }
    }

    #[test]
    fn a_moment_in_the_day_goes_out_as_planned() {
        let t = at("2026-11-23T14:00:00");
        assert_eq!(next_allowed(t, night(), &tz()), t);
        assert_eq!(
            next_allowed(at("2026-11-23T20:59:59"), night(), &tz()),
            at("2026-11-23T20:59:59")
        );
    }

    #[test]
    fn nine_in_the_evening_waits_for_eight_the_next_morning() {
        assert_eq!(
            next_allowed(at("2026-11-23T21:00:00"), night(), &tz()),
            at("2026-11-24T08:00:00")
        );
        assert_eq!(
            next_allowed(at("2026-11-23T23:59:00"), night(), &tz()),
            at("2026-11-24T08:00:00")
        );
    }

    #[test]
    fn after_midnight_it_waits_for_eight_the_same_morning() {
        assert_eq!(
            next_allowed(at("2026-11-24T00:00:00"), night(), &tz()),
            at("2026-11-24T08:00:00")
        );
        assert_eq!(
            next_allowed(at("2026-11-24T07:59:59"), night(), &tz()),
            at("2026-11-24T08:00:00")
        );
        assert_eq!(
            next_allowed(at("2026-11-24T08:00:00"), night(), &tz()),
            at("2026-11-24T08:00:00")
        );
    }

    #[test]
    fn the_delay_counts_before_the_quiet_hours_apply() {
        let one_hour = SignedDuration::from_hours(1);
        // Closed at 20:30: an hour later is 21:30, so 08:00 the next day.
        assert_eq!(
            send_at(at("2026-11-23T20:30:00"), one_hour, night(), &tz()),
            at("2026-11-24T08:00:00")
        );
        // Closed at 19:59: 20:59 is still allowed.
        assert_eq!(
            send_at(at("2026-11-23T19:59:00"), one_hour, night(), &tz()),
            at("2026-11-23T20:59:00")
        );
        // The last day of the year rolls into the next.
        assert_eq!(
            send_at(at("2026-12-31T22:00:00"), one_hour, night(), &tz()),
            at("2027-01-01T08:00:00")
        );
    }

    #[test]
    fn a_daytime_window_and_no_window_work_too() {
        let lunch = QuietHours {
            start: Time::constant(12, 0, 0, 0),
            end: Time::constant(14, 0, 0, 0),
        };
        assert_eq!(
            next_allowed(at("2026-11-23T12:30:00"), lunch, &tz()),
            at("2026-11-23T14:00:00")
        );
        assert_eq!(
            next_allowed(at("2026-11-23T22:00:00"), lunch, &tz()),
            at("2026-11-23T22:00:00")
        );
        let none = QuietHours {
            start: Time::constant(8, 0, 0, 0),
            end: Time::constant(8, 0, 0, 0),
        };
        let t = at("2026-11-23T03:00:00");
        assert_eq!(next_allowed(t, none, &tz()), t);
    }
}
