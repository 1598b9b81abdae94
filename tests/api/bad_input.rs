use serde_json::{Value, json};

use crate::helpers::spawn_app;

async fn assert_error(response: reqwest::Response, status: u16, code: &str) {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.len() > 10),
        "{body}"
    );
}

#[tokio::test]
async fn bad_messages_get_a_clear_error_and_store_nothing() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let before = app.history(&session).await["messages"]
        .as_array()
        .unwrap()
        .len();

    let r = app.post_message(&session, &json!({ "text": "" })).await;
    assert_error(r, 400, "empty_text").await;
    let r = app
        .post_message(&session, &json!({ "text": " \n\t　" }))
        .await;
    assert_error(r, 400, "empty_text").await;
    let r = app
        .post_message(&session, &json!({ "text": "长".repeat(2001) }))
        .await;
    assert_error(r, 400, "text_too_long").await;
    let r = app.post_message(&session, &json!({ "txt": "你好" })).await;
    assert_error(r, 400, "malformed_json").await;

    let url = format!("{}/api/chat/sessions/{session}/messages", app.base);
    let r = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body("{\"text\": \"未闭合")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "malformed_json").await;

    let huge = json!({ "text": "a".repeat(70 * 1024) }).to_string();
    let r = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_error(r, 413, "body_too_large").await;

    let after = app.history(&session).await["messages"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a rejected message must not be recorded");
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_session_is_a_404() {
    let app = spawn_app().await;
    let r = app
        .post_message(
            "0190f0f0-0000-7000-8000-000000000000",
            &json!({ "text": "你好" }),
        )
        .await;
    assert_error(r, 404, "unknown_session").await;
    let r = app
        .post_message("not-a-session", &json!({ "text": "你好" }))
        .await;
    assert_error(r, 404, "unknown_session").await;
    app.stop().await;
}

#[tokio::test]
async fn text_at_the_limit_is_accepted() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let r = app
        .post_message(&session, &json!({ "text": "路".repeat(2000) }))
        .await;
    assert_eq!(r.status(), 200);
    app.stop().await;
}
