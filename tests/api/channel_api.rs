//! The generic channel API: an integrator's app brings a user's messages in with its API key,
//! gets the replies in the response, and receives the unit's later answer as a signed webhook
//! (or pulls it). Retries are answered once; each integrator has its own rate limit.

use hotline::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{
    call, channel_message, create_token, reply_text, spawn_app_with_config, test_settings, unit_act,
};
use crate::receiver::{Receiver, config_dir, start_with};

const TIP: &str = "南山区滨河小区3栋楼下的烧烤店每天营业到凌晨两点，昨晚11点还在吵，根本睡不着，请派人管一下，我电话13812345678";

#[tokio::test]
async fn the_generic_api_opens_a_ticket_and_the_units_reply_reaches_the_integrator_signed() {
    let receiver = Receiver::start("cb-secret", None).await;
    let config = config_dir(&[(
        "integrators.toml",
        format!(
            "[[integrator]]\nid = \"city-app\"\nname = \"市民App\"\ncallback_url = \"{}\"\n",
            receiver.url()
        ),
    )]);
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("city-app".into())).await;
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let server = start_with(
        data.path(),
        config.path(),
        &[("HOTLINE_INTEGRATOR_SECRET_CITY_APP", "cb-secret")],
    );
    let client = reqwest::Client::new();
    let base = server.base.clone();

    let first = channel_message(
        &client,
        &base,
        &key,
        &json!({"user": "u-1", "message_id": "m1", "text": TIP}),
    )
    .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["duplicate"], false);
    assert!(reply_text(&first).contains("请核对"), "{first}");
    let confirmed: Value = channel_message(
        &client,
        &base,
        &key,
        &json!({"user": "u-1", "message_id": "m2", "text": "确认"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let number = confirmed["ticket"]["number"].as_str().unwrap().to_string();

    unit_act(&client, &base, &unit, &number, "sign", json!({})).await;
    let reply = json!({"text": "已责令烧烤店22点后停止营业"});
    unit_act(&client, &base, &unit, &number, "reply", reply).await;

    let arrivals = receiver.wait_for(1, 20).await;
    let pushed = arrivals[0].json();
    assert_eq!(arrivals[0].event, "message");
    assert_eq!(pushed["integrator"], "city-app");
    assert_eq!(pushed["user"], "u-1");
    assert_eq!(pushed["message"]["ticket"], number.as_str());
    let text = pushed["message"]["text"].as_str().unwrap();
    assert!(text.contains("已责令烧烤店22点后停止营业"), "{text}");
    assert!(arrivals[0].delivery.starts_with("outbox-"));

    let pulled_url = format!("{base}/api/channel/v1/users/u-1/messages?after=0");
    let (_, pulled) = call(&client, pulled_url, &key, None).await;
    let messages = pulled["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{pulled}");
    assert_eq!(messages[0]["id"], pushed["message"]["id"]);
    let after = messages[0]["id"].as_u64().unwrap();
    let none_url = format!("{base}/api/channel/v1/users/u-1/messages?after={after}");
    let (_, none) = call(&client, none_url, &key, None).await;
    assert!(none["messages"].as_array().unwrap().is_empty());

    // The receiver's answer is recorded just after it is sent: wait for the log to catch up.
    let mut log = Value::Null;
    for _ in 0..50 {
        (_, log) = call(
            &client,
            format!("{base}/api/channel/v1/webhooks"),
            &key,
            None,
        )
        .await;
        if log["deliveries"][0]["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(log["deliveries"][0]["state"], "delivered", "{log}");
    assert_eq!(log["deliveries"][0]["attempts"][0]["status"], 200);
    assert!(server.terminate().success());
    receiver.stop().await;
}

#[tokio::test]
async fn retries_are_answered_once_bad_input_stores_nothing_and_the_rate_limit_holds() {
    let config = config_dir(&[(
        "integrators.toml",
        "[[integrator]]\nid = \"city-app\"\nname = \"市民App\"\nrate_per_minute = 3\n".to_string(),
    )]);
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("city-app".into())).await;
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let app = spawn_app_with_config(data, test_settings(), config.path()).await;
    let (client, base) = (app.client.clone(), app.base.clone());
    let message = json!({"user": "u-1", "message_id": "m1", "text": "身份证丢了怎么补办"});

    let first: Value = channel_message(&client, &base, &key, &message)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["duplicate"], false);
    assert!(!reply_text(&first).is_empty());
    let again = channel_message(&client, &base, &key, &message).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    assert!(again["replies"].as_array().unwrap().is_empty());

    let code = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        (
            status,
            body["code"].as_str().unwrap_or_default().to_string(),
        )
    };
    let ghost = json!({"user": "ghost", "message_id": "g1", "text": "  "});
    let anonymous = client
        .post(format!("{base}/api/channel/v1/messages"))
        .json(&message)
        .send()
        .await
        .unwrap();
    assert_eq!(code(anonymous).await, (401, "unauthorized".into()));
    assert_eq!(
        code(channel_message(&client, &base, &unit, &message).await).await,
        (403, "forbidden".into())
    );
    assert_eq!(
        code(channel_message(&client, &base, &key, &ghost).await).await,
        (400, "empty_text".into())
    );
    let missing = json!({"user": "ghost", "text": "你好"});
    assert_eq!(
        code(channel_message(&client, &base, &key, &missing).await)
            .await
            .0,
        400
    );
    let malformed = client
        .post(format!("{base}/api/channel/v1/messages"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"user\": \"ghost\",")
        .send()
        .await
        .unwrap();
    assert_eq!(code(malformed).await, (400, "malformed_json".into()));
    let huge = json!({"user": "ghost", "message_id": "g2", "text": "长".repeat(40_000)});
    assert_eq!(
        code(channel_message(&client, &base, &key, &huge).await).await,
        (413, "body_too_large".into())
    );
    let unknown = client
        .get(format!("{base}/api/channel/v1/users/ghost/messages"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(unknown).await,
        (404, "unknown_user".into()),
        "nothing was stored for ghost"
    );

    let third = json!({"user": "u-2", "message_id": "m3", "text": "你好"});
    assert_eq!(
        channel_message(&client, &base, &key, &third).await.status(),
        200
    );
    let over = channel_message(
        &client,
        &base,
        &key,
        &json!({"user": "u-2", "message_id": "m4", "text": "你好"}),
    )
    .await;
    assert_eq!(over.status(), 429);
    assert!(over.headers().contains_key("retry-after"));
    assert_eq!(code(over).await.1, "rate_limited");

    // Pulls have a quota of their own (the one read above was the first): polling never starves
    // posting, and is limited all the same.
    let pull = || {
        client
            .get(format!("{base}/api/channel/v1/users/u-1/messages"))
            .bearer_auth(&key)
            .send()
    };
    assert_eq!(pull().await.unwrap().status(), 200);
    assert_eq!(pull().await.unwrap().status(), 200);
    let over = pull().await.unwrap();
    assert_eq!(over.status(), 429);
    assert!(over.headers().contains_key("retry-after"));
    let (_, refused) = code(over).await;
    assert_eq!(refused, "rate_limited");
    app.stop().await;
}

#[test]
fn an_integrator_key_is_made_only_for_a_configured_integrator() {
    let data = tempfile::tempdir().unwrap();
    let made = crate::helpers::hotline_command(data.path())
        .args([
            "tokens",
            "create",
            "--role",
            "integrator",
            "--integrator",
            "open311",
        ])
        .output()
        .unwrap();
    assert!(made.status.success());
    assert!(
        String::from_utf8_lossy(&made.stdout)
            .trim()
            .starts_with("hl_")
    );
    let unknown = crate::helpers::hotline_command(data.path())
        .args([
            "tokens",
            "create",
            "--role",
            "integrator",
            "--integrator",
            "nope",
        ])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("unknown integrator `nope`") && stderr.contains("integrators.toml"),
        "{stderr}"
    );
    let listed = crate::helpers::hotline_command(data.path())
        .args(["tokens", "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&listed.stdout).contains("integrator:open311"));
}
