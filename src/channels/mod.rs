//! Channels: the outside platforms (Telegram, SMS, integrators' apps) in front of the one engine.
//!
//! Every adapter does the same three things: verify and parse the platform's payload into a
//! [`ChannelMessage`], hand it to the [`Gateway`], and render the engine's replies the platform's
//! way. The gateway owns what is common:
//! - the chat → conversation map (a Telegram chat or an SMS number continues its conversation);
//! - idempotency: the platform's message id is saved with the turn it caused, so a retried
//!   webhook, even after a crash, gets [`Received::Duplicate`] and changes nothing;
//! - proven phone numbers (an SMS sender, a Telegram contact shared by its own user), which link
//!   the citizen's tickets across channels: status queries treat a ticket whose contact phone is
//!   the proven one as the citizen's own.
//!
//! Outbound messages that leave later (a unit's reply, a survey) go through the outbox; each
//! adapter implements [`crate::tickets::outbox::Deliverer`] and finds the chat in
//! [`Conversation::address`].

pub mod api;
pub mod sms;
pub mod telegram;

use std::sync::Arc;

use crate::domain::{Channel, Conversation, ConversationId, InboundMessage, OutboxMessage};
use crate::engine::locks::StripedLocks;
use crate::engine::{Engine, EngineError, EngineOutput, QueueReplies};
use crate::store::ChatStore;

/// A citizen's message as a platform delivered it.
#[derive(Debug, Clone)]
pub struct ChannelMessage {
    pub channel: Channel,
    /// The platform's id for the citizen's chat: a Telegram chat id, the SMS sender's number, an
    /// integrator's user id. Replies go back there.
    pub chat: String,
    /// The platform's id for this message; a retried delivery carries the same one.
    pub message_id: String,
    pub text: String,
    /// A phone number the platform proved belongs to the sender.
    pub proven_phone: Option<String>,
}

/// What became of a message.
#[derive(Debug)]
pub enum Received {
    /// Handled: send these replies.
    Handled {
        conversation: ConversationId,
        output: EngineOutput,
        /// The outbox messages queued with the turn (see [`Gateway::receive_queued`]).
        queued: Vec<OutboxMessage>,
    },
    /// The platform delivered this message before; nothing changed and nothing is to be sent.
    Duplicate { conversation: ConversationId },
}

pub struct Gateway {
    engine: Arc<Engine>,
    chats: Arc<dyn ChatStore>,
    /// Serialises the first messages of a chat, so two retries of it cannot open two conversations.
    chat_locks: StripedLocks,
}

impl Gateway {
    pub fn new(engine: Arc<Engine>, chats: Arc<dyn ChatStore>) -> Gateway {
        Gateway {
            engine,
            chats,
            chat_locks: StripedLocks::new(),
        }
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The conversation a chat continues, opened (and bound to the chat, durably) if it has none.
    pub async fn conversation_for(
        &self,
        channel: Channel,
        chat: &str,
    ) -> Result<Conversation, EngineError> {
        let _first = self.chat_locks.lock(&(channel, chat)).await;
        if let Some(id) = self.chats.chat_conversation(channel, chat)?
            && let Some(conversation) = self.engine.conversation(id)?
        {
            return Ok(conversation);
        }
        let conversation = self
            .engine
            .start_at(channel, Some(chat.to_string()))
            .await?;
        self.chats
            .bind_chat(channel, chat.to_string(), conversation.id)
            .await?;
        Ok(conversation)
    }

    /// Handles one platform message; returns once everything it changed is on disk.
    pub async fn receive(&self, message: ChannelMessage) -> Result<Received, EngineError> {
        self.receive_queued(message, &|_, _| Vec::new()).await
    }

    /// Like [`Gateway::receive`], and queues what `queue` makes of the turn's output in the same
    /// durable write as the turn and its message id: a channel that sends its replies later
    /// cannot lose them to a crash between the two, and a retry stays a no-op.
    pub async fn receive_queued(
        &self,
        message: ChannelMessage,
        queue: QueueReplies<'_>,
    ) -> Result<Received, EngineError> {
        self.engine.validate(&message.text)?;
        let conversation = self
            .conversation_for(message.channel, &message.chat)
            .await?;
        let id = conversation.id;
        let (output, queued) = self
            .engine
            .handle_queued(
                InboundMessage {
                    channel: message.channel,
                    conversation: id,
                    text: message.text,
                    message_id: Some(message.message_id),
                    proven_phone: message.proven_phone,
                },
                queue,
            )
            .await?;
        Ok(if output.duplicate {
            Received::Duplicate { conversation: id }
        } else {
            Received::Handled {
                conversation: id,
                output,
                queued,
            }
        })
    }

    /// Records a phone number the platform proved (a shared contact) without a message turn.
    pub async fn prove_phone(
        &self,
        channel: Channel,
        chat: &str,
        phone: String,
    ) -> Result<ConversationId, EngineError> {
        let conversation = self.conversation_for(channel, chat).await?;
        self.engine.set_proven_phone(conversation.id, phone).await?;
        Ok(conversation.id)
    }
}
