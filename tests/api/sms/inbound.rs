//! Inbound: providers' webhooks verified, parsed, deduplicated and rate-limited; bad input refused
//! with nothing stored; logs without numbers or text.

use super::*;

#[tokio::test]
async fn a_text_signed_for_the_public_url_behind_a_proxy_is_answered_by_sms() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    let response = text(&app, CITIZEN, "SMa1", "身份证丢了怎么补办").await;
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/xml"), "{content_type}");
    assert!(response.text().await.unwrap().contains("<Response>"));

    let sent = fake.wait_quiet(1).await;
    assert!(
        sent.iter().all(|s| s.to == CITIZEN && s.from == FROM),
        "{sent:#?}"
    );
    assert!(sent.iter().all(|s| units(&s.body) <= 70), "{sent:#?}");
    let all = joined(&sent);
    assert!(all.contains("身份证"), "{all}");
    assert!(
        all.contains("回复1 有帮助") && all.contains("回复2 没帮助"),
        "{all}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bad_or_missing_signature_gets_403_and_changes_nothing() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    let params = twilio_params(CITIZEN, "SMbad1", "南山区路灯坏了");
    // Signed for the address we are bound to (what the Host header says behind a proxy).
    let bound = format!("{}/hooks/sms/twilio", app.base);
    let r = post_twilio(&app, &params, &bound, AUTH_TOKEN).await;
    assert_eq!(error_code(r, 403).await, "bad_signature");
    // Signed with another account's token.
    let public = format!("{PUBLIC_URL}/hooks/sms/twilio");
    let r = post_twilio(&app, &params, &public, "another-token").await;
    assert_eq!(error_code(r, 403).await, "bad_signature");
    // Signed, then tampered with.
    let signature = twilio::sign(AUTH_TOKEN, &public, &params);
    let mut tampered = params.clone();
    tampered[5].1 = "西城区路灯坏了".into();
    let r = app
        .client
        .post(format!("{}/hooks/sms/twilio", app.base))
        .header("X-Twilio-Signature", signature)
        .form(&tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 403).await, "bad_signature");
    // No signature at all.
    let r = app
        .client
        .post(format!("{}/hooks/sms/twilio", app.base))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 403).await, "bad_signature");

    assert_nothing_kept(app, &fake).await;
}

#[tokio::test]
async fn the_alibaba_cloud_uplink_push_is_verified_by_its_token_answered_and_deduplicated() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    let push = |id: Value, text: &str| {
        json!([{
            "phone_number": "13900139000",
            "content": text,
            "send_time": "2026-11-22 09:00:00",
            "dest_code": "1234",
            "sequence_id": id,
            "sign_name": "示例市12345"
        }])
        .to_string()
    };
    let r = post_aliyun(&app, Some("wrong"), push(json!(1001), "公积金怎么提取")).await;
    assert_eq!(error_code(r, 403).await, "bad_signature");
    let r = post_aliyun(&app, None, push(json!(1001), "公积金怎么提取")).await;
    assert_eq!(error_code(r, 403).await, "bad_signature");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.calls(), 0, "nothing answered for a refused push");

    let r = post_aliyun(
        &app,
        Some(ALIYUN_TOKEN),
        push(json!(1001), "公积金怎么提取"),
    )
    .await;
    assert_eq!(r.status(), 200);
    let ack: Value = r.json().await.unwrap();
    assert_eq!(ack["code"], 0);
    let sent = fake.wait_quiet(1).await;
    assert!(sent.iter().all(|s| s.to == "+8613900139000"), "{sent:#?}");
    assert!(joined(&sent).contains("公积金"), "{}", joined(&sent));

    // The platform pushes again (newer documents give sequence_id as a string): nothing changes.
    let r = post_aliyun(
        &app,
        Some(ALIYUN_TOKEN),
        push(json!("1001"), "公积金怎么提取"),
    )
    .await;
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent().len(), sent.len());

    for bad in [
        "not json".to_string(),
        json!({"phone_number": "13900139000"}).to_string(),
        json!([{"phone_number": "13900139000", "content": "你好"}]).to_string(),
        push(json!(null), "你好"),
        json!([{"phone_number": "x", "content": "你好", "sequence_id": 7}]).to_string(),
    ] {
        let r = post_aliyun(&app, Some(ALIYUN_TOKEN), bad.clone()).await;
        assert_eq!(error_code(r, 400).await, "malformed_payload", "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn malformed_unknown_and_oversized_webhooks_get_400_404_and_413_and_store_nothing() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    let public = format!("{PUBLIC_URL}/hooks/sms/twilio");
    let mut no_sid = twilio_params(CITIZEN, "", "你好");
    no_sid.retain(|(k, _)| k != "MessageSid" && k != "SmsSid");
    let mut bad_from = twilio_params(CITIZEN, "SMm2", "你好");
    bad_from[3].1 = "not-a-number".into();
    let mut no_from = twilio_params(CITIZEN, "SMm3", "你好");
    no_from.retain(|(k, _)| k != "From");
    for params in [no_sid, bad_from, no_from] {
        let r = post_twilio(&app, &params, &public, AUTH_TOKEN).await;
        assert_eq!(error_code(r, 400).await, "malformed_payload", "{params:?}");
    }

    let huge = twilio_params(CITIZEN, "SMbig", &"长".repeat(30_000));
    let r = post_twilio(&app, &huge, &public, AUTH_TOKEN).await;
    assert_eq!(error_code(r, 413).await, "body_too_large");
    let r = post_aliyun(&app, Some(ALIYUN_TOKEN), "[".repeat(70_000)).await;
    assert_eq!(error_code(r, 413).await, "body_too_large");

    let r = app
        .client
        .post(format!("{}/hooks/sms/nosuchprovider", app.base))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(r, 404).await, "sms_provider_not_configured");

    assert_nothing_kept(app, &fake).await;
}

#[tokio::test]
async fn a_retried_message_sid_is_answered_once() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    text(&app, CITIZEN, "SMretry", "身份证丢了怎么补办").await;
    let first = fake.wait_quiet(1).await;
    text(&app, CITIZEN, "SMretry", "身份证丢了怎么补办").await;
    text(&app, CITIZEN, "SMretry", "身份证丢了怎么补办").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(fake.sent().len(), first.len(), "{:#?}", fake.sent());

    let data = app.stop().await;
    let store = open_store(data.path());
    let id = store
        .chat_conversation(Channel::Sms, CITIZEN)
        .unwrap()
        .unwrap();
    let conversation = ConversationStore::get(&store, id).unwrap().unwrap();
    let citizen_turns = conversation
        .transcript
        .iter()
        .filter(|e| e.from == Speaker::Citizen)
        .count();
    assert_eq!(citizen_turns, 1);
}

#[tokio::test]
async fn texts_over_the_per_number_rate_limit_are_kept_flagged_and_not_answered() {
    let fake = FakeSms::start().await;
    let mut settings = sms_settings(&fake);
    settings.sms.rate_burst = 2;
    settings.sms.rate_per_minute = 1;
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    for (i, body) in ["你好", "您好", "身份证丢了怎么补办", "公积金怎么提取"]
        .iter()
        .enumerate()
    {
        text(&app, CITIZEN, &format!("SMr{i}"), body).await;
    }
    // Another number has its own allowance.
    text(&app, "+8613900139000", "SMother", "你好").await;
    fake.wait_quiet(3).await;
    let data = app.stop().await;
    let store = open_store(data.path());
    let limited: Vec<_> = store
        .records(20)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == RecordKind::RateLimited)
        .collect();
    assert_eq!(limited.len(), 2, "{limited:#?}");
    let id = store
        .chat_conversation(Channel::Sms, CITIZEN)
        .unwrap()
        .unwrap();
    assert!(limited.iter().all(|r| r.conversation == id));
    let conversation = ConversationStore::get(&store, id).unwrap().unwrap();
    let turns = conversation
        .transcript
        .iter()
        .filter(|e| e.from == Speaker::Citizen)
        .count();
    assert_eq!(turns, 2, "only the allowed texts were handled");
    let to_citizen = fake.sent().iter().filter(|s| s.to == CITIZEN).count();
    assert_eq!(to_citizen, 2, "{:#?}", fake.sent());
}

#[test]
fn sms_webhooks_leave_no_phone_number_or_text_in_the_logs() {
    let data = tempfile::tempdir().unwrap();
    let server = start_server_with_env(
        data.path(),
        &[
            ("RUST_LOG", "debug"),
            ("HOTLINE_TWILIO_AUTH_TOKEN", AUTH_TOKEN),
            ("HOTLINE__SMS__PUBLIC_URL", PUBLIC_URL),
        ],
    );
    let base = server.base.clone();
    let client = reqwest::blocking::Client::new();
    let secret_text = "我叫王小明，海景路烧烤店太吵";
    let params = twilio_params("+8613987654321", "SMlog1", secret_text);
    let url = format!("{PUBLIC_URL}/hooks/sms/twilio");
    for (token, expected) in [("wrong-token", 403), (AUTH_TOKEN, 200)] {
        let response = client
            .post(format!("{base}/hooks/sms/twilio"))
            .header("X-Twilio-Signature", twilio::sign(token, &url, &params))
            .form(&params)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), expected);
    }
    assert!(server.terminate().success());
    let logs = server_log(data.path());
    assert!(logs.contains("bad or missing signature"), "{logs}");
    for secret in ["13987654321", "王小明", "海景路", AUTH_TOKEN] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}

/// A refused webhook leaves no trace: nothing sent, no conversation, no record, nothing queued.
async fn assert_nothing_kept(app: TestApp, fake: &FakeSms) {
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.calls(), 0);
    let data = app.stop().await;
    let store = open_store(data.path());
    assert!(
        store
            .chat_conversation(Channel::Sms, CITIZEN)
            .unwrap()
            .is_none()
    );
    assert!(store.records(10).unwrap().is_empty());
    assert_eq!(store.pending().unwrap(), 0);
}
