//! The generic channel API's outbound side: a later reply (a unit's answer, a closure, a survey)
//! for an integrator's user is written to the conversation's transcript, where the integrator can
//! pull it (`GET /api/channel/v1/users/{user}/messages?after=`), and, when the integrator has a
//! `callback_url`, queued as a signed webhook to it (event `message`).
//!
//! The webhook's delivery id is `outbox-<outbox id>`: if a crash repeats the outbox delivery, the
//! integrator sees the same `X-Hotline-Delivery` again and drops it.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::Notify;

use crate::domain::{Button, OutboxMessage, WebhookDelivery};
use crate::store::{ConversationStore, WebhookStore};
use crate::tickets::outbox::{Deliverer, DeliveryFuture};

/// `integrator:user`, as the gateway keys an integrator's chat.
pub fn chat_key(integrator: &str, user: &str) -> String {
    format!("{integrator}:{user}")
}

pub struct IntegratorDeliverer {
    /// Writes the transcript (and tells live listeners), recognising a repeated outbox id.
    pub transcript: Arc<dyn Deliverer>,
    pub conversations: Arc<dyn ConversationStore>,
    pub webhooks: Arc<dyn WebhookStore>,
    /// Integrators with a callback URL.
    pub with_callback: BTreeSet<String>,
    pub ready: Arc<Notify>,
}

#[derive(Serialize)]
struct MessageEvent<'a> {
    event: &'static str,
    integrator: &'a str,
    user: &'a str,
    message: MessageBody<'a>,
}

#[derive(Serialize)]
struct MessageBody<'a> {
    /// Also the `after` cursor of the pull endpoint.
    id: u64,
    text: &'a str,
    buttons: &'a [Button],
    ticket: Option<String>,
    sent_at: Timestamp,
}

impl Deliverer for IntegratorDeliverer {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            self.transcript.deliver(message).await?;
            let conversation = self
                .conversations
                .get(message.conversation)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("conversation {} is gone", message.conversation))?;
            let Some((integrator, user)) = conversation
                .address
                .as_deref()
                .and_then(|a| a.split_once(':'))
            else {
                return Ok(());
            };
            if !self.with_callback.contains(integrator) {
                return Ok(());
            }
            let now = crate::clock::now();
            let body = serde_json::to_string(&MessageEvent {
                event: "message",
                integrator,
                user,
                message: MessageBody {
                    id: message.id,
                    text: &message.reply.text,
                    buttons: &message.reply.buttons,
                    ticket: message.ticket.map(|t| t.to_string()),
                    sent_at: now,
                },
            })
            .map_err(|e| e.to_string())?;
            let mut delivery = WebhookDelivery::new(
                format!("integrator:{integrator}"),
                "message",
                message.ticket,
                body,
                now,
            );
            delivery.delivery_id = format!("outbox-{}", message.id);
            self.webhooks
                .enqueue_webhook(delivery)
                .await
                .map_err(|e| e.to_string())?;
            self.ready.notify_one();
            Ok(())
        })
    }
}
