//! Status queries ("查询1000013"): shown to the citizen who opened the ticket, or to someone who
//! gives the last four digits of its contact phone; nobody else.

use minijinja::context;
use serde::Serialize;

use super::{Engine, EngineError, EngineOutput, TicketSummary, Turn, extract};
use crate::clock;
use crate::domain::{DialogueState, OutboundReply, Ticket, TicketNumber};

/// Wrong digits allowed before the query is refused.
const MAX_DIGIT_ATTEMPTS: u8 = 2;

#[derive(Serialize)]
struct EventLine {
    at: String,
    text: String,
}

impl Engine {
    pub(super) fn status_query(&self, turn: &mut Turn<'_>) -> Result<EngineOutput, EngineError> {
        let number = extract::ticket_number(turn.normalized)
            .or_else(|| turn.conversation.tickets.last().copied());
        let Some(number) = number else {
            let digits: String = turn.text.chars().filter(|c| c.is_ascii_digit()).collect();
            let key = if digits.is_empty() {
                "status_ask_number"
            } else {
                "status_not_found"
            };
            let text = self.bots.say(key, context! { number => digits });
            return Ok(EngineOutput::say(OutboundReply::text(text)));
        };
        let Some(ticket) = self.stores.tickets.get(number)? else {
            let text = self.bots.say(
                "status_not_found",
                context! { number => number.to_string() },
            );
            return Ok(EngineOutput::say(OutboundReply::text(text)));
        };
        let own = ticket.details.conversation == turn.conversation.id
            || (turn.conversation.proven_phone.is_some()
                && turn.conversation.proven_phone == ticket.details.phone);
        if own {
            return Ok(self.show_status(&ticket));
        }
        if ticket.details.phone.is_none() {
            return Ok(EngineOutput::say(OutboundReply::text(
                self.bots.text("status_denied"),
            )));
        }
        turn.conversation.state = DialogueState::VerifyingStatus {
            number,
            attempts: 0,
        };
        Ok(EngineOutput::say(OutboundReply::text(
            self.bots.text("status_ask_digits"),
        )))
    }

    pub(super) fn verify_status(
        &self,
        turn: &mut Turn<'_>,
        number: TicketNumber,
        attempts: u8,
    ) -> Result<EngineOutput, EngineError> {
        let ticket = self.stores.tickets.get(number)?;
        let digits = extract::last_four_digits(turn.text);
        let matches = match (&ticket, &digits) {
            (Some(t), Some(d)) => t
                .details
                .phone
                .as_deref()
                .is_some_and(|p| p.ends_with(d.as_str())),
            _ => false,
        };
        match ticket {
            Some(t) if matches => Ok(self.show_status(&t)),
            _ if attempts + 1 < MAX_DIGIT_ATTEMPTS && digits.is_some() => {
                turn.conversation.state = DialogueState::VerifyingStatus {
                    number,
                    attempts: attempts + 1,
                };
                Ok(EngineOutput::say(OutboundReply::text(format!(
                    "{}\n{}",
                    self.bots.text("status_denied"),
                    self.bots.text("status_ask_digits")
                ))))
            }
            _ => Ok(EngineOutput::say(OutboundReply::text(
                self.bots.text("status_denied"),
            ))),
        }
    }

    fn show_status(&self, ticket: &Ticket) -> EngineOutput {
        let units = self.service.units();
        let unit_name = |u: &crate::domain::UnitId| units.get(u.as_str()).map(|u| u.name.clone());
        let events: Vec<EventLine> = ticket
            .events
            .iter()
            .map(|e| EventLine {
                at: clock::display(e.at),
                text: crate::domain::lifecycle::citizen_text(e, unit_name),
            })
            .collect();
        let latest = ticket.handling.replies.last().map(|r| r.text.clone());
        let unit = ticket.handling.lead.as_ref().and_then(unit_name);
        let deadline = ticket.handling.deadline.map(clock::display);
        let text = self.bots.say(
            "status_reply",
            context! {
                number => ticket.number.to_string(),
                status => ticket.status.label(),
                unit => unit,
                deadline => deadline,
                latest => latest,
                events => events,
            },
        );
        EngineOutput {
            replies: vec![OutboundReply::text(text)],
            ticket: Some(TicketSummary::of(ticket)),
            duplicate: false,
        }
    }
}
