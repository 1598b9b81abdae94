//! `/metrics` (Prometheus text) and `/readyz` (may this instance get traffic now?).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;
use super::error::ApiError;

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let telemetry = state.telemetry.clone();
    let body = tokio::task::spawn_blocking(move || telemetry.render(crate::clock::now()))
        .await
        .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let stopping = *state.stopping.borrow();
    match state.telemetry.not_ready(&state.kb, stopping) {
        None => Ok(Json(json!({ "status": "ready" }))),
        Some(reason) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            reason,
        )),
    }
}
