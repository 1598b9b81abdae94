//! The SMS channel end to end: providers' webhooks over real HTTP, the real store on disk, and a
//! fake provider (a real local server speaking Twilio's API) receiving what we send.

use std::process::{Command, Stdio};
use std::time::Duration;

use hotline::app::{Core, Paths};
use hotline::auth::Role;
use hotline::channels::sms::number::SmsNumber;
use hotline::channels::sms::provider::SmsInbound;
use hotline::channels::sms::segment::units;
use hotline::channels::sms::{Outcome, SmsSecrets, twilio};
use hotline::config::{Secret, Settings};
use hotline::domain::{Channel, OutboundReply, OutboxMessage, RecordKind, Speaker};
use hotline::store::{ChatStore, ConversationStore, OutboxStore, RecordStore, SledStore};
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::fake_sms::{ACCOUNT_SID, AUTH_TOKEN, FROM, FakeSms};
use crate::helpers::{TestApp, create_token, hotline_command, repo, spawn_app_in, test_settings};

/// The address Twilio calls: a reverse proxy in front of us, under a path prefix.
const PUBLIC_URL: &str = "https://12345.example.gov.cn/gateway";
const WEB_URL: &str = "https://12345.example.gov.cn/";
const ALIYUN_TOKEN: &str = "uplink-token-for-tests";
const CITIZEN: &str = "+8613800138000";

fn sms_settings(fake: &FakeSms) -> Settings {
    let mut settings = test_settings();
    settings.sms.public_url = PUBLIC_URL.into();
    settings.sms.web_url = WEB_URL.into();
    settings.sms.api_base = fake.base.clone();
    settings.sms.from = FROM.into();
    settings.sms.send_retries = 1;
    settings.sms.send_retry_delay_ms = 10;
    settings.sms.secrets = SmsSecrets {
        twilio_account_sid: Some(Secret::new(ACCOUNT_SID.into())),
        twilio_auth_token: Some(Secret::new(AUTH_TOKEN.into())),
        aliyun_callback_token: Some(Secret::new(ALIYUN_TOKEN.into())),
    };
    settings
}

async fn sms_app(fake: &FakeSms) -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap(), sms_settings(fake)).await
}

fn twilio_params(from: &str, sid: &str, body: &str) -> Vec<(String, String)> {
    [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("To", FROM),
        ("Body", body),
        ("NumSegments", "1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}

/// Posts Twilio's webhook to the app, signed for `signed_url` with `token`.
async fn post_twilio(
    app: &TestApp,
    params: &[(String, String)],
    signed_url: &str,
    token: &str,
) -> reqwest::Response {
    let signature = twilio::sign(token, signed_url, params);
    app.client
        .post(format!("{}/hooks/sms/twilio", app.base))
        .header("X-Twilio-Signature", signature)
        .form(params)
        .send()
        .await
        .unwrap()
}

/// A citizen's text as Twilio delivers it through the proxy.
async fn text(app: &TestApp, from: &str, sid: &str, body: &str) -> reqwest::Response {
    let url = format!("{PUBLIC_URL}/hooks/sms/twilio");
    let response = post_twilio(app, &twilio_params(from, sid, body), &url, AUTH_TOKEN).await;
    assert_eq!(response.status(), 200, "texting {body:?}");
    response
}

async fn post_aliyun(app: &TestApp, token: Option<&str>, body: String) -> reqwest::Response {
    let url = match token {
        Some(token) => format!("{}/hooks/sms/aliyun?token={token}", app.base),
        None => format!("{}/hooks/sms/aliyun", app.base),
    };
    app.client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().is_some_and(|m| m.len() > 10),
        "{body}"
    );
    body["code"].as_str().unwrap().to_string()
}

fn joined(sent: &[crate::fake_sms::Sent]) -> String {
    sent.iter()
        .map(|s| s.body.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn open_store(data: &std::path::Path) -> SledStore {
    SledStore::open(data).unwrap()
}

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
    assert_eq!(store.pending().unwrap(), 0);
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
async fn a_numbered_choice_answered_with_a_digit_picks_that_option() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    text(&app, CITIZEN, "SMc1", "身份证丢了怎么补办").await;
    let asked = fake.wait_quiet(1).await;
    assert!(
        joined(&asked).contains("回复1 有帮助"),
        "{}",
        joined(&asked)
    );

    // A full-width digit, as many phone keyboards type it.
    text(&app, CITIZEN, "SMc2", "１").await;
    let thanked = fake.wait_quiet(asked.len() + 1).await;
    let reply = joined(&thanked[asked.len()..]);
    assert!(reply.contains("感谢您的反馈"), "{reply}");

    text(&app, CITIZEN, "SMc3", "公积金怎么提取").await;
    let asked_again = fake.wait_quiet(thanked.len() + 1).await;
    assert!(joined(&asked_again[thanked.len()..]).contains("回复2 没帮助"));
    text(&app, CITIZEN, "SMc4", "2").await;
    let sorry = fake.wait_quiet(asked_again.len() + 1).await;
    let reply = joined(&sorry[asked_again.len()..]);
    assert!(reply.contains("抱歉没能帮到您"), "{reply}");
    assert!(reply.contains("回复1 登记诉求"), "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn a_units_long_reply_reaches_the_citizen_by_sms_segmented_capped_and_linked() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let app = spawn_app_in(data, sms_settings(&fake)).await;

    text(
        &app,
        CITIZEN,
        "SMt1",
        "南山区海景路3号楼下的烧烤店噪音扰民到凌晨",
    )
    .await;
    let summary = fake.wait_quiet(1).await;
    assert!(joined(&summary).contains("请核对"), "{}", joined(&summary));
    assert!(
        joined(&summary).contains("电话：138****8000"),
        "the sender's number is the proven contact: {}",
        joined(&summary)
    );
    text(&app, CITIZEN, "SMt2", "确认").await;
    let created = fake.wait_quiet(summary.len() + 1).await;
    let receipt = joined(&created[summary.len()..]);
    let number: String = receipt
        .split("工单号：")
        .nth(1)
        .unwrap_or_else(|| panic!("no ticket number in {receipt}"))
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();

    let path = format!("{}/api/units/tickets/{number}", app.base);
    let signed = app
        .client
        .post(format!("{path}/sign"))
        .bearer_auth(&unit)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    let answer = "经现场核查，该烧烤店确有夜间经营噪音超标的情况。我局已依法约谈店主，责令其每晚十点后停止露天经营，并加装隔音设施。".repeat(4);
    let replied = app
        .client
        .post(format!("{path}/reply"))
        .bearer_auth(&unit)
        .json(&json!({ "text": answer }))
        .send()
        .await
        .unwrap();
    assert_eq!(replied.status(), 200);

    let all = fake.wait_quiet(created.len() + 4).await;
    let reply = &all[created.len()..];
    assert_eq!(reply.len(), 4, "capped at [sms] max_segments: {reply:#?}");
    for (i, segment) in reply.iter().enumerate() {
        assert!(units(&segment.body) <= 70, "{}", segment.body);
        assert!(
            segment.body.starts_with(&format!("({}/4)", i + 1)),
            "{}",
            segment.body
        );
        assert_eq!(segment.to, CITIZEN);
    }
    assert!(reply[0].body.contains(&number), "{}", reply[0].body);
    let last = &reply[3].body;
    assert!(
        last.contains("全文请见：https://12345.example.gov.cn"),
        "{last}"
    );
    app.stop().await;
}

fn paths(data: &std::path::Path) -> Paths {
    Paths {
        data: data.to_path_buf(),
        config: repo().join("config"),
    }
}

fn inbound(from: &str, id: &str, text: &str) -> SmsInbound {
    SmsInbound {
        from: SmsNumber::parse(from, "86").unwrap(),
        message_id: format!("test:{id}"),
        text: text.to_string(),
    }
}

async fn queue_later(core: &Core, text: &str) {
    let conversation = core
        .gateway
        .conversation_for(Channel::Sms, CITIZEN)
        .await
        .unwrap();
    core.store
        .enqueue(OutboxMessage::new(
            conversation.id,
            Channel::Sms,
            OutboundReply::text(text),
            None,
            Timestamp::now(),
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn after_opting_out_nothing_more_is_sent_until_the_citizen_subscribes_again() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    let sms = core.sms.clone();
    let deliver = || core.outbox.run_once(Timestamp::now());

    assert_eq!(
        sms.receive(inbound(CITIZEN, "o1", "退訂")).await.unwrap(),
        Outcome::OptedOut
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 1);
    assert!(fake.sent()[0].body.contains("退订"), "{:?}", fake.sent());
    // Confirmed once: TD again sends nothing.
    assert_eq!(
        sms.receive(inbound(CITIZEN, "o2", "ＴＤ")).await.unwrap(),
        Outcome::OptedOut
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 1);

    // A unit's later reply is dropped, not held.
    queue_later(&core, "【工单答复】路灯已修复。").await;
    deliver().await;
    assert_eq!(fake.sent().len(), 1);
    assert_eq!(core.store.pending().unwrap(), 0);

    assert_eq!(
        sms.receive(inbound(CITIZEN, "o3", "订阅")).await.unwrap(),
        Outcome::OptedIn
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 2);
    assert!(fake.sent()[1].body.contains("恢复"), "{:?}", fake.sent());
    queue_later(&core, "【工单答复】路灯已修复。").await;
    deliver().await;
    assert_eq!(fake.sent().len(), 3);

    // STOP again, then any ordinary message subscribes again and is answered.
    assert_eq!(
        sms.receive(inbound(CITIZEN, "o4", "stop")).await.unwrap(),
        Outcome::OptedOut
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 4);
    let answered = sms
        .receive(inbound(CITIZEN, "o5", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert_eq!(answered, Outcome::Answered);
    deliver().await;
    assert!(fake.sent().len() > 4);
    assert!(fake.sent()[4].body.contains("身份证"), "{:?}", fake.sent());
    core.store.close().unwrap();
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

#[tokio::test]
async fn while_the_provider_is_down_intake_goes_on_and_the_outbox_delivers_later_without_repeats() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    fake.set_down(true);
    let outcome = core
        .sms
        .receive(inbound(CITIZEN, "d1", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Answered,
        "intake does not wait for the provider"
    );
    assert_eq!(core.outbox.run_once(Timestamp::now()).await, 0);
    assert!(fake.calls() >= 1);
    assert!(fake.sent().is_empty());
    assert_eq!(core.store.pending().unwrap(), 1);

    fake.set_down(false);
    let later = Timestamp::now() + 2.hours();
    assert_eq!(core.outbox.run_once(later).await, 1);
    assert!(joined(&fake.sent()).contains("身份证"));
    let before = fake.sent().len();

    // A long message; the provider fails after two segments, then comes back.
    queue_later(
        &core,
        &"办理居住证需要携带身份证原件和租房合同，到社区服务中心填写申请表。".repeat(8),
    )
    .await;
    fake.go_down_after(2);
    core.outbox.run_once(later).await;
    assert_eq!(fake.sent().len(), before + 2);
    fake.set_down(false);
    core.outbox.run_once(later + 2.hours()).await;
    let segments: Vec<String> = fake.sent()[before..]
        .iter()
        .map(|s| s.body.clone())
        .collect();
    assert_eq!(segments.len(), 4, "{segments:#?}");
    for (i, segment) in segments.iter().enumerate() {
        assert!(
            segment.starts_with(&format!("({}/4)", i + 1)),
            "{segments:#?}"
        );
    }
    assert_eq!(core.store.pending().unwrap(), 0);
    core.store.close().unwrap();
}

#[test]
fn sms_webhooks_leave_no_phone_number_or_text_in_the_logs() {
    let data = tempfile::tempdir().unwrap();
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = hotline_command(data.path())
        .env("RUST_LOG", "debug")
        .env("HOTLINE_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
        .env("HOTLINE__SMS__PUBLIC_URL", PUBLIC_URL)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .trim()
        .trim_start_matches("hotline listening on ")
        .to_string();
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
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let logs = std::fs::read_to_string(log.path()).unwrap();
    assert!(logs.contains("bad or missing signature"), "{logs}");
    for secret in ["13987654321", "王小明", "海景路", AUTH_TOKEN] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}

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

#[tokio::test]
async fn options_of_a_later_message_such_as_a_survey_are_numbered_and_a_digit_answers_them() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    let conversation = core
        .gateway
        .conversation_for(Channel::Sms, CITIZEN)
        .await
        .unwrap();
    let survey = OutboundReply::text("您反映的问题是否已解决？").with_buttons(vec![
        hotline::domain::Button::new("已解决", "survey:solved"),
        hotline::domain::Button::new("未解决", "survey:unsolved"),
    ]);
    core.store
        .enqueue(OutboxMessage::new(
            conversation.id,
            Channel::Sms,
            survey,
            None,
            Timestamp::now(),
        ))
        .await
        .unwrap();
    core.outbox.run_once(Timestamp::now()).await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains("回复1 已解决") && sent[0].body.contains("回复2 未解决"));

    // The citizen answers "２": the engine receives the second option's payload.
    core.sms
        .receive(inbound(CITIZEN, "s1", "２"))
        .await
        .unwrap();
    let stored = core.engine.conversation(conversation.id).unwrap().unwrap();
    let said: Vec<&str> = stored
        .transcript
        .iter()
        .filter(|e| e.from == Speaker::Citizen)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(said, ["survey:unsolved"]);
    core.store.close().unwrap();
}

#[tokio::test]
async fn a_number_the_provider_reports_unsubscribed_is_recorded_as_opted_out_not_retried() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    fake.unsubscribe(CITIZEN);
    queue_later(&core, "【工单答复】路灯已修复。").await;
    core.outbox.run_once(Timestamp::now()).await;
    assert_eq!(core.store.pending().unwrap(), 0, "dropped, not retried");
    let calls = fake.calls();
    assert_eq!(calls, 1);
    // Nothing more is even tried for that number.
    queue_later(&core, "【工单答复】已复查。").await;
    core.outbox.run_once(Timestamp::now()).await;
    assert_eq!(fake.calls(), calls);
    assert!(fake.sent().is_empty());
    core.store.close().unwrap();
}
