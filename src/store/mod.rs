//! Storage: one trait per aggregate, and the sled implementation beside them.
//!
//! Writes return a future that resolves only once the write is on disk; the sled implementation
//! gets there with one writer thread that commits concurrent writes together (group commit).
//! Reads are synchronous: they are served from sled's cache in microseconds.

mod cursor;
mod sled_store;

use std::future::Future;
use std::pin::Pin;

pub use cursor::ListCursor;
pub use sled_store::SledStore;
pub use sled_store::{
    BackupError, BackupSummary, restore as restore_backup, verify as verify_backup,
};
pub use sled_store::{Develop, RawDigest, RawTicket};

use crate::domain::{
    ArticleFeedback, Conversation, ConversationId, IntakeRecord, NewTicket, OutboxMessage, Ticket,
    TicketNumber, TicketStatus, UnitId,
};

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store in {dir} is in use by another hotline process (is `hotline serve` running?); stop it first or use its HTTP API"
    )]
    Locked { dir: String },
    #[error("storage failure: {0}")]
    Io(String),
    #[error("corrupt record in {tree}: {message}")]
    Corrupt { tree: &'static str, message: String },
    #[error("the store is shutting down")]
    Closed,
    #[error("no ticket {0} in the store: a change names a ticket the store issued")]
    NoSuchTicket(TicketNumber),
}

/// Tickets, keyed by number. Numbers are issued by the store, never twice.
pub trait TicketStore: Send + Sync {
    /// Gives the ticket the next number and stores it durably.
    fn create(&self, ticket: NewTicket) -> StoreFuture<'_, Ticket>;
    /// Gives the ticket the next number and stores it, resolving once it is written but before
    /// it is durable. The caller must not show the number until a write it queues afterwards is
    /// durable: writes become durable in the order they were queued, so that write's flush
    /// covers this one (a confirmed chat ticket and its turn wait for one flush, not two).
    fn create_pending(&self, ticket: NewTicket) -> StoreFuture<'_, Ticket>;
    /// Stores the ticket as given (replacing the stored one, if any), durably.
    fn save(&self, ticket: Ticket) -> StoreFuture<'_, ()>;
    fn get(&self, number: TicketNumber) -> Result<Option<Ticket>, StoreError>;
    /// Up to `limit` tickets, newest first.
    fn recent(&self, limit: usize) -> Result<Vec<Ticket>, StoreError>;
    fn count(&self) -> usize;
    /// Every ticket matching `keep`, in number order.
    fn scan(&self, keep: &mut dyn FnMut(&Ticket) -> bool) -> Result<Vec<Ticket>, StoreError>;
    /// Replaces a ticket, queues messages to the citizen and puts `callbacks` (moments to look at
    /// the ticket's callback, see [`CallbackStore`]) on the callback schedule, atomically and
    /// durably. A ticket the store never issued is refused ([`StoreError::NoSuchTicket`]) and
    /// nothing is written.
    fn save_with_outbox(
        &self,
        ticket: Ticket,
        messages: Vec<OutboxMessage>,
        callbacks: Vec<jiff::Timestamp>,
    ) -> StoreFuture<'_, ()>;

    /// Tickets a unit is working on (see [`TicketStatus::is_running`]) that have a deadline, in
    /// deadline order, until `visit` returns false. The default scans every ticket; an
    /// implementation with an index reads only the entries visited.
    fn by_deadline(&self, visit: &mut dyn FnMut(DeadlineEntry) -> bool) -> Result<(), StoreError> {
        let mut entries: Vec<DeadlineEntry> = self
            .scan(&mut |t| t.status.is_running() && t.handling.deadline.is_some())?
            .iter()
            .filter_map(DeadlineEntry::of)
            .collect();
        entries.sort_by_key(|e| (e.deadline, e.number));
        for entry in entries {
            if !visit(entry) {
                break;
            }
        }
        Ok(())
    }

    /// How many tickets are in each status (every status listed, zeros included).
    fn status_counts(&self) -> Result<Vec<(TicketStatus, u64)>, StoreError> {
        let mut counts: Vec<(TicketStatus, u64)> =
            TicketStatus::ALL.iter().map(|s| (*s, 0)).collect();
        self.scan(&mut |t| {
            if let Some(c) = counts.iter_mut().find(|(s, _)| *s == t.status) {
                c.1 += 1;
            }
            false
        })?;
        Ok(counts)
    }

    /// One page of the tickets `unit` leads or co-handles, overdue first, then by deadline, then
    /// the oldest; `total` is the length of the whole list. The default scans every ticket; an
    /// implementation with an index reads only the page.
    fn unit_page(&self, unit: &UnitId, page: PageRequest) -> Result<TicketPage, StoreError> {
        let tickets = self.scan(&mut |t| t.handling.involves(unit))?;
        Ok(TicketPage::cut(tickets, page))
    }

    /// One page of the operator queue (waiting for dispatch, returned, escalated, or with an
    /// extension to decide), in the unit lists' order.
    fn queue_page(&self, page: PageRequest) -> Result<TicketPage, StoreError> {
        let tickets = self.scan(&mut |t| {
            matches!(
                t.status,
                TicketStatus::Accepted | TicketStatus::Returned | TicketStatus::Escalated
            ) || t.handling.pending_extension.is_some()
        })?;
        Ok(TicketPage::cut(tickets, page))
    }

    /// Running tickets whose deadline is before `now` (督办 territory).
    fn overdue(&self, now: jiff::Timestamp) -> Result<u64, StoreError> {
        let mut count = 0;
        self.by_deadline(&mut |e| {
            let past = e.deadline < now;
            count += u64::from(past);
            past
        })?;
        Ok(count)
    }
}

/// Which part of a list to read: skip `offset` entries, return at most `limit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: usize,
    pub limit: usize,
    /// Start after this position (the `next` of the page before) instead of at `offset`.
    pub after: Option<ListCursor>,
}

impl PageRequest {
    /// The whole list.
    pub const ALL: PageRequest = PageRequest {
        offset: 0,
        limit: usize::MAX,
        after: None,
    };
}

/// One page of a ticket list and the length of the whole list.
#[derive(Debug, Clone, Default)]
pub struct TicketPage {
    pub tickets: Vec<Ticket>,
    pub total: u64,
    /// Where the next page starts, when more tickets follow this page.
    pub next: Option<ListCursor>,
}

impl TicketPage {
    /// Sorts a whole list (deadline, none last; then arrival) and cuts the page out of it.
    fn cut(mut tickets: Vec<Ticket>, page: PageRequest) -> TicketPage {
        tickets.sort_by_key(|t| {
            (
                t.handling.deadline.unwrap_or(jiff::Timestamp::MAX),
                t.details.created_at,
                t.number,
            )
        });
        let total = tickets.len() as u64;
        let mut rest: Vec<Ticket> = match page.after {
            Some(after) => tickets
                .into_iter()
                .filter(|t| ListCursor::of(t) > after)
                .collect(),
            None => tickets.into_iter().skip(page.offset).collect(),
        };
        let more = rest.len() > page.limit;
        rest.truncate(page.limit);
        let next = more.then(|| rest.last().map(ListCursor::of)).flatten();
        TicketPage {
            tickets: rest,
            total,
            next,
        }
    }
}

/// One entry of the deadline index: a running ticket, its deadline and the warnings already sent
/// for that deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlineEntry {
    pub deadline: jiff::Timestamp,
    pub number: TicketNumber,
    pub yellow_sent: bool,
    pub red_sent: bool,
}

impl DeadlineEntry {
    /// The entry `ticket` has in the deadline index, if any.
    pub fn of(ticket: &Ticket) -> Option<DeadlineEntry> {
        if !ticket.status.is_running() {
            return None;
        }
        let deadline = ticket.handling.deadline?;
        let warned = &ticket.handling.warned;
        let current = warned.for_deadline == Some(deadline);
        Some(DeadlineEntry {
            deadline,
            number: ticket.number,
            yellow_sent: current && warned.yellow,
            red_sent: current && warned.red,
        })
    }
}

/// Messages waiting for delivery to citizens.
pub trait OutboxStore: Send + Sync {
    fn enqueue(&self, message: OutboxMessage) -> StoreFuture<'_, u64>;
    /// Undelivered messages due at `now`, oldest first.
    fn due(&self, now: jiff::Timestamp, limit: usize) -> Result<Vec<OutboxMessage>, StoreError>;
    /// Replaces a message (delivered, or rescheduled with its attempt count).
    fn update(&self, message: OutboxMessage) -> StoreFuture<'_, ()>;
    fn pending(&self) -> Result<usize, StoreError>;
}

/// Conversations, keyed by id.
pub trait ConversationStore: Send + Sync {
    fn save(&self, conversation: Conversation) -> StoreFuture<'_, ()>;
    fn get(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError>;
    /// Saves a conversation with what its turn produced — intake records, article feedback and
    /// the replies it queues for its citizen — in one durable write (one flush for the whole
    /// turn; the conversation and its queued replies atomically, so a crash keeps both or
    /// neither). Returns the outbox ids of the messages in the order given.
    fn save_turn(
        &self,
        conversation: Conversation,
        writes: TurnWrites,
    ) -> StoreFuture<'_, Vec<u64>>;
}

/// What a conversation turn writes besides the conversation itself.
#[derive(Debug, Default)]
pub struct TurnWrites {
    pub records: Vec<IntakeRecord>,
    /// Article feedback as (article id, helpful).
    pub feedback: Vec<(String, bool)>,
    pub messages: Vec<OutboxMessage>,
    /// A ticket change the turn made (the dispatch of the ticket it confirmed), saved in the
    /// same transaction as the conversation.
    pub ticket: Option<TicketWrite>,
}

/// A ticket as a change leaves it, the messages it owes the citizen and the webhooks it owes
/// the units: what `WebhookStore::save_ticket_change` stores, here written with a turn.
#[derive(Debug)]
pub struct TicketWrite {
    pub ticket: Ticket,
    pub messages: Vec<OutboxMessage>,
    pub webhooks: Vec<crate::domain::WebhookDelivery>,
    /// Moments to put on the callback schedule with the change (the expiry moment of a deadline
    /// the change set: 超时回访), so the schedule never misses a deadline the ticket has.
    pub callbacks: Vec<jiff::Timestamp>,
}

/// Intake records (emergencies, refusals, floods) and knowledge-article feedback.
pub trait RecordStore: Send + Sync {
    fn add_record(&self, record: IntakeRecord) -> StoreFuture<'_, ()>;
    /// Up to `limit` records, newest first.
    fn records(&self, limit: usize) -> Result<Vec<IntakeRecord>, StoreError>;
    /// How many records `matching` accepts, read one at a time (nothing is collected).
    fn count_records(
        &self,
        matching: &mut dyn FnMut(&IntakeRecord) -> bool,
    ) -> Result<u64, StoreError> {
        Ok(self
            .records(usize::MAX)?
            .iter()
            .filter(|r| matching(r))
            .count() as u64)
    }
    fn add_feedback(&self, article: String, helpful: bool) -> StoreFuture<'_, ()>;
    fn feedback(&self, article: &str) -> Result<ArticleFeedback, StoreError>;
}

/// Which conversation a platform's chat (a Telegram chat, an SMS number, an integrator's user)
/// continues. Keys are `channel` plus the platform's own id for the chat.
pub trait ChatStore: Send + Sync {
    fn chat_conversation(
        &self,
        channel: crate::domain::Channel,
        chat: &str,
    ) -> Result<Option<ConversationId>, StoreError>;
    /// Points the chat at a conversation (a new one after the old was closed, say).
    fn bind_chat(
        &self,
        channel: crate::domain::Channel,
        chat: String,
        conversation: ConversationId,
    ) -> StoreFuture<'_, ()>;
}

/// Access tokens, stored by the SHA-256 of the token.
pub trait TokenStore: Send + Sync {
    fn put_token(&self, hash: String, record: crate::auth::TokenRecord) -> StoreFuture<'_, ()>;
    fn token(&self, hash: &str) -> Result<Option<crate::auth::TokenRecord>, StoreError>;
    fn tokens(&self) -> Result<Vec<(String, crate::auth::TokenRecord)>, StoreError>;
}

/// The callback schedule: "look at this ticket's callback at this moment", ordered by time, so
/// the worker reads only what is due instead of scanning every ticket. An entry carries no
/// decision: the ticket's callback round says what is due (survey, reminder, 未联系上), so a stale
/// or repeated entry is harmless.
pub trait CallbackStore: Send + Sync {
    fn schedule_callback(&self, due: jiff::Timestamp, ticket: TicketNumber) -> StoreFuture<'_, ()>;
    /// Entries due at `now`, earliest first.
    fn due_callbacks(
        &self,
        now: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<(jiff::Timestamp, TicketNumber)>, StoreError>;
    fn unschedule_callback(
        &self,
        due: jiff::Timestamp,
        ticket: TicketNumber,
    ) -> StoreFuture<'_, ()>;
}
/// Signed webhooks to units' case systems and integrators' apps: a queue, and a log per target.
pub trait WebhookStore: Send + Sync {
    fn enqueue_webhook(&self, delivery: crate::domain::WebhookDelivery) -> StoreFuture<'_, u64>;
    /// Undelivered webhooks due at `now`, oldest first.
    fn due_webhooks(
        &self,
        now: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<crate::domain::WebhookDelivery>, StoreError>;
    /// Replaces a delivery (delivered, or rescheduled with its attempt logged).
    fn update_webhook(&self, delivery: crate::domain::WebhookDelivery) -> StoreFuture<'_, ()>;
    /// Up to `limit` deliveries to `target` (`unit:<id>`, `integrator:<id>`), newest first.
    fn webhook_log(
        &self,
        target: &str,
        limit: usize,
    ) -> Result<Vec<crate::domain::WebhookDelivery>, StoreError>;
    /// Replaces a ticket, queues its messages to the citizen and its webhooks and puts its
    /// callback moments on the schedule, in one durable transaction: no change is stored without
    /// the notices it owes. A ticket the store never issued is refused and nothing is written.
    fn save_ticket_change(&self, write: TicketWrite) -> StoreFuture<'_, ()>;
}

/// What an Open311 request adds to its ticket (its service, coordinates, who posted it), by
/// ticket number.
pub trait Open311Store: Send + Sync {
    /// Gives the ticket its number and stores it, its indexes and its Open311 record in one
    /// transaction, durably: there is never one without the other. With a `request_key` (the
    /// integrator's `Idempotency-Key`, unique per integrator) a key seen before stores nothing and
    /// returns the ticket it created; the flag says whether the ticket is new.
    fn create_open311(
        &self,
        ticket: NewTicket,
        record: crate::open311::RequestRecord,
        request_key: Option<String>,
    ) -> StoreFuture<'_, (Ticket, bool)>;
    fn open311(
        &self,
        number: TicketNumber,
    ) -> Result<Option<crate::open311::RequestRecord>, StoreError>;
    /// Every Open311 request, in ticket-number order.
    fn open311_all(&self)
    -> Result<Vec<(TicketNumber, crate::open311::RequestRecord)>, StoreError>;
}
/// What the SMS channel keeps beside conversations: opt-outs (退订) by number, and which segments
/// of an outbox message the provider has accepted, so a retry never sends a segment twice.
pub trait SmsStore: Send + Sync {
    fn opt_out(&self, number: &str) -> Result<Option<crate::domain::OptOut>, StoreError>;
    /// Records (`Some`) or clears (`None`) a number's opt-out, durably.
    fn set_opt_out(
        &self,
        number: String,
        opt_out: Option<crate::domain::OptOut>,
    ) -> StoreFuture<'_, ()>;
    /// How many leading segments of outbox message `outbox_id` the provider accepted.
    fn sent_segments(&self, outbox_id: u64) -> Result<usize, StoreError>;
    /// Records that segment `index` of `outbox_id` was accepted, with the provider's id for it.
    fn record_segment(
        &self,
        outbox_id: u64,
        index: usize,
        provider_id: String,
    ) -> StoreFuture<'_, ()>;
    /// The one-time code pending for a web chat session's phone, if any.
    fn phone_code(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<crate::domain::PhoneCode>, StoreError>;
    /// Stores (`Some`) or clears (`None`) that code, durably.
    fn set_phone_code(
        &self,
        conversation: ConversationId,
        code: Option<crate::domain::PhoneCode>,
    ) -> StoreFuture<'_, ()>;
}
