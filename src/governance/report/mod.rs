//! The analysis report (日报/周报/月报): volumes by channel, category, district and unit; the
//! three rates and a ranking of units; overdue tickets; top matters and their trend; hotspots;
//! knowledge gaps. [`build`] computes it from ticket facts (pure and deterministic: the same
//! tickets give the same report); `render` writes HTML with SVG charts, Markdown and CSV.

pub mod charts;
mod compute;
pub mod period;
pub mod render;

pub use compute::{ReportInputs, build};
pub use period::{Period, PeriodKind};

use serde::Serialize;

use super::gaps::KnowledgeGap;

/// A name and a count, for the volume tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Count {
    pub name: String,
    pub count: u64,
    /// Share of the period's total, in percent (one decimal).
    pub share: f64,
}

/// One unit's row in "the three rates and a ranking of units" (三率与单位排名).
///
/// The rates themselves (响应率, 解决率, 满意率 as fractions 0–1, and the weighted 综合得分 0–100)
/// come from [`crate::rates`] (issue #7), which owns their formulas; a rate is `None` when the
/// unit had no evaluated (回访) ticket in the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitRates {
    pub unit: String,
    pub name: String,
    /// Tickets the unit led that arrived in the period.
    pub tickets: u64,
    /// Of those, answered (replied or closed) by the end of the period.
    pub answered: u64,
    /// Of those, overdue at the end of the period (answered late or still open past deadline).
    pub overdue: u64,
    /// 响应率, 解决率, 满意率 and the weighted score, from the callback survey.
    pub responded: Option<f64>,
    pub resolved: Option<f64>,
    pub satisfied: Option<f64>,
    pub score: Option<f64>,
}

/// 三率与单位排名: rows ranked best first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RatesSection {
    pub rows: Vec<UnitRates>,
    /// True when no rates were given: the ranking goes by fewest overdue, then most answered.
    pub interim: bool,
}

impl RatesSection {
    /// Ranks `rows`: by score when every row has one, else by the interim counts.
    pub fn ranked(mut rows: Vec<UnitRates>) -> RatesSection {
        let scored = !rows.is_empty() && rows.iter().all(|r| r.score.is_some());
        if scored {
            rows.sort_by(|a, b| {
                b.score
                    .partial_cmp(&a.score)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(a.unit.cmp(&b.unit))
            });
        } else {
            rows.sort_by(interim_order);
        }
        RatesSection {
            rows,
            interim: !scored,
        }
    }
}

impl RatesSection {
    /// Ranks `rows` by score, best first (the rates are wired, so not interim); units without a
    /// score (nothing evaluated in the period) come last, in the interim order among themselves.
    pub fn by_score(mut rows: Vec<UnitRates>) -> RatesSection {
        rows.sort_by(|a, b| match (a.score, b.score) {
            (Some(x), Some(y)) => y
                .partial_cmp(&x)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.unit.cmp(&b.unit)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => interim_order(a, b),
        });
        RatesSection {
            rows,
            interim: false,
        }
    }
}

fn interim_order(a: &UnitRates, b: &UnitRates) -> std::cmp::Ordering {
    overdue_share(a)
        .partial_cmp(&overdue_share(b))
        .unwrap_or(std::cmp::Ordering::Equal)
        .then(b.answered.cmp(&a.answered))
        .then(a.unit.cmp(&b.unit))
}

fn overdue_share(r: &UnitRates) -> f64 {
    if r.tickets == 0 {
        0.0
    } else {
        r.overdue as f64 / r.tickets as f64
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueTicket {
    pub number: String,
    pub matter: String,
    pub category: String,
    pub district: String,
    pub unit: String,
    pub deadline: String,
    /// Whole days past the deadline at the end of the period.
    pub days_over: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueSection {
    /// Open and past deadline at the end of the period.
    pub open: u64,
    /// Answered in the period, after their deadline.
    pub answered_late: u64,
    /// The longest overdue open tickets, longest first (at most 20).
    pub oldest: Vec<OverdueTicket>,
}

/// A matter's count this period, the previous one, and its trend over `trend_labels`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatterTrend {
    pub matter: String,
    pub count: u64,
    pub previous: u64,
    /// Change against the previous period, in percent; `None` when it had none.
    pub change: Option<f64>,
    pub series: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hotspot {
    pub cluster: String,
    pub matter: String,
    pub district: String,
    pub street: String,
    pub raised_at: String,
    pub count_at_alert: u32,
    /// Tickets linked by the end of the period.
    pub tickets: u64,
    /// What the place's baseline expected in one window.
    pub expected: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub city: String,
    pub kind: PeriodKind,
    pub kind_label: String,
    pub period: String,
    pub total: u64,
    pub previous_total: u64,
    pub change: Option<f64>,
    /// Citizens (distinct phone numbers) and anonymous tickets.
    pub citizens: u64,
    pub by_channel: Vec<Count>,
    pub by_category: Vec<Count>,
    pub by_district: Vec<Count>,
    /// Tickets per day of the period (per hour for a daily report).
    pub volume_labels: Vec<String>,
    pub volume: Vec<u64>,
    pub rates: RatesSection,
    pub overdue: OverdueSection,
    pub trend_labels: Vec<String>,
    pub top_matters: Vec<MatterTrend>,
    pub hotspots: Vec<Hotspot>,
    pub gaps: Vec<KnowledgeGap>,
}

/// Percent change from `before` to `now`, one decimal; `None` without a base.
pub fn change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| ((now as f64 - before as f64) / before as f64 * 1000.0).round() / 10.0)
}
