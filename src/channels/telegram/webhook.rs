//! The webhook Telegram calls: `POST {telegram.webhook_path}` on our own server.
//!
//! Checks, in order: the `X-Telegram-Bot-Api-Secret-Token` header (constant-time; 403 and a log
//! line without the body), the body size (413 over `server.body_limit_bytes`), the JSON (400).
//! Nothing is stored for a rejected request. A good update is handled, its replies sent, and
//! answered 200; a store failure answers 500 so Telegram retries it later.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use subtle::ConstantTimeEq;

use super::{Telegram, TelegramMode};
use crate::http::AppState;
use crate::http::error::ApiError;

pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The webhook route, when Telegram is enabled in webhook mode.
pub fn routes(telegram: Option<&Arc<Telegram>>) -> Router<AppState> {
    match telegram {
        Some(t) if t.settings().mode == TelegramMode::Webhook => {
            Router::new().route(&t.settings().webhook_path, post(webhook))
        }
        _ => Router::new(),
    }
}

impl Telegram {
    /// Whether the header holds the configured secret; compared in constant time.
    fn secret_matches(&self, headers: &HeaderMap) -> bool {
        let (Some(expected), Some(given)) =
            (&self.settings.webhook_secret, headers.get(SECRET_HEADER))
        else {
            return false;
        };
        bool::from(expected.expose().as_bytes().ct_eq(given.as_bytes()))
    }
}

/// The webhook's body as a Telegram `Update` (the fuzz target `webhooks` drives it).
pub fn parse_update(body: &[u8]) -> Result<teloxide::types::Update, serde_json::Error> {
    serde_json::from_slice(body)
}

async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(telegram) = state.telegram.as_ref() else {
        return ApiError::not_found("not_found", "Telegram is not enabled").into_response();
    };
    if !telegram.secret_matches(&headers) {
        tracing::warn!(
            header_present = headers.contains_key(SECRET_HEADER),
            "telegram webhook rejected: missing or wrong secret token"
        );
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "bad_secret_token",
            "the X-Telegram-Bot-Api-Secret-Token header is missing or wrong",
        )
        .into_response();
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "the update is larger than server.body_limit_bytes",
            )
            .into_response();
        }
        Err(rejection) => {
            return ApiError::new(rejection.status(), "unreadable_body", rejection.body_text())
                .into_response();
        }
    };
    let update = match parse_update(&body) {
        Ok(update) => update,
        Err(e) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_update",
                format!("the body is not a Telegram Update: {e}"),
            )
            .into_response();
        }
    };
    match telegram.handle_update(update).await {
        Ok(()) => (
            StatusCode::OK,
            axum::Json(serde_json::json!({ "ok": true })),
        )
            .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}
