//! The generic channel API: another app (a city app, a WeChat mini-program) brings its users'
//! messages in with its integrator API key and gets the replies in the response. Later replies
//! (a unit's answer, a closure, a survey) are pushed to the integrator's callback as signed
//! webhooks and can always be pulled from `GET /api/channel/v1/users/{user}/messages?after=`.
//!
//! Idempotency is the built-in channels': the integrator's `message_id` is saved with the turn it
//! caused, so a retry is answered `200 {"duplicate": true}` and changes nothing, even after a
//! restart.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiJson};
use crate::channels::api::chat_key;
use crate::channels::{ChannelMessage, Received};
use crate::domain::{Button, Channel, OutboundReply, Speaker};
use crate::engine::TicketSummary;

/// Longest `user` and `message_id` accepted.
const MAX_ID_CHARS: usize = 128;

/// The integrator behind a request's `Authorization: Bearer <API key>`.
pub struct IntegratorCaller(pub String);

impl axum::extract::FromRequestParts<AppState> for IntegratorCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "send `Authorization: Bearer <integrator API key>`",
                )
            })?;
        Ok(IntegratorCaller(state.interop.integrator_of(state, key)?))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageIn {
    /// The integrator's id for its user; replies to this user carry it back.
    pub user: String,
    /// The integrator's id for this message: a retry must carry the same one.
    pub message_id: String,
    pub text: String,
}

#[derive(Serialize)]
pub struct MessageOut {
    pub user: String,
    pub message_id: String,
    /// This `message_id` was handled before: nothing changed, no replies.
    pub duplicate: bool,
    pub replies: Vec<OutboundReply>,
    pub ticket: Option<TicketSummary>,
}

fn check_id(value: &str, field: &str) -> Result<(), ApiError> {
    let n = value.chars().count();
    if value.trim().is_empty() || n > MAX_ID_CHARS || value.chars().any(char::is_control) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_id",
            format!("`{field}` must be 1 to {MAX_ID_CHARS} printable characters"),
        ));
    }
    Ok(())
}

/// Everything checked about a posted message before it reaches the gateway.
pub(super) fn check_message(
    engine: &crate::engine::Engine,
    message: &MessageIn,
) -> Result<(), ApiError> {
    check_id(&message.user, "user")?;
    check_id(&message.message_id, "message_id")?;
    engine.validate(&message.text)?;
    Ok(())
}

pub async fn post_message(
    State(state): State<AppState>,
    caller: IntegratorCaller,
    body: Result<ApiJson<MessageIn>, ApiError>,
) -> Result<Response, ApiError> {
    let ApiJson(body) = body?;
    check_message(&state.engine, &body)?;
    if let Err(wait) = state.interop.take(&caller.0) {
        return Ok(super::interop::too_many_requests(wait));
    }
    let received = state
        .gateway
        .receive(ChannelMessage {
            channel: Channel::Api,
            chat: chat_key(&caller.0, &body.user),
            message_id: body.message_id.clone(),
            text: body.text,
            proven_phone: None,
        })
        .await?;
    let (duplicate, replies, ticket) = match received {
        Received::Handled { output, .. } => (false, output.replies, output.ticket),
        Received::Duplicate { .. } => (true, Vec::new(), None),
    };
    Ok(Json(MessageOut {
        user: body.user,
        message_id: body.message_id,
        duplicate,
        replies,
        ticket,
    })
    .into_response())
}

#[derive(Deserialize)]
pub struct After {
    /// Only messages with a larger `id` (the last `id` seen); 0 or absent: all kept.
    #[serde(default)]
    pub after: u64,
}

#[derive(Serialize)]
pub struct LaterMessage {
    /// Increasing; pass the last one seen as `after`.
    pub id: u64,
    pub text: String,
    pub buttons: Vec<Button>,
    pub at: jiff::Timestamp,
}

#[derive(Serialize)]
pub struct LaterMessages {
    pub user: String,
    pub messages: Vec<LaterMessage>,
}

/// Replies that left after the request that caused them (a unit's answer, a closure, a survey).
pub async fn later_messages(
    State(state): State<AppState>,
    caller: IntegratorCaller,
    Path(user): Path<String>,
    Query(after): Query<After>,
) -> Result<Response, ApiError> {
    if let Err(wait) = state.interop.take_read(&caller.0) {
        return Ok(super::interop::too_many_requests(wait));
    }
    let unknown = || {
        ApiError::not_found(
            "unknown_user",
            format!("no messages from user `{user}` through this integrator"),
        )
    };
    let id = state
        .interop
        .chats
        .chat_conversation(Channel::Api, &chat_key(&caller.0, &user))
        .map_err(ApiError::internal)?
        .ok_or_else(unknown)?;
    let conversation = state
        .interop
        .conversations
        .get(id)
        .map_err(ApiError::internal)?
        .ok_or_else(unknown)?;
    let messages = conversation
        .transcript
        .into_iter()
        .filter(|e| e.from == Speaker::Hotline)
        .filter_map(|e| {
            let id = e.outbox_id?;
            (id > after.after).then_some(LaterMessage {
                id,
                text: e.text,
                buttons: e.buttons,
                at: e.at,
            })
        })
        .collect();
    Ok(Json(LaterMessages { user, messages }).into_response())
}
