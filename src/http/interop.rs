//! The routes and shared state of the interoperability endpoints: Open311 GeoReport v2
//! (`open311/`), the generic channel API (`channel_api.rs`) and the webhook delivery logs
//! (`webhook_log.rs`). Integrators authenticate with their API key and are rate-limited each on
//! its own quota.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::AppState;
use super::auth::forbidden;
use super::error::ApiError;
use super::{channel_api, open311, webhook_log};
use crate::auth::{Role, TokenRecord, token_hash};
use crate::integrators::Integrators;
use crate::open311::Catalog;
use crate::store::{ChatStore, ConversationStore, Open311Store, WebhookStore};

/// What the interoperability endpoints need besides the core state.
pub struct InteropState {
    pub integrators: Integrators,
    pub catalog: Catalog,
    pub districts: Vec<String>,
    pub chats: Arc<dyn ChatStore>,
    pub conversations: Arc<dyn ConversationStore>,
    pub webhooks: Arc<dyn WebhookStore>,
    pub open311: Arc<dyn Open311Store>,
    limits: HashMap<String, Quotas>,
}

/// An integrator's two quotas, each of `rate_per_minute`: what it sends (messages, requests)
/// and what it reads (pulls, Open311 reads), so polling never starves posting.
struct Quotas {
    writes: DefaultDirectRateLimiter,
    reads: DefaultDirectRateLimiter,
}

impl InteropState {
    pub fn new(
        integrators: Integrators,
        catalog: Catalog,
        districts: Vec<String>,
        store: Arc<crate::store::SledStore>,
    ) -> Self {
        let limits = integrators
            .iter()
            .map(|i| {
                let per_minute = NonZeroU32::new(i.rate_per_minute).unwrap_or(NonZeroU32::MIN);
                let quota = Quota::per_minute(per_minute);
                (
                    i.id.clone(),
                    Quotas {
                        writes: RateLimiter::direct(quota),
                        reads: RateLimiter::direct(quota),
                    },
                )
            })
            .collect();
        InteropState {
            integrators,
            catalog,
            districts,
            chats: store.clone(),
            conversations: store.clone(),
            webhooks: store.clone(),
            open311: store,
            limits,
        }
    }

    /// The integrator an API key belongs to, if the key is live and the integrator configured.
    pub fn integrator_of(&self, state: &AppState, key: &str) -> Result<String, IntegratorError> {
        let record: Option<TokenRecord> = state
            .tokens
            .token(&token_hash(key))
            .map_err(|e| IntegratorError::Internal(e.to_string()))?
            .filter(|r| !r.revoked);
        match record.map(|r| r.role) {
            None => Err(IntegratorError::UnknownKey),
            Some(Role::Integrator(id)) if self.integrators.get(&id).is_some() => Ok(id),
            Some(Role::Integrator(id)) => Err(IntegratorError::NotConfigured(id)),
            Some(_) => Err(IntegratorError::NotIntegrator),
        }
    }

    /// Takes one request from the integrator's quota; `Err` holds the seconds to wait.
    pub fn take(&self, integrator: &str) -> Result<(), u64> {
        self.take_from(self.limits.get(integrator).map(|q| &q.writes))
    }

    /// Takes one read (a pull, an Open311 read with the key) from the integrator's read quota.
    pub fn take_read(&self, integrator: &str) -> Result<(), u64> {
        self.take_from(self.limits.get(integrator).map(|q| &q.reads))
    }

    fn take_from(&self, limiter: Option<&DefaultDirectRateLimiter>) -> Result<(), u64> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        limiter.check().map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}

/// Why an API key was not accepted.
#[derive(Debug)]
pub enum IntegratorError {
    UnknownKey,
    NotIntegrator,
    NotConfigured(String),
    Internal(String),
}

impl IntegratorError {
    pub fn message(&self) -> String {
        match self {
            IntegratorError::UnknownKey => "unknown or revoked API key".into(),
            IntegratorError::NotIntegrator => {
                "this key is not an integrator's: create one with `hotline tokens create --role integrator --integrator ID`".into()
            }
            IntegratorError::NotConfigured(id) => {
                format!("integrator `{id}` is not in config/integrators.toml")
            }
            IntegratorError::Internal(_) => "internal error".into(),
        }
    }
}

impl From<IntegratorError> for ApiError {
    fn from(e: IntegratorError) -> Self {
        match &e {
            IntegratorError::UnknownKey => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", e.message())
            }
            IntegratorError::Internal(m) => ApiError::internal(m),
            _ => forbidden(&e.message()),
        }
    }
}

/// 429 with `Retry-After` and `{"code","message"}`.
pub fn too_many_requests(retry_after: u64) -> Response {
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests for this integrator's quota; retry in {retry_after} s"),
    )
    .into_response();
    if let Ok(value) = retry_after.to_string().parse() {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, value);
    }
    response
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/services.json", get(open311::services_json))
        .route("/open311/v2/services.xml", get(open311::services_xml))
        .route("/open311/v2/services/{code}", get(open311::definition))
        .route(
            "/open311/v2/requests.json",
            get(open311::list_json).post(open311::create_json),
        )
        .route(
            "/open311/v2/requests.xml",
            get(open311::list_xml).post(open311::create_xml),
        )
        .route("/open311/v2/requests/{id}", get(open311::show))
        .route("/api/channel/v1/messages", post(channel_api::post_message))
        .route(
            "/api/channel/v1/users/{user}/messages",
            get(channel_api::later_messages),
        )
        .route("/api/channel/v1/webhooks", get(webhook_log::integrator_log))
        .route("/api/units/webhooks", get(webhook_log::unit_log))
        .route("/api/operator/webhooks", get(webhook_log::operator_log))
}
