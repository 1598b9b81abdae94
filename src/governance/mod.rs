//! Proactive governance (主动治理): from the ticket stream to what leaders read.
//!
//! - [`matter`]: what a ticket is about (topics from `config/topics.toml`) and where (street).
//! - [`facts`]: the few fields the analysis reads, decoded straight from stored JSON.
//! - [`hotspot`]: surges of one matter in one place against that place's own baseline → a cluster
//!   (类案); [`live`] runs it in the server over tickets as they are stored.
//! - [`gaps`]: knowledge gaps from consultations that became tickets and 没帮助 feedback.
//! - [`report`]: the daily/weekly/monthly analysis report (HTML with SVG charts, Markdown, CSV).
//! - [`seed`]: `hotline demo seed`, realistic synthetic tickets for demos, benchmarks and tests.
//!
//! Reading: tickets are numbered in arrival order, so a period is a contiguous range of numbers.
//! [`scan`] finds its first ticket by binary search over the numbers and reads forward, so a
//! weekly report reads the weeks it shows (and the hotspot baseline before them), not the whole
//! store; and it reads the tickets' digests ([`crate::domain::TicketDigest`], kept by the store
//! beside each ticket), never whole tickets.

pub mod cli;
pub mod facts;
pub mod gaps;
pub mod hotspot;
pub mod live;
pub mod matter;
pub mod report;
pub mod seed;

use std::path::Path;

use jiff::{SignedDuration, Timestamp};

use crate::config::{ConfigError, RateSettings, Settings};
use crate::domain::TicketNumber;
use crate::store::{RawDigest, SledStore, StoreError};
use crate::units::Units;
use facts::TicketFacts;
use gaps::KeyTerms;
pub use hotspot::HotspotSettings;
use matter::Topics;
use report::{Period, Report, ReportInputs};

#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ticket {number} in the store cannot be read: {message}")]
    Corrupt {
        number: TicketNumber,
        message: String,
    },
    #[error(transparent)]
    Render(#[from] report::render::RenderError),
}

/// What the analysis needs from the configuration, loaded once.
pub struct Analysis {
    pub topics: Topics,
    pub units: Units,
    pub hotspots: HotspotSettings,
    pub city: String,
    pub terms: KeyTerms,
    /// The weights of the rates (`[rates]`), for the report's 三率与单位排名.
    pub rates: RateSettings,
}

impl Analysis {
    pub fn load(settings: &Settings, config_dir: &Path) -> Result<Analysis, ConfigError> {
        Ok(Analysis {
            topics: Topics::load(config_dir)?,
            units: Units::load(config_dir)?,
            hotspots: HotspotSettings {
                calendar: std::sync::Arc::new(crate::calendar::WorkCalendar::load(config_dir)?),
                ..settings.hotspots.clone()
            },
            city: settings.city.name.clone(),
            terms: KeyTerms::default(),
            rates: settings.rates.clone(),
        })
    }

    /// The report of `period` from the tickets in `store`.
    pub fn report(&self, store: &SledStore, period: Period) -> Result<Report, GovernanceError> {
        let feedback = store.all_feedback()?;
        let unit_rates = unit_rates(store, period, &self.rates)?;
        let inputs = ReportInputs {
            period,
            city: &self.city,
            units: &self.units,
            hotspots: &self.hotspots,
            feedback: &feedback,
            terms: &self.terms,
            unit_rates: Some(&unit_rates),
        };
        // Streamed into the report one digest at a time: a monthly report's trend spans half a
        // year of tickets, which are never all in memory at once.
        let (from, until) = (inputs.scan_from(), inputs.scan_until());
        let Some(start) = first_ticket_since(store, from)? else {
            return Ok(report::build(&inputs, std::iter::empty()));
        };
        let stop = until + SignedDuration::from_hours(1);
        let mut failure = None;
        let facts = store
            .digests_from(start)
            .map_while(|raw| match raw.and_then(|r| r.decode()) {
                Ok(d) => (d.created_at < stop).then(|| facts::from_digest(d, &self.topics)),
                Err(e) => {
                    failure = Some(e);
                    None
                }
            })
            .filter(|f| f.digest.created_at >= from && f.digest.created_at < until);
        let report = report::build(&inputs, facts);
        match failure {
            Some(e) => Err(e.into()),
            None => Ok(report),
        }
    }
}

/// The per-unit rates ([`crate::rates`]) of the tickets received in `period`, as of its end (so
/// the same store gives the same figures whenever the report is made). Reads only the period's
/// digests, keeping nothing but the counts.
pub fn unit_rates(
    store: &SledStore,
    period: Period,
    settings: &RateSettings,
) -> Result<crate::rates::RateReport, GovernanceError> {
    let scope = crate::rates::Period {
        from: period.first,
        to: period.last,
    };
    let mut tally =
        crate::rates::Tally::new(scope, crate::rates::GroupBy::Unit, settings, period.end());
    tally_digests(store, period.start(), period.end(), &mut tally)?;
    // The knowledge base's answers only feed 直接答复率, which the unit rows do not show.
    Ok(tally.finish())
}

/// The rates ([`crate::rates`]) of the tickets received in `period` (city days), grouped `by`,
/// as of `as_of`: the period's ticket digests and intake records, read by key range (never the
/// whole store), nothing kept but the counts. What `GET /api/admin/reports/rates` and
/// `hotline report rates` answer; equal to [`crate::rates::from_store`] over whole tickets.
pub fn rates_report(
    store: &SledStore,
    period: crate::rates::Period,
    by: crate::rates::GroupBy,
    settings: &RateSettings,
    as_of: Timestamp,
) -> Result<crate::rates::RateReport, GovernanceError> {
    let tz = crate::clock::city_tz();
    let day_start = |d: jiff::civil::Date| {
        d.to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| GovernanceError::Store(StoreError::Io(e.to_string())))
    };
    let from = day_start(period.from)?;
    let until = day_start(period.to.tomorrow().unwrap_or(period.to))?;
    let mut tally = crate::rates::Tally::new(period, by, settings, as_of);
    tally_digests(store, from, until, &mut tally)?;
    if let Some(first) = store.first_record_since(from)? {
        let stop = until + SignedDuration::from_hours(1);
        for record in store.records_from(first) {
            let record = record?;
            if record.at >= stop {
                break;
            }
            tally.add_record(&record);
        }
    }
    Ok(tally.finish())
}

/// Adds the digest of every ticket that arrived in `[from, until)` to `tally`, reading an hour
/// more on either side (numbers and arrival times may disagree by a moment; the tally keeps
/// only its period's tickets).
fn tally_digests(
    store: &SledStore,
    from: Timestamp,
    until: Timestamp,
    tally: &mut crate::rates::Tally<'_>,
) -> Result<(), GovernanceError> {
    let Some(start) = first_ticket_since(store, from - SignedDuration::from_hours(1))? else {
        return Ok(());
    };
    let stop = until + SignedDuration::from_hours(1);
    for raw in store.digests_from(start) {
        let digest = raw?.decode()?;
        if digest.created_at >= stop {
            break;
        }
        tally.add_digest(&digest);
    }
    Ok(())
}

fn facts_of(raw: &RawDigest, topics: &Topics) -> Result<TicketFacts, GovernanceError> {
    Ok(facts::from_digest(raw.decode()?, topics))
}

/// The number of the first ticket that arrived at or after `at` (binary search over numbers,
/// which are issued in arrival order; each probe reads one digest's arrival time).
pub fn first_ticket_since(
    store: &SledStore,
    at: Timestamp,
) -> Result<Option<TicketNumber>, GovernanceError> {
    let Some((first, last)) = store.ticket_bounds()? else {
        return Ok(None);
    };
    let created = |seq: u64| -> Result<Option<(TicketNumber, Timestamp)>, GovernanceError> {
        match store.digests_from(TicketNumber::from_sequence(seq)).next() {
            Some(raw) => {
                let raw = raw?;
                Ok(Some((raw.number, raw.created_at()?)))
            }
            None => Ok(None),
        }
    };
    let (mut lo, mut hi) = (first.sequence(), last.sequence() + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match created(mid)? {
            Some((_, t)) if t < at => lo = mid + 1,
            _ => hi = mid,
        }
    }
    Ok(created(lo)?.map(|(n, _)| n))
}

/// Calls `visit` with the facts of every ticket that arrived in `[from, until)`, in number order.
/// Reading stops a little past `until` (an hour of slack for clocks at the edge).
pub fn scan(
    store: &SledStore,
    topics: &Topics,
    from: Timestamp,
    until: Timestamp,
    mut visit: impl FnMut(TicketFacts),
) -> Result<usize, GovernanceError> {
    let Some(start) = first_ticket_since(store, from)? else {
        return Ok(0);
    };
    let stop = until + SignedDuration::from_hours(1);
    let mut read = 0;
    for raw in store.digests_from(start) {
        let f = facts_of(&raw?, topics)?;
        read += 1;
        let at = f.digest.created_at;
        if at >= stop {
            break;
        }
        if at >= from && at < until {
            visit(f);
        }
    }
    Ok(read)
}

/// The facts of every ticket that arrived in `[from, until)`, in number order, decoded on every
/// core: the range of numbers is cut into one slice per core, each read and decoded by its own
/// thread, and the slices joined in order.
pub fn scan_parallel(
    store: &SledStore,
    topics: &Topics,
    from: Timestamp,
    until: Timestamp,
) -> Result<Vec<TicketFacts>, GovernanceError> {
    let Some(start) = first_ticket_since(store, from)? else {
        return Ok(Vec::new());
    };
    let stop = until + SignedDuration::from_hours(1);
    let end = match first_ticket_since(store, stop)? {
        Some(n) => n.sequence(),
        None => match store.ticket_bounds()? {
            Some((_, last)) => last.sequence() + 1,
            None => return Ok(Vec::new()),
        },
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let span = end.saturating_sub(start.sequence());
    let step = span.div_ceil(threads.max(1)).max(1);
    let slices: Vec<(u64, u64)> = (0..threads)
        .map(|i| {
            (
                start.sequence() + i * step,
                (start.sequence() + (i + 1) * step).min(end),
            )
        })
        .filter(|(a, b)| a < b)
        .collect();
    let read_slice = |(a, b): (u64, u64)| -> Result<Vec<TicketFacts>, GovernanceError> {
        let mut out = Vec::new();
        for raw in store.digests_from(TicketNumber::from_sequence(a)) {
            let raw = raw?;
            if raw.number.sequence() >= b {
                break;
            }
            let f = facts_of(&raw, topics)?;
            if f.digest.created_at >= from && f.digest.created_at < until {
                out.push(f);
            }
        }
        Ok(out)
    };
    let parts: Vec<Result<Vec<TicketFacts>, GovernanceError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = slices
            .iter()
            .map(|slice| scope.spawn(move || read_slice(*slice)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(GovernanceError::Store(StoreError::Io(
                        "a report reader thread panicked".into(),
                    )))
                })
            })
            .collect()
    });
    let mut facts = Vec::new();
    for part in parts {
        facts.extend(part?);
    }
    Ok(facts)
}
