//! The webhook and API payload parsers, one target: the first byte picks the parser, the rest is
//! the body as the sender posted it.
//!
//! 0 Telegram update (webhook body) · 1 Twilio inbound form (signed, so the parse goes past the
//! signature) · 2 Alibaba Cloud SmsUp JSON · 3 Open311 `POST requests` form · 4 generic channel
//! API JSON · 5 a unit's status push with a text · 6 a unit's extension request · 7 an SMS text's
//! keywords and the sender's number.
//!
//! Every parser must answer with a value or an error, never panic or hang.
#![no_main]

use std::sync::OnceLock;

use axum::http::HeaderMap;
use hotline::app::{Core, Paths};
use hotline::channels::sms::aliyun::AliyunInbound;
use hotline::channels::sms::keywords;
use hotline::channels::sms::number::SmsNumber;
use hotline::channels::sms::provider::{InboundProvider, WebhookRequest};
use hotline::channels::sms::twilio::{self, TwilioInbound};
use hotline::channels::telegram::{command, render, webhook};
use hotline::config::{Secret, Settings};
use hotline::domain::{Channel, Conversation};
use hotline::http::inbound;
use libfuzzer_sys::fuzz_target;
use teloxide::types::UpdateKind;

const TOKEN: &str = "fuzz-token";
const PUBLIC_URL: &str = "https://hotline.example.gov.cn";
const TWILIO_PATH: &str = "/hooks/sms/twilio";

/// The real engine and interop state (catalog, districts), built once from the shipped
/// configuration and knowledge base over a store in a temporary folder.
fn core() -> &'static Core {
    static CORE: OnceLock<Core> = OnceLock::new();
    CORE.get_or_init(|| {
        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let data = std::env::temp_dir().join(format!("hotline-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let mut settings =
            Settings::load(&repo.join("config"), std::iter::empty()).expect("shipped config");
        settings.knowledge.dir = repo.join("knowledge");
        settings.bots.dir = repo.join("bots");
        let paths = Paths {
            data,
            config: repo.join("config"),
        };
        Core::build(&settings, &paths).expect("the shipped configuration builds")
    })
}

fn telegram(body: &[u8]) {
    let Ok(update) = webhook::parse_update(body) else {
        return;
    };
    match update.kind {
        UpdateKind::Message(message) => {
            if let Some(text) = message.text() {
                let _ = command(text);
            }
        }
        UpdateKind::CallbackQuery(query) => {
            if let Some(data) = &query.data {
                let conversation = Conversation::start(Channel::Telegram, jiff::Timestamp::UNIX_EPOCH);
                let _ = render::resolve_callback(&conversation, data);
            }
        }
        _ => {}
    }
}

fn twilio(body: &[u8]) {
    let provider = TwilioInbound {
        auth_token: Secret::new(TOKEN.into()),
        public_url: PUBLIC_URL.into(),
        country_code: "86".into(),
    };
    let mut headers = HeaderMap::new();
    // Sign the form as Twilio would, so the fields are parsed, not only the signature refused.
    if let Ok(params) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        let url = format!("{PUBLIC_URL}{TWILIO_PATH}");
        let signature = twilio::sign(TOKEN, &url, &params);
        if let Ok(value) = signature.parse() {
            headers.insert(twilio::SIGNATURE_HEADER, value);
        }
    }
    let request = WebhookRequest {
        path_and_query: TWILIO_PATH,
        query: None,
        headers: &headers,
        body,
    };
    if let Ok(messages) = provider.parse(&request) {
        for m in messages {
            let _ = (m.from.masked(), m.from.national(), keywords::keyword(&m.text));
        }
    }
}

fn aliyun(body: &[u8]) {
    let provider = AliyunInbound {
        token: Secret::new(TOKEN.into()),
        country_code: "86".into(),
    };
    let headers = HeaderMap::new();
    let query = format!("token={TOKEN}");
    let request = WebhookRequest {
        path_and_query: "/hooks/sms/aliyun",
        query: Some(&query),
        headers: &headers,
        body,
    };
    if let Ok(messages) = provider.parse(&request) {
        for m in messages {
            let _ = (m.from.masked(), m.from.national(), keywords::keyword(&m.text));
        }
    }
}

fn sms_text(body: &[u8]) {
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let _ = keywords::keyword(text);
    if let Some(number) = SmsNumber::parse(text, "86") {
        assert!(!number.masked().contains(number.e164()) || number.e164().len() < 7);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 8 {
        0 => telegram(body),
        1 => twilio(body),
        2 => aliyun(body),
        3 => {
            let core = core();
            let _ = inbound::open311_request(&core.engine, &core.interop, body);
        }
        4 => {
            let _ = inbound::channel_message(&core().engine, body);
        }
        5 => {
            let _ = inbound::unit_text(body);
        }
        6 => {
            let _ = inbound::unit_extension(body);
        }
        _ => sms_text(body),
    }
});
