//! The channel gateway every platform adapter uses: chat mapping, idempotency that survives a
//! restart, and proven phone numbers linking a citizen's tickets across channels.

use hotline::app::{Core, Paths};
use hotline::channels::{ChannelMessage, Received};
use hotline::domain::Channel;

use crate::helpers::{repo, test_settings};

fn paths(data: &std::path::Path) -> Paths {
    Paths {
        data: data.to_path_buf(),
        config: repo().join("config"),
    }
}

fn sms(from: &str, id: &str, text: &str) -> ChannelMessage {
    ChannelMessage {
        channel: Channel::Sms,
        chat: from.to_string(),
        message_id: id.to_string(),
        text: text.to_string(),
        proven_phone: Some(from.to_string()),
    }
}

fn replies(received: &Received) -> String {
    match received {
        Received::Handled { output, .. } => output
            .replies
            .iter()
            .map(|r| r.text.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        Received::Duplicate { .. } => String::new(),
    }
}

#[tokio::test]
async fn a_retried_platform_message_changes_nothing_even_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let settings = test_settings();
    let core = Core::build(&settings, &paths(data.path())).unwrap();
    let first = core
        .gateway
        .receive(sms("13800138000", "SM1", "身份证丢了怎么补办"))
        .await
        .unwrap();
    let Received::Handled { conversation, .. } = first else {
        panic!("the first delivery must be handled");
    };
    assert!(!replies(&first).is_empty());
    let again = core
        .gateway
        .receive(sms("13800138000", "SM1", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert!(matches!(again, Received::Duplicate { conversation: c } if c == conversation));
    let transcript_len = core
        .engine
        .conversation(conversation)
        .unwrap()
        .unwrap()
        .transcript
        .len();
    core.store.close().unwrap();
    drop(core);

    let core = Core::build(&settings, &paths(data.path())).unwrap();
    let after_restart = core
        .gateway
        .receive(sms("13800138000", "SM1", "身份证丢了怎么补办"))
        .await
        .unwrap();
    assert!(matches!(after_restart, Received::Duplicate { conversation: c } if c == conversation));
    let stored = core.engine.conversation(conversation).unwrap().unwrap();
    assert_eq!(stored.transcript.len(), transcript_len);
    assert_eq!(stored.address.as_deref(), Some("13800138000"));

    // A new message id from the same number continues the same conversation.
    let next = core
        .gateway
        .receive(sms("13800138000", "SM2", "谢谢"))
        .await
        .unwrap();
    assert!(matches!(next, Received::Handled { conversation: c, .. } if c == conversation));
    core.store.close().unwrap();
}

#[tokio::test]
async fn concurrent_retries_of_a_first_message_open_one_conversation_and_one_reply() {
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&test_settings(), &paths(data.path())).unwrap();
    let gateway = core.gateway.clone();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move {
                gateway
                    .receive(sms("13900139000", "SM-same", "公积金怎么提取"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut handled = 0;
    let mut conversations = std::collections::HashSet::new();
    for task in tasks {
        match task.await.unwrap() {
            Received::Handled { conversation, .. } => {
                handled += 1;
                conversations.insert(conversation);
            }
            Received::Duplicate { conversation } => {
                conversations.insert(conversation);
            }
        }
    }
    assert_eq!(handled, 1);
    assert_eq!(conversations.len(), 1);
    core.store.close().unwrap();
}

#[tokio::test]
async fn a_proven_phone_lets_the_citizen_see_a_ticket_opened_on_another_channel() {
    let data = tempfile::tempdir().unwrap();
    let core = Core::build(&test_settings(), &paths(data.path())).unwrap();
    let phone = "13700137000";
    // The ticket is opened by SMS: the sender's number is proven and becomes the contact.
    let mut number = None;
    for (i, text) in [
        "南山区科技园路口的路灯坏了一个星期了，晚上很黑",
        "南山区科技园科发路10号门口",
        "张先生",
        "确认",
    ]
    .iter()
    .enumerate()
    {
        let received = core
            .gateway
            .receive(sms(phone, &format!("in-{i}"), text))
            .await
            .unwrap();
        if let Received::Handled { output, .. } = &received
            && let Some(ticket) = &output.ticket
        {
            number = Some(ticket.number.clone());
        }
    }
    let number = number.expect("the SMS dialogue opens a ticket");

    // On Telegram, a stranger asking for that ticket is asked for the phone's last four digits.
    let stranger = ChannelMessage {
        channel: Channel::Telegram,
        chat: "5001".into(),
        message_id: "u1".into(),
        text: format!("查询{number}"),
        proven_phone: None,
    };
    let asked = core.gateway.receive(stranger).await.unwrap();
    assert!(!replies(&asked).contains(&number), "{}", replies(&asked));

    // The citizen shares their own contact on Telegram: the ticket is theirs there too.
    core.gateway
        .prove_phone(Channel::Telegram, "5002", phone.to_string())
        .await
        .unwrap();
    let own = ChannelMessage {
        channel: Channel::Telegram,
        chat: "5002".into(),
        message_id: "u2".into(),
        text: format!("查询{number}"),
        proven_phone: None,
    };
    let shown = core.gateway.receive(own).await.unwrap();
    assert!(replies(&shown).contains(&number), "{}", replies(&shown));
    core.store.close().unwrap();
}
