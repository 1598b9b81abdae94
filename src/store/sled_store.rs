//! The sled implementation of the store traits, with group commit.
//!
//! sled 0.34's `insert` returns before the data is on disk and concurrent `flush_async` calls can
//! deadlock (sled issue 1308), so every write goes through one writer thread: it applies whatever
//! writes are queued, calls the blocking `flush()` once for all of them, and only then completes
//! their futures. A reply that depends on a write is therefore never sent before the write is
//! durable, and concurrent requests share one disk flush.

mod backup;
mod bulk;
mod conversation_cache;
mod digests;
mod index;
mod sms;

pub use backup::{BackupError, BackupSummary, restore, verify};

use std::path::Path;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::{
    CallbackStore, ChatStore, ConversationStore, DeadlineEntry, OutboxStore, RecordStore,
    StoreError, StoreFuture, TicketStore, TokenStore, TurnWrites,
};
use crate::auth::TokenRecord;
use crate::domain::{
    ArticleFeedback, Channel, Conversation, ConversationId, IntakeRecord, NewTicket, OutboxMessage,
    Ticket, TicketNumber, TicketStatus,
};
pub use bulk::{Develop, RawTicket};
pub use digests::RawDigest;

mod changes;
mod interop;
mod turns;

const TICKETS: &str = "tickets";
const CONVERSATIONS: &str = "conversations";
const META: &str = "meta";
const RECORDS: &str = "records";
const FEEDBACK: &str = "kb_feedback";
const TOKENS: &str = "tokens";
const OUTBOX: &str = "outbox";
/// Delivered outbox messages, kept as the delivery log (the outbox itself holds only pending).
const OUTBOX_SENT: &str = "outbox_sent";
/// `channel:chat` → the conversation that chat continues.
const CHATS: &str = "chats";
/// The callback schedule: key = due second (big-endian) + ticket number, value empty.
const CALLBACKS_DUE: &str = "callbacks_due";
/// `target \0 id` → a webhook delivery (the log per target; pending ones too).
const WEBHOOKS: &str = "webhooks";
/// `id` → the `WEBHOOKS` key of a delivery still to make.
const WEBHOOKS_DUE: &str = "webhooks_due";
/// Ticket number → what its Open311 request added (service code, coordinates, integrator).
const OPEN311: &str = "open311_requests";
const NEXT_TICKET_SEQUENCE: &[u8] = b"next_ticket_sequence";
/// The page cache of [`SledStore::open`] (sled's own default, for the command-line tools); the
/// server takes `[store] cache_mb` from its config instead.
pub const DEFAULT_CACHE_BYTES: u64 = 1024 * 1024 * 1024;
/// Most writes applied before one flush; bounds the latency of the first write in a batch.
const MAX_BATCH: usize = 4096;

/// Work for the writer thread: applies its writes and returns what to do once they are durable.
type Job = Box<dyn FnOnce(&Trees) -> Completion + Send>;
type Completion = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

#[derive(Clone)]
struct Trees {
    db: sled::Db,
    tickets: sled::Tree,
    conversations: sled::Tree,
    meta: sled::Tree,
    records: sled::Tree,
    feedback: sled::Tree,
    tokens: sled::Tree,
    outbox: sled::Tree,
    outbox_sent: sled::Tree,
    chats: sled::Tree,
    callbacks_due: sled::Tree,
    webhooks: sled::Tree,
    webhooks_due: sled::Tree,
    open311: sled::Tree,
    /// Secondary indexes (see `index.rs`), written in the same transactions as their records.
    ticket_index: sled::Tree,
    deadlines: sled::Tree,
    outbox_due: sled::Tree,
    /// The conversations written last, decoded (see `conversation_cache.rs`).
    conversation_cache: std::sync::Arc<conversation_cache::ConversationCache>,
}

pub struct SledStore {
    trees: Trees,
    /// The data folder the store was opened in.
    dir: std::path::PathBuf,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl SledStore {
    /// Opens (or creates) the store in `dir`. Fails with [`StoreError::Locked`] when another
    /// process holds it.
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        SledStore::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Opens the store with a page cache of `cache_bytes` (sled's own default is 1 GiB).
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Io(e.to_string()))?;
        let db = open_db(dir, cache_bytes)?;
        let open = |name: &str| db.open_tree(name).map_err(io_error);
        let trees = Trees {
            tickets: open(TICKETS)?,
            conversations: open(CONVERSATIONS)?,
            meta: open(META)?,
            records: open(RECORDS)?,
            feedback: open(FEEDBACK)?,
            tokens: open(TOKENS)?,
            outbox: open(OUTBOX)?,
            outbox_sent: open(OUTBOX_SENT)?,
            chats: open(CHATS)?,
            callbacks_due: open(CALLBACKS_DUE)?,
            webhooks: open(WEBHOOKS)?,
            webhooks_due: open(WEBHOOKS_DUE)?,
            open311: open(OPEN311)?,
            ticket_index: open(index::TICKET_INDEX)?,
            deadlines: open(index::DEADLINES)?,
            outbox_due: open(index::OUTBOX_DUE)?,
            conversation_cache: Default::default(),
            db: db.clone(),
        };
        if !trees.indexes_current()? {
            trees.rebuild_indexes()?;
        }
        let (sender, receiver) = mpsc::channel::<Job>();
        let writer_trees = trees.clone();
        let writer = std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || run_writer(writer_trees, receiver))
            .map_err(|e| StoreError::Io(e.to_string()))?;
        Ok(SledStore {
            trees,
            dir: dir.to_path_buf(),
            jobs: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Stops accepting writes, lets the writer finish what is queued and flushes.
    pub fn close(&self) -> Result<(), StoreError> {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        self.trees.db.flush().map(|_| ()).map_err(io_error)
    }

    /// The data folder the store was opened in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether writes are still accepted (false once [`close`](Self::close) began).
    pub fn is_open(&self) -> bool {
        self.jobs.lock().map(|j| j.is_some()).unwrap_or(false)
    }

    /// Queues `apply` on the writer; the future resolves with its value once it is durable.
    fn write<T: Send + 'static>(
        &self,
        apply: impl FnOnce(&Trees) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let (done_tx, done_rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |trees| {
            let applied = apply(trees);
            Box::new(move |flushed| {
                let outcome = match (applied, flushed) {
                    (Ok(value), Ok(())) => Ok(value),
                    (Err(e), _) | (Ok(_), Err(e)) => Err(e),
                };
                let _ = done_tx.send(outcome);
            })
        });
        self.submit(job, done_rx)
    }

    /// Queues `apply` on the writer; the future resolves with its value as soon as it has been
    /// applied, before the flush that makes it durable (see [`TicketStore::create_pending`]).
    fn write_pending<T: Send + 'static>(
        &self,
        apply: impl FnOnce(&Trees) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let (done_tx, done_rx) = oneshot::channel::<Result<T, StoreError>>();
        let job: Job = Box::new(move |trees| {
            let _ = done_tx.send(apply(trees));
            Box::new(|_flushed| {})
        });
        self.submit(job, done_rx)
    }

    fn submit<T: Send + 'static>(
        &self,
        job: Job,
        done_rx: oneshot::Receiver<Result<T, StoreError>>,
    ) -> StoreFuture<'_, T> {
        let sent = match self.jobs.lock() {
            Ok(jobs) => jobs.as_ref().map(|s| s.send(job).is_ok()).unwrap_or(false),
            Err(_) => false,
        };
        Box::pin(async move {
            if !sent {
                return Err(StoreError::Closed);
            }
            done_rx.await.unwrap_or(Err(StoreError::Closed))
        })
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn run_writer(trees: Trees, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut completions = vec![first(&trees)];
        while completions.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => completions.push(job(&trees)),
                Err(_) => break,
            }
        }
        let flushed = trees.db.flush().map(|_| ()).map_err(io_error);
        if let Err(e) = &flushed {
            tracing::error!(error = %e, "store flush failed");
        }
        for complete in completions {
            complete(flushed.clone());
        }
    }
}

/// How long `open` waits for a lock that is being released: sled's background threads let go of
/// the file lock a moment after the last handle in this process is dropped, so a store closed
/// and reopened in one process (a restart in place, `hotline restore` then serve) would otherwise
/// fail now and then. Another process holding the store still fails, after this wait.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

fn open_db(dir: &Path, cache_bytes: u64) -> Result<sled::Db, StoreError> {
    let started = std::time::Instant::now();
    loop {
        let opened = sled::Config::new()
            .path(dir.join("sled"))
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| open_error(dir, e));
        match opened {
            Err(StoreError::Locked { .. }) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

fn open_error(dir: &Path, e: sled::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("lock")
        || text.contains("WouldBlock")
        || text.contains("temporarily unavailable")
    {
        StoreError::Locked {
            dir: dir.display().to_string(),
        }
    } else {
        StoreError::Io(text)
    }
}

fn transaction_error(e: sled::transaction::TransactionError<()>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Abort(()) => {
            StoreError::Io("transaction aborted".into())
        }
        sled::transaction::TransactionError::Storage(e) => io_error(e),
    }
}

fn abort_error(e: sled::transaction::TransactionError<StoreError>) -> StoreError {
    match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => io_error(e),
    }
}

fn io_error(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    // Started at 1 KiB, not serde_json's 128 bytes: most records are larger (a chat
    // conversation several KiB), and each doubling copies what was written so far.
    let mut bytes = Vec::with_capacity(1024);
    serde_json::to_writer(&mut bytes, value).map_err(|e| StoreError::Io(e.to_string()))?;
    Ok(bytes)
}

fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        message: e.to_string(),
    })
}

fn ticket_key(number: TicketNumber) -> [u8; 8] {
    number.value().to_be_bytes()
}

/// Inside a transaction: gives `ticket` the next number and inserts it with its indexes.
fn insert_new_ticket(
    tickets: &sled::transaction::TransactionalTree,
    meta: &sled::transaction::TransactionalTree,
    ticket_index: &sled::transaction::TransactionalTree,
    deadlines: &sled::transaction::TransactionalTree,
    ticket: &NewTicket,
) -> sled::transaction::ConflictableTransactionResult<Ticket, StoreError> {
    let sequence = match meta.get(NEXT_TICKET_SEQUENCE)? {
        Some(bytes) => u64::from_be_bytes(bytes.as_ref().try_into().unwrap_or([0; 8]))
            .max(TicketNumber::FIRST_SEQUENCE),
        None => TicketNumber::FIRST_SEQUENCE,
    };
    let stored = Ticket::open(TicketNumber::from_sequence(sequence), ticket.clone());
    let bytes = encode(&stored).map_err(sled::transaction::ConflictableTransactionError::Abort)?;
    tickets.insert(&ticket_key(stored.number), bytes)?;
    meta.insert(NEXT_TICKET_SEQUENCE, &(sequence + 1).to_be_bytes())?;
    index::index_ticket(ticket_index, deadlines, meta, &stored)?;
    Ok(stored)
}

/// Numbers and stores a new ticket with its indexes, in one transaction.
fn create_ticket(trees: &Trees, ticket: &NewTicket) -> Result<Ticket, StoreError> {
    use sled::Transactional;
    let result = (
        &trees.tickets,
        &trees.meta,
        &trees.ticket_index,
        &trees.deadlines,
    )
        .transaction(|(tickets, meta, ticket_index, deadlines)| {
            insert_new_ticket(tickets, meta, ticket_index, deadlines, ticket)
        });
    result.map_err(|e| match e {
        sled::transaction::TransactionError::Abort(e) => e,
        sled::transaction::TransactionError::Storage(e) => io_error(e),
    })
}

impl TicketStore for SledStore {
    fn create(&self, ticket: NewTicket) -> StoreFuture<'_, Ticket> {
        self.write(move |trees| create_ticket(trees, &ticket))
    }

    fn create_pending(&self, ticket: NewTicket) -> StoreFuture<'_, Ticket> {
        self.write_pending(move |trees| create_ticket(trees, &ticket))
    }

    fn save(&self, ticket: Ticket) -> StoreFuture<'_, ()> {
        let write = super::TicketWrite {
            ticket,
            messages: Vec::new(),
            webhooks: Vec::new(),
            callbacks: Vec::new(),
        };
        let prepared = changes::PreparedTicket::new(&self.trees, write).map(|p| p.put());
        self.write(move |trees| changes::save_change(trees, &prepared?, None))
    }

    fn get(&self, number: TicketNumber) -> Result<Option<Ticket>, StoreError> {
        match self
            .trees
            .tickets
            .get(ticket_key(number))
            .map_err(io_error)?
        {
            Some(bytes) => decode(TICKETS, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn recent(&self, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.trees
            .tickets
            .iter()
            .rev()
            .take(limit)
            .map(|item| {
                let (_, bytes) = item.map_err(io_error)?;
                decode(TICKETS, &bytes)
            })
            .collect()
    }

    fn count(&self) -> usize {
        self.status_counts()
            .map(|counts| counts.iter().map(|(_, n)| *n as usize).sum())
            .unwrap_or(0)
    }

    fn scan(&self, keep: &mut dyn FnMut(&Ticket) -> bool) -> Result<Vec<Ticket>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.tickets.iter() {
            let (_, bytes) = item.map_err(io_error)?;
            let ticket: Ticket = decode(TICKETS, &bytes)?;
            if keep(&ticket) {
                out.push(ticket);
            }
        }
        Ok(out)
    }

    fn save_with_outbox(
        &self,
        ticket: Ticket,
        messages: Vec<OutboxMessage>,
        callbacks: Vec<jiff::Timestamp>,
    ) -> StoreFuture<'_, ()> {
        let write = super::TicketWrite {
            ticket,
            messages,
            webhooks: Vec::new(),
            callbacks,
        };
        // Numbered and encoded on the caller's thread: the writer thread only applies.
        let prepared = changes::PreparedTicket::new(&self.trees, write);
        self.write(move |trees| changes::save_change(trees, &prepared?, None))
    }

    fn by_deadline(&self, visit: &mut dyn FnMut(DeadlineEntry) -> bool) -> Result<(), StoreError> {
        for item in self.trees.deadlines.iter() {
            let (key, value) = item.map_err(io_error)?;
            let entry =
                index::decode_deadline_entry(&key, &value).ok_or_else(|| StoreError::Corrupt {
                    tree: index::DEADLINES,
                    message: "malformed deadline index key".into(),
                })?;
            if !visit(entry) {
                break;
            }
        }
        Ok(())
    }

    fn unit_page(
        &self,
        unit: &crate::domain::UnitId,
        page: super::PageRequest,
    ) -> Result<super::TicketPage, StoreError> {
        let prefix = index::unit_prefix(unit.as_str());
        let total = self.counter(&index::unit_counter_key(unit.as_str()))?;
        self.list_page(&prefix, total, page)
    }

    fn queue_page(&self, page: super::PageRequest) -> Result<super::TicketPage, StoreError> {
        let total = self.counter(index::QUEUE_COUNT)?;
        self.list_page(&index::queue_prefix(), total, page)
    }

    fn status_counts(&self) -> Result<Vec<(TicketStatus, u64)>, StoreError> {
        TicketStatus::ALL
            .iter()
            .map(|status| {
                let bytes = self
                    .trees
                    .meta
                    .get(index::status_counter_key(*status))
                    .map_err(io_error)?;
                Ok((*status, index::read_counter(bytes.as_deref())))
            })
            .collect()
    }
}

impl SledStore {
    fn counter(&self, key: &[u8]) -> Result<u64, StoreError> {
        let bytes = self.trees.meta.get(key).map_err(io_error)?;
        Ok(index::read_counter(bytes.as_deref()))
    }

    /// A page of the list kept under `prefix` in `ticket_index`: only the page's tickets are
    /// read and decoded. After a cursor the page starts with one seek; an offset walks the keys
    /// from whichever end of the list is nearer.
    fn list_page(
        &self,
        prefix: &[u8],
        total: u64,
        page: super::PageRequest,
    ) -> Result<super::TicketPage, StoreError> {
        use std::ops::Bound;
        let end = index::prefix_end(prefix);
        // The page's keys, and whether more follow it.
        let (keys, more): (Vec<sled::IVec>, bool) = match page.after {
            Some(after) => {
                let mut start = prefix.to_vec();
                start.extend_from_slice(after.bytes());
                let keys: Vec<sled::IVec> = self
                    .trees
                    .ticket_index
                    .range::<&[u8], _>((Bound::Excluded(&start[..]), Bound::Excluded(&end[..])))
                    .keys()
                    .take(page.limit.saturating_add(1))
                    .collect::<Result<_, _>>()
                    .map_err(io_error)?;
                let more = keys.len() > page.limit;
                (keys, more)
            }
            None => {
                let list = self.trees.ticket_index.range(prefix..&end[..]).keys();
                let total = usize::try_from(total).unwrap_or(usize::MAX);
                if page.offset > total / 2 {
                    // Near the end: walk back from it (the last page is one seek).
                    let stop = page.offset.saturating_add(page.limit).min(total);
                    let mut keys: Vec<sled::IVec> = list
                        .rev()
                        .skip(total - stop)
                        .take(stop.saturating_sub(page.offset))
                        .collect::<Result<_, _>>()
                        .map_err(io_error)?;
                    keys.reverse();
                    (keys, stop < total)
                } else {
                    let keys: Vec<sled::IVec> = list
                        .skip(page.offset)
                        .take(page.limit.saturating_add(1))
                        .collect::<Result<_, _>>()
                        .map_err(io_error)?;
                    let more = keys.len() > page.limit;
                    (keys, more)
                }
            }
        };
        let mut tickets = Vec::new();
        let mut next = None;
        for key in keys.iter().take(page.limit) {
            let number = index::number_of_list_key(key).ok_or_else(|| StoreError::Corrupt {
                tree: index::TICKET_INDEX,
                message: "malformed list key".into(),
            })?;
            next = key
                .len()
                .checked_sub(24)
                .and_then(|at| super::ListCursor::from_bytes(&key[at..]));
            // A key whose ticket is gone (never written without it) is skipped, not fatal.
            if let Some(ticket) = TicketStore::get(self, number)? {
                tickets.push(ticket);
            }
        }
        Ok(super::TicketPage {
            tickets,
            total,
            next: if more { next } else { None },
        })
    }
}

impl OutboxStore for SledStore {
    fn enqueue(&self, mut message: OutboxMessage) -> StoreFuture<'_, u64> {
        self.write(move |trees| {
            use sled::Transactional;
            message.id = trees.db.generate_id().map_err(io_error)?;
            let bytes = encode(&message)?;
            (&trees.outbox, &trees.outbox_due, &trees.meta)
                .transaction(|(outbox, due, meta)| {
                    outbox.insert(&message.id.to_be_bytes(), bytes.clone())?;
                    index::index_new_outbox(due, meta, &message)
                })
                .map_err(abort_error)?;
            Ok(message.id)
        })
    }

    fn due(&self, now: jiff::Timestamp, limit: usize) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut out = Vec::new();
        let end = index::timed_key(now, u64::MAX);
        for item in self.trees.outbox_due.range(..=end) {
            let (key, _) = item.map_err(io_error)?;
            let Some(id) = index::outbox_id_of(&key) else {
                continue;
            };
            let Some(bytes) = self.trees.outbox.get(id.to_be_bytes()).map_err(io_error)? else {
                continue;
            };
            let m: OutboxMessage = decode(OUTBOX, &bytes)?;
            if m.delivered_at.is_none() {
                out.push(m);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    fn update(&self, message: OutboxMessage) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            use sled::Transactional;
            let key = message.id.to_be_bytes();
            let bytes = encode(&message)?;
            let delivered = message.delivered_at.is_some();
            (
                &trees.outbox,
                &trees.outbox_sent,
                &trees.outbox_due,
                &trees.meta,
            )
                .transaction(|(outbox, sent, due, meta)| {
                    let previous: Option<OutboxMessage> = match outbox.get(key)? {
                        Some(old) => Some(
                            decode(OUTBOX, &old)
                                .map_err(sled::transaction::ConflictableTransactionError::Abort)?,
                        ),
                        None => None,
                    };
                    if delivered {
                        outbox.remove(&key)?;
                        sent.insert(&key, bytes.clone())?;
                    } else {
                        outbox.insert(&key, bytes.clone())?;
                    }
                    index::index_outbox_update(due, meta, previous.as_ref(), &message)
                })
                .map_err(abort_error)
        })
    }

    fn pending(&self) -> Result<usize, StoreError> {
        let bytes = self
            .trees
            .meta
            .get(index::OUTBOX_PENDING)
            .map_err(io_error)?;
        Ok(index::read_counter(bytes.as_deref()) as usize)
    }
}

impl ConversationStore for SledStore {
    fn save(&self, conversation: Conversation) -> StoreFuture<'_, ()> {
        let saved = self.save_turn(conversation, TurnWrites::default());
        Box::pin(async move { saved.await.map(|_| ()) })
    }

    fn save_turn(
        &self,
        conversation: Conversation,
        writes: TurnWrites,
    ) -> StoreFuture<'_, Vec<u64>> {
        // Numbered and encoded here, on the caller's thread: the writer thread only inserts,
        // then keeps the conversation decoded for the next turn's read.
        let prepared = turns::PreparedTurn::new(&self.trees, &conversation, writes);
        let conversation = std::sync::Arc::new(conversation);
        self.write(move |trees| {
            let prepared = prepared?;
            let bytes = prepared.conversation_bytes();
            match turns::save_turn(trees, prepared) {
                Ok(ids) => {
                    trees.conversation_cache.put(conversation, bytes);
                    Ok(ids)
                }
                Err(e) => {
                    // Part of the turn may be written: the tree is read again next time.
                    trees.conversation_cache.forget(conversation.id);
                    Err(e)
                }
            }
        })
    }

    fn get(&self, id: ConversationId) -> Result<Option<Conversation>, StoreError> {
        if let Some(conversation) = self.trees.conversation_cache.get(id) {
            return Ok(Some(conversation));
        }
        match self
            .trees
            .conversations
            .get(id.0.as_bytes())
            .map_err(io_error)?
        {
            Some(bytes) => decode(CONVERSATIONS, &bytes).map(Some),
            None => Ok(None),
        }
    }
}

impl RecordStore for SledStore {
    fn add_record(&self, record: IntakeRecord) -> StoreFuture<'_, ()> {
        let encoded = encode(&record);
        self.write(move |trees| {
            let id = trees.db.generate_id().map_err(io_error)?;
            trees
                .records
                .insert(id.to_be_bytes(), encoded?)
                .map(|_| ())
                .map_err(io_error)
        })
    }

    fn records(&self, limit: usize) -> Result<Vec<IntakeRecord>, StoreError> {
        self.trees
            .records
            .iter()
            .rev()
            .take(limit)
            .map(|item| {
                let (_, bytes) = item.map_err(io_error)?;
                decode(RECORDS, &bytes)
            })
            .collect()
    }

    fn count_records(
        &self,
        matching: &mut dyn FnMut(&IntakeRecord) -> bool,
    ) -> Result<u64, StoreError> {
        let mut count = 0;
        for item in self.trees.records.iter() {
            let (_, bytes) = item.map_err(io_error)?;
            let record: IntakeRecord = decode(RECORDS, &bytes)?;
            count += u64::from(matching(&record));
        }
        Ok(count)
    }

    fn add_feedback(&self, article: String, helpful: bool) -> StoreFuture<'_, ()> {
        self.write(move |trees| add_feedback_in(trees, &article, helpful))
    }

    fn feedback(&self, article: &str) -> Result<ArticleFeedback, StoreError> {
        match self
            .trees
            .feedback
            .get(article.as_bytes())
            .map_err(io_error)?
        {
            Some(bytes) => decode(FEEDBACK, &bytes),
            None => Ok(ArticleFeedback::default()),
        }
    }
}

/// Counts one 有帮助/没帮助 for `article` (on the writer thread: read, add, write back).
fn add_feedback_in(trees: &Trees, article: &str, helpful: bool) -> Result<(), StoreError> {
    let mut counts: ArticleFeedback =
        match trees.feedback.get(article.as_bytes()).map_err(io_error)? {
            Some(bytes) => decode(FEEDBACK, &bytes)?,
            None => ArticleFeedback::default(),
        };
    if helpful {
        counts.helpful += 1;
    } else {
        counts.not_helpful += 1;
    }
    trees
        .feedback
        .insert(article.as_bytes(), encode(&counts)?)
        .map(|_| ())
        .map_err(io_error)
}

fn chat_key(channel: Channel, chat: &str) -> Vec<u8> {
    format!("{}:{chat}", channel.as_str()).into_bytes()
}

impl ChatStore for SledStore {
    fn chat_conversation(
        &self,
        channel: Channel,
        chat: &str,
    ) -> Result<Option<ConversationId>, StoreError> {
        match self
            .trees
            .chats
            .get(chat_key(channel, chat))
            .map_err(io_error)?
        {
            Some(bytes) => uuid::Uuid::from_slice(&bytes)
                .map(|id| Some(ConversationId(id)))
                .map_err(|e| StoreError::Corrupt {
                    tree: CHATS,
                    message: e.to_string(),
                }),
            None => Ok(None),
        }
    }

    fn bind_chat(
        &self,
        channel: Channel,
        chat: String,
        conversation: ConversationId,
    ) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            trees
                .chats
                .insert(chat_key(channel, &chat), conversation.0.as_bytes())
                .map(|_| ())
                .map_err(io_error)
        })
    }
}

impl TokenStore for SledStore {
    fn put_token(&self, hash: String, record: TokenRecord) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            trees
                .tokens
                .insert(hash.as_bytes(), encode(&record)?)
                .map(|_| ())
                .map_err(io_error)
        })
    }

    fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        match self.trees.tokens.get(hash.as_bytes()).map_err(io_error)? {
            Some(bytes) => decode(TOKENS, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn tokens(&self) -> Result<Vec<(String, TokenRecord)>, StoreError> {
        self.trees
            .tokens
            .iter()
            .map(|item| {
                let (key, bytes) = item.map_err(io_error)?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode(TOKENS, &bytes)?,
                ))
            })
            .collect()
    }
}

fn callback_key(due: jiff::Timestamp, ticket: TicketNumber) -> [u8; 16] {
    let mut key = [0u8; 16];
    let second = u64::try_from(due.as_second()).unwrap_or(0);
    key[..8].copy_from_slice(&second.to_be_bytes());
    key[8..].copy_from_slice(&ticket.value().to_be_bytes());
    key
}

fn parse_callback_key(key: &[u8]) -> Option<(jiff::Timestamp, TicketNumber)> {
    let second = u64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    let number = u64::from_be_bytes(key.get(8..16)?.try_into().ok()?);
    let due = jiff::Timestamp::from_second(i64::try_from(second).ok()?).ok()?;
    let ticket = TicketNumber::parse(&number.to_string())?;
    Some((due, ticket))
}

impl CallbackStore for SledStore {
    fn schedule_callback(&self, due: jiff::Timestamp, ticket: TicketNumber) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            trees
                .callbacks_due
                .insert(callback_key(due, ticket), &[])
                .map(|_| ())
                .map_err(io_error)
        })
    }

    fn due_callbacks(
        &self,
        now: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<(jiff::Timestamp, TicketNumber)>, StoreError> {
        // Everything before the next whole second: entries are kept to the second.
        let next_second = u64::try_from(now.as_second())
            .unwrap_or(0)
            .saturating_add(1);
        let mut end = [0u8; 16];
        end[..8].copy_from_slice(&next_second.to_be_bytes());
        let mut out = Vec::new();
        for item in self.trees.callbacks_due.range(..end).take(limit) {
            let (key, _) = item.map_err(io_error)?;
            let entry = parse_callback_key(&key).ok_or_else(|| StoreError::Corrupt {
                tree: CALLBACKS_DUE,
                message: format!("bad key {key:?}"),
            })?;
            out.push(entry);
        }
        Ok(out)
    }

    fn unschedule_callback(
        &self,
        due: jiff::Timestamp,
        ticket: TicketNumber,
    ) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            trees
                .callbacks_due
                .remove(callback_key(due, ticket))
                .map(|_| ())
                .map_err(io_error)
        })
    }
}
#[cfg(test)]
mod tests;
