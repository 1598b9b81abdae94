//! Computing a [`Report`] from ticket facts streamed in number (≈ arrival) order.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::{SignedDuration, Timestamp};

use super::{
    Count, Hotspot, MatterTrend, OverdueSection, OverdueTicket, Period, PeriodKind, RatesSection,
    Report, UnitRates, change,
};
use crate::clock::{city_tz, display};
use crate::domain::{ArticleFeedback, Channel};
use crate::governance::facts::TicketFacts;
use crate::governance::gaps::{Consultation, KeyTerms, knowledge_gaps};
use crate::governance::hotspot::{Detector, HotspotSettings, Outcome};
use crate::governance::matter::OTHER;
use crate::rates::RateReport;
use crate::units::Units;

/// Everything a report needs besides the tickets.
pub struct ReportInputs<'a> {
    pub period: Period,
    pub city: &'a str,
    pub units: &'a Units,
    pub hotspots: &'a HotspotSettings,
    pub feedback: &'a [(String, ArticleFeedback)],
    pub terms: &'a KeyTerms,
    /// The per-unit rates of the period ([`crate::rates`], grouped by unit, as of the period's
    /// end); `None` leaves them out and the ranking interim.
    pub unit_rates: Option<&'a RateReport>,
}

impl ReportInputs<'_> {
    /// The earliest arrival the report reads: the start of the trend, or the hotspot baseline
    /// before the period, whichever is earlier.
    pub fn scan_from(&self) -> Timestamp {
        let trend_start = self.period.trend()[0].start();
        let baseline =
            SignedDuration::from_hours(24 * (i64::from(self.hotspots.baseline_days) + 1));
        trend_start.min(self.period.start() - baseline)
    }

    pub fn scan_until(&self) -> Timestamp {
        self.period.end()
    }
}

fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Web => "网页",
        Channel::Telegram => "Telegram",
        Channel::Sms => "短信",
        Channel::Api => "接口",
    }
}

fn counts(map: BTreeMap<String, u64>, total: u64) -> Vec<Count> {
    let mut v: Vec<Count> = map
        .into_iter()
        .map(|(name, count)| Count {
            share: if total == 0 {
                0.0
            } else {
                (count as f64 / total as f64 * 1000.0).round() / 10.0
            },
            name,
            count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    v
}

#[derive(Default)]
struct UnitTally {
    tickets: u64,
    answered: u64,
    overdue: u64,
}

/// Builds the report from `facts` (in number order, covering at least
/// [`ReportInputs::scan_from`] to the period's end; others are ignored).
pub fn build(inputs: &ReportInputs<'_>, facts: impl IntoIterator<Item = TicketFacts>) -> Report {
    let period = inputs.period;
    let (start, end) = (period.start(), period.end());
    let scan_from = inputs.scan_from();
    let trend = period.trend();
    let bounds: Vec<(Timestamp, Timestamp)> = trend.iter().map(|p| (p.start(), p.end())).collect();
    let buckets = volume_buckets(&period);

    let mut detector = Detector::new(inputs.hotspots.clone());
    let mut hotspots: Vec<Hotspot> = Vec::new();
    let mut linked: HashMap<String, u64> = HashMap::new();
    let mut matter_series: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut trend_totals = vec![0u64; trend.len()];
    let (mut by_channel, mut by_category, mut by_district) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut units: BTreeMap<String, UnitTally> = BTreeMap::new();
    let mut volume = vec![0u64; buckets.len()];
    let mut citizens = BTreeSet::new();
    let mut anonymous = 0u64;
    let mut consultations: Vec<(String, Option<u64>)> = Vec::new();
    let mut open_overdue: Vec<TicketFacts> = Vec::new();
    let mut overdue_open_count = 0u64;
    let mut answered_late = 0u64;

    // Places quiet for the whole baseline span are forgotten as the scan moves on (a week of
    // ticket time at a time), as the live detector does: the result is the same, and a monthly
    // report's half year of places is never all held at once.
    let mut pruned_on: Option<i64> = None;
    for f in facts {
        if f.digest.created_at < scan_from || f.digest.created_at >= end {
            continue;
        }
        let day = f.digest.created_at.as_second().div_euclid(86_400);
        if pruned_on.is_none_or(|d| day - d >= 7) {
            detector.prune(f.digest.created_at);
            pruned_on = Some(day);
        }
        match detector.ingest(&f) {
            Outcome::Raised(c) => {
                if c.raised_at >= start {
                    linked.insert(c.id.clone(), c.tickets.len() as u64);
                    hotspots.push(Hotspot {
                        cluster: c.id,
                        matter: c.matter,
                        district: c.district,
                        street: c.street,
                        raised_at: display(c.raised_at),
                        count_at_alert: c.count_at_alert,
                        tickets: 0,
                        expected: (c.expected * 100.0).round() / 100.0,
                    });
                }
            }
            Outcome::Joined { cluster } => {
                if let Some(n) = linked.get_mut(&cluster) {
                    *n += 1;
                }
            }
            Outcome::Quiet => {}
        }
        if let Some(i) = bounds
            .iter()
            .position(|(s, e)| f.digest.created_at >= *s && f.digest.created_at < *e)
        {
            trend_totals[i] += 1;
            if f.matter != OTHER {
                matter_series
                    .entry(f.matter.clone())
                    .or_insert_with(|| vec![0; trend.len()])[i] += 1;
            }
        }
        if f.open_overdue_at(end) {
            overdue_open_count += 1;
            open_overdue.push(f.clone());
            if open_overdue.len() >= 2 * OLDEST_OVERDUE {
                keep_oldest(&mut open_overdue);
            }
        }
        if f.digest
            .replied_at
            .or(f.digest.closed_at)
            .is_some_and(|done| {
                done >= start && done < end && f.digest.deadline.is_some_and(|d| done > d)
            })
        {
            answered_late += 1;
        }
        if f.digest.created_at < start {
            continue;
        }
        // In the period.
        *by_channel
            .entry(channel_label(f.digest.channel).to_string())
            .or_insert(0) += 1;
        *by_category
            .entry(f.digest.category.label().to_string())
            .or_insert(0) += 1;
        *by_district
            .entry(f.digest.district.clone().unwrap_or_else(|| "未注明".into()))
            .or_insert(0) += 1;
        if let Some(i) = bucket_of(&buckets, f.digest.created_at) {
            volume[i] += 1;
        }
        match f.digest.citizen {
            Some(h) => {
                citizens.insert(h);
            }
            None => anonymous += 1,
        }
        if let Some(lead) = &f.digest.lead {
            let t = units.entry(lead.clone()).or_default();
            t.tickets += 1;
            if f.finished_by(end) {
                t.answered += 1;
            }
            if f.overdue_at(end) {
                t.overdue += 1;
            }
        }
        if let Some(text) = f.consultation() {
            consultations.push((text.to_string(), f.digest.citizen));
        }
    }
    drop(detector);
    for h in &mut hotspots {
        h.tickets = linked.get(&h.cluster).copied().unwrap_or(0);
    }
    let total = *trend_totals.last().unwrap_or(&0);
    let previous_total = trend_totals.iter().rev().nth(1).copied().unwrap_or(0);
    let consultation_refs: Vec<Consultation<'_>> = consultations
        .iter()
        .map(|(text, citizen)| Consultation {
            text,
            citizen: *citizen,
        })
        .collect();
    Report {
        city: inputs.city.to_string(),
        kind: period.kind,
        kind_label: period.kind.label().to_string(),
        period: period.title(),
        total,
        previous_total,
        change: change(total, previous_total),
        citizens: citizens.len() as u64 + anonymous,
        by_channel: counts(by_channel, total),
        by_category: counts(by_category, total),
        by_district: counts(by_district, total),
        volume_labels: buckets.iter().map(|(label, _, _)| label.clone()).collect(),
        volume,
        rates: rates(units, inputs.units, inputs.unit_rates),
        overdue: overdue(
            open_overdue,
            overdue_open_count,
            answered_late,
            end,
            inputs.units,
        ),
        trend_labels: trend.iter().map(Period::short).collect(),
        top_matters: top_matters(matter_series),
        hotspots,
        gaps: knowledge_gaps(&consultation_refs, inputs.feedback, inputs.terms, 15),
    }
}

/// The volume chart's buckets: hours of a day, or days of a week or month.
fn volume_buckets(period: &Period) -> Vec<(String, Timestamp, Timestamp)> {
    if period.kind == PeriodKind::Daily {
        let start = period.start();
        return (0..24)
            .map(|h| {
                let s = start + SignedDuration::from_hours(h);
                (format!("{h}时"), s, s + SignedDuration::from_hours(1))
            })
            .collect();
    }
    period
        .days()
        .into_iter()
        .map(|d| {
            let p = Period::containing(PeriodKind::Daily, d);
            (d.strftime("%m/%d").to_string(), p.start(), p.end())
        })
        .collect()
}

fn bucket_of(buckets: &[(String, Timestamp, Timestamp)], at: Timestamp) -> Option<usize> {
    buckets.iter().position(|(_, s, e)| at >= *s && at < *e)
}

fn unit_name(units: &Units, id: &str) -> String {
    units
        .get(id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| id.to_string())
}

fn rates(
    tallies: BTreeMap<String, UnitTally>,
    units: &Units,
    unit_rates: Option<&RateReport>,
) -> RatesSection {
    let rows = tallies
        .into_iter()
        .map(|(unit, t)| {
            let row = unit_rates.and_then(|r| r.rows.iter().find(|row| row.group == unit));
            UnitRates {
                name: unit_name(units, &unit),
                tickets: t.tickets,
                answered: t.answered,
                overdue: t.overdue,
                responded: row.and_then(|r| r.response_rate),
                resolved: row.and_then(|r| r.solved_rate),
                satisfied: row.and_then(|r| r.satisfied_rate),
                score: row.and_then(|r| r.score),
                unit,
            }
        })
        .collect();
    match unit_rates {
        Some(_) => RatesSection::by_score(rows),
        None => RatesSection::ranked(rows),
    }
}

/// How many open overdue tickets the report lists (the ones whose deadline passed first).
const OLDEST_OVERDUE: usize = 20;

/// Keeps the [`OLDEST_OVERDUE`] tickets whose deadline passed first (then by number), in that
/// order: the list never holds more than twice that while the report reads the period.
fn keep_oldest(open: &mut Vec<TicketFacts>) {
    open.sort_by(|a, b| {
        let (a, b) = (&a.digest, &b.digest);
        a.deadline.cmp(&b.deadline).then(a.number.cmp(&b.number))
    });
    open.truncate(OLDEST_OVERDUE);
}

fn overdue(
    mut open: Vec<TicketFacts>,
    count: u64,
    answered_late: u64,
    end: Timestamp,
    units: &Units,
) -> OverdueSection {
    keep_oldest(&mut open);
    let oldest = open
        .into_iter()
        .map(|f| {
            let deadline = f.digest.deadline.unwrap_or(end);
            OverdueTicket {
                number: f.digest.number.to_string(),
                matter: f.matter,
                category: f.digest.category.label().to_string(),
                district: f.digest.district.unwrap_or_default(),
                unit: f
                    .digest
                    .lead
                    .as_deref()
                    .map(|u| unit_name(units, u))
                    .unwrap_or_default(),
                deadline: deadline
                    .to_zoned(city_tz())
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string(),
                days_over: end.duration_since(deadline).as_hours() / 24,
            }
        })
        .collect();
    OverdueSection {
        open: count,
        answered_late,
        oldest,
    }
}

fn top_matters(series: BTreeMap<String, Vec<u64>>) -> Vec<MatterTrend> {
    let mut v: Vec<MatterTrend> = series
        .into_iter()
        .map(|(matter, series)| {
            let count = *series.last().unwrap_or(&0);
            let previous = series.iter().rev().nth(1).copied().unwrap_or(0);
            MatterTrend {
                matter,
                count,
                previous,
                change: change(count, previous),
                series,
            }
        })
        .filter(|m| m.count > 0)
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.matter.cmp(&b.matter)));
    v.truncate(10);
    v
}
