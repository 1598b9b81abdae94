//! The sled side of the interoperability stores: the webhook queue with its per-target log
//! (`webhooks`, keyed `target \0 id`, and `webhooks_due`, the ids still to send), a ticket
//! change saved with its webhooks in one transaction, and the Open311 request records.

use super::{
    OPEN311, SledStore, Trees, WEBHOOKS, decode, encode, insert_new_ticket, io_error, ticket_key,
    transaction_error,
};
use crate::domain::{NewTicket, Ticket, TicketNumber, WebhookDelivery};
use crate::store::{Open311Store, StoreError, StoreFuture, WebhookStore};

fn webhook_key(target: &str, id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(target.len() + 9);
    key.extend_from_slice(target.as_bytes());
    key.push(0);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// A delivery ready to write: its log key, its id (the due-index key) and its bytes.
pub(super) type WebhookRow = (Vec<u8>, [u8; 8], Vec<u8>);

/// Numbers the new deliveries and encodes them with their keys (outside the transaction, which
/// may run more than once).
pub(super) fn number_webhooks(
    trees: &Trees,
    webhooks: Vec<WebhookDelivery>,
) -> Result<Vec<WebhookRow>, StoreError> {
    let mut numbered = Vec::with_capacity(webhooks.len());
    for mut d in webhooks {
        d.id = trees.db.generate_id().map_err(io_error)?;
        numbered.push((
            webhook_key(&d.target, d.id),
            d.id.to_be_bytes(),
            encode(&d)?,
        ));
    }
    Ok(numbered)
}

impl WebhookStore for SledStore {
    fn enqueue_webhook(&self, delivery: WebhookDelivery) -> StoreFuture<'_, u64> {
        self.write(move |trees| {
            use sled::Transactional;
            let numbered = number_webhooks(trees, vec![delivery])?;
            let id = numbered
                .first()
                .map(|(_, id, _)| u64::from_be_bytes(*id))
                .unwrap_or_default();
            (&trees.webhooks, &trees.webhooks_due)
                .transaction(|(webhooks, due)| {
                    for (key, id, bytes) in &numbered {
                        webhooks.insert(key.as_slice(), bytes.clone())?;
                        due.insert(id, key.clone())?;
                    }
                    Ok(())
                })
                .map_err(transaction_error)?;
            Ok(id)
        })
    }

    fn due_webhooks(
        &self,
        now: jiff::Timestamp,
        limit: usize,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut out = Vec::new();
        for item in self.trees.webhooks_due.iter() {
            let (_, key) = item.map_err(io_error)?;
            let Some(bytes) = self.trees.webhooks.get(&key).map_err(io_error)? else {
                continue;
            };
            let d: WebhookDelivery = decode(WEBHOOKS, &bytes)?;
            if d.delivered_at.is_none() && d.next_attempt_at <= now {
                out.push(d);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    fn update_webhook(&self, delivery: WebhookDelivery) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            use sled::Transactional;
            let key = webhook_key(&delivery.target, delivery.id);
            let id = delivery.id.to_be_bytes();
            let bytes = encode(&delivery)?;
            let delivered = delivery.delivered_at.is_some();
            (&trees.webhooks, &trees.webhooks_due)
                .transaction(|(webhooks, due)| {
                    webhooks.insert(key.as_slice(), bytes.clone())?;
                    if delivered {
                        due.remove(&id)?;
                    }
                    Ok(())
                })
                .map_err(transaction_error)
        })
    }

    fn webhook_log(&self, target: &str, limit: usize) -> Result<Vec<WebhookDelivery>, StoreError> {
        let mut prefix = target.as_bytes().to_vec();
        prefix.push(0);
        self.trees
            .webhooks
            .scan_prefix(prefix)
            .rev()
            .take(limit)
            .map(|item| {
                let (_, bytes) = item.map_err(io_error)?;
                decode(WEBHOOKS, &bytes)
            })
            .collect()
    }

    fn save_ticket_change(&self, write: crate::store::TicketWrite) -> StoreFuture<'_, ()> {
        // Numbered and encoded on the caller's thread: the writer thread only applies.
        let prepared = super::changes::PreparedTicket::new(&self.trees, write);
        self.write(move |trees| super::changes::save_change(trees, &prepared?, None))
    }
}

impl Open311Store for SledStore {
    fn create_open311(
        &self,
        ticket: NewTicket,
        record: crate::open311::RequestRecord,
        request_key: Option<String>,
    ) -> StoreFuture<'_, (Ticket, bool)> {
        self.write(move |trees| {
            use sled::Transactional;
            use sled::transaction::ConflictableTransactionError::Abort;
            // `open311-request \0 integrator \0 key` in `meta` → the ticket number it created.
            let seen_key = request_key.map(|k| {
                [
                    b"open311-request\0",
                    record.integrator.as_bytes(),
                    b"\0",
                    k.as_bytes(),
                ]
                .concat()
            });
            let record = encode(&record)?;
            (
                &trees.tickets,
                &trees.meta,
                &trees.ticket_index,
                &trees.deadlines,
                &trees.open311,
            )
                .transaction(|(tickets, meta, ticket_index, deadlines, open311)| {
                    if let Some(key) = &seen_key
                        && let Some(number) = meta.get(key)?
                    {
                        let bytes = tickets.get(number)?.ok_or_else(|| {
                            Abort(StoreError::Corrupt {
                                tree: OPEN311,
                                message: "a request key names a missing ticket".into(),
                            })
                        })?;
                        let ticket: Ticket = decode(super::TICKETS, &bytes).map_err(Abort)?;
                        return Ok((ticket, false));
                    }
                    let stored =
                        insert_new_ticket(tickets, meta, ticket_index, deadlines, &ticket)?;
                    open311.insert(&ticket_key(stored.number), record.clone())?;
                    if let Some(key) = &seen_key {
                        meta.insert(key.as_slice(), &ticket_key(stored.number))?;
                    }
                    Ok((stored, true))
                })
                .map_err(super::abort_error)
        })
    }

    fn open311(
        &self,
        number: TicketNumber,
    ) -> Result<Option<crate::open311::RequestRecord>, StoreError> {
        match self
            .trees
            .open311
            .get(ticket_key(number))
            .map_err(io_error)?
        {
            Some(bytes) => decode(OPEN311, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn open311_all(
        &self,
    ) -> Result<Vec<(TicketNumber, crate::open311::RequestRecord)>, StoreError> {
        self.trees
            .open311
            .iter()
            .map(|item| {
                let (key, bytes) = item.map_err(io_error)?;
                let raw: [u8; 8] = key.as_ref().try_into().map_err(|_| StoreError::Corrupt {
                    tree: OPEN311,
                    message: "a key is not a ticket number".into(),
                })?;
                let number = TicketNumber::parse(&u64::from_be_bytes(raw).to_string()).ok_or(
                    StoreError::Corrupt {
                        tree: OPEN311,
                        message: "a key is not a ticket number".into(),
                    },
                )?;
                Ok((number, decode(OPEN311, &bytes)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{NewTicket, WebhookAttempt};
    use crate::store::TicketStore;

    fn delivery(target: &str, now: jiff::Timestamp) -> WebhookDelivery {
        WebhookDelivery::new(target.into(), "ticket.sign", None, "{}".into(), now)
    }

    #[tokio::test]
    async fn webhooks_queue_in_order_leave_the_queue_when_delivered_and_stay_in_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let now = jiff::Timestamp::now();
        let first = store
            .enqueue_webhook(delivery("unit:a", now))
            .await
            .unwrap();
        let second = store
            .enqueue_webhook(delivery("unit:a", now))
            .await
            .unwrap();
        store
            .enqueue_webhook(delivery("unit:b", now))
            .await
            .unwrap();
        let due = store.due_webhooks(now, 10).unwrap();
        assert_eq!(due.len(), 3);
        assert_eq!(due[0].id, first);

        let mut done = due[0].clone();
        done.delivered_at = Some(now);
        done.record(WebhookAttempt {
            at: now,
            status: Some(200),
            error: None,
        });
        store.update_webhook(done).await.unwrap();
        let mut later = due[1].clone();
        later.attempts = 1;
        later.next_attempt_at = now + jiff::SignedDuration::from_secs(5);
        store.update_webhook(later).await.unwrap();

        let due: Vec<u64> = store
            .due_webhooks(now, 10)
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert!(!due.contains(&first) && !due.contains(&second), "{due:?}");
        let log = store.webhook_log("unit:a", 10).unwrap();
        assert_eq!(
            log.iter().map(|d| d.id).collect::<Vec<_>>(),
            vec![second, first]
        );
        assert!(log[1].delivered_at.is_some());
        assert_eq!(store.webhook_log("unit:b", 10).unwrap().len(), 1);
        assert!(store.webhook_log("unit:", 10).unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_ticket_change_and_its_webhooks_are_saved_together_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let now = jiff::Timestamp::now();
        let number = {
            let store = SledStore::open(dir.path()).unwrap();
            let ticket = store.create(NewTicket::sample(now)).await.unwrap();
            let mut changed = ticket.clone();
            changed.details.content = "噪音扰民".into();
            store
                .save_ticket_change(crate::store::TicketWrite {
                    ticket: changed,
                    messages: Vec::new(),
                    webhooks: vec![delivery("unit:a", now)],
                    callbacks: Vec::new(),
                })
                .await
                .unwrap();
            store.close().unwrap();
            ticket.number
        };
        let store = SledStore::open(dir.path()).unwrap();
        let ticket = TicketStore::get(&store, number).unwrap().unwrap();
        assert_eq!(ticket.details.content, "噪音扰民");
        assert_eq!(store.due_webhooks(now, 10).unwrap().len(), 1);
    }

    #[tokio::test]
    async fn an_open311_ticket_and_its_record_are_one_write_that_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let record = |code: &str| crate::open311::RequestRecord {
            service_code: code.into(),
            lat: Some(22.5),
            long: Some(113.9),
            integrator: "open311".into(),
            account_id: None,
            media_url: Some("https://img.example.org/1.jpg".into()),
        };
        let new = || NewTicket::sample(jiff::Timestamp::now());
        let (first, second) = {
            let store = SledStore::open(dir.path()).unwrap();
            let (first, fresh) = store
                .create_open311(new(), record("noise"), Some("k-1".into()))
                .await
                .unwrap();
            assert!(fresh);
            let (second, _) = store
                .create_open311(new(), record("road"), None)
                .await
                .unwrap();
            store.close().unwrap();
            (first.number, second.number)
        };
        assert_ne!(first, second);
        let store = SledStore::open(dir.path()).unwrap();
        assert_eq!(store.open311(first).unwrap().unwrap(), record("noise"));
        assert!(TicketStore::get(&store, second).unwrap().is_some());
        let numbers: Vec<_> = store
            .open311_all()
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(numbers, vec![first, second]);
        // The ticket counters moved with it: the next ticket gets the next number.
        assert_eq!(store.count(), 2);
        let third = store.create(new()).await.unwrap();
        assert!(third.number > second);
        assert!(store.open311(third.number).unwrap().is_none());
        // The same request key again, after reopening: the first ticket, nothing stored.
        let (again, fresh) = store
            .create_open311(new(), record("road"), Some("k-1".into()))
            .await
            .unwrap();
        assert!(!fresh);
        assert_eq!(again.number, first);
        assert_eq!(store.open311(first).unwrap().unwrap(), record("noise"));
        assert_eq!(store.count(), 3);
    }
}
