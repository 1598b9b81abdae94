//! The web chat's files over HTTP: types, caching, security headers, framing and CORS rules;
//! the units' console page and the API description too. (What the pages do is in `browser.rs`
//! and `console.rs`.)

use reqwest::header::HeaderMap;

use crate::helpers::{spawn_app, spawn_app_in, test_settings};

const SITE: &str = "https://www.example.gov.cn";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_chat_page_is_chinese_html_with_a_strict_content_security_policy() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();

    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    assert!(html.contains(r#"<html lang="zh-CN""#), "{html}");
    let policy = header(&headers, "content-security-policy");
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("script-src 'self';"), "{policy}");
    assert!(policy.ends_with("frame-ancestors 'self'"), "{policy}");
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    assert_eq!(header(&headers, "cache-control"), "no-cache");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no outside resources"
    );
    app.stop().await;
}

#[tokio::test]
async fn assets_named_by_their_hash_are_cached_for_a_year_and_revalidate_otherwise() {
    let app = spawn_app().await;
    let html = reqwest::get(format!("{}/", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let script = html
        .split('"')
        .find(|part| part.starts_with("/assets/chat.js?v="))
        .unwrap_or_else(|| panic!("the page names no versioned script: {html}"));

    let response = reqwest::get(format!("{}{script}", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(
        header(headers, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header(headers, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    let etag = header(headers, "etag").to_string();

    let stale = reqwest::get(format!("{}/assets/chat.js?v=old", app.base))
        .await
        .unwrap();
    assert_eq!(header(stale.headers(), "cache-control"), "no-cache");
    let unchanged = app
        .client
        .get(format!("{}/assets/chat.js", app.base))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);

    let css = reqwest::get(format!("{}/assets/chat.css", app.base))
        .await
        .unwrap();
    assert_eq!(
        header(css.headers(), "content-type"),
        "text/css; charset=utf-8"
    );
    let missing = reqwest::get(format!("{}/assets/nothing.js", app.base))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn the_widget_script_can_be_loaded_by_other_sites() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/widget.js", app.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(
        header(&headers, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&headers, "cache-control"), "public, max-age=3600");
    assert_eq!(
        header(&headers, "cross-origin-resource-policy"),
        "cross-origin"
    );
    let script = response.text().await.unwrap();
    assert!(script.contains("12345在线"));
    assert!(script.contains("?embed=1"));
    app.stop().await;
}

#[tokio::test]
async fn only_allowed_sites_may_frame_the_chat_and_call_the_api_from_a_browser() {
    let mut settings = test_settings();
    settings.web.allowed_origins = vec![SITE.to_string()];
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;

    let page = reqwest::get(format!("{}/?embed=1", app.base))
        .await
        .unwrap();
    let policy = header(page.headers(), "content-security-policy").to_string();
    assert!(
        policy.ends_with(&format!("frame-ancestors 'self' {SITE}")),
        "{policy}"
    );
    assert!(page.text().await.unwrap().contains(r#"class="embed""#));

    let preflight = |origin: &'static str| {
        app.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/chat/sessions", app.base),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let allowed = preflight(SITE).await.unwrap();
    assert!(allowed.status().is_success());
    assert_eq!(
        header(allowed.headers(), "access-control-allow-origin"),
        SITE
    );
    assert!(
        header(allowed.headers(), "access-control-allow-methods").contains("POST"),
        "{:?}",
        allowed.headers()
    );
    let other = preflight("https://evil.example.com").await.unwrap();
    assert!(
        other.headers().get("access-control-allow-origin").is_none(),
        "{:?}",
        other.headers()
    );

    let created = app
        .client
        .post(format!("{}/api/chat/sessions", app.base))
        .header("origin", SITE)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        header(created.headers(), "access-control-allow-origin"),
        SITE
    );
    app.stop().await;
}

#[tokio::test]
async fn the_console_is_never_framed_and_loads_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/console", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();
    assert_eq!(header(&headers, "content-type"), "text/html; charset=utf-8");
    let policy = header(&headers, "content-security-policy");
    assert!(policy.ends_with("frame-ancestors 'none'"), "{policy}");
    assert!(
        policy.contains("script-src 'self';") && !policy.contains("unsafe"),
        "{policy}"
    );
    assert_eq!(header(&headers, "x-frame-options"), "DENY");
    assert_eq!(header(&headers, "referrer-policy"), "no-referrer");
    assert!(html.contains(r#"<html lang="zh-CN">"#), "{html}");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no outside resources"
    );

    let script = html
        .split('"')
        .find(|part| part.starts_with("/console/assets/console.js?v="))
        .unwrap_or_else(|| panic!("no versioned script: {html}"));
    let script = reqwest::get(format!("{}{script}", app.base)).await.unwrap();
    assert_eq!(
        header(script.headers(), "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(
        header(script.headers(), "content-type"),
        "text/javascript; charset=utf-8"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_api_description_is_served_as_yaml() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/openapi.yaml", app.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(response.headers(), "content-type"),
        "application/yaml"
    );
    let text = response.text().await.unwrap();
    assert!(text.starts_with("openapi: 3.1"), "{text:.80}");
    assert!(text.contains("/api/units/tickets/{number}/sign:"));
    app.stop().await;
}
