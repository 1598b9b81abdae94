//! An Open311 request is a ticket like any other and gets its 回访: GeoReport carries nothing back
//! to the requester, so the survey goes by SMS to the phone the request gave (when SMS is
//! configured) or through the integrator's app when it relays messages to its user, and is
//! recorded as 未联系上 when nothing reaches the citizen — never dropped,
//! never counted as satisfied. The request and its Open311 record are stored together, and a
//! retry that carries the first attempt's `Idempotency-Key` files nothing new.

use hotline::auth::Role;
use hotline::domain::{Category, Channel, ConversationId, NewTicket};
use hotline::open311::RequestRecord;
use hotline::store::{Open311Store, SledStore, TicketStore};
use jiff::Timestamp;
use serde_json::Value;

use crate::fake_sms::FakeSms;
use crate::helpers::{
    TestApp, Tokens, channel_message, create_token, get_json, handle_and_close, operator_ticket,
    reply_text, spawn_app_in, surveyed_now, test_settings,
};
use crate::receiver::{Receiver, config_dir, start_with};
use crate::sms::{CITIZEN, joined, sms_settings, text};

/// A noise complaint posted by a civic app for its user `user-7`, with `phone` if any.
fn request<'a>(key: &'a str, phone: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("api_key", key),
        ("service_code", "noise"),
        ("description", "楼下烧烤店每天营业到凌晨两点，吵得睡不着"),
        ("address_string", "南山区滨河小区3栋"),
        ("attribute[district]", "南山区"),
        ("account_id", "user-7"),
    ];
    form.extend(phone.map(|p| ("phone", p)));
    form
}

async fn post_request(app: &TestApp, form: &[(&str, &str)]) -> String {
    let response = app
        .client
        .post(format!("{}/open311/v2/requests.json", app.base))
        .form(form)
        .send()
        .await
        .unwrap();
    created_id(response).await
}

async fn read_back(app: &TestApp, id: &str) -> Value {
    read_request(&app.client, &app.base, id).await
}

/// The request as GeoReport gives it back (public: no key).
async fn read_request(client: &reqwest::Client, base: &str, id: &str) -> Value {
    let (status, read) = get_json(client, format!("{base}/open311/v2/requests/{id}.json")).await;
    assert_eq!(status, 200);
    read[0].clone()
}

/// A store with an integrator key and the unit's and admin's tokens; the app on it.
async fn app_with(settings: hotline::config::Settings) -> (TestApp, String, Tokens) {
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("open311".into())).await;
    let tokens = Tokens::create(data.path()).await;
    (
        spawn_app_in(data, surveyed_now(settings)).await,
        key,
        tokens,
    )
}

#[tokio::test]
async fn an_open311_request_is_surveyed_by_sms_at_the_phone_it_gave_and_read_back_closed() {
    let fake = FakeSms::start().await;
    let (app, key, tokens) = app_with(sms_settings(&fake)).await;
    let id = post_request(&app, &request(&key, Some("13800138000"))).await;
    assert_eq!(read_back(&app, &id).await["status"], "open");
    app.handle_and_close(&tokens.unit, &id).await;
    // The unit's answer went to the civic app (where the request came from), not by SMS.
    assert!(fake.sent().is_empty(), "{:?}", fake.sent());

    let counts = app.callbacks.tick(Timestamp::now()).await;
    assert_eq!(counts.sent, 1, "{counts:?}");
    let survey = fake.wait_quiet(1).await;
    assert!(survey.iter().all(|s| s.to == CITIZEN), "{survey:?}");
    let asked = joined(&survey);
    assert!(
        asked.contains("问题解决了吗") && asked.contains(&id),
        "{asked}"
    );

    text(&app, CITIZEN, "o311-1", "1").await;
    let seen = fake.wait_quiet(survey.len() + 1).await.len();
    text(&app, CITIZEN, "o311-2", "2").await;
    let seen = fake.wait_quiet(seen + 1).await.len();
    text(&app, CITIZEN, "o311-3", "没有了").await;
    let thanks = fake.wait_quiet(seen + 1).await;
    assert!(
        joined(&thanks[seen..]).contains("感谢您的评价"),
        "{}",
        joined(&thanks)
    );

    let ticket = app.operator_ticket(&tokens.admin, &id).await;
    assert_eq!(ticket["status"], "surveyed", "{ticket}");
    assert_eq!(ticket["callback"]["final"], "已解决 · 基本满意");
    let read = read_back(&app, &id).await;
    assert_eq!(read["status"], "closed", "{read}");
    assert_eq!(read["service_code"], "noise");
    // Nothing is left for the worker: the round is over.
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(72);
    assert_eq!(app.callbacks.tick(later).await, Default::default());
    app.stop().await;
}

#[tokio::test]
async fn an_open311_request_nobody_can_reach_is_recorded_unreachable_not_dropped() {
    // No SMS configured, and the repository's Open311 integrator takes no messages back.
    let (app, key, tokens) = app_with(test_settings()).await;
    let id = post_request(&app, &request(&key, Some("13800138000"))).await;
    app.handle_and_close(&tokens.unit, &id).await;

    let counts = app.callbacks.tick(Timestamp::now()).await;
    assert_eq!((counts.sent, counts.unreachable), (0, 1), "{counts:?}");
    let ticket = app.operator_ticket(&tokens.admin, &id).await;
    assert_eq!(ticket["status"], "surveyed", "{ticket}");
    assert_eq!(ticket["callback"]["final"], "未联系上");
    let events = ticket["events"].to_string();
    assert!(events.contains("没有可联系市民的渠道"), "{events}");
    assert_eq!(read_back(&app, &id).await["status"], "closed");
    // The rates count it as evaluated and not satisfied.
    let today = hotline::clock::today();
    let (status, rates) = crate::helpers::call(
        &app.client,
        format!(
            "{}/api/admin/reports/rates?from={today}&to={today}",
            app.base
        ),
        &tokens.admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{rates}");
    assert_eq!(rates["rows"][0]["counts"]["evaluated"], 1, "{rates}");
    assert_eq!(rates["rows"][0]["satisfied_rate"], 0.0, "{rates}");
    app.stop().await;
}

/// Posts `form` with an `Idempotency-Key`, as a client that may retry does.
async fn post_keyed(app: &TestApp, form: &[(&str, &str)], key: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/open311/v2/requests.json", app.base))
        .header("Idempotency-Key", key)
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn created_id(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 200);
    let created: Value = response.json().await.unwrap();
    created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_request_and_its_record_are_stored_together_and_a_retry_with_its_key_files_nothing_new() {
    let (app, key, _) = app_with(test_settings()).await;
    let form = request(&key, None);
    let first = created_id(post_keyed(&app, &form, "req-0001").await).await;
    let retried = created_id(post_keyed(&app, &form, "req-0001").await).await;
    assert_eq!(
        retried, first,
        "a retry with the same key is the same request"
    );
    // Without a key (GeoReport has none), the same form is a new request, complete like the first.
    let second = post_request(&app, &form).await;
    assert_ne!(second, first);
    let bad = post_keyed(&app, &form, &"k".repeat(200)).await;
    assert_eq!(bad.status(), 400);
    let body: Value = bad.json().await.unwrap();
    assert!(
        body[0]["description"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"),
        "{body}"
    );
    let data = app.stop().await;

    let app = spawn_app_in(data, test_settings()).await;
    let after_restart = created_id(post_keyed(&app, &form, "req-0001").await).await;
    assert_eq!(after_restart, first, "the key outlives a restart");
    for id in [&first, &second] {
        let read = read_back(&app, id).await;
        assert_eq!(read["status"], "open", "{read}");
        assert_eq!(read["service_code"], "noise");
        assert_eq!(
            read["agency_responsible"], "南山区城市管理综合执法局",
            "{read}"
        );
        assert!(read["expected_datetime"].as_str().is_some(), "{read}");
    }
    let data = app.stop().await;

    // No record without its ticket and no Open311 ticket without its record.
    let store = SledStore::open(data.path()).unwrap();
    let records: Vec<String> = store
        .open311_all()
        .unwrap()
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    let tickets: Vec<String> = store
        .scan(&mut |t| t.details.channel == Channel::Api)
        .unwrap()
        .iter()
        .map(|t| t.number.to_string())
        .collect();
    assert_eq!(records, vec![first.clone(), second.clone()]);
    assert_eq!(tickets, records);
    store.close().unwrap();
}

#[tokio::test]
async fn a_retry_after_a_crash_before_dispatch_dispatches_the_stored_request() {
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("open311".into())).await;
    let admin = create_token(data.path(), Role::Admin).await;
    // The first attempt got as far as the store (ticket and record, one write) and the process
    // died before dispatching it.
    let stored = {
        let store = SledStore::open(data.path()).unwrap();
        let now = Timestamp::now();
        let (ticket, fresh) = store
            .create_open311(
                NewTicket {
                    category: Category::Complaint,
                    content: "【噪音】楼下烧烤店每天营业到凌晨两点，吵得睡不着".into(),
                    district: Some("南山区".into()),
                    address: Some("南山区滨河小区3栋".into()),
                    phone: None,
                    name: None,
                    confidential: false,
                    channel: Channel::Api,
                    conversation: ConversationId::new(),
                    created_at: now,
                },
                RequestRecord {
                    service_code: "noise".into(),
                    lat: None,
                    long: None,
                    integrator: "open311".into(),
                    account_id: Some("user-7".into()),
                    media_url: None,
                },
                Some("req-crash".into()),
            )
            .await
            .unwrap();
        assert!(fresh);
        store.close().unwrap();
        ticket.number.to_string()
    };
    let app = spawn_app_in(data, test_settings()).await;
    let before = read_back(&app, &stored).await;
    assert!(before["agency_responsible"].is_null(), "{before}");

    let id = created_id(post_keyed(&app, &request(&key, None), "req-crash").await).await;
    assert_eq!(id, stored, "the retry finds the stored request");
    let after = read_back(&app, &id).await;
    assert_eq!(
        after["agency_responsible"], "南山区城市管理综合执法局",
        "{after}"
    );
    assert!(after["expected_datetime"].as_str().is_some(), "{after}");
    // Retried once more, it is left as it is: dispatched once.
    created_id(post_keyed(&app, &request(&key, None), "req-crash").await).await;
    let events = app.operator_ticket(&admin, &id).await["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["to"] == "已派遣")
        .count();
    assert_eq!(events, 1);
    app.stop().await;
}

/// A message the integrator's app sends for its user through the channel API; the reply texts.
async fn relay(client: &reqwest::Client, base: &str, key: &str, id: &str, text: &str) -> String {
    let body = serde_json::json!({"user": "user-7", "message_id": id, "text": text});
    let response = channel_message(client, base, key, &body).await;
    assert_eq!(response.status(), 200, "relaying {text:?}");
    reply_text(&response.json().await.unwrap())
}

#[tokio::test]
async fn an_integrator_that_relays_messages_gets_the_survey_for_its_user_and_answers_it() {
    let receiver = Receiver::start("relay-secret", None).await;
    let config = config_dir(&[(
        "integrators.toml",
        format!(
            "[[integrator]]\nid = \"open311\"\nname = \"市民App\"\ncallback_url = \"{}\"\n",
            receiver.url()
        ),
    )]);
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("open311".into())).await;
    let tokens = Tokens::create(data.path()).await;
    let server = start_with(
        data.path(),
        config.path(),
        &[
            ("HOTLINE_INTEGRATOR_SECRET_OPEN311", "relay-secret"),
            ("HOTLINE__CALLBACK__DELAY_MINUTES", "0"),
            ("HOTLINE__CALLBACK__QUIET_START", "00:00"),
            ("HOTLINE__CALLBACK__QUIET_END", "00:00"),
            ("HOTLINE__CALLBACK__INTERVAL_SECS", "1"),
        ],
    );
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    // No phone: only the app can reach its user.
    let response = client
        .post(format!("{base}/open311/v2/requests.json"))
        .form(&request(&key, None))
        .send()
        .await
        .unwrap();
    let id = created_id(response).await;
    handle_and_close(&client, &base, &tokens.unit, &id).await;

    // The unit's reply, the closure, then the survey, pushed to the app for user-7.
    let arrivals = receiver.wait_for(3, 30).await;
    let survey = arrivals
        .iter()
        .map(|a| a.json())
        .find(|m| {
            m["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains("问题解决了吗"))
        })
        .unwrap_or_else(|| panic!("no survey among {} messages", arrivals.len()));
    assert_eq!(survey["user"], "user-7");
    assert_eq!(survey["message"]["ticket"], id.as_str());

    let asked = relay(&client, &base, &key, "a1", "1").await;
    assert!(asked.contains("满意吗"), "{asked}");
    let comment = relay(&client, &base, &key, "a2", "基本满意").await;
    assert!(comment.contains("其他意见"), "{comment}");
    let thanks = relay(&client, &base, &key, "a3", "没有了").await;
    assert!(thanks.contains("感谢您的评价"), "{thanks}");

    let ticket = operator_ticket(&client, &base, &tokens.admin, &id).await;
    assert_eq!(ticket["callback"]["final"], "已解决 · 基本满意", "{ticket}");
    let read = read_request(&client, &base, &id).await;
    assert_eq!(read["status"], "closed", "{read}");
    assert!(server.terminate().success());
    receiver.stop().await;
}
