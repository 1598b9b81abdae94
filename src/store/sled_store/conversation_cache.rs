//! The conversations written last, kept decoded: a chat turn reads its conversation back
//! (`ConversationStore::get`) moments after the previous turn wrote it, and decoding its JSON
//! cost about a tenth of a whole chat message's work.
//!
//! Only the writer thread fills the cache, right after it has applied the conversation's write
//! to sled and in the order the writes are applied, so the cache never holds anything older than
//! the tree: a read sees what a read of the tree would see (sled too shows an applied write
//! before it is flushed; the turn's reply still waits for the flush). Every write of the
//! conversations tree goes through the writer and updates or forgets the entry; a read that
//! misses decodes from the tree and keeps nothing.
//!
//! Memory is bounded by the encoded size of what is kept: entries live in two generations; when
//! the current one has taken [`GENERATION_BYTES`], it becomes the previous one and the old
//! previous one is dropped. A conversation being talked in is written every turn, so it stays.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::domain::{Conversation, ConversationId};

/// Encoded bytes one generation takes before it is retired (two are kept).
const GENERATION_BYTES: usize = 1024 * 1024;
/// A conversation larger than this when encoded is not kept (it is read from the tree).
const LARGEST_BYTES: usize = 64 * 1024;

#[derive(Default)]
pub(super) struct ConversationCache {
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    current: HashMap<ConversationId, Kept>,
    previous: HashMap<ConversationId, Kept>,
    /// Encoded bytes of the entries in `current`.
    current_bytes: usize,
}

struct Kept {
    conversation: Arc<Conversation>,
    bytes: usize,
}

impl ConversationCache {
    /// The conversation as last written, if it is kept.
    pub(super) fn get(&self, id: ConversationId) -> Option<Conversation> {
        let kept = {
            let generations = self.lock();
            generations
                .current
                .get(&id)
                .or_else(|| generations.previous.get(&id))
                .map(|k| k.conversation.clone())
        };
        kept.map(|c| Conversation::clone(&c))
    }

    /// Keeps `conversation`, just written to the tree; `bytes` is its encoded size.
    pub(super) fn put(&self, conversation: Arc<Conversation>, bytes: usize) {
        let id = conversation.id;
        let mut generations = self.lock();
        let g = &mut *generations;
        g.previous.remove(&id);
        if let Some(old) = g.current.remove(&id) {
            g.current_bytes -= old.bytes;
        }
        if bytes > LARGEST_BYTES {
            return;
        }
        if g.current_bytes + bytes > GENERATION_BYTES {
            g.previous = std::mem::take(&mut g.current);
            g.current_bytes = 0;
        }
        g.current_bytes += bytes;
        g.current.insert(
            id,
            Kept {
                conversation,
                bytes,
            },
        );
    }

    /// Drops what is kept of `id` (its record was written another way).
    pub(super) fn forget(&self, id: ConversationId) {
        let mut generations = self.lock();
        generations.previous.remove(&id);
        if let Some(old) = generations.current.remove(&id) {
            generations.current_bytes -= old.bytes;
        }
    }

    /// The map is consistent after any panic (each change is one insert or remove), so a
    /// poisoned lock is taken as it is.
    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::*;
    use crate::domain::Channel;

    fn conversation() -> Arc<Conversation> {
        let now = Timestamp::from_second(1_790_000_000).unwrap();
        Arc::new(Conversation::start(Channel::Web, now))
    }

    #[test]
    fn the_last_write_of_a_conversation_is_what_is_read() {
        let cache = ConversationCache::default();
        let first = conversation();
        assert_eq!(cache.get(first.id), None);
        cache.put(first.clone(), 100);
        assert_eq!(cache.get(first.id).as_ref(), Some(&*first));
        let mut changed = Conversation::clone(&first);
        changed.wants_human = true;
        cache.put(Arc::new(changed.clone()), 120);
        assert_eq!(cache.get(first.id), Some(changed));
        cache.forget(first.id);
        assert_eq!(cache.get(first.id), None);
    }

    #[test]
    fn memory_stays_within_two_generations_and_a_conversation_in_use_stays() {
        let cache = ConversationCache::default();
        let talking = conversation();
        let others: Vec<_> = (0..200).map(|_| conversation()).collect();
        let size = LARGEST_BYTES / 2;
        let per_generation = GENERATION_BYTES / size;
        for other in &others {
            cache.put(other.clone(), size);
            // The conversation in use is written every turn.
            cache.put(talking.clone(), 1_000);
        }
        assert!(cache.get(talking.id).is_some());
        let kept = others.iter().filter(|o| cache.get(o.id).is_some()).count();
        assert!(
            (per_generation - 1..=2 * per_generation).contains(&kept),
            "{kept} kept"
        );
        assert!(cache.get(others[0].id).is_none());
        assert!(cache.get(others[199].id).is_some());
        let g = cache.lock();
        assert!(g.current_bytes <= GENERATION_BYTES);
    }

    #[tokio::test]
    async fn the_store_reads_back_each_turn_as_written_before_and_after_reopening() {
        use crate::store::{ConversationStore, SledStore, TurnWrites};
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let mut talk = Conversation::clone(&conversation());
        for turn in 0..5 {
            talk.proven_phone = Some(format!("1390000000{turn}"));
            store
                .save_turn(talk.clone(), TurnWrites::default())
                .await
                .unwrap();
            assert_eq!(store.get(talk.id).unwrap().as_ref(), Some(&talk));
            assert!(store.trees.conversation_cache.get(talk.id).is_some());
        }
        // Written another way (the demo seed's bulk save): the kept copy is dropped.
        let mut seeded = talk.clone();
        seeded.flagged_for_review = true;
        store
            .save_conversations(vec![seeded.clone()])
            .await
            .unwrap();
        assert_eq!(store.get(talk.id).unwrap(), Some(seeded.clone()));
        store.close().unwrap();
        drop(store);
        let reopened = SledStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get(talk.id).unwrap(), Some(seeded));
    }

    #[test]
    fn a_very_large_conversation_is_not_kept_and_its_older_copy_is_dropped() {
        let cache = ConversationCache::default();
        let big = conversation();
        cache.put(big.clone(), 100);
        cache.put(big.clone(), LARGEST_BYTES + 1);
        assert_eq!(cache.get(big.id), None);
    }
}
