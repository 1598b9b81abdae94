//! The sled store's indexes: right after every kind of write, across a restart, and rebuilt when
//! missing. Real sled on disk in a temporary directory.

use jiff::{SignedDuration, Timestamp};

use super::SledStore;
use crate::domain::{
    Channel, ConversationId, NewTicket, OutboundReply, OutboxMessage, Ticket, TicketStatus,
};
use crate::store::{DeadlineEntry, OutboxStore, TicketStore};

fn at(hours: i64) -> Timestamp {
    Timestamp::from_second(1_790_000_000).unwrap() + SignedDuration::from_hours(hours)
}

fn new_ticket() -> NewTicket {
    NewTicket {
        category: crate::domain::Category::Complaint,
        content: "路灯不亮".into(),
        district: Some("南山区".into()),
        address: None,
        phone: None,
        name: None,
        confidential: false,
        channel: Channel::Web,
        conversation: ConversationId::new(),
        created_at: at(0),
    }
}

fn running(mut ticket: Ticket, status: TicketStatus, deadline: Timestamp) -> Ticket {
    ticket.status = status;
    ticket.handling.deadline = Some(deadline);
    ticket
}

fn deadlines(store: &SledStore) -> Vec<DeadlineEntry> {
    let mut out = Vec::new();
    store
        .by_deadline(&mut |e| {
            out.push(e);
            true
        })
        .unwrap();
    out
}

fn count(store: &SledStore, status: TicketStatus) -> u64 {
    let counts = store.status_counts().unwrap();
    counts.iter().find(|(s, _)| *s == status).unwrap().1
}

fn message(next_attempt_at: Timestamp) -> OutboxMessage {
    let mut m = OutboxMessage::new(
        ConversationId::new(),
        Channel::Web,
        OutboundReply::text("您的诉求已办结"),
        None,
        at(0),
    );
    m.next_attempt_at = next_attempt_at;
    m
}

#[tokio::test]
async fn the_deadline_index_follows_a_ticket_through_updates_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let a = store.create(new_ticket()).await.unwrap();
    let b = store.create(new_ticket()).await.unwrap();
    assert!(
        deadlines(&store).is_empty(),
        "accepted tickets owe no work yet"
    );
    assert_eq!(count(&store, TicketStatus::Accepted), 2);

    store
        .save(running(a.clone(), TicketStatus::Dispatched, at(48)))
        .await
        .unwrap();
    store
        .save(running(b.clone(), TicketStatus::Signed, at(24)))
        .await
        .unwrap();
    let listed: Vec<_> = deadlines(&store).iter().map(|e| e.number).collect();
    assert_eq!(listed, vec![b.number, a.number], "nearest deadline first");
    assert_eq!(count(&store, TicketStatus::Accepted), 0);
    assert_eq!(count(&store, TicketStatus::Dispatched), 1);
    assert_eq!(store.overdue(at(30)).unwrap(), 1);

    // An extension moves the deadline: the old entry goes, the new one carries no warning yet.
    let mut extended = running(a.clone(), TicketStatus::InProgress, at(10));
    extended.handling.warned.for_deadline = Some(at(48));
    extended.handling.warned.yellow = true;
    store.save(extended).await.unwrap();
    let entries = deadlines(&store);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].number, a.number);
    assert_eq!(entries[0].deadline, at(10));
    assert!(
        !entries[0].yellow_sent,
        "the warning was for the old deadline"
    );

    // A warning sent is remembered in the index.
    let mut warned = running(b.clone(), TicketStatus::Signed, at(24));
    warned.handling.warned.for_deadline = Some(at(24));
    warned.handling.warned.yellow = true;
    store.save(warned).await.unwrap();
    let entry = deadlines(&store)
        .into_iter()
        .find(|e| e.number == b.number)
        .unwrap();
    assert!(entry.yellow_sent && !entry.red_sent);

    // Closing a ticket takes it out of the index, in the same write as its new status.
    let mut closed = running(b.clone(), TicketStatus::Closed, at(24));
    closed.handling.deadline = Some(at(24));
    store.save_with_outbox(closed, vec![]).await.unwrap();
    assert_eq!(deadlines(&store).len(), 1);
    assert_eq!(count(&store, TicketStatus::Closed), 1);
    assert_eq!(store.count(), 2);

    store.close().unwrap();
    drop(store);
    let reopened = SledStore::open(dir.path()).unwrap();
    let entries = deadlines(&reopened);
    assert_eq!(entries.len(), 1);
    assert_eq!((entries[0].number, entries[0].deadline), (a.number, at(10)));
    assert_eq!(count(&reopened, TicketStatus::InProgress), 1);
    assert_eq!(count(&reopened, TicketStatus::Closed), 1);
    assert_eq!(reopened.overdue(at(11)).unwrap(), 1);
    assert_eq!(reopened.overdue(at(9)).unwrap(), 0);
}

#[tokio::test]
async fn the_outbox_reads_due_messages_from_its_index_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let late = store.enqueue(message(at(5))).await.unwrap();
    let early = store.enqueue(message(at(1))).await.unwrap();
    let ids = |now| -> Vec<u64> { store.due(now, 10).unwrap().iter().map(|m| m.id).collect() };
    assert_eq!(ids(at(0)), Vec::<u64>::new());
    assert_eq!(ids(at(1)), vec![early]);
    assert_eq!(ids(at(6)), vec![early, late]);
    assert_eq!(store.pending().unwrap(), 2);

    // A failed attempt reschedules: the message leaves its old slot.
    let mut retry = store.due(at(1), 10).unwrap().remove(0);
    retry.attempts = 1;
    retry.next_attempt_at = at(8);
    store.update(retry.clone()).await.unwrap();
    assert_eq!(ids(at(6)), vec![late]);
    assert_eq!(ids(at(9)), vec![late, early]);

    // Delivered: gone from the due list and from the backlog, across a restart.
    retry.delivered_at = Some(at(9));
    store.update(retry).await.unwrap();
    assert_eq!(ids(at(9)), vec![late]);
    assert_eq!(store.pending().unwrap(), 1);
    store.close().unwrap();
    drop(store);
    let reopened = SledStore::open(dir.path()).unwrap();
    assert_eq!(reopened.pending().unwrap(), 1);
    let due: Vec<u64> = reopened
        .due(at(9), 10)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(due, vec![late]);
}

#[tokio::test]
async fn a_store_whose_indexes_disagree_with_its_tickets_is_reindexed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    let a = store.create(new_ticket()).await.unwrap();
    store
        .save(running(a.clone(), TicketStatus::Dispatched, at(3)))
        .await
        .unwrap();
    store.enqueue(message(at(1))).await.unwrap();
    // As if an older version (or a bulk load) had written without the indexes.
    for tree in [
        &store.trees.ticket_index,
        &store.trees.deadlines,
        &store.trees.outbox_due,
    ] {
        tree.clear().unwrap();
    }
    store
        .trees
        .meta
        .remove(super::index::OUTBOX_PENDING)
        .unwrap();
    store
        .trees
        .meta
        .remove(super::index::status_counter_key(TicketStatus::Dispatched))
        .unwrap();
    store.close().unwrap();
    drop(store);

    let reopened = SledStore::open(dir.path()).unwrap();
    let entries = deadlines(&reopened);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].number, a.number);
    assert_eq!(count(&reopened, TicketStatus::Dispatched), 1);
    assert_eq!(reopened.pending().unwrap(), 1);
    assert_eq!(reopened.due(at(2), 10).unwrap().len(), 1);
}
