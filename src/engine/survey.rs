//! The citizen's side of 回访: while a survey is pending on the conversation, a reply that answers
//! its question is read as the answer — even in the middle of another dialogue ("1" included).
//! An unclear short reply is asked about once more; anything else goes on as usual.

use super::{DialogueState, Engine, EngineError, EngineOutput, TicketSummary, Turn};
use crate::callback::{answers, survey};
use crate::domain::{OutboundReply, PendingSurvey, SurveyStep};

/// Longest reply (in characters, punctuation aside) still taken as a try at answering.
const SHORT_REPLY: usize = 12;

impl Engine {
    /// `Some` when the message was taken as (or asked about as) a survey answer.
    pub(super) async fn survey_answer(
        &self,
        turn: &mut Turn<'_>,
    ) -> Result<Option<EngineOutput>, EngineError> {
        let Some(mut pending) = turn.conversation.pending_survey.clone() else {
            return Ok(None);
        };
        let scale = self.service.callback_settings().scale;
        let text = turn.text;
        match pending.step {
            SurveyStep::Solved => {
                let idle = matches!(turn.conversation.state, DialogueState::Idle);
                let read = if idle {
                    answers::solved(text)
                } else {
                    answers::solved_explicitly(text)
                };
                let Some(solved) = read else {
                    return Ok(self.survey_unclear(turn, pending));
                };
                pending.solved = Some(solved);
                // "解决了，挺好" answers both questions; a bare digit only the first.
                if !turn.bare.chars().all(|c| c.is_ascii_digit()) {
                    pending.satisfaction = answers::satisfaction(text, scale);
                }
                if !solved && answers::carries_a_reason(text) {
                    return self
                        .survey_done(turn, pending, Some(text.to_string()))
                        .await;
                }
                pending.step = if pending.satisfaction.is_some() {
                    SurveyStep::Comment
                } else {
                    SurveyStep::Satisfaction
                };
            }
            SurveyStep::Satisfaction => {
                let Some(level) = answers::satisfaction(text, scale) else {
                    return Ok(self.survey_unclear(turn, pending));
                };
                pending.satisfaction = Some(level);
                pending.step = SurveyStep::Comment;
                if level.is_dissatisfied() && answers::carries_a_reason(text) {
                    return self
                        .survey_done(turn, pending, Some(text.to_string()))
                        .await;
                }
            }
            SurveyStep::Comment => {
                let comment = (!answers::is_no_comment(text)).then(|| text.to_string());
                return self.survey_done(turn, pending, comment).await;
            }
        }
        pending.unclear = 0;
        pending.asked_at = turn.now;
        let reply = survey::ask(&self.bots, scale, &pending);
        turn.conversation.pending_survey = Some(pending);
        Ok(Some(EngineOutput::say(reply)))
    }

    /// An unclear reply: asked about once, when it is short and no other dialogue is under way
    /// (not even a knowledge-base answer waiting for 有帮助); otherwise the message is handled as
    /// usual and the survey stays pending.
    fn survey_unclear(
        &self,
        turn: &mut Turn<'_>,
        mut pending: PendingSurvey,
    ) -> Option<EngineOutput> {
        let busy = !matches!(turn.conversation.state, DialogueState::Idle);
        let short = turn.bare.chars().count() <= SHORT_REPLY;
        if busy || !short || pending.unclear >= 1 {
            return None;
        }
        pending.unclear += 1;
        let reply = survey::unclear(&self.bots, self.service.callback_settings().scale, &pending);
        turn.conversation.pending_survey = Some(pending);
        Some(EngineOutput::say(reply))
    }

    async fn survey_done(
        &self,
        turn: &mut Turn<'_>,
        pending: PendingSurvey,
        comment: Option<String>,
    ) -> Result<Option<EngineOutput>, EngineError> {
        turn.conversation.pending_survey = None;
        let finish = self
            .service
            .finish_survey(&pending, comment, turn.now)
            .await?;
        let text = self.service.survey_finish_text(pending.ticket, &finish);
        let ticket = self.service.get(pending.ticket)?;
        Ok(Some(EngineOutput {
            replies: vec![OutboundReply::text(text)],
            ticket: Some(TicketSummary::of(&ticket)),
            duplicate: false,
        }))
    }
}
