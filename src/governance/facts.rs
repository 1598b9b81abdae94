//! The few facts the analysis needs from a ticket: its digest (the one the store keeps beside
//! it, [`from_digest`], what reports and the detector read; or a whole ticket's in memory,
//! [`from_ticket`]) and its matter, the topic from `config/topics.toml` the digest's content is
//! about. The matter depends on config, so it is worked out when the digest is read.

use jiff::Timestamp;

use super::matter::Topics;
use crate::domain::{Category, Ticket, TicketDigest, TicketNumber, TicketStatus};

/// One ticket as the analysis sees it: its digest and its matter.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFacts {
    pub digest: TicketDigest,
    /// The topic from `config/topics.toml`, or 其他.
    pub matter: String,
}

impl TicketFacts {
    /// The content of a 咨询 ticket (knowledge gaps read it); `None` for any other category.
    pub fn consultation(&self) -> Option<&str> {
        (self.digest.category == Category::Consultation).then_some(self.digest.content.as_str())
    }

    /// Finished (replied, closed, surveyed, withdrawn or merged) by `at`?
    pub fn finished_by(&self, at: Timestamp) -> bool {
        let d = &self.digest;
        d.replied_at.or(d.closed_at).is_some_and(|t| t <= at)
            || matches!(d.status, TicketStatus::Withdrawn | TicketStatus::Merged)
    }

    /// Overdue at `at`: past its deadline then, and not answered by the deadline.
    pub fn overdue_at(&self, at: Timestamp) -> bool {
        let d = &self.digest;
        let Some(deadline) = d.deadline else {
            return false;
        };
        if deadline >= at || matches!(d.status, TicketStatus::Withdrawn | TicketStatus::Merged) {
            return false;
        }
        match d.replied_at.or(d.closed_at) {
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
    from_digest(TicketDigest::of(t), topics)
}

/// The facts of a digest (the same as [`from_ticket`] of its ticket).
pub fn from_digest(digest: TicketDigest, topics: &Topics) -> TicketFacts {
    TicketFacts {
        matter: topics.matter_of(&digest.content).to_string(),
        digest,
    }
}

/// The facts of a ticket as it arrives, before any handling (what the detector reads of it).
pub fn from_new(
    number: TicketNumber,
    d: &crate::domain::NewTicket,
    topics: &Topics,
) -> TicketFacts {
    from_ticket(&Ticket::open(number, d.clone()), topics)
}
