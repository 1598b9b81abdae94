//! The SMS channel end to end: providers' webhooks over real HTTP, the real store on disk, and a
//! fake provider (a real local server speaking Twilio's API) receiving what we send.

use std::time::Duration;

use hotline::app::{Core, Paths};
use hotline::auth::Role;
use hotline::channels::sms::number::SmsNumber;
use hotline::channels::sms::provider::SmsInbound;
use hotline::channels::sms::segment::units;
use hotline::channels::sms::{Outcome, SmsSecrets, twilio};
use hotline::config::{Secret, Settings};
use hotline::domain::{Channel, OutboundReply, OutboxMessage, RecordKind, Speaker};
use hotline::store::{ChatStore, ConversationStore, OutboxStore, RecordStore, SledStore};
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

use crate::fake_sms::{ACCOUNT_SID, AUTH_TOKEN, FROM, FakeSms};
use crate::helpers::{
    TestApp, create_token, repo, server_log, spawn_app_in, start_server_with_env, test_settings,
};

/// The address Twilio calls: a reverse proxy in front of us, under a path prefix.
const PUBLIC_URL: &str = "https://12345.example.gov.cn/gateway";
const WEB_URL: &str = "https://12345.example.gov.cn/";
const ALIYUN_TOKEN: &str = "uplink-token-for-tests";
pub(crate) const CITIZEN: &str = "+8613800138000";

mod inbound;
mod replies;
mod verify;

pub(crate) fn sms_settings(fake: &FakeSms) -> Settings {
    let mut settings = test_settings();
    settings.sms.public_url = PUBLIC_URL.into();
    settings.sms.web_url = WEB_URL.into();
    settings.sms.api_base = fake.base.clone();
    settings.sms.from = FROM.into();
    settings.sms.send_retries = 1;
    settings.sms.send_retry_delay_ms = 10;
    settings.sms.secrets = SmsSecrets {
        twilio_account_sid: Some(Secret::new(ACCOUNT_SID.into())),
        twilio_auth_token: Some(Secret::new(AUTH_TOKEN.into())),
        aliyun_callback_token: Some(Secret::new(ALIYUN_TOKEN.into())),
    };
    settings
}

async fn sms_app(fake: &FakeSms) -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap(), sms_settings(fake)).await
}

fn twilio_params(from: &str, sid: &str, body: &str) -> Vec<(String, String)> {
    [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("To", FROM),
        ("Body", body),
        ("NumSegments", "1"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .to_vec()
}

/// Posts Twilio's webhook to the app, signed for `signed_url` with `token`.
async fn post_twilio(
    app: &TestApp,
    params: &[(String, String)],
    signed_url: &str,
    token: &str,
) -> reqwest::Response {
    let signature = twilio::sign(token, signed_url, params);
    app.client
        .post(format!("{}/hooks/sms/twilio", app.base))
        .header("X-Twilio-Signature", signature)
        .form(params)
        .send()
        .await
        .unwrap()
}

/// A citizen's text as Twilio delivers it through the proxy.
pub(crate) async fn text(app: &TestApp, from: &str, sid: &str, body: &str) -> reqwest::Response {
    let url = format!("{PUBLIC_URL}/hooks/sms/twilio");
    let response = post_twilio(app, &twilio_params(from, sid, body), &url, AUTH_TOKEN).await;
    assert_eq!(response.status(), 200, "texting {body:?}");
    response
}

async fn post_aliyun(app: &TestApp, token: Option<&str>, body: String) -> reqwest::Response {
    let url = match token {
        Some(token) => format!("{}/hooks/sms/aliyun?token={token}", app.base),
        None => format!("{}/hooks/sms/aliyun", app.base),
    };
    app.client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().is_some_and(|m| m.len() > 10),
        "{body}"
    );
    body["code"].as_str().unwrap().to_string()
}

pub(crate) fn joined(sent: &[crate::fake_sms::Sent]) -> String {
    sent.iter()
        .map(|s| s.body.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

fn open_store(data: &std::path::Path) -> SledStore {
    SledStore::open(data).unwrap()
}

fn paths(data: &std::path::Path) -> Paths {
    Paths {
        data: data.to_path_buf(),
        config: repo().join("config"),
    }
}

fn inbound(from: &str, id: &str, text: &str) -> SmsInbound {
    SmsInbound {
        from: SmsNumber::parse(from, "86").unwrap(),
        message_id: format!("test:{id}"),
        text: text.to_string(),
    }
}

async fn queue_later(core: &Core, text: &str) {
    let conversation = core
        .gateway
        .conversation_for(Channel::Sms, CITIZEN)
        .await
        .unwrap();
    core.store
        .enqueue(OutboxMessage::new(
            conversation.id,
            Channel::Sms,
            OutboundReply::text(text),
            None,
            Timestamp::now(),
        ))
        .await
        .unwrap();
}
