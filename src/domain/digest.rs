//! A ticket's digest: the few facts analysis reads (when it arrived, where, what about, who leads,
//! when it was signed, replied and closed, how its callback ended), a tenth of the ticket's size.
//! The store keeps one beside each ticket, written in the same transaction, so reports, the rates
//! and the hotspot detector read digests over a period instead of whole tickets.
//!
//! Everything here is derived from the ticket alone (no configuration): what depends on config
//! (the matter from `config/topics.toml`, the rates' weights and rated round) is worked out when
//! the digest is read.

use jiff::Timestamp;
use sha2::{Digest as _, Sha256};

use super::lifecycle::TicketAction;
use super::place::street_of;
use super::{Category, Channel, Satisfaction, SurveyOutcome, Ticket, TicketNumber, TicketStatus};

/// One ticket as analysis sees it. [`TicketDigest::of`] is the only way one is made from a
/// ticket; [`encode`](TicketDigest::encode) and [`decode`](TicketDigest::decode) give it back
/// unchanged.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketDigest {
    pub number: TicketNumber,
    pub created_at: Timestamp,
    pub channel: Channel,
    pub category: Category,
    pub status: TicketStatus,
    pub district: Option<String>,
    /// [`street_of`] the address (the address itself is not kept).
    pub street: Option<String>,
    /// What the citizen wrote (the matter and the knowledge gaps are read from it).
    pub content: String,
    /// [`citizen_hash`] of the phone, to count distinct citizens; never the number itself.
    pub citizen: Option<u64>,
    pub lead: Option<String>,
    /// The 办结 deadline now in force.
    pub deadline: Option<Timestamp>,
    /// The latest entry into 已签收, 已答复, 已办结 (a re-handled ticket is replied to again).
    pub signed_at: Option<Timestamp>,
    pub replied_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub surveyed: bool,
    /// At least one jurisdiction objection (退单).
    pub objected: bool,
    /// At least one 重办.
    pub rehandled: bool,
    /// The 签收 deadline of the first dispatch (as of the first 签收, when there was one).
    pub accept_by: Option<Timestamp>,
    pub first_signed_at: Option<Timestamp>,
    /// The 办结 deadline in force (extensions included) at the first 办结, or now if never closed.
    pub close_deadline: Option<Timestamp>,
    pub first_closed_at: Option<Timestamp>,
    /// How the first and the last finished callback round ended (comments left out).
    pub first_outcome: Option<SurveyOutcome>,
    pub last_outcome: Option<SurveyOutcome>,
}

/// A stable hash of a phone number (the first 8 bytes of its SHA-256): the same in every build,
/// so digests stored by one version count citizens like the next.
pub fn citizen_hash(phone: &str) -> u64 {
    let hash = Sha256::digest(phone.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_be_bytes(first)
}

impl TicketDigest {
    pub fn of(t: &Ticket) -> TicketDigest {
        // The latest entry into a status counts (a re-handled ticket is replied to again).
        let last_into = |status: TicketStatus| {
            t.events
                .iter()
                .rev()
                .find(|e| e.to == status && e.from != Some(status))
                .map(|e| e.at)
        };
        let (accept_by, first_signed_at) = signing(t);
        let (close_deadline, first_closed_at) = closing(t);
        let d = &t.details;
        TicketDigest {
            number: t.number,
            created_at: d.created_at,
            channel: d.channel,
            category: d.category,
            status: t.status,
            district: d.district.clone(),
            street: d
                .address
                .as_deref()
                .and_then(|a| street_of(a, d.district.as_deref())),
            content: d.content.clone(),
            citizen: d.phone.as_deref().map(citizen_hash),
            lead: t.handling.lead.as_ref().map(|u| u.as_str().to_string()),
            deadline: t.handling.deadline,
            signed_at: last_into(TicketStatus::Signed),
            replied_at: last_into(TicketStatus::Replied),
            closed_at: last_into(TicketStatus::Closed),
            surveyed: t.events.iter().any(|e| e.to == TicketStatus::Surveyed),
            objected: t.handling.objections > 0,
            rehandled: t.handling.rehandles > 0,
            accept_by,
            first_signed_at,
            close_deadline,
            first_closed_at,
            first_outcome: t.callback.first().map(without_comment),
            last_outcome: t.callback.last().map(without_comment),
        }
    }
}

fn without_comment(outcome: &SurveyOutcome) -> SurveyOutcome {
    match outcome {
        SurveyOutcome::Answered {
            solved,
            satisfaction,
            ..
        } => SurveyOutcome::Answered {
            solved: *solved,
            satisfaction: *satisfaction,
            comment: None,
        },
        SurveyOutcome::Unreachable => SurveyOutcome::Unreachable,
    }
}

/// The first dispatch's 签收 deadline (looked for up to the first 签收) and that 签收's moment.
fn signing(t: &Ticket) -> (Option<Timestamp>, Option<Timestamp>) {
    let mut accept_by = None;
    for e in &t.events {
        match &e.action {
            Some(TicketAction::Dispatch { deadlines, .. })
            | Some(TicketAction::UpholdObjection { deadlines, .. })
                if accept_by.is_none() =>
            {
                accept_by = Some(deadlines.accept_by)
            }
            Some(TicketAction::Sign) => return (accept_by, Some(e.at)),
            _ => {}
        }
    }
    (accept_by, None)
}

/// The 办结 deadline in force at the first 办结 (the latest dispatch's, moved by approved
/// extensions), or at the end when never closed; and that 办结's moment.
fn closing(t: &Ticket) -> (Option<Timestamp>, Option<Timestamp>) {
    let (mut deadline, mut requested) = (None, None);
    for e in &t.events {
        match &e.action {
            Some(TicketAction::Dispatch { deadlines, .. })
            | Some(TicketAction::UpholdObjection { deadlines, .. }) => {
                deadline = Some(deadlines.deadline)
            }
            Some(TicketAction::RequestExtension { until, .. }) => requested = Some(*until),
            Some(TicketAction::ApproveExtension) => deadline = requested.or(deadline),
            Some(TicketAction::Close { .. }) => return (deadline, Some(e.at)),
            _ => {}
        }
    }
    (deadline, None)
}

/// The first byte of an encoded digest; bumped (with the store's index version) when the
/// layout changes.
const LAYOUT: u8 = 2;

const CHANNELS: [Channel; 4] = [Channel::Web, Channel::Telegram, Channel::Sms, Channel::Api];

/// Why stored bytes are not a digest.
#[derive(Debug, thiserror::Error)]
#[error("a stored ticket digest is malformed ({0})")]
pub struct DigestError(&'static str);

impl TicketDigest {
    /// The stored form: fixed-width numbers, length-prefixed strings, one presence bit per
    /// optional field.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(96 + self.content.len()));
        w.0.push(LAYOUT);
        w.u64(self.number.value());
        w.time(self.created_at);
        w.index(CHANNELS.iter().position(|c| *c == self.channel));
        w.index(Category::ALL.iter().position(|c| *c == self.category));
        w.index(TicketStatus::ALL.iter().position(|s| *s == self.status));
        let times = self.times();
        // One presence bit per optional field: the eight times, then the citizen, district,
        // street and lead; then three flags.
        let mut present: u16 = 0;
        for (i, t) in times.iter().enumerate() {
            present |= u16::from(t.is_some()) << i;
        }
        present |= u16::from(self.citizen.is_some()) << 8
            | u16::from(self.district.is_some()) << 9
            | u16::from(self.street.is_some()) << 10
            | u16::from(self.lead.is_some()) << 11
            | u16::from(self.surveyed) << 12
            | u16::from(self.objected) << 13
            | u16::from(self.rehandled) << 14;
        w.0.extend_from_slice(&present.to_be_bytes());
        for t in times.into_iter().flatten() {
            w.time(t);
        }
        if let Some(hash) = self.citizen {
            w.u64(hash);
        }
        for text in [&self.district, &self.street, &self.lead]
            .into_iter()
            .flatten()
        {
            w.text(text);
        }
        w.text(&self.content);
        w.outcome(self.first_outcome.as_ref());
        w.outcome(self.last_outcome.as_ref());
        w.0
    }

    fn times(&self) -> [Option<Timestamp>; 8] {
        [
            self.deadline,
            self.signed_at,
            self.replied_at,
            self.closed_at,
            self.accept_by,
            self.first_signed_at,
            self.close_deadline,
            self.first_closed_at,
        ]
    }

    pub fn decode(bytes: &[u8]) -> Result<TicketDigest, DigestError> {
        let mut r = Reader(bytes);
        if r.byte()? != LAYOUT {
            return Err(DigestError("unknown layout"));
        }
        let number = TicketNumber::from_value(r.u64()?).ok_or(DigestError("number"))?;
        let created_at = r.time()?;
        let channel = *CHANNELS
            .get(usize::from(r.byte()?))
            .ok_or(DigestError("channel"))?;
        let category = *Category::ALL
            .get(usize::from(r.byte()?))
            .ok_or(DigestError("category"))?;
        let status = *TicketStatus::ALL
            .get(usize::from(r.byte()?))
            .ok_or(DigestError("status"))?;
        let present = u16::from_be_bytes([r.byte()?, r.byte()?]);
        let has = |bit: u32| present & (1 << bit) != 0;
        let mut times = [None; 8];
        for (i, time) in times.iter_mut().enumerate() {
            if has(i as u32) {
                *time = Some(r.time()?);
            }
        }
        let [
            deadline,
            signed_at,
            replied_at,
            closed_at,
            accept_by,
            first_signed_at,
            close_deadline,
            first_closed_at,
        ] = times;
        let citizen = if has(8) { Some(r.u64()?) } else { None };
        let district = if has(9) { Some(r.text()?) } else { None };
        let street = if has(10) { Some(r.text()?) } else { None };
        let lead = if has(11) { Some(r.text()?) } else { None };
        let content = r.text()?;
        let first_outcome = r.outcome()?;
        let last_outcome = r.outcome()?;
        if !r.0.is_empty() {
            return Err(DigestError("trailing bytes"));
        }
        Ok(TicketDigest {
            number,
            created_at,
            channel,
            category,
            status,
            district,
            street,
            content,
            citizen,
            lead,
            deadline,
            signed_at,
            replied_at,
            closed_at,
            surveyed: has(12),
            objected: has(13),
            rehandled: has(14),
            accept_by,
            first_signed_at,
            close_deadline,
            first_closed_at,
            first_outcome,
            last_outcome,
        })
    }

    /// When the ticket arrived, read from an encoded digest without decoding the rest.
    pub fn created_at_of(bytes: &[u8]) -> Result<Timestamp, DigestError> {
        let mut r = Reader(bytes.get(9..).ok_or(DigestError("too short"))?);
        r.time()
    }
}

struct Writer(Vec<u8>);

impl Writer {
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    fn index(&mut self, position: Option<usize>) {
        self.0.push(position.unwrap_or(0) as u8);
    }

    /// Nanoseconds since 1970 in 8 bytes: exact from 1677 to 2262 (a ticket's times are "now"
    /// plus a deadline); a time outside is clamped to that range.
    fn time(&mut self, t: Timestamp) {
        let nanos = t.as_nanosecond();
        let nanos = i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX });
        self.0.extend_from_slice(&nanos.to_be_bytes());
    }

    fn text(&mut self, s: &str) {
        let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(&s.as_bytes()[..len as usize]);
    }

    /// 0 none; 1 未联系上; 2 answered, then solved (0 unknown, 1 no, 2 yes) and satisfaction
    /// (0 unknown, else 1 + its place in [`Satisfaction::FIVE`]).
    fn outcome(&mut self, outcome: Option<&SurveyOutcome>) {
        match outcome {
            None => self.0.push(0),
            Some(SurveyOutcome::Unreachable) => self.0.push(1),
            Some(SurveyOutcome::Answered {
                solved,
                satisfaction,
                ..
            }) => {
                self.0.push(2);
                self.0.push(match solved {
                    None => 0,
                    Some(false) => 1,
                    Some(true) => 2,
                });
                self.0.push(match satisfaction {
                    None => 0,
                    Some(s) => {
                        1 + Satisfaction::FIVE.iter().position(|x| x == s).unwrap_or(0) as u8
                    }
                });
            }
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DigestError> {
        if self.0.len() < n {
            return Err(DigestError("too short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn byte(&mut self) -> Result<u8, DigestError> {
        Ok(self.take(1)?[0])
    }

    fn u64(&mut self) -> Result<u64, DigestError> {
        let bytes: [u8; 8] = self.take(8)?.try_into().map_err(|_| DigestError("u64"))?;
        Ok(u64::from_be_bytes(bytes))
    }

    fn time(&mut self) -> Result<Timestamp, DigestError> {
        let nanos = i64::from_be_bytes(self.take(8)?.try_into().map_err(|_| DigestError("time"))?);
        Timestamp::from_nanosecond(i128::from(nanos)).map_err(|_| DigestError("time out of range"))
    }

    fn text(&mut self) -> Result<String, DigestError> {
        let len = u32::from_be_bytes(
            self.take(4)?
                .try_into()
                .map_err(|_| DigestError("length"))?,
        );
        let bytes = self.take(len as usize)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DigestError("text is not UTF-8"))
    }

    fn outcome(&mut self) -> Result<Option<SurveyOutcome>, DigestError> {
        match self.byte()? {
            0 => Ok(None),
            1 => Ok(Some(SurveyOutcome::Unreachable)),
            _ => {
                let solved = match self.byte()? {
                    0 => None,
                    1 => Some(false),
                    _ => Some(true),
                };
                let satisfaction = match self.byte()? {
                    0 => None,
                    n => Some(
                        *Satisfaction::FIVE
                            .get(usize::from(n - 1))
                            .ok_or(DigestError("satisfaction"))?,
                    ),
                };
                Ok(Some(SurveyOutcome::Answered {
                    solved,
                    satisfaction,
                    comment: None,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests;
