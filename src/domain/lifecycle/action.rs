//! What can be done to a ticket ([`TicketAction`]), by whom ([`Actor`]), and the permission rule
//! each action carries: units act only on their own tickets, operators decide, the citizen may
//! withdraw, the system reminds.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::{Deadlines, Handling, TicketNumber, UnitId};

/// One step in a ticket's life. Stored in full on the event it produces, so the audit trail holds
/// every reason, unit and deadline as given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TicketAction {
    /// 派单: to a lead unit, with co-handlers (吹哨报到) and the deadlines of this dispatch.
    Dispatch {
        lead: UnitId,
        co_handlers: Vec<UnitId>,
        deadlines: Deadlines,
    },
    /// 签收.
    Sign,
    /// 办理中: the lead records progress.
    Progress {
        note: String,
    },
    /// 答复: the lead's answer (→ 已答复), or a co-handler's part (recorded, no change of status).
    Reply {
        text: String,
    },
    /// 办结.
    Close {
        text: String,
    },
    /// 回访 done (its answers live with the survey, not here).
    Survey,
    /// 退回/管辖异议: the lead says the matter is not its own.
    Object {
        reason: String,
    },
    /// 改派: the hotline agrees with the objection and dispatches to another unit.
    UpholdObjection {
        new_lead: UnitId,
        deadlines: Deadlines,
    },
    /// The hotline finds the matter is the objecting unit's own; it carries on.
    RejectObjection {
        note: String,
    },
    /// 延期申请, before the deadline, with a reason.
    RequestExtension {
        reason: String,
        until: Timestamp,
    },
    ApproveExtension,
    RefuseExtension {
        note: String,
    },
    /// 催办: a reminder; no change of status.
    Remind {
        note: String,
    },
    /// 督办: supervision of an overdue or troubled ticket; no change of status.
    Supervise {
        note: String,
    },
    /// 重办 after an unsatisfied callback: back to the same lead with new deadlines.
    Rehandle {
        reason: String,
        accept_by: Timestamp,
        deadline: Timestamp,
    },
    /// 并单 into another ticket about the same matter.
    MergeInto {
        number: TicketNumber,
    },
    /// 撤回 by the citizen.
    Withdraw {
        reason: String,
    },
    /// 提级/分级协调: the coordinator becomes the lead.
    Escalate {
        coordinator: UnitId,
        reason: String,
    },
}

/// The name of an action without its data: what the transition table and errors speak of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    Dispatch,
    Sign,
    Progress,
    Reply,
    Close,
    Survey,
    Object,
    UpholdObjection,
    RejectObjection,
    RequestExtension,
    ApproveExtension,
    RefuseExtension,
    Remind,
    Supervise,
    Rehandle,
    MergeInto,
    Withdraw,
    Escalate,
}

impl ActionKind {
    pub const ALL: [ActionKind; 18] = [
        ActionKind::Dispatch,
        ActionKind::Sign,
        ActionKind::Progress,
        ActionKind::Reply,
        ActionKind::Close,
        ActionKind::Survey,
        ActionKind::Object,
        ActionKind::UpholdObjection,
        ActionKind::RejectObjection,
        ActionKind::RequestExtension,
        ActionKind::ApproveExtension,
        ActionKind::RefuseExtension,
        ActionKind::Remind,
        ActionKind::Supervise,
        ActionKind::Rehandle,
        ActionKind::MergeInto,
        ActionKind::Withdraw,
        ActionKind::Escalate,
    ];

    /// The snake_case name, as in the serialized action and in error messages.
    pub fn name(self) -> &'static str {
        match self {
            ActionKind::Dispatch => "dispatch",
            ActionKind::Sign => "sign",
            ActionKind::Progress => "progress",
            ActionKind::Reply => "reply",
            ActionKind::Close => "close",
            ActionKind::Survey => "survey",
            ActionKind::Object => "object",
            ActionKind::UpholdObjection => "uphold_objection",
            ActionKind::RejectObjection => "reject_objection",
            ActionKind::RequestExtension => "request_extension",
            ActionKind::ApproveExtension => "approve_extension",
            ActionKind::RefuseExtension => "refuse_extension",
            ActionKind::Remind => "remind",
            ActionKind::Supervise => "supervise",
            ActionKind::Rehandle => "rehandle",
            ActionKind::MergeInto => "merge_into",
            ActionKind::Withdraw => "withdraw",
            ActionKind::Escalate => "escalate",
        }
    }

    /// Checks that `actor` may take this action on a ticket handled as `handling`; the error
    /// says who may.
    pub(super) fn permits(self, actor: &Actor, handling: &Handling) -> Result<(), &'static str> {
        use ActionKind::*;
        let is_lead = matches!(actor, Actor::Unit(u) if handling.lead.as_ref() == Some(u));
        let (ok, who) = match self {
            // The system dispatches a confident proposal (精准派单) and re-handles after an
            // unsatisfied callback; an operator can do both by hand.
            Dispatch | Rehandle => (
                matches!(actor, Actor::Operator(_) | Actor::System),
                "only the hotline (an operator or the system) may",
            ),
            UpholdObjection | RejectObjection | ApproveExtension | RefuseExtension | MergeInto
            | Escalate => (
                matches!(actor, Actor::Operator(_)),
                "only a hotline operator may",
            ),
            Sign | Progress | Object | RequestExtension => (is_lead, "only the lead unit may"),
            Reply => (
                matches!(actor, Actor::Unit(u) if handling.involves(u)),
                "only the lead unit or a co-handler may",
            ),
            Close => (
                is_lead || matches!(actor, Actor::Operator(_)),
                "only the lead unit or a hotline operator may",
            ),
            Survey | Remind | Supervise => (
                matches!(actor, Actor::Operator(_) | Actor::System),
                "only the hotline (an operator or the system) may",
            ),
            Withdraw => (matches!(actor, Actor::Citizen), "only the citizen may"),
        };
        if ok { Ok(()) } else { Err(who) }
    }
}

impl std::fmt::Display for ActionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl TicketAction {
    pub fn kind(&self) -> ActionKind {
        match self {
            TicketAction::Dispatch { .. } => ActionKind::Dispatch,
            TicketAction::Sign => ActionKind::Sign,
            TicketAction::Progress { .. } => ActionKind::Progress,
            TicketAction::Reply { .. } => ActionKind::Reply,
            TicketAction::Close { .. } => ActionKind::Close,
            TicketAction::Survey => ActionKind::Survey,
            TicketAction::Object { .. } => ActionKind::Object,
            TicketAction::UpholdObjection { .. } => ActionKind::UpholdObjection,
            TicketAction::RejectObjection { .. } => ActionKind::RejectObjection,
            TicketAction::RequestExtension { .. } => ActionKind::RequestExtension,
            TicketAction::ApproveExtension => ActionKind::ApproveExtension,
            TicketAction::RefuseExtension { .. } => ActionKind::RefuseExtension,
            TicketAction::Remind { .. } => ActionKind::Remind,
            TicketAction::Supervise { .. } => ActionKind::Supervise,
            TicketAction::Rehandle { .. } => ActionKind::Rehandle,
            TicketAction::MergeInto { .. } => ActionKind::MergeInto,
            TicketAction::Withdraw { .. } => ActionKind::Withdraw,
            TicketAction::Escalate { .. } => ActionKind::Escalate,
        }
    }

    /// The text this action must not leave blank: the rules ask for a reason when a unit objects
    /// or asks for time, and for a written answer when it replies or closes.
    pub(super) fn required_text(&self) -> Option<&str> {
        match self {
            TicketAction::Progress { note }
            | TicketAction::RejectObjection { note }
            | TicketAction::RefuseExtension { note } => Some(note),
            TicketAction::Reply { text } | TicketAction::Close { text } => Some(text),
            TicketAction::Object { reason }
            | TicketAction::RequestExtension { reason, .. }
            | TicketAction::Rehandle { reason, .. }
            | TicketAction::Escalate { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// Who acts. Operators and units are named by id; the audit trail stores [`Actor::audit_name`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Citizen,
    Operator(String),
    Unit(UnitId),
    System,
}

impl Actor {
    /// `citizen`, `operator:<id>`, `unit:<id>` or `system`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Citizen => "citizen".to_string(),
            Actor::Operator(id) => format!("operator:{id}"),
            Actor::Unit(id) => format!("unit:{id}"),
            Actor::System => "system".to_string(),
        }
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.audit_name())
    }
}
