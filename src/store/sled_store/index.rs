//! Secondary indexes of the sled store, written in the same transaction as the record they
//! describe, so a crash leaves both or neither.
//!
//! - `ticket_index`: ticket number → its status and its key in `idx_deadlines` (what the next
//!   write must undo).
//! - `idx_deadlines`: (deadline, number) → which warnings went out for that deadline, for every
//!   ticket a unit is working on. The deadline scheduler and the overdue count read a prefix of it
//!   instead of every ticket.
//! - `idx_outbox_due`: (next attempt, id) → nothing, for every pending outbox message.
//! - counters in `meta`: tickets per status and pending outbox messages, so `/metrics` reads a
//!   dozen keys rather than the whole store.
//!
//! Keys are big-endian with the timestamp's sign bit flipped, so byte order is time order.

use jiff::Timestamp;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::domain::{OutboxMessage, Ticket, TicketNumber, TicketStatus};
use crate::store::{DeadlineEntry, StoreError};

pub(super) const TICKET_INDEX: &str = "ticket_index";
pub(super) const DEADLINES: &str = "idx_deadlines";
pub(super) const OUTBOX_DUE: &str = "idx_outbox_due";
/// Bumped when the layout of an index changes: a store with another version is re-indexed.
pub(super) const INDEX_VERSION_KEY: &[u8] = b"index_version";
pub(super) const INDEX_VERSION: u64 = 1;
pub(super) const OUTBOX_PENDING: &[u8] = b"outbox_pending";

const YELLOW_SENT: u8 = 1;
const RED_SENT: u8 = 2;

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

pub(super) fn timestamp_key(at: Timestamp) -> [u8; 8] {
    ((at.as_millisecond() as u64) ^ (1 << 63)).to_be_bytes()
}

fn timestamp_from_key(bytes: &[u8]) -> Option<Timestamp> {
    let raw = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?) ^ (1 << 63);
    Timestamp::from_millisecond(raw as i64).ok()
}

/// `(at, id)` as one 16-byte key.
pub(super) fn timed_key(at: Timestamp, id: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&timestamp_key(at));
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

pub(super) fn status_counter_key(status: TicketStatus) -> Vec<u8> {
    format!("tickets_in:{}", status.name()).into_bytes()
}

pub(super) fn read_counter(bytes: Option<&[u8]>) -> u64 {
    bytes
        .and_then(|b| b.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

fn add_to_counter(meta: &TransactionalTree, key: &[u8], delta: i64) -> TxResult<()> {
    let current = read_counter(meta.get(key)?.as_deref());
    let next = current.saturating_add_signed(delta);
    meta.insert(key, &next.to_be_bytes())?;
    Ok(())
}

/// What `ticket_index` remembers of a ticket: its status and its deadline-index key.
struct Entry {
    status: TicketStatus,
    deadline_key: Option<[u8; 16]>,
}

impl Entry {
    fn encode(&self) -> Vec<u8> {
        let position = TicketStatus::ALL
            .iter()
            .position(|s| *s == self.status)
            .unwrap_or(0) as u8;
        let mut bytes = vec![position];
        if let Some(key) = self.deadline_key {
            bytes.extend_from_slice(&key);
        }
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Entry> {
        let status = *TicketStatus::ALL.get(usize::from(*bytes.first()?))?;
        let deadline_key = match bytes.len() {
            1 => None,
            17 => Some(bytes[1..].try_into().ok()?),
            _ => return None,
        };
        Some(Entry {
            status,
            deadline_key,
        })
    }
}

/// The deadline-index key and flags of `ticket`: `None` unless a unit owes work by a deadline.
fn deadline_entry(ticket: &Ticket) -> Option<([u8; 16], u8)> {
    let entry = DeadlineEntry::of(ticket)?;
    let flags =
        if entry.yellow_sent { YELLOW_SENT } else { 0 } | if entry.red_sent { RED_SENT } else { 0 };
    Some((timed_key(entry.deadline, entry.number.value()), flags))
}

/// Brings the indexes in line with `ticket`, which the same transaction is writing.
pub(super) fn index_ticket(
    ticket_index: &TransactionalTree,
    deadlines: &TransactionalTree,
    meta: &TransactionalTree,
    ticket: &Ticket,
) -> TxResult<()> {
    let number = ticket.number.value().to_be_bytes();
    let previous = ticket_index.get(number)?.and_then(|b| Entry::decode(&b));
    let next = deadline_entry(ticket);
    if let Some(old) = previous.as_ref().and_then(|p| p.deadline_key)
        && next.map(|(key, _)| key) != Some(old)
    {
        deadlines.remove(&old[..])?;
    }
    if let Some((key, flags)) = next {
        deadlines.insert(&key[..], &[flags])?;
    }
    match &previous {
        Some(p) if p.status == ticket.status => {}
        Some(p) => {
            add_to_counter(meta, &status_counter_key(p.status), -1)?;
            add_to_counter(meta, &status_counter_key(ticket.status), 1)?;
        }
        None => add_to_counter(meta, &status_counter_key(ticket.status), 1)?,
    }
    let entry = Entry {
        status: ticket.status,
        deadline_key: next.map(|(key, _)| key),
    };
    ticket_index.insert(&number, entry.encode())?;
    Ok(())
}

/// A new pending outbox message: indexed by its next attempt, counted.
pub(super) fn index_new_outbox(
    due: &TransactionalTree,
    meta: &TransactionalTree,
    message: &OutboxMessage,
) -> TxResult<()> {
    due.insert(&timed_key(message.next_attempt_at, message.id)[..], &[])?;
    add_to_counter(meta, OUTBOX_PENDING, 1)
}

/// A pending message rescheduled (`previous` as stored) or delivered.
pub(super) fn index_outbox_update(
    due: &TransactionalTree,
    meta: &TransactionalTree,
    previous: Option<&OutboxMessage>,
    message: &OutboxMessage,
) -> TxResult<()> {
    if let Some(old) = previous {
        due.remove(&timed_key(old.next_attempt_at, old.id)[..])?;
    }
    match (previous.is_some(), message.delivered_at.is_some()) {
        (_, false) => {
            due.insert(&timed_key(message.next_attempt_at, message.id)[..], &[])?;
            if previous.is_none() {
                add_to_counter(meta, OUTBOX_PENDING, 1)?;
            }
        }
        (true, true) => add_to_counter(meta, OUTBOX_PENDING, -1)?,
        (false, true) => {}
    }
    Ok(())
}

pub(super) fn decode_deadline_entry(key: &[u8], value: &[u8]) -> Option<DeadlineEntry> {
    let deadline = timestamp_from_key(key)?;
    let number = u64::from_be_bytes(key.get(8..16)?.try_into().ok()?);
    let flags = value.first().copied().unwrap_or(0);
    Some(DeadlineEntry {
        deadline,
        number: TicketNumber::from_value(number)?,
        yellow_sent: flags & YELLOW_SENT != 0,
        red_sent: flags & RED_SENT != 0,
    })
}

/// The outbox id in an `idx_outbox_due` key.
pub(super) fn outbox_id_of(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(8..16)?.try_into().ok()?))
}

impl super::Trees {
    /// Whether the indexes were built by this version and agree with the ticket counter: every
    /// number issued made one ticket in the same transaction, so the status counts must add up
    /// to the numbers issued. A store written without indexes (an older version, a bulk load)
    /// fails this check and is re-indexed at open.
    pub(super) fn indexes_current(&self) -> Result<bool, StoreError> {
        let version = read_counter(
            self.meta
                .get(INDEX_VERSION_KEY)
                .map_err(super::io_error)?
                .as_deref(),
        );
        if version != INDEX_VERSION {
            return Ok(false);
        }
        let issued = match self
            .meta
            .get(super::NEXT_TICKET_SEQUENCE)
            .map_err(super::io_error)?
        {
            Some(next) => read_counter(Some(&next)).saturating_sub(TicketNumber::FIRST_SEQUENCE),
            None => 0,
        };
        let mut counted = 0;
        for status in TicketStatus::ALL {
            let bytes = self
                .meta
                .get(status_counter_key(status))
                .map_err(super::io_error)?;
            counted += read_counter(bytes.as_deref());
        }
        Ok(counted == issued)
    }

    /// Builds every index from the records, a thousand tickets per transaction, then flushes.
    /// Safe to interrupt: the version is written last, so a crash means a rebuild at next open.
    pub(super) fn rebuild_indexes(&self) -> Result<(), StoreError> {
        use sled::Transactional;
        let started = std::time::Instant::now();
        let io = super::io_error;
        self.meta.remove(INDEX_VERSION_KEY).map_err(io)?;
        for tree in [&self.ticket_index, &self.deadlines, &self.outbox_due] {
            tree.clear().map_err(io)?;
        }
        for status in TicketStatus::ALL {
            self.meta.remove(status_counter_key(status)).map_err(io)?;
        }
        self.meta.remove(OUTBOX_PENDING).map_err(io)?;
        let mut tickets = self.tickets.iter().values();
        let mut indexed = 0usize;
        loop {
            let chunk: Vec<Ticket> = tickets
                .by_ref()
                .take(1000)
                .map(|bytes| super::decode(super::TICKETS, &bytes.map_err(io)?))
                .collect::<Result<_, _>>()?;
            if chunk.is_empty() {
                break;
            }
            indexed += chunk.len();
            (&self.ticket_index, &self.deadlines, &self.meta)
                .transaction(|(ticket_index, deadlines, meta)| {
                    for ticket in &chunk {
                        index_ticket(ticket_index, deadlines, meta, ticket)?;
                    }
                    Ok(())
                })
                .map_err(super::abort_error)?;
        }
        let mut pending = 0u64;
        for bytes in self.outbox.iter().values() {
            let message: OutboxMessage = super::decode(super::OUTBOX, &bytes.map_err(io)?)?;
            self.outbox_due
                .insert(timed_key(message.next_attempt_at, message.id), &[])
                .map_err(io)?;
            pending += 1;
        }
        self.meta
            .insert(OUTBOX_PENDING, &pending.to_be_bytes())
            .map_err(io)?;
        self.meta
            .insert(INDEX_VERSION_KEY, &INDEX_VERSION.to_be_bytes())
            .map_err(io)?;
        self.db.flush().map_err(io)?;
        tracing::info!(
            tickets = indexed,
            outbox = pending,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "store indexes rebuilt"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_keys_sort_in_time_order_across_the_epoch() {
        let times = [-5_000_000i64, -1, 0, 1, 1_700_000_000_000];
        let keys: Vec<_> = times
            .iter()
            .map(|ms| timestamp_key(Timestamp::from_millisecond(*ms).unwrap()))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]));
        for (ms, key) in times.iter().zip(&keys) {
            assert_eq!(timestamp_from_key(key).unwrap().as_millisecond(), *ms);
        }
    }
}
