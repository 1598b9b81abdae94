//! The callback worker: every `callback.interval_secs` it reads the due entries of the callback
//! schedule (a sled tree ordered by time, so only what is due is read) and lets the ticket
//! service send the survey, the reminder, or record 未联系上 — and open the 超时回访 of a ticket
//! whose time limit passed before 办结.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::reach::CallbackReach;
use crate::clock;
use crate::engine::locks::StripedLocks;
use crate::store::ConversationStore;
use crate::tickets::{CallbackContext, CallbackStep, TicketService};

/// What one tick did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallbackCounts {
    pub sent: usize,
    pub reminded: usize,
    pub unreachable: usize,
    /// Rounds closed after the reminder with the answers given so far.
    pub partial: usize,
    /// Expiry rounds (超时回访) opened whose survey waits for its moment (one sent at once counts
    /// in `sent`).
    pub opened: usize,
}

pub struct CallbackWorker {
    pub service: Arc<TicketService>,
    pub conversations: Arc<dyn ConversationStore>,
    /// The engine's conversation locks: a survey never interleaves with a message being handled.
    pub locks: Arc<StripedLocks>,
    /// Where a survey reaches the citizen when not on the ticket's own conversation (Open311).
    pub reach: Option<Arc<dyn CallbackReach>>,
    pub every: Duration,
}

/// Entries handled per batch; a tick reads batches until nothing is due.
const BATCH: usize = 256;

impl CallbackWorker {
    /// Does whatever is due at `now`.
    pub async fn tick(&self, now: Timestamp) -> CallbackCounts {
        let mut counts = CallbackCounts::default();
        let ctx = CallbackContext {
            conversations: &*self.conversations,
            locks: &self.locks,
            reach: self.reach.as_deref(),
        };
        loop {
            let due = match self.service.due_callbacks(now, BATCH) {
                Ok(due) => due,
                Err(e) => {
                    tracing::error!(error = %e, "callback schedule read failed");
                    return counts;
                }
            };
            let mut progressed = false;
            for (at, number) in &due {
                let step = self.service.run_due_callback(*at, *number, now, &ctx).await;
                match step {
                    Ok(step) => {
                        progressed = true;
                        match step {
                            CallbackStep::Sent => counts.sent += 1,
                            CallbackStep::Reminded => counts.reminded += 1,
                            CallbackStep::Unreachable => counts.unreachable += 1,
                            CallbackStep::Partial => counts.partial += 1,
                            CallbackStep::Opened => counts.opened += 1,
                            CallbackStep::Waiting | CallbackStep::Dropped => {}
                        }
                    }
                    Err(e) => {
                        tracing::error!(ticket = %number, error = %e, "callback step failed; will retry")
                    }
                }
            }
            // A short batch was the last; a batch that failed entirely waits for the next tick.
            if due.len() < BATCH || !progressed {
                return counts;
            }
        }
    }

    pub async fn run_until_stopped(&self, stop: impl Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            self.tick(clock::now()).await;
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(self.every) => {}
            }
        }
        tracing::info!("callback worker stopped");
    }
}
