//! The `hotline` binary: a switchboard from subcommands to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use hotline::app::{Application, Paths, shutdown_signal};
use hotline::config::{LogFormat, Settings};

/// mimalloc: the chat path spends about a third of its instructions in malloc/free (callgrind),
/// and glibc's allocator contends across tokio's worker threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod ops_cli;

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "12345 citizen service hotline gateway (接诉即办)"
)]
struct Cli {
    /// Folder with the store (sled database).
    #[arg(long, global = true, default_value = "data", env = "HOTLINE_DATA")]
    data: PathBuf,
    /// Folder with hotline.toml and the other settings.
    #[arg(long, global = true, default_value = "config", env = "HOTLINE_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web chat API and pages until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on (overrides server.listen).
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Knowledge base tools.
    #[command(subcommand)]
    Kb(cli::KbCommand),
    /// Tickets in the store.
    #[command(subcommand)]
    Tickets(cli::TicketsCommand),
    /// Classify messages (JSON lines on stdin), measure with --eval, or retrain with `train`.
    Classify(hotline::classify::cli::ClassifyArgs),
    /// Talk to the engine in the terminal (for knowledge editors and trying things out).
    Chat,
    /// Handling units and their access tokens.
    #[command(subcommand)]
    Units(cli::UnitsCommand),
    /// Access tokens for operators and admins.
    #[command(subcommand)]
    Tokens(cli::TokensCommand),
    /// Reports: the rates (考评) per unit, district or category; the daily, weekly and monthly
    /// analysis report as one HTML file, with Markdown and CSV.
    #[command(subcommand)]
    Report(cli::report::ReportCommand),
    /// Demo data: `demo seed` fills a store with realistic synthetic tickets.
    #[command(subcommand)]
    Demo(hotline::governance::cli::DemoCommand),
    /// Write a consistent backup of the store (from a running server with --server).
    Backup(ops_cli::BackupArgs),
    /// Restore a backup into an empty --data folder (with no server running).
    Restore(ops_cli::RestoreArgs),
}

fn main() -> ExitCode {
    hotline::allocator::tune();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings =
        Settings::load(&cli.config, std::env::vars()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let paths = Paths {
        data: cli.data,
        config: cli.config,
    };
    match cli.command {
        Command::Serve { listen } => {
            init_logging(&settings);
            serve(settings, paths, listen)
        }
        Command::Kb(command) => cli::kb(command, &settings, &paths),
        Command::Tickets(command) => cli::tickets(command, &paths),
        Command::Classify(args) => hotline::classify::cli::run(args, &settings.knowledge.dir),
        Command::Units(command) => cli::units(command, &paths),
        Command::Chat => cli::chat(&settings, &paths),
        Command::Tokens(command) => cli::tokens(command, &paths),
        Command::Report(command) => cli::report::report(command, &settings, &paths),
        Command::Demo(command) => hotline::governance::cli::demo(command, &settings, &paths),
        Command::Backup(args) => ops_cli::backup(args, &paths),
        Command::Restore(args) => ops_cli::restore(args, &paths),
    }
}

fn serve(
    mut settings: Settings,
    paths: Paths,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    if let Some(addr) = listen {
        settings.server.listen = addr;
    }
    let runtime = tokio::runtime::Runtime::new().context("failed to start the runtime")?;
    runtime.block_on(async {
        let app = Application::build(settings, &paths).await?;
        app.run_until(shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match settings.log.format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
