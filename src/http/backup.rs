//! `POST /api/admin/backup`: a consistent backup of the store, made between two batches of
//! writes by the writer thread, streamed back and then deleted from the server's disk.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;

/// Deletes the server's copy once the response is sent (or abandoned).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub async fn backup(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let stamp = crate::clock::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let dir = state.store.dir().join("backups");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let path = dir.join(format!("hotline-{stamp}-{}.backup", uuid::Uuid::now_v7()));
    let summary = state
        .store
        .backup_to(path.clone())
        .await
        .map_err(ApiError::internal)?;
    let cleanup = RemoveOnDrop(path.clone());
    let mut file = tokio::fs::File::open(&path)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(
        entries = summary.entries,
        bytes = summary.bytes,
        "backup made"
    );
    let stream = async_stream::try_stream! {
        let _cleanup = cleanup;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = file.read(&mut buffer).await?;
            if n == 0 {
                break;
            }
            yield Bytes::copy_from_slice(&buffer[..n]);
        }
    };
    let stream: std::pin::Pin<
        Box<dyn futures_core::Stream<Item = Result<Bytes, std::io::Error>> + Send>,
    > = Box::pin(stream);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"hotline-{stamp}.backup\""),
            ),
            (
                header::HeaderName::from_static("x-hotline-backup-entries"),
                summary.entries.to_string(),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
