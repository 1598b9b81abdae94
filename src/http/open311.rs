//! Open311 GeoReport v2 over HTTP: service discovery, service definitions, posting a request
//! (with an integrator's API key) and reading requests back, in JSON and in XML, with the
//! spec's error documents (`[{"code","description"}]`, `<errors><error>…`).
//!
//! A request becomes a ticket through the same path as the chat intake (dispatch rules,
//! deadlines, webhooks to the unit, the citizen's later messages to the integrator). Reading
//! requests back never shows the requester's name or phone, and a 保密 ticket's description is
//! withheld too.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use minijinja::context;
use serde::Serialize;

use super::AppState;
use crate::channels::api::chat_key;
use crate::clock;
use crate::domain::lifecycle::citizen_text;
use crate::domain::{Channel, NewTicket, Ticket, TicketNumber, UnitId};
use crate::engine::extract;
use crate::open311::{RequestRecord, Service, spec_status};

/// Requests returned by one list query at most (the spec lets the server cap it).
const MAX_REQUESTS: usize = 1000;
/// The default window of a list query without dates.
const DEFAULT_WINDOW_DAYS: i64 = 90;
/// Where requests posted without an `account_id` live, per integrator.
const NO_ACCOUNT: &str = "open311";

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

/// `name.json` → (`name`, Json); anything else is not a GeoReport resource.
fn split_format(file: &str) -> Option<(&str, Format)> {
    let (name, ext) = file.rsplit_once('.')?;
    match ext {
        "json" => Some((name, Format::Json)),
        "xml" => Some((name, Format::Xml)),
        _ => None,
    }
}

// ---- documents -------------------------------------------------------------------------------

#[derive(Serialize)]
struct ErrorItem {
    code: u16,
    description: String,
}

#[derive(Serialize)]
struct ErrorsXml<'a> {
    error: &'a [ErrorItem],
}

#[derive(Serialize)]
struct ServiceView<'a> {
    service_code: &'a str,
    service_name: &'a str,
    description: &'a str,
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: String,
    group: &'a str,
}

#[derive(Serialize)]
struct ServicesXml<'a> {
    service: &'a [ServiceView<'a>],
}

#[derive(Serialize, Clone)]
struct AttributeValue {
    key: String,
    name: String,
}

#[derive(Serialize)]
struct Attribute<V> {
    variable: bool,
    code: &'static str,
    datatype: &'static str,
    required: bool,
    datatype_description: &'static str,
    order: u32,
    description: &'static str,
    values: V,
}

#[derive(Serialize)]
struct ValuesXml {
    value: Vec<AttributeValue>,
}

#[derive(Serialize)]
struct Definition<A> {
    service_code: String,
    attributes: A,
}

#[derive(Serialize)]
struct AttributesXml {
    attribute: Vec<Attribute<ValuesXml>>,
}

#[derive(Serialize)]
struct Created {
    service_request_id: String,
    service_notice: String,
    account_id: Option<String>,
}

#[derive(Serialize)]
struct RequestView {
    service_request_id: String,
    status: &'static str,
    status_notes: Option<String>,
    service_name: Option<String>,
    service_code: String,
    description: Option<String>,
    agency_responsible: Option<String>,
    service_notice: Option<String>,
    requested_datetime: String,
    updated_datetime: String,
    expected_datetime: Option<String>,
    address: Option<String>,
    lat: Option<f64>,
    long: Option<f64>,
    media_url: Option<String>,
}

#[derive(Serialize)]
struct RequestsXml<'a, T> {
    request: &'a [T],
}

/// A GeoReport document in the asked format.
fn document<J: Serialize, X: Serialize>(
    format: Format,
    status: StatusCode,
    json: &J,
    xml_root: &str,
    xml: &X,
) -> Response {
    let rendered = match format {
        Format::Json => serde_json::to_string(json)
            .map(|body| (body, "application/json; charset=utf-8"))
            .map_err(|e| e.to_string()),
        Format::Xml => quick_xml::se::to_string_with_root(xml_root, xml)
            .map(|body| {
                (
                    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{body}"),
                    "text/xml; charset=utf-8",
                )
            })
            .map_err(|e| e.to_string()),
    };
    match rendered {
        Ok((body, content_type)) => {
            (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "open311 document could not be rendered");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The spec's error document: `[{"code": 404, "description": "…"}]` or `<errors>…`.
pub struct GeoError {
    format: Format,
    status: StatusCode,
    description: String,
}

fn geo_error(format: Format, status: StatusCode, description: impl Into<String>) -> GeoError {
    GeoError {
        format,
        status,
        description: description.into(),
    }
}

impl IntoResponse for GeoError {
    fn into_response(self) -> Response {
        let errors = [ErrorItem {
            code: self.status.as_u16(),
            description: self.description,
        }];
        let mut response = document(
            self.format,
            self.status,
            &errors,
            "errors",
            &ErrorsXml { error: &errors },
        );
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
        }
        response
    }
}

// ---- parameters ------------------------------------------------------------------------------

type Params = HashMap<String, String>;

/// Query or form parameters; a repeated key keeps its first value.
fn params(raw: &[u8]) -> Params {
    let mut out = Params::new();
    for (k, v) in form_urlencoded::parse(raw) {
        out.entry(k.into_owned())
            .or_insert_with(|| v.trim().to_string());
    }
    out
}

fn given<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).map(String::as_str).filter(|v| !v.is_empty())
}

fn check_jurisdiction(state: &AppState, p: &Params, format: Format) -> Result<(), GeoError> {
    match (
        given(p, "jurisdiction_id"),
        &state.interop.catalog.jurisdiction_id,
    ) {
        (Some(asked), Some(ours)) if asked != ours => Err(geo_error(
            format,
            StatusCode::NOT_FOUND,
            format!("jurisdiction_id `{asked}` is not served here; this endpoint serves `{ours}`"),
        )),
        _ => Ok(()),
    }
}

/// W3C / ISO 8601 with the city's offset: `2026-11-22T14:05:00+08:00`.
fn w3c(at: Timestamp) -> String {
    at.to_zoned(clock::city_tz())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn parse_time(p: &Params, key: &str, format: Format) -> Result<Option<Timestamp>, GeoError> {
    given(p, key)
        .map(|v| {
            v.parse::<Timestamp>().map_err(|_| {
                geo_error(
                    format,
                    StatusCode::BAD_REQUEST,
                    format!("`{key}` must be a W3C datetime with an offset, e.g. 2026-11-01T00:00:00+08:00"),
                )
            })
        })
        .transpose()
}

// ---- services --------------------------------------------------------------------------------

fn service_view<'a>(state: &AppState, s: &'a Service) -> ServiceView<'a> {
    ServiceView {
        service_code: &s.code,
        service_name: &s.name,
        description: &s.description,
        metadata: !attributes(state, s).is_empty(),
        kind: "realtime",
        keywords: s.keywords.join(","),
        group: &s.group,
    }
}

/// A service's attributes: the district where the matter happens (a list of the city's
/// districts) and, for complaints and reports, whether the requester's identity is kept secret.
fn attributes(state: &AppState, s: &Service) -> Vec<Attribute<Vec<AttributeValue>>> {
    use crate::domain::Category;
    let mut out = Vec::new();
    if s.needs_district {
        out.push(Attribute {
            variable: true,
            code: "district",
            datatype: "singlevaluelist",
            required: true,
            datatype_description: "one of the listed districts",
            order: 1,
            description: "事发区县",
            values: state
                .interop
                .districts
                .iter()
                .map(|d| AttributeValue {
                    key: d.clone(),
                    name: d.clone(),
                })
                .collect(),
        });
    }
    if matches!(s.category(), Category::Complaint | Category::Report) {
        out.push(Attribute {
            variable: true,
            code: "confidential",
            datatype: "singlevaluelist",
            required: false,
            datatype_description: "yes or no; reports (举报) are confidential unless `no`",
            order: 2,
            description: "是否保密（保密时承办单位看不到您的姓名和电话）",
            values: vec![
                AttributeValue {
                    key: "yes".into(),
                    name: "保密".into(),
                },
                AttributeValue {
                    key: "no".into(),
                    name: "不保密".into(),
                },
            ],
        });
    }
    out
}

fn services(state: &AppState, query: Option<String>, format: Format) -> Response {
    let p = params(query.unwrap_or_default().as_bytes());
    if let Err(e) = check_jurisdiction(state, &p, format) {
        return e.into_response();
    }
    let views: Vec<ServiceView> = state
        .interop
        .catalog
        .services()
        .iter()
        .map(|s| service_view(state, s))
        .collect();
    document(
        format,
        StatusCode::OK,
        &views,
        "services",
        &ServicesXml { service: &views },
    )
}

pub async fn services_json(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    services(&state, q, Format::Json)
}

pub async fn services_xml(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    services(&state, q, Format::Xml)
}

/// `GET /open311/v2/services/{service_code}.{format}`: the service's attributes.
pub async fn definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some((code, format)) = split_format(&file) else {
        return geo_error(
            Format::Json,
            StatusCode::NOT_FOUND,
            "ask for services/{service_code}.json or services/{service_code}.xml",
        )
        .into_response();
    };
    let p = params(q.unwrap_or_default().as_bytes());
    if let Err(e) = check_jurisdiction(&state, &p, format) {
        return e.into_response();
    }
    let Some(service) = state.interop.catalog.get(code) else {
        return geo_error(
            format,
            StatusCode::NOT_FOUND,
            format!(
                "service_code `{code}` not found; see services.{}",
                ext(format)
            ),
        )
        .into_response();
    };
    let attrs = attributes(&state, service);
    let xml = Definition {
        service_code: service.code.clone(),
        attributes: AttributesXml {
            attribute: attributes(&state, service)
                .into_iter()
                .map(|a| Attribute {
                    variable: a.variable,
                    code: a.code,
                    datatype: a.datatype,
                    required: a.required,
                    datatype_description: a.datatype_description,
                    order: a.order,
                    description: a.description,
                    values: ValuesXml { value: a.values },
                })
                .collect(),
        },
    };
    let json = Definition {
        service_code: service.code.clone(),
        attributes: attrs,
    };
    document(format, StatusCode::OK, &json, "service_definition", &xml)
}

fn ext(format: Format) -> &'static str {
    match format {
        Format::Json => "json",
        Format::Xml => "xml",
    }
}

// ---- posting a request -----------------------------------------------------------------------

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
fn api_key<'a>(p: &'a Params, query: &'a Params, headers: &'a HeaderMap) -> Option<&'a str> {
    given(p, "api_key")
        .or_else(|| given(query, "api_key"))
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
        })
}

async fn create(
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
    let draft = RequestDraft::parse(state, &p, format)?;
    if let Err(wait) = state.interop.take(&integrator) {
        return Err(geo_error(
            format,
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many requests for this API key; retry in {wait} s"),
        ));
    }
    let ticket = draft
        .open(state, &integrator)
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

fn unit_name(state: &AppState, unit: &UnitId) -> Option<String> {
    state
        .service
        .units()
        .get(unit.as_str())
        .map(|u| u.name.clone())
}

fn notice(state: &AppState, ticket: &Ticket) -> String {
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
struct RequestDraft<'a> {
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
}

impl<'a> RequestDraft<'a> {
    fn parse(state: &'a AppState, p: &Params, format: Format) -> Result<Self, GeoError> {
        let bad = |m: String| geo_error(format, StatusCode::BAD_REQUEST, m);
        let code =
            given(p, "service_code").ok_or_else(|| bad("service_code is required".into()))?;
        let service = state.interop.catalog.get(code).ok_or_else(|| {
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
        state
            .engine
            .validate(&description)
            .map_err(|e| bad(format!("description: {e}")))?;
        let reading = state.engine.classify(&description);
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
        let districts = &state.interop.districts;
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
        Ok(RequestDraft {
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

    /// The ticket, stored and dispatched, and what Open311 adds to it.
    async fn open(&self, state: &AppState, integrator: &str) -> Result<Ticket, String> {
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
        let ticket = state
            .service
            .open(
                NewTicket {
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
                },
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
        state
            .interop
            .open311
            .put_open311(
                ticket.number,
                RequestRecord {
                    service_code: self.service.code.clone(),
                    lat: self.lat,
                    long: self.long,
                    integrator: integrator.to_string(),
                    account_id: self.account_id.clone(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(ticket = %ticket.number, service = %self.service.code, integrator, "open311 request opened");
        Ok(ticket)
    }
}

// ---- reading requests back -------------------------------------------------------------------

fn request_view(state: &AppState, ticket: &Ticket, record: &RequestRecord) -> RequestView {
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
        media_url: None,
    }
}

/// What the citizen was last told, with the unit's own words when it replied or closed.
fn status_notes(
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

fn requests_document(format: Format, views: &[RequestView]) -> Response {
    document(
        format,
        StatusCode::OK,
        &views,
        "service_requests",
        &RequestsXml { request: views },
    )
}

fn load(state: &AppState, number: TicketNumber) -> Result<Option<(Ticket, RequestRecord)>, String> {
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
    if let Err(e) = check_jurisdiction(&state, &p, format) {
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

pub async fn list_json(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    list(&state, q, Format::Json).unwrap_or_else(IntoResponse::into_response)
}

pub async fn list_xml(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    list(&state, q, Format::Xml).unwrap_or_else(IntoResponse::into_response)
}

fn comma_list(p: &Params, key: &str) -> Option<Vec<String>> {
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
fn list(state: &AppState, query: Option<String>, format: Format) -> Result<Response, GeoError> {
    let p = params(query.unwrap_or_default().as_bytes());
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
