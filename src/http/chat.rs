//! The web chat API: sessions and messages, as JSON.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::{ApiError, ApiJson};
use crate::domain::{Button, Channel, ConversationId, InboundMessage, Speaker, TicketNumber};
use crate::engine::TicketSummary;
use crate::tickets::ServiceError;

#[derive(Serialize)]
pub struct SessionCreated {
    session_id: String,
    replies: Vec<ReplyBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageRequest {
    text: String,
}

#[derive(Serialize)]
pub struct ReplyBody {
    text: String,
    buttons: Vec<Button>,
}

#[derive(Serialize)]
pub struct MessageResponse {
    replies: Vec<ReplyBody>,
    ticket: Option<TicketSummary>,
}

#[derive(Serialize)]
pub struct HistoryEntry {
    from: Speaker,
    at: String,
    text: String,
    buttons: Vec<Button>,
    /// The ticket this reply opened, joined or answered about, with its status now.
    #[serde(skip_serializing_if = "Option::is_none")]
    ticket: Option<TicketSummary>,
}

#[derive(Serialize)]
pub struct History {
    session_id: String,
    messages: Vec<HistoryEntry>,
}

pub async fn create_session(
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<SessionCreated>), ApiError> {
    let conversation = state.engine.start(Channel::Web).await?;
    let replies = conversation
        .transcript
        .iter()
        .map(|e| ReplyBody {
            text: e.text.clone(),
            buttons: e.buttons.clone(),
        })
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(SessionCreated {
            session_id: conversation.id.to_string(),
            replies,
        }),
    ))
}

fn unknown_session(raw: &str) -> ApiError {
    ApiError::not_found(
        "unknown_session",
        format!("no chat session {raw}: start a new one with POST /api/chat/sessions"),
    )
}

fn session_id(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).ok_or_else(|| unknown_session(raw))
}

pub async fn post_message(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<MessageRequest>,
) -> Result<Json<MessageResponse>, ApiError> {
    let conversation = session_id(&id)?;
    let output = state
        .engine
        .handle(InboundMessage::new(
            Channel::Web,
            conversation,
            request.text,
        ))
        .await?;
    Ok(Json(MessageResponse {
        replies: output
            .replies
            .into_iter()
            .map(|r| ReplyBody {
                text: r.text,
                buttons: r.buttons,
            })
            .collect(),
        ticket: output.ticket,
    }))
}

pub async fn history(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<History>, ApiError> {
    let id = session_id(&id)?;
    let conversation = state
        .engine
        .conversation(id)?
        .ok_or_else(|| unknown_session(&id.to_string()))?;
    let messages = conversation
        .transcript
        .into_iter()
        .map(|e| {
            Ok(HistoryEntry {
                ticket: ticket_summary(&state, e.ticket)?,
                from: e.from,
                at: e.at.to_string(),
                text: e.text,
                buttons: e.buttons,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(Json(History {
        session_id: conversation.id.to_string(),
        messages,
    }))
}

/// A transcript's ticket as it stands now; one no longer stored is left out.
fn ticket_summary(
    state: &AppState,
    number: Option<TicketNumber>,
) -> Result<Option<TicketSummary>, ApiError> {
    let Some(number) = number else {
        return Ok(None);
    };
    match state.service.get(number) {
        Ok(ticket) => Ok(Some(TicketSummary::of(&ticket))),
        Err(ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Server-sent events: replies that come later (a unit's answer, a survey), event `reply` with
/// `{"text", "buttons", "ticket"}`. The browser's EventSource reconnects by itself; the page
/// re-reads the history after a reconnect, so nothing sent meanwhile is missed.
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<
    axum::response::sse::Sse<
        impl futures_core::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
    >,
    ApiError,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let id = session_id(&id)?;
    if state.engine.conversation(id)?.is_none() {
        return Err(unknown_session(&id.to_string()));
    }
    let mut receiver = state.hub.subscribe();
    let mut stopping = state.stopping.clone();
    let stream = async_stream::stream! {
        // Sent at once so the response head goes out now, not at the first reply.
        yield Ok(Event::default().comment("connected"));
        loop {
            let next = tokio::select! {
                next = receiver.recv() => next,
                // The server is shutting down: end the stream; the browser reconnects later.
                _ = stopping.wait_for(|stop| *stop) => break,
            };
            match next {
                Ok(live) if live.conversation == id => {
                    let data = serde_json::json!({
                        "text": live.reply.text,
                        "buttons": live.reply.buttons,
                        "ticket": live.ticket,
                    });
                    yield Ok(Event::default().event("reply").data(data.to_string()));
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    yield Ok(Event::default().event("resync").data("{}"));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
