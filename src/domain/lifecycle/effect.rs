//! What each action changes on a ticket's handling, and the rules it must keep to do so.

use jiff::Timestamp;

use super::{Actor, LifecycleRules, RuleBroken, TicketAction};
use crate::domain::{
    Deadlines, ExtensionRequest, Handling, Ticket, TicketEvent, TicketStatus, UnitId, UnitReply,
};

/// Checks the action's rules and changes `t.handling`; returns the status to move to.
pub(super) fn effect(
    t: &mut Ticket,
    action: &TicketAction,
    actor: &Actor,
    now: Timestamp,
    rules: &LifecycleRules,
) -> Result<TicketStatus, RuleBroken> {
    let status = t.status;
    let h = &mut t.handling;
    match action {
        TicketAction::Dispatch {
            lead,
            co_handlers,
            deadlines,
        } => dispatch(h, lead, co_handlers, deadlines, now),
        TicketAction::Sign => Ok(TicketStatus::Signed),
        TicketAction::Progress { .. } => Ok(TicketStatus::InProgress),
        TicketAction::Reply { text } => Ok(reply(h, status, actor, now, text)),
        TicketAction::Close { .. } => Ok(TicketStatus::Closed),
        TicketAction::Survey => Ok(TicketStatus::Surveyed),
        TicketAction::Object { .. } => object(h, now, rules),
        TicketAction::UpholdObjection {
            new_lead,
            deadlines,
        } => {
            check_deadlines(deadlines, now)?;
            different_unit(h, new_lead)?;
            assign(h, new_lead, deadlines);
            Ok(TicketStatus::Dispatched)
        }
        TicketAction::RejectObjection { .. } => Ok(status_before_objection(&t.events)),
        TicketAction::RequestExtension { reason, until } => {
            request_extension(h, actor, now, reason, *until, rules).map(|()| status)
        }
        TicketAction::ApproveExtension => approve_extension(h).map(|()| status),
        TicketAction::RefuseExtension { .. } => match h.pending_extension.take() {
            Some(_) => Ok(status),
            None => Err(RuleBroken::NoExtensionPending),
        },
        TicketAction::Remind { .. } | TicketAction::Supervise { .. } => Ok(status),
        TicketAction::Rehandle {
            accept_by,
            deadline,
            ..
        } => rehandle(h, now, *accept_by, *deadline, rules),
        TicketAction::MergeInto { number } if *number == t.number => {
            Err(RuleBroken::MergeIntoItself)
        }
        TicketAction::MergeInto { number } => {
            h.merged_into = Some(*number);
            Ok(TicketStatus::Merged)
        }
        TicketAction::Withdraw { .. } => Ok(TicketStatus::Withdrawn),
        TicketAction::Escalate { coordinator, .. } => escalate(h, coordinator),
    }
}

fn dispatch(
    h: &mut Handling,
    lead: &UnitId,
    co_handlers: &[UnitId],
    deadlines: &Deadlines,
    now: Timestamp,
) -> Result<TicketStatus, RuleBroken> {
    check_deadlines(deadlines, now)?;
    if co_handlers.contains(lead) {
        return Err(RuleBroken::LeadIsCoHandler);
    }
    h.co_handlers.clear();
    for unit in co_handlers {
        if !h.co_handlers.contains(unit) {
            h.co_handlers.push(unit.clone());
        }
    }
    assign(h, lead, deadlines);
    Ok(TicketStatus::Dispatched)
}

/// 改派 and 提级 go to another unit than the one handling now.
fn different_unit(h: &Handling, unit: &UnitId) -> Result<(), RuleBroken> {
    if h.lead.as_ref() == Some(unit) {
        return Err(RuleBroken::SameUnit(unit.clone()));
    }
    Ok(())
}

/// The coordinator becomes the lead; it has no signing deadline and cannot object.
fn escalate(h: &mut Handling, coordinator: &UnitId) -> Result<TicketStatus, RuleBroken> {
    different_unit(h, coordinator)?;
    h.co_handlers.retain(|u| u != coordinator);
    h.lead = Some(coordinator.clone());
    h.accept_by = None;
    h.object_by = None;
    h.escalated = true;
    Ok(TicketStatus::Dispatched)
}

fn approve_extension(h: &mut Handling) -> Result<(), RuleBroken> {
    let request = h
        .pending_extension
        .take()
        .ok_or(RuleBroken::NoExtensionPending)?;
    if let Some(old) = h.deadline {
        h.extended_total += request.until.duration_since(old);
    }
    h.deadline = Some(request.until);
    h.extensions += 1;
    Ok(())
}

fn check_deadlines(d: &Deadlines, now: Timestamp) -> Result<(), RuleBroken> {
    let ordered = now < d.accept_by && d.accept_by <= d.deadline && now < d.object_by;
    if ordered {
        Ok(())
    } else {
        Err(RuleBroken::BadDeadlines)
    }
}

/// Makes `lead` the lead unit under `deadlines` (a dispatch or a 改派).
fn assign(h: &mut Handling, lead: &UnitId, deadlines: &Deadlines) {
    h.co_handlers.retain(|u| u != lead);
    h.lead = Some(lead.clone());
    h.accept_by = Some(deadlines.accept_by);
    h.object_by = Some(deadlines.object_by);
    h.deadline = Some(deadlines.deadline);
}

/// The lead's reply answers the citizen (→ 已答复); a co-handler's is its part, kept on record.
fn reply(
    h: &mut Handling,
    status: TicketStatus,
    actor: &Actor,
    now: Timestamp,
    text: &str,
) -> TicketStatus {
    let Actor::Unit(unit) = actor else {
        return status; // permits() admits only units
    };
    h.replies.push(UnitReply {
        unit: unit.clone(),
        at: now,
        text: text.to_string(),
    });
    if h.lead.as_ref() == Some(unit) {
        TicketStatus::Replied
    } else {
        status
    }
}

fn object(
    h: &mut Handling,
    now: Timestamp,
    rules: &LifecycleRules,
) -> Result<TicketStatus, RuleBroken> {
    if h.object_by.is_none_or(|by| now > by) {
        return Err(RuleBroken::ObjectionWindowClosed);
    }
    h.objections += 1;
    if h.objections >= rules.escalate_after_objections {
        h.escalated = true;
        return Ok(TicketStatus::Escalated);
    }
    Ok(TicketStatus::Returned)
}

/// Where a rejected objection sends the ticket back to: the status the objection left.
fn status_before_objection(events: &[TicketEvent]) -> TicketStatus {
    events
        .iter()
        .rev()
        .find(|e| matches!(e.action, Some(TicketAction::Object { .. })))
        .and_then(|e| e.from)
        .unwrap_or(TicketStatus::Dispatched)
}

fn request_extension(
    h: &mut Handling,
    actor: &Actor,
    now: Timestamp,
    reason: &str,
    until: Timestamp,
    rules: &LifecycleRules,
) -> Result<(), RuleBroken> {
    if h.pending_extension.is_some() {
        return Err(RuleBroken::ExtensionPending);
    }
    if h.extensions >= rules.max_extensions {
        return Err(RuleBroken::ExtensionCap {
            max: rules.max_extensions,
        });
    }
    let deadline = h.deadline.ok_or(RuleBroken::NoDeadline)?;
    if now > deadline {
        return Err(RuleBroken::DeadlinePassed);
    }
    if until <= deadline {
        return Err(RuleBroken::ExtensionNotLater);
    }
    if h.extended_total + until.duration_since(deadline) > rules.max_extension_total {
        return Err(RuleBroken::ExtensionTotal {
            max: rules.max_extension_total,
        });
    }
    let Actor::Unit(unit) = actor else {
        return Ok(()); // permits() admits only the lead unit
    };
    h.pending_extension = Some(ExtensionRequest {
        unit: unit.clone(),
        at: now,
        reason: reason.to_string(),
        until,
    });
    Ok(())
}

fn rehandle(
    h: &mut Handling,
    now: Timestamp,
    accept_by: Timestamp,
    deadline: Timestamp,
    rules: &LifecycleRules,
) -> Result<TicketStatus, RuleBroken> {
    if !(now < accept_by && accept_by <= deadline) {
        return Err(RuleBroken::BadDeadlines);
    }
    h.rehandles += 1;
    h.deadline = Some(deadline);
    // The unit accepted jurisdiction the first time round: no new objection window.
    h.object_by = None;
    if h.rehandles >= rules.escalate_after_rehandles {
        h.escalated = true;
        h.accept_by = None;
        return Ok(TicketStatus::Escalated);
    }
    h.accept_by = Some(accept_by);
    Ok(TicketStatus::Dispatched)
}
