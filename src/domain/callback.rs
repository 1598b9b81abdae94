//! 回访: after a ticket is closed the hotline asks the citizen, on the channel they used, whether
//! the problem was solved and how satisfied they are. The answers decide 重办 and the rates.
//!
//! A ticket keeps every round of its callback ([`Callback::rounds`]): the first and the final
//! rating both stay on record. A conversation keeps the survey it is waiting on
//! ([`PendingSurvey`]), apart from its dialogue state, so "1" is read as the survey answer even in
//! the middle of another dialogue.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Channel, ConversationId, TicketNumber};

/// A satisfaction level. Three levels by default (满意 / 基本满意 / 不满意); a five-level scale adds
/// 非常满意 and 非常不满意.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Satisfaction {
    #[serde(rename = "非常满意")]
    VerySatisfied,
    #[serde(rename = "满意")]
    Satisfied,
    #[serde(rename = "基本满意")]
    BasicallySatisfied,
    #[serde(rename = "不满意")]
    Dissatisfied,
    #[serde(rename = "非常不满意")]
    VeryDissatisfied,
}

impl Satisfaction {
    pub const THREE: [Satisfaction; 3] = [
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
        Satisfaction::Dissatisfied,
    ];
    pub const FIVE: [Satisfaction; 5] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::BasicallySatisfied,
        Satisfaction::Dissatisfied,
        Satisfaction::VeryDissatisfied,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "非常满意",
            Satisfaction::Satisfied => "满意",
            Satisfaction::BasicallySatisfied => "基本满意",
            Satisfaction::Dissatisfied => "不满意",
            Satisfaction::VeryDissatisfied => "非常不满意",
        }
    }

    /// 不满意 or 非常不满意: with a reason, the ticket goes back to the unit (重办).
    pub fn is_dissatisfied(self) -> bool {
        matches!(
            self,
            Satisfaction::Dissatisfied | Satisfaction::VeryDissatisfied
        )
    }
}

/// Which question a pending survey waits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyStep {
    /// 问题解决了吗 (已解决 / 未解决).
    Solved,
    /// 满意度.
    Satisfaction,
    /// An optional comment; the reason, when unsolved or dissatisfied.
    Comment,
}

/// A survey waiting for the citizen's answers, stored with the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSurvey {
    pub ticket: TicketNumber,
    /// 1 for the first callback, 2 after a 重办, …
    pub round: u32,
    pub step: SurveyStep,
    pub solved: Option<bool>,
    pub satisfaction: Option<Satisfaction>,
    /// Unclear answers to the current question (the bot asks once more, then stops guessing).
    #[serde(default)]
    pub unclear: u8,
    pub asked_at: Timestamp,
    /// The round was opened by the time limit passing, not by 办结: the reason question says
    /// the unit goes on under 督办 instead of 重办.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

/// How one callback round ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SurveyOutcome {
    /// The citizen answered (a question left unanswered stays `None`).
    Answered {
        solved: Option<bool>,
        satisfaction: Option<Satisfaction>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    /// 未联系上: no answer after the reminder. Never counted as satisfied.
    Unreachable,
}

impl SurveyOutcome {
    pub fn solved(&self) -> bool {
        matches!(
            self,
            SurveyOutcome::Answered {
                solved: Some(true),
                ..
            }
        )
    }

    pub fn satisfaction(&self) -> Option<Satisfaction> {
        match self {
            SurveyOutcome::Answered { satisfaction, .. } => *satisfaction,
            SurveyOutcome::Unreachable => None,
        }
    }

    /// A short label for people: "已解决 · 满意", "未联系上".
    pub fn label(&self) -> String {
        match self {
            SurveyOutcome::Unreachable => "未联系上".to_string(),
            SurveyOutcome::Answered {
                solved,
                satisfaction,
                ..
            } => {
                let solved = match solved {
                    Some(true) => "已解决",
                    Some(false) => "未解决",
                    None => "未答",
                };
                let satisfaction = satisfaction.map(|s| s.label()).unwrap_or("未评价");
                format!("{solved} · {satisfaction}")
            }
        }
    }
}

/// One callback round on a ticket: scheduled at closure (or when the time limit passed), sent,
/// maybe reminded, then finished.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallbackRound {
    pub round: u32,
    /// The moment that opened the round: the 办结, or for an expiry round the deadline passed.
    pub closed_at: Timestamp,
    /// When the survey is due to go out (after the delay, inside the allowed hours).
    pub due_at: Timestamp,
    #[serde(default)]
    pub sent_at: Option<Timestamp>,
    #[serde(default)]
    pub reminded_at: Option<Timestamp>,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub outcome: Option<SurveyOutcome>,
    /// An expiry round (超时回访): the deadline (extensions included) that passed with the ticket
    /// not closed. `None`: opened by 办结. An expiry round leaves the ticket with its unit; one
    /// that ended without an outcome was overtaken by the 办结 before the citizen answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired: Option<Timestamp>,
}

impl CallbackRound {
    /// An expiry round that recorded the matter solved with the citizen at least 基本满意: the
    /// 办结 after it asks no second time.
    pub fn settles_the_matter(&self) -> bool {
        self.expired.is_some()
            && self.outcome.as_ref().is_some_and(|o| {
                o.solved() && o.satisfaction().is_some_and(|s| !s.is_dissatisfied())
            })
    }
}

/// Every callback round of a ticket, oldest first; defaulted so older tickets load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Callback {
    /// The hotline itself runs the callback and the unit never sees who answered: a 保密 or an
    /// anonymous ticket. (Callbacks here are always run by the hotline's system; the flag makes
    /// the rule visible in the data and in the unit's view.)
    pub hotline_only: bool,
    pub rounds: Vec<CallbackRound>,
    /// Where the surveys went when not to the ticket's own conversation: an Open311 request's
    /// contact phone, by SMS. The reminder and the citizen's answers follow it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey_chat: Option<SurveyChat>,
}

/// A conversation a survey is sent to, and its channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyChat {
    pub channel: Channel,
    pub conversation: ConversationId,
}

impl Callback {
    /// The round in progress or last finished.
    pub fn current(&self) -> Option<&CallbackRound> {
        self.rounds.last()
    }

    pub fn current_mut(&mut self) -> Option<&mut CallbackRound> {
        self.rounds.last_mut()
    }

    /// The first finished rating.
    pub fn first(&self) -> Option<&SurveyOutcome> {
        self.rounds.iter().find_map(|r| r.outcome.as_ref())
    }

    /// Whether an expiry round was already opened for `deadline` (never two for one moment).
    pub fn expired_for(&self, deadline: Timestamp) -> bool {
        self.rounds.iter().any(|r| {
            r.expired
                .is_some_and(|d| d.as_second() == deadline.as_second())
        })
    }

    /// The last finished rating (after any 重办).
    pub fn last(&self) -> Option<&SurveyOutcome> {
        self.rounds.iter().rev().find_map(|r| r.outcome.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(expired: bool, outcome: Option<SurveyOutcome>) -> CallbackRound {
        let at = Timestamp::UNIX_EPOCH;
        CallbackRound {
            round: 1,
            closed_at: at,
            due_at: at,
            sent_at: Some(at),
            reminded_at: None,
            finished_at: outcome.as_ref().map(|_| at),
            outcome,
            expired: expired.then_some(at),
        }
    }

    fn answered(solved: bool, s: Satisfaction) -> Option<SurveyOutcome> {
        Some(SurveyOutcome::Answered {
            solved: Some(solved),
            satisfaction: Some(s),
            comment: None,
        })
    }

    #[test]
    fn only_an_expiry_round_answered_solved_and_satisfied_settles_the_matter() {
        for level in [
            Satisfaction::VerySatisfied,
            Satisfaction::Satisfied,
            Satisfaction::BasicallySatisfied,
        ] {
            assert!(round(true, answered(true, level)).settles_the_matter());
        }
        assert!(!round(true, answered(true, Satisfaction::Dissatisfied)).settles_the_matter());
        assert!(!round(true, answered(false, Satisfaction::Satisfied)).settles_the_matter());
        assert!(!round(true, Some(SurveyOutcome::Unreachable)).settles_the_matter());
        assert!(!round(true, None).settles_the_matter(), "overtaken");
        let partial = Some(SurveyOutcome::Answered {
            solved: Some(true),
            satisfaction: None,
            comment: None,
        });
        assert!(!round(true, partial).settles_the_matter());
        assert!(!round(false, answered(true, Satisfaction::Satisfied)).settles_the_matter());
    }

    #[test]
    fn a_deadline_is_surveyed_once_and_older_rounds_still_load() {
        let deadline = Timestamp::UNIX_EPOCH;
        let mut callback = Callback::default();
        assert!(!callback.expired_for(deadline));
        callback.rounds.push(round(true, None));
        assert!(callback.expired_for(deadline));
        assert!(!callback.expired_for(deadline + jiff::SignedDuration::from_hours(1)));
        // A round stored before expiry rounds existed has no `expired` key: a closing round.
        let old =
            r#"{"round":1,"closed_at":"2026-11-23T01:00:00Z","due_at":"2026-11-23T02:00:00Z"}"#;
        let old: CallbackRound = serde_json::from_str(old).unwrap();
        assert_eq!(old.expired, None);
        assert!(!serde_json::to_string(&old).unwrap().contains("expired"));
    }
}
