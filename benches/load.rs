//! Load: many simulated citizens drive the web chat API over loopback, in a mix of
//! consultations, multi-turn intake and status queries; every state change is durable before
//! its reply. Two baselines run in the same process and the same way, so the cost of the real
//! work is visible: a bare axum endpoint, and a bare endpoint doing one group-committed append.
//!
//! Run: `cargo bench --bench load` (HOTLINE_BENCH_SECS per phase, default 10;
//! HOTLINE_BENCH_CITIZENS concurrent citizens, default 64; HOTLINE_BENCH_RATE for the paced
//! latency phase, default 2000 messages per second; HOTLINE_BENCH_BASELINES=0 skips the
//! baselines; HOTLINE_BENCH_SERIES=1 prints every second's count).
//!
//! Each phase prints its rate over the whole phase and its lowest whole second (the sustained
//! floor). In the paced phase every message has its moment on a fixed schedule and its latency
//! counts from that moment, so a server that falls behind is charged for the queueing too.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use hdrhistogram::Histogram;
use hotline::app::{Application, Paths};
use hotline::config::Settings;
use hotline::domain::{Channel, ConversationId, IntakeRecord, RecordKind};
use hotline::store::{RecordStore, SledStore};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// mimalloc: the chat path spends about a third of its instructions in malloc/free (callgrind),
/// and glibc's allocator contends across tokio's worker threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Questions written for the benchmark (not from the evaluation sets). A visit's question is an
/// opener, one of these and an ending (300 forms), so consecutive messages rarely repeat word for
/// word: nothing per message (normalisation, analysis) is spared by a repeat the way it would not
/// be in a real city's traffic.
const QUESTIONS: &[&str] = &[
    "身份证掉了去哪补",
    "公积金租房提取要什么材料",
    "孩子上小学怎么报名",
    "电动车上牌需要带什么",
    "社保卡坏了能补吗",
    "居住证到期了怎么续",
    "新生儿医保在哪里办",
    "驾驶证换证要体检吗",
    "营业执照地址变更怎么弄",
    "失业金怎么申请",
];
const OPENERS: &[&str] = &["", "请问", "你好，请问", "想咨询一下", "麻烦问下", "您好，"];
const ENDINGS: &[&str] = &["", "？", "?", "呢", "啊，谢谢"];
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

/// What one phase measured. Each citizen keeps its own histogram and per-second counts (no lock
/// shared between citizens on the request path); they are merged when the phase ends.
struct Tally {
    latency: Histogram<u64>,
    /// Replies received in each second of the phase.
    per_second: Vec<u64>,
    tickets: u64,
    errors: u64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency: Histogram::new_with_bounds(1, 60_000_000, 3).expect("bounds"),
            per_second: Vec::new(),
            tickets: 0,
            errors: 0,
        }
    }

    /// A reply to a message the schedule meant to send at `intended` (when paced) or sent at
    /// `intended` (when not): latency counts from then, so a server that falls behind a paced
    /// schedule is charged for the wait (no coordinated omission).
    fn record(&mut self, phase_start: Instant, intended: Instant) {
        let now = Instant::now();
        let micros = now.duration_since(intended).as_micros().max(1) as u64;
        let _ = self.latency.record(micros.min(60_000_000));
        let second = now.duration_since(phase_start).as_secs() as usize;
        if self.per_second.len() <= second {
            self.per_second.resize(second + 1, 0);
        }
        self.per_second[second] += 1;
    }

    fn merge(&mut self, other: &Tally) {
        let _ = self.latency.add(&other.latency);
        if self.per_second.len() < other.per_second.len() {
            self.per_second.resize(other.per_second.len(), 0);
        }
        for (mine, theirs) in self.per_second.iter_mut().zip(&other.per_second) {
            *mine += theirs;
        }
        self.tickets += other.tickets;
        self.errors += other.errors;
    }

    /// Prints the phase: the rate over the whole phase, the lowest whole second after the first
    /// (the sustained floor), latency percentiles, tickets made and failures.
    fn report(&self, name: &str, elapsed: Duration) -> f64 {
        let h = &self.latency;
        let rate = h.len() as f64 / elapsed.as_secs_f64();
        let whole = elapsed.as_secs() as usize;
        let floor = self
            .per_second
            .iter()
            .take(whole)
            .skip(1)
            .min()
            .copied()
            .unwrap_or(0);
        println!(
            "{name:<34} {rate:>7.0}/s (lowest second {floor:>5})   p50 {:>6.2} ms   p99 {:>6.2} ms   \
             max {:>7.2} ms   n={}",
            h.value_at_quantile(0.50) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            h.max() as f64 / 1000.0,
            h.len()
        );
        if std::env::var_os("HOTLINE_BENCH_SERIES").is_some() {
            // Every whole second, to see when the slow ones came (HOTLINE_BENCH_SERIES=1).
            let series: Vec<String> = self
                .per_second
                .iter()
                .take(whole)
                .map(u64::to_string)
                .collect();
            println!("{:<34} per second: {}", "", series.join(" "));
        }
        if self.tickets > 0 || self.errors > 0 {
            println!(
                "{:<34} {} tickets made, {} failed requests",
                "", self.tickets, self.errors
            );
        }
        rate
    }
}

/// What a citizen sends: the chat API's message body.
#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
}

/// What the generator reads of a reply: the session it opened, or the ticket it gave. The whole
/// body is still read and parsed as JSON (a malformed reply fails); the replies' texts are
/// checked as JSON but not kept, as a page that only needs the ticket would do.
#[derive(Deserialize)]
struct Reply {
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    ticket: Option<TicketRef>,
    #[serde(default)]
    replies: Vec<IgnoredAny>,
}

#[derive(Deserialize)]
struct TicketRef {
    number: String,
}

/// One request; `None` on any failure (counted as an error by the caller).
async fn send<B: Serialize>(
    client: &reqwest::Client,
    url: &reqwest::Url,
    body: &B,
) -> Option<Reply> {
    let response = client.post(url.clone()).json(body).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let reply: Reply = response.json().await.ok()?;
    // Every answer of the chat API says something.
    (!reply.replies.is_empty()).then_some(reply)
}

/// What a citizen says next, given the last reply.
enum Say {
    Text(String),
    /// 查询 the ticket this citizen made, if one was made.
    StatusQuery,
    /// The last four digits of the phone, when the status query asks for them.
    PhoneDigits,
}

/// A citizen's visit. Even citizens ask a question, press 有帮助, and report a broken street
/// light in one message (address and phone included) and confirm; odd citizens ask a question
/// and report the same matter over several turns (the bot asks for the district, the address,
/// the phone) before confirming. Both then ask for their ticket's status and prove it with the
/// phone's last four digits, as the web chat requires.
fn script(id: u64, round: u64) -> (Vec<Say>, String) {
    let n = id * 1_000_000 + round;
    let street = STREETS[(n % STREETS.len() as u64) as usize];
    let phone = format!("139{:08}", n % 100_000_000);
    let pick = |list: &[&'static str], salt: u64| list[((n / salt) % list.len() as u64) as usize];
    let question = Say::Text(format!(
        "{}{}{}",
        pick(OPENERS, 1),
        pick(QUESTIONS, 7),
        pick(ENDINGS, 61)
    ));
    let mut says = vec![question];
    if id.is_multiple_of(2) {
        says.push(Say::Text("有帮助".into()));
        says.push(Say::Text(format!(
            "北湖区{street}{n}号的路灯坏了一个星期了，晚上很黑，请安排人来修，电话{phone}"
        )));
    } else {
        says.push(Say::Text("小区门口的路灯坏了一个星期了，晚上很黑".into()));
        says.push(Say::Text("北湖区".into()));
        says.push(Say::Text(format!("{street}{n}号")));
        says.push(Say::Text(phone.clone()));
    }
    says.push(Say::Text("确认".into()));
    says.push(Say::StatusQuery);
    says.push(Say::PhoneDigits);
    (says, phone)
}

/// A citizen: visits one after another until the phase ends, on one keep-alive connection
/// pool shared with the others (as many connections as citizens in flight), each message sent
/// when the last reply came (or, paced, on its schedule).
async fn citizen(
    client: reqwest::Client,
    base: String,
    id: u64,
    phase_start: Instant,
    stop: Arc<AtomicBool>,
    pace: Option<Duration>,
) -> Tally {
    let mut tally = Tally::new();
    let mut round = 0u64;
    // Citizens start spread over one interval, not all at once.
    let mut next = phase_start
        + pace
            .map(|p| p.mul_f64((id % 64) as f64 / 64.0))
            .unwrap_or_default();
    let base = reqwest::Url::parse(&base).expect("the server's address");
    let sessions = base.join("api/chat/sessions").expect("a path");
    'visits: while !stop.load(Ordering::Relaxed) {
        round += 1;
        let created = send(&client, &sessions, &json!({})).await;
        let Some(session) = created.and_then(|c| c.session_id) else {
            tally.errors += 1;
            continue;
        };
        let Ok(url) = base.join(&format!("api/chat/sessions/{session}/messages")) else {
            tally.errors += 1;
            continue;
        };
        let (says, phone) = script(id, round);
        let mut ticket: Option<String> = None;
        for say in says {
            let text = match say {
                Say::Text(text) => text,
                Say::StatusQuery => match &ticket {
                    Some(number) => format!("查询{number}"),
                    None => continue 'visits,
                },
                Say::PhoneDigits => phone[phone.len() - 4..].to_string(),
            };
            if stop.load(Ordering::Relaxed) {
                break 'visits;
            }
            let intended = match pace {
                Some(pace) => {
                    next += pace;
                    tokio::time::sleep_until(next.into()).await;
                    next
                }
                None => Instant::now(),
            };
            match send(&client, &url, &Message { text: &text }).await {
                Some(reply) => {
                    tally.record(phase_start, intended);
                    if let Some(t) = reply.ticket
                        && ticket.is_none()
                    {
                        ticket = Some(t.number);
                        tally.tickets += 1;
                    }
                }
                None => tally.errors += 1,
            }
        }
    }
    tally
}

async fn drive(base: &str, citizens: u64, secs: u64, rate: Option<u64>, name: &str) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let pace = rate.map(|r| Duration::from_secs_f64(citizens as f64 / r as f64));
    let started = Instant::now();
    let tasks: Vec<_> = (0..citizens)
        .map(|id| {
            tokio::spawn(citizen(
                client.clone(),
                base.to_string(),
                id,
                started,
                stop.clone(),
                pace,
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut tally = Tally::new();
    for t in tasks {
        if let Ok(one) = t.await {
            tally.merge(&one);
        }
    }
    tally.report(name, elapsed)
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
    let stop = Arc::new(AtomicBool::new(false));
    let client = reqwest::Client::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..citizens)
        .map(|_| {
            let url = reqwest::Url::parse(&format!("{base}/echo")).expect("the echo address");
            let (client, stop) = (client.clone(), stop.clone());
            tokio::spawn(async move {
                let mut tally = Tally::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    if send(&client, &url, &Message { text: "你好" })
                        .await
                        .is_some()
                    {
                        tally.record(started, t);
                    } else {
                        tally.errors += 1;
                    }
                }
                tally
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut tally = Tally::new();
    for t in tasks {
        if let Ok(one) = t.await {
            tally.merge(&one);
        }
    }
    let name = if append {
        "bare axum + group-committed append"
    } else {
        "bare axum endpoint"
    };
    let rate = tally.report(name, elapsed);
    server.abort();
    let _ = store.close();
    rate
}

fn main() {
    hotline::allocator::tune();
    // `cargo bench` passes --bench; nothing else is read from the command line.
    let secs = env_number("HOTLINE_BENCH_SECS", 10);
    let citizens = env_number("HOTLINE_BENCH_CITIZENS", 64);
    let rate = env_number("HOTLINE_BENCH_RATE", 2000);
    // HOTLINE_BENCH_BASELINES=0 skips the two baselines (for profiling the real work alone).
    let baselines = env_number("HOTLINE_BENCH_BASELINES", 1) != 0;
    println!("load average at start: {}", load_average());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (bare, append) = if baselines {
            (
                baseline(false, citizens, secs).await,
                baseline(true, citizens, secs).await,
            )
        } else {
            (f64::NAN, f64::NAN)
        };

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
    println!("load average at end: {}", load_average());
}

/// The machine's load averages (1, 5, 15 minutes), to read beside any wall-clock figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
