//! Serialises the messages of one conversation without a lock per conversation: a fixed set of
//! async mutexes, picked by the conversation id's hash. Two conversations rarely share a stripe,
//! and when they do they merely take turns.

use std::hash::{DefaultHasher, Hash, Hasher};

use tokio::sync::{Mutex, MutexGuard};

const STRIPES: usize = 1024;

pub struct StripedLocks {
    stripes: Vec<Mutex<()>>,
}

impl Default for StripedLocks {
    fn default() -> Self {
        Self::new()
    }
}

impl StripedLocks {
    pub fn new() -> Self {
        StripedLocks {
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    pub async fn lock<K: Hash>(&self, key: &K) -> MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        key.hash(&mut hasher);
        let stripe = (hasher.finish() as usize) % STRIPES;
        self.stripes[stripe].lock().await
    }
}
