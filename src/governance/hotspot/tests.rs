//! The detector's unit tests: single streets, many streets, a season on every street.

use super::*;
use crate::domain::{Category, NewTicket, Ticket, TicketDigest};

fn facts(n: u64, at: Timestamp, matter: &str, street: &str) -> TicketFacts {
    let ticket = Ticket::open(
        TicketNumber::from_sequence(100_000 + n),
        NewTicket {
            category: Category::Help,
            content: matter.into(),
            ..NewTicket::sample(at)
        },
    );
    let mut digest = TicketDigest::of(&ticket);
    digest.street = Some(street.into());
    TicketFacts {
        digest,
        matter: matter.into(),
    }
}

fn start() -> Timestamp {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

#[test]
fn five_outages_in_an_hour_on_a_quiet_street_raise_one_cluster() {
    let mut d = Detector::new(HotspotSettings::default());
    let mut raised = Vec::new();
    let mut joined = 0;
    for i in 0..7u64 {
        let at = start() + SignedDuration::from_mins(8 * i as i64);
        match d.ingest(&facts(i, at, "停水", "桃源街道")) {
            Outcome::Raised(c) => raised.push(c),
            Outcome::Joined { .. } => joined += 1,
            Outcome::Quiet => {}
        }
    }
    assert_eq!(raised.len(), 1);
    assert_eq!(raised[0].tickets.len(), 5);
    assert_eq!(
        raised[0].id,
        Cluster::id_for(TicketNumber::from_sequence(100_000))
    );
    assert_eq!(joined, 2);
}

#[test]
fn a_busy_street_at_its_usual_rate_raises_nothing() {
    let mut d = Detector::new(HotspotSettings::default());
    // Eight noise complaints an hour, every hour, for five weeks: busy, but normal there.
    let mut n = 0;
    for hour in 0..(24 * 35) {
        for k in 0..8 {
            let at = start() + SignedDuration::from_mins(hour * 60 + k * 7);
            n += 1;
            let out = d.ingest(&facts(n, at, "噪音扰民", "粤海街道"));
            if hour >= 24 * 28 {
                assert_eq!(out, Outcome::Quiet, "hour {hour}");
            }
        }
    }
}

/// Twelve streets, each with a steady stream of `per_hour(street, hour)` tickets of `matter`
/// an hour from `from` for `hours`, spread evenly in each hour; fed in time order.
fn city_stream(
    matter: &str,
    from: i64,
    hours: i64,
    per_hour: impl Fn(usize, i64) -> u32,
) -> Vec<(Timestamp, String)> {
    let mut out = Vec::new();
    for h in from..from + hours {
        for street in 0..12 {
            let n = per_hour(street, h);
            for k in 0..n {
                let at = start()
                    + SignedDuration::from_secs(h * 3600 + i64::from(k) * 3600 / i64::from(n))
                    + SignedDuration::from_secs(street as i64 * 7);
                out.push((at, format!("街道{street}")));
            }
        }
    }
    out.sort();
    out.into_iter()
        .map(|(at, street)| (at, format!("{street}|{matter}")))
        .collect()
}

fn feed(d: &mut Detector, stream: Vec<(Timestamp, String)>, n: &mut u64) -> Vec<Cluster> {
    let mut raised = Vec::new();
    for (at, key) in stream {
        let (street, matter) = key.split_once('|').unwrap();
        *n += 1;
        if let Outcome::Raised(c) = d.ingest(&facts(*n, at, matter, street)) {
            raised.push(c);
        }
    }
    raised
}

#[test]
fn the_heating_season_starting_on_every_street_at_once_is_no_hotspot() {
    let mut d = Detector::new(HotspotSettings::default());
    let mut n = 0;
    // Four weeks of a 供暖 report every other day per street, then the season: six an
    // hour on every street (what one street's history would call a huge surge).
    let before = city_stream("供暖", 0, 24 * 28, |street, h| {
        u32::from((h + street as i64 * 5) % 48 == 0)
    });
    assert!(feed(&mut d, before, &mut n).is_empty());
    let season = city_stream("供暖", 24 * 28, 24 * 3, |_, _| 6);
    let raised = feed(&mut d, season, &mut n);
    assert!(raised.is_empty(), "{raised:#?}");
}

#[test]
fn five_outages_in_an_hour_on_one_of_many_busy_streets_raise_an_alert() {
    let mut d = Detector::new(HotspotSettings::default());
    let mut n = 0;
    // Twelve streets with eight noise complaints an hour and 停水 about once a week each.
    let mut stream = city_stream("噪音扰民", 0, 24 * 35, |_, _| 8);
    stream.extend(city_stream("停水", 0, 24 * 35, |street, h| {
        u32::from((h + street as i64 * 13) % 168 == 0)
    }));
    stream.sort();
    assert!(feed(&mut d, stream, &mut n).is_empty());
    // Then five 停水 reports from 街道3 within the hour, the other streets as usual.
    let mut surge: Vec<(Timestamp, String)> = (0..5)
        .map(|k| {
            (
                start() + SignedDuration::from_mins(24 * 35 * 60 + 10 * k + 3),
                "街道3|停水".to_string(),
            )
        })
        .collect();
    surge.extend(city_stream("噪音扰民", 24 * 35, 2, |_, _| 8));
    surge.sort();
    let raised = feed(&mut d, surge, &mut n);
    assert_eq!(raised.len(), 1, "{raised:#?}");
    assert_eq!(
        (raised[0].matter.as_str(), raised[0].street.as_str()),
        ("停水", "街道3")
    );
    assert_eq!(raised[0].tickets.len(), 5);
}

#[test]
fn the_poisson_tail_is_right_at_known_points() {
    assert!((poisson_tail(0, 2.0) - 1.0).abs() < 1e-12);
    assert!((poisson_tail(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
    // P(X >= 5 | λ = 1) = 0.00366
    assert!((poisson_tail(5, 1.0) - 0.003_659_8).abs() < 1e-6);
}

#[test]
fn the_binomial_tail_is_right_at_known_points() {
    assert!((binomial_tail(0, 5, 0.3) - 1.0).abs() < 1e-12);
    assert!((binomial_tail(5, 5, 0.5) - 1.0 / 32.0).abs() < 1e-12);
    // P(X >= 2 | n = 4, p = 0.5) = 11/16
    assert!((binomial_tail(2, 4, 0.5) - 11.0 / 16.0).abs() < 1e-12);
    assert_eq!(binomial_tail(6, 5, 0.5), 0.0);
}

#[test]
fn tickets_without_a_matter_or_a_street_never_surge() {
    let mut d = Detector::new(HotspotSettings::default());
    for i in 0..20u64 {
        let at = start() + SignedDuration::from_mins(i as i64);
        assert_eq!(d.ingest(&facts(i, at, OTHER, "桃源街道")), Outcome::Quiet);
    }
}

#[test]
fn the_rhythm_splits_days_by_the_holiday_calendar_with_its_make_up_workdays() {
    use jiff::civil::date;
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let settings = crate::config::Settings::load(&config, std::iter::empty()).unwrap();
    let analysis = crate::governance::Analysis::load(&settings, &config).unwrap();
    let d = Detector::new(analysis.hotspots.clone());
    assert_eq!(
        d.day_kind(date(2026, 10, 1)),
        1,
        "国庆节 on a Thursday is a day off"
    );
    assert_eq!(
        d.day_kind(date(2026, 10, 10)),
        0,
        "the 调休 Saturday is worked"
    );
    assert_eq!(d.day_kind(date(2026, 10, 17)), 1, "an ordinary Saturday");
    assert_eq!(d.day_kind(date(2026, 10, 12)), 0, "an ordinary Monday");
    // Without the calendar (settings alone): Monday to Friday.
    let plain = Detector::new(settings.hotspots);
    assert_eq!(plain.day_kind(date(2026, 10, 1)), 0);
    assert_eq!(plain.day_kind(date(2026, 10, 10)), 1);
}

/// The per-day counts give the sums a map of every day gave (the layout they replaced), for
/// tickets mostly in order with some a few days late, and never hold more than the span.
#[test]
fn daily_counts_sum_like_a_map_of_days_and_stay_within_the_span() {
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for span in [1i64, 7, 28] {
        let mut counts = DailyCounts::default();
        let mut map: BTreeMap<i64, u32> = BTreeMap::new();
        let mut day = 20_000i64;
        for _ in 0..5_000 {
            day += rng.random_range(0..3);
            let at = if rng.random_bool(0.1) {
                day - rng.random_range(0..span.min(3) + 1)
            } else {
                day
            };
            counts.add(at, span);
            *map.entry(at).or_insert(0) += 1;
            while map.first_key_value().is_some_and(|(d, _)| *d < at - span) {
                map.pop_first();
            }
            for today in [at, at + 1, day + 1, day + span] {
                let expected: u32 = map.range(today - span..today).map(|(_, n)| *n).sum();
                assert_eq!(
                    counts.past(today, span),
                    expected,
                    "span {span}, today {today}"
                );
            }
            assert!(
                counts.days.len() as i64 <= span + 4,
                "{} days kept",
                counts.days.len()
            );
        }
    }
}
