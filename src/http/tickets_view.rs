//! How a ticket is shown: in full to operators; to a unit with the citizen's contact masked
//! (revealed to the lead once it has signed, unless the ticket is 保密) and never the identity of
//! a 保密 ticket.

use serde::Serialize;

use crate::clock;
use crate::domain::lifecycle::citizen_text;
use crate::domain::{Ticket, TicketStatus, UnitId};
use crate::engine::extract::{mask_name, mask_phone};
use crate::units::Units;

#[derive(Serialize)]
pub struct Contact {
    pub name: Option<String>,
    pub phone: Option<String>,
    /// 保密: the citizen's identity is withheld from units.
    pub confidential: bool,
}

#[derive(Serialize)]
pub struct EventView {
    pub at: String,
    pub actor: String,
    pub from: Option<&'static str>,
    pub to: &'static str,
    pub note: String,
    /// What the citizen is shown for this event.
    pub citizen_text: String,
}

#[derive(Serialize)]
pub struct TicketView {
    pub number: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub category: &'static str,
    pub content: String,
    pub district: Option<String>,
    pub address: Option<String>,
    pub channel: &'static str,
    pub created_at: String,
    pub contact: Contact,
    pub lead: Option<String>,
    pub lead_name: Option<String>,
    pub co_handlers: Vec<String>,
    pub deadline: Option<String>,
    pub accept_by: Option<String>,
    pub object_by: Option<String>,
    pub overdue: bool,
    pub proposal: Option<String>,
    pub pending_extension: Option<String>,
    pub replies: Vec<String>,
    pub events: Vec<EventView>,
    /// 回访 rounds and their ratings.
    pub callback: super::callback_view::CallbackView,
}

/// Who is looking.
pub enum Viewer<'a> {
    Operator,
    Unit(&'a UnitId),
}

pub fn view(
    ticket: &Ticket,
    viewer: Viewer<'_>,
    units: &Units,
    now: jiff::Timestamp,
) -> TicketView {
    let d = &ticket.details;
    let h = &ticket.handling;
    let contact = match viewer {
        Viewer::Operator => Contact {
            name: d.name.clone(),
            phone: d.phone.clone(),
            confidential: d.confidential,
        },
        Viewer::Unit(_) if d.confidential => Contact {
            name: None,
            phone: None,
            confidential: true,
        },
        Viewer::Unit(unit) => {
            let acting = h.lead.as_ref() == Some(unit)
                && matches!(
                    ticket.status,
                    TicketStatus::Signed | TicketStatus::InProgress
                );
            Contact {
                name: d.name.as_deref().map(mask_name),
                phone: d
                    .phone
                    .as_deref()
                    .map(|p| if acting { p.to_string() } else { mask_phone(p) }),
                confidential: false,
            }
        }
    };
    let unit_name = |u: &UnitId| units.get(u.as_str()).map(|u| u.name.clone());
    let events = ticket
        .events
        .iter()
        .map(|e| EventView {
            at: e.at.to_string(),
            actor: e.actor.clone(),
            from: e.from.map(|s| s.label()),
            to: e.to.label(),
            note: e.note.clone(),
            citizen_text: citizen_text(e, unit_name),
        })
        .collect();
    TicketView {
        number: ticket.number.to_string(),
        status: ticket.status.name(),
        status_label: ticket.status.label(),
        category: d.category.label(),
        content: d.content.clone(),
        district: d.district.clone(),
        address: d.address.clone(),
        channel: d.channel.as_str(),
        created_at: d.created_at.to_string(),
        contact,
        lead: h.lead.as_ref().map(|u| u.as_str().to_string()),
        lead_name: h.lead.as_ref().and_then(unit_name),
        co_handlers: h
            .co_handlers
            .iter()
            .map(|u| u.as_str().to_string())
            .collect(),
        deadline: h.deadline.map(clock::display),
        accept_by: h.accept_by.map(clock::display),
        object_by: h.object_by.map(clock::display),
        overdue: h.deadline.is_some_and(|x| x < now)
            && !matches!(
                ticket.status,
                TicketStatus::Replied | TicketStatus::Closed | TicketStatus::Surveyed
            ),
        proposal: match viewer {
            Viewer::Operator => h.proposal.as_ref().map(|p| p.reason.clone()),
            Viewer::Unit(_) => None,
        },
        pending_extension: h
            .pending_extension
            .as_ref()
            .map(|x| format!("{} → {}", x.reason, clock::display(x.until))),
        replies: h.replies.iter().map(|r| r.text.clone()).collect(),
        events,
        callback: super::callback_view::callback_view(
            &ticket.callback,
            matches!(viewer, Viewer::Operator),
        ),
    }
}
