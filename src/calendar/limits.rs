//! Time limits (办理时限): how long a ticket may take, by category and urgency, and the three
//! moments a dispatch sets (签收, objection window, 办结), computed on the work calendar.
//!
//! Defaults come from DOMAIN.md: urgency tiers 生命财产安全 2 hours and 水电气热 24 hours (natural
//! time, Beijing), 复杂疑难 15 working days, 一般 by category from `[time_limits]` in
//! `config/hotline.toml` (Zhongshan: 咨询/表扬 2, 求助/建议 10, 投诉/举报 15 working days).
//! Signing: 15 minutes, 30 minutes, else one working day. Objections: two working days, never
//! past the deadline.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::{StartRule, WorkCalendar, add_duration};
use crate::config::Settings;
use crate::domain::{Category, Deadlines};

/// 紧急程度: separate from the category of the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Urgency {
    #[serde(rename = "生命财产安全")]
    LifeSafety,
    #[serde(rename = "水电气热")]
    Utilities,
    #[serde(rename = "一般")]
    General,
    #[serde(rename = "复杂疑难")]
    Complex,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [
        Urgency::LifeSafety,
        Urgency::Utilities,
        Urgency::General,
        Urgency::Complex,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Urgency::LifeSafety => "生命财产安全",
            Urgency::Utilities => "水电气热",
            Urgency::General => "一般",
            Urgency::Complex => "复杂疑难",
        }
    }

    pub fn from_label(label: &str) -> Option<Urgency> {
        Urgency::ALL.into_iter().find(|u| u.label() == label)
    }

    /// The default time a unit has to sign (签收) a ticket of this tier.
    pub fn default_accept_limit(self) -> Limit {
        match self {
            Urgency::LifeSafety => Limit::Natural(SignedDuration::from_mins(15)),
            Urgency::Utilities => Limit::Natural(SignedDuration::from_mins(30)),
            Urgency::General | Urgency::Complex => Limit::WorkingDays(1),
        }
    }
}

/// A length of time as the rules state it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Natural time: nights and holidays count.
    Natural(SignedDuration),
    WorkingDays(u32),
}

/// Zhongshan's working days per category, used when `[time_limits]` omits one.
pub fn default_working_days(category: Category) -> u32 {
    match category {
        Category::Consultation | Category::Praise => 2,
        Category::Help | Category::Suggestion => 10,
        Category::Complaint | Category::Report => 15,
        // Not a hotline matter; should one become a ticket, it is a 2-hour one (see `limit`).
        Category::Emergency => 1,
    }
}

/// The limits a city applies; build it once from the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeLimits {
    /// 办理时限 of 一般 requests, in working days, by category label (`[time_limits]`).
    pub by_category: BTreeMap<String, u32>,
    /// How 办理时限 in working days are counted (default: from the next day).
    pub start: StartRule,
    /// Working days after dispatch during which the lead unit may object (default 2).
    pub objection_working_days: u32,
    /// The limits of the urgency tiers that do not go by category.
    pub life_safety: Limit,
    pub utilities: Limit,
    pub complex: Limit,
}

impl TimeLimits {
    pub fn from_settings(settings: &Settings) -> TimeLimits {
        let d = &settings.deadlines;
        TimeLimits {
            by_category: settings.time_limits.clone(),
            start: if d.count_from_next_day {
                StartRule::FromNextDay
            } else {
                StartRule::FromNow
            },
            objection_working_days: d.objection_working_days,
            life_safety: Limit::Natural(SignedDuration::from_hours(i64::from(d.life_safety_hours))),
            utilities: Limit::Natural(SignedDuration::from_hours(i64::from(d.utilities_hours))),
            complex: Limit::WorkingDays(d.complex_working_days),
        }
    }

    /// The 办理时限 of a request.
    pub fn limit(&self, category: Category, urgency: Urgency) -> Limit {
        if category == Category::Emergency {
            return Limit::Natural(SignedDuration::from_hours(2));
        }
        let tier = match urgency {
            Urgency::LifeSafety => Some(self.life_safety),
            Urgency::Utilities => Some(self.utilities),
            Urgency::Complex => Some(self.complex),
            Urgency::General => None,
        };
        tier.unwrap_or_else(|| {
            let days = self.by_category.get(category.label()).copied();
            Limit::WorkingDays(days.unwrap_or_else(|| default_working_days(category)))
        })
    }

    /// The 办结 deadline of a request received (or dispatched) at `from`.
    pub fn deadline(
        &self,
        calendar: &WorkCalendar,
        from: Timestamp,
        category: Category,
        urgency: Urgency,
    ) -> Timestamp {
        calendar.after(from, self.limit(category, urgency), self.start)
    }

    /// The moments a dispatch at `now` sets. Signing and objection windows count from the moment
    /// of dispatch; neither reaches past the 办结 deadline.
    pub fn deadlines(
        &self,
        calendar: &WorkCalendar,
        now: Timestamp,
        category: Category,
        urgency: Urgency,
    ) -> Deadlines {
        let deadline = self.deadline(calendar, now, category, urgency);
        let accept_by = calendar.after(now, urgency.default_accept_limit(), StartRule::FromNow);
        let object_by =
            calendar.add_working_days(now, self.objection_working_days, StartRule::FromNow);
        Deadlines {
            accept_by: accept_by.min(deadline),
            object_by: object_by.min(deadline),
            deadline,
        }
    }
}

impl WorkCalendar {
    /// The moment `limit` after `from`; `start` applies to working days only.
    pub fn after(&self, from: Timestamp, limit: Limit, start: StartRule) -> Timestamp {
        match limit {
            Limit::Natural(duration) => add_duration(from, duration),
            Limit::WorkingDays(n) => self.add_working_days(from, n, start),
        }
    }
}

#[cfg(test)]
mod settings_tests {
    use super::*;

    #[test]
    fn urgency_tiers_and_the_counting_rule_come_from_the_settings() {
        let mut settings = Settings::default();
        settings.deadlines.utilities_hours = 12;
        settings.deadlines.complex_working_days = 20;
        settings.deadlines.count_from_next_day = false;
        let limits = TimeLimits::from_settings(&settings);
        assert_eq!(
            limits.limit(Category::Help, Urgency::Utilities),
            Limit::Natural(SignedDuration::from_hours(12))
        );
        assert_eq!(
            limits.limit(Category::Complaint, Urgency::Complex),
            Limit::WorkingDays(20)
        );
        assert_eq!(limits.start, StartRule::FromNow);
        assert_eq!(
            limits.limit(Category::Complaint, Urgency::General),
            Limit::WorkingDays(15)
        );
    }
}
