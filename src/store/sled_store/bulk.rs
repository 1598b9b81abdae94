//! What the analysis side needs from the sled store, added beside the aggregate traits: loading
//! many tickets at once (`hotline demo seed`, benchmarks), reading stored tickets in number order
//! without decoding them in full (reports, the hotspot detector), clusters (类案), and every
//! article's feedback counts.
//!
//! Ticket numbers come from the same counter as [`TicketStore::create`]; a batch moves the counter
//! past each chunk's numbers in the transaction that writes the chunk's tickets and their
//! indexes, so a number is never issued twice and the counts always add up, even after a crash
//! halfway (the chunks written are kept, the rest are not).

use std::sync::Arc;

use super::{NEXT_TICKET_SEQUENCE, SledStore, Trees, decode, encode, io_error, ticket_key};
use crate::domain::{ArticleFeedback, Cluster, Conversation, NewTicket, Ticket, TicketNumber};
use crate::store::{StoreError, StoreFuture};

const CLUSTERS: &str = "clusters";
/// Ticket number → the id of the cluster it belongs to.
const TICKET_CLUSTERS: &str = "ticket_clusters";
const FEEDBACK: &str = "kb_feedback";
/// Tickets written (with their indexes) per transaction by [`SledStore::create_batch`]: what a
/// transaction holds in memory stays small whatever the batch.
const TICKETS_PER_TRANSACTION: usize = 1_000;

/// How a batch's tickets get their history: called once per ticket, with its issued number.
pub type Develop = Arc<dyn Fn(Ticket) -> Ticket + Send + Sync>;

/// One stored ticket as its bytes (JSON), for readers that decode only the fields they need.
pub struct RawTicket {
    pub number: TicketNumber,
    bytes: sled::IVec,
}

impl RawTicket {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

fn next_sequence(trees: &Trees) -> Result<u64, StoreError> {
    Ok(
        match trees.meta.get(NEXT_TICKET_SEQUENCE).map_err(io_error)? {
            Some(bytes) => u64::from_be_bytes(bytes.as_ref().try_into().unwrap_or([0; 8]))
                .max(TicketNumber::FIRST_SEQUENCE),
            None => TicketNumber::FIRST_SEQUENCE,
        },
    )
}

fn raw(item: Result<(sled::IVec, sled::IVec), sled::Error>) -> Result<RawTicket, StoreError> {
    let (key, bytes) = item.map_err(io_error)?;
    let key: [u8; 8] = key.as_ref().try_into().map_err(|_| StoreError::Corrupt {
        tree: "tickets",
        message: "a key is not 8 bytes".into(),
    })?;
    let value = u64::from_be_bytes(key);
    Ok(RawTicket {
        number: TicketNumber::from_sequence(value / 10),
        bytes,
    })
}

impl SledStore {
    /// Opens each ticket with the next numbers, lets `develop` give it its history, and stores
    /// them all durably with one flush. Returns the numbers, in the order of `tickets`.
    ///
    /// Each chunk of [`TICKETS_PER_TRANSACTION`] is one transaction: the counter moved past its
    /// numbers, its tickets, and their indexes and counts (status, unit lists, operator queue,
    /// deadlines), exactly as [`TicketStore::create`](crate::store::TicketStore::create) keeps
    /// them, so the counts are right at once, with no re-index at the next open.
    pub fn create_batch(
        &self,
        tickets: Vec<NewTicket>,
        develop: Develop,
    ) -> StoreFuture<'_, Vec<TicketNumber>> {
        self.write(move |trees| {
            use sled::Transactional;
            let mut next = next_sequence(trees)?;
            let mut numbers = Vec::with_capacity(tickets.len());
            let mut tickets = tickets.into_iter();
            loop {
                let mut chunk = Vec::with_capacity(TICKETS_PER_TRANSACTION);
                for details in tickets.by_ref().take(TICKETS_PER_TRANSACTION) {
                    let number = TicketNumber::from_sequence(next + chunk.len() as u64);
                    let ticket = develop(Ticket::open(number, details));
                    debug_assert_eq!(ticket.number, number, "develop must keep the number");
                    let bytes = encode(&ticket)?;
                    chunk.push((ticket, bytes));
                }
                if chunk.is_empty() {
                    break;
                }
                next += chunk.len() as u64;
                (
                    &trees.tickets,
                    &trees.meta,
                    &trees.ticket_index,
                    &trees.deadlines,
                )
                    .transaction(|(stored, meta, ticket_index, deadlines)| {
                        meta.insert(NEXT_TICKET_SEQUENCE, &next.to_be_bytes())?;
                        for (ticket, bytes) in &chunk {
                            stored.insert(&ticket_key(ticket.number), bytes.clone())?;
                            super::index::index_ticket(ticket_index, deadlines, meta, ticket)?;
                        }
                        Ok(())
                    })
                    .map_err(super::abort_error)?;
                numbers.extend(chunk.iter().map(|(ticket, _)| ticket.number));
            }
            Ok(numbers)
        })
    }

    /// Stores many conversations with one flush.
    pub fn save_conversations(&self, conversations: Vec<Conversation>) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            let mut batch = sled::Batch::default();
            for c in &conversations {
                batch.insert(c.id.0.as_bytes(), encode(c)?);
                trees.conversation_cache.forget(c.id);
            }
            trees.conversations.apply_batch(batch).map_err(io_error)
        })
    }

    /// Adds feedback counts to articles (a batch of 有帮助/没帮助), with one flush.
    pub fn add_feedback_counts(
        &self,
        counts: Vec<(String, ArticleFeedback)>,
    ) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            for (article, add) in counts {
                let mut stored: ArticleFeedback =
                    match trees.feedback.get(article.as_bytes()).map_err(io_error)? {
                        Some(bytes) => decode(FEEDBACK, &bytes)?,
                        None => ArticleFeedback::default(),
                    };
                stored.helpful += add.helpful;
                stored.not_helpful += add.not_helpful;
                trees
                    .feedback
                    .insert(article.as_bytes(), encode(&stored)?)
                    .map_err(io_error)?;
            }
            Ok(())
        })
    }

    /// Every article's feedback counts, by article id.
    pub fn all_feedback(&self) -> Result<Vec<(String, ArticleFeedback)>, StoreError> {
        self.trees
            .feedback
            .iter()
            .map(|item| {
                let (key, bytes) = item.map_err(io_error)?;
                Ok((
                    String::from_utf8_lossy(&key).into_owned(),
                    decode(FEEDBACK, &bytes)?,
                ))
            })
            .collect()
    }

    /// Stored tickets from `from` (inclusive) on, in number order, undecoded.
    pub fn raw_tickets_from(
        &self,
        from: TicketNumber,
    ) -> impl Iterator<Item = Result<RawTicket, StoreError>> + 'static {
        self.trees.tickets.range(ticket_key(from)..).map(raw)
    }

    /// The first and last stored ticket numbers; `None` when there is no ticket.
    pub fn ticket_bounds(&self) -> Result<Option<(TicketNumber, TicketNumber)>, StoreError> {
        let first = self.trees.tickets.first().map_err(io_error)?;
        let last = self.trees.tickets.last().map_err(io_error)?;
        match (first, last) {
            (Some(f), Some(l)) => Ok(Some((raw(Ok(f))?.number, raw(Ok(l))?.number))),
            _ => Ok(None),
        }
    }

    /// Stores a cluster and links each of its tickets to it, durably.
    pub fn put_cluster(&self, cluster: Cluster) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            let clusters = trees.db.open_tree(CLUSTERS).map_err(io_error)?;
            let links = trees.db.open_tree(TICKET_CLUSTERS).map_err(io_error)?;
            clusters
                .insert(cluster.id.as_bytes(), encode(&cluster)?)
                .map_err(io_error)?;
            for number in &cluster.tickets {
                links
                    .insert(ticket_key(*number), cluster.id.as_bytes())
                    .map_err(io_error)?;
            }
            Ok(())
        })
    }

    /// Stores a newly raised cluster with its links and the webhooks that announce it, in one
    /// transaction: an alert is never stored without its notices, nor announced unstored.
    pub fn put_cluster_with_webhooks(
        &self,
        cluster: Cluster,
        webhooks: Vec<crate::domain::WebhookDelivery>,
    ) -> StoreFuture<'_, ()> {
        self.write(move |trees| {
            use sled::Transactional;
            let clusters = trees.db.open_tree(CLUSTERS).map_err(io_error)?;
            let links = trees.db.open_tree(TICKET_CLUSTERS).map_err(io_error)?;
            let numbered = super::interop::number_webhooks(trees, webhooks)?;
            let bytes = encode(&cluster)?;
            (&clusters, &links, &trees.webhooks, &trees.webhooks_due)
                .transaction(|(clusters, links, webhooks, due)| {
                    clusters.insert(cluster.id.as_bytes(), bytes.clone())?;
                    for number in &cluster.tickets {
                        links.insert(ticket_key(*number).as_slice(), cluster.id.as_bytes())?;
                    }
                    for (key, id, bytes) in &numbered {
                        webhooks.insert(key.as_slice(), bytes.clone())?;
                        due.insert(id, key.clone())?;
                    }
                    Ok(())
                })
                .map_err(super::transaction_error)?;
            Ok(())
        })
    }

    pub fn cluster(&self, id: &str) -> Result<Option<Cluster>, StoreError> {
        let clusters = self.trees.db.open_tree(CLUSTERS).map_err(io_error)?;
        match clusters.get(id.as_bytes()).map_err(io_error)? {
            Some(bytes) => decode(CLUSTERS, &bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Every cluster, most recently raised first.
    pub fn clusters(&self) -> Result<Vec<Cluster>, StoreError> {
        let tree = self.trees.db.open_tree(CLUSTERS).map_err(io_error)?;
        let mut all = tree
            .iter()
            .map(|item| {
                let (_, bytes) = item.map_err(io_error)?;
                decode::<Cluster>(CLUSTERS, &bytes)
            })
            .collect::<Result<Vec<_>, _>>()?;
        all.sort_by(|a, b| b.raised_at.cmp(&a.raised_at).then(b.id.cmp(&a.id)));
        Ok(all)
    }

    /// The id of the cluster a ticket was linked to, if any.
    pub fn cluster_of(&self, number: TicketNumber) -> Result<Option<String>, StoreError> {
        let links = self.trees.db.open_tree(TICKET_CLUSTERS).map_err(io_error)?;
        Ok(links
            .get(ticket_key(number))
            .map_err(io_error)?
            .map(|id| String::from_utf8_lossy(&id).into_owned()))
    }
}
