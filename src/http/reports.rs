//! Admin reports: the rates (考评) as JSON, or CSV with `?format=csv` or `Accept: text/csv`.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::clock;
use crate::rates::{self, GroupBy, Period, ReportError};

#[derive(Deserialize)]
pub struct RatesQuery {
    from: Option<String>,
    to: Option<String>,
    by: Option<String>,
    format: Option<String>,
}

fn bad_request(e: ReportError) -> ApiError {
    match e {
        ReportError::Store(e) => ApiError::internal(e),
        other => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_report_query",
            other.to_string(),
        ),
    }
}

fn wants_csv(query: &RatesQuery, headers: &HeaderMap) -> bool {
    if let Some(format) = &query.format {
        return format == "csv";
    }
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

/// `GET /api/admin/reports/rates?from=YYYY-MM-DD&to=YYYY-MM-DD[&by=unit|district|category][&format=csv]`
pub async fn rates(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Query(query): Query<RatesQuery>,
) -> Result<Response, ApiError> {
    caller.require_admin()?;
    let (Some(from), Some(to)) = (&query.from, &query.to) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_report_query",
            "`from` and `to` are required, as YYYY-MM-DD (e.g. ?from=2026-11-01&to=2026-11-30)",
        ));
    };
    if let Some(format) = query
        .format
        .as_deref()
        .filter(|f| *f != "csv" && *f != "json")
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_report_query",
            format!("`format={format}` is not offered: use json or csv"),
        ));
    }
    let period = Period::parse(from, to).map_err(bad_request)?;
    let by = match query.by.as_deref() {
        None => GroupBy::Unit,
        Some(b) => GroupBy::parse(b).ok_or_else(|| bad_request(ReportError::BadGroup(b.into())))?,
    };
    // The period's digests and records only (a key range), never every ticket in the store.
    let monitor = std::sync::Arc::clone(&state.governance);
    let settings = state.service.rate_settings().clone();
    let report = tokio::task::spawn_blocking(move || {
        crate::governance::rates_report(monitor.store(), period, by, &settings, clock::now())
    })
    .await
    .map_err(ApiError::internal)??;
    if wants_csv(&query, &headers) {
        let units = state.service.units();
        let name = |id: &str| {
            units
                .get(id)
                .map(|u| u.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        let csv = rates::to_csv(&report, &name).map_err(ApiError::internal)?;
        let disposition = format!(
            "attachment; filename=\"rates-{}-{}.csv\"",
            period.from, period.to
        );
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            csv,
        )
            .into_response());
    }
    Ok(Json(report).into_response())
}
