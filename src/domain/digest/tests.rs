use jiff::Timestamp;

use super::*;
use crate::domain::{ConversationId, NewTicket};

fn ticket(phone: Option<&str>) -> Ticket {
    Ticket::open(
        TicketNumber::from_sequence(100_042),
        NewTicket {
            category: Category::Complaint,
            content: "南山区桃源街道龙珠路路灯不亮".into(),
            district: Some("南山区".into()),
            address: Some("南山区桃源街道龙珠路18号".into()),
            phone: phone.map(str::to_string),
            name: Some("张三".into()),
            confidential: false,
            channel: Channel::Sms,
            conversation: ConversationId::new(),
            created_at: Timestamp::new(1_790_000_123, 456_789_012).unwrap(),
        },
    )
}

#[test]
fn a_digest_reads_back_exactly_as_it_was_written() {
    for phone in [None, Some("13800000000")] {
        let digest = TicketDigest::of(&ticket(phone));
        let bytes = digest.encode();
        assert_eq!(TicketDigest::decode(&bytes).unwrap(), digest);
        assert_eq!(
            TicketDigest::created_at_of(&bytes).unwrap(),
            digest.created_at
        );
    }
}

#[test]
fn a_digest_keeps_no_phone_number_or_name() {
    let digest = TicketDigest::of(&ticket(Some("13800000000")));
    let bytes = digest.encode();
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("13800000000") && !text.contains("张三"));
    assert_eq!(digest.citizen, Some(citizen_hash("13800000000")));
    assert_ne!(citizen_hash("13800000000"), citizen_hash("13800000001"));
}

#[test]
fn malformed_bytes_are_an_error_not_a_panic() {
    let bytes = TicketDigest::of(&ticket(None)).encode();
    for cut in 0..bytes.len() {
        assert!(TicketDigest::decode(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(TicketDigest::decode(&longer).is_err());
    let mut other_layout = bytes;
    other_layout[0] = 99;
    assert!(TicketDigest::decode(&other_layout).is_err());
}
