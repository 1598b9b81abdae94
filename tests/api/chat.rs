use serde_json::Value;

use crate::helpers::{reply_text, spawn_app};

#[tokio::test]
async fn health_check_answers_ok() {
    let app = spawn_app().await;
    let response = reqwest::get(format!("{}/healthz", app.base)).await.unwrap();
    assert_eq!(response.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn a_question_the_knowledge_base_answers_gets_the_article_and_no_ticket() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let response = app.say(&session, "身份证丢了要去哪里补办？").await;
    let text = reply_text(&response);
    assert!(text.contains("身份证丢了怎么补办"), "{text}");
    assert!(text.contains("工本费40元"), "{text}");
    assert_eq!(response["ticket"], Value::Null);
    let buttons = &response["replies"][1]["buttons"];
    assert_eq!(buttons[0]["label"], "有帮助");
    app.stop().await;
}

#[tokio::test]
async fn a_message_the_knowledge_base_cannot_answer_becomes_a_ticket_with_a_digit_number() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    let first = app
        .say(
            &session,
            "西城区和平路的路灯坏了一个星期了，晚上很黑，请安排人来修",
        )
        .await;
    assert_eq!(first["ticket"], Value::Null);
    assert!(reply_text(&first).contains("联系电话"), "{first}");
    app.say(&session, "13812345678").await;
    let response = app.say(&session, "确认").await;
    let number = response["ticket"]["number"].as_str().unwrap().to_string();
    assert!(
        number.len() >= 6 && number.chars().all(|c| c.is_ascii_digit()),
        "{number}"
    );
    assert!(reply_text(&response).contains(&number));
    // The street-light rule for 西城区 is confident: the ticket is dispatched at once.
    assert_eq!(response["ticket"]["status"], "已派遣");
    assert!(
        reply_text(&response).contains("西城区城市管理综合执法局"),
        "{response}"
    );
    app.stop().await;
}

#[tokio::test]
async fn concurrent_tickets_get_distinct_numbers() {
    let app = spawn_app().await;
    let mut tasks = Vec::new();
    for i in 0..20 {
        let session = app.new_session().await;
        let client = app.client.clone();
        let url = format!("{}/api/chat/sessions/{session}/messages", app.base);
        let report = format!("南山区海景路{i}号门口的井盖丢了，很危险，电话13812345678");
        app.say(&session, &report).await;
        tasks.push(tokio::spawn(async move {
            let body = serde_json::json!({ "text": "确认" });
            let v: Value = client
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["ticket"]["number"].as_str().unwrap().to_string()
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.push(t.await.unwrap());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 20);
    app.stop().await;
}

#[tokio::test]
async fn the_history_of_a_session_holds_both_sides_in_order() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.say(&session, "身份证丢了怎么补办").await;
    let history = app.history(&session).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages[0]["from"], "hotline");
    assert_eq!(messages[1]["from"], "citizen");
    assert_eq!(messages[1]["text"], "身份证丢了怎么补办");
    assert!(messages.len() >= 3);
    app.stop().await;
}

#[tokio::test]
async fn the_history_names_the_ticket_on_the_reply_that_opened_it_with_its_status_now() {
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.say(
        &session,
        "南山区海景路3号楼下烧烤店噪音扰民，电话13812345678",
    )
    .await;
    let opened = app.say(&session, "确认").await;
    let history = app.history(&session).await;
    let messages = history["messages"].as_array().unwrap();
    let named: Vec<&Value> = messages
        .iter()
        .filter(|m| m.get("ticket").is_some())
        .collect();
    assert_eq!(named.len(), 1, "only the reply that opened it: {history}");
    assert_eq!(messages.last(), Some(named[0]), "{history}");
    assert_eq!(named[0]["ticket"], opened["ticket"], "number and status");
    assert_eq!(named[0]["ticket"]["status"], "已派遣");
    app.stop().await;
}

#[tokio::test]
async fn messages_of_one_conversation_are_handled_one_at_a_time_and_none_is_lost() {
    let app = std::sync::Arc::new(spawn_app().await);
    let session = app.new_session().await;
    let mut tasks = Vec::new();
    for i in 0..10 {
        let app = app.clone();
        let session = session.clone();
        tasks.push(tokio::spawn(async move {
            app.say(&session, &format!("第{i}个问题：公积金怎么查余额"))
                .await
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let history = app.history(&session).await;
    let citizen: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["from"] == "citizen")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(citizen.len(), 10, "{citizen:?}");
    // Each citizen message is directly followed by its own replies.
    let messages = history["messages"].as_array().unwrap();
    for (i, m) in messages.iter().enumerate() {
        if m["from"] == "citizen" {
            assert_eq!(messages[i + 1]["from"], "hotline", "{history}");
        }
    }
    std::sync::Arc::into_inner(app).unwrap().stop().await;
}

#[tokio::test]
async fn an_idle_draft_is_offered_for_resumption_and_resumes_where_it_was() {
    let mut settings = crate::helpers::test_settings();
    settings.intake.resume_prompt_minutes = 0;
    let app = crate::helpers::spawn_app_in(tempfile::tempdir().unwrap(), settings).await;
    let session = app.new_session().await;
    let first = app
        .say(&session, "北湖区湖滨路的路灯坏了好几盏，晚上很黑")
        .await;
    assert!(reply_text(&first).contains("联系电话"), "{first}");
    let later = app.say(&session, "13812345678").await;
    let text = reply_text(&later);
    assert!(
        text.contains("未提交的诉求") && text.contains("湖滨路"),
        "{text}"
    );
    let resumed = app.say(&session, "继续").await;
    let text = reply_text(&resumed);
    assert!(
        text.contains("接着登记") && text.contains("联系电话"),
        "{text}"
    );
    app.stop().await;
}

#[tokio::test]
async fn feedback_is_counted_per_article_and_an_emergency_leaves_a_record() {
    use hotline::domain::RecordKind;
    use hotline::store::{RecordStore, SledStore};
    let app = spawn_app().await;
    let session = app.new_session().await;
    app.say(&session, "身份证丢了怎么补办").await;
    app.say(&session, "没帮助").await;
    app.say(&session, "有人晕倒了，没有呼吸了").await;
    let data = app.stop().await;

    let store = SledStore::open(data.path()).unwrap();
    let feedback = store.feedback("id-card-reissue-lost").unwrap();
    assert_eq!((feedback.helpful, feedback.not_helpful), (0, 1));
    let records = store.records(10).unwrap();
    assert!(
        records
            .iter()
            .any(|r| matches!(&r.kind, RecordKind::Emergency { numbers } if numbers[0] == "120")),
        "{records:?}"
    );
    store.close().unwrap();
}

/// 直接答复率 over real chat: the knowledge base answers, the citizen says it did not help and
/// registers the question as a ticket; that consultation is counted once, as the ticket, and a
/// second citizen whose answer helped counts as answered directly.
#[tokio::test]
async fn a_question_answered_then_registered_as_a_ticket_counts_once_in_the_direct_answer_rate() {
    use crate::helpers::{call, spawn_app_with_tokens, test_settings};
    let (app, tokens) = spawn_app_with_tokens(test_settings()).await;

    let session = app.new_session().await;
    let answer = app.say(&session, "身份证丢了怎么补办").await;
    assert!(reply_text(&answer).contains("工本费40元"), "{answer}");
    app.say(&session, "没帮助").await;
    let mut reply = app.say(&session, "登记诉求").await;
    for _ in 0..6 {
        let text = reply_text(&reply);
        if text.contains("请核对") {
            break;
        }
        let next = if text.contains("电话") {
            "13812345678"
        } else {
            "南山区海景路3号"
        };
        reply = app.say(&session, next).await;
    }
    let done = app.say(&session, "确认").await;
    assert!(done["ticket"]["number"].is_string(), "{done}");
    let helped = app.new_session().await;
    app.say(&helped, "身份证丢了怎么补办").await;
    app.say(&helped, "有帮助").await;

    let today = hotline::clock::today();
    let path = format!(
        "{}/api/admin/reports/rates?from={today}&to={today}",
        app.base
    );
    let (status, report) = call(&app.client, path, &tokens.admin, None).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["consultations"], 2, "{report}");
    assert_eq!(report["kb_answered"], 1, "{report}");
    assert_eq!(report["direct_answer_rate"], 0.5, "{report}");
    app.stop().await;
}
