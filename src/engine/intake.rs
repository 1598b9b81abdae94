//! The intake dialogue: from a first message to a complete ticket in as few turns as possible.
//!
//! Everything the first message already says is extracted; only what is missing is asked, one
//! question at a time, each answer validated with a hint on failure. A summary is confirmed, then
//! the ticket is stored (durably) and its number given. The citizen can correct a field, cancel or
//! ask for a person at any step.

use jiff::SignedDuration;
use minijinja::context;

use super::words::{self, Corrected};
use super::{Engine, EngineError, EngineOutput, TicketSummary, Turn, extract};
use crate::domain::{
    Button, Category, DialogueState, Draft, Field, NewTicket, OutboundReply, TicketEvent,
    TicketNumber, TicketStatus,
};
use crate::text::normalize;

/// Categories whose matters happen somewhere: a unit needs the place to act.
fn needs_place(category: Category) -> bool {
    matches!(
        category,
        Category::Help | Category::Complaint | Category::Report
    )
}

impl Engine {
    pub(super) async fn start_intake(
        &self,
        turn: &mut Turn<'_>,
        category: Category,
    ) -> Result<EngineOutput, EngineError> {
        let (text, normalized) = (turn.text, turn.normalized);
        self.start_intake_with(turn, category, text, normalized)
            .await
    }

    /// Starts a draft from `content` (the message, or the question a 没帮助 came from), whose
    /// [`normalize`] is `normalized`.
    pub(super) async fn start_intake_with(
        &self,
        turn: &mut Turn<'_>,
        category: Category,
        content: &str,
        normalized: &str,
    ) -> Result<EngineOutput, EngineError> {
        let districts = &self.settings.city.districts;
        let phone = extract::phone(normalized);
        let name = extract::name(normalized);
        let mut draft = Draft {
            category,
            content: mask_identity(content.trim(), normalized, name.as_deref()),
            district: extract::district(normalized, districts),
            address: extract::address(normalized, districts),
            phone: phone.or_else(|| turn.conversation.proven_phone.clone()),
            name,
            confidential: None,
            needs_place: needs_place(category),
            anonymous: false,
            awaiting: None,
            attempts: 0,
            started_at: turn.now,
        };
        if words::is_open_ticket(&words::bare_normalized(normalized)) {
            draft.content.clear();
        }
        if let Some(joined) = self.join_duplicate(turn, &draft).await? {
            return Ok(joined);
        }
        self.ask_next(turn, draft)
    }

    /// 并单: the same citizen raising the same open matter again within the window.
    async fn join_duplicate(
        &self,
        turn: &mut Turn<'_>,
        draft: &Draft,
    ) -> Result<Option<EngineOutput>, EngineError> {
        let window = SignedDuration::from_hours(self.settings.intake.duplicate_window_hours as i64);
        for number in turn.conversation.tickets.iter().rev() {
            let Some(mut ticket) = self.stores.tickets.get(*number)? else {
                continue;
            };
            let open = !matches!(
                ticket.status,
                TicketStatus::Closed
                    | TicketStatus::Surveyed
                    | TicketStatus::Withdrawn
                    | TicketStatus::Merged
            );
            let recent = turn.now.duration_since(ticket.details.created_at) <= window;
            if !(open && recent && same_matter(&ticket.details, draft)) {
                continue;
            }
            let before = ticket.clone();
            let note = self.bots.say(
                "event_repeated_report",
                context! { content => &draft.content },
            );
            ticket.events.push(TicketEvent::note(
                turn.now,
                format!("citizen:{}", turn.conversation.channel.as_str()),
                ticket.status,
                note,
            ));
            let summary = TicketSummary::of(&ticket);
            let text = self.bots.say(
                "ticket_joined",
                context! { number => ticket.number.to_string(), status => ticket.status.label() },
            );
            self.service
                .note_repeated_report(&before, ticket, turn.now)
                .await?;
            turn.conversation.state = DialogueState::Idle;
            return Ok(Some(EngineOutput {
                replies: vec![OutboundReply::text(text)],
                ticket: Some(summary),
                duplicate: false,
            }));
        }
        Ok(None)
    }

    /// Asks for the next missing field, or shows the summary to confirm.
    fn ask_next(&self, turn: &mut Turn<'_>, mut draft: Draft) -> Result<EngineOutput, EngineError> {
        let Some(field) = draft.next_missing() else {
            return Ok(self.show_summary(turn, draft));
        };
        if draft.awaiting != Some(field) {
            draft.attempts = 0;
        }
        draft.awaiting = Some(field);
        let reply = match field {
            Field::Content => OutboundReply::text(self.bots.text("ask_content")),
            Field::District => OutboundReply::text(self.bots.text("ask_district")).with_buttons(
                self.settings
                    .city
                    .districts
                    .iter()
                    .map(|d| Button::new(d.clone(), d.clone()))
                    .collect(),
            ),
            Field::Address => OutboundReply::text(self.bots.text("ask_address")),
            Field::Phone => OutboundReply::text(self.bots.text("ask_phone")),
            Field::Confidential => OutboundReply::text(self.bots.text("ask_confidential"))
                .with_buttons(vec![self.button("keep_secret"), self.button("no_secret")]),
        };
        turn.conversation.state = DialogueState::Intake { draft };
        Ok(EngineOutput::say(reply))
    }

    fn show_summary(&self, turn: &mut Turn<'_>, mut draft: Draft) -> EngineOutput {
        draft.awaiting = None;
        let text = self.bots.say(
            "confirm_summary",
            context! {
                category => draft.category.label(),
                content => &draft.content,
                district => &draft.district,
                address => &draft.address,
                phone => draft.phone.as_deref().map(extract::mask_phone),
                name => &draft.name,
                confidential => draft.confidential,
            },
        );
        turn.conversation.state = DialogueState::Confirming { draft };
        EngineOutput::say(
            OutboundReply::text(text)
                .with_buttons(vec![self.button("confirm"), self.button("cancel")]),
        )
    }

    /// The citizen answered the question in `draft.awaiting` (or corrected something);
    /// `category` is the classifier's reading of this message.
    pub(super) async fn continue_intake(
        &self,
        turn: &mut Turn<'_>,
        mut draft: Draft,
        category: Category,
    ) -> Result<EngineOutput, EngineError> {
        let idle = turn.now.duration_since(last_activity(turn));
        if self.draft_expired(&draft, turn) {
            turn.conversation.state = DialogueState::Idle;
            return self.new_matter(turn, category).await;
        }
        if idle > SignedDuration::from_mins(self.settings.intake.resume_prompt_minutes as i64)
            && !words::is_resume(turn.bare)
        {
            return Ok(self.offer_resume(turn, draft));
        }
        if words::is_resume(turn.bare) {
            let mut output = self.ask_next(turn, draft)?;
            output
                .replies
                .insert(0, OutboundReply::text(self.bots.text("resumed")));
            return Ok(output);
        }
        if self.apply_correction(&mut draft, turn.normalized) {
            return self.ask_next(turn, draft);
        }
        let text = turn.normalized;
        let districts = &self.settings.city.districts;
        match draft.awaiting {
            Some(Field::Content) | None => {
                draft.content =
                    mask_identity(turn.text.trim(), turn.normalized, draft.name.as_deref())
            }
            Some(Field::District) => match extract::district(text, districts) {
                Some(d) => {
                    draft.district = Some(d);
                    if draft.address.is_none() {
                        draft.address = extract::address(text, districts);
                    }
                }
                None => return Ok(self.reask(turn, draft, "invalid_district")),
            },
            Some(Field::Address) => {
                let found = extract::address(text, districts)
                    .or_else(|| (text.chars().count() >= 4).then(|| turn.text.trim().to_string()));
                match found {
                    Some(a) => draft.address = Some(a),
                    None => return Ok(self.reask(turn, draft, "invalid_address")),
                }
            }
            Some(Field::Phone) => {
                if let Some(p) = extract::phone(text) {
                    draft.phone = Some(p);
                } else if words::is_anonymous(turn.bare) && draft.attempts >= 1 {
                    draft.anonymous = true;
                } else {
                    return Ok(self.invalid_phone(turn, draft));
                }
            }
            Some(Field::Confidential) => match words::confidential_choice(turn.bare) {
                Some(choice) => draft.confidential = Some(choice),
                None => return Ok(self.reask(turn, draft, "ask_confidential_again")),
            },
        }
        self.ask_next(turn, draft)
    }

    fn draft_expired(&self, draft: &Draft, turn: &Turn<'_>) -> bool {
        let ttl = SignedDuration::from_hours(self.settings.intake.draft_ttl_hours as i64);
        turn.now.duration_since(draft.started_at) > ttl
    }

    fn offer_resume(&self, turn: &mut Turn<'_>, draft: Draft) -> EngineOutput {
        let text = self
            .bots
            .say("resume_prompt", context! { content => &draft.content });
        turn.conversation.state = DialogueState::Intake { draft };
        EngineOutput::say(
            OutboundReply::text(text)
                .with_buttons(vec![self.button("resume"), self.button("cancel")]),
        )
    }

    fn reask(&self, turn: &mut Turn<'_>, mut draft: Draft, template: &str) -> EngineOutput {
        draft.attempts = draft.attempts.saturating_add(1);
        let text = self.bots.say(
            template,
            context! { districts => &self.settings.city.districts },
        );
        let buttons = if draft.awaiting == Some(Field::District) {
            self.settings
                .city
                .districts
                .iter()
                .map(|d| Button::new(d.clone(), d.clone()))
                .collect()
        } else if draft.awaiting == Some(Field::Confidential) {
            vec![self.button("keep_secret"), self.button("no_secret")]
        } else {
            Vec::new()
        };
        turn.conversation.state = DialogueState::Intake { draft };
        EngineOutput::say(OutboundReply::text(text).with_buttons(buttons))
    }

    fn invalid_phone(&self, turn: &mut Turn<'_>, mut draft: Draft) -> EngineOutput {
        draft.attempts = draft.attempts.saturating_add(1);
        let give_up = draft.attempts >= self.settings.intake.max_phone_attempts;
        let reply = if give_up {
            OutboundReply::text(self.bots.text("phone_give_up"))
                .with_buttons(vec![self.button("anonymous"), self.button("cancel")])
        } else {
            OutboundReply::text(self.bots.text("invalid_phone"))
        };
        turn.conversation.state = DialogueState::Intake { draft };
        EngineOutput::say(reply)
    }

    /// Applies "地址改成…", "电话改为…", "我叫…" (in the normalised message); false when the
    /// message is not a correction.
    fn apply_correction(&self, draft: &mut Draft, normalized: &str) -> bool {
        if let Some(n) = extract::name(normalized) {
            draft.name = Some(n);
            return true;
        }
        let Some((field, value)) = words::correction(normalized) else {
            return false;
        };
        let districts = &self.settings.city.districts;
        match field {
            Corrected::Address => draft.address = Some(value),
            Corrected::Phone => draft.phone = extract::phone(&value).or(draft.phone.take()),
            Corrected::District => {
                draft.district = extract::district(&value, districts).or(draft.district.take())
            }
            Corrected::Name => draft.name = Some(value),
            Corrected::Content => draft.content = value,
        }
        true
    }

    pub(super) async fn confirming(
        &self,
        turn: &mut Turn<'_>,
        mut draft: Draft,
    ) -> Result<EngineOutput, EngineError> {
        if words::is_confirm(turn.bare) {
            return self.open_ticket(turn, draft).await;
        }
        if self.apply_correction(&mut draft, turn.normalized) {
            let mut output = self.ask_next(turn, draft)?;
            output
                .replies
                .insert(0, OutboundReply::text(self.bots.text("correction_applied")));
            return Ok(output);
        }
        if let Some(choice) = words::confidential_choice(turn.bare) {
            draft.confidential = Some(choice);
            return self.ask_next(turn, draft);
        }
        turn.conversation.state = DialogueState::Confirming { draft };
        Ok(EngineOutput::say(
            OutboundReply::text(self.bots.text("confirm_again"))
                .with_buttons(vec![self.button("confirm"), self.button("cancel")]),
        ))
    }

    async fn open_ticket(
        &self,
        turn: &mut Turn<'_>,
        draft: Draft,
    ) -> Result<EngineOutput, EngineError> {
        let confidential = draft
            .confidential
            .unwrap_or(draft.category == Category::Report);
        // Numbered and written now, durable with the turn (see `Engine::handle_queued`).
        let ticket = self
            .stores
            .tickets
            .create_pending(NewTicket {
                category: draft.category,
                content: draft.content,
                district: draft.district,
                address: draft.address,
                phone: draft.phone,
                name: draft.name,
                confidential,
                channel: turn.conversation.channel,
                conversation: turn.conversation.id,
                created_at: turn.now,
            })
            .await?;
        turn.conversation.tickets.push(ticket.number);
        turn.conversation.state = DialogueState::Idle;
        let (ticket, write) = self.service.on_created_change(ticket, turn.now)?;
        turn.ticket_write = write;
        let unit = ticket
            .handling
            .lead
            .as_ref()
            .and_then(|u| self.service.units().get(u.as_str()))
            .map(|u| u.name.clone());
        let deadline = ticket.handling.deadline.map(crate::clock::display);
        let limit_days = self
            .settings
            .time_limits
            .get(ticket.details.category.label())
            .copied()
            .unwrap_or(0);
        let text = self.bots.say(
            "ticket_created",
            context! {
                number => ticket.number.to_string(),
                status => ticket.status.label(),
                category => ticket.details.category.label(),
                limit_days => limit_days,
                deadline => deadline,
                unit => unit,
            },
        );
        Ok(EngineOutput {
            replies: vec![OutboundReply::text(text)],
            ticket: Some(TicketSummary::of(&ticket)),
            duplicate: false,
        })
    }
}

fn last_activity(turn: &Turn<'_>) -> jiff::Timestamp {
    // The transcript already holds this message; the activity before it is the one before last.
    let entries = &turn.conversation.transcript;
    entries
        .len()
        .checked_sub(2)
        .and_then(|i| entries.get(i))
        .map(|e| e.at)
        .unwrap_or(turn.now)
}

/// Compatible categories and either the same place or mostly the same words. A matter raised
/// again often comes back angrier (求助 → 投诉): those still count as the same matter.
fn same_matter(existing: &NewTicket, draft: &Draft) -> bool {
    let problem =
        |c: Category| matches!(c, Category::Help | Category::Complaint | Category::Report);
    let compatible = existing.category == draft.category
        || (problem(existing.category) && problem(draft.category));
    if !compatible {
        return false;
    }
    let same_place = existing.address.is_some()
        && existing.address == draft.address
        && existing.district == draft.district;
    same_place || similarity(&existing.content, &draft.content) >= 0.5
}

/// Jaccard similarity of character bigrams of the normalised texts.
pub fn similarity(a: &str, b: &str) -> f32 {
    let grams = |t: &str| -> std::collections::HashSet<(char, char)> {
        let chars: Vec<char> = normalize(t)
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (x, y) = (grams(a), grams(b));
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let shared = x.intersection(&y).count() as f32;
    shared / x.union(&y).count() as f32
}

/// The content as units will read it: phone numbers and the citizen's name masked (both have
/// their own fields, shown or withheld by the rules for the viewer). `normalized` is the
/// content's [`normalize`], read while nothing has been masked yet.
fn mask_identity(content: &str, normalized: &str, name: Option<&str>) -> String {
    debug_assert_eq!(normalized, normalize(content));
    let (mut out, mut look) = match name {
        Some(n) if !n.is_empty() && content.contains(n) => {
            let out = content.replace(n, &extract::mask_name(n));
            let look = normalize(&out);
            (out, look)
        }
        _ => (content.to_string(), normalized.to_string()),
    };
    while let Some(phone) = extract::phone(&look) {
        let masked = extract::mask_phone(&phone);
        let replaced = replace_digits(&out, &phone, &masked);
        if replaced == out {
            break;
        }
        out = replaced;
        look = normalize(&out);
    }
    out
}

/// Replaces the digit sequence `digits` in `text` (which may be spaced or dashed, or full-width)
/// with `with`.
fn replace_digits(text: &str, digits: &str, with: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let want: Vec<char> = digits.chars().collect();
    for start in 0..chars.len() {
        let (mut i, mut j) = (start, 0);
        while i < chars.len() && j < want.len() {
            let c = crate::text::to_half_width(chars[i]);
            if c == want[j] {
                j += 1;
            } else if !(j > 0 && (c == '-' || c == ' ')) {
                break;
            }
            i += 1;
        }
        if j == want.len() {
            let before: String = chars[..start].iter().collect();
            let after: String = chars[i..].iter().collect();
            return format!("{before}{with}{after}");
        }
    }
    text.to_string()
}

/// A ticket number in the message (its [`words::bare`] form), if the message is nothing else.
pub(super) fn bare_ticket_number(bare: &str) -> Option<TicketNumber> {
    (bare.chars().all(|c| c.is_ascii_digit())).then(|| TicketNumber::parse(bare))?
}
