//! A conversation: the dialogue state of one citizen on one channel, and what was said.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Button, Channel, ConversationId, TicketNumber};

/// How many transcript entries a conversation keeps (older ones are dropped first).
pub const TRANSCRIPT_LIMIT: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: ConversationId,
    pub channel: Channel,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Tickets opened in this conversation, oldest first.
    #[serde(default)]
    pub tickets: Vec<TicketNumber>,
    #[serde(default)]
    pub transcript: Vec<TranscriptEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Citizen,
    Hotline,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptEntry {
    pub at: Timestamp,
    pub from: Speaker,
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

impl Conversation {
    pub fn start(channel: Channel, now: Timestamp) -> Conversation {
        Conversation {
            id: ConversationId::new(),
            channel,
            created_at: now,
            updated_at: now,
            tickets: Vec::new(),
            transcript: Vec::new(),
        }
    }

    pub fn record(&mut self, entry: TranscriptEntry) {
        self.updated_at = entry.at;
        self.transcript.push(entry);
        if self.transcript.len() > TRANSCRIPT_LIMIT {
            let excess = self.transcript.len() - TRANSCRIPT_LIMIT;
            self.transcript.drain(..excess);
        }
    }
}
