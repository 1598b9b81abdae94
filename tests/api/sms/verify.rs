//! The web chat's phone proof: a one-time code sent by SMS.

use super::*;

async fn post_json(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The six digits of the last code sent.
fn last_code(fake: &FakeSms) -> String {
    let sent = fake.sent();
    let body = &sent.last().unwrap().body;
    let code: String = body
        .split("验证码是")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    assert_eq!(code.len(), 6, "{body}");
    code
}

#[tokio::test]
async fn a_phone_typed_into_the_web_chat_links_nothing_until_proven_by_a_code_sent_by_sms() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    // A ticket opened by SMS from the citizen's phone.
    text(
        &app,
        CITIZEN,
        "SMp1",
        "南山区海景路3号楼下的烧烤店噪音扰民到凌晨",
    )
    .await;
    let summary = fake.wait_quiet(1).await;
    text(&app, CITIZEN, "SMp2", "确认").await;
    let created = fake.wait_quiet(summary.len() + 1).await;
    let receipt = joined(&created[summary.len()..]);
    let number: String = receipt
        .split("工单号：")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();

    // On the web chat, typing the phone proves nothing: the ticket stays hidden.
    let session = app.new_session().await;
    let asked = app.say(&session, &format!("查询{number}")).await;
    assert!(
        crate::helpers::reply_text(&asked).contains("后四位"),
        "{asked}"
    );
    app.say(&session, "取消").await;

    let verify = format!("/api/chat/sessions/{session}/verify-phone");
    let confirm = format!("{verify}/confirm");
    let r = post_json(&app, &confirm, json!({ "code": "123456" })).await;
    assert_eq!(error_code(r, 400).await, "no_code");
    let r = post_json(&app, &verify, json!({ "phone": "12345" })).await;
    assert_eq!(error_code(r, 400).await, "invalid_phone");

    let before = fake.sent().len();
    let r = post_json(&app, &verify, json!({ "phone": "13800138000" })).await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["sent_to"], "138****8000");
    let sent = fake.sent();
    assert_eq!(sent.len(), before + 1);
    assert_eq!(sent[before].to, CITIZEN);
    let code = last_code(&fake);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r = post_json(&app, &confirm, json!({ "code": wrong })).await;
    assert_eq!(error_code(r, 400).await, "wrong_code");
    let r = post_json(&app, &confirm, json!({ "code": code })).await;
    assert_eq!(r.status(), 200);

    let shown = app.say(&session, &format!("查询{number}")).await;
    let shown = crate::helpers::reply_text(&shown);
    assert!(
        shown.contains(&number) && !shown.contains("后四位"),
        "{shown}"
    );
    // The code was used up.
    let r = post_json(&app, &confirm, json!({ "code": code })).await;
    assert_eq!(error_code(r, 400).await, "no_code");
    app.stop().await;
}

#[tokio::test]
async fn a_verification_code_is_void_after_too_many_wrong_tries_and_codes_are_rate_limited() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    let session = app.new_session().await;
    let verify = format!("/api/chat/sessions/{session}/verify-phone");
    let confirm = format!("{verify}/confirm");
    let r = post_json(&app, &verify, json!({ "phone": "+86 139 0013 9000" })).await;
    assert_eq!(r.status(), 202);
    let code = last_code(&fake);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let r = post_json(&app, &confirm, json!({ "code": wrong })).await;
        assert_eq!(error_code(r, 400).await, "wrong_code");
    }
    let r = post_json(&app, &confirm, json!({ "code": wrong })).await;
    assert_eq!(error_code(r, 429).await, "too_many_attempts");
    let r = post_json(&app, &confirm, json!({ "code": code })).await;
    assert_eq!(
        error_code(r, 400).await,
        "no_code",
        "the right code no longer works"
    );

    // Three codes at once, then the number must wait.
    for _ in 0..2 {
        let r = post_json(&app, &verify, json!({ "phone": "13900139000" })).await;
        assert_eq!(r.status(), 202);
    }
    let r = post_json(&app, &verify, json!({ "phone": "13900139000" })).await;
    assert_eq!(error_code(r, 429).await, "too_many_codes");
    let unknown = "/api/chat/sessions/00000000-0000-7000-8000-000000000000/verify-phone";
    let r = post_json(&app, unknown, json!({ "phone": "13900139000" })).await;
    assert_eq!(error_code(r, 404).await, "unknown_session");
    app.stop().await;
}
