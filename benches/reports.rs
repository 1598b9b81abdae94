//! Proactive governance speed: the weekly report over 1,000,000 stored tickets (target ≤ 10 s)
//! and the hotspot detector's ingestion rate (target ≥ 1,000 new tickets per second); and the
//! detector's chance alerts at that density (target: none).
//!
//! Run: `cargo bench --bench reports`. The 1,000,000-ticket store is seeded once (`hotline demo
//! seed` code, seed 12345, 180 days up to 2026-11-16) into `target/bench-data/reports-1m` (or
//! `HOTLINE_BENCH_DATA`) and reused by later runs. Figures in README.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use hotline::config::Settings;
use hotline::governance::facts::TicketFacts;
use hotline::governance::hotspot::Detector;
use hotline::governance::live::HotspotMonitor;
use hotline::governance::report::{Period, PeriodKind, render};
use hotline::governance::seed::measure::measure;
use hotline::governance::seed::{SeedOptions, SeedWorld, seed};
use hotline::governance::{Analysis, scan};
use hotline::store::{SledStore, TicketStore};
use jiff::civil::date;

const TICKETS: usize = 1_000_000;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn main() -> anyhow::Result<()> {
    let root = repo();
    std::env::set_current_dir(&root)?;
    let settings = Settings::load(&root.join("config"), std::iter::empty())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let data = std::env::var_os("HOTLINE_BENCH_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/bench-data/reports-1m"));
    let until = date(2026, 11, 16);
    let runtime = tokio::runtime::Runtime::new()?;
    let store = Arc::new(SledStore::open(&data).map_err(|e| anyhow::anyhow!("{e}"))?);
    if store.count() < TICKETS {
        let world = Arc::new(
            SeedWorld::load(&settings, &root.join("config")).map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        let started = Instant::now();
        let options = SeedOptions {
            tickets: TICKETS - store.count(),
            seed: 12345,
            until,
            days: 180,
            surges: 3,
        };
        let summary = runtime.block_on(seed(&store, world, &options, |_| {}))?;
        println!(
            "seeded {} tickets in {:.1} s ({:.0} tickets/s)",
            summary.tickets,
            started.elapsed().as_secs_f64(),
            summary.tickets as f64 / started.elapsed().as_secs_f64()
        );
    }
    // Numbers issued (a bulk load's indexes, and so `count`, are built at the next open).
    let stored = match store.ticket_bounds()? {
        Some((first, last)) => last.sequence() - first.sequence() + 1,
        None => 0,
    };
    println!("store: {stored} tickets in {}", data.display());
    let analysis = Arc::new(
        Analysis::load(&settings, &root.join("config")).map_err(|e| anyhow::anyhow!("{e}"))?,
    );

    // The weekly report: the last complete week before `until`, computed and rendered.
    let period = Period::last_complete(PeriodKind::Weekly, until);
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let report = analysis.report(&store, period)?;
        let html = render::html(&report)?;
        times.push(started.elapsed().as_secs_f64());
        println!(
            "weekly report {}: {} tickets in the week, {} hotspots, {} bytes of HTML in {:.2} s",
            report.period,
            report.total,
            report.hotspots.len(),
            html.len(),
            started.elapsed().as_secs_f64()
        );
    }
    times.sort_by(f64::total_cmp);
    println!(
        "weekly report over {stored} tickets: median {:.2} s (target ≤ 10 s)",
        times[1]
    );

    // Hotspot detection alone, over the facts of four weeks of tickets.
    let mut facts: Vec<TicketFacts> = Vec::new();
    let from = period.start() - jiff::SignedDuration::from_hours(24 * 28);
    scan(&store, &analysis.topics, from, period.end(), |f| {
        facts.push(f)
    })?;
    let started = Instant::now();
    let mut detector = Detector::new(analysis.hotspots.clone());
    let mut raised = 0;
    for f in &facts {
        if matches!(
            detector.ingest(f),
            hotline::governance::hotspot::Outcome::Raised(_)
        ) {
            raised += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "detector: {} tickets in {:.3} s = {:.0} tickets/s ({raised} alerts)",
        facts.len(),
        secs,
        facts.len() as f64 / secs
    );

    // The background's chance alerts at this density: the detector over the seed's whole
    // stream (the same tickets the store holds, generated again in memory), after a four-week
    // warm-up.
    let started = Instant::now();
    let world = Arc::new(
        SeedWorld::load(&settings, &root.join("config")).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let m = measure(
        world,
        &SeedOptions {
            tickets: TICKETS,
            seed: 12345,
            until,
            days: 180,
            surges: 3,
        },
        &analysis.topics,
        analysis.hotspots.clone(),
        28,
    );
    println!(
        "background at this density: {} alerts in {:.1} weeks ({:.2} a week, target 0); planted surges found {}/{} ({:.1} s)",
        m.background_alerts,
        m.weeks,
        m.false_alerts_per_week(),
        m.found,
        m.planted,
        started.elapsed().as_secs_f64()
    );

    // As the server runs it: read the stored tickets, decode, detect, store clusters.
    let monitor = HotspotMonitor::new(store.clone(), analysis.clone());
    let started = Instant::now();
    let read =
        runtime.block_on(monitor.warm(until.to_zoned(hotline::clock::city_tz())?.timestamp()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "server path (read + decode + detect + store clusters): {read} tickets in {secs:.2} s = {:.0} tickets/s (target ≥ 1,000/s)",
        read as f64 / secs
    );
    store.close().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
