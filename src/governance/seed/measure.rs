//! The detector measured on the seed's own stream, without a store: how many alerts the steady
//! background raises per week, and how many planted surges are found. The seed's stream has the
//! city's rhythms (busier workdays and office hours, matters with their seasons), so this is
//! the false-alert rate at that density. `cargo bench --bench reports` prints it at the
//! 1,000,000-ticket density; a test runs it on fewer streets at the same density per street.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{SeedOptions, SeedWorld, Stream};
use crate::domain::TicketNumber;
use crate::governance::facts;
use crate::governance::hotspot::{Detector, HotspotSettings, Outcome};
use crate::governance::matter::Topics;

/// What the detector raised over a seeded stream.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Measurement {
    pub tickets: usize,
    /// Weeks measured (after the warm-up), and the alerts of the background in them.
    pub weeks: f64,
    pub background_alerts: usize,
    /// The background alerts, as (matter, street, tickets in the window, expected).
    pub false_alerts: Vec<(String, String, u32, f64)>,
    pub planted: usize,
    /// Planted surges with an alert that holds one of their tickets.
    pub found: usize,
}

impl Measurement {
    pub fn false_alerts_per_week(&self) -> f64 {
        if self.weeks > 0.0 {
            self.background_alerts as f64 / self.weeks
        } else {
            0.0
        }
    }
}

/// Runs the detector over the stream of `options`; alerts in the first `warm_up_days` (while
/// the baseline fills) are not counted.
pub fn measure(
    world: Arc<SeedWorld>,
    options: &SeedOptions,
    topics: &Topics,
    settings: HotspotSettings,
    warm_up_days: u32,
) -> Measurement {
    // The stream's rhythm follows the world's holiday calendar; so does the detector's.
    let calendar = Arc::new(world.calendar.clone());
    let mut stream = Stream::new(world, options);
    let mut detector = Detector::new(HotspotSettings {
        calendar,
        ..settings
    });
    let mut surge_of: BTreeMap<TicketNumber, usize> = BTreeMap::new();
    let mut found = vec![false; options.surges];
    let mut m = Measurement::default();
    let mut day = 0u32;
    let mut sequence = TicketNumber::FIRST_SEQUENCE;
    while let Some(tickets) = stream.next_day() {
        for t in tickets {
            let number = TicketNumber::from_sequence(sequence);
            sequence += 1;
            m.tickets += 1;
            if let Some(i) = t.surge {
                surge_of.insert(number, i);
            }
            let f = facts::from_new(number, &t.ticket, topics);
            let Outcome::Raised(cluster) = detector.ingest(&f) else {
                continue;
            };
            let planted: Vec<usize> = cluster
                .tickets
                .iter()
                .filter_map(|n| surge_of.get(n).copied())
                .collect();
            if let Some(i) = planted.first() {
                found[*i] = true;
            } else if day >= warm_up_days {
                m.background_alerts += 1;
                m.false_alerts.push((
                    cluster.matter,
                    cluster.street,
                    cluster.count_at_alert,
                    cluster.expected,
                ));
            }
        }
        day += 1;
    }
    m.weeks = f64::from(day.saturating_sub(warm_up_days)) / 7.0;
    m.planted = options.surges.min(day as usize);
    m.found = found.iter().filter(|f| **f).count();
    m
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use jiff::civil::date;

    use super::*;
    use crate::config::Settings;

    fn setup() -> (SeedWorld, Topics, HotspotSettings) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let settings = Settings::load(&root.join("config"), std::iter::empty()).unwrap();
        let world = SeedWorld::load(&settings, &root.join("config")).unwrap();
        let topics = Topics::load(&root.join("config")).unwrap();
        (world, topics, settings.hotspots)
    }

    /// The 1,000,000-ticket bench store holds 1,000,000 / 180 days / 36 streets ≈ 154 tickets a
    /// street a day (about nine per matter). The same city at that density over eight weeks that
    /// cross the end of summer (1 October) and the start of the heating season (1 November),
    /// with busier workdays and office hours: every planted surge is found and the background
    /// raises no alert in the four weeks after the baseline's.
    #[test]
    fn at_the_bench_density_planted_surges_are_found_and_the_background_is_silent() {
        let (world, topics, settings) = setup();
        let days = 56;
        let options = SeedOptions {
            tickets: (1_000_000.0 / 180.0 * f64::from(days)) as usize,
            seed: 2026,
            until: date(2026, 11, 16),
            days,
            surges: 4,
        };
        let m = measure(Arc::new(world), &options, &topics, settings, 28);
        eprintln!("{m:#?}");
        assert_eq!(m.background_alerts, 0, "{:#?}", m.false_alerts);
        assert_eq!((m.found, m.planted), (4, 4));
    }
}

#[cfg(test)]
mod full_scale {
    use std::path::Path;
    use std::sync::Arc;

    use jiff::civil::date;

    use super::*;
    use crate::config::Settings;

    /// The whole bench stream (1,000,000 tickets, 180 days, 3 surges); slow in a debug build:
    /// `cargo test --lib full_scale -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn the_bench_stream() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let settings = Settings::load(&root.join("config"), std::iter::empty()).unwrap();
        let world = SeedWorld::load(&settings, &root.join("config")).unwrap();
        let topics = Topics::load(&root.join("config")).unwrap();
        let options = SeedOptions {
            tickets: 1_000_000,
            seed: 12345,
            until: date(2026, 11, 16),
            days: 180,
            surges: 3,
        };
        let m = measure(Arc::new(world), &options, &topics, settings.hotspots, 28);
        eprintln!(
            "{} tickets, {:.1} weeks: {} background alerts ({:.3}/week), {}/{} planted found",
            m.tickets,
            m.weeks,
            m.background_alerts,
            m.false_alerts_per_week(),
            m.found,
            m.planted
        );
    }
}
