//! Hotspot detection (热点发现, 未诉先办): tickets grouped by matter and place over a sliding
//! window; a surge against the place's own baseline raises an alert and opens a cluster (类案) of
//! the tickets in the window; later tickets of the same matter and place join it while the surge
//! lasts.
//!
//! The detector reads ticket times, never the clock, so replaying the same stream gives the same
//! alerts (the report replays its period; the server feeds new tickets as they are stored).
//! Baselines are kept as counts per day per key over `baseline_days`, so memory stays bounded by
//! the number of (matter, place) pairs.

use std::collections::{BTreeMap, HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::facts::TicketFacts;
use super::matter::OTHER;
use crate::domain::{Cluster, TicketNumber};

/// `[hotspots]` in config/hotline.toml.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HotspotSettings {
    /// The sliding window tickets are counted over.
    pub window_minutes: u32,
    /// At least this many tickets in the window…
    pub min_count: u32,
    /// …and at least `ratio` times what the place's baseline expects in a window.
    pub ratio: f64,
    /// How far back the baseline looks.
    pub baseline_days: u32,
    /// The rate assumed for a matter and place with little history, per week (one a week is
    /// normal for most streets).
    pub normal_per_week: f64,
    /// …and so unlikely at the baseline's rate (Poisson tail probability at most this) that
    /// chance is not the explanation: what keeps busy streets quiet at their usual peaks.
    pub max_p_value: f64,
    /// How often the server looks for new tickets.
    pub poll_seconds: u64,
}

impl Default for HotspotSettings {
    fn default() -> Self {
        HotspotSettings {
            window_minutes: 60,
            min_count: 5,
            ratio: 4.0,
            baseline_days: 28,
            normal_per_week: 1.0,
            max_p_value: 1e-5,
            poll_seconds: 5,
        }
    }
}

/// Matter and place: what a hotspot is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HotspotKey {
    pub matter: String,
    pub district: String,
    pub street: String,
}

impl HotspotKey {
    /// `None` for tickets without a matter or a place: they cannot surge anywhere.
    pub fn of(facts: &TicketFacts) -> Option<HotspotKey> {
        if facts.matter == OTHER {
            return None;
        }
        Some(HotspotKey {
            matter: facts.matter.clone(),
            district: facts.district.clone()?,
            street: facts.street.clone()?,
        })
    }
}

/// What the detector says about one ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing unusual.
    Quiet,
    /// The ticket made its matter and place surge: a new cluster.
    Raised(Cluster),
    /// The ticket joins the cluster of a surge under way.
    Joined { cluster: String },
}

#[derive(Default)]
struct KeyState {
    window: VecDeque<(Timestamp, TicketNumber)>,
    /// Day index (days since the epoch) → tickets that day, over the baseline span.
    daily: BTreeMap<i64, u32>,
    /// The cluster of the surge under way; it ends when the window falls back under the
    /// threshold.
    open: Option<String>,
}

pub struct Detector {
    settings: HotspotSettings,
    keys: HashMap<HotspotKey, KeyState>,
    /// Tickets seen per hour of the day (city time), all places together: the daily rhythm that
    /// scales a baseline to the hour (office hours are busier than nights everywhere).
    hours: [u64; 24],
}

const DAY_SECONDS: i64 = 86_400;

impl Detector {
    pub fn new(settings: HotspotSettings) -> Self {
        Detector {
            settings,
            keys: HashMap::new(),
            hours: [0; 24],
        }
    }

    pub fn settings(&self) -> &HotspotSettings {
        &self.settings
    }

    /// Feeds one ticket (tickets should arrive in time order).
    pub fn ingest(&mut self, facts: &TicketFacts) -> Outcome {
        let Some(key) = HotspotKey::of(facts) else {
            return Outcome::Quiet;
        };
        let window = SignedDuration::from_mins(i64::from(self.settings.window_minutes));
        let at = facts.created_at;
        let day = at.as_second().div_euclid(DAY_SECONDS);
        let baseline_days = i64::from(self.settings.baseline_days.max(1));
        let state = self.keys.entry(key.clone()).or_default();
        while state
            .window
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) >= window)
        {
            state.window.pop_front();
        }
        // The baseline: days before the window started, within the baseline span.
        let hour = at.to_zoned(crate::clock::city_tz()).hour() as usize % 24;
        self.hours[hour] += 1;
        let seen: u64 = self.hours.iter().sum();
        // This hour's share of the day, as a multiple of an average hour (kept within 0.25–4 so
        // a young detector is not thrown by its first few tickets).
        let rhythm = if seen < 1_000 {
            1.0
        } else {
            (self.hours[hour] as f64 * 24.0 / seen as f64).clamp(0.25, 4.0)
        };
        let expected = expected_in_window(state, day, baseline_days, &self.settings) * rhythm;
        state.window.push_back((at, facts.number));
        *state.daily.entry(day).or_insert(0) += 1;
        while state
            .daily
            .first_key_value()
            .is_some_and(|(d, _)| *d < day - baseline_days)
        {
            state.daily.pop_first();
        }
        let count = state.window.len() as u32;
        let surging = count >= self.settings.min_count
            && f64::from(count) >= self.settings.ratio * expected
            && poisson_tail(count, expected) <= self.settings.max_p_value;
        if let Some(id) = state.open.take() {
            if surging {
                state.open = Some(id.clone());
                return Outcome::Joined { cluster: id };
            }
            return Outcome::Quiet;
        }
        if !surging {
            return Outcome::Quiet;
        }
        let tickets: Vec<TicketNumber> = state.window.iter().map(|(_, n)| *n).collect();
        let id = Cluster::id_for(tickets[0]);
        state.open = Some(id.clone());
        Outcome::Raised(Cluster {
            id,
            matter: key.matter,
            district: key.district,
            street: key.street,
            raised_at: at,
            count_at_alert: count,
            expected,
            tickets,
            dispatched_to: None,
        })
    }

    /// Forgets keys with nothing in their baseline span at `now` (call now and then).
    pub fn prune(&mut self, now: Timestamp) {
        let day = now.as_second().div_euclid(DAY_SECONDS);
        let span = i64::from(self.settings.baseline_days.max(1));
        self.keys.retain(|_, s| {
            s.daily
                .last_key_value()
                .is_some_and(|(d, _)| *d >= day - span)
        });
    }

    pub fn tracked_keys(&self) -> usize {
        self.keys.len()
    }
}

/// P(X ≥ k) for X ~ Poisson(λ): how likely `k` or more tickets are by chance.
fn poisson_tail(k: u32, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return if k == 0 { 1.0 } else { 0.0 };
    }
    let mut term = (-lambda).exp();
    let mut below = 0.0;
    for i in 0..k {
        below += term;
        term *= lambda / f64::from(i + 1);
    }
    (1.0 - below).max(0.0)
}

/// Tickets the baseline expects in one window: the key's daily rate over the full days before
/// today within the span (at least `normal_per_week`), scaled to the window.
fn expected_in_window(state: &KeyState, today: i64, span: i64, settings: &HotspotSettings) -> f64 {
    let past: u32 = state
        .daily
        .range(today - span..today)
        .map(|(_, n)| *n)
        .sum();
    let per_day = (f64::from(past) / span as f64).max(settings.normal_per_week / 7.0);
    per_day * f64::from(settings.window_minutes) / (24.0 * 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Category, Channel, TicketStatus};

    fn facts(n: u64, at: Timestamp, matter: &str, street: &str) -> TicketFacts {
        TicketFacts {
            number: TicketNumber::from_sequence(100_000 + n),
            created_at: at,
            channel: Channel::Web,
            category: Category::Help,
            status: TicketStatus::Accepted,
            district: Some("南山区".into()),
            street: Some(street.into()),
            matter: matter.into(),
            consultation: None,
            citizen: None,
            lead: None,
            deadline: None,
            signed_at: None,
            replied_at: None,
            closed_at: None,
            surveyed: false,
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

    #[test]
    fn the_poisson_tail_is_right_at_known_points() {
        assert!((poisson_tail(0, 2.0) - 1.0).abs() < 1e-12);
        assert!((poisson_tail(1, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-12);
        // P(X >= 5 | λ = 1) = 0.00366
        assert!((poisson_tail(5, 1.0) - 0.003_659_8).abs() < 1e-6);
    }

    #[test]
    fn tickets_without_a_matter_or_a_street_never_surge() {
        let mut d = Detector::new(HotspotSettings::default());
        for i in 0..20u64 {
            let at = start() + SignedDuration::from_mins(i as i64);
            assert_eq!(d.ingest(&facts(i, at, OTHER, "桃源街道")), Outcome::Quiet);
        }
    }
}
