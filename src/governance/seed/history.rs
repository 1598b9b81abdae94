//! A seeded ticket's handling history, applied through the real lifecycle ([`apply`]): dispatched
//! by the dispatch rules (or an operator), signed, sometimes progressed, replied (some late, with
//! 催办 and 督办), closed, then 回访 (callback) rounds with their outcomes — satisfied, basically
//! satisfied or not, solved or not, some 未联系上, some 重办 and a second round — recorded on the
//! ticket as the callback service records them, so the rates module reads seeded stores like
//! live ones. Each step only if its moment is before "now".

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::SeedWorld;
use crate::calendar::Urgency;
use crate::domain::lifecycle::Actor;
use crate::domain::{
    CallbackRound, LifecycleRules, Satisfaction, SurveyOutcome, Ticket, TicketAction, UnitId, apply,
};

/// Takes a fresh ticket through its handling up to `now`.
pub(super) fn develop(world: &SeedWorld, seed: u64, now: Timestamp, ticket: Ticket) -> Ticket {
    let mut rng =
        StdRng::seed_from_u64(seed ^ ticket.number.value().wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut t = ticket;
    let created = t.details.created_at;
    let (proposal, urgency) = match world.rules.propose(&t.details, &world.units) {
        Some((p, u)) => (Some(p), u),
        None => (None, None),
    };
    t.handling.urgency = urgency.clone();
    t.handling.proposal = proposal.clone();
    let lead = proposal
        .as_ref()
        .map(|p| p.lead.clone())
        .unwrap_or_else(|| UnitId::new("hotline-center"));
    let auto = proposal.as_ref().is_some_and(|p| p.auto);
    let co = proposal.map(|p| p.co_handlers).unwrap_or_default();
    let mut at = created
        + SignedDuration::from_secs(if auto {
            rng.random_range(30..180)
        } else {
            rng.random_range(600..14_400)
        });
    let operator = Actor::Operator("seed".into());
    let unit = Actor::Unit(lead.clone());
    let urgency = urgency
        .as_deref()
        .and_then(Urgency::from_label)
        .unwrap_or(Urgency::General);
    let deadlines = world
        .limits
        .deadlines(&world.calendar, at, t.details.category, urgency);
    let category = t.details.category;
    let step = |t: &mut Ticket, action: TicketAction, actor: &Actor, at: Timestamp| -> bool {
        if at > now {
            return false;
        }
        match apply(t, action, actor, at, &world.lifecycle) {
            Ok(next) => {
                *t = next;
                true
            }
            Err(_) => false,
        }
    };
    let dispatcher = if auto {
        Actor::System
    } else {
        operator.clone()
    };
    let dispatch = TicketAction::Dispatch {
        lead: lead.clone(),
        co_handlers: co,
        deadlines,
    };
    if !step(&mut t, dispatch, &dispatcher, at) {
        return t;
    }
    if rng.random_bool(0.01) {
        let _ = step(
            &mut t,
            TicketAction::Withdraw {
                reason: "问题已自行解决".into(),
            },
            &Actor::Citizen,
            at + SignedDuration::from_hours(2),
        );
        return t;
    }
    let accept = deadlines.accept_by.duration_since(at).as_secs().max(600);
    at += SignedDuration::from_secs(rng.random_range(120..accept.max(121)) * 8 / 10);
    if !step(&mut t, TicketAction::Sign, &unit, at) {
        return t;
    }
    let window = deadlines.deadline.duration_since(at).as_secs().max(3600);
    let late = rng.random_bool(lateness(&lead));
    let reply_at = if late {
        deadlines.deadline + SignedDuration::from_secs(rng.random_range(7_200..432_000))
    } else {
        at + SignedDuration::from_secs(window * rng.random_range(15..95) / 100)
    };
    if rng.random_bool(0.3) {
        let mid = at + SignedDuration::from_secs(reply_at.duration_since(at).as_secs() / 2);
        let _ = step(
            &mut t,
            TicketAction::Progress {
                note: "已安排人员现场核实".into(),
            },
            &unit,
            mid,
        );
    }
    if late {
        let remind = deadlines.deadline - SignedDuration::from_hours(20);
        if remind > at {
            let _ = step(
                &mut t,
                TicketAction::Remind {
                    note: "催办：临近办理时限".into(),
                },
                &Actor::System,
                remind,
            );
        }
        let supervise = deadlines.deadline + SignedDuration::from_hours(1);
        let _ = step(
            &mut t,
            TicketAction::Supervise {
                note: "督办：已超过办理时限".into(),
            },
            &Actor::System,
            supervise,
        );
    }
    if !step(
        &mut t,
        TicketAction::Reply {
            text: "经核实，已安排处理并与来电人沟通。".into(),
        },
        &unit,
        reply_at,
    ) {
        return t;
    }
    let close_at = reply_at + SignedDuration::from_secs(rng.random_range(3_600..172_800));
    if !step(
        &mut t,
        TicketAction::Close {
            text: "已办结。".into(),
        },
        &unit,
        close_at,
    ) {
        return t;
    }
    let mut closed = close_at;
    let redo = |at: Timestamp| {
        world
            .limits
            .deadlines(&world.calendar, at, category, urgency)
    };
    // 回访, and at most one 重办 with its second round.
    for round in 1..=2 {
        let rules = &world.lifecycle;
        let Some(at) = callback_round(&mut rng, &mut t, rules, (round, closed, now), late) else {
            return t;
        };
        if round == 2 || !needs_rehandling(&t) || !rng.random_bool(0.6) {
            return t;
        }
        let d = redo(at);
        let rehandle = TicketAction::Rehandle {
            reason: "回访：问题未解决，市民要求重办".into(),
            accept_by: d.accept_by,
            deadline: d.deadline,
        };
        if !step(&mut t, rehandle, &Actor::System, at) {
            return t;
        }
        let signed = at + SignedDuration::from_secs(rng.random_range(1_800..14_400));
        let replied = signed + SignedDuration::from_secs(rng.random_range(86_400..259_200));
        closed = replied + SignedDuration::from_secs(rng.random_range(3_600..86_400));
        let reply = TicketAction::Reply {
            text: "已重新处理并再次与来电人沟通。".into(),
        };
        let close = TicketAction::Close {
            text: "重办完毕，已办结。".into(),
        };
        if !(step(&mut t, TicketAction::Sign, &unit, signed)
            && step(&mut t, reply, &unit, replied)
            && step(&mut t, close, &unit, closed))
        {
            return t;
        }
    }
    t
}

/// The callback round opened at 办结 (`closed`), as the callback service opens it, and its end
/// if that is before `now`: answered a few hours to two days after it went out, or 未联系上
/// after the reminder. Late handling makes an unsolved or dissatisfied answer likelier; a second
/// round (after 重办) goes better. Returns when the round ended.
fn callback_round(
    rng: &mut StdRng,
    t: &mut Ticket,
    rules: &LifecycleRules,
    (round, closed, now): (u32, Timestamp, Timestamp),
    late: bool,
) -> Option<Timestamp> {
    let due = closed + SignedDuration::from_hours(2);
    t.callback.hotline_only = t.details.confidential || t.details.phone.is_none();
    t.callback.rounds.push(CallbackRound {
        round,
        closed_at: closed,
        due_at: due,
        sent_at: None,
        reminded_at: None,
        finished_at: None,
        outcome: None,
        expired: None,
    });
    if due > now {
        return None;
    }
    let unreachable = t.details.phone.is_none() || rng.random_bool(0.07);
    let finished = if unreachable {
        due + SignedDuration::from_hours(48)
    } else {
        due + SignedDuration::from_secs(rng.random_range(600..172_800))
    };
    let outcome = if unreachable {
        SurveyOutcome::Unreachable
    } else {
        answer(rng, round, late)
    };
    let reminded = (unreachable || finished > due + SignedDuration::from_hours(24))
        .then(|| due + SignedDuration::from_hours(24));
    if let Some(r) = t.callback.current_mut() {
        r.sent_at = Some(due);
        r.reminded_at = reminded.filter(|at| *at <= now);
    }
    if finished > now {
        return None;
    }
    let next = apply(t, TicketAction::Survey, &Actor::System, finished, rules).ok()?;
    *t = next;
    if let Some(r) = t.callback.current_mut() {
        r.finished_at = Some(finished);
        r.outcome = Some(outcome);
    }
    Some(finished)
}

/// A citizen's answer: solved or not, and how satisfied (满意 / 基本满意 / 不满意).
fn answer(rng: &mut StdRng, round: u32, late: bool) -> SurveyOutcome {
    let solved_chance = match (round, late) {
        (1, false) => 0.88,
        (1, true) => 0.62,
        _ => 0.8,
    };
    let solved = rng.random_bool(solved_chance);
    let weights: [f64; 3] = if solved {
        [0.78, 0.18, 0.04]
    } else {
        [0.1, 0.35, 0.55]
    };
    let x = rng.random::<f64>();
    let satisfaction = if x < weights[0] {
        Satisfaction::Satisfied
    } else if x < weights[0] + weights[1] {
        Satisfaction::BasicallySatisfied
    } else {
        Satisfaction::Dissatisfied
    };
    let unhappy = !solved || satisfaction == Satisfaction::Dissatisfied;
    SurveyOutcome::Answered {
        solved: Some(solved),
        satisfaction: Some(satisfaction),
        comment: unhappy.then(|| "问题还没有解决".to_string()),
    }
}

/// Unsolved, or dissatisfied, in the round just ended.
fn needs_rehandling(t: &Ticket) -> bool {
    t.callback.last().is_some_and(|o| {
        matches!(
            o,
            SurveyOutcome::Answered {
                solved: Some(false),
                ..
            } | SurveyOutcome::Answered {
                satisfaction: Some(Satisfaction::Dissatisfied),
                ..
            }
        )
    })
}

/// Each unit's own chance of answering late (4–20%), fixed by its id, so rankings differ.
fn lateness(unit: &UnitId) -> f64 {
    let h = unit
        .as_str()
        .bytes()
        .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    0.04 + 0.16 * f64::from(h % 100) / 100.0
}
