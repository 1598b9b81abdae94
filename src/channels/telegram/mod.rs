//! The Telegram channel: updates in (webhook or long polling), replies out through the Bot API.
//!
//! An update becomes a [`ChannelMessage`] (its `update_id` is the message id, so a retried update
//! changes nothing) and goes through the [`Gateway`]; the replies are sent at once with
//! `sendMessage`. If Telegram cannot be reached, the replies wait in the outbox and leave when it
//! is back: intake never waits on Telegram. Commands: /start, /help, /status, /cancel. Buttons
//! are inline keyboards (see [`render`]); when the dialogue asks for a phone number, a reply
//! keyboard offers to share the citizen's own contact, and only a contact whose `user_id` is the
//! sender's proves the number.
//!
//! Text is sent in HTML parse mode and always escaped: nothing a template or an article holds
//! can turn into markup.

mod deliver;
pub mod render;
mod run;
mod settings;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use teloxide::Bot;
use teloxide::payloads::{AnswerCallbackQuerySetters, SendMessageSetters};
use teloxide::requests::Requester;
use teloxide::types::{
    CallbackQuery, ChatId, Contact, Message, ParseMode, ReplyMarkup, Update, UpdateKind, User,
};
use tokio::sync::Notify;

use super::{ChannelMessage, Gateway, Received};
use crate::clock;
use crate::domain::{
    Channel, Conversation, ConversationId, DialogueState, Field, OutboundReply, OutboxMessage,
};
use crate::engine::{EngineError, EngineOutput, extract};
use crate::store::{OutboxStore, TurnWrites};
pub use settings::{TOKEN_VAR, TelegramMode, TelegramSettings, WEBHOOK_SECRET_VAR};

/// The Telegram adapter, shared by the webhook, the poller and the outbox.
pub struct Telegram {
    /// For calls that send: a short timeout, so a slow Telegram moves replies to the outbox.
    bot: Bot,
    /// For `getUpdates`, whose timeout is the long-polling wait.
    poll_bot: Bot,
    gateway: Arc<Gateway>,
    outbox: Arc<dyn OutboxStore>,
    outbox_ready: Arc<Notify>,
    settings: TelegramSettings,
}

fn bot(token: &str, api_url: &str, timeout: Duration) -> anyhow::Result<Bot> {
    let client = teloxide::net::default_reqwest_settings()
        .timeout(timeout)
        .build()
        .context("failed to build the HTTP client for Telegram")?;
    let url = api_url
        .parse()
        .with_context(|| format!("telegram.api_url `{api_url}` is not a URL"))?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}

impl Telegram {
    pub fn new(
        settings: &TelegramSettings,
        gateway: Arc<Gateway>,
        outbox: Arc<dyn OutboxStore>,
        outbox_ready: Arc<Notify>,
    ) -> anyhow::Result<Telegram> {
        let token = settings
            .token
            .as_ref()
            .with_context(|| format!("telegram.enabled is true but {TOKEN_VAR} is not set"))?;
        let send = Duration::from_secs(settings.send_timeout_secs);
        let poll = Duration::from_secs(u64::from(settings.poll_timeout_secs) + 10);
        Ok(Telegram {
            bot: bot(token.expose(), &settings.api_url, send)?,
            poll_bot: bot(token.expose(), &settings.api_url, poll)?,
            gateway,
            outbox,
            outbox_ready,
            settings: settings.clone(),
        })
    }

    pub fn settings(&self) -> &TelegramSettings {
        &self.settings
    }

    /// Handles one update; an error means nothing was changed by it and it should be retried.
    pub async fn handle_update(&self, update: Update) -> Result<(), EngineError> {
        let id = format!("update:{}", update.id.0);
        match update.kind {
            UpdateKind::Message(message) if message.chat.is_private() => {
                self.on_message(id, message).await
            }
            UpdateKind::CallbackQuery(query) => self.on_callback(id, query).await,
            _ => {
                tracing::debug!(update = %id, "telegram update of a kind we do not handle");
                Ok(())
            }
        }
    }

    async fn on_message(&self, id: String, message: Message) -> Result<(), EngineError> {
        let chat = message.chat.id;
        if let Some(contact) = message.contact() {
            return self
                .on_contact(id, chat, message.from.as_ref(), contact)
                .await;
        }
        let Some(text) = message.text() else {
            return self.say_once(id, chat, "telegram_text_only").await;
        };
        let (command, argument) = command(text);
        match command.as_deref() {
            None => self.converse(id, chat, text.to_string(), None).await,
            Some("start") => self.say_once(id, chat, "welcome").await,
            Some("status") => {
                let query = format!("查询{}", argument.unwrap_or_default());
                self.converse(id, chat, query, None).await
            }
            Some("cancel") => self.converse(id, chat, "取消".into(), None).await,
            Some(_) => self.say_once(id, chat, "telegram_help").await,
        }
    }

    /// A shared contact: proven only when it is the sender's own; the number answers the
    /// dialogue's phone question if it asked one.
    async fn on_contact(
        &self,
        id: String,
        chat: ChatId,
        from: Option<&User>,
        contact: &Contact,
    ) -> Result<(), EngineError> {
        let own = from.is_some_and(|u| contact.user_id == Some(u.id));
        let phone = extract::phone(&contact.phone_number);
        let proven = if own { phone.clone() } else { None };
        let conversation = self.conversation(chat).await?;
        if awaiting_phone(&conversation) {
            let answer = phone.unwrap_or_else(|| contact.phone_number.clone());
            return self.converse(id, chat, answer, proven).await;
        }
        match proven {
            Some(phone) => {
                self.gateway
                    .prove_phone(Channel::Telegram, &chat.0.to_string(), phone)
                    .await?;
                self.say_once(id, chat, "telegram_phone_linked").await
            }
            None => self.say_once(id, chat, "telegram_contact_not_own").await,
        }
    }

    async fn on_callback(&self, id: String, query: CallbackQuery) -> Result<(), EngineError> {
        let chat = query
            .message
            .as_ref()
            .map(|m| m.chat())
            .filter(|c| c.is_private())
            .map(|c| c.id);
        let payload = match (chat, &query.data) {
            (Some(chat), Some(data)) => {
                let conversation = self.conversation(chat).await?;
                render::resolve_callback(&conversation, data)
            }
            _ => None,
        };
        // Answer every callback query, so the button stops spinning.
        let mut answer = self.bot.answer_callback_query(query.id.clone());
        if payload.is_none() {
            answer = answer.text(self.bots().text("telegram_stale_button"));
        }
        if let Err(e) = answer.await {
            tracing::debug!(error = %e, "answerCallbackQuery failed");
        }
        match (chat, payload) {
            (Some(chat), Some(payload)) => self.converse(id, chat, payload, None).await,
            _ => Ok(()),
        }
    }

    fn bots(&self) -> &crate::bots::Bots {
        self.gateway.engine().bots()
    }

    async fn conversation(&self, chat: ChatId) -> Result<Conversation, EngineError> {
        self.gateway
            .conversation_for(Channel::Telegram, &chat.0.to_string())
            .await
    }

    /// Hands the text to the engine and sends its replies.
    async fn converse(
        &self,
        id: String,
        chat: ChatId,
        text: String,
        proven_phone: Option<String>,
    ) -> Result<(), EngineError> {
        let was_awaiting_phone = awaiting_phone(&self.conversation(chat).await?);
        // The replies are queued in the same durable write as the turn and its update id, and
        // sent at once below; the outbox takes over only if that send fails or never finishes.
        let send_timeout = self.settings.send_timeout_secs;
        let queue = |conversation: ConversationId, output: &EngineOutput| {
            let now = clock::now();
            output
                .replies
                .iter()
                .map(|reply| queued(conversation, reply.clone(), now, send_timeout))
                .collect()
        };
        let received = self
            .gateway
            .receive_queued(
                ChannelMessage {
                    channel: Channel::Telegram,
                    chat: chat.0.to_string(),
                    message_id: id,
                    text,
                    proven_phone,
                },
                &queue,
            )
            .await;
        let (conversation, queued) = match received {
            Ok(Received::Handled {
                conversation,
                queued,
                ..
            }) => (conversation, queued),
            Ok(Received::Duplicate { .. }) => return Ok(()),
            Err(EngineError::EmptyText) => {
                return self
                    .say(chat, OutboundReply::text(self.bots().text("empty_message")))
                    .await;
            }
            Err(EngineError::TooLong { max, .. }) => {
                let text = self.bots().say("too_long", minijinja::context! { max });
                return self.say(chat, OutboundReply::text(text)).await;
            }
            Err(e) => return Err(e),
        };
        let now_awaiting = self
            .gateway
            .engine()
            .conversation(conversation)?
            .is_some_and(|c| awaiting_phone(&c));
        let keyboard = if now_awaiting {
            Some(render::contact_keyboard(
                &self.bots().button("telegram_share_contact"),
            ))
        } else if was_awaiting_phone {
            Some(ReplyMarkup::kb_remove())
        } else {
            None
        };
        self.send_queued(chat, conversation, queued, keyboard).await;
        Ok(())
    }

    /// Sends a template's text once per update (commands the engine does not see).
    async fn say_once(&self, id: String, chat: ChatId, template: &str) -> Result<(), EngineError> {
        let reply = OutboundReply::text(self.bots().text(template));
        if let Some(message) = self.claim(chat, id, reply).await? {
            self.send_queued(chat, message.conversation, vec![message], None)
                .await;
        }
        Ok(())
    }

    /// A reply that is not part of the transcript (a command's answer, an input error).
    async fn say(&self, chat: ChatId, reply: OutboundReply) -> Result<(), EngineError> {
        for part in render::render(&reply, None) {
            if let Err(e) = self.send(chat, part).await {
                tracing::warn!(error = %e, "telegram reply not sent");
                break;
            }
        }
        Ok(())
    }

    /// Records the update id with the chat's conversation and queues `reply` in the same
    /// durable write; `None` if the update was handled before.
    async fn claim(
        &self,
        chat: ChatId,
        id: String,
        reply: OutboundReply,
    ) -> Result<Option<OutboxMessage>, EngineError> {
        let conversation = self.conversation(chat).await?;
        let engine = self.gateway.engine();
        let locks = engine.conversation_locks();
        let _turn = locks.lock(&conversation.id).await;
        let Some(mut conversation) = engine.conversation(conversation.id)? else {
            return Ok(None);
        };
        if conversation.has_seen(&id) {
            return Ok(None);
        }
        conversation.mark_seen(id);
        let mut message = queued(
            conversation.id,
            reply,
            clock::now(),
            self.settings.send_timeout_secs,
        );
        let ids = engine
            .stores()
            .conversations
            .save_turn(
                conversation,
                TurnWrites {
                    messages: vec![message.clone()],
                    ..TurnWrites::default()
                },
            )
            .await?;
        message.id = ids.first().copied().unwrap_or_default();
        Ok(Some(message))
    }

    /// Sends replies queued with their turn, in order, acknowledging each in the outbox once
    /// Telegram accepted it. On the first failure the rest are handed to the outbox at once.
    /// Telegram has no idempotency key: a crash between a send and its acknowledgement makes
    /// the outbox send that reply again (at least once, never lost).
    async fn send_queued(
        &self,
        chat: ChatId,
        conversation: ConversationId,
        messages: Vec<OutboxMessage>,
        keyboard: Option<ReplyMarkup>,
    ) {
        let last = messages.len().saturating_sub(1);
        let mut messages = messages.into_iter().enumerate();
        while let Some((i, mut message)) = messages.next() {
            let extra = if i == last { keyboard.clone() } else { None };
            let needs_extra = extra.is_some() && !message.reply.buttons.is_empty();
            for part in render::render(&message.reply, extra.clone()) {
                if let Err(e) = self.send(chat, part).await {
                    tracing::warn!(%conversation, error = %e, "telegram unreachable; replies left to the outbox");
                    let rest = std::iter::once(message).chain(messages.map(|(_, m)| m));
                    self.hand_over(rest.collect(), e.to_string()).await;
                    return;
                }
            }
            if needs_extra && let Some(markup) = extra {
                // Inline buttons took the reply's keyboard slot: offer the contact on its own.
                let html =
                    teloxide::utils::html::escape(&self.bots().text("telegram_share_contact"));
                let part = render::Outgoing {
                    html,
                    markup: Some(markup),
                };
                if let Err(e) = self.send(chat, part).await {
                    tracing::warn!(%conversation, error = %e, "telegram contact prompt not sent");
                }
            }
            message.delivered_at = Some(clock::now());
            if let Err(e) = self.outbox.update(message).await {
                tracing::warn!(%conversation, error = %e, "telegram reply sent but not acknowledged; the outbox may send it again");
            }
        }
    }

    /// Makes queued replies due now, so the outbox worker retries them with its backoff.
    async fn hand_over(&self, messages: Vec<OutboxMessage>, error: String) {
        let now = clock::now();
        for mut message in messages {
            message.next_attempt_at = now;
            message.last_error = Some(error.clone());
            if let Err(e) = self.outbox.update(message).await {
                // Still queued, due after the hand-over delay.
                tracing::warn!(error = %e, "telegram reply left for the outbox's later pass");
            }
        }
        self.outbox_ready.notify_one();
    }

    async fn send(
        &self,
        chat: ChatId,
        part: render::Outgoing,
    ) -> Result<(), teloxide::RequestError> {
        let mut request = self
            .bot
            .send_message(chat, part.html)
            .parse_mode(ParseMode::Html);
        if let Some(markup) = part.markup {
            request = request.reply_markup(markup);
        }
        request.await.map(|_| ())
    }
}

/// `/status@hotline_bot 1000013` → (`status`, `1000013`); not a command → (None, None).
pub fn command(text: &str) -> (Option<String>, Option<String>) {
    let Some(rest) = text.trim().strip_prefix('/') else {
        return (None, None);
    };
    let (head, argument) = match rest.split_once(char::is_whitespace) {
        Some((head, argument)) => (head, Some(argument.trim().to_string())),
        None => (rest, None),
    };
    let name = head
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    (Some(name), argument.filter(|a| !a.is_empty()))
}

/// A reply queued at intake for the webhook's own send. It is already in the transcript (or
/// not meant for it), so the outbox only sends it; it becomes due for the outbox only after the
/// webhook's sends could have finished, so the two never race.
fn queued(
    conversation: ConversationId,
    reply: OutboundReply,
    now: jiff::Timestamp,
    send_timeout_secs: u64,
) -> OutboxMessage {
    let parts = render::render(&reply, None).len() as u64;
    let handover = send_timeout_secs
        .saturating_mul(parts + 2)
        .max(HANDOVER_MIN_SECS);
    let mut message = OutboxMessage::new(conversation, Channel::Telegram, reply, None, now);
    message.in_transcript = true;
    message.next_attempt_at = now + jiff::SignedDuration::from_secs(handover as i64);
    message
}

/// The least time a reply queued at intake waits before the outbox may send it.
const HANDOVER_MIN_SECS: u64 = 60;

fn awaiting_phone(conversation: &Conversation) -> bool {
    matches!(&conversation.state, DialogueState::Intake { draft } if draft.awaiting == Some(Field::Phone))
}

#[cfg(test)]
mod tests {
    use super::command;

    #[test]
    fn commands_are_recognised_with_and_without_the_bot_name() {
        assert_eq!(command("/start"), (Some("start".into()), None));
        assert_eq!(
            command("/status@hotline_bot 1000013"),
            (Some("status".into()), Some("1000013".into()))
        );
        assert_eq!(command("路灯坏了"), (None, None));
    }
}
