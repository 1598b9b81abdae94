//! Webhooks to a unit's case system: signed over timestamp and body, a replay refused by the
//! receiver, masked or withheld identity, retried with backoff until acknowledged, and surviving
//! a restart of the gateway while the receiver is down.

use std::time::Duration;

use hotline::auth::Role;
use serde_json::Value;

use crate::helpers::{call, chat_ticket, create_token, say_at, unit_act};
use crate::receiver::{Receiver, config_dir, start_with};

const SECRET: &str = "unit-webhook-secret";
const SECRET_VAR: &str = "HOTLINE_WEBHOOK_SECRET_NANSHAN_URBAN";

fn webhooks_toml(url: &str) -> (&'static str, String) {
    (
        "webhooks.toml",
        format!("[[webhook]]\nunit = \"nanshan-urban\"\nurl = \"{url}\"\n"),
    )
}

async fn open311(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    service: &str,
    text: &str,
) -> String {
    let form = [
        ("api_key", key),
        ("service_code", service),
        ("description", text),
        ("address_string", "南山区滨河小区3栋"),
        ("attribute[district]", "南山区"),
        ("last_name", "王"),
        ("first_name", "小明"),
        ("phone", "13812345678"),
    ];
    let response = client
        .post(format!("{base}/open311/v2/requests.json"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let created: Value = response.json().await.unwrap();
    created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn unit_log(client: &reqwest::Client, base: &str, unit: &str) -> Value {
    call(client, format!("{base}/api/units/webhooks"), unit, None)
        .await
        .1
}

#[tokio::test]
async fn unit_webhooks_are_signed_mask_the_citizen_and_a_replay_is_refused() {
    let receiver = Receiver::start(SECRET, None).await;
    let config = config_dir(&[webhooks_toml(&receiver.url())]);
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("open311".into())).await;
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let server = start_with(data.path(), config.path(), &[(SECRET_VAR, SECRET)]);
    let (client, base) = (reqwest::Client::new(), server.base.clone());

    let number = open311(&client, &base, &key, "noise", "楼下烧烤店噪音扰民到凌晨").await;
    let arrivals = receiver.wait_for(1, 15).await;
    let dispatched = &arrivals[0];
    assert_eq!(dispatched.event, "ticket.dispatch");
    let body = dispatched.json();
    assert_eq!(body["ticket"]["number"], number.as_str());
    assert_eq!(body["unit"], "nanshan-urban");
    assert_eq!(body["involved"], true);
    assert_eq!(body["ticket"]["contact"]["phone"], "138****5678");
    assert_eq!(body["ticket"]["contact"]["name"], "王**");
    assert!(!String::from_utf8_lossy(&dispatched.body).contains("13812345678"));
    assert!(body["deadline_at"].as_str().is_some());

    unit_act(
        &client,
        &base,
        &unit,
        &number,
        "sign",
        serde_json::json!({}),
    )
    .await;
    let arrivals = receiver.wait_for(2, 15).await;
    assert_eq!(arrivals[1].event, "ticket.sign");
    assert_eq!(arrivals[1].json()["ticket"]["status"], "signed");

    // Someone replays the first delivery, headers and all: the receiver refuses it.
    let resend = |body: Vec<u8>, timestamp: String, signature: String| {
        let client = client.clone();
        let url = receiver.url();
        let delivery = dispatched.delivery.clone();
        async move {
            client
                .post(url)
                .header("x-hotline-timestamp", timestamp)
                .header("x-hotline-signature", signature)
                .header("x-hotline-delivery", delivery)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let replay = resend(
        dispatched.body.to_vec(),
        dispatched.timestamp.clone(),
        dispatched.signature.clone(),
    );
    assert_eq!(replay.await, 409);
    let tampered = String::from_utf8_lossy(&dispatched.body).replace("nanshan-urban", "elsewhere");
    let forged = resend(
        tampered.into_bytes(),
        dispatched.timestamp.clone(),
        dispatched.signature.clone(),
    );
    assert_eq!(forged.await, 401);
    let old = (jiff::Timestamp::now().as_second() - 600).to_string();
    let stale_signature = hotline::webhooks::signature::sign(
        SECRET.as_bytes(),
        old.parse().unwrap(),
        &dispatched.body,
    );
    assert_eq!(
        resend(dispatched.body.to_vec(), old, stale_signature).await,
        401
    );
    assert_eq!(receiver.accepted().len(), 2);

    // A 举报 is confidential: the unit's system never receives the citizen's identity.
    let report = open311(
        &client,
        &base,
        &key,
        "illegal-construction",
        "楼顶违章搭建彩钢房",
    )
    .await;
    let arrivals = receiver.wait_for(3, 15).await;
    let body = arrivals[2].json();
    assert_eq!(body["ticket"]["number"], report.as_str());
    assert_eq!(body["ticket"]["contact"]["confidential"], true);
    assert!(body["ticket"]["contact"]["phone"].is_null());
    assert!(body["ticket"]["contact"]["name"].is_null());
    let raw = String::from_utf8_lossy(&arrivals[2].body).to_string();
    assert!(!raw.contains("5678") && !raw.contains("王"), "{raw}");

    // The receiver's answer is recorded just after it is sent: wait for the log to catch up.
    let mut log = Value::Null;
    for _ in 0..50 {
        log = unit_log(&client, &base, &unit).await;
        let done = log["deliveries"]
            .as_array()
            .is_some_and(|d| d.len() == 3 && d.iter().all(|d| d["state"] == "delivered"));
        if done {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deliveries = log["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 3, "{log}");
    assert!(
        deliveries
            .iter()
            .all(|d| d["state"] == "delivered" && d["attempts"][0]["status"] == 200),
        "{log}"
    );
    assert!(server.terminate().success());
    receiver.stop().await;
}

#[tokio::test]
async fn deliveries_survive_a_restart_and_are_retried_until_acknowledged() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = config_dir(&[webhooks_toml(&format!("http://{addr}/hook"))]);
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("open311".into())).await;
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let client = reqwest::Client::new();

    // The receiver is down: the dispatch webhook fails and waits in the queue.
    let server = start_with(data.path(), config.path(), &[(SECRET_VAR, SECRET)]);
    let number = open311(&client, &server.base, &key, "noise", "工地夜间施工噪音").await;
    let mut pending = Value::Null;
    for _ in 0..100 {
        pending = unit_log(&client, &server.base, &unit).await;
        if pending["deliveries"][0]["failed_attempts"].as_u64() >= Some(1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivery = &pending["deliveries"][0];
    assert_eq!(delivery["state"], "pending", "{pending}");
    assert!(delivery["attempts"][0]["status"].is_null());
    assert!(
        delivery["attempts"][0]["error"]
            .as_str()
            .unwrap()
            .contains("connect"),
        "{pending}"
    );
    assert!(server.terminate().success());

    // The receiver comes back, answering 503 once; the gateway starts again.
    let receiver = Receiver::start(SECRET, Some(addr)).await;
    receiver
        .state
        .fail_next
        .store(1, std::sync::atomic::Ordering::SeqCst);
    let server = start_with(data.path(), config.path(), &[(SECRET_VAR, SECRET)]);
    let arrivals = receiver.wait_for(1, 40).await;
    assert_eq!(arrivals[0].event, "ticket.dispatch");
    assert_eq!(arrivals[0].json()["ticket"]["number"], number.as_str());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(receiver.accepted().len(), 1, "delivered once");
    assert_eq!(
        receiver
            .state
            .hits
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );

    let mut log = Value::Null;
    for _ in 0..50 {
        log = unit_log(&client, &server.base, &unit).await;
        if log["deliveries"][0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivery = &log["deliveries"][0];
    assert_eq!(delivery["state"], "delivered", "{log}");
    assert_eq!(delivery["failed_attempts"], 2);
    let statuses: Vec<Value> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        vec![Value::Null, Value::from(503), Value::from(200)]
    );
    assert!(server.terminate().success());
    receiver.stop().await;
}

/// The first accepted delivery of `event`, waiting until `count` have arrived.
async fn arrival(receiver: &Receiver, count: usize, event: &str) -> Value {
    let arrivals = receiver.wait_for(count, 30).await;
    let found = arrivals.iter().find(|a| a.event == event);
    found
        .unwrap_or_else(|| {
            let seen: Vec<&str> = arrivals.iter().map(|a| a.event.as_str()).collect();
            panic!("no {event} among {seen:?}")
        })
        .json()
}

#[tokio::test]
async fn the_citizens_later_steps_on_a_ticket_reach_its_units_webhook_signed() {
    let receiver = Receiver::start(SECRET, None).await;
    let config = config_dir(&[webhooks_toml(&receiver.url())]);
    let data = tempfile::tempdir().unwrap();
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    // Surveys go out as soon as the ticket is closed, checked every second.
    let server = start_with(
        data.path(),
        config.path(),
        &[
            (SECRET_VAR, SECRET),
            ("HOTLINE__CALLBACK__DELAY_MINUTES", "0"),
            ("HOTLINE__CALLBACK__QUIET_START", "00:00"),
            ("HOTLINE__CALLBACK__QUIET_END", "00:00"),
            ("HOTLINE__CALLBACK__INTERVAL_SECS", "1"),
        ],
    );
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    let noise = "南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678";
    let (session, number) = chat_ticket(&client, &base, noise).await;
    // The citizen reports the same matter again: it joins the ticket, and the unit hears of it.
    let again = say_at(
        &client,
        &base,
        &session,
        "南山区海景路3号楼下的烧烤店今晚又吵到凌晨",
    )
    .await;
    assert_eq!(again["ticket"]["number"], number.as_str(), "{again}");
    let joined = arrival(&receiver, 2, "ticket.repeated_report").await;
    assert_eq!(joined["actor"], "citizen:web", "{joined}");
    for (step, body) in [
        ("sign", serde_json::json!({})),
        ("reply", serde_json::json!({ "text": "已约谈店主" })),
        ("close", serde_json::json!({ "text": "已整改" })),
    ] {
        unit_act(&client, &base, &unit, &number, step, body).await;
    }
    // sign, reply, close, then the survey sent by the callback worker.
    let sent = arrival(&receiver, 6, "ticket.survey_sent").await;
    assert_eq!(sent["actor"], "system");
    assert_eq!(sent["ticket"]["number"], number.as_str());
    assert_eq!(sent["ticket"]["callback"]["rounds"][0]["state"], "待回复");

    // The citizen answers 未解决 · 不满意 with a reason: the result, then 重办.
    say_at(&client, &base, &session, "2").await;
    say_at(&client, &base, &session, "不满意").await;
    let rehandled = say_at(&client, &base, &session, "烧烤店晚上11点还在营业").await;
    assert_eq!(rehandled["ticket"]["status"], "已派遣");
    let surveyed = arrival(&receiver, 8, "ticket.survey").await;
    assert_eq!(surveyed["ticket"]["status"], "surveyed");
    assert_eq!(surveyed["ticket"]["callback"]["first"], "未解决 · 不满意");
    // The unit hears the result, not the citizen's words (it gets the reason with 重办).
    assert!(surveyed["ticket"]["callback"]["rounds"][0]["comment"].is_null());
    let rehandle = arrival(&receiver, 8, "ticket.rehandle").await;
    assert_eq!(rehandle["ticket"]["status"], "dispatched");
    assert_eq!(rehandle["involved"], true);
    assert!(rehandle["deadline_at"].as_str().is_some());
    assert!(
        rehandle["sequence"].as_u64() > surveyed["sequence"].as_u64(),
        "{rehandle}"
    );
    assert!(receiver.refused().is_empty(), "{:?}", receiver.refused());
    assert!(server.terminate().success());
    receiver.stop().await;
}

#[tokio::test]
async fn a_deadline_warning_from_the_scheduler_reaches_the_units_webhook() {
    let receiver = Receiver::start(SECRET, None).await;
    let config = config_dir(&[(
        "webhooks.toml",
        format!(
            "[[webhook]]\nunit = \"water-group\"\nurl = \"{}\"\n",
            receiver.url()
        ),
    )]);
    let data = tempfile::tempdir().unwrap();
    // A water outage has 24 natural hours: its yellow warning (one working day before) is due at
    // once, and the scheduler looks every second.
    let server = start_with(
        data.path(),
        config.path(),
        &[
            ("HOTLINE_WEBHOOK_SECRET_WATER_GROUP", SECRET),
            ("HOTLINE__SERVER__SCHEDULER_INTERVAL_SECS", "1"),
        ],
    );
    let (client, base) = (reqwest::Client::new(), server.base.clone());
    let outage = "南山区海景路3号从早上开始停水了，电话13812345678";
    let (_, number) = chat_ticket(&client, &base, outage).await;
    let warned = arrival(&receiver, 2, "ticket.remind").await;
    assert_eq!(warned["ticket"]["number"], number.as_str());
    assert_eq!(warned["actor"], "system");
    assert_eq!(warned["unit"], "water-group");
    assert!(server.terminate().success());
    receiver.stop().await;
}
