//! A conversation turn and the replies it queues, in one transaction: a crash keeps both or
//! neither, so a reply is never lost while its turn (and the platform's message id, which makes
//! a retry a no-op) is kept.

use sled::Transactional;

use super::{Trees, abort_error, add_feedback_in, encode, index, io_error};
use crate::domain::{Conversation, OutboxMessage};
use crate::store::{StoreError, TurnWrites};

/// A turn numbered and encoded on the caller's thread, ready for the writer thread.
pub(super) struct PreparedTurn {
    key: Vec<u8>,
    conversation: Vec<u8>,
    records: Vec<(u64, Vec<u8>)>,
    feedback: Vec<(String, bool)>,
    messages: Vec<(OutboxMessage, Vec<u8>)>,
}

impl PreparedTurn {
    pub(super) fn new(
        db: &sled::Db,
        conversation: &Conversation,
        writes: TurnWrites,
    ) -> Result<PreparedTurn, StoreError> {
        let records = writes
            .records
            .iter()
            .map(|r| Ok((db.generate_id().map_err(io_error)?, encode(r)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut messages = Vec::with_capacity(writes.messages.len());
        for mut m in writes.messages {
            m.id = db.generate_id().map_err(io_error)?;
            let bytes = encode(&m)?;
            messages.push((m, bytes));
        }
        Ok(PreparedTurn {
            key: conversation.id.0.as_bytes().to_vec(),
            conversation: encode(conversation)?,
            records,
            feedback: writes.feedback,
            messages,
        })
    }
}

/// Writes the conversation and queues its messages atomically (a crash keeps both or neither),
/// then adds the turn's intake records and article feedback in the same group commit; returns
/// the outbox ids in the order given.
pub(super) fn save_turn(trees: &Trees, turn: PreparedTurn) -> Result<Vec<u64>, StoreError> {
    if turn.messages.is_empty() {
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
    use crate::store::{ConversationStore, OutboxStore, SledStore};

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
}
