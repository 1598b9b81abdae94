//! How a ticket's 回访 rounds are shown: results to everyone who may see the ticket; the
//! citizen's own comment only to the hotline (a unit gets the reason with the 重办 itself).

use serde::Serialize;

use crate::clock;
use crate::domain::{Callback, CallbackRound};

#[derive(Serialize)]
pub struct CallbackView {
    /// Always `hotline`: the hotline's system runs every callback.
    pub run_by: &'static str,
    /// 保密 or anonymous: the hotline alone deals with the citizen; nothing of them reaches a unit.
    pub hotline_only: bool,
    pub rounds: Vec<RoundView>,
    /// The first and the final rating ("已解决 · 满意", "未联系上"), both kept.
    pub first: Option<String>,
    #[serde(rename = "final")]
    pub last: Option<String>,
}

#[derive(Serialize)]
pub struct RoundView {
    pub round: u32,
    /// What opened the round: `closed` (办结) or `expired` (the time limit passed first: 超时回访).
    pub cause: &'static str,
    /// 待发送 · 待回复 · 已提醒 · 已完成 · 已转办结回访 (an expiry round overtaken by the 办结)
    pub state: &'static str,
    pub due_at: String,
    pub sent_at: Option<String>,
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

fn round_view(r: &CallbackRound, show_comment: bool) -> RoundView {
    let state = match (r.sent_at, r.reminded_at, r.finished_at) {
        (_, _, Some(_)) if r.outcome.is_none() => "已转办结回访",
        (_, _, Some(_)) => "已完成",
        (None, _, _) => "待发送",
        (Some(_), None, _) => "待回复",
        (Some(_), Some(_), _) => "已提醒",
    };
    let comment = match &r.outcome {
        Some(crate::domain::SurveyOutcome::Answered { comment, .. }) if show_comment => {
            comment.clone()
        }
        _ => None,
    };
    RoundView {
        round: r.round,
        cause: if r.expired.is_some() {
            "expired"
        } else {
            "closed"
        },
        state,
        due_at: clock::display(r.due_at),
        sent_at: r.sent_at.map(clock::display),
        result: r.outcome.as_ref().map(|o| o.label()),
        comment,
    }
}

pub fn callback_view(callback: &Callback, operator: bool) -> CallbackView {
    CallbackView {
        run_by: "hotline",
        hotline_only: callback.hotline_only,
        rounds: callback
            .rounds
            .iter()
            .map(|r| round_view(r, operator))
            .collect(),
        first: callback.first().map(|o| o.label()),
        last: callback.last().map(|o| o.label()),
    }
}
