//! Rate limits over real HTTP: per client address and per chat session, 429 with Retry-After.

use serde_json::json;

use crate::helpers::{spawn_app_in, test_settings};

#[tokio::test]
async fn a_chat_session_over_its_message_limit_gets_429_while_another_session_goes_on() {
    let mut settings = test_settings();
    settings.limits.per_sender_per_minute = 3;
    settings.limits.per_sender_burst = 3;
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    let noisy = app.new_session().await;
    for _ in 0..3 {
        let ok = app.post_message(&noisy, &json!({ "text": "你好" })).await;
        assert_eq!(ok.status(), 200);
    }
    let refused = app.post_message(&noisy, &json!({ "text": "你好" })).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    assert!(body["message"].as_str().unwrap().contains("110"));

    let quiet = app.new_session().await;
    let ok = app.post_message(&quiet, &json!({ "text": "你好" })).await;
    assert_eq!(ok.status(), 200, "the limit is per session");
    app.stop().await;
}

#[tokio::test]
async fn one_address_over_its_limit_gets_429_but_health_probes_still_answer() {
    let mut settings = test_settings();
    settings.limits.per_ip_per_minute = 5;
    settings.limits.per_ip_burst = 5;
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let response = app
            .client
            .get(format!("{}/openapi.yaml", app.base))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[200; 5]);
    assert_eq!(statuses[6], 429, "{statuses:?}");
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    app.stop().await;
}
