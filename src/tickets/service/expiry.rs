//! 超时回访: when a ticket's time limit (its deadline, approved extensions included) passes and
//! the unit has not closed it, the citizen is asked too — the same survey, quiet hours, reminder
//! and 未联系上 as after 办结, on the channel they used — and the answer counts in the unit's
//! rates like any finished round.
//!
//! The rules where DOMAIN.md is silent:
//! - The round leaves the ticket with its unit (under 督办): the survey changes no status, and
//!   an unsolved or unsatisfied answer never starts 重办 (the first handling is not finished);
//!   the reason is kept with the round for the hotline.
//! - One round per deadline: a deadline already surveyed never opens another; a new deadline
//!   (extension, 改派, 重办) may.
//! - At 办结: an expiry round still open is overtaken (ended without a rating; the closing round
//!   asks instead); one that recorded 已解决 and at least 基本满意 settles the matter, so the
//!   ticket goes straight to 已回访 with that rating; otherwise the closing round asks as usual.
//! - The moment is a `callbacks_due` entry written when a deadline is set or moved (in the same
//!   transaction as the ticket change), and decided when it fires from the ticket itself: stale
//!   entries (an extended deadline, a closed ticket) are dropped.

use jiff::{SignedDuration, Timestamp};
use minijinja::context;

use super::{ServiceError, TicketService};
use crate::callback::timing::send_at;
use crate::clock;
use crate::domain::lifecycle::{self, Actor, TicketAction};
use crate::domain::{CallbackRound, SurveyOutcome, Ticket, TicketEvent, TicketStatus};
use crate::tickets::TicketChange;

/// A unit still owes the 办结 against the deadline: the statuses an expiry round opens in.
/// (Returned and escalated tickets wait on the hotline, not on the unit.)
pub(super) fn owes_closure(status: TicketStatus) -> bool {
    status.is_running() || status == TicketStatus::Replied
}

/// The ticket's handling is over: no expiry round stays open past these.
pub(super) fn finished(status: TicketStatus) -> bool {
    matches!(
        status,
        TicketStatus::Closed
            | TicketStatus::Surveyed
            | TicketStatus::Withdrawn
            | TicketStatus::Merged
    )
}

/// The deadline whose passing would open an expiry round: the unit owes the 办结 and no round
/// was opened for this deadline yet.
pub(super) fn expiry_pending(ticket: &Ticket) -> Option<Timestamp> {
    let deadline = ticket.handling.deadline?;
    (owes_closure(ticket.status) && !ticket.callback.expired_for(deadline)).then_some(deadline)
}

/// The deadline whose expiry round is due at `now`: passed (to the second, the schedule's grain)
/// and no round of any kind still waiting for an answer.
pub(super) fn expiry_owed(ticket: &Ticket, now: Timestamp) -> Option<Timestamp> {
    let deadline = expiry_pending(ticket)?;
    let waiting = ticket
        .callback
        .current()
        .is_some_and(|r| r.finished_at.is_none());
    (deadline.as_second() <= now.as_second() && !waiting).then_some(deadline)
}

/// The expiry moment `after` has that `before` did not: a deadline set or moved by the change.
pub(super) fn deadline_to_watch(before: &Ticket, after: &Ticket) -> Option<Timestamp> {
    let deadline = expiry_pending(after)?;
    (expiry_pending(before) != Some(deadline)).then_some(deadline)
}

impl TicketService {
    /// Saves one step through the one save path with the expiry moment the ticket is owed put
    /// on the schedule again even when the step did not move its deadline: the 督办 safety net
    /// (a ticket dispatched before expiry rounds existed gets one at its red warning) and the
    /// end of an expiry round (a later deadline may be owed its own round). Same key: never a
    /// second entry.
    pub(crate) async fn save_rewatching(
        &self,
        before: &Ticket,
        change: TicketChange,
        next: Ticket,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        let Some(mut write) = self.change_write(before, vec![(change, next)], Vec::new(), now)
        else {
            return Ok(before.clone());
        };
        if let Some(deadline) = expiry_pending(&write.ticket)
            && !write.callbacks.contains(&deadline)
        {
            write.callbacks.push(deadline);
        }
        self.save_write(write).await
    }

    /// Opens the expiry round for `deadline` and saves it through the one save path; its survey
    /// goes out after the usual delay, outside the quiet hours.
    pub(super) async fn open_expiry_round(
        &self,
        ticket: Ticket,
        deadline: Timestamp,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        let settings = &self.parts.callback;
        let delay = SignedDuration::from_mins(i64::from(settings.delay_minutes));
        let due_at = send_at(
            deadline,
            delay,
            super::callback::quiet(settings),
            &clock::city_tz(),
        );
        let mut next = ticket.clone();
        next.callback.hotline_only = next.details.confidential || next.details.phone.is_none();
        next.callback.survey_chat = None;
        next.callback.rounds.push(CallbackRound {
            round: next.callback.rounds.len() as u32 + 1,
            closed_at: deadline,
            due_at,
            sent_at: None,
            reminded_at: None,
            finished_at: None,
            outcome: None,
            expired: Some(deadline),
        });
        tracing::info!(ticket = %next.number, "time limit passed before 办结: 超时回访 opened");
        self.save_steps(
            &ticket,
            vec![(TicketChange::ExpiryRoundOpened, next)],
            Vec::new(),
            now,
        )
        .await
    }

    /// On 办结, 撤回 or 并单: an expiry round still waiting for its answer ends without a rating
    /// (the closing round, if any, asks instead), noted on the trail.
    pub(super) fn overtake_expiry_round(&self, ticket: &mut Ticket, now: Timestamp) {
        let status = ticket.status;
        let Some(round) = ticket.callback.current_mut() else {
            return;
        };
        if round.expired.is_none() || round.finished_at.is_some() {
            return;
        }
        round.finished_at = Some(now);
        ticket.events.push(TicketEvent::note(
            now,
            Actor::System.audit_name(),
            status,
            self.parts.bots.text("event_survey_superseded"),
        ));
    }

    /// On 办结 after an expiry round that settled the matter: the 回访 step that records it as
    /// the ticket's rating without asking again.
    pub(super) fn settled_survey(
        &self,
        closed: &Ticket,
        now: Timestamp,
    ) -> Result<Option<Ticket>, ServiceError> {
        let Some(round) = closed.callback.current().filter(|r| r.settles_the_matter()) else {
            return Ok(None);
        };
        let result = round
            .outcome
            .as_ref()
            .map(|o| o.label())
            .unwrap_or_default();
        let mut surveyed = lifecycle::apply(
            closed,
            TicketAction::Survey,
            &Actor::System,
            now,
            &self.parts.lifecycle,
        )?;
        surveyed.events.push(TicketEvent::note(
            now,
            Actor::System.audit_name(),
            surveyed.status,
            self.parts
                .bots
                .say("event_survey_settled", context! { result => result }),
        ));
        Ok(Some(surveyed))
    }

    /// Ends an expiry round with `outcome`: recorded with a note on the trail, the status
    /// unchanged (the unit goes on under 督办), saved through the one save path.
    pub(super) async fn end_expiry_round(
        &self,
        ticket: Ticket,
        outcome: SurveyOutcome,
        unreachable_note: &str,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        let mut next = ticket.clone();
        let unreachable = outcome == SurveyOutcome::Unreachable;
        let result = outcome.label();
        let mut deadline = String::new();
        if let Some(r) = next.callback.current_mut() {
            deadline = r.expired.map(clock::display).unwrap_or_default();
            r.outcome = Some(outcome);
            r.finished_at = Some(now);
        }
        let status = next.status;
        let note = |text: String| TicketEvent::note(now, Actor::System.audit_name(), status, text);
        next.events.push(note(self.parts.bots.say(
            "event_survey_expired",
            context! { result => result, deadline => deadline },
        )));
        if unreachable {
            next.events
                .push(note(self.parts.bots.text(unreachable_note)));
        }
        // A later deadline (改派 while the round ran) may already be owed its own round.
        self.save_rewatching(&ticket, TicketChange::ExpirySurvey, next, now)
            .await
    }
}
