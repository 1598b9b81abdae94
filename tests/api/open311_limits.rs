//! Rate limits on the reading endpoints, answered in each API's own error format: Open311 reads
//! are limited per API key when one is given (the integrator's read quota) and per client
//! address otherwise, with the spec's error document (JSON or XML) and `Retry-After`. The channel
//! API's pull is covered in `channel_api`.

use hotline::auth::Role;
use serde_json::Value;

use crate::helpers::{create_token, spawn_app_in, spawn_app_with_config, test_settings};
use crate::receiver::config_dir;

async fn get(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).send().await.unwrap()
}

/// The spec's JSON error document: (code, description).
async fn geo_error(response: reqwest::Response) -> (u64, String) {
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    (
        body[0]["code"].as_u64().unwrap(),
        body[0]["description"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn open311_reads_over_the_address_limit_get_the_specs_429_in_json_and_xml() {
    let mut settings = test_settings();
    settings.limits.per_ip_per_minute = 3;
    settings.limits.per_ip_burst = 3;
    let app = spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    let url = |path: &str| format!("{}/open311/v2/{path}", app.base);
    for path in ["services.json", "requests.json", "services/noise.json"] {
        assert_eq!(get(&app.client, url(path)).await.status(), 200, "{path}");
    }
    let refused = get(&app.client, url("requests.json")).await;
    assert_eq!(refused.status(), 429);
    let (code, description) = geo_error(refused).await;
    assert_eq!(code, 429);
    assert!(description.contains("retry in"), "{description}");

    let refused = get(&app.client, url("services.xml")).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let xml = refused.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "errors", "{xml}");
    let code = root
        .descendants()
        .find(|n| n.has_tag_name("code"))
        .and_then(|n| n.text());
    assert_eq!(code, Some("429"), "{xml}");
    app.stop().await;
}

#[tokio::test]
async fn open311_reads_with_an_api_key_take_from_that_integrators_read_quota() {
    let config = config_dir(&[(
        "integrators.toml",
        "[[integrator]]\nid = \"open311\"\nname = \"civic\"\nrate_per_minute = 2\n".to_string(),
    )]);
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("open311".into())).await;
    let app = spawn_app_with_config(data, test_settings(), config.path()).await;
    let base = format!("{}/open311/v2", app.base);
    for _ in 0..2 {
        let ok = get(&app.client, format!("{base}/requests.json?api_key={key}")).await;
        assert_eq!(ok.status(), 200);
    }
    let refused = get(&app.client, format!("{base}/services.json?api_key={key}")).await;
    assert_eq!(refused.status(), 429);
    let (code, description) = geo_error(refused).await;
    assert_eq!(code, 429);
    assert!(description.contains("API key"), "{description}");
    // Bearer works as the query does, and counts against the same key.
    let bearer = app
        .client
        .get(format!("{base}/requests.json"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 429);

    // Without a key the address limit applies (generous here); posting has its own quota.
    assert_eq!(
        get(&app.client, format!("{base}/services.json"))
            .await
            .status(),
        200
    );
    let posted = app
        .client
        .post(format!("{base}/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "noise"),
            ("description", "楼下烧烤店每天营业到凌晨两点"),
            ("address_string", "南山区滨河小区3栋"),
            ("attribute[district]", "南山区"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 200);

    // A key that is not a live integrator's is refused in the spec's format, not ignored.
    let unknown = get(&app.client, format!("{base}/services.json?api_key=hl_nope")).await;
    assert_eq!(unknown.status(), 403);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(body[0]["code"], 403);
    app.stop().await;
}
