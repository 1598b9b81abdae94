//! Rate limits: per client address on every route but the probes, and per sender on the chat
//! message route (a session; channels key by their chat id or phone number through
//! [`Limits::check_sender`]). Over a limit: 429 `rate_limited` with `Retry-After`.
//!
//! GCRA from `governor`, keyed in memory; idle keys are dropped now and then so a stream of new
//! addresses cannot grow the table without bound.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::error::ApiError;
use crate::config::LimitSettings;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;

/// Checks between two sweeps of idle keys.
const SWEEP_EVERY: u64 = 10_000;
const EXEMPT: [&str; 3] = ["/healthz", "/readyz", "/metrics"];
const CHAT_MESSAGES: &str = "/api/chat/sessions/{id}/messages";

pub struct Limits {
    per_ip: Option<Keyed<IpAddr>>,
    per_sender: Option<Keyed<String>>,
    checks: AtomicU64,
}

fn quota(per_minute: u32, burst: u32) -> Option<Quota> {
    let rate = NonZeroU32::new(per_minute)?;
    Some(Quota::per_minute(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(rate)))
}

/// Seconds until a request would be allowed again, at least 1.
fn retry_after<K: std::hash::Hash + Eq + Clone>(limiter: &Keyed<K>, key: &K) -> Option<u64> {
    match limiter.check_key(key) {
        Ok(()) => None,
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            Some(wait.as_secs().max(1))
        }
    }
}

/// A refusal: 429 `rate_limited` with `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimited {
    pub retry_after_secs: u64,
    message: &'static str,
}

impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        let mut response =
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", self.message)
                .into_response();
        if let Ok(value) = HeaderValue::from_str(&self.retry_after_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

fn too_many(retry_after_secs: u64, message: &'static str) -> RateLimited {
    RateLimited {
        retry_after_secs,
        message,
    }
}

impl Limits {
    pub fn new(settings: &LimitSettings) -> Limits {
        Limits {
            per_ip: quota(settings.per_ip_per_minute, settings.per_ip_burst)
                .map(RateLimiter::keyed),
            per_sender: quota(settings.per_sender_per_minute, settings.per_sender_burst)
                .map(RateLimiter::keyed),
            checks: AtomicU64::new(0),
        }
    }

    fn sweep(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        if let Some(l) = &self.per_ip {
            l.retain_recent();
            l.shrink_to_fit();
        }
        if let Some(l) = &self.per_sender {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// 429 when `sender` (a session id, chat id or phone number) is over its limit.
    pub fn check_sender(&self, sender: &str) -> Result<(), RateLimited> {
        let Some(limiter) = &self.per_sender else {
            return Ok(());
        };
        match retry_after(limiter, &sender.to_string()) {
            None => Ok(()),
            Some(seconds) => Err(too_many(
                seconds,
                "消息发送过于频繁，请稍等片刻再发。如遇紧急情况请直接拨打110、119、120。",
            )),
        }
    }

    fn check_ip(&self, ip: IpAddr) -> Result<(), RateLimited> {
        let Some(limiter) = &self.per_ip else {
            return Ok(());
        };
        match retry_after(limiter, &ip) {
            None => Ok(()),
            Some(seconds) => Err(too_many(
                seconds,
                "too many requests from this address; wait and try again",
            )),
        }
    }
}

/// Middleware: the per-IP limit, then the per-session limit on chat messages.
pub async fn enforce(State(limits): State<Arc<Limits>>, request: Request, next: Next) -> Response {
    limits.sweep();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    if route.as_deref().is_some_and(|r| EXEMPT.contains(&r)) {
        return next.run(request).await;
    }
    if let Some(ConnectInfo(addr)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
        && let Err(refused) = limits.check_ip(addr.ip())
    {
        // Each API answers in its own error format: Open311's is the spec's error document.
        let path = request.uri().path();
        if path.starts_with("/open311/") {
            return super::open311::rate_limited(path, refused.retry_after_secs);
        }
        return refused.into_response();
    }
    if route.as_deref() == Some(CHAT_MESSAGES) && request.method() == axum::http::Method::POST {
        let session = request
            .uri()
            .path()
            .trim_start_matches("/api/chat/sessions/")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        if let Err(refused) = limits.check_sender(&session) {
            return refused.into_response();
        }
    }
    next.run(request).await
}
