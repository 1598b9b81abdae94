//! Every request has a body limit and a timeout, and every response carries security headers:
//! pages their own policies (framed only by `[web] allowed_origins`, or by nobody), everything
//! else a policy that loads nothing and may be framed by nobody. A client that is slow to send its
//! request head (or sends nothing, or idles on a kept-alive connection) is cut off after
//! `[http] header_read_timeout_secs`; an open event stream is not.

use std::time::Duration;

use hotline::auth::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{create_token, spawn_app_in, test_settings};

const SITE: &str = "https://www.example.gov.cn";
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{} has no {name} header", response.url()))
        .to_string()
}

#[tokio::test]
async fn every_response_carries_security_headers_and_pages_keep_their_own_policies() {
    let mut settings = test_settings();
    settings.web.allowed_origins = vec![SITE.to_string()];
    settings.server.body_limit_bytes = 1024;
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    let session = app.new_session().await;
    let get = |path: &str| app.client.get(format!("{}{path}", app.base)).send();
    let post_json = |path: String, body: String| {
        app.client
            .post(format!("{}{path}", app.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let messages = format!("/api/chat/sessions/{session}/messages");
    let responses = vec![
        ("health", get("/healthz").await.unwrap()),
        ("yaml", get("/openapi.yaml").await.unwrap()),
        ("404", get("/no/such/thing").await.unwrap()),
        ("json", get(&messages).await.unwrap()),
        (
            "400",
            post_json(messages.clone(), "{".into()).await.unwrap(),
        ),
        (
            "413",
            post_json(
                messages.clone(),
                format!("{{\"text\":\"{}\"}}", "a".repeat(2048)),
            )
            .await
            .unwrap(),
        ),
        ("401", get("/api/units/tickets").await.unwrap()),
    ];
    for (what, response) in &responses {
        assert_eq!(
            header(response, "content-security-policy"),
            API_POLICY,
            "{what}"
        );
        assert_eq!(
            header(response, "x-content-type-options"),
            "nosniff",
            "{what}"
        );
        assert_eq!(header(response, "referrer-policy"), "no-referrer", "{what}");
    }
    assert_eq!(responses[5].1.status(), 413);

    // The chat page may be framed by the widget's sites only; the console and the dashboard by
    // nobody.
    let page = get("/?embed=1").await.unwrap();
    let policy = header(&page, "content-security-policy");
    assert!(
        policy.contains(&format!("frame-ancestors 'self' {SITE}")),
        "{policy}"
    );
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    for path in ["/console", "/dashboard"] {
        let page = get(path).await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        let policy = header(&page, "content-security-policy");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains(SITE), "{path}: {policy}");
        assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    }
    app.stop().await;
}

#[tokio::test]
async fn every_endpoint_that_reads_a_body_refuses_one_over_the_limit_with_413() {
    let data = tempfile::tempdir().unwrap();
    let integrator = create_token(data.path(), Role::Integrator("open311".into())).await;
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let mut settings = test_settings();
    settings.server.body_limit_bytes = 1024;
    let app = spawn_app_in(data, settings).await;
    let session = app.new_session().await;
    let big_json = format!("{{\"text\":\"{}\"}}", "长".repeat(1024));
    let big_form = format!("service_code=001&description={}", "a".repeat(2048));
    let cases = [
        (
            format!("/api/chat/sessions/{session}/messages"),
            "application/json",
            &big_json,
            None,
        ),
        (
            format!("/api/chat/sessions/{session}/verify-phone"),
            "application/json",
            &big_json,
            None,
        ),
        (
            "/open311/v2/requests.json".to_string(),
            "application/x-www-form-urlencoded",
            &big_form,
            Some(&integrator),
        ),
        (
            "/api/channel/v1/messages".to_string(),
            "application/json",
            &big_json,
            Some(&integrator),
        ),
        (
            "/api/units/tickets/1000001/progress".to_string(),
            "application/json",
            &big_json,
            Some(&unit),
        ),
    ];
    for (path, content_type, body, token) in cases {
        let mut request = app
            .client
            .post(format!("{}{path}", app.base))
            .header("content-type", content_type)
            .body(body.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 413, "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_request_whose_body_never_finishes_is_cut_off_with_408() {
    let mut settings = test_settings();
    settings.server.request_timeout_secs = 1;
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    let session = app.new_session().await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /api/chat/sessions/{session}/messages HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"text\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // The rest of the body never comes.
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server answers a stalled body within its timeout")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    app.stop().await;
}

/// Reads until the server closes the connection (end of stream or a reset); everything it sent
/// first. Panics if the connection is still open after `bound`.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, bound: Duration) -> String {
    let mut received = Vec::new();
    let deadline = tokio::time::Instant::now() + bound;
    let mut buffer = [0u8; 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => panic!(
                "the connection is still open after {bound:?}; received {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return String::from_utf8_lossy(&received).into_owned(),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

fn with_header_read_timeout(secs: u64) -> hotline::config::Settings {
    let mut settings = test_settings();
    settings.http.header_read_timeout_secs = secs;
    settings
}

#[tokio::test]
async fn a_client_that_sends_half_its_headers_and_stalls_is_disconnected_and_others_are_served() {
    let app = spawn_app_in(tempfile::tempdir().unwrap(), with_header_read_timeout(1)).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    // Half a request line, then half a header: the rest never comes.
    slow.write_all(b"GET /heal").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    slow.write_all(b"thz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();

    // Meanwhile everybody else is served.
    let healthy = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(healthy.status(), 200);

    let answer = read_until_closed(&mut slow, Duration::from_secs(15)).await;
    assert!(
        !answer.starts_with("HTTP/1.1 200"),
        "a request whose headers never finished was answered: {answer}"
    );
    // And still after the stalled client was cut off.
    let session = app.new_session().await;
    assert!(!session.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_connects_and_sends_nothing_is_dropped() {
    let app = spawn_app_in(tempfile::tempdir().unwrap(), with_header_read_timeout(1)).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let answer = read_until_closed(&mut silent, Duration::from_secs(15)).await;
    assert_eq!(
        answer, "",
        "nothing is answered to a client that asked nothing"
    );
    app.stop().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_after_the_idle_limit() {
    let app = spawn_app_in(tempfile::tempdir().unwrap(), with_header_read_timeout(1)).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        // The response, on a connection kept alive for the next request.
        let mut buffer = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("a complete request is answered")
            .unwrap();
        let head = String::from_utf8_lossy(&buffer[..n]);
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            !head.to_ascii_lowercase().contains("connection: close"),
            "{head}"
        );
        idle.push(stream);
    }
    for stream in &mut idle {
        let rest = read_until_closed(stream, Duration::from_secs(15)).await;
        assert_eq!(
            rest, "",
            "an idle connection is closed without another answer"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn an_event_stream_outlives_the_header_read_timeout_and_still_delivers() {
    use crate::helpers::{Tokens, unit_act};
    use futures_util::StreamExt;
    let data = tempfile::tempdir().unwrap();
    let tokens = Tokens::create(data.path()).await;
    let app = spawn_app_in(data, with_header_read_timeout(1)).await;
    let (session, number) = app
        .open_ticket("南山区海景路3号楼下的烧烤店噪音扰民到凌晨，电话13812345678")
        .await;
    let events = app
        .client
        .get(format!("{}/api/chat/sessions/{session}/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    // Well past the header-read timeout, with nothing sent on the stream.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    unit_act(
        &app.client,
        &app.base,
        &tokens.unit,
        &number,
        "sign",
        serde_json::json!({}),
    )
    .await;
    let answer = "已约谈店主，晚上10点后停止营业。";
    unit_act(
        &app.client,
        &app.base,
        &tokens.unit,
        &number,
        "reply",
        serde_json::json!({ "text": answer }),
    )
    .await;
    let mut stream = events.bytes_stream();
    let mut received = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while !received.contains(answer) {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .expect("the reply arrives on the event stream")
            .expect("the event stream is still open")
            .unwrap();
        received.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(received.contains("event: reply"), "{received}");
    app.stop().await;
}
