//! The domain: what a hotline works with, free of any transport or storage type.
//!
//! Nothing here knows axum, sled, tantivy or teloxide. Channels turn their payloads into an
//! [`InboundMessage`]; the engine answers with [`OutboundReply`]s; tickets are [`Ticket`]s.

mod callback;
mod cluster;
mod conversation;
pub mod digest;
mod handling;
pub mod lifecycle;
mod message;
mod outbox;
mod place;
mod record;
mod sms;
mod ticket;
mod webhook;

pub use callback::{
    Callback, CallbackRound, PendingSurvey, Satisfaction, SurveyChat, SurveyOutcome, SurveyStep,
};
pub use cluster::Cluster;
pub use conversation::{Conversation, DialogueState, Draft, Field, Speaker, TranscriptEntry};
pub use digest::TicketDigest;
pub use handling::{Deadlines, ExtensionRequest, Handling, Proposal, UnitId, UnitReply, Warned};
pub use lifecycle::{
    ActionKind, Actor, CitizenNotice, LifecycleRules, RuleBroken, TicketAction, TransitionError,
    allowed_actions, apply, citizen_notice, citizen_text,
};
pub use message::{Button, Channel, ConversationId, InboundMessage, OutboundReply};
pub use outbox::OutboxMessage;
pub use place::street_of;
pub use record::{ArticleFeedback, IntakeRecord, RecordKind};
pub use sms::{OptOut, PhoneCode};
pub use ticket::{Category, NewTicket, Ticket, TicketEvent, TicketNumber, TicketStatus};
pub use webhook::{WebhookAttempt, WebhookDelivery};
