//! 回访 on the ticket side: a round opens when a ticket is closed, the worker sends its survey and
//! its one reminder inside the allowed hours, and the round ends with the citizen's answers or as
//! 未联系上. 未解决 or 不满意 with a reason sends the ticket back to its unit (重办), after which
//! the next closure opens the second round; every round stays on the ticket (`survey_result`).

use jiff::{SignedDuration, Timestamp};

use super::{ServiceError, TicketService};
use crate::callback::reach::{CallbackReach, Reach};
use crate::callback::survey;
use crate::callback::timing::{QuietHours, send_at};
use crate::clock;
use crate::config::CallbackSettings;
use crate::domain::{
    CallbackRound, Conversation, OutboundReply, OutboxMessage, PendingSurvey, SurveyChat,
    SurveyOutcome, SurveyStep, Ticket, TicketNumber, TicketStatus,
};
use crate::engine::locks::StripedLocks;
use crate::store::ConversationStore;
use crate::tickets::TicketChange;

/// What the worker lends the ticket service for one step.
pub struct CallbackContext<'a> {
    pub conversations: &'a dyn ConversationStore,
    /// The engine's conversation locks: a step never interleaves with a citizen's message.
    pub locks: &'a StripedLocks,
    /// Where a survey reaches the citizen; `None`: always the ticket's own conversation.
    pub reach: Option<&'a dyn CallbackReach>,
}

/// A step's ticket and the conversation its survey goes to, read under that conversation's lock.
struct LockedRound<'l> {
    ticket: Ticket,
    conversation: Conversation,
    chat: SurveyChat,
    _turn: tokio::sync::MutexGuard<'l, ()>,
}

enum Preamble<'l> {
    Ready(LockedRound<'l>),
    /// The step ended in the preamble (round moved on, or conversation gone: 未联系上).
    Ended(CallbackStep),
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
    /// Nothing to do any more (answered, re-handled, withdrawn): the entry was removed.
    Dropped,
}

fn hours(h: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(h))
}

fn quiet(settings: &CallbackSettings) -> QuietHours {
    let (start, end) = settings
        .quiet_hours()
        .unwrap_or((jiff::civil::Time::midnight(), jiff::civil::Time::midnight()));
    QuietHours { start, end }
}

/// The round still waiting for an answer, if the ticket is closed and has one.
pub(super) fn open_round(ticket: &Ticket) -> Option<&CallbackRound> {
    let round = ticket.callback.current()?;
    (ticket.status == TicketStatus::Closed && round.finished_at.is_none()).then_some(round)
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

    /// On 办结: opens the next round and puts it on the schedule (before the ticket is saved, so
    /// a crash in between leaves at most an entry the worker drops).
    pub(super) async fn open_callback_round(
        &self,
        ticket: &mut Ticket,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
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
        });
        self.parts
            .callbacks
            .schedule_callback(due_at, ticket.number)
            .await?;
        Ok(())
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

    /// The worker's step for one entry: send the survey, the reminder, or record 未联系上 —
    /// whichever the ticket's open round is due for at `now`.
    pub async fn run_due_callback(
        &self,
        due: Timestamp,
        number: TicketNumber,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
        let settings = &self.parts.callback;
        let Some(ticket) = self.parts.tickets.get(number)? else {
            self.reschedule(due, None, number).await?;
            return Ok(CallbackStep::Dropped);
        };
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
            return Ok(CallbackStep::Waiting);
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
                    self.send_reminder(ticket, &round, now, ctx).await?,
                    Some(next),
                )
            }
            SurveyStep::Comment => (self.give_up(ticket, &round, now, ctx).await?, None),
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

    fn pending_for(round: &CallbackRound, ticket: &Ticket, now: Timestamp) -> PendingSurvey {
        PendingSurvey {
            ticket: ticket.number,
            round: round.round,
            step: SurveyStep::Solved,
            solved: None,
            satisfaction: None,
            unclear: 0,
            asked_at: now,
        }
    }

    /// Whether `conversation` waits on another ticket's survey that is still open.
    fn busy_with_another(&self, conversation: &Conversation, number: TicketNumber) -> bool {
        let Some(other) = &conversation.pending_survey else {
            return false;
        };
        other.ticket != number
            && self
                .parts
                .tickets
                .get(other.ticket)
                .ok()
                .flatten()
                .and_then(|t| open_round(&t).map(|r| r.round == other.round))
                .unwrap_or(false)
    }

    /// The ticket again, under the conversation's lock: `None` when its round has moved on
    /// meanwhile (the citizen answered while this step waited for the lock).
    fn reread(
        &self,
        number: TicketNumber,
        round: &CallbackRound,
    ) -> Result<Option<Ticket>, ServiceError> {
        Ok(self
            .parts
            .tickets
            .get(number)?
            .filter(|t| open_round(t).is_some_and(|r| r == round)))
    }

    /// The preamble every step shares: under the lock of the conversation the survey goes to,
    /// the ticket is read again (its round may have moved on: dropped) and the conversation
    /// loaded (gone: nobody to ask, so the round ends as 未联系上).
    async fn lock_round<'l>(
        &self,
        number: TicketNumber,
        round: &CallbackRound,
        chat: SurveyChat,
        now: Timestamp,
        ctx: &CallbackContext<'l>,
    ) -> Result<Preamble<'l>, ServiceError> {
        let turn = ctx.locks.lock(&chat.conversation).await;
        let Some(ticket) = self.reread(number, round)? else {
            return Ok(Preamble::Ended(CallbackStep::Dropped));
        };
        let Some(conversation) = ctx.conversations.get(chat.conversation)? else {
            self.finish_round(ticket, SurveyOutcome::Unreachable, None, now)
                .await?;
            return Ok(Preamble::Ended(CallbackStep::Unreachable));
        };
        Ok(Preamble::Ready(LockedRound {
            ticket,
            conversation,
            chat,
            _turn: turn,
        }))
    }

    /// Where the survey goes now: the ticket's own conversation unless `ctx.reach` says
    /// otherwise; `None` when nothing reaches the citizen.
    async fn survey_target(
        &self,
        ticket: &Ticket,
        ctx: &CallbackContext<'_>,
    ) -> Result<Option<SurveyChat>, ServiceError> {
        let reach = match ctx.reach {
            Some(reach) => reach.reach(ticket).await?,
            None => Reach::Own,
        };
        Ok(match reach {
            Reach::Own => Some(own_chat(ticket)),
            Reach::Chat(chat) => Some(chat),
            Reach::Nowhere => None,
        })
    }

    async fn send_survey(
        &self,
        ticket: Ticket,
        round: &CallbackRound,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
        let Some(chat) = self.survey_target(&ticket, ctx).await? else {
            // No channel reaches the citizen: said at once, not after a reminder nobody gets.
            let _turn = ctx.locks.lock(&ticket.details.conversation).await;
            let Some(ticket) = self.reread(ticket.number, round)? else {
                return Ok(CallbackStep::Dropped);
            };
            tracing::info!(ticket = %ticket.number, "no channel reaches the citizen: 未联系上");
            self.end_round(
                ticket,
                SurveyOutcome::Unreachable,
                None,
                "event_survey_no_channel",
                now,
            )
            .await?;
            return Ok(CallbackStep::Unreachable);
        };
        let mut locked = match self
            .lock_round(ticket.number, round, chat, now, ctx)
            .await?
        {
            Preamble::Ready(locked) => locked,
            Preamble::Ended(step) => return Ok(step),
        };
        if self.busy_with_another(&locked.conversation, locked.ticket.number) {
            return Ok(CallbackStep::Waiting);
        }
        let pending = Self::pending_for(round, &locked.ticket, now);
        locked.conversation.pending_survey = Some(pending.clone());
        ctx.conversations.save(locked.conversation.clone()).await?;
        let reply = survey::intro(
            &self.parts.bots,
            self.parts.callback.scale,
            &pending,
            &self.unit_name(&locked.ticket),
        );
        let before = locked.ticket.clone();
        let mut ticket = locked.ticket.clone();
        if let Some(r) = ticket.callback.current_mut() {
            r.sent_at = Some(now);
        }
        ticket.callback.survey_chat = (chat != own_chat(&ticket)).then_some(chat);
        self.save_with_message(&before, ticket, TicketChange::SurveySent, chat, reply, now)
            .await?;
        Ok(CallbackStep::Sent)
    }

    /// A callback step saved through the one save path with the message it sends to `chat`.
    async fn save_with_message(
        &self,
        before: &Ticket,
        ticket: Ticket,
        change: TicketChange,
        chat: SurveyChat,
        reply: OutboundReply,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let message = OutboxMessage::new(
            chat.conversation,
            chat.channel,
            reply,
            Some(ticket.number),
            now,
        );
        self.save_steps(before, vec![(change, ticket)], vec![message], now)
            .await?;
        Ok(())
    }

    async fn send_reminder(
        &self,
        ticket: Ticket,
        round: &CallbackRound,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
        let chat = sent_to(&ticket);
        let mut locked = match self
            .lock_round(ticket.number, round, chat, now, ctx)
            .await?
        {
            Preamble::Ready(locked) => locked,
            Preamble::Ended(step) => return Ok(step),
        };
        let pending = match &locked.conversation.pending_survey {
            Some(p) if p.ticket == locked.ticket.number && p.round == round.round => p.clone(),
            _ => {
                // The survey was lost (another survey replaced it): ask again from the start.
                let fresh = Self::pending_for(round, &locked.ticket, now);
                locked.conversation.pending_survey = Some(fresh.clone());
                ctx.conversations.save(locked.conversation.clone()).await?;
                fresh
            }
        };
        let reply = survey::reminder(&self.parts.bots, self.parts.callback.scale, &pending);
        let before = locked.ticket.clone();
        let mut ticket = locked.ticket.clone();
        if let Some(r) = ticket.callback.current_mut() {
            r.reminded_at = Some(now);
        }
        self.save_with_message(
            &before,
            ticket,
            TicketChange::SurveyReminded,
            locked.chat,
            reply,
            now,
        )
        .await?;
        Ok(CallbackStep::Reminded)
    }

    /// No answer after the reminder: 未联系上 (or the answers given so far), never satisfied.
    async fn give_up(
        &self,
        ticket: Ticket,
        round: &CallbackRound,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
        let chat = sent_to(&ticket);
        let mut locked = match self
            .lock_round(ticket.number, round, chat, now, ctx)
            .await?
        {
            Preamble::Ready(locked) => locked,
            Preamble::Ended(step) => return Ok(step),
        };
        let mine = locked
            .conversation
            .pending_survey
            .as_ref()
            .is_some_and(|p| p.ticket == locked.ticket.number && p.round == round.round);
        let mut partial = None;
        if mine {
            partial = locked.conversation.pending_survey.take();
            ctx.conversations.save(locked.conversation.clone()).await?;
        }
        let outcome = match partial {
            Some(p) if p.solved.is_some() || p.satisfaction.is_some() => SurveyOutcome::Answered {
                solved: p.solved,
                satisfaction: p.satisfaction,
                comment: None,
            },
            _ => SurveyOutcome::Unreachable,
        };
        let step = if outcome == SurveyOutcome::Unreachable {
            CallbackStep::Unreachable
        } else {
            CallbackStep::Partial
        };
        self.finish_round(locked.ticket.clone(), outcome, None, now)
            .await?;
        Ok(step)
    }
}

/// The ticket's own conversation and channel.
fn own_chat(ticket: &Ticket) -> SurveyChat {
    SurveyChat {
        channel: ticket.details.channel,
        conversation: ticket.details.conversation,
    }
}

/// Where the open round's survey was sent.
fn sent_to(ticket: &Ticket) -> SurveyChat {
    ticket
        .callback
        .survey_chat
        .unwrap_or_else(|| own_chat(ticket))
}
