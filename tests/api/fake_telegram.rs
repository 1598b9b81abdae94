//! A fake Telegram Bot API: a real axum server on port 0 that teloxide talks to through
//! `Bot::set_api_url`. It records every call, answers like Telegram, serves queued updates to
//! `getUpdates` (long-polling, offsets as Telegram treats them), and can go down and come back
//! on the same port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::Json;
use axum::routing::post;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};

/// One Bot API call as the fake received it.
#[derive(Debug, Clone)]
pub struct Call {
    /// As teloxide sends it (`SendMessage`); compare with [`Call::is`].
    pub method: String,
    /// The path segment `bot<token>`, to check the token used.
    pub bot: String,
    pub params: Value,
}

impl Call {
    pub fn is(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<Call>>,
    /// Updates waiting for getUpdates; removed once an offset confirms them.
    updates: Mutex<Vec<Value>>,
    arrived: Notify,
    message_ids: AtomicI64,
}

pub struct FakeBotApi {
    pub url: String,
    addr: SocketAddr,
    shared: Arc<Shared>,
    running: Mutex<Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>>,
}

impl FakeBotApi {
    pub async fn start() -> FakeBotApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fake = FakeBotApi {
            url: format!("http://{addr}"),
            addr,
            shared: Arc::default(),
            running: Mutex::new(None),
        };
        fake.serve(listener);
        fake
    }

    fn serve(&self, listener: TcpListener) {
        let app = Router::new()
            .route("/{bot}/{method}", post(method))
            .with_state(self.shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        *self.running.lock().unwrap() = Some((stop, task));
    }

    /// Stops answering: connections are refused until [`FakeBotApi::come_back`].
    pub async fn go_down(&self) {
        let running = self.running.lock().unwrap().take();
        if let Some((stop, task)) = running {
            let _ = stop.send(());
            task.await.unwrap();
        }
    }

    pub async fn come_back(&self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.shared.calls.lock().unwrap().clone()
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        self.calls().into_iter().filter(|c| c.is(method)).collect()
    }

    /// The texts sent to `chat` with sendMessage, in order.
    pub fn sent_to(&self, chat: i64) -> Vec<Call> {
        self.calls_to("sendMessage")
            .into_iter()
            .filter(|c| c.params["chat_id"] == chat)
            .collect()
    }

    /// Waits until `ready` holds for the calls (at most 10 s).
    pub async fn wait_for(&self, what: &str, ready: impl Fn(&[Call]) -> bool) -> Vec<Call> {
        for _ in 0..200 {
            let calls = self.calls();
            if ready(&calls) {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "the fake Bot API never saw {what}; calls: {:#?}",
            self.calls()
        );
    }

    /// Queues an update for getUpdates.
    pub fn push_update(&self, update: Value) {
        self.shared.updates.lock().unwrap().push(update);
        self.shared.arrived.notify_waiters();
    }

    pub fn pending_updates(&self) -> usize {
        self.shared.updates.lock().unwrap().len()
    }
}

async fn method(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Json<Value> {
    let params = params(request).await;
    shared.calls.lock().unwrap().push(Call {
        method: method.clone(),
        bot,
        params: params.clone(),
    });
    let result = match method.to_ascii_lowercase().as_str() {
        "getme" => json!({
            "id": 4242, "is_bot": true, "first_name": "12345", "username": "hotline_test_bot",
            "can_join_groups": false, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false
        }),
        "sendmessage" => json!({
            "message_id": shared.message_ids.fetch_add(1, Ordering::SeqCst) + 1,
            "date": 1_700_000_000,
            "chat": { "id": params["chat_id"], "type": "private", "first_name": "市民" },
            "text": params["text"],
        }),
        "getupdates" => Value::Array(get_updates(&shared, &params).await),
        _ => json!(true),
    };
    Json(json!({ "ok": true, "result": result }))
}

/// Drops the updates the offset confirms; waits up to `timeout` seconds for one if none.
async fn get_updates(shared: &Shared, params: &Value) -> Vec<Value> {
    let offset = params["offset"].as_i64().unwrap_or(0);
    let timeout = params["timeout"].as_u64().unwrap_or(0);
    let take = || {
        let mut updates = shared.updates.lock().unwrap();
        updates.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
        updates.clone()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    loop {
        let arrived = shared.arrived.notified();
        let updates = take();
        if !updates.is_empty() || tokio::time::Instant::now() >= deadline {
            return updates;
        }
        let _ = tokio::time::timeout_at(deadline, arrived).await;
    }
}

/// JSON bodies as they are; multipart forms (setWebhook) as an object of their text fields.
async fn params(request: Request) -> Value {
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    if multipart {
        let mut form = Multipart::from_request(request, &()).await.unwrap();
        let mut fields = serde_json::Map::new();
        while let Some(field) = form.next_field().await.unwrap() {
            let name = field.name().unwrap_or_default().to_string();
            fields.insert(name, Value::String(field.text().await.unwrap()));
        }
        return Value::Object(fields);
    }
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    if bytes.is_empty() {
        return json!({});
    }
    serde_json::from_slice(&bytes).unwrap()
}
