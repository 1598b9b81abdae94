//! Open311 GeoReport v2 as a civic app uses it: discover the services, post a request, read it
//! back with its status and expected time — in JSON and in XML — and the spec's error documents.

use hotline::auth::Role;
use serde_json::Value;

use crate::helpers::{TestApp, create_token, spawn_app_in, test_settings};

struct Open311 {
    app: TestApp,
    key: String,
    unit: String,
}

async fn open311_app() -> Open311 {
    let data = tempfile::tempdir().unwrap();
    let key = create_token(data.path(), Role::Integrator("open311".into())).await;
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    Open311 {
        app: spawn_app_in(data, test_settings()).await,
        key,
        unit,
    }
}

impl Open311 {
    fn url(&self, path: &str) -> String {
        format!("{}/open311/v2/{path}", self.app.base)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.app.client.get(self.url(path)).send().await.unwrap()
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.app
            .client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a request in JSON; its id.
    async fn create(&self, form: &[(&str, &str)]) -> String {
        let response = self.post("requests.json", form).await;
        assert_eq!(response.status(), 200);
        let created: Value = response.json().await.unwrap();
        created[0]["service_request_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `GET requests/{id}.json`: an array of one.
    async fn read(&self, id: &str) -> Value {
        self.get(&format!("requests/{id}.json"))
            .await
            .json()
            .await
            .unwrap()
    }

    async fn unit_act(&self, number: &str, action: &str, text: Option<&str>) {
        let mut request = self
            .app
            .client
            .post(format!(
                "{}/api/units/tickets/{number}/{action}",
                self.app.base
            ))
            .bearer_auth(&self.unit);
        if let Some(text) = text {
            request = request.json(&serde_json::json!({ "text": text }));
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            200,
            "{action}: {}",
            response.text().await.unwrap()
        );
    }
}

fn noise_request(key: &str) -> Vec<(&str, &str)> {
    vec![
        ("api_key", key),
        ("service_code", "noise"),
        ("description", "楼下烧烤店每天营业到凌晨两点，吵得睡不着"),
        ("address_string", "南山区滨河小区3栋"),
        ("attribute[district]", "南山区"),
        ("first_name", "小明"),
        ("last_name", "王"),
        ("phone", "13812345678"),
        ("account_id", "user-42"),
    ]
}

/// A W3C datetime with the city's offset, as the spec asks.
fn assert_w3c(value: &str) {
    assert!(
        value.ends_with("+08:00") && value.len() == 25,
        "not a W3C datetime with offset: {value}"
    );
    value.parse::<jiff::Timestamp>().unwrap();
}

fn assert_no_personal_data(text: &str) {
    for private in ["13812345678", "5678", "小明", "王小明"] {
        assert!(!text.contains(private), "`{private}` leaked: {text}");
    }
}

#[tokio::test]
async fn a_geo_report_client_discovers_posts_and_reads_back_a_request_in_json() {
    let o = open311_app().await;
    let services: Value = o.get("services.json").await.json().await.unwrap();
    let noise = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "noise")
        .expect("the noise service is listed");
    assert_eq!(noise["metadata"], true);
    assert_eq!(noise["type"], "realtime");
    assert_eq!(noise["service_name"], "噪音扰民");

    let definition: Value = o.get("services/noise.json").await.json().await.unwrap();
    let district = definition["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "district")
        .unwrap();
    assert_eq!(district["datatype"], "singlevaluelist");
    assert_eq!(district["required"], true);
    assert!(
        district["values"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["key"] == "南山区")
    );

    let response = o.post("requests.json", &noise_request(&o.key)).await;
    assert_eq!(response.status(), 200);
    let created: Value = response.json().await.unwrap();
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(created[0]["account_id"], "user-42");
    let notice = created[0]["service_notice"].as_str().unwrap();
    assert!(
        notice.contains(&id) && notice.contains("南山区城市管理综合执法局"),
        "{notice}"
    );

    let response = o.get(&format!("requests/{id}.json")).await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert_no_personal_data(&text);
    let read: Value = serde_json::from_str(&text).unwrap();
    let request = &read[0];
    assert_eq!(request["service_request_id"], id.as_str());
    assert_eq!(request["status"], "open");
    assert_eq!(request["service_code"], "noise");
    assert_eq!(request["agency_responsible"], "南山区城市管理综合执法局");
    assert_eq!(request["address"], "南山区滨河小区3栋");
    assert_w3c(request["requested_datetime"].as_str().unwrap());
    let expected = request["expected_datetime"].as_str().unwrap();
    assert_w3c(expected);
    let expected: jiff::Timestamp = expected.parse().unwrap();
    let requested: jiff::Timestamp = request["requested_datetime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(expected > requested + jiff::SignedDuration::from_hours(24));

    // The unit works the ticket through its own API; Open311 readers see the status follow.
    o.unit_act(&id, "sign", None).await;
    o.unit_act(&id, "reply", Some("已责令烧烤店22点后停止营业"))
        .await;
    o.unit_act(&id, "close", Some("经核查已整改")).await;
    let read: Value = o
        .get(&format!("requests/{id}.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read[0]["status"], "closed");
    assert!(
        read[0]["status_notes"]
            .as_str()
            .unwrap()
            .contains("经核查已整改"),
        "{read}"
    );

    let open: Value = o
        .get("requests.json?service_code=noise&status=open")
        .await
        .json()
        .await
        .unwrap();
    assert!(open.as_array().unwrap().is_empty(), "{open}");
    let closed: Value = o
        .get(&format!(
            "requests.json?status=closed&service_request_id={id},1000000"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(closed.as_array().unwrap().len(), 1);
    let old: Value = o
        .get("requests.json?end_date=2020-01-01T00:00:00%2B08:00")
        .await
        .json()
        .await
        .unwrap();
    assert!(old.as_array().unwrap().is_empty());
    o.app.stop().await;
}

fn child<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> roxmltree::Node<'a, 'a> {
    node.children()
        .find(|n| n.has_tag_name(name))
        .unwrap_or_else(|| panic!("<{}> has no <{name}>", node.tag_name().name()))
}

fn text_of<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> &'a str {
    child(node, name).text().unwrap_or("")
}

#[tokio::test]
async fn a_geo_report_client_does_the_same_in_xml() {
    let o = open311_app().await;
    let response = o.get("services.xml").await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let xml = response.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "services");
    let noise = root
        .children()
        .filter(|n| n.has_tag_name("service"))
        .find(|s| text_of(*s, "service_code") == "noise")
        .unwrap();
    assert_eq!(text_of(noise, "metadata"), "true");
    assert_eq!(text_of(noise, "group"), "城市管理");

    let xml = o.get("services/noise.xml").await.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let definition = doc.root_element();
    assert_eq!(definition.tag_name().name(), "service_definition");
    let attribute = child(child(definition, "attributes"), "attribute");
    assert_eq!(text_of(attribute, "code"), "district");
    let keys: Vec<&str> = child(attribute, "values")
        .children()
        .filter(|n| n.has_tag_name("value"))
        .map(|v| text_of(v, "key"))
        .collect();
    assert!(keys.contains(&"南山区"), "{keys:?}");

    let response = o.post("requests.xml", &noise_request(&o.key)).await;
    assert_eq!(response.status(), 200);
    let xml = response.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "service_requests");
    let created = child(doc.root_element(), "request");
    let id = text_of(created, "service_request_id").to_string();
    assert!(text_of(created, "service_notice").contains(&id));

    let xml = o
        .get(&format!("requests/{id}.xml"))
        .await
        .text()
        .await
        .unwrap();
    assert_no_personal_data(&xml);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let request = child(doc.root_element(), "request");
    assert_eq!(text_of(request, "status"), "open");
    assert_eq!(
        text_of(request, "agency_responsible"),
        "南山区城市管理综合执法局"
    );
    assert_w3c(text_of(request, "expected_datetime"));
    assert_w3c(text_of(request, "requested_datetime"));

    let xml = o
        .get("requests.xml?service_code=noise")
        .await
        .text()
        .await
        .unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let ids: Vec<&str> = doc
        .root_element()
        .children()
        .filter(|n| n.has_tag_name("request"))
        .map(|r| text_of(r, "service_request_id"))
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    o.app.stop().await;
}

async fn errors_json(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body[0]["code"], status, "{body}");
    body[0]["description"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn errors_come_in_the_spec_format_and_store_nothing() {
    let o = open311_app().await;
    let mut no_key = noise_request(&o.key);
    no_key.retain(|(k, _)| *k != "api_key");
    let description = errors_json(o.post("requests.json", &no_key).await, 403).await;
    assert!(description.contains("api_key"), "{description}");

    let wrong_key = noise_request("hl_not-a-key");
    errors_json(o.post("requests.json", &wrong_key).await, 403).await;

    let xml = o.post("requests.xml", &no_key).await;
    assert_eq!(xml.status(), 403);
    let xml = xml.text().await.unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert_eq!(doc.root_element().tag_name().name(), "errors");
    let error = child(doc.root_element(), "error");
    assert_eq!(text_of(error, "code"), "403");

    errors_json(o.get("services/no-such.json").await, 404).await;
    let mut unknown = noise_request(&o.key);
    unknown[1] = ("service_code", "no-such");
    errors_json(o.post("requests.json", &unknown).await, 404).await;

    let mut no_district = noise_request(&o.key);
    no_district.retain(|(k, _)| *k != "attribute[district]");
    no_district[3] = ("address_string", "滨河小区3栋");
    let description = errors_json(o.post("requests.json", &no_district).await, 400).await;
    assert!(description.contains("attribute[district]"), "{description}");

    let mut bad_phone = noise_request(&o.key);
    bad_phone[7] = ("phone", "12345");
    errors_json(o.post("requests.json", &bad_phone).await, 400).await;

    let mut emergency = noise_request(&o.key);
    emergency[1] = ("service_code", "manhole");
    emergency[2] = ("description", "路口井盖旁边燃气泄漏，有人晕倒了");
    let description = errors_json(o.post("requests.json", &emergency).await, 400).await;
    assert!(
        description.contains("119") || description.contains("120"),
        "{description}"
    );

    let mut bad_media = noise_request(&o.key);
    bad_media.push(("media_url", "javascript:alert(1)"));
    let description = errors_json(o.post("requests.json", &bad_media).await, 400).await;
    assert!(description.contains("media_url"), "{description}");

    let mut elsewhere = noise_request(&o.key);
    elsewhere.push(("jurisdiction_id", "another.city.example"));
    errors_json(o.post("requests.json", &elsewhere).await, 404).await;
    errors_json(o.get("requests/1000000.json").await, 404).await;

    let listed: Value = o.get("requests.json").await.json().await.unwrap();
    assert!(
        listed.as_array().unwrap().is_empty(),
        "nothing stored: {listed}"
    );
    o.app.stop().await;
}

#[tokio::test]
async fn a_report_keeps_its_description_requester_and_media_out_of_public_reads() {
    let o = open311_app().await;
    let form = [
        ("api_key", o.key.as_str()),
        ("service_code", "food-safety"),
        ("description", "南山区某小吃店无证经营，使用过期食品"),
        ("address_string", "南山区桃园路8号"),
        ("phone", "13812345678"),
        ("media_url", "https://img.example.org/shop.jpg"),
    ];
    let id = o.create(&form).await;
    let read = o.read(&id).await;
    assert_eq!(read[0]["service_code"], "food-safety");
    assert!(
        read[0]["description"].is_null(),
        "a 举报 is confidential: {read}"
    );
    assert!(
        read[0]["media_url"].is_null(),
        "a 举报's photo may show who took it: {read}"
    );
    assert_no_personal_data(&read.to_string());
    o.app.stop().await;
}

#[tokio::test]
async fn a_media_url_is_kept_and_echoed_in_json_and_xml() {
    let o = open311_app().await;
    let photo = "https://img.example.org/noise/42.jpg?size=large&v=2";
    let mut form = noise_request(&o.key);
    form.push(("media_url", photo));
    let id = o.create(&form).await;
    let read = o.read(&id).await;
    assert_eq!(read[0]["media_url"], photo, "{read}");
    let xml = o
        .get(&format!("requests/{id}.xml"))
        .await
        .text()
        .await
        .unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let request = child(doc.root_element(), "request");
    assert_eq!(text_of(request, "media_url"), photo, "{xml}");
    o.app.stop().await;
}
