//! Hooks on ticket changes: what else a change owes besides messages to the citizen — signed
//! webhooks to the units' case systems. They are stored in the same transaction as the change.

use std::sync::Arc;

use jiff::Timestamp;
use tokio::sync::Notify;

use crate::domain::lifecycle::TicketAction;
use crate::domain::{Ticket, WebhookDelivery};
use crate::store::WebhookStore;

/// What happened to a ticket in one saved step: a lifecycle action, a 回访 step that changes
/// the callback round but not the status (the survey sent, its reminder), or the citizen
/// reporting the same open matter again (a note on the trail).
#[derive(Debug, Clone)]
pub enum TicketChange {
    Action(TicketAction),
    SurveySent,
    SurveyReminded,
    RepeatedReport,
    /// The time limit passed before 办结: an expiry round (超时回访) opened, the ticket stays with
    /// its unit (`survey_due`).
    ExpiryRoundOpened,
    /// An expiry round ended with the citizen's answers or 未联系上 (`survey`, like the result
    /// of a closing round), a note on the trail; the status does not change.
    ExpirySurvey,
}

impl TicketChange {
    /// The snake_case name: the action's (`dispatch`, `survey`, `rehandle` …), `survey_sent` or
    /// `survey_reminder`.
    pub fn name(&self) -> &'static str {
        match self {
            TicketChange::Action(action) => action.kind().name(),
            TicketChange::SurveySent => "survey_sent",
            TicketChange::SurveyReminded => "survey_reminder",
            TicketChange::RepeatedReport => "repeated_report",
            TicketChange::ExpiryRoundOpened => "survey_due",
            TicketChange::ExpirySurvey => "survey",
        }
    }

    /// Whether the step appended an event to the ticket's audit trail (whose actor acted).
    pub fn appends_event(&self) -> bool {
        matches!(
            self,
            TicketChange::Action(_) | TicketChange::RepeatedReport | TicketChange::ExpirySurvey
        )
    }
}

/// Turns one change into webhook deliveries (none, or one per receiver).
pub trait ChangeHook: Send + Sync {
    fn webhooks(
        &self,
        before: &Ticket,
        after: &Ticket,
        change: &TicketChange,
        now: Timestamp,
    ) -> Vec<WebhookDelivery>;
}

/// A hook with the store its deliveries are saved in and the worker it wakes.
pub struct Hooks {
    pub hook: Arc<dyn ChangeHook>,
    pub store: Arc<dyn WebhookStore>,
    pub ready: Arc<Notify>,
}
