//! The webhook worker: sends due deliveries, signed, and retries on `retry::DELIVERY` (the
//! outbox's schedule) until the receiver answers 2xx. Every attempt is logged on the delivery;
//! the queue is on disk, so a restart carries on where the last run stopped (a delivery cut off
//! mid-flight is sent again with the same `X-Hotline-Delivery` id, which the receiver uses to
//! drop the repeat).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Notify;

use super::Endpoint;
use super::signature::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use crate::clock;
use crate::domain::{WebhookAttempt, WebhookDelivery};
use crate::retry;
use crate::store::WebhookStore;

/// How long a receiver may take to answer one delivery.
const TIMEOUT: Duration = Duration::from_secs(10);

pub struct WebhookWorker {
    pub store: Arc<dyn WebhookStore>,
    /// By target (`unit:<id>`, `integrator:<id>`).
    pub endpoints: BTreeMap<String, Endpoint>,
    pub client: reqwest::Client,
    pub ready: Arc<Notify>,
}

impl WebhookWorker {
    pub fn new(
        store: Arc<dyn WebhookStore>,
        endpoints: BTreeMap<String, Endpoint>,
        ready: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("hotline/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookWorker {
            store,
            endpoints,
            client,
            ready,
        })
    }

    /// Sends what is due at `now`; returns how many were acknowledged. A target that fails is
    /// skipped for the rest of the round, so one receiver that is down does not hold up others.
    pub async fn run_once(&self, now: Timestamp) -> usize {
        let due = match self.store.due_webhooks(now, 256) {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "webhook queue read failed");
                return 0;
            }
        };
        let mut failing: HashSet<String> = HashSet::new();
        let mut acknowledged = 0;
        for mut delivery in due {
            if failing.contains(&delivery.target) {
                continue;
            }
            let attempt = self.attempt(&delivery).await;
            let ok = attempt.status.is_some_and(|s| (200..300).contains(&s));
            delivery.record(attempt.clone());
            if ok {
                delivery.delivered_at = Some(attempt.at);
                acknowledged += 1;
            } else {
                delivery.next_attempt_at =
                    retry::DELIVERY.next_attempt(&mut delivery.attempts, clock::now());
                tracing::warn!(
                    target_name = %delivery.target,
                    delivery = %delivery.delivery_id,
                    attempts = delivery.attempts,
                    status = ?attempt.status,
                    error = ?attempt.error,
                    "webhook not acknowledged; will retry"
                );
                failing.insert(delivery.target.clone());
            }
            if let Err(e) = self.store.update_webhook(delivery).await {
                tracing::error!(error = %e, "webhook update failed");
            }
        }
        acknowledged
    }

    async fn attempt(&self, delivery: &WebhookDelivery) -> WebhookAttempt {
        let at = clock::now();
        let Some(endpoint) = self.endpoints.get(&delivery.target) else {
            return WebhookAttempt {
                at,
                status: None,
                error: Some(format!(
                    "no webhook is configured for {} any more; it waits until one is",
                    delivery.target
                )),
            };
        };
        let timestamp = at.as_second();
        let signature = sign(
            endpoint.secret.expose().as_bytes(),
            timestamp,
            delivery.body.as_bytes(),
        );
        let sent = self
            .client
            .post(&endpoint.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(SIGNATURE_HEADER, signature)
            .header(DELIVERY_HEADER, &delivery.delivery_id)
            .header(EVENT_HEADER, &delivery.event)
            .body(delivery.body.clone())
            .send()
            .await;
        match sent {
            Ok(response) => {
                let status = response.status();
                WebhookAttempt {
                    at,
                    status: Some(status.as_u16()),
                    error: (!status.is_success())
                        .then(|| format!("the receiver answered {status}")),
                }
            }
            Err(e) => WebhookAttempt {
                at,
                status: None,
                error: Some(without_url(&e)),
            },
        }
    }

    /// Runs until `stop` resolves: on every wake-up, and at least once a second.
    pub async fn run_until_stopped(self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            self.run_once(clock::now()).await;
            tokio::select! {
                _ = &mut stop => break,
                _ = self.ready.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        tracing::info!("webhook worker stopped");
    }
}

/// A transport error in words, without the URL (which may carry a token in its query).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}
