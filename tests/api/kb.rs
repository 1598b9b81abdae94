//! The knowledge base: normalisation, gating, validity, reload, broken articles, `kb check`.

use std::path::Path;
use std::sync::Arc;

use hotline::auth::Role;
use hotline::kb::{AnswerPolicy, Snapshot};
use jiff::civil::date;
use serde_json::Value;

use crate::helpers::{create_token, hotline_command, repo, spawn_app_in, test_settings};

fn bundled() -> Snapshot {
    Snapshot::load(&repo().join("knowledge"), "示例市", |_, _| {}).unwrap()
}

fn policy() -> AnswerPolicy {
    AnswerPolicy {
        answer_threshold: 0.4,
        suggest_threshold: 0.2,
        region: "示例市".into(),
    }
}

fn answer(kb: &Snapshot, text: &str) -> Option<String> {
    kb.lookup(text, &policy(), date(2026, 11, 22))
        .unwrap()
        .answer()
        .map(|a| a.id.clone())
}

#[test]
fn traditional_full_width_typos_and_abbreviations_reach_the_right_article() {
    let kb = bundled();
    let cases = [
        ("我的身份證不見了，要怎麼補辦？", "id-card-reissue-lost"),
        ("ＧＪＪ余额在哪里查", "housing-fund-balance-query"),
        ("gjj 租房提取", "housing-fund-withdraw-rent"),
        (
            "户口薄丢了还能给孩子上户口吗 新生儿落户",
            "hukou-newborn-registration",
        ),
        ("公积今贷款怎么申请", "housing-fund-loan-application"),
        ("SFZ过期了怎么换", "id-card-renewal-expiry"),
    ];
    for (text, expected) in cases {
        let top = kb.lookup(text, &policy(), date(2026, 11, 22)).unwrap();
        assert_eq!(
            top.hits.first().map(|h| h.article.id.as_str()),
            Some(expected),
            "{text}"
        );
    }
}

#[test]
fn questions_the_knowledge_base_cannot_answer_get_no_automatic_answer() {
    let kb = bundled();
    for text in [
        "体育中心这周末有没有演唱会",
        "帮我推荐一家好吃的川菜馆",
        "我的手机屏幕碎了去哪里修",
        "你会唱歌吗",
    ] {
        assert_eq!(answer(&kb, text), None, "{text}");
    }
}

const ARTICLE: &str = r#"+++
id = "ID"
title = "TITLE"
domain = "测试"
questions = ["QUESTION"]
keywords = ["KEYWORD"]
unit = "hotline-center"
region = "REGION"
effective = 2019-01-01
expires = EXPIRES
updated = 2025-01-01
summary = "测试摘要"
+++
BODY
"#;

fn write_article(dir: &Path, id: &str, title: &str, keyword: &str, region: &str, expires: &str) {
    let text = ARTICLE
        .replace("ID", id)
        .replace("TITLE", title)
        .replace("QUESTION", title)
        .replace("KEYWORD", keyword)
        .replace("REGION", region)
        .replace("EXPIRES", expires)
        .replace("BODY", &format!("{title}的办理方法。"));
    std::fs::create_dir_all(dir.join("articles")).unwrap();
    std::fs::write(dir.join("articles").join(format!("{id}.md")), text).unwrap();
}

#[test]
fn an_expired_article_or_one_for_another_district_never_answers_automatically() {
    let dir = tempfile::tempdir().unwrap();
    write_article(
        dir.path(),
        "boat-licence",
        "游船驾驶证怎么申领",
        "游船驾驶证",
        "示例市",
        "2026-01-31",
    );
    write_article(
        dir.path(),
        "kite-permit",
        "放风筝许可怎么办理",
        "风筝许可",
        "滨江县",
        "2028-12-31",
    );
    write_article(
        dir.path(),
        "drone-filing",
        "无人机飞行报备怎么办",
        "无人机报备",
        "示例市",
        "2028-12-31",
    );
    let kb = Snapshot::load(dir.path(), "示例市", |_, _| {}).unwrap();
    assert_eq!(answer(&kb, "游船驾驶证怎么申领"), None, "expired");
    assert_eq!(answer(&kb, "放风筝许可怎么办理"), None, "another district");
    assert_eq!(
        answer(&kb, "滨江县放风筝许可怎么办理").as_deref(),
        Some("kite-permit"),
        "the citizen named the district"
    );
    assert_eq!(
        answer(&kb, "无人机飞行报备怎么办").as_deref(),
        Some("drone-filing")
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_reload_swaps_atomically_under_concurrent_queries_and_a_broken_article_is_rejected_with_its_location()
 {
    let knowledge = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("knowledge"), knowledge.path());
    let data = tempfile::tempdir().unwrap();
    let token = create_token(data.path(), Role::Admin).await;
    let mut settings = test_settings();
    settings.knowledge.dir = knowledge.path().to_path_buf();
    let app = Arc::new(spawn_app_in(data, settings).await);

    // Citizens keep asking while the knowledge base is reloaded.
    let mut askers = Vec::new();
    for _ in 0..4 {
        let app = app.clone();
        askers.push(tokio::spawn(async move {
            let session = app.new_session().await;
            for i in 0..15 {
                let question = format!("第{i}次问：身份证丢了怎么补办");
                let r = app.say(&session, &question).await;
                let text = crate::helpers::reply_text(&r);
                assert!(text.contains("身份证丢了怎么补办"), "{text}");
            }
        }));
    }
    write_article(
        knowledge.path(),
        "drone-filing",
        "无人机飞行报备怎么办",
        "无人机报备",
        "示例市",
        "2028-12-31",
    );
    std::fs::write(
        knowledge.path().join("articles/broken.md"),
        "+++\nid = \"broken\"\ntitle = \"坏文章\"\nsummary = 12\n+++\n正文",
    )
    .unwrap();
    let reload = |token: String| {
        let app = app.clone();
        async move {
            app.client
                .post(format!("{}/api/admin/kb/reload", app.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
        }
    };
    let response = reload(token.clone()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let rejected = body["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{body}");
    assert!(rejected[0]["file"].as_str().unwrap().ends_with("broken.md"));
    assert_eq!(rejected[0]["line"], 4, "{body}");
    assert_eq!(body["articles"], 101);
    for asker in askers {
        asker.await.unwrap();
    }
    let session = app.new_session().await;
    let r = app.say(&session, "无人机飞行报备怎么办").await;
    assert!(
        crate::helpers::reply_text(&r).contains("无人机飞行报备怎么办的办理方法"),
        "{r}"
    );

    assert_eq!(reload("hl_wrong".into()).await.status(), 401);
    let app = Arc::into_inner(app).unwrap();
    app.stop().await;
}

#[test]
fn kb_check_passes_on_the_bundled_articles_and_names_file_and_line_of_each_problem() {
    let data = tempfile::tempdir().unwrap();
    let ok = hotline_command(data.path())
        .args(["kb", "check"])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );

    let knowledge = tempfile::tempdir().unwrap();
    write_article(
        knowledge.path(),
        "old",
        "旧文章",
        "旧",
        "示例市",
        "2020-12-31",
    );
    write_article(
        knowledge.path(),
        "dup",
        "文章甲",
        "甲",
        "示例市",
        "2028-12-31",
    );
    let dup = std::fs::read_to_string(knowledge.path().join("articles/dup.md")).unwrap();
    std::fs::write(knowledge.path().join("articles/dup2.md"), dup).unwrap();
    write_article(
        knowledge.path(),
        "long",
        "文章乙",
        "乙",
        "示例市",
        "2028-12-31",
    );
    let path = knowledge.path().join("articles/long.md");
    let long = std::fs::read_to_string(&path)
        .unwrap()
        .replace("测试摘要", &"长".repeat(131));
    std::fs::write(&path, long).unwrap();
    let output = hotline_command(data.path())
        .env("HOTLINE__KNOWLEDGE__DIR", knowledge.path())
        .args(["kb", "check"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("old.md:10: expired"), "{stdout}");
    assert!(stdout.contains("dup2.md:2: duplicate id `dup`"), "{stdout}");
    assert!(
        stdout.contains("long.md:12: summary is 131 characters"),
        "{stdout}"
    );
}
