//! Where a ticket's survey reaches its citizen. Usually the conversation the ticket came from
//! (the channel the citizen used); a ticket whose channel cannot carry a survey back (an Open311
//! request: GeoReport has no messages to the requester) is surveyed elsewhere or, when nothing
//! reaches the citizen, recorded as 未联系上 at once rather than sent into the void.

use std::future::Future;
use std::pin::Pin;

use crate::domain::{SurveyChat, Ticket};
use crate::store::StoreError;

/// Where the survey of one ticket goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The ticket's own conversation.
    Own,
    /// Another conversation (an SMS chat with the contact phone the request gave).
    Chat(SurveyChat),
    /// Nothing reaches the citizen: 未联系上, recorded, not counted as satisfied.
    Nowhere,
}

pub type ReachFuture<'a> = Pin<Box<dyn Future<Output = Result<Reach, StoreError>> + Send + 'a>>;

/// Decides [`Reach`] for a ticket whose survey is due.
pub trait CallbackReach: Send + Sync {
    fn reach<'a>(&'a self, ticket: &'a Ticket) -> ReachFuture<'a>;
}
