//! The calendar against the real 2025–2027 table in `config/holidays.toml`.

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::{Date, date};

use super::*;
use crate::domain::Category;

fn calendar() -> WorkCalendar {
    WorkCalendar::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config")).unwrap()
}

/// A moment in the city: `local("2026-10-09 10:00")`.
fn local(text: &str) -> Timestamp {
    format!("{text}:00+08:00[Asia/Shanghai]")
        .replace(' ', "T")
        .parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
}

fn shown(at: Timestamp) -> String {
    at.to_zoned(crate::clock::city_tz())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[test]
fn the_shipped_table_loads_and_marks_2027_provisional() {
    let cal = calendar();
    for year in [2025, 2026, 2027] {
        assert!(cal.covers(date(year, 6, 1)), "{year}");
    }
    assert!(!cal.covers(date(2028, 6, 1)));
    assert_eq!(cal.provisional_years().collect::<Vec<_>>(), vec![2027]);
}

#[test]
fn weekends_holidays_and_make_up_saturdays_are_told_apart() {
    let cal = calendar();
    assert!(cal.is_working_day(date(2026, 10, 9)), "a Friday");
    assert!(!cal.is_working_day(date(2026, 10, 11)), "a Sunday");
    assert!(!cal.is_working_day(date(2026, 10, 1)), "国庆 on a Thursday");
    assert!(!cal.is_working_day(date(2026, 10, 5)), "国庆 on a Monday");
    assert!(cal.is_working_day(date(2026, 10, 10)), "调休 Saturday");
    assert!(cal.is_working_day(date(2026, 9, 20)), "调休 Sunday");
    assert!(!cal.is_working_day(date(2025, 1, 1)), "元旦 2025");
    assert!(cal.is_working_day(date(2025, 2, 8)), "春节 调休 2025");
}

#[test]
fn a_deadline_across_a_weekend_skips_saturday_and_sunday() {
    let cal = calendar();
    // Thursday 12 March 2026, 10:00; two working days from the next day: Fri 13, Mon 16.
    let from = local("2026-03-12 10:00");
    assert_eq!(
        shown(cal.add_working_days(from, 2, StartRule::FromNextDay)),
        "2026-03-16 23:59:59"
    );
    assert_eq!(
        shown(cal.add_working_days(from, 2, StartRule::FromNow)),
        "2026-03-16 10:00:00"
    );
}

#[test]
fn a_deadline_across_national_day_2026_skips_the_holiday_and_counts_the_make_up_saturday() {
    let cal = calendar();
    // Wednesday 30 September: 1–7 October off, Thursday 8 and Friday 9 work, Saturday 10 works.
    let from = local("2026-09-30 15:00");
    let days = |n| shown(cal.add_working_days(from, n, StartRule::FromNextDay));
    assert_eq!(days(1), "2026-10-08 23:59:59");
    assert_eq!(days(2), "2026-10-09 23:59:59");
    assert_eq!(days(3), "2026-10-10 23:59:59", "调休 Saturday counts");
    assert_eq!(days(4), "2026-10-12 23:59:59");
    assert_eq!(
        cal.working_days_between(date(2026, 9, 30), date(2026, 10, 12)),
        4
    );
    assert_eq!(
        cal.working_days_between(date(2026, 10, 12), date(2026, 9, 30)),
        -4
    );
}

#[test]
fn from_now_keeps_the_clock_time_and_from_next_day_ends_the_day() {
    let cal = calendar();
    let monday = local("2026-03-02 10:30");
    assert_eq!(
        shown(cal.add_working_days(monday, 1, StartRule::FromNow)),
        "2026-03-03 10:30:00"
    );
    assert_eq!(
        shown(cal.add_working_days(monday, 1, StartRule::FromNextDay)),
        "2026-03-03 23:59:59"
    );
    // Received on a Saturday: the clock starts Monday, so one working day ends Monday night.
    let saturday = local("2026-03-07 10:30");
    for start in [StartRule::FromNow, StartRule::FromNextDay] {
        assert_eq!(
            shown(cal.add_working_days(saturday, 1, start)),
            "2026-03-09 23:59:59"
        );
    }
    assert_eq!(
        cal.add_working_days(monday, 0, StartRule::FromNextDay),
        monday
    );
}

#[test]
fn hour_tiers_count_natural_hours_through_holidays() {
    let cal = calendar();
    let eve = local("2026-09-30 23:00");
    assert_eq!(shown(cal.add_hours(eve, 2)), "2026-10-01 01:00:00");
    assert_eq!(shown(cal.add_hours(eve, 24)), "2026-10-01 23:00:00");
}

#[test]
fn the_yellow_warning_comes_one_working_day_before_the_deadline() {
    let cal = calendar();
    // Deadline Monday 12 October 2026 (after 国庆 and the 调休 Saturday 10th): yellow on Saturday.
    let deadline = local("2026-10-12 23:59");
    assert_eq!(shown(cal.yellow_warning(deadline)), "2026-10-10 23:59:00");
    // Deadline Thursday 8 October: the working day before is 30 September.
    let deadline = local("2026-10-08 17:00");
    assert_eq!(shown(cal.yellow_warning(deadline)), "2026-09-30 17:00:00");
    assert_eq!(
        cal.warning(local("2026-09-30 16:59"), deadline),
        Warning::Clear
    );
    assert_eq!(
        cal.warning(local("2026-10-03 09:00"), deadline),
        Warning::Yellow
    );
    assert_eq!(
        cal.warning(local("2026-10-08 17:01"), deadline),
        Warning::Red
    );
}

#[test]
fn time_limits_follow_urgency_then_category() {
    let cal = calendar();
    let limits = TimeLimits::from_settings(&crate::config::Settings::default());
    let from = local("2026-03-02 10:00");
    let due = |c, u| shown(limits.deadline(&cal, from, c, u));
    assert_eq!(
        due(Category::Complaint, Urgency::LifeSafety),
        "2026-03-02 12:00:00"
    );
    assert_eq!(
        due(Category::Help, Urgency::Utilities),
        "2026-03-03 10:00:00"
    );
    assert_eq!(
        due(Category::Consultation, Urgency::General),
        "2026-03-04 23:59:59"
    );
    assert_eq!(
        due(Category::Complaint, Urgency::General),
        "2026-03-23 23:59:59"
    );
    assert_eq!(
        limits.limit(Category::Suggestion, Urgency::Complex),
        Limit::WorkingDays(15)
    );
    let d = limits.deadlines(&cal, from, Category::Complaint, Urgency::LifeSafety);
    assert_eq!(shown(d.accept_by), "2026-03-02 10:15:00");
    assert_eq!(
        d.object_by, d.deadline,
        "no objection window past a 2-hour deadline"
    );
    let d = limits.deadlines(&cal, from, Category::Complaint, Urgency::General);
    assert_eq!(
        (shown(d.accept_by), shown(d.object_by)),
        ("2026-03-03 10:00:00".into(), "2026-03-04 10:00:00".into())
    );
}

#[test]
fn urgency_labels_round_trip() {
    for u in Urgency::ALL {
        assert_eq!(Urgency::from_label(u.label()), Some(u));
    }
}

fn rejected(text: &str) -> String {
    WorkCalendar::from_toml("config/holidays.toml", text)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_date_both_holiday_and_workday_is_rejected_with_file_and_line() {
    let text = "[[year]]\nyear = 2026\nholidays = [2026-10-01, 2026-10-10]\nworkdays = [\n  2026-09-20,\n  2026-10-10,\n]\n";
    let err = rejected(text);
    assert!(err.starts_with("config/holidays.toml:6: "), "{err}");
    assert!(err.contains("2026-10-10") && err.contains("both"), "{err}");
}

#[test]
fn malformed_holiday_files_are_rejected_with_file_and_line() {
    let cases = [
        (
            "[[year]]\nyear = 2026\nholiday = [2026-10-01]\n",
            ":3: ",
            "unknown field",
        ),
        (
            "[[year]]\nyear = 2026\nholidays = [2027-10-01]\n",
            ":3: ",
            "listed under year 2026",
        ),
        (
            "[[year]]\nyear = 2026\nholidays = [\"2026-10-01\"]\n",
            ":3: ",
            "",
        ),
        (
            "[[year]]\nyear = 2026\nholidays = [2026-10-01T08:00:00]\n",
            ":3: ",
            "plain date",
        ),
        (
            "[[year]]\nyear = 2026\nworkdays = [2026-10-09]\n",
            ":3: ",
            "Saturday or Sunday",
        ),
        (
            "[[year]]\nyear = 2026\n[[year]]\nyear = 2026\n",
            ":4: ",
            "listed twice",
        ),
        (
            "[[year]]\nyear = 2026\nholidays = [2026-10-01,\n 2026-10-01]\n",
            ":4: ",
            "listed twice",
        ),
    ];
    for (text, line, words) in cases {
        let err = rejected(text);
        assert!(
            err.starts_with(&format!("config/holidays.toml{line}")),
            "{text}: {err}"
        );
        assert!(err.contains(words), "{text}: {err}");
    }
}

#[test]
fn a_missing_holiday_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = WorkCalendar::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("holidays.toml"), "{err}");
}

#[test]
fn without_a_table_only_weekends_are_off() {
    let cal = WorkCalendar::weekends_only();
    assert!(cal.is_working_day(date(2026, 10, 1)));
    assert!(!cal.is_working_day(date(2026, 10, 10)));
    let until: Date = date(2026, 10, 12);
    assert_eq!(cal.working_days_between(date(2026, 10, 9), until), 1);
}
