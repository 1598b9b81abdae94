//! 类案 (a cluster of like cases): tickets about the same matter from the same place, linked when
//! a surge against the place's own baseline raised a hotspot alert, so an operator can dispatch
//! and answer them together.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{TicketNumber, UnitId};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// `LA` and the number of the ticket that opened it (stable, unique per surge).
    pub id: String,
    /// The matter (topic) all its tickets share, e.g. 停水.
    pub matter: String,
    pub district: String,
    /// The street (街道/镇/乡) or road, from the normalised address.
    pub street: String,
    /// When the alert was raised (the created_at of the ticket that crossed the threshold).
    pub raised_at: Timestamp,
    /// Tickets in the window when the alert was raised, and what the baseline expected.
    pub count_at_alert: u32,
    pub expected: f64,
    /// Every linked ticket, oldest first.
    pub tickets: Vec<TicketNumber>,
    /// Set once an operator dispatched the whole cluster to one unit.
    #[serde(default)]
    pub dispatched_to: Option<UnitId>,
}

impl Cluster {
    pub fn id_for(first: TicketNumber) -> String {
        format!("LA{first}")
    }
}
