//! 回访 on the web chat over real HTTP (the worker run when the test says): the survey, 重办 and
//! the second callback, unclear replies asked about once, a restart mid-survey; the rates at the
//! admin endpoint. Timing (quiet hours, reminder, 未联系上) is in `callback_schedule`.

use std::time::Duration;

use hotline::callback::worker::CallbackCounts;
use jiff::{Timestamp, ToSpan};
use serde_json::Value;

use crate::helpers::{
    TestApp, Tokens, reply_text, spawn_app_in, spawn_app_with_tokens, surveyed_now, test_settings,
};

async fn app() -> (TestApp, Tokens) {
    spawn_app_with_tokens(survey_settings()).await
}

/// No delay and no quiet hours here (those are tested below at explicit times); the worker runs
/// when the test says, the background loop is kept out of the way.
fn survey_settings() -> hotline::config::Settings {
    surveyed_now(test_settings())
}

async fn call(app: &TestApp, token: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    crate::helpers::call(&app.client, format!("{}{path}", app.base), token, body).await
}

/// A noise complaint in Nanshan (dispatched at once to nanshan-urban): (session, number).
async fn open_ticket(app: &TestApp) -> (String, String) {
    app.open_ticket("南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678")
        .await
}

/// The unit signs, replies and closes: 办结, which opens a callback round.
async fn handle_and_close(app: &TestApp, tokens: &Tokens, number: &str) {
    app.handle_and_close(&tokens.unit, number).await;
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
    app.operator_ticket(&tokens.admin, number).await
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
