//! Who handles a ticket and by when: the lead unit (首接负责), its co-handlers (街乡吹哨、部门报到),
//! the deadlines set at dispatch, and the counters the escalation and extension rules read.
//!
//! These fields live in [`Handling`], one nested value on [`super::Ticket`], defaulted as a whole so
//! tickets stored before handling existed still load. Only [`super::apply`] changes them.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use super::TicketNumber;

/// A handling unit's id as listed in `config/units.toml` (`city-hrss`, `nanshan-chengguan`…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitId(String);

impl UnitId {
    pub fn new(id: impl Into<String>) -> Self {
        UnitId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UnitId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The moments a dispatch sets, computed by the caller from the work calendar
/// (`crate::calendar::TimeLimits::deadlines`): the domain never reads a clock or a calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// 签收 by this moment.
    pub accept_by: Timestamp,
    /// A jurisdiction objection (管辖异议) is accepted until this moment; afterwards the unit is
    /// responsible by default.
    pub object_by: Timestamp,
    /// 办结 by this moment (the 办理时限).
    pub deadline: Timestamp,
}

/// One unit's reply (答复): the lead's answer to the citizen, or a co-handler's part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitReply {
    pub unit: UnitId,
    pub at: Timestamp,
    pub text: String,
}

/// A 延期 request waiting for the hotline's decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    pub unit: UnitId,
    pub at: Timestamp,
    pub reason: String,
    pub until: Timestamp,
}

/// Everything about who handles a ticket and by when; all empty until the first dispatch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Handling {
    /// The lead unit (主办单位); `None` before the first dispatch. It stays through an objection
    /// and an escalation until the hotline names the next unit (首接负责).
    pub lead: Option<UnitId>,
    /// Co-handlers (协办单位): they may reply their part, nothing else.
    pub co_handlers: Vec<UnitId>,
    /// 办结 deadline; moved by approved extensions and by re-handling.
    pub deadline: Option<Timestamp>,
    /// 签收 deadline of the current dispatch.
    pub accept_by: Option<Timestamp>,
    /// End of the objection window of the current dispatch; `None`: no objection possible.
    pub object_by: Option<Timestamp>,
    /// Approved extensions and their total length.
    pub extensions: u32,
    pub extended_total: SignedDuration,
    pub pending_extension: Option<ExtensionRequest>,
    /// Jurisdiction objections over the ticket's life (every unit's count together).
    pub objections: u32,
    /// 重办 rounds after unsatisfied callbacks.
    pub rehandles: u32,
    /// Set once the ticket has gone (or is waiting to go) to a coordinator (提级/分级协调).
    pub escalated: bool,
    pub merged_into: Option<TicketNumber>,
    pub replies: Vec<UnitReply>,
    /// The dispatch proposal made when the ticket arrived, with its reason.
    pub proposal: Option<Proposal>,
    /// 时限等级 of the matter (its label), set by the dispatch rule.
    pub urgency: Option<String>,
    /// Deadline warnings already sent for the current deadline (the scheduler fires each once).
    pub warned: Warned,
}

/// A dispatch proposal (精准派单): who should handle a ticket, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub rule: u32,
    pub lead: UnitId,
    pub co_handlers: Vec<UnitId>,
    /// "rule 12: 噪音 + 南山区 → 南山区城市管理综合执法局".
    pub reason: String,
    /// Confident enough to dispatch without an operator.
    pub auto: bool,
}

/// Which deadline warnings went out, for which deadline (a new deadline resets them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Warned {
    pub for_deadline: Option<Timestamp>,
    pub yellow: bool,
    pub red: bool,
}

impl Handling {
    /// The lead or one of the co-handlers.
    pub fn involves(&self, unit: &UnitId) -> bool {
        self.lead.as_ref() == Some(unit) || self.co_handlers.contains(unit)
    }
}
