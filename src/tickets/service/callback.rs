//! 回访 on the ticket side: a round opens when a ticket is closed, the worker sends its survey and
//! its one reminder inside the allowed hours, and the round ends with the citizen's answers or as
//! 未联系上. 未解决 or 不满意 with a reason sends the ticket back to its unit (重办), after which
//! the next closure opens the second round; every round stays on the ticket (`survey_result`).
//! The worker's steps themselves are in `survey_steps`; rounds opened by a time limit passing
//! before 办结 (超时回访) in `expiry`.

use jiff::{SignedDuration, Timestamp};

use super::{ServiceError, TicketService};
use crate::callback::reach::CallbackReach;
use crate::callback::timing::{QuietHours, send_at};
use crate::clock;
use crate::config::CallbackSettings;
use crate::domain::{CallbackRound, SurveyStep, Ticket, TicketNumber, TicketStatus};
use crate::engine::locks::StripedLocks;
use crate::store::ConversationStore;

/// What the worker lends the ticket service for one step.
pub struct CallbackContext<'a> {
    pub conversations: &'a dyn ConversationStore,
    /// The engine's conversation locks: a step never interleaves with a citizen's message.
    pub locks: &'a StripedLocks,
    /// Where a survey reaches the citizen; `None`: always the ticket's own conversation.
    pub reach: Option<&'a dyn CallbackReach>,
}

/// What the worker did with one due entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackStep {
    Sent,
    Reminded,
    Unreachable,
    /// No answer to the end after the reminder: the answers given so far were recorded.
    Partial,
    /// Not yet: the entry was moved to its moment.
    Waiting,
    /// The time limit passed before 办结: an expiry round opened; its survey waits for its moment.
    Opened,
    /// Nothing to do any more (answered, re-handled, withdrawn): the entry was removed.
    Dropped,
}

fn hours(h: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(h))
}

pub(super) fn quiet(settings: &CallbackSettings) -> QuietHours {
    let (start, end) = settings
        .quiet_hours()
        .unwrap_or((jiff::civil::Time::midnight(), jiff::civil::Time::midnight()));
    QuietHours { start, end }
}

/// The round still waiting for an answer: a closing round while the ticket is closed, an expiry
/// round until the handling is over (`expiry::finished`).
pub(super) fn open_round(ticket: &Ticket) -> Option<&CallbackRound> {
    let round = ticket.callback.current()?;
    let open = match round.expired {
        None => ticket.status == TicketStatus::Closed,
        Some(_) => !super::expiry::finished(ticket.status),
    };
    (open && round.finished_at.is_none()).then_some(round)
}

impl TicketService {
    pub fn callback_settings(&self) -> &CallbackSettings {
        &self.parts.callback
    }

    pub fn rate_settings(&self) -> &crate::config::RateSettings {
        &self.parts.rates
    }

    pub(super) fn unit_name(&self, ticket: &Ticket) -> String {
        ticket
            .handling
            .lead
            .as_ref()
            .and_then(|u| self.parts.units.get(u.as_str()))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    /// On 办结: opens the next round; the moment its survey is due, for the callback schedule
    /// (written with the closure, in the same transaction).
    pub(super) fn open_callback_round(&self, ticket: &mut Ticket, now: Timestamp) -> Timestamp {
        let settings = &self.parts.callback;
        let delay = SignedDuration::from_mins(i64::from(settings.delay_minutes));
        let due_at = send_at(now, delay, quiet(settings), &clock::city_tz());
        let round = ticket.callback.rounds.len() as u32 + 1;
        // 保密 and anonymous tickets: the hotline alone runs the callback.
        ticket.callback.hotline_only =
            ticket.details.confidential || ticket.details.phone.is_none();
        ticket.callback.rounds.push(CallbackRound {
            round,
            closed_at: now,
            due_at,
            sent_at: None,
            reminded_at: None,
            finished_at: None,
            outcome: None,
            expired: None,
        });
        due_at
    }

    /// Callback entries due at `now`, earliest first.
    pub fn due_callbacks(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<(Timestamp, TicketNumber)>, ServiceError> {
        Ok(self.parts.callbacks.due_callbacks(now, limit)?)
    }

    /// Moves an entry from `due` to `at` (nothing to move when they name the same second).
    async fn reschedule(
        &self,
        due: Timestamp,
        at: Option<Timestamp>,
        number: TicketNumber,
    ) -> Result<(), ServiceError> {
        if let Some(at) = at {
            if at.as_second() == due.as_second() {
                return Ok(());
            }
            self.parts.callbacks.schedule_callback(at, number).await?;
        }
        self.parts
            .callbacks
            .unschedule_callback(due, number)
            .await?;
        Ok(())
    }

    /// The worker's step for one entry: open the expiry round when the deadline passed before
    /// 办结, then send the survey, the reminder, or record 未联系上 — whichever the ticket's open
    /// round is due for at `now`.
    pub async fn run_due_callback(
        &self,
        due: Timestamp,
        number: TicketNumber,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
        let settings = &self.parts.callback;
        let Some(mut ticket) = self.parts.tickets.get(number)? else {
            self.reschedule(due, None, number).await?;
            return Ok(CallbackStep::Dropped);
        };
        let mut opened = false;
        if let Some(deadline) = super::expiry::expiry_owed(&ticket, now) {
            ticket = self.open_expiry_round(ticket, deadline, now).await?;
            opened = true;
        }
        let Some(round) = open_round(&ticket).cloned() else {
            self.reschedule(due, None, number).await?;
            return Ok(CallbackStep::Dropped);
        };
        let tz = clock::city_tz();
        let (at, step) = match (round.sent_at, round.reminded_at) {
            (None, _) => (round.due_at, SurveyStep::Solved),
            (Some(sent), None) => (
                send_at(
                    sent,
                    hours(settings.reminder_after_hours),
                    quiet(settings),
                    &tz,
                ),
                SurveyStep::Satisfaction,
            ),
            (Some(_), Some(reminded)) => (
                reminded
                    .saturating_add(hours(settings.give_up_after_hours))
                    .unwrap_or(reminded),
                SurveyStep::Comment,
            ),
        };
        // Entries are kept to the second: compare at that grain so an entry is never both due
        // and not yet due.
        if now.as_second() < at.as_second() {
            self.reschedule(due, Some(at), number).await?;
            return Ok(if opened {
                CallbackStep::Opened
            } else {
                CallbackStep::Waiting
            });
        }
        // The step names which of the three moments is due: survey, reminder, give-up.
        let (done, next) = match step {
            SurveyStep::Solved => {
                let next = send_at(
                    now,
                    hours(settings.reminder_after_hours),
                    quiet(settings),
                    &tz,
                );
                (
                    self.send_survey(ticket, &round, now, ctx).await?,
                    Some(next),
                )
            }
            SurveyStep::Satisfaction => {
                let next = now
                    .saturating_add(hours(settings.give_up_after_hours))
                    .unwrap_or(now);
                (
                    self.follow_up(ticket, &round, true, now, ctx).await?,
                    Some(next),
                )
            }
            SurveyStep::Comment => (self.follow_up(ticket, &round, false, now, ctx).await?, None),
        };
        let next = if done == CallbackStep::Waiting {
            Some(send_at(
                now,
                SignedDuration::from_hours(1),
                quiet(settings),
                &tz,
            ))
        } else {
            next
        };
        self.reschedule(due, next, number).await?;
        Ok(done)
    }
}
