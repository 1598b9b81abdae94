//! Reading the analysis side's data over a period without whole tickets: the digests kept beside
//! the tickets (in each ticket's entry of `ticket_index`, see `index.rs`), in number order, and
//! the intake records from a moment on.
//!
//! Ticket numbers and record ids are both issued in arrival order, so a period is a key range:
//! readers find its start by binary search ([`crate::governance::first_ticket_since`],
//! [`SledStore::first_record_since`]) and read forward, never the whole tree.

use jiff::Timestamp;

use super::{RECORDS, SledStore, decode, index, io_error};
use crate::domain::{IntakeRecord, TicketDigest, TicketNumber};
use crate::store::StoreError;

/// One stored digest, undecoded: its ticket's number and bytes.
pub struct RawDigest {
    pub number: TicketNumber,
    /// The whole index entry; the digest is a slice of it.
    entry: sled::IVec,
}

impl RawDigest {
    fn bytes(&self) -> Result<&[u8], StoreError> {
        index::digest_in_entry(&self.entry).ok_or_else(|| StoreError::Corrupt {
            tree: index::TICKET_INDEX,
            message: format!("ticket {} has no digest in its index entry", self.number),
        })
    }

    pub fn decode(&self) -> Result<TicketDigest, StoreError> {
        TicketDigest::decode(self.bytes()?).map_err(|e| corrupt(self.number, e))
    }

    /// When the ticket arrived (the rest is not decoded).
    pub fn created_at(&self) -> Result<Timestamp, StoreError> {
        TicketDigest::created_at_of(self.bytes()?).map_err(|e| corrupt(self.number, e))
    }
}

fn corrupt(number: TicketNumber, e: crate::domain::digest::DigestError) -> StoreError {
    StoreError::Corrupt {
        tree: index::TICKET_INDEX,
        message: format!("ticket {number}: {e}"),
    }
}

impl SledStore {
    /// The digests of the stored tickets from `from` (inclusive) on, in number order.
    pub fn digests_from(
        &self,
        from: TicketNumber,
    ) -> impl Iterator<Item = Result<RawDigest, StoreError>> + 'static {
        let start = index::entry_key(from);
        self.trees
            .ticket_index
            .range(&start[..]..&index::ENTRIES_END[..])
            .map(|item| {
                let (key, entry) = item.map_err(io_error)?;
                let number =
                    index::number_of_entry_key(&key).ok_or_else(|| StoreError::Corrupt {
                        tree: index::TICKET_INDEX,
                        message: "malformed ticket entry key".into(),
                    })?;
                Ok(RawDigest { number, entry })
            })
    }

    /// The id of the first intake record at or after `at` (with an hour of slack for records
    /// numbered a moment before they were stamped), by binary search over the record ids.
    pub fn first_record_since(&self, at: Timestamp) -> Result<Option<u64>, StoreError> {
        let at = at - jiff::SignedDuration::from_hours(1);
        let first = |from: u64| -> Result<Option<(u64, Timestamp)>, StoreError> {
            match self.trees.records.range(from.to_be_bytes()..).next() {
                Some(item) => {
                    let (key, bytes) = item.map_err(io_error)?;
                    let id = u64::from_be_bytes(key.as_ref().try_into().map_err(|_| {
                        StoreError::Corrupt {
                            tree: RECORDS,
                            message: "a record key is not 8 bytes".into(),
                        }
                    })?);
                    let record: IntakeRecord = decode(RECORDS, &bytes)?;
                    Ok(Some((id, record.at)))
                }
                None => Ok(None),
            }
        };
        let Some(last) = self.trees.records.last().map_err(io_error)? else {
            return Ok(None);
        };
        let last = u64::from_be_bytes(last.0.as_ref().try_into().unwrap_or([0xFF; 8]));
        let (mut lo, mut hi) = (0u64, last.saturating_add(1));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match first(mid)? {
                Some((id, t)) if t < at => lo = id + 1,
                _ => hi = mid,
            }
        }
        Ok(first(lo)?.map(|(id, _)| id))
    }

    /// The intake records from id `from` on, in id (arrival) order.
    pub fn records_from(
        &self,
        from: u64,
    ) -> impl Iterator<Item = Result<IntakeRecord, StoreError>> + 'static {
        self.trees
            .records
            .range(from.to_be_bytes()..)
            .values()
            .map(|bytes| decode(RECORDS, &bytes.map_err(io_error)?))
    }
}
