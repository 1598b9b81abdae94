//! `hotline report rates`: the rates (考评) from the store, as a table or CSV; and
//! `hotline report daily|weekly|monthly`: the analysis report (see `governance`).

use std::process::ExitCode;

use clap::Subcommand;

use hotline::app::{Paths, open_store_with};
use hotline::clock;
use hotline::config::Settings;
use hotline::rates::{self, GroupBy, Period};
use hotline::units::Units;

#[derive(Subcommand)]
pub enum ReportCommand {
    /// 响应率, 解决率, 满意率 and the other rates of the tickets received in a period.
    Rates {
        /// First day, YYYY-MM-DD (city time).
        #[arg(long)]
        from: String,
        /// Last day, included.
        #[arg(long)]
        to: String,
        /// One row per unit, district or category.
        #[arg(long, default_value = "unit", value_parser = ["unit", "district", "category"])]
        by: String,
        /// CSV instead of a table.
        #[arg(long)]
        csv: bool,
    },
    /// The daily analysis report as one HTML file (with Markdown and CSV if asked).
    Daily(hotline::governance::cli::ReportFiles),
    /// The weekly analysis report: `hotline report weekly --out report.html`.
    Weekly(hotline::governance::cli::ReportFiles),
    /// The monthly analysis report.
    Monthly(hotline::governance::cli::ReportFiles),
}

pub fn report(
    command: ReportCommand,
    settings: &Settings,
    paths: &Paths,
) -> anyhow::Result<ExitCode> {
    use hotline::governance::cli::ReportArgs;
    use hotline::governance::report::PeriodKind;
    let analysis =
        |kind, files| hotline::governance::cli::report(ReportArgs { kind, files }, settings, paths);
    let (from, to, by, csv) = match command {
        ReportCommand::Rates { from, to, by, csv } => (from, to, by, csv),
        ReportCommand::Daily(files) => return analysis(PeriodKind::Daily, files),
        ReportCommand::Weekly(files) => return analysis(PeriodKind::Weekly, files),
        ReportCommand::Monthly(files) => return analysis(PeriodKind::Monthly, files),
    };
    let period = Period::parse(&from, &to)?;
    let by = GroupBy::parse(&by).unwrap_or_default();
    let units = Units::load(&paths.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Like `tickets list`: a running server holds the store; the error says so and points at
    // the admin endpoint.
    let store = open_store_with(&paths.data, settings)?;
    let report =
        hotline::governance::rates_report(&store, period, by, &settings.rates, clock::now())?;
    let name = |id: &str| {
        units
            .get(id)
            .map(|u| u.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    if csv {
        print!("{}", rates::to_csv(&report, &name)?);
    } else {
        println!("{}", rates::to_table(&report, &name));
    }
    Ok(ExitCode::SUCCESS)
}
