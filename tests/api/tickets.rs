//! The handling side: units and operators over HTTP, the lifecycle with time, the scheduler and
//! the outbox across restarts.

use std::sync::Arc;

use hotline::app::{Paths, build_ticket_service};
use hotline::auth::Role;
use hotline::bots::Bots;
use hotline::domain::lifecycle::{Actor, TicketAction};
use hotline::domain::{Channel, Conversation, OutboundReply, OutboxMessage, UnitId};
use hotline::store::{ConversationStore, OutboxStore, SledStore, TicketStore};
use hotline::tickets::outbox::{LiveHub, OutboxWorker, TranscriptDeliverer};
use hotline::tickets::scheduler::Scheduler;
use hotline::tickets::{ServiceError, TicketService};
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, create_token, noise_ticket, reply_text, repo, spawn_app_in, test_settings,
};

struct Tokens {
    nanshan_urban: String,
    xicheng_urban: String,
    nanshan_market: String,
    operator: String,
}

async fn app_with_tokens() -> (TestApp, Tokens) {
    let data = tempfile::tempdir().unwrap();
    let tokens = Tokens {
        nanshan_urban: create_token(data.path(), Role::Unit("nanshan-urban".into())).await,
        xicheng_urban: create_token(data.path(), Role::Unit("xicheng-urban".into())).await,
        nanshan_market: create_token(data.path(), Role::Unit("nanshan-market".into())).await,
        operator: create_token(data.path(), Role::Operator).await,
    };
    (spawn_app_in(data, test_settings()).await, tokens)
}

async fn call(
    app: &TestApp,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", app.base);
    let request = match method {
        "GET" => app.client.get(url),
        _ => app.client.post(url).json(&body.unwrap_or(json!({}))),
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn open_ticket(app: &TestApp, text: &str) -> (String, String) {
    let session = app.new_session().await;
    let summary = app.say(&session, text).await;
    let mut last = summary.clone();
    if reply_text(&summary).contains("保密") && !reply_text(&summary).contains("请核对") {
        last = app.say(&session, "保密").await;
    }
    assert!(reply_text(&last).contains("请核对"), "{last}");
    let done = app.say(&session, "确认").await;
    (
        session,
        done["ticket"]["number"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn a_unit_signs_replies_and_closes_and_the_citizen_gets_the_reply_live_and_in_history() {
    let (app, tokens) = app_with_tokens().await;
    let (session, number) = open_ticket(
        &app,
        "南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678",
    )
    .await;

    let (status, list) = call(
        &app,
        &tokens.nanshan_urban,
        "GET",
        "/api/units/tickets",
        None,
    )
    .await;
    assert_eq!(status, 200);
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["number"] == number.as_str())
        .unwrap();
    assert_eq!(
        mine["contact"]["phone"], "138****5678",
        "masked before signing"
    );

    // The citizen's page listens for later replies.
    let events = app
        .client
        .get(format!("{}/api/chat/sessions/{session}/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);

    let path = format!("/api/units/tickets/{number}");
    let (status, signed) = call(
        &app,
        &tokens.nanshan_urban,
        "POST",
        &format!("{path}/sign"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["status_label"], "已签收");
    assert_eq!(
        signed["contact"]["phone"], "13812345678",
        "the lead needs it to act"
    );

    let answer = "已约谈店主，晚上10点后停止营业，我们将持续巡查。";
    let (status, replied) = call(
        &app,
        &tokens.nanshan_urban,
        "POST",
        &format!("{path}/reply"),
        Some(json!({ "text": answer })),
    )
    .await;
    assert_eq!(status, 200, "{replied}");

    let mut stream = events.bytes_stream();
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !received.contains(answer) {
        use futures_util::StreamExt;
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("event: reply"), "{received}");

    let history = app.history(&session).await.to_string();
    assert!(history.contains(answer), "{history}");

    let (status, closed) = call(
        &app,
        &tokens.nanshan_urban,
        "POST",
        &format!("{path}/close"),
        Some(json!({ "text": "已办结" })),
    )
    .await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(closed["status_label"], "已办结");
    let status_query = app.say(&session, &format!("查询{number}")).await;
    assert!(reply_text(&status_query).contains(answer), "{status_query}");
    app.stop().await;
}

#[tokio::test]
async fn unit_a_is_denied_unit_b_s_ticket_and_a_forbidden_transition_names_the_allowed_ones() {
    let (app, tokens) = app_with_tokens().await;
    let (_, number) =
        open_ticket(&app, "南山区滨海路路灯坏了一排，晚上很黑，电话13812345678").await;
    let path = format!("/api/units/tickets/{number}");
    let (status, body) = call(&app, &tokens.xicheng_urban, "GET", &path, None).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "forbidden");
    let (status, _) = call(
        &app,
        &tokens.xicheng_urban,
        "POST",
        &format!("{path}/sign"),
        None,
    )
    .await;
    assert_eq!(status, 403);

    let (status, body) = call(
        &app,
        &tokens.nanshan_urban,
        "POST",
        &format!("{path}/close"),
        Some(json!({ "text": "x" })),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("allowed now") && message.contains("sign"),
        "{message}"
    );

    let (status, _) = call(&app, "hl_nobody", "GET", "/api/units/tickets", None).await;
    assert_eq!(status, 401);
    let (status, _) = call(
        &app,
        &tokens.nanshan_urban,
        "GET",
        "/api/operator/queue",
        None,
    )
    .await;
    assert_eq!(status, 403);
    app.stop().await;
}

#[tokio::test]
async fn a_confidential_report_never_shows_the_citizen_to_the_unit() {
    let (app, tokens) = app_with_tokens().await;
    let (_, number) = open_ticket(
        &app,
        "举报南山区渔港路8号有黑作坊无证生产食品，我叫李明，电话13912345678",
    )
    .await;
    let (status, unit_view) = call(
        &app,
        &tokens.nanshan_market,
        "GET",
        &format!("/api/units/tickets/{number}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{unit_view}");
    assert_eq!(unit_view["contact"]["confidential"], true);
    assert_eq!(unit_view["contact"]["phone"], Value::Null);
    assert_eq!(unit_view["contact"]["name"], Value::Null);
    let text = unit_view.to_string();
    assert!(
        !text.contains("13912345678") && !text.contains("李明"),
        "{text}"
    );

    let (_, operator_view) = call(
        &app,
        &tokens.operator,
        "GET",
        &format!("/api/operator/tickets/{number}"),
        None,
    )
    .await;
    assert_eq!(operator_view["contact"]["phone"], "13912345678");
    app.stop().await;
}

#[tokio::test]
async fn an_objection_is_upheld_by_re_dispatch_then_a_second_objection_escalates() {
    let (app, tokens) = app_with_tokens().await;
    let (_, number) = open_ticket(
        &app,
        "南山区海景路烧烤油烟太大熏得开不了窗，电话13812345678",
    )
    .await;
    let unit = format!("/api/units/tickets/{number}");
    let op = format!("/api/operator/tickets/{number}");

    let (status, returned) = call(
        &app,
        &tokens.nanshan_urban,
        "POST",
        &format!("{unit}/objection"),
        Some(json!({ "reason": "油烟属于市场监管部门管辖" })),
    )
    .await;
    assert_eq!(status, 200, "{returned}");
    assert_eq!(returned["status_label"], "已退回");
    let (_, queue) = call(&app, &tokens.operator, "GET", "/api/operator/queue", None).await;
    assert!(queue.to_string().contains(&number));

    // Upheld: re-dispatched (改派) to the market regulator.
    let (status, moved) = call(
        &app,
        &tokens.operator,
        "POST",
        &format!("{op}/dispatch"),
        Some(json!({ "lead": "nanshan-market" })),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["lead"], "nanshan-market");
    assert_eq!(
        call(&app, &tokens.nanshan_urban, "GET", &unit, None)
            .await
            .0,
        403
    );

    // A second objection on the same ticket escalates to a coordinator.
    let (status, escalated) = call(
        &app,
        &tokens.nanshan_market,
        "POST",
        &format!("{unit}/objection"),
        Some(json!({ "reason": "应由城管处理" })),
    )
    .await;
    assert_eq!(status, 200, "{escalated}");
    assert_eq!(escalated["status_label"], "已提级");
    let (status, coordinated) = call(
        &app,
        &tokens.operator,
        "POST",
        &format!("{op}/escalate"),
        Some(json!({ "coordinator": "city-coordination", "reason": "两次管辖异议" })),
    )
    .await;
    assert_eq!(status, 200, "{coordinated}");
    assert_eq!(coordinated["lead"], "city-coordination");
    app.stop().await;
}

#[tokio::test]
async fn a_rejected_objection_leaves_the_unit_responsible() {
    let (app, tokens) = app_with_tokens().await;
    let (_, number) = open_ticket(&app, "南山区海景路工地夜间施工噪音，电话13812345678").await;
    let unit = format!("/api/units/tickets/{number}");
    call(
        &app,
        &tokens.nanshan_urban,
        "POST",
        &format!("{unit}/objection"),
        Some(json!({ "reason": "不归我们" })),
    )
    .await;
    let (status, back) = call(
        &app,
        &tokens.operator,
        "POST",
        &format!("/api/operator/tickets/{number}/objection/reject"),
        Some(json!({ "note": "夜间施工噪音属城管职责" })),
    )
    .await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["lead"], "nanshan-urban");
    let (status, _) = call(
        &app,
        &tokens.nanshan_urban,
        "POST",
        &format!("{unit}/sign"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    app.stop().await;
}

// ---- the service with explicit time: objection window, scheduler, restart, outbox ----

fn paths(data: &std::path::Path) -> Paths {
    Paths {
        data: data.to_path_buf(),
        config: repo().join("config"),
    }
}

fn service(store: Arc<SledStore>, ready: Arc<tokio::sync::Notify>) -> Arc<TicketService> {
    let settings = test_settings();
    let bots = Arc::new(Bots::load(&repo().join("bots")).unwrap());
    Arc::new(
        build_ticket_service(
            &settings,
            &paths(std::path::Path::new(".")),
            store,
            bots,
            ready,
        )
        .unwrap(),
    )
}

fn scheduler(service: &Arc<TicketService>) -> Scheduler {
    Scheduler {
        service: service.clone(),
        bots: Arc::new(Bots::load(&repo().join("bots")).unwrap()),
        every: std::time::Duration::from_secs(60),
    }
}

/// Monday 2026-11-23 09:00 in Asia/Shanghai.
fn monday_morning() -> Timestamp {
    "2026-11-23T09:00:00+08:00[Asia/Shanghai]"
        .parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
}

#[tokio::test]
async fn an_objection_after_the_window_is_refused_and_the_unit_stays_responsible() {
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let svc = service(store.clone(), Arc::new(tokio::sync::Notify::new()));
    let t0 = monday_morning();
    let created = store.create(noise_ticket(t0)).await.unwrap();
    let ticket = svc.on_created(created, t0).await.unwrap();
    let object_by = ticket.handling.object_by.unwrap();
    let unit = Actor::Unit(UnitId::new("nanshan-urban"));
    let late = object_by + 1.hour();
    let err = svc
        .act(
            ticket.number,
            TicketAction::Object {
                reason: "不归我们".into(),
            },
            &unit,
            late,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Transition(_)), "{err}");
    assert!(err.to_string().contains("object"), "{err}");
    svc.act(ticket.number, TicketAction::Sign, &unit, late)
        .await
        .unwrap();
    store.close().unwrap();
}

#[tokio::test]
async fn deadline_warnings_fire_once_each_even_across_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let t0 = monday_morning();
    let (number, deadline) = {
        let store = Arc::new(SledStore::open(data.path()).unwrap());
        let svc = service(store.clone(), Arc::new(tokio::sync::Notify::new()));
        let created = store.create(noise_ticket(t0)).await.unwrap();
        let ticket = svc.on_created(created, t0).await.unwrap();
        let deadline = ticket.handling.deadline.unwrap();
        let scheduler = scheduler(&svc);
        assert_eq!(
            scheduler.tick(t0 + 1.hour()).await,
            (0, 0),
            "nothing due yet"
        );
        let yellow_at = svc.calendar().yellow_warning(deadline);
        assert_eq!(scheduler.tick(yellow_at + 1.minute()).await, (1, 0));
        assert_eq!(
            scheduler.tick(yellow_at + 2.minute()).await,
            (0, 0),
            "yellow only once"
        );
        store.close().unwrap();
        (ticket.number, deadline)
    };
    // A restart: a new process on the same store.
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let svc = service(store.clone(), Arc::new(tokio::sync::Notify::new()));
    let scheduler = scheduler(&svc);
    assert_eq!(
        scheduler.tick(deadline - 1.minute()).await,
        (0, 0),
        "no repeat after restart"
    );
    assert_eq!(
        scheduler.tick(deadline + 1.hour()).await,
        (0, 1),
        "red once overdue"
    );
    assert_eq!(scheduler.tick(deadline + 2.hour()).await, (0, 0));
    let ticket = TicketStore::get(&*store, number).unwrap().unwrap();
    let count = |want: fn(&TicketAction) -> bool| {
        ticket
            .events
            .iter()
            .filter(|e| e.action.as_ref().is_some_and(want))
            .count()
    };
    assert_eq!(
        count(|a| matches!(a, TicketAction::Remind { .. })),
        1,
        "one 催办"
    );
    assert_eq!(
        count(|a| matches!(a, TicketAction::Supervise { .. })),
        1,
        "one 督办"
    );
    store.close().unwrap();
}

#[tokio::test]
async fn an_outbox_message_is_delivered_exactly_once_after_a_crash_between_send_and_acknowledgement()
 {
    let data = tempfile::tempdir().unwrap();
    let now = Timestamp::now();
    let conversation_id = {
        let store = Arc::new(SledStore::open(data.path()).unwrap());
        let conversation = Conversation::start(Channel::Web, now);
        let id = conversation.id;
        ConversationStore::save(&*store, conversation)
            .await
            .unwrap();
        let message = OutboxMessage::new(
            id,
            Channel::Web,
            OutboundReply::text("【工单答复】已处理"),
            None,
            now,
        );
        let queued_id = store.enqueue(message).await.unwrap();
        // Send, then "crash" before the acknowledgement is written.
        let deliverer = TranscriptDeliverer {
            conversations: store.clone(),
            hub: LiveHub::new(),
            locks: Default::default(),
        };
        let queued = store.due(now, 10).unwrap();
        assert_eq!(queued[0].id, queued_id);
        use hotline::tickets::outbox::Deliverer;
        deliverer.deliver(&queued[0]).await.unwrap();
        store.close().unwrap();
        id
    };
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    assert_eq!(
        store.pending().unwrap(),
        1,
        "unacknowledged: still pending after the restart"
    );
    let deliverer: Arc<dyn hotline::tickets::outbox::Deliverer> = Arc::new(TranscriptDeliverer {
        conversations: store.clone(),
        hub: LiveHub::new(),
        locks: Default::default(),
    });
    let worker = OutboxWorker {
        store: store.clone(),
        deliverers: [(Channel::Web, deliverer)].into_iter().collect(),
        ready: Arc::new(tokio::sync::Notify::new()),
    };
    assert_eq!(worker.run_once(Timestamp::now()).await, 1);
    assert_eq!(worker.run_once(Timestamp::now()).await, 0);
    assert_eq!(store.pending().unwrap(), 0);
    let conversation = ConversationStore::get(&*store, conversation_id)
        .unwrap()
        .unwrap();
    let copies = conversation
        .transcript
        .iter()
        .filter(|e| e.text.contains("已处理"))
        .count();
    assert_eq!(copies, 1, "the citizen sees the reply once");
    store.close().unwrap();
}

/// A channel that is down until told otherwise.
struct FlakyChannel {
    down: std::sync::atomic::AtomicBool,
    sent: std::sync::atomic::AtomicUsize,
}

impl hotline::tickets::outbox::Deliverer for FlakyChannel {
    fn deliver<'a>(&'a self, _: &'a OutboxMessage) -> hotline::tickets::outbox::DeliveryFuture<'a> {
        use std::sync::atomic::Ordering;
        Box::pin(async move {
            if self.down.load(Ordering::SeqCst) {
                return Err("provider returned 503".to_string());
            }
            self.sent.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_failed_delivery_waits_with_backoff_and_goes_out_once_the_channel_is_back() {
    use std::sync::atomic::Ordering;
    let data = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(data.path()).unwrap());
    let t0 = Timestamp::now();
    let message = OutboxMessage::new(
        hotline::domain::ConversationId::new(),
        Channel::Sms,
        OutboundReply::text("工单已办结"),
        None,
        t0,
    );
    store.enqueue(message).await.unwrap();
    let channel = Arc::new(FlakyChannel {
        down: true.into(),
        sent: 0.into(),
    });
    let deliverer: Arc<dyn hotline::tickets::outbox::Deliverer> = channel.clone();
    let worker = OutboxWorker {
        store: store.clone(),
        deliverers: [(Channel::Sms, deliverer)].into_iter().collect(),
        ready: Arc::new(tokio::sync::Notify::new()),
    };
    assert_eq!(worker.run_once(t0).await, 0);
    let waiting = store.due(t0 + 1.hour(), 10).unwrap();
    assert_eq!(waiting[0].attempts, 1);
    assert_eq!(
        waiting[0].last_error.as_deref(),
        Some("provider returned 503")
    );
    let retry_at = waiting[0].next_attempt_at;
    assert!(retry_at > t0, "not retried at once");
    assert_eq!(
        worker.run_once(t0 + 1.second()).await,
        0,
        "nothing due before the backoff"
    );

    channel.down.store(false, Ordering::SeqCst);
    assert_eq!(worker.run_once(retry_at).await, 1);
    assert_eq!(worker.run_once(retry_at + 1.hour()).await, 0);
    assert_eq!(channel.sent.load(Ordering::SeqCst), 1);
    assert_eq!(store.pending().unwrap(), 0);
    store.close().unwrap();
}

/// One page of a list as served: status, the `X-Total-Count`, `Link` and `X-Next-Cursor`
/// headers, and the body.
struct Page {
    status: u16,
    total: Option<u64>,
    link: Option<String>,
    cursor: Option<String>,
    body: Value,
}

/// GET `path` with a token.
async fn get_page(app: &TestApp, token: &str, path: &str) -> Page {
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    };
    let (total, link, cursor) = (
        header("x-total-count").map(|v| v.parse().unwrap()),
        header("link"),
        header("x-next-cursor"),
    );
    Page {
        status: response.status().as_u16(),
        total,
        link,
        cursor,
        body: response.json().await.unwrap_or(Value::Null),
    }
}

fn numbers_of(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t["number"].as_str().unwrap().to_string())
        .collect()
}

/// One noise complaint per street in 南山区 (all dispatched to nanshan-urban), in order: their
/// numbers.
async fn noise_on_streets(app: &TestApp, streets: &[&str]) -> Vec<String> {
    let mut opened = Vec::new();
    for (i, street) in streets.iter().enumerate() {
        let text = format!("南山区{street}{i}号楼下的烧烤店噪音扰民到凌晨，电话1381234567{i}");
        opened.push(open_ticket(app, &text).await.1);
    }
    opened
}

/// Asks for `/api/units/tickets?{query}` for each query and expects a 400 `bad_paging` each.
async fn refused_paging(app: &TestApp, token: &str, queries: &[String]) {
    for query in queries {
        let page = get_page(app, token, &format!("/api/units/tickets?{query}")).await;
        assert_eq!(page.status, 400, "{query}: {}", page.body);
        assert_eq!(page.body["code"], "bad_paging", "{query}");
    }
}

#[tokio::test]
async fn the_unit_list_and_the_queue_come_in_pages_with_their_total() {
    let (app, tokens) = app_with_tokens().await;
    let opened = noise_on_streets(&app, &["海景路", "科技路", "学府路"]).await;
    let whole = get_page(&app, &tokens.nanshan_urban, "/api/units/tickets").await;
    assert_eq!(whole.status, 200, "{}", whole.body);
    assert_eq!(whole.total, Some(3));
    let whole = numbers_of(&whole.body);
    let mut sorted = whole.clone();
    sorted.sort();
    assert_eq!(sorted, opened, "every ticket listed once");

    // Pages of one cut the same list, in the same order, each with the whole list's total.
    let mut paged = Vec::new();
    for offset in 0..4 {
        let path = format!("/api/units/tickets?limit=1&offset={offset}");
        let page = get_page(&app, &tokens.nanshan_urban, &path).await;
        assert_eq!((page.status, page.total), (200, Some(3)), "{}", page.body);
        paged.extend(numbers_of(&page.body));
    }
    assert_eq!(paged, whole);

    // Another unit's list is empty, and says so.
    let page = get_page(&app, &tokens.xicheng_urban, "/api/units/tickets?limit=5").await;
    assert_eq!((page.status, page.total), (200, Some(0)));
    assert_eq!(page.body, json!([]));

    // The queue pages the same way.
    let page = get_page(&app, &tokens.operator, "/api/operator/queue?limit=1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.total.is_some());
    assert!(page.body.as_array().unwrap().len() <= 1);

    let bad = ["limit=0", "limit=1001", "limit=ten", "offset=-1"].map(String::from);
    refused_paging(&app, &tokens.nanshan_urban, &bad).await;
    app.stop().await;
}

#[tokio::test]
async fn the_unit_list_pages_on_by_the_cursor_in_its_link_header() {
    let (app, tokens) = app_with_tokens().await;
    noise_on_streets(&app, &["海景路", "科技路", "学府路", "后海大道"]).await;
    let whole = get_page(&app, &tokens.nanshan_urban, "/api/units/tickets").await;
    let whole = numbers_of(&whole.body);
    assert_eq!(whole.len(), 4);

    // Follow `Link: <…>; rel="next"` from the first page of three to the end.
    let mut path = "/api/units/tickets?limit=3".to_string();
    let mut walked = Vec::new();
    let mut pages = 0;
    loop {
        let page = get_page(&app, &tokens.nanshan_urban, &path).await;
        assert_eq!(page.status, 200);
        assert_eq!(page.total, Some(4));
        walked.extend(numbers_of(&page.body));
        pages += 1;
        let Some(link) = page.link else {
            assert!(page.cursor.is_none());
            break;
        };
        let cursor = page.cursor.expect("a cursor beside the link");
        assert!(link.ends_with("; rel=\"next\""), "{link}");
        path = link
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(path, format!("/api/units/tickets?limit=3&after={cursor}"));
    }
    assert_eq!(pages, 2);
    assert_eq!(walked, whole, "the cursor pages cut the same list");

    // The last page by offset says nothing follows it.
    let last = get_page(
        &app,
        &tokens.nanshan_urban,
        "/api/units/tickets?limit=2&offset=2",
    )
    .await;
    assert!(last.cursor.is_none());
    assert_eq!(numbers_of(&last.body), whole[2..].to_vec());

    let good = "00".repeat(24);
    let bad = [
        "after=xyz".to_string(),
        format!("after={}", "0".repeat(47)),
        format!("after={good}&offset=1"),
    ];
    refused_paging(&app, &tokens.nanshan_urban, &bad).await;
    // The queue hands out cursors too.
    let queue = get_page(&app, &tokens.operator, "/api/operator/queue?limit=1").await;
    assert_eq!(queue.status, 200);
    app.stop().await;
}
