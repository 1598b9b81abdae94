//! `hotline demo seed`: fills a store with realistic synthetic tickets over months — districts and
//! streets, matters with their seasons (供暖 in winter, 停电 and 噪音 in summer), busier weekdays
//! and office hours, a few planted surges — each a real [`Ticket`] numbered by the store and taken
//! through the lifecycle by [`apply`] (dispatched by the dispatch rules, signed, replied, closed,
//! some late, some surveyed), plus conversations and article feedback. The same `--seed` and
//! `--until` give the same store.

use std::sync::Arc;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use rand::rngs::StdRng;

use crate::calendar::{TimeLimits, WorkCalendar};
use crate::clock::city_tz;
use crate::config::{ConfigError, Settings};
use crate::domain::{
    ArticleFeedback, Category, Channel, Conversation, ConversationId, LifecycleRules, NewTicket,
    Speaker, TicketNumber, TranscriptEntry,
};
use crate::store::{Develop, SledStore, StoreError};
use crate::tickets::dispatch::DispatchRules;
use crate::units::Units;

mod data;
mod history;
pub mod measure;
mod stream;

pub use stream::{Drafted, Stream};

use data::{COMMUNITIES, KINDS, ROADS, STREETS, SURNAMES};
use history::develop;

/// Tickets written per store batch (one flush each).
const BATCH: usize = 5_000;

#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub tickets: usize,
    pub seed: u64,
    /// The day after the last seeded day; "now" for the handling history.
    pub until: Date,
    pub days: u32,
    /// Surges to plant: reports of one utility outage from one street within fifty minutes,
    /// eight plus four times the street's usual busiest hour (counted in `tickets`).
    pub surges: usize,
}

/// A planted surge, to check the detector against.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantedSurge {
    pub matter: String,
    pub district: String,
    pub street: String,
    pub tickets: Vec<TicketNumber>,
}

#[derive(Debug, Clone, Default)]
pub struct SeedSummary {
    pub tickets: usize,
    pub first: Option<TicketNumber>,
    pub last: Option<TicketNumber>,
    pub conversations: usize,
    pub surges: Vec<PlantedSurge>,
}

/// What the seed needs from the configuration.
pub struct SeedWorld {
    pub districts: Vec<String>,
    pub units: Units,
    pub rules: DispatchRules,
    pub calendar: WorkCalendar,
    pub limits: TimeLimits,
    pub lifecycle: LifecycleRules,
    /// Knowledge article ids (file names under knowledge/articles), for feedback.
    pub articles: Vec<String>,
}

impl SeedWorld {
    pub fn load(
        settings: &Settings,
        config_dir: &std::path::Path,
    ) -> Result<SeedWorld, ConfigError> {
        let units = Units::load(config_dir)?;
        let rules = DispatchRules::load(config_dir, &units)?;
        let mut articles = Vec::new();
        collect_articles(&settings.knowledge.dir.join("articles"), &mut articles);
        articles.sort();
        Ok(SeedWorld {
            districts: settings.city.districts.clone(),
            units,
            rules,
            calendar: WorkCalendar::load(config_dir)?,
            limits: TimeLimits::from_settings(settings),
            lifecycle: LifecycleRules {
                max_extensions: settings.deadlines.max_extensions,
                ..LifecycleRules::default()
            },
            articles,
        })
    }
}

fn collect_articles(dir: &std::path::Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            collect_articles(&path, out);
        } else if path.extension().is_some_and(|x| x == "md")
            && let Some(stem) = path.file_stem()
        {
            out.push(stem.to_string_lossy().into_owned());
        }
    }
}

/// Six streets per district: 街道 in districts, 镇 in counties.
fn streets_of(district: &str, index: usize) -> Vec<String> {
    let suffix = if district.ends_with('县') {
        "镇"
    } else {
        "街道"
    };
    (0..6)
        .map(|k| format!("{}{suffix}", STREETS[(index * 5 + k) % STREETS.len()]))
        .collect()
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn weighted<T: Copy>(rng: &mut StdRng, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// Relative busyness of an hour of the day (office hours peak).
const HOURS: [f64; 24] = [
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.2, 2.8, 1.8, 1.6, 2.6, 2.8, 2.6, 2.2, 1.6,
    1.6, 1.8, 1.4, 0.9, 0.4,
];

fn midnight(date: Date) -> Timestamp {
    date.to_zoned(city_tz())
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// How many tickets each day gets: working days busier than days off (weekends and holidays,
/// by the holiday calendar with its 调休 days), rounded so they add up to `total`.
fn per_day(days: &[Date], total: usize, calendar: &WorkCalendar) -> Vec<usize> {
    let weights: Vec<f64> = days
        .iter()
        .map(|d| {
            if calendar.is_working_day(*d) {
                1.0
            } else {
                0.7
            }
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| w / sum * total as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|x| x.floor() as usize).collect();
    let mut rest = total - counts.iter().sum::<usize>();
    let mut order: Vec<usize> = (0..days.len()).collect();
    order.sort_by(|a, b| {
        let fa = exact[*a] - exact[*a].floor();
        let fb = exact[*b] - exact[*b].floor();
        fb.partial_cmp(&fa)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(b))
    });
    for i in order {
        if rest == 0 {
            break;
        }
        counts[i] += 1;
        rest -= 1;
    }
    counts
}

struct Draft {
    ticket: NewTicket,
    surge: Option<usize>,
}

fn citizen(rng: &mut StdRng) -> (Option<String>, Option<String>) {
    if rng.random_bool(0.1) {
        return (None, None);
    }
    let phone = format!(
        "1{}{:09}",
        pick(rng, &[3, 5, 7, 8, 9]),
        rng.random_range(0..1_000_000_000u64)
    );
    let name = format!("{}{}", pick(rng, SURNAMES), pick(rng, &["先生", "女士"]));
    (Some(phone), rng.random_bool(0.6).then_some(name))
}

fn channel(rng: &mut StdRng) -> Channel {
    weighted(
        rng,
        &[
            (Channel::Web, 0.45),
            (Channel::Sms, 0.3),
            (Channel::Api, 0.15),
            (Channel::Telegram, 0.1),
        ],
    )
}

fn conversation_id(rng: &mut StdRng) -> ConversationId {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    ConversationId(uuid::Builder::from_random_bytes(bytes).into_uuid())
}

fn fill(text: &str, rng: &mut StdRng, community: &str, road: &str) -> String {
    text.replace("{c}", community)
        .replace("{r}", road)
        .replace("{n}", &rng.random_range(1..300).to_string())
}

fn draft(
    rng: &mut StdRng,
    world: &SeedWorld,
    streets: &[Vec<String>],
    at: Timestamp,
    kind: usize,
    place: Option<(usize, usize, &str, &str)>,
) -> NewTicket {
    let k = &KINDS[kind];
    let (d, s, community, road) = match place {
        Some(p) => p,
        None => {
            let d = rng.random_range(0..world.districts.len());
            let s = rng.random_range(0..streets[d].len());
            (d, s, *pick(rng, COMMUNITIES), *pick(rng, ROADS))
        }
    };
    let district = world.districts[d].clone();
    let street = &streets[d][s];
    let category = weighted(rng, k.categories);
    let text: &str = k.texts[rng.random_range(0..k.texts.len())];
    let content = fill(text, rng, community, road);
    let (phone, name) = citizen(rng);
    let address = format!(
        "{district}{street}{road}{}号{community}小区",
        rng.random_range(1..300)
    );
    NewTicket {
        category,
        content,
        district: Some(district),
        address: Some(address),
        phone,
        name,
        confidential: category == Category::Report,
        channel: channel(rng),
        conversation: conversation_id(rng),
        created_at: at,
    }
}

/// The day's tickets in time order, planted surges mixed in.
fn day_drafts(
    rng: &mut StdRng,
    world: &SeedWorld,
    streets: &[Vec<String>],
    date: Date,
    count: usize,
    surge: Option<usize>,
) -> Vec<Draft> {
    let month = date.month();
    let kinds: Vec<(usize, f64)> = KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| (i, k.weight * (k.season)(month)))
        .collect();
    let hours: Vec<(usize, f64)> = HOURS.iter().copied().enumerate().collect();
    let start = midnight(date);
    // Reports of a utility outage from one street within fifty minutes, mid-morning: eight, and
    // four more for each report the street usually makes of it in its busiest hour (a surge is
    // a surge against the street's own rate). They are part of the day's count.
    let planted = surge.map(|index| {
        let kind = index % 2; // 停水, 停电
        let total: f64 = kinds.iter().map(|(_, w)| w).sum();
        let places: usize = streets.iter().map(Vec::len).sum();
        let busiest = HOURS.iter().copied().fold(0.0, f64::max) / HOURS.iter().sum::<f64>();
        let usual = count as f64 * kinds[kind].1 / total / places.max(1) as f64 * busiest;
        (index, kind, 8 + (4.0 * usual).ceil() as usize)
    });
    let background = count.saturating_sub(planted.map_or(0, |(_, _, size)| size));
    let mut out: Vec<(Timestamp, Draft)> = (0..background)
        .map(|_| {
            let hour = weighted(rng, &hours) as i64;
            let at = start + SignedDuration::from_secs(hour * 3600 + rng.random_range(0..3600));
            let kind = weighted(rng, &kinds);
            (
                at,
                Draft {
                    ticket: draft(rng, world, streets, at, kind, None),
                    surge: None,
                },
            )
        })
        .collect();
    if let Some((index, kind, size)) = planted {
        let size = size as i64;
        let d = (index * 3 + 1) % world.districts.len();
        let s = index % streets[d].len();
        let community = COMMUNITIES[index % COMMUNITIES.len()];
        let road = ROADS[index % ROADS.len()];
        let base = start + SignedDuration::from_hours(10);
        for k in 0..size {
            let at = base + SignedDuration::from_secs(k * 3000 / size + rng.random_range(0..60));
            let mut t = draft(rng, world, streets, at, kind, Some((d, s, community, road)));
            t.category = Category::Help;
            t.confidential = false;
            out.push((
                at,
                Draft {
                    ticket: t,
                    surge: Some(index),
                },
            ));
        }
    }
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, d)| d).collect()
}

/// Seeds `store`; `progress` is called with the tickets written so far.
pub async fn seed(
    store: &SledStore,
    world: Arc<SeedWorld>,
    options: &SeedOptions,
    mut progress: impl FnMut(usize),
) -> Result<SeedSummary, StoreError> {
    let now = midnight(options.until);
    let mut stream = Stream::new(world.clone(), options);
    let develop_world = world.clone();
    let seed = options.seed;
    let develop: Develop = Arc::new(move |t| develop(&develop_world, seed, now, t));
    let mut summary = SeedSummary::default();
    let mut surges: Vec<Option<PlantedSurge>> = vec![None; stream.surge_days.len()];
    let mut pending: Vec<Draft> = Vec::with_capacity(BATCH);
    let mut conversations = Vec::new();
    while let Some(day) = stream.next_day() {
        pending.extend(day.into_iter().map(|d| Draft {
            ticket: d.ticket,
            surge: d.surge,
        }));
        if pending.len() >= BATCH || stream.days_left() == 0 {
            let batch = std::mem::take(&mut pending);
            write_batch(
                store,
                batch,
                &develop,
                &mut summary,
                &mut surges,
                &mut conversations,
            )
            .await?;
            progress(summary.tickets);
        }
    }
    summary.conversations = conversations.len();
    for chunk in conversations.chunks(BATCH) {
        store.save_conversations(chunk.to_vec()).await?;
    }
    store
        .add_feedback_counts(feedback(&mut stream.rng, &world.articles, options.tickets))
        .await?;
    summary.surges = surges.into_iter().flatten().collect();
    Ok(summary)
}

async fn write_batch(
    store: &SledStore,
    batch: Vec<Draft>,
    develop: &Develop,
    summary: &mut SeedSummary,
    surges: &mut [Option<PlantedSurge>],
    conversations: &mut Vec<Conversation>,
) -> Result<(), StoreError> {
    let marks: Vec<Option<usize>> = batch.iter().map(|d| d.surge).collect();
    let details: Vec<NewTicket> = batch.into_iter().map(|d| d.ticket).collect();
    let kept: Vec<NewTicket> = details
        .iter()
        .enumerate()
        .filter(|(i, _)| (summary.tickets + i).is_multiple_of(10))
        .map(|(_, t)| t.clone())
        .collect();
    let numbers = store.create_batch(details.clone(), develop.clone()).await?;
    for ((n, mark), t) in numbers.iter().zip(&marks).zip(&details) {
        if let Some(i) = mark {
            let s = surges[*i].get_or_insert_with(|| PlantedSurge {
                matter: if *i % 2 == 0 { "停水" } else { "停电" }.to_string(),
                district: t.district.clone().unwrap_or_default(),
                street: crate::governance::matter::street_of(
                    t.address.as_deref().unwrap_or_default(),
                    t.district.as_deref(),
                )
                .unwrap_or_default(),
                tickets: Vec::new(),
            });
            s.tickets.push(*n);
        }
    }
    let mut kept = kept.into_iter();
    for (i, n) in numbers.iter().enumerate() {
        if (summary.tickets + i).is_multiple_of(10)
            && let Some(t) = kept.next()
        {
            let mut c = Conversation::start(t.channel, t.created_at);
            c.id = t.conversation;
            c.tickets.push(*n);
            c.record(TranscriptEntry {
                at: t.created_at,
                from: Speaker::Citizen,
                text: t.content,
                buttons: Vec::new(),
                outbox_id: None,
                ticket: Some(*n),
            });
            conversations.push(c);
        }
    }
    summary.first = summary.first.or(numbers.first().copied());
    summary.last = numbers.last().copied().or(summary.last);
    summary.tickets += numbers.len();
    Ok(())
}

/// 有帮助/没帮助 votes on articles, a few of them poorly rated.
fn feedback(
    rng: &mut StdRng,
    articles: &[String],
    tickets: usize,
) -> Vec<(String, ArticleFeedback)> {
    let scale = (tickets / 1000).max(1) as u64;
    articles
        .iter()
        .map(|a| {
            let poor = rng.random_bool(0.1);
            let helpful = rng.random_range(0..20) * scale;
            let not_helpful = if poor {
                rng.random_range(5..15) * scale
            } else {
                rng.random_range(0..3) * scale
            };
            (
                a.clone(),
                ArticleFeedback {
                    helpful,
                    not_helpful,
                },
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn holidays_get_a_day_off_s_share_and_make_up_workdays_a_working_day_s() {
        let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let calendar = WorkCalendar::load(&config).unwrap();
        let days = [
            date(2026, 10, 1),  // 国庆节, a Thursday
            date(2026, 10, 10), // its 调休 Saturday
            date(2026, 10, 12), // an ordinary Monday
            date(2026, 10, 17), // an ordinary Saturday
        ];
        let counts = per_day(&days, 370, &calendar);
        assert_eq!(counts.iter().sum::<usize>(), 370);
        assert_eq!(counts, [76, 109, 109, 76]);
    }
}
