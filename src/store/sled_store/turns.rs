//! A conversation turn and the replies it queues, in one transaction: a crash keeps both or
//! neither, so a reply is never lost while its turn (and the platform's message id, which makes
//! a retry a no-op) is kept. A ticket change the turn made (the dispatch of the ticket it
//! confirmed, with the notices and webhooks it owes) joins the same transaction.

use sled::Transactional;

use super::changes::{MessageRows, PreparedTicket, TurnPart, number_messages, save_change};
use super::{Trees, abort_error, add_feedback_in, encode, index, io_error};
use crate::domain::Conversation;
use crate::store::{StoreError, TurnWrites};

/// A turn numbered and encoded on the caller's thread, ready for the writer thread.
pub(super) struct PreparedTurn {
    key: Vec<u8>,
    conversation: Vec<u8>,
    records: Vec<(u64, Vec<u8>)>,
    feedback: Vec<(String, bool)>,
    messages: MessageRows,
    ticket: Option<PreparedTicket>,
}

impl PreparedTurn {
    pub(super) fn new(
        trees: &Trees,
        conversation: &Conversation,
        writes: TurnWrites,
    ) -> Result<PreparedTurn, StoreError> {
        let db = &trees.db;
        let records = writes
            .records
            .iter()
            .map(|r| Ok((db.generate_id().map_err(io_error)?, encode(r)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let ticket = match writes.ticket {
            Some(write) => Some(PreparedTicket::new(trees, write)?),
            None => None,
        };
        Ok(PreparedTurn {
            key: conversation.id.0.as_bytes().to_vec(),
            conversation: encode(conversation)?,
            records,
            feedback: writes.feedback,
            messages: number_messages(db, writes.messages)?,
            ticket,
        })
    }
}

impl PreparedTurn {
    /// The encoded conversation's size.
    pub(super) fn conversation_bytes(&self) -> usize {
        self.conversation.len()
    }
}

/// Writes the conversation and queues its messages atomically (a crash keeps both or neither),
/// then adds the turn's intake records and article feedback in the same group commit; returns
/// the outbox ids in the order given.
pub(super) fn save_turn(trees: &Trees, turn: PreparedTurn) -> Result<Vec<u64>, StoreError> {
    if let Some(change) = &turn.ticket {
        let part = TurnPart {
            key: &turn.key,
            conversation: &turn.conversation,
            messages: &turn.messages,
        };
        save_change(trees, change, Some(part))?;
    } else if turn.messages.is_empty() {
        trees
            .conversations
            .insert(turn.key.as_slice(), turn.conversation)
            .map_err(io_error)?;
    } else {
        (
            &trees.conversations,
            &trees.outbox,
            &trees.outbox_due,
            &trees.meta,
        )
            .transaction(|(conversations, outbox, due, meta)| {
                conversations.insert(turn.key.as_slice(), turn.conversation.clone())?;
                for (message, bytes) in &turn.messages {
                    outbox.insert(&message.id.to_be_bytes(), bytes.clone())?;
                    index::index_new_outbox(due, meta, message)?;
                }
                Ok(())
            })
            .map_err(abort_error)?;
    }
    for (id, bytes) in turn.records {
        trees
            .records
            .insert(id.to_be_bytes(), bytes)
            .map_err(io_error)?;
    }
    for (article, helpful) in turn.feedback {
        add_feedback_in(trees, &article, helpful)?;
    }
    Ok(turn.messages.into_iter().map(|(m, _)| m.id).collect())
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use crate::domain::{Channel, Conversation, OutboundReply, OutboxMessage};
    use crate::store::{CallbackStore, ConversationStore, OutboxStore, SledStore};

    #[tokio::test]
    async fn a_turn_and_its_replies_are_saved_together_numbered_in_order_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        let mut conversation = Conversation::start(Channel::Sms, now);
        conversation.mark_seen("twilio:SM1".into());
        let replies: Vec<OutboxMessage> = ["一", "二"]
            .iter()
            .map(|t| {
                OutboxMessage::new(
                    conversation.id,
                    Channel::Sms,
                    OutboundReply::text(*t),
                    None,
                    now,
                )
            })
            .collect();
        let store = SledStore::open(dir.path()).unwrap();
        let ids = store
            .save_turn(
                conversation.clone(),
                crate::store::TurnWrites {
                    messages: replies,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(ids.len(), 2);
        assert!(ids[0] < ids[1]);
        store.close().unwrap();
        drop(store);

        let store = SledStore::open(dir.path()).unwrap();
        let stored = ConversationStore::get(&store, conversation.id)
            .unwrap()
            .unwrap();
        assert!(stored.has_seen("twilio:SM1"));
        let due = store.due(now, 10).unwrap();
        let texts: Vec<&str> = due.iter().map(|m| m.reply.text.as_str()).collect();
        assert_eq!(texts, ["一", "二"]);
        assert_eq!(due.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
        assert_eq!(store.pending().unwrap(), 2);
        store.close().unwrap();
    }

    #[tokio::test]
    async fn a_confirmed_ticket_its_dispatch_and_its_turn_are_durable_after_the_one_turn_write() {
        use crate::domain::{NewTicket, TicketStatus, UnitId};
        use crate::store::{TicketStore, TicketWrite, TurnWrites};

        let dir = tempfile::tempdir().unwrap();
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        let mut conversation = Conversation::start(Channel::Sms, now);
        let store = SledStore::open(dir.path()).unwrap();
        let created = store
            .create_pending(NewTicket {
                channel: Channel::Sms,
                conversation: conversation.id,
                ..NewTicket::sample(now)
            })
            .await
            .unwrap();
        let mut dispatched = created.clone();
        dispatched.status = TicketStatus::Dispatched;
        dispatched.handling.lead = Some(UnitId::new("street-lights"));
        conversation.tickets.push(created.number);
        let notice = |text: &str| {
            OutboxMessage::new(
                conversation.id,
                Channel::Sms,
                OutboundReply::text(text),
                None,
                now,
            )
        };
        let ids = store
            .save_turn(
                conversation.clone(),
                TurnWrites {
                    messages: vec![notice("回复")],
                    ticket: Some(TicketWrite {
                        ticket: dispatched.clone(),
                        messages: vec![notice("通知")],
                        webhooks: Vec::new(),
                        callbacks: vec![now + jiff::SignedDuration::from_hours(48)],
                    }),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(ids.len(), 1);
        store.close().unwrap();
        drop(store);

        let store = SledStore::open(dir.path()).unwrap();
        let stored = TicketStore::get(&store, created.number).unwrap().unwrap();
        assert_eq!(stored.status, TicketStatus::Dispatched);
        assert_eq!(stored.handling.lead, dispatched.handling.lead);
        let saved = ConversationStore::get(&store, conversation.id)
            .unwrap()
            .unwrap();
        assert_eq!(saved.tickets, vec![created.number]);
        let due = store.due(now, 10).unwrap();
        let texts: Vec<&str> = due.iter().map(|m| m.reply.text.as_str()).collect();
        assert_eq!(texts, ["通知", "回复"]);
        // The status counts were kept in the same transaction: one ticket, now dispatched.
        let counts = store.status_counts().unwrap();
        let count = |s: TicketStatus| {
            counts
                .iter()
                .find(|(status, _)| *status == s)
                .map_or(0, |(_, n)| *n)
        };
        assert_eq!(count(TicketStatus::Dispatched), 1);
        assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 1);
        // The expiry moment the dispatch set is on the callback schedule, from the same write.
        let later = now + jiff::SignedDuration::from_hours(49);
        let moments = store.due_callbacks(later, 10).unwrap();
        assert_eq!(moments.len(), 1);
        assert_eq!(moments[0].1, created.number);
        store.close().unwrap();
    }
}
