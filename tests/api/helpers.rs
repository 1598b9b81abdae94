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
    let app = Application::build(settings, &paths).await.unwrap();
    let addr = app.local_addr().unwrap();
    let callbacks = app.callbacks();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        data,
        callbacks,
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
    let log_path = data.join("server-stderr.log");
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
