//! The conversation engine: one [`InboundMessage`] in, replies (and maybe a ticket) out.
//!
//! The engine owns the order of things for a message: validate, classify, answer from the
//! knowledge base or open a ticket, record the transcript, and make every state change durable
//! before the reply leaves. Messages of one conversation are handled one at a time; different
//! conversations run in parallel.

mod locks;

use std::sync::Arc;

use minijinja::context;
use serde::Serialize;

use crate::bots::{AnswerStyle, Bots};
use crate::clock;
use crate::domain::{
    Button, Category, Channel, Conversation, ConversationId, InboundMessage, NewTicket,
    OutboundReply, Speaker, Ticket, TicketStatus, TranscriptEntry,
};
use crate::kb::{Decision, KbError, KnowledgeBase};
use crate::store::{ConversationStore, StoreError, TicketStore};
use crate::text::char_len;
use locks::StripedLocks;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineOutput {
    pub replies: Vec<OutboundReply>,
    pub ticket: Option<TicketSummary>,
}

#[derive(Debug, Clone)]
pub struct EngineLimits {
    pub max_text_chars: usize,
}

pub struct Engine {
    kb: Arc<KnowledgeBase>,
    tickets: Arc<dyn TicketStore>,
    conversations: Arc<dyn ConversationStore>,
    bots: Arc<Bots>,
    limits: EngineLimits,
    locks: StripedLocks,
}

impl Engine {
    pub fn new(
        kb: Arc<KnowledgeBase>,
        tickets: Arc<dyn TicketStore>,
        conversations: Arc<dyn ConversationStore>,
        bots: Arc<Bots>,
        limits: EngineLimits,
    ) -> Engine {
        Engine {
            kb,
            tickets,
            conversations,
            bots,
            limits,
            locks: StripedLocks::new(),
        }
    }

    pub fn bots(&self) -> &Bots {
        &self.bots
    }

    /// Opens a conversation, stored durably, with the welcome message in its transcript.
    pub async fn start(&self, channel: Channel) -> Result<Conversation, EngineError> {
        let now = clock::now();
        let mut conversation = Conversation::start(channel, now);
        conversation.record(TranscriptEntry {
            at: now,
            from: Speaker::Hotline,
            text: self.bots.text("welcome"),
            buttons: Vec::new(),
        });
        self.conversations.save(conversation.clone()).await?;
        Ok(conversation)
    }

    pub fn conversation(&self, id: ConversationId) -> Result<Option<Conversation>, EngineError> {
        Ok(self.conversations.get(id)?)
    }

    /// Handles one message; returns once everything it changed is on disk.
    pub async fn handle(&self, message: InboundMessage) -> Result<EngineOutput, EngineError> {
        let text = message.text.trim();
        if text.is_empty() {
            return Err(EngineError::EmptyText);
        }
        let actual = char_len(text);
        if actual > self.limits.max_text_chars {
            return Err(EngineError::TooLong {
                max: self.limits.max_text_chars,
                actual,
            });
        }
        let _turn = self.locks.lock(&message.conversation).await;
        let mut conversation = self
            .conversations
            .get(message.conversation)?
            .ok_or(EngineError::UnknownConversation(message.conversation))?;
        let now = clock::now();
        conversation.record(TranscriptEntry {
            at: now,
            from: Speaker::Citizen,
            text: text.to_string(),
            buttons: Vec::new(),
        });
        let output = self.respond(&mut conversation, text).await?;
        for reply in &output.replies {
            conversation.record(TranscriptEntry {
                at: clock::now(),
                from: Speaker::Hotline,
                text: reply.text.clone(),
                buttons: reply.buttons.clone(),
            });
        }
        self.conversations.save(conversation).await?;
        Ok(output)
    }

    async fn respond(
        &self,
        conversation: &mut Conversation,
        text: &str,
    ) -> Result<EngineOutput, EngineError> {
        let lookup = self.kb.lookup(text, clock::today())?;
        if let Decision::Answer(article) = &lookup.decision {
            let style = self.bots.channel(conversation.channel);
            let template = match style.answer {
                AnswerStyle::Full => "kb_answer",
                AnswerStyle::Short => "kb_answer_short",
            };
            let answer = self.bots.say(
                template,
                context! { title => &article.title, summary => &article.summary, body => &article.body },
            );
            let ask =
                OutboundReply::text(self.bots.text("kb_helpful_question")).with_buttons(vec![
                    Button::new(self.bots.button("helpful"), self.bots.button("helpful")),
                    Button::new(
                        self.bots.button("not_helpful"),
                        self.bots.button("not_helpful"),
                    ),
                ]);
            return Ok(EngineOutput {
                replies: vec![OutboundReply::text(answer), ask],
                ticket: None,
            });
        }
        let ticket = self
            .tickets
            .create(NewTicket {
                category: Category::Consultation,
                content: text.to_string(),
                district: None,
                address: None,
                phone: None,
                name: None,
                confidential: false,
                channel: conversation.channel,
                conversation: conversation.id,
                created_at: clock::now(),
            })
            .await?;
        conversation.tickets.push(ticket.number);
        let reply = self.bots.say(
            "ticket_created",
            context! {
                number => ticket.number.to_string(),
                status => TicketStatus::Accepted.label(),
                category => ticket.details.category.label(),
                deadline => "",
            },
        );
        Ok(EngineOutput {
            replies: vec![OutboundReply::text(reply)],
            ticket: Some(TicketSummary::of(&ticket)),
        })
    }
}
