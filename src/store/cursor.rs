//! The cursor of the ticket lists (a unit's tickets, the operator queue): where a page ended, so
//! the next page starts with one seek instead of walking past every ticket before it.
//!
//! A list is in order of deadline (none last), then arrival, then number; the cursor is that
//! position of the last ticket on a page, as 24 bytes (the key suffix the store's list index is
//! sorted by), shown to clients as 48 hex digits. A ticket that moves after a page was read does
//! not move the cursor: the next page starts after the position, not after the ticket.

use crate::domain::Ticket;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListCursor([u8; 24]);

/// Milliseconds since the epoch with the sign bit flipped, big-endian: byte order is time order.
fn time_bytes(at: jiff::Timestamp) -> [u8; 8] {
    ((at.as_millisecond() as u64) ^ (1 << 63)).to_be_bytes()
}

impl ListCursor {
    /// The position of `ticket` in the lists.
    pub fn of(ticket: &Ticket) -> ListCursor {
        let mut key = [0u8; 24];
        let deadline = ticket
            .handling
            .deadline
            .map(time_bytes)
            .unwrap_or([0xFF; 8]);
        key[..8].copy_from_slice(&deadline);
        key[8..16].copy_from_slice(&time_bytes(ticket.details.created_at));
        key[16..].copy_from_slice(&ticket.number.value().to_be_bytes());
        ListCursor(key)
    }

    pub fn from_bytes(bytes: &[u8]) -> Option<ListCursor> {
        Some(ListCursor(bytes.try_into().ok()?))
    }

    pub fn bytes(&self) -> &[u8; 24] {
        &self.0
    }

    /// The token clients send back as `?after=`.
    pub fn token(&self) -> String {
        hex::encode(self.0)
    }

    /// A token as [`token`](Self::token) wrote it; `None` for anything else.
    pub fn parse(token: &str) -> Option<ListCursor> {
        let bytes = hex::decode(token).ok()?;
        ListCursor::from_bytes(&bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_as_the_same_cursor_and_junk_is_refused() {
        let cursor = ListCursor([7; 24]);
        assert_eq!(ListCursor::parse(&cursor.token()), Some(cursor));
        for junk in ["", "zz", "0707", &"07".repeat(25)] {
            assert_eq!(ListCursor::parse(junk), None, "{junk}");
        }
    }
}
