//! A fake SMS provider: a real HTTP server on port 0 that speaks Twilio's Messages API
//! (`POST /2010-04-01/Accounts/{sid}/Messages.json`, form, basic auth), records what it is asked
//! to send, and can be taken down on demand.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{Value, json};

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "test-auth-token-not-a-real-one";
pub const FROM: &str = "+8610690012345";

#[derive(Debug, Clone)]
pub struct Sent {
    pub to: String,
    pub from: String,
    pub body: String,
}

#[derive(Default)]
struct Fake {
    sent: Mutex<Vec<Sent>>,
    down: AtomicBool,
    /// When set: accept this many more sends, then go down.
    accept_before_down: Mutex<Option<usize>>,
    calls: AtomicUsize,
    /// Numbers that texted STOP to the provider: sends to them get Twilio's error 21610.
    unsubscribed: Mutex<Vec<String>>,
}

pub struct FakeSms {
    pub base: String,
    fake: Arc<Fake>,
}

async fn send(
    State(fake): State<Arc<Fake>>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, Json<Value>) {
    fake.calls.fetch_add(1, Ordering::SeqCst);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
    );
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected);
    if sid != ACCOUNT_SID || !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
        );
    }
    {
        let mut budget = fake.accept_before_down.lock().unwrap();
        if let Some(left) = budget.as_mut() {
            if *left == 0 {
                fake.down.store(true, Ordering::SeqCst);
                *budget = None;
            } else {
                *left -= 1;
            }
        }
    }
    let to = form
        .iter()
        .find(|(k, _)| k == "To")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if fake.unsubscribed.lock().unwrap().contains(&to) {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}),
            ),
        );
    }
    if fake.down.load(Ordering::SeqCst) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"code": 20503, "message": "Service unavailable", "status": 503})),
        );
    }
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut sent = fake.sent.lock().unwrap();
    sent.push(Sent {
        to: field("To"),
        from: field("From"),
        body: field("Body"),
    });
    let sid = format!("SM{:032}", sent.len());
    (
        StatusCode::CREATED,
        Json(json!({"sid": sid, "status": "queued", "to": field("To")})),
    )
}

impl FakeSms {
    pub async fn start() -> FakeSms {
        let fake = Arc::new(Fake::default());
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(send))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeSms { base, fake }
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.fake.sent.lock().unwrap().clone()
    }

    /// Calls received, accepted or not.
    pub fn calls(&self) -> usize {
        self.fake.calls.load(Ordering::SeqCst)
    }

    /// The number texted STOP to the provider's own opt-out handling.
    pub fn unsubscribe(&self, number: &str) {
        self.fake
            .unsubscribed
            .lock()
            .unwrap()
            .push(number.to_string());
    }

    pub fn set_down(&self, down: bool) {
        self.fake.down.store(down, Ordering::SeqCst);
    }

    /// Accepts `n` more messages, then answers 503 until `set_down(false)`.
    pub fn go_down_after(&self, n: usize) {
        *self.fake.accept_before_down.lock().unwrap() = Some(n);
    }

    /// Waits until at least `n` messages were accepted (at most 10 s); returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Sent> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let sent = self.sent();
            if sent.len() >= n || tokio::time::Instant::now() > deadline {
                assert!(sent.len() >= n, "expected {n} messages, got {sent:#?}");
                return sent;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl FakeSms {
    /// Waits for at least `n` messages, then until none arrives for 300 ms; returns them all.
    pub async fn wait_quiet(&self, n: usize) -> Vec<Sent> {
        self.wait_for(n).await;
        let mut seen = self.sent().len();
        loop {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let now = self.sent().len();
            if now == seen {
                return self.sent();
            }
            seen = now;
        }
    }
}
