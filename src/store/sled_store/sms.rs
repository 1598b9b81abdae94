//! [`SmsStore`] on sled: opt-outs by number, accepted segments by outbox id. Its trees are
//! opened on first use (sled caches open trees), so the main store file stays as it was.

use super::{SledStore, Trees, decode, encode, io_error};
use crate::domain::{ConversationId, OptOut, PhoneCode};
use crate::store::{SmsStore, StoreError, StoreFuture};

/// Number (E.164) → [`OptOut`].
const SMS_OPT_OUTS: &str = "sms_opt_outs";
/// Outbox id (big-endian) ++ segment index (big-endian) → the provider's message id.
const SMS_SEGMENTS: &str = "sms_segments";
/// Conversation id → the [`PhoneCode`] pending for it.
const PHONE_CODES: &str = "phone_codes";

fn tree(trees: &Trees, name: &str) -> Result<sled::Tree, StoreError> {
    trees.db.open_tree(name).map_err(io_error)
}

fn segment_key(outbox_id: u64, index: usize) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..8].copy_from_slice(&outbox_id.to_be_bytes());
    key[8..].copy_from_slice(&(index as u32).to_be_bytes());
    key
}

impl SmsStore for SledStore {
    fn opt_out(&self, number: &str) -> Result<Option<OptOut>, StoreError> {
        match tree(&self.trees, SMS_OPT_OUTS)?
            .get(number.as_bytes())
            .map_err(io_error)?
        {
            Some(bytes) => decode(SMS_OPT_OUTS, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn set_opt_out(&self, number: String, opt_out: Option<OptOut>) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            let opt_outs = tree(trees, SMS_OPT_OUTS)?;
            match opt_out {
                Some(record) => opt_outs.insert(number.as_bytes(), encode(&record)?),
                None => opt_outs.remove(number.as_bytes()),
            }
            .map(|_| ())
            .map_err(io_error)
        })
    }

    fn sent_segments(&self, outbox_id: u64) -> Result<usize, StoreError> {
        let segments = tree(&self.trees, SMS_SEGMENTS)?;
        let mut count = 0;
        while segments
            .contains_key(segment_key(outbox_id, count))
            .map_err(io_error)?
        {
            count += 1;
        }
        Ok(count)
    }

    fn record_segment(
        &self,
        outbox_id: u64,
        index: usize,
        provider_id: String,
    ) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            tree(trees, SMS_SEGMENTS)?
                .insert(segment_key(outbox_id, index), provider_id.as_bytes())
                .map(|_| ())
                .map_err(io_error)
        })
    }

    fn phone_code(&self, conversation: ConversationId) -> Result<Option<PhoneCode>, StoreError> {
        match tree(&self.trees, PHONE_CODES)?
            .get(conversation.0.as_bytes())
            .map_err(io_error)?
        {
            Some(bytes) => decode(PHONE_CODES, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn set_phone_code(
        &self,
        conversation: ConversationId,
        code: Option<PhoneCode>,
    ) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            let codes = tree(trees, PHONE_CODES)?;
            match code {
                Some(code) => codes.insert(conversation.0.as_bytes(), encode(&code)?),
                None => codes.remove(conversation.0.as_bytes()),
            }
            .map(|_| ())
            .map_err(io_error)
        })
    }
}
