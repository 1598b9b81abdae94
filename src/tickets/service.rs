//! `TicketService`: every change to a ticket after intake goes through here.

use std::sync::Arc;

use jiff::Timestamp;
use minijinja::context;

mod callback;
mod expiry;
mod survey_result;
mod survey_steps;
pub use callback::{CallbackContext, CallbackStep};
pub use survey_result::SurveyFinish;

use super::TicketChange;
use super::dispatch::{DispatchRules, check_lead};
use crate::bots::Bots;
use crate::calendar::{TimeLimits, Urgency, WorkCalendar};
use crate::domain::lifecycle::{self, Actor, LifecycleRules, TicketAction, TransitionError};
use crate::domain::{OutboundReply, OutboxMessage, Ticket, TicketNumber, TicketStatus, UnitId};
use crate::store::{StoreError, TicketStore, TicketWrite};
use crate::units::Units;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no ticket {0}")]
    NotFound(TicketNumber),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the service is built from.
pub struct TicketServiceParts {
    pub tickets: Arc<dyn TicketStore>,
    pub units: Units,
    pub rules: DispatchRules,
    pub calendar: WorkCalendar,
    pub limits: TimeLimits,
    pub lifecycle: LifecycleRules,
    pub bots: Arc<Bots>,
    /// 回访: the schedule of due callbacks, and their timing and scale.
    pub callbacks: Arc<dyn crate::store::CallbackStore>,
    pub callback: crate::config::CallbackSettings,
    /// The rates' formulas (考评), read by reports.
    pub rates: crate::config::RateSettings,
}

pub struct TicketService {
    parts: TicketServiceParts,
    /// Wakes the outbox worker when a message was queued.
    outbox_ready: Arc<tokio::sync::Notify>,
    /// Webhooks owed by each change (units' case systems); none when not configured.
    hooks: Option<super::Hooks>,
}

impl TicketService {
    pub fn new(parts: TicketServiceParts, outbox_ready: Arc<tokio::sync::Notify>) -> Self {
        TicketService {
            parts,
            outbox_ready,
            hooks: None,
        }
    }

    /// Every later change also queues the webhooks `hooks` asks for, in the same transaction.
    pub fn with_hooks(mut self, hooks: super::Hooks) -> Self {
        self.hooks = Some(hooks);
        self
    }

    pub fn units(&self) -> &Units {
        &self.parts.units
    }

    pub fn calendar(&self) -> &WorkCalendar {
        &self.parts.calendar
    }

    pub(super) fn tickets(&self) -> &Arc<dyn TicketStore> {
        &self.parts.tickets
    }

    pub(super) fn lifecycle(&self) -> &LifecycleRules {
        &self.parts.lifecycle
    }

    pub fn get(&self, number: TicketNumber) -> Result<Ticket, ServiceError> {
        self.parts
            .tickets
            .get(number)?
            .ok_or(ServiceError::NotFound(number))
    }

    /// A unit sees a ticket only if it leads or co-handles it.
    pub fn get_for_unit(
        &self,
        number: TicketNumber,
        unit: &UnitId,
    ) -> Result<Ticket, ServiceError> {
        let ticket = self.get(number)?;
        if !ticket.handling.involves(unit) {
            return Err(ServiceError::Forbidden(format!(
                "ticket {number} is not assigned to unit {}",
                unit.as_str()
            )));
        }
        Ok(ticket)
    }

    /// A new ticket from intake: propose a unit and dispatch at once when the rule is confident.
    pub async fn on_created(&self, ticket: Ticket, now: Timestamp) -> Result<Ticket, ServiceError> {
        let mut ticket = ticket;
        let Some((proposal, urgency)) =
            self.parts.rules.propose(&ticket.details, &self.parts.units)
        else {
            return Ok(ticket);
        };
        ticket.handling.urgency = urgency;
        ticket.handling.proposal = Some(proposal.clone());
        if !proposal.auto {
            self.parts.tickets.save(ticket.clone()).await?;
            return Ok(ticket);
        }
        let action = TicketAction::Dispatch {
            lead: proposal.lead.clone(),
            co_handlers: proposal.co_handlers.clone(),
            deadlines: self.deadlines(&ticket, now),
        };
        self.apply_and_save(ticket, action, &Actor::System, now)
            .await
    }

    /// [`TicketService::on_created`] without the save: the ticket as its proposal or automatic
    /// dispatch leaves it, and the write that stores it with the notices and webhooks it owes,
    /// for the engine to save in the same transaction as the turn that confirmed the ticket
    /// (`TurnWrites::ticket`). Call [`TicketService::change_saved`] once that write is durable.
    pub fn on_created_change(
        &self,
        ticket: Ticket,
        now: Timestamp,
    ) -> Result<(Ticket, Option<TicketWrite>), ServiceError> {
        let mut ticket = ticket;
        let Some((proposal, urgency)) =
            self.parts.rules.propose(&ticket.details, &self.parts.units)
        else {
            return Ok((ticket, None));
        };
        ticket.handling.urgency = urgency;
        ticket.handling.proposal = Some(proposal.clone());
        if !proposal.auto {
            let write = TicketWrite {
                ticket: ticket.clone(),
                messages: Vec::new(),
                webhooks: Vec::new(),
                callbacks: Vec::new(),
            };
            return Ok((ticket, Some(write)));
        }
        let action = TicketAction::Dispatch {
            lead: proposal.lead.clone(),
            co_handlers: proposal.co_handlers.clone(),
            deadlines: self.deadlines(&ticket, now),
        };
        let notice = self.citizen_message(&ticket, &action, now);
        let next = lifecycle::apply(
            &ticket,
            action.clone(),
            &Actor::System,
            now,
            &self.parts.lifecycle,
        )?;
        debug_assert_ne!(next.status, TicketStatus::Closed, "a dispatch never closes");
        // The dispatch set a deadline: its expiry moment (超时回访) is in the write, for the
        // callback schedule in the same transaction as the ticket and the turn.
        let steps = vec![(TicketChange::Action(action), next)];
        let write = self.change_write(&ticket, steps, notice.into_iter().collect(), now);
        Ok(match write {
            Some(write) => (write.ticket.clone(), Some(write)),
            None => (ticket, None),
        })
    }

    fn urgency(&self, ticket: &Ticket) -> Urgency {
        ticket
            .handling
            .urgency
            .as_deref()
            .and_then(Urgency::from_label)
            .unwrap_or(Urgency::General)
    }

    fn deadlines(&self, ticket: &Ticket, now: Timestamp) -> crate::domain::Deadlines {
        self.parts.limits.deadlines(
            &self.parts.calendar,
            now,
            ticket.details.category,
            self.urgency(ticket),
        )
    }

    /// An operator dispatches (or re-dispatches after an objection) to `lead`.
    pub async fn dispatch(
        &self,
        number: TicketNumber,
        lead: UnitId,
        co_handlers: Vec<UnitId>,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        check_lead(&self.parts.units, lead.as_str()).map_err(ServiceError::Invalid)?;
        if let Some(u) = co_handlers
            .iter()
            .find(|u| !self.parts.units.contains(u.as_str()))
        {
            return Err(ServiceError::Invalid(format!(
                "unknown unit `{}`",
                u.as_str()
            )));
        }
        let ticket = self.get(number)?;
        let deadlines = self.deadlines(&ticket, now);
        let action = if ticket.status == TicketStatus::Returned {
            TicketAction::UpholdObjection {
                new_lead: lead,
                deadlines,
            }
        } else {
            TicketAction::Dispatch {
                lead,
                co_handlers,
                deadlines,
            }
        };
        self.apply_and_save(ticket, action, actor, now).await
    }

    /// 重办 after an unsatisfied callback: same lead, new deadlines from now.
    pub async fn rehandle(
        &self,
        number: TicketNumber,
        reason: String,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        let ticket = self.get(number)?;
        let d = self.deadlines(&ticket, now);
        let action = TicketAction::Rehandle {
            reason,
            accept_by: d.accept_by,
            deadline: d.deadline,
        };
        self.apply_and_save(ticket, action, actor, now).await
    }

    /// Any other action, checked against the lifecycle and the actor's rights.
    pub async fn act(
        &self,
        number: TicketNumber,
        action: TicketAction,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        let ticket = match actor {
            Actor::Unit(unit) => self.get_for_unit(number, unit)?,
            _ => self.get(number)?,
        };
        if let TicketAction::MergeInto { number: into } = &action {
            let target = self.get(*into)?;
            if target.number == ticket.number {
                return Err(ServiceError::Invalid(
                    "a ticket cannot be merged into itself".into(),
                ));
            }
        }
        self.apply_and_save(ticket, action, actor, now).await
    }

    async fn apply_and_save(
        &self,
        ticket: Ticket,
        action: TicketAction,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        let notice = self.citizen_message(&ticket, &action, now);
        let mut next =
            lifecycle::apply(&ticket, action.clone(), actor, now, &self.parts.lifecycle)?;
        if expiry::finished(next.status) && !expiry::finished(ticket.status) {
            self.overtake_expiry_round(&mut next, now);
        }
        let mut settled = None;
        let mut survey_due = None;
        if next.status == TicketStatus::Closed && ticket.status != TicketStatus::Closed {
            settled = self.settled_survey(&next, now)?;
            if settled.is_none() {
                survey_due = Some(self.open_callback_round(&mut next, now));
            }
        }
        let messages: Vec<OutboxMessage> = notice.into_iter().collect();
        let mut steps = vec![(TicketChange::Action(action), next)];
        steps.extend(settled.map(|s| (TicketChange::Action(TicketAction::Survey), s)));
        let Some(mut write) = self.change_write(&ticket, steps, messages, now) else {
            return Ok(ticket);
        };
        // The round 办结 opened goes on the callback schedule with the closure.
        write.callbacks.extend(survey_due);
        self.save_write(write).await
    }

    /// The citizen reported the same open matter again (并单 at intake): `after` carries the
    /// note; saved through the one save path, so the units handling it hear of it.
    pub async fn note_repeated_report(
        &self,
        before: &Ticket,
        after: Ticket,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        let change = TicketChange::RepeatedReport;
        self.save_steps(before, vec![(change, after)], Vec::new(), now)
            .await
    }

    /// The one save path for a change after intake: the ticket as the last of `steps` leaves it,
    /// the messages it owes the citizen, the webhooks each step owes (in order) and the expiry
    /// moments of the deadlines the steps set (超时回访), all in one transaction. Each step is
    /// what happened and the ticket after it; the first step starts from `before`.
    pub(super) async fn save_steps(
        &self,
        before: &Ticket,
        steps: Vec<(TicketChange, Ticket)>,
        messages: Vec<OutboxMessage>,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        match self.change_write(before, steps, messages, now) {
            Some(write) => self.save_write(write).await,
            None => Ok(before.clone()),
        }
    }

    /// Stores `write` in one transaction (with its webhooks when there are any) and wakes the
    /// workers it concerns; the ticket as saved.
    pub(super) async fn save_write(&self, write: TicketWrite) -> Result<Ticket, ServiceError> {
        let next = write.ticket.clone();
        let (queued, hooked) = (!write.messages.is_empty(), !write.webhooks.is_empty());
        match &self.hooks {
            Some(hooks) if hooked => hooks.store.save_ticket_change(write).await?,
            _ => {
                self.parts
                    .tickets
                    .save_with_outbox(write.ticket, write.messages, write.callbacks)
                    .await?
            }
        }
        self.change_saved(queued, hooked);
        Ok(next)
    }

    /// What [`TicketService::save_steps`] stores: the ticket as the last step leaves it, the
    /// messages, the webhooks each step owes (in order) and the expiry moment of each deadline
    /// a step set or moved. None when there is no step.
    pub(super) fn change_write(
        &self,
        before: &Ticket,
        steps: Vec<(TicketChange, Ticket)>,
        messages: Vec<OutboxMessage>,
        now: Timestamp,
    ) -> Option<TicketWrite> {
        let mut webhooks = Vec::new();
        let mut callbacks = Vec::new();
        let mut from = before;
        for (change, after) in &steps {
            if let Some(hooks) = &self.hooks {
                webhooks.extend(hooks.hook.webhooks(from, after, change, now));
            }
            callbacks.extend(expiry::deadline_to_watch(from, after));
            from = after;
        }
        let (_, ticket) = steps.into_iter().last()?;
        Some(TicketWrite {
            ticket,
            messages,
            webhooks,
            callbacks,
        })
    }

    /// Wakes the outbox worker (`queued`: the change queued messages) and the webhook worker
    /// (`hooked`: it queued webhooks) once a change is durable.
    pub fn change_saved(&self, queued: bool, hooked: bool) {
        if hooked && let Some(hooks) = &self.hooks {
            hooks.ready.notify_one();
        }
        if queued {
            self.outbox_ready.notify_one();
        }
    }

    /// What the citizen is told about `action`, if anything: replies and closures.
    fn citizen_message(
        &self,
        ticket: &Ticket,
        action: &TicketAction,
        now: Timestamp,
    ) -> Option<OutboxMessage> {
        let unit_name = ticket
            .handling
            .lead
            .as_ref()
            .and_then(|u| self.parts.units.get(u.as_str()))
            .map(|u| u.name.clone())
            .unwrap_or_default();
        let number = ticket.number.to_string();
        let text = match action {
            TicketAction::Reply { text } => self.parts.bots.say(
                "notify_reply",
                context! { number => &number, unit => &unit_name, text => text },
            ),
            TicketAction::Close { text } => self.parts.bots.say(
                "notify_closed",
                context! { number => &number, unit => &unit_name, text => text },
            ),
            _ => return None,
        };
        Some(OutboxMessage::new(
            ticket.details.conversation,
            ticket.details.channel,
            OutboundReply::text(text),
            Some(ticket.number),
            now,
        ))
    }

    /// A page of the tickets a unit leads or co-handles, overdue first, then by deadline, then
    /// the oldest (read from the store's per-unit index: only the page is decoded).
    pub fn list_for_unit(
        &self,
        unit: &UnitId,
        page: crate::store::PageRequest,
    ) -> Result<crate::store::TicketPage, ServiceError> {
        Ok(self.parts.tickets.unit_page(unit, page)?)
    }

    /// A page of the operator queue: waiting for dispatch, objections to review, extensions to
    /// decide, escalations to coordinate; overdue first, then by deadline, then the oldest.
    pub fn queue(
        &self,
        page: crate::store::PageRequest,
    ) -> Result<crate::store::TicketPage, ServiceError> {
        Ok(self.parts.tickets.queue_page(page)?)
    }
}
