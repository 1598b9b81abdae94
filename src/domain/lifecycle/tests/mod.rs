//! Fixtures shared by the lifecycle tests: tickets brought to each status through real actions,
//! and a sample of every action with an actor entitled to take it.

mod paths;
mod permissions;
mod table;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::domain::{
    Category, Channel, ConversationId, Deadlines, Handling, NewTicket, TicketNumber,
};

/// Monday 2 March 2026, 09:00 in the city.
fn t0() -> Timestamp {
    "2026-03-02T09:00:00+08:00".parse().unwrap()
}

fn unit(id: &str) -> UnitId {
    UnitId::new(id)
}

fn lead() -> UnitId {
    unit("nanshan-chengguan")
}

fn co() -> UnitId {
    unit("nanshan-street")
}

fn other() -> UnitId {
    unit("beihu-water")
}

fn coordinator() -> UnitId {
    unit("city-coordination")
}

fn op() -> Actor {
    Actor::Operator("op-7".into())
}

fn as_unit(id: UnitId) -> Actor {
    Actor::Unit(id)
}

/// Deadlines of a dispatch at `now`: sign within a day, object within two, close within ten.
fn deadlines(now: Timestamp) -> Deadlines {
    Deadlines {
        accept_by: now + SignedDuration::from_hours(24),
        object_by: now + SignedDuration::from_hours(48),
        deadline: now + SignedDuration::from_hours(240),
    }
}

fn new_ticket() -> Ticket {
    Ticket::open(
        TicketNumber::from_sequence(100_001),
        NewTicket {
            category: Category::Complaint,
            content: "小区门口夜间施工噪音扰民".into(),
            district: Some("南山区".into()),
            address: Some("南山区桃园路1号".into()),
            phone: Some("13800000000".into()),
            name: None,
            confidential: false,
            channel: Channel::Web,
            conversation: ConversationId::new(),
            created_at: t0(),
        },
    )
}

/// Applies `action` an hour after the ticket's last event; panics with the error otherwise.
fn step(ticket: &Ticket, action: TicketAction, actor: &Actor) -> Ticket {
    try_step(ticket, action, actor).unwrap_or_else(|e| panic!("{e}"))
}

fn try_step(
    ticket: &Ticket,
    action: TicketAction,
    actor: &Actor,
) -> Result<Ticket, TransitionError> {
    apply(
        ticket,
        action,
        actor,
        next_hour(ticket),
        &LifecycleRules::default(),
    )
}

fn next_hour(ticket: &Ticket) -> Timestamp {
    ticket.events.last().map_or(t0(), |e| e.at) + SignedDuration::from_hours(1)
}

fn dispatch(ticket: &Ticket) -> Ticket {
    let now = next_hour(ticket);
    let action = TicketAction::Dispatch {
        lead: lead(),
        co_handlers: vec![co()],
        deadlines: deadlines(now),
    };
    step(ticket, action, &op())
}

fn text(s: &str) -> String {
    s.to_string()
}

/// A ticket brought to `status` through the actions that lead there.
fn ticket_in(status: TicketStatus) -> Ticket {
    let t = new_ticket();
    let lead_unit = as_unit(lead());
    match status {
        TicketStatus::Accepted => t,
        TicketStatus::Dispatched => dispatch(&t),
        TicketStatus::Signed => step(&dispatch(&t), TicketAction::Sign, &lead_unit),
        TicketStatus::InProgress => {
            let p = TicketAction::Progress {
                note: text("已约谈施工方"),
            };
            step(&ticket_in(TicketStatus::Signed), p, &lead_unit)
        }
        TicketStatus::Replied => {
            let r = TicketAction::Reply {
                text: text("已责令停止夜间施工"),
            };
            step(&ticket_in(TicketStatus::InProgress), r, &lead_unit)
        }
        TicketStatus::Closed => {
            let c = TicketAction::Close {
                text: text("办结")
            };
            step(&ticket_in(TicketStatus::Replied), c, &lead_unit)
        }
        TicketStatus::Surveyed => step(
            &ticket_in(TicketStatus::Closed),
            TicketAction::Survey,
            &Actor::System,
        ),
        TicketStatus::Withdrawn => step(
            &t,
            TicketAction::Withdraw {
                reason: text("已自行解决"),
            },
            &Actor::Citizen,
        ),
        TicketStatus::Merged => {
            let m = TicketAction::MergeInto {
                number: TicketNumber::from_sequence(100_000),
            };
            step(&t, m, &op())
        }
        TicketStatus::Returned => object(&dispatch(&t), lead()),
        TicketStatus::Escalated => {
            let returned = ticket_in(TicketStatus::Returned);
            let now = next_hour(&returned);
            let uphold = TicketAction::UpholdObjection {
                new_lead: other(),
                deadlines: deadlines(now),
            };
            object(&step(&returned, uphold, &op()), other())
        }
    }
}

fn object(ticket: &Ticket, by: UnitId) -> Ticket {
    step(
        ticket,
        TicketAction::Object {
            reason: text("非本单位职责"),
        },
        &as_unit(by),
    )
}

/// An example of `kind` for `ticket`, with an actor entitled to take it and data that keeps the
/// rules (an extension decision finds a request waiting: see [`prepared`]).
fn sample(kind: ActionKind, ticket: &Ticket) -> (TicketAction, Actor) {
    let now = next_hour(ticket);
    let current = ticket.handling.lead.clone().unwrap_or_else(lead);
    let the_lead = as_unit(current.clone());
    let later = |h| now + SignedDuration::from_hours(h);
    match kind {
        ActionKind::Dispatch => (
            TicketAction::Dispatch {
                lead: lead(),
                co_handlers: vec![co()],
                deadlines: deadlines(now),
            },
            op(),
        ),
        ActionKind::Sign => (TicketAction::Sign, the_lead),
        ActionKind::Progress => (
            TicketAction::Progress {
                note: text("现场核查"),
            },
            the_lead,
        ),
        ActionKind::Reply => (
            TicketAction::Reply {
                text: text("已处理"),
            },
            the_lead,
        ),
        ActionKind::Close => (
            TicketAction::Close {
                text: text("办结")
            },
            the_lead,
        ),
        ActionKind::Survey => (TicketAction::Survey, Actor::System),
        ActionKind::Object => (
            TicketAction::Object {
                reason: text("非本单位职责"),
            },
            the_lead,
        ),
        ActionKind::UpholdObjection => {
            let new_lead = if current == other() { lead() } else { other() };
            (
                TicketAction::UpholdObjection {
                    new_lead,
                    deadlines: deadlines(now),
                },
                op(),
            )
        }
        ActionKind::RejectObjection => (
            TicketAction::RejectObjection {
                note: text("属你单位职责"),
            },
            op(),
        ),
        ActionKind::RequestExtension => {
            let until = ticket.handling.deadline.unwrap_or(now) + SignedDuration::from_hours(72);
            (
                TicketAction::RequestExtension {
                    reason: text("需协调多方"),
                    until,
                },
                the_lead,
            )
        }
        ActionKind::ApproveExtension => (TicketAction::ApproveExtension, op()),
        ActionKind::RefuseExtension => (
            TicketAction::RefuseExtension {
                note: text("理由不足"),
            },
            op(),
        ),
        ActionKind::Remind => (
            TicketAction::Remind {
                note: String::new(),
            },
            Actor::System,
        ),
        ActionKind::Supervise => (
            TicketAction::Supervise {
                note: String::new(),
            },
            Actor::System,
        ),
        ActionKind::Rehandle => (
            TicketAction::Rehandle {
                reason: text("市民不满意"),
                accept_by: later(24),
                deadline: later(240),
            },
            op(),
        ),
        ActionKind::MergeInto => (
            TicketAction::MergeInto {
                number: TicketNumber::from_sequence(100_000),
            },
            op(),
        ),
        ActionKind::Withdraw => (
            TicketAction::Withdraw {
                reason: String::new(),
            },
            Actor::Citizen,
        ),
        ActionKind::Escalate => (
            TicketAction::Escalate {
                coordinator: coordinator(),
                reason: text("多次异议"),
            },
            op(),
        ),
    }
}

/// `ticket_in(status)`, with an extension request waiting when `kind` decides one.
fn prepared(status: TicketStatus, kind: ActionKind) -> Ticket {
    let t = ticket_in(status);
    let decides = matches!(
        kind,
        ActionKind::ApproveExtension | ActionKind::RefuseExtension
    );
    if decides && t.handling.deadline.is_some() && allowed_actions(status).contains(&kind) {
        let (request, actor) = sample(ActionKind::RequestExtension, &t);
        return step(&t, request, &actor);
    }
    t
}
