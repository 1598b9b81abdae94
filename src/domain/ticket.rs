//! Tickets (工单): a citizen's request with a number, a category and an audit trail.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::{Callback, Channel, ConversationId, Handling, TicketAction};

/// 诉求类型, plus 紧急 for what belongs to 110/119/120/122.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Category {
    #[serde(rename = "咨询")]
    Consultation,
    #[serde(rename = "求助")]
    Help,
    #[serde(rename = "投诉")]
    Complaint,
    #[serde(rename = "举报")]
    Report,
    #[serde(rename = "建议")]
    Suggestion,
    #[serde(rename = "表扬")]
    Praise,
    #[serde(rename = "紧急")]
    Emergency,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::Consultation,
        Category::Help,
        Category::Complaint,
        Category::Report,
        Category::Suggestion,
        Category::Praise,
        Category::Emergency,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Consultation => "咨询",
            Category::Help => "求助",
            Category::Complaint => "投诉",
            Category::Report => "举报",
            Category::Suggestion => "建议",
            Category::Praise => "表扬",
            Category::Emergency => "紧急",
        }
    }

    pub fn from_label(label: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.label() == label)
    }
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A ticket number: a sequence number followed by a Luhn check digit, digits only, so a citizen
/// can type it on a keypad and a typo is caught rather than showing someone else's ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TicketNumber(u64);

impl TicketNumber {
    /// The first sequence number issued: numbers start at seven digits.
    pub const FIRST_SEQUENCE: u64 = 100_000;

    pub fn from_sequence(sequence: u64) -> Self {
        TicketNumber(sequence * 10 + u64::from(luhn_check_digit(sequence)))
    }

    pub fn sequence(self) -> u64 {
        self.0 / 10
    }

    pub fn value(self) -> u64 {
        self.0
    }

    /// The number whose [`value`](Self::value) is `value`, if its check digit is right.
    pub fn from_value(value: u64) -> Option<Self> {
        let candidate = TicketNumber::from_sequence(value / 10);
        (candidate.0 == value).then_some(candidate)
    }

    /// Accepts the digits a citizen typed; rejects anything whose check digit is wrong.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.trim();
        if digits.len() < 2 || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: u64 = digits.parse().ok()?;
        let candidate = TicketNumber::from_sequence(value / 10);
        (candidate.0 == value).then_some(candidate)
    }
}

impl std::fmt::Display for TicketNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

fn luhn_check_digit(sequence: u64) -> u8 {
    let mut sum = 0u64;
    let mut n = sequence;
    let mut double = true;
    while n > 0 {
        let mut d = n % 10;
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        n /= 10;
    }
    ((10 - sum % 10) % 10) as u8
}

/// Where a ticket stands in the 接诉即办 loop. [`super::apply`] is the only way between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// 已受理: recorded, waiting for dispatch.
    Accepted,
    /// 已派遣: sent to a handling unit.
    Dispatched,
    /// 已签收: the unit took it.
    Signed,
    /// 办理中.
    InProgress,
    /// 已答复: the unit replied to the citizen.
    Replied,
    /// 已办结.
    Closed,
    /// 已回访.
    Surveyed,
    /// 已撤回 by the citizen.
    Withdrawn,
    /// 已并单 into another ticket.
    Merged,
    /// 已退回: the lead unit objected to jurisdiction (管辖异议); the hotline reviews.
    Returned,
    /// 已提级: a second objection or a third re-handling; waits for the hotline to name a
    /// coordinator (分级协调), who then receives it as a dispatch.
    Escalated,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 11] = [
        TicketStatus::Accepted,
        TicketStatus::Dispatched,
        TicketStatus::Signed,
        TicketStatus::InProgress,
        TicketStatus::Replied,
        TicketStatus::Closed,
        TicketStatus::Surveyed,
        TicketStatus::Withdrawn,
        TicketStatus::Merged,
        TicketStatus::Returned,
        TicketStatus::Escalated,
    ];

    /// The snake_case name, as serialized (`in_progress`).
    pub fn name(self) -> &'static str {
        match self {
            TicketStatus::Accepted => "accepted",
            TicketStatus::Dispatched => "dispatched",
            TicketStatus::Signed => "signed",
            TicketStatus::InProgress => "in_progress",
            TicketStatus::Replied => "replied",
            TicketStatus::Closed => "closed",
            TicketStatus::Surveyed => "surveyed",
            TicketStatus::Withdrawn => "withdrawn",
            TicketStatus::Merged => "merged",
            TicketStatus::Returned => "returned",
            TicketStatus::Escalated => "escalated",
        }
    }

    /// A unit owes work against the deadline (the deadline warnings watch these).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            TicketStatus::Dispatched | TicketStatus::Signed | TicketStatus::InProgress
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            TicketStatus::Accepted => "已受理",
            TicketStatus::Dispatched => "已派遣",
            TicketStatus::Signed => "已签收",
            TicketStatus::InProgress => "办理中",
            TicketStatus::Replied => "已答复",
            TicketStatus::Closed => "已办结",
            TicketStatus::Surveyed => "已回访",
            TicketStatus::Withdrawn => "已撤回",
            TicketStatus::Merged => "已并单",
            TicketStatus::Returned => "已退回",
            TicketStatus::Escalated => "已提级",
        }
    }
}

/// One entry of a ticket's append-only audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketEvent {
    pub at: Timestamp,
    pub actor: String,
    pub from: Option<TicketStatus>,
    pub to: TicketStatus,
    pub note: String,
    /// The action applied, in full (reasons, units, deadlines); `None` for events recorded
    /// outside the lifecycle (受理, a citizen's repeated report joined to the ticket).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<TicketAction>,
}

impl TicketEvent {
    /// An event that records something (a repeated report, a remark) without an action or a
    /// change of status.
    pub fn note(
        at: Timestamp,
        actor: impl Into<String>,
        status: TicketStatus,
        note: impl Into<String>,
    ) -> Self {
        TicketEvent {
            at,
            actor: actor.into(),
            from: Some(status),
            to: status,
            note: note.into(),
            action: None,
        }
    }
}

/// What the engine knows when it opens a ticket; the store gives it a number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTicket {
    pub category: Category,
    pub content: String,
    pub district: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub confidential: bool,
    pub channel: Channel,
    pub conversation: ConversationId,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub number: TicketNumber,
    pub status: TicketStatus,
    #[serde(flatten)]
    pub details: NewTicket,
    pub events: Vec<TicketEvent>,
    #[serde(default)]
    pub handling: Handling,
    /// 回访 rounds (first and final ratings both kept).
    #[serde(default)]
    pub callback: Callback,
}

impl Ticket {
    pub fn open(number: TicketNumber, details: NewTicket) -> Ticket {
        let event = TicketEvent {
            at: details.created_at,
            actor: format!("citizen:{}", details.channel.as_str()),
            from: None,
            to: TicketStatus::Accepted,
            note: "诉求已受理".to_string(),
            action: None,
        };
        Ticket {
            number,
            status: TicketStatus::Accepted,
            details,
            events: vec![event],
            handling: Handling::default(),
            callback: Callback::default(),
        }
    }
}

#[cfg(test)]
impl NewTicket {
    /// The unit tests' one ticket as intake makes it: a complaint on the web chat (路灯不亮 in
    /// 南山区, no address, phone or name) received at `created_at`. A test that needs something
    /// else says so with struct update syntax.
    pub(crate) fn sample(created_at: Timestamp) -> NewTicket {
        NewTicket {
            category: Category::Complaint,
            content: "路灯不亮".into(),
            district: Some("南山区".into()),
            address: None,
            phone: None,
            name: None,
            confidential: false,
            channel: Channel::Web,
            conversation: ConversationId::new(),
            created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_round_trip_and_catch_a_mistyped_digit() {
        let n = TicketNumber::from_sequence(100_123);
        assert_eq!(TicketNumber::parse(&n.to_string()), Some(n));
        let typo = (n.value() + 1).to_string();
        assert_eq!(TicketNumber::parse(&typo), None);
        assert_eq!(n.to_string().len(), 7);
    }

    #[test]
    fn ticket_numbers_reject_non_digits() {
        assert_eq!(TicketNumber::parse("12a4567"), None);
        assert_eq!(TicketNumber::parse(""), None);
    }

    #[test]
    fn a_swapped_pair_of_digits_is_caught() {
        let n = TicketNumber::from_sequence(100_456).to_string();
        let mut b: Vec<char> = n.chars().collect();
        b.swap(2, 3);
        let swapped: String = b.into_iter().collect();
        assert_eq!(TicketNumber::parse(&swapped), None);
    }

    #[test]
    fn status_names_are_their_serialized_form() {
        for status in TicketStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.name());
        }
    }

    #[test]
    fn categories_round_trip_through_their_labels() {
        for c in Category::ALL {
            assert_eq!(Category::from_label(c.label()), Some(c));
        }
    }
}
