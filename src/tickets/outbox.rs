//! The outbox worker: delivers queued messages to citizens on their channel, with retries and
//! backoff, exactly once as the citizen sees it.
//!
//! A delivery and its acknowledgement are two steps; a crash between them redelivers on restart.
//! Channels make a redelivery harmless: the web channel records the outbox id with the transcript
//! entry and skips an id it already holds; provider channels pass the id as their idempotency key.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{Notify, broadcast};

use crate::domain::{
    Channel, ConversationId, OutboundReply, OutboxMessage, Speaker, TranscriptEntry,
};
use crate::engine::locks::StripedLocks;
use crate::store::{ConversationStore, OutboxStore};
use crate::{clock, retry};

pub type DeliveryFuture<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;

/// One channel's way of sending a queued message.
pub trait Deliverer: Send + Sync {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> DeliveryFuture<'a>;
}

/// A reply pushed to whoever listens on a conversation (the web chat's event stream).
#[derive(Debug, Clone)]
pub struct LiveReply {
    pub conversation: ConversationId,
    pub reply: OutboundReply,
    pub ticket: Option<String>,
}

/// Fan-out of live replies to connected web clients.
#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<LiveReply>,
}

impl LiveHub {
    pub fn new() -> Self {
        LiveHub {
            sender: broadcast::channel(1024).0,
        }
    }

    pub fn publish(&self, reply: LiveReply) {
        // No listener is fine: the reply is in the transcript for the next page load.
        let _ = self.sender.send(reply);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveReply> {
        self.sender.subscribe()
    }
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

/// Delivers to the web chat (and the generic API): into the conversation's transcript, then live.
pub struct TranscriptDeliverer {
    pub conversations: Arc<dyn ConversationStore>,
    pub hub: LiveHub,
    /// The engine's conversation locks: a delivery never interleaves with a message being handled.
    pub locks: Arc<StripedLocks>,
}

impl Deliverer for TranscriptDeliverer {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let _turn = self.locks.lock(&message.conversation).await;
            let mut conversation = self
                .conversations
                .get(message.conversation)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("conversation {} is gone", message.conversation))?;
            let seen = conversation
                .transcript
                .iter()
                .any(|e| e.outbox_id == Some(message.id));
            if !seen {
                conversation.record(TranscriptEntry {
                    at: clock::now(),
                    from: Speaker::Hotline,
                    text: message.reply.text.clone(),
                    buttons: message.reply.buttons.clone(),
                    outbox_id: Some(message.id),
                    ticket: None,
                });
                self.conversations
                    .save(conversation)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            self.hub.publish(LiveReply {
                conversation: message.conversation,
                reply: message.reply.clone(),
                ticket: message.ticket.map(|t| t.to_string()),
            });
            Ok(())
        })
    }
}

#[derive(Clone)]
pub struct OutboxWorker {
    pub store: Arc<dyn OutboxStore>,
    pub deliverers: HashMap<Channel, Arc<dyn Deliverer>>,
    pub ready: Arc<Notify>,
}

impl OutboxWorker {
    /// Delivers what is due at `now`; returns how many were delivered.
    pub async fn run_once(&self, now: Timestamp) -> usize {
        let due = match self.store.due(now, 256) {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "outbox read failed");
                return 0;
            }
        };
        let mut delivered = 0;
        for mut message in due {
            let Some(deliverer) = self.deliverers.get(&message.channel) else {
                continue;
            };
            match deliverer.deliver(&message).await {
                Ok(()) => {
                    message.delivered_at = Some(now);
                    message.last_error = None;
                    delivered += 1;
                }
                Err(error) => {
                    message.next_attempt_at =
                        retry::DELIVERY.next_attempt(&mut message.attempts, now);
                    tracing::warn!(id = message.id, channel = message.channel.as_str(), attempts = message.attempts, %error, "outbox delivery failed; will retry");
                    message.last_error = Some(error);
                }
            }
            if let Err(e) = self.store.update(message).await {
                tracing::error!(error = %e, "outbox update failed");
            }
        }
        delivered
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
        tracing::info!("outbox worker stopped");
    }
}
