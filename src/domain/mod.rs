//! The domain: what a hotline works with, free of any transport or storage type.
//!
//! Nothing here knows axum, sled, tantivy or teloxide. Channels turn their payloads into an
//! [`InboundMessage`]; the engine answers with [`OutboundReply`]s; tickets are [`Ticket`]s.

mod conversation;
mod message;
mod ticket;

pub use conversation::{Conversation, Speaker, TranscriptEntry};
pub use message::{Button, Channel, ConversationId, InboundMessage, OutboundReply};
pub use ticket::{Category, NewTicket, Ticket, TicketEvent, TicketNumber, TicketStatus};
