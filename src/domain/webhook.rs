//! Signed webhooks waiting to leave: a ticket change for a unit's case system, or a later reply
//! for an integrator's app. The body is fixed when the delivery is queued (the signature covers
//! exactly it); the worker adds a fresh timestamp and signature on every attempt.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::TicketNumber;

/// How many attempts a delivery's log keeps (the newest).
pub const ATTEMPTS_KEPT: usize = 10;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// Assigned by the store: the queue order.
    pub id: u64,
    /// Sent as `X-Hotline-Delivery`; the same on every retry, so a receiver can drop a repeat.
    pub delivery_id: String,
    /// Who receives it: `unit:<id>` or `integrator:<id>`.
    pub target: String,
    /// `ticket.dispatched`, `ticket.signed`, … or `message` (a reply for an integrator's user).
    pub event: String,
    pub ticket: Option<TicketNumber>,
    /// The JSON body, exactly as signed and sent.
    pub body: String,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    /// The latest attempts, oldest first (at most [`ATTEMPTS_KEPT`]).
    #[serde(default)]
    pub log: Vec<WebhookAttempt>,
}

/// One try at a delivery: the receiver's HTTP status, or why there was none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookAttempt {
    pub at: Timestamp,
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl WebhookDelivery {
    pub fn new(
        target: String,
        event: impl Into<String>,
        ticket: Option<TicketNumber>,
        body: String,
        now: Timestamp,
    ) -> Self {
        WebhookDelivery {
            id: 0,
            delivery_id: uuid::Uuid::now_v7().to_string(),
            target,
            event: event.into(),
            ticket,
            body,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            delivered_at: None,
            log: Vec::new(),
        }
    }

    /// Records an attempt, keeping the newest [`ATTEMPTS_KEPT`].
    pub fn record(&mut self, attempt: WebhookAttempt) {
        self.log.push(attempt);
        if self.log.len() > ATTEMPTS_KEPT {
            let extra = self.log.len() - ATTEMPTS_KEPT;
            self.log.drain(..extra);
        }
    }
}
