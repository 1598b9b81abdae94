//! `hotline backup` while serving and `hotline restore`, with the real binary.

use std::path::Path;

use serde_json::{Value, json};

use crate::helpers::{create_token, hotline_command, start_server};

fn post(base: &str, path: &str, body: Value) -> Value {
    reqwest::blocking::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .unwrap()
        .json()
        .unwrap()
}

/// A ticket through the web chat from citizen `who`; returns (session, number).
fn open_ticket(base: &str, street: &str, who: u32) -> (String, String) {
    let session = post(base, "/api/chat/sessions", json!({}))["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let messages = format!("/api/chat/sessions/{session}/messages");
    let text =
        format!("北湖区{street}的路灯坏了一个星期了，晚上很黑，请安排人来修，电话1381234{who:04}");
    let summary = post(base, &messages, json!({ "text": text }));
    let done = post(base, &messages, json!({ "text": "确认" }));
    let number = done["ticket"]["number"]
        .as_str()
        .unwrap_or_else(|| panic!("no ticket: {summary} then {done}"))
        .to_string();
    (session, number)
}

fn run(data: &Path, args: &[&str], env: Option<(&str, &str)>) -> std::process::Output {
    let mut command = hotline_command(data);
    command.args(args);
    if let Some((key, value)) = env {
        command.env(key, value);
    }
    command.output().unwrap()
}

#[test]
fn a_backup_taken_while_serving_restores_into_a_new_store_with_every_ticket() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = tempfile::tempdir().unwrap();
    let admin = runtime.block_on(create_token(data.path(), hotline::auth::Role::Admin));
    let server = start_server(data.path());
    let (session, number) = open_ticket(&server.base, "建设路", 1);

    // Writes go on during the backup; the backup is a point in time between two of them.
    let base = server.base.clone();
    let writer = std::thread::spawn(move || {
        (0..5)
            .map(|i| open_ticket(&base, &format!("和平路{i}号"), 10 + i).1)
            .collect::<Vec<_>>()
    });
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("hotline.backup");
    let file_arg = file.to_str().unwrap();

    // The store is held by the server: the offline form says to ask the server.
    let refused = run(data.path(), &["backup", "--out", file_arg], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--server"));

    let made = run(
        data.path(),
        &["backup", "--out", file_arg, "--server", &server.base],
        Some(("HOTLINE_ADMIN_TOKEN", &admin)),
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    assert!(String::from_utf8_lossy(&made.stdout).contains("backup written"));
    assert_eq!(writer.join().unwrap().len(), 5, "writes went on meanwhile");

    // A wrong token gets nothing.
    let denied = run(
        data.path(),
        &["backup", "--out", file_arg, "--server", &server.base],
        Some(("HOTLINE_ADMIN_TOKEN", "hl_not_a_token")),
    );
    assert!(!denied.status.success());
    assert!(String::from_utf8_lossy(&denied.stderr).contains("401"));
    assert!(
        !data.path().join("backups").exists()
            || std::fs::read_dir(data.path().join("backups"))
                .unwrap()
                .next()
                .is_none(),
        "the server keeps no copy"
    );
    drop(server);

    let restored = tempfile::tempdir().unwrap();
    let done = run(restored.path(), &["restore", file_arg], None);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );

    // Restoring over a store with data is refused; nothing is overwritten.
    let again = run(restored.path(), &["restore", file_arg], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds a store"));

    // The restored store serves the conversation and the ticket, and numbers go on from there.
    let server = start_server(restored.path());
    let history: Value = reqwest::blocking::get(format!(
        "{}/api/chat/sessions/{session}/messages",
        server.base
    ))
    .unwrap()
    .json()
    .unwrap();
    assert!(history.to_string().contains(&number), "{history}");
    let (_, next) = open_ticket(&server.base, "人民路", 2);
    assert_ne!(next, number);
    drop(server);
    let shown = run(restored.path(), &["tickets", "show", &number], None);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("建设路"));
    // Every ticket in the restored store has exactly one number: counts add up at open.
    let listed = run(
        restored.path(),
        &["tickets", "list", "--limit", "100"],
        None,
    );
    let listing = String::from_utf8_lossy(&listed.stdout).to_string();
    let numbers: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let unique: std::collections::BTreeSet<_> = numbers.iter().collect();
    assert_eq!(unique.len(), numbers.len(), "{listing}");
}

#[test]
fn a_damaged_backup_is_refused_before_anything_is_written() {
    let data = tempfile::tempdir().unwrap();
    let server = start_server(data.path());
    open_ticket(&server.base, "建设路", 1);
    drop(server);
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("offline.backup");
    let made = run(
        data.path(),
        &["backup", "--out", file.to_str().unwrap()],
        None,
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    let damaged = out.path().join("damaged.backup");
    std::fs::write(&damaged, &bytes).unwrap();
    let truncated = out.path().join("truncated.backup");
    std::fs::write(&truncated, &bytes[..middle]).unwrap();

    for broken in [&damaged, &truncated] {
        let target = tempfile::tempdir().unwrap();
        let refused = run(target.path(), &["restore", broken.to_str().unwrap()], None);
        assert!(!refused.status.success());
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            stderr.contains("damaged")
                || stderr.contains("incomplete")
                || stderr.contains("ends early"),
            "{stderr}"
        );
        assert!(!target.path().join("sled").exists(), "nothing written");
    }
}
