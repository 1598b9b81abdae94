//! Webhook delivery logs: a unit sees its own, an integrator its own, operators any target's.
//! Each delivery shows its attempts with the receiver's status codes and the last error; bodies
//! are not repeated here.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::{Caller, forbidden};
use super::channel_api::IntegratorCaller;
use super::error::ApiError;
use crate::auth::Role;
use crate::domain::{WebhookAttempt, WebhookDelivery};

const LOG_LIMIT: usize = 200;

#[derive(Serialize)]
pub struct DeliveryView {
    pub delivery_id: String,
    pub event: String,
    pub ticket: Option<String>,
    pub created_at: jiff::Timestamp,
    /// `delivered`, or `pending` (retried at `next_attempt_at`).
    pub state: &'static str,
    pub delivered_at: Option<jiff::Timestamp>,
    pub next_attempt_at: Option<jiff::Timestamp>,
    pub failed_attempts: u32,
    pub attempts: Vec<WebhookAttempt>,
}

#[derive(Serialize)]
pub struct DeliveryLog {
    pub target: String,
    pub deliveries: Vec<DeliveryView>,
}

fn view(d: WebhookDelivery) -> DeliveryView {
    let delivered = d.delivered_at.is_some();
    DeliveryView {
        delivery_id: d.delivery_id,
        event: d.event,
        ticket: d.ticket.map(|t| t.to_string()),
        created_at: d.created_at,
        state: if delivered { "delivered" } else { "pending" },
        delivered_at: d.delivered_at,
        next_attempt_at: (!delivered).then_some(d.next_attempt_at),
        failed_attempts: d.attempts,
        attempts: d.log,
    }
}

fn log_of(state: &AppState, target: String) -> Result<Json<DeliveryLog>, ApiError> {
    let deliveries = state
        .interop
        .webhooks
        .webhook_log(&target, LOG_LIMIT)
        .map_err(ApiError::internal)?
        .into_iter()
        .map(view)
        .collect();
    Ok(Json(DeliveryLog { target, deliveries }))
}

/// The calling unit's deliveries, newest first.
pub async fn unit_log(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<DeliveryLog>, ApiError> {
    match caller.role() {
        Role::Unit(id) => log_of(&state, format!("unit:{id}")),
        _ => Err(forbidden(
            "this endpoint is for handling units; use a unit token",
        )),
    }
}

/// The calling integrator's callback deliveries, newest first.
pub async fn integrator_log(
    State(state): State<AppState>,
    caller: IntegratorCaller,
) -> Result<Json<DeliveryLog>, ApiError> {
    log_of(&state, format!("integrator:{}", caller.0))
}

#[derive(Deserialize)]
pub struct TargetQuery {
    pub target: Option<String>,
}

/// Any target's deliveries (`?target=unit:<id>`, `integrator:<id>` or `operators`), for
/// operators.
pub async fn operator_log(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TargetQuery>,
) -> Result<Json<DeliveryLog>, ApiError> {
    caller.require_operator()?;
    let target = query.target.unwrap_or_default();
    let known = match target.split_once(':') {
        Some(("unit", id)) => state.service.units().contains(id),
        Some(("integrator", id)) => state.interop.integrators.get(id).is_some(),
        None => target == crate::webhooks::OPERATORS_TARGET,
        _ => false,
    };
    if !known {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unknown_target",
            "give `?target=unit:<unit id>`, `?target=integrator:<integrator id>` or `?target=operators`",
        ));
    }
    log_of(&state, target)
}
