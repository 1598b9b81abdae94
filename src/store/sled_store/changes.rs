//! A ticket change in one transaction: the ticket and its indexes, the messages it owes the
//! citizen, the webhooks it owes the units and the moments it puts on the callback schedule (the
//! expiry moment of a deadline it set: 超时回访; the first survey of a round it opened). A crash
//! keeps all of it or none. A chat turn that made the change (the dispatch of the ticket it
//! confirmed) joins the same transaction with its conversation and replies.
//!
//! A change names a ticket the store issued: one it never issued is refused and writes nothing
//! (only [`TicketStore::save`](crate::store::TicketStore::save) may put a ticket as given).

use sled::Transactional;
use sled::transaction::ConflictableTransactionError::Abort;

use super::interop::{WebhookRow, number_webhooks};
use super::{Trees, abort_error, callback_key, encode, index, io_error, ticket_key};
use crate::domain::{OutboxMessage, Ticket};
use crate::store::{StoreError, TicketWrite};

/// Messages numbered and encoded (outside the transaction, which may run more than once).
pub(super) type MessageRows = Vec<(OutboxMessage, Vec<u8>)>;

pub(super) fn number_messages(
    db: &sled::Db,
    messages: Vec<OutboxMessage>,
) -> Result<MessageRows, StoreError> {
    let mut numbered = Vec::with_capacity(messages.len());
    for mut m in messages {
        m.id = db.generate_id().map_err(io_error)?;
        let bytes = encode(&m)?;
        numbered.push((m, bytes));
    }
    Ok(numbered)
}

/// A ticket change numbered and encoded on the caller's thread, ready for the writer thread.
pub(super) struct PreparedTicket {
    ticket: Ticket,
    bytes: Vec<u8>,
    messages: MessageRows,
    webhooks: Vec<WebhookRow>,
    /// `callbacks_due` keys of the moments the change schedules.
    callbacks: Vec<[u8; 16]>,
    /// Refuse the write when the store never issued the ticket (every change but a plain save).
    issued_only: bool,
}

impl PreparedTicket {
    pub(super) fn new(trees: &Trees, write: TicketWrite) -> Result<PreparedTicket, StoreError> {
        Ok(PreparedTicket {
            bytes: encode(&write.ticket)?,
            messages: number_messages(&trees.db, write.messages)?,
            webhooks: number_webhooks(trees, write.webhooks)?,
            callbacks: write
                .callbacks
                .iter()
                .map(|due| callback_key(*due, write.ticket.number))
                .collect(),
            ticket: write.ticket,
            issued_only: true,
        })
    }

    /// The same write, stored whether or not the store issued the ticket.
    pub(super) fn put(mut self) -> PreparedTicket {
        self.issued_only = false;
        self
    }
}

/// What a chat turn adds to the change's transaction: its conversation and its replies.
pub(super) struct TurnPart<'a> {
    pub(super) key: &'a [u8],
    pub(super) conversation: &'a [u8],
    pub(super) messages: &'a MessageRows,
}

/// Writes `change` (with `turn`, when a chat turn made it) in one transaction.
pub(super) fn save_change(
    trees: &Trees,
    change: &PreparedTicket,
    turn: Option<TurnPart<'_>>,
) -> Result<(), StoreError> {
    let turn_messages = turn.as_ref().map_or(&[][..], |t| t.messages.as_slice());
    (
        &trees.conversations,
        &trees.outbox,
        &trees.outbox_due,
        &trees.meta,
        &trees.tickets,
        &trees.ticket_index,
        &trees.deadlines,
        &trees.webhooks,
        &trees.webhooks_due,
        &trees.callbacks_due,
    )
        .transaction(
            |(
                conversations,
                outbox,
                outbox_due,
                meta,
                tickets,
                ticket_index,
                deadlines,
                webhooks,
                webhooks_due,
                callbacks_due,
            )| {
                let ticket = &change.ticket;
                let key = ticket_key(ticket.number);
                let previous = tickets.insert(&key, change.bytes.clone())?;
                if previous.is_none() && change.issued_only {
                    return Err(Abort(StoreError::NoSuchTicket(ticket.number)));
                }
                index::index_ticket(ticket_index, deadlines, meta, ticket)?;
                for (message, bytes) in change.messages.iter().chain(turn_messages) {
                    outbox.insert(&message.id.to_be_bytes(), bytes.clone())?;
                    index::index_new_outbox(outbox_due, meta, message)?;
                }
                for (key, id, bytes) in &change.webhooks {
                    webhooks.insert(key.as_slice(), bytes.clone())?;
                    webhooks_due.insert(id, key.clone())?;
                }
                for key in &change.callbacks {
                    callbacks_due.insert(key, &[])?;
                }
                if let Some(turn) = &turn {
                    conversations.insert(turn.key, turn.conversation)?;
                }
                Ok(())
            },
        )
        .map_err(abort_error)
}

#[cfg(test)]
mod tests {
    use jiff::{SignedDuration, Timestamp};

    use crate::domain::{
        Channel, NewTicket, OutboundReply, OutboxMessage, Ticket, TicketStatus, WebhookDelivery,
    };
    use crate::store::{
        CallbackStore, OutboxStore, SledStore, StoreError, TicketStore, TicketWrite, WebhookStore,
    };

    fn now() -> Timestamp {
        Timestamp::from_second(1_790_000_000).unwrap()
    }

    /// The ticket dispatched, with a notice, a webhook and its expiry moment 48 hours on.
    fn dispatch(ticket: &Ticket) -> TicketWrite {
        let mut dispatched = ticket.clone();
        dispatched.status = TicketStatus::Dispatched;
        let notice = OutboxMessage::new(
            ticket.details.conversation,
            Channel::Api,
            OutboundReply::text("已派单"),
            Some(ticket.number),
            now(),
        );
        let hook =
            WebhookDelivery::new("unit:a".into(), "ticket.dispatch", None, "{}".into(), now());
        TicketWrite {
            ticket: dispatched,
            messages: vec![notice],
            webhooks: vec![hook],
            callbacks: vec![now() + SignedDuration::from_hours(48)],
        }
    }

    fn expiry_due(store: &SledStore) -> Vec<(Timestamp, crate::domain::TicketNumber)> {
        let later = now() + SignedDuration::from_hours(49);
        store.due_callbacks(later, 10).unwrap()
    }

    #[tokio::test]
    async fn a_change_and_the_expiry_moment_it_sets_are_saved_together_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let (with_hooks, plain) = {
            let store = SledStore::open(dir.path()).unwrap();
            let a = store.create(NewTicket::sample(now())).await.unwrap();
            let b = store.create(NewTicket::sample(now())).await.unwrap();
            assert!(expiry_due(&store).is_empty());
            store.save_ticket_change(dispatch(&a)).await.unwrap();
            let write = dispatch(&b);
            store
                .save_with_outbox(write.ticket, write.messages, write.callbacks)
                .await
                .unwrap();
            store.close().unwrap();
            (a.number, b.number)
        };
        let store = SledStore::open(dir.path()).unwrap();
        let at = now() + SignedDuration::from_hours(48);
        assert_eq!(expiry_due(&store), vec![(at, with_hooks), (at, plain)]);
        for number in [with_hooks, plain] {
            let stored = TicketStore::get(&store, number).unwrap().unwrap();
            assert_eq!(stored.status, TicketStatus::Dispatched);
        }
        assert_eq!(store.due(now(), 10).unwrap().len(), 2);
        assert_eq!(store.due_webhooks(now(), 10).unwrap().len(), 1);
        // Nothing is due before the moment itself.
        let before = now() + SignedDuration::from_hours(47);
        assert!(store.due_callbacks(before, 10).unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_change_the_store_refuses_leaves_no_expiry_moment_notice_or_webhook_behind() {
        // A ticket issued by another store: this one never issued its number.
        let elsewhere = tempfile::tempdir().unwrap();
        let other = SledStore::open(elsewhere.path()).unwrap();
        let stranger = other.create(NewTicket::sample(now())).await.unwrap();
        other.close().unwrap();

        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let refused = store.save_ticket_change(dispatch(&stranger)).await;
        assert!(
            matches!(refused, Err(StoreError::NoSuchTicket(n)) if n == stranger.number),
            "{refused:?}"
        );
        let write = dispatch(&stranger);
        let refused = store
            .save_with_outbox(write.ticket, write.messages, write.callbacks)
            .await;
        assert!(
            matches!(refused, Err(StoreError::NoSuchTicket(_))),
            "{refused:?}"
        );

        assert!(
            expiry_due(&store).is_empty(),
            "no expiry moment without its change"
        );
        assert!(TicketStore::get(&store, stranger.number).unwrap().is_none());
        assert_eq!(store.count(), 0, "the status counts were not touched");
        assert!(store.due(now(), 10).unwrap().is_empty());
        assert!(store.due_webhooks(now(), 10).unwrap().is_empty());
    }
}
