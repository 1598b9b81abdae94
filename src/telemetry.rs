//! Observability: the counters and histograms recorded where things happen, and what `/metrics`
//! and `/readyz` report.
//!
//! Counters and latency histograms go through the `metrics` facade to one process-wide Prometheus
//! recorder. The state of the store (tickets per status, overdue tickets, the outbox backlog) is
//! not counted in memory: the store keeps those counts in its own indexes, written with the
//! records, and a scrape reads them, so they are right after a restart and cost a few key reads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::Channel;
use crate::kb::KnowledgeBase;
use crate::store::{OutboxStore, SledStore, TicketStore};

/// Request latency buckets, in seconds: fine below 25 ms, where the targets are.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
static KB_LOOKUPS: AtomicU64 = AtomicU64::new(0);
static KB_ANSWERED: AtomicU64 = AtomicU64::new(0);

/// Installs the process-wide recorder on first use; `None` if another recorder was installed.
fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?;
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// A citizen's message reached the engine.
pub fn message_received(channel: Channel) {
    metrics::counter!("hotline_messages_total", "channel" => channel.as_str()).increment(1);
}

/// What a knowledge-base lookup made of a consultation.
#[derive(Debug, Clone, Copy)]
pub enum KbOutcome {
    Answered,
    Suggested,
    Unanswered,
}

pub fn kb_lookup(outcome: KbOutcome) {
    let label = match outcome {
        KbOutcome::Answered => "answered",
        KbOutcome::Suggested => "suggested",
        KbOutcome::Unanswered => "unanswered",
    };
    metrics::counter!("hotline_kb_lookups_total", "outcome" => label).increment(1);
    KB_LOOKUPS.fetch_add(1, Ordering::Relaxed);
    if matches!(outcome, KbOutcome::Answered) {
        KB_ANSWERED.fetch_add(1, Ordering::Relaxed);
    }
}

/// Middleware: every request's latency by route template (never the raw path, which holds
/// session ids and ticket numbers) and its count by status.
pub async fn track_requests(request: Request, next: Next) -> Response {
    recorder();
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "hotline_http_request_duration_seconds",
        "route" => route.clone(),
        "method" => method.clone()
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "hotline_http_requests_total",
        "route" => route,
        "method" => method,
        "status" => status
    )
    .increment(1);
    response
}

/// What `/metrics` and `/readyz` look at.
pub struct Telemetry {
    store: Arc<SledStore>,
}

impl Telemetry {
    pub fn new(store: Arc<SledStore>) -> Self {
        recorder();
        Telemetry { store }
    }

    /// The Prometheus text: the process's counters and histograms, then this store's gauges.
    pub fn render(&self, now: jiff::Timestamp) -> String {
        let mut out = recorder().map(|h| h.render()).unwrap_or_default();
        let snapshot = PrometheusBuilder::new().build_recorder();
        let gauges = snapshot.handle();
        metrics::with_local_recorder(&snapshot, || self.record_gauges(now));
        out.push_str(&gauges.render());
        out
    }

    fn record_gauges(&self, now: jiff::Timestamp) {
        match self.store.status_counts() {
            Ok(counts) => {
                for (status, n) in counts {
                    metrics::gauge!("hotline_tickets", "status" => status.name()).set(n as f64);
                }
            }
            Err(e) => tracing::error!(error = %e, "metrics: ticket counts unreadable"),
        }
        match self.store.overdue(now) {
            Ok(n) => metrics::gauge!("hotline_tickets_overdue").set(n as f64),
            Err(e) => tracing::error!(error = %e, "metrics: overdue count unreadable"),
        }
        match self.store.pending() {
            Ok(n) => metrics::gauge!("hotline_outbox_pending").set(n as f64),
            Err(e) => tracing::error!(error = %e, "metrics: outbox backlog unreadable"),
        }
        let lookups = KB_LOOKUPS.load(Ordering::Relaxed);
        let answered = KB_ANSWERED.load(Ordering::Relaxed);
        let rate = if lookups == 0 {
            0.0
        } else {
            answered as f64 / lookups as f64
        };
        metrics::gauge!("hotline_kb_answer_ratio").set(rate);
    }

    /// Why the server should not get traffic now, if it should not.
    pub fn not_ready(&self, kb: &KnowledgeBase, stopping: bool) -> Option<&'static str> {
        if stopping {
            Some("the server is shutting down")
        } else if !self.store.is_open() {
            Some("the store is closed")
        } else if kb.snapshot().articles().is_empty() {
            Some("the knowledge base has no articles")
        } else {
            None
        }
    }
}
