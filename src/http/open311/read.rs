//! Reading requests back: `GET /open311/v2/requests.{json,xml}` with the spec's filters and
//! `GET /open311/v2/requests/{id}.{json,xml}`. Never a name or phone; no description on a 保密
//! request.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::SignedDuration;

use super::document::{GeoError, RequestView, RequestsXml, document, geo_error};
use super::{
    DEFAULT_WINDOW_DAYS, Format, MAX_REQUESTS, Params, check_jurisdiction, check_read, given,
    params, parse_time, split_format, unit_name, w3c,
};
use crate::clock;
use crate::domain::lifecycle::citizen_text;
use crate::domain::{Ticket, TicketNumber, UnitId};
use crate::http::AppState;
use crate::open311::{RequestRecord, spec_status};

pub(super) fn request_view(
    state: &AppState,
    ticket: &Ticket,
    record: &RequestRecord,
) -> RequestView {
    let name_of = |u: &UnitId| unit_name(state, u);
    let last = ticket.events.last();
    RequestView {
        service_request_id: ticket.number.to_string(),
        status: spec_status(ticket.status),
        status_notes: last.map(|e| status_notes(e, name_of)),
        service_name: state
            .interop
            .catalog
            .get(&record.service_code)
            .map(|s| s.name.clone()),
        service_code: record.service_code.clone(),
        description: (!ticket.details.confidential).then(|| ticket.details.content.clone()),
        agency_responsible: ticket.handling.lead.as_ref().and_then(name_of),
        service_notice: None,
        requested_datetime: w3c(ticket.details.created_at),
        updated_datetime: w3c(last.map(|e| e.at).unwrap_or(ticket.details.created_at)),
        expected_datetime: ticket.handling.deadline.map(w3c),
        address: ticket.details.address.clone(),
        lat: record.lat,
        long: record.long,
        // Media may show who sent it: withheld on a 保密 request, as the description is.
        media_url: (!ticket.details.confidential)
            .then(|| record.media_url.clone())
            .flatten(),
    }
}

/// What the citizen was last told, with the unit's own words when it replied or closed.
pub(super) fn status_notes(
    event: &crate::domain::TicketEvent,
    unit: impl Fn(&UnitId) -> Option<String>,
) -> String {
    use crate::domain::lifecycle::TicketAction;
    let told = citizen_text(event, unit);
    match &event.action {
        Some(TicketAction::Reply { text } | TicketAction::Close { text }) => {
            format!("{told}：{text}")
        }
        _ => told,
    }
}

pub(super) fn requests_document(format: Format, views: &[RequestView]) -> Response {
    document(
        format,
        StatusCode::OK,
        &views,
        "service_requests",
        &RequestsXml { request: views },
    )
}

pub(super) fn load(
    state: &AppState,
    number: TicketNumber,
) -> Result<Option<(Ticket, RequestRecord)>, String> {
    let Some(record) = state
        .interop
        .open311
        .open311(number)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    match state.service.get(number) {
        Ok(ticket) => Ok(Some((ticket, record))),
        Err(crate::tickets::ServiceError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// `GET /open311/v2/requests/{service_request_id}.{format}`: an array of one request.
pub async fn show(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some((id, format)) = split_format(&file) else {
        return geo_error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "ask for requests/{service_request_id}.json or .xml",
        )
        .into_response();
    };
    let p = params(q.unwrap_or_default().as_bytes());
    if let Err(e) = check_read(&state, &p, &headers, format)
        .and_then(|()| check_jurisdiction(&state, &p, format))
    {
        return e.into_response();
    }
    let not_found = || {
        geo_error(
            format,
            StatusCode::NOT_FOUND,
            format!("service_request_id `{id}` not found"),
        )
        .into_response()
    };
    let Some(number) = TicketNumber::parse(id) else {
        return not_found();
    };
    match load(&state, number) {
        Ok(Some((ticket, record))) => {
            requests_document(format, &[request_view(&state, &ticket, &record)])
        }
        Ok(None) => not_found(),
        Err(e) => geo_error(format, StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

pub async fn list_json(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    list(&state, q, &headers, Format::Json).unwrap_or_else(IntoResponse::into_response)
}

pub async fn list_xml(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    list(&state, q, &headers, Format::Xml).unwrap_or_else(IntoResponse::into_response)
}

pub(super) fn comma_list(p: &Params, key: &str) -> Option<Vec<String>> {
    given(p, key).map(|v| {
        v.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect()
    })
}

/// `GET /open311/v2/requests.{format}` with the spec's filters: `service_request_id` (a comma
/// list; the other filters are then ignored), `service_code`, `start_date`, `end_date` (90 days
/// by default), `status` (open, closed). Newest first, at most 1000.
pub(super) fn list(
    state: &AppState,
    query: Option<String>,
    headers: &HeaderMap,
    format: Format,
) -> Result<Response, GeoError> {
    let p = params(query.unwrap_or_default().as_bytes());
    check_read(state, &p, headers, format)?;
    check_jurisdiction(state, &p, format)?;
    let internal = |e: String| geo_error(format, StatusCode::INTERNAL_SERVER_ERROR, e);
    if let Some(ids) = comma_list(&p, "service_request_id") {
        let mut views = Vec::new();
        for id in ids.iter().take(MAX_REQUESTS) {
            let found = TicketNumber::parse(id)
                .map(|n| load(state, n))
                .transpose()
                .map_err(internal)?
                .flatten();
            if let Some((ticket, record)) = found {
                views.push(request_view(state, &ticket, &record));
            }
        }
        return Ok(requests_document(format, &views));
    }
    let codes = comma_list(&p, "service_code");
    let statuses = comma_list(&p, "status");
    if let Some(bad) = statuses
        .iter()
        .flatten()
        .find(|s| !matches!(s.as_str(), "open" | "closed"))
    {
        return Err(geo_error(
            format,
            StatusCode::BAD_REQUEST,
            format!("status `{bad}` must be open or closed"),
        ));
    }
    let end = parse_time(&p, "end_date", format)?;
    let start = parse_time(&p, "start_date", format)?;
    let window = SignedDuration::from_hours(24 * DEFAULT_WINDOW_DAYS);
    let start = start.unwrap_or_else(|| end.unwrap_or_else(clock::now) - window);
    let all = state
        .interop
        .open311
        .open311_all()
        .map_err(|e| internal(e.to_string()))?;
    let mut views = Vec::new();
    for (number, record) in all.iter().rev() {
        if codes
            .as_ref()
            .is_some_and(|c| !c.contains(&record.service_code))
        {
            continue;
        }
        let Some((ticket, record)) = load(state, *number).map_err(internal)? else {
            continue;
        };
        let at = ticket.details.created_at;
        if at < start || end.is_some_and(|e| at > e) {
            continue;
        }
        let status = spec_status(ticket.status);
        if statuses
            .as_ref()
            .is_some_and(|s| !s.iter().any(|x| x == status))
        {
            continue;
        }
        views.push(request_view(state, &ticket, &record));
        if views.len() >= MAX_REQUESTS {
            break;
        }
    }
    Ok(requests_document(format, &views))
}
