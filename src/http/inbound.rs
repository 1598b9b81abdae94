//! The parsers of outside input behind the HTTP endpoints, callable on raw bytes: the same
//! functions the handlers use, exposed for the fuzz targets (`fuzz/fuzz_targets/webhooks.rs`).
//! Each returns the error the client would get; none may panic, whatever the bytes.

use axum::Json;

use super::channel_api::{MessageIn, check_message};
use super::error::ApiError;
use super::units::{ExtensionBody, TextBody, extension_request, non_empty};
use crate::engine::Engine;

pub use super::open311::parse_request as open311_request;

/// `POST /api/channel/v1/messages`: the JSON body, then its ids and text.
pub fn channel_message(engine: &Engine, body: &[u8]) -> Result<(), ApiError> {
    let Json(message) = Json::<MessageIn>::from_bytes(body)?;
    check_message(engine, &message)
}

/// A unit's status push with a text (`progress`, `reply`, `close`, `object`).
pub fn unit_text(body: &[u8]) -> Result<String, ApiError> {
    let Json(body) = Json::<TextBody>::from_bytes(body)?;
    non_empty(body.text, "text")
}

/// A unit's extension request: a reason and an RFC 3339 deadline.
pub fn unit_extension(body: &[u8]) -> Result<(String, jiff::Timestamp), ApiError> {
    let Json(body) = Json::<ExtensionBody>::from_bytes(body)?;
    extension_request(body)
}
