//! `hotline report` and `hotline demo seed`: the command-line side of the analysis.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use jiff::civil::Date;

use super::Analysis;
use super::report::{Period, PeriodKind, render};
use super::seed::{SeedOptions, SeedWorld, seed};
use crate::app::{Paths, open_store, open_store_with};
use crate::clock;
use crate::config::Settings;

/// Which analysis report, and where its files go.
pub struct ReportArgs {
    pub kind: PeriodKind,
    pub files: ReportFiles,
}

#[derive(clap::Args)]
pub struct ReportFiles {
    /// The HTML report to write (one self-contained file).
    #[arg(long)]
    pub out: PathBuf,
    /// Also write the numbers as Markdown here.
    #[arg(long)]
    pub md: Option<PathBuf>,
    /// Also write the numbers as CSV here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Report on the period containing this day (YYYY-MM-DD); default: the last complete one.
    #[arg(long)]
    pub date: Option<Date>,
}

#[derive(clap::Subcommand)]
pub enum DemoCommand {
    /// Fill the store with realistic synthetic tickets, conversations and feedback.
    Seed(SeedArgs),
}

#[derive(clap::Args)]
pub struct SeedArgs {
    #[arg(long, default_value_t = 10_000)]
    pub tickets: usize,
    /// The same seed (and --until) gives the same store.
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
    /// Days of history.
    #[arg(long, default_value_t = 180)]
    pub days: u32,
    /// The day after the last seeded day (YYYY-MM-DD); default: today.
    #[arg(long)]
    pub until: Option<Date>,
    /// Surges to plant (utility-outage reports from one street within an hour: eight, plus four
    /// for each report the street usually makes of it in its busiest hour).
    #[arg(long, default_value_t = 3)]
    pub surges: usize,
}

/// Writes `text` to `path` through a temporary file, so a failed run leaves no half report.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).with_context(|| format!("failed to write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("failed to write {}", path.display()))
}

pub fn report(args: ReportArgs, settings: &Settings, paths: &Paths) -> anyhow::Result<ExitCode> {
    let analysis = Analysis::load(settings, &paths.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let store = open_store_with(&paths.data, settings)?;
    let period = match args.files.date {
        Some(d) => Period::containing(args.kind, d),
        None => Period::last_complete(args.kind, clock::today()),
    };
    let started = Instant::now();
    let report = analysis
        .report(&store, period)
        .context("failed to compute the report")?;
    write_atomically(&args.files.out, &render::html(&report)?)?;
    if let Some(md) = &args.files.md {
        write_atomically(md, &render::markdown(&report)?)?;
    }
    if let Some(csv) = &args.files.csv {
        write_atomically(csv, &render::csv(&report)?)?;
    }
    eprintln!(
        "{}{} ({}): {} tickets, {} hotspots, {} knowledge gaps → {} in {:.2} s",
        report.city,
        report.kind_label,
        report.period,
        report.total,
        report.hotspots.len(),
        report.gaps.len(),
        args.files.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn demo(command: DemoCommand, settings: &Settings, paths: &Paths) -> anyhow::Result<ExitCode> {
    let DemoCommand::Seed(args) = command;
    let world =
        Arc::new(SeedWorld::load(settings, &paths.config).map_err(|e| anyhow::anyhow!("{e}"))?);
    let store = open_store(&paths.data)?;
    let options = SeedOptions {
        tickets: args.tickets,
        seed: args.seed,
        until: args.until.unwrap_or_else(clock::today),
        days: args.days,
        surges: args.surges,
    };
    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(args.tickets as u64);
    let runtime = tokio::runtime::Runtime::new().context("failed to start the runtime")?;
    let summary = runtime.block_on(seed(&store, world, &options, |n| {
        bar.set_position(n as u64)
    }))?;
    bar.finish_and_clear();
    store.close().map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "seeded {} tickets ({}–{}), {} conversations in {:.1} s",
        summary.tickets,
        summary.first.map(|n| n.to_string()).unwrap_or_default(),
        summary.last.map(|n| n.to_string()).unwrap_or_default(),
        summary.conversations,
        started.elapsed().as_secs_f64()
    );
    for s in &summary.surges {
        let numbers: Vec<String> = s.tickets.iter().map(|n| n.to_string()).collect();
        println!(
            "planted surge: {} {}{} — {}",
            s.matter,
            s.district,
            s.street,
            numbers.join(" ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
