//! The handling units' API: a unit sees and acts on its own tickets only.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::IntoResponse;
use jiff::Timestamp;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, forbidden};
use super::error::{ApiError, ApiJson};
use super::tickets_view::{TicketView, Viewer, view};
use crate::auth::Role;
use crate::clock;
use crate::domain::lifecycle::{Actor, TicketAction};
use crate::domain::{TicketNumber, UnitId};

pub fn ticket_number(raw: &str) -> Result<TicketNumber, ApiError> {
    TicketNumber::parse(raw).ok_or_else(|| {
        ApiError::not_found(
            "unknown_ticket",
            format!("`{raw}` is not a ticket number (digits with a check digit)"),
        )
    })
}

fn unit_of(caller: &Caller) -> Result<UnitId, ApiError> {
    match caller.role() {
        Role::Unit(id) => Ok(UnitId::new(id.clone())),
        _ => Err(forbidden(
            "this endpoint is for handling units; use a unit token",
        )),
    }
}

/// `GET /api/units/tickets[?limit=&after=|&offset=]`: a page of the unit's tickets, overdue first; the
/// length of the whole list in `X-Total-Count`, the next page's cursor in `X-Next-Cursor`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let unit = unit_of(&caller)?;
    let page = super::paging::page_of(&query)?;
    let now = clock::now();
    let listed = state.service.list_for_unit(&unit, page)?;
    let units = state.service.units();
    let views: Vec<TicketView> = listed
        .tickets
        .iter()
        .map(|t| view(t, Viewer::Unit(&unit), units, now))
        .collect();
    let headers = super::paging::page_headers("/api/units/tickets", &page, &listed);
    Ok((headers, Json(views)))
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    let unit = unit_of(&caller)?;
    let ticket = state.service.get_for_unit(ticket_number(&number)?, &unit)?;
    Ok(Json(view(
        &ticket,
        Viewer::Unit(&unit),
        state.service.units(),
        clock::now(),
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBody {
    #[serde(alias = "note", alias = "reason")]
    pub text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    pub reason: String,
    /// The new deadline asked for, RFC 3339 (e.g. 2026-12-01T18:00:00+08:00).
    pub until: String,
}

/// The reason and the new deadline of an extension request, checked.
pub(super) fn extension_request(body: ExtensionBody) -> Result<(String, Timestamp), ApiError> {
    let reason = non_empty(body.reason, "reason")?;
    let until: Timestamp = body.until.parse().map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_time",
            format!("`until` must be an RFC 3339 time such as 2026-12-01T18:00:00+08:00: {e}"),
        )
    })?;
    Ok((reason, until))
}

pub(super) fn non_empty(text: String, what: &str) -> Result<String, ApiError> {
    let t = text.trim().to_string();
    if t.is_empty() {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "empty_text",
            format!("`{what}` must not be empty"),
        ));
    }
    Ok(t)
}

async fn act(
    state: &AppState,
    caller: &Caller,
    number: &str,
    action: TicketAction,
) -> Result<Json<TicketView>, ApiError> {
    let unit = unit_of(caller)?;
    let now = clock::now();
    let ticket = state
        .service
        .act(
            ticket_number(number)?,
            action,
            &Actor::Unit(unit.clone()),
            now,
        )
        .await?;
    Ok(Json(view(
        &ticket,
        Viewer::Unit(&unit),
        state.service.units(),
        now,
    )))
}

pub async fn sign(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<TicketView>, ApiError> {
    act(&state, &caller, &number, TicketAction::Sign).await
}

pub async fn progress(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    let note = non_empty(body.text, "text")?;
    act(&state, &caller, &number, TicketAction::Progress { note }).await
}

pub async fn reply(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    let text = non_empty(body.text, "text")?;
    act(&state, &caller, &number, TicketAction::Reply { text }).await
}

pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    let text = non_empty(body.text, "text")?;
    act(&state, &caller, &number, TicketAction::Close { text }).await
}

pub async fn object(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<TextBody>,
) -> Result<Json<TicketView>, ApiError> {
    let reason = non_empty(body.text, "reason")?;
    act(&state, &caller, &number, TicketAction::Object { reason }).await
}

pub async fn extension(
    State(state): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(body): ApiJson<ExtensionBody>,
) -> Result<Json<TicketView>, ApiError> {
    let (reason, until) = extension_request(body)?;
    act(
        &state,
        &caller,
        &number,
        TicketAction::RequestExtension { reason, until },
    )
    .await
}
