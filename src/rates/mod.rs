//! 考评: the rates of the closed loop, per unit, district or category over a period. Pure: the
//! figures come from tickets and intake records handed in, with the formulas' weights from
//! `[rates]` in config.
//!
//! Scope: the tickets received (受理) in the period, city days `from..=to`. For each group:
//!
//! | figure | formula |
//! |---|---|
//! | 响应率 | evaluated tickets the unit signed (签收) in time ÷ evaluated |
//! | 解决率 | evaluated tickets rated 已解决 ÷ evaluated |
//! | 满意率 | (满意 + 非常满意 + w × 基本满意) ÷ evaluated, w = `basically_satisfied_weight` |
//! | 综合得分 | 100 × (response_weight × 响应率 + solved_weight × 解决率 + satisfied_weight × 满意率) |
//! | 按时签收率 | signed by the 签收 deadline ÷ dispatched (a dispatch not yet due is left out) |
//! | 按时办结率 | first 办结 by the deadline in force ÷ closed or overdue |
//! | 重办率 | tickets re-handled at least once ÷ evaluated |
//! | 退单率 | tickets with a 管辖异议 ÷ dispatched |
//! | 直接答复率 | consultations answered by the knowledge base ÷ (those + 咨询 tickets), totals only |
//!
//! A consultation the knowledge base answered that then became a 咨询 ticket counts once, as the
//! ticket (`direct.rs`).
//!
//! "Evaluated" are tickets whose callback ended in the rated round (`rated_round`, the final by
//! default); 未联系上 counts as evaluated, never as satisfied, unless
//! `unreachable_is_evaluated = false`.

mod direct;
mod table;

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

pub use table::{to_csv, to_table};

use crate::config::{RateSettings, RatedRound};
use crate::domain::{
    Category, IntakeRecord, RecordKind, Satisfaction, SurveyOutcome, Ticket, TicketDigest,
    TicketStatus,
};

/// How the rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    #[default]
    Unit,
    District,
    Category,
}

impl GroupBy {
    pub fn parse(text: &str) -> Option<GroupBy> {
        match text {
            "unit" => Some(GroupBy::Unit),
            "district" => Some(GroupBy::District),
            "category" => Some(GroupBy::Category),
            _ => None,
        }
    }

    fn key(self, t: &TicketDigest) -> String {
        match self {
            GroupBy::Unit => t.lead.clone().unwrap_or_else(|| "未派单".into()),
            GroupBy::District => t.district.clone().unwrap_or_else(|| "未知".into()),
            GroupBy::Category => t.category.label().to_string(),
        }
    }
}

/// The period: city days from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
}

impl Period {
    pub fn contains(&self, at: Timestamp) -> bool {
        let day = at.to_zoned(crate::clock::city_tz()).date();
        self.from <= day && day <= self.to
    }
}

/// The counts behind one row; the rates are their ratios.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub received: u64,
    pub dispatched: u64,
    pub signed_on_time: u64,
    /// Dispatches whose 签收 deadline has passed or that were signed (按时签收率's denominator).
    pub sign_due: u64,
    pub closed_on_time: u64,
    /// Closed, or open past the deadline (按时办结率's denominator).
    pub close_due: u64,
    pub evaluated: u64,
    pub responded_in_time: u64,
    pub solved: u64,
    /// 满意 (+ 非常满意) count 1, 基本满意 its weight.
    pub satisfied_score: f64,
    pub unreachable: u64,
    pub rehandled: u64,
    pub objected: u64,
}

/// One row: a group's counts and rates (a rate is `None` when its denominator is 0).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateRow {
    pub group: String,
    pub counts: Counts,
    pub response_rate: Option<f64>,
    pub solved_rate: Option<f64>,
    pub satisfied_rate: Option<f64>,
    pub score: Option<f64>,
    pub on_time_sign_rate: Option<f64>,
    pub on_time_close_rate: Option<f64>,
    pub rehandle_rate: Option<f64>,
    pub objection_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateReport {
    pub period: Period,
    pub by: GroupBy,
    pub rows: Vec<RateRow>,
    pub total: RateRow,
    /// Consultations answered by the knowledge base, and all consultations (those + 咨询 tickets).
    pub kb_answered: u64,
    pub consultations: u64,
    pub direct_answer_rate: Option<f64>,
}

fn ratio(n: f64, d: u64) -> Option<f64> {
    (d > 0).then(|| n / d as f64)
}

/// Whether the lead signed in time: `None` when never dispatched, or not signed and not yet due.
fn signed_on_time(t: &TicketDigest, as_of: Timestamp) -> Option<bool> {
    if let Some(signed) = t.first_signed_at {
        return Some(t.accept_by.is_none_or(|by| signed <= by));
    }
    let by = t.accept_by?;
    (by < as_of).then_some(false)
}

/// Whether the first 办结 came by the deadline then in force (extensions included): `None`
/// when never dispatched, or open and not yet due.
fn closed_on_time(t: &TicketDigest, as_of: Timestamp) -> Option<bool> {
    if let Some(closed) = t.first_closed_at {
        return Some(t.close_deadline.is_none_or(|d| closed <= d));
    }
    let d = t.close_deadline?;
    (d < as_of).then_some(false)
}

fn satisfaction_weight(s: Option<Satisfaction>, settings: &RateSettings) -> f64 {
    match s {
        Some(Satisfaction::VerySatisfied | Satisfaction::Satisfied) => 1.0,
        Some(Satisfaction::BasicallySatisfied) => settings.basically_satisfied_weight,
        _ => 0.0,
    }
}

fn rated<'a>(t: &'a TicketDigest, settings: &RateSettings) -> Option<&'a SurveyOutcome> {
    let outcome = match settings.rated_round {
        RatedRound::Final => t.last_outcome.as_ref(),
        RatedRound::First => t.first_outcome.as_ref(),
    }?;
    let counts = settings.unreachable_is_evaluated || *outcome != SurveyOutcome::Unreachable;
    counts.then_some(outcome)
}

impl Counts {
    fn add(&mut self, t: &TicketDigest, settings: &RateSettings, as_of: Timestamp) {
        self.received += 1;
        let dispatched = t.lead.is_some();
        if dispatched {
            self.dispatched += 1;
        }
        if t.objected {
            self.objected += 1;
        }
        let on_time_sign = signed_on_time(t, as_of);
        if let Some(ok) = on_time_sign {
            self.sign_due += 1;
            self.signed_on_time += u64::from(ok);
        }
        if let Some(ok) = closed_on_time(t, as_of) {
            self.close_due += 1;
            self.closed_on_time += u64::from(ok);
        }
        let excluded = matches!(t.status, TicketStatus::Merged | TicketStatus::Withdrawn);
        let Some(outcome) = rated(t, settings).filter(|_| !excluded) else {
            return;
        };
        self.evaluated += 1;
        self.responded_in_time += u64::from(on_time_sign == Some(true));
        self.solved += u64::from(outcome.solved());
        self.satisfied_score += satisfaction_weight(outcome.satisfaction(), settings);
        self.unreachable += u64::from(*outcome == SurveyOutcome::Unreachable);
        self.rehandled += u64::from(t.rehandled);
    }

    fn merge(&mut self, o: &Counts) {
        self.received += o.received;
        self.dispatched += o.dispatched;
        self.signed_on_time += o.signed_on_time;
        self.sign_due += o.sign_due;
        self.closed_on_time += o.closed_on_time;
        self.close_due += o.close_due;
        self.evaluated += o.evaluated;
        self.responded_in_time += o.responded_in_time;
        self.solved += o.solved;
        self.satisfied_score += o.satisfied_score;
        self.unreachable += o.unreachable;
        self.rehandled += o.rehandled;
        self.objected += o.objected;
    }

    fn row(self, group: String, settings: &RateSettings) -> RateRow {
        let response_rate = ratio(self.responded_in_time as f64, self.evaluated);
        let solved_rate = ratio(self.solved as f64, self.evaluated);
        let satisfied_rate = ratio(self.satisfied_score, self.evaluated);
        let score = match (response_rate, solved_rate, satisfied_rate) {
            (Some(r), Some(s), Some(m)) => Some(
                100.0
                    * (settings.response_weight * r
                        + settings.solved_weight * s
                        + settings.satisfied_weight * m),
            ),
            _ => None,
        };
        RateRow {
            group,
            response_rate,
            solved_rate,
            satisfied_rate,
            score,
            on_time_sign_rate: ratio(self.signed_on_time as f64, self.sign_due),
            on_time_close_rate: ratio(self.closed_on_time as f64, self.close_due),
            rehandle_rate: ratio(self.rehandled as f64, self.evaluated),
            objection_rate: ratio(self.objected as f64, self.dispatched),
            counts: self,
        }
    }
}

/// Whether `record` is a consultation the knowledge base answered within `period`.
pub fn is_kb_answer(record: &IntakeRecord, period: &Period) -> bool {
    period.contains(record.at) && matches!(record.kind, RecordKind::Answered { .. })
}

/// The report over `tickets` (those received outside the period are ignored) and the intake
/// `records` (the knowledge base's answers in the period count, [`is_kb_answer`]), as of `as_of`
/// (what is not yet due is not counted late).
pub fn compute<'a>(
    tickets: impl IntoIterator<Item = &'a Ticket>,
    records: impl IntoIterator<Item = &'a IntakeRecord>,
    period: Period,
    by: GroupBy,
    settings: &RateSettings,
    as_of: Timestamp,
) -> RateReport {
    let mut tally = Tally::new(period, by, settings, as_of);
    for t in tickets {
        tally.add(t);
    }
    for r in records {
        tally.add_record(r);
    }
    tally.finish()
}

/// The report built one ticket (and record) at a time, so a store scan need not hold them.
pub struct Tally<'s> {
    period: Period,
    by: GroupBy,
    settings: &'s RateSettings,
    as_of: Timestamp,
    groups: BTreeMap<String, Counts>,
    consultations: direct::Consultations,
}

impl<'s> Tally<'s> {
    pub fn new(period: Period, by: GroupBy, settings: &'s RateSettings, as_of: Timestamp) -> Self {
        Tally {
            period,
            by,
            settings,
            as_of,
            groups: BTreeMap::new(),
            consultations: direct::Consultations::default(),
        }
    }

    /// Counts `record` for 直接答复率 if it is an answer of the knowledge base in the period.
    pub fn add_record(&mut self, record: &IntakeRecord) {
        if is_kb_answer(record, &self.period) {
            self.consultations.answered(&record.text, record.at);
        }
    }

    /// Counts `t` if it was received in the period.
    pub fn add(&mut self, t: &Ticket) {
        self.add_digest(&TicketDigest::of(t));
    }

    /// Counts the ticket of digest `t` if it was received in the period (what a store scan reads
    /// instead of whole tickets; the same counts as [`add`](Self::add) of the ticket).
    pub fn add_digest(&mut self, t: &TicketDigest) {
        if !self.period.contains(t.created_at) {
            return;
        }
        if t.category == Category::Consultation {
            self.consultations.ticket(&t.content, t.created_at);
        }
        self.groups
            .entry(self.by.key(t))
            .or_default()
            .add(t, self.settings, self.as_of);
    }

    pub fn finish(self) -> RateReport {
        let mut total = Counts::default();
        for counts in self.groups.values() {
            total.merge(counts);
        }
        let (kb_answered, consultations) = self.consultations.counts();
        let settings = self.settings;
        RateReport {
            period: self.period,
            by: self.by,
            rows: self
                .groups
                .into_iter()
                .map(|(group, counts)| counts.row(group, settings))
                .collect(),
            total: total.row("合计".into(), settings),
            kb_answered,
            consultations,
            direct_answer_rate: ratio(kb_answered as f64, consultations),
        }
    }
}

/// Why a report cannot be made; each says what to change.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("`{0}` is not a date: write it as YYYY-MM-DD, e.g. 2026-11-01")]
    BadDate(String),
    #[error("the period ends ({to}) before it starts ({from})")]
    Reversed { from: Date, to: Date },
    #[error("`{0}` is not a grouping: use unit, district or category")]
    BadGroup(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Period {
    /// From the `YYYY-MM-DD` texts a person types.
    pub fn parse(from: &str, to: &str) -> Result<Period, ReportError> {
        let date = |t: &str| {
            t.trim()
                .parse::<Date>()
                .map_err(|_| ReportError::BadDate(t.to_string()))
        };
        let (from, to) = (date(from)?, date(to)?);
        if to < from {
            return Err(ReportError::Reversed { from, to });
        }
        Ok(Period { from, to })
    }
}

/// The report from whole tickets: every ticket and record in the store, decoded in full (full
/// scans, nothing kept but the counts). The server and `hotline report rates` read only the
/// period's digests instead ([`crate::governance::rates_report`]); this is the reference they are
/// tested against.
pub fn from_store(
    tickets: &dyn crate::store::TicketStore,
    records: &dyn crate::store::RecordStore,
    period: Period,
    by: GroupBy,
    settings: &RateSettings,
    as_of: Timestamp,
) -> Result<RateReport, ReportError> {
    let mut tally = Tally::new(period, by, settings, as_of);
    // Counted inside the scan, keeping none: memory stays one row per group.
    tickets.scan(&mut |t| {
        tally.add(t);
        false
    })?;
    records.count_records(&mut |r| {
        tally.add_record(r);
        false
    })?;
    Ok(tally.finish())
}

#[cfg(test)]
mod tests;
