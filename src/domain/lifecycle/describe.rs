//! What a citizen is told about each event when they ask after their ticket: a short key with its
//! parameters (for templates) and the same in plain words ("已派至南山区城管执法局办理").
//!
//! Internal detail stays internal: a unit's objection reason or an operator's note never reaches
//! the citizen through here, only what happened. Unit names come from the caller (the unit
//! directory); without one the words say 承办单位.

use super::{TicketAction, TicketEvent};
use crate::domain::{TicketNumber, TicketStatus, UnitId};

/// One event as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitizenNotice {
    /// `dispatched`, `signed`, `replied`, `escalated`… one per kind of news.
    pub key: &'static str,
    /// The unit the news is about, when there is one.
    pub unit: Option<UnitId>,
    /// The ticket this one was merged into.
    pub number: Option<TicketNumber>,
}

impl CitizenNotice {
    fn new(key: &'static str) -> Self {
        CitizenNotice {
            key,
            unit: None,
            number: None,
        }
    }

    fn about(key: &'static str, unit: &UnitId) -> Self {
        CitizenNotice {
            unit: Some(unit.clone()),
            ..CitizenNotice::new(key)
        }
    }

    /// Plain words; `unit_name` turns a unit id into its name (`None`: say 承办单位).
    pub fn text(&self, unit_name: impl Fn(&UnitId) -> Option<String>) -> String {
        let unit = self
            .unit
            .as_ref()
            .and_then(unit_name)
            .unwrap_or_else(|| "承办单位".to_string());
        let number = self.number.map(|n| n.to_string()).unwrap_or_default();
        match self.key {
            "dispatched" => format!("已派至{unit}办理"),
            "signed" => format!("{unit}已签收"),
            "in_progress" => format!("{unit}正在办理"),
            "replied" => format!("{unit}已答复"),
            "co_replied" => format!("协办单位{unit}已反馈办理情况"),
            "closed" => "诉求已办结".to_string(),
            "surveyed" => "已完成回访".to_string(),
            "returned" => "承办单位提出管辖异议，热线正在重新审核派单".to_string(),
            "escalation_pending" => "诉求已提级，正在确定协调单位".to_string(),
            "reassigned" => format!("已改派至{unit}办理"),
            "objection_rejected" => "经审核，继续由原承办单位办理".to_string(),
            "extension_requested" => "承办单位申请延期办理，热线正在审核".to_string(),
            "extended" => "延期申请已批准，办理时限相应延长".to_string(),
            "extension_refused" => "延期申请未获批准，按原时限办理".to_string(),
            "reminded" => "热线已催办".to_string(),
            "supervised" => "热线已督办".to_string(),
            "rehandling" => "已安排承办单位重新办理".to_string(),
            "merged" => format!("已与工单{number}合并办理"),
            "withdrawn" => "诉求已撤回".to_string(),
            "escalated" => format!("已提级至{unit}协调办理"),
            _ => "诉求状态已更新".to_string(),
        }
    }
}

/// The notice for an event the lifecycle recorded; `None` for events it did not (受理, a repeated
/// report joined to the ticket), whose note is already written for the citizen.
pub fn citizen_notice(event: &TicketEvent) -> Option<CitizenNotice> {
    let action = event.action.as_ref()?;
    let actor_unit = event.actor.strip_prefix("unit:").map(UnitId::new);
    let by_actor = |key| match &actor_unit {
        Some(unit) => CitizenNotice::about(key, unit),
        None => CitizenNotice::new(key),
    };
    let escalates = event.to == TicketStatus::Escalated;
    let notice = match action {
        TicketAction::Dispatch { lead, .. } => CitizenNotice::about("dispatched", lead),
        TicketAction::Sign => by_actor("signed"),
        TicketAction::Progress { .. } => by_actor("in_progress"),
        TicketAction::Reply { .. } if event.to == TicketStatus::Replied => by_actor("replied"),
        TicketAction::Reply { .. } => by_actor("co_replied"),
        TicketAction::Close { .. } => CitizenNotice::new("closed"),
        TicketAction::Survey => CitizenNotice::new("surveyed"),
        TicketAction::Object { .. } if escalates => CitizenNotice::new("escalation_pending"),
        TicketAction::Object { .. } => CitizenNotice::new("returned"),
        TicketAction::UpholdObjection { new_lead, .. } => {
            CitizenNotice::about("reassigned", new_lead)
        }
        TicketAction::RejectObjection { .. } => CitizenNotice::new("objection_rejected"),
        TicketAction::RequestExtension { .. } => CitizenNotice::new("extension_requested"),
        TicketAction::ApproveExtension => CitizenNotice::new("extended"),
        TicketAction::RefuseExtension { .. } => CitizenNotice::new("extension_refused"),
        TicketAction::Remind { .. } => CitizenNotice::new("reminded"),
        TicketAction::Supervise { .. } => CitizenNotice::new("supervised"),
        TicketAction::Rehandle { .. } if escalates => CitizenNotice::new("escalation_pending"),
        TicketAction::Rehandle { .. } => CitizenNotice::new("rehandling"),
        TicketAction::MergeInto { number } => CitizenNotice {
            number: Some(*number),
            ..CitizenNotice::new("merged")
        },
        TicketAction::Withdraw { .. } => CitizenNotice::new("withdrawn"),
        TicketAction::Escalate { coordinator, .. } => {
            CitizenNotice::about("escalated", coordinator)
        }
    };
    Some(notice)
}

/// The plain words for any event: the lifecycle's notice, or the event's own note.
pub fn citizen_text(event: &TicketEvent, unit_name: impl Fn(&UnitId) -> Option<String>) -> String {
    match citizen_notice(event) {
        Some(notice) => notice.text(unit_name),
        None => event.note.clone(),
    }
}
