//! 回访: the survey on the web chat over real HTTP (the worker run at chosen moments), 重办 and the
//! second callback, unclear replies asked about once; the allowed hours, the reminder and
//! 未联系上 against the real store at explicit times; the rates at the admin endpoint.

use std::sync::Arc;
use std::time::Duration;

use hotline::app::{Paths, build_ticket_service};
use hotline::auth::Role;
use hotline::bots::Bots;
use hotline::callback::worker::{CallbackCounts, CallbackWorker};
use hotline::domain::lifecycle::{Actor, TicketAction};
use hotline::domain::{
    Category, Channel, Conversation, NewTicket, SurveyOutcome, TicketStatus, UnitId,
};
use hotline::store::{ConversationStore, OutboxStore, SledStore, TicketStore};
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::helpers::{TestApp, create_token, reply_text, repo, spawn_app_in, test_settings};

struct Tokens {
    unit: String,
    admin: String,
}

async fn app() -> (TestApp, Tokens) {
    let data = tempfile::tempdir().unwrap();
    let tokens = Tokens {
        unit: create_token(data.path(), Role::Unit("nanshan-urban".into())).await,
        admin: create_token(data.path(), Role::Admin).await,
    };
    (spawn_app_in(data, survey_settings()).await, tokens)
}

/// No delay and no quiet hours here (those are tested below at explicit times); the worker runs
/// when the test says, the background loop is kept out of the way.
fn survey_settings() -> hotline::config::Settings {
    let mut settings = test_settings();
    settings.callback.delay_minutes = 0;
    settings.callback.quiet_start = "00:00".into();
    settings.callback.quiet_end = "00:00".into();
    settings.callback.interval_secs = 3600;
    settings
}

async fn call(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{path}", app.base);
    let request = match body {
        None => app.client.get(url),
        Some(body) => app.client.post(url).json(&body),
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A noise complaint in Nanshan (dispatched at once to nanshan-urban): (session, number).
async fn open_ticket(app: &TestApp) -> (String, String) {
    let session = app.new_session().await;
    let summary = app
        .say(
            &session,
            "南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678",
        )
        .await;
    assert!(reply_text(&summary).contains("请核对"), "{summary}");
    let done = app.say(&session, "确认").await;
    let number = done["ticket"]["number"].as_str().unwrap().to_string();
    (session, number)
}

/// The unit signs, replies and closes: 办结, which opens a callback round.
async fn handle_and_close(app: &TestApp, tokens: &Tokens, number: &str) {
    let path = format!("/api/units/tickets/{number}");
    for (step, body) in [
        ("sign", json!({})),
        (
            "reply",
            json!({ "text": "已约谈店主，晚上10点后停止营业。" }),
        ),
        ("close", json!({ "text": "已整改，持续巡查。" })),
    ] {
        let (status, body) = call(app, &tokens.unit, &format!("{path}/{step}"), Some(body)).await;
        assert_eq!(status, 200, "{step}: {body}");
    }
}

/// `days` from now.
fn in_days(days: i64) -> Timestamp {
    Timestamp::now() + (days * 24).hours()
}

/// Waits (briefly, polling the history) until the outbox has delivered a message containing
/// `text`; returns that transcript entry.
async fn delivered(app: &TestApp, session: &str, text: &str) -> Value {
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let history = app.history(session).await;
        let found = history["messages"]
            .as_array()
            .or_else(|| history.as_array())
            .and_then(|m| {
                m.iter()
                    .rev()
                    .find(|e| e["text"].as_str().is_some_and(|t| t.contains(text)))
                    .cloned()
            });
        if let Some(entry) = found {
            return entry;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no message with {text:?} delivered: {history}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn labels(entry: &Value) -> Vec<String> {
    entry["buttons"]
        .as_array()
        .map(|b| {
            b.iter()
                .map(|x| x["label"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

async fn ticket(app: &TestApp, tokens: &Tokens, number: &str) -> Value {
    let (status, body) = call(
        app,
        &tokens.admin,
        &format!("/api/operator/tickets/{number}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_closed_ticket_is_surveyed_on_the_web_chat_and_both_answers_are_kept() {
    let (app, tokens) = app().await;
    let (session, number) = open_ticket(&app).await;
    handle_and_close(&app, &tokens, &number).await;
    let closed = ticket(&app, &tokens, &number).await;
    assert_eq!(
        closed["callback"]["rounds"][0]["state"], "待发送",
        "{closed}"
    );

    let counts = app.callbacks.tick(Timestamp::now()).await;
    assert_eq!(counts.sent, 1, "{counts:?}");
    let survey = delivered(&app, &session, "问题解决了吗").await;
    assert!(
        survey["text"].as_str().unwrap().contains(&number),
        "{survey}"
    );
    assert_eq!(labels(&survey), ["已解决", "未解决"]);

    // A full-width digit answers the first question.
    let asked = app.say(&session, "１").await;
    assert!(reply_text(&asked).contains("满意吗"), "{asked}");
    let buttons: Vec<_> = asked["replies"][0]["buttons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["payload"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(buttons, ["满意", "基本满意", "不满意"]);
    // Something unclear is asked about once more, not guessed.
    let again = app.say(&session, "嗯嗯你好").await;
    assert!(reply_text(&again).contains("没能看明白"), "{again}");
    // Traditional characters.
    let comment = app.say(&session, "基本滿意").await;
    assert!(reply_text(&comment).contains("其他意见"), "{comment}");
    let thanks = app.say(&session, "没有了").await;
    assert!(reply_text(&thanks).contains("感谢您的评价"), "{thanks}");
    assert_eq!(thanks["ticket"]["status"], "已回访");

    let surveyed = ticket(&app, &tokens, &number).await;
    assert_eq!(surveyed["status"], "surveyed");
    assert_eq!(surveyed["callback"]["final"], "已解决 · 基本满意");
    assert_eq!(surveyed["callback"]["rounds"][0]["state"], "已完成");
    // Nothing pending any more: "1" is an ordinary message again.
    let later = app.say(&session, "1").await;
    assert!(!reply_text(&later).contains("感谢您的评价"), "{later}");
    // The worker has nothing left to do for this ticket.
    assert_eq!(
        app.callbacks.tick(in_days(5)).await,
        CallbackCounts::default()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_survey_in_progress_survives_a_restart() {
    let (app, tokens) = app().await;
    let (session, number) = open_ticket(&app).await;
    handle_and_close(&app, &tokens, &number).await;
    app.callbacks.tick(Timestamp::now()).await;
    delivered(&app, &session, "问题解决了吗").await;
    app.say(&session, "已解决").await;
    let data = app.stop().await;

    let app = spawn_app_in(data, survey_settings()).await;
    let asked_again = app.say(&session, "满意").await;
    assert!(
        reply_text(&asked_again).contains("其他意见"),
        "{asked_again}"
    );
    let done = app.say(&session, "挺好的，谢谢").await;
    assert!(reply_text(&done).contains("感谢您的评价"), "{done}");
    let surveyed = ticket(&app, &tokens, &number).await;
    assert_eq!(surveyed["callback"]["final"], "已解决 · 满意");
    assert_eq!(
        surveyed["callback"]["rounds"][0]["comment"], "挺好的，谢谢",
        "an optional comment is kept"
    );
    app.stop().await;
}

#[tokio::test]
async fn unsolved_with_a_reason_goes_back_to_the_unit_and_a_second_callback_follows() {
    let (app, tokens) = app().await;
    let (session, number) = open_ticket(&app).await;
    handle_and_close(&app, &tokens, &number).await;
    app.callbacks.tick(Timestamp::now()).await;
    delivered(&app, &session, "问题解决了吗").await;

    // The citizen had started another matter; "2" still answers the survey.
    let other = app.say(&session, "我要投诉").await;
    assert!(!reply_text(&other).is_empty());
    let asked = app.say(&session, "2").await;
    assert!(reply_text(&asked).contains("满意吗"), "{asked}");
    let reason = app.say(&session, "不满意").await;
    assert!(reply_text(&reason).contains("哪里没有解决"), "{reason}");
    let rehandled = app.say(&session, "烧烤店晚上11点还在营业，噪音照旧").await;
    assert!(reply_text(&rehandled).contains("重新办理"), "{rehandled}");
    assert_eq!(rehandled["ticket"]["status"], "已派遣");

    let back = ticket(&app, &tokens, &number).await;
    assert_eq!(back["status"], "dispatched");
    assert_eq!(back["lead"], "nanshan-urban", "the same unit");
    assert_eq!(back["callback"]["first"], "未解决 · 不满意");
    assert_eq!(
        back["callback"]["rounds"][0]["comment"],
        "烧烤店晚上11点还在营业，噪音照旧"
    );
    let rehandle = back["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["to"] == "已派遣" && e["from"] == "已回访")
        .expect("a 重办 event");
    assert_eq!(rehandle["actor"], "system", "{rehandle}");

    // The unit handles it again; the second closure brings the second callback.
    handle_and_close(&app, &tokens, &number).await;
    assert_eq!(app.callbacks.tick(Timestamp::now()).await.sent, 1);
    let second = delivered(&app, &session, "问题解决了吗").await;
    assert_eq!(labels(&second), ["已解决", "未解决"]);
    // One short phrase answers both questions.
    let both = app.say(&session, "解决了，挺好").await;
    assert!(reply_text(&both).contains("其他意见"), "{both}");
    let done = app.say(&session, "跳过").await;
    assert!(reply_text(&done).contains("感谢您的评价"), "{done}");

    let finished = ticket(&app, &tokens, &number).await;
    assert_eq!(finished["status"], "surveyed");
    assert_eq!(finished["callback"]["first"], "未解决 · 不满意");
    assert_eq!(finished["callback"]["final"], "已解决 · 满意");
    assert_eq!(finished["callback"]["rounds"].as_array().unwrap().len(), 2);

    // The unit sees the results but not the citizen's words.
    let (_, unit_view) = call(
        &app,
        &tokens.unit,
        &format!("/api/units/tickets/{number}"),
        None,
    )
    .await;
    assert_eq!(unit_view["callback"]["final"], "已解决 · 满意");
    assert!(
        unit_view["callback"]["rounds"][0].get("comment").is_none(),
        "{unit_view}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_rates_are_served_to_admins_as_json_and_csv() {
    let (app, tokens) = app().await;
    let (session, number) = open_ticket(&app).await;
    handle_and_close(&app, &tokens, &number).await;
    app.callbacks.tick(Timestamp::now()).await;
    delivered(&app, &session, "问题解决了吗").await;
    app.say(&session, "已解决").await;
    app.say(&session, "满意").await;
    app.say(&session, "没有了").await;

    let today = hotline::clock::today();
    let path = format!("/api/admin/reports/rates?from={today}&to={today}");
    let (status, report) = call(&app, &tokens.admin, &path, None).await;
    assert_eq!(status, 200, "{report}");
    let row = &report["rows"][0];
    assert_eq!(row["group"], "nanshan-urban");
    assert_eq!(row["counts"]["evaluated"], 1);
    assert_eq!(row["solved_rate"], 1.0);
    assert_eq!(row["satisfied_rate"], 1.0);

    let csv = app
        .client
        .get(format!("{}{path}&by=district", app.base))
        .bearer_auth(&tokens.admin)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = csv.text().await.unwrap();
    assert!(
        body.lines()
            .nth(1)
            .unwrap()
            .starts_with("南山区,南山区,1,1,1,"),
        "{body}"
    );

    let by_format = app
        .client
        .get(format!("{}{path}&by=category&format=csv", app.base))
        .bearer_auth(&tokens.admin)
        .send()
        .await
        .unwrap();
    assert!(
        by_format.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let body = by_format.text().await.unwrap();
    assert!(
        body.lines().nth(1).unwrap().starts_with("投诉,投诉,1,"),
        "{body}"
    );

    let (status, _) = call(&app, &tokens.unit, &path, None).await;
    assert_eq!(status, 403, "admins only");
    let (status, error) = call(
        &app,
        &tokens.admin,
        "/api/admin/reports/rates?from=2026-11-30&to=2026-11-01",
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], "bad_report_query");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("before it starts")
    );
    app.stop().await;
}

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
