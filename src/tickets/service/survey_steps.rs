//! The callback worker's three steps on a ticket's open round — send the survey, send the
//! reminder, give up (未联系上 or the answers so far) — and the preamble they share: the
//! conversation the survey goes to is locked, the ticket read again, the conversation loaded.
//! Each step is saved through the service's one save path, so the units' webhooks hear of it.

use jiff::Timestamp;

use super::callback::{CallbackContext, CallbackStep, open_round};
use super::{ServiceError, TicketService};
use crate::callback::reach::Reach;
use crate::callback::survey;
use crate::clock;
use crate::domain::{
    CallbackRound, Conversation, OutboundReply, OutboxMessage, PendingSurvey, SurveyChat,
    SurveyOutcome, SurveyStep, Ticket, TicketNumber,
};
use crate::tickets::TicketChange;

/// A step's ticket and the conversation its survey goes to, read under that conversation's lock.
struct LockedRound<'l> {
    ticket: Ticket,
    conversation: Conversation,
    chat: SurveyChat,
    _turn: tokio::sync::MutexGuard<'l, ()>,
}

/// What a step marks on the open round.
#[derive(Clone, Copy)]
enum Mark {
    Sent,
    Reminded,
}

enum Preamble<'l> {
    Ready(Box<LockedRound<'l>>),
    /// The step ended in the preamble (round moved on, or conversation gone: 未联系上).
    Ended(CallbackStep),
}

impl TicketService {
    fn pending_for(round: &CallbackRound, ticket: &Ticket, now: Timestamp) -> PendingSurvey {
        PendingSurvey {
            ticket: ticket.number,
            round: round.round,
            step: SurveyStep::Solved,
            solved: None,
            satisfaction: None,
            unclear: 0,
            asked_at: now,
            expired: round.expired.is_some(),
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
        Ok(Preamble::Ready(Box::new(LockedRound {
            ticket,
            conversation,
            chat,
            _turn: turn,
        })))
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

    pub(super) async fn send_survey(
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
        let (bots, scale) = (&self.parts.bots, self.parts.callback.scale);
        let unit = self.unit_name(&locked.ticket);
        let reply = match round.expired {
            Some(deadline) => {
                survey::expired_intro(bots, scale, &pending, &unit, &clock::display(deadline))
            }
            None => survey::intro(bots, scale, &pending, &unit),
        };
        self.mark_and_send(&locked.ticket, Mark::Sent, chat, reply, now)
            .await?;
        Ok(CallbackStep::Sent)
    }

    /// Marks the open round sent (remembering where) or reminded at `now`, and saves it through
    /// the one save path with the message it sends to `chat`.
    async fn mark_and_send(
        &self,
        before: &Ticket,
        mark: Mark,
        chat: SurveyChat,
        reply: OutboundReply,
        now: Timestamp,
    ) -> Result<(), ServiceError> {
        let mut ticket = before.clone();
        let change = match mark {
            Mark::Sent => {
                ticket.callback.survey_chat = (chat != own_chat(&ticket)).then_some(chat);
                TicketChange::SurveySent
            }
            Mark::Reminded => TicketChange::SurveyReminded,
        };
        if let Some(r) = ticket.callback.current_mut() {
            match mark {
                Mark::Sent => r.sent_at = Some(now),
                Mark::Reminded => r.reminded_at = Some(now),
            }
        }
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

    /// The steps after the survey went out, on the conversation it went to: the reminder
    /// (`remind`), or giving up after it.
    pub(super) async fn follow_up(
        &self,
        ticket: Ticket,
        round: &CallbackRound,
        remind: bool,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
        let chat = sent_to(&ticket);
        let locked = match self
            .lock_round(ticket.number, round, chat, now, ctx)
            .await?
        {
            Preamble::Ready(locked) => locked,
            Preamble::Ended(step) => return Ok(step),
        };
        if remind {
            self.send_reminder(locked, round, now, ctx).await
        } else {
            self.give_up(locked, round, now, ctx).await
        }
    }

    async fn send_reminder(
        &self,
        mut locked: Box<LockedRound<'_>>,
        round: &CallbackRound,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
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
        self.mark_and_send(&locked.ticket, Mark::Reminded, locked.chat, reply, now)
            .await?;
        Ok(CallbackStep::Reminded)
    }

    /// No answer after the reminder: 未联系上 (or the answers given so far), never satisfied.
    async fn give_up(
        &self,
        mut locked: Box<LockedRound<'_>>,
        round: &CallbackRound,
        now: Timestamp,
        ctx: &CallbackContext<'_>,
    ) -> Result<CallbackStep, ServiceError> {
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
