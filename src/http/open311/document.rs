//! GeoReport v2 documents: the JSON shapes, their XML twins (root and element names as the spec
//! has them: `services/service`, `service_requests/request`, `errors/error`), and the spec's
//! error document.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::Format;

#[derive(Serialize)]
pub(super) struct ErrorItem {
    pub(super) code: u16,
    pub(super) description: String,
}

#[derive(Serialize)]
pub(super) struct ErrorsXml<'a> {
    pub(super) error: &'a [ErrorItem],
}

#[derive(Serialize)]
pub(super) struct ServiceView<'a> {
    pub(super) service_code: &'a str,
    pub(super) service_name: &'a str,
    pub(super) description: &'a str,
    pub(super) metadata: bool,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) keywords: String,
    pub(super) group: &'a str,
}

#[derive(Serialize)]
pub(super) struct ServicesXml<'a> {
    pub(super) service: &'a [ServiceView<'a>],
}

#[derive(Serialize, Clone)]
pub(super) struct AttributeValue {
    pub(super) key: String,
    pub(super) name: String,
}

#[derive(Serialize)]
pub(super) struct Attribute<V> {
    pub(super) variable: bool,
    pub(super) code: &'static str,
    pub(super) datatype: &'static str,
    pub(super) required: bool,
    pub(super) datatype_description: &'static str,
    pub(super) order: u32,
    pub(super) description: &'static str,
    pub(super) values: V,
}

#[derive(Serialize)]
pub(super) struct ValuesXml {
    pub(super) value: Vec<AttributeValue>,
}

#[derive(Serialize)]
pub(super) struct Definition<A> {
    pub(super) service_code: String,
    pub(super) attributes: A,
}

#[derive(Serialize)]
pub(super) struct AttributesXml {
    pub(super) attribute: Vec<Attribute<ValuesXml>>,
}

#[derive(Serialize)]
pub(super) struct Created {
    pub(super) service_request_id: String,
    pub(super) service_notice: String,
    pub(super) account_id: Option<String>,
}

#[derive(Serialize)]
pub(super) struct RequestView {
    pub(super) service_request_id: String,
    pub(super) status: &'static str,
    pub(super) status_notes: Option<String>,
    pub(super) service_name: Option<String>,
    pub(super) service_code: String,
    pub(super) description: Option<String>,
    pub(super) agency_responsible: Option<String>,
    pub(super) service_notice: Option<String>,
    pub(super) requested_datetime: String,
    pub(super) updated_datetime: String,
    pub(super) expected_datetime: Option<String>,
    pub(super) address: Option<String>,
    pub(super) lat: Option<f64>,
    pub(super) long: Option<f64>,
    pub(super) media_url: Option<String>,
}

#[derive(Serialize)]
pub(super) struct RequestsXml<'a, T> {
    pub(super) request: &'a [T],
}

/// A GeoReport document in the asked format.
pub(super) fn document<J: Serialize, X: Serialize>(
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
    pub(super) format: Format,
    pub(super) status: StatusCode,
    pub(super) description: String,
    /// `Retry-After` of a 429, in seconds.
    pub(super) retry_after: Option<u64>,
}

/// 429 in the spec's error format, with `Retry-After`.
pub(super) fn geo_rate_limited(format: Format, retry_after: u64, description: &str) -> GeoError {
    GeoError {
        retry_after: Some(retry_after.max(1)),
        ..geo_error(format, StatusCode::TOO_MANY_REQUESTS, description)
    }
}

pub(super) fn geo_error(
    format: Format,
    status: StatusCode,
    description: impl Into<String>,
) -> GeoError {
    GeoError {
        format,
        status,
        description: description.into(),
        retry_after: None,
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
            let seconds = self.retry_after.unwrap_or(60);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        }
        response
    }
}
