//! Hotspot detection in the server: a background loop reads the digests of the tickets stored
//! since it last looked (by number), feeds the detector, and stores each new cluster (类案) with its tickets linked, or
//! links a ticket to the cluster of a surge under way. Operators see the alerts on the dashboard
//! and at `GET /api/operator/hotspots`, and, when `[operators]` is set in config/webhooks.toml,
//! receive each new alert as a signed `hotspot.alert` webhook: queued in the same transaction
//! as the cluster, then sent and retried by the webhook worker like every other webhook.
//!
//! On start the detector is warmed with the baseline span of stored tickets; a surge found then
//! (one that happened while the server was down) is stored like any other, once: clusters are
//! keyed by their first ticket, so storing one again changes nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use tokio::sync::Notify;

use super::hotspot::{Detector, Outcome};
use super::{Analysis, GovernanceError, facts_of, first_ticket_since};
use crate::domain::{Cluster, TicketNumber, WebhookDelivery};
use crate::store::SledStore;
use crate::webhooks::OPERATORS_TARGET;

pub struct HotspotMonitor {
    store: Arc<SledStore>,
    analysis: Arc<Analysis>,
    state: Mutex<MonitorState>,
    /// Set when the operators have a webhook: wakes the webhook worker after an alert is queued.
    alert_webhooks: Option<Arc<Notify>>,
}

/// The body of a `hotspot.alert` webhook: the cluster, without any citizen's details.
#[derive(Serialize)]
struct HotspotAlert<'a> {
    event: &'static str,
    occurred_at: Timestamp,
    cluster: &'a Cluster,
    /// Where an operator opens it (relative to the server's address).
    href: String,
}

struct MonitorState {
    detector: Detector,
    /// The next ticket number to read.
    next: Option<TicketNumber>,
}

impl HotspotMonitor {
    pub fn new(store: Arc<SledStore>, analysis: Arc<Analysis>) -> Self {
        let detector = Detector::new(analysis.hotspots.clone());
        HotspotMonitor {
            store,
            analysis,
            state: Mutex::new(MonitorState {
                detector,
                next: None,
            }),
            alert_webhooks: None,
        }
    }

    /// Sends every new alert to the operators' webhook as well (`ready` wakes the worker).
    pub fn with_alert_webhooks(mut self, ready: Arc<Notify>) -> Self {
        self.alert_webhooks = Some(ready);
        self
    }

    pub fn analysis(&self) -> &Analysis {
        &self.analysis
    }

    pub fn store(&self) -> &SledStore {
        &self.store
    }

    /// Reads the tickets of the baseline span before `now` (once, at start).
    pub async fn warm(&self, now: Timestamp) -> Result<usize, GovernanceError> {
        let days = i64::from(self.analysis.hotspots.baseline_days) + 1;
        let since = now - SignedDuration::from_hours(24 * days);
        let start = self.start_at(since)?;
        if let Ok(mut s) = self.state.lock() {
            s.next = Some(start);
        }
        self.poll().await
    }

    /// The first ticket that arrived at or after `since`, or the number the next new ticket
    /// will get.
    fn start_at(&self, since: Timestamp) -> Result<TicketNumber, GovernanceError> {
        if let Some(first) = first_ticket_since(&self.store, since)? {
            return Ok(first);
        }
        Ok(match self.store.ticket_bounds()? {
            Some((_, last)) => TicketNumber::from_sequence(last.sequence() + 1),
            None => TicketNumber::from_sequence(TicketNumber::FIRST_SEQUENCE),
        })
    }

    /// Reads every ticket stored since the last call; stores what it found. Returns how many
    /// tickets it read.
    pub async fn poll(&self) -> Result<usize, GovernanceError> {
        let (outcomes, read) = self.detect()?;
        self.persist(outcomes).await?;
        Ok(read)
    }

    fn detect(&self) -> Result<(Vec<(TicketNumber, Outcome)>, usize), GovernanceError> {
        let mut state = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let from = state
            .next
            .unwrap_or(TicketNumber::from_sequence(TicketNumber::FIRST_SEQUENCE));
        let mut outcomes = Vec::new();
        let mut read = 0;
        let mut last = None;
        let mut latest = None;
        for raw in self.store.digests_from(from) {
            let raw = raw?;
            let facts = facts_of(&raw, &self.analysis.topics)?;
            last = Some(raw.number);
            latest = latest.max(Some(facts.digest.created_at));
            read += 1;
            match state.detector.ingest(&facts) {
                Outcome::Quiet => {}
                outcome => outcomes.push((raw.number, outcome)),
            }
        }
        if let Some(last) = last {
            state.next = Some(TicketNumber::from_sequence(last.sequence() + 1));
            // Forget places quiet for the whole baseline span, now and then (by ticket time, so
            // replaying history prunes as it goes).
            if let Some(latest) = latest
                && read > 10_000
            {
                state.detector.prune(latest);
            }
        }
        Ok((outcomes, read))
    }

    async fn persist(&self, outcomes: Vec<(TicketNumber, Outcome)>) -> Result<(), GovernanceError> {
        let mut changed: BTreeMap<String, Cluster> = BTreeMap::new();
        let mut raised: BTreeSet<String> = BTreeSet::new();
        for (number, outcome) in outcomes {
            match outcome {
                Outcome::Raised(cluster) => {
                    if let Some(stored) = self.store.cluster(&cluster.id)? {
                        changed.insert(stored.id.clone(), stored);
                        continue;
                    }
                    tracing::warn!(
                        cluster = %cluster.id,
                        matter = %cluster.matter,
                        district = %cluster.district,
                        street = %cluster.street,
                        count = cluster.count_at_alert,
                        expected = cluster.expected,
                        "hotspot alert: a surge against the place's baseline"
                    );
                    raised.insert(cluster.id.clone());
                    changed.insert(cluster.id.clone(), cluster);
                }
                Outcome::Joined { cluster } => {
                    let entry = match changed.remove(&cluster) {
                        Some(c) => Some(c),
                        None => self.store.cluster(&cluster)?,
                    };
                    if let Some(mut c) = entry {
                        if !c.tickets.contains(&number) {
                            c.tickets.push(number);
                        }
                        changed.insert(c.id.clone(), c);
                    }
                }
                Outcome::Quiet => {}
            }
        }
        for (id, cluster) in changed {
            match &self.alert_webhooks {
                Some(ready) if raised.contains(&id) => {
                    let alert = alert_webhook(&cluster)?;
                    self.store
                        .put_cluster_with_webhooks(cluster, vec![alert])
                        .await?;
                    ready.notify_one();
                }
                _ => self.store.put_cluster(cluster).await?,
            }
        }
        Ok(())
    }

    /// How many (matter, place) pairs the detector is following.
    pub fn tracked_places(&self) -> usize {
        match self.state.lock() {
            Ok(s) => s.detector.tracked_keys(),
            Err(poisoned) => poisoned.into_inner().detector.tracked_keys(),
        }
    }

    /// Reads (off the async threads) and stores what it found.
    async fn poll_blocking(self: &Arc<Self>) -> Result<usize, GovernanceError> {
        let me = Arc::clone(self);
        let (outcomes, read) = tokio::task::spawn_blocking(move || me.detect())
            .await
            .map_err(|e| GovernanceError::Store(crate::store::StoreError::Io(e.to_string())))??;
        self.persist(outcomes).await?;
        Ok(read)
    }

    /// Warms up, then polls every `poll_seconds` until `stop` resolves.
    pub async fn run_until_stopped(self: Arc<Self>, stop: impl Future<Output = ()> + Send) {
        tokio::pin!(stop);
        let since = Timestamp::now()
            - SignedDuration::from_hours(
                24 * (i64::from(self.analysis.hotspots.baseline_days) + 1),
            );
        match self.start_at(since) {
            Ok(start) => {
                if let Ok(mut s) = self.state.lock() {
                    s.next = Some(start);
                }
            }
            Err(e) => tracing::error!(error = %e, "hotspot detector could not find recent tickets"),
        }
        let every = Duration::from_secs(self.analysis.hotspots.poll_seconds.max(1));
        let mut first = true;
        loop {
            let wait = if first { Duration::ZERO } else { every };
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(wait) => {
                    match self.poll_blocking().await {
                        Ok(read) if first => tracing::info!(
                            tickets = read,
                            places = self.tracked_places(),
                            "hotspot detector has read its baseline span"
                        ),
                        Ok(_) => {}
                        Err(e) => tracing::error!(error = %e, "hotspot detection failed"),
                    }
                }
            }
            first = false;
        }
        tracing::info!("hotspot detector stopped");
    }
}

/// The `hotspot.alert` delivery to the operators' endpoint for a newly raised cluster.
fn alert_webhook(cluster: &Cluster) -> Result<WebhookDelivery, GovernanceError> {
    let body = HotspotAlert {
        event: "hotspot.alert",
        occurred_at: cluster.raised_at,
        cluster,
        href: format!("/api/operator/clusters/{}", cluster.id),
    };
    let body = serde_json::to_string(&body)
        .map_err(|e| GovernanceError::Store(crate::store::StoreError::Io(e.to_string())))?;
    Ok(WebhookDelivery::new(
        OPERATORS_TARGET.to_string(),
        "hotspot.alert",
        cluster.tickets.first().copied(),
        body,
        crate::clock::now(),
    ))
}
