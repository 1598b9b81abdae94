//! The ticket lifecycle: the closed loop 受理 → 派单 → 签收 → 办理中 → 答复 → 办结 → 回访 and its
//! side paths (退回/改派, 延期, 催办/督办, 重办, 并单, 撤回, 提级), as one pure function.
//!
//! [`apply`] takes a ticket and an action and returns the next ticket with exactly one event
//! appended; it never edits an earlier event. It checks, in this order: is the action open from
//! the current status ([`TransitionError::NotAllowed`], HTTP 409, naming what is)? May this actor
//! take it on this ticket ([`TransitionError::Forbidden`], 403)? Does it keep the rules
//! ([`TransitionError::Rule`], 409)? The transition table is [`allowed_actions`]. Which tickets a
//! unit may *see* is the caller's business: check it before calling, so a stranger gets a 404.
//!
//! Time comes in as `now` and as deadlines computed by the caller from the work calendar
//! ([`crate::domain::Deadlines`]): the objection window is the `object_by` moment set at each
//! dispatch, so this module needs no calendar.

mod action;
mod describe;
mod effect;
#[cfg(test)]
mod tests;

pub use action::{ActionKind, Actor, TicketAction};
pub use describe::{CitizenNotice, citizen_notice, citizen_text};

use jiff::{SignedDuration, Timestamp};

use super::{Ticket, TicketEvent, TicketStatus, UnitId};
use effect::effect;

/// The numbers a city sets for its lifecycle; defaults from DOMAIN.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleRules {
    /// Approved extensions per ticket (2).
    pub max_extensions: u32,
    /// Total length of all extensions, natural time (30 days: DOMAIN.md names a cap, not its size).
    pub max_extension_total: SignedDuration,
    /// The objection that brings the count to this escalates instead of returning (2).
    pub escalate_after_objections: u32,
    /// The re-handling that brings the count to this escalates instead of re-dispatching (3).
    pub escalate_after_rehandles: u32,
}

impl Default for LifecycleRules {
    fn default() -> Self {
        LifecycleRules {
            max_extensions: 2,
            max_extension_total: SignedDuration::from_hours(30 * 24),
            escalate_after_objections: 2,
            escalate_after_rehandles: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransitionError {
    /// The action is not open from this status (→ 409).
    #[error(
        "cannot {action} a ticket that is {} ({}); allowed now: {}",
        from.label(),
        from.name(),
        list(allowed)
    )]
    NotAllowed {
        from: TicketStatus,
        action: &'static str,
        allowed: Vec<&'static str>,
    },
    /// This actor may not take this action on this ticket (→ 403).
    #[error("{actor} may not {action} this ticket: {who} {action}")]
    Forbidden {
        actor: String,
        action: &'static str,
        who: &'static str,
    },
    /// The action is open but breaks a rule (→ 409).
    #[error("cannot {action}: {rule}")]
    Rule {
        action: &'static str,
        rule: RuleBroken,
    },
}

/// A lifecycle rule an otherwise allowed action would break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleBroken {
    #[error("a reason or text is required")]
    TextRequired,
    #[error("deadlines must lie after now, with 签收 due no later than 办结")]
    BadDeadlines,
    #[error("the lead unit cannot also be a co-handler")]
    LeadIsCoHandler,
    #[error("{0} already handles the ticket: name another unit")]
    SameUnit(UnitId),
    #[error("the objection window has closed: the unit is responsible by default")]
    ObjectionWindowClosed,
    #[error("an extension request is already waiting for a decision")]
    ExtensionPending,
    #[error("no extension request is waiting for a decision")]
    NoExtensionPending,
    #[error("the ticket has no deadline to extend")]
    NoDeadline,
    #[error("an extension must be requested before the deadline")]
    DeadlinePassed,
    #[error("an extension must end after the current deadline")]
    ExtensionNotLater,
    #[error("the ticket already had the most extensions allowed ({max})")]
    ExtensionCap { max: u32 },
    #[error("extensions would exceed their allowed total ({max:#})")]
    ExtensionTotal { max: SignedDuration },
    #[error("a ticket cannot be merged into itself")]
    MergeIntoItself,
}

fn list(names: &[&'static str]) -> String {
    if names.is_empty() {
        "nothing (the ticket is finished)".to_string()
    } else {
        names.join(", ")
    }
}

/// The actions open from a status, whoever takes them: the transition table.
pub fn allowed_actions(status: TicketStatus) -> &'static [ActionKind] {
    use ActionKind::*;
    match status {
        TicketStatus::Accepted => &[Dispatch, MergeInto, Withdraw],
        TicketStatus::Dispatched => &[
            Sign, Object, Remind, Supervise, MergeInto, Withdraw, Escalate,
        ],
        TicketStatus::Signed | TicketStatus::InProgress => &[
            Progress,
            Reply,
            Object,
            RequestExtension,
            ApproveExtension,
            RefuseExtension,
            Remind,
            Supervise,
            MergeInto,
            Withdraw,
            Escalate,
        ],
        TicketStatus::Returned => &[
            UpholdObjection,
            RejectObjection,
            MergeInto,
            Withdraw,
            Escalate,
        ],
        TicketStatus::Escalated => &[Escalate, MergeInto, Withdraw],
        TicketStatus::Replied => &[Close],
        TicketStatus::Closed => &[Survey],
        TicketStatus::Surveyed => &[Rehandle],
        TicketStatus::Withdrawn | TicketStatus::Merged => &[],
    }
}

/// Applies `action` by `actor` at `now`: the next ticket, with one event appended.
pub fn apply(
    ticket: &Ticket,
    action: TicketAction,
    actor: &Actor,
    now: Timestamp,
    rules: &LifecycleRules,
) -> Result<Ticket, TransitionError> {
    let kind = action.kind();
    let allowed = allowed_actions(ticket.status);
    if !allowed.contains(&kind) {
        return Err(TransitionError::NotAllowed {
            from: ticket.status,
            action: kind.name(),
            allowed: allowed.iter().map(|k| k.name()).collect(),
        });
    }
    kind.permits(actor, &ticket.handling)
        .map_err(|who| TransitionError::Forbidden {
            actor: actor.audit_name(),
            action: kind.name(),
            who,
        })?;
    let rule = |rule| TransitionError::Rule {
        action: kind.name(),
        rule,
    };
    if action.required_text().is_some_and(|t| t.trim().is_empty()) {
        return Err(rule(RuleBroken::TextRequired));
    }
    let mut next = ticket.clone();
    let to = effect(&mut next, &action, actor, now, rules).map_err(rule)?;
    if !matches!(to, TicketStatus::Signed | TicketStatus::InProgress) {
        next.handling.pending_extension = None;
    }
    let mut event = TicketEvent {
        at: now,
        actor: actor.audit_name(),
        from: Some(ticket.status),
        to,
        note: String::new(),
        action: Some(action),
    };
    event.note = citizen_text(&event, |_| None);
    next.status = to;
    next.events.push(event);
    debug_assert!(next.events.starts_with(&ticket.events));
    Ok(next)
}
