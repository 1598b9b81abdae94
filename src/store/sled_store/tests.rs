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

/// The sample ticket, received at hour 0.
fn new_ticket() -> NewTicket {
    NewTicket::sample(at(0))
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
    store
        .save_with_outbox(closed, vec![], vec![])
        .await
        .unwrap();
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

mod lists {
    //! The per-unit lists and the operator queue kept in `ticket_index`: after every kind of
    //! change they give exactly what a full scan sorted by urgency gives, page by page, across a
    //! restart and after a rebuild.

    use super::*;
    use crate::domain::{ExtensionRequest, UnitId};
    use crate::store::{PageRequest, TicketPage};

    fn unit(id: &str) -> UnitId {
        UnitId::new(id)
    }

    /// What the scan gives (the trait's default, which the index must equal).
    fn scanned(store: &SledStore, of: Option<&UnitId>) -> Vec<u64> {
        let mut all = store
            .scan(&mut |t| match of {
                Some(u) => t.handling.involves(u),
                None => super::super::index::in_queue(t),
            })
            .unwrap();
        all.sort_by_key(|t| {
            (
                t.handling.deadline.unwrap_or(Timestamp::MAX),
                t.details.created_at,
                t.number,
            )
        });
        all.iter().map(|t| t.number.value()).collect()
    }

    fn numbers(page: &TicketPage) -> Vec<u64> {
        page.tickets.iter().map(|t| t.number.value()).collect()
    }

    /// Every way of paging through a list gives the same list: cursors page by page, and
    /// offsets from the front and from the back half.
    fn check_pages(whole: &[u64], fetch: &dyn Fn(PageRequest) -> TicketPage, what: &str) {
        for limit in 1..=3 {
            let mut walked = Vec::new();
            let mut after = None;
            loop {
                let page = fetch(PageRequest {
                    offset: 0,
                    limit,
                    after,
                });
                assert_eq!(page.total, whole.len() as u64, "{what}");
                walked.extend(numbers(&page));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
                assert!(walked.len() <= whole.len(), "{what}: the cursor loops");
            }
            assert_eq!(walked, whole, "{what}, cursor pages of {limit}");
            for offset in 0..=whole.len() + 1 {
                let page = fetch(PageRequest {
                    offset,
                    limit,
                    after: None,
                });
                let end = (offset + limit).min(whole.len());
                let expected = whole.get(offset..end).unwrap_or_default();
                assert_eq!(
                    numbers(&page),
                    expected,
                    "{what}, offset {offset} limit {limit}"
                );
                assert_eq!(
                    page.next.is_some(),
                    end < whole.len(),
                    "{what}, next at {offset}"
                );
            }
        }
    }

    fn check(store: &SledStore, units: &[UnitId]) {
        for u in units {
            let page = store.unit_page(u, PageRequest::ALL).unwrap();
            let expected = scanned(store, Some(u));
            assert_eq!(numbers(&page), expected, "unit {u}");
            assert_eq!(page.total, expected.len() as u64, "unit {u} total");
            check_pages(&expected, &|p| store.unit_page(u, p).unwrap(), u.as_str());
        }
        let queue = store.queue_page(PageRequest::ALL).unwrap();
        let expected = scanned(store, None);
        assert_eq!(numbers(&queue), expected, "queue");
        assert_eq!(queue.total, expected.len() as u64, "queue total");
        check_pages(&expected, &|p| store.queue_page(p).unwrap(), "queue");
        // Each ticket's digest is what the ticket says now.
        let all = store.scan(&mut |_| true).unwrap();
        let digests: Vec<_> = store
            .digests_from(crate::domain::TicketNumber::from_sequence(0))
            .map(|d| d.unwrap().decode().unwrap())
            .collect();
        let expected: Vec<_> = all.iter().map(crate::domain::TicketDigest::of).collect();
        assert_eq!(digests, expected, "digests");
    }

    #[tokio::test]
    async fn unit_lists_and_the_queue_follow_every_change_and_survive_restart_and_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let units = [
            unit("nanshan-chengguan"),
            unit("city-water"),
            unit("city-hrss"),
        ];
        let mut tickets = Vec::new();
        for hour in 0..6 {
            let mut details = new_ticket();
            details.created_at = at(hour);
            tickets.push(store.create(details).await.unwrap());
        }
        // All six wait for dispatch: the queue holds them, oldest first; no unit lists any.
        check(&store, &units);
        assert_eq!(store.queue_page(PageRequest::ALL).unwrap().total, 6);

        // Dispatch with different deadlines, a co-handler on one; one overdue-style early
        // deadline lands first.
        let plan = [(0, 48, 1usize), (1, 5, 0), (2, 24, 0), (3, 24, 2)];
        for (i, deadline, lead) in plan {
            let mut t = running(tickets[i].clone(), TicketStatus::Dispatched, at(deadline));
            t.handling.lead = Some(units[lead].clone());
            if i == 2 {
                t.handling.co_handlers = vec![units[1].clone(), units[0].clone()];
            }
            store.save(t.clone()).await.unwrap();
            tickets[i] = t;
        }
        check(&store, &units);

        // An extension asked for: back in the queue while it waits, and still in the unit list.
        let mut t = tickets[1].clone();
        t.handling.pending_extension = Some(ExtensionRequest {
            unit: units[0].clone(),
            at: at(2),
            reason: "需要协调".into(),
            until: at(100),
        });
        store.save(t.clone()).await.unwrap();
        tickets[1] = t;
        check(&store, &units);

        // Approved: the deadline moves (the ticket moves in its lists), the queue lets it go.
        let mut t = tickets[1].clone();
        t.handling.pending_extension = None;
        t.handling.deadline = Some(at(100));
        store.save(t.clone()).await.unwrap();
        tickets[1] = t;
        // Re-dispatched to another unit (改派): out of the old unit's list, into the new one's.
        let mut t = tickets[0].clone();
        t.handling.lead = Some(units[2].clone());
        store.save(t.clone()).await.unwrap();
        tickets[0] = t;
        // Returned (管辖异议): into the queue.
        let mut t = tickets[3].clone();
        t.status = TicketStatus::Returned;
        store.save(t.clone()).await.unwrap();
        tickets[3] = t;
        // Closed: stays in its units' lists, out of the queue.
        let mut t = tickets[2].clone();
        t.status = TicketStatus::Closed;
        store.save(t.clone()).await.unwrap();
        check(&store, &units);

        // Pages cut the same list.
        let whole = numbers(&store.unit_page(&units[0], PageRequest::ALL).unwrap());
        let second = store
            .unit_page(
                &units[0],
                PageRequest {
                    offset: 1,
                    limit: 1,
                    after: None,
                },
            )
            .unwrap();
        assert_eq!(numbers(&second), whole[1..2].to_vec());
        assert_eq!(second.total, whole.len() as u64);

        store.close().unwrap();
        drop(store);
        let reopened = SledStore::open(dir.path()).unwrap();
        check(&reopened, &units);

        // Wiped lists and counters are rebuilt at open.
        for key in reopened
            .trees
            .ticket_index
            .iter()
            .keys()
            .map(|k| k.unwrap())
            .collect::<Vec<_>>()
        {
            reopened.trees.ticket_index.remove(key).unwrap();
        }
        reopened
            .trees
            .meta
            .remove(super::super::index::QUEUE_COUNT)
            .unwrap();
        reopened.trees.meta.remove(b"index_version").unwrap();
        reopened.close().unwrap();
        drop(reopened);
        let rebuilt = SledStore::open(dir.path()).unwrap();
        check(&rebuilt, &units);
    }

    #[tokio::test]
    async fn a_bulk_load_keeps_every_count_and_list_without_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let units = [unit("nanshan-chengguan"), unit("city-water")];
        let first = store.create(new_ticket()).await.unwrap();
        // More than one transaction's worth, in every shape: waiting, dispatched with a deadline
        // (some with a co-handler), closed.
        let lead = units.clone();
        let develop: super::super::bulk::Develop = std::sync::Arc::new(move |ticket: Ticket| {
            let n = ticket.number.value() / 10;
            match n % 4 {
                0 => ticket,
                1 | 2 => {
                    let mut t = running(ticket, TicketStatus::Dispatched, at((n % 50) as i64));
                    t.handling.lead = Some(lead[(n % 2) as usize].clone());
                    if n % 4 == 2 {
                        t.handling.co_handlers = vec![lead[((n + 1) % 2) as usize].clone()];
                    }
                    t
                }
                _ => {
                    let mut t = ticket;
                    t.status = TicketStatus::Closed;
                    t.handling.lead = Some(lead[0].clone());
                    t
                }
            }
        });
        let numbers = store
            .create_batch(vec![new_ticket(); 2_345], develop)
            .await
            .unwrap();
        assert_eq!(numbers.len(), 2_345);
        assert_eq!(numbers[0].value() / 10, first.number.value() / 10 + 1);

        // Right now, from the indexes: what a full scan gives.
        let all = store.scan(&mut |_| true).unwrap();
        assert_eq!(all.len(), 2_346);
        for (status, counted) in store.status_counts().unwrap() {
            let scanned = all.iter().filter(|t| t.status == status).count() as u64;
            assert_eq!(counted, scanned, "{status:?}");
        }
        check(&store, &units);
        let running = all.iter().filter_map(DeadlineEntry::of).count();
        assert!(running > 1_000, "{running}");
        assert_eq!(deadlines(&store).len(), running);
        assert!(store.trees.indexes_current().unwrap(), "no re-index needed");

        // The counter moved past the batch: the next ticket follows it.
        let next = store.create(new_ticket()).await.unwrap();
        assert_eq!(next.number.value() / 10, numbers[2_344].value() / 10 + 1);
        check(&store, &units);
    }
}
