//! HTTP: the router, shared state, and the layers every request passes (body limit, timeout,
//! tracing). Handlers are thin: they parse, call the engine, render.

mod admin;
pub mod auth;
mod backup;
mod callback_view;
mod channel_api;
mod chat;
pub mod error;
mod governance;
pub mod headers;
pub mod inbound;
pub mod interop;
pub mod limits;
mod observe;
mod open311;
mod openapi;
mod operator;
mod paging;
mod reports;
pub mod serve;
mod sms;
pub mod tickets_view;
mod units;
mod web;
mod webhook_log;

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
    /// The engine as platform channels reach it: chat mapping, idempotency, proven phones.
    pub gateway: Arc<crate::channels::Gateway>,
    pub kb: Arc<KnowledgeBase>,
    pub tokens: Arc<dyn TokenStore>,
    pub service: Arc<crate::tickets::TicketService>,
    pub hub: crate::tickets::outbox::LiveHub,
    /// The SMS channel: providers' webhooks.
    pub sms: Arc<crate::channels::sms::SmsChannel>,
    /// Becomes true when the server begins to shut down.
    pub stopping: tokio::sync::watch::Receiver<bool>,
    /// Open311, the generic channel API and webhook logs.
    pub interop: Arc<interop::InteropState>,
    /// The Telegram channel, when enabled.
    pub telegram: Option<Arc<crate::channels::telegram::Telegram>>,
    /// Hotspot detection, clusters (类案) and the analysis behind the dashboard.
    pub governance: Arc<crate::governance::live::HotspotMonitor>,
    /// What `/metrics` and `/readyz` report.
    pub telemetry: Arc<crate::telemetry::Telemetry>,
    /// The store itself, for `POST /api/admin/backup`.
    pub store: Arc<crate::store::SledStore>,
}

pub fn router(state: AppState, settings: &Settings) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(observe::readyz))
        .route("/metrics", get(observe::metrics))
        .route("/openapi.yaml", get(openapi::document))
        .route("/api/chat/sessions", post(chat::create_session))
        .route(
            "/api/chat/sessions/{id}/messages",
            post(chat::post_message).get(chat::history),
        )
        .route("/api/chat/sessions/{id}/events", get(chat::events))
        .route("/api/admin/kb/reload", post(admin::reload_kb))
        .route("/api/admin/reports/rates", get(reports::rates))
        .route("/api/admin/backup", post(backup::backup))
        .route("/api/units/tickets", get(units::list))
        .route("/api/units/tickets/{number}", get(units::show))
        .route("/api/units/tickets/{number}/sign", post(units::sign))
        .route(
            "/api/units/tickets/{number}/progress",
            post(units::progress),
        )
        .route("/api/units/tickets/{number}/reply", post(units::reply))
        .route("/api/units/tickets/{number}/close", post(units::close))
        .route("/api/units/tickets/{number}/objection", post(units::object))
        .route(
            "/api/units/tickets/{number}/extension",
            post(units::extension),
        )
        .route("/api/operator/queue", get(operator::queue))
        .route("/api/operator/tickets/{number}", get(operator::show))
        .route(
            "/api/operator/tickets/{number}/dispatch",
            post(operator::dispatch),
        )
        .route(
            "/api/operator/tickets/{number}/extension/approve",
            post(operator::approve_extension),
        )
        .route(
            "/api/operator/tickets/{number}/extension/refuse",
            post(operator::refuse_extension),
        )
        .route(
            "/api/operator/tickets/{number}/objection/reject",
            post(operator::reject_objection),
        )
        .route(
            "/api/operator/tickets/{number}/merge",
            post(operator::merge),
        )
        .route(
            "/api/operator/tickets/{number}/escalate",
            post(operator::escalate),
        )
        .route(
            "/api/operator/tickets/{number}/remind",
            post(operator::remind),
        )
        .route(
            "/api/operator/tickets/{number}/supervise",
            post(operator::supervise),
        )
        .merge(interop::routes())
        .route("/hooks/sms/{provider}", post(sms::webhook))
        .route(
            "/api/chat/sessions/{id}/verify-phone",
            post(sms::verify_phone),
        )
        .route(
            "/api/chat/sessions/{id}/verify-phone/confirm",
            post(sms::confirm_phone),
        )
        .route("/api/operator/hotspots", get(governance::hotspots))
        .route("/api/operator/clusters/{id}", get(governance::cluster))
        .route(
            "/api/operator/clusters/{id}/dispatch",
            post(governance::dispatch_cluster),
        )
        .route("/api/admin/dashboard", get(governance::dashboard))
        .merge(web::routes(settings))
        .merge(crate::channels::telegram::webhook::routes(
            state.telegram.as_ref(),
        ))
        .fallback(not_found)
        .with_state(state)
        .layer(DefaultBodyLimit::max(settings.server.body_limit_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(settings.server.request_timeout_secs),
        ))
        .layer(web::cors(settings))
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::new(limits::Limits::new(&settings.limits)),
            limits::enforce,
        ))
        .layer(axum::middleware::from_fn(crate::telemetry::track_requests))
        .layer(headers::defaults())
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such endpoint; see README.md for the API")
}
