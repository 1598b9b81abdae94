//! 超时回访 over real HTTP, with the worker run at explicit moments: a ticket whose time limit
//! passes before 办结 gets the survey on the web chat and stays with its unit; an extension moves
//! the moment; a ticket closed in time gets only the closing survey; the answers count in the
//! rates; the 办结 after an expiry round asks again unless that round settled the matter, and
//! overtakes one still unanswered; a restart neither loses nor repeats the round; the same by SMS
//! through the fake provider and on Telegram through the fake Bot API (inline buttons); and, on
//! the store itself, the moment written at dispatch and again by the 督办, with each step queued
//! as a webhook for the unit.

use std::time::Duration;

use hotline::callback::worker::CallbackCounts;
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, Tokens, reply_text, spawn_app_in, spawn_app_with_tokens, surveyed_now, test_settings,
    ticket_number,
};

async fn app_in(data: tempfile::TempDir) -> TestApp {
    spawn_app_in(data, surveyed_now(test_settings())).await
}

async fn app() -> (TestApp, Tokens) {
    spawn_app_with_tokens(surveyed_now(test_settings())).await
}

async fn call(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    crate::helpers::call(&app.client, format!("{}{path}", app.base), token, body).await
}

/// A noise complaint in Nanshan, dispatched at once to nanshan-urban, which signs it:
/// (session, number, its deadline as the views show it).
async fn signed_ticket(app: &TestApp, tokens: &Tokens) -> (String, String, Timestamp) {
    let (session, number) = app
        .open_ticket("南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678")
        .await;
    unit_act(app, tokens, &number, "sign", json!({})).await;
    let deadline = deadline_of(&ticket(app, tokens, &number).await);
    (session, number, deadline)
}

async fn unit_act(app: &TestApp, tokens: &Tokens, number: &str, action: &str, body: Value) {
    crate::helpers::unit_act(&app.client, &app.base, &tokens.unit, number, action, body).await;
}

async fn reply_and_close(app: &TestApp, tokens: &Tokens, number: &str) {
    let reply = json!({ "text": "已约谈店主，晚上10点后停止营业。" });
    unit_act(app, tokens, number, "reply", reply).await;
    let close = json!({ "text": "已整改，持续巡查。" });
    unit_act(app, tokens, number, "close", close).await;
}

async fn ticket(app: &TestApp, tokens: &Tokens, number: &str) -> Value {
    app.operator_ticket(&tokens.admin, number).await
}

/// The ticket's deadline as the views show it ("2026年12月11日 18:00", city time).
fn deadline_of(ticket: &Value) -> Timestamp {
    let text = ticket["deadline"].as_str().expect("a deadline");
    jiff::civil::DateTime::strptime("%Y年%m月%d日 %H:%M", text)
        .unwrap()
        .to_zoned(hotline::clock::city_tz())
        .unwrap()
        .timestamp()
}

/// The transcript entries whose text contains `text`.
async fn messages_with(app: &TestApp, session: &str, text: &str) -> Vec<Value> {
    let history = app.history(session).await;
    history["messages"]
        .as_array()
        .or_else(|| history.as_array())
        .map(|m| {
            m.iter()
                .filter(|e| e["text"].as_str().is_some_and(|t| t.contains(text)))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (briefly, polling the history) until the outbox delivered a message with `text`.
async fn delivered(app: &TestApp, session: &str, text: &str) -> Value {
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(found) = messages_with(app, session, text).await.pop() {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "no message with {text:?} delivered"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn labels(entry: &Value) -> Vec<&str> {
    entry["buttons"]
        .as_array()
        .map(|b| b.iter().filter_map(|x| x["label"].as_str()).collect())
        .unwrap_or_default()
}

/// The callback worker's tick at `at`, then the outbox delivering what that queued (due at `at`).
async fn tick(app: &TestApp, at: Timestamp) -> CallbackCounts {
    let counts = app.callbacks.tick(at).await;
    app.outbox.run_once(at).await;
    counts
}

async fn rates_row(app: &TestApp, tokens: &Tokens) -> Value {
    let today = hotline::clock::today();
    let path = format!("/api/admin/reports/rates?from={today}&to={today}");
    let (status, report) = call(app, &tokens.admin, &path, None).await;
    assert_eq!(status, 200, "{report}");
    report["rows"][0].clone()
}

#[tokio::test]
async fn a_ticket_past_its_deadline_is_surveyed_on_the_web_chat_and_stays_with_its_unit() {
    let (app, tokens) = app().await;
    let (session, number, deadline) = signed_ticket(&app, &tokens).await;

    // Not before the time limit has passed.
    assert_eq!(
        tick(&app, deadline - 1.minute()).await,
        CallbackCounts::default()
    );
    let counts = tick(&app, deadline + 1.minute()).await;
    assert_eq!(counts.sent, 1, "{counts:?}");
    let survey = delivered(&app, &session, "已超过办理时限").await;
    let text = survey["text"].as_str().unwrap();
    assert!(text.contains(&number) && text.contains("督办"), "{text}");
    assert_eq!(labels(&survey), ["已解决", "未解决"]);
    let open = ticket(&app, &tokens, &number).await;
    assert_eq!(open["status"], "signed", "the survey does not close it");
    assert_eq!(open["callback"]["rounds"][0]["cause"], "expired");
    assert_eq!(open["callback"]["rounds"][0]["state"], "待回复");

    // 未解决 + 不满意 with a reason: recorded, the unit goes on, no 重办.
    let asked = app.say(&session, "2").await;
    assert!(reply_text(&asked).contains("满意吗"), "{asked}");
    let reason = app.say(&session, "不满意").await;
    assert!(reply_text(&reason).contains("继续督办"), "{reason}");
    let thanks = app.say(&session, "晚上还是很吵").await;
    let thanks_text = reply_text(&thanks);
    assert!(
        thanks_text.contains("超时回访已记录") && thanks_text.contains("办结后我们会再次回访"),
        "{thanks}"
    );
    let rated = ticket(&app, &tokens, &number).await;
    assert_eq!(rated["status"], "signed");
    assert_eq!(rated["callback"]["final"], "未解决 · 不满意");
    assert!(
        !rated["events"].to_string().contains("重办"),
        "no 重办 while the unit still handles it: {rated}"
    );

    // The answers count in the unit's rates as an evaluated ticket.
    let row = rates_row(&app, &tokens).await;
    assert_eq!(row["group"], "nanshan-urban");
    assert_eq!(row["counts"]["evaluated"], 1, "{row}");
    assert_eq!(row["solved_rate"], 0.0);
    assert_eq!(row["satisfied_rate"], 0.0);

    // Never a second round for the same deadline.
    assert_eq!(
        tick(&app, deadline + 72.hours()).await,
        CallbackCounts::default()
    );

    // Closed later: the closing round asks again, and its answer is the final rating.
    reply_and_close(&app, &tokens, &number).await;
    let closed = ticket(&app, &tokens, &number).await;
    assert_eq!(
        closed["callback"]["rounds"][1]["cause"], "closed",
        "{closed}"
    );
    assert_eq!(closed["callback"]["rounds"][1]["state"], "待发送");
    assert_eq!(tick(&app, Timestamp::now()).await.sent, 1);
    let again = delivered(&app, &session, "已由").await;
    assert!(again["text"].as_str().unwrap().contains("办结"), "{again}");
    app.say(&session, "已解决").await;
    app.say(&session, "满意").await;
    let done = app.say(&session, "没有了").await;
    assert_eq!(done["ticket"]["status"], "已回访", "{done}");
    let surveyed = ticket(&app, &tokens, &number).await;
    assert_eq!(surveyed["callback"]["first"], "未解决 · 不满意");
    assert_eq!(surveyed["callback"]["final"], "已解决 · 满意");
    let row = rates_row(&app, &tokens).await;
    assert_eq!(row["counts"]["evaluated"], 1, "still one ticket: {row}");
    assert_eq!(row["solved_rate"], 1.0, "the final round is rated");
    app.stop().await;
}

#[tokio::test]
async fn an_expiry_round_answered_solved_and_satisfied_settles_the_matter_at_closure() {
    let (app, tokens) = app().await;
    let (session, number, deadline) = signed_ticket(&app, &tokens).await;
    assert_eq!(tick(&app, deadline + 1.hour()).await.sent, 1);
    delivered(&app, &session, "已超过办理时限").await;
    app.say(&session, "1").await;
    app.say(&session, "满意").await;
    let thanks = app.say(&session, "没有了").await;
    assert!(
        reply_text(&thanks).contains("办结时不再重复回访"),
        "{thanks}"
    );

    reply_and_close(&app, &tokens, &number).await;
    let closed = ticket(&app, &tokens, &number).await;
    assert_eq!(closed["status"], "surveyed", "{closed}");
    assert_eq!(closed["callback"]["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(closed["callback"]["final"], "已解决 · 满意");
    assert!(
        closed["events"].to_string().contains("不再重复回访"),
        "{closed}"
    );
    assert_eq!(
        tick(&app, Timestamp::now() + 48.hours()).await,
        CallbackCounts::default(),
        "nothing more to ask"
    );
    assert_eq!(messages_with(&app, &session, "问题解决了吗").await.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn an_approved_extension_moves_the_expiry_moment() {
    let (app, tokens) = app().await;
    let (session, number, deadline) = signed_ticket(&app, &tokens).await;
    let until = deadline + 120.hours();
    let request = json!({
        "reason": "需协调业主委员会",
        "until": until.to_zoned(hotline::clock::city_tz()).to_string().split('[').next().unwrap(),
    });
    unit_act(&app, &tokens, &number, "extension", request).await;
    let path = format!("/api/operator/tickets/{number}/extension/approve");
    let (status, body) = call(&app, &tokens.admin, &path, Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(deadline_of(&body), until);

    // The old moment passes quietly; the new one opens the round.
    assert_eq!(
        tick(&app, deadline + 1.hour()).await,
        CallbackCounts::default()
    );
    assert!(
        messages_with(&app, &session, "已超过办理时限")
            .await
            .is_empty()
    );
    assert_eq!(tick(&app, until + 1.minute()).await.sent, 1);
    let survey = delivered(&app, &session, "已超过办理时限").await;
    let shown = hotline::clock::display(until);
    assert!(
        survey["text"].as_str().unwrap().contains(&shown),
        "{survey}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_ticket_closed_before_its_deadline_gets_only_the_closing_survey() {
    let (app, tokens) = app().await;
    let (session, number, deadline) = signed_ticket(&app, &tokens).await;
    reply_and_close(&app, &tokens, &number).await;
    assert_eq!(tick(&app, Timestamp::now()).await.sent, 1);
    delivered(&app, &session, "问题解决了吗").await;
    // Unanswered for days: reminder, then 未联系上 — and at the deadline nothing new.
    let counts = tick(&app, Timestamp::now() + 24.hours()).await;
    assert_eq!(counts.reminded, 1, "{counts:?}");
    let counts = tick(&app, Timestamp::now() + 48.hours()).await;
    assert_eq!(counts.unreachable, 1, "{counts:?}");
    assert_eq!(
        tick(&app, deadline + 1.hour()).await,
        CallbackCounts::default()
    );
    assert!(
        messages_with(&app, &session, "已超过办理时限")
            .await
            .is_empty()
    );
    let surveyed = ticket(&app, &tokens, &number).await;
    assert_eq!(surveyed["callback"]["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(surveyed["callback"]["rounds"][0]["cause"], "closed");
    app.stop().await;
}

#[tokio::test]
async fn a_restart_neither_loses_nor_repeats_the_expiry_round() {
    let (app, tokens) = app().await;
    let (session, number, deadline) = signed_ticket(&app, &tokens).await;
    // Restarted before the deadline: the moment is on disk.
    let app = app_in(app.stop().await).await;
    let counts = tick(&app, deadline + 1.minute()).await;
    assert_eq!(counts.sent, 1, "{counts:?}");
    delivered(&app, &session, "已超过办理时限").await;
    // Restarted after the survey went out: no second survey, the round goes on to its reminder.
    let app = app_in(app.stop().await).await;
    assert_eq!(
        tick(&app, deadline + 2.hours()).await,
        CallbackCounts::default()
    );
    assert_eq!(tick(&app, deadline + 25.hours()).await.reminded, 1);
    let reminder = delivered(&app, &session, "回访提醒").await;
    assert!(
        reminder["text"].as_str().unwrap().contains("超过办理时限"),
        "{reminder}"
    );
    assert_eq!(
        messages_with(&app, &session, "目前仍由").await.len(),
        1,
        "one survey"
    );
    let open = ticket(&app, &tokens, &number).await;
    assert_eq!(open["callback"]["rounds"].as_array().unwrap().len(), 1);
    assert_eq!(open["callback"]["rounds"][0]["state"], "已提醒");
    app.stop().await;
}

#[tokio::test]
async fn a_ticket_opened_by_sms_gets_its_expiry_survey_by_sms_answered_by_digits() {
    use crate::fake_sms::FakeSms;
    use crate::sms::{CITIZEN, joined, sms_settings, text};
    let fake = FakeSms::start().await;
    let (app, tokens) = spawn_app_with_tokens(surveyed_now(sms_settings(&fake))).await;
    text(
        &app,
        CITIZEN,
        "SMx1",
        "南山区海景路3号楼下的烧烤店噪音扰民到凌晨",
    )
    .await;
    let summary = fake.wait_quiet(1).await;
    text(&app, CITIZEN, "SMx2", "确认").await;
    let created = fake.wait_quiet(summary.len() + 1).await;
    let number = ticket_number(&joined(&created[summary.len()..]));
    unit_act(&app, &tokens, &number, "sign", json!({})).await;
    let deadline = deadline_of(&ticket(&app, &tokens, &number).await);
    let before = created.len();

    assert_eq!(tick(&app, deadline + 1.minute()).await.sent, 1);
    let all = fake.wait_quiet(before + 1).await;
    let survey = joined(&all[before..]);
    assert!(
        survey.contains("已超过办理时限") && survey.contains(&number),
        "{survey}"
    );
    assert!(survey.contains("回复1 已解决"), "{survey}");
    assert!(all[before..].iter().all(|s| s.to == CITIZEN));

    text(&app, CITIZEN, "SMx3", "1").await;
    let all = fake.wait_quiet(before + 2).await;
    assert!(joined(&all[before + 1..]).contains("满意吗"));
    let seen = all.len();
    text(&app, CITIZEN, "SMx4", "2").await;
    let all = fake.wait_quiet(seen + 1).await;
    let seen = all.len();
    text(&app, CITIZEN, "SMx5", "没有了").await;
    let all = fake.wait_quiet(seen + 1).await;
    let thanks = joined(&all[seen..]);
    assert!(thanks.contains("不再重复回访"), "{thanks}");
    let rated = ticket(&app, &tokens, &number).await;
    assert_eq!(rated["status"], "signed");
    assert_eq!(rated["callback"]["final"], "已解决 · 基本满意");
    app.stop().await;
}

#[tokio::test]
async fn a_ticket_opened_on_telegram_gets_its_expiry_survey_there_and_the_answers_are_recorded() {
    use crate::fake_telegram::FakeBotApi;
    use crate::telegram::{CITIZEN, button, deliver, press, settings, text, texts};
    use hotline::channels::telegram::TelegramMode;
    let fake = FakeBotApi::start().await;
    let webhook = settings(&fake, TelegramMode::Webhook);
    let (app, tokens) = spawn_app_with_tokens(surveyed_now(webhook)).await;
    let report = "南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678";
    let summary = deliver(&app, &fake, text(80, CITIZEN, report)).await;
    let done = deliver(&app, &fake, press(81, CITIZEN, &button(&summary, "确认"))).await;
    let number = ticket_number(&texts(&done));
    unit_act(&app, &tokens, &number, "sign", json!({})).await;
    let deadline = deadline_of(&ticket(&app, &tokens, &number).await);

    // Nothing before the time limit; after it, the survey goes to the citizen's Telegram chat.
    assert_eq!(
        tick(&app, deadline - 1.minute()).await,
        CallbackCounts::default()
    );
    assert_eq!(tick(&app, deadline + 1.minute()).await.sent, 1);
    let is_survey = |c: &crate::fake_telegram::Call| {
        c.is("sendMessage")
            && c.params["text"]
                .as_str()
                .is_some_and(|t| t.contains("已超过办理时限"))
    };
    let calls = fake
        .wait_for("the expiry survey", |calls| calls.iter().any(is_survey))
        .await;
    let survey: Vec<_> = calls.into_iter().filter(is_survey).collect();
    assert_eq!(survey.len(), 1, "{survey:#?}");
    assert_eq!(survey[0].params["chat_id"], CITIZEN);
    let said = survey[0].params["text"].as_str().unwrap();
    assert!(said.contains(&number) && said.contains("督办"), "{said}");

    // Answered with the inline buttons, then a reason typed: recorded, the unit goes on.
    let asked = deliver(&app, &fake, press(82, CITIZEN, &button(&survey, "未解决"))).await;
    assert!(texts(&asked).contains("满意吗"), "{}", texts(&asked));
    let why = deliver(&app, &fake, press(83, CITIZEN, &button(&asked, "不满意"))).await;
    assert!(texts(&why).contains("继续督办"), "{}", texts(&why));
    let thanks = deliver(&app, &fake, text(84, CITIZEN, "晚上还是很吵")).await;
    assert!(
        texts(&thanks).contains("超时回访已记录"),
        "{}",
        texts(&thanks)
    );
    let rated = ticket(&app, &tokens, &number).await;
    assert_eq!(rated["status"], "signed", "the survey does not close it");
    assert_eq!(rated["callback"]["rounds"][0]["cause"], "expired");
    assert_eq!(rated["callback"]["final"], "未解决 · 不满意", "{rated}");
    assert!(!rated["events"].to_string().contains("重办"), "{rated}");
    assert_eq!(rates_row(&app, &tokens).await["counts"]["evaluated"], 1);
    app.stop().await;
}

#[tokio::test]
async fn an_expiry_survey_unfinished_at_closure_gives_way_to_the_closing_survey() {
    let (app, tokens) = app().await;
    let (session, number, deadline) = signed_ticket(&app, &tokens).await;
    assert_eq!(tick(&app, deadline + 1.minute()).await.sent, 1);
    delivered(&app, &session, "目前仍由").await;

    // The unit closes before the citizen has answered all: the expiry round ends without a
    // rating, and the late answers are told that the closing survey will ask.
    app.say(&session, "1").await;
    reply_and_close(&app, &tokens, &number).await;
    app.say(&session, "满意").await;
    let late = app.say(&session, "没有了").await;
    assert!(reply_text(&late).contains("就办结结果再向您回访"), "{late}");
    let closed = ticket(&app, &tokens, &number).await;
    assert_eq!(
        closed["callback"]["rounds"][0]["state"], "已转办结回访",
        "{closed}"
    );
    assert!(closed["callback"]["rounds"][0]["result"].is_null());
    assert_eq!(closed["callback"]["rounds"][1]["cause"], "closed");
    assert!(
        closed["events"].to_string().contains("改为办结回访"),
        "{closed}"
    );

    assert_eq!(tick(&app, Timestamp::now()).await.sent, 1);
    delivered(&app, &session, "已由").await;
    app.say(&session, "1").await;
    app.say(&session, "满意").await;
    let done = app.say(&session, "没有了").await;
    assert_eq!(done["ticket"]["status"], "已回访", "{done}");
    let surveyed = ticket(&app, &tokens, &number).await;
    assert_eq!(surveyed["callback"]["first"], "已解决 · 满意");
    assert_eq!(surveyed["callback"]["final"], "已解决 · 满意");
    // The expiry round's old entries find nothing more to do.
    assert_eq!(
        tick(&app, deadline + 72.hours()).await,
        CallbackCounts::default()
    );
    app.stop().await;
}

/// The real store and ticket service in a temp dir, without a server: for the schedule itself.
mod schedule {
    use std::sync::Arc;
    use std::time::Duration;

    use hotline::app::{Paths, build_ticket_service};
    use hotline::bots::Bots;
    use hotline::callback::worker::{CallbackCounts, CallbackWorker};
    use hotline::domain::lifecycle::{Actor, TicketAction};
    use hotline::domain::{Channel, Conversation, NewTicket, UnitId};
    use hotline::store::WebhookStore;
    use hotline::store::{CallbackStore, ConversationStore, OutboxStore, SledStore, TicketStore};
    use hotline::tickets::scheduler::Scheduler;
    use hotline::tickets::{Hooks, SurveyFinish};
    use hotline::webhooks::UnitWebhooks;
    use jiff::{Timestamp, ToSpan};

    use crate::helpers::{noise_ticket, repo, surveyed_now, test_settings};

    #[tokio::test]
    async fn the_expiry_moment_is_scheduled_the_supervision_rewrites_it_and_units_hear_each_step() {
        let data = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(data.path()).unwrap());
        let bots = Arc::new(Bots::load(&repo().join("bots")).unwrap());
        let paths = Paths {
            data: ".".into(),
            config: repo().join("config"),
        };
        let settings = surveyed_now(test_settings());
        let ready = Arc::new(tokio::sync::Notify::new());
        // nanshan-urban's case system takes webhooks: they are queued on the real store.
        let config = tempfile::tempdir().unwrap();
        let url = "[[webhook]]\nunit = \"nanshan-urban\"\nurl = \"https://cases.example\"\n";
        std::fs::write(config.path().join("webhooks.toml"), url).unwrap();
        let units = hotline::units::Units::load(&paths.config).unwrap();
        let secret = |_: &str| Some(hotline::config::Secret::new("s".into()));
        let webhooks = UnitWebhooks::load(config.path(), &units, secret).unwrap();
        let hooks = Hooks {
            hook: Arc::new(webhooks),
            store: store.clone(),
            ready: Arc::new(tokio::sync::Notify::new()),
        };
        let service = Arc::new(
            build_ticket_service(&settings, &paths, store.clone(), bots.clone(), ready)
                .unwrap()
                .with_hooks(hooks),
        );
        let worker = CallbackWorker {
            service: service.clone(),
            conversations: store.clone(),
            locks: Default::default(),
            reach: None,
            every: Duration::from_secs(60),
        };
        let scheduler = Scheduler {
            service: service.clone(),
            bots,
            every: Duration::from_secs(60),
        };
        let now = Timestamp::now();
        let conversation = Conversation::start(Channel::Web, now);
        let conversation_id = conversation.id;
        ConversationStore::save(&*store, conversation)
            .await
            .unwrap();
        let created = store
            .create(NewTicket {
                confidential: true,
                conversation: conversation_id,
                ..noise_ticket(now)
            })
            .await
            .unwrap();
        let ticket = service.on_created(created, now).await.unwrap();
        let n = ticket.number;
        let deadline = ticket.handling.deadline.expect("dispatched at once");
        let unit = Actor::Unit(UnitId::new("nanshan-urban"));
        service
            .act(n, TicketAction::Sign, &unit, now)
            .await
            .unwrap();
        // The dispatch wrote the moment; nothing else of this ticket is on the schedule.
        let due = store.due_callbacks(deadline + 1.hour(), 10).unwrap();
        assert_eq!(due, vec![(deadline, n)]);

        // As if dispatched by a version without expiry rounds: the entry is missing.
        store.unschedule_callback(deadline, n).await.unwrap();
        assert_eq!(
            worker.tick(deadline + 1.hour()).await,
            CallbackCounts::default()
        );
        // The 督办 writes it again; the next tick opens the round and sends its survey.
        assert_eq!(scheduler.tick(deadline + 1.hour()).await, (0, 1));
        let outbox_before = store.pending().unwrap();
        assert_eq!(worker.tick(deadline + 1.hour()).await.sent, 1);
        assert_eq!(store.pending().unwrap(), outbox_before + 1);
        let queued = store.due(deadline + 1.hour(), 10).unwrap();
        assert!(
            queued
                .iter()
                .any(|m| m.reply.text.contains("已超过办理时限")),
            "{queued:?}"
        );
        let surveyed = TicketStore::get(&*store, n).unwrap().unwrap();
        assert!(surveyed.callback.hotline_only, "保密: the hotline alone");
        assert_eq!(surveyed.callback.rounds.len(), 1);
        assert_eq!(surveyed.callback.rounds[0].expired, Some(deadline));
        // The unit heard of each step through the one save path, never of the citizen's words.
        let pending = ConversationStore::get(&*store, conversation_id)
            .unwrap()
            .unwrap()
            .pending_survey
            .expect("the survey waits on the conversation");
        assert!(pending.expired);
        let answered = hotline::domain::PendingSurvey {
            solved: Some(false),
            satisfaction: Some(hotline::domain::Satisfaction::Dissatisfied),
            ..pending
        };
        let reason = Some("凌晨还在营业".to_string());
        let finish = service
            .finish_survey(&answered, reason, deadline + 90.minutes())
            .await
            .unwrap();
        assert!(
            matches!(finish, SurveyFinish::StillHandled { settled: false, .. }),
            "{finish:?}"
        );
        let queued = store.due_webhooks(deadline + 2.hours(), 100).unwrap();
        let events: Vec<&str> = queued.iter().map(|d| d.event.as_str()).collect();
        for event in ["ticket.survey_due", "ticket.survey_sent", "ticket.survey"] {
            assert!(events.contains(&event), "{event} not in {events:?}");
        }
        assert!(!events.contains(&"ticket.rehandle"), "{events:?}");
        let result = queued.iter().find(|d| d.event == "ticket.survey").unwrap();
        let body: serde_json::Value = serde_json::from_str(&result.body).unwrap();
        assert_eq!(body["ticket"]["status"], "signed");
        assert_eq!(body["ticket"]["callback"]["rounds"][0]["cause"], "expired");
        assert_eq!(body["ticket"]["callback"]["final"], "未解决 · 不满意");
        assert!(!result.body.contains("凌晨还在营业"), "{}", result.body);

        // The 督办 fires once per deadline; nothing more to schedule or send.
        assert_eq!(scheduler.tick(deadline + 2.hours()).await, (0, 0));
        assert_eq!(
            worker.tick(deadline + 2.hours()).await,
            CallbackCounts::default()
        );
        store.close().unwrap();
    }
}
