//! Open311 GeoReport v2 over HTTP: service discovery, service definitions, posting a request
//! (with an integrator's API key) and reading requests back, in JSON and in XML, with the
//! spec's error documents (`[{"code","description"}]`, `<errors><error>…`).
//!
//! A request becomes a ticket through the same path as the chat intake (dispatch rules,
//! deadlines, webhooks to the unit, the citizen's later messages to the integrator). Reading
//! requests back never shows the requester's name or phone, and a 保密 ticket's description is
//! withheld too.

mod create;
mod document;
mod read;

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

pub use create::{create_json, create_xml};
pub use read::{list_json, list_xml, show};

use super::AppState;
use crate::clock;
use crate::domain::UnitId;
use crate::open311::Service;
use document::{
    Attribute, AttributeValue, AttributesXml, Definition, GeoError, ServiceView, ServicesXml,
    ValuesXml, document, geo_error, geo_rate_limited,
};

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

/// The parsing half of `POST /open311/v2/requests.{json,xml}`: the form, then the request's
/// fields checked exactly as the handler checks them (everything before the API key lookup and
/// the store). The fuzz target `webhooks` drives it; an error is the status and description the
/// client gets.
pub fn parse_request(
    engine: &crate::engine::Engine,
    interop: &super::interop::InteropState,
    body: &[u8],
) -> Result<(), (StatusCode, String)> {
    let p = params(body);
    create::RequestDraft::parse(engine, interop, &p, Format::Json)
        .map(|_| ())
        .map_err(|e| (e.status, e.description))
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

/// A read with an `api_key` (query or `Authorization: Bearer`) takes from that integrator's read
/// quota; without one, the per-address limit in front of every route applies ([`rate_limited`]).
fn check_read(
    state: &AppState,
    p: &Params,
    headers: &HeaderMap,
    format: Format,
) -> Result<(), GeoError> {
    let Some(key) = create::api_key(p, p, headers) else {
        return Ok(());
    };
    let integrator = state.interop.integrator_of(state, key).map_err(|e| {
        let status = match e {
            super::interop::IntegratorError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::FORBIDDEN,
        };
        geo_error(format, status, e.message())
    })?;
    state.interop.take_read(&integrator).map_err(|wait| {
        geo_rate_limited(
            format,
            wait,
            &format!("too many reads for this API key; retry in {wait} s"),
        )
    })
}

/// The per-address limit's 429 for an Open311 path, as the spec's error document in the
/// path's format.
pub fn rate_limited(path: &str, retry_after: u64) -> Response {
    let format = if path.ends_with(".xml") {
        Format::Xml
    } else {
        Format::Json
    };
    geo_rate_limited(
        format,
        retry_after,
        &format!("too many requests from this address; retry in {retry_after} s"),
    )
    .into_response()
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

fn unit_name(state: &AppState, unit: &UnitId) -> Option<String> {
    state
        .service
        .units()
        .get(unit.as_str())
        .map(|u| u.name.clone())
}

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

fn services(
    state: &AppState,
    query: Option<String>,
    headers: &HeaderMap,
    format: Format,
) -> Response {
    let p = params(query.unwrap_or_default().as_bytes());
    if let Err(e) =
        check_read(state, &p, headers, format).and_then(|()| check_jurisdiction(state, &p, format))
    {
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

pub async fn services_json(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    services(&state, q, &headers, Format::Json)
}

pub async fn services_xml(
    State(state): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    services(&state, q, &headers, Format::Xml)
}

/// `GET /open311/v2/services/{service_code}.{format}`: the service's attributes.
pub async fn definition(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
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
    if let Err(e) = check_read(&state, &p, &headers, format)
        .and_then(|()| check_jurisdiction(&state, &p, format))
    {
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
