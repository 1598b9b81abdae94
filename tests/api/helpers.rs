//! `spawn_app()` and friends: start the server in-process or as the real binary.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hotline::app::{Application, Paths};
use hotline::config::Settings;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Settings as shipped, with content read from the repository and port 0.
pub fn test_settings() -> Settings {
    let mut settings = Settings::load(&repo().join("config"), std::iter::empty()).unwrap();
    settings.server.listen = "127.0.0.1:0".parse().unwrap();
    settings.knowledge.dir = repo().join("knowledge");
    settings.bots.dir = repo().join("bots");
    // Tests not about rate limits send many messages in one session; tests/api/limits.rs sets
    // its own limits.
    settings.limits.per_sender_per_minute = 0;
    settings
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub data: TempDir,
    /// The server's callback worker, to run at a moment the test chooses.
    pub callbacks: std::sync::Arc<hotline::callback::worker::CallbackWorker>,
    /// The server's outbox worker, to deliver at a moment the test chooses.
    pub outbox: hotline::tickets::outbox::OutboxWorker,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Creates a token with `role` in a not-yet-opened data directory; returns the token.
pub async fn create_token(data: &Path, role: hotline::auth::Role) -> String {
    use hotline::auth::{TokenRecord, generate_token, token_hash, token_id};
    use hotline::store::{SledStore, TokenStore};
    let store = SledStore::open(data).unwrap();
    let token = generate_token();
    let hash = token_hash(&token);
    let record = TokenRecord {
        id: token_id(&hash),
        role,
        label: "test".into(),
        created_at: jiff::Timestamp::now(),
        revoked: false,
    };
    store.put_token(hash, record).await.unwrap();
    store.close().unwrap();
    token
}

pub async fn spawn_app() -> TestApp {
    let data = tempfile::tempdir().unwrap();
    spawn_app_in(data, test_settings()).await
}

pub async fn spawn_app_in(data: TempDir, settings: Settings) -> TestApp {
    let paths = Paths {
        data: data.path().to_path_buf(),
        config: repo().join("config"),
    };
    start_app(data, settings, &paths).await
}

async fn start_app(data: TempDir, settings: Settings, paths: &Paths) -> TestApp {
    let app = Application::build(settings, paths).await.unwrap();
    let addr = app.local_addr().unwrap();
    let callbacks = app.callbacks();
    let outbox = app.outbox();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        data,
        callbacks,
        outbox,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    /// Stops the server gracefully and returns its data directory.
    pub async fn stop(mut self) -> TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        self.data
    }

    pub async fn new_session(&self) -> String {
        let response = self
            .client
            .post(format!("{}/api/chat/sessions", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["session_id"].as_str().unwrap().to_string()
    }

    pub async fn say(&self, session: &str, text: &str) -> Value {
        let response = self.post_message(session, &json!({ "text": text })).await;
        assert_eq!(response.status(), 200, "saying {text:?}");
        response.json().await.unwrap()
    }

    pub async fn post_message(&self, session: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(format!(
                "{}/api/chat/sessions/{session}/messages",
                self.base
            ))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn history(&self, session: &str) -> Value {
        self.client
            .get(format!(
                "{}/api/chat/sessions/{session}/messages",
                self.base
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// All reply texts of a message response, joined.
pub fn reply_text(response: &Value) -> String {
    response["replies"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|x| x["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The real binary, started with `serve` on port 0.
pub struct ServerProcess {
    pub child: Child,
    pub base: String,
}

pub fn hotline_command(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .current_dir(repo())
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(repo().join("config"));
    command
}

pub fn start_server(data: &Path) -> ServerProcess {
    start_server_with_env(data, &[])
}

/// The real binary with extra environment (settings overrides such as `HOTLINE__LIMITS__…`).
///
/// sled releases its file lock a moment after a store in *this* test process is closed (its
/// background threads let go of the file last), so a start that finds the store locked right
/// after such a close is retried for a few seconds. A process that exits releases it at once.
pub fn start_server_with_env(data: &Path, env: &[(&str, &str)]) -> ServerProcess {
    for _ in 0..20 {
        match try_start_server(data, env) {
            Ok(server) => return server,
            Err(log) if log.contains("in use by another hotline process") => {
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(log) => panic!("the server did not start; its log ends:\n{log}"),
        }
    }
    panic!("the store in {} stayed locked", data.display());
}

fn try_start_server(data: &Path, env: &[(&str, &str)]) -> Result<ServerProcess, String> {
    // The server's log goes to a file beside the store, so a failed start can say why.
    let log_path = server_log_path(data);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .unwrap();
    let mut child = hotline_command(data)
        .envs(env.iter().copied())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let Some(base) = line.trim().strip_prefix("hotline listening on ") else {
        let _ = child.wait();
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        return Err(lines[lines.len().saturating_sub(15)..].join("\n"));
    };
    Ok(ServerProcess {
        base: base.to_string(),
        child,
    })
}

/// Where [`start_server_with_env`] writes the server's standard error (its log).
pub fn server_log_path(data: &Path) -> std::path::PathBuf {
    data.join("server-stderr.log")
}

/// Everything the server started on `data` has logged so far.
pub fn server_log(data: &Path) -> String {
    std::fs::read_to_string(server_log_path(data)).unwrap()
}

impl ServerProcess {
    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the server did not stop within 10 s of SIGTERM");
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server with `config` (a test's own config directory) instead of the repository's.
pub async fn spawn_app_with_config(data: TempDir, settings: Settings, config: &Path) -> TestApp {
    let paths = Paths {
        data: data.path().to_path_buf(),
        config: config.to_path_buf(),
    };
    start_app(data, settings, &paths).await
}

/// No delay and no quiet hours for 回访; the background worker is kept out of the way (every
/// hour), so a test runs it when it says (`TestApp::callbacks`).
pub fn surveyed_now(mut settings: Settings) -> Settings {
    settings.callback.delay_minutes = 0;
    settings.callback.quiet_start = "00:00".into();
    settings.callback.quiet_end = "00:00".into();
    settings.callback.interval_secs = 3600;
    settings
}

/// Tokens of the unit nanshan-urban (which handles Nanshan's noise complaints) and of an admin.
pub struct Tokens {
    pub unit: String,
    pub admin: String,
}

impl Tokens {
    /// Made in a not-yet-opened data directory.
    pub async fn create(data: &Path) -> Tokens {
        use hotline::auth::Role;
        Tokens {
            unit: create_token(data, Role::Unit("nanshan-urban".into())).await,
            admin: create_token(data, Role::Admin).await,
        }
    }
}

/// A server on `settings` in a new data directory, with the [`Tokens`] made before it started.
pub async fn spawn_app_with_tokens(settings: Settings) -> (TestApp, Tokens) {
    let data = tempfile::tempdir().unwrap();
    let tokens = Tokens::create(data.path()).await;
    (spawn_app_in(data, settings).await, tokens)
}

/// `GET` (no body) or `POST` (a JSON body) with a bearer token: (status, JSON body or null).
pub async fn call(
    client: &reqwest::Client,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let request = match body {
        None => client.get(url),
        Some(body) => client.post(url).json(&body),
    };
    let response = request.bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `GET` without a token (a public endpoint): (status, JSON body or null).
pub async fn get_json(client: &reqwest::Client, url: String) -> (u16, Value) {
    let response = client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The unit takes `action` (`sign`, `reply`, `close` …) on ticket `number` of the server at
/// `base`; anything but 200 fails the test.
pub async fn unit_act(
    client: &reqwest::Client,
    base: &str,
    unit: &str,
    number: &str,
    action: &str,
    body: Value,
) {
    let url = format!("{base}/api/units/tickets/{number}/{action}");
    let (status, answer) = call(client, url, unit, Some(body)).await;
    assert_eq!(status, 200, "{action}: {answer}");
}

/// The unit signs, replies and closes: 办结, which opens a callback round.
pub async fn handle_and_close(client: &reqwest::Client, base: &str, unit: &str, number: &str) {
    for (action, body) in [
        ("sign", json!({})),
        (
            "reply",
            json!({ "text": "已约谈店主，晚上10点后停止营业。" }),
        ),
        ("close", json!({ "text": "已整改，持续巡查。" })),
    ] {
        unit_act(client, base, unit, number, action, body).await;
    }
}

/// A ticket as the hotline's operators see it.
pub async fn operator_ticket(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    number: &str,
) -> Value {
    let url = format!("{base}/api/operator/tickets/{number}");
    let (status, body) = call(client, url, token, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A web chat message to the server at `base`; the response body.
pub async fn say_at(client: &reqwest::Client, base: &str, session: &str, text: &str) -> Value {
    let response = client
        .post(format!("{base}/api/chat/sessions/{session}/messages"))
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "saying {text:?}");
    response.json().await.unwrap()
}

/// A citizen reports `text` on the web chat of the server at `base` and confirms:
/// (session, ticket number).
pub async fn chat_ticket(client: &reqwest::Client, base: &str, text: &str) -> (String, String) {
    let response = client
        .post(format!("{base}/api/chat/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let session = body["session_id"].as_str().unwrap().to_string();
    let summary = say_at(client, base, &session, text).await;
    assert!(reply_text(&summary).contains("请核对"), "{summary}");
    let done = say_at(client, base, &session, "确认").await;
    let number = done["ticket"]["number"]
        .as_str()
        .unwrap_or_else(|| panic!("no ticket: {done}"));
    (session, number.to_string())
}

/// An integrator's message through the generic channel API (`Authorization: Bearer key`).
pub async fn channel_message(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    client
        .post(format!("{base}/api/channel/v1/messages"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap()
}

impl TestApp {
    /// A citizen reports `text` on the web chat and confirms: (session, ticket number).
    pub async fn open_ticket(&self, text: &str) -> (String, String) {
        chat_ticket(&self.client, &self.base, text).await
    }

    /// [`handle_and_close`] on this server.
    pub async fn handle_and_close(&self, unit: &str, number: &str) {
        handle_and_close(&self.client, &self.base, unit, number).await;
    }

    /// [`operator_ticket`] on this server.
    pub async fn operator_ticket(&self, token: &str, number: &str) -> Value {
        operator_ticket(&self.client, &self.base, token, number).await
    }
}

/// A noise complaint as intake makes it (南山区海景路3号, with a phone) at `created_at`: the
/// tests' one `NewTicket` for the store and the service, changed with struct update syntax where
/// a test needs something else.
pub fn noise_ticket(created_at: jiff::Timestamp) -> hotline::domain::NewTicket {
    hotline::domain::NewTicket {
        category: hotline::domain::Category::Complaint,
        content: "楼下烧烤噪音扰民".into(),
        district: Some("南山区".into()),
        address: Some("海景路3号".into()),
        phone: Some("13812345678".into()),
        name: None,
        confidential: false,
        channel: hotline::domain::Channel::Web,
        conversation: hotline::domain::ConversationId::new(),
        created_at,
    }
}

/// The ticket number in a receipt the citizen got ("…工单号：1000012…").
pub fn ticket_number(receipt: &str) -> String {
    receipt
        .split("工单号：")
        .nth(1)
        .unwrap_or_else(|| panic!("no ticket number in {receipt}"))
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect()
}
