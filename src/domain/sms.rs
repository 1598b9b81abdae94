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
