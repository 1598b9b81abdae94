//! The conversation engine: one [`InboundMessage`] in, replies (and maybe a ticket) out.
//!
//! The engine owns the order of things for a message: validate, take global commands (取消, 人工,
//! 查询), continue the dialogue the conversation is in, or triage a new matter (emergency,
//! refusal, consultation, intake). Every state change is durable before the reply leaves.
//! Messages of one conversation are handled one at a time; different conversations in parallel.
//! The dialogue itself is an explicit state machine ([`DialogueState`]) stored with the
//! conversation, so a restart mid-dialogue resumes where it was.

pub mod extract;
mod intake;
pub mod locks;
mod status;
mod survey;
pub mod triage;
pub mod words;

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use minijinja::context;
use serde::Serialize;

use crate::bots::{AnswerStyle, Bots};
use crate::classify::Classifier;
use crate::clock;
use crate::config::{CitySettings, IntakeSettings};
use crate::domain::{
    Button, Category, Channel, Conversation, ConversationId, DialogueState, InboundMessage,
    IntakeRecord, OutboundReply, OutboxMessage, RecordKind, Speaker, Ticket, TranscriptEntry,
};
use crate::kb::{Analysis, Article, Decision, KbError, KnowledgeBase};
use crate::store::{
    ConversationStore, RecordStore, StoreError, TicketStore, TicketWrite, TurnWrites,
};
use crate::text::{char_len, normalize};
use locks::StripedLocks;
use triage::RefusalRules;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no conversation {0}")]
    UnknownConversation(ConversationId),
    #[error("the message has no text")]
    EmptyText,
    #[error("the message is {actual} characters long; the limit is {max}")]
    TooLong { max: usize, actual: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Kb(#[from] KbError),
    #[error(transparent)]
    Service(#[from] crate::tickets::ServiceError),
}

/// What a ticket looks like to the citizen who opened it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketSummary {
    pub number: String,
    pub status: &'static str,
}

impl TicketSummary {
    pub fn of(ticket: &Ticket) -> Self {
        TicketSummary {
            number: ticket.number.to_string(),
            status: ticket.status.label(),
        }
    }
}

/// Makes the outbox messages a turn queues from its output (see [`Engine::handle_queued`]).
pub type QueueReplies<'a> =
    &'a (dyn Fn(ConversationId, &EngineOutput) -> Vec<OutboxMessage> + Send + Sync);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EngineOutput {
    pub replies: Vec<OutboundReply>,
    pub ticket: Option<TicketSummary>,
    /// The message's platform id was handled before: nothing changed and nothing is to be sent.
    pub duplicate: bool,
}

impl EngineOutput {
    fn say(reply: OutboundReply) -> Self {
        EngineOutput {
            replies: vec![reply],
            ticket: None,
            duplicate: false,
        }
    }
}

/// Everything the engine is configured with.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    pub max_text_chars: usize,
    pub city: CitySettings,
    pub intake: IntakeSettings,
    pub time_limits: std::collections::BTreeMap<String, u32>,
}

/// The stores the engine writes to.
#[derive(Clone)]
pub struct Stores {
    pub tickets: Arc<dyn TicketStore>,
    pub conversations: Arc<dyn ConversationStore>,
    pub records: Arc<dyn RecordStore>,
}

pub struct Engine {
    service: Arc<crate::tickets::TicketService>,
    kb: Arc<KnowledgeBase>,
    classifier: Arc<Classifier>,
    refusals: RefusalRules,
    stores: Stores,
    bots: Arc<Bots>,
    settings: EngineSettings,
    locks: Arc<StripedLocks>,
}

/// The context of one message being handled.
struct Turn<'a> {
    conversation: &'a mut Conversation,
    text: &'a str,
    /// The message normalised ([`normalize`]) once, for every check that reads it.
    normalized: &'a str,
    /// Its bare form ([`words::bare`]): what the short-reply checks compare.
    bare: &'a str,
    now: Timestamp,
    /// Intake records and article feedback this turn produced: saved with the conversation in
    /// one durable write, before the reply leaves.
    kept: Vec<IntakeRecord>,
    feedback: Vec<(String, bool)>,
    /// The message normalised and cut into words once, for the classifier and the knowledge
    /// base (made on first use).
    analysis: Option<Arc<Analysis>>,
    /// The dispatch of a ticket this turn confirmed: saved in the turn's transaction.
    ticket_write: Option<TicketWrite>,
}

impl Turn<'_> {
    /// The message's [`Analysis`], made by the classifier's analyzer the first time it is asked.
    fn analysis(&mut self, classifier: &Classifier) -> Arc<Analysis> {
        let (text, normalized) = (self.text, self.normalized);
        self.analysis
            .get_or_insert_with(|| {
                Arc::new(classifier.analyse_normalized(text, normalized.to_string()))
            })
            .clone()
    }

    fn keep_record(&mut self, kind: RecordKind, text: &str) {
        self.kept.push(IntakeRecord {
            at: self.now,
            kind,
            channel: self.conversation.channel,
            conversation: self.conversation.id,
            text: text.to_string(),
        });
    }
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        service: Arc<crate::tickets::TicketService>,
        kb: Arc<KnowledgeBase>,
        classifier: Arc<Classifier>,
        refusals: RefusalRules,
        stores: Stores,
        bots: Arc<Bots>,
        settings: EngineSettings,
    ) -> Engine {
        Engine {
            service,
            kb,
            classifier,
            refusals,
            stores,
            bots,
            settings,
            locks: Arc::new(StripedLocks::new()),
        }
    }

    pub fn bots(&self) -> &Bots {
        &self.bots
    }

    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// The per-conversation locks, for anything else that writes a conversation (the outbox).
    pub fn conversation_locks(&self) -> Arc<StripedLocks> {
        self.locks.clone()
    }

    /// Opens a conversation, stored durably, with the welcome message in its transcript.
    pub async fn start(&self, channel: Channel) -> Result<Conversation, EngineError> {
        self.start_at(channel, None).await
    }

    /// Opens a conversation reached at `address` on its channel (a Telegram chat id, an SMS
    /// number); see [`Conversation::address`].
    pub async fn start_at(
        &self,
        channel: Channel,
        address: Option<String>,
    ) -> Result<Conversation, EngineError> {
        let now = clock::now();
        let mut conversation = Conversation::start(channel, now);
        conversation.address = address;
        conversation.record(TranscriptEntry {
            at: now,
            from: Speaker::Hotline,
            text: self.bots.text("welcome"),
            buttons: Vec::new(),
            outbox_id: None,
            ticket: None,
        });
        self.stores.conversations.save(conversation.clone()).await?;
        Ok(conversation)
    }

    /// Records a phone number the channel proved belongs to the citizen of this conversation.
    pub async fn set_proven_phone(
        &self,
        id: ConversationId,
        phone: String,
    ) -> Result<(), EngineError> {
        let _turn = self.locks.lock(&id).await;
        let mut conversation = self
            .stores
            .conversations
            .get(id)?
            .ok_or(EngineError::UnknownConversation(id))?;
        if conversation.proven_phone.as_deref() != Some(phone.as_str()) {
            conversation.proven_phone = Some(phone);
            self.stores.conversations.save(conversation).await?;
        }
        Ok(())
    }

    pub fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, EngineError> {
        Ok(self.stores.conversations.get(id)?)
    }

    /// The classifier's reading of a text (emergency rules first), for intake paths that do not
    /// go through a dialogue (an Open311 request).
    pub fn classify(&self, text: &str) -> crate::classify::Classification {
        self.classifier.classify(text)
    }

    /// Checks a message before anything is stored.
    pub fn validate(&self, text: &str) -> Result<(), EngineError> {
        if text.trim().is_empty() {
            return Err(EngineError::EmptyText);
        }
        let actual = char_len(text.trim());
        if actual > self.settings.max_text_chars {
            return Err(EngineError::TooLong {
                max: self.settings.max_text_chars,
                actual,
            });
        }
        Ok(())
    }

    /// Handles one message; returns once everything it changed is on disk.
    pub async fn handle(&self, message: InboundMessage) -> Result<EngineOutput, EngineError> {
        let (output, _) = self.handle_queued(message, &|_, _| Vec::new()).await?;
        Ok(output)
    }

    /// Handles one message and queues what `queue` makes of its output (the replies, for a
    /// channel that sends them later) in the same durable write as the turn: a crash keeps the
    /// turn and its queued replies, or neither. Returns the output and the queued messages with
    /// their outbox ids; a duplicate queues nothing.
    pub async fn handle_queued(
        &self,
        message: InboundMessage,
        queue: QueueReplies<'_>,
    ) -> Result<(EngineOutput, Vec<OutboxMessage>), EngineError> {
        self.validate(&message.text)?;
        crate::telemetry::message_received(message.channel);
        let text = message.text.trim();
        let _turn = self.locks.lock(&message.conversation).await;
        let mut conversation = self
            .stores
            .conversations
            .get(message.conversation)?
            .ok_or(EngineError::UnknownConversation(message.conversation))?;
        if let Some(id) = &message.message_id {
            if conversation.has_seen(id) {
                let output = EngineOutput {
                    duplicate: true,
                    ..EngineOutput::default()
                };
                return Ok((output, Vec::new()));
            }
            conversation.mark_seen(id.clone());
        }
        if let Some(phone) = &message.proven_phone {
            conversation.proven_phone = Some(phone.clone());
        }
        let now = clock::now();
        let flooded = self.is_flood(&conversation, text, now);
        conversation.record(TranscriptEntry {
            at: now,
            from: Speaker::Citizen,
            text: text.to_string(),
            buttons: Vec::new(),
            outbox_id: None,
            ticket: None,
        });
        let normalized = normalize(text);
        let bare = words::bare_normalized(&normalized);
        let mut turn = Turn {
            conversation: &mut conversation,
            text,
            normalized: &normalized,
            bare: &bare,
            now,
            kept: Vec::new(),
            feedback: Vec::new(),
            analysis: None,
            ticket_write: None,
        };
        let output = if flooded {
            self.flood(&mut turn)
        } else {
            self.respond(&mut turn).await?
        };
        let (kept, feedback, ticket_write) = (turn.kept, turn.feedback, turn.ticket_write);
        for reply in &output.replies {
            conversation.record(TranscriptEntry {
                at: now,
                from: Speaker::Hotline,
                text: reply.text.clone(),
                buttons: reply.buttons.clone(),
                outbox_id: None,
                ticket: None,
            });
        }
        // The last reply carries the ticket, where the page shows its card.
        if let Some(summary) = &output.ticket
            && !output.replies.is_empty()
            && let Some(last) = conversation.transcript.last_mut()
        {
            last.ticket = crate::domain::TicketNumber::parse(&summary.number);
        }
        // One durable write for the turn: the conversation with its records, feedback, the
        // replies it queues and the dispatch of a ticket it confirmed. A confirmed ticket was
        // written just before (`create_pending`); this write's flush makes it durable too, so
        // its number leaves only once all of it is on disk.
        let mut queued = queue(conversation.id, &output);
        let notices = ticket_write
            .as_ref()
            .map(|w| (!w.messages.is_empty(), !w.webhooks.is_empty()));
        let writes = TurnWrites {
            records: kept,
            feedback,
            messages: queued.clone(),
            ticket: ticket_write,
        };
        let ids = self
            .stores
            .conversations
            .save_turn(conversation, writes)
            .await?;
        if let Some((queued, hooked)) = notices {
            self.service.change_saved(queued, hooked);
        }
        for (message, id) in queued.iter_mut().zip(ids) {
            message.id = id;
        }
        Ok((output, queued))
    }

    /// The same text `flood_repeats` times within the window (this one included).
    fn is_flood(&self, conversation: &Conversation, text: &str, now: Timestamp) -> bool {
        let window = SignedDuration::from_mins(self.settings.intake.flood_window_minutes as i64);
        let repeats = conversation
            .transcript
            .iter()
            .rev()
            .take_while(|e| now.duration_since(e.at) <= window)
            .filter(|e| e.from == Speaker::Citizen && e.text == text)
            .count();
        repeats + 1 >= self.settings.intake.flood_repeats.max(2)
    }

    fn flood(&self, turn: &mut Turn<'_>) -> EngineOutput {
        if !turn.conversation.flagged_for_review {
            turn.conversation.flagged_for_review = true;
            let text = turn.text;
            turn.keep_record(RecordKind::Flood, text);
        }
        EngineOutput::say(OutboundReply::text(self.bots.text("flood_notice")))
    }

    async fn respond(&self, turn: &mut Turn<'_>) -> Result<EngineOutput, EngineError> {
        if words::has_no_words(turn.normalized) {
            return Ok(EngineOutput::say(OutboundReply::text(
                self.bots.text("no_text_meaning"),
            )));
        }
        // An emergency outranks whatever dialogue is under way.
        let analysis = turn.analysis(&self.classifier);
        let classification = self.classifier.classify_analysis(&analysis);
        if classification.category == Category::Emergency {
            return self
                .emergency(turn, &classification.emergency_numbers)
                .await;
        }
        if words::is_cancel(turn.bare) {
            return Ok(self.cancel(turn));
        }
        if words::is_human(turn.bare) {
            turn.conversation.wants_human = true;
            let text = turn.text;
            turn.keep_record(RecordKind::HumanRequested, text);
            return Ok(EngineOutput::say(OutboundReply::text(
                self.bots.text("human_handoff"),
            )));
        }
        let idle = matches!(turn.conversation.state, DialogueState::Idle);
        if words::is_status_request(turn.bare)
            || (idle && intake::bare_ticket_number(turn.bare).is_some())
        {
            return self.status_query(turn);
        }
        // A pending callback survey reads "1" as its answer, whatever dialogue is under way.
        if let Some(output) = self.survey_answer(turn).await? {
            return Ok(output);
        }
        match std::mem::take(&mut turn.conversation.state) {
            DialogueState::Idle => self.new_matter(turn, classification.category).await,
            DialogueState::Intake { draft } => {
                self.continue_intake(turn, draft, classification.category)
                    .await
            }
            DialogueState::Confirming { draft } => self.confirming(turn, draft).await,
            DialogueState::Answered { article, question } => {
                self.after_answer(turn, article, question, classification.category)
                    .await
            }
            DialogueState::Suggested { question, options } => {
                self.after_suggestions(turn, question, options, classification.category)
                    .await
            }
            DialogueState::VerifyingStatus { number, attempts } => {
                self.verify_status(turn, number, attempts)
            }
        }
    }

    async fn emergency(
        &self,
        turn: &mut Turn<'_>,
        numbers: &[&'static str],
    ) -> Result<EngineOutput, EngineError> {
        let numbers: Vec<&'static str> = if numbers.is_empty() {
            vec!["110"]
        } else {
            numbers.to_vec()
        };
        let described: Vec<_> = numbers.iter().map(|n| triage::describe_number(n)).collect();
        let text = self
            .bots
            .say("emergency", context! { numbers => described });
        let kind = RecordKind::Emergency {
            numbers: numbers.iter().map(|n| n.to_string()).collect(),
        };
        let said = turn.text;
        turn.keep_record(kind, said);
        // A draft in progress stays: the citizen may come back to it.
        Ok(EngineOutput::say(OutboundReply::text(text)))
    }

    fn cancel(&self, turn: &mut Turn<'_>) -> EngineOutput {
        let had_draft = matches!(
            turn.conversation.state,
            DialogueState::Intake { .. } | DialogueState::Confirming { .. }
        );
        turn.conversation.state = DialogueState::Idle;
        let key = if had_draft {
            "cancelled"
        } else {
            "nothing_to_cancel"
        };
        EngineOutput::say(OutboundReply::text(self.bots.text(key)))
    }

    /// A message that starts something new: refusal, greeting, consultation or intake.
    async fn new_matter(
        &self,
        turn: &mut Turn<'_>,
        category: Category,
    ) -> Result<EngineOutput, EngineError> {
        let analysis = turn.analysis(&self.classifier);
        if let Some(rule) = self.refusals.find(analysis.normalized()) {
            let (name, template) = (rule.name.clone(), rule.template.clone());
            let text = turn.text;
            turn.keep_record(RecordKind::Refused { rule: name }, text);
            return Ok(EngineOutput::say(OutboundReply::text(
                self.bots.text(&template),
            )));
        }
        if words::is_greeting(turn.bare) {
            return Ok(EngineOutput::say(OutboundReply::text(
                self.bots.text("greeting"),
            )));
        }
        if matches!(category, Category::Consultation | Category::Help) {
            let lookup = self.kb.lookup_analysed(&analysis, clock::today())?;
            crate::telemetry::kb_lookup(match &lookup.decision {
                Decision::Answer(_) => crate::telemetry::KbOutcome::Answered,
                Decision::Suggest(_) => crate::telemetry::KbOutcome::Suggested,
                _ => crate::telemetry::KbOutcome::Unanswered,
            });
            match lookup.decision {
                Decision::Answer(article) => {
                    let kind = RecordKind::Answered {
                        article: article.id.clone(),
                    };
                    let text = turn.text;
                    turn.keep_record(kind, text);
                    return Ok(self.answer(turn, &article));
                }
                Decision::Suggest(options) if category == Category::Consultation => {
                    return Ok(self.suggest(turn, &options));
                }
                _ => {}
            }
        }
        self.start_intake(turn, category).await
    }

    fn answer(&self, turn: &mut Turn<'_>, article: &Article) -> EngineOutput {
        let style = self.bots.channel(turn.conversation.channel);
        let template = match style.answer {
            AnswerStyle::Full => "kb_answer",
            AnswerStyle::Short => "kb_answer_short",
        };
        let answer = self.bots.say(
            template,
            context! { title => &article.title, summary => &article.summary, body => &article.body },
        );
        let ask = OutboundReply::text(self.bots.text("kb_helpful_question"))
            .with_buttons(vec![self.button("helpful"), self.button("not_helpful")]);
        turn.conversation.state = DialogueState::Answered {
            article: article.id.clone(),
            question: turn.text.to_string(),
        };
        EngineOutput {
            replies: vec![OutboundReply::text(answer), ask],
            ticket: None,
            duplicate: false,
        }
    }

    fn suggest(&self, turn: &mut Turn<'_>, options: &[Arc<Article>]) -> EngineOutput {
        let mut buttons: Vec<Button> = options
            .iter()
            .map(|a| Button::new(a.title.clone(), a.title.clone()))
            .collect();
        buttons.push(self.button("open_ticket"));
        turn.conversation.state = DialogueState::Suggested {
            question: turn.text.to_string(),
            options: options.iter().map(|a| a.id.clone()).collect(),
        };
        EngineOutput::say(
            OutboundReply::text(self.bots.text("kb_suggestions")).with_buttons(buttons),
        )
    }

    async fn after_answer(
        &self,
        turn: &mut Turn<'_>,
        article: String,
        question: String,
        category: Category,
    ) -> Result<EngineOutput, EngineError> {
        if words::is_helpful(turn.bare) {
            turn.feedback.push((article, true));
            return Ok(EngineOutput::say(OutboundReply::text(
                self.bots.text("kb_feedback_thanks"),
            )));
        }
        if words::is_not_helpful(turn.bare) {
            turn.feedback.push((article, false));
            turn.conversation.state = DialogueState::Suggested {
                question,
                options: Vec::new(),
            };
            return Ok(EngineOutput::say(
                OutboundReply::text(self.bots.text("kb_not_helpful"))
                    .with_buttons(vec![self.button("open_ticket")]),
            ));
        }
        self.new_matter(turn, category).await
    }

    async fn after_suggestions(
        &self,
        turn: &mut Turn<'_>,
        question: String,
        options: Vec<String>,
        category: Category,
    ) -> Result<EngineOutput, EngineError> {
        let snapshot = self.kb.snapshot();
        let chosen = options.iter().enumerate().find_map(|(i, id)| {
            let article = snapshot.article(id)?;
            let picked =
                turn.normalized == normalize(&article.title) || turn.bare == (i + 1).to_string();
            picked.then(|| article.clone())
        });
        if let Some(article) = chosen {
            let kind = RecordKind::Answered {
                article: article.id.clone(),
            };
            turn.keep_record(kind, &question);
            return Ok(self.answer(turn, &article));
        }
        if words::is_open_ticket(turn.bare) {
            return self
                .start_intake_with(
                    turn,
                    Category::Consultation,
                    &question,
                    &normalize(&question),
                )
                .await;
        }
        self.new_matter(turn, category).await
    }

    fn button(&self, key: &str) -> Button {
        let label = self.bots.button(key);
        Button::new(label.clone(), label)
    }
}
