//! The crash test: the real binary under load, killed with SIGKILL at random moments and
//! restarted, again and again. Afterwards every acknowledged message, ticket and unit reply must
//! be there, no ticket number twice, and every reply delivered to the citizen exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{Value, json};

use crate::helpers::{create_token, start_server_with_env};

/// The load comes from one address: the per-IP limit would only slow it down.
const NO_IP_LIMIT: &[(&str, &str)] = &[("HOTLINE__LIMITS__PER_IP_PER_MINUTE", "0")];

const ROUNDS: usize = 12;
const CITIZENS: usize = 4;

/// What the server acknowledged (answered 200), so must survive any crash.
#[derive(Default)]
struct Ledger {
    /// session → the citizen's acknowledged messages, in order.
    messages: BTreeMap<String, Vec<String>>,
    /// ticket number → (session, the marker in its address).
    tickets: Vec<(String, String, String)>,
    /// (session, text) of unit replies the server accepted.
    replies: Vec<(String, String)>,
}

struct Client {
    http: reqwest::blocking::Client,
    base: String,
    unit_token: String,
}

impl Client {
    fn post(&self, path: &str, body: Value, token: Option<&str>) -> Option<Value> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.json().ok()
    }
}

/// One citizen: a noise complaint through to a ticket, then the unit signs and replies.
fn citizen(client: &Client, ledger: &Mutex<Ledger>, serial: u64) -> Option<()> {
    let session = client.post("/api/chat/sessions", json!({}), None)?["session_id"]
        .as_str()?
        .to_string();
    let path = format!("/api/chat/sessions/{session}/messages");
    let marker = format!("海景路{serial}号");
    let complaint = format!("南山区{marker}楼下的烧烤店噪音扰民到凌晨，电话139{serial:08}");
    let summary = client.post(&path, json!({ "text": complaint }), None)?;
    ledger
        .lock()
        .unwrap()
        .messages
        .entry(session.clone())
        .or_default()
        .push(complaint);
    if !summary.to_string().contains("请核对") {
        return Some(());
    }
    let done = client.post(&path, json!({ "text": "确认" }), None)?;
    let number = done["ticket"]["number"].as_str().map(str::to_string);
    {
        let mut l = ledger.lock().unwrap();
        l.messages
            .entry(session.clone())
            .or_default()
            .push("确认".into());
        if let Some(n) = &number {
            l.tickets.push((n.clone(), session.clone(), marker.clone()));
        }
    }
    let number = number?;
    let unit = format!("/api/units/tickets/{number}");
    client.post(&format!("{unit}/sign"), json!({}), Some(&client.unit_token))?;
    let answer = format!("已约谈店主（回复{serial}），晚上10点后停止营业。");
    client.post(
        &format!("{unit}/reply"),
        json!({ "text": answer }),
        Some(&client.unit_token),
    )?;
    ledger.lock().unwrap().replies.push((session, answer));
    Some(())
}

fn history(client: &Client, session: &str) -> Vec<(String, String)> {
    let body: Value = client
        .http
        .get(format!(
            "{}/api/chat/sessions/{session}/messages",
            client.base
        ))
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["messages"]
        .as_array()
        .unwrap_or_else(|| panic!("no messages in {body}"))
        .iter()
        .map(|m| {
            (
                m["from"].as_str().unwrap_or_default().to_string(),
                m["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn acknowledged_work_survives_repeated_sigkills_with_unique_numbers_and_exactly_once_replies() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let unit_token = runtime.block_on(create_token(
        data.path(),
        hotline::auth::Role::Unit("nanshan-urban".into()),
    ));
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let serial = Arc::new(AtomicU64::new(0));
    let mut rng = rand::rng();
    for _ in 0..ROUNDS {
        let mut server = start_server_with_env(data.path(), NO_IP_LIMIT);
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..CITIZENS)
            .map(|_| {
                let client = Client {
                    http: reqwest::blocking::Client::new(),
                    base: server.base.clone(),
                    unit_token: unit_token.clone(),
                };
                let (ledger, serial, stop) = (ledger.clone(), serial.clone(), stop.clone());
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let n = serial.fetch_add(1, Ordering::Relaxed);
                        if citizen(&client, &ledger, n).is_none() {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(200..900)));
        server.child.kill().unwrap(); // SIGKILL: no shutdown, no flush
        server.child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().unwrap();
        }
    }

    let server = start_server_with_env(data.path(), NO_IP_LIMIT);
    let client = Client {
        http: reqwest::blocking::Client::new(),
        base: server.base.clone(),
        unit_token,
    };
    let ledger = ledger.lock().unwrap();
    assert!(
        ledger.tickets.len() >= ROUNDS,
        "too little load to prove anything: {} tickets",
        ledger.tickets.len()
    );

    // Every acknowledged message is in its conversation, once, in order.
    for (session, sent) in &ledger.messages {
        let citizen_lines: Vec<String> = history(&client, session)
            .into_iter()
            .filter(|(from, _)| from == "citizen")
            .map(|(_, text)| text)
            .collect();
        let mut at = 0;
        for text in sent {
            let found = citizen_lines[at..].iter().position(|t| t == text);
            let Some(offset) = found else {
                panic!("acknowledged message {text:?} lost from {session}: {citizen_lines:?}");
            };
            at += offset + 1;
        }
    }

    // Every acknowledged ticket is there under its number, with its own content; none twice.
    let numbers: BTreeSet<&String> = ledger.tickets.iter().map(|(n, _, _)| n).collect();
    assert_eq!(numbers.len(), ledger.tickets.len(), "a number issued twice");
    for (number, _, marker) in &ledger.tickets {
        let ticket: Value = client
            .http
            .get(format!("{}/api/units/tickets/{number}", client.base))
            .bearer_auth(&client.unit_token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert!(ticket.to_string().contains(marker), "{number}: {ticket}");
    }
    let listed: Value = client
        .http
        .get(format!("{}/api/units/tickets", client.base))
        .bearer_auth(&client.unit_token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let all: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["number"].as_str())
        .collect();
    let unique: BTreeSet<&&str> = all.iter().collect();
    assert_eq!(
        unique.len(),
        all.len(),
        "a number issued twice in the store"
    );

    // A confirmed ticket's dispatch is saved in the same transaction as the turn that confirmed
    // it: every ticket a unit was given has its number in a reply of its conversation, even when
    // the kill came before that reply left.
    let mut told = String::new();
    for session in ledger.messages.keys() {
        for (from, text) in history(&client, session) {
            if from == "hotline" {
                told.push_str(&text);
                told.push('\n');
            }
        }
    }
    for number in &all {
        assert!(
            told.contains(number),
            "ticket {number} was dispatched without the turn that confirmed it"
        );
    }

    // Every accepted unit reply reaches its citizen exactly once (the outbox drains after restart).
    let deadline = Instant::now() + Duration::from_secs(30);
    for (session, answer) in &ledger.replies {
        loop {
            let copies = history(&client, session)
                .iter()
                .filter(|(from, text)| from == "hotline" && text.contains(answer.as_str()))
                .count();
            assert!(copies <= 1, "reply delivered {copies} times to {session}");
            if copies == 1 {
                break;
            }
            assert!(Instant::now() < deadline, "reply lost: {answer}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    eprintln!(
        "crash test: {ROUNDS} SIGKILLs; {} acknowledged tickets, {} replies, {} conversations",
        ledger.tickets.len(),
        ledger.replies.len(),
        ledger.messages.len()
    );
}
