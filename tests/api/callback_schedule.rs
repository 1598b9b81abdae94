//! 回访 timing against the real store at explicit moments: the quiet hours, the one reminder
//! and 未联系上; and `hotline report rates` through the real binary.

use std::sync::Arc;
use std::time::Duration;

use hotline::app::{Paths, build_ticket_service};
use hotline::bots::Bots;
use hotline::callback::worker::{CallbackCounts, CallbackWorker};
use hotline::domain::lifecycle::{Actor, TicketAction};
use hotline::domain::{
    Category, Channel, Conversation, NewTicket, SurveyOutcome, TicketStatus, UnitId,
};
use hotline::store::{ConversationStore, OutboxStore, SledStore, TicketStore};
use jiff::{Timestamp, ToSpan};

use crate::helpers::{repo, test_settings};

fn paths() -> Paths {
    Paths {
        data: ".".into(),
        config: repo().join("config"),
    }
}

/// Monday 2026-11-23 at `time`, city time.
fn monday(time: &str) -> Timestamp {
    format!("2026-11-23T{time}:00+08:00[Asia/Shanghai]")
        .parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
}

struct Handling {
    store: Arc<SledStore>,
    service: Arc<hotline::tickets::TicketService>,
    worker: CallbackWorker,
}

fn handling(data: &std::path::Path) -> Handling {
    let store = Arc::new(SledStore::open(data).unwrap());
    let bots = Arc::new(Bots::load(&repo().join("bots")).unwrap());
    let ready = Arc::new(tokio::sync::Notify::new());
    let service = Arc::new(
        build_ticket_service(&test_settings(), &paths(), store.clone(), bots, ready).unwrap(),
    );
    let worker = CallbackWorker {
        service: service.clone(),
        conversations: store.clone(),
        locks: Default::default(),
        reach: None,
        every: Duration::from_secs(60),
    };
    Handling {
        store,
        service,
        worker,
    }
}

/// An anonymous noise complaint received Monday 09:00, handled by nanshan-urban and closed at
/// `closed_at`; returns its number and conversation.
async fn closed_ticket(
    h: &Handling,
    closed_at: Timestamp,
) -> (
    hotline::domain::TicketNumber,
    hotline::domain::ConversationId,
) {
    let conversation = Conversation::start(Channel::Web, monday("09:00"));
    let conversation_id = conversation.id;
    ConversationStore::save(&*h.store, conversation)
        .await
        .unwrap();
    let created = h
        .store
        .create(NewTicket {
            category: Category::Complaint,
            content: "楼下烧烤噪音扰民".into(),
            district: Some("南山区".into()),
            address: Some("海景路3号".into()),
            phone: None,
            name: None,
            confidential: false,
            channel: Channel::Web,
            conversation: conversation_id,
            created_at: monday("09:00"),
        })
        .await
        .unwrap();
    let ticket = h
        .service
        .on_created(created, monday("09:00"))
        .await
        .unwrap();
    let unit = Actor::Unit(UnitId::new("nanshan-urban"));
    let n = ticket.number;
    let svc = &h.service;
    svc.act(n, TicketAction::Sign, &unit, monday("10:00"))
        .await
        .unwrap();
    let reply = TicketAction::Reply {
        text: "已处理".into(),
    };
    svc.act(n, reply, &unit, monday("20:00")).await.unwrap();
    let close = TicketAction::Close {
        text: "已办结".into(),
    };
    svc.act(n, close, &unit, closed_at).await.unwrap();
    (n, conversation_id)
}

#[tokio::test]
async fn the_survey_waits_for_the_morning_then_one_reminder_then_it_is_recorded_as_unreachable() {
    let data = tempfile::tempdir().unwrap();
    let h = handling(data.path());
    let (store, worker) = (&h.store, &h.worker);
    // Closed at 20:30: an hour later is 21:30, inside the quiet hours.
    let (n, conversation_id) = closed_ticket(&h, monday("20:30")).await;
    let closed = TicketStore::get(&**store, n).unwrap().unwrap();
    assert!(
        closed.callback.hotline_only,
        "anonymous: the hotline alone runs it"
    );
    let tuesday_eight = monday("08:00") + 24.hours();
    assert_eq!(closed.callback.rounds[0].due_at, tuesday_eight);
    let outbox_before = store.pending().unwrap();

    for quiet in [monday("21:29"), monday("23:00"), tuesday_eight - 1.second()] {
        assert_eq!(
            worker.tick(quiet).await,
            CallbackCounts::default(),
            "{quiet}"
        );
    }
    assert_eq!(
        store.pending().unwrap(),
        outbox_before,
        "nothing sent at night"
    );
    assert_eq!(worker.tick(tuesday_eight).await.sent, 1);
    assert_eq!(store.pending().unwrap(), outbox_before + 1);
    let waiting = ConversationStore::get(&**store, conversation_id)
        .unwrap()
        .unwrap();
    assert_eq!(waiting.pending_survey.as_ref().unwrap().ticket, n);

    // One reminder, 24 hours later.
    let wednesday_eight = tuesday_eight + 24.hours();
    assert_eq!(
        worker.tick(wednesday_eight - 1.minute()).await,
        CallbackCounts::default()
    );
    assert_eq!(worker.tick(wednesday_eight).await.reminded, 1);
    assert_eq!(
        worker.tick(wednesday_eight + 1.hour()).await,
        CallbackCounts::default()
    );
    let due = store.due(wednesday_eight + 1.hour(), 10).unwrap();
    let reminder = due
        .iter()
        .find(|m| m.reply.text.contains("回访提醒"))
        .expect("a reminder queued");
    assert_eq!(
        reminder.reply.buttons.len(),
        2,
        "the question's buttons again"
    );

    // No answer 24 hours after the reminder: 未联系上, never satisfied.
    let thursday_eight = wednesday_eight + 24.hours();
    assert_eq!(
        worker.tick(thursday_eight - 1.minute()).await,
        CallbackCounts::default()
    );
    assert_eq!(worker.tick(thursday_eight).await.unreachable, 1);
    let ticket = TicketStore::get(&**store, n).unwrap().unwrap();
    assert_eq!(ticket.status, TicketStatus::Surveyed);
    assert_eq!(ticket.callback.last(), Some(&SurveyOutcome::Unreachable));
    assert!(ticket.events.iter().any(|e| e.note.contains("未联系上")));
    let conversation = ConversationStore::get(&**store, conversation_id)
        .unwrap()
        .unwrap();
    assert_eq!(conversation.pending_survey, None);
    assert_eq!(
        worker.tick(thursday_eight + 48.hours()).await,
        CallbackCounts::default(),
        "nothing more"
    );
    store.close().unwrap();
}

#[tokio::test]
async fn hotline_report_rates_reads_the_store_as_a_table_or_csv() {
    let data = tempfile::tempdir().unwrap();
    {
        let h = handling(data.path());
        let (_, _) = closed_ticket(&h, monday("11:00")).await;
        // Sent, reminded, then 未联系上.
        for day in 1..=3 {
            h.worker.tick(monday("12:00") + (24 * day).hours()).await;
        }
        h.store.close().unwrap();
    }
    let run = |args: &[&str]| {
        crate::helpers::hotline_command(data.path())
            .args([
                "report",
                "rates",
                "--from",
                "2026-11-23",
                "--to",
                "2026-11-29",
            ])
            .args(args)
            .output()
            .unwrap()
    };
    let table = run(&[]);
    assert!(
        table.status.success(),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    let table = String::from_utf8_lossy(&table.stdout).into_owned();
    assert!(table.contains("南山区城市管理综合执法局"), "{table}");
    assert!(
        table.contains("响应率") && table.contains("合计"),
        "{table}"
    );
    let csv = run(&["--csv", "--by", "district"]);
    let csv = String::from_utf8_lossy(&csv.stdout).into_owned();
    // One ticket, evaluated, 未联系上: signed in time (100%), neither solved nor satisfied.
    assert!(
        csv.lines()
            .nth(1)
            .unwrap()
            .starts_with("南山区,南山区,1,1,1,1.0000,0.0000,0.0000,30.00,"),
        "{csv}"
    );
    let bad = crate::helpers::hotline_command(data.path())
        .args([
            "report",
            "rates",
            "--from",
            "2026-11-31",
            "--to",
            "2026-12-01",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("`2026-11-31` is not a date"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
