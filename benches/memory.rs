//! Memory: the real `hotline serve` binary on a store of a million tickets, driven through its
//! main endpoints (chat, a unit's list, the operator queue, /metrics, the rates report, the
//! dashboard), with its resident memory read from /proc after each step. Target: peak resident
//! memory (VmHWM) ≤ 200 MB.
//!
//! Run: `cargo bench --bench memory`. The store is seeded once with `hotline demo seed` into
//! `target/bench-data/memory-<N>` (a few minutes, ~3 GB for 1,000,000) and reused;
//! `HOTLINE_MEMORY_TICKETS` (default 1,000,000) sets N, `HOTLINE_MEMORY_DATA` another folder.
//! The server runs with the settings in `config/` (`[store] cache_mb`), rate limits off.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const TARGET_MB: f64 = 200.0;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hotline(data: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command
        .current_dir(repo())
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(repo().join("config"));
    command
}

/// Runs a command to its end; its standard output, or the reason it failed.
fn run(mut command: Command) -> String {
    let output = command.output().expect("run hotline");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Resident memory now and at its peak, in MB, from /proc/PID/status.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(f64::NAN)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM: the server shuts down in order (flush, release the store).
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let log = std::fs::File::create(data.with_extension("serve.log")).expect("log file");
    let child = hotline(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("HOTLINE__LIMITS__PER_IP_PER_MINUTE", "0")
        .env("HOTLINE__LIMITS__PER_SENDER_PER_MINUTE", "0")
        .env("HOTLINE__LOG__FILTER", "warn,hotline=info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start hotline serve");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    let client = reqwest::blocking::Client::new();
    loop {
        let ready = client
            .get(format!("{}/readyz", server.base))
            .send()
            .is_ok_and(|r| r.status().is_success());
        if ready {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "the server did not become ready; see {}",
            data.with_extension("serve.log").display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "ready after {:.1} s (log: {})",
        started.elapsed().as_secs_f64(),
        data.with_extension("serve.log").display()
    );
    server
}

struct Report {
    pid: u32,
    peak: f64,
}

impl Report {
    fn step(&mut self, name: &str, started: Instant) {
        let (rss, hwm) = memory(self.pid);
        self.peak = self.peak.max(hwm);
        println!(
            "{name:<52} {:>8.0} ms   VmRSS {rss:>6.1} MB   VmHWM {hwm:>6.1} MB",
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
}

/// GET with a token. A failure (a report over the request timeout, say) is printed, not fatal:
/// the memory it took still counts.
fn fetch(
    client: &reqwest::blocking::Client,
    url: &str,
    token: &str,
) -> reqwest::blocking::Response {
    let response = client
        .get(url)
        .bearer_auth(token)
        .timeout(Duration::from_secs(120))
        .send()
        .expect("request");
    if !response.status().is_success() {
        println!("    {url}: HTTP {}", response.status());
    }
    response
}

/// GET with a token: the `X-Total-Count` and the body's length.
fn get(client: &reqwest::blocking::Client, url: &str, token: &str) -> (u64, usize) {
    let response = fetch(client, url, token);
    let total = response
        .headers()
        .get("x-total-count")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let body = response.bytes().expect("body");
    (total, body.len())
}

/// GET a list page with a token: the cursor of the page after it, if any.
fn next_cursor(client: &reqwest::blocking::Client, url: &str, token: &str) -> Option<String> {
    fetch(client, url, token)
        .headers()
        .get("x-next-cursor")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn main() {
    let tickets = env_number("HOTLINE_MEMORY_TICKETS", 1_000_000);
    let data = std::env::var("HOTLINE_MEMORY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo().join(format!("target/bench-data/memory-{tickets}")));
    let marker = data.join("seeded");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&data);
        std::fs::create_dir_all(&data).expect("data folder");
        println!("seeding {tickets} tickets into {} …", data.display());
        let started = Instant::now();
        let mut seed = hotline(&data);
        seed.args([
            "demo",
            "seed",
            "--tickets",
            &tickets.to_string(),
            "--seed",
            "7",
        ]);
        seed.stdout(Stdio::null());
        run(seed);
        std::fs::write(&marker, tickets.to_string()).expect("marker");
        println!("seeded in {:.0} s", started.elapsed().as_secs_f64());
    }
    let unit = std::env::var("HOTLINE_MEMORY_UNIT").unwrap_or_else(|_| "nanshan-urban".into());
    let token = |args: &[&str]| {
        let mut command = hotline(&data);
        command.args(args).stderr(Stdio::null());
        run(command)
    };
    let unit_token = token(&["units", "token", "create", &unit]);
    let operator = token(&["tokens", "create", "--role", "operator"]);
    let admin = token(&["tokens", "create", "--role", "admin"]);

    let server = serve(&data);
    let mut report = Report {
        pid: server.child.id(),
        peak: 0.0,
    };
    let client = reqwest::blocking::Client::new();
    let base = server.base.clone();
    report.step("ready", Instant::now());
    // The hotspot detector reads its baseline (28 days of tickets) in the background at start.
    std::thread::sleep(Duration::from_secs(5));
    report.step(
        "idle, 5 s after ready (hotspot warm-up done)",
        Instant::now(),
    );

    // Chat: sessions through a consultation, a complaint to a ticket, and a status query.
    let started = Instant::now();
    let sessions = env_number("HOTLINE_MEMORY_CHATS", 200);
    std::thread::scope(|scope| {
        for worker in 0..4u64 {
            let (client, base) = (client.clone(), base.clone());
            scope.spawn(move || {
                for n in (worker..sessions).step_by(4) {
                    let session: Value = client
                        .post(format!("{base}/api/chat/sessions"))
                        .send()
                        .and_then(|r| r.json())
                        .expect("session");
                    let id = session["session_id"].as_str().unwrap_or_default();
                    let url = format!("{base}/api/chat/sessions/{id}/messages");
                    let mut number = None;
                    for text in [
                        "公积金租房提取要什么材料".to_string(),
                        format!(
                            "南山区和平路{n}号的路灯坏了一个星期了，请安排人来修，电话139{:08}",
                            n
                        ),
                        "确认".to_string(),
                    ] {
                        let reply: Value = client
                            .post(&url)
                            .json(&json!({ "text": text }))
                            .send()
                            .and_then(|r| r.json())
                            .expect("message");
                        if let Some(t) = reply["ticket"]["number"].as_str() {
                            number = Some(t.to_string());
                        }
                    }
                    if let Some(t) = number {
                        let _ = client
                            .post(&url)
                            .json(&json!({ "text": format!("查询{t}") }))
                            .send();
                    }
                }
            });
        }
    });
    report.step(&format!("chat: {sessions} citizens × 4 messages"), started);

    let started = Instant::now();
    let (total, bytes) = get(
        &client,
        &format!("{base}/api/units/tickets?limit=100"),
        &unit_token,
    );
    report.step(
        &format!("unit list {unit}, first 100 of {total} ({bytes} B)"),
        started,
    );
    let started = Instant::now();
    let deep = total.saturating_sub(100);
    get(
        &client,
        &format!("{base}/api/units/tickets?limit=100&offset={deep}"),
        &unit_token,
    );
    report.step(&format!("unit list, last page (offset {deep})"), started);

    // The cursor: five pages after the first, each one seek (`X-Next-Cursor` → `?after=`).
    let started = Instant::now();
    let mut url = format!("{base}/api/units/tickets?limit=100");
    let mut pages = 0;
    for _ in 0..6 {
        let Some(next) = next_cursor(&client, &url, &unit_token) else {
            break;
        };
        url = format!("{base}/api/units/tickets?limit=100&after={next}");
        pages += 1;
    }
    report.step(
        &format!(
            "unit list, first page + {} pages by cursor",
            pages.max(1) - 1
        ),
        started,
    );

    let started = Instant::now();
    let (total, _) = get(
        &client,
        &format!("{base}/api/operator/queue?limit=100"),
        &operator,
    );
    report.step(&format!("operator queue, first 100 of {total}"), started);
    let started = Instant::now();
    let deep = total.saturating_sub(100);
    get(
        &client,
        &format!("{base}/api/operator/queue?limit=100&offset={deep}"),
        &operator,
    );
    report.step(
        &format!("operator queue, last page (offset {deep})"),
        started,
    );

    let started = Instant::now();
    for _ in 0..10 {
        get(&client, &format!("{base}/metrics"), &admin);
    }
    report.step("/metrics × 10", started);

    let today = jiff::Zoned::now().date();
    let week_ago = today.saturating_sub(jiff::Span::new().days(7));
    let month_ago = today.saturating_sub(jiff::Span::new().days(30));
    // The monthly dashboard comes last: its trend spans six months (a 408 past the request
    // timeout is printed above the line; the memory it took still counts).
    let reads = [
        (
            "dashboard, weekly",
            format!("/api/admin/dashboard?period=weekly&date={today}"),
        ),
        (
            "rates report, last 7 days, by unit",
            format!("/api/admin/reports/rates?from={week_ago}&to={today}&by=unit"),
        ),
        (
            "rates report, last 30 days, by district",
            format!("/api/admin/reports/rates?from={month_ago}&to={today}&by=district"),
        ),
        (
            "dashboard, monthly",
            format!("/api/admin/dashboard?period=monthly&date={today}"),
        ),
    ];
    for (label, path) in reads {
        let started = Instant::now();
        get(&client, &format!("{base}{path}"), &admin);
        report.step(label, started);
    }

    let peak = report.peak;
    drop(server);
    println!(
        "peak resident memory {peak:.1} MB with {tickets} tickets: {} (target ≤ {TARGET_MB} MB)",
        if peak <= TARGET_MB { "met" } else { "NOT met" }
    );
    // The log tail, for the index rebuild a first start of a seeded store does.
    if let Ok(file) = std::fs::File::open(data.with_extension("serve.log")) {
        for line in BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter(|l| l.contains("rebuilt"))
        {
            println!("{line}");
        }
    }
}
