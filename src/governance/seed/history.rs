//! A seeded ticket's handling history, applied through the real lifecycle ([`apply`]): dispatched
//! by the dispatch rules (or an operator), signed, sometimes progressed, replied (some late, with
//! 催办 and 督办), closed, mostly surveyed — each step only if its moment is before "now".

use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::SeedWorld;
use crate::calendar::Urgency;
use crate::domain::lifecycle::Actor;
use crate::domain::{Ticket, TicketAction, UnitId, apply};

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
    if rng.random_bool(0.7) {
        let survey_at = close_at + SignedDuration::from_secs(rng.random_range(86_400..259_200));
        let _ = step(&mut t, TicketAction::Survey, &Actor::System, survey_at);
    }
    t
}

/// Each unit's own chance of answering late (4–20%), fixed by its id, so rankings differ.
fn lateness(unit: &UnitId) -> f64 {
    let h = unit
        .as_str()
        .bytes()
        .fold(17u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    0.04 + 0.16 * f64::from(h % 100) / 100.0
}
