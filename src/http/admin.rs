//! Admin endpoints: knowledge-base reload.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;

#[derive(Serialize)]
pub struct Rejected {
    file: String,
    line: usize,
    message: String,
}

#[derive(Serialize)]
pub struct Reloaded {
    articles: usize,
    rejected: Vec<Rejected>,
}

/// Re-reads knowledge/ and swaps the new index in atomically; broken articles are listed and
/// left out while the rest serve.
pub async fn reload_kb(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Reloaded>, ApiError> {
    caller.require_admin()?;
    let snapshot = state.kb.reload().await.map_err(ApiError::internal)?;
    for r in snapshot.rejected() {
        tracing::warn!(rejected = %r, "article rejected on reload");
    }
    Ok(Json(Reloaded {
        articles: snapshot.articles().len(),
        rejected: snapshot
            .rejected()
            .iter()
            .map(|r| Rejected {
                file: r.file.clone(),
                line: r.line,
                message: r.message.clone(),
            })
            .collect(),
    }))
}
