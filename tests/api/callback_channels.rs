//! 回访 on the other channels, end to end: the survey leaves through the fake Telegram Bot API
//! (inline buttons, answered by callback queries) and the fake SMS provider (numbered choices,
//! answered by digits in signed Twilio webhooks); the ticket ends 已回访 with the rating kept.

use hotline::channels::telegram::TelegramMode;
use hotline::config::Settings;
use jiff::Timestamp;
use serde_json::Value;

use crate::fake_sms::FakeSms;
use crate::fake_telegram::FakeBotApi;
use crate::helpers::{TestApp, Tokens, spawn_app_with_tokens, surveyed_now, ticket_number};
use crate::{sms, telegram};

async fn spawn(settings: Settings) -> (TestApp, Tokens) {
    spawn_app_with_tokens(surveyed_now(settings)).await
}

async fn handle_and_close(app: &TestApp, tokens: &Tokens, number: &str) {
    app.handle_and_close(&tokens.unit, number).await;
}

async fn ticket(app: &TestApp, tokens: &Tokens, number: &str) -> Value {
    app.operator_ticket(&tokens.admin, number).await
}

#[tokio::test]
async fn a_ticket_opened_on_telegram_is_surveyed_with_inline_buttons_and_the_rating_is_kept() {
    use telegram::{CITIZEN, button, deliver, press, text, texts};
    let fake = FakeBotApi::start().await;
    let (app, tokens) = spawn(telegram::settings(&fake, TelegramMode::Webhook)).await;
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
    let number = ticket_number(&texts(&done));
    handle_and_close(&app, &tokens, &number).await;
    let closed = ticket(&app, &tokens, &number).await;
    assert_eq!(
        closed["callback"]["rounds"][0]["state"], "待发送",
        "{closed}"
    );

    let counts = app.callbacks.tick(Timestamp::now()).await;
    assert_eq!(counts.sent, 1, "{counts:?}");
    let calls = fake
        .wait_for("the survey", |calls| {
            calls.iter().any(|c| {
                c.is("sendMessage")
                    && c.params["text"]
                        .as_str()
                        .is_some_and(|t| t.contains("问题解决了吗"))
            })
        })
        .await;
    let survey: Vec<_> = calls
        .into_iter()
        .filter(|c| {
            c.is("sendMessage")
                && c.params["chat_id"] == CITIZEN
                && c.params["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("问题解决了吗"))
        })
        .collect();
    assert_eq!(survey.len(), 1, "{survey:#?}");
    assert!(
        survey[0].params["text"].as_str().unwrap().contains(&number),
        "{survey:#?}"
    );

    let asked = deliver(&app, &fake, press(62, CITIZEN, &button(&survey, "已解决"))).await;
    assert!(texts(&asked).contains("满意吗"), "{}", texts(&asked));
    let comment = deliver(&app, &fake, press(63, CITIZEN, &button(&asked, "满意"))).await;
    assert!(texts(&comment).contains("其他意见"), "{}", texts(&comment));
    let thanks = deliver(&app, &fake, text(64, CITIZEN, "处理得很及时，谢谢")).await;
    assert!(
        texts(&thanks).contains("感谢您的评价"),
        "{}",
        texts(&thanks)
    );
    // The presses were acknowledged, so the buttons stop spinning.
    assert!(
        fake.calls_to("answerCallbackQuery").len() >= 2,
        "{:#?}",
        fake.calls()
    );

    let surveyed = ticket(&app, &tokens, &number).await;
    assert_eq!(surveyed["status"], "surveyed", "{surveyed}");
    assert_eq!(surveyed["callback"]["final"], "已解决 · 满意", "{surveyed}");
    assert_eq!(surveyed["callback"]["rounds"][0]["state"], "已完成");
    assert!(
        surveyed.to_string().contains("处理得很及时"),
        "the comment is kept: {surveyed}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_ticket_opened_by_sms_is_surveyed_with_numbered_choices_answered_by_digits() {
    use sms::{CITIZEN, joined, text};
    let fake = FakeSms::start().await;
    let (app, tokens) = spawn(sms::sms_settings(&fake)).await;
    text(
        &app,
        CITIZEN,
        "SMc1",
        "南山区海景路3号楼下的烧烤店噪音扰民到凌晨",
    )
    .await;
    let summary = fake.wait_quiet(1).await;
    assert!(joined(&summary).contains("请核对"), "{}", joined(&summary));
    text(&app, CITIZEN, "SMc2", "确认").await;
    let created = fake.wait_quiet(summary.len() + 1).await;
    let number = ticket_number(&joined(&created[summary.len()..]));
    handle_and_close(&app, &tokens, &number).await;
    // The unit's reply and the closing notice reach the citizen first.
    let before = fake.wait_quiet(created.len() + 1).await.len();

    let counts = app.callbacks.tick(Timestamp::now()).await;
    assert_eq!(counts.sent, 1, "{counts:?}");
    let all = fake.wait_quiet(before + 1).await;
    let survey = joined(&all[before..]);
    assert!(survey.contains("问题解决了吗"), "{survey}");
    assert!(survey.contains(&number), "{survey}");
    assert!(
        survey.contains("回复1 已解决") && survey.contains("回复2 未解决"),
        "{survey}"
    );
    assert!(all[before..].iter().all(|s| s.to == CITIZEN));

    text(&app, CITIZEN, "SMc3", "1").await;
    let all = fake.wait_quiet(before + 2).await;
    let asked = joined(&all[before + 1..]);
    assert!(asked.contains("满意吗"), "{asked}");
    assert!(
        asked.contains("回复1 满意")
            && asked.contains("回复2 基本满意")
            && asked.contains("回复3 不满意"),
        "{asked}"
    );
    let seen = all.len();
    // A full-width digit, as Chinese phones often send it.
    text(&app, CITIZEN, "SMc4", "１").await;
    let all = fake.wait_quiet(seen + 1).await;
    let comment = joined(&all[seen..]);
    assert!(comment.contains("其他意见"), "{comment}");
    let seen = all.len();
    text(&app, CITIZEN, "SMc5", "没有了").await;
    let all = fake.wait_quiet(seen + 1).await;
    let thanks = joined(&all[seen..]);
    assert!(thanks.contains("感谢您的评价"), "{thanks}");

    let surveyed = ticket(&app, &tokens, &number).await;
    assert_eq!(surveyed["status"], "surveyed", "{surveyed}");
    assert_eq!(surveyed["callback"]["final"], "已解决 · 满意", "{surveyed}");
    assert_eq!(surveyed["callback"]["rounds"][0]["state"], "已完成");
    app.stop().await;
}
