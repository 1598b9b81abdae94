//! Records of intake that did not become tickets: emergencies redirected, matters refused,
//! floods flagged. Nothing a citizen sends is silently dropped.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Channel, ConversationId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RecordKind {
    /// Told to call these numbers, first one first.
    Emergency { numbers: Vec<String> },
    /// Not taken as a ticket; told the legal route named by `rule`.
    Refused { rule: String },
    /// Identical messages repeated; flagged for an operator.
    Flood,
    /// Asked for a person.
    HumanRequested,
    /// A consultation answered at once from the knowledge base (counts for 直接答复率).
    Answered { article: String },
    /// Over a channel's per-sender rate limit: kept, flagged, not answered.
    RateLimited,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntakeRecord {
    pub at: Timestamp,
    #[serde(flatten)]
    pub kind: RecordKind,
    pub channel: Channel,
    pub conversation: ConversationId,
    pub text: String,
}

/// 有帮助 / 没帮助 counts of one knowledge article.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleFeedback {
    pub helpful: u64,
    pub not_helpful: u64,
}
