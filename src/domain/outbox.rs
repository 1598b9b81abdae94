//! Messages to citizens that leave later than their request: a unit's reply, a closure, a survey.
//! They wait in a persisted outbox until their channel confirms delivery.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Channel, ConversationId, OutboundReply, TicketNumber};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Assigned by the store; also the idempotency key of the delivery.
    pub id: u64,
    pub conversation: ConversationId,
    pub channel: Channel,
    pub reply: OutboundReply,
    pub ticket: Option<TicketNumber>,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    /// The last delivery error, for operators.
    #[serde(default)]
    pub last_error: Option<String>,
    /// The reply is already in the conversation's transcript (the engine recorded it as the
    /// answer to a platform message); the deliverer only sends it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_transcript: bool,
}

impl OutboxMessage {
    pub fn new(
        conversation: ConversationId,
        channel: Channel,
        reply: OutboundReply,
        ticket: Option<TicketNumber>,
        now: Timestamp,
    ) -> Self {
        OutboxMessage {
            id: 0,
            conversation,
            channel,
            reply,
            ticket,
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
            delivered_at: None,
            last_error: None,
            in_transcript: false,
        }
    }
}
