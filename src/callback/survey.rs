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
        SurveyStep::Comment if wants_reason(pending) && pending.expired => {
            bots.text("survey_expired_ask_reason")
        }
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

/// The first message of an expiry round (超时回访): the time limit passed, the unit goes on
/// under 督办, and the first question.
pub fn expired_intro(
    bots: &Bots,
    scale: SatisfactionScale,
    pending: &PendingSurvey,
    unit: &str,
    deadline: &str,
) -> OutboundReply {
    let text = bots.say(
        "survey_expired_intro",
        context! { number => pending.ticket.to_string(), unit => unit, deadline => deadline },
    );
    OutboundReply::text(text).with_buttons(buttons(bots, scale, pending))
}

/// The one reminder: the question still waiting, with its buttons.
pub fn reminder(bots: &Bots, scale: SatisfactionScale, pending: &PendingSurvey) -> OutboundReply {
    let template = if pending.expired {
        "survey_expired_reminder"
    } else {
        "survey_reminder"
    };
    let text = bots.say(
        template,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TicketNumber;

    fn bots() -> Bots {
        Bots::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bots")).unwrap()
    }

    fn pending(step: SurveyStep) -> PendingSurvey {
        PendingSurvey {
            ticket: TicketNumber::from_sequence(100_001),
            round: 1,
            step,
            solved: Some(true),
            satisfaction: None,
            unclear: 0,
            asked_at: jiff::Timestamp::UNIX_EPOCH,
            expired: false,
        }
    }

    fn payloads(reply: &OutboundReply) -> Vec<&str> {
        reply.buttons.iter().map(|b| b.payload.as_str()).collect()
    }

    #[test]
    fn each_question_carries_its_choices_as_buttons_on_either_scale() {
        let bots = bots();
        let three = SatisfactionScale::Three;
        let intro = intro(&bots, three, &pending(SurveyStep::Solved), "南山区城管");
        let number = TicketNumber::from_sequence(100_001).to_string();
        assert!(intro.text.contains(&number), "{}", intro.text);
        assert!(intro.text.contains("南山区城管"), "{}", intro.text);
        assert_eq!(payloads(&intro), ["已解决", "未解决"]);
        let asked = ask(&bots, three, &pending(SurveyStep::Satisfaction));
        assert_eq!(payloads(&asked), ["满意", "基本满意", "不满意"]);
        let five = ask(
            &bots,
            SatisfactionScale::Five,
            &pending(SurveyStep::Satisfaction),
        );
        assert_eq!(
            payloads(&five),
            ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
        );
        let comment = ask(&bots, three, &pending(SurveyStep::Comment));
        assert_eq!(payloads(&comment), ["没有了"]);
        let mut unhappy = pending(SurveyStep::Comment);
        unhappy.satisfaction = Some(Satisfaction::Dissatisfied);
        let reason = ask(&bots, three, &unhappy);
        assert!(reason.text.contains("重新办理"), "{}", reason.text);
        assert_eq!(payloads(&reason), ["跳过"]);
        let again = unclear(&bots, three, &pending(SurveyStep::Satisfaction));
        assert!(again.text.contains("满意吗"), "{}", again.text);
        let nudge = reminder(&bots, three, &pending(SurveyStep::Solved));
        assert!(nudge.text.contains("回访提醒"), "{}", nudge.text);
        // Every button's payload is read back as the answer it stands for.
        for (payload, solved) in [("已解决", true), ("未解决", false)] {
            assert_eq!(super::super::answers::solved(payload), Some(solved));
        }
        for (button, level) in five.buttons.iter().zip(Satisfaction::FIVE) {
            assert_eq!(
                super::super::answers::satisfaction(&button.payload, SatisfactionScale::Five),
                Some(level)
            );
        }
    }

    #[test]
    fn an_expiry_round_says_the_time_limit_passed_and_asks_no_reason_for_rehandling() {
        let bots = bots();
        let three = SatisfactionScale::Three;
        let mut expired = pending(SurveyStep::Solved);
        expired.expired = true;
        let intro = expired_intro(&bots, three, &expired, "南山区城管", "2026年12月11日 18:00");
        assert!(intro.text.contains("已超过办理时限"), "{}", intro.text);
        assert!(
            intro.text.contains("2026年12月11日 18:00"),
            "{}",
            intro.text
        );
        assert!(intro.text.contains("督办"), "{}", intro.text);
        assert_eq!(payloads(&intro), ["已解决", "未解决"]);
        let nudge = reminder(&bots, three, &expired);
        assert!(nudge.text.contains("超过办理时限"), "{}", nudge.text);
        expired.step = SurveyStep::Comment;
        expired.solved = Some(false);
        let reason = ask(&bots, three, &expired);
        assert!(reason.text.contains("继续督办"), "{}", reason.text);
        assert!(!reason.text.contains("重新办理"), "{}", reason.text);
    }
}
