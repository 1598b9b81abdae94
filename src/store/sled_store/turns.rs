//! A conversation turn and the replies it queues, in one transaction: a crash keeps both or
//! neither, so a reply is never lost while its turn (and the platform's message id, which makes
//! a retry a no-op) is kept.

use sled::Transactional;

use super::{Trees, abort_error, encode, index, io_error};
use crate::domain::{Conversation, OutboxMessage};
use crate::store::StoreError;

/// Numbers the messages, then writes the conversation and queues them atomically; returns the
/// outbox ids in the order given.
pub(super) fn save_turn(
    trees: &Trees,
    conversation: &Conversation,
    messages: Vec<OutboxMessage>,
) -> Result<Vec<u64>, StoreError> {
    let mut numbered = Vec::with_capacity(messages.len());
    for mut m in messages {
        m.id = trees.db.generate_id().map_err(io_error)?;
        let bytes = encode(&m)?;
        numbered.push((m, bytes));
    }
    let conversation_bytes = encode(conversation)?;
    (
        &trees.conversations,
        &trees.outbox,
        &trees.outbox_due,
        &trees.meta,
    )
        .transaction(|(conversations, outbox, due, meta)| {
            conversations.insert(conversation.id.0.as_bytes(), conversation_bytes.clone())?;
            for (message, bytes) in &numbered {
                outbox.insert(&message.id.to_be_bytes(), bytes.clone())?;
                index::index_new_outbox(due, meta, message)?;
            }
            Ok(())
        })
        .map_err(abort_error)?;
    Ok(numbered.into_iter().map(|(m, _)| m.id).collect())
}
