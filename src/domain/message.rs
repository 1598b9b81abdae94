//! Messages in and replies out: the one shape every channel speaks to the engine.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a citizen reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    Telegram,
    Sms,
    Api,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Telegram => "telegram",
            Channel::Sms => "sms",
            Channel::Api => "api",
        }
    }
}

/// One conversation between one citizen and the hotline on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConversationId(pub Uuid);

impl ConversationId {
    pub fn new() -> Self {
        ConversationId(Uuid::now_v7())
    }

    /// Parses the textual form used in URLs; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        Uuid::try_parse(text).ok().map(ConversationId)
    }
}

impl Default for ConversationId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for ConversationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A citizen's message, whatever channel it came from.
#[derive(Debug, Clone)]
pub struct InboundMessage {
    pub channel: Channel,
    pub conversation: ConversationId,
    pub text: String,
    /// The platform's id for this message (a Telegram update id, an SMS provider's message id).
    /// A retried delivery carries the same id and changes nothing.
    pub message_id: Option<String>,
    /// A phone number the platform proved belongs to the sender (an SMS sender, a Telegram
    /// contact shared by its own user). Never a number the citizen merely typed.
    pub proven_phone: Option<String>,
}

impl InboundMessage {
    /// A message with no platform id and no proven phone (the web chat).
    pub fn new(channel: Channel, conversation: ConversationId, text: impl Into<String>) -> Self {
        InboundMessage {
            channel,
            conversation,
            text: text.into(),
            message_id: None,
            proven_phone: None,
        }
    }
}

/// A button under a reply: `label` is shown, `payload` is sent back as the next message's text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    pub payload: String,
}

impl Button {
    pub fn new(label: impl Into<String>, payload: impl Into<String>) -> Self {
        Button {
            label: label.into(),
            payload: payload.into(),
        }
    }
}

/// One message from the hotline to the citizen; each channel renders it its own way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundReply {
    pub text: String,
    #[serde(default)]
    pub buttons: Vec<Button>,
}

impl OutboundReply {
    pub fn text(text: impl Into<String>) -> Self {
        OutboundReply {
            text: text.into(),
            buttons: Vec::new(),
        }
    }

    pub fn with_buttons(mut self, buttons: Vec<Button>) -> Self {
        self.buttons = buttons;
        self
    }
}
