//! `hotline backup` and `hotline restore`.
//!
//! While `serve` runs it holds the store's lock, so a backup is asked of the server
//! (`--server URL`, admin token from `HOTLINE_ADMIN_TOKEN`), which makes it between two batches
//! of writes and streams it back; with no server running, the command opens the store itself.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use hotline::app::{Paths, open_store};
use hotline::store::{restore_backup, verify_backup};

#[derive(Args)]
pub struct BackupArgs {
    /// The backup file to write (replaced only once the new one is complete).
    #[arg(long)]
    out: PathBuf,
    /// A running server's base URL (http://127.0.0.1:8080); without it the store is opened
    /// directly, which works only while no server runs.
    #[arg(long)]
    server: Option<String>,
    /// An admin token (`hotline tokens create --role admin`), for --server.
    #[arg(long, env = "HOTLINE_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A file written by `hotline backup`.
    file: PathBuf,
}

pub fn backup(args: BackupArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new().context("failed to start the runtime")?;
    let (entries, bytes) = match &args.server {
        Some(server) => {
            let token = args.token.as_deref().context(
                "--server needs an admin token: set HOTLINE_ADMIN_TOKEN or pass --token",
            )?;
            runtime.block_on(download(server, token, &args.out))?
        }
        None => {
            let store = open_store(&paths.data).context(
                "cannot open the store; if `hotline serve` is running, add --server URL",
            )?;
            let summary = runtime
                .block_on(store.backup_to(args.out.clone()))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store.close().map_err(|e| anyhow::anyhow!("{e}"))?;
            (summary.entries, summary.bytes)
        }
    };
    println!(
        "backup written to {}: {entries} entries, {bytes} bytes",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Streams the server's backup into `out.partial`, then renames it.
async fn download(server: &str, token: &str, out: &Path) -> anyhow::Result<(u64, u64)> {
    let url = format!("{}/api/admin/backup", server.trim_end_matches('/'));
    let mut response = reqwest::Client::new()
        .post(&url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("failed to reach {url}"))?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        anyhow::bail!("{url} answered {status}: {body}");
    }
    let entries = response
        .headers()
        .get("x-hotline-backup-entries")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let mut file = std::fs::File::create(&partial)
        .with_context(|| format!("failed to create {}", partial.display()))?;
    let mut bytes = 0u64;
    while let Some(chunk) = response
        .chunk()
        .await
        .context("the backup download broke off")?
    {
        file.write_all(&chunk)
            .with_context(|| format!("failed to write {}", partial.display()))?;
        bytes += chunk.len() as u64;
    }
    file.sync_all()
        .with_context(|| format!("failed to write {}", partial.display()))?;
    verify_backup(&partial).map_err(|e| anyhow::anyhow!("the downloaded backup is broken: {e}"))?;
    std::fs::rename(&partial, out).with_context(|| format!("failed to write {}", out.display()))?;
    Ok((entries, bytes))
}

pub fn restore(args: RestoreArgs, paths: &Paths) -> anyhow::Result<ExitCode> {
    let summary = restore_backup(&args.file, &paths.data).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "restored {} entries in {} trees into {}",
        summary.entries,
        summary.trees,
        paths.data.display()
    );
    Ok(ExitCode::SUCCESS)
}
