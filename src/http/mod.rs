//! HTTP: the router, shared state, and the layers every request passes (body limit, timeout,
//! tracing). Handlers are thin: they parse, call the engine, render.

mod admin;
pub mod auth;
mod chat;
pub mod error;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::json;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::Settings;
use crate::engine::Engine;
use crate::kb::KnowledgeBase;
use crate::store::TokenStore;
use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub kb: Arc<KnowledgeBase>,
    pub tokens: Arc<dyn TokenStore>,
}

pub fn router(state: AppState, settings: &Settings) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/chat/sessions", post(chat::create_session))
        .route(
            "/api/chat/sessions/{id}/messages",
            post(chat::post_message).get(chat::history),
        )
        .route("/api/admin/kb/reload", post(admin::reload_kb))
        .merge(web::routes(settings))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(settings.server.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.server.request_timeout_secs),
        ))
        .layer(web::cors(settings))
        .layer(TraceLayer::new_for_http())
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such endpoint; see README.md for the API")
}
