//! `POST /hooks/sms/{provider}`: the SMS providers' inbound webhooks.
//!
//! Answers: 200 in the provider's own acknowledgement once every message of the call is on disk
//! (a rate-limited or repeated message too: the provider must not retry it); 400 `{code,message}`
//! for a payload that is not the provider's; 403 for a bad signature or token, logged without
//! the number or the text; 413 over the body limit; 404 for a provider not configured; 500 when
//! the store fails (the provider retries, and the retry changes nothing that was done). Nothing
//! is stored for a 4xx.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::channels::sms::provider::{InboundError, WebhookRequest};

pub async fn webhook(
    State(state): State<AppState>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(provider) = state.sms.provider(&name) else {
        let configured = state.sms.provider_names();
        return Err(ApiError::not_found(
            "sms_provider_not_configured",
            format!(
                "no SMS provider `{name}` is configured here (configured: {}); see README.md, \
                 \"Connect a real SMS account\"",
                if configured.is_empty() {
                    "none".to_string()
                } else {
                    configured.join(", ")
                }
            ),
        ));
    };
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is over the server's limit (server.body_limit_bytes)",
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_payload",
            format!(
                "the request body could not be read: {}",
                rejection.body_text()
            ),
        ),
    })?;
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_else(|| uri.path());
    let request = WebhookRequest {
        path_and_query,
        query: uri.query(),
        headers: &headers,
        body: &body,
    };
    let messages = provider.parse(&request).map_err(|e| match e {
        InboundError::BadSignature => {
            tracing::warn!(
                provider = provider.name(),
                "sms webhook refused: bad or missing signature"
            );
            ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_signature",
                "the request's signature (or callback token) does not match this gateway's \
                 configuration",
            )
        }
        InboundError::Malformed(reason) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_payload", reason)
        }
    })?;
    for message in messages {
        state.sms.receive(message).await?;
    }
    let ack = provider.acknowledgement();
    Ok(([(header::CONTENT_TYPE, ack.content_type)], ack.body).into_response())
}
