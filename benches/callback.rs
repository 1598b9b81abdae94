//! The callback worker's read of what is due, against a store of 100,000 tickets each with a
//! callback on the schedule (100 of them due): the time-ordered `callbacks_due` tree answers
//! from the due entries alone; a scan of every ticket (what the deadline scheduler does) is shown
//! beside it for scale.
//!
//! Run: `cargo bench --bench callback` (figures in README.md).

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use hotline::domain::{Category, Channel, ConversationId, NewTicket, TicketStatus};
use hotline::store::{CallbackStore, SledStore, TicketStore};
use jiff::{SignedDuration, Timestamp};

const TICKETS: usize = 100_000;
const DUE: usize = 100;

fn ticket(at: Timestamp) -> NewTicket {
    NewTicket {
        category: Category::Complaint,
        content: "楼下烧烤噪音扰民，晚上十一点以后还在营业".into(),
        district: Some("南山区".into()),
        address: Some("海景路3号".into()),
        phone: Some("13800000000".into()),
        name: None,
        confidential: false,
        channel: Channel::Web,
        conversation: ConversationId::new(),
        created_at: at,
    }
}

fn fill(store: &Arc<SledStore>, now: Timestamp) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        for chunk in 0..TICKETS / 1000 {
            let writes = (0..1000).map(|i| {
                let store = store.clone();
                async move {
                    let n = chunk * 1000 + i;
                    let t = store.create(ticket(now)).await.unwrap();
                    // The first DUE are due now; the rest over the next weeks.
                    let offset = if n < DUE { -60 } else { 3600 + n as i64 * 10 };
                    let due = now + SignedDuration::from_secs(offset);
                    store.schedule_callback(due, t.number).await.unwrap();
                }
            });
            let mut tasks = Vec::new();
            for w in writes {
                tasks.push(tokio::spawn(w));
            }
            for t in tasks {
                t.await.unwrap();
            }
        }
    });
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(dir.path()).unwrap());
    let now = Timestamp::now();
    fill(&store, now);
    let mut group = c.benchmark_group("callbacks");
    group.sample_size(10);
    group.bench_function("due entries of 100,000 scheduled", |b| {
        b.iter(|| {
            let due = store.due_callbacks(now, 256).unwrap();
            assert_eq!(due.len(), DUE);
        })
    });
    group.bench_function("scan of 100,000 tickets (for comparison)", |b| {
        b.iter(|| {
            let closed = store
                .scan(&mut |t| t.status == TicketStatus::Closed)
                .unwrap();
            assert!(closed.is_empty());
        })
    });
    group.finish();
    store.close().unwrap();
}

criterion_group!(benches, bench);
criterion_main!(benches);
