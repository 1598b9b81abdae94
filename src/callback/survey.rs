//! The survey's questions as channel-agnostic replies: text plus buttons (label and payload).
//! Web and Telegram show the buttons; SMS numbers them ("回复1…"); whatever comes back — the
//! payload, the digit or the citizen's own words — is read by [`super::answers`].

use minijinja::context;

use super::answers::levels;
use crate::bots::Bots;
use crate::config::SatisfactionScale;
use crate::domain::{Button, OutboundReply, PendingSurvey, Satisfaction, SurveyStep};

fn button(bots: &Bots, key: &str) -> Button {
    let label = bots.button(key);
    Button::new(label.clone(), label)
}

fn satisfaction_key(level: Satisfaction) -> &'static str {
    match level {
        Satisfaction::VerySatisfied => "very_satisfied",
        Satisfaction::Satisfied => "satisfied",
        Satisfaction::BasicallySatisfied => "basically_satisfied",
        Satisfaction::Dissatisfied => "dissatisfied",
        Satisfaction::VeryDissatisfied => "very_dissatisfied",
    }
}

/// Unsolved or dissatisfied: the comment question asks for the reason (it drives 重办).
pub fn wants_reason(pending: &PendingSurvey) -> bool {
    pending.solved == Some(false) || pending.satisfaction.is_some_and(|s| s.is_dissatisfied())
}

/// The question of the step `pending` waits on, without a preamble.
pub fn question_text(bots: &Bots, pending: &PendingSurvey) -> String {
    match pending.step {
        SurveyStep::Solved => bots.text("survey_question_solved"),
        SurveyStep::Satisfaction => bots.text("survey_ask_satisfaction"),
        SurveyStep::Comment if wants_reason(pending) => bots.text("survey_ask_reason"),
        SurveyStep::Comment => bots.text("survey_ask_comment"),
    }
}

/// The buttons of the step `pending` waits on.
pub fn buttons(bots: &Bots, scale: SatisfactionScale, pending: &PendingSurvey) -> Vec<Button> {
    match pending.step {
        SurveyStep::Solved => vec![button(bots, "solved"), button(bots, "unsolved")],
        SurveyStep::Satisfaction => levels(scale)
            .iter()
            .map(|l| button(bots, satisfaction_key(*l)))
            .collect(),
        SurveyStep::Comment if wants_reason(pending) => vec![button(bots, "skip_reason")],
        SurveyStep::Comment => vec![button(bots, "no_comment")],
    }
}

/// The current question with its buttons.
pub fn ask(bots: &Bots, scale: SatisfactionScale, pending: &PendingSurvey) -> OutboundReply {
    OutboundReply::text(question_text(bots, pending)).with_buttons(buttons(bots, scale, pending))
}

/// The first message of a round: which ticket, which unit, and the first question.
pub fn intro(
    bots: &Bots,
    scale: SatisfactionScale,
    pending: &PendingSurvey,
    unit: &str,
) -> OutboundReply {
    let text = bots.say(
        "survey_intro",
        context! { number => pending.ticket.to_string(), unit => unit },
    );
    OutboundReply::text(text).with_buttons(buttons(bots, scale, pending))
}

/// The one reminder: the question still waiting, with its buttons.
pub fn reminder(bots: &Bots, scale: SatisfactionScale, pending: &PendingSurvey) -> OutboundReply {
    let text = bots.say(
        "survey_reminder",
        context! { number => pending.ticket.to_string(), question => question_text(bots, pending) },
    );
    OutboundReply::text(text).with_buttons(buttons(bots, scale, pending))
}

/// Asking once more after an unclear answer.
pub fn unclear(bots: &Bots, scale: SatisfactionScale, pending: &PendingSurvey) -> OutboundReply {
    let text = bots.say(
        "survey_unclear",
        context! { question => question_text(bots, pending) },
    );
    OutboundReply::text(text).with_buttons(buttons(bots, scale, pending))
}
