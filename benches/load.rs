//! Load: many simulated citizens drive the web chat API over loopback, in a mix of
//! consultations, multi-turn intake and status queries; every state change is durable before
//! its reply. Two baselines run in the same process and the same way, so the cost of the real
//! work is visible: a bare axum endpoint, and a bare endpoint doing one group-committed append.
//!
//! Run: `cargo bench --bench load` (HOTLINE_BENCH_SECS per phase, default 10;
//! HOTLINE_BENCH_CITIZENS concurrent citizens, default 64; HOTLINE_BENCH_RATE for the paced
//! latency phase, default 2000 messages per second).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use hdrhistogram::Histogram;
use hotline::app::{Application, Paths};
use hotline::config::Settings;
use hotline::domain::{Channel, ConversationId, IntakeRecord, RecordKind};
use hotline::store::{RecordStore, SledStore};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Questions and complaints written for the benchmark (not from the evaluation sets).
const QUESTIONS: &[&str] = &[
    "身份证掉了去哪补",
    "公积金租房提取要什么材料",
    "孩子上小学怎么报名",
    "电动车上牌需要带什么",
    "社保卡坏了能补吗",
];
const STREETS: &[&str] = &["和平路", "建设路", "人民路", "解放路", "长江路"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Phase {
    messages: AtomicU64,
    latency: Mutex<Histogram<u64>>,
}

impl Phase {
    fn new() -> Arc<Phase> {
        Arc::new(Phase {
            messages: AtomicU64::new(0),
            latency: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds")),
        })
    }

    async fn record(&self, started: Instant) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        let micros = started.elapsed().as_micros().max(1) as u64;
        let _ = self.latency.lock().await.record(micros.min(60_000_000));
    }

    async fn report(&self, name: &str, elapsed: Duration) -> f64 {
        let h = self.latency.lock().await;
        let rate = self.messages.load(Ordering::Relaxed) as f64 / elapsed.as_secs_f64();
        println!(
            "{name:<34} {rate:>9.0}/s   p50 {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms   n={}",
            h.value_at_quantile(0.50) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
            h.len()
        );
        rate
    }
}

/// One request; `None` on any failure (counted as an error by the caller).
async fn send(client: &reqwest::Client, url: &str, body: Value) -> Option<Value> {
    let response = client.post(url).json(&body).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

/// A citizen: a consultation, a complaint through intake to a ticket, a status query.
async fn citizen(
    client: reqwest::Client,
    base: String,
    id: u64,
    phase: Arc<Phase>,
    stop: Arc<AtomicBool>,
    pace: Option<Duration>,
    errors: Arc<AtomicU64>,
) {
    let mut round = 0u64;
    let mut next = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let Some(session) = send(&client, &format!("{base}/api/chat/sessions"), json!({})).await
        else {
            errors.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let session = session["session_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let url = format!("{base}/api/chat/sessions/{session}/messages");
        let n = id * 1_000_000 + round;
        let street = STREETS[(n % STREETS.len() as u64) as usize];
        let script = [
            QUESTIONS[(n % QUESTIONS.len() as u64) as usize].to_string(),
            format!(
                "北湖区{street}{n}号的路灯坏了一个星期了，晚上很黑，请安排人来修，电话139{:08}",
                n % 100_000_000
            ),
            "确认".to_string(),
        ];
        let mut ticket = None;
        for text in script {
            if let Some(pace) = pace {
                next += pace;
                tokio::time::sleep_until(next.into()).await;
            }
            let started = Instant::now();
            match send(&client, &url, json!({ "text": text })).await {
                Some(reply) => {
                    phase.record(started).await;
                    if let Some(t) = reply["ticket"]["number"].as_str() {
                        ticket = Some(t.to_string());
                    }
                }
                None => {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if let Some(number) = ticket {
            let started = Instant::now();
            if send(&client, &url, json!({ "text": format!("查询{number}") }))
                .await
                .is_some()
            {
                phase.record(started).await;
            }
        }
    }
}

async fn drive(base: &str, citizens: u64, secs: u64, rate: Option<u64>, name: &str) -> f64 {
    let phase = Phase::new();
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::new();
    let pace = rate.map(|r| Duration::from_secs_f64(citizens as f64 / r as f64));
    let started = Instant::now();
    let tasks: Vec<_> = (0..citizens)
        .map(|id| {
            tokio::spawn(citizen(
                client.clone(),
                base.to_string(),
                id,
                phase.clone(),
                stop.clone(),
                pace,
                errors.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let rate = phase.report(name, started.elapsed()).await;
    let failed = errors.load(Ordering::Relaxed);
    if failed > 0 {
        println!("{:<34} {failed} failed requests", "");
    }
    rate
}

/// The same client against a trivial route, `append` or not: the ceiling of the stack alone.
async fn baseline(append: bool, citizens: u64, secs: u64) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SledStore::open(dir.path()).expect("store"));
    let app = axum::Router::new()
        .route(
            "/echo",
            post(
                move |State(store): State<Arc<SledStore>>, Json(body): Json<Value>| async move {
                    if append {
                        let record = IntakeRecord {
                            at: jiff::Timestamp::now(),
                            kind: RecordKind::Flood,
                            channel: Channel::Web,
                            conversation: ConversationId::new(),
                            text: body["text"].as_str().unwrap_or_default().to_string(),
                        };
                        let _ = store.add_record(record).await;
                    }
                    Json(json!({ "replies": [{ "text": "ok" }] }))
                },
            ),
        )
        .with_state(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let phase = Phase::new();
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..citizens)
        .map(|_| {
            let (client, url, phase, stop) = (
                client.clone(),
                format!("{base}/echo"),
                phase.clone(),
                stop.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if send(&client, &url, json!({ "text": "你好" }))
                        .await
                        .is_some()
                    {
                        phase.record(t).await;
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let name = if append {
        "bare axum + group-committed append"
    } else {
        "bare axum endpoint"
    };
    let rate = phase.report(name, started.elapsed()).await;
    server.abort();
    let _ = store.close();
    rate
}

fn main() {
    // `cargo bench` passes --bench; nothing else is read from the command line.
    let secs = env_number("HOTLINE_BENCH_SECS", 10);
    let citizens = env_number("HOTLINE_BENCH_CITIZENS", 64);
    let rate = env_number("HOTLINE_BENCH_RATE", 2000);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let bare = baseline(false, citizens, secs).await;
        let append = baseline(true, citizens, secs).await;

        let data = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings::load(&repo().join("config"), std::iter::empty())
            .expect("config/hotline.toml");
        settings.server.listen = "127.0.0.1:0".parse().expect("address");
        settings.knowledge.dir = repo().join("knowledge");
        settings.bots.dir = repo().join("bots");
        settings.log.filter = "warn".into();
        // The load comes from one address and re-uses no session beyond its script.
        settings.limits.per_ip_per_minute = 0;
        settings.limits.per_sender_per_minute = 0;
        let paths = Paths {
            data: data.path().to_path_buf(),
            config: repo().join("config"),
        };
        let app = Application::build(settings, &paths).await.expect("app");
        let base = format!("http://{}", app.local_addr().expect("addr"));
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async move {
            let _ = stop_rx.await;
        }));
        println!("{citizens} concurrent citizens, {secs} s per phase");
        let full = drive(
            &base,
            citizens,
            secs,
            None,
            "hotline chat, as fast as it goes",
        )
        .await;
        drive(
            &base,
            citizens,
            secs,
            Some(rate),
            &format!("hotline chat, paced at {rate}/s"),
        )
        .await;
        println!(
            "real work vs bare axum: {:.2}x of its rate; vs bare append: {:.2}x",
            full / bare,
            full / append
        );
        let _ = stop_tx.send(());
        let _ = server.await;
    });
}
