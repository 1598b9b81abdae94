//! The few facts the analysis needs from a ticket: from the digest the store keeps beside it
//! ([`from_digest`], what reports and the detector read), or from a whole ticket in memory
//! ([`from_ticket`], through its digest); both give the same facts.

use jiff::Timestamp;

use super::matter::{Topics, street_of};
use crate::domain::digest::citizen_hash;
use crate::domain::{Category, Channel, Ticket, TicketDigest, TicketNumber, TicketStatus};

/// One ticket as the analysis sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFacts {
    pub number: TicketNumber,
    pub created_at: Timestamp,
    pub channel: Channel,
    pub category: Category,
    pub status: TicketStatus,
    pub district: Option<String>,
    pub street: Option<String>,
    /// The topic from `config/topics.toml`, or 其他.
    pub matter: String,
    /// The content, kept only for 咨询 tickets (knowledge gaps read it).
    pub consultation: Option<String>,
    /// A hash of the citizen's phone, to count distinct citizens; never the number itself.
    pub citizen: Option<u64>,
    pub lead: Option<String>,
    pub deadline: Option<Timestamp>,
    pub signed_at: Option<Timestamp>,
    pub replied_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub surveyed: bool,
}

impl TicketFacts {
    /// Finished (replied, closed, surveyed, withdrawn or merged) by `at`?
    pub fn finished_by(&self, at: Timestamp) -> bool {
        self.replied_at.or(self.closed_at).is_some_and(|t| t <= at)
            || matches!(self.status, TicketStatus::Withdrawn | TicketStatus::Merged)
    }

    /// Overdue at `at`: past its deadline then, and not answered by the deadline.
    pub fn overdue_at(&self, at: Timestamp) -> bool {
        let Some(deadline) = self.deadline else {
            return false;
        };
        if deadline >= at || matches!(self.status, TicketStatus::Withdrawn | TicketStatus::Merged) {
            return false;
        }
        match self.replied_at.or(self.closed_at) {
            Some(done) => done > deadline,
            None => true,
        }
    }

    /// Still open (not yet answered) at `at` and past its deadline: what the overdue list shows.
    pub fn open_overdue_at(&self, at: Timestamp) -> bool {
        self.overdue_at(at) && !self.finished_by(at)
    }
}

/// The facts of a ticket in memory: those of its digest, so the two are derived in one place.
pub fn from_ticket(t: &Ticket, topics: &Topics) -> TicketFacts {
    from_digest(&TicketDigest::of(t), topics)
}

/// The facts of a stored digest (the same as [`from_ticket`] of its ticket).
pub fn from_digest(d: &TicketDigest, topics: &Topics) -> TicketFacts {
    TicketFacts {
        number: d.number,
        created_at: d.created_at,
        channel: d.channel,
        category: d.category,
        status: d.status,
        district: d.district.clone(),
        street: d.street.clone(),
        matter: topics.matter_of(&d.content).to_string(),
        consultation: (d.category == Category::Consultation).then(|| d.content.clone()),
        citizen: d.citizen,
        lead: d.lead.clone(),
        deadline: d.deadline,
        signed_at: d.signed_at,
        replied_at: d.replied_at,
        closed_at: d.closed_at,
        surveyed: d.surveyed,
    }
}

/// The facts of a ticket as it arrives, before any handling (what the detector reads of it).
pub fn from_new(
    number: TicketNumber,
    d: &crate::domain::NewTicket,
    topics: &Topics,
) -> TicketFacts {
    build(
        Parts {
            number,
            status: TicketStatus::Accepted,
            category: d.category,
            content: &d.content,
            district: d.district.as_deref(),
            address: d.address.as_deref(),
            phone: d.phone.as_deref(),
            channel: d.channel,
            created_at: d.created_at,
            lead: None,
            deadline: None,
        },
        &[],
        topics,
    )
}

struct Parts<'a> {
    number: TicketNumber,
    status: TicketStatus,
    category: Category,
    content: &'a str,
    district: Option<&'a str>,
    address: Option<&'a str>,
    phone: Option<&'a str>,
    channel: Channel,
    created_at: Timestamp,
    lead: Option<String>,
    deadline: Option<Timestamp>,
}

fn build(
    p: Parts<'_>,
    events: &[(Timestamp, Option<TicketStatus>, TicketStatus)],
    topics: &Topics,
) -> TicketFacts {
    // The latest entry into a status counts (a re-handled ticket is replied to again).
    let last_into = |status: TicketStatus| {
        events
            .iter()
            .rev()
            .find(|(_, from, to)| *to == status && *from != Some(status))
            .map(|(at, _, _)| *at)
    };
    let street = p.address.and_then(|a| street_of(a, p.district));
    TicketFacts {
        number: p.number,
        created_at: p.created_at,
        channel: p.channel,
        category: p.category,
        status: p.status,
        district: p.district.map(str::to_string),
        street,
        matter: topics.matter_of(p.content).to_string(),
        consultation: (p.category == Category::Consultation).then(|| p.content.to_string()),
        citizen: p.phone.map(citizen_hash),
        lead: p.lead,
        deadline: p.deadline,
        signed_at: last_into(TicketStatus::Signed),
        replied_at: last_into(TicketStatus::Replied),
        closed_at: last_into(TicketStatus::Closed),
        surveyed: events
            .iter()
            .any(|(_, _, to)| *to == TicketStatus::Surveyed),
    }
}
