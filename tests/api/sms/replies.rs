//! Replies: numbered choices, segments capped with a link, 退订/订阅, outages and the outbox.

use super::*;

#[tokio::test]
async fn a_numbered_choice_answered_with_a_digit_picks_that_option() {
    let fake = FakeSms::start().await;
    let app = sms_app(&fake).await;
    text(&app, CITIZEN, "SMc1", "身份证丢了怎么补办").await;
    let asked = fake.wait_quiet(1).await;
    assert!(
        joined(&asked).contains("回复1 有帮助"),
        "{}",
        joined(&asked)
    );

    // A full-width digit, as many phone keyboards type it.
    text(&app, CITIZEN, "SMc2", "１").await;
    let thanked = fake.wait_quiet(asked.len() + 1).await;
    let reply = joined(&thanked[asked.len()..]);
    assert!(reply.contains("感谢您的反馈"), "{reply}");

    text(&app, CITIZEN, "SMc3", "公积金怎么提取").await;
    let asked_again = fake.wait_quiet(thanked.len() + 1).await;
    assert!(joined(&asked_again[thanked.len()..]).contains("回复2 没帮助"));
    text(&app, CITIZEN, "SMc4", "2").await;
    let sorry = fake.wait_quiet(asked_again.len() + 1).await;
    let reply = joined(&sorry[asked_again.len()..]);
    assert!(reply.contains("抱歉没能帮到您"), "{reply}");
    assert!(reply.contains("回复1 登记诉求"), "{reply}");
    app.stop().await;
}

#[tokio::test]
async fn a_units_long_reply_reaches_the_citizen_by_sms_segmented_capped_and_linked() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let unit = create_token(data.path(), Role::Unit("nanshan-urban".into())).await;
    let app = spawn_app_in(data, sms_settings(&fake)).await;

    text(
        &app,
        CITIZEN,
        "SMt1",
        "南山区海景路3号楼下的烧烤店噪音扰民到凌晨",
    )
    .await;
    let summary = fake.wait_quiet(1).await;
    assert!(joined(&summary).contains("请核对"), "{}", joined(&summary));
    assert!(
        joined(&summary).contains("电话：138****8000"),
        "the sender's number is the proven contact: {}",
        joined(&summary)
    );
    text(&app, CITIZEN, "SMt2", "确认").await;
    let created = fake.wait_quiet(summary.len() + 1).await;
    let receipt = joined(&created[summary.len()..]);
    let number: String = receipt
        .split("工单号：")
        .nth(1)
        .unwrap_or_else(|| panic!("no ticket number in {receipt}"))
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();

    let path = format!("{}/api/units/tickets/{number}", app.base);
    let signed = app
        .client
        .post(format!("{path}/sign"))
        .bearer_auth(&unit)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status(), 200);
    let answer = "经现场核查，该烧烤店确有夜间经营噪音超标的情况。我局已依法约谈店主，责令其每晚十点后停止露天经营，并加装隔音设施。".repeat(4);
    let replied = app
        .client
        .post(format!("{path}/reply"))
        .bearer_auth(&unit)
        .json(&json!({ "text": answer }))
        .send()
        .await
        .unwrap();
    assert_eq!(replied.status(), 200);

    let all = fake.wait_quiet(created.len() + 4).await;
    let reply = &all[created.len()..];
    assert_eq!(reply.len(), 4, "capped at [sms] max_segments: {reply:#?}");
    for (i, segment) in reply.iter().enumerate() {
        assert!(units(&segment.body) <= 70, "{}", segment.body);
        assert!(
            segment.body.starts_with(&format!("({}/4)", i + 1)),
            "{}",
            segment.body
        );
        assert_eq!(segment.to, CITIZEN);
    }
    assert!(reply[0].body.contains(&number), "{}", reply[0].body);
    let last = &reply[3].body;
    assert!(
        last.contains("全文请见：https://12345.example.gov.cn"),
        "{last}"
    );
    app.stop().await;
}

#[tokio::test]
async fn after_opting_out_nothing_more_is_sent_until_the_citizen_subscribes_again() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    let sms = core.sms.clone();
    let deliver = || core.outbox.run_once(Timestamp::now());

    assert_eq!(
        sms.receive(inbound(CITIZEN, "o1", "退訂")).await.unwrap(),
        Outcome::OptedOut
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 1);
    assert!(fake.sent()[0].body.contains("退订"), "{:?}", fake.sent());
    // Confirmed once: TD again sends nothing.
    assert_eq!(
        sms.receive(inbound(CITIZEN, "o2", "ＴＤ")).await.unwrap(),
        Outcome::OptedOut
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 1);

    // A unit's later reply is dropped, not held.
    queue_later(&core, "【工单答复】路灯已修复。").await;
    deliver().await;
    assert_eq!(fake.sent().len(), 1);
    assert_eq!(core.store.pending().unwrap(), 0);

    assert_eq!(
        sms.receive(inbound(CITIZEN, "o3", "订阅")).await.unwrap(),
        Outcome::OptedIn
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 2);
    assert!(fake.sent()[1].body.contains("恢复"), "{:?}", fake.sent());
    queue_later(&core, "【工单答复】路灯已修复。").await;
    deliver().await;
    assert_eq!(fake.sent().len(), 3);

    // STOP again, then any ordinary message subscribes again and is answered.
    assert_eq!(
        sms.receive(inbound(CITIZEN, "o4", "stop")).await.unwrap(),
        Outcome::OptedOut
    );
    deliver().await;
    assert_eq!(fake.sent().len(), 4);
    let answered = sms
        .receive(inbound(CITIZEN, "o5", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert_eq!(answered, Outcome::Answered);
    deliver().await;
    assert!(fake.sent().len() > 4);
    assert!(fake.sent()[4].body.contains("身份证"), "{:?}", fake.sent());
    core.store.close().unwrap();
}

#[tokio::test]
async fn while_the_provider_is_down_intake_goes_on_and_the_outbox_delivers_later_without_repeats() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    fake.set_down(true);
    let outcome = core
        .sms
        .receive(inbound(CITIZEN, "d1", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome::Answered,
        "intake does not wait for the provider"
    );
    assert_eq!(core.outbox.run_once(Timestamp::now()).await, 0);
    assert!(fake.calls() >= 1);
    assert!(fake.sent().is_empty());
    assert_eq!(core.store.pending().unwrap(), 1);

    fake.set_down(false);
    let later = Timestamp::now() + 2.hours();
    assert_eq!(core.outbox.run_once(later).await, 1);
    assert!(joined(&fake.sent()).contains("身份证"));
    let before = fake.sent().len();

    // A long message; the provider fails after two segments, then comes back.
    queue_later(
        &core,
        &"办理居住证需要携带身份证原件和租房合同，到社区服务中心填写申请表。".repeat(8),
    )
    .await;
    fake.go_down_after(2);
    core.outbox.run_once(later).await;
    assert_eq!(fake.sent().len(), before + 2);
    fake.set_down(false);
    core.outbox.run_once(later + 2.hours()).await;
    let segments: Vec<String> = fake.sent()[before..]
        .iter()
        .map(|s| s.body.clone())
        .collect();
    assert_eq!(segments.len(), 4, "{segments:#?}");
    for (i, segment) in segments.iter().enumerate() {
        assert!(
            segment.starts_with(&format!("({}/4)", i + 1)),
            "{segments:#?}"
        );
    }
    assert_eq!(core.store.pending().unwrap(), 0);
    core.store.close().unwrap();
}

#[tokio::test]
async fn options_of_a_later_message_such_as_a_survey_are_numbered_and_a_digit_answers_them() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    let conversation = core
        .gateway
        .conversation_for(Channel::Sms, CITIZEN)
        .await
        .unwrap();
    let survey = OutboundReply::text("您反映的问题是否已解决？").with_buttons(vec![
        hotline::domain::Button::new("已解决", "survey:solved"),
        hotline::domain::Button::new("未解决", "survey:unsolved"),
    ]);
    core.store
        .enqueue(OutboxMessage::new(
            conversation.id,
            Channel::Sms,
            survey,
            None,
            Timestamp::now(),
        ))
        .await
        .unwrap();
    core.outbox.run_once(Timestamp::now()).await;
    let sent = fake.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].body.contains("回复1 已解决") && sent[0].body.contains("回复2 未解决"));

    // The citizen answers "２": the engine receives the second option's payload.
    core.sms
        .receive(inbound(CITIZEN, "s1", "２"))
        .await
        .unwrap();
    let stored = core.engine.conversation(conversation.id).unwrap().unwrap();
    let said: Vec<&str> = stored
        .transcript
        .iter()
        .filter(|e| e.from == Speaker::Citizen)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(said, ["survey:unsolved"]);
    core.store.close().unwrap();
}

#[tokio::test]
async fn a_number_the_provider_reports_unsubscribed_is_recorded_as_opted_out_not_retried() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&sms_settings(&fake), &paths(data.path())).unwrap();
    fake.unsubscribe(CITIZEN);
    queue_later(&core, "【工单答复】路灯已修复。").await;
    core.outbox.run_once(Timestamp::now()).await;
    assert_eq!(core.store.pending().unwrap(), 0, "dropped, not retried");
    let calls = fake.calls();
    assert_eq!(calls, 1);
    // Nothing more is even tried for that number.
    queue_later(&core, "【工单答复】已复查。").await;
    core.outbox.run_once(Timestamp::now()).await;
    assert_eq!(fake.calls(), calls);
    assert!(fake.sent().is_empty());
    core.store.close().unwrap();
}

#[tokio::test]
async fn a_reply_is_stored_with_its_turn_so_a_crash_before_sending_and_a_retry_deliver_it_once() {
    let fake = FakeSms::start().await;
    let data = tempfile::tempdir().unwrap();
    let settings = sms_settings(&fake);
    let core = Core::build(&settings, &paths(data.path())).unwrap();
    let outcome = core
        .sms
        .receive(inbound(CITIZEN, "crash1", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Answered);
    // The turn is on disk and, in the same write, its reply is queued.
    assert_eq!(core.store.pending().unwrap(), 1);
    // The process dies before the outbox worker sent anything.
    core.store.close().unwrap();
    drop(core);
    assert!(fake.sent().is_empty());

    let core = Core::build(&settings, &paths(data.path())).unwrap();
    assert_eq!(core.store.pending().unwrap(), 1, "the reply survived");
    // The provider retries the message it never saw acknowledged: a no-op.
    let retry = core
        .sms
        .receive(inbound(CITIZEN, "crash1", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert_eq!(retry, Outcome::Duplicate);
    assert_eq!(core.store.pending().unwrap(), 1);
    assert_eq!(core.outbox.run_once(Timestamp::now()).await, 1);
    let sent = fake.sent();
    assert!(joined(&sent).contains("身份证"), "{sent:#?}");
    assert_eq!(core.outbox.run_once(Timestamp::now() + 2.hours()).await, 0);
    assert_eq!(fake.sent().len(), sent.len(), "nothing sent twice");
    let mut bodies: Vec<&str> = sent.iter().map(|s| s.body.as_str()).collect();
    bodies.dedup();
    assert_eq!(bodies.len(), sent.len(), "each segment once: {sent:#?}");
    let id = core
        .store
        .chat_conversation(Channel::Sms, CITIZEN)
        .unwrap()
        .unwrap();
    let conversation = ConversationStore::get(&*core.store, id).unwrap().unwrap();
    let turns = |who: Speaker| {
        conversation
            .transcript
            .iter()
            .filter(|e| e.from == who)
            .count()
    };
    assert_eq!(turns(Speaker::Citizen), 1);
    core.store.close().unwrap();
}
