//! Hotspot detection (热点发现, 未诉先办): tickets grouped by matter and place over a sliding
//! window; a surge against the place's own baseline raises an alert and opens a cluster (类案) of
//! the tickets in the window; later tickets of the same matter and place join it while the surge
//! lasts.
//!
//! A ticket arriving tests its place's window, and an alert needs:
//! - a surge against the place's own history: its tickets per day over `baseline_days`, scaled to
//!   the window and to the hour of the day on that kind of day (working day or day off, by the
//!   holiday calendar with its 调休 make-up days), learned
//!   from all tickets, give λ; the other tickets in the window are Poisson(λ);
//! - and, while the rest of the city reports the matter beyond its own history (a season such
//!   as 供暖 in November or 停电 in summer, a holiday, a city-wide event), a surge against the
//!   place's share too: of the window's tickets of the matter anywhere, the place's are
//!   Binomial with its share over the baseline span. A rise on every street at once is no
//!   hotspot, and this follows it within the hour where any history lags by weeks. (It says
//!   nothing where a matter has only ever come from one place.)
//!
//! Both tests count the tickets in the window besides the one that arrived (the arrival itself
//! is no evidence: every window tested holds one). Each tail must stay under
//! `false_alerts_per_week` divided by the tests of a week — every ticket is a test, tens of
//! thousands a week in a big city (Bonferroni) — and never above `max_p_value`.
//!
//! The detector reads ticket times, never the clock, so replaying the same stream gives the same
//! alerts (the report replays its period; the server feeds new tickets as they are stored).
//! Baselines are kept as counts per day per key over `baseline_days`, so memory stays bounded by
//! the number of (matter, place) pairs.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::facts::TicketFacts;
use super::matter::OTHER;
use crate::calendar::WorkCalendar;
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
    /// chance is not the explanation: the ceiling for a city with few tickets.
    pub max_p_value: f64,
    /// How many alerts the steady background may raise by chance in a week, across all places
    /// and matters: the tail must stay under this divided by the tests of a week.
    pub false_alerts_per_week: f64,
    /// The rest of the city counts as shifted (a season, a holiday) when its tickets of the
    /// matter in the window are this unlikely by its own history; the place must then also stand
    /// out against its share of them.
    pub city_shift_p_value: f64,
    /// How often the server looks for new tickets.
    pub poll_seconds: u64,
    /// The city's working days (config/holidays.toml, with 调休 make-up days), which split the
    /// hourly rhythm into working days and days off. Not a key of `[hotspots]`:
    /// [`Analysis::load`](super::Analysis::load) sets it; left alone, Monday to Friday.
    #[serde(skip)]
    pub calendar: Arc<WorkCalendar>,
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
            false_alerts_per_week: 0.05,
            city_shift_p_value: 1e-3,
            poll_seconds: 5,
            calendar: Arc::default(),
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
            district: facts.digest.district.clone()?,
            street: facts.digest.street.clone()?,
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

/// Tickets in a sliding window and per day over the baseline span: one per (matter, place),
/// one per matter (the whole city), one for everything.
#[derive(Default)]
struct Counts {
    window: VecDeque<(Timestamp, TicketNumber)>,
    /// Tickets per day over the baseline span.
    daily: DailyCounts,
}

impl Counts {
    fn slide(&mut self, at: Timestamp, window: SignedDuration) {
        while self
            .window
            .front()
            .is_some_and(|(t, _)| at.duration_since(*t) >= window)
        {
            self.window.pop_front();
        }
    }

    fn add(&mut self, at: Timestamp, number: TicketNumber, day: i64, span: i64) {
        self.window.push_back((at, number));
        self.daily.add(day, span);
    }

    /// Tickets on the full days `[today - span, today)`.
    fn past(&self, today: i64, span: i64) -> u32 {
        self.daily.past(today, span)
    }
}

/// Tickets per day (days since the epoch) for consecutive days from `first`: one `u32` a day,
/// about 120 bytes for a 28-day baseline. The detector keeps one per (matter, place) it has seen
/// in the span (tens of thousands in a city), where a map of days cost ~700 bytes each.
#[derive(Default)]
struct DailyCounts {
    first: i64,
    days: VecDeque<u32>,
}

impl DailyCounts {
    fn last(&self) -> Option<i64> {
        (!self.days.is_empty()).then(|| self.first + self.days.len() as i64 - 1)
    }

    /// One more ticket on `day`; days before `day - span` are forgotten.
    fn add(&mut self, day: i64, span: i64) {
        match self.last() {
            None => {
                self.first = day;
                self.days.push_back(0);
            }
            Some(last) if day > last => {
                for _ in last..day {
                    self.days.push_back(0);
                }
            }
            // A ticket out of arrival order, a day or more before the oldest kept: kept if
            // still inside the span of the newest day, else it could never count again.
            Some(last) if day < self.first => {
                if day < last - span {
                    return;
                }
                for _ in day..self.first {
                    self.days.push_front(0);
                }
                self.first = day;
            }
            Some(_) => {}
        }
        if let Some(n) = self.days.get_mut((day - self.first) as usize) {
            *n += 1;
        }
        while self.first < day - span && self.days.pop_front().is_some() {
            self.first += 1;
        }
    }

    /// Tickets on the days `[today - span, today)`.
    fn past(&self, today: i64, span: i64) -> u32 {
        let Some(last) = self.last() else {
            return 0;
        };
        let (from, to) = ((today - span).max(self.first), today.min(last + 1));
        (from..to)
            .filter_map(|d| self.days.get((d - self.first) as usize))
            .sum()
    }
}

#[derive(Default)]
struct KeyState {
    counts: Counts,
    /// The cluster of the surge under way; it ends when the window falls back under the
    /// threshold.
    open: Option<String>,
}

/// Tickets per hour of the day on working days and on days off (weekends and holidays, by the
/// holiday calendar with its 调休 days), all places together: the rhythm that scales a baseline
/// to the hour (office hours are busier than nights everywhere, and working days busier than
/// days off).
#[derive(Default)]
struct Rhythm {
    tickets: [[u64; 24]; 2],
    /// Distinct days seen of each kind.
    days: [u64; 2],
    last_day: Option<i64>,
}

impl Rhythm {
    fn add(&mut self, kind: usize, hour: usize, day: i64) {
        self.tickets[kind][hour] += 1;
        if self.last_day != Some(day) {
            self.days[kind] += 1;
            self.last_day = Some(day);
        }
    }

    /// This hour on this kind of day, as a multiple of an average hour of an average day (kept
    /// within 0.25–4, and 1 until a thousand tickets were seen, so a young detector is not
    /// thrown by its first few tickets).
    fn factor(&self, kind: usize, hour: usize) -> f64 {
        let seen: u64 = self.tickets.iter().flatten().sum();
        let days: u64 = self.days.iter().sum();
        if seen < 1_000 || self.days[kind] == 0 {
            return 1.0;
        }
        let this = self.tickets[kind][hour] as f64 / self.days[kind] as f64;
        let average = seen as f64 / days as f64 / 24.0;
        (this / average).clamp(0.25, 4.0)
    }
}

/// How strongly the place's share of a matter leans to an even share among the places seen,
/// in tickets: a place with little history of a matter is assumed to have its even share.
const SHARE_PRIOR: f64 = 20.0;

pub struct Detector {
    settings: HotspotSettings,
    keys: HashMap<HotspotKey, KeyState>,
    matters: HashMap<String, Counts>,
    city: Counts,
    places: HashSet<(String, String)>,
    rhythm: Rhythm,
    first_day: Option<i64>,
}

const DAY_SECONDS: i64 = 86_400;

impl Detector {
    pub fn new(settings: HotspotSettings) -> Self {
        Detector {
            settings,
            keys: HashMap::new(),
            matters: HashMap::new(),
            city: Counts::default(),
            places: HashSet::new(),
            rhythm: Rhythm::default(),
            first_day: None,
        }
    }

    pub fn settings(&self) -> &HotspotSettings {
        &self.settings
    }

    /// The rhythm's kind of day: 0 a working day (a 调休 Saturday too), 1 a day off (a weekend
    /// or a public holiday, on whatever weekday it falls).
    fn day_kind(&self, date: jiff::civil::Date) -> usize {
        usize::from(!self.settings.calendar.is_working_day(date))
    }

    /// Feeds one ticket (tickets should arrive in time order).
    pub fn ingest(&mut self, facts: &TicketFacts) -> Outcome {
        let Some(key) = HotspotKey::of(facts) else {
            return Outcome::Quiet;
        };
        let window = SignedDuration::from_mins(i64::from(self.settings.window_minutes));
        let at = facts.digest.created_at;
        let day = at.as_second().div_euclid(DAY_SECONDS);
        let span = i64::from(self.settings.baseline_days.max(1));
        let first_day = *self.first_day.get_or_insert(day);
        // Full days of history within the span (at least one, so a first day has a rate).
        let days = (day - first_day.max(day - span)).max(1);
        let zoned = at.to_zoned(crate::clock::city_tz());
        let kind = self.day_kind(zoned.date());
        let hour = zoned.hour() as usize % 24;
        self.places
            .insert((key.district.clone(), key.street.clone()));
        let matter = self.matters.entry(key.matter.clone()).or_default();
        matter.slide(at, window);
        self.city.slide(at, window);
        let state = self.keys.entry(key.clone()).or_default();
        state.counts.slide(at, window);

        let own_past = f64::from(state.counts.past(day, span));
        let history = {
            let per_day = (own_past / days as f64).max(self.settings.normal_per_week / 7.0);
            per_day * f64::from(self.settings.window_minutes) / (24.0 * 60.0)
                * self.rhythm.factor(kind, hour)
        };
        let matter_past = f64::from(matter.past(day, span));
        // The place's share of the matter, leaning to an even share while history is thin.
        let share = {
            let even = 1.0 / self.places.len().max(1) as f64;
            (own_past + SHARE_PRIOR * even) / (matter_past + SHARE_PRIOR)
        };
        // What the other places' history expects of the matter in the window.
        let others_expected = (matter_past - own_past).max(0.0) / days as f64
            * f64::from(self.settings.window_minutes)
            / (24.0 * 60.0)
            * self.rhythm.factor(kind, hour);
        let tests_per_week = f64::from(self.city.past(day, span)) / days as f64 * 7.0;
        let max_tail = (self.settings.false_alerts_per_week / tests_per_week.max(1.0))
            .min(self.settings.max_p_value);
        state.counts.add(at, facts.digest.number, day, span);
        matter.add(at, facts.digest.number, day, span);
        self.city.add(at, facts.digest.number, day, span);
        self.rhythm.add(kind, hour, day);

        let count = state.counts.window.len() as u32;
        let citywide = matter.window.len() as u32;
        // What the city's other places report now, at this place's share, is expected here too.
        let from_share = f64::from(citywide - count) * share.min(0.9) / (1.0 - share.min(0.9));
        let expected = history.max(from_share);
        // The rest of the city beyond what its own history expects: a season, a holiday, a
        // city-wide event. Then this place must stand out against its share of the matter too.
        let city_shifted =
            poisson_tail(citywide - count, others_expected) <= self.settings.city_shift_p_value;
        let surging = count >= self.settings.min_count
            && f64::from(count) >= self.settings.ratio * expected
            && poisson_tail(count - 1, history) <= max_tail
            && (!city_shifted
                || share >= 0.9
                || binomial_tail(count - 1, citywide - 1, share) <= max_tail);
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
        let tickets: Vec<TicketNumber> = state.counts.window.iter().map(|(_, n)| *n).collect();
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
        self.keys
            .retain(|_, s| s.counts.daily.last().is_some_and(|d| d >= day - span));
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
    // For a tail far below the rounding error of `1 - below`, sum the tail itself.
    let tail = 1.0 - below;
    if tail > 1e-9 {
        return tail.max(0.0);
    }
    let mut sum = 0.0;
    let mut i = k;
    while term > sum * 1e-15 && i < k + 1_000 {
        sum += term;
        i += 1;
        term *= lambda / f64::from(i);
    }
    sum
}

/// P(X ≥ k) for X ~ Binomial(n, p): how likely `k` or more of `n` tickets fall to a place
/// whose share is `p`.
fn binomial_tail(k: u32, n: u32, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (ln_p, ln_q) = (p.ln(), (1.0 - p).ln());
    // ln C(n, k), then each next term from the one before.
    let ln_choose: f64 = (1..=k)
        .map(|i| (f64::from(n - k + i) / f64::from(i)).ln())
        .sum();
    let mut term = (ln_choose + f64::from(k) * ln_p + f64::from(n - k) * ln_q).exp();
    let mut sum = 0.0;
    for j in k..=n {
        sum += term;
        term *= f64::from(n - j) / f64::from(j + 1) * p / (1.0 - p);
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests;
