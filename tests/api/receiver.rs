//! A receiving system for webhooks, as a unit's case system or an integrator's app would run
//! it: a real axum server on a local port that checks the signature with its own HMAC-SHA256,
//! refuses a timestamp outside ±5 minutes and a delivery id it has already accepted, and can be
//! told to fail the next deliveries or be down altogether. Also starts the real `hotline`
//! binary with a config directory of the test's own and secrets in its environment.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::oneshot;

use crate::helpers::{ServerProcess, repo};

/// A delivery as it arrived: headers and the raw body.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub timestamp: String,
    pub signature: String,
    pub delivery: String,
    pub event: String,
    pub body: Bytes,
}

impl Arrival {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
pub struct Seen {
    pub accepted: Vec<Arrival>,
    /// Why each refused request was refused.
    pub refused: Vec<String>,
    ids: HashSet<String>,
}

pub struct ReceiverState {
    secret: Vec<u8>,
    pub seen: Mutex<Seen>,
    /// Answer 503 to this many more valid deliveries before accepting.
    pub fail_next: AtomicUsize,
    pub hits: AtomicUsize,
}

pub struct Receiver {
    pub addr: SocketAddr,
    pub state: Arc<ReceiverState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

fn expected_signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, &'static str) {
    state.hits.fetch_add(1, Ordering::SeqCst);
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let arrival = Arrival {
        timestamp: header("x-hotline-timestamp"),
        signature: header("x-hotline-signature"),
        delivery: header("x-hotline-delivery"),
        event: header("x-hotline-event"),
        body,
    };
    let mut seen = state.seen.lock().unwrap();
    let now = jiff::Timestamp::now().as_second();
    let fresh = arrival
        .timestamp
        .parse::<i64>()
        .is_ok_and(|t| (now - t).abs() <= 300);
    if !fresh {
        seen.refused.push("stale timestamp".into());
        return (StatusCode::UNAUTHORIZED, "stale timestamp");
    }
    let good = expected_signature(&state.secret, &arrival.timestamp, &arrival.body);
    // A receiver compares in constant time; the test's own comparison needs no such care.
    if good != arrival.signature {
        seen.refused.push("bad signature".into());
        return (StatusCode::UNAUTHORIZED, "bad signature");
    }
    if seen.ids.contains(&arrival.delivery) {
        seen.refused.push(format!("replayed {}", arrival.delivery));
        return (StatusCode::CONFLICT, "replayed delivery");
    }
    if state
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "try later");
    }
    seen.ids.insert(arrival.delivery.clone());
    seen.accepted.push(arrival);
    (StatusCode::OK, "ok")
}

impl Receiver {
    /// Starts on a free port (`None`) or on `addr` (a receiver coming back).
    pub async fn start(secret: &str, addr: Option<SocketAddr>) -> Receiver {
        let state = Arc::new(ReceiverState {
            secret: secret.as_bytes().to_vec(),
            seen: Mutex::new(Seen::default()),
            fail_next: AtomicUsize::new(0),
            hits: AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind(addr.unwrap_or(([127, 0, 0, 1], 0).into()))
            .await
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Receiver {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn accepted(&self) -> Vec<Arrival> {
        self.state.seen.lock().unwrap().accepted.clone()
    }

    pub fn refused(&self) -> Vec<String> {
        self.state.seen.lock().unwrap().refused.clone()
    }

    /// Waits until `count` deliveries were accepted (at most `secs` seconds).
    pub async fn wait_for(&self, count: usize, secs: u64) -> Vec<Arrival> {
        for _ in 0..secs * 10 {
            let accepted = self.accepted();
            if accepted.len() >= count {
                return accepted;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "{count} deliveries expected within {secs} s; got {:?}, refused {:?}",
            self.accepted()
                .iter()
                .map(|a| a.event.clone())
                .collect::<Vec<_>>(),
            self.refused()
        );
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// A copy of the repository's config/ with `files` (name, content) added or replaced.
pub fn config_dir(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("config")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    dir
}

/// The real binary serving `data` with `config`, on port 0, with `env` set.
pub fn start_with(data: &Path, config: &Path, env: &[(&str, &str)]) -> ServerProcess {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .current_dir(repo())
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("hotline listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    ServerProcess { child, base }
}
