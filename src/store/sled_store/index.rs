//! Secondary indexes of the sled store, written in the same transaction as the record they
//! describe, so a crash leaves both or neither.
//!
//! - `ticket_index`: ticket number → its status, its key in `idx_deadlines`, its place in the
//!   lists below, the units it was listed under (what the next write must undo) and its
//!   [`TicketDigest`], what reports, the rates and the hotspot detector read over a period
//!   instead of whole tickets (a tenth of their size; kept in this entry rather than under keys
//!   of its own, so it adds no sled pages, whose count is what sled holds in memory). The same tree
//!   holds two more keyspaces, told apart by their first byte (ticket-number keys are 8 bytes
//!   starting with 0x00):
//!   - `U` unit `\0` order number: every ticket a unit leads or co-handles, in the order the unit
//!     list shows (deadline, then arrival; no deadline last), so a page of a unit's list reads
//!     only that page;
//!   - `Q` order number: the operator queue (waiting for dispatch, returned, escalated, or with an
//!     extension to decide), in the same order.
//! - `idx_deadlines`: (deadline, number) → which warnings went out for that deadline, for every
//!   ticket a unit is working on. The deadline scheduler and the overdue count read a prefix of it
//!   instead of every ticket.
//! - `idx_outbox_due`: (next attempt, id) → nothing, for every pending outbox message.
//! - counters in `meta`: tickets per status, per unit and in the operator queue, and pending
//!   outbox messages, so `/metrics` and a list's total read one key each rather than the store.
//!
//! Keys are big-endian with the timestamp's sign bit flipped, so byte order is time order.

use jiff::Timestamp;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use crate::domain::{OutboxMessage, Ticket, TicketDigest, TicketNumber, TicketStatus};
use crate::store::{DeadlineEntry, StoreError};

pub(super) const TICKET_INDEX: &str = "ticket_index";
pub(super) const DEADLINES: &str = "idx_deadlines";
pub(super) const OUTBOX_DUE: &str = "idx_outbox_due";
/// Bumped when the layout of an index changes: a store with another version is re-indexed.
pub(super) const INDEX_VERSION_KEY: &[u8] = b"index_version";
pub(super) const INDEX_VERSION: u64 = 4;
pub(super) const OUTBOX_PENDING: &[u8] = b"outbox_pending";

/// First byte of the per-unit list keys in `ticket_index`.
const UNIT_LIST: u8 = b'U';
/// First byte of the operator-queue keys in `ticket_index`.
const QUEUE_LIST: u8 = b'Q';
/// Counter key in `meta`: tickets in the operator queue.
pub(super) const QUEUE_COUNT: &[u8] = b"queue_count";

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

/// What `ticket_index` remembers of a ticket: its status, its deadline-index key, its place in
/// the lists (deadline or the end, arrival, number) and the units whose lists hold it.
struct Entry {
    status: TicketStatus,
    deadline_key: Option<[u8; 16]>,
    order: [u8; 24],
    queued: bool,
    units: Vec<String>,
    /// The encoded [`TicketDigest`] (always written; `None` only when decoding skips it).
    digest: Option<Vec<u8>>,
}

const HAS_DEADLINE: u8 = 1;
const QUEUED: u8 = 2;
const HAS_DIGEST: u8 = 4;

impl Entry {
    fn of(ticket: &Ticket, deadline_key: Option<[u8; 16]>) -> Entry {
        let mut units: Vec<String> = Vec::new();
        let handling = &ticket.handling;
        for unit in handling.lead.iter().chain(&handling.co_handlers) {
            if !units.iter().any(|u| u == unit.as_str()) {
                units.push(unit.as_str().to_string());
            }
        }
        Entry {
            status: ticket.status,
            deadline_key,
            order: list_order(ticket),
            queued: in_queue(ticket),
            units,
            digest: Some(TicketDigest::of(ticket).encode()),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let position = TicketStatus::ALL
            .iter()
            .position(|s| *s == self.status)
            .unwrap_or(0) as u8;
        let flags = if self.deadline_key.is_some() {
            HAS_DEADLINE
        } else {
            0
        } | if self.queued { QUEUED } else { 0 }
            | if self.digest.is_some() { HAS_DIGEST } else { 0 };
        let mut bytes = vec![position, flags];
        if let Some(key) = self.deadline_key {
            bytes.extend_from_slice(&key);
        }
        bytes.extend_from_slice(&self.order);
        if let Some(digest) = &self.digest {
            let len = u32::try_from(digest.len()).unwrap_or(u32::MAX);
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&digest[..len as usize]);
        }
        for unit in &self.units {
            let len = u16::try_from(unit.len()).unwrap_or(u16::MAX);
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&unit.as_bytes()[..usize::from(len)]);
        }
        bytes
    }

    fn decode(bytes: &[u8]) -> Option<Entry> {
        let status = *TicketStatus::ALL.get(usize::from(*bytes.first()?))?;
        let flags = *bytes.get(1)?;
        let mut rest = &bytes[2..];
        let deadline_key = if flags & HAS_DEADLINE != 0 {
            let key = rest.get(..16)?.try_into().ok()?;
            rest = &rest[16..];
            Some(key)
        } else {
            None
        };
        let order = rest.get(..24)?.try_into().ok()?;
        rest = &rest[24..];
        if flags & HAS_DIGEST != 0 {
            // Skipped: an index update needs only where the ticket was listed.
            let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            rest = rest.get(4 + len..)?;
        }
        let mut units = Vec::new();
        while !rest.is_empty() {
            let len = usize::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?));
            let unit = std::str::from_utf8(rest.get(2..2 + len)?).ok()?;
            units.push(unit.to_string());
            rest = &rest[2 + len..];
        }
        Some(Entry {
            status,
            deadline_key,
            order,
            queued: flags & QUEUED != 0,
            units,
            digest: None,
        })
    }
}

/// Where a ticket sits in a unit's list and in the operator queue: its deadline (none: last),
/// then its arrival, then its number. Overdue tickets have the earliest deadlines, so this is
/// "overdue first, then the nearest deadline, then the oldest".
fn list_order(ticket: &Ticket) -> [u8; 24] {
    *crate::store::ListCursor::of(ticket).bytes()
}

/// The operator queue: waiting for dispatch, objections to review, escalations to coordinate,
/// extensions to decide.
pub(crate) fn in_queue(ticket: &Ticket) -> bool {
    matches!(
        ticket.status,
        TicketStatus::Accepted | TicketStatus::Returned | TicketStatus::Escalated
    ) || ticket.handling.pending_extension.is_some()
}

/// The first bytes of every list key of `unit`.
pub(super) fn unit_prefix(unit: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(unit.len() + 2);
    key.push(UNIT_LIST);
    key.extend_from_slice(unit.as_bytes());
    key.push(0);
    key
}

fn unit_key(unit: &str, order: &[u8; 24]) -> Vec<u8> {
    let mut key = unit_prefix(unit);
    key.extend_from_slice(order);
    key
}

pub(super) fn queue_prefix() -> [u8; 1] {
    [QUEUE_LIST]
}

/// The first key after every key that starts with `prefix` (its last byte plus one; the list
/// prefixes end in a byte below 0xFF).
pub(super) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last = last.saturating_add(1);
    }
    end
}

fn queue_key(order: &[u8; 24]) -> [u8; 25] {
    let mut key = [0u8; 25];
    key[0] = QUEUE_LIST;
    key[1..].copy_from_slice(order);
    key
}

/// The counter in `meta` of the tickets in `unit`'s list.
pub(super) fn unit_counter_key(unit: &str) -> Vec<u8> {
    format!("unit_tickets:{unit}").into_bytes()
}

/// The key of a ticket's entry (its number, big-endian: entries lie in number order, before
/// every list key).
pub(super) fn entry_key(number: TicketNumber) -> [u8; 8] {
    number.value().to_be_bytes()
}

/// The first key after every entry key (entry keys start with 0x00: numbers are below 2^56).
pub(super) const ENTRIES_END: [u8; 1] = [1];

/// The ticket number of an entry key.
pub(super) fn number_of_entry_key(key: &[u8]) -> Option<TicketNumber> {
    TicketNumber::from_value(u64::from_be_bytes(key.try_into().ok()?))
}

/// The encoded [`TicketDigest`] inside an entry's bytes, if it has one.
pub(super) fn digest_in_entry(bytes: &[u8]) -> Option<&[u8]> {
    let flags = *bytes.get(1)?;
    if flags & HAS_DIGEST == 0 {
        return None;
    }
    let at = 2 + if flags & HAS_DEADLINE != 0 { 16 } else { 0 } + 24;
    let len = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
    bytes.get(at + 4..at + 4 + len)
}

/// The ticket number at the end of a list key.
pub(super) fn number_of_list_key(key: &[u8]) -> Option<TicketNumber> {
    let start = key.len().checked_sub(8)?;
    TicketNumber::from_value(u64::from_be_bytes(key[start..].try_into().ok()?))
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
    let entry = Entry::of(ticket, next.map(|(key, _)| key));
    index_lists(ticket_index, meta, previous.as_ref(), &entry)?;
    ticket_index.insert(&number, entry.encode())?;
    Ok(())
}

/// Moves the ticket's keys in the unit lists and the operator queue from where `previous` put
/// them to where `next` belongs; unchanged keys are left alone.
fn index_lists(
    ticket_index: &TransactionalTree,
    meta: &TransactionalTree,
    previous: Option<&Entry>,
    next: &Entry,
) -> TxResult<()> {
    let (old_order, old_units, old_queued) = match previous {
        Some(p) => (Some(p.order), p.units.as_slice(), p.queued),
        None => (None, &[][..], false),
    };
    let moved = old_order != Some(next.order);
    for unit in old_units {
        let kept = next.units.contains(unit);
        if let Some(order) = &old_order
            && (moved || !kept)
        {
            ticket_index.remove(unit_key(unit, order))?;
        }
        if !kept {
            add_to_counter(meta, &unit_counter_key(unit), -1)?;
        }
    }
    for unit in &next.units {
        let had = old_units.contains(unit);
        if moved || !had {
            ticket_index.insert(unit_key(unit, &next.order), &[])?;
        }
        if !had {
            add_to_counter(meta, &unit_counter_key(unit), 1)?;
        }
    }
    if old_queued
        && let Some(order) = &old_order
        && (moved || !next.queued)
    {
        ticket_index.remove(&queue_key(order)[..])?;
    }
    if next.queued && (moved || !old_queued) {
        ticket_index.insert(&queue_key(&next.order)[..], &[])?;
    }
    match (old_queued, next.queued) {
        (false, true) => add_to_counter(meta, QUEUE_COUNT, 1)?,
        (true, false) => add_to_counter(meta, QUEUE_COUNT, -1)?,
        _ => {}
    }
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
        let unit_counters: Vec<sled::IVec> = self
            .meta
            .scan_prefix(b"unit_tickets:")
            .keys()
            .collect::<Result<_, _>>()
            .map_err(io)?;
        for key in unit_counters {
            self.meta.remove(key).map_err(io)?;
        }
        self.meta.remove(QUEUE_COUNT).map_err(io)?;
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
