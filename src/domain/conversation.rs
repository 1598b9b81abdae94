//! A conversation: the dialogue state of one citizen on one channel, and what was said.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Button, Category, Channel, ConversationId, PendingSurvey, TicketNumber};

/// How many transcript entries a conversation keeps (older ones are dropped first).
pub const TRANSCRIPT_LIMIT: usize = 200;

/// How many platform message ids a conversation remembers to recognise a retried delivery.
/// Providers retry within minutes; this covers far more than a retry burst.
pub const SEEN_MESSAGES_LIMIT: usize = 64;

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
    /// Where the dialogue stands; persisted so a restart resumes it.
    #[serde(default)]
    pub state: DialogueState,
    /// A phone number the channel proved (an SMS sender, a shared Telegram contact).
    #[serde(default)]
    pub proven_phone: Option<String>,
    /// The citizen asked for a person; operators see the conversation in their queue.
    #[serde(default)]
    pub wants_human: bool,
    /// Identical messages flooded in: kept, and flagged for an operator to review.
    #[serde(default)]
    pub flagged_for_review: bool,
    /// Where the channel reaches the citizen: a Telegram chat id, an SMS number, an integrator's
    /// user id. `None` for the web chat, which is reached through the session.
    #[serde(default)]
    pub address: Option<String>,
    /// The platform ids of the latest messages handled, newest last (see [`SEEN_MESSAGES_LIMIT`]).
    /// Saved with the turn they caused, so a retry after a crash is recognised too.
    #[serde(default)]
    pub seen_messages: Vec<String>,
    /// A callback survey waiting for the citizen's answer (kept apart from `state`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_survey: Option<PendingSurvey>,
}

/// The explicit state machine of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DialogueState {
    /// Nothing pending: the next message is a new matter.
    #[default]
    Idle,
    /// Collecting a ticket: `draft.awaiting` is the question last asked.
    Intake { draft: Draft },
    /// The summary was shown; waiting for 确认 or a correction.
    Confirming { draft: Draft },
    /// A knowledge-base answer was given; waiting (optionally) for 有帮助/没帮助.
    Answered { article: String, question: String },
    /// Near hits were offered as options.
    Suggested {
        question: String,
        options: Vec<String>,
    },
    /// A status query for someone else's ticket: waiting for the phone's last four digits.
    VerifyingStatus { number: TicketNumber, attempts: u8 },
}

/// What a handling unit needs to act, gathered over one or more messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub category: Category,
    pub content: String,
    pub district: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub confidential: Option<bool>,
    /// The matter happens somewhere (a street light, noise): district and address are needed.
    pub needs_place: bool,
    /// The citizen chose to go on without a phone number after failing to give a valid one.
    #[serde(default)]
    pub anonymous: bool,
    pub awaiting: Option<Field>,
    /// Invalid answers to the current question.
    pub attempts: u8,
    pub started_at: Timestamp,
}

/// A piece of a draft the dialogue can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Content,
    District,
    Address,
    Phone,
    Confidential,
}

impl Draft {
    /// The next thing to ask, in the order a unit needs it; `None` when complete.
    pub fn next_missing(&self) -> Option<Field> {
        if self.content.trim().is_empty() {
            return Some(Field::Content);
        }
        if self.needs_place && self.district.is_none() {
            return Some(Field::District);
        }
        if self.needs_place && self.address.is_none() {
            return Some(Field::Address);
        }
        if self.phone.is_none() && !self.anonymous {
            return Some(Field::Phone);
        }
        if self.category == Category::Report && self.confidential.is_none() {
            return Some(Field::Confidential);
        }
        None
    }
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
    /// Set when the entry came from the outbox: a redelivery after a crash is recognised by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_id: Option<u64>,
    /// The ticket this reply opened, joined or answered about, so a page can redraw its card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketNumber>,
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
            state: DialogueState::Idle,
            proven_phone: None,
            wants_human: false,
            flagged_for_review: false,
            address: None,
            seen_messages: Vec::new(),
            pending_survey: None,
        }
    }

    /// Whether a message with this platform id was handled already.
    pub fn has_seen(&self, message_id: &str) -> bool {
        self.seen_messages.iter().any(|m| m == message_id)
    }

    /// Remembers a handled platform message id, forgetting the oldest beyond the limit.
    pub fn mark_seen(&mut self, message_id: String) {
        self.seen_messages.push(message_id);
        if self.seen_messages.len() > SEEN_MESSAGES_LIMIT {
            let excess = self.seen_messages.len() - SEEN_MESSAGES_LIMIT;
            self.seen_messages.drain(..excess);
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
