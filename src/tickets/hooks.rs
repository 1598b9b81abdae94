//! Hooks on ticket changes: what else a change owes besides messages to the citizen — signed
//! webhooks to the units' case systems. They are stored in the same transaction as the change.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::Notify;

use crate::domain::lifecycle::TicketAction;
use crate::domain::{Ticket, WebhookDelivery};
use crate::store::WebhookStore;

/// Turns one lifecycle change into webhook deliveries (none, or one per receiver).
pub trait ChangeHook: Send + Sync {
    fn webhooks(
        &self,
        before: &Ticket,
        after: &Ticket,
        action: &TicketAction,
        now: Timestamp,
    ) -> Vec<WebhookDelivery>;
}

/// A hook with the store its deliveries are saved in and the worker it wakes.
pub struct Hooks {
    pub hook: Arc<dyn ChangeHook>,
    pub store: Arc<dyn WebhookStore>,
    pub ready: Arc<Notify>,
}
