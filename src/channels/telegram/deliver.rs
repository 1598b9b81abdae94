//! Outbox delivery on Telegram: a unit's reply, a closure, a survey with its buttons.
//!
//! The message is first recorded in the conversation's transcript (once: the entry carries the
//! outbox id; a reply queued with its turn is there already), so a pressed survey button
//! resolves like any other; then it is sent to the chat
//! in [`Conversation::address`](crate::domain::Conversation::address). Telegram has no
//! idempotency key: a crash between sending and the outbox's acknowledgement sends it again.

use teloxide::types::ChatId;

use super::{Telegram, render};
use crate::clock;
use crate::domain::{OutboxMessage, Speaker, TranscriptEntry};
use crate::tickets::outbox::{Deliverer, DeliveryFuture};

impl Telegram {
    /// Records the message in the transcript (once) and returns the chat to send it to.
    async fn record_delivery(&self, message: &OutboxMessage) -> Result<ChatId, String> {
        let engine = self.gateway.engine();
        let locks = engine.conversation_locks();
        let _turn = locks.lock(&message.conversation).await;
        let mut conversation = engine
            .conversation(message.conversation)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("conversation {} is gone", message.conversation))?;
        let chat = conversation
            .address
            .as_deref()
            .and_then(|a| a.parse::<i64>().ok())
            .map(ChatId)
            .ok_or_else(|| format!("conversation {} has no Telegram chat", message.conversation))?;
        let recorded = message.in_transcript
            || conversation
                .transcript
                .iter()
                .any(|e| e.outbox_id == Some(message.id));
        if !recorded {
            conversation.record(TranscriptEntry {
                at: clock::now(),
                from: Speaker::Hotline,
                text: message.reply.text.clone(),
                buttons: message.reply.buttons.clone(),
                outbox_id: Some(message.id),
                ticket: message.ticket,
            });
            engine
                .stores()
                .conversations
                .save(conversation)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(chat)
    }
}

impl Deliverer for Telegram {
    fn deliver<'a>(&'a self, message: &'a OutboxMessage) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let chat = self.record_delivery(message).await?;
            for part in render::render(&message.reply, None) {
                self.send(chat, part)
                    .await
                    .map_err(|e| format!("telegram sendMessage failed: {e}"))?;
            }
            Ok(())
        })
    }
}
