//! `/metrics` and `/readyz` over real HTTP.

use crate::helpers::spawn_app;

/// The value of the sample whose line starts with `series` (name and labels as rendered).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_messages_kb_answers_tickets_and_latency_per_route() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.say(&session, "身份证丢了要去哪里补办？").await;
    app.say(
        &session,
        "西城区和平路的路灯坏了一个星期了，晚上很黑，请安排人来修",
    )
    .await;
    app.say(&session, "13812345678").await;
    let confirmed = app.say(&session, "确认").await;
    assert_eq!(confirmed["ticket"]["status"], "已派遣");

    let response = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let metrics = response.text().await.unwrap();

    // Counters are process-wide (other tests in this binary add to them): at least ours.
    let web = sample(&metrics, r#"hotline_messages_total{channel="web"}"#).unwrap();
    assert!(web >= 4.0, "{metrics}");
    let answered = sample(&metrics, r#"hotline_kb_lookups_total{outcome="answered"}"#).unwrap();
    assert!(answered >= 1.0, "{metrics}");
    let ratio = sample(&metrics, "hotline_kb_answer_ratio").unwrap();
    assert!(ratio > 0.0 && ratio <= 1.0, "{metrics}");
    let route = r#"hotline_http_request_duration_seconds_bucket{route="/api/chat/sessions/{id}/messages",method="POST",le="+Inf"}"#;
    assert!(sample(&metrics, route).unwrap() >= 4.0, "{metrics}");
    assert!(
        !metrics.contains(&session),
        "routes are templates, never raw paths with session ids"
    );

    // Gauges describe this server's store: one ticket, dispatched at once, nothing overdue.
    assert_eq!(
        sample(&metrics, r#"hotline_tickets{status="dispatched"}"#),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, r#"hotline_tickets{status="accepted"}"#),
        Some(0.0)
    );
    assert_eq!(sample(&metrics, "hotline_tickets_overdue"), Some(0.0));
    assert_eq!(sample(&metrics, "hotline_outbox_pending"), Some(0.0));
    app.stop().await;
}

#[tokio::test]
async fn readyz_says_ready_beside_healthz() {
    let app = spawn_app().await;
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    let health = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    app.stop().await;
}
