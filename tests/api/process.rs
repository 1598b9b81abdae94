//! The real binary: restart, SIGTERM, a second process on the same store, broken config.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::helpers::{hotline_command, repo, server_log, start_server, start_server_with_env};

fn post(base: &str, path: &str, body: Option<Value>) -> Value {
    let client = reqwest::blocking::Client::new();
    let mut request = client.post(format!("{base}{path}"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().unwrap().json().unwrap()
}

#[test]
fn a_ticket_survives_a_restart_and_sigterm_stops_cleanly() {
    let data = tempfile::tempdir().unwrap();
    let server = start_server(data.path());
    let session = post(&server.base, "/api/chat/sessions", None)["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let messages = format!("/api/chat/sessions/{session}/messages");
    post(
        &server.base,
        &messages,
        Some(
            json!({ "text": "北湖区建设路有个大坑，电动车摔了好几个，请赶紧填上，电话13812345678" }),
        ),
    );
    let reply = post(&server.base, &messages, Some(json!({ "text": "确认" })));
    let number = reply["ticket"]["number"].as_str().unwrap().to_string();

    // While the server holds the store, another command says so in one line.
    let busy = hotline_command(data.path())
        .args(["tickets", "list"])
        .output()
        .unwrap();
    assert!(!busy.status.success());
    let stderr = String::from_utf8_lossy(&busy.stderr);
    assert!(
        stderr.contains("in use by another hotline process"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");

    let status = server.terminate();
    assert!(status.success(), "exit status after SIGTERM: {status:?}");

    // After the stop, the command line reads what the server wrote.
    let shown = hotline_command(data.path())
        .args(["tickets", "show", &number])
        .output()
        .unwrap();
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(String::from_utf8_lossy(&shown.stdout).contains("大坑"));

    // A restarted server finds the conversation and issues the next number.
    let server = start_server(data.path());
    let history: Value = reqwest::blocking::get(format!(
        "{}/api/chat/sessions/{session}/messages",
        server.base
    ))
    .unwrap()
    .json()
    .unwrap();
    let text = history.to_string();
    assert!(text.contains(&number), "{text}");
    post(
        &server.base,
        &messages,
        Some(json!({ "text": "西城区和平路的路灯也不亮了，麻烦修一下，电话13812345678" })),
    );
    let again = post(&server.base, &messages, Some(json!({ "text": "确认" })));
    let second = again["ticket"]["number"].as_str().unwrap().to_string();
    assert_ne!(second, number);
    assert!(server.terminate().success());
}

#[test]
fn a_broken_config_file_stops_start_up_with_file_line_and_key() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("hotline.toml"),
        "[server]\nlisten = \"127.0.0.1:0\"\nbody_limt_bytes = 10\n",
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .current_dir(repo())
        .arg("--data")
        .arg(data.path())
        .arg("--config")
        .arg(config.path())
        .arg("serve")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("hotline.toml:3:"), "{stderr}");
    assert!(stderr.contains("body_limt_bytes"), "{stderr}");
}

#[test]
fn hotline_chat_talks_to_the_engine_in_the_terminal_and_numbers_pick_buttons() {
    use std::io::Write;
    let data = tempfile::tempdir().unwrap();
    let mut child = hotline_command(data.path())
        .arg("chat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("身份证丢了怎么补办\n1\n/quit\n".as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("【身份证丢了怎么补办？】"), "{stdout}");
    assert!(stdout.contains("[1] 有帮助"), "{stdout}");
    assert!(
        stdout.contains("感谢您的反馈"),
        "button 1 was sent as 有帮助: {stdout}"
    );
}

#[test]
fn a_full_conversation_with_a_phone_and_a_name_leaves_neither_in_the_logs() {
    let data = tempfile::tempdir().unwrap();
    let server = start_server_with_env(data.path(), &[("RUST_LOG", "debug")]);
    let base = server.base.clone();
    let session = post(&base, "/api/chat/sessions", None)["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    let messages = format!("/api/chat/sessions/{session}/messages");
    for text in [
        "我叫王小明，南山区海景路5号楼下烧烤店太吵了，电话13987654321",
        "确认",
        "查询1000003",
    ] {
        post(&base, &messages, Some(json!({ "text": text })));
    }
    assert!(server.terminate().success());
    let logs = server_log(data.path());
    assert!(logs.contains("serving"), "logging was on: {logs}");
    for secret in ["13987654321", "王小明", "小明"] {
        assert!(!logs.contains(secret), "{secret} appears in the logs");
    }
}
