//! Proactive governance over HTTP: hotspot alerts and their clusters (类案) for operators, one call
//! that dispatches a whole cluster to one unit, and the live figures behind the dashboard page.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::{ApiError, ApiJson};
use super::tickets_view::{TicketView, Viewer, view};
use crate::clock;
use crate::domain::lifecycle::Actor;
use crate::domain::{Cluster, TicketStatus, UnitId};
use crate::governance::GovernanceError;
use crate::governance::report::{Period, PeriodKind, Report, render};

impl From<GovernanceError> for ApiError {
    fn from(e: GovernanceError) -> Self {
        ApiError::internal(e)
    }
}

fn operator(caller: &Caller) -> Result<Actor, ApiError> {
    caller.require_operator()?;
    Ok(Actor::Operator(caller.0.id.clone()))
}

fn store_error(e: crate::store::StoreError) -> ApiError {
    ApiError::internal(e)
}

/// Hotspot alerts, most recent first: each a cluster with its linked tickets.
pub async fn hotspots(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Cluster>>, ApiError> {
    operator(&caller)?;
    Ok(Json(
        state.governance.store().clusters().map_err(store_error)?,
    ))
}

#[derive(Serialize)]
pub struct ClusterView {
    #[serde(flatten)]
    cluster: Cluster,
    ticket_views: Vec<TicketView>,
}

fn find_cluster(state: &AppState, id: &str) -> Result<Cluster, ApiError> {
    state
        .governance
        .store()
        .cluster(id)
        .map_err(store_error)?
        .ok_or_else(|| ApiError::not_found("unknown_cluster", format!("no cluster {id}")))
}

/// One cluster with its tickets as operators see them.
pub async fn cluster(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ClusterView>, ApiError> {
    operator(&caller)?;
    let cluster = find_cluster(&state, &id)?;
    let now = clock::now();
    let units = state.service.units();
    let mut ticket_views = Vec::new();
    for n in &cluster.tickets {
        if let Ok(t) = state.service.get(*n) {
            ticket_views.push(view(&t, Viewer::Operator, units, now));
        }
    }
    Ok(Json(ClusterView {
        cluster,
        ticket_views,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterDispatchBody {
    pub lead: String,
    #[serde(default)]
    pub co_handlers: Vec<String>,
}

#[derive(Serialize)]
pub struct Skipped {
    number: String,
    status: TicketStatus,
    reason: String,
}

#[derive(Serialize)]
pub struct ClusterDispatched {
    cluster: String,
    lead: String,
    dispatched: Vec<String>,
    skipped: Vec<Skipped>,
}

/// Dispatches every ticket of a cluster still waiting (已受理, or 已退回 for 改派) to one lead unit,
/// in one call, so the cluster is handled and answered together; the others are listed as
/// skipped with their status.
pub async fn dispatch_cluster(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ClusterDispatchBody>,
) -> Result<Json<ClusterDispatched>, ApiError> {
    let actor = operator(&caller)?;
    let mut cluster = find_cluster(&state, &id)?;
    let lead = UnitId::new(body.lead.clone());
    if !state.service.units().contains(lead.as_str()) {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid",
            format!("unknown unit `{}`", body.lead),
        ));
    }
    let co: Vec<UnitId> = body.co_handlers.into_iter().map(UnitId::new).collect();
    let (mut dispatched, mut skipped) = (Vec::new(), Vec::new());
    for n in cluster.tickets.clone() {
        let ticket = state.service.get(n)?;
        if !matches!(
            ticket.status,
            TicketStatus::Accepted | TicketStatus::Returned
        ) {
            skipped.push(Skipped {
                number: n.to_string(),
                status: ticket.status,
                reason: format!("already {}", ticket.status.label()),
            });
            continue;
        }
        match state
            .service
            .dispatch(n, lead.clone(), co.clone(), &actor, clock::now())
            .await
        {
            Ok(_) => dispatched.push(n.to_string()),
            Err(e) => skipped.push(Skipped {
                number: n.to_string(),
                status: ticket.status,
                reason: e.to_string(),
            }),
        }
    }
    cluster.dispatched_to = Some(lead);
    state
        .governance
        .store()
        .put_cluster(cluster)
        .await
        .map_err(store_error)?;
    Ok(Json(ClusterDispatched {
        cluster: id,
        lead: body.lead,
        dispatched,
        skipped,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    #[serde(default)]
    period: Option<String>,
    /// A day of the period to show (YYYY-MM-DD); default today.
    #[serde(default)]
    date: Option<String>,
}

#[derive(Serialize)]
pub struct Dashboard {
    report: Report,
    charts: Vec<render::Chart>,
    alerts: Vec<Cluster>,
}

/// The dashboard's figures for the period containing `date` (today by default), computed now.
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<DashboardQuery>,
) -> Result<Json<Dashboard>, ApiError> {
    operator(&caller)?;
    let bad = |message: String| {
        ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "invalid_query",
            message,
        )
    };
    let kind = match query.period.as_deref() {
        None => PeriodKind::Weekly,
        Some(p) => PeriodKind::parse(p)
            .ok_or_else(|| bad(format!("period `{p}`: use daily, weekly or monthly")))?,
    };
    let date: Date = match query.date.as_deref() {
        None => clock::today(),
        Some(d) => d
            .parse()
            .map_err(|_| bad(format!("date `{d}`: use YYYY-MM-DD")))?,
    };
    let monitor = Arc::clone(&state.governance);
    let period = Period::containing(kind, date);
    let (report, charts, alerts) = tokio::task::spawn_blocking(move || {
        let report = monitor.analysis().report(monitor.store(), period)?;
        let charts = render::charts(&report).map_err(GovernanceError::from)?;
        let mut alerts = monitor.store().clusters()?;
        alerts.truncate(20);
        Ok::<_, GovernanceError>((report, charts, alerts))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(Json(Dashboard {
        report,
        charts,
        alerts,
    }))
}
