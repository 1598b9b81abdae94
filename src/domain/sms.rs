//! What the SMS channel remembers about a number beyond its conversation: an opt-out (退订).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A number that asked for no more messages (退订/TD/STOP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub at: Timestamp,
    /// The outbox message confirming the opt-out: the one message still sent to the number.
    pub confirmation: Option<u64>,
}

/// A one-time code sent by SMS to prove a phone typed into the web chat. Only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneCode {
    /// The number the code was sent to (E.164).
    pub phone: String,
    /// SHA-256 (hex) of the conversation id and the code.
    pub code_hash: String,
    pub expires_at: Timestamp,
    /// Wrong codes entered so far.
    pub attempts: u8,
}
