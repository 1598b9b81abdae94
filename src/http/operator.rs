//! The operators' API: the queue, dispatch, decisions on objections and extensions, merge,
//! escalation, reminders.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson};
use super::tickets_view::{TicketView, Viewer, view};
use super::units::{TextBody, ticket_number};
use crate::clock;
use crate::domain::lifecycle::{Actor, TicketAction};
use crate::domain::{Ticket, UnitId};

fn operator(caller: &Caller) -> Result<Actor, ApiError> {
    caller.require_operator()?;
    Ok(Actor::Operator(caller.0.id.clone()))
}

fn render(state: &AppState, ticket: &Ticket) -> Json<TicketView> {
    Json(view(
        ticket,
        Viewer::Operator,
        state.service.units(),
        clock::now(),
    ))
}

/// `GET /api/operator/queue[?limit=&after=|&offset=]`: a page of the queue, overdue first; the length
/// of the whole queue in `X-Total-Count`, the next page's cursor in `X-Next-Cursor`.
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    query: RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    operator(&caller)?;
    let page = super::paging::page_of(&query)?;
    let now = clock::now();
    let units = state.service.units();
    let listed = state.service.queue(page)?;
    let views: Vec<TicketView> = listed
        .tickets
        .iter()
        .map(|t| view(t, Viewer::Operator, units, now))
        .collect();
    let headers = super::paging::page_headers("/api/operator/queue", &page, &listed);
    Ok((headers, Json(views)))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    operator(&caller)?;
    let ticket = state.service.get(ticket_number(&number)?)?;
    Ok(render(&state, &ticket))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchBody {
    pub lead: String,
    #[serde(default)]
    pub co_handlers: Vec<String>,
}

/// Dispatch a waiting ticket, or re-dispatch one whose objection is upheld (改派).
pub async fn dispatch(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<DispatchBody>,
) -> Result<Json<TicketView>, ApiError> {
    let actor = operator(&caller)?;
    let ticket = state
        .service
        .dispatch(
            ticket_number(&number)?,
            UnitId::new(body.lead),
            body.co_handlers.into_iter().map(UnitId::new).collect(),
            &actor,
            clock::now(),
        )
        .await?;
    Ok(render(&state, &ticket))
}

async fn act(
    state: &AppState,
    caller: &Caller,
    number: &str,
    action: TicketAction,
) -> Result<Json<TicketView>, ApiError> {
    let actor = operator(caller)?;
    let ticket = state
        .service
        .act(ticket_number(number)?, action, &actor, clock::now())
        .await?;
    Ok(render(state, &ticket))
}

pub async fn approve_extension(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    act(&state, &caller, &number, TicketAction::ApproveExtension).await
}

pub async fn refuse_extension(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    act(
        &state,
        &caller,
        &number,
        TicketAction::RefuseExtension { note: body.text },
    )
    .await
}

pub async fn reject_objection(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    act(
        &state,
        &caller,
        &number,
        TicketAction::RejectObjection { note: body.text },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeBody {
    pub into: String,
}

pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<MergeBody>,
) -> Result<Json<TicketView>, ApiError> {
    let into = ticket_number(&body.into)?;
    act(
        &state,
        &caller,
        &number,
        TicketAction::MergeInto { number: into },
    )
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalateBody {
    pub coordinator: String,
    pub reason: String,
}

pub async fn escalate(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<EscalateBody>,
) -> Result<Json<TicketView>, ApiError> {
    if !state.service.units().contains(&body.coordinator) {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid",
            format!("unknown unit `{}`", body.coordinator),
        ));
    }
    let action = TicketAction::Escalate {
        coordinator: UnitId::new(body.coordinator),
        reason: body.reason,
    };
    act(&state, &caller, &number, action).await
}

pub async fn remind(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    act(
        &state,
        &caller,
        &number,
        TicketAction::Remind { note: body.text },
    )
    .await
}

pub async fn supervise(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    act(
        &state,
        &caller,
        &number,
        TicketAction::Supervise { note: body.text },
    )
    .await
}
