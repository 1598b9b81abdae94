//! The end of a callback round: the citizen's answers (or 未联系上) recorded on the ticket, and
//! 重办 when the citizen was not satisfied and said why.

use jiff::Timestamp;
use minijinja::context;

use super::callback::open_round;
use super::{ServiceError, TicketService};
use crate::callback::survey;
use crate::clock;
use crate::domain::lifecycle::{self, Actor, TicketAction};
use crate::domain::{
    PendingSurvey, SurveyOutcome, Ticket, TicketEvent, TicketNumber, TicketStatus,
};
use crate::tickets::TicketChange;

/// What the citizen's completed survey led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SurveyFinish {
    Recorded,
    /// 重办: back to `unit` with a new deadline.
    Rehandled {
        unit: String,
        deadline: Option<Timestamp>,
    },
    /// The re-handling limit was reached: up to a coordinator.
    Escalated,
    /// The round had already ended (answered elsewhere, or recorded as 未联系上).
    Stale,
    /// An expiry round (超时回访) recorded: the ticket stays with `unit` under 督办; `settled`
    /// when the answer was 已解决 and satisfied, so the 办结 will not ask again.
    StillHandled {
        unit: String,
        settled: bool,
    },
    /// The answers came to an expiry round the 办结 overtook: the closing round will ask.
    Overtaken,
}

impl TicketService {
    /// Ends the open round with `outcome` (→ 已回访); with a `reason`, 重办 follows at once.
    pub(super) async fn finish_round(
        &self,
        ticket: Ticket,
        outcome: SurveyOutcome,
        reason: Option<String>,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        self.end_round(ticket, outcome, reason, "event_survey_unreachable", now)
            .await
    }

    /// [`Self::finish_round`], with the template of the audit note written on 未联系上. The
    /// steps (回访, then 重办) are saved through the one save path, so the units' webhooks hear
    /// of both.
    pub(super) async fn end_round(
        &self,
        mut ticket: Ticket,
        outcome: SurveyOutcome,
        reason: Option<String>,
        unreachable_note: &str,
        now: Timestamp,
    ) -> Result<Ticket, ServiceError> {
        if ticket
            .callback
            .current()
            .is_some_and(|r| r.expired.is_some())
        {
            // 超时回访: recorded, the unit goes on; never 重办 (the reason stays with the round).
            return self
                .end_expiry_round(ticket, outcome, unreachable_note, now)
                .await;
        }
        let unreachable = outcome == SurveyOutcome::Unreachable;
        let before = ticket.clone();
        if let Some(r) = ticket.callback.current_mut() {
            r.outcome = Some(outcome);
            r.finished_at = Some(now);
        }
        let rules = &self.parts.lifecycle;
        let mut surveyed =
            lifecycle::apply(&ticket, TicketAction::Survey, &Actor::System, now, rules)?;
        if unreachable {
            surveyed.events.push(TicketEvent::note(
                now,
                Actor::System.audit_name(),
                surveyed.status,
                self.parts.bots.text(unreachable_note),
            ));
        }
        let rehandle = match reason {
            Some(reason) => {
                let d = self.deadlines(&surveyed, now);
                let action = TicketAction::Rehandle {
                    reason,
                    accept_by: d.accept_by,
                    deadline: d.deadline,
                };
                let rehandled =
                    lifecycle::apply(&surveyed, action.clone(), &Actor::System, now, rules)?;
                Some((TicketChange::Action(action), rehandled))
            }
            None => None,
        };
        let mut steps = vec![(TicketChange::Action(TicketAction::Survey), surveyed)];
        steps.extend(rehandle);
        self.save_steps(&before, steps, Vec::new(), now).await
    }

    /// The citizen answered the survey to the end: records the round, and re-handles the ticket
    /// when it was unsolved or unsatisfying and the citizen said why.
    pub async fn finish_survey(
        &self,
        pending: &PendingSurvey,
        comment: Option<String>,
        now: Timestamp,
    ) -> Result<SurveyFinish, ServiceError> {
        let ticket = self.get(pending.ticket)?;
        if open_round(&ticket).is_none_or(|r| r.round != pending.round) {
            let overtaken =
                ticket.callback.rounds.iter().any(|r| {
                    r.round == pending.round && r.expired.is_some() && r.outcome.is_none()
                });
            return Ok(if overtaken && ticket.status == TicketStatus::Closed {
                SurveyFinish::Overtaken
            } else {
                SurveyFinish::Stale
            });
        }
        let comment = comment.filter(|c| !c.trim().is_empty());
        let reason = survey::wants_reason(pending)
            .then(|| comment.clone())
            .flatten();
        let outcome = SurveyOutcome::Answered {
            solved: pending.solved,
            satisfaction: pending.satisfaction,
            comment,
        };
        let rehandle = reason.is_some();
        let next = self.finish_round(ticket, outcome, reason, now).await?;
        if let Some(round) = next.callback.current().filter(|r| r.expired.is_some()) {
            return Ok(SurveyFinish::StillHandled {
                unit: self.unit_name(&next),
                settled: round.settles_the_matter(),
            });
        }
        Ok(match next.status {
            TicketStatus::Escalated => SurveyFinish::Escalated,
            _ if rehandle => SurveyFinish::Rehandled {
                unit: self.unit_name(&next),
                deadline: next.handling.deadline,
            },
            _ => SurveyFinish::Recorded,
        })
    }

    /// The citizen's reply after the survey ended, as text.
    pub fn survey_finish_text(&self, number: TicketNumber, finish: &SurveyFinish) -> String {
        let bots = &self.parts.bots;
        let number = number.to_string();
        match finish {
            SurveyFinish::Recorded | SurveyFinish::Stale => {
                bots.say("survey_thanks", context! { number => &number })
            }
            SurveyFinish::Rehandled { unit, deadline } => bots.say(
                "survey_rehandled",
                context! {
                    number => &number,
                    unit => unit,
                    deadline => deadline.map(clock::display),
                },
            ),
            SurveyFinish::Escalated => bots.say("survey_escalated", context! { number => &number }),
            SurveyFinish::Overtaken => bots.say("survey_overtaken", context! { number => &number }),
            SurveyFinish::StillHandled { unit, settled } => bots.say(
                "survey_expired_thanks",
                context! { number => &number, unit => unit, settled => settled },
            ),
        }
    }
}
