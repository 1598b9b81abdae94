//! `POST /open311/v2/requests.{json,xml}`: a form-encoded request with an integrator's API key
//! becomes a ticket through the same path as the chat intake.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::document::{Created, GeoError, RequestsXml, document, geo_error, geo_rate_limited};
use super::{Format, NO_ACCOUNT, Params, check_jurisdiction, ext, given, params, unit_name};
use crate::channels::api::chat_key;
use crate::clock;
use crate::domain::{Channel, NewTicket, Ticket};
use crate::engine::{Engine, extract};
use crate::http::AppState;
use crate::http::interop::InteropState;
use crate::open311::{RequestRecord, Service};

pub async fn create_json(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    create(&state, q, &headers, body, Format::Json)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

pub async fn create_xml(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    create(&state, q, &headers, body, Format::Xml)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

/// The API key from the form's `api_key`, the query's, or `Authorization: Bearer`.
pub(super) fn api_key<'a>(
    p: &'a Params,
    query: &'a Params,
    headers: &'a HeaderMap,
) -> Option<&'a str> {
    given(p, "api_key")
        .or_else(|| given(query, "api_key"))
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
}

pub(super) async fn create(
    state: &AppState,
    query: Option<String>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    format: Format,
) -> Result<Response, GeoError> {
    let bad = |m: String| geo_error(format, StatusCode::BAD_REQUEST, m);
    let body = body.map_err(|r| {
        let status = r.status();
        geo_error(
            format,
            status,
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                "the request body is too large".to_string()
            } else {
                r.body_text()
            },
        )
    })?;
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        && !ct.starts_with("application/x-www-form-urlencoded")
    {
        return Err(bad(format!(
            "send the request as application/x-www-form-urlencoded (got `{ct}`); media goes by media_url"
        )));
    }
    let p = params(&body);
    let q = params(query.unwrap_or_default().as_bytes());
    let key = api_key(&p, &q, headers).ok_or_else(|| {
        geo_error(
            format,
            StatusCode::FORBIDDEN,
            "api_key is required to post a service request",
        )
    })?;
    let integrator = state
        .interop
        .integrator_of(state, key)
        .map_err(|e| geo_error(format, StatusCode::FORBIDDEN, e.message()))?;
    check_jurisdiction(state, &p, format)?;
    let draft = RequestDraft::parse(&state.engine, &state.interop, &p, format)?;
    let request_key =
        idempotency_key(headers).map_err(|m| geo_error(format, StatusCode::BAD_REQUEST, m))?;
    if let Err(wait) = state.interop.take(&integrator) {
        return Err(geo_rate_limited(
            format,
            wait,
            &format!("too many requests for this API key; retry in {wait} s"),
        ));
    }
    let ticket = draft
        .open(state, &integrator, request_key)
        .await
        .map_err(|e| geo_error(format, StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let created = [Created {
        service_request_id: ticket.number.to_string(),
        service_notice: notice(state, &ticket),
        account_id: draft.account_id.clone(),
    }];
    Ok(document(
        format,
        StatusCode::OK,
        &created,
        "service_requests",
        &RequestsXml { request: &created },
    ))
}

/// Longest `Idempotency-Key` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 128;

/// The request's `Idempotency-Key` header, if any: a retry with the same key gets the request
/// the first one created instead of a second one (GeoReport itself has no such field).
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY || !printable {
        return Err(format!(
            "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters, \
             e.g. a UUID; send the same one when you retry"
        ));
    }
    Ok(Some(key.to_string()))
}

pub(super) fn notice(state: &AppState, ticket: &Ticket) -> String {
    let unit = ticket
        .handling
        .lead
        .as_ref()
        .and_then(|u| unit_name(state, u));
    state.engine.bots().say(
        "open311_notice",
        context! {
            number => ticket.number.to_string(),
            status => ticket.status.label(),
            unit => unit,
            deadline => ticket.handling.deadline.map(clock::display),
        },
    )
}

/// A posted request, checked, before it becomes a ticket.
pub(super) struct RequestDraft<'a> {
    service: &'a Service,
    description: String,
    district: Option<String>,
    address: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    phone: Option<String>,
    name: Option<String>,
    confidential: bool,
    account_id: Option<String>,
    media_url: Option<String>,
}

impl<'a> RequestDraft<'a> {
    pub(super) fn parse(
        engine: &Engine,
        interop: &'a InteropState,
        p: &Params,
        format: Format,
    ) -> Result<Self, GeoError> {
        let bad = |m: String| geo_error(format, StatusCode::BAD_REQUEST, m);
        let code =
            given(p, "service_code").ok_or_else(|| bad("service_code is required".into()))?;
        let service = interop.catalog.get(code).ok_or_else(|| {
            geo_error(
                format,
                StatusCode::NOT_FOUND,
                format!(
                    "service_code `{code}` not found; see services.{}",
                    ext(format)
                ),
            )
        })?;
        let description = given(p, "description")
            .ok_or_else(|| {
                bad("description is required: what happened, where and since when".into())
            })?
            .to_string();
        engine
            .validate(&description)
            .map_err(|e| bad(format!("description: {e}")))?;
        let reading = engine.classify(&description);
        if reading.category == crate::domain::Category::Emergency {
            return Err(bad(format!(
                "this reads as an emergency, which the hotline cannot take: call {} now \
                 (紧急情况请立即拨打{})",
                reading.emergency_numbers.join(" / "),
                reading.emergency_numbers.join("、")
            )));
        }
        let coordinate = |key: &str, limit: f64| -> Result<Option<f64>, GeoError> {
            given(p, key)
                .map(|v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && x.abs() <= limit)
                        .ok_or_else(|| bad(format!("`{key}` must be a number within ±{limit}")))
                })
                .transpose()
        };
        let (lat, long) = (coordinate("lat", 90.0)?, coordinate("long", 180.0)?);
        if lat.is_some() != long.is_some() {
            return Err(bad("give both `lat` and `long`, or neither".into()));
        }
        let address = given(p, "address_string").map(str::to_string);
        let districts = &interop.districts;
        let district = match given(p, "attribute[district]") {
            Some(d) => Some(
                districts
                    .iter()
                    .find(|x| x.as_str() == d)
                    .cloned()
                    .ok_or_else(|| {
                        bad(format!(
                            "attribute[district] `{d}` is not one of: {}",
                            districts.join(", ")
                        ))
                    })?,
            ),
            None => address
                .as_deref()
                .and_then(|a| extract::district(a, districts)),
        };
        if service.needs_district {
            if address.is_none() && lat.is_none() {
                return Err(bad(format!(
                    "service `{}` needs a location: address_string, or lat and long",
                    service.code
                )));
            }
            if district.is_none() {
                return Err(bad(format!(
                    "service `{}` needs attribute[district], one of: {}",
                    service.code,
                    districts.join(", ")
                )));
            }
        }
        let phone = match given(p, "phone") {
            Some(raw) => Some(extract::phone(raw).ok_or_else(|| {
                bad("`phone` is not a mainland mobile or landline number".into())
            })?),
            None => None,
        };
        let name = [given(p, "last_name"), given(p, "first_name")]
            .into_iter()
            .flatten()
            .collect::<String>();
        let confidential = match given(p, "attribute[confidential]") {
            Some("yes") => true,
            Some("no") => false,
            Some(other) => {
                return Err(bad(format!(
                    "attribute[confidential] `{other}` must be yes or no"
                )));
            }
            None => service.category() == crate::domain::Category::Report,
        };
        let media_url = given(p, "media_url").map(str::to_string);
        if let Some(url) = &media_url {
            crate::open311::check_media_url(url).map_err(bad)?;
        }
        Ok(RequestDraft {
            media_url,
            service,
            description,
            district,
            address,
            lat,
            long,
            phone,
            name: (!name.is_empty()).then_some(name),
            confidential,
            account_id: given(p, "account_id").map(str::to_string),
        })
    }

    /// The ticket, stored with what Open311 adds to it, and dispatched. A retry with the same
    /// `request_key` gets the first ticket back (dispatched now if the first attempt stopped
    /// before it was).
    async fn open(
        &self,
        state: &AppState,
        integrator: &str,
        request_key: Option<String>,
    ) -> Result<Ticket, String> {
        let now = clock::now();
        let account = self.account_id.as_deref().unwrap_or(NO_ACCOUNT);
        let conversation = state
            .gateway
            .conversation_for(Channel::Api, &chat_key(integrator, account))
            .await
            .map_err(|e| e.to_string())?;
        let content = match &self.service.topic {
            Some(topic) => format!("【{topic}】{}", self.description),
            None => self.description.clone(),
        };
        let new = NewTicket {
            category: self.service.category(),
            content,
            district: self.district.clone(),
            address: self.address.clone(),
            phone: self.phone.clone(),
            name: self.name.clone(),
            confidential: self.confidential,
            channel: Channel::Api,
            conversation: conversation.id,
            created_at: now,
        };
        let record = RequestRecord {
            service_code: self.service.code.clone(),
            lat: self.lat,
            long: self.long,
            integrator: integrator.to_string(),
            account_id: self.account_id.clone(),
            media_url: self.media_url.clone(),
        };
        // The ticket and its Open311 record in one transaction; then dispatch, as for a chat.
        let (ticket, fresh) = state
            .interop
            .open311
            .create_open311(new, record, request_key)
            .await
            .map_err(|e| e.to_string())?;
        let undispatched = ticket.handling.proposal.is_none() && ticket.handling.lead.is_none();
        if !fresh && !undispatched {
            tracing::info!(ticket = %ticket.number, integrator, "open311 request retried");
            return Ok(ticket);
        }
        let ticket = state
            .service
            .on_created(ticket, now)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(ticket = %ticket.number, service = %self.service.code, integrator, "open311 request opened");
        Ok(ticket)
    }
}
