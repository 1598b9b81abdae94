//! Runs the conversation transcripts in tests/transcripts/ against the real server.
//! The format is described in tests/transcripts/README.md.

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value;

use crate::helpers::{TestApp, reply_text, repo, spawn_app, spawn_app_in, test_settings};

struct Run {
    app: Option<TestApp>,
    sessions: HashMap<String, String>,
    current: String,
    captured: HashMap<String, String>,
    last: Value,
}

impl Run {
    fn app(&self) -> &TestApp {
        self.app.as_ref().unwrap()
    }

    fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (k, v) in &self.captured {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        unescape(&out)
    }

    async fn session(&mut self) -> String {
        if let Some(s) = self.sessions.get(&self.current) {
            return s.clone();
        }
        let s = self.app().new_session().await;
        self.sessions.insert(self.current.clone(), s.clone());
        s
    }
}

/// `\u0007` style escapes, so control characters can be written in a transcript.
fn unescape(text: &str) -> String {
    let re = Regex::new(r"\\u([0-9a-fA-F]{4})").unwrap();
    re.replace_all(text, |c: &regex::Captures| {
        char::from_u32(u32::from_str_radix(&c[1], 16).unwrap())
            .unwrap()
            .to_string()
    })
    .into_owned()
}

async fn run_transcript(name: &str) {
    let path = repo().join("tests/transcripts").join(format!("{name}.txt"));
    let script = std::fs::read_to_string(&path).unwrap();
    let mut run = Run {
        app: Some(spawn_app().await),
        sessions: HashMap::new(),
        current: "main".into(),
        captured: HashMap::new(),
        last: Value::Null,
    };
    for (n, line) in script.lines().enumerate() {
        let at = format!("{}:{}", path.display(), n + 1);
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(text) = line.strip_prefix("> ") {
            let text = run.fill(text);
            let session = run.session().await;
            run.last = run.app().say(&session, &text).await;
        } else if let Some(pattern) = line.strip_prefix("<! ") {
            let replies = reply_text(&run.last);
            let re = Regex::new(&run.fill(pattern)).unwrap();
            assert!(
                !re.is_match(&replies),
                "{at}: /{pattern}/ must not match:\n{replies}"
            );
        } else if let Some(pattern) = line.strip_prefix("< ") {
            let replies = reply_text(&run.last);
            let re = Regex::new(&run.fill(pattern)).unwrap();
            let Some(caps) = re.captures(&replies) else {
                panic!("{at}: /{pattern}/ does not match:\n{replies}");
            };
            for name in re.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    run.captured
                        .insert(name.to_string(), m.as_str().to_string());
                }
            }
        } else if line == "= ticket" {
            assert!(
                run.last["ticket"].is_object(),
                "{at}: expected a ticket in {}",
                run.last
            );
        } else if line == "= no ticket" {
            assert!(
                run.last["ticket"].is_null(),
                "{at}: expected no ticket in {}",
                run.last
            );
        } else if let Some(name) = line.strip_prefix("@ session ") {
            run.current = name.trim().to_string();
        } else if line == "@ restart" {
            let data = run.app.take().unwrap().stop().await;
            run.app = Some(spawn_app_in(data, test_settings()).await);
        } else {
            panic!("{at}: cannot read this line: {line:?}");
        }
    }
    run.app.take().unwrap().stop().await;
}

macro_rules! transcripts {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                run_transcript(stringify!($name)).await;
            }
        )*

        #[test]
        fn every_transcript_file_has_a_test() {
            let listed = [$(stringify!($name)),*];
            for entry in std::fs::read_dir(repo().join("tests/transcripts")).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "txt") {
                    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
                    assert!(listed.contains(&stem.as_str()), "{stem}.txt has no test: add it to transcripts!");
                }
            }
        }
    };
}

transcripts!(
    consultation_answered,
    noise_complaint,
    report_confidential,
    emergency,
    refused_matter,
    correction,
    cancel,
    status_query,
    duplicate,
    restart,
    bad_input,
    flood,
    human,
);
