//! The Telegram channel end to end: teloxide speaking real HTTP to a fake Bot API server, our
//! webhook called over real HTTP, the real store on disk.

use hotline::app::{Core, Paths};
use hotline::channels::telegram::TelegramMode;
use hotline::config::{Secret, Settings};
use hotline::domain::{Button, Channel, OutboundReply, OutboxMessage};
use hotline::store::OutboxStore;
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::fake_telegram::{Call, FakeBotApi};
use crate::helpers::{TestApp, create_token, repo, spawn_app_in, test_settings};

const TOKEN: &str = "123456:TEST-token";
pub(crate) const SECRET: &str = "test_secret-42";
pub(crate) const CITIZEN: i64 = 7001;

pub(crate) fn settings(fake: &FakeBotApi, mode: TelegramMode) -> Settings {
    let mut settings = test_settings();
    let t = &mut settings.telegram;
    t.enabled = true;
    t.mode = mode;
    t.api_url = fake.url.clone();
    t.public_url = Some("https://hotline.example.test".into());
    t.poll_timeout_secs = 1;
    t.token = Some(Secret::new(TOKEN.into()));
    t.webhook_secret = Some(Secret::new(SECRET.into()));
    settings
}

async fn app(fake: &FakeBotApi) -> TestApp {
    spawn_app_in(
        tempfile::tempdir().unwrap(),
        settings(fake, TelegramMode::Webhook),
    )
    .await
}

fn paths(data: &TempDir) -> Paths {
    Paths {
        data: data.path().to_path_buf(),
        config: repo().join("config"),
    }
}

fn user(id: i64) -> Value {
    json!({ "id": id, "is_bot": false, "first_name": "市民" })
}

fn message(update_id: i64, chat: i64, extra: Value) -> Value {
    let mut message = json!({
        "message_id": update_id,
        "date": 1_700_000_000,
        "chat": { "id": chat, "type": "private", "first_name": "市民" },
        "from": user(chat),
    });
    message
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    json!({ "update_id": update_id, "message": message })
}

pub(crate) fn text(update_id: i64, chat: i64, text: &str) -> Value {
    message(update_id, chat, json!({ "text": text }))
}

fn contact(update_id: i64, chat: i64, phone: &str, owner: i64) -> Value {
    message(
        update_id,
        chat,
        json!({ "contact": { "phone_number": phone, "first_name": "张", "user_id": owner } }),
    )
}

pub(crate) fn press(update_id: i64, chat: i64, data: &str) -> Value {
    json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("cb-{update_id}"),
            "from": user(chat),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": 1, "date": 1_700_000_000, "text": "…",
                "chat": { "id": chat, "type": "private", "first_name": "市民" }
            }
        }
    })
}

async fn post(
    app: &TestApp,
    secret: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/telegram/webhook", app.base))
        .header("content-type", "application/json")
        .body(body);
    if let Some(secret) = secret {
        request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
    }
    request.send().await.unwrap()
}

/// Delivers an update as Telegram would; returns the sendMessage calls it caused.
pub(crate) async fn deliver(app: &TestApp, fake: &FakeBotApi, update: Value) -> Vec<Call> {
    let before = fake.calls_to("sendMessage").len();
    let response = post(app, Some(SECRET), update.to_string()).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    fake.calls_to("sendMessage")[before..].to_vec()
}

pub(crate) fn texts(calls: &[Call]) -> String {
    calls
        .iter()
        .filter_map(|c| c.params["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The callback_data of the inline button labelled `label` in the calls.
pub(crate) fn button(calls: &[Call], label: &str) -> String {
    calls
        .iter()
        .filter_map(|c| c.params["reply_markup"]["inline_keyboard"].as_array())
        .flatten()
        .flat_map(|row| row.as_array().unwrap().iter())
        .find(|b| b["text"] == label)
        .and_then(|b| b["callback_data"].as_str())
        .unwrap_or_else(|| panic!("no button {label:?} in {calls:#?}"))
        .to_string()
}

fn offers_contact_button(calls: &[Call]) -> bool {
    calls
        .iter()
        .any(|c| c.params["reply_markup"]["keyboard"][0][0]["request_contact"] == true)
}

#[tokio::test]
async fn set_webhook_is_called_at_start_up_with_the_public_url_and_the_secret() {
    let fake = FakeBotApi::start().await;
    let app = app(&fake).await;
    let calls = fake
        .wait_for("setWebhook", |calls| {
            calls.iter().any(|c| c.is("setWebhook"))
        })
        .await;
    let set = calls.iter().find(|c| c.is("setWebhook")).unwrap();
    assert_eq!(set.bot, format!("bot{TOKEN}"));
    assert_eq!(
        set.params["url"],
        "https://hotline.example.test/telegram/webhook"
    );
    assert_eq!(set.params["secret_token"], SECRET);
    app.stop().await;
}

#[tokio::test]
async fn the_webhook_refuses_a_bad_secret_a_malformed_update_and_an_oversized_body_and_stores_nothing()
 {
    let fake = FakeBotApi::start().await;
    let app = app(&fake).await;
    let update = text(100, CITIZEN, "身份证丢了怎么补办").to_string();

    for secret in [
        None,
        Some("wrong"),
        Some("test_secret-4"),
        Some("test_secret-42x"),
    ] {
        let response = post(&app, secret, update.clone()).await;
        assert_eq!(response.status(), 403, "{secret:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "bad_secret_token");
    }
    let response = post(&app, Some(SECRET), "{\"update_id\": \"not json").await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "malformed_update");
    assert!(
        body["message"].as_str().unwrap().contains("Update"),
        "{body}"
    );

    let huge = text(100, CITIZEN, &"很".repeat(70_000)).to_string();
    let response = post(&app, Some(SECRET), huge).await;
    assert_eq!(response.status(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "body_too_large");
    assert!(fake.calls_to("sendMessage").is_empty(), "nothing answered");

    // Nothing was recorded: the same update id, delivered properly, is handled as new.
    let sent = deliver(&app, &fake, serde_json::from_str(&update).unwrap()).await;
    assert!(texts(&sent).contains("身份证"), "{}", texts(&sent));
    app.stop().await;
}

#[tokio::test]
async fn a_question_is_answered_through_send_message_in_escaped_html_with_inline_buttons() {
    let fake = FakeBotApi::start().await;
    let app = app(&fake).await;
    let sent = deliver(&app, &fake, text(1, CITIZEN, "身份证丢了怎么补办")).await;
    assert!(sent.len() >= 2, "{sent:#?}");
    assert!(sent.iter().all(|c| c.params["chat_id"] == CITIZEN));
    assert!(sent.iter().all(|c| c.params["parse_mode"] == "HTML"));
    assert!(texts(&sent).contains("身份证"), "{}", texts(&sent));
    // Feedback buttons as an inline keyboard.
    let helpful = button(&sent, "有帮助");
    assert!(helpful.len() <= 64);
    let thanks = deliver(&app, &fake, press(2, CITIZEN, &helpful)).await;
    assert!(texts(&thanks).contains("感谢"), "{}", texts(&thanks));
    let answered = fake.calls_to("answerCallbackQuery");
    assert_eq!(answered.len(), 1);
    assert_eq!(answered[0].params["callback_query_id"], "cb-2");

    // A stale or forged button is answered (with a notice) and changes nothing.
    let stale = deliver(&app, &fake, press(3, CITIZEN, "ffffffffffff:0")).await;
    assert!(stale.is_empty());
    let answered = fake.calls_to("answerCallbackQuery");
    assert_eq!(answered.len(), 2);
    assert!(
        answered[1].params["text"]
            .as_str()
            .unwrap()
            .contains("失效")
    );

    // What the citizen types is escaped, never markup.
    let echoed = deliver(&app, &fake, text(4, CITIZEN, "/status <b>1234567</b>")).await;
    assert!(!texts(&echoed).contains("<b>"), "{}", texts(&echoed));
    app.stop().await;
}

#[tokio::test]
async fn an_intake_dialogue_with_a_shared_contact_and_a_pressed_button_opens_a_ticket() {
    let fake = FakeBotApi::start().await;
    let app = app(&fake).await;
    let first = deliver(
        &app,
        &fake,
        text(
            10,
            CITIZEN,
            "南山区科技园路口的路灯坏了一个星期了，晚上很黑",
        ),
    )
    .await;
    let mut asked = first;
    if !texts(&asked).contains("电话") {
        asked = deliver(&app, &fake, text(11, CITIZEN, "南山区科技园科发路10号门口")).await;
    }
    assert!(texts(&asked).contains("电话"), "{}", texts(&asked));
    assert!(offers_contact_button(&asked), "{asked:#?}");

    // The citizen shares their own contact: the number is proven and answers the question.
    let summary = deliver(
        &app,
        &fake,
        contact(12, CITIZEN, "+86 138 0013 8000", CITIZEN),
    )
    .await;
    assert!(texts(&summary).contains("请核对"), "{}", texts(&summary));
    assert!(texts(&summary).contains("138"), "{}", texts(&summary));
    assert!(
        summary
            .iter()
            .any(|c| c.params["reply_markup"]["remove_keyboard"] == true),
        "the contact keyboard is removed once answered: {summary:#?}"
    );
    let confirm = button(&summary, "确认");
    let done = deliver(&app, &fake, press(13, CITIZEN, &confirm)).await;
    let reply = texts(&done);
    assert!(reply.contains("工单号"), "{reply}");
    let number: String = reply
        .split("工单号：")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();

    // /status shows it.
    let status = deliver(&app, &fake, text(14, CITIZEN, "/status")).await;
    assert!(texts(&status).contains(&number), "{}", texts(&status));

    // Another chat shares this citizen's contact: taken as a number, but nothing is proven,
    // so the ticket stays hidden there.
    let stranger = 7002;
    let shared = deliver(&app, &fake, contact(20, stranger, "13800138000", CITIZEN)).await;
    assert!(texts(&shared).contains("不是您本人"), "{}", texts(&shared));
    let status = deliver(
        &app,
        &fake,
        text(21, stranger, &format!("/status {number}")),
    )
    .await;
    assert!(!texts(&status).contains("处理"), "{}", texts(&status));
    assert!(texts(&status).contains("后四位"), "{}", texts(&status));

    // A third chat proves the same phone with its own contact: the ticket follows the citizen.
    let second_phone = 7003;
    let linked = deliver(
        &app,
        &fake,
        contact(30, second_phone, "8613800138000", second_phone),
    )
    .await;
    assert!(texts(&linked).contains("已确认"), "{}", texts(&linked));
    let status = deliver(
        &app,
        &fake,
        text(31, second_phone, &format!("/status {number}")),
    )
    .await;
    assert!(
        texts(&status).contains(&format!("工单{number}")),
        "{}",
        texts(&status)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_retried_update_is_answered_once() {
    let fake = FakeBotApi::start().await;
    let app = app(&fake).await;
    let first = deliver(&app, &fake, text(40, CITIZEN, "公积金怎么提取")).await;
    assert!(!first.is_empty());
    for update in [
        text(40, CITIZEN, "公积金怎么提取"),
        text(41, CITIZEN, "/help"),
    ] {
        deliver(&app, &fake, update.clone()).await;
        let again = deliver(&app, &fake, update).await;
        assert!(again.is_empty(), "a retry sends nothing: {again:#?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn start_help_status_and_cancel_commands_answer_from_the_templates() {
    let fake = FakeBotApi::start().await;
    let app = app(&fake).await;
    let start = deliver(&app, &fake, text(50, CITIZEN, "/start")).await;
    assert!(texts(&start).contains("12345"), "{}", texts(&start));
    let help = deliver(&app, &fake, text(51, CITIZEN, "/help@hotline_test_bot")).await;
    assert!(texts(&help).contains("/status"), "{}", texts(&help));
    let status = deliver(&app, &fake, text(52, CITIZEN, "/status")).await;
    assert!(texts(&status).contains("查询"), "{}", texts(&status));
    let nothing = deliver(&app, &fake, text(53, CITIZEN, "/cancel")).await;
    assert!(
        texts(&nothing).contains("没有正在办理"),
        "{}",
        texts(&nothing)
    );
    deliver(
        &app,
        &fake,
        text(54, CITIZEN, "南山区科技园路口的路灯坏了一个星期了"),
    )
    .await;
    let cancelled = deliver(&app, &fake, text(55, CITIZEN, "/cancel")).await;
    assert!(
        texts(&cancelled).contains("已取消"),
        "{}",
        texts(&cancelled)
    );
    let sticker = deliver(
        &app,
        &fake,
        message(56, CITIZEN, json!({ "sticker": null })),
    )
    .await;
    assert!(texts(&sticker).contains("文字"), "{}", texts(&sticker));
    app.stop().await;
}

#[tokio::test]
async fn long_polling_receives_an_update_answers_it_and_confirms_it_with_the_offset() {
    let fake = FakeBotApi::start().await;
    let app = spawn_app_in(
        tempfile::tempdir().unwrap(),
        settings(&fake, TelegramMode::Polling),
    )
    .await;
    fake.push_update(text(900, CITIZEN, "身份证丢了怎么补办"));
    let calls = fake
        .wait_for("the answer", |calls| {
            calls
                .iter()
                .any(|c| c.is("sendMessage") && c.params["chat_id"] == CITIZEN)
        })
        .await;
    assert!(
        calls.iter().any(|c| c.is("deleteWebhook")),
        "polling drops any webhook first"
    );
    assert!(texts(&fake.sent_to(CITIZEN)).contains("身份证"));
    // The next getUpdates confirms the update; it is never handled twice.
    fake.wait_for("the offset past the update", |calls| {
        calls
            .iter()
            .any(|c| c.is("getUpdates") && c.params["offset"] == 901)
    })
    .await;
    assert_eq!(fake.pending_updates(), 0);
    // The webhook route is not mounted in polling mode.
    let response = post(&app, Some(SECRET), text(901, CITIZEN, "你好").to_string()).await;
    assert_eq!(response.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_units_reply_reaches_the_citizen_on_telegram_through_the_outbox() {
    let fake = FakeBotApi::start().await;
    let data = tempfile::tempdir().unwrap();
    let unit = create_token(
        data.path(),
        hotline::auth::Role::Unit("nanshan-urban".into()),
    )
    .await;
    let app = spawn_app_in(data, settings(&fake, TelegramMode::Webhook)).await;
    let summary = deliver(
        &app,
        &fake,
        text(
            60,
            CITIZEN,
            "南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678",
        ),
    )
    .await;
    let done = deliver(&app, &fake, press(61, CITIZEN, &button(&summary, "确认"))).await;
    let number: String = texts(&done)
        .split("工单号：")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let unit_call = |action: &str, body: Value| {
        app.client
            .post(format!("{}/api/units/tickets/{number}/{action}", app.base))
            .bearer_auth(&unit)
            .json(&body)
            .send()
    };
    assert_eq!(unit_call("sign", json!({})).await.unwrap().status(), 200);
    let answer = "已约谈店主，晚上10点后停止营业，我们将持续巡查。";
    let response = unit_call("reply", json!({ "text": answer })).await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    fake.wait_for("the unit's reply", |calls| {
        calls.iter().any(|c| {
            c.is("sendMessage") && c.params["text"].as_str().unwrap_or("").contains(answer)
        })
    })
    .await;
    app.stop().await;
}

#[tokio::test]
async fn when_the_bot_api_is_down_the_replies_wait_in_the_outbox_and_leave_when_it_is_back() {
    let fake = FakeBotApi::start().await;
    let data = tempfile::tempdir().unwrap();
    let settings = settings(&fake, TelegramMode::Webhook);
    let app = spawn_app_in(data, settings.clone()).await;
    fake.wait_for("setWebhook", |calls| {
        calls.iter().any(|c| c.is("setWebhook"))
    })
    .await;
    fake.go_down().await;
    let sent = deliver(&app, &fake, text(70, CITIZEN, "身份证丢了怎么补办")).await;
    assert!(sent.is_empty());
    let data = app.stop().await;
    fake.come_back().await;

    // After a restart (the outbox is on disk), the worker delivers once the backoff has passed.
    let core = Core::build(&settings, &paths(&data)).unwrap();
    assert_eq!(
        core.store.pending().unwrap(),
        2,
        "the answer and the feedback question"
    );
    assert_eq!(core.outbox.run_once(Timestamp::now() + 1.hour()).await, 2);
    let sent = fake.sent_to(CITIZEN);
    assert!(texts(&sent).contains("身份证"), "{}", texts(&sent));
    assert!(
        button(&sent, "有帮助").len() <= 64,
        "buttons survive the outbox"
    );
    assert_eq!(core.outbox.run_once(Timestamp::now() + 2.hours()).await, 0);
    // The transcript holds each reply once.
    let questions = in_transcript(&core, "有帮助吗").await;
    assert_eq!(questions, 1);
    core.store.close().unwrap();
}

/// How many entries of the citizen's transcript contain `text`.
async fn in_transcript(core: &Core, text: &str) -> usize {
    let conversation = core
        .engine
        .stores()
        .conversations
        .get(conversation_of(core).await)
        .unwrap()
        .unwrap();
    conversation
        .transcript
        .iter()
        .filter(|e| e.text.contains(text))
        .count()
}

async fn conversation_of(core: &Core) -> hotline::domain::ConversationId {
    core.gateway
        .conversation_for(Channel::Telegram, &CITIZEN.to_string())
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn a_long_outbox_message_is_split_under_the_limit_and_its_buttons_work_when_pressed() {
    let fake = FakeBotApi::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&settings(&fake, TelegramMode::Webhook), &paths(&data)).unwrap();
    let telegram = core.telegram.clone().unwrap();
    let conversation = conversation_of(&core).await;
    let long =
        "<工单> A&B ".to_string() + &"您反映的问题已经处理完毕，感谢您的耐心等待😀。".repeat(250);
    let survey_option = "非常满意：承办单位处理及时、态度很好，问题已经彻底解决了，谢谢";
    let reply = OutboundReply::text(long.clone()).with_buttons(vec![
        Button::new("满意", survey_option),
        Button::new("不满意", "不满意"),
    ]);
    let message = OutboxMessage::new(
        conversation,
        Channel::Telegram,
        reply,
        None,
        Timestamp::now(),
    );
    core.store.enqueue(message).await.unwrap();
    assert_eq!(core.outbox.run_once(Timestamp::now()).await, 1);

    let sent = fake.sent_to(CITIZEN);
    assert!(sent.len() >= 2, "{} parts", sent.len());
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    for part in &sent {
        // Telegram counts after entity parsing: `&lt;` is one character.
        let text = unescape(part.params["text"].as_str().unwrap());
        assert!(
            text.encode_utf16().count() <= 4096,
            "{}",
            text.encode_utf16().count()
        );
    }
    assert!(
        sent[..sent.len() - 1]
            .iter()
            .all(|c| c.params["reply_markup"].is_null())
    );
    let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    assert!(
        texts(&sent).starts_with("&lt;工单&gt; A&amp;B"),
        "escaped for HTML"
    );
    assert_eq!(strip(&unescape(&texts(&sent))), strip(&long));

    // The survey button (a payload far over 64 bytes) reaches the engine as its payload.
    let data_of = button(&sent, "满意");
    assert!(data_of.len() <= 64 && survey_option.len() > 64);
    let update: teloxide::types::Update =
        serde_json::from_str(&press(80, CITIZEN, &data_of).to_string()).unwrap();
    telegram.handle_update(update).await.unwrap();
    let stored = core.engine.conversation(conversation).unwrap().unwrap();
    assert!(
        stored.transcript.iter().any(|e| e.text == survey_option),
        "the press arrives as the option's text"
    );
    assert_eq!(fake.calls_to("answerCallbackQuery").len(), 1);
    drop(telegram);
    core.store.close().unwrap();
}

#[test]
fn start_up_fails_with_one_line_when_telegram_is_enabled_without_a_token() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hotline.toml"),
        "[telegram]\nenabled = true\nmode = \"polling\"\n",
    )
    .unwrap();
    let err = Settings::load(dir.path(), std::iter::empty())
        .unwrap_err()
        .to_string();
    assert!(err.contains("HOTLINE_TELEGRAM_TOKEN"), "{err}");
    assert_eq!(err.lines().count(), 1);
    let ok = Settings::load(
        dir.path(),
        [("HOTLINE_TELEGRAM_TOKEN".to_string(), "1:x".to_string())],
    )
    .unwrap();
    assert!(format!("{:?}", ok.telegram).contains("Secret(***)"));
    assert!(!format!("{:?}", ok.telegram).contains("1:x"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_logs_a_rejected_webhook_without_text_phone_token_or_secret() {
    let fake = FakeBotApi::start().await;
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("RUST_LOG", "debug".to_string()),
        ("HOTLINE__TELEGRAM__ENABLED", "true".to_string()),
        ("HOTLINE__TELEGRAM__API_URL", fake.url.clone()),
        (
            "HOTLINE__TELEGRAM__PUBLIC_URL",
            "https://hotline.example.test".to_string(),
        ),
        ("HOTLINE_TELEGRAM_TOKEN", TOKEN.to_string()),
        ("HOTLINE_TELEGRAM_WEBHOOK_SECRET", SECRET.to_string()),
    ];
    let dir = data.path().to_path_buf();
    // The start blocks (it reads the server's first line); the fake Bot API keeps running.
    let server = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::helpers::start_server_with_env(&dir, &env)
    })
    .await
    .unwrap();
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let webhook = format!("{base}/telegram/webhook");
    let secret_text = "我叫王小明，南山区海景路5号楼下烧烤店太吵了，电话13987654321";
    let rejected = client
        .post(&webhook)
        .header("X-Telegram-Bot-Api-Secret-Token", "guess")
        .body(text(1, CITIZEN, secret_text).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 403);
    for update in [
        text(2, CITIZEN, secret_text),
        contact(3, CITIZEN, "13987654321", CITIZEN),
    ] {
        let response = client
            .post(&webhook)
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .body(update.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    fake.wait_for("setWebhook", |calls| {
        calls.iter().any(|c| c.is("setWebhook"))
    })
    .await;
    assert!(server.terminate().success());
    let logs = crate::helpers::server_log(data.path());
    assert!(logs.contains("telegram webhook rejected"), "{logs}");
    for secret in ["13987654321", "王小明", "烧烤店", TOKEN, SECRET] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}

/// A Bot API that accepts connections and never answers: a send hangs until it is dropped.
async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

fn update(value: Value) -> teloxide::types::Update {
    hotline::channels::telegram::webhook::parse_update(&serde_json::to_vec(&value).unwrap())
        .unwrap()
}

#[tokio::test]
async fn a_crash_while_sending_leaves_the_replies_queued_with_their_turn_and_they_leave_once() {
    let fake = FakeBotApi::start().await;
    let (hole, hole_task) = black_hole().await;
    let data = tempfile::tempdir().unwrap();
    let mut hanging = settings(&fake, TelegramMode::Webhook);
    hanging.telegram.api_url = hole;
    let core = Core::build(&hanging, &paths(&data)).unwrap();
    let telegram = core.telegram.clone().unwrap();
    let question = text(90, CITIZEN, "身份证丢了怎么补办");
    let handling = tokio::spawn(async move { telegram.handle_update(update(question)).await });
    // The turn and its two replies (the answer, the feedback question) are on disk before the
    // first send leaves; the process dies while that send hangs.
    for _ in 0..200 {
        if core.store.pending().unwrap() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(core.store.pending().unwrap(), 2);
    handling.abort();
    let _ = handling.await;
    core.store.close().unwrap();
    drop(core);
    hole_task.abort();

    let settings = settings(&fake, TelegramMode::Webhook);
    let core = Core::build(&settings, &paths(&data)).unwrap();
    let telegram = core.telegram.clone().unwrap();
    // Telegram retries the update it never saw acknowledged: nothing is handled or sent twice.
    telegram
        .handle_update(update(text(90, CITIZEN, "身份证丢了怎么补办")))
        .await
        .unwrap();
    assert!(fake.sent_to(CITIZEN).is_empty(), "{:#?}", fake.calls());
    // Not before the hand-over delay (the webhook's own send may still be running)...
    assert_eq!(core.outbox.run_once(Timestamp::now()).await, 0);
    // ...then the outbox sends each reply once.
    assert_eq!(core.outbox.run_once(Timestamp::now() + 1.hour()).await, 2);
    assert_eq!(core.outbox.run_once(Timestamp::now() + 2.hours()).await, 0);
    let sent = fake.sent_to(CITIZEN);
    assert!(texts(&sent).contains("身份证"), "{}", texts(&sent));
    assert_eq!(
        texts(&sent).matches("有帮助吗").count(),
        1,
        "{}",
        texts(&sent)
    );
    let questions = in_transcript(&core, "有帮助吗").await;
    assert_eq!(questions, 1, "the transcript holds each reply once");
    core.store.close().unwrap();
}

#[tokio::test]
async fn a_reply_sent_at_once_is_acknowledged_and_never_sent_again_by_the_outbox() {
    let fake = FakeBotApi::start().await;
    let data = tempfile::tempdir().unwrap();
    let settings = settings(&fake, TelegramMode::Webhook);
    let core = Core::build(&settings, &paths(&data)).unwrap();
    let telegram = core.telegram.clone().unwrap();
    telegram
        .handle_update(update(text(95, CITIZEN, "身份证丢了怎么补办")))
        .await
        .unwrap();
    telegram
        .handle_update(update(text(96, CITIZEN, "/start")))
        .await
        .unwrap();
    let sent = fake.sent_to(CITIZEN).len();
    assert!(sent >= 3, "{:#?}", fake.calls());
    assert_eq!(core.store.pending().unwrap(), 0, "acknowledged");
    core.store.close().unwrap();
    drop(telegram);
    drop(core);

    let core = Core::build(&settings, &paths(&data)).unwrap();
    assert_eq!(core.outbox.run_once(Timestamp::now() + 2.hours()).await, 0);
    assert_eq!(fake.sent_to(CITIZEN).len(), sent);
    core.store.close().unwrap();
}
